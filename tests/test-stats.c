/* mgrd/stats.c: the calls' clock (TSC ticks converted with a measured
 * ratio where the kernel keeps time with the TSC, else clock_now_ns()) and
 * the latency histogram it feeds. A sleep of known length must read as at
 * least that long and not absurdly longer, before and after the ratio is
 * measured again; no upper bound that a busy machine could break. And
 * runs: one reading a call, each call starting where the one before it
 * ended, within a connection's read only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "../mgrd/stats.h"
#include "../mgrd/type.h"

#define SLEEP_NS 5000000ull

static uint64_t slept_ns(void)
{
	uint64_t t0 = stats_run_start(NULL, 0); /* a call alone: a fresh reading */
	struct timespec ts = {0, SLEEP_NS};
	while (nanosleep(&ts, &ts))
		;
	return stats_run_ns(t0, NULL, 0);
}

static void test_stats_clock_measures_a_sleep(void **state)
{
	(void)state;
	uint64_t ns = slept_ns();
	assert_true(ns >= SLEEP_NS - SLEEP_NS / 100); /* the ratio within 1% */
	assert_true(ns < 60ull * 1000000000ull);
}

/* 70,000 conversions: the ratio is measured again (every 65,536) and the
 * clock still reads right; no back-to-back reading comes out as 2^64. */
static void test_stats_clock_recalibrated(void **state)
{
	(void)state;
	for (int i = 0; i < 70000; i++)
		assert_true(stats_run_ns(stats_run_start(NULL, 0), NULL, 0) < 1000000000ull);
	uint64_t ns = slept_ns();
	assert_true(ns >= SLEEP_NS - SLEEP_NS / 100);
	assert_true(ns < 60ull * 1000000000ull);
}

static void test_stats_record_quantiles(void **state)
{
	(void)state;
	struct method_stats s = {0};
	for (int i = 0; i < 99; i++)
		stats_record(&s, 0, 1000);
	stats_record(&s, CALL_PARKED, 1000000);
	assert_int_equal(s.calls, 100);
	assert_int_equal(s.parked, 1);
	assert_int_equal(s.max_ns, 1000000);
	uint64_t p50 = stats_quantile(&s, 0.50);
	assert_true(p50 >= 1000 && p50 < 1024 + 256);
	assert_int_equal(stats_quantile(&s, 1.0), 1000000);
	stats_record(NULL, 0, 5); /* no method: nothing */
}

static void stats_pause(void)
{
	struct timespec ts = {0, 1000000};
	while (nanosleep(&ts, &ts))
		;
}

/* A run (stats.h): a call of the same connection, its next call or one of
 * the same batch, starts where the last one ended (the very reading,
 * whatever time passed: not a fresh one); another connection, a gap in
 * seq, a connection's first call (seq 0) or a break start from a fresh
 * reading, later than that end. */
static void test_stats_run(void **state)
{
	(void)state;
	int a = 0, b = 0; /* two connections: only their addresses count */
	uint64_t t0 = stats_run_start(&a, 1);
	stats_pause();
	assert_true(stats_run_ns(t0, &a, 1) >= 1000000 - 1000000 / 100);
	uint64_t end = stats_run_start(&a, 2);
	stats_pause();
	assert_true(stats_run_start(&a, 2) == end);
	assert_true(stats_run_start(&a, 1) == end); /* a batch: the same seq */
	assert_true(stats_run_start(&b, 2) > end);
	assert_true(stats_run_start(&a, 3) > end);
	assert_true(stats_run_start(&a, 0) > end);
	assert_true(stats_run_start(NULL, 2) > end);
	/* what passed since the last call's end counts in the run's next one */
	assert_true(stats_run_ns(stats_run_start(&a, 2), &a, 2) >= 1000000 - 1000000 / 100);
	end = stats_run_start(&a, 3);
	stats_run_break();
	stats_pause();
	assert_true(stats_run_start(&a, 3) > end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_clock_measures_a_sleep),
		cmocka_unit_test(test_stats_clock_recalibrated),
		cmocka_unit_test(test_stats_record_quantiles),
		cmocka_unit_test(test_stats_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
