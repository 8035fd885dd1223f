/* mgrd's loop thread asks for a short scheduler slice (--slice-us, default
 * 100 us; spin.h, docs/design.md "Latency"), so that woken on a CPU busy
 * processes hold it runs at once. Read back from the running daemon with
 * sched_getattr; skipped where the kernel does not report a fair thread's
 * slice (before 6.12). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/spin.h"
#include "harness.h"

/* The kernel's own slice (a thread that asked for none), read before this
 * process asks for one; 0 when the kernel does not report slices. */
static uint64_t kernel_slice;

static int group_setup(void **state)
{
	(void)state;
	kernel_slice = spin_slice_of(0);
	/* does the kernel keep an odd slice asked for? Asked in a child, so
	 * that the daemons forked from here keep the kernel's */
	pid_t pid = fork();
	if (pid == 0)
		_exit(spin_slice_set(345000) == 0 && spin_slice_of(0) == 345000 ? 0 : 1);
	int status;
	if (pid < 0 || !harness_reap_within(pid, 5000, &status) ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		kernel_slice = 0;
	return 0;
}

/* mgrd's main thread is its loop thread; it asks as the loop starts, before
 * it answers the harness's first call. */
static uint64_t daemon_slice(struct harness *h)
{
	return spin_slice_of(mgr_manager_pid(h->m));
}

static void run_with(const char *const *args, uint64_t want)
{
	if (!kernel_slice)
		skip(); /* the kernel does not report a thread's slice */
	struct harness h;
	harness_start(&h, args);
	assert_int_equal(daemon_slice(&h), want);
	harness_stop(&h);
}

static void test_default(void **state)
{
	(void)state;
	run_with(NULL, SPIN_SLICE_NS);
}

static void test_asked(void **state)
{
	(void)state;
	run_with((const char *[]){"--slice-us", "250", NULL}, 250000);
	run_with((const char *[]){"--slice-us", "100000", NULL}, 100000000);
}

/* 0 leaves the kernel's slice; --no-spin does not change the slice. */
static void test_off(void **state)
{
	(void)state;
	run_with((const char *[]){"--slice-us", "0", NULL}, kernel_slice);
	run_with((const char *[]){"--no-spin", NULL}, SPIN_SLICE_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_asked),
		cmocka_unit_test(test_off),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
