/* Parked calls: a blocking method (lock acquire, queue get...) that cannot
 * finish now puts its call in the object's wait queue and is answered later
 * by another call, by its timeout, or never if its session ends (then it is
 * simply removed). No thread is held per waiter. */
#ifndef MGRD_PARK_H
#define MGRD_PARK_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/value.h"

struct call;
struct conn;
struct object;
struct waiter;

/* How a type wants a waiter's end handled. */
struct waiter_ops {
	/* The timeout passed; default (NULL): answer MGR_ETIMEDOUT. */
	void (*timeout)(struct waiter *w);
	/* The session ended; the waiter is unlinked and freed right after. */
	void (*gone)(struct waiter *w);
};

struct waitq {
	struct waiter *head, *tail;
	uint32_t len;
};

struct waiter {
	struct waiter *next, *prev;   /* in the wait queue, FIFO */
	struct waiter *cnext, *cprev; /* in the session's parked list */
	struct waitq *q; /* NULL once detached */
	struct conn *conn;
	struct object *obj;
	const struct waiter_ops *ops;
	struct event *timer;
	uint64_t req_id, thread;
	mgr_value *item; /* owned: what the call carries (a queue item...) */
	int64_t n;       /* the type's own use */
};

/* Parks c on q until answered or c->timeout_ms passes (MSG_FOREVER: no
 * timer; 0: the timer fires on the loop's next turn); returns CALL_PARKED,
 * or an error (EARGS for a negative timeout, ELIMIT when the object's or
 * the session's waiter limit is reached). ops may be NULL. */
int park_call(struct call *c, struct waitq *q, const struct waiter_ops *ops,
	      struct waiter **out);
/* Answers and frees w. value consumed; message borrowed. */
void park_answer(struct waiter *w, int code, mgr_value *value, const char *message);
/* Moves w to the tail of q with new ops, and cancels its timeout: it then
 * waits without one (a condition waiter going on to re-acquire its lock). */
void park_move(struct waiter *w, struct waitq *q, const struct waiter_ops *ops);
/* Answers every waiter of q with code (object deleted, shutdown). */
void park_cancel_all(struct waitq *q, int code, const char *message);
/* w's process is gone (its session not ended yet): w leaves its wait
 * queue and its timer, and is never answered; the session's end frees it
 * without calling ops->gone. Touches nothing but w and its queue, so a
 * type may call it in the middle of an operation. */
void park_detach(struct waiter *w);
/* The session's end: removes each of its waiters, calling ops->gone for
 * those still queued. */
void park_session_end(struct conn *conn);

#endif
