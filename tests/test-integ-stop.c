/* The stop deadline (mgrd --stop-timeout, MGR_STOP_TIMEOUT_MS for a program
 * serving its own types): a custom type's method that never returns
 * (tests/stuck-type.c) no longer keeps a stopping manager alive. Past the
 * deadline it logs the call, ends the rest of its process group (what its
 * methods started) and exits with status 3, whether a shutdown or its
 * parent's death stopped it. Before the deadline existed, mgrd waited for
 * the method forever: shutdown SIGKILLed it after 10 s (MGR_ETIMEDOUT) and
 * an orphaned manager never exited. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <mgr/server.h>

#include "harness.h"
#include "stuck-type.h"

#define STOP_CALL_MS 30000 /* a call's bound: a regression fails, never hangs */

/* ---- a call that never returns ---- */

struct blocker {
	const char *path;
	const char *method; /* NULL: block (on a worker); or block_inline */
	pthread_t thread;
	int err; /* what block() ended with: the manager went away */
};

/* Its own client (a client is one thread's) and object. */
static void *blocker_run(void *arg)
{
	struct blocker *b = arg;
	mgr_client *c = NULL;
	mgr_object *o = NULL;
	b->err = mgr_client_connect(b->path, &c);
	if (!b->err) {
		mgr_client_set_timeout(c, STOP_CALL_MS);
		b->err = mgr_object_create(c, "test.stuck", NULL, NULL, 0, &o);
	}
	if (!b->err)
		b->err = mgr_call(o, b->method ? b->method : "block", NULL, 0, NULL);
	mgr_object_release(o);
	mgr_client_close(c);
	return NULL;
}

static int64_t stop_int_call(mgr_object *o, const char *method)
{
	mgr_value *r = NULL;
	int err = mgr_call(o, method, NULL, 0, &r);
	int64_t v = err ? -1 : mgr_value_int(r);
	mgr_value_free(r);
	return v;
}

/* Starts block() on another thread and returns once it runs in the
 * manager; *spawned: a process the manager forked (its group's). */
static int stop_block(struct blocker *b, const char *path, pid_t *spawned)
{
	mgr_client *c = NULL;
	mgr_object *o = NULL;
	b->path = path;
	if (mgr_client_connect(path, &c))
		return -1;
	mgr_client_set_timeout(c, STOP_CALL_MS);
	int ok = !mgr_object_create(c, "test.stuck", NULL, NULL, 0, &o);
	*spawned = ok ? (pid_t)stop_int_call(o, "spawn") : -1;
	ok = ok && *spawned > 0 && !pthread_create(&b->thread, NULL, blocker_run, b);
	for (int i = 0; ok && i < 1000 && stop_int_call(o, "blocked") < 1; i++)
		usleep(10000); /* bounded: 10 s */
	ok = ok && stop_int_call(o, "blocked") == 1;
	mgr_object_release(o);
	mgr_client_close(c);
	return ok ? 0 : -1;
}

/* Starts block_inline() on another thread and returns once the loop is
 * stuck in it: a ping over another connection stops being answered. */
static int stop_block_loop(struct blocker *b, const char *path)
{
	mgr_client *c = NULL;
	b->path = path;
	b->method = "block_inline";
	if (mgr_client_connect(path, &c) || pthread_create(&b->thread, NULL, blocker_run, b))
		return -1;
	mgr_client_set_timeout(c, 200);
	int err = 0;
	for (int i = 0; i < 1000 && err != MGR_ETIMEDOUT; i++) { /* bounded: 10 s */
		err = mgr_call(mgr_client_manager(c), "ping", NULL, 0, NULL);
		if (err != MGR_ETIMEDOUT)
			usleep(10000);
	}
	mgr_client_close(c);
	return err == MGR_ETIMEDOUT ? 0 : -1;
}

/* Reaps pid (a process the manager forked, ours once it was orphaned: we
 * are a subreaper); whether it had ended within 10 s (else it is killed,
 * so that a failing test leaves nothing behind). */
static bool stop_reap(pid_t pid, int *status)
{
	if (pid <= 0)
		return false;
	if (harness_reap_within(pid, 10000, status))
		return true;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return false;
}

/* ---- mgrd --module, --stop-timeout, shutdown ---- */

/* mgrd serving test.stuck, --stop-timeout 300, its log in log; the
 * client is closed (the manager alone is needed). */
static mgr_manager *stop_start(char log[64])
{
	const char *mod = getenv("MGR_STUCK_MODULE");
	assert_non_null(mod);
	const char *args[] = {"--module", mod, "--stop-timeout", "300", NULL};
	mgr_manager *m;
	mgr_client *c;
	harness_start_logged(args, "mgr-stop", log, &m, &c, STOP_CALL_MS);
	mgr_client_close(c);
	return m;
}

static void test_stop_timeout_ends_stuck_call(void **state)
{
	(void)state;
	char log[64];
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0); /* to reap the spawned */
	mgr_manager *m = stop_start(log);
	struct blocker b = {0};
	pid_t spawned = -1;
	assert_int_equal(stop_block(&b, mgr_manager_address(m), &spawned), 0);
	int err = mgr_manager_shutdown(m);
	int st = 0;
	bool spawned_gone = stop_reap(spawned, &st);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	assert_int_equal(pthread_join(b.thread, NULL), 0);
	/* EIO: mgrd exited by itself with status 3 (old: killed, ETIMEDOUT) */
	assert_int_equal(err, MGR_EIO);
	assert_int_not_equal(b.err, 0);
	assert_true(spawned_gone && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(harness_log_count(log, "test.stuck.block on object", NULL), 1);
	assert_int_equal(harness_log_count(log, "still running after", NULL), 1);
	assert_int_equal(harness_log_count(log, "exiting (status 3)", NULL), 1);
	harness_log_clean(log);
	unlink(log);
}

/* The same with the loop itself stuck (an MGR_METHOD_INLINE method): the
 * loop never sees the stop; the watchdog ends it past the deadline. Before
 * it, shutdown waited 10 s and SIGKILLed (MGR_ETIMEDOUT). */
static void test_stop_timeout_ends_stuck_loop(void **state)
{
	(void)state;
	char log[64];
	mgr_manager *m = stop_start(log);
	char *path = strdup(mgr_manager_address(m));
	struct blocker b = {0};
	assert_int_equal(stop_block_loop(&b, path), 0);
	int err = mgr_manager_shutdown(m);
	assert_int_equal(pthread_join(b.thread, NULL), 0);
	assert_int_equal(err, MGR_EIO); /* exited by itself, status 3 */
	assert_int_not_equal(b.err, 0);
	assert_int_equal(access(path, F_OK), -1); /* its socket gone too */
	assert_int_equal(harness_log_count(log, "the loop did not come back", NULL), 1);
	assert_int_equal(harness_log_count(log, "exiting (status 3)", NULL), 1);
	free(path);
	harness_log_clean(log);
	unlink(log);
}

/* ---- a program's own manager, its program SIGKILLed ---- */

struct stop_pids {
	pid_t mgr, spawned;
};

/* In the doomed parent: a served manager running block(), or with arg its
 * loop stuck in block_inline() (and no process spawned); its pids. */
static void stop_start_served(void *arg, int fd)
{
	static struct blocker b;
	struct stop_pids p = {-1, -1};
	mgr_manager *m;
	setenv("MGR_STOP_TIMEOUT_MS", "300", 1);
	mgr_manager_opts o = {.serve = mgr_server_main};
	if (!mgr_type_register(&stuck_type) && !mgr_manager_start(&o, &m) &&
	    !(arg ? stop_block_loop(&b, mgr_manager_address(m))
		  : stop_block(&b, mgr_manager_address(m), &p.spawned)))
		p.mgr = mgr_manager_pid(m);
	if (write(fd, &p, sizeof(p)) != (ssize_t)sizeof(p))
		_exit(1);
}

static void test_orphan_with_stuck_call_exits(void **state)
{
	(void)state;
	struct stop_pids p = {0};
	pid_t parent = harness_doomed_parent(stop_start_served, NULL, &p, sizeof(p));
	assert_true(p.mgr > 0 && p.spawned > 0);
	assert_int_equal(kill(parent, SIGKILL), 0);
	assert_int_equal(waitpid(parent, NULL, 0), parent);
	int st = 0;
	/* old: it saw its parent go and waited for block() forever */
	bool by_itself = harness_reap_orphan(p.mgr, &st);
	int sst = 0;
	bool spawned_gone = stop_reap(p.spawned, &sst);
	assert_true(by_itself);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	assert_true(spawned_gone);
}

/* Its loop stuck: it never sees its parent go, the watchdog does. */
static void test_orphan_with_stuck_loop_exits(void **state)
{
	(void)state;
	struct stop_pids p = {0};
	pid_t parent = harness_doomed_parent(stop_start_served, "loop", &p, sizeof(p));
	assert_true(p.mgr > 0);
	assert_int_equal(kill(parent, SIGKILL), 0);
	assert_int_equal(waitpid(parent, NULL, 0), parent);
	int st = 0;
	assert_true(harness_reap_orphan(p.mgr, &st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_timeout_ends_stuck_call),
		cmocka_unit_test(test_orphan_with_stuck_call_exits),
		cmocka_unit_test(test_stop_timeout_ends_stuck_loop),
		cmocka_unit_test(test_orphan_with_stuck_loop_exits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
