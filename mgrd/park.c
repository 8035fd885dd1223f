/* Wait queues and parked calls (see park.h). */
#include "park.h"

#include <event2/event.h>
#include <stdlib.h>

#include "../common/msg.h"
#include "conn.h"
#include "call.h"
#include "state.h"
#include "session.h"

static void park_unlink_queue(struct waiter *w)
{
	struct waitq *q = w->q;
	if (!q)
		return; /* detached */
	*(w->prev ? &w->prev->next : &q->head) = w->next;
	*(w->next ? &w->next->prev : &q->tail) = w->prev;
	q->len--;
	w->q = NULL;
	w->next = w->prev = NULL;
}

static void park_link_queue(struct waiter *w, struct waitq *q)
{
	w->q = q;
	w->next = NULL;
	w->prev = q->tail;
	*(q->tail ? &q->tail->next : &q->head) = w;
	q->tail = w;
	q->len++;
}

static void park_unlink(struct waiter *w)
{
	park_unlink_queue(w);
	struct conn *c = w->conn;
	*(w->cprev ? &w->cprev->cnext : &c->parked) = w->cnext;
	if (w->cnext)
		w->cnext->cprev = w->cprev;
	c->n_parked--;
}

static void park_free(struct waiter *w)
{
	if (w->timer)
		event_free(w->timer);
	mgr_value_free(w->item);
	free(w);
}

static void park_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct waiter *w = arg;
	if (w->ops && w->ops->timeout)
		w->ops->timeout(w);
	else
		park_answer(w, MGR_ETIMEDOUT, NULL, "timed out waiting");
}

/* Longer than this (68 years) is forever: keeps timeval arithmetic sane. */
#define PARK_MAX_MS ((int64_t)INT32_MAX * 1000)

/* A zero timeout fires on the loop's next turn: the call is answered by
 * its type's timeout op, exactly as a longer one is, just sooner. */
static int park_arm(struct call *c, struct waiter *w)
{
	if (c->timeout_ms >= PARK_MAX_MS)
		return 0;
	w->timer = evtimer_new(c->srv->base, park_timeout_cb, w);
	struct timeval tv = {(time_t)(c->timeout_ms / 1000), (c->timeout_ms % 1000) * 1000};
	return w->timer && !evtimer_add(w->timer, &tv) ? 0 : MGR_ENOMEM;
}

int park_call(struct call *c, struct waitq *q, const struct waiter_ops *ops,
	      struct waiter **out)
{
	if (!c->conn)
		return call_fail(c, MGR_ESTATE, "internal call cannot block");
	if (c->timeout_ms < 0)
		return call_fail(c, MGR_EARGS, "timeout must be >= 0 ms, got %lld",
				 (long long)c->timeout_ms);
	if (q->len >= c->srv->cfg.max_waiters)
		return call_fail(c, MGR_ELIMIT, "object has %u waiters (limit)", q->len);
	if (c->conn->n_parked >= c->srv->cfg.frame.max_pending)
		return call_fail(c, MGR_ELIMIT, "session has %u parked calls (limit)",
				 c->conn->n_parked);
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w || park_arm(c, w)) {
		if (w)
			park_free(w);
		return MGR_ENOMEM;
	}
	*w = (struct waiter){.conn = c->conn, .obj = c->obj, .ops = ops,
			     .timer = w->timer, .req_id = c->req_id, .thread = c->thread};
	park_link_queue(w, q);
	w->cnext = c->conn->parked;
	if (w->cnext)
		w->cnext->cprev = w;
	c->conn->parked = w;
	c->conn->n_parked++;
	if (out)
		*out = w;
	return CALL_PARKED;
}

void park_answer(struct waiter *w, int code, mgr_value *value, const char *message)
{
	park_unlink(w);
	session_reply(w->conn, w->req_id, code, value, message);
	park_free(w);
}

void park_move(struct waiter *w, struct waitq *q, const struct waiter_ops *ops)
{
	park_unlink_queue(w);
	park_link_queue(w, q);
	w->ops = ops;
	if (w->timer)
		event_free(w->timer);
	w->timer = NULL;
}

void park_cancel_all(struct waitq *q, int code, const char *message)
{
	while (q->head)
		park_answer(q->head, code, NULL, message);
}

void park_detach(struct waiter *w)
{
	park_unlink_queue(w);
	if (w->timer)
		event_free(w->timer);
	w->timer = NULL;
}

void park_session_end(struct conn *conn)
{
	while (conn->parked) {
		struct waiter *w = conn->parked;
		bool queued = w->q != NULL;
		park_unlink(w);
		if (queued && w->ops && w->ops->gone)
			w->ops->gone(w);
		park_free(w);
	}
}
