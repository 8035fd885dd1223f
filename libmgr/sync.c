/* Typed functions for the synchronisation types (mgr/sync.h): locks,
 * semaphores, events, conditions, barriers, queues. Replies are decoded
 * here; lock.acquire and condition.wait answer an int whose bit 0 is
 * acquired/notified and bit 1 owner-died (mgrd/sync.h). */
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "client.h"

enum { SYNC_ACQUIRED = 1, SYNC_OWNER_DIED = 2 };

/* Get-or-create with constructor arguments (consumed even on failure):
 * create, and on EEXIST open the existing object (which checks the type). */
static int sync_open(mgr_client *c, const char *type, const char *name, mgr_value **args,
		     size_t nargs, mgr_object **out)
{
	int err = mgr_object_create(c, type, name, args, nargs, out);
	if (err == MGR_EEXIST)
		err = mgr_object_open(c, type, name, out);
	for (size_t i = 0; i < nargs; i++)
		mgr_value_free(args[i]);
	return err;
}

/* An int reply of bit flags, split into two bools (each may be NULL). */
static int sync_want_bits(int err, mgr_value **r, bool *bit0, bool *bit1)
{
	int64_t bits = 0;
	err = client_want_int(err, r, &bits);
	if (!err && bit0)
		*bit0 = bits & SYNC_ACQUIRED;
	if (!err && bit1)
		*bit1 = bits & SYNC_OWNER_DIED;
	return err;
}

/* ---- lock, rlock ---- */

int mgr_lock_open(mgr_client *c, const char *name, bool robust, mgr_object **out)
{
	return sync_open(c, "lock", name, (mgr_value *[]){mgr_value_new_bool(robust)}, 1, out);
}

int mgr_rlock_open(mgr_client *c, const char *name, bool robust, mgr_object **out)
{
	return sync_open(c, "rlock", name, (mgr_value *[]){mgr_value_new_bool(robust)}, 1, out);
}

int mgr_lock_acquire(mgr_object *o, bool blocking, int64_t timeout_ms, bool *acquired,
		     bool *owner_died)
{
	mgr_value *r = NULL;
	int err = client_callf_timeout(o, "acquire", timeout_ms, &r, "b", blocking);
	return sync_want_bits(err, &r, acquired, owner_died);
}

int mgr_lock_release(mgr_object *o) { return client_callf(o, "release", NULL, ""); }

int mgr_lock_locked(mgr_object *o, bool *locked)
{
	return client_get_bool(o, "locked", locked);
}

int mgr_lock_owned(mgr_object *o, bool *owned)
{
	return client_get_bool(o, "owned", owned);
}

/* ---- semaphore, bounded_semaphore ---- */

int mgr_semaphore_open(mgr_client *c, const char *name, int64_t value, bool robust,
		       mgr_object **out)
{
	mgr_value *args[] = {mgr_value_new_int(value), mgr_value_new_bool(robust)};
	return sync_open(c, "semaphore", name, args, 2, out);
}

int mgr_bounded_semaphore_open(mgr_client *c, const char *name, int64_t value, bool robust,
			       mgr_object **out)
{
	mgr_value *args[] = {mgr_value_new_int(value), mgr_value_new_bool(robust)};
	return sync_open(c, "bounded_semaphore", name, args, 2, out);
}

int mgr_semaphore_acquire(mgr_object *o, bool blocking, int64_t timeout_ms, bool *acquired)
{
	mgr_value *r = NULL;
	int err = client_callf_timeout(o, "acquire", timeout_ms, &r, "b", blocking);
	return client_want_bool(err, &r, acquired);
}

int mgr_semaphore_release(mgr_object *o, int64_t n)
{
	return client_callf(o, "release", NULL, "i", n);
}

int mgr_semaphore_value(mgr_object *o, int64_t *value)
{
	return client_get_int(o, "get_value", value);
}

/* ---- event ---- */

int mgr_event_open(mgr_client *c, const char *name, mgr_object **out)
{
	return sync_open(c, "event", name, NULL, 0, out);
}

int mgr_event_set(mgr_object *o) { return client_callf(o, "set", NULL, ""); }
int mgr_event_clear(mgr_object *o) { return client_callf(o, "clear", NULL, ""); }

int mgr_event_is_set(mgr_object *o, bool *set)
{
	return client_get_bool(o, "is_set", set);
}

int mgr_event_wait(mgr_object *o, int64_t timeout_ms, bool *set)
{
	mgr_value *r = NULL;
	return client_want_bool(client_callf_timeout(o, "wait", timeout_ms, &r, ""), &r, set);
}

/* ---- condition ---- */

int mgr_condition_open(mgr_client *c, const char *name, mgr_object *lock, mgr_object **out)
{
	mgr_value *arg = lock ? mgr_object_ref(lock) : mgr_value_new_nil();
	return sync_open(c, "condition", name, &arg, 1, out);
}

int mgr_condition_acquire(mgr_object *o, bool blocking, int64_t timeout_ms, bool *acquired,
			  bool *owner_died)
{
	return mgr_lock_acquire(o, blocking, timeout_ms, acquired, owner_died);
}

int mgr_condition_release(mgr_object *o) { return mgr_lock_release(o); }

int mgr_condition_wait(mgr_object *o, int64_t timeout_ms, bool *notified, bool *owner_died)
{
	mgr_value *r = NULL;
	int err = client_callf_timeout(o, "wait", timeout_ms, &r, "");
	return sync_want_bits(err, &r, notified, owner_died);
}

int mgr_condition_wait_for(mgr_object *o, bool (*pred)(void *arg), void *arg,
			   int64_t timeout_ms, bool *result)
{
	if (!pred)
		return client_fail(MGR_EINVAL, "predicate is NULL");
	if (timeout_ms < 0)
		return client_fail(MGR_EARGS, "timeout must be >= 0 ms, got %lld",
				   (long long)timeout_ms);
	bool forever = timeout_ms == MGR_FOREVER;
	int64_t deadline = forever ? 0 : clock_now_ms() + timeout_ms, left = MGR_FOREVER;
	bool ok = pred(arg);
	while (!ok && (forever || (left = deadline - clock_now_ms()) > 0)) {
		int err = mgr_condition_wait(o, left, NULL, NULL);
		if (err)
			return err;
		ok = pred(arg);
	}
	if (result)
		*result = ok;
	return 0;
}

int mgr_condition_notify(mgr_object *o, int64_t n, int64_t *woken)
{
	mgr_value *r = NULL;
	return client_want_int(client_callf(o, "notify", &r, "i", n), &r, woken);
}

int mgr_condition_notify_all(mgr_object *o, int64_t *woken)
{
	return client_get_int(o, "notify_all", woken);
}

/* ---- barrier ---- */

int mgr_barrier_open(mgr_client *c, const char *name, int64_t parties, int64_t timeout_ms,
		     mgr_object **out)
{
	mgr_value *args[] = {mgr_value_new_int(parties), mgr_value_new_nil(),
			     timeout_ms == MGR_FOREVER ? mgr_value_new_nil()
						       : mgr_value_new_int(timeout_ms)};
	return sync_open(c, "barrier", name, args, 3, out);
}

int mgr_barrier_wait(mgr_object *o, int64_t timeout_ms, int64_t *index)
{
	mgr_value *r = NULL;
	return client_want_int(client_callf_timeout(o, "wait", timeout_ms, &r, ""), &r, index);
}

int mgr_barrier_abort(mgr_object *o) { return client_callf(o, "abort", NULL, ""); }
int mgr_barrier_reset(mgr_object *o) { return client_callf(o, "reset", NULL, ""); }

int mgr_barrier_broken(mgr_object *o, bool *broken)
{
	return client_get_bool(o, "broken", broken);
}

int mgr_barrier_n_waiting(mgr_object *o, int64_t *n)
{
	return client_get_int(o, "n_waiting", n);
}

int mgr_barrier_parties(mgr_object *o, int64_t *parties)
{
	return client_get_int(o, "parties", parties);
}

/* ---- queue, joinable_queue ---- */

int mgr_queue_open(mgr_client *c, const char *name, int64_t maxsize, mgr_object **out)
{
	return sync_open(c, "queue", name, (mgr_value *[]){mgr_value_new_int(maxsize)}, 1, out);
}

int mgr_joinable_queue_open(mgr_client *c, const char *name, int64_t maxsize, mgr_object **out)
{
	return sync_open(c, "joinable_queue", name, (mgr_value *[]){mgr_value_new_int(maxsize)}, 1,
			 out);
}

int mgr_queue_open_ack(mgr_client *c, const char *name, bool joinable, int64_t maxsize,
		       mgr_ack ack, mgr_object **out)
{
	static const char *const names[] = {[MGR_ACK_NONE] = "none",
					    [MGR_ACK_REDELIVER] = "redeliver",
					    [MGR_ACK_ABANDON] = "abandon"};
	if ((unsigned)ack > MGR_ACK_ABANDON)
		return client_fail(MGR_EINVAL, "no acknowledgement mode %d", (int)ack);
	mgr_value *args[] = {mgr_value_new_int(maxsize),
			     ack ? mgr_value_new_string(names[ack]) : mgr_value_new_nil()};
	return sync_open(c, joinable ? "joinable_queue" : "queue", name, args, 2, out);
}

int mgr_queue_put(mgr_object *o, mgr_value *item, bool block, int64_t timeout_ms)
{
	return client_callf_timeout(o, "put", timeout_ms, NULL, "vb", item, block);
}

int mgr_queue_put_nowait(mgr_object *o, mgr_value *item)
{
	return client_callf(o, "put_nowait", NULL, "v", item);
}

int mgr_queue_get(mgr_object *o, bool block, int64_t timeout_ms, mgr_value **item)
{
	mgr_value *r = NULL;
	int err = client_callf_timeout(o, "get", timeout_ms, &r, "b", block);
	if (!err && item)
		*item = r;
	else
		mgr_value_free(r);
	return err;
}

/* The value of m's string key name, or NULL. */
static const mgr_value *sync_field(const mgr_value *m, const char *name)
{
	for (size_t i = 0; i < mgr_value_len(m); i++) {
		const char *k = mgr_value_string(mgr_value_map_key(m, i), NULL);
		if (k && !strcmp(k, name))
			return mgr_value_map_value(m, i);
	}
	return NULL;
}

/* {item, delivery, redelivered}: the fields handed out (each may be NULL). */
static int sync_get_ex_fields(const mgr_value *m, mgr_value **item, int64_t *delivery,
			      bool *redelivered)
{
	const mgr_value *v = sync_field(m, "item"), *d = sync_field(m, "delivery"),
			*re = sync_field(m, "redelivered");
	if (!v || mgr_value_kind(d) != MGR_INT || mgr_value_kind(re) != MGR_BOOL)
		return client_fail(MGR_EPROTO, "get_ex: a reply without item, delivery, redelivered");
	mgr_value *copy = item ? mgr_value_copy(v) : NULL;
	if (item && !copy)
		return client_fail(MGR_ENOMEM, "out of memory");
	if (item)
		*item = copy;
	if (delivery)
		*delivery = mgr_value_int(d);
	if (redelivered)
		*redelivered = mgr_value_bool(re);
	return 0;
}

int mgr_queue_get_ex(mgr_object *o, bool block, int64_t timeout_ms, mgr_value **item,
		     int64_t *delivery, bool *redelivered)
{
	mgr_value *r = NULL, *m = NULL;
	int err = client_want(client_callf_timeout(o, "get_ex", timeout_ms, &r, "b", block), &r,
			      MGR_MAP, &m);
	if (!err)
		err = sync_get_ex_fields(m, item, delivery, redelivered);
	mgr_value_free(m);
	return err;
}

int mgr_queue_ack(mgr_object *o) { return client_callf(o, "ack", NULL, ""); }

int mgr_queue_abandoned(mgr_object *o, int64_t *n) { return client_get_int(o, "abandoned", n); }

int mgr_queue_get_nowait(mgr_object *o, mgr_value **item)
{
	mgr_value *r = NULL;
	int err = client_callf(o, "get_nowait", &r, "");
	if (!err && item)
		*item = r;
	else
		mgr_value_free(r);
	return err;
}

int mgr_queue_qsize(mgr_object *o, size_t *n)
{
	mgr_value *r = NULL;
	int64_t v = 0;
	int err = client_want_int(client_callf(o, "qsize", &r, ""), &r, &v);
	if (!err && n)
		*n = (size_t)v;
	return err;
}

int mgr_queue_empty(mgr_object *o, bool *empty)
{
	return client_get_bool(o, "empty", empty);
}

int mgr_queue_full(mgr_object *o, bool *full)
{
	return client_get_bool(o, "full", full);
}

int mgr_queue_task_done(mgr_object *o) { return client_callf(o, "task_done", NULL, ""); }

int mgr_queue_join(mgr_object *o, int64_t timeout_ms)
{
	return client_callf_timeout(o, "join", timeout_ms, NULL, "");
}
