/* event: Python's Event. wait parks until set (every waiter is answered
 * true at once) or until its timeout (false). A dead waiter is simply
 * dropped by the parking layer. */
#include <stdlib.h>

#include "call.h"
#include "sync.h"
#include "types-builtin.h"
#include "row.h"

struct event_state {
	struct waitq q;
	bool flag;
};

#define EVT(c) ((struct event_state *)(c)->obj->state)

static const struct waiter_ops event_waiter_ops = {.timeout = sync_timeout_false};

static int event_create(struct call *c, void **state)
{
	(void)c;
	return (*state = calloc(1, sizeof(struct event_state))) ? 0 : MGR_ENOMEM;
}

static void event_destroy(void *state)
{
	park_cancel_all(&((struct event_state *)state)->q, MGR_ENOOBJ, "the event was deleted");
	free(state);
}

static int event_set(struct call *c)
{
	EVT(c)->flag = true;
	while (EVT(c)->q.head)
		park_answer(EVT(c)->q.head, 0, mgr_value_new_bool(true), NULL);
	return 0;
}

static int event_clear(struct call *c)
{
	EVT(c)->flag = false;
	return 0;
}

static int event_is_set(struct call *c) { return call_return_bool(c, EVT(c)->flag); }

static int event_wait(struct call *c)
{
	int err = sync_check_timeout(c, true);
	if (err)
		return err;
	if (EVT(c)->flag)
		return call_return_bool(c, true);
	return park_call(c, &EVT(c)->q, &event_waiter_ops, NULL);
}

static int event_waiting(struct call *c) { return call_return_int(c, EVT(c)->q.len); }

static const struct method event_methods[] = {
	{"set", event_set, 0, 0, 0, "", "set the flag and wake every waiter"},
	{"clear", event_clear, 0, 0, 0, "", "reset the flag"},
	{"is_set", event_is_set, 0, 0, METHOD_READONLY, "", "the flag"},
	{"wait", event_wait, 0, 0, METHOD_BLOCKING, "",
	 "until the flag is set: true; at the timeout: false"},
	{"waiting", event_waiting, 0, 0, METHOD_READONLY, "", "number of parked waiters"},
};

static mgr_value *event_describe(const struct object *o, size_t limit)
{
	static const char *const keys[] = {"set", "waiters"};
	const struct event_state *e = o->state;
	(void)limit;
	mgr_value *vals[] = {mgr_value_new_bool(e->flag), sync_pids(&e->q)};
	return row_new(2, keys, vals);
}

static void event_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	*holder_pid = 0;
	*waiters = ((const struct event_state *)o->state)->q.len;
}

/* Snapshots (snapshot.c): the flag as a bool; waiters are not saved. */
static mgr_value *event_save(const void *state)
{
	return mgr_value_new_bool(((const struct event_state *)state)->flag);
}

static int event_load(const mgr_value *saved, void **state)
{
	struct event_state *e = saved->kind == MGR_BOOL ? calloc(1, sizeof(*e)) : NULL;
	if (!e)
		return saved->kind == MGR_BOOL ? MGR_ENOMEM : MGR_ETYPE;
	e->flag = saved->u.b;
	*state = e;
	return 0;
}

const struct type type_event = {
	.name = "event",
	.doc = "Python's Event",
	.create = event_create,
	.ctor_args = "",
	.destroy = event_destroy,
	.save = event_save,
	.load = event_load,
	.describe = event_describe,
	.contention = event_contention,
	.flags = TYPE_STATE_MAP,
	.methods = event_methods,
	.nmethods = sizeof(event_methods) / sizeof(event_methods[0]),
};
