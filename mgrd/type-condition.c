/* condition: Python's Condition over its own rlock or a given lock/rlock
 * object. wait releases the lock and parks in one step on the server; a
 * notified (or timed-out) waiter moves onto the lock's queue and is
 * answered only once it holds the lock again. wait_for is a client loop. */
#include <stdlib.h>

#include "call.h"
#include "state.h"
#include "sync.h"
#include "types-builtin.h"
#include "registry.h"
#include "row.h"

struct cond {
	struct waitq q;
	struct lock own;       /* the lock when lock_id is 0 */
	uint64_t lock_id;      /* a given lock or rlock object (not kept alive) */
	struct registry *reg;
};

#define COND(c) ((struct cond *)(c)->obj->state)

static struct lock *cond_lock(struct cond *k)
{
	return k->lock_id ? lock_of(registry_get(k->reg, k->lock_id)) : &k->own;
}

static void cond_timeout(struct waiter *w)
{
	struct lock *l = cond_lock(w->obj->state);
	if (l)
		lock_regrant(l, w, false);
	else
		park_answer(w, MGR_ENOOBJ, NULL, "the condition's lock was deleted");
}

static const struct waiter_ops cond_waiter_ops = {.timeout = cond_timeout};

static int cond_given_lock(struct call *c, struct cond *k)
{
	const mgr_value *ref = arg_get(c, 0);
	if (!ref || ref->kind == MGR_NIL)
		return 0;
	if (ref->kind != MGR_REF)
		return call_fail(c, MGR_EARGS, "condition: argument 1 must be a lock ref, got %s",
				 mgr_kind_name(ref->kind));
	if (!lock_of(registry_get(k->reg, ref->u.ref.id)))
		return call_fail(c, MGR_ETYPE, "condition: object #%llu is not a live lock or rlock",
				 (unsigned long long)ref->u.ref.id);
	k->lock_id = ref->u.ref.id;
	return 0;
}

static int cond_create(struct call *c, void **state)
{
	struct cond *k = calloc(1, sizeof(*k));
	if (!k)
		return MGR_ENOMEM;
	k->reg = &c->srv->reg;
	k->own = (struct lock){.reentrant = true, .robust = true};
	int err = cond_given_lock(c, k);
	if (err) {
		free(k);
		return err;
	}
	*state = k;
	return 0;
}

static void cond_destroy(void *state)
{
	struct cond *k = state;
	park_cancel_all(&k->q, MGR_ENOOBJ, "the condition was deleted");
	lock_fini(&k->own);
	free(k);
}

static void cond_session_end(struct object *o, struct conn *conn)
{
	lock_session_end(&((struct cond *)o->state)->own, conn);
}

/* The lock, held by the caller when must_own. */
static int cond_get_lock(struct call *c, bool must_own, struct lock **out)
{
	*out = cond_lock(COND(c));
	if (!*out)
		return call_fail(c, MGR_ENOOBJ, "the condition's lock #%llu was deleted",
				 (unsigned long long)COND(c)->lock_id);
	if (must_own && !lock_owned(*out, c))
		return call_fail(c, MGR_EPERM, "%s.%s: the caller does not hold the lock",
				 c->obj->type->name, c->method->name);
	return 0;
}

static int cond_acquire(struct call *c)
{
	struct lock *l;
	int err = cond_get_lock(c, false, &l);
	return err ? err : lock_acquire(c, l);
}

static int cond_release(struct call *c)
{
	struct lock *l;
	int err = cond_get_lock(c, false, &l);
	return err ? err : lock_release(c, l);
}

static int cond_owned(struct call *c)
{
	struct lock *l;
	int err = cond_get_lock(c, false, &l);
	return err ? err : call_return_bool(c, lock_owned(l, c));
}

static int cond_wait(struct call *c)
{
	struct lock *l;
	struct waiter *w;
	int rc = sync_check_timeout(c, true);
	if (!rc)
		rc = cond_get_lock(c, true, &l);
	if (!rc)
		rc = park_call(c, &COND(c)->q, &cond_waiter_ops, &w);
	if (rc != CALL_PARKED)
		return rc;
	w->n = l->count; /* the depth to restore; w is not touched after the release */
	lock_release_all(l);
	return CALL_PARKED;
}

static int cond_notify_n(struct call *c, int64_t n)
{
	struct lock *l;
	struct waiter *w;
	int64_t woken = 0;
	int err = cond_get_lock(c, true, &l);
	for (; !err && woken < n && (w = sync_head(&COND(c)->q)); woken++)
		lock_regrant(l, w, true);
	return err ? err : call_return_int(c, woken);
}

static int cond_notify(struct call *c)
{
	int64_t n;
	int err = arg_int_opt(c, 0, 1, &n);
	return err ? err : cond_notify_n(c, n);
}

static int cond_notify_all(struct call *c) { return cond_notify_n(c, INT64_MAX); }

static int cond_waiting(struct call *c) { return call_return_int(c, COND(c)->q.len); }

/* {lock: the given lock's id (nil: its own), lock_state: that lock's
 * (lock_describe; nil once deleted), waiters: [pids not yet notified]}. */
static mgr_value *cond_describe(const struct object *o, size_t limit)
{
	static const char *const keys[] = {"lock", "lock_state", "waiters"};
	struct cond *k = o->state;
	const struct lock *l = cond_lock(k);
	(void)limit;
	mgr_value *vals[] = {k->lock_id ? mgr_value_new_int((int64_t)k->lock_id) : mgr_value_new_nil(),
			     l ? lock_describe(l) : mgr_value_new_nil(), sync_pids(&k->q)};
	return row_new(3, keys, vals);
}

/* Only its own lock: a given lock object counts its holds itself. */
static uint32_t cond_held(const struct object *o, const struct conn *conn)
{
	const struct cond *k = o->state;
	return k->lock_id ? 0 : lock_held(&k->own, conn);
}

/* The lock's holder; waiters for a notify, and for its own lock. */
static void cond_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	struct cond *k = o->state;
	const struct lock *l = cond_lock(k);
	*holder_pid = l && l->count ? l->pid : 0;
	*waiters = k->q.len + (k->lock_id ? 0 : k->own.q.len);
}

static const struct method cond_methods[] = {
	{"acquire", cond_acquire, 0, 1, METHOD_BLOCKING, "blocking=true", "acquire the lock (as lock.acquire); at the timeout: 0"},
	{"release", cond_release, 0, 0, 0, "", "release the lock"},
	{"owned", cond_owned, 0, 0, METHOD_READONLY, "", "whether the caller holds the lock"},
	{"wait", cond_wait, 0, 0, METHOD_BLOCKING, "",
	 "release the lock, wait for a notify, re-acquire: 1 notified, +2 owner died; "
	 "at the timeout: 0 (+2), once the lock is re-acquired"},
	{"notify", cond_notify, 0, 1, 0, "n=1", "wake up to n waiters; returns how many"},
	{"notify_all", cond_notify_all, 0, 0, 0, "", "wake every waiter; returns how many"},
	{"waiting", cond_waiting, 0, 0, METHOD_READONLY, "", "number of waiters not yet notified"},
};

const struct type type_condition = {
	.name = "condition",
	.doc = "Python's Condition; args: lock=None (a lock or rlock ref; None: its own rlock)",
	.create = cond_create,
	.ctor_args = "lock=None",
	.destroy = cond_destroy,
	.session_end = cond_session_end,
	.describe = cond_describe,
	.held = cond_held,
	.contention = cond_contention,
	.flags = TYPE_STATE_MAP,
	.methods = cond_methods,
	.nmethods = sizeof(cond_methods) / sizeof(cond_methods[0]),
};
