/* mgr/sync.h: locks, semaphores, events, conditions, barriers and queues
 * hosted by the manager (Python's SyncManager types), included by mgr.h.
 *
 * Blocking calls are parked on the manager, answered in FIFO order, and
 * take timeout_ms as Python's timeout: the manager waits at most that
 * long; 0 does not wait (a poll: answered at once, the timeout's answer if
 * it cannot finish now); MGR_FOREVER (Python's None) waits as long as it
 * takes. A negative timeout is refused with MGR_EARGS (Python: ValueError),
 * and so is any timeout but MGR_FOREVER with blocking false ("can't
 * specify a timeout for a non-blocking call"): pass MGR_FOREVER there.
 * A timeout is a result (acquired false, notified false) where Python
 * returns False, and an error (MGR_EEMPTY, MGR_EFULL, MGR_EBROKEN,
 * MGR_ETIMEDOUT) where Python raises.
 *
 * Every mgr_X_open(c, name, args..., out) returns the object named name,
 * created with args if missing (args are ignored if it exists; MGR_ETYPE if
 * it has another type); name NULL makes a new anonymous one. *out: caller
 * owns — free with mgr_object_release(). What happens when a process dies
 * holding or waiting: docs/sync.md. */
#ifndef MGR_SYNC_H
#define MGR_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgr/error.h"
#include "mgr/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mgr_client mgr_client;
typedef struct mgr_object mgr_object;

/* The timeout of a call that waits as long as it takes (Python's None).
 * On the wire it is the absence of a timeout (proto/README.md). */
#define MGR_FOREVER INT64_MAX

/* ---- lock, rlock (the mgr_lock_* calls take either) ---- */

/* robust (Python: false): released when the holder's session ends, with an
 * owner-died mark for the next acquirer; only the holding session may
 * release it. An rlock is owned by a session and a thread. */
MGR_API int mgr_lock_open(mgr_client *c, const char *name, bool robust, mgr_object **out);
MGR_API int mgr_rlock_open(mgr_client *c, const char *name, bool robust, mgr_object **out);
/* Python's acquire(blocking, timeout), whose True/False is *acquired (may
 * be NULL): false if not blocking or the timeout passed. *owner_died (may
 * be NULL): the previous holder's session ended holding it (robust locks);
 * the state it guarded may need repair (set only with *acquired). On the
 * wire the reply is one int (bit 0 acquired, bit 1 owner died): these two
 * bools are what to read. */
MGR_API int mgr_lock_acquire(mgr_object *o, bool blocking, int64_t timeout_ms,
			     bool *acquired, bool *owner_died);
/* MGR_ESTATE if unlocked; MGR_EPERM if held by another session (rlock:
 * another thread), except robust=false plain locks, which anyone releases. */
MGR_API int mgr_lock_release(mgr_object *o);
MGR_API int mgr_lock_locked(mgr_object *o, bool *locked);
/* Whether the calling session (rlock: and thread) holds it; also takes a
 * condition (its lock). */
MGR_API int mgr_lock_owned(mgr_object *o, bool *owned);

/* ---- semaphore, bounded_semaphore (the mgr_semaphore_* calls take either) ---- */

/* value: initial permits (MGR_EARGS if negative). robust (Python: false):
 * each session's net permits (acquired minus released, when above 0) are
 * given back when it ends. */
MGR_API int mgr_semaphore_open(mgr_client *c, const char *name, int64_t value, bool robust,
			       mgr_object **out);
MGR_API int mgr_bounded_semaphore_open(mgr_client *c, const char *name, int64_t value,
				       bool robust, mgr_object **out);
/* *acquired (may be NULL): false if not blocking or the timeout passed. */
MGR_API int mgr_semaphore_acquire(mgr_object *o, bool blocking, int64_t timeout_ms,
				  bool *acquired);
/* Gives n (>= 1) permits back; bounded: MGR_ESTATE above the initial value. */
MGR_API int mgr_semaphore_release(mgr_object *o, int64_t n);
MGR_API int mgr_semaphore_value(mgr_object *o, int64_t *value);

/* ---- event ---- */

MGR_API int mgr_event_open(mgr_client *c, const char *name, mgr_object **out);
MGR_API int mgr_event_set(mgr_object *o);
MGR_API int mgr_event_clear(mgr_object *o);
MGR_API int mgr_event_is_set(mgr_object *o, bool *set);
/* *set (may be NULL): false when the timeout passed first. */
MGR_API int mgr_event_wait(mgr_object *o, int64_t timeout_ms, bool *set);

/* ---- condition ---- */

/* lock (borrowed; NULL: the condition's own robust rlock): a lock or rlock
 * it uses. The condition does not keep it alive: keep a handle or name it. */
MGR_API int mgr_condition_open(mgr_client *c, const char *name, mgr_object *lock,
			       mgr_object **out);
/* The condition's lock, as mgr_lock_acquire / mgr_lock_release. */
MGR_API int mgr_condition_acquire(mgr_object *o, bool blocking, int64_t timeout_ms,
				  bool *acquired, bool *owner_died);
MGR_API int mgr_condition_release(mgr_object *o);
/* The caller must hold the lock (else MGR_EPERM). Releases it and waits for
 * a notify or the timeout, then holds it again (at its previous depth)
 * before returning. *notified (may be NULL): false on timeout.
 * *owner_died (may be NULL): as mgr_lock_acquire, for the re-acquire. */
MGR_API int mgr_condition_wait(mgr_object *o, int64_t timeout_ms, bool *notified,
			       bool *owner_died);
/* Python's wait_for: waits until pred(arg) (called with the lock held) is
 * true or timeout_ms passed in all; *result (may be NULL): its last value. */
MGR_API int mgr_condition_wait_for(mgr_object *o, bool (*pred)(void *arg), void *arg,
				   int64_t timeout_ms, bool *result);
/* Wakes up to n waiters (all: notify_all); the caller must hold the lock.
 * *woken (may be NULL): how many. */
MGR_API int mgr_condition_notify(mgr_object *o, int64_t n, int64_t *woken);
MGR_API int mgr_condition_notify_all(mgr_object *o, int64_t *woken);

/* ---- barrier ---- */

/* Python's Barrier(parties, timeout=timeout_ms): timeout_ms (MGR_FOREVER:
 * none) is the default of a wait called with MGR_FOREVER. */
MGR_API int mgr_barrier_open(mgr_client *c, const char *name, int64_t parties,
			     int64_t timeout_ms, mgr_object **out);
/* *index (may be NULL): 0 for the first to arrive, parties - 1 for the last.
 * MGR_EBROKEN if it is or gets broken (a timeout, abort, reset, or a
 * waiting process dying). timeout_ms MGR_FOREVER: the barrier's default;
 * 0: breaks it at once unless this call is the last party (Python). */
MGR_API int mgr_barrier_wait(mgr_object *o, int64_t timeout_ms, int64_t *index);
MGR_API int mgr_barrier_abort(mgr_object *o);
MGR_API int mgr_barrier_reset(mgr_object *o);
MGR_API int mgr_barrier_broken(mgr_object *o, bool *broken);
MGR_API int mgr_barrier_n_waiting(mgr_object *o, int64_t *n);
MGR_API int mgr_barrier_parties(mgr_object *o, int64_t *parties);

/* ---- queue, joinable_queue (the mgr_queue_* calls take either) ---- */

/* What happens to an item a session got and did not acknowledge
 * (mgr_queue_task_done / mgr_queue_ack) when the session ends. */
typedef enum mgr_ack {
	MGR_ACK_DEFAULT,   /* the type's: none for a queue, redeliver for a joinable one */
	MGR_ACK_NONE,      /* nothing: a get is final (Python) */
	MGR_ACK_REDELIVER, /* back to the front, for the next get (at least once) */
	MGR_ACK_ABANDON,   /* dropped and counted finished (join returns; see abandoned) */
} mgr_ack;

/* maxsize <= 0: unbounded. A queue does not acknowledge (Python); a
 * joinable_queue redelivers. */
MGR_API int mgr_queue_open(mgr_client *c, const char *name, int64_t maxsize, mgr_object **out);
MGR_API int mgr_joinable_queue_open(mgr_client *c, const char *name, int64_t maxsize,
				    mgr_object **out);
/* Either, with an acknowledgement mode. */
MGR_API int mgr_queue_open_ack(mgr_client *c, const char *name, bool joinable, int64_t maxsize,
			       mgr_ack ack, mgr_object **out);
/* item consumed even on failure. MGR_EFULL if not blocking or the timeout
 * passed while full. */
MGR_API int mgr_queue_put(mgr_object *o, mgr_value *item, bool block, int64_t timeout_ms);
MGR_API int mgr_queue_put_nowait(mgr_object *o, mgr_value *item);
/* *item: caller owns — free with mgr_value_free(). MGR_EEMPTY if not
 * blocking or the timeout passed while empty. */
MGR_API int mgr_queue_get(mgr_object *o, bool block, int64_t timeout_ms, mgr_value **item);
MGR_API int mgr_queue_get_nowait(mgr_object *o, mgr_value **item);
/* mgr_queue_get that also tells how many times the item was handed out,
 * this time included (*delivery, may be NULL: 1 the first) and whether it
 * was handed out before, to a session that ended without acknowledging it
 * (*redelivered, may be NULL). */
MGR_API int mgr_queue_get_ex(mgr_object *o, bool block, int64_t timeout_ms, mgr_value **item,
			     int64_t *delivery, bool *redelivered);
/* Acknowledges the oldest item this session got and did not acknowledge
 * (if none, the oldest anyone got). joinable_queue: mgr_queue_task_done.
 * A queue: MGR_ESTATE if it does not acknowledge or nothing is waiting. */
MGR_API int mgr_queue_ack(mgr_object *o);
/* *n: items whose getter ended without acknowledging them, in an
 * ack=abandon queue (since it was created). */
MGR_API int mgr_queue_abandoned(mgr_object *o, int64_t *n);
MGR_API int mgr_queue_qsize(mgr_object *o, size_t *n);
MGR_API int mgr_queue_empty(mgr_object *o, bool *empty);
MGR_API int mgr_queue_full(mgr_object *o, bool *full);
/* joinable_queue: one item got is processed (and acknowledged, as
 * mgr_queue_ack); MGR_ESTATE if called more times than items were put. */
MGR_API int mgr_queue_task_done(mgr_object *o);
/* joinable_queue: until every item put is task_done (or abandoned);
 * MGR_ETIMEDOUT. An item whose getter ended before task_done is given to
 * the next get (redeliver, the default) so join() still ends once it is
 * processed; with ack=abandon it counts as done (mgr_queue_abandoned). */
MGR_API int mgr_queue_join(mgr_object *o, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
