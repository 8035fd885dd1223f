/* Private managers: a parent starts mgrd as a child, waits for its
 * readiness line on a pipe, and later stops and reaps it. The child is
 * prepared with async-signal-safe calls only (the parent may have threads).
 * Every wait is bounded: a start gives up at start_timeout_ms whatever the
 * child does, and kills and reaps it.
 *
 * Which mgrd: opts->mgrd, else $MGR_MGRD, else the one beside the program
 * (its directory, or ../mgrd/ as in the build tree: build/examples/x finds
 * build/mgrd/mgrd), else the installed one, else the first on PATH. None:
 * "mgrd not found" before anything is forked.
 *
 * Its log: mgrd's routine lines (info) would land in the program's stderr,
 * so it runs with --log-level warn unless $MGR_LOG_LEVEL names another
 * level (or the program's own args pass --log-level, which come later and
 * win).
 *
 * TCP (opts->listen, opts->auth_key): the key goes through a pipe the
 * child finds at fd 4, never argv or the environment; an exec'd mgrd gets
 * --listen, --auth-key-fd 4 and --remote-uid default=<our uid>, a served
 * one (opts->serve) MGR_SERVE_LISTEN and MGR_SERVE_KEY_FD in its own
 * environment only (mgr_server_main reads and unsets them). The bound
 * addresses come back on the readiness line ("READY PATH tcp:... ..."). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/auth.h"
#include "../common/clock.h"
#include "client.h"

#ifndef MGRD_DEFAULT_PATH
#define MGRD_DEFAULT_PATH "/usr/local/sbin/mgrd"
#endif
#define MANAGER_MAX_ARGS 64
#define MANAGER_READY_FD 3
#define MANAGER_KEY_FD 4
#define MANAGER_MAX_LISTEN 8 /* mgrd's CONFIG_MAX_LISTEN */
#define MANAGER_TCP_LEN 80   /* mgrd's "tcp:ADDR:PORT" as bound */

extern char **environ;

struct mgr_manager {
	pid_t pid;
	char dir[64]; /* made for it, removed at shutdown; "" if none */
	char path[108];
	char bin[PATH_MAX]; /* the mgrd run */
	char tcp[MANAGER_MAX_LISTEN][MANAGER_TCP_LEN]; /* as bound (the ready line) */
	size_t n_tcp;
};

/* What the child needs, made before fork (the child allocates nothing). */
struct manager_plan {
	const char *argv[MANAGER_MAX_ARGS];
	char ppid[24], remote_uid[40];
	int parent; /* our pid, for a served child */
	char **envp;    /* serve with TCP: environ plus MGR_SERVE_*; NULL: environ */
	char *env_text; /* the two entries envp adds, one buffer */
	int key_fd;     /* the key's pipe (read end), -1: no TCP */
};

static bool manager_executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* dir/rel into buf if it is executable. */
static bool manager_try(char *buf, size_t size, const char *dir, size_t dirlen, const char *rel)
{
	int n = snprintf(buf, size, "%.*s/%s", (int)dirlen, dir, rel);
	return n > 0 && (size_t)n < size && manager_executable(buf);
}

/* Beside the running program: its directory, or the build tree's
 * ../mgrd/mgrd (never the program itself). */
static bool manager_beside(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	const char *slash = strrchr(self, '/');
	if (!slash || !strcmp(slash + 1, "mgrd"))
		return false;
	size_t dirlen = (size_t)(slash - self);
	return manager_try(buf, size, self, dirlen, "mgrd") ||
	       manager_try(buf, size, self, dirlen, "../mgrd/mgrd");
}

static bool manager_on_path(char *buf, size_t size)
{
	const char *path = getenv("PATH");
	for (const char *p = path; p && *p;) {
		size_t len = strcspn(p, ":");
		if (len && manager_try(buf, size, p, len, "mgrd"))
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

/* The mgrd to run, into buf (see the top of this file). */
static int manager_binary(const mgr_manager_opts *o, char *buf, size_t size)
{
	const char *env = getenv("MGR_MGRD");
	const char *given = o && o->mgrd ? o->mgrd : env && *env ? env : NULL;
	if (given) {
		snprintf(buf, size, "%s", given);
		if (!manager_executable(buf))
			return client_fail(MGR_ECONNECT, "mgrd not found: %s: %s (%s)", given,
					   strerror(errno), o && o->mgrd ? "the mgrd option"
					   : "MGR_MGRD");
		return 0;
	}
	if (manager_beside(buf, size))
		return 0;
	snprintf(buf, size, "%s", MGRD_DEFAULT_PATH);
	if (manager_executable(buf) || manager_on_path(buf, size))
		return 0;
	return client_fail(MGR_ECONNECT, "mgrd not found: install mgr or set MGR_MGRD");
}

/* --log-level for the private manager: $MGR_LOG_LEVEL, else warn. */
static const char *manager_log_level(void)
{
	const char *env = getenv("MGR_LOG_LEVEL");
	return env && *env ? env : "warn";
}

static int manager_pick_path(mgr_manager *m, const mgr_manager_opts *o)
{
	if (o && o->address) {
		if (strlen(o->address) >= sizeof(m->path))
			return client_fail(MGR_EINVAL, "address too long");
		snprintf(m->path, sizeof(m->path), "%s", o->address);
		return 0;
	}
	snprintf(m->dir, sizeof(m->dir), "/tmp/mgr-XXXXXX");
	if (!mkdtemp(m->dir)) /* mkdtemp makes it 0700 */
		return client_fail(MGR_EIO, "mkdtemp: %s", strerror(errno));
	snprintf(m->path, sizeof(m->path), "%s/mgrd.sock", m->dir);
	return 0;
}

/* The TCP options, checked before anything is made; 0 or the error set. */
static int manager_check_tcp(const mgr_manager_opts *o)
{
	size_t n = 0;
	while (o && o->listen && o->listen[n]) {
		if (!auth_is_tcp(o->listen[n]) || strchr(o->listen[n], ' '))
			return client_fail(MGR_EINVAL, "listen: not tcp:HOST:PORT: %s", o->listen[n]);
		if (++n > MANAGER_MAX_LISTEN)
			return client_fail(MGR_EINVAL, "listen: at most %d addresses",
					   MANAGER_MAX_LISTEN);
	}
	if (n && (!o->auth_key || o->auth_key_len < AUTH_KEY_MIN || o->auth_key_len > AUTH_KEY_MAX))
		return client_fail(MGR_EINVAL, "listen needs auth_key, %d to %d bytes", AUTH_KEY_MIN,
				   AUTH_KEY_MAX);
	return 0;
}

static bool manager_has_tcp(const mgr_manager_opts *o)
{
	return o && o->listen && o->listen[0];
}

/* The key in a pipe whose read end the child inherits (at most 512 bytes:
 * the pipe holds it whole, nobody waits). */
static int manager_key_pipe(const mgr_manager_opts *o, int *key_fd)
{
	int kp[2];
	if (pipe2(kp, O_CLOEXEC))
		return client_fail(MGR_EIO, "pipe: %s", strerror(errno));
	ssize_t n = write(kp[1], o->auth_key, o->auth_key_len);
	close(kp[1]);
	if (n != (ssize_t)o->auth_key_len) {
		close(kp[0]);
		return client_fail(MGR_EIO, "the key's pipe: %s", strerror(errno));
	}
	*key_fd = kp[0];
	return 0;
}

/* A served manager's environment: ours (minus MGR_SERVE_*) plus where to
 * listen and where the key is; installed in the child only. */
static int manager_serve_env(const mgr_manager_opts *o, struct manager_plan *p)
{
	size_t n = 0, len = sizeof("MGR_SERVE_LISTEN=") + sizeof("MGR_SERVE_KEY_FD=4");
	while (environ && environ[n])
		n++;
	for (size_t i = 0; o->listen[i]; i++)
		len += strlen(o->listen[i]) + 1;
	p->envp = calloc(n + 3, sizeof(char *));
	p->env_text = malloc(len);
	if (!p->envp || !p->env_text)
		return client_fail(MGR_ENOMEM, "out of memory");
	size_t k = 0, used = (size_t)sprintf(p->env_text, "MGR_SERVE_LISTEN=");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "MGR_SERVE_", 10))
			p->envp[k++] = environ[i];
	for (size_t i = 0; o->listen[i]; i++)
		used += (size_t)sprintf(p->env_text + used, "%s%s", i ? " " : "", o->listen[i]);
	p->envp[k++] = p->env_text;
	p->envp[k++] = p->env_text + used + 1;
	sprintf(p->env_text + used + 1, "MGR_SERVE_KEY_FD=%d", MANAGER_KEY_FD);
	return 0;
}

/* argv for mgrd, built before fork (no allocation in the child). */
static int manager_argv(const mgr_manager_opts *o, const char *bin, const char *path,
			struct manager_plan *p)
{
	size_t n = 0;
	const char **argv = p->argv;
	p->parent = (int)getpid();
	snprintf(p->ppid, sizeof(p->ppid), "%d", p->parent);
	const char *fixed[] = {bin, "--socket", path, "--ready-fd", "3", "--parent-pid", p->ppid,
			       "--ignore-sigint", "--log-level", manager_log_level()};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = fixed[i];
	if (!(o && o->address))
		argv[n++] = "--remove-dir"; /* the directory is the one we made */
	for (size_t i = 0; manager_has_tcp(o) && o->listen[i]; i++) {
		argv[n++] = "--listen";
		argv[n++] = o->listen[i];
	}
	if (manager_has_tcp(o)) { /* sessions with the key act as us, as CPython's */
		snprintf(p->remote_uid, sizeof(p->remote_uid), "default=%u", (unsigned)geteuid());
		const char *tcp[] = {"--auth-key-fd", "4", "--remote-uid", p->remote_uid};
		for (size_t i = 0; i < 4; i++)
			argv[n++] = tcp[i];
	}
	for (size_t i = 0; o && o->args && o->args[i]; i++) {
		if (n + 1 >= MANAGER_MAX_ARGS)
			return client_fail(MGR_EINVAL, "too many mgrd arguments");
		argv[n++] = o->args[i];
	}
	argv[n] = NULL;
	return 0;
}

/* Moves the readiness pipe to fd 3 (and the key's to fd 4) and closes
 * every other inherited fd above stderr: the manager must not hold the
 * program's sockets and pipes open (a client's connection would outlive
 * its close(), a pipe would never see EOF). Each is first copied above 4,
 * so neither lands on the other; dup2 leaves the copies inheritable.
 * open_max was read before fork. */
static void manager_child_fds(int ready_fd, int key_fd, long open_max)
{
	int first = key_fd >= 0 ? MANAGER_KEY_FD + 1 : MANAGER_READY_FD + 1;
	int r = fcntl(ready_fd, F_DUPFD_CLOEXEC, MANAGER_KEY_FD + 1);
	int k = key_fd >= 0 ? fcntl(key_fd, F_DUPFD_CLOEXEC, MANAGER_KEY_FD + 1) : -1;
	dup2(r, MANAGER_READY_FD);
	if (k >= 0)
		dup2(k, MANAGER_KEY_FD);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return;
#endif
	for (long fd = first; fd < open_max; fd++)
		close((int)fd);
}

/* The child, before running the manager: signals as at birth, its own
 * process group (out of the terminal's foreground: no Ctrl-C), its fds. */
static void manager_child_prepare(int ready_fd, const struct manager_plan *p, long open_max)
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setpgid(0, 0);
	manager_child_fds(ready_fd, p->key_fd, open_max);
}

static void manager_child(int ready_fd, const struct manager_plan *p, long open_max)
{
	manager_child_prepare(ready_fd, p, open_max);
	execv(p->argv[0], (char *const *)p->argv);
	_exit(127);
}

/* The in-process variant: the forked child runs the server itself (with
 * the program's registered types) instead of executing mgrd. */
static void manager_child_serve(const mgr_manager_opts *o, int ready_fd,
				const struct manager_plan *p, long open_max, const char *path)
{
	manager_child_prepare(ready_fd, p, open_max);
	if (p->envp)
		environ = p->envp; /* this child's alone: the parent's stays */
	_exit(o->serve(path, MANAGER_READY_FD, p->parent) ? 1 : 0);
}

/* Milliseconds left before deadline, for poll(). */
static int manager_left(int64_t deadline)
{
	int64_t left = deadline - clock_now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Reaps pid if it exits before deadline (a pidfd turns readable when it
 * does; without pidfds, WNOHANG every 5 ms); 1 if reaped into *status. */
static int manager_reap(pid_t pid, int64_t deadline, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {pfd, POLLIN, 0};
		int rc;
		while ((rc = poll(&p, 1, manager_left(deadline))) < 0 && errno == EINTR)
			;
		close(pfd);
		if (rc <= 0)
			return 0;
	}
	const struct timespec tick = {0, 5 * 1000 * 1000};
	for (;;) {
		pid_t r = waitpid(pid, status, pfd >= 0 ? 0 : WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return r == pid;
		if (r == 0 && clock_now_ms() >= deadline)
			return 0;
		if (r == 0)
			nanosleep(&tick, NULL);
	}
}

/* The pipe closed before a whole line: mgrd failed to start, or closed
 * it and lives on. Reaped if it exits before deadline; else the caller
 * kills it. */
static int manager_not_ready(mgr_manager *m, int64_t deadline)
{
	int st = 0;
	if (!manager_reap(m->pid, deadline, &st))
		return client_fail(MGR_ECONNECT, "mgrd closed its readiness pipe without being ready");
	m->pid = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) /* manager_child: execv failed */
		return client_fail(MGR_ECONNECT, "mgrd could not be run (%s): install mgr or set "
				   "MGR_MGRD", m->bin);
	return client_fail(MGR_ECONNECT, "mgrd exited before it was ready (status %d; its "
			   "messages are on stderr)", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* The TCP addresses of the readiness line ("READY PATH tcp:A:P ...\n"). */
static void manager_ready_tcp(mgr_manager *m, char *line)
{
	char *save = NULL;
	*strchr(line, '\n') = '\0';
	for (char *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (auth_is_tcp(w) && m->n_tcp < MANAGER_MAX_LISTEN)
			snprintf(m->tcp[m->n_tcp++], MANAGER_TCP_LEN, "%s", w);
}

/* Waits for the readiness line until timeout_ms from now, whatever the
 * child writes or closes. */
static int manager_wait_ready(mgr_manager *m, int fd, uint32_t timeout_ms)
{
	int64_t deadline = clock_now_ms() + timeout_ms;
	char line[1024];
	size_t len = 0;
	while (!memchr(line, '\n', len)) {
		if (len == sizeof(line))
			return client_fail(MGR_EPROTO, "mgrd's readiness line is too long");
		struct pollfd pfd = {fd, POLLIN, 0};
		int rc = poll(&pfd, 1, manager_left(deadline));
		if (rc == 0)
			return client_fail(MGR_ETIMEDOUT, "mgrd did not become ready in %u ms", timeout_ms);
		ssize_t n = rc > 0 ? read(fd, line + len, sizeof(line) - len) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return manager_not_ready(m, deadline);
		len += (size_t)n;
	}
	manager_ready_tcp(m, line);
	return 0;
}

/* SIGKILL, then reaped: the wait is the kernel's, not the child's. */
static void manager_kill(mgr_manager *m)
{
	if (m->pid <= 0)
		return;
	kill(m->pid, SIGKILL);
	while (waitpid(m->pid, NULL, 0) < 0 && errno == EINTR)
		;
	m->pid = 0;
}

static void manager_cleanup(mgr_manager *m)
{
	if (m->dir[0]) {
		unlink(m->path);
		rmdir(m->dir);
	}
	free(m);
}

/* Everything the child needs, before fork; 0 or the error set (the plan
 * freed by manager_plan_free either way). */
static int manager_plan_make(const mgr_manager_opts *o, mgr_manager *m, struct manager_plan *p)
{
	*p = (struct manager_plan){.key_fd = -1};
	int err = manager_check_tcp(o);
	if (!err)
		err = manager_pick_path(m, o);
	if (!err && !(o && o->serve))
		err = manager_binary(o, m->bin, sizeof(m->bin));
	if (!err)
		err = manager_argv(o, m->bin, m->path, p);
	if (!err && manager_has_tcp(o) && o->serve)
		err = manager_serve_env(o, p);
	if (!err && manager_has_tcp(o))
		err = manager_key_pipe(o, &p->key_fd);
	return err;
}

static void manager_plan_free(struct manager_plan *p)
{
	free(p->envp);
	free(p->env_text);
	if (p->key_fd >= 0)
		close(p->key_fd);
}

int mgr_manager_start(const mgr_manager_opts *opts, mgr_manager **out)
{
	struct manager_plan plan;
	int fds[2];
	mgr_manager *m = calloc(1, sizeof(*m));
	if (!m || !out)
		return free(m), client_fail(m ? MGR_EINVAL : MGR_ENOMEM, "out of memory or out NULL");
	int err = manager_plan_make(opts, m, &plan);
	if (!err && pipe2(fds, O_CLOEXEC))
		err = client_fail(MGR_EIO, "pipe: %s", strerror(errno));
	if (err) {
		manager_plan_free(&plan);
		manager_cleanup(m);
		return err;
	}
	long open_max = sysconf(_SC_OPEN_MAX);
	m->pid = fork();
	if (m->pid == 0 && opts && opts->serve)
		manager_child_serve(opts, fds[1], &plan, open_max, m->path);
	if (m->pid == 0)
		manager_child(fds[1], &plan, open_max);
	close(fds[1]);
	manager_plan_free(&plan);
	err = m->pid < 0 ? client_fail(MGR_EIO, "fork: %s", strerror(errno))
		: manager_wait_ready(m, fds[0], opts && opts->start_timeout_ms ? opts->start_timeout_ms : 10000);
	close(fds[0]);
	if (err) {
		manager_kill(m);
		manager_cleanup(m);
		return err;
	}
	*out = m;
	return 0;
}

const char *mgr_manager_address(const mgr_manager *m) { return m ? m->path : NULL; }

int mgr_manager_pid(const mgr_manager *m) { return m ? (int)m->pid : 0; }

const char *mgr_manager_tcp_address(const mgr_manager *m, size_t i)
{
	return m && i < m->n_tcp ? m->tcp[i] : NULL;
}

/* SIGTERM, again every second while pid runs, until deadline: a stop
 * request must not hang on one signal that went unseen (under
 * ThreadSanitizer a SIGTERM that came while mgrd was starting was
 * sometimes never acted on: manager-tcp's test_bad_options waited 10 s).
 * mgrd takes a second SIGTERM while stopping as the same request. */
static bool manager_stop(pid_t pid, int64_t deadline, int *status)
{
	for (;;) {
		kill(pid, SIGTERM);
		int64_t now = clock_now_ms(), until = now + 1000 < deadline ? now + 1000 : deadline;
		if (manager_reap(pid, until, status))
			return true;
		if (until >= deadline)
			return false;
	}
}

int mgr_manager_shutdown(mgr_manager *m)
{
	if (!m)
		return 0;
	int status = 0, err = 0;
	if (m->pid > 0) {
		if (!manager_stop(m->pid, clock_now_ms() + 10000, &status)) {
			manager_kill(m);
			err = client_fail(MGR_ETIMEDOUT, "mgrd did not stop in time; killed");
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			err = client_fail(MGR_EIO, "mgrd exited with status %d", status);
		}
	}
	manager_cleanup(m);
	return err;
}
