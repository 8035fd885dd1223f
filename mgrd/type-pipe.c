/* pipe: Python's Pipe() as two objects, one per end. create("pipe") makes
 * end 0; its `peer` makes end 1 (once; later calls give another ref to
 * it). The two share a core: for each side an inbox (messages sent to it,
 * FIFO, at most maxsize), its parked receivers/pollers and its parked
 * senders (waiting for room in the other side's inbox). An end belongs to
 * the first session that uses it (send, recv, poll), or the last that
 * claimed it; it is dead once closed, once that session ended, or once its
 * object is gone — then its peer gets EEOF (after what was already sent to
 * it), never a hang.
 * Not saved in snapshots: an end is bound to live sessions. */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "call-create.h"
#include "conn.h"
#include "gc.h"
#include "row.h"
#include "sync.h"
#include "types-builtin.h"

/* A parked reader's n. */
enum { PIPE_RECV = 0, PIPE_POLL = 1 };

struct pipe_side {
	bool made;          /* its object was created */
	bool live;          /* its object exists (made and not destroyed) */
	bool dead;          /* closed, its session ended, or its object gone */
	const char *why;    /* why dead: for messages */
	uint64_t id;        /* its object's id, once known */
	uint64_t session;   /* its user (0: not used yet) */
	int32_t pid;
	mgr_value **ring;   /* its inbox */
	size_t head, len, cap;
	struct waitq readers; /* recv (n PIPE_RECV) and poll (n PIPE_POLL) */
	struct waitq writers; /* send, waiting for room in the other inbox */
};

struct pipe_core {
	struct pipe_side side[2];
	int64_t maxsize; /* <= 0: unbounded */
	bool block;      /* a send to a full inbox waits (else EFULL) */
	bool duplex;     /* false: end 0 only receives, end 1 only sends */
	int ends;        /* objects pointing here; freed at 0 */
};

/* An object's state: which end of which pipe. */
struct pipe_end {
	struct pipe_core *core;
	int side;
};

#define PIPE_END(c) ((struct pipe_end *)(c)->obj->state)

static struct pipe_side *pipe_me(const struct pipe_end *e) { return &e->core->side[e->side]; }
static struct pipe_side *pipe_peer(const struct pipe_end *e) { return &e->core->side[!e->side]; }

/* ---- the inbox ---- */

static bool pipe_full(const struct pipe_core *p, const struct pipe_side *s)
{
	return p->maxsize > 0 && s->len >= (size_t)p->maxsize;
}

/* v consumed even on failure. */
static int pipe_push(struct pipe_side *s, mgr_value *v)
{
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		mgr_value **ring = malloc(cap * sizeof(*ring));
		if (!ring) {
			mgr_value_free(v);
			return MGR_ENOMEM;
		}
		for (size_t i = 0; i < s->len; i++)
			ring[i] = s->ring[(s->head + i) % s->cap];
		free(s->ring);
		s->ring = ring;
		s->head = 0;
		s->cap = cap;
	}
	s->ring[(s->head + s->len++) % s->cap] = v;
	return 0;
}

static mgr_value *pipe_pop(struct pipe_side *s)
{
	mgr_value *v = s->ring[s->head];
	s->head = (s->head + 1) % s->cap;
	s->len--;
	return v;
}

static void pipe_drop_inbox(struct pipe_side *s)
{
	while (s->len)
		mgr_value_free(pipe_pop(s));
	free(s->ring);
	s->ring = NULL;
	s->cap = 0;
}

/* ---- waking ---- */

static void pipe_timeout_recv(struct waiter *w)
{
	park_answer(w, w->n == PIPE_POLL ? 0 : MGR_ETIMEDOUT,
		    w->n == PIPE_POLL ? mgr_value_new_bool(false) : NULL,
		    w->n == PIPE_POLL ? NULL : "nothing received before the timeout");
}

static const struct waiter_ops pipe_reader_ops = {.timeout = pipe_timeout_recv};
static void pipe_timeout_send(struct waiter *w) { park_answer(w, MGR_EFULL, NULL, "pipe full"); }
static const struct waiter_ops pipe_writer_ops = {.timeout = pipe_timeout_send};

/* Pollers of s are answered true (something to read, or EOF). */
static void pipe_wake_pollers(struct pipe_side *s)
{
	for (struct waiter *w = s->readers.head, *next; w; w = next) {
		next = w->next;
		if (w->n == PIPE_POLL)
			park_answer(w, 0, mgr_value_new_bool(true), NULL);
	}
}

/* The first live receiver of s (pollers answered on the way), or NULL. */
static struct waiter *pipe_receiver(struct pipe_side *s)
{
	pipe_wake_pollers(s);
	return sync_head(&s->readers);
}

/* Room was made in `to`: parked senders of the other side go in, in order. */
static void pipe_admit_writers(struct pipe_core *p, struct pipe_side *to)
{
	struct pipe_side *from = to == &p->side[0] ? &p->side[1] : &p->side[0];
	struct waiter *w;
	while (!pipe_full(p, to) && (w = sync_head(&from->writers))) {
		mgr_value *v = w->item;
		w->item = NULL;
		park_answer(w, pipe_push(to, v), NULL, NULL);
	}
}

/* v (consumed) goes to s: to its first live receiver, else its inbox. */
static int pipe_deliver(struct pipe_side *s, mgr_value *v)
{
	struct waiter *w = pipe_receiver(s);
	if (!w)
		return pipe_push(s, v);
	park_answer(w, 0, v, NULL);
	return 0;
}

/* s died (why: constant): its peer's readers see EOF, its peer's senders
 * waiting for room in s get EEOF, and what was sent to s goes. */
static void pipe_kill(struct pipe_core *p, struct pipe_side *s, const char *why)
{
	struct pipe_side *peer = s == &p->side[0] ? &p->side[1] : &p->side[0];
	if (s->dead)
		return;
	s->dead = true;
	s->why = why;
	pipe_drop_inbox(s);
	pipe_wake_pollers(peer);
	park_cancel_all(&peer->readers, MGR_EEOF, "the other end of the pipe is closed");
	park_cancel_all(&peer->writers, MGR_EEOF, "the other end of the pipe is closed");
	park_cancel_all(&s->readers, MGR_ESTATE, "this end of the pipe was closed");
	park_cancel_all(&s->writers, MGR_ESTATE, "this end of the pipe was closed");
}

/* ---- create, destroy ---- */

/* Called by manager.create (a new pipe, end 0) or by end 0's peer (end 1). */
static int pipe_create(struct call *c, void **state)
{
	struct pipe_end *e = calloc(1, sizeof(*e));
	if (!e)
		return MGR_ENOMEM;
	if (c->obj && c->obj->type == &type_pipe) { /* from peer(): end 1 */
		e->core = PIPE_END(c)->core;
		e->side = 1;
	} else {
		bool duplex, block;
		int64_t maxsize;
		int err = arg_bool_opt(c, 0, true, &duplex);
		if (!err)
			err = arg_int_opt(c, 1, 0, &maxsize);
		if (!err)
			err = arg_bool_opt(c, 2, true, &block);
		if (!err && !(e->core = calloc(1, sizeof(*e->core))))
			err = MGR_ENOMEM;
		if (err) {
			free(e);
			return err;
		}
		*e->core = (struct pipe_core){.maxsize = maxsize, .block = block, .duplex = duplex};
	}
	e->core->ends++;
	e->core->side[e->side].made = e->core->side[e->side].live = true;
	*state = e;
	return 0;
}

static void pipe_destroy(void *state)
{
	struct pipe_end *e = state;
	struct pipe_core *p = e->core;
	pipe_kill(p, pipe_me(e), "its object is gone");
	pipe_me(e)->live = false;
	free(e);
	if (--p->ends == 0) {
		pipe_drop_inbox(&p->side[0]);
		pipe_drop_inbox(&p->side[1]);
		free(p);
	}
}

static size_t pipe_length(const void *state)
{
	const struct pipe_end *e = state;
	return pipe_me(e)->len;
}

/* ---- methods ---- */

/* Checks that c may use its end to send (or receive); c's session becomes
 * the end's user if it has none yet, or if claiming. */
static int pipe_use(struct call *c, bool sending, bool claim)
{
	struct pipe_end *e = PIPE_END(c);
	struct pipe_side *me = pipe_me(e);
	me->id = c->obj->id;
	if (me->dead)
		return call_fail(c, MGR_ESTATE, "this end of the pipe is closed (%s)", me->why);
	if (!e->core->duplex && sending == (e->side == 0))
		return call_fail(c, MGR_ESTATE, "this end of a one-way pipe only %s",
				 e->side == 0 ? "receives" : "sends");
	if (c->conn && (claim || !me->session)) {
		me->session = conn_session(c->conn);
		me->pid = conn_pid(c->conn);
	}
	return 0;
}

static int pipe_send(struct call *c)
{
	struct pipe_end *e = PIPE_END(c);
	struct pipe_side *peer = pipe_peer(e);
	struct waiter *w;
	int err = pipe_use(c, true, false);
	if (!err)
		err = sync_check_timeout(c, e->core->block);
	if (err)
		return err;
	if (peer->dead)
		return call_fail(c, MGR_EEOF, "the other end of the pipe is closed (%s)", peer->why);
	if (!pipe_full(e->core, peer) || sync_head(&peer->readers))
		return pipe_deliver(peer, arg_take(c, 0));
	if (!e->core->block)
		return call_fail(c, MGR_EFULL, "pipe full (%lld messages)", (long long)e->core->maxsize);
	int rc = park_call(c, &pipe_me(e)->writers, &pipe_writer_ops, &w);
	if (rc == CALL_PARKED)
		w->item = arg_take(c, 0);
	return rc;
}

/* recv and poll: what is in the inbox first, then EOF, else wait. */
static int pipe_read(struct call *c, int how)
{
	struct pipe_end *e = PIPE_END(c);
	struct pipe_side *me = pipe_me(e);
	struct waiter *w;
	int err = pipe_use(c, false, false);
	if (!err)
		err = sync_check_timeout(c, true);
	if (err)
		return err;
	if (me->len && how == PIPE_POLL)
		return call_return_bool(c, true);
	if (me->len) {
		mgr_value *v = pipe_pop(me);
		pipe_admit_writers(e->core, me);
		return call_return(c, v);
	}
	if (pipe_peer(e)->dead && how == PIPE_POLL)
		return call_return_bool(c, true);
	if (pipe_peer(e)->dead)
		return call_fail(c, MGR_EEOF, "the other end of the pipe is closed (%s)",
				 pipe_peer(e)->why);
	int rc = park_call(c, &me->readers, &pipe_reader_ops, &w);
	if (rc == CALL_PARKED)
		w->n = how;
	return rc;
}

static int pipe_recv(struct call *c) { return pipe_read(c, PIPE_RECV); }
static int pipe_poll(struct call *c) { return pipe_read(c, PIPE_POLL); }

static int pipe_close(struct call *c)
{
	struct pipe_end *e = PIPE_END(c);
	pipe_kill(e->core, pipe_me(e), "closed");
	return 0;
}

/* Makes c's session this end's user (what a process handed the end does
 * first: its death is then its peer's EOF, even if another session used
 * the end before, or before it sends). */
static int pipe_claim(struct call *c)
{
	struct pipe_end *e = PIPE_END(c);
	return pipe_use(c, !e->core->duplex && e->side == 1, true);
}

/* The other end: made by the first call on end 0, a new ref after that. */
static int pipe_m_peer(struct call *c)
{
	struct pipe_end *e = PIPE_END(c);
	struct pipe_side *peer = pipe_peer(e);
	pipe_me(e)->id = c->obj->id;
	if (!peer->made) {
		mgr_value *ref;
		int err = call_create(c, &type_pipe, NULL, &ref);
		if (err)
			return err;
		peer->id = mgr_value_ref_id(ref);
		return call_return(c, ref);
	}
	if (!peer->live || !peer->id)
		return call_fail(c, MGR_EEOF, "the other end of the pipe is gone");
	return call_return(c, mgr_value_new_ref(peer->id, type_pipe.name));
}

static int pipe_closed(struct call *c) { return call_return_bool(c, pipe_me(PIPE_END(c))->dead); }

static const struct method pipe_methods[] = {
	{"send", pipe_send, 1, 1, METHOD_BLOCKING, "obj",
	 "to the other end; when its inbox is full, wait (block=true) or EFULL; EEOF if it is "
	 "closed; at the timeout: EFULL"},
	{"recv", pipe_recv, 0, 0, METHOD_BLOCKING, "",
	 "the next message sent here; EEOF once none is left and the other end is closed; "
	 "at the timeout: ETIMEDOUT"},
	{"poll", pipe_poll, 0, 0, METHOD_BLOCKING, "",
	 "whether recv would not wait (a message, or EOF); at the timeout: false"},
	{"close", pipe_close, 0, 0, 0, "", "closes this end: the other end sees EOF"},
	{"claim", pipe_claim, 0, 0, 0, "",
	 "makes this session the end's user (else: the first to use it); its end is the other end's EOF"},
	{"peer", pipe_m_peer, 0, 0, 0, "", "a ref to the other end (end 0 makes it at first)"},
	{"closed", pipe_closed, 0, 0, METHOD_READONLY, "", "whether this end is closed"},
};

/* ---- sessions, views, the collector ---- */

static void pipe_session_end(struct object *o, struct conn *conn)
{
	struct pipe_end *e = o->state;
	if (pipe_me(e)->session == conn_session(conn))
		pipe_kill(e->core, pipe_me(e), "its process ended");
}

/* {side, duplex, maxsize, block, queued, closed, why, user_pid, readers,
 * writers}. */
static mgr_value *pipe_describe(const struct object *o, size_t limit)
{
	(void)limit;
	static const char *const keys[] = {"side",   "duplex",   "maxsize", "block",   "queued",
					   "closed", "user_pid", "peer_closed", "readers", "writers"};
	const struct pipe_end *e = o->state;
	const struct pipe_side *me = pipe_me(e);
	mgr_value *vals[] = {
		mgr_value_new_int(e->side),	      mgr_value_new_bool(e->core->duplex),
		mgr_value_new_int(e->core->maxsize),   mgr_value_new_bool(e->core->block),
		mgr_value_new_int((int64_t)me->len),   mgr_value_new_bool(me->dead),
		mgr_value_new_int(me->pid),	      mgr_value_new_bool(pipe_peer(e)->dead),
		sync_pids(&me->readers),	      sync_pids(&me->writers)};
	return row_new(10, keys, vals);
}

static void pipe_contention(const struct object *o, int32_t *holder_pid, uint32_t *waiters)
{
	const struct pipe_end *e = o->state;
	*holder_pid = pipe_me(e)->pid;
	*waiters = pipe_me(e)->readers.len + pipe_me(e)->writers.len;
}

/* For the cycle collector: the refs in this end's inbox (a parked
 * sender's item is work in flight: it keeps what it refers to). */
static void pipe_refs(const void *state, gc_visit_fn visit, void *arg)
{
	const struct pipe_end *e = state;
	const struct pipe_side *me = pipe_me(e);
	for (size_t i = 0; i < me->len; i++)
		gc_value_refs(me->ring[(me->head + i) % me->cap], visit, arg);
}

const struct type type_pipe = {
	.name = "pipe",
	.doc = "one end of Python's Pipe(); args: duplex=true (false: this end receives, its "
	       "peer sends), maxsize=0 (messages queued per end; 0 unbounded), block=true "
	       "(a send to a full end waits; false: EFULL). `peer` gives the other end. "
	       "Not saved in snapshots",
	.create = pipe_create,
	.ctor_args = "duplex=true, maxsize=0, block=true",
	.destroy = pipe_destroy,
	.length = pipe_length,
	.session_end = pipe_session_end,
	.describe = pipe_describe,
	.contention = pipe_contention,
	.refs = pipe_refs,
	.methods = pipe_methods,
	.nmethods = sizeof(pipe_methods) / sizeof(pipe_methods[0]),
	.flags = TYPE_STATE_MAP,
};
