/* One connection = one session: reads frames (length checked before any
 * allocation), runs the handshake state machine, queues replies and writes
 * them in bulk, cuts off clients that do not read, and on close gives back
 * everything the session held. */
#include "conn.h"

#include <errno.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/frame.h"
#include "conn-poll.h"
#include "conn-ring.h"
#include "log.h"
#include "state.h"

#define CONN_BUF_MIN 16384   /* first allocation of either buffer */
#define CONN_BUF_KEEP 262144 /* bigger buffers are freed once empty */
#define CONN_READ_MIN 4096   /* room made before every read */

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
	conn_poll_forget(c);
	conn_ring_free(c->ring);
	c->ring = NULL;
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

/* Room for n more bytes at the end (moving the pending ones to the start
 * first); NULL when out of memory. */
static uint8_t *conn_buf_room(struct conn_buf *b, size_t n)
{
	if (b->off && b->cap - b->len < n) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : CONN_BUF_MIN;
		while (cap - b->len < n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p)
			return NULL;
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

/* Everything consumed: start over, and give back what a big frame grew. */
static void conn_buf_consumed(struct conn_buf *b)
{
	if (b->off < b->len)
		return;
	b->off = b->len = 0;
	if (b->cap > CONN_BUF_KEEP) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

/* ---- output ---- */

static ssize_t conn_send(struct conn *c, const void *p, size_t n)
{
	return c->ring ? conn_ring_send(c->ring, p, n)
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
	conn_buf_consumed(&c->out);
	if (c->state == CONN_CLOSING && !c->pins) /* a worker's reply still to come */
		conn_close(c, "closed after last reply");
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_flush(arg);
}

void conn_close_after_flush(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_CLOSING;
	event_del(c->read_ev);
	if (!c->users)
		conn_flush(c);
}

static void conn_put(struct conn *c, const struct msg *m)
{
	struct frame_out fo;
	uint8_t *dst;
	if (frame_prepare(&fo, m) || !(dst = conn_buf_room(&c->out, fo.size))) {
		conn_close(c, "out of memory encoding a reply");
		return;
	}
	frame_write(&fo, dst);
	c->out.len += fo.size;
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

void conn_reply(struct conn *c, uint64_t id, int code, mgr_value *value, const char *message)
{
	if (c->state == CONN_DEAD) {
		mgr_value_free(value);
		return;
	}
	struct msg m = {.kind = MSG_REPLY};
	m.u.reply = (struct msg_reply){id, (uint32_t)code, value, (char *)message, false};
	m.u.reply.spin = conn_poll_hint(c);
	conn_put(c, &m);
	m.u.reply.message = NULL;
	msg_clear(&m);
}

void conn_reply_borrowed(struct conn *c, uint64_t id, const mgr_value *v)
{
	if (c->state == CONN_DEAD)
		return;
	struct msg m = {.kind = MSG_REPLY};
	m.u.reply = (struct msg_reply){id, 0, (mgr_value *)v, NULL, false};
	m.u.reply.spin = conn_poll_hint(c);
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
	evtimer_del(c->timer_ev);
	c->state = CONN_READY;
	struct msg w = {.kind = MSG_WELCOME};
	w.u.welcome = (struct msg_welcome){.version = MGR_PROTOCOL_VERSION,
		.session = c->session, .pid = (int32_t)getpid(), .limits = c->srv->cfg.frame};
	memcpy(w.u.welcome.instance, c->srv->instance, sizeof(w.u.welcome.instance));
	int memfd = -1;
	struct conn_ring *ring = conn_ring_new(m->u.hello.ring, c->srv->cfg.ring, c->fd, &memfd);
	w.u.welcome.ring = ring ? ring->r.cap : 0;
	conn_put(c, &w);
	if (ring)
		conn_ring_start(c, ring, memfd);
}

static void conn_message(struct conn *c, struct msg *m)
{
	if (c->state == CONN_HELLO && m->kind == MSG_HELLO)
		conn_hello(c, m);
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
	else if (m.kind == MSG_REQUEST && c->state == CONN_READY)
		conn_reply(c, m.u.request.id, rc, NULL, err); /* bad args: just this call */
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
	if (c->state != CONN_DEAD)
		conn_buf_consumed(&c->in);
	conn_flush(c);
}

/* ---- reading ---- */

static ssize_t conn_recv(struct conn *c, void *p, size_t n)
{
	return c->ring ? conn_ring_recv(c->ring, p, n) : read(c->fd, p, n);
}

int conn_read_once(struct conn *c, bool polling)
{
	uint8_t *room = conn_buf_room(&c->in, CONN_READ_MIN);
	if (!room) {
		conn_close(c, "out of memory reading");
		return -1;
	}
	size_t len = c->in.cap - c->in.len;
	ssize_t n = polling && !c->ring ? conn_poll_recv(c, room, len) : conn_recv(c, room, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0) {
		conn_close(c, n == 0 ? "peer closed" : errno == EPROTO ? "broke its ring" : "read failed");
		return -1;
	}
	c->in.len += (size_t)n;
	uint64_t calls = c->calls;
	conn_take_input(c);
	if (c->ring && c->calls != calls && c->state == CONN_READY)
		conn_poll_hot(c);
	return c->calls != calls;
}

/* Reads what is there, answers it, and polls for more a moment. */
static void conn_pull(struct conn *c)
{
	if (conn_read_once(c, false) > 0)
		conn_poll_more(c);
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
		conn_pull(c);
}

/* The client wrote the eventfd: requests came, or room for replies. */
static void conn_ring_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	conn_poll_awake(c);
	if (c->out.len > c->out.off)
		conn_flush(c);
	if (c->state == CONN_READY)
		conn_pull(c);
	conn_poll_sleep_all(c->srv);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->state == CONN_HELLO)
		conn_close(c, "no Hello before the handshake deadline");
}
