/* Polling a socket for a moment instead of sleeping: with one busy peer on
 * another CPU, a blocking wait costs a sleep and a cross-CPU wakeup (tens of
 * microseconds on a VM) where the answer comes in a few. Both mgrd (for the
 * next request) and libmgr (for the reply) poll, with one adaptive budget
 * each:
 * - a catch within 20 us (both sides in step) keeps the budget: twice what
 *   it took, at least 60 us, at most 100 us;
 * - slow catches (the peer was asleep, or the cores are busy) are allowed a
 *   few times in a row, which is how the two sides get in step, then the
 *   budget drops to zero; so does a poll that caught nothing;
 * - at zero, every 16th wait probes for 60 us (long enough to outlast the
 *   peer's wakeup); a probe that catches offers to get in step again.
 * When cores are busy the budget stays at zero: next to no cost. */
#ifndef COMMON_SPIN_H
#define COMMON_SPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spin {
	uint32_t ns;    /* the budget; 0: only probes */
	uint32_t slow;  /* slow catches in a row */
	uint32_t waits; /* waits at zero budget, for the probe's turn */
};

#define SPIN_INIT {60000, 0, 0}

/* Whether to poll at this wait (the budget, or a probe's turn). */
bool spin_turn(struct spin *s);
/* Back to the starting budget (the peer started polling). */
void spin_rearm(struct spin *s);
/* Calls ready(arg) until it says yes, for up to the budget: whether it
 * did. Adapts s. */
bool spin_poll(struct spin *s, bool (*ready)(void *), void *arg);
/* recv(fd) without blocking for up to the budget: bytes, 0 at EOF, or -1
 * with errno (EAGAIN: nothing came within it). Adapts s. */
ssize_t spin_recv(struct spin *s, int fd, void *buf, size_t len);
/* CPUs this process may run on (polling needs two). */
int spin_cpus(void);

#endif
