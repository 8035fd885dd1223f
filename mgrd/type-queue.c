/* queue and joinable_queue: Python's Queue and JoinableQueue (FIFO items in
 * a ring, maxsize, blocking put/get with timeouts). An item goes straight
 * to the first live parked getter, never to one whose process is gone; a
 * dead putter's item is dropped with its unanswered put. A queue that
 * acknowledges (ack=redeliver, the joinable default, or ack=abandon) keeps
 * each item a session got until that session acknowledges it (task_done /
 * ack); if the session ends first the item goes back to the front of the
 * queue (redeliver) or is counted abandoned and finished (abandon), so a
 * dead worker never leaves join() waiting. joinable_queue's method table
 * is queue's plus its last two rows (task_done, join). */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "call.h"
#include "gc.h"
#include "sync.h"
#include "types-builtin.h"
#include "row.h"

/* What a session's end does to the items it got and did not acknowledge. */
enum queue_ack { ACK_NONE, ACK_REDELIVER, ACK_ABANDON };
static const char *const queue_ack_names[] = {"none", "redeliver", "abandon"};

/* An item in the ring, and how many times it was handed out before. */
struct slot {
	mgr_value *v;
	uint32_t delivered;
};

/* An item a session got and has not acknowledged (a copy: the original
 * went to the session). */
struct unacked {
	struct unacked *next;
	uint64_t session;
	int32_t pid;
	uint32_t delivery; /* 1: its first */
	mgr_value *item;   /* owned */
};

struct queue {
	struct waitq getters, putters, joiners; /* a putter's item is in w->item */
	struct slot *ring;
	size_t head, len, cap;
	int64_t maxsize;    /* <= 0: unbounded */
	int64_t unfinished; /* puts not yet matched by task_done (or abandoned) */
	enum queue_ack ack;
	struct unacked *unacked, **unacked_tail; /* FIFO by delivery */
	size_t n_unacked;
	int64_t redelivered, abandoned; /* items, since creation */
};

#define QUEUE(c) ((struct queue *)(c)->obj->state)
/* A parked getter's n: 1 when it called get_ex. */
#define GET_EX 1

static void queue_timeout_empty(struct waiter *w) { park_answer(w, MGR_EEMPTY, NULL, "queue empty"); }
static void queue_timeout_full(struct waiter *w) { park_answer(w, MGR_EFULL, NULL, "queue full"); }

static const struct waiter_ops queue_getter_ops = {.timeout = queue_timeout_empty};
static const struct waiter_ops queue_putter_ops = {.timeout = queue_timeout_full};

static struct queue *queue_new(int64_t maxsize, enum queue_ack ack)
{
	struct queue *q = calloc(1, sizeof(*q));
	if (q) {
		q->maxsize = maxsize;
		q->ack = ack;
		q->unacked_tail = &q->unacked;
	}
	return q;
}

static int queue_ack_arg(struct call *c, size_t i, enum queue_ack dflt, enum queue_ack *out)
{
	const mgr_value *v = arg_get(c, i);
	*out = dflt;
	if (!v || v->kind == MGR_NIL)
		return 0;
	for (size_t k = 0; v->kind == MGR_STRING && k < 3; k++)
		if (!strcmp(value_str(v), queue_ack_names[k])) {
			*out = (enum queue_ack)k;
			return 0;
		}
	return call_fail(c, MGR_EARGS, "%s: ack must be \"none\", \"redeliver\" or \"abandon\"",
			 c->creating->name);
}

static int queue_create(struct call *c, void **state)
{
	int64_t maxsize;
	enum queue_ack ack;
	bool joinable = c->creating == &type_joinable_queue;
	int err = arg_int_opt(c, 0, 0, &maxsize);
	if (!err)
		err = queue_ack_arg(c, 1, joinable ? ACK_REDELIVER : ACK_NONE, &ack);
	if (err)
		return err;
	return (*state = queue_new(maxsize, ack)) ? 0 : MGR_ENOMEM;
}

static void queue_destroy(void *state)
{
	struct queue *q = state;
	struct waitq *qs[] = {&q->getters, &q->putters, &q->joiners};
	for (size_t i = 0; i < 3; i++)
		park_cancel_all(qs[i], MGR_ENOOBJ, "the queue was deleted");
	for (size_t i = 0; i < q->len; i++)
		mgr_value_free(q->ring[(q->head + i) % q->cap].v);
	for (struct unacked *u = q->unacked, *next; u; u = next) {
		next = u->next;
		mgr_value_free(u->item);
		free(u);
	}
	free(q->ring);
	free(q);
}

static size_t queue_length(const void *state) { return ((const struct queue *)state)->len; }

static bool queue_is_full(const struct queue *q)
{
	return q->maxsize > 0 && q->len >= (size_t)q->maxsize;
}

static struct slot *queue_at(const struct queue *q, size_t i)
{
	return &q->ring[(q->head + i) % q->cap];
}

static int queue_grow(struct queue *q)
{
	if (q->len < q->cap)
		return 0;
	size_t cap = q->cap ? q->cap * 2 : 8;
	struct slot *ring = malloc(cap * sizeof(*ring));
	if (!ring)
		return MGR_ENOMEM;
	for (size_t i = 0; i < q->len; i++)
		ring[i] = *queue_at(q, i);
	free(q->ring);
	q->ring = ring;
	q->head = 0;
	q->cap = cap;
	return 0;
}

/* v consumed even on failure; at the back (a put) or the front (an item
 * given back). A put counts an unfinished task. */
static int queue_push(struct queue *q, mgr_value *v, uint32_t delivered, bool front)
{
	if (!v || queue_grow(q)) {
		mgr_value_free(v);
		return MGR_ENOMEM;
	}
	if (front)
		q->head = (q->head + q->cap - 1) % q->cap;
	q->len++;
	*queue_at(q, front ? 0 : q->len - 1) = (struct slot){v, delivered};
	q->unfinished += !front;
	return 0;
}

static struct slot queue_pop(struct queue *q)
{
	struct slot s = q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return s;
}

/* Remembers that conn got v (its delivery-th time), when q acknowledges. */
static int queue_track(struct queue *q, const struct conn *conn, const mgr_value *v,
		       uint32_t delivery)
{
	if (q->ack == ACK_NONE || !conn)
		return 0;
	struct unacked *u = malloc(sizeof(*u));
	mgr_value *copy = u ? mgr_value_copy(v) : NULL;
	if (!copy) {
		free(u);
		return MGR_ENOMEM;
	}
	*u = (struct unacked){.session = conn_session(conn), .pid = conn_pid(conn),
			      .delivery = delivery, .item = copy};
	*q->unacked_tail = u;
	q->unacked_tail = &u->next;
	q->n_unacked++;
	return 0;
}

/* Unlinks *pp (an entry of q->unacked) and returns it. */
static struct unacked *queue_unlink(struct queue *q, struct unacked **pp)
{
	struct unacked *u = *pp;
	*pp = u->next;
	if (q->unacked_tail == &u->next)
		q->unacked_tail = pp;
	q->n_unacked--;
	return u;
}

/* Acknowledges the oldest item session got, else the oldest anyone got
 * (Python's task_done names no item: one process may finish what another
 * got). False when nothing is unacknowledged. */
static bool queue_settle(struct queue *q, uint64_t session)
{
	struct unacked **pp = &q->unacked;
	while (*pp && (*pp)->session != session)
		pp = &(*pp)->next;
	if (!*pp)
		pp = &q->unacked;
	if (!*pp)
		return false;
	struct unacked *u = queue_unlink(q, pp);
	mgr_value_free(u->item);
	free(u);
	return true;
}

/* What a getter is answered: the item, or for get_ex {item, delivery,
 * redelivered}. v consumed; NULL on ENOMEM. */
static mgr_value *queue_answer(mgr_value *v, uint32_t delivery, bool ex)
{
	static const char *const keys[] = {"item", "delivery", "redelivered"};
	if (!ex)
		return v;
	mgr_value *vals[] = {v, mgr_value_new_int(delivery), mgr_value_new_bool(delivery > 1)};
	return row_new(3, keys, vals);
}

/* Hands s to the parked getter w, tracked for its session; false (s
 * untouched, w still parked) when out of memory. */
static bool queue_hand(struct queue *q, struct waiter *w, struct slot s)
{
	if (queue_track(q, w->conn, s.v, s.delivered + 1))
		return false;
	park_answer(w, 0, queue_answer(s.v, s.delivered + 1, w->n == GET_EX), NULL);
	return true;
}

/* Queued items go to live parked getters (after items came back). */
static void queue_feed_getters(struct queue *q)
{
	struct waiter *w;
	while (q->len && (w = sync_head(&q->getters))) {
		struct slot s = queue_pop(q);
		if (!queue_hand(q, w, s)) {
			queue_push(q, s.v, s.delivered, true);
			return;
		}
	}
}

/* Room was made: the first live parked putter's item goes in. */
static void queue_admit_putter(struct queue *q)
{
	struct waiter *w = queue_is_full(q) ? NULL : sync_head(&q->putters);
	if (!w)
		return;
	mgr_value *v = w->item;
	w->item = NULL;
	park_answer(w, queue_push(q, v, 0, false), NULL, NULL);
}

static int queue_put_block(struct call *c, bool block)
{
	struct queue *q = QUEUE(c);
	struct waiter *w = sync_head(&q->getters); /* only when the queue is empty */
	if (w && queue_hand(q, w, (struct slot){c->args[0], 0})) {
		c->args[0] = NULL; /* it went with the answer */
		q->unfinished++;
		return 0;
	}
	if (!queue_is_full(q))
		return queue_push(q, arg_take(c, 0), 0, false);
	if (!block)
		return call_fail(c, MGR_EFULL, "queue full (%lld items)", (long long)q->maxsize);
	int rc = park_call(c, &q->putters, &queue_putter_ops, &w);
	if (rc == CALL_PARKED)
		w->item = arg_take(c, 0);
	return rc;
}

static int queue_get_block(struct call *c, bool block, bool ex)
{
	struct queue *q = QUEUE(c);
	struct waiter *w;
	if (q->len) {
		struct slot s = queue_pop(q);
		if (queue_track(q, c->conn, s.v, s.delivered + 1)) {
			queue_push(q, s.v, s.delivered, true);
			return MGR_ENOMEM;
		}
		queue_admit_putter(q);
		return call_return(c, queue_answer(s.v, s.delivered + 1, ex));
	}
	if (!block)
		return call_fail(c, MGR_EEMPTY, "queue empty");
	int rc = park_call(c, &q->getters, &queue_getter_ops, &w);
	if (rc == CALL_PARKED)
		w->n = ex ? GET_EX : 0;
	return rc;
}

static int queue_put(struct call *c)
{
	bool block;
	int err = sync_blocking_arg(c, 1, &block);
	return err ? err : queue_put_block(c, block);
}

static int queue_get(struct call *c)
{
	bool block;
	int err = sync_blocking_arg(c, 0, &block);
	return err ? err : queue_get_block(c, block, false);
}

static int queue_get_ex(struct call *c)
{
	bool block;
	int err = sync_blocking_arg(c, 0, &block);
	return err ? err : queue_get_block(c, block, true);
}

static int queue_put_nowait(struct call *c)
{
	int err = sync_check_timeout(c, false);
	return err ? err : queue_put_block(c, false);
}

static int queue_get_nowait(struct call *c)
{
	int err = sync_check_timeout(c, false);
	return err ? err : queue_get_block(c, false, false);
}

static int queue_qsize(struct call *c) { return call_return_int(c, (int64_t)QUEUE(c)->len); }
static int queue_empty(struct call *c) { return call_return_bool(c, QUEUE(c)->len == 0); }
static int queue_full(struct call *c) { return call_return_bool(c, queue_is_full(QUEUE(c))); }

static int queue_waiting(struct call *c)
{
	return call_return_int(c, QUEUE(c)->getters.len + QUEUE(c)->putters.len);
}

/* Joiners are answered the queue's abandoned count. */
static void queue_finished(struct queue *q)
{
	while (q->unfinished <= 0 && q->joiners.head)
		park_answer(q->joiners.head, 0, mgr_value_new_int(q->abandoned), NULL);
}

static int queue_task_done(struct call *c)
{
	struct queue *q = QUEUE(c);
	if (q->unfinished <= 0)
		return call_fail(c, MGR_ESTATE, "task_done() called too many times");
	queue_settle(q, c->conn ? conn_session(c->conn) : 0);
	q->unfinished--;
	queue_finished(q);
	return 0;
}

static int queue_ack(struct call *c)
{
	struct queue *q = QUEUE(c);
	if (c->obj->type == &type_joinable_queue)
		return queue_task_done(c);
	if (q->ack == ACK_NONE)
		return call_fail(c, MGR_ESTATE, "this queue does not acknowledge (ack=none)");
	if (!queue_settle(q, c->conn ? conn_session(c->conn) : 0))
		return call_fail(c, MGR_ESTATE, "no item is waiting for an acknowledgement");
	return 0;
}

static int queue_join(struct call *c)
{
	int err = sync_check_timeout(c, true);
	if (err)
		return err;
	if (QUEUE(c)->unfinished <= 0)
		return call_return_int(c, QUEUE(c)->abandoned);
	return park_call(c, &QUEUE(c)->joiners, NULL, NULL);
}

static int queue_m_abandoned(struct call *c) { return call_return_int(c, QUEUE(c)->abandoned); }

static const struct method queue_methods[] = {
	{"put", queue_put, 1, 2, METHOD_BLOCKING, "item, block=true",
	 "append; when full, wait for room (EFULL if not blocking); at the timeout: EFULL"},
	{"get", queue_get, 0, 1, METHOD_BLOCKING, "block=true",
	 "remove and return the first item (EEMPTY if not blocking); at the timeout: EEMPTY"},
	{"get_ex", queue_get_ex, 0, 1, METHOD_BLOCKING, "block=true",
	 "get, answered {item, delivery (1: first), redelivered}; at the timeout: EEMPTY"},
	{"put_nowait", queue_put_nowait, 1, 1, 0, "item", "put(item, false)"},
	{"get_nowait", queue_get_nowait, 0, 0, 0, "", "get(false)"},
	{"qsize", queue_qsize, 0, 0, METHOD_READONLY, "", "number of items"},
	{"empty", queue_empty, 0, 0, METHOD_READONLY, "", "qsize() == 0"},
	{"full", queue_full, 0, 0, METHOD_READONLY, "", "qsize() == maxsize"},
	{"waiting", queue_waiting, 0, 0, METHOD_READONLY, "", "parked getters and putters"},
	{"ack", queue_ack, 0, 0, 0, "",
	 "acknowledge the oldest item this session got (joinable: task_done)"},
	{"abandoned", queue_m_abandoned, 0, 0, METHOD_READONLY, "",
	 "items whose getter ended without acknowledging them (ack=abandon)"},
	/* joinable_queue only: */
	{"task_done", queue_task_done, 0, 0, 0, "", "one item is processed; ESTATE if too many"},
	{"join", queue_join, 0, 0, METHOD_BLOCKING, "",
	 "until every item put is task_done or abandoned: the abandoned count; "
	 "at the timeout: ETIMEDOUT"},
};

#define QUEUE_NMETHODS (sizeof(queue_methods) / sizeof(queue_methods[0]))

/* ---- a session's end: what it got and did not acknowledge ---- */

/* Moves session's unacknowledged items, oldest first, to *out. */
static void queue_take_unacked(struct queue *q, uint64_t session, struct unacked **out)
{
	for (struct unacked **pp = &q->unacked; *pp;) {
		if ((*pp)->session != session) {
			pp = &(*pp)->next;
			continue;
		}
		struct unacked *u = queue_unlink(q, pp);
		u->next = NULL;
		*out = u;
		out = &u->next;
	}
}

/* Back to the front, in the order they were got; then to live getters. */
static void queue_redeliver(struct queue *q, struct unacked *list)
{
	struct unacked *rev = NULL;
	while (list) {
		struct unacked *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	for (struct unacked *u = rev, *next; u; u = next) {
		next = u->next;
		if (!queue_push(q, u->item, u->delivery, true))
			q->redelivered++;
		free(u);
	}
	queue_feed_getters(q);
}

static void queue_abandon(struct queue *q, struct unacked *list)
{
	for (struct unacked *u = list, *next; u; u = next) {
		next = u->next;
		mgr_value_free(u->item);
		free(u);
		q->abandoned++;
		q->unfinished--;
	}
	queue_finished(q);
}

static void queue_session_end(struct object *o, struct conn *conn)
{
	struct queue *q = o->state;
	struct unacked *list = NULL;
	queue_take_unacked(q, conn_session(conn), &list);
	if (!list)
		return;
	if (q->ack == ACK_REDELIVER)
		queue_redeliver(q, list);
	else
		queue_abandon(q, list);
}

/* ---- views ---- */

/* The first limit items, copied (NULL on ENOMEM). */
static mgr_value *queue_items(const struct queue *q, size_t limit)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < q->len && i < limit; i++)
		if (mgr_value_list_append(l, mgr_value_copy(queue_at(q, i)->v))) {
			mgr_value_free(l);
			return NULL;
		}
	return l;
}

/* [{session, pid, delivery}], oldest first, at most limit. */
static mgr_value *queue_unacked_rows(const struct queue *q, size_t limit)
{
	static const char *const keys[] = {"session", "pid", "delivery"};
	mgr_value *l = mgr_value_new_list();
	size_t n = 0;
	for (const struct unacked *u = q->unacked; l && u && n++ < limit; u = u->next) {
		mgr_value *vals[] = {mgr_value_new_int((int64_t)u->session), mgr_value_new_int(u->pid),
				     mgr_value_new_int(u->delivery)};
		if (mgr_value_list_append(l, row_new(3, keys, vals))) {
			mgr_value_free(l);
			return NULL;
		}
	}
	return l;
}

/* {maxsize, length, items, getters: [pids], putters: [pids], ack, unacked:
 * [{session, pid, delivery}], redelivered, abandoned}, and for a
 * joinable_queue {unfinished, joiners: [pids]}. */
static mgr_value *queue_describe(const struct object *o, size_t limit)
{
	static const char *const keys[] = {"maxsize",	  "length",	 "items",    "getters",
					   "putters",	  "ack",	 "unacked",  "redelivered",
					   "abandoned",	  "unfinished", "joiners"};
	const struct queue *q = o->state;
	bool joinable = o->type == &type_joinable_queue;
	mgr_value *vals[] = {
		mgr_value_new_int(q->maxsize),	    mgr_value_new_int((int64_t)q->len),
		queue_items(q, limit),		    sync_pids(&q->getters),
		sync_pids(&q->putters),		    mgr_value_new_string(queue_ack_names[q->ack]),
		queue_unacked_rows(q, limit),	    mgr_value_new_int(q->redelivered),
		mgr_value_new_int(q->abandoned),    mgr_value_new_int(q->unfinished),
		sync_pids(&q->joiners)};
	size_t n = joinable ? 11 : 9;
	for (size_t i = n; i < 11; i++)
		mgr_value_free(vals[i]);
	return row_new(n, keys, vals);
}

/* Unacknowledged items conn's session holds. */
static uint32_t queue_held(const struct object *o, const struct conn *conn)
{
	const struct queue *q = o->state;
	uint32_t n = 0;
	for (const struct unacked *u = q->unacked; u; u = u->next)
		n += u->session == conn_session(conn);
	return n;
}

static void queue_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	const struct queue *q = o->state;
	*holder_pid = 0;
	*waiters = q->getters.len + q->putters.len + q->joiners.len;
}

/* ---- snapshots (snapshot.c) ----
 * {items, maxsize, unfinished} as before, plus ack, abandoned and
 * deliveries (how many times each item was handed out), all optional on
 * load. Every session is gone when a snapshot is loaded, so unacknowledged
 * items are saved as their sessions' ends would leave them: at the front
 * (redeliver) or finished and counted (abandon). A parked putter's item is
 * not in the queue yet (its put is answered ESHUTDOWN at a stop). */

static int queue_save_item(mgr_value *items, mgr_value *deliveries, const mgr_value *v,
			   uint32_t delivered)
{
	if (mgr_value_list_append(items, mgr_value_copy(v)))
		return MGR_ENOMEM;
	return mgr_value_list_append(deliveries, mgr_value_new_int(delivered));
}

static int queue_save_items(const struct queue *q, mgr_value *items, mgr_value *deliveries)
{
	int err = 0;
	for (const struct unacked *u = q->unacked; !err && u && q->ack == ACK_REDELIVER;
	     u = u->next)
		err = queue_save_item(items, deliveries, u->item, u->delivery);
	for (size_t i = 0; !err && i < q->len; i++)
		err = queue_save_item(items, deliveries, queue_at(q, i)->v, queue_at(q, i)->delivered);
	return err;
}

static mgr_value *queue_save(const void *state)
{
	static const char *const keys[] = {"items", "maxsize", "unfinished",
					   "ack",   "abandoned", "deliveries"};
	const struct queue *q = state;
	bool abandon = q->ack == ACK_ABANDON;
	mgr_value *items = mgr_value_new_list(), *deliveries = mgr_value_new_list();
	if (!items || !deliveries || queue_save_items(q, items, deliveries)) {
		mgr_value_free(items);
		mgr_value_free(deliveries);
		return NULL;
	}
	mgr_value *vals[] = {
		items, mgr_value_new_int(q->maxsize),
		mgr_value_new_int(q->unfinished - (abandon ? (int64_t)q->n_unacked : 0)),
		mgr_value_new_string(queue_ack_names[q->ack]),
		mgr_value_new_int(q->abandoned + (abandon ? (int64_t)q->n_unacked : 0)), deliveries};
	return row_new(6, keys, vals);
}

static enum queue_ack queue_saved_ack(const mgr_value *saved, enum queue_ack dflt)
{
	const mgr_value *a = row_field(saved, "ack", MGR_STRING);
	for (size_t k = 0; a && k < 3; k++)
		if (!strcmp(value_str(a), queue_ack_names[k]))
			return (enum queue_ack)k;
	return dflt;
}

static uint32_t queue_saved_delivered(const mgr_value *deliveries, size_t i)
{
	const mgr_value *d = deliveries && i < deliveries->u.list.len ? deliveries->u.list.items[i]
								       : NULL;
	return d && d->kind == MGR_INT && d->u.i > 0 && d->u.i <= UINT32_MAX ? (uint32_t)d->u.i : 0;
}

static int queue_load_kind(const mgr_value *saved, void **state, enum queue_ack dflt)
{
	const mgr_value *items = row_field(saved, "items", MGR_LIST),
			*max = row_field(saved, "maxsize", MGR_INT),
			*unf = row_field(saved, "unfinished", MGR_INT),
			*deliveries = row_field(saved, "deliveries", MGR_LIST),
			*abandoned = row_field(saved, "abandoned", MGR_INT);
	if (!items || !max || !unf)
		return MGR_ETYPE;
	struct queue *q = queue_new(max->u.i, queue_saved_ack(saved, dflt));
	if (!q)
		return MGR_ENOMEM;
	for (size_t i = 0; i < items->u.list.len; i++)
		if (queue_push(q, mgr_value_copy(items->u.list.items[i]),
			       queue_saved_delivered(deliveries, i), false)) {
			queue_destroy(q);
			return MGR_ENOMEM;
		}
	q->unfinished = unf->u.i > (int64_t)q->len ? unf->u.i : (int64_t)q->len;
	q->abandoned = abandoned && abandoned->u.i > 0 ? abandoned->u.i : 0;
	*state = q;
	return 0;
}

static int queue_load(const mgr_value *saved, void **state)
{
	return queue_load_kind(saved, state, ACK_NONE);
}

static int joinable_queue_load(const mgr_value *saved, void **state)
{
	return queue_load_kind(saved, state, ACK_REDELIVER);
}

/* For the cycle collector: the refs among the queued items and the
 * unacknowledged ones. Not a parked putter's item: work in flight, it
 * keeps what it refers to (a root). */
static void queue_refs(const void *state, gc_visit_fn visit, void *arg)
{
	const struct queue *q = state;
	for (size_t i = 0; i < q->len; i++)
		gc_value_refs(queue_at(q, i)->v, visit, arg);
	for (const struct unacked *u = q->unacked; u; u = u->next)
		gc_value_refs(u->item, visit, arg);
}

#define QUEUE_TYPE(type_name, doc_text, nmeth, load_fn)                           \
	{.name = type_name, .doc = doc_text, .create = queue_create,              \
	 .ctor_args = "maxsize=0, ack=None", .destroy = queue_destroy,            \
	 .length = queue_length, .methods = queue_methods, .nmethods = nmeth,      \
	 .save = queue_save, .load = load_fn, .describe = queue_describe,          \
	 .session_end = queue_session_end, .held = queue_held,                     \
	 .contention = queue_contention, .flags = TYPE_STATE_MAP,                  \
	 .refs = queue_refs}

const struct type type_queue =
	QUEUE_TYPE("queue",
		   "Python's Queue; args: maxsize=0 (unbounded), ack=\"none\" (a get is final; "
		   "\"redeliver\" or \"abandon\": see joinable_queue, acknowledged with ack)",
		   QUEUE_NMETHODS - 2, queue_load);
const struct type type_joinable_queue =
	QUEUE_TYPE("joinable_queue",
		   "Python's JoinableQueue; args: maxsize=0 (unbounded), ack=\"redeliver\" (an item "
		   "whose getter ends before task_done goes back to the front; \"abandon\": it is "
		   "counted and finished; \"none\": lost, as in Python)",
		   QUEUE_NMETHODS, joinable_queue_load);
