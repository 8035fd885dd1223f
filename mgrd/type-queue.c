/* queue and joinable_queue: Python's Queue and JoinableQueue (FIFO items in
 * a ring, maxsize, blocking put/get with timeouts). An item goes straight
 * to the first live parked getter, never to one whose process is gone; a
 * dead putter's item is dropped with its unanswered put. joinable_queue's
 * method table is queue's plus its last two rows (task_done, join). */
#include <stdlib.h>

#include "call.h"
#include "sync.h"
#include "types-builtin.h"
#include "row.h"

struct queue {
	struct waitq getters, putters, joiners; /* a putter's item is in w->item */
	mgr_value **ring;
	size_t head, len, cap;
	int64_t maxsize;    /* <= 0: unbounded */
	int64_t unfinished; /* puts not yet matched by task_done */
};

#define QUEUE(c) ((struct queue *)(c)->obj->state)

static void queue_timeout_empty(struct waiter *w) { park_answer(w, MGR_EEMPTY, NULL, "queue empty"); }
static void queue_timeout_full(struct waiter *w) { park_answer(w, MGR_EFULL, NULL, "queue full"); }

static const struct waiter_ops queue_getter_ops = {.timeout = queue_timeout_empty};
static const struct waiter_ops queue_putter_ops = {.timeout = queue_timeout_full};

static int queue_create(struct call *c, void **state)
{
	struct queue *q = calloc(1, sizeof(*q));
	int err = q ? arg_int_opt(c, 0, 0, &q->maxsize) : MGR_ENOMEM;
	if (err)
		free(q);
	else
		*state = q;
	return err;
}

static void queue_destroy(void *state)
{
	struct queue *q = state;
	struct waitq *qs[] = {&q->getters, &q->putters, &q->joiners};
	for (size_t i = 0; i < 3; i++)
		park_cancel_all(qs[i], MGR_ENOOBJ, "the queue was deleted");
	for (size_t i = 0; i < q->len; i++)
		mgr_value_free(q->ring[(q->head + i) % q->cap]);
	free(q->ring);
	free(q);
}

static size_t queue_length(const void *state) { return ((const struct queue *)state)->len; }

static bool queue_is_full(const struct queue *q)
{
	return q->maxsize > 0 && q->len >= (size_t)q->maxsize;
}

static int queue_grow(struct queue *q)
{
	size_t cap = q->cap ? q->cap * 2 : 8;
	mgr_value **ring = malloc(cap * sizeof(*ring));
	if (!ring)
		return MGR_ENOMEM;
	for (size_t i = 0; i < q->len; i++)
		ring[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	*q = (struct queue){.getters = q->getters, .putters = q->putters, .joiners = q->joiners,
			    .ring = ring, .len = q->len, .cap = cap, .maxsize = q->maxsize,
			    .unfinished = q->unfinished};
	return 0;
}

/* v consumed even on failure; counts an unfinished task. */
static int queue_push(struct queue *q, mgr_value *v)
{
	if (!v || (q->len == q->cap && queue_grow(q))) {
		mgr_value_free(v);
		return MGR_ENOMEM;
	}
	q->ring[(q->head + q->len++) % q->cap] = v;
	q->unfinished++;
	return 0;
}

static mgr_value *queue_pop(struct queue *q)
{
	mgr_value *v = q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return v;
}

/* Room was made: the first live parked putter's item goes in. */
static void queue_admit_putter(struct queue *q)
{
	struct waiter *w = queue_is_full(q) ? NULL : sync_head(&q->putters);
	if (!w)
		return;
	mgr_value *v = w->item;
	w->item = NULL;
	park_answer(w, queue_push(q, v), NULL, NULL);
}

static int queue_put_block(struct call *c, bool block)
{
	struct queue *q = QUEUE(c);
	struct waiter *w = sync_head(&q->getters); /* only when the queue is empty */
	if (w) {
		q->unfinished++;
		park_answer(w, 0, arg_take(c, 0), NULL);
		return 0;
	}
	if (!queue_is_full(q))
		return queue_push(q, arg_take(c, 0));
	if (!block)
		return call_fail(c, MGR_EFULL, "queue full (%lld items)", (long long)q->maxsize);
	int rc = park_call(c, &q->putters, &queue_putter_ops, &w);
	if (rc == CALL_PARKED)
		w->item = arg_take(c, 0);
	return rc;
}

static int queue_get_block(struct call *c, bool block)
{
	struct queue *q = QUEUE(c);
	if (q->len) {
		mgr_value *v = queue_pop(q);
		queue_admit_putter(q);
		return call_return(c, v);
	}
	if (!block)
		return call_fail(c, MGR_EEMPTY, "queue empty");
	return park_call(c, &q->getters, &queue_getter_ops, NULL);
}

static int queue_put(struct call *c)
{
	bool block;
	int err = arg_bool_opt(c, 1, true, &block);
	return err ? err : queue_put_block(c, block);
}

static int queue_get(struct call *c)
{
	bool block;
	int err = arg_bool_opt(c, 0, true, &block);
	return err ? err : queue_get_block(c, block);
}

static int queue_put_nowait(struct call *c) { return queue_put_block(c, false); }
static int queue_get_nowait(struct call *c) { return queue_get_block(c, false); }
static int queue_qsize(struct call *c) { return call_return_int(c, (int64_t)QUEUE(c)->len); }
static int queue_empty(struct call *c) { return call_return_bool(c, QUEUE(c)->len == 0); }
static int queue_full(struct call *c) { return call_return_bool(c, queue_is_full(QUEUE(c))); }

static int queue_waiting(struct call *c)
{
	return call_return_int(c, QUEUE(c)->getters.len + QUEUE(c)->putters.len);
}

static int queue_task_done(struct call *c)
{
	struct queue *q = QUEUE(c);
	if (q->unfinished <= 0)
		return call_fail(c, MGR_ESTATE, "task_done() called too many times");
	if (--q->unfinished == 0)
		while (q->joiners.head)
			park_answer(q->joiners.head, 0, NULL, NULL);
	return 0;
}

static int queue_join(struct call *c)
{
	return QUEUE(c)->unfinished ? park_call(c, &QUEUE(c)->joiners, NULL, NULL) : 0;
}

static const struct method queue_methods[] = {
	{"put", queue_put, 1, 2, METHOD_BLOCKING, "item, block=true",
	 "append; when full, wait for room (EFULL at the timeout or if not blocking)"},
	{"get", queue_get, 0, 1, METHOD_BLOCKING, "block=true",
	 "remove and return the first item (EEMPTY at the timeout or if not blocking)"},
	{"put_nowait", queue_put_nowait, 1, 1, 0, "item", "put(item, false)"},
	{"get_nowait", queue_get_nowait, 0, 0, 0, "", "get(false)"},
	{"qsize", queue_qsize, 0, 0, METHOD_READONLY, "", "number of items"},
	{"empty", queue_empty, 0, 0, METHOD_READONLY, "", "qsize() == 0"},
	{"full", queue_full, 0, 0, METHOD_READONLY, "", "qsize() == maxsize"},
	{"waiting", queue_waiting, 0, 0, METHOD_READONLY, "", "parked getters and putters"},
	/* joinable_queue only: */
	{"task_done", queue_task_done, 0, 0, 0, "", "one item is processed; ESTATE if too many"},
	{"join", queue_join, 0, 0, METHOD_BLOCKING, "", "until every item put is task_done"},
};

#define QUEUE_NMETHODS (sizeof(queue_methods) / sizeof(queue_methods[0]))

/* The first limit items, copied (NULL on ENOMEM). */
static mgr_value *queue_items(const struct queue *q, size_t limit)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < q->len && i < limit; i++)
		if (mgr_value_list_append(l, mgr_value_copy(q->ring[(q->head + i) % q->cap]))) {
			mgr_value_free(l);
			return NULL;
		}
	return l;
}

/* {maxsize, length, items, getters: [pids], putters: [pids]}, and for a
 * joinable_queue {unfinished, joiners: [pids]}. */
static mgr_value *queue_describe(const struct object *o, size_t limit)
{
	static const char *const keys[] = {"maxsize", "length",	    "items",  "getters",
					   "putters", "unfinished", "joiners"};
	const struct queue *q = o->state;
	bool joinable = o->type == &type_joinable_queue;
	mgr_value *vals[] = {mgr_value_new_int(q->maxsize), mgr_value_new_int((int64_t)q->len),
			     queue_items(q, limit),	    sync_pids(&q->getters),
			     sync_pids(&q->putters),	    mgr_value_new_int(q->unfinished),
			     sync_pids(&q->joiners)};
	size_t n = joinable ? 7 : 5;
	for (size_t i = n; i < 7; i++)
		mgr_value_free(vals[i]);
	return row_new(n, keys, vals);
}

static void queue_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	const struct queue *q = o->state;
	*holder_pid = 0;
	*waiters = q->getters.len + q->putters.len + q->joiners.len;
}

/* Snapshots (snapshot.c): {items, maxsize, unfinished}. A parked putter's
 * item is not in the queue yet (its put is answered ESHUTDOWN at a stop). */
static mgr_value *queue_save(const void *state)
{
	const struct queue *q = state;
	mgr_value *items = mgr_value_new_list(), *m = mgr_value_new_map();
	for (size_t i = 0; items && i < q->len; i++)
		if (mgr_value_list_append(items, mgr_value_copy(q->ring[(q->head + i) % q->cap])))
			break;
	if (!items || mgr_value_len(items) != q->len) { /* checked before items moves */
		mgr_value_free(items);
		mgr_value_free(m);
		return NULL;
	}
	if (!m || mgr_value_map_set(m, mgr_value_new_string("items"), items) ||
	    mgr_value_map_set(m, mgr_value_new_string("maxsize"), mgr_value_new_int(q->maxsize)) ||
	    mgr_value_map_set(m, mgr_value_new_string("unfinished"),
			      mgr_value_new_int(q->unfinished))) {
		mgr_value_free(m ? NULL : items);
		mgr_value_free(m);
		return NULL;
	}
	return m;
}

static int queue_load(const mgr_value *saved, void **state)
{
	const mgr_value *items = row_field(saved, "items", MGR_LIST),
			*max = row_field(saved, "maxsize", MGR_INT),
			*unf = row_field(saved, "unfinished", MGR_INT);
	if (!items || !max || !unf)
		return MGR_ETYPE;
	struct queue *q = calloc(1, sizeof(*q));
	if (!q)
		return MGR_ENOMEM;
	q->maxsize = max->u.i;
	for (size_t i = 0; i < items->u.list.len; i++)
		if (queue_push(q, mgr_value_copy(items->u.list.items[i]))) {
			queue_destroy(q);
			return MGR_ENOMEM;
		}
	q->unfinished = unf->u.i > (int64_t)q->len ? unf->u.i : (int64_t)q->len;
	*state = q;
	return 0;
}

#define QUEUE_TYPE(type_name, doc_text, nmeth)                                    \
	{.name = type_name, .doc = doc_text, .create = queue_create,              \
	 .destroy = queue_destroy, .length = queue_length, .methods = queue_methods, \
	 .nmethods = nmeth, .save = queue_save, .load = queue_load,                \
	 .describe = queue_describe, .contention = queue_contention,               \
	 .flags = TYPE_STATE_MAP}

const struct type type_queue =
	QUEUE_TYPE("queue", "Python's Queue; args: maxsize=0 (unbounded)", QUEUE_NMETHODS - 2);
const struct type type_joinable_queue =
	QUEUE_TYPE("joinable_queue", "Python's JoinableQueue; args: maxsize=0 (unbounded)",
		   QUEUE_NMETHODS);
