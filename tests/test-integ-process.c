/* mgr/process.h as Python's Process: start and join with the exit code,
 * join with a timeout (0 polls), is_alive, terminate and kill (-signal as
 * the exit code), a daemon child killed with its parent, and no zombie
 * left by join, is_alive or free (read from /proc). The one child of a
 * running manager is never reaped by these (the manager still stops
 * cleanly in the teardown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mgr/process.h>

#include "sync-helpers.h"

/* The state letter of pid in /proc (R, S, Z...), or 0 if there is none. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *close_paren = strrchr(buf, ')');
	return close_paren && close_paren[1] == ' ' ? close_paren[2] : 0;
}

/* Waits (at most 10 s) until the child pid has ended and is waitable, not
 * reaped yet. Its /proc state Z is not enough: the leader shows Z while
 * other threads of its (a sanitizer's helper threads) still exit. */
static void wait_ended(pid_t pid)
{
	int64_t deadline = clock_now_ms() + 10000;
	siginfo_t si = {0};
	while (clock_now_ms() < deadline) {
		si.si_pid = 0;
		assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT), 0);
		if (si.si_pid == pid)
			break;
	}
	assert_int_equal(si.si_pid, pid);
	assert_int_equal(proc_state(pid), 'Z');
}

static int exit_with(void *arg) { return (int)(intptr_t)arg; }

static _Noreturn int sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
}

static void test_process_exitcode(void **state)
{
	(void)state;
	mgr_process *p;
	int code = -1;
	assert_int_equal(mgr_process_start(exit_with, (void *)(intptr_t)7, 0, &p), 0);
	assert_true(mgr_process_pid(p) > 0);
	assert_int_equal(mgr_process_join(p, 10000, &code), 0);
	assert_int_equal(code, 7);
	assert_false(mgr_process_is_alive(p));
	code = -1;
	assert_int_equal(mgr_process_exitcode(p, &code), 0); /* and again */
	assert_int_equal(code, 7);
	assert_int_equal(mgr_process_join(p, 0, &code), 0);
	assert_int_equal(mgr_process_terminate(p), 0); /* reaped: nothing is sent */
	mgr_process_free(p);
	assert_int_equal(mgr_process_start(NULL, NULL, 0, &p), MGR_EINVAL);
	assert_int_equal(mgr_process_start(exit_with, NULL, 1u << 5, &p), MGR_EINVAL);
}

static void test_process_timeout_terminate(void **state)
{
	(void)state;
	mgr_process *p;
	int code = 0;
	assert_int_equal(mgr_process_start(sleep_forever, NULL, 0, &p), 0);
	assert_int_equal(mgr_process_join(p, 0, &code), MGR_ETIMEDOUT); /* 0 polls */
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_process_join(p, 50, &code), MGR_ETIMEDOUT);
	assert_true(clock_now_ms() - t0 >= 40);
	assert_int_equal(code, 0); /* untouched */
	assert_true(mgr_process_is_alive(p));
	assert_int_equal(mgr_process_exitcode(p, &code), MGR_ESTATE); /* Python's None */
	assert_int_equal(mgr_process_join(p, -1, &code), MGR_EINVAL);
	assert_int_equal(mgr_process_terminate(p), 0);
	assert_int_equal(mgr_process_join(p, MGR_FOREVER, &code), 0);
	assert_int_equal(code, -SIGTERM);
	mgr_process_free(p);

	assert_int_equal(mgr_process_start(sleep_forever, NULL, 0, &p), 0);
	assert_int_equal(mgr_process_kill(p), 0);
	assert_int_equal(mgr_process_join(p, 10000, &code), 0);
	assert_int_equal(code, -SIGKILL);
	mgr_process_free(p);
}

/* No zombie: an ended child is a zombie until reaped; each of join,
 * is_alive and free reaps it (its /proc entry goes). */
static void test_process_no_zombie(void **state)
{
	(void)state;
	for (int how = 0; how < 3; how++) {
		mgr_process *p;
		assert_int_equal(mgr_process_start(exit_with, NULL, 0, &p), 0);
		pid_t pid = mgr_process_pid(p);
		wait_ended(pid); /* ended, not reaped yet */
		if (how == 0)
			assert_int_equal(mgr_process_join(p, 0, NULL), 0);
		else if (how == 1)
			assert_false(mgr_process_is_alive(p));
		else
			mgr_process_free(p);
		assert_int_equal(proc_state(pid), 0);
		if (how < 2)
			mgr_process_free(p);
	}
	/* free waits for a running child, and kills a running daemon first */
	mgr_process *p;
	assert_int_equal(mgr_process_start(sleep_forever, NULL, MGR_PROCESS_DAEMON, &p), 0);
	pid_t pid = mgr_process_pid(p);
	mgr_process_free(p);
	assert_int_equal(proc_state(pid), 0);
}

/* The daemon child: says its pid on fd (from inside the child, so after
 * it asked to die with its parent), then sleeps. */
static _Noreturn int report_and_sleep(void *arg)
{
	int fd = *(int *)arg;
	pid_t pid = getpid();
	if (write(fd, &pid, sizeof(pid)) != sizeof(pid))
		_exit(1);
	close(fd);
	sleep_forever(NULL);
}

/* In a doomed parent: a daemon child that sleeps. The pid comes from the
 * child once it runs: killing the parent before the child set its death
 * signal would take the child's other path (it exits at once, 255). */
static void start_daemon(void *arg, int fd)
{
	(void)arg;
	mgr_process *p;
	if (mgr_process_start(report_and_sleep, &fd, MGR_PROCESS_DAEMON, &p) != 0)
		_exit(1);
	close(fd);
}

/* Python's daemon children go with their parent; here even when the parent
 * is SIGKILLed (it cannot clean up): the kernel kills them. */
static void test_process_daemon_dies_with_parent(void **state)
{
	(void)state;
	pid_t child = 0;
	int st = 0;
	pid_t parent = harness_doomed_parent(start_daemon, NULL, &child, sizeof(child));
	assert_true(child > 0);
	assert_int_equal(proc_state(child) != 0, 1);
	assert_int_equal(kill(parent, SIGKILL), 0);
	assert_int_equal(waitpid(parent, &st, 0), parent);
	assert_true(harness_reap_orphan(child, &st)); /* ended by itself, in time */
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_exitcode),
		cmocka_unit_test(test_process_timeout_terminate),
		cmocka_unit_test(test_process_no_zombie),
		cmocka_unit_test(test_process_daemon_dies_with_parent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
