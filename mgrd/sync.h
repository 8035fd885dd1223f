/* What the synchronisation types (lock, rlock, semaphore, event, condition,
 * barrier, queue) share: the liveness check that keeps a dead process from
 * being handed anything, common timeout answers, and the lock functions a
 * condition runs on its lock (type-lock.c). */
#ifndef MGRD_SYNC_H
#define MGRD_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "park.h"

struct call;
struct conn;
struct object;
struct registry;

/* Wire encoding of lock.acquire and condition.wait replies (an int):
 * bit 0 acquired (wait: notified), bit 1 the previous holder's session
 * ended without releasing (robust locks). */
enum { SYNC_ACQUIRED = 1, SYNC_OWNER_DIED = 2 };

/* Checks a blocking method's timeout before it does anything: EARGS for a
 * negative one, and for one given (not MSG_FOREVER) when the call does not
 * block ("can't specify a timeout for a non-blocking call", as Python). */
int sync_check_timeout(struct call *c, bool blocking);
/* Reads argument i as blocking=true (a bool) and checks the timeout. */
int sync_blocking_arg(struct call *c, size_t i, bool *blocking);

/* False once the peer of conn hung up, even before the loop reads the EOF. */
bool sync_alive(const struct conn *conn);
/* The first waiter of q whose process is alive, or NULL. Dead ones before
 * it are detached (park_detach): nothing else runs, nothing is freed. */
struct waiter *sync_head(struct waitq *q);
/* Timeout answers for waiter_ops.timeout. */
void sync_timeout_false(struct waiter *w);
void sync_timeout_zero(struct waiter *w);
/* The pids of q's waiters, FIFO, as a list (caller owns; NULL on ENOMEM). */
mgr_value *sync_pids(const struct waitq *q);

/* A lock or rlock; a condition embeds one when it has no given lock. */
struct lock {
	bool reentrant, robust;
	bool owner_died;          /* a holder's session ended holding it */
	struct waitq q;           /* acquirers, FIFO; handed over, no barging */
	uint64_t session, thread; /* the holder, while count > 0 */
	int32_t pid;              /* the holder's process, while count > 0 */
	int64_t count;            /* 0: unlocked; above 1 only for an rlock */
};

/* c's args: (robust=true). */
int lock_init(struct call *c, struct lock *l, bool reentrant, bool robust);
void lock_fini(struct lock *l);
/* The lock of a lock or rlock object, else NULL. */
struct lock *lock_of(struct object *o);
/* Method bodies on l: acquire(blocking=true) -> int, release(). */
int lock_acquire(struct call *c, struct lock *l);
int lock_release(struct call *c, struct lock *l);
/* The caller holds l (for an rlock: this thread of this session). */
bool lock_owned(const struct lock *l, const struct call *c);
/* Releases l entirely and returns the depth to restore (condition.wait). */
int64_t lock_release_all(struct lock *l);
/* Moves w (a condition waiter, w->n = depth to restore) onto l's queue; it
 * is answered SYNC_ACQUIRED-style with bit 0 = notified once it holds l. */
void lock_regrant(struct lock *l, struct waiter *w, bool notified);
void lock_session_end(struct lock *l, struct conn *conn);
/* For `mgrctl show` and `clients`: l's state as a map {locked, owner_pid,
 * owner_session, depth (rlock), robust, owner_died, waiters: [pids]}
 * (caller owns; NULL on ENOMEM), and the depth conn holds (0: none). */
mgr_value *lock_describe(const struct lock *l);
uint32_t lock_held(const struct lock *l, const struct conn *conn);

#endif
