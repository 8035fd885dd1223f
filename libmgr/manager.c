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
 * win). */
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

#include "../common/clock.h"
#include "client.h"

#ifndef MGRD_DEFAULT_PATH
#define MGRD_DEFAULT_PATH "/usr/local/sbin/mgrd"
#endif
#define MANAGER_MAX_ARGS 64
#define MANAGER_READY_FD 3

struct mgr_manager {
	pid_t pid;
	char dir[64]; /* made for it, removed at shutdown; "" if none */
	char path[108];
	char bin[PATH_MAX]; /* the mgrd run */
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

/* argv for mgrd, built before fork (no allocation in the child). */
static int manager_argv(const mgr_manager_opts *o, const char *bin, const char *path,
			char *ppid, size_t ppid_size, const char *argv[MANAGER_MAX_ARGS])
{
	size_t n = 0;
	snprintf(ppid, ppid_size, "%d", (int)getpid());
	const char *fixed[] = {bin, "--socket", path, "--ready-fd", "3", "--parent-pid", ppid,
			       "--ignore-sigint", "--log-level", manager_log_level()};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = fixed[i];
	if (!(o && o->address))
		argv[n++] = "--remove-dir"; /* the directory is the one we made */
	for (size_t i = 0; o && o->args && o->args[i]; i++) {
		if (n + 1 >= MANAGER_MAX_ARGS)
			return client_fail(MGR_EINVAL, "too many mgrd arguments");
		argv[n++] = o->args[i];
	}
	argv[n] = NULL;
	return 0;
}

/* Moves the readiness pipe to fd 3 and closes every other inherited fd
 * above stderr: the manager must not hold the program's sockets and pipes
 * open (a client's connection would outlive its close(), a pipe would
 * never see EOF). open_max was read before fork. */
static void manager_child_fds(int ready_fd, long open_max)
{
	if (ready_fd != MANAGER_READY_FD) {
		dup2(ready_fd, MANAGER_READY_FD);
		close(ready_fd);
	} else {
		fcntl(ready_fd, F_SETFD, 0);
	}
#ifdef SYS_close_range
	if (syscall(SYS_close_range, MANAGER_READY_FD + 1, ~0U, 0) == 0)
		return;
#endif
	for (long fd = MANAGER_READY_FD + 1; fd < open_max; fd++)
		close((int)fd);
}

static void manager_child(int ready_fd, long open_max, const char *const argv[])
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setpgid(0, 0); /* out of the terminal's foreground group: no Ctrl-C */
	manager_child_fds(ready_fd, open_max);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* The in-process variant: the forked child runs the server itself (with
 * the program's registered types) instead of executing mgrd. */
static void manager_child_serve(const mgr_manager_opts *o, int ready_fd, long open_max,
				const char *path, int parent)
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setpgid(0, 0);
	manager_child_fds(ready_fd, open_max);
	_exit(o->serve(path, MANAGER_READY_FD, parent) ? 1 : 0);
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

/* Waits for the readiness line until timeout_ms from now, whatever the
 * child writes or closes. */
static int manager_wait_ready(mgr_manager *m, int fd, uint32_t timeout_ms)
{
	int64_t deadline = clock_now_ms() + timeout_ms;
	char line[256];
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

int mgr_manager_start(const mgr_manager_opts *opts, mgr_manager **out)
{
	const char *argv[MANAGER_MAX_ARGS];
	char ppid[24];
	int fds[2];
	mgr_manager *m = calloc(1, sizeof(*m));
	if (!m || !out)
		return free(m), client_fail(m ? MGR_EINVAL : MGR_ENOMEM, "out of memory or out NULL");
	int err = manager_pick_path(m, opts);
	if (!err && !(opts && opts->serve))
		err = manager_binary(opts, m->bin, sizeof(m->bin));
	if (!err)
		err = manager_argv(opts, m->bin, m->path, ppid, sizeof(ppid), argv);
	if (!err && pipe2(fds, O_CLOEXEC))
		err = client_fail(MGR_EIO, "pipe: %s", strerror(errno));
	if (err) {
		manager_cleanup(m);
		return err;
	}
	long open_max = sysconf(_SC_OPEN_MAX);
	m->pid = fork();
	if (m->pid == 0 && opts && opts->serve)
		manager_child_serve(opts, fds[1], open_max, m->path, atoi(ppid));
	if (m->pid == 0)
		manager_child(fds[1], open_max, argv);
	close(fds[1]);
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

int mgr_manager_shutdown(mgr_manager *m)
{
	if (!m)
		return 0;
	int status = 0, err = 0;
	if (m->pid > 0) {
		kill(m->pid, SIGTERM);
		if (!manager_reap(m->pid, clock_now_ms() + 10000, &status)) {
			manager_kill(m);
			err = client_fail(MGR_ETIMEDOUT, "mgrd did not stop in time; killed");
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			err = client_fail(MGR_EIO, "mgrd exited with status %d", status);
		}
	}
	manager_cleanup(m);
	return err;
}
