/* The client's connection: connect and handshake, what a fork() leaves a
 * child, and the multiplexed round trip (one writer at a time under the
 * lock, one reader at a time handing replies to their waiters). */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/frame.h"
#include "../common/auth.h"
#include "../common/path.h"
#include "../common/spin-judge.h"
#include "../common/spin.h"
#include "../common/value.h"

#define CLIENT_HANDSHAKE_MS 10000
#define CLIENT_MAX_FRAME (256u << 20)

static __thread char client_errbuf[256];
static __thread uint64_t client_tid, client_tid_gen;
static uint64_t client_fork_gen = 1; /* bumped in the child at fork() */
static pthread_once_t client_once = PTHREAD_ONCE_INIT;
/* Every connected client, for the fork handlers. client_list_mu is held
 * only to link, unlink or walk — never while waiting, never with a c->mu
 * wanted — so the prepare handler's wait for it is short. */
static pthread_mutex_t client_list_mu = PTHREAD_MUTEX_INITIALIZER;
static mgr_client *client_list;

bool client_forked(const mgr_client *c) { return c->gen != client_fork_gen; }

void client_forget_fd(int *fd)
{
	int n = *fd;
	__atomic_store_n(fd, -1, __ATOMIC_RELEASE);
	if (n >= 0)
		close(n);
}

static void client_locks_init(mgr_client *c)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* ---- fork() ----
 * A fork may come at any moment, from any thread, while other threads are
 * in calls on any client: holding c->mu (for a few instructions, or for a
 * whole handshake, or while a send waits for room in the ring), reading
 * without it (blocked in recv() or on the ring's futex: the reader), or
 * waiting on c->cv (a call whose reply another thread will read, e.g. a
 * lock acquire parked on the manager for ever). None of those threads
 * exists in the child, so nothing they hold is ever released there; and the
 * prepare handler must not wait for them either (c->mu can be held for as
 * long as the manager takes to make room). So no handler takes a c->mu:
 * - prepare takes client_list_mu (see above), so the list is whole; parent
 *   releases it;
 * - child (the one thread, before the program runs again) bumps the fork
 *   generation and, for each client, re-initialises mu and cv and closes
 *   the fds the parent's connection had — at this instant still the
 *   parent's open files, whose numbers nothing could have reused (the fork
 *   contract in client.h) — forgetting them, the pending calls (other
 *   threads' stacks) and the buffered bytes. Handles stay valid: they are
 *   ids. The child's first call (client_ensure) frees what is left and opens
 *   the child's own connection; mgr_client_session() is 0 until then.
 * Nothing is ever closed by number later: a number the child reuses (a
 * manager's readiness pipe moved onto fd 3, say) is never taken for ours. */

static void client_fork_prepare(void) { pthread_mutex_lock(&client_list_mu); }

static void client_fork_parent(void) { pthread_mutex_unlock(&client_list_mu); }

static void client_fork_forget(mgr_client *c)
{
	client_locks_init(c);
	client_forget_fd(&c->fd);
	client_forget_fd(&c->orphan_fd);
	client_forget_fd(&c->passed_fds[0]);
	client_forget_fd(&c->passed_fds[1]);
	if (c->ring)
		client_forget_fd(&c->ring->efd);
	if (c->orphan_ring)
		client_forget_fd(&c->orphan_ring->efd);
	void *was[] = {c->tls, c->tls_cred, c->orphan_tls, c->orphan_tls_cred};
	memcpy(c->forked_tls, was, sizeof(was)); /* not ours to free: kept */
	c->tls = c->tls_cred = c->orphan_tls = c->orphan_tls_cred = NULL;
	c->reading = false; /* no reader came along */
	c->waiters = 0;     /* nor any waiter */
	c->pending = c->pending_tail = NULL;
	c->rlen = c->wlen = 0;
	c->session = 0;
}

static void client_fork_child(void)
{
	client_fork_gen++;
	for (mgr_client *c = client_list; c; c = c->next_client)
		client_fork_forget(c);
	pthread_mutex_unlock(&client_list_mu);
}

static void client_init_once(void)
{
	pthread_atfork(client_fork_prepare, client_fork_parent, client_fork_child);
}

static void client_list_add(mgr_client *c)
{
	pthread_mutex_lock(&client_list_mu);
	c->next_client = client_list;
	client_list = c;
	pthread_mutex_unlock(&client_list_mu);
}

static void client_list_remove(mgr_client *c)
{
	pthread_mutex_lock(&client_list_mu);
	mgr_client **pp = &client_list;
	while (*pp && *pp != c)
		pp = &(*pp)->next_client;
	if (*pp)
		*pp = c->next_client;
	pthread_mutex_unlock(&client_list_mu);
}

/* Makes *buf (holding *cap bytes, the first keep in use) want bytes long.
 * The new block is named before the old one is freed, and *cap grows after
 * *buf: a fork at any instant finds a live block at least *cap long. */
static int client_grow(uint8_t **buf, size_t *cap, size_t keep, size_t want)
{
	uint8_t *p = malloc(want), *old = *buf;
	if (!p)
		return client_fail(MGR_ENOMEM, "out of memory");
	if (keep)
		memcpy(p, old, keep);
	__atomic_store_n(buf, p, __ATOMIC_RELEASE);
	__atomic_store_n(cap, want, __ATOMIC_RELEASE);
	free(old);
	return 0;
}

/* ---- errors ---- */

void client_set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(client_errbuf, sizeof(client_errbuf), fmt, ap);
	va_end(ap);
}

void client_clear_error(void) { client_errbuf[0] = '\0'; }

int client_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(client_errbuf, sizeof(client_errbuf), fmt, ap);
	va_end(ap);
	return err;
}

const char *mgr_client_errmsg(const mgr_client *c)
{
	(void)c;
	return client_errbuf;
}

/* ---- time ---- */

/* Milliseconds left before deadline (-1: none) for poll(). */
static int client_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - clock_now_ms();
	return left > 0 ? (int)(left > INT32_MAX ? INT32_MAX : left) : 0;
}

static uint64_t client_thread_id(void)
{
	if (client_tid_gen != client_fork_gen) {
		client_tid = (uint64_t)syscall(SYS_gettid);
		client_tid_gen = client_fork_gen;
	}
	return client_tid;
}

/* ---- raw I/O ---- */

static int client_send(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return client_fail(MGR_EIO, "send to the manager failed: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Room for n more bytes in the write buffer. */
static int client_wroom(mgr_client *c, size_t n)
{
	if (c->wcap - c->wlen < n) {
		size_t cap = c->wcap ? c->wcap : 4096;
		while (cap - c->wlen < n)
			cap *= 2;
		if (client_grow(&c->wbuf, &c->wcap, c->wlen, cap))
			return MGR_ENOMEM;
	}
	return 0;
}

/* Appends one prepared frame to the write buffer. */
static int client_queue_frame(mgr_client *c, const struct frame_out *fo)
{
	if (client_wroom(c, fo->size))
		return MGR_ENOMEM;
	frame_write(fo, c->wbuf + c->wlen);
	c->wlen += fo->size;
	return 0;
}

static int client_queue_msg(mgr_client *c, const struct msg *m)
{
	struct frame_out fo;
	int err = frame_prepare(&fo, m);
	if (err)
		return client_fail(err, "cannot encode the request: %s", mgr_strerror(err));
	return client_queue_frame(c, &fo);
}

int client_flush(mgr_client *c)
{
	if (!c->wlen || c->fd < 0)
		return c->wlen && c->fd < 0 ? client_fail(MGR_EIO, "not connected") : 0;
	int err = c->ring ? client_ring_send(c, c->wbuf, c->wlen)
		: c->tls ? (client_tls_send(c->tls, c->wbuf, c->wlen)
			    ? client_fail(MGR_EIO, "send to the manager failed (TLS)") : 0)
		: client_send(c->fd, c->wbuf, c->wlen);
	c->wlen = 0;
	return err;
}

/* ---- spinning (common/spin.h) ----
 * Before blocking for a reply, the reader polls the socket, with a budget
 * per thread — only while the manager's last reply said it polls too. */

static __thread struct spin client_spin = SPIN_INIT_JUDGED; /* client_judge decides */
static __thread uint64_t client_cpus_gen; /* fork generation client_cpus is for */
static __thread int client_cpus;

static int client_cpu_count(void)
{
	if (client_cpus_gen != client_fork_gen) {
		client_cpus = spin_cpus();
		client_cpus_gen = client_fork_gen;
	}
	return client_cpus;
}

static void client_spin_rearm(void) { spin_rearm(&client_spin); }

struct spin *client_spin_state(void) { return &client_spin; }

/* Whether this thread's waits poll at all, judged by payoff
 * (common/spin-judge.h): the checks of spin.h decide each poll within it. */
static __thread struct spin_judge client_judge = SPIN_JUDGE_INIT;

bool client_spin_judged(void) { return spin_judge_polls(&client_judge); }

/* MGR_NO_SPIN=1 in the environment: never busy-poll for a reply. */
static bool client_no_spin(void)
{
	static int no_spin = -1; /* read once */
	int v = __atomic_load_n(&no_spin, __ATOMIC_RELAXED);
	if (v < 0) {
		const char *e = getenv("MGR_NO_SPIN");
		v = e && *e && strcmp(e, "0") != 0;
		__atomic_store_n(&no_spin, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* Whether this client may poll its socket for replies at all (the Hello's
 * polls): a peer on this host, on more than one CPU. */
static bool client_may_poll_socket(const mgr_client *c)
{
	return c->local && !client_no_spin() && client_cpu_count() >= 2;
}

/* Whether to poll a moment before sleeping: only while the manager polls
 * too (its last reply said so: for a ring, or for a socket whose Hello
 * said polls, design.md "Loopback TCP"), on more than one CPU. */
static bool client_spin_now(const mgr_client *c)
{
	if (client_no_spin() || client_cpu_count() < 2)
		return false;
	/* every wait counts for the judge, whatever the manager said: while
	 * it judges sleeping we publish no CPU, so the manager stops polling
	 * for us, and its trials of polling must be able to start again */
	bool judged = spin_judge_wait(&client_judge);
	return judged && c->peer_spins && spin_turn(&client_spin);
}

/* A waiting thread's scheduler slice, asked for at its first wait when
 * MGR_SLICE_US says so (spin.h: opt-in); MGR_NO_SPIN=1 leaves it alone. */
static void client_slice_once(void)
{
	static __thread bool asked;
	if (!asked) {
		asked = true;
		spin_slice_set(spin_slice_want(getenv("MGR_SLICE_US"), client_no_spin()));
	}
}

/* Reads from the socket, waiting until deadline. */
static ssize_t client_sock_recv(mgr_client *c, int fd, int64_t deadline, bool spin)
{
	void *buf = c->rbuf + c->rlen;
	size_t len = c->rcap - c->rlen;
	ssize_t n = -1;
	errno = EAGAIN;
	void *tls = c->fd == fd ? c->tls : c->orphan_tls; /* the reader's, even orphaned */
	if (tls)
		return client_tls_recv(c, tls, fd, buf, len, client_left(deadline),
				       spin ? &client_spin : NULL);
	if (spin)
		n = spin_recv(&client_spin, fd, buf, len);
	if (n < 0 && errno == EAGAIN) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int rc = 1;
		while (deadline >= 0 && (rc = poll(&pfd, 1, client_left(deadline))) < 0 &&
		       errno == EINTR)
			;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		/* without a deadline: a blocking recv, no poll before it; while
		 * handshaking, the Welcome may bring the ring's fds */
		n = c->session ? recv(fd, buf, len, 0) : client_recv_fds(c, buf, len);
	}
	return n;
}

/* Reads more bytes into rbuf (from fd, or cr if not NULL), waiting until
 * deadline. Only the reader. */
static int client_recv(mgr_client *c, int fd, struct client_ring *cr, int64_t deadline)
{
	if (c->rcap - c->rlen < 65536 &&
	    client_grow(&c->rbuf, &c->rcap, c->rlen, c->rcap ? c->rcap * 2 : 131072))
		return MGR_ENOMEM;
	client_slice_once();
	bool spin = client_spin_now(c);
	if (cr)
		return client_ring_recv(c, cr, fd, deadline, spin);
	ssize_t n = client_sock_recv(c, fd, deadline, spin);
	if (n < 0 && errno == ETIMEDOUT)
		return client_fail(MGR_ETIMEDOUT, "no answer from the manager in time");
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return client_fail(MGR_EIO, "connection to the manager lost%s%s",
				   n ? ": " : "", n ? strerror(errno) : "");
	c->rlen += (size_t)n;
	return 0;
}

/* Takes the whole frame at rbuf + *at (if there is one) into *m and moves
 * *at past it: 1 if one was there, 0 if not. The bytes stay in rbuf until
 * client_drop_frames: a pipeline's replies arrive many to a read, and are
 * moved once, not once per frame. */
static int client_take_frame(mgr_client *c, size_t *at, struct msg *m, int *err)
{
	*err = 0;
	size_t have = c->rlen - *at;
	if (have < FRAME_HEADER)
		return 0;
	const uint8_t *p = c->rbuf + *at;
	uint32_t len = frame_get_len(p);
	if (len > CLIENT_MAX_FRAME) {
		*err = client_fail(MGR_EPROTO, "manager sent a frame of %u bytes", len);
		return 0;
	}
	if (have < FRAME_HEADER + (size_t)len) {
		if (c->rcap < FRAME_HEADER + (size_t)len) /* its room once dropped down to 0 */
			*err = client_grow(&c->rbuf, &c->rcap, c->rlen, FRAME_HEADER + (size_t)len + 65536);
		return 0;
	}
	struct frame_limits lim = {CLIENT_MAX_FRAME, c->limits.max_depth + 8, UINT32_MAX, 0};
	char why[160];
	/* an int or bool result: made a value only if wanted (client_result) */
	int rc = frame_decode_scalars(p + FRAME_HEADER, len, &lim, m, why, sizeof(why));
	*at += FRAME_HEADER + len;
	if (rc)
		*err = client_fail(MGR_EPROTO, "bad frame from the manager: %s", why);
	return rc ? 0 : 1;
}

/* The first n bytes of rbuf taken (client_take_frame's *at); the rest moved
 * to the front, where client_recv appends. A disconnect meanwhile emptied
 * rbuf already (rlen 0). */
static void client_drop_frames(mgr_client *c, size_t n)
{
	if (n >= c->rlen) {
		c->rlen = 0;
		return;
	}
	c->rlen -= n;
	if (n)
		memmove(c->rbuf, c->rbuf + n, c->rlen);
}

/* ---- calls waiting for replies (c->pending, with the lock) ---- */

static void client_link(mgr_client *c, struct pending *p)
{
	p->next = NULL;
	p->prev = c->pending_tail;
	if (p->prev)
		p->prev->next = p;
	else
		c->pending = p;
	c->pending_tail = p;
}

/* Out of the list; prev and next NULL, so client_forget can tell. */
static void client_unlink(mgr_client *c, struct pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		c->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		c->pending_tail = p->prev;
	p->prev = p->next = NULL;
}

/* The last store to p by anyone but its waiter (client.h). */
static void client_set_done(struct pending *p)
{
	__atomic_store_n(&p->done, true, __ATOMIC_RELEASE);
}

void client_forget(mgr_client *c, struct pending *p)
{
	/* a parent's call, in a forked child: never in this list */
	if (!p->done && p->gen == client_fork_gen && (p->prev || c->pending == p))
		client_unlink(c, p);
}

/* ---- connection state ---- */

static void client_fail_all(mgr_client *c, int err)
{
	for (struct pending *p; (p = c->pending);) {
		client_unlink(c, p);
		p->err = err;
		client_set_done(p);
	}
}

/* With a reader in the fd (or ring) outside the lock, the fd is shut down
 * but not closed (its number must not be reused under the reader) and the
 * ring not unmapped: the reader closes and frees them when it comes back. */
static void client_disconnect(mgr_client *c, int err)
{
	bool busy = c->reading;
	client_ring_close(c);
	if (c->fd >= 0 && busy) {
		shutdown(c->fd, SHUT_RDWR); /* wakes the reader */
		c->orphan_fd = c->fd;
		c->fd = -1;
		c->orphan_tls = c->tls; /* the reader's to free with orphan_fd */
		c->orphan_tls_cred = c->tls_cred;
		c->tls = c->tls_cred = NULL;
	}
	client_tls_free(c->tls, c->tls_cred);
	c->tls = c->tls_cred = NULL;
	client_forget_fd(&c->fd);
	if (!busy)
		c->rlen = 0; /* else the reader's to reset */
	c->wlen = 0;
	client_fail_all(c, err);
}

static int client_handshake_reply(mgr_client *c, struct msg *m)
{
	if (m->kind == MSG_WELCOME) {
		c->session = m->u.welcome.session;
		memcpy(c->instance, m->u.welcome.instance, sizeof(c->instance));
		c->limits = m->u.welcome.limits;
		if (m->u.welcome.ring)
			return client_ring_open(c, m->u.welcome.ring);
		client_ring_close(c); /* fds nobody asked for */
		return 0;
	}
	if (m->kind == MSG_REPLY && m->u.reply.code)
		return client_fail((int)m->u.reply.code, "manager refused: %s",
				   m->u.reply.message ? m->u.reply.message : "");
	return client_fail(MGR_EPROTO, "manager did not answer Hello with Welcome");
}

/* The ring size to ask for: MGR_RING_SIZE bytes (0: none, the socket
 * only), else the default. */
static uint32_t client_ring_wanted(void)
{
	const char *e = getenv("MGR_RING_SIZE");
	if (!e || !*e)
		return RING_DEFAULT;
	unsigned long v = strtoul(e, NULL, 0);
	return v > RING_MAX ? RING_MAX : (uint32_t)v;
}

/* A manager that refuses us (not admitted, full) sends its reason and
 * closes at once, maybe before our Hello arrives: then the send fails
 * (EPIPE) but the reason is still there to read, and it is the answer. */
static int client_handshake(mgr_client *c, uint32_t ring)
{
	struct msg hello = {.kind = MSG_HELLO};
	hello.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, (int32_t)getpid(), c->name, ring,
					   client_may_poll_socket(c)};
	int err = client_queue_msg(c, &hello);
	if (err)
		return err;
	int sent = client_flush(c);
	int64_t deadline = clock_now_ms() + CLIENT_HANDSHAKE_MS;
	c->limits.max_depth = 64;
	struct msg m = {0};
	size_t at = 0;
	while (!err && !client_take_frame(c, &at, &m, &err) && !err)
		err = client_recv(c, c->fd, NULL, deadline);
	client_drop_frames(c, at);
	if (!err)
		err = client_handshake_reply(c, &m);
	else if (sent)
		err = client_fail(sent, "send to the manager at %s failed: it closed the connection",
				  c->path);
	msg_clear(&m);
	return err;
}

/* ---- trusting the manager (docs/security.md) ----
 * Before anything is sent: the socket's directory must be ours or root's
 * (or the accepted server uid's) and writable by nobody else (or, in a
 * sticky shared directory, the socket itself owned so); and the process
 * listening must run as us, root or the accepted uid. Else MGR_EPERM. */

/* Disconnects, keeping the thread's error message as it is. */
static void client_keep_error_disconnect(mgr_client *c)
{
	char keep[sizeof(client_errbuf)];
	memcpy(keep, client_errbuf, sizeof(keep));
	client_disconnect(c, MGR_EIO);
	memcpy(client_errbuf, keep, sizeof(keep));
}

static int client_check_path(const mgr_client *c)
{
	struct path_trust t = {geteuid(), c->server_uid};
	char why[sizeof(client_errbuf) - 64];
	if (path_check_socket(c->path, &t, why, sizeof(why)) == PATH_REFUSED)
		return client_fail(MGR_EPERM, "%s", why);
	return 0;
}

static int client_check_peer(const mgr_client *c)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct path_trust t = {geteuid(), c->server_uid};
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return client_fail(MGR_EPERM, "refusing the manager at %s: its uid is unknown: %s",
				   c->path, strerror(errno));
	if (path_trusted(&t, cr.uid))
		return 0;
	return client_fail(MGR_EPERM, "refusing the manager at %s: it runs as uid %u "
			   "(set MGR_SERVER_UID to accept it)", c->path, (unsigned)cr.uid);
}

/* A TCP manager: the key handshake (and TLS) instead of the path and
 * peer checks (client-tcp.c); then the Hello as over a socket, no ring. */
static int client_open_tcp(mgr_client *c)
{
	int err = client_tcp_open(c);
	if (!err) {
		c->rlen = 0;
		c->session = 0;
		c->peer_spins = false;
		err = client_handshake(c, 0);
	}
	if (err)
		client_keep_error_disconnect(c);
	return err;
}

static int client_open_once(mgr_client *c, uint32_t ring)
{
	if (auth_is_tcp(c->path))
		return client_open_tcp(c);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	int err = client_check_path(c);
	if (err)
		return err;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return client_fail(MGR_ECONNECT, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;
		client_disconnect(c, MGR_EIO);
		if (e == EACCES || e == EPERM) /* it may well run: we may not connect */
			return client_fail(MGR_ECONNECT, "cannot connect to the manager at %s: %s: "
					   "the socket or its directory does not let uid %u in (ask "
					   "its owner, or use a socket of yours: MGR_SOCKET)",
					   c->path, strerror(e), (unsigned)geteuid());
		return client_fail(MGR_ECONNECT, "no manager at %s: %s — is mgrd running? set MGR_SOCKET",
				   c->path, strerror(e));
	}
	if ((err = client_check_peer(c))) {
		client_keep_error_disconnect(c);
		return err;
	}
	c->rlen = 0;
	c->session = 0; /* handshaking: read with recvmsg, for the ring's fds */
	c->peer_spins = false;
	c->local = true;
	err = client_handshake(c, ring);
	if (err)
		client_keep_error_disconnect(c);
	return err;
}

/* A ring we could not take (out of fds: the kernel drops fds passed to a
 * process at its limit) is no reason not to talk: again, over the socket. */
static int client_open(mgr_client *c)
{
	uint32_t ring = client_ring_wanted();
	c->ring_refused = false;
	int err = client_open_once(c, ring);
	if (err && ring && c->ring_refused)
		err = client_open_once(c, 0);
	return err;
}

/* The ring a reader was left with, freed (not unmapped in a forked child:
 * not mapped here). */
static void client_drop_orphan_ring(mgr_client *c)
{
	struct client_ring *cr = c->orphan_ring;
	c->orphan_ring = NULL;
	if (cr)
		client_ring_free(cr, !client_forked(c));
}

/* Waits on c->cv (lock held) until the broadcast or deadline (ms on
 * CLOCK_MONOTONIC, <0: none); counted, so that a reader with no one
 * waiting skips the broadcast. */
static int client_cv_wait(mgr_client *c, int64_t deadline)
{
	int rc;
	c->waiters++;
	if (deadline < 0) {
		rc = pthread_cond_wait(&c->cv, &c->mu);
	} else {
		struct timespec ts = {deadline / 1000, (deadline % 1000) * 1000000};
		rc = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	c->waiters--;
	return rc;
}

/* The reader is done (replies delivered, or the connection gone). */
static void client_cv_wake(mgr_client *c)
{
	if (c->waiters)
		pthread_cond_broadcast(&c->cv);
}

/* Connected, in this process. In a forked child, the first call frees what
 * the fork handler left of the parent's connection (its fds are closed
 * already) and opens the child's own. */
static int client_ensure(mgr_client *c)
{
	if (c->fd >= 0 && c->gen == client_fork_gen)
		return 0;
	if (client_forked(c)) {
		client_ring_close(c);
		client_drop_orphan_ring(c);
		c->gen = client_fork_gen;
	}
	while (c->reading) /* the last reader still has rbuf */
		(void)client_cv_wait(c, -1);
	if (c->fd >= 0)
		return 0;
	return client_open(c);
}

/* ---- replies ---- */

static void client_deliver(mgr_client *c, struct msg *m)
{
	if (m->kind != MSG_REPLY)
		return;
	if (m->u.reply.id == 0) { /* the manager is dropping this connection */
		client_set_error("manager closed the connection: %s",
				 m->u.reply.message ? m->u.reply.message : "");
		client_disconnect(c, m->u.reply.code ? (int)m->u.reply.code : MGR_EIO);
		return;
	}
	if (m->u.reply.spin && !c->peer_spins)
		client_spin_rearm(); /* the manager polls again: get in step */
	c->peer_spins = m->u.reply.spin;
	for (struct pending *p = c->pending; p; p = p->next) /* in order: the head */
		if (p->id == m->u.reply.id) {
			client_unlink(c, p);
			p->reply.kind = MSG_REPLY; /* moved: m owns nothing now */
			p->reply.u.reply = m->u.reply;
			p->reply.scalar_kind = m->scalar_kind;
			p->reply.scalar = m->scalar;
			m->kind = MSG_NONE;
			client_set_done(p);
			return;
		}
	/* a late reply to a call that timed out on our side: dropped */
}

/* One turn as the reader: read, then deliver every whole frame. Called and
 * returns with the lock held. */
static int client_read_turn(mgr_client *c, int64_t deadline)
{
	int fd = c->fd, err = 0;
	struct client_ring *cr = c->ring;
	c->reading = true;
	pthread_mutex_unlock(&c->mu);
	err = client_recv(c, fd, cr, deadline);
	pthread_mutex_lock(&c->mu);
	c->reading = false;
	if (c->fd != fd || (cr && cr->orphan)) { /* disconnected meanwhile: calls failed */
		if (cr && cr->orphan)
			client_drop_orphan_ring(c); /* cr: ours to free */
		if (c->orphan_fd == fd) {
			client_forget_fd(&c->orphan_fd);
			client_tls_free(c->orphan_tls, c->orphan_tls_cred);
			c->orphan_tls = c->orphan_tls_cred = NULL;
		}
		c->rlen = 0;
		client_cv_wake(c);
		return 0;
	}
	struct msg m;
	size_t at = 0;
	while (!err && c->fd == fd && c->rlen - at >= FRAME_HEADER && /* no call for none */
	       client_take_frame(c, &at, &m, &err)) {
		client_deliver(c, &m);
		if (m.kind != MSG_NONE) /* not delivered */
			msg_clear(&m);
	}
	client_drop_frames(c, at);
	if (err && err != MGR_ETIMEDOUT)
		client_disconnect(c, err);
	client_cv_wake(c);
	return err;
}


static void client_wait(mgr_client *c, struct pending *p, int64_t deadline)
{
	if (p->gen != client_fork_gen && !p->done) {
		p->err = MGR_EIO; /* sent by the parent before fork(): never ours */
		client_set_done(p);
	}
	if (!p->done && client_flush(c))
		client_disconnect(c, MGR_EIO);
	while (!p->done) {
		if (c->fd < 0) {
			p->err = MGR_EIO;
			break;
		}
		int err = c->reading ? (client_cv_wait(c, deadline) ? MGR_ETIMEDOUT : 0)
				     : client_read_turn(c, deadline);
		if (err == MGR_ETIMEDOUT && !p->done && client_left(deadline) == 0) {
			p->err = MGR_ETIMEDOUT;
			break;
		}
	}
}

/* The result a reply holds, as a value the caller owns (NULL: out of
 * memory): its own, or one made of its scalar (frame_decode_scalars), or nil. */
static mgr_value *client_reply_value(const struct msg *m)
{
	return m->u.reply.value ? m->u.reply.value : value_scalar(m->scalar_kind, m->scalar);
}

static int client_result(struct pending *p, mgr_value **result)
{
	struct msg_reply *y = &p->reply.u.reply;
	if (p->err)
		return p->err == MGR_ETIMEDOUT
			? client_fail(MGR_ETIMEDOUT, "no answer from the manager in time")
			: client_fail(p->err, "%s", client_errbuf[0] ? client_errbuf : mgr_strerror(p->err));
	if (y->code)
		return client_fail((int)y->code, "%s", y->message ? y->message : mgr_strerror((int)y->code));
	if (result) {
		*result = client_reply_value(&p->reply);
		y->value = NULL;
		if (!*result)
			return client_fail(MGR_ENOMEM, "out of memory");
	}
	return 0;
}

static int64_t client_deadline(const mgr_client *c, uint32_t timeout_ms)
{
	if (c->timeout_ms == 0)
		return -1;
	return clock_now_ms() + c->timeout_ms + timeout_ms;
}

/* Encodes req into the write buffer (the usual one in one pass, within
 * the Welcome's limits by construction); takes its id. Else it is checked
 * against the limits as it will be written, and sized once: over a limit,
 * MGR_ELIMIT (the call fails, the session stays, the id is not taken). */
static int client_queue_request(mgr_client *c, const struct msg_request *req)
{
	size_t bound = frame_request_tight_bound(req, &c->limits), n = 0;
	if (bound && client_wroom(c, bound))
		return client_fail(MGR_ENOMEM, "out of memory");
	if (bound && (n = frame_request_tight_write(req, c->wbuf + c->wlen))) {
		c->wlen += n;
		c->next_id++;
		return 0;
	}
	struct msg m; /* the request alone: the rest of the union is not read */
	struct frame_out fo;
	char why[256];
	m.kind = MSG_REQUEST;
	m.u.request = *req;
	int err = frame_request_prepare(&fo, &m, &c->limits, NULL, why, sizeof(why));
	if (err == MGR_ELIMIT)
		return client_fail(err, "%s", why);
	c->next_id++;
	return err ? client_fail(err, "cannot encode the request: %s", mgr_strerror(err))
		   : client_queue_frame(c, &fo);
}

int client_submit(mgr_client *c, const mgr_object *o, struct msg_request *req,
		  struct pending *p)
{
	int err = c->fd >= 0 && !client_forked(c) ? 0 : client_ensure(c); /* its test, inline */
	if (!err && o->id && memcmp(o->instance, c->instance, sizeof(c->instance)))
		err = client_fail(MGR_ENOOBJ, "object #%llu belongs to a manager that has ended",
				  (unsigned long long)o->id);
	if (err)
		return err;
	req->object = o->id;
	req->thread = client_thread_id();
	req->id = c->next_id + 1;
	err = client_queue_request(c, req);
	if (err == MGR_ELIMIT)
		return err;
	if (!err && c->wlen >= 65536)
		err = client_flush(c);
	if (err) {
		client_disconnect(c, err);
		return err;
	}
	p->id = req->id;
	p->gen = client_fork_gen;
	p->done = false;
	p->err = 0;
	p->reply.kind = MSG_NONE;
	client_link(c, p);
	return 0;
}

int client_finish(mgr_client *c, struct pending *p, uint32_t timeout_ms, mgr_value **result)
{
	client_wait(c, p, client_deadline(c, timeout_ms));
	client_forget(c, p); /* gave up (timeout): it waits no more */
	return client_take(p, result);
}

void client_spend(struct pending *p)
{
	if (p->reply.kind != MSG_NONE)
		msg_reply_free(&p->reply.u.reply);
}

int client_take(struct pending *p, mgr_value **result)
{
	int err = client_result(p, result);
	client_spend(p);
	return err;
}

int client_poll_once(mgr_client *c)
{
	if (c->fd < 0 || c->reading)
		return 0;
	int err = client_flush(c);
	struct pollfd pfd = {c->fd, POLLIN, 0};
	if (!err && c->ring && !client_ring_alive(c->fd)) {
		client_disconnect(c, MGR_EIO);
		err = client_fail(MGR_EIO, "connection to the manager lost");
	} else if (!err && (c->ring || client_tls_pending(c) || poll(&pfd, 1, 0) == 1)) {
		do /* TLS: records read ahead together make the fd readable once */
			err = client_read_turn(c, clock_now_ms());
		while (!err && client_tls_pending(c));
	}
	return err == MGR_ETIMEDOUT ? 0 : err;
}

/* ---- public: clients ---- */

static void client_free(mgr_client *c)
{
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->manager.type);
	free(c->rbuf);
	free(c->wbuf);
	client_tcp_key_free(c);
	free(c);
}

static int client_new(const char *path, uid_t server_uid, mgr_client **out)
{
	mgr_client *c = calloc(1, sizeof(*c));
	if (!c)
		return client_fail(MGR_ENOMEM, "out of memory");
	client_locks_init(c);
	c->fd = -1;
	c->server_uid = server_uid;
	c->passed_fds[0] = c->passed_fds[1] = c->orphan_fd = -1;
	c->manager = (mgr_object){.client = c, .id = 0, .type = strdup("manager")};
	snprintf(c->path, sizeof(c->path), "%s", path);
	FILE *f = fopen("/proc/self/comm", "re");
	if (!f || !fgets(c->name, sizeof(c->name), f))
		snprintf(c->name, sizeof(c->name), "libmgr");
	c->name[strcspn(c->name, "\n")] = '\0';
	if (f)
		fclose(f);
	*out = c;
	return c->manager.type ? 0 : MGR_ENOMEM;
}

/* A user name or a uid; NULL or empty: none ((uid_t)-1). */
static int client_server_uid(const char *user, uid_t *uid)
{
	*uid = (uid_t)-1;
	if (!user || !*user)
		return 0;
	char *end, buf[4096];
	unsigned long v = strtoul(user, &end, 10);
	if (!*end && v < (uid_t)-1) {
		*uid = (uid_t)v;
		return 0;
	}
	struct passwd pw, *found = NULL;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) || !found)
		return client_fail(MGR_EINVAL, "server user '%s' (MGR_SERVER_UID): no such user", user);
	*uid = found->pw_uid;
	return 0;
}

int mgr_client_connect(const char *path, mgr_client **out)
{
	return mgr_client_connect_opts(&(mgr_client_opts){.address = path}, out);
}

int mgr_client_connect_opts(const mgr_client_opts *opts, mgr_client **out)
{
	char def[108];
	pthread_once(&client_once, client_init_once);
	if (!out || !opts)
		return client_fail(MGR_EINVAL, "%s is NULL", out ? "opts" : "out");
	const char *path = opts->address;
	uid_t server_uid;
	int err = client_server_uid(opts->server_user ? opts->server_user
						      : getenv("MGR_SERVER_UID"), &server_uid);
	if (err)
		return err;
	if (!path || !*path)
		path = getenv("MGR_SOCKET");
	if ((!path || !*path) && path_default_socket(def, sizeof(def)) == 0)
		path = def;
	if (!path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return client_fail(MGR_EINVAL, "socket path missing or too long");
	mgr_client *c = NULL;
	err = client_new(path, server_uid, &c);
	if (!err && opts->auth_key)
		err = client_tcp_key_keep(c, opts->auth_key, opts->auth_key_len);
	if (!err) {
		pthread_mutex_lock(&c->mu);
		err = client_ensure(c);
		memcpy(c->manager.instance, c->instance, sizeof(c->instance));
		pthread_mutex_unlock(&c->mu);
	}
	if (err) {
		if (c)
			client_free(c);
		return err;
	}
	client_list_add(c);
	*out = c;
	return 0;
}

/* Off the list first: a fork from now on leaves c's fds alone (the child
 * keeps copies until it exits or execs; they are CLOEXEC). */
void mgr_client_close(mgr_client *c)
{
	if (!c)
		return;
	client_list_remove(c);
	c->reading = false; /* nobody may be in a call on c now */
	client_ring_close(c);
	client_drop_orphan_ring(c);
	client_forget_fd(&c->fd);
	client_forget_fd(&c->orphan_fd);
	if (!client_forked(c)) { /* a child never frees the parent's TLS (client.h) */
		client_tls_free(c->tls, c->tls_cred);
		client_tls_free(c->orphan_tls, c->orphan_tls_cred);
	}
	client_free(c);
}

void mgr_client_set_timeout(mgr_client *c, uint32_t ms)
{
	pthread_mutex_lock(&c->mu);
	c->timeout_ms = ms;
	pthread_mutex_unlock(&c->mu);
}

uint64_t mgr_client_session(mgr_client *c)
{
	pthread_mutex_lock(&c->mu);
	uint64_t s = c->fd >= 0 && c->gen == client_fork_gen ? c->session : 0;
	pthread_mutex_unlock(&c->mu);
	return s;
}

const char *mgr_client_path(const mgr_client *c) { return c->path; }

mgr_object *mgr_client_manager(mgr_client *c) { return &c->manager; }
