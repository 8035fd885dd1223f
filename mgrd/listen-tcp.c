/* TCP listeners and their handshakes (see listen-tcp.h).
 *
 * Ownership of a connection being admitted (struct tcp_pending): the loop
 * keeps the accepted fd (fd) until the handshake thread reports, so the
 * deadline timer's shutdown() never hits a reused number; the thread works
 * on its own dup (tfd), and hands tfd back as the session's fd (with TLS,
 * the session's TLS state with it: the loop owns both from the report on,
 * tls.h), or closes it. */
#include "listen-tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/tcp.h"
#include "mgr/error.h"
#include "admit.h"
#include "auth.h"
#include "conn-batch.h"
#include "conn.h"
#include "log.h"
#include "state.h"
#include "tls.h"

#define TCP_THREAD_STACK (256 * 1024)
#define TCP_FINI_WAIT_MS 3000

struct tcp_listener {
	int fd;
	struct event *ev;
	char name[80]; /* tcp:ADDR:PORT as bound */
};

struct tcp_pending {
	struct tcp_pending *next, *prev; /* tcp's handshakes in progress */
	struct tcp_pending *done_next;   /* tcp's reported ones (under mu) */
	struct tcp *t;
	int fd, tfd; /* the loop's and the thread's (see the top) */
	uint8_t addr[16];
	char text[64];
	struct event *timer;
	bool expired; /* the deadline shut it down (loop thread) */
	/* the thread's report */
	int key;     /* the key's index, or AUTH_WRONG / AUTH_GONE (auth.h) */
	int conn_fd; /* the session's fd; -1: none */
	void *tls;   /* its TLS session (tls.h); NULL: plain TCP */
};

struct tcp {
	struct server *srv;
	struct tcp_listener l[CONFIG_MAX_LISTEN];
	size_t n;
	struct auth_keys keys;
	struct auth_fails fails;
	struct tls_server *tls;
	struct tcp_pending *pending;
	unsigned n_pending;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tcp_pending *done; /* reported, for the loop (mu) */
	unsigned threads;         /* handshakes running (mu) */
	int efd;                  /* rung when done gets one */
	struct event *done_ev;
	uint64_t refused_full, refused_waiting;
	bool closing; /* tcp_fini: reported handshakes are not admitted */
};

/* ---- socket options ---- */

/* Liveness: keepalive probes after timeout/3 of silence, and data or probes
 * unanswered for timeout end the connection (TCP_USER_TIMEOUT). */
static void tcp_sockopts(int fd, uint32_t timeout_ms)
{
	int idle = (int)(timeout_ms / 3000), intvl = (int)(timeout_ms / 6000);
	tcp_set_liveness(fd, idle < 1 ? 1 : idle, intvl < 1 ? 1 : intvl, timeout_ms);
}

static void tcp_addr_text(const struct sockaddr *sa, char *buf, size_t n, bool port)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned p = 0;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
		p = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		snprintf(buf, n, port ? "%s:%u" : "%s", host, p);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
		p = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		snprintf(buf, n, port ? "[%s]:%u" : "%s", host, p);
	}
}

/* ---- the handshake thread ---- */

static void tcp_report(struct tcp_pending *p)
{
	struct tcp *t = p->t;
	pthread_mutex_lock(&t->mu);
	p->done_next = t->done;
	t->done = p;
	uint64_t one = 1;
	(void)!write(t->efd, &one, sizeof(one));
	pthread_mutex_unlock(&t->mu);
}

static void tcp_thread_exit(struct tcp *t)
{
	pthread_mutex_lock(&t->mu);
	t->threads--;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

/* The key handshake (over TLS when the listener has it); the report hands
 * the loop tfd, and the TLS session over it. */
static void *tcp_handshake_thread(void *arg)
{
	struct tcp_pending *p = arg;
	struct tcp *t = p->t;
	void *s = t->tls ? tls_accept(t->tls, p->tfd) : NULL;
	p->key = !t->tls || s ? auth_handshake(p->tfd, s, &t->keys) : AUTH_GONE;
	if (p->key >= 0) {
		p->conn_fd = p->tfd;
		p->tls = s;
	} else {
		tls_end(s);
		close(p->tfd);
	}
	tcp_report(p);
	tcp_thread_exit(t);
	return NULL;
}

/* ---- the loop's side ---- */

static void tcp_pending_unlink(struct tcp_pending *p)
{
	struct tcp *t = p->t;
	*(p->prev ? &p->prev->next : &t->pending) = p->next;
	if (p->next)
		p->next->prev = p->prev;
	t->n_pending--;
	if (p->timer)
		event_free(p->timer);
	close(p->fd);
}

/* An admitted key: a session, as the key's uid, if the limits allow. */
static void tcp_admit(struct tcp *t, struct tcp_pending *p)
{
	struct server *srv = t->srv;
	uid_t uid = t->keys.uid[p->key];
	const char *why = admit_check_limits(srv, uid);
	if (why || srv->stopping || t->closing) {
		log_msg(LOG_WARN, "refused %s (key %s, uid %u): %s", p->text, t->keys.name[p->key],
			(unsigned)uid, why ? why : "stopping");
		why = why ? why : "manager stopping";
		if (p->tls)
			tls_refuse(p->tls, p->conn_fd, MGR_ELIMIT, why);
		else
			admit_refuse(p->conn_fd, MGR_ELIMIT, why);
		return;
	}
	int fl = fcntl(p->conn_fd, F_GETFL); /* the socket options were set at accept */
	fcntl(p->conn_fd, F_SETFL, fl | O_NONBLOCK);
	struct conn *c = conn_new(srv, p->conn_fd, 0, uid, t->keys.gid[p->key]);
	if (!c) {
		tls_end(p->tls);
		return;
	}
	c->tls = p->tls;
	snprintf(c->addr, sizeof(c->addr), "tcp:%s", p->text);
	if (c->tls && tls_pending(c->tls)) /* read ahead with the key handshake's bytes */
		event_active(c->read_ev, EV_READ, 0);
	c->remote = true;
	srv->stats.conns_total++;
	log_msg(LOG_INFO, "session %llu: %s%s, key %s, acting as uid %u",
		(unsigned long long)c->session, p->text, t->tls ? " over TLS" : "",
		t->keys.name[p->key], (unsigned)uid);
}

/* A reported handshake: a session, or a failure that makes the address
 * wait (a wrong answer, or silence until the deadline: a guess, or a
 * handshake slot held). A peer that went away before answering guessed
 * nothing: a worker killed while it connected (Ctrl-C on its process group)
 * must not lock its host's other workers out. */
static void tcp_outcome(struct tcp *t, struct tcp_pending *p)
{
	if (p->key >= 0)
		tcp_admit(t, p);
	else if (p->key == AUTH_WRONG || p->expired)
		auth_fail_note(&t->fails, p->addr, p->text, p->key == AUTH_WRONG ?
			       "it answered with no key of ours" :
			       "no answer before --handshake-timeout", clock_now_ms());
}

static void tcp_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct tcp *t = arg;
	uint64_t n;
	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&t->mu);
	struct tcp_pending *list = t->done;
	t->done = NULL;
	pthread_mutex_unlock(&t->mu);
	for (struct tcp_pending *p = list, *next; p; p = next) {
		next = p->done_next;
		tcp_pending_unlink(p);
		tcp_outcome(t, p);
		free(p);
	}
}

/* The handshake deadline: the socket is shut down under the thread, which
 * then fails and reports. */
static void tcp_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct tcp_pending *p = arg;
	p->expired = true;
	shutdown(p->fd, SHUT_RDWR);
}

static int tcp_spawn(struct tcp *t, struct tcp_pending *p)
{
	pthread_attr_t a;
	pthread_t th;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, TCP_THREAD_STACK);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&t->mu);
	int rc = pthread_create(&th, &a, tcp_handshake_thread, p);
	if (!rc)
		t->threads++;
	pthread_mutex_unlock(&t->mu);
	pthread_attr_destroy(&a);
	return rc ? -1 : 0;
}

static void tcp_accept_one(struct tcp *t, int fd, const struct sockaddr *sa)
{
	uint8_t addr[16];
	auth_addr_key(sa, addr);
	int64_t now = clock_now_ms();
	if (auth_fail_blocked(&t->fails, addr, now)) {
		t->refused_waiting++;
		close(fd);
		return;
	}
	struct tcp_pending *p = t->n_pending < TCP_MAX_PENDING ? calloc(1, sizeof(*p)) : NULL;
	if (!p) {
		t->refused_full++;
		log_msg(LOG_WARN, "TCP: %u handshakes in progress (the most at once); closing a "
			"new connection", t->n_pending);
		close(fd);
		return;
	}
	*p = (struct tcp_pending){.t = t, .fd = fd, .tfd = -1, .key = -1, .conn_fd = -1};
	memcpy(p->addr, addr, 16);
	tcp_addr_text(sa, p->text, sizeof(p->text), true);
	tcp_sockopts(fd, t->srv->cfg.remote.timeout_ms);
	int ms = (int)t->srv->cfg.handshake_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int fl = fcntl(fd, F_GETFL);
	p->timer = evtimer_new(t->srv->base, tcp_deadline_cb, p);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) || !p->timer ||
	    evtimer_add(p->timer, &tv) || (p->tfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		if (p->timer)
			event_free(p->timer);
		close(fd);
		free(p);
		return;
	}
	p->next = t->pending;
	if (p->next)
		p->next->prev = p;
	t->pending = p;
	t->n_pending++;
	if (tcp_spawn(t, p)) {
		close(p->tfd);
		tcp_pending_unlink(p);
		free(p);
	}
}

static void tcp_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	struct tcp *t = arg;
	for (int i = 0; i < 64 && !t->srv->stopping; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		tcp_accept_one(t, fd, (struct sockaddr *)&ss);
	}
}

/* ---- listening ---- */

static int tcp_bind(struct tcp *t, const char *spec, struct tcp_listener *l)
{
	char host[256], port[16];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
	if (auth_tcp_split(spec, host, sizeof(host), port, sizeof(port)))
		return log_msg(LOG_ERROR, "--listen %s: not tcp:HOST:PORT", spec), -1;
	int rc = getaddrinfo(*host && strcmp(host, "*") ? host : NULL, port, &hints, &ai);
	if (rc)
		return log_msg(LOG_ERROR, "--listen %s: %s", spec, gai_strerror(rc)), -1;
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6) /* [::] means IPv6; 0.0.0.0 is its own listener */
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		log_msg(LOG_ERROR, "cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char text[72];
	getsockname(fd, (struct sockaddr *)&ss, &len);
	tcp_addr_text((struct sockaddr *)&ss, text, sizeof(text), true);
	snprintf(l->name, sizeof(l->name), "tcp:%s", text);
	l->fd = fd;
	l->ev = event_new(t->srv->base, fd, EV_READ | EV_PERSIST, tcp_accept_cb, t);
	return l->ev && !event_add(l->ev, NULL) ? 0 : -1;
}

static int tcp_setup(struct tcp *t)
{
	const struct config_remote *cfg = &t->srv->cfg.remote;
	if (auth_keys_load(cfg, &t->keys) || tls_server_load(cfg, &t->tls))
		return -1;
	t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->done_ev = t->efd < 0 ? NULL
		: event_new(t->srv->base, t->efd, EV_READ | EV_PERSIST, tcp_done_cb, t);
	if (!t->done_ev || event_add(t->done_ev, NULL))
		return log_msg(LOG_ERROR, "TCP: cannot set up: %s", strerror(errno)), -1;
	for (size_t i = 0; i < cfg->n_listen; i++, t->n++)
		if (tcp_bind(t, cfg->listen[i], &t->l[i]))
			return -1;
	for (size_t i = 0; i < t->n; i++)
		log_msg(LOG_INFO, "listening on %s%s (%zu key%s)", t->l[i].name,
			t->tls ? " with TLS" : "", t->keys.n, t->keys.n == 1 ? "" : "s");
	return 0;
}

int tcp_start(struct server *srv)
{
	if (!srv->cfg.remote.n_listen)
		return srv->cfg.remote.n_keys ? log_msg(LOG_WARN, "--auth-key given without "
			"--listen tcp:...: no TCP listener"), 0 : 0;
	struct tcp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->srv = srv;
	t->efd = -1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	srv->tcp = t;
	if (!srv->cfg.remote.timeout_ms)
		srv->cfg.remote.timeout_ms = TCP_DEFAULT_TIMEOUT_MS;
	conn_batch_prepare(); /* this is the loop's thread: its replies' ring */
	return tcp_setup(t);
}

void tcp_describe(const struct server *srv, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; srv->tcp && i < srv->tcp->n && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, " %s", srv->tcp->l[i].name);
}

void tcp_stop(struct server *srv)
{
	struct tcp *t = srv->tcp;
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->l[i].ev)
			event_del(t->l[i].ev);
	for (struct tcp_pending *p = t->pending; p; p = p->next)
		shutdown(p->fd, SHUT_RDWR);
}

/* Handshake threads still running (cut short by tcp_stop). */
static bool tcp_wait_threads(struct tcp *t)
{
	int64_t until = clock_now_ms() + TCP_FINI_WAIT_MS;
	pthread_mutex_lock(&t->mu);
	while (t->threads && clock_now_ms() < until) {
		pthread_mutex_unlock(&t->mu);
		tcp_done_cb(t->efd, EV_READ, t); /* handshakes reporting: their fds */
		pthread_mutex_lock(&t->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	bool all = t->threads == 0;
	pthread_mutex_unlock(&t->mu);
	return all;
}

void tcp_fini(struct server *srv)
{
	struct tcp *t = srv->tcp;
	if (!t)
		return;
	t->closing = true;
	tcp_stop(srv);
	if (!tcp_wait_threads(t)) {
		log_msg(LOG_WARN, "TCP: %u threads still running at exit", t->threads);
		return; /* they use t: left as it is */
	}
	tcp_done_cb(t->efd, EV_READ, t);
	for (size_t i = 0; i < t->n; i++) {
		if (t->l[i].ev)
			event_free(t->l[i].ev);
		close(t->l[i].fd);
	}
	if (t->done_ev)
		event_free(t->done_ev);
	if (t->efd >= 0)
		close(t->efd);
	tls_server_free(t->tls);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	explicit_bzero(&t->keys, sizeof(t->keys));
	free(t);
	srv->tcp = NULL;
}
