/* One connection = one session: reads frames (length checked before any
 * allocation; the input buffer grows only as bytes come, and unfinished
 * frames of all connections together are held to --max-partial-bytes),
 * runs the handshake state machine and the deadlines after it (a frame
 * begun must end within --frame-timeout; --idle-timeout), queues replies
 * and writes them in bulk (a reply too big to ever send is answered
 * ELIMIT instead), cuts off clients that do not read, and on close gives
 * back everything the session held. */
#include "conn.h"

#include <errno.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/frame.h"
#include "conn-batch.h"
#include "conn-poll.h"
#include "conn-ring.h"
#include "log.h"
#include "sock-poll.h"
#include "state.h"
#include "stats.h"
#include "tls.h"

#define CONN_BUF_MIN 16384   /* first allocation of either buffer; input keeps no more */
#define CONN_BUF_KEEP 262144 /* bigger output buffers are freed once empty */
#define CONN_READ_MIN 4096   /* least room made before a read */
#define CONN_READ_MAX 1048576 /* most room made ahead of the bytes held */

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_ring_cb(evutil_socket_t fd, short what, void *arg);

int32_t conn_pid(const struct conn *c) { return c->pid; }
uint64_t conn_session(const struct conn *c) { return c->session; }

struct conn *conn_new(struct server *srv, int fd, pid_t pid, uid_t uid, gid_t gid)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct conn){.srv = srv, .fd = fd, .pid = pid, .uid = uid, .gid = gid,
			   .session = ++srv->next_session, .since = time(NULL)};
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->n_conns++;
	c->read_ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->write_ev = event_new(srv->base, fd, EV_WRITE, conn_write_cb, c);
	c->timer_ev = evtimer_new(srv->base, conn_timer_cb, c);
	struct timeval tv = {srv->cfg.handshake_ms / 1000, (srv->cfg.handshake_ms % 1000) * 1000};
	if (!c->read_ev || !c->write_ev || !c->timer_ev ||
	    event_add(c->read_ev, NULL) || evtimer_add(c->timer_ev, &tv)) {
		c->state = CONN_DEAD;
		conn_close(c, "out of memory");
		return NULL;
	}
	return c;
}

static void conn_free_now(struct conn *c)
{
	free(c->in.p);
	free(c->out.p);
	idmap_free(&c->refs);
	free(c);
}

static void conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free_now(arg);
}

void conn_free(struct conn *c)
{
	if (c->pins) /* a worker's call still holds the struct */
		c->free_deferred = true;
	else
		conn_free_now(c);
}

void conn_pin(struct conn *c) { c->pins++; }

void conn_unpin(struct conn *c)
{
	if (--c->pins == 0 && c->free_deferred)
		event_base_once(c->srv->base, -1, EV_TIMEOUT, conn_free_cb, c, &(struct timeval){0, 0});
}

/* Off the server's list of open connections. */
static void conn_unlink(struct conn *c)
{
	struct server *srv = c->srv;
	*(c->prev ? &c->prev->next : &srv->conns) = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	srv->n_conns--;
	if (srv->stopping && srv->n_conns == 0)
		event_base_loopexit(srv->base, NULL);
}

/* c's input holds n bytes of an unfinished frame: the server's count
 * follows (0 once c reads no more). */
static void conn_in_charge(struct conn *c, size_t n)
{
	c->srv->partial_bytes = c->srv->partial_bytes - c->in_charge + n;
	c->in_charge = n;
}

void conn_close(struct conn *c, const char *why)
{
	if (c->state == CONN_DEAD && c->fd < 0)
		return;
	log_msg(LOG_DEBUG, "session %llu (pid %d) closed: %s",
		(unsigned long long)c->session, (int)c->pid, why);
	c->state = CONN_DEAD;
	struct event *evs[] = {c->read_ev, c->write_ev, c->timer_ev, c->ring_ev};
	for (size_t i = 0; i < 4; i++)
		if (evs[i])
			event_free(evs[i]);
	c->read_ev = c->write_ev = c->timer_ev = c->ring_ev = NULL;
	conn_batch_forget(c);
	conn_in_charge(c, 0);
	conn_poll_forget(c);
	conn_ring_free(c->ring);
	c->ring = NULL;
	tls_end(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	conn_unlink(c);
	c->ended_next = c->srv->ended; /* the session ends at one place: session.c */
	c->srv->ended = c;
	if (c->srv->end_ev)
		event_active(c->srv->end_ev, EV_TIMEOUT, 0);
}

/* ---- buffers: plain bytes, [off, len) pending; one read() or send() a turn ---- */

/* Moves the pending bytes to the start. */
static void conn_buf_compact(struct conn_buf *b)
{
	if (!b->off)
		return;
	memmove(b->p, b->p + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

/* Capacity exactly cap (>= the pending bytes, compacted); -1 when out of
 * memory (b unchanged). */
static int conn_buf_resize(struct conn_buf *b, size_t cap)
{
	conn_buf_compact(b);
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Room for n more bytes at the end, doubling (replies: ours, bounded by
 * max_outbuf); NULL when out of memory. */
static uint8_t *conn_buf_room(struct conn_buf *b, size_t n)
{
	if (b->off && b->cap - b->len < n)
		conn_buf_compact(b);
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : CONN_BUF_MIN;
		while (cap - b->len < n)
			cap *= 2;
		if (conn_buf_resize(b, cap))
			return NULL;
	}
	return b->p + b->len;
}

/* Everything consumed: start over, and give back a buffer over keep. */
static void conn_buf_consumed(struct conn_buf *b, size_t keep)
{
	if (b->off < b->len)
		return;
	b->off = b->len = 0;
	if (b->cap > keep) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

/* ---- input buffer: grows as bytes come, never as a header announces ----
 * Before a read there is room for a quarter of what is held (4 KiB to
 * 1 MiB), no more than the unfinished frame still lacks (4 KiB at least);
 * once frames are taken, a buffer more than half empty shrinks. So a
 * buffer stays under about 2.5 times the bytes it holds, plus 16 KiB, and
 * a 16 MiB frame costs about 30 reallocations. */

static size_t conn_in_want(const struct conn *c)
{
	size_t have = c->in.len - c->in.off, want = have / 4;
	want = want < CONN_READ_MIN ? CONN_READ_MIN : want > CONN_READ_MAX ? CONN_READ_MAX : want;
	if (have >= FRAME_HEADER) {
		size_t rest = FRAME_HEADER + (size_t)frame_get_len(c->in.p + c->in.off) - have;
		if (rest < want) /* (a whole frame waiting: rest wraps, huge) */
			want = rest > CONN_READ_MIN ? rest : CONN_READ_MIN;
	}
	return want;
}

/* Room before a read; NULL when out of memory. */
static uint8_t *conn_in_room(struct conn *c)
{
	struct conn_buf *b = &c->in;
	size_t want = conn_in_want(c);
	if (b->cap - b->len < want && b->off)
		conn_buf_compact(b);
	if (b->cap - b->len < want) {
		size_t cap = b->len + want;
		if (conn_buf_resize(b, cap < CONN_BUF_MIN ? CONN_BUF_MIN : cap))
			return NULL;
	}
	return b->p + b->len;
}

/* After frames were taken: give back what is no longer needed. */
static void conn_in_shrink(struct conn *c)
{
	struct conn_buf *b = &c->in;
	conn_buf_consumed(b, CONN_BUF_MIN);
	if (b->cap <= CONN_BUF_MIN) /* the usual case: nothing to give back */
		return;
	size_t need = b->len - b->off + conn_in_want(c);
	if (b->cap / 2 > need)
		(void)conn_buf_resize(b, need < CONN_BUF_MIN ? CONN_BUF_MIN : need);
}

/* ---- output ---- */

static ssize_t conn_send(struct conn *c, const void *p, size_t n)
{
	return c->ring ? conn_ring_send(c->ring, p, n)
	       : c->tls ? tls_send(c->tls, p, n)
		       : send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Output is stuck: be called again once the client has read. */
static void conn_want_write(struct conn *c)
{
	if (!c->ring)
		event_add(c->write_ev, NULL);
	else if (conn_ring_sleep_room(c->ring)) /* room came meanwhile */
		event_active(c->ring_ev, EV_READ, 0);
}

static void conn_flush(struct conn *c)
{
	while (c->state != CONN_DEAD && c->out.len > c->out.off) {
		ssize_t n = conn_send(c, c->out.p + c->out.off, c->out.len - c->out.off);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_want_write(c);
			return;
		}
		if (n <= 0 && errno != EINTR) {
			conn_close(c, "write failed");
			return;
		}
		if (n > 0)
			c->out.off += (size_t)n;
	}
	conn_buf_consumed(&c->out, CONN_BUF_KEEP);
	if (c->state == CONN_CLOSING && !c->pins) /* a worker's reply still to come */
		conn_close(c, "closed after last reply");
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_batch_send(arg); /* the turn's listed replies, c's among them */
	conn_flush(arg);
}

static void conn_deadline_arm(struct conn *c, int64_t due, int64_t now);

void conn_close_after_flush(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->state != CONN_CLOSING) { /* its last replies get a frame's time */
		int64_t now = clock_now_ms();
		c->closing_since = now;
		if (c->state == CONN_READY)
			conn_deadline_arm(c, now + c->srv->cfg.frame_ms, now);
	}
	c->state = CONN_CLOSING;
	conn_in_charge(c, 0); /* read no more: its unfinished frame never ends */
	event_del(c->read_ev);
	if (!c->users)
		conn_flush(c);
}

/* Bytes c's ring would take now (a socket's room is not known before
 * sending: 0). */
static size_t conn_send_room(const struct conn *c)
{
	if (!c->ring)
		return 0;
	const struct ring *r = &c->ring->r;
	uint32_t used = r->tx_tail - __atomic_load_n(&r->tx->head, __ATOMIC_ACQUIRE);
	return used > r->cap ? 0 : r->cap - used;
}

/* Whether a reply can never reach c (why says which limit): its body is
 * over max_frame (the client would refuse it), or, on its own, it is more
 * than max_outbuf plus what the ring takes now (queuing it would cut c
 * off however fast it reads). */
static bool conn_reply_too_big(const struct conn *c, const struct frame_out *fo, char *why,
			       size_t n)
{
	const struct config *cfg = &c->srv->cfg;
	size_t body = fo->size - FRAME_HEADER, room = conn_send_room(c);
	if (body > cfg->frame.max_frame)
		snprintf(why, n, "reply of %zu bytes exceeds max_frame %u", body,
			 cfg->frame.max_frame);
	else if (fo->size > cfg->max_outbuf + room)
		snprintf(why, n, "reply of %zu bytes exceeds max_outbuf %u%s", fo->size,
			 cfg->max_outbuf, room ? " and the room in the ring" : "");
	else
		return false;
	return true;
}

static void conn_put(struct conn *c, const struct msg *m);

/* Answers a reply that cannot be sent with ELIMIT naming the limit; the
 * session stays. References the value handed the session stay with it
 * until it drops them or ends. */
static void conn_put_too_big(struct conn *c, const struct msg *m, const char *why)
{
	log_msg(LOG_INFO, "session %llu (pid %d): %s; answered with an error",
		(unsigned long long)c->session, (int)c->pid, why);
	struct msg e = {.kind = MSG_REPLY};
	e.u.reply = (struct msg_reply){m->u.reply.id, MGR_ELIMIT, NULL, (char *)why,
				       m->u.reply.spin};
	conn_put(c, &e); /* no value: never too big itself */
}

/* After a frame was queued: flush or cut off as the output limit says. */
static void conn_put_done(struct conn *c)
{
	if (c->out.len - c->out.off > c->srv->cfg.max_outbuf && c->state == CONN_READY)
		conn_flush(c); /* a client that reads is not cut off for our batching */
	if (c->state != CONN_DEAD && c->out.len - c->out.off > c->srv->cfg.max_outbuf) {
		log_msg(LOG_WARN, "session %llu (pid %d) cut off: %zu bytes of replies unread",
			(unsigned long long)c->session, (int)c->pid, c->out.len - c->out.off);
		conn_close(c, "output buffer limit");
		return;
	}
	if (!c->users) /* a reply from outside this conn's read: send now */
		conn_flush(c);
}

/* The usual reply (an int, bool or nil result) in one pass, when no limit
 * could refuse it: true if it was queued. */
static bool conn_put_tight(struct conn *c, const struct msg_reply *y)
{
	const struct config *cfg = &c->srv->cfg;
	uint8_t *dst;
	size_t n;
	if (cfg->frame.max_frame < FRAME_REPLY_TIGHT_MAX || cfg->max_outbuf < FRAME_REPLY_TIGHT_MAX ||
	    !(dst = conn_buf_room(&c->out, FRAME_REPLY_TIGHT_MAX)) ||
	    !(n = frame_reply_tight_write(y, dst)))
		return false;
	c->out.len += n;
	conn_put_done(c);
	return true;
}

static void conn_put(struct conn *c, const struct msg *m)
{
	struct frame_out fo;
	uint8_t *dst;
	char why[128];
	if (m->kind == MSG_REPLY && conn_put_tight(c, &m->u.reply))
		return;
	int err = frame_prepare(&fo, m);
	if (m->kind == MSG_REPLY && m->u.reply.value &&
	    (err == MGR_ELIMIT || (!err && conn_reply_too_big(c, &fo, why, sizeof(why))))) {
		if (err)
			snprintf(why, sizeof(why), "reply of over 4 GiB exceeds max_frame %u",
				 c->srv->cfg.frame.max_frame);
		conn_put_too_big(c, m, why);
		return;
	}
	if (err || !(dst = conn_buf_room(&c->out, fo.size))) {
		conn_close(c, "out of memory encoding a reply");
		return;
	}
	frame_write(&fo, dst);
	c->out.len += fo.size;
	conn_put_done(c);
}

/* Reply.spin: a ring's (conn-poll.c), or a polling socket's (sock-poll.c). */
static bool conn_spin_hint(const struct conn *c)
{
	return c->polls ? sock_poll_hint(c) : conn_poll_hint(c);
}

void conn_reply(struct conn *c, uint64_t id, int code, mgr_value *value, const char *message)
{
	if (c->state == CONN_DEAD) {
		mgr_value_free(value);
		return;
	}
	struct msg m; /* only the reply is read: not 152 bytes zeroed (rep stosq) a reply */
	m.kind = MSG_REPLY;
	m.u.reply = (struct msg_reply){id, (uint32_t)code, value, (char *)message, false};
	m.u.reply.spin = conn_spin_hint(c);
	conn_put(c, &m);
	m.u.reply.message = NULL; /* borrowed */
	msg_reply_free(&m.u.reply);
}

void conn_reply_borrowed(struct conn *c, uint64_t id, const mgr_value *v)
{
	if (c->state == CONN_DEAD)
		return;
	struct msg m; /* only the reply is read: the rest of the union stays unset */
	m.kind = MSG_REPLY;
	m.u.reply = (struct msg_reply){id, 0, (mgr_value *)v, NULL, false};
	m.u.reply.spin = conn_spin_hint(c);
	conn_put(c, &m);
}

/* ---- input ---- */

static void conn_violation(struct conn *c, int code, const char *why)
{
	log_msg(LOG_INFO, "session %llu (pid %d): %s; dropping the connection",
		(unsigned long long)c->session, (int)c->pid, why);
	conn_reply(c, 0, code, NULL, why);
	conn_close_after_flush(c);
}

/* The unfinished frames of all connections passed --max-partial-bytes as
 * c's grew: c goes (the one asking for more, never one that already
 * holds its share), its input at once. */
static void conn_over_budget(struct conn *c)
{
	char why[160];
	snprintf(why, sizeof(why), "unfinished frames of all clients would hold %llu bytes, "
		 "over max_partial_bytes %u", (unsigned long long)c->srv->partial_bytes,
		 c->srv->cfg.max_partial);
	conn_in_charge(c, 0);
	free(c->in.p);
	c->in = (struct conn_buf){0};
	conn_violation(c, MGR_ELIMIT, why);
}

/* The Welcome (all that is in the output) leaves over the socket with the
 * ring's fds; from now on the ring carries everything. */
static void conn_ring_start(struct conn *c, struct conn_ring *ring, int memfd)
{
	int rc = conn_ring_send_fds(c->fd, c->out.p + c->out.off, c->out.len - c->out.off,
				    memfd, ring->efd);
	close(memfd);
	c->out.off = c->out.len;
	c->ring = ring;
	c->ring_ev = event_new(c->srv->base, ring->efd, EV_READ | EV_PERSIST | EV_ET,
			       conn_ring_cb, c);
	if (rc || !c->ring_ev || event_add(c->ring_ev, NULL)) {
		conn_close(c, rc ? "could not send the ring" : "out of memory");
		return;
	}
	if (c->in.len > c->in.off) /* sent after Hello without waiting for Welcome */
		conn_violation(c, MGR_EPROTO, "requests on the socket after asking for a ring");
	else if (conn_ring_sleep(ring)) /* the first request came already */
		event_active(c->ring_ev, EV_READ, 0);
}

static void conn_hello(struct conn *c, struct msg *m)
{
	if (m->u.hello.version != MGR_PROTOCOL_VERSION) {
		conn_violation(c, MGR_EVERSION, "protocol version not supported (want 1)");
		return;
	}
	snprintf(c->name, sizeof(c->name), "%s", m->u.hello.name);
	evtimer_del(c->timer_ev); /* from now on: the deadlines below */
	c->state = CONN_READY;
	if (c->srv->cfg.idle_ms) {
		int64_t now = clock_now_ms();
		c->active_since = now;
		conn_deadline_arm(c, now + c->srv->cfg.idle_ms, now);
	}
	struct msg w = {.kind = MSG_WELCOME};
	w.u.welcome = (struct msg_welcome){.version = MGR_PROTOCOL_VERSION,
		.session = c->session, .pid = (int32_t)getpid(), .limits = c->srv->cfg.frame};
	memcpy(w.u.welcome.instance, c->srv->instance, sizeof(w.u.welcome.instance));
	int memfd = -1;
	struct conn_ring *ring = conn_ring_new(c->remote ? 0 : m->u.hello.ring, c->srv->cfg.ring,
						 c->fd, &memfd); /* shared memory: local peers only */
	w.u.welcome.ring = ring ? ring->r.cap : 0;
	c->polls = m->u.hello.polls && !ring;
	conn_put(c, &w);
	if (ring)
		conn_ring_start(c, ring, memfd);
}

static void conn_message(struct conn *c, struct msg *m)
{
	if (c->state == CONN_HELLO && m->kind == MSG_HELLO)
		conn_hello(c, m);
	else if (c->state == CONN_READY && m->kind == MSG_REQUEST && !m->u.request.id)
		conn_violation(c, MGR_EPROTO, "request id 0 is reserved for the connection's own replies");
	else if (c->state == CONN_READY && m->kind == MSG_REQUEST)
		c->srv->hooks.request(c->srv, c, &m->u.request);
	else
		conn_violation(c, MGR_EPROTO, c->state == CONN_HELLO
			       ? "expected Hello as the first frame"
			       : "unexpected frame kind from a client");
}

static void conn_frame(struct conn *c, uint8_t *p, size_t len)
{
	struct msg m;
	char err[160];
	int rc = frame_decode(p, len, &c->srv->cfg.frame, &m, err, sizeof(err));
	if (!rc)
		conn_message(c, &m);
	else if (m.kind == MSG_REQUEST && c->state == CONN_READY && m.u.request.id)
		conn_reply(c, m.u.request.id, rc, NULL, err); /* bad args: just this call */
	else if (m.kind == MSG_REQUEST && c->state == CONN_READY) /* id 0 is ours */
		conn_violation(c, MGR_EPROTO, "request id 0 is reserved");
	else
		conn_violation(c, rc, err);
	msg_clear(&m);
}

/* One whole frame from the input, if there is one: 1 handled, 0 need more. */
static int conn_next_frame(struct conn *c)
{
	size_t have = c->in.len - c->in.off;
	if (have < FRAME_HEADER)
		return 0;
	uint32_t len = frame_get_len(c->in.p + c->in.off);
	if (len > c->srv->cfg.frame.max_frame) {
		char why[96];
		snprintf(why, sizeof(why), "frame of %u bytes exceeds the limit of %u",
			 len, c->srv->cfg.frame.max_frame);
		conn_violation(c, MGR_ELIMIT, why);
		return 0;
	}
	if (have < FRAME_HEADER + (size_t)len) { /* room for the rest: the limit is checked */
		if (!conn_buf_room(&c->in, FRAME_HEADER + (size_t)len - have)) {
			conn_close(c, "out of memory reading a frame");
		}
		return 0;
	}
	uint8_t *p = c->in.p + c->in.off;
	c->in.off += FRAME_HEADER + (size_t)len; /* the buffer lives until conn_free_cb */
	conn_frame(c, p + FRAME_HEADER, len);
	return 1;
}

/* Decodes and answers every whole frame in the input, then sends. */
static void conn_take_input(struct conn *c)
{
	c->users++;
	while ((c->state == CONN_HELLO || c->state == CONN_READY) && conn_next_frame(c))
		;
	c->users--;
	if (c->remote && !c->tls && c->state == CONN_READY && c->out.len > c->out.off &&
	    conn_batch_add(c, event_base_get_num_events(c->srv->base, EVENT_BASE_COUNT_ACTIVE)))
		/* sent with the turn's others (conn-batch.h) */
		event_active(c->write_ev, EV_WRITE, 0);
	else
		conn_flush(c);
}

/* ---- reading ---- */

static ssize_t conn_recv(struct conn *c, void *p, size_t n)
{
	return c->ring ? conn_ring_recv(c->ring, p, n)
	       : c->tls ? tls_recv(c->tls, p, n) : read(c->fd, p, n);
}

/* After input was taken: the unfinished frame's bytes are counted (over
 * the server's budget: c is dropped), the buffer shrinks, and a frame
 * begun now starts its deadline. held_before, off_before: before the read. */
static void conn_after_input(struct conn *c, size_t held_before, size_t off_before)
{
	if (c->state != CONN_READY && c->state != CONN_HELLO)
		return; /* closing: counted no more */
	size_t held = c->in.len - c->in.off;
	bool began = held && (!held_before || c->in.off != off_before);
	conn_in_charge(c, held);
	if (c->srv->partial_bytes > c->srv->cfg.max_partial) {
		conn_over_budget(c);
		return;
	}
	conn_in_shrink(c);
	if (c->state != CONN_READY || (!began && !c->srv->cfg.idle_ms))
		return;
	int64_t now = clock_now_ms();
	c->active_since = now;
	if (began) {
		c->frame_since = now;
		conn_deadline_arm(c, now + c->srv->cfg.frame_ms, now);
	}
}

/* One read into c's input and the answers to it: 1 if it made calls, 0 if
 * not, -1 if nothing came or c was closed. */
static int conn_read_once(struct conn *c)
{
	stats_run_break(); /* a read's calls are a run of their own: no wait timed */
	uint8_t *room = conn_in_room(c);
	if (!room) {
		conn_close(c, "out of memory reading");
		return -1;
	}
	size_t len = c->in.cap - c->in.len;
	ssize_t n = conn_recv(c, room, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0) {
		conn_close(c, n == 0 ? "peer closed" : errno == EPROTO ? "broke its ring" : "read failed");
		return -1;
	}
	size_t held_before = c->in.len - c->in.off, off_before = c->in.off;
	c->in.len += (size_t)n;
	uint64_t calls = c->calls;
	conn_take_input(c);
	conn_after_input(c, held_before, off_before);
	if (c->calls == calls)
		return 0;
	if (c->polls)
		sock_poll_sent(c);
	else if (c->ring && c->state == CONN_READY)
		conn_poll_hot(c);
	return 1;
}

/* Reads what is there, answers it, and polls for more a moment: the
 * reads made, added to reads. */
static int conn_pull(struct conn *c, int reads)
{
	reads++;
	if (conn_read_once(c) <= 0)
		return reads;
	struct conn *next;
	for (int served = 0; (next = conn_poll_next(c, served)); served++, reads++)
		conn_read_once(next);
	return reads;
}

/* Once the ring is up, the socket only tells us the client is gone. */
static void conn_socket_after_ring(struct conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_DONTWAIT);
	if (n > 0)
		conn_violation(c, MGR_EPROTO, "data on the socket after the ring was set up");
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(c, n == 0 ? "peer closed" : "read failed");
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->ring)
		conn_socket_after_ring(c);
	else
		(void)conn_pull(c, 0);
	/* TLS: records read ahead wake no poll; each read takes one */
	while (c->tls && (c->state == CONN_HELLO || c->state == CONN_READY) && tls_pending(c->tls))
		if (conn_read_once(c) < 0)
			break;
}

/* The client wrote the eventfd: requests came, or room for replies. */
static void conn_ring_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	struct server *srv = c->srv;
	int reads = 0;
	do { /* again for a ring where more came as it went to sleep */
		conn_poll_awake(c);
		if (c->out.len > c->out.off)
			conn_flush(c);
		reads = c->state == CONN_READY ? conn_pull(c, reads) : reads + 1;
	} while ((c = conn_poll_sleep_all(srv, reads)));
}

/* ---- deadlines after Hello: one timer, re-armed lazily ----
 * Reads only note the time (a frame begun, the last bytes); the timer,
 * when it fires, finds the nearest deadline and either drops c or sleeps
 * until then. Closing: the last replies must be read within a frame's
 * time. An unfinished frame: it must end within frame_ms of its first
 * bytes. Otherwise, with idle_ms: a session quiet that long with nothing
 * parked, running or unsent is dropped. */

static void conn_deadline_arm(struct conn *c, int64_t due, int64_t now)
{
	if (!c->timer_ev || (c->timer_due && c->timer_due <= due))
		return; /* it fires earlier and looks again */
	int64_t ms = due > now ? due - now : 0;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	if (evtimer_add(c->timer_ev, &tv) == 0)
		c->timer_due = due;
}

static bool conn_busy(const struct conn *c)
{
	return c->n_parked || c->pins || c->out.len > c->out.off;
}

/* c's nearest deadline (0: none) and what passing it means. */
static int64_t conn_deadline(const struct conn *c, char *why, size_t n)
{
	const struct config *cfg = &c->srv->cfg;
	size_t held = c->in.len - c->in.off;
	if (c->state == CONN_CLOSING) {
		snprintf(why, n, "its last replies not read within %u ms", cfg->frame_ms);
		return c->closing_since + cfg->frame_ms;
	}
	if (held) {
		snprintf(why, n, "a frame of %zu bytes unfinished after %u ms (%zu came)",
			 held >= FRAME_HEADER ? (size_t)frame_get_len(c->in.p + c->in.off) : 0,
			 cfg->frame_ms, held);
		return c->frame_since + cfg->frame_ms;
	}
	snprintf(why, n, "idle for %u ms", cfg->idle_ms);
	return cfg->idle_ms ? c->active_since + cfg->idle_ms : 0;
}

static void conn_deadline_check(struct conn *c)
{
	char why[128];
	int64_t now = clock_now_ms(), due = conn_deadline(c, why, sizeof(why));
	if (!due)
		return;
	if (due > now)
		conn_deadline_arm(c, due, now);
	else if (c->state == CONN_CLOSING)
		conn_close(c, why);
	else if (c->in.len == c->in.off && conn_busy(c)) { /* waiting on us is not idle */
		c->active_since = now;
		conn_deadline_arm(c, now + c->srv->cfg.idle_ms, now);
	} else
		conn_violation(c, MGR_ETIMEDOUT, why);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	c->timer_due = 0;
	if (c->state == CONN_HELLO)
		conn_close(c, "no Hello before the handshake deadline");
	else
		conn_deadline_check(c);
}
