/* A private manager's life, seen from its parent: start and connect by
 * address, shutdown reaps it and removes its socket and directory, restart
 * at the same address, Ctrl-C does not reach it, it exits when its parent
 * is SIGKILLed, it starts from a threaded program, a bad mgrd path is a
 * clean error, a serve function may use a handle inherited over fork, and
 * start_timeout_ms bounds every way a start can fail. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* True if pid is a child of ours that has not been reaped. */
static bool lifecycle_is_our_child(pid_t pid)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void lifecycle_dirname(const char *path, char *dir, size_t size)
{
	snprintf(dir, size, "%s", path);
	char *slash = strrchr(dir, '/');
	assert_non_null(slash);
	*slash = '\0';
}

static mgr_manager *lifecycle_start(const char *address)
{
	mgr_manager_opts o = {.address = address};
	mgr_manager *m = NULL;
	int err = mgr_manager_start(&o, &m);
	if (err)
		fail_msg("mgr_manager_start: %s: %s", mgr_strerror(err), mgr_client_errmsg(NULL));
	return m;
}

static void test_start_connect_by_address(void **state)
{
	(void)state;
	mgr_manager *m = lifecycle_start(NULL);
	const char *addr = mgr_manager_address(m);
	assert_non_null(addr);
	assert_true(mgr_manager_pid(m) > 0);

	char dir[128];
	struct stat st;
	lifecycle_dirname(addr, dir, sizeof(dir));
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(st.st_uid, getuid());
	assert_int_equal(stat(addr, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	/* a first client makes an object, a second finds it by address */
	mgr_client *c1, *c2;
	mgr_object *a, *b;
	int64_t v = 0;
	assert_int_equal(mgr_client_connect(addr, &c1), 0);
	assert_int_equal(mgr_counter_open(c1, "shared", &a), 0);
	assert_int_equal(mgr_counter_add(a, 41, NULL), 0);
	assert_int_equal(mgr_client_connect(addr, &c2), 0);
	assert_string_equal(mgr_client_path(c2), addr);
	assert_true(mgr_client_session(c2) != mgr_client_session(c1));
	assert_int_equal(mgr_object_lookup(c2, "shared", &b), 0);
	assert_int_equal(mgr_counter_add(b, 1, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(mgr_counter_get(a, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(harness_info(c1, "sessions"), 2);

	/* through MGR_SOCKET too, as children find it */
	mgr_client *c3;
	assert_int_equal(setenv("MGR_SOCKET", addr, 1), 0);
	assert_int_equal(mgr_client_connect(NULL, &c3), 0);
	unsetenv("MGR_SOCKET");
	assert_int_equal(harness_info(c3, "sessions"), 3);

	mgr_object_release(a);
	mgr_object_release(b);
	mgr_client_close(c1);
	mgr_client_close(c2);
	mgr_client_close(c3);
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

static void test_shutdown_reaps_and_cleans(void **state)
{
	(void)state;
	mgr_manager *m = lifecycle_start(NULL);
	pid_t pid = mgr_manager_pid(m);
	char path[128], dir[128];
	snprintf(path, sizeof(path), "%s", mgr_manager_address(m));
	lifecycle_dirname(path, dir, sizeof(dir));
	assert_true(lifecycle_is_our_child(pid));

	/* a client still connected does not hold the shutdown up */
	mgr_client *c;
	assert_int_equal(mgr_client_connect(path, &c), 0);
	assert_int_equal(mgr_call(mgr_client_manager(c), "ping", NULL, 0, NULL), 0);
	assert_int_equal(mgr_manager_shutdown(m), 0);

	/* reaped: no zombie left, and it is no child of ours any more */
	assert_false(lifecycle_is_our_child(pid));
	errno = 0;
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	struct stat st;
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* the old client sees the manager gone, and does not crash */
	assert_int_not_equal(mgr_call(mgr_client_manager(c), "ping", NULL, 0, NULL), 0);
	mgr_client_close(c);
	assert_int_equal(mgr_manager_shutdown(NULL), 0);
}

/* Python's _TestManagerRestart: a new manager at the same address right
 * after the old one's shutdown (no EADDRINUSE, no stale socket). */
static void test_restart_same_address(void **state)
{
	(void)state;
	char dir[] = "/tmp/mgr-test-restart-XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mgrd.sock", dir);

	uint64_t first_instance_objects = 0;
	for (int round = 0; round < 3; round++) {
		mgr_manager *m = lifecycle_start(path);
		assert_string_equal(mgr_manager_address(m), path);
		mgr_client *c;
		mgr_object *o;
		int64_t v = -1;
		assert_int_equal(mgr_client_connect(path, &c), 0);
		/* a fresh manager: nothing of the previous one is left */
		assert_int_equal(mgr_object_lookup(c, "survivor", &o), MGR_ENOOBJ);
		if (round == 0)
			first_instance_objects = (uint64_t)harness_info(c, "objects");
		assert_int_equal((uint64_t)harness_info(c, "objects"), first_instance_objects);
		assert_int_equal(mgr_counter_open(c, "survivor", &o), 0);
		assert_int_equal(mgr_counter_add(o, round + 1, &v), 0);
		assert_int_equal(v, round + 1);
		mgr_object_release(o);
		mgr_client_close(c);
		assert_int_equal(mgr_manager_shutdown(m), 0);
		struct stat st;
		assert_int_equal(stat(path, &st), -1); /* mgrd removed its socket */
		assert_int_equal(stat(dir, &st), 0);   /* the caller's directory stays */
	}
	assert_int_equal(rmdir(dir), 0);
}

/* SIGINT ignored at the kernel: a signal sent is discarded at once, so the
 * check right after kill() is not a race. */
static bool lifecycle_ignores_sigint(pid_t pid)
{
	char file[64], line[256];
	snprintf(file, sizeof(file), "/proc/%d/status", (int)pid);
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	unsigned long long ign = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigIgn: %llx", &ign) == 1)
			break;
	fclose(f);
	return ign & (1ull << (SIGINT - 1));
}

static void lifecycle_sigint(const mgr_manager_opts *o)
{
	mgr_manager *m;
	assert_int_equal(mgr_manager_start(o, &m), 0);
	pid_t pid = mgr_manager_pid(m);
	/* its own process group: a terminal's Ctrl-C goes to ours, not to it */
	assert_int_equal(getpgid(pid), pid);
	assert_int_not_equal(getpgid(pid), getpgrp());
	assert_true(lifecycle_ignores_sigint(pid));

	mgr_client *c;
	assert_int_equal(mgr_client_connect(mgr_manager_address(m), &c), 0);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(kill(-pid, SIGINT), 0); /* Ctrl-C as if it were in the foreground */
	assert_int_equal(mgr_call(mgr_client_manager(c), "ping", NULL, 0, NULL), 0);
	assert_true(lifecycle_is_our_child(pid));
	assert_int_equal(waitpid(pid, NULL, WNOHANG), 0); /* still running */
	mgr_client_close(c);
	assert_int_equal(mgr_manager_shutdown(m), 0); /* SIGTERM still stops it */
}

static void test_sigint_does_not_stop_it(void **state)
{
	(void)state;
	lifecycle_sigint(NULL);
}

/* The forked variant (opts.serve) behaves the same. A program linking only
 * libmgr cannot name mgr_server_main, so a stand-in serve function that
 * execs mgrd checks the fork path's signal setup. */
static int lifecycle_serve_exec(const char *path, int ready_fd, int parent_pid)
{
	char fd[16], ppid[16];
	snprintf(fd, sizeof(fd), "%d", ready_fd);
	snprintf(ppid, sizeof(ppid), "%d", parent_pid);
	fcntl(ready_fd, F_SETFD, 0);
	execl(getenv("MGR_MGRD"), "mgrd", "--socket", path, "--ready-fd", fd, "--parent-pid", ppid,
	      "--ignore-sigint", (char *)NULL);
	return 127;
}

static void test_sigint_serve_variant(void **state)
{
	(void)state;
	mgr_manager_opts o = {.serve = lifecycle_serve_exec};
	lifecycle_sigint(&o);
}

/* The manager keeps none of the program's fds: a pipe whose write end the
 * program closes after starting a manager reads EOF (a worker pool that
 * waits for EOF would hang forever otherwise). */
static void lifecycle_pipe_eof(const mgr_manager_opts *o)
{
	int p[2];
	assert_int_equal(pipe(p), 0); /* not CLOEXEC, as programs often do */
	mgr_manager *m;
	assert_int_equal(mgr_manager_start(o, &m), 0);
	close(p[1]);
	struct pollfd pfd = {p[0], POLLIN, 0};
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	char c;
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

static void test_no_inherited_fds(void **state)
{
	(void)state;
	lifecycle_pipe_eof(NULL);
	mgr_manager_opts o = {.serve = lifecycle_serve_exec};
	lifecycle_pipe_eof(&o);
}

/* Reads exactly len bytes, or fails the test. */
struct orphan_report {
	pid_t mgrd;
	char address[108];
};

/* In the doomed parent: a private manager, reported to fd. */
static void lifecycle_start_manager(void *arg, int fd)
{
	(void)arg;
	struct orphan_report r = {0};
	mgr_manager *m;
	if (mgr_manager_start(NULL, &m))
		_exit(1);
	r.mgrd = mgr_manager_pid(m);
	snprintf(r.address, sizeof(r.address), "%s", mgr_manager_address(m));
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
}

/* The parent dies by SIGKILL (no cleanup of its own): the manager sees it
 * through its pidfd and exits. We are the subreaper, so the orphaned
 * manager becomes our child and we can reap it. */
static void test_parent_sigkilled_manager_exits(void **state)
{
	(void)state;
	struct orphan_report r;
	pid_t parent = harness_doomed_parent(lifecycle_start_manager, NULL, &r, sizeof(r));
	assert_true(r.mgrd > 0);

	/* the manager works before its parent dies */
	mgr_client *c;
	assert_int_equal(mgr_client_connect(r.address, &c), 0);
	assert_int_equal(mgr_call(mgr_client_manager(c), "ping", NULL, 0, NULL), 0);
	mgr_client_close(c);

	assert_int_equal(kill(parent, SIGKILL), 0);
	int st;
	assert_int_equal(waitpid(parent, &st, 0), parent);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* it must go by itself, not because we stop it */
	assert_true(harness_reap_orphan(r.mgrd, &st));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	struct stat sb;
	assert_int_equal(stat(r.address, &sb), -1); /* it removed its socket */
	/* Its directory was the dead parent's to remove; tidy it here. */
	char dir[128];
	lifecycle_dirname(r.address, dir, sizeof(dir));
	rmdir(dir);
}

/* ---- a program that already has threads ---- */

struct sleepers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int running;
};

static void *lifecycle_sleeper(void *arg)
{
	struct sleepers *s = arg;
	pthread_mutex_lock(&s->mu);
	s->running++;
	pthread_cond_broadcast(&s->cv);
	while (!s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void *lifecycle_start_in_thread(void *arg)
{
	mgr_manager **m = arg;
	if (mgr_manager_start(NULL, m))
		*m = NULL;
	return NULL;
}

static void lifecycle_use(mgr_manager *m)
{
	mgr_client *c;
	mgr_object *o;
	int64_t v = 0;
	assert_int_equal(mgr_client_connect(mgr_manager_address(m), &c), 0);
	assert_int_equal(mgr_counter_open(c, "n", &o), 0);
	assert_int_equal(mgr_counter_add(o, 7, &v), 0);
	assert_int_equal(v, 7);
	mgr_object_release(o);
	mgr_client_close(c);
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

static void test_start_with_threads(void **state)
{
	(void)state;
	enum { N = 4 };
	struct sleepers s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};
	pthread_t t[N];
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_create(&t[i], NULL, lifecycle_sleeper, &s), 0);
	pthread_mutex_lock(&s.mu);
	while (s.running < N)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);

	/* from the main thread, while the others wait on a condition */
	lifecycle_use(lifecycle_start(NULL));
	/* from another thread, and twice at once */
	mgr_manager *m1 = NULL, *m2 = NULL;
	pthread_t s1, s2;
	assert_int_equal(pthread_create(&s1, NULL, lifecycle_start_in_thread, &m1), 0);
	assert_int_equal(pthread_create(&s2, NULL, lifecycle_start_in_thread, &m2), 0);
	pthread_join(s1, NULL);
	pthread_join(s2, NULL);
	assert_non_null(m1);
	assert_non_null(m2);
	assert_string_not_equal(mgr_manager_address(m1), mgr_manager_address(m2));
	lifecycle_use(m1);
	lifecycle_use(m2);

	pthread_mutex_lock(&s.mu);
	s.done = true;
	pthread_cond_broadcast(&s.cv);
	pthread_mutex_unlock(&s.mu);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
}

/* No child of ours is left, reaped or not. */
static void lifecycle_assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void lifecycle_bad_binary(const char *bin, const char *why)
{
	mgr_manager_opts o = {.mgrd = bin};
	mgr_manager *m = (mgr_manager *)&o; /* must stay untouched */
	int err = mgr_manager_start(&o, &m);
	assert_int_equal(err, MGR_ECONNECT);
	assert_ptr_equal(m, (mgr_manager *)&o);
	assert_non_null(strstr(mgr_client_errmsg(NULL), why));
	assert_null(strstr(mgr_client_errmsg(NULL), "status 127"));
	lifecycle_assert_no_children();
}

static void test_bad_mgrd_path(void **state)
{
	(void)state;
	lifecycle_assert_no_children();
	lifecycle_bad_binary("/nonexistent/mgrd", "mgrd not found: /nonexistent/mgrd");
	/* runs, exits without becoming ready */
	lifecycle_bad_binary("/bin/false", "mgrd exited before it was ready");
	lifecycle_bad_binary("/dev/null", "mgrd not found: /dev/null"); /* not executable */
	/* and a good start still works after those */
	lifecycle_use(lifecycle_start(NULL));
	lifecycle_assert_no_children();
}

/* ---- serve in a program that already talks to a manager ----
 * Each scenario runs in a child of the test (the program), reaped within a
 * deadline: a start that never returns fails the test in seconds (its
 * manager then sees its parent die and exits). */

#define LIFECYCLE_PROGRAM_MS 30000

static mgr_object *lifecycle_inherited; /* the program's, used in serve */

/* A serve function that first calls through a handle the program opened
 * before mgr_manager_start forked, then runs mgrd on ready_fd. */
static int lifecycle_serve_inherited(const char *path, int ready_fd, int parent_pid)
{
	if (mgr_counter_add(lifecycle_inherited, 1, NULL))
		return 3;
	return lifecycle_serve_exec(path, ready_fd, parent_pid);
}

/* Runs fn in a child (the program) and asserts it exits 0 in time. */
static void lifecycle_in_program(int (*fn)(void *arg, int i), void *arg)
{
	pid_t pid = harness_spawn(fn, arg, 0);
	int st = 0;
	if (!harness_reap_within(pid, LIFECYCLE_PROGRAM_MS, &st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("the program did not finish in %d ms: a start hung", LIFECYCLE_PROGRAM_MS);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("the program failed: status %#x", st);
}

/* The program: its client's connection is fd 3 — the number the readiness
 * pipe takes in the manager's child — when it starts a manager whose serve
 * uses the client. The start must succeed, the call must have happened on
 * a connection of serve's own, and the program's client must be unharmed. */
static int lifecycle_program_inherits(void *arg, int i)
{
	(void)i;
	const char *addr = arg;
	close(3); /* this process's fd 3, if any, is nobody's: make it the client's */
	mgr_client *c;
	struct stat sb;
	if (mgr_client_connect(addr, &c) || fstat(3, &sb) || !S_ISSOCK(sb.st_mode))
		return 10;
	if (mgr_counter_open(c, "inherited", &lifecycle_inherited))
		return 11;
	mgr_manager_opts o = {.serve = lifecycle_serve_inherited, .start_timeout_ms = 10000};
	mgr_manager *m;
	int err = mgr_manager_start(&o, &m);
	if (err)
		return 12;
	mgr_client *c2;
	int64_t v = 0;
	if (mgr_client_connect(mgr_manager_address(m), &c2) ||
	    mgr_call(mgr_client_manager(c2), "ping", NULL, 0, NULL))
		return 13;
	mgr_client_close(c2);
	if (mgr_manager_shutdown(m))
		return 14;
	if (mgr_counter_get(lifecycle_inherited, &v) || v != 1) /* serve's call, one */
		return 15;
	mgr_object_release(lifecycle_inherited);
	mgr_client_close(c);
	return 0;
}

static void test_serve_uses_inherited_handle(void **state)
{
	(void)state;
	mgr_manager *m = lifecycle_start(NULL);
	lifecycle_in_program(lifecycle_program_inherits, (void *)mgr_manager_address(m));
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

/* ---- start_timeout_ms, whatever the child does ---- */

#define LIFECYCLE_START_MS 500
#define LIFECYCLE_MARGIN_MS 5000 /* generous: only a hang is wrong */

/* These stand-ins never serve: should the program die (a start that
 * hangs is killed), they go with it instead of pausing for ever. */
static void lifecycle_die_with_parent(int parent_pid)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent_pid)
		_exit(1);
}

/* Never becomes ready: sleeps, keeping the pipe open. */
static int lifecycle_serve_sleeps(const char *path, int ready_fd, int parent_pid)
{
	(void)path, (void)ready_fd;
	lifecycle_die_with_parent(parent_pid);
	for (;;)
		pause(); /* no handler: only killing it ends this */
	return 0;
}

/* Closes the pipe without a word, and lives on. */
static int lifecycle_serve_closes(const char *path, int ready_fd, int parent_pid)
{
	(void)path;
	lifecycle_die_with_parent(parent_pid);
	close(ready_fd);
	for (;;)
		pause(); /* no handler: only killing it ends this */
	return 0;
}

/* Writes a byte now and then, never a whole line. */
static int lifecycle_serve_drips(const char *path, int ready_fd, int parent_pid)
{
	(void)path;
	lifecycle_die_with_parent(parent_pid);
	struct timespec tick = {0, 100 * 1000 * 1000};
	for (;;) {
		if (write(ready_fd, "r", 1) != 1)
			return 1;
		nanosleep(&tick, NULL);
	}
}

struct lifecycle_timeout_case {
	int (*serve)(const char *, int, int);
	int want;
};

/* The program: the start fails with the case's error within the timeout
 * (plus a margin), and leaves no child behind, reaped or not. */
static int lifecycle_program_times_out(void *arg, int i)
{
	(void)i;
	const struct lifecycle_timeout_case *k = arg;
	mgr_manager_opts o = {.serve = k->serve, .start_timeout_ms = LIFECYCLE_START_MS};
	mgr_manager *m = NULL;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int err = mgr_manager_start(&o, &m);
	clock_gettime(CLOCK_MONOTONIC, &b);
	int64_t ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	if (err != k->want || m)
		return 20;
	if (ms > LIFECYCLE_START_MS + LIFECYCLE_MARGIN_MS)
		return 21;
	errno = 0;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		return 22; /* a zombie or a live child left */
	return 0;
}

static void test_start_timeout_honoured(void **state)
{
	(void)state;
	struct lifecycle_timeout_case cases[] = {
		{lifecycle_serve_sleeps, MGR_ETIMEDOUT},
		{lifecycle_serve_closes, MGR_ECONNECT},
		{lifecycle_serve_drips, MGR_ETIMEDOUT},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		lifecycle_in_program(lifecycle_program_times_out, &cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_connect_by_address),
		cmocka_unit_test(test_shutdown_reaps_and_cleans),
		cmocka_unit_test(test_restart_same_address),
		cmocka_unit_test(test_sigint_does_not_stop_it),
		cmocka_unit_test(test_sigint_serve_variant),
		cmocka_unit_test(test_no_inherited_fds),
		cmocka_unit_test(test_parent_sigkilled_manager_exits),
		cmocka_unit_test(test_start_with_threads),
		cmocka_unit_test(test_bad_mgrd_path),
		cmocka_unit_test(test_serve_uses_inherited_handle),
		cmocka_unit_test(test_start_timeout_honoured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
