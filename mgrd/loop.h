/* The event loop (loop.c). */
#ifndef MGRD_LOOP_H
#define MGRD_LOOP_H

struct server;

/* Runs srv's loop until it is told to stop: 0 then (or when nothing is
 * left to wait for), -1 on failure. */
int loop_run(struct server *srv);

#endif
