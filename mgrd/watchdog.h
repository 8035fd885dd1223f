/* The stop deadline when the loop itself does not come back.
 *
 * A stop (SIGTERM, SIGINT, the parent's end) is seen by the loop, which
 * then ends within --stop-timeout (server.c). A custom type's method marked
 * MGR_METHOD_INLINE runs on the loop's thread, so one that never returns
 * keeps the loop from ever seeing the stop: the manager could only be
 * SIGKILLed, and a private one outlived its program.
 *
 * The watchdog is a thread asleep in poll() on an eventfd, which a signal
 * handler put in front of libevent's rings for each stop signal, and on the
 * parent's pidfd that the loop watches too (without one: getppid() once a
 * second). Once
 * either comes it waits for watchdog_done until the deadline plus a grace;
 * past that it runs last_words (on its own thread: the loop's is stuck),
 * which must end the process. A loop that answers the stop never meets it,
 * and an idle manager's watchdog never wakes. */
#ifndef MGRD_WATCHDOG_H
#define MGRD_WATCHDOG_H

#include <stdint.h>
#include <sys/types.h>

#define WATCHDOG_GRACE_MS 1000 /* after --stop-timeout: the loop's own deadline first */

struct watchdog_conf {
	uint32_t stop_ms;  /* --stop-timeout */
	pid_t parent_pid;  /* 0: no parent to watch */
	int parent_fd;     /* its pidfd (the loop's, borrowed); -1: poll getppid */
	/* what to do past the deadline (the loop is stuck); must not return */
	void (*last_words)(void *arg, const char *why);
	void *arg;
};

/* Starts the thread, after libevent's signal events were added. 0 or -1. */
int watchdog_start(const struct watchdog_conf *conf);
/* The loop has returned: the thread ends (joined here). */
void watchdog_done(void);

#endif
