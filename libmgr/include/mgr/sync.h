/* mgr/sync.h: locks, semaphores, events, conditions, barriers and queues
 * hosted by the manager (Python's SyncManager types), included by mgr.h.
 *
 * Blocking calls are parked on the manager, answered in FIFO order, and
 * take timeout_ms: the manager waits at most that long (0: forever); with
 * blocking false they never wait. A timeout is a result (acquired false,
 * notified false) where Python returns False, and an error (MGR_EEMPTY,
 * MGR_EFULL, MGR_EBROKEN, MGR_ETIMEDOUT) where Python raises.
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

/* ---- lock, rlock (the mgr_lock_* calls take either) ---- */

/* robust (Python: false): released when the holder's session ends, with an
 * owner-died mark for the next acquirer; only the holding session may
 * release it. An rlock is owned by a session and a thread. */
MGR_API int mgr_lock_open(mgr_client *c, const char *name, bool robust, mgr_object **out);
MGR_API int mgr_rlock_open(mgr_client *c, const char *name, bool robust, mgr_object **out);
/* *acquired (may be NULL): false if not blocking or the timeout passed.
 * *owner_died (may be NULL): the previous holder's session ended holding
 * it (robust locks); the state it guarded may need repair. */
MGR_API int mgr_lock_acquire(mgr_object *o, bool blocking, uint32_t timeout_ms,
			     bool *acquired, bool *owner_died);
/* MGR_ESTATE if unlocked; MGR_EPERM if held by another session (rlock:
 * another thread), except robust=false plain locks, which anyone releases. */
MGR_API int mgr_lock_release(mgr_object *o);
MGR_API int mgr_lock_locked(mgr_object *o, bool *locked);
/* Whether the calling session (rlock: and thread) holds it; also takes a
 * condition (its lock). */
MGR_API int mgr_lock_owned(mgr_object *o, bool *owned);

/* ---- semaphore, bounded_semaphore (the mgr_semaphore_* calls take either) ---- */

/* value: initial permits. robust (Python: false): each session's
 * unreleased permits are given back when it ends. */
MGR_API int mgr_semaphore_open(mgr_client *c, const char *name, int64_t value, bool robust,
			       mgr_object **out);
MGR_API int mgr_bounded_semaphore_open(mgr_client *c, const char *name, int64_t value,
				       bool robust, mgr_object **out);
/* *acquired (may be NULL): false if not blocking or the timeout passed. */
MGR_API int mgr_semaphore_acquire(mgr_object *o, bool blocking, uint32_t timeout_ms,
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
MGR_API int mgr_event_wait(mgr_object *o, uint32_t timeout_ms, bool *set);

/* ---- condition ---- */

/* lock (borrowed; NULL: the condition's own robust rlock): a lock or rlock
 * it uses. The condition does not keep it alive: keep a handle or name it. */
MGR_API int mgr_condition_open(mgr_client *c, const char *name, mgr_object *lock,
			       mgr_object **out);
/* The condition's lock, as mgr_lock_acquire / mgr_lock_release. */
MGR_API int mgr_condition_acquire(mgr_object *o, bool blocking, uint32_t timeout_ms,
				  bool *acquired, bool *owner_died);
MGR_API int mgr_condition_release(mgr_object *o);
/* The caller must hold the lock (else MGR_EPERM). Releases it and waits for
 * a notify or the timeout, then holds it again (at its previous depth)
 * before returning. *notified (may be NULL): false on timeout.
 * *owner_died (may be NULL): as mgr_lock_acquire, for the re-acquire. */
MGR_API int mgr_condition_wait(mgr_object *o, uint32_t timeout_ms, bool *notified,
			       bool *owner_died);
/* Python's wait_for: waits until pred(arg) (called with the lock held) is
 * true or timeout_ms passed in all; *result (may be NULL): its last value. */
MGR_API int mgr_condition_wait_for(mgr_object *o, bool (*pred)(void *arg), void *arg,
				   uint32_t timeout_ms, bool *result);
/* Wakes up to n waiters (all: notify_all); the caller must hold the lock.
 * *woken (may be NULL): how many. */
MGR_API int mgr_condition_notify(mgr_object *o, int64_t n, int64_t *woken);
MGR_API int mgr_condition_notify_all(mgr_object *o, int64_t *woken);

/* ---- barrier ---- */

MGR_API int mgr_barrier_open(mgr_client *c, const char *name, int64_t parties,
			     mgr_object **out);
/* *index (may be NULL): 0 for the first to arrive, parties - 1 for the last.
 * MGR_EBROKEN if it is or gets broken (a timeout, abort, reset, or a
 * waiting process dying). */
MGR_API int mgr_barrier_wait(mgr_object *o, uint32_t timeout_ms, int64_t *index);
MGR_API int mgr_barrier_abort(mgr_object *o);
MGR_API int mgr_barrier_reset(mgr_object *o);
MGR_API int mgr_barrier_broken(mgr_object *o, bool *broken);
MGR_API int mgr_barrier_n_waiting(mgr_object *o, int64_t *n);
MGR_API int mgr_barrier_parties(mgr_object *o, int64_t *parties);

/* ---- queue, joinable_queue (the mgr_queue_* calls take either) ---- */

/* maxsize <= 0: unbounded. */
MGR_API int mgr_queue_open(mgr_client *c, const char *name, int64_t maxsize, mgr_object **out);
MGR_API int mgr_joinable_queue_open(mgr_client *c, const char *name, int64_t maxsize,
				    mgr_object **out);
/* item consumed even on failure. MGR_EFULL if not blocking or the timeout
 * passed while full. */
MGR_API int mgr_queue_put(mgr_object *o, mgr_value *item, bool block, uint32_t timeout_ms);
MGR_API int mgr_queue_put_nowait(mgr_object *o, mgr_value *item);
/* *item: caller owns — free with mgr_value_free(). MGR_EEMPTY if not
 * blocking or the timeout passed while empty. */
MGR_API int mgr_queue_get(mgr_object *o, bool block, uint32_t timeout_ms, mgr_value **item);
MGR_API int mgr_queue_get_nowait(mgr_object *o, mgr_value **item);
MGR_API int mgr_queue_qsize(mgr_object *o, size_t *n);
MGR_API int mgr_queue_empty(mgr_object *o, bool *empty);
MGR_API int mgr_queue_full(mgr_object *o, bool *full);
/* joinable_queue: one item got is processed; MGR_ESTATE if called more
 * times than items were put. */
MGR_API int mgr_queue_task_done(mgr_object *o);
/* joinable_queue: until every item put is task_done; MGR_ETIMEDOUT. */
MGR_API int mgr_queue_join(mgr_object *o, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
