/* The listening side of mgrd: the socket (path, modes, stale-socket
 * detection), accepting (who may: admit.c), back
 * off when out of descriptors, signals, and the orderly stop. */
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/auth.h"
#include "../common/clock.h"
#include "../common/ring.h"
#include "../common/path.h"
#include "../common/spin.h"
#include "mgr/server.h"
#include "admit.h"
#include "conn.h"
#include "gc.h"
#include "listen-tcp.h"
#include "log.h"
#include "loop.h"
#include "park.h"
#include "pgroup.h"
#include "pool.h"
#include "monitor.h"
#include "dispatch.h"
#include "registry.h"
#include "session.h"
#include "snapshot.h"
#include "types-builtin.h"
#include "watchdog.h"

#define SERVER_STOP_GRACE_MS 3000
#define SERVER_EXIT_STUCK 3 /* the stop deadline passed with calls running */
#define SERVER_ACCEPT_BACKOFF_MS 100

void config_defaults(struct config *cfg)
{
	*cfg = (struct config){
		.ready_fd = -1,
		.listen_fd = -1,
		.frame = {.max_frame = 16u << 20, .max_depth = 64, .max_items = 1u << 20,
			  .max_pending = 4096},
		.max_outbuf = 64u << 20,
		.max_conns = 4096,
		.max_conns_per_uid = 0, /* admit_resolve_limits */
		.socket_mode = 0600,
		.socket_group = (gid_t)-1,
		.ring = RING_DEFAULT,
		.max_waiters = 65536,
		.handshake_ms = 5000,
		.max_partial = 64u << 20,
		.frame_ms = 30000,
		.default_mode = 0700, /* policy.h: the owner's alone */
		.remote = {.timeout_ms = 30000}, /* listen-tcp.h */
		.stop_timeout_ms = 5000,
		.slice_us = SPIN_SLICE_NS / 1000,
	};
}

/* ---- the socket ---- */

/* The directory's mode: 0700, plus search (x only, never read or write)
 * for whom the socket's mode lets in. */
static mode_t server_dir_mode(mode_t sock)
{
	return 0700 | (sock & 0060 ? 0010 : 0) | (sock & 0006 ? 0001 : 0);
}

/* A directory we just made: its group and mode. */
static int server_dir_perms(const struct config *cfg, const char *dir)
{
	if (cfg->socket_group != (gid_t)-1 && chown(dir, (uid_t)-1, cfg->socket_group))
		return log_msg(LOG_ERROR, "cannot give %s to group %u: %s", dir,
			       (unsigned)cfg->socket_group, strerror(errno)), -1;
	if (chmod(dir, server_dir_mode(cfg->socket_mode)))
		return log_msg(LOG_ERROR, "cannot chmod %s: %s", dir, strerror(errno)), -1;
	return 0;
}

/* The socket's directory: made (0700, or with the search bits the socket's
 * mode needs); an existing one must pass the clients' own check
 * (path_check_dir: ours or root's, writable by nobody else, or a sticky
 * shared one) and is never changed — someone else's is refused, not fixed. */
static int server_make_dir(const struct config *cfg, const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], why[256];
	if (!path_dir_of(path, dir, sizeof(dir)))
		return -1;
	bool made = mkdir(dir, 0700) == 0;
	if (!made && errno != EEXIST)
		return log_msg(LOG_ERROR, "cannot create the directory %s: %s", dir,
			       strerror(errno)), -1;
	struct path_trust t = {geteuid(), (uid_t)-1};
	enum path_verdict v = path_check_dir(dir, &t, why, sizeof(why));
	if (v == PATH_REFUSED || v == PATH_ABSENT)
		return log_msg(LOG_ERROR, "%s; not using it for the socket",
			       v == PATH_ABSENT ? "the socket's directory vanished" : why), -1;
	if (made)
		return server_dir_perms(cfg, dir);
	struct stat st;
	mode_t need = server_dir_mode(cfg->socket_mode);
	if (v == PATH_OK && stat(dir, &st) == 0 && (st.st_mode & need) != need)
		log_msg(LOG_WARN, "%s (mode %04o) keeps out some of whom --socket-mode %04o lets in",
			dir, (unsigned)(st.st_mode & 07777), (unsigned)cfg->socket_mode);
	return 0;
}

/* The socket (made 0600): its group, then its mode, before listen(). */
static int server_socket_perms(const struct config *cfg, const char *path)
{
	if (cfg->socket_group != (gid_t)-1 && chown(path, (uid_t)-1, cfg->socket_group))
		return log_msg(LOG_ERROR, "cannot give %s to group %u: %s", path,
			       (unsigned)cfg->socket_group, strerror(errno)), -1;
	if (cfg->socket_mode != 0600 && chmod(path, cfg->socket_mode))
		return log_msg(LOG_ERROR, "cannot chmod %s: %s", path, strerror(errno)), -1;
	return 0;
}

/* 1 if a live daemon answers at path, 0 if not (stale or absent). */
static int server_path_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

static int server_bind(struct server *srv, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
		log_msg(LOG_ERROR, "socket path must be absolute and under %zu bytes: %s",
			sizeof(sa.sun_path), path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (server_make_dir(&srv->cfg, path))
		return -1;
	if (server_path_live(&sa)) {
		log_msg(LOG_ERROR, "another mgrd is already listening on %s", path);
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERROR, "%s exists and is not a socket; not replacing it", path);
		return -1;
	}
	unlink(path); /* stale socket of a dead daemon */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (!rc && server_socket_perms(&srv->cfg, path)) {
		close(fd);
		unlink(path);
		return -1;
	}
	if (rc || listen(fd, 512)) {
		log_msg(LOG_ERROR, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	srv->listen_fd = fd;
	srv->socket_path = strdup(path);
	return 0;
}

/* ---- accepting ---- */

/* Admission (admit.h): a refused peer is told why in a final frame. */
static void server_accept_one(struct server *srv, int fd)
{
	struct admit_peer p;
	if (admit_peer_read(fd, &p)) {
		close(fd);
		return;
	}
	int code;
	const char *why = admit_check(srv, &p, &code);
	if (why) {
		log_msg(LOG_WARN, "refused pid %d uid %u gid %u: %s", (int)p.pid, (unsigned)p.uid,
			(unsigned)p.gid, why);
		admit_refuse(fd, code, why);
	} else {
		struct conn *c = conn_new(srv, fd, p.pid, p.uid, p.gid);
		if (c) {
			admit_keep_groups(c, &p);
			srv->stats.conns_total++;
		}
	}
	admit_peer_clear(&p);
}

static void server_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	struct server *srv = arg;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			server_accept_one(srv, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_msg(LOG_WARN, "accept: %s; pausing accepts for %d ms",
				strerror(errno), SERVER_ACCEPT_BACKOFF_MS);
			event_del(srv->accept_ev);
			struct timeval tv = {0, SERVER_ACCEPT_BACKOFF_MS * 1000};
			evtimer_add(srv->accept_retry_ev, &tv);
		}
		return;
	}
}

static void server_accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	if (!srv->stopping)
		event_add(srv->accept_ev, NULL);
}

/* ---- signals, parent, stop ---- */

static void server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	if (sig == SIGHUP) { /* a terminal or a service manager's nudge */
		log_msg(LOG_INFO, "SIGHUP: ignored (the log is stderr: nothing to reopen)");
		return;
	}
	log_msg(LOG_INFO, "signal %d: stopping", (int)sig);
	server_stop(arg);
}

static void server_parent_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	if (what & EV_TIMEOUT && getppid() == srv->cfg.parent_pid)
		return;
	log_msg(LOG_INFO, "parent %d ended: stopping", (int)srv->cfg.parent_pid);
	server_stop(srv);
}

/* Exit with the parent: a pidfd becomes readable when it ends; without
 * pidfd_open, poll getppid() once a second. */
static int server_watch_parent(struct server *srv)
{
	pid_t pp = srv->cfg.parent_pid;
	if (pp <= 0)
		return 0;
	int pfd = (int)syscall(SYS_pidfd_open, pp, 0);
	if (pfd < 0 && kill(pp, 0) != 0) {
		log_msg(LOG_ERROR, "parent %d is already gone", (int)pp);
		return -1;
	}
	struct timeval tv = {1, 0};
	srv->parent_ev = pfd >= 0
		? event_new(srv->base, pfd, EV_READ, server_parent_cb, srv)
		: event_new(srv->base, -1, EV_PERSIST, server_parent_cb, srv);
	return srv->parent_ev && !event_add(srv->parent_ev, pfd >= 0 ? NULL : &tv) ? 0 : -1;
}

static void server_stop_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	log_msg(LOG_WARN, "%u connections still open at the stop deadline", srv->n_conns);
	event_base_loopexit(srv->base, NULL);
}

/* The socket goes; with --remove-dir, its (then empty) directory too, so a
 * private manager leaves nothing behind even when its parent was killed. */
static void server_unlink_socket(struct server *srv)
{
	if (!srv->socket_path)
		return;
	unlink(srv->socket_path);
	char *slash = strrchr(srv->socket_path, '/');
	if (!srv->cfg.remove_dir || !slash || slash == srv->socket_path)
		return;
	*slash = '\0';
	rmdir(srv->socket_path); /* fails harmlessly if anything else is in it */
	*slash = '/';
}

void server_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	srv->stop_deadline_ns = clock_now_ns() + (uint64_t)srv->cfg.stop_timeout_ms * 1000000u;
	if (srv->accept_ev)
		event_del(srv->accept_ev);
	event_del(srv->accept_retry_ev);
	server_unlink_socket(srv);
	tcp_stop(srv);
	for (struct conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		while (c->parked)
			park_answer(c->parked, MGR_ESHUTDOWN, NULL, "manager shutting down");
		conn_close_after_flush(c);
	}
	if (srv->n_conns == 0) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	uint32_t grace = srv->cfg.stop_timeout_ms < SERVER_STOP_GRACE_MS
		? srv->cfg.stop_timeout_ms : SERVER_STOP_GRACE_MS;
	struct timeval tv = {grace / 1000, (grace % 1000) * 1000};
	event_base_once(srv->base, -1, EV_TIMEOUT, server_stop_deadline_cb, srv, &tv);
}



/* Once a second: how many calls the last second saw (for info). */
static void server_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	srv->stats.last_second = srv->stats.calls - srv->stats.calls_mark;
	srv->stats.calls_mark = srv->stats.calls;
}

/* ---- life ---- */

static int server_events(struct server *srv)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	srv->accept_ev = event_new(srv->base, srv->listen_fd, EV_READ | EV_PERSIST,
				   server_accept_cb, srv);
	srv->accept_retry_ev = evtimer_new(srv->base, server_accept_retry_cb, srv);
	srv->tick_ev = event_new(srv->base, -1, EV_PERSIST, server_tick_cb, srv);
	if (!srv->tick_ev || event_add(srv->tick_ev, &(struct timeval){1, 0}))
		return -1;
	if (!srv->accept_ev || !srv->accept_retry_ev || event_add(srv->accept_ev, NULL))
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (sigs[i] == SIGINT && srv->cfg.ignore_sigint) {
			signal(SIGINT, SIG_IGN);
			continue;
		}
		srv->sig_ev[i] = evsignal_new(srv->base, sigs[i], server_signal_cb, srv);
		if (!srv->sig_ev[i] || event_add(srv->sig_ev[i], NULL))
			return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return server_watch_parent(srv);
}

static int server_listen(struct server *srv)
{
	if (srv->cfg.listen_fd >= 0) {
		srv->listen_fd = srv->cfg.listen_fd;
		fcntl(srv->listen_fd, F_SETFL, fcntl(srv->listen_fd, F_GETFL) | O_NONBLOCK);
		return 0;
	}
	char def[108];
	const char *path = srv->cfg.socket_path;
	if (!path) {
		if (path_default_socket(def, sizeof(def)))
			return log_msg(LOG_ERROR, "default socket path too long"), -1;
		path = def;
	}
	return server_bind(srv, path);
}

static void server_monitor_end(struct conn *conn)
{
	if (conn->srv->monitors)
		monitor_session_end(conn);
}

int server_init_core(struct server *srv, const struct config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = *cfg;
	const char *bad = admit_resolve_limits(&srv->cfg);
	if (bad)
		return log_msg(LOG_ERROR, "%s", bad), -1;
	srv->hooks = (struct server_hooks){.request = dispatch_request,
		.session_end = {park_session_end, server_monitor_end},
		.observe = monitor_observe, .stop = server_stop};
	srv->listen_fd = -1;
	srv->started = time(NULL);
	srv->manager = (struct object){.id = 0, .type = &type_manager, .state = srv, .refs = 1};
	if (getrandom(srv->instance, sizeof(srv->instance), 0) != sizeof(srv->instance))
		return log_msg(LOG_ERROR, "getrandom failed"), -1;
	if (types_builtin_register() || registry_init(&srv->reg))
		return log_msg(LOG_ERROR, "cannot register the built-in types"), -1;
	pool_setup(srv);
	srv->base = event_base_new();
	if (!srv->base || session_setup(srv))
		return log_msg(LOG_ERROR, "cannot create the event loop"), -1;
	gc_setup(srv);
	return 0;
}

int server_init(struct server *srv, const struct config *cfg)
{
	if (server_init_core(srv, cfg))
		return -1;
	if (server_listen(srv) || server_events(srv) || tcp_start(srv))
		return -1;
	if (snapshot_load(srv) || snapshot_start(srv)) /* before the first accept */
		return -1;
	char tcp[CONFIG_MAX_LISTEN * 80];
	tcp_describe(srv, tcp, sizeof(tcp)); /* "" without TCP listeners */
	if (cfg->ready_fd >= 0) {
		dprintf(cfg->ready_fd, "READY %s%s\n", srv->socket_path ? srv->socket_path : "-", tcp);
		close(cfg->ready_fd);
	}
	log_msg(LOG_INFO, "listening on %s", srv->socket_path ? srv->socket_path : "(inherited fd)");
	return 0;
}


/* When the stop must be over: set by server_stop, else from now. */
static uint64_t server_stop_deadline(const struct server *srv)
{
	return srv->stop_deadline_ns ? srv->stop_deadline_ns
		: clock_now_ns() + (uint64_t)srv->cfg.stop_timeout_ms * 1000000u;
}

/* Past the stop deadline with calls still running (pool_fini logged them),
 * or with the loop itself stuck in one (the watchdog's thread calls this):
 * nothing can be freed under them, so the process ends here, which ends
 * them; no final snapshot (their objects may be half changed). A private
 * manager (--parent) first ends the rest of its process group, so what its
 * program's methods started does not outlive it. */
static void server_exit_stuck(void *arg, const char *why)
{
	struct server *srv = arg;
	if (!srv->stopping)
		server_unlink_socket(srv);
	if (srv->cfg.parent_pid > 0)
		pgroup_kill_others();
	log_msg(LOG_ERROR, "%s: exiting (status %d)%s", why, SERVER_EXIT_STUCK,
		srv->snapshot ? ", no final snapshot" : "");
	_exit(SERVER_EXIT_STUCK);
}

int server_run(struct server *srv)
{
	/* the loop thread runs microseconds between sleeps: a short slice lets
	 * it preempt a busy loop when woken (spin.h; docs/design.md "Latency");
	 * MGR_SLICE_US, when it asks for one (not with --no-spin), wins */
	uint64_t ns = spin_slice_want(getenv("MGR_SLICE_US"), srv->cfg.no_spin);
	if (!ns)
		ns = (uint64_t)srv->cfg.slice_us * 1000;
	if (spin_slice_set(ns))
		log_msg(LOG_WARN, "the kernel refused a %llu us scheduler slice: %s",
			(unsigned long long)(ns / 1000), strerror(errno));
	struct watchdog_conf wc = {srv->cfg.stop_timeout_ms, srv->cfg.parent_pid,
				   srv->parent_ev ? event_get_fd(srv->parent_ev) : -1,
				   server_exit_stuck, srv};
	if (watchdog_start(&wc))
		log_msg(LOG_WARN, "no stop watchdog: a method stuck on the loop would keep "
			"a stop from ending");
	int rc = loop_run(srv);
	watchdog_done();
	return rc;
}

void server_fini(struct server *srv)
{
	if (!srv->base) {
		registry_fini(&srv->reg);
		types_reset();
		return;
	}
	while (srv->conns)
		conn_close(srv->conns, "server exit");
	tcp_fini(srv); /* handshake and TLS threads gone (their sessions closed) */
	if (pool_fini(srv, server_stop_deadline(srv))) { /* workers joined; holds given back */
		char why[64];
		snprintf(why, sizeof(why), "stop deadline (%u ms) passed with calls running",
			 srv->cfg.stop_timeout_ms);
		server_exit_stuck(srv, why);
	}
	session_end_queued(srv);
	event_base_loop(srv->base, EVLOOP_NONBLOCK); /* run the deferred frees */
	snapshot_fini(srv); /* the final save: no call is running now */
	struct event *evs[] = {srv->accept_ev, srv->accept_retry_ev, srv->sig_ev[0],
			       srv->sig_ev[1], srv->sig_ev[2], srv->parent_ev, srv->tick_ev,
			       srv->end_ev};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (!srv->stopping)
		server_unlink_socket(srv);
	free(srv->socket_path);
	gc_fini(srv);
	registry_fini(&srv->reg);
	types_reset();
	/* stopped: a repeated stop request (libmgr repeats SIGTERM each
	 * second) must not kill us once libevent gives the handlers back */
	signal(SIGTERM, SIG_IGN);
	event_base_free(srv->base);
}

/* ---- serving from a program (mgr/server.h) ---- */

/* A program's own manager logs as an exec'd private one (libmgr passes it
 * --log-level): the level the program chose (log_set_level), else
 * $MGR_LOG_LEVEL if it names one, else warnings and worse, so mgrd's
 * routine lines stay out of the program's stderr. */
static void server_main_log_level(void)
{
	if (log_level_was_set())
		return;
	const char *env = getenv("MGR_LOG_LEVEL");
	int level = env && *env ? log_level_parse(env) : -1;
	log_set_level(level >= 0 ? (enum log_level)level : LOG_WARN);
}

int server_key_from_fd(struct config_remote *r, int fd)
{
	uint8_t *k = r->n_keys < CONFIG_MAX_KEYS && !r->key_bytes ? malloc(AUTH_KEY_MAX + 1) : NULL;
	size_t len = 0;
	ssize_t n = 1;
	while (k && len <= AUTH_KEY_MAX && n > 0) {
		n = read(fd, k + len, AUTH_KEY_MAX + 1 - len);
		len += n > 0 ? (size_t)n : 0;
		if (n < 0 && errno == EINTR)
			n = 1;
	}
	close(fd);
	if (!k || n < 0) {
		if (k)
			explicit_bzero(k, AUTH_KEY_MAX + 1);
		free(k);
		return log_msg(LOG_ERROR, "cannot read the key from descriptor %d: %s", fd,
			       k ? strerror(errno) : "a key given already, or no room"), -1;
	}
	r->key_bytes = k; /* its length is checked with the others' (auth_keys_load) */
	r->key_bytes_len = len;
	r->key_name[r->n_keys] = "default";
	r->key_file[r->n_keys++] = NULL;
	return 0;
}

void server_key_free(struct config_remote *r)
{
	if (r->key_bytes)
		explicit_bzero((void *)r->key_bytes, AUTH_KEY_MAX + 1);
	free((void *)r->key_bytes);
	r->key_bytes = NULL;
}

/* A private manager's TCP listeners (mgr_manager_start with listen and
 * serve): libmgr sets MGR_SERVE_LISTEN (space-separated tcp: addresses)
 * and MGR_SERVE_KEY_FD (a pipe holding the key) in this forked child's
 * environment only; both are unset here, so the manager's own children
 * never see them. A session proving the key acts as this process's uid:
 * the program's objects are its own, as with CPython's authkey.
 * *listen: owned by the caller (the addresses point into it). */
static int server_main_tcp(struct config *cfg, char **listen)
{
	const char *l = getenv("MGR_SERVE_LISTEN"), *k = getenv("MGR_SERVE_KEY_FD");
	if (!l)
		return 0;
	int fd = k ? atoi(k) : -1;
	*listen = strdup(l);
	unsetenv("MGR_SERVE_LISTEN");
	unsetenv("MGR_SERVE_KEY_FD");
	if (!*listen || fd < 0)
		return log_msg(LOG_ERROR, "MGR_SERVE_LISTEN without MGR_SERVE_KEY_FD"), -1;
	struct config_remote *r = &cfg->remote;
	char *save = NULL;
	for (char *a = strtok_r(*listen, " ", &save); a; a = strtok_r(NULL, " ", &save)) {
		if (r->n_listen == CONFIG_MAX_LISTEN)
			return close(fd), log_msg(LOG_ERROR, "more than %d TCP addresses",
						  CONFIG_MAX_LISTEN), -1;
		r->listen[r->n_listen++] = a;
	}
	r->uid_key[0] = "default";
	r->uid_of[0] = geteuid();
	r->n_uids = 1;
	return server_key_from_fd(r, fd);
}

/* A program's own manager has no command line: $MGR_STOP_TIMEOUT_MS (if a
 * number) is its --stop-timeout; unset here, as MGR_SERVE_LISTEN is, so
 * what the manager starts does not inherit it. */
static void server_main_stop_timeout(struct config *cfg)
{
	const char *env = getenv("MGR_STOP_TIMEOUT_MS");
	char *end = NULL;
	unsigned long ms = env && *env ? strtoul(env, &end, 10) : 0;
	if (end && !*end && ms <= UINT32_MAX)
		cfg->stop_timeout_ms = (uint32_t)ms;
	unsetenv("MGR_STOP_TIMEOUT_MS");
}

int mgr_server_main(const char *socket_path, int ready_fd, int parent_pid)
{
	struct config cfg;
	struct server srv;
	char *listen = NULL;
	server_main_log_level();
	config_defaults(&cfg);
	cfg.socket_path = (char *)socket_path;
	cfg.ready_fd = ready_fd;
	cfg.parent_pid = parent_pid;
	cfg.ignore_sigint = true;
	server_main_stop_timeout(&cfg);
	int rc = 1;
	if (!server_main_tcp(&cfg, &listen)) {
		rc = server_init(&srv, &cfg) ? 1 : server_run(&srv);
		server_fini(&srv);
	}
	server_key_free(&cfg.remote);
	free(listen);
	return rc;
}
