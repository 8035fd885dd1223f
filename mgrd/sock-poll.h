/* Polling the sockets a moment before the loop sleeps (sock-poll.c), for
 * sessions that poll theirs for replies: no ring, and their Hello said
 * polls. */
#ifndef MGRD_SOCK_POLL_H
#define MGRD_SOCK_POLL_H

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct server;

/* c (which polls) read calls: the loop polls after this turn. */
void sock_poll_sent(struct conn *c);
/* After a loop turn in which sessions that poll sent calls: non-blocking
 * turns for as long as polling catches more (the budget's). */
void sock_poll_after_turn(struct server *srv);
/* The spin hint for a reply to c (which polls): whether mgrd means to poll
 * for its next request. */
bool sock_poll_hint(const struct conn *c);

#endif
