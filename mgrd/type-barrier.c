/* barrier: Python's Barrier. The last of `parties` arrivals releases
 * everyone with their arrival index; a wait given no timeout takes the
 * barrier's default (its timeout argument). A timeout, abort, reset or a waiter's
 * process dying breaks it for every waiter (EBROKEN) — Python's waiters
 * would hang on a dead party instead. */
#include <stdlib.h>

#include "../common/msg.h"
#include "call.h"
#include "sync.h"
#include "types-builtin.h"
#include "row.h"

struct barrier {
	struct waitq q; /* waiter n: its arrival index */
	int64_t parties;
	int64_t timeout_ms; /* for a wait given none (MSG_FOREVER: none) */
	bool broken;
	bool tripping; /* releasing everyone: a write failing now breaks nothing */
};

#define BAR(c) ((struct barrier *)(c)->obj->state)

static void barrier_break(struct barrier *b)
{
	b->broken = true;
	while (b->q.head)
		park_answer(b->q.head, MGR_EBROKEN, NULL, "the barrier is broken");
}

static void barrier_waiter_end(struct waiter *w)
{
	struct barrier *b = w->obj->state;
	if (!b->tripping)
		barrier_break(b);
}

static const struct waiter_ops barrier_waiter_ops = {
	.timeout = barrier_waiter_end, /* Python: a timed-out wait breaks the barrier */
	.gone = barrier_waiter_end,
};

/* Python's Barrier(parties, action=None, timeout=None). An action is code
 * (Python runs it in one waiter): mgr runs none, so only nil is taken. */
static int barrier_args(struct call *c, int64_t *parties, int64_t *timeout_ms)
{
	const mgr_value *action = arg_get(c, 1);
	int err = arg_int(c, 0, parties);
	if (!err && *parties < 1)
		err = call_fail(c, MGR_EVALUE, "barrier parties must be 1 or more");
	if (!err && action && action->kind != MGR_NIL)
		err = call_fail(c, MGR_EARGS, "barrier: an action cannot be run by the manager "
					      "(pass nil; run it where wait returned index 0)");
	if (!err)
		err = arg_int_opt(c, 2, MSG_FOREVER, timeout_ms);
	if (!err && *timeout_ms < 0)
		err = call_fail(c, MGR_EARGS, "barrier: timeout must be >= 0 ms or nil, got %lld",
				(long long)*timeout_ms);
	return err;
}

static int barrier_create(struct call *c, void **state)
{
	int64_t parties, timeout_ms;
	int err = barrier_args(c, &parties, &timeout_ms);
	struct barrier *b = err ? NULL : calloc(1, sizeof(*b));
	if (err || !b)
		return err ? err : MGR_ENOMEM;
	b->parties = parties;
	b->timeout_ms = timeout_ms;
	*state = b;
	return 0;
}

static void barrier_destroy(void *state)
{
	park_cancel_all(&((struct barrier *)state)->q, MGR_ENOOBJ, "the barrier was deleted");
	free(state);
}

static size_t barrier_length(const void *state) { return ((const struct barrier *)state)->q.len; }

static struct waiter *barrier_first_dead(struct barrier *b)
{
	for (struct waiter *w = b->q.head; w; w = w->next)
		if (!sync_alive(w->conn))
			return w;
	return NULL;
}

/* The last party arrived: release everyone, unless one of them died. */
static int barrier_trip(struct call *c, struct barrier *b)
{
	if (barrier_first_dead(b))
		barrier_break(b); /* a party's process ended: nobody passes */
	if (b->broken)
		return call_fail(c, MGR_EBROKEN, "a party's process ended: the barrier is broken");
	b->tripping = true;
	while (b->q.head)
		park_answer(b->q.head, 0, mgr_value_new_int(b->q.head->n), NULL);
	b->tripping = false;
	return call_return_int(c, b->parties - 1);
}

static int barrier_wait(struct call *c)
{
	struct barrier *b = BAR(c);
	struct waiter *w;
	int err = sync_check_timeout(c, true);
	if (err)
		return err;
	if (c->timeout_ms == MSG_FOREVER)
		c->timeout_ms = b->timeout_ms; /* Python: timeout=None takes the default */
	if (b->broken)
		return call_fail(c, MGR_EBROKEN, "the barrier is broken");
	int64_t index = b->q.len;
	if (index + 1 >= b->parties)
		return barrier_trip(c, b);
	int rc = park_call(c, &b->q, &barrier_waiter_ops, &w);
	if (rc == CALL_PARKED)
		w->n = index;
	return rc;
}

static int barrier_abort(struct call *c)
{
	barrier_break(BAR(c));
	return 0;
}

static int barrier_reset(struct call *c)
{
	barrier_break(BAR(c));
	BAR(c)->broken = false;
	return 0;
}

static int barrier_broken(struct call *c) { return call_return_bool(c, BAR(c)->broken); }
static int barrier_n_waiting(struct call *c) { return call_return_int(c, BAR(c)->q.len); }
static int barrier_parties(struct call *c) { return call_return_int(c, BAR(c)->parties); }

static mgr_value *barrier_describe(const struct object *o, size_t limit)
{
	static const char *const keys[] = {"parties", "n_waiting", "broken", "timeout_ms",
					   "waiters"};
	const struct barrier *b = o->state;
	(void)limit;
	mgr_value *vals[] = {mgr_value_new_int(b->parties), mgr_value_new_int(b->q.len),
			     mgr_value_new_bool(b->broken),
			     b->timeout_ms == MSG_FOREVER ? mgr_value_new_nil()
							  : mgr_value_new_int(b->timeout_ms),
			     sync_pids(&b->q)};
	return row_new(5, keys, vals);
}

static void barrier_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	*holder_pid = 0;
	*waiters = ((const struct barrier *)o->state)->q.len;
}

static const struct method barrier_methods[] = {
	{"wait", barrier_wait, 0, 0, METHOD_BLOCKING, "",
	 "until all parties wait: the arrival index (0 first); EBROKEN if broken; "
	 "at the timeout: EBROKEN, and the barrier breaks for every waiter"},
	{"abort", barrier_abort, 0, 0, 0, "", "break it: every waiter gets EBROKEN"},
	{"reset", barrier_reset, 0, 0, 0, "", "waiters get EBROKEN; then usable again"},
	{"broken", barrier_broken, 0, 0, METHOD_READONLY, "", "whether it is broken"},
	{"n_waiting", barrier_n_waiting, 0, 0, METHOD_READONLY, "", "parties waiting now"},
	{"parties", barrier_parties, 0, 0, METHOD_READONLY, "", "parties needed to trip"},
};

const struct type type_barrier = {
	.name = "barrier",
	.doc = "Python's Barrier; args: parties, action=None (only nil), timeout=None (ms: "
	       "the default for a wait given none)",
	.create = barrier_create,
	.ctor_args = "parties, action=None, timeout=None",
	.destroy = barrier_destroy,
	.length = barrier_length,
	.describe = barrier_describe,
	.contention = barrier_contention,
	.flags = TYPE_STATE_MAP,
	.methods = barrier_methods,
	.nmethods = sizeof(barrier_methods) / sizeof(barrier_methods[0]),
};
