/* The waiting decisions of common/spin.c given their inputs: whether the
 * machine has a CPU to spare for polling, and which scheduler slice a
 * waiting thread asks for. No timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/spin.h"

static void test_machine_verdict(void **state)
{
	(void)state;
	assert_true(spin_machine_verdict(2, 2));   /* us and our peer on 2 CPUs */
	assert_true(spin_machine_verdict(2, 1));
	assert_false(spin_machine_verdict(2, 3));  /* one core busy: someone waits */
	assert_false(spin_machine_verdict(2, 10)); /* oversubscribed */
	assert_false(spin_machine_verdict(1, 1));  /* one CPU: polling never pays */
	assert_true(spin_machine_verdict(4, -1));  /* /proc unreadable: the peer checks decide */
	assert_false(spin_machine_verdict(1, -1));
}

/* mgrd's verdict discounts its own clients observed running elsewhere
 * (all but one, which the plain verdict allows for): two clients and mgrd
 * on 2 CPUs are not a busy machine, a stranger's busy loop still is. */
static void test_machine_verdict_ours(void **state)
{
	(void)state;
	assert_true(spin_machine_verdict_ours(2, 3, 2));   /* mgrd and its two clients */
	assert_true(spin_machine_verdict_ours(2, 9, 8));   /* eight clients, no stranger */
	assert_false(spin_machine_verdict_ours(2, 3, 1));  /* one client and a busy loop */
	assert_false(spin_machine_verdict_ours(2, 4, 2));  /* two clients and a busy loop */
	assert_false(spin_machine_verdict_ours(2, 3, 0));
	assert_true(spin_machine_verdict_ours(2, 2, 1));
	assert_true(spin_machine_verdict_ours(2, 1, 5));   /* counts of different moments */
	assert_false(spin_machine_verdict_ours(1, 1, 2));  /* one CPU: never */
	assert_true(spin_machine_verdict_ours(2, -1, 2));  /* unreadable: the peer checks decide */
}

static void test_slice_default(void **state)
{
	(void)state;
	/* opt-in: unset or not a number leaves the kernel's slice */
	assert_int_equal(spin_slice_want(NULL, false), 0);
	assert_int_equal(spin_slice_want("", false), 0);
	assert_int_equal(spin_slice_want("junk", false), 0);
	assert_int_equal(spin_slice_want("-5", false), 0);
	/* the no-spin path stays the kernel's plain blocking, even if asked */
	assert_int_equal(spin_slice_want(NULL, true), 0);
	assert_int_equal(spin_slice_want("300", true), 0);
}

static void test_slice_asked(void **state)
{
	(void)state;
	assert_int_equal(spin_slice_want("0", false), 0); /* off */
	assert_int_equal(spin_slice_want("300", false), 300000);
	assert_int_equal(spin_slice_want("1", false), SPIN_SLICE_MIN_NS);
	assert_int_equal(spin_slice_want("999999999", false), SPIN_SLICE_MAX_NS);
}

static void test_slice_set(void **state)
{
	(void)state;
	assert_int_equal(spin_slice_set(0), 0); /* nothing asked: nothing done */
	/* any kernel takes a SCHED_OTHER thread's sched_runtime (ignored
	 * before 6.12); a container may forbid the call: -1, never a crash */
	int rc = spin_slice_set(SPIN_SLICE_NS);
	assert_true(rc == 0 || rc == -1);
}

/* spin_readable: nothing within the budget, then bytes (left for the
 * reader: a TLS library reads them afterwards), then EOF. */
static void test_readable(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct spin s = SPIN_INIT_JUDGED;
	assert_false(spin_readable(&s, sv[0]));
	assert_int_equal(write(sv[1], "ab", 2), 2);
	s = (struct spin)SPIN_INIT_JUDGED;
	assert_true(spin_readable(&s, sv[0]));
	char buf[4];
	assert_int_equal(read(sv[0], buf, sizeof(buf)), 2); /* both bytes still there */
	assert_memory_equal(buf, "ab", 2);
	close(sv[1]);
	s = (struct spin)SPIN_INIT_JUDGED;
	assert_true(spin_readable(&s, sv[0])); /* EOF is something to read */
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine_verdict),
		cmocka_unit_test(test_machine_verdict_ours),
		cmocka_unit_test(test_slice_default),
		cmocka_unit_test(test_slice_asked),
		cmocka_unit_test(test_slice_set),
		cmocka_unit_test(test_readable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
