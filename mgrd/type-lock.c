/* lock and rlock: Python's Lock and RLock, served FIFO and handed over on
 * release (no barging). Robust by default: a holder's session ending
 * releases them, and the next acquirer reads an owner-died bit. The two
 * types differ only in reentrant ownership (struct lock's flag); condition
 * runs the exported lock_* functions on its lock (sync.h). */
#include <stdlib.h>

#include "conn.h"
#include "call.h"
#include "sync.h"
#include "types-builtin.h"
#include "row.h"

#define LOCK(c) ((struct lock *)(c)->obj->state)
/* A lock waiter's n: the depth to take (bits 1..) and bit 0 of the reply. */
#define LOCK_WAITER_N(depth, bit0) ((depth) << 1 | (int64_t)(bit0))

static const char *lock_name(const struct lock *l) { return l->reentrant ? "rlock" : "lock"; }

static const struct waiter_ops lock_waiter_ops = {.timeout = sync_timeout_zero};

int lock_init(struct call *c, struct lock *l, bool reentrant, bool robust)
{
	*l = (struct lock){.reentrant = reentrant};
	return arg_bool_opt(c, 0, robust, &l->robust);
}

void lock_fini(struct lock *l)
{
	park_cancel_all(&l->q, MGR_ENOOBJ, "the lock was deleted");
}

/* Makes the holder (conn's session, thread) with depth; returns the reply
 * bits. */
static int64_t lock_take(struct lock *l, const struct conn *conn, uint64_t thread, int64_t depth)
{
	int64_t bits = SYNC_ACQUIRED | (l->owner_died ? SYNC_OWNER_DIED : 0);
	*l = (struct lock){.reentrant = l->reentrant, .robust = l->robust, .q = l->q,
			   .session = conn_session(conn), .thread = thread,
			   .pid = conn_pid(conn), .count = depth};
	return bits;
}

/* l is free: hand it to the first live waiter. */
static void lock_pass(struct lock *l)
{
	struct waiter *w = sync_head(&l->q);
	if (!w || l->count)
		return;
	int64_t bits = lock_take(l, w->conn, w->thread, w->n >> 1);
	park_answer(w, 0, mgr_value_new_int((w->n & 1) | (bits & SYNC_OWNER_DIED)), NULL);
}

bool lock_owned(const struct lock *l, const struct call *c)
{
	if (l->count == 0)
		return false;
	if (l->reentrant)
		return l->session == conn_session(c->conn) && l->thread == c->thread;
	return !l->robust || l->session == conn_session(c->conn);
}

int lock_acquire(struct call *c, struct lock *l)
{
	bool blocking;
	int err = sync_blocking_arg(c, 0, &blocking);
	if (err || !c->conn)
		return err ? err : call_fail(c, MGR_ESTATE, "internal calls cannot hold a lock");
	if (l->reentrant && lock_owned(l, c)) {
		if (l->count == INT64_MAX)
			return call_fail(c, MGR_ERANGE, "rlock acquired too many times");
		l->count++;
		return call_return_int(c, SYNC_ACQUIRED);
	}
	if (l->count == 0 && !l->q.head)
		return call_return_int(c, lock_take(l, c->conn, c->thread, 1));
	if (!blocking)
		return call_return_int(c, 0);
	struct waiter *w;
	int rc = park_call(c, &l->q, &lock_waiter_ops, &w);
	if (rc == CALL_PARKED)
		w->n = LOCK_WAITER_N(1, SYNC_ACQUIRED);
	return rc;
}

int lock_release(struct call *c, struct lock *l)
{
	if (l->count == 0)
		return call_fail(c, MGR_ESTATE, "release of an unlocked %s", lock_name(l));
	if (!lock_owned(l, c))
		return call_fail(c, MGR_EPERM, "the %s is held by %s", lock_name(l),
				 l->reentrant ? "another thread or session" : "another session");
	if (--l->count == 0)
		lock_pass(l);
	return 0;
}

int64_t lock_release_all(struct lock *l)
{
	int64_t depth = l->count;
	l->count = 0;
	lock_pass(l);
	return depth;
}

void lock_regrant(struct lock *l, struct waiter *w, bool notified)
{
	w->n = LOCK_WAITER_N(w->n, notified);
	park_move(w, &l->q, &lock_waiter_ops);
	if (l->count == 0)
		lock_pass(l);
}

void lock_session_end(struct lock *l, struct conn *conn)
{
	if (!l->robust || l->count == 0 || l->session != conn_session(conn))
		return;
	l->count = 0;
	l->owner_died = true;
	lock_pass(l);
}

mgr_value *lock_describe(const struct lock *l)
{
	static const char *const keys[] = {"locked", "owner_pid", "owner_session", "robust",
					   "owner_died", "waiters"};
	bool held = l->count > 0;
	mgr_value *vals[] = {
		mgr_value_new_bool(held),
		held ? mgr_value_new_int(l->pid) : mgr_value_new_nil(),
		held ? mgr_value_new_int((int64_t)l->session) : mgr_value_new_nil(),
		mgr_value_new_bool(l->robust), mgr_value_new_bool(l->owner_died), sync_pids(&l->q)};
	mgr_value *m = row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
	if (m && l->reentrant &&
	    mgr_value_map_set(m, mgr_value_new_string("depth"), mgr_value_new_int(l->count))) {
		mgr_value_free(m);
		return NULL;
	}
	return m;
}

uint32_t lock_held(const struct lock *l, const struct conn *conn)
{
	if (l->count == 0 || l->session != conn_session(conn))
		return 0;
	return l->count > UINT32_MAX ? UINT32_MAX : (uint32_t)l->count;
}

struct lock *lock_of(struct object *o)
{
	bool is_lock = o && (o->type == &type_lock || o->type == &type_rlock);
	return is_lock ? o->state : NULL;
}

/* ---- the two types ---- */

static int lock_create_kind(struct call *c, void **state, bool reentrant)
{
	struct lock *l = malloc(sizeof(*l));
	int err = l ? lock_init(c, l, reentrant, true) : MGR_ENOMEM;
	if (err)
		free(l);
	else
		*state = l;
	return err;
}

static int lock_create(struct call *c, void **state) { return lock_create_kind(c, state, false); }
static int rlock_create(struct call *c, void **state) { return lock_create_kind(c, state, true); }

static void lock_destroy(void *state)
{
	lock_fini(state);
	free(state);
}

static size_t lock_length(const void *state) { return (size_t)((const struct lock *)state)->count; }

static void lock_type_session_end(struct object *o, struct conn *conn)
{
	lock_session_end(o->state, conn);
}

static mgr_value *lock_type_describe(const struct object *o, size_t limit)
{
	(void)limit;
	return lock_describe(o->state);
}

static uint32_t lock_type_held(const struct object *o, const struct conn *conn)
{
	return lock_held(o->state, conn);
}

static void lock_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	const struct lock *l = o->state;
	*holder_pid = l->count ? l->pid : 0;
	*waiters = l->q.len;
}

static int lock_m_acquire(struct call *c) { return lock_acquire(c, LOCK(c)); }
static int lock_m_release(struct call *c) { return lock_release(c, LOCK(c)); }
static int lock_m_locked(struct call *c) { return call_return_bool(c, LOCK(c)->count > 0); }
static int lock_m_owned(struct call *c) { return call_return_bool(c, lock_owned(LOCK(c), c)); }
static int lock_m_waiting(struct call *c) { return call_return_int(c, LOCK(c)->q.len); }

static const struct method lock_methods[] = {
	{"acquire", lock_m_acquire, 0, 1, METHOD_BLOCKING, "blocking=true",
	 "0 not acquired, 1 acquired, 3 acquired and the last holder died holding it; "
	 "at the timeout: 0"},
	{"release", lock_m_release, 0, 0, 0, "", "ESTATE if unlocked, EPERM if another's"},
	{"locked", lock_m_locked, 0, 0, METHOD_READONLY, "", "whether anyone holds it"},
	{"owned", lock_m_owned, 0, 0, METHOD_READONLY, "", "whether the caller holds it"},
	{"waiting", lock_m_waiting, 0, 0, METHOD_READONLY, "", "number of parked acquirers"},
};

#define LOCK_TYPE(type_name, doc_text, create_fn)                                   \
	{.name = type_name, .doc = doc_text, .create = create_fn,                   \
	 .destroy = lock_destroy, .length = lock_length,                            \
	 .session_end = lock_type_session_end, .describe = lock_type_describe,      \
	 .held = lock_type_held, .contention = lock_contention,                     \
	 .methods = lock_methods, .flags = TYPE_STATE_MAP, .ctor_args = "robust=true", \
	 .nmethods = sizeof(lock_methods) / sizeof(lock_methods[0])}

const struct type type_lock = LOCK_TYPE("lock", "Python's Lock; args: robust=true", lock_create);
const struct type type_rlock =
	LOCK_TYPE("rlock", "Python's RLock, owned per session and thread; args: robust=true",
		  rlock_create);
