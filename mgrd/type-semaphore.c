/* semaphore and bounded_semaphore: Python's, with FIFO waiters. Permits
 * are unowned by default (one process may release what another acquired);
 * a robust one counts each session's unreleased permits and gives them
 * back when that session ends. bounded differs only in its release check. */
#include <stdlib.h>

#include "conn.h"
#include "call.h"
#include "sync.h"
#include "types-builtin.h"
#include "row.h"

struct sem {
	struct waitq q;
	int64_t value, initial;
	bool bounded, robust;
	/* robust: session -> its net permits, acquired minus released (not 0;
	 * negative when it released more than it took, so what it takes later
	 * is paid for and not given back at its end). */
	struct idmap held;
};

#define SEM(c) ((struct sem *)(c)->obj->state)

static const struct waiter_ops sem_waiter_ops = {.timeout = sync_timeout_false};

static int sem_create_kind(struct call *c, void **state, bool bounded)
{
	struct sem *s = calloc(1, sizeof(*s));
	if (!s)
		return MGR_ENOMEM;
	s->bounded = bounded;
	int err = arg_int_opt(c, 0, 1, &s->value);
	if (!err)
		err = arg_bool_opt(c, 1, false, &s->robust);
	if (!err && s->value < 0)
		err = call_fail(c, MGR_EARGS, "semaphore initial value must be >= 0");
	if (err) {
		free(s);
		return err;
	}
	s->initial = s->value;
	*state = s;
	return 0;
}

static int sem_create(struct call *c, void **state) { return sem_create_kind(c, state, false); }
static int bsem_create(struct call *c, void **state) { return sem_create_kind(c, state, true); }

static void sem_destroy(void *state)
{
	struct sem *s = state;
	park_cancel_all(&s->q, MGR_ENOOBJ, "the semaphore was deleted");
	idmap_free(&s->held);
	free(s);
}

static size_t sem_length(const void *state) { return (size_t)((const struct sem *)state)->value; }

/* Adds delta to session's net permits (robust only). */
static int sem_hold(struct sem *s, uint64_t session, int64_t delta)
{
	if (!s->robust)
		return 0;
	int64_t n = (int64_t)(intptr_t)idmap_get(&s->held, session) + delta;
	if (n == 0) {
		idmap_del(&s->held, session);
		return 0;
	}
	return idmap_put(&s->held, session, (void *)(intptr_t)n);
}

/* Hands permits to live waiters, first come first served. */
static void sem_wake(struct sem *s)
{
	struct waiter *w;
	while (s->value > 0 && (w = sync_head(&s->q)) && s->value > 0) {
		if (sem_hold(s, conn_session(w->conn), 1))
			return; /* out of memory: it keeps waiting */
		s->value--;
		park_answer(w, 0, mgr_value_new_bool(true), NULL);
	}
}

static int sem_acquire(struct call *c)
{
	struct sem *s = SEM(c);
	bool blocking;
	int err = sync_blocking_arg(c, 0, &blocking);
	if (err)
		return err;
	if (s->value > 0 && !s->q.head) {
		if (c->conn && sem_hold(s, conn_session(c->conn), 1))
			return MGR_ENOMEM;
		s->value--;
		return call_return_bool(c, true);
	}
	return blocking ? park_call(c, &s->q, &sem_waiter_ops, NULL) : call_return_bool(c, false);
}

static int sem_release(struct call *c)
{
	struct sem *s = SEM(c);
	int64_t n;
	int err = arg_int_opt(c, 0, 1, &n);
	if (err)
		return err;
	if (n < 1)
		return call_fail(c, MGR_EVALUE, "n must be one or more");
	if (s->bounded ? n > s->initial - s->value : n > INT64_MAX - s->value)
		return call_fail(c, s->bounded ? MGR_ESTATE : MGR_ERANGE,
				 "semaphore released too many times");
	if (c->conn && sem_hold(s, conn_session(c->conn), -n))
		return MGR_ENOMEM;
	s->value += n;
	sem_wake(s);
	return 0;
}

static void sem_session_end(struct object *o, struct conn *conn)
{
	struct sem *s = o->state;
	int64_t n = (int64_t)(intptr_t)idmap_del(&s->held, conn_session(conn));
	if (n <= 0)
		return;
	s->value += n;
	if (s->bounded && s->value > s->initial) /* another session released for it */
		s->value = s->initial;
	sem_wake(s);
}

static int sem_get_value(struct call *c) { return call_return_int(c, SEM(c)->value); }
static int sem_waiting(struct call *c) { return call_return_int(c, SEM(c)->q.len); }

/* A robust semaphore's holders: [{session, permits}], in no order. */
static mgr_value *sem_holders(const struct sem *s)
{
	static const char *const keys[] = {"session", "permits"};
	mgr_value *l = mgr_value_new_list();
	IDMAP_FOREACH(&s->held, slot)
	{
		mgr_value *vals[] = {mgr_value_new_int((int64_t)slot->id),
				     mgr_value_new_int((int64_t)(intptr_t)slot->ptr)};
		if (mgr_value_list_append(l, row_new(2, keys, vals))) {
			mgr_value_free(l);
			return NULL;
		}
	}
	return l;
}

static mgr_value *sem_describe(const struct object *o, size_t limit)
{
	static const char *const keys[] = {"value", "initial", "bounded", "robust", "holders",
					   "waiters"};
	const struct sem *s = o->state;
	(void)limit;
	mgr_value *vals[] = {mgr_value_new_int(s->value), mgr_value_new_int(s->initial),
			     mgr_value_new_bool(s->bounded), mgr_value_new_bool(s->robust),
			     s->robust ? sem_holders(s) : mgr_value_new_nil(), sync_pids(&s->q)};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
}

/* Permits conn's session holds (robust only: others are unowned). */
static uint32_t sem_held(const struct object *o, const struct conn *conn)
{
	const struct sem *s = o->state;
	int64_t n = (int64_t)(intptr_t)idmap_get(&s->held, conn_session(conn));
	return n <= 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void sem_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	*holder_pid = 0; /* permits have many holders, or none */
	*waiters = ((const struct sem *)o->state)->q.len;
}

static const struct method sem_methods[] = {
	{"acquire", sem_acquire, 0, 1, METHOD_BLOCKING, "blocking=true",
	 "take a permit: true; false if not blocking and none is free; at the timeout: false"},
	{"release", sem_release, 0, 1, 0, "n=1",
	 "give n permits back; bounded: ESTATE above the initial value"},
	{"get_value", sem_get_value, 0, 0, METHOD_READONLY, "", "free permits"},
	{"waiting", sem_waiting, 0, 0, METHOD_READONLY, "", "number of parked acquirers"},
};

#define SEM_TYPE(type_name, doc_text, create_fn)                                   \
	{.name = type_name, .doc = doc_text, .create = create_fn,                  \
	 .destroy = sem_destroy, .length = sem_length, .session_end = sem_session_end, \
	 .describe = sem_describe, .held = sem_held, .contention = sem_contention,  \
	 .flags = TYPE_STATE_MAP, .methods = sem_methods,                           \
	 .ctor_args = "value=1, robust=false",                                      \
	 .nmethods = sizeof(sem_methods) / sizeof(sem_methods[0])}

const struct type type_semaphore =
	SEM_TYPE("semaphore", "Python's Semaphore; args: value=1, robust=false", sem_create);
const struct type type_bounded_semaphore =
	SEM_TYPE("bounded_semaphore",
		 "Python's BoundedSemaphore; args: value=1, robust=false", bsem_create);
