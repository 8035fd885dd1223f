/* The payoff judge of common/spin-judge.c on a simulated clock: each wait
 * takes a fixed time that depends only on whether it polled, so whichever
 * side is faster is known, and what the judge chose can be counted. No
 * timing of the real machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../common/spin-judge.h"
#include "../common/spin.h"

struct sim {
	struct spin_judge j;
	uint64_t now;
	uint64_t waits, polls;   /* counted by the run */
	uint64_t ns_polling;     /* time spent in waits that polled */
	uint64_t clock_reads;
};

/* n waits costing poll_ns when polling and sleep_ns when not. */
static void sim_run(struct sim *s, uint64_t n, uint64_t poll_ns, uint64_t sleep_ns)
{
	for (uint64_t i = 0; i < n; i++) {
		bool clock = spin_judge_needs_clock(&s->j);
		s->clock_reads += clock;
		/* a step told not to need the clock must not depend on it */
		bool polls = spin_judge_step(&s->j, clock ? s->now : UINT64_MAX / 3);
		uint64_t ns = polls ? poll_ns : sleep_ns;
		s->waits++;
		s->polls += polls;
		s->ns_polling += polls ? ns : 0;
		s->now += ns;
	}
}

static void sim_reset_counts(struct sim *s) { s->waits = s->polls = s->ns_polling = s->clock_reads = 0; }

static struct sim sim_new(void)
{
	struct sim s = {SPIN_JUDGE_INIT, 1000000, 0, 0, 0, 0};
	return s;
}

/* Idle machine: polling 3.4 us a call, sleeping 33 us. The sleep trials
 * are cut short, so nearly all the time is spent polling. */
static void test_polling_pays(void **state)
{
	(void)state;
	struct sim s = sim_new();
	sim_run(&s, 200000, 3400, 33000);
	sim_reset_counts(&s);
	uint64_t t0 = s.now;
	sim_run(&s, 200000, 3400, 33000);
	/* throughput at least 95% of always polling */
	assert_true((s.now - t0) * 95 <= 200000ull * 3400 * 100);
	assert_true(s.polls * 100 >= s.waits * 99);
}

/* sim_run for a waiter that polls when its judge and its spin both say
 * so, on a machine whose runnable count reads full: as /proc/loadavg reads
 * for two clients of one mgrd on 2 CPUs, where the count is their own. */
static void sim_run_spin(struct sim *s, struct spin *sp, uint64_t n, uint64_t poll_ns,
			 uint64_t sleep_ns)
{
	for (uint64_t i = 0; i < n; i++) {
		bool polls = spin_judge_step(&s->j, s->now) && spin_turn_given(sp, false);
		s->waits++;
		s->polls += polls;
		s->now += polls ? poll_ns : sleep_ns;
	}
}

/* The queue's two clients: the reply comes in 1.5 us if polled for, a
 * sleep and a cross-CPU wakeup take 30 us. A judged spin (libmgr's) polls
 * for nearly every reply whatever the count says; a plain one (mgrd's)
 * never does, which is what the client did before: it slept through
 * every call (docs/design.md "Latency"). */
static void test_judged_spin_ignores_the_count(void **state)
{
	(void)state;
	struct spin judged = SPIN_INIT_JUDGED, plain = SPIN_INIT;
	struct sim s = sim_new();
	sim_run_spin(&s, &judged, 200000, 1500, 30000);
	sim_reset_counts(&s);
	uint64_t t0 = s.now;
	sim_run_spin(&s, &judged, 200000, 1500, 30000);
	assert_true(s.polls * 100 >= s.waits * 99);
	assert_true((s.now - t0) * 95 <= 200000ull * 1500 * 100);
	struct sim p = sim_new();
	sim_run_spin(&p, &plain, 200000, 1500, 30000);
	assert_int_equal(p.polls, 0);
}

/* One core busy: polling 6% slower than sleeping. The judge settles on
 * sleeping. */
static void test_polling_loses(void **state)
{
	(void)state;
	struct sim s = sim_new();
	sim_run(&s, 200000, 3500, 3300);
	sim_reset_counts(&s);
	uint64_t t0 = s.now;
	sim_run(&s, 200000, 3500, 3300);
	assert_true((s.now - t0) * 100 <= 200000ull * 3300 * 101); /* within 1% of sleeping */
	assert_true(s.polls * 50 <= s.waits);
}

/* A busy core: polling 10% slower, and one wait in 300 of either side
 * loses 2 ms to a preemption (xorshift, fixed seed). Most of the time
 * goes to sleeping, and the whole runs within 3% of always sleeping. */
static void test_noisy_machine(void **state)
{
	(void)state;
	struct sim s = sim_new();
	uint64_t x = 88172645463325252ull, t0 = 0;
	for (int i = 0; i < 400000; i++) {
		if (i == 100000) {
			sim_reset_counts(&s);
			t0 = s.now;
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t spike = x % 300 == 0 ? 2000000 : 0;
		sim_run(&s, 1, 3700 + spike, 3300 + spike);
	}
	assert_true(s.polls * 5 <= s.waits);
	/* ideal: every wait asleep, spikes included (~1/300 of 2 ms each) */
	uint64_t ideal = 300000ull * 3300 + 300000ull / 300 * 2000000;
	assert_true((s.now - t0) * 100 <= ideal * 103);
}

/* A tie: sleeping costs no CPU, so it wins. */
static void test_tie_goes_to_sleeping(void **state)
{
	(void)state;
	struct sim s = sim_new();
	sim_run(&s, 100000, 3000, 3000);
	sim_reset_counts(&s);
	sim_run(&s, 100000, 3000, 3000);
	assert_true(s.polls * 50 <= s.waits);
	/* polling a little faster (3%, under the 1/16 margin) is still a tie */
	sim_run(&s, 100000, 2910, 3000);
	sim_reset_counts(&s);
	sim_run(&s, 100000, 2910, 3000);
	assert_true(s.polls * 50 <= s.waits);
}

/* The machine changes: the judge follows within a bounded number of waits
 * (every epoch of SPIN_JUDGE_EVERY_MAX plus the trial, twice). */
static void test_follows_the_machine(void **state)
{
	(void)state;
	struct sim s = sim_new();
	sim_run(&s, 100000, 3400, 33000); /* idle: polling */
	assert_true(spin_judge_polls(&s.j));
	uint64_t bound = 2ull * (SPIN_JUDGE_EVERY_MAX + 2 * SPIN_JUDGE_PAIRS) * SPIN_JUDGE_WAITS;
	sim_run(&s, bound, 9000, 3300); /* a core taken: polling now loses */
	sim_reset_counts(&s);
	sim_run(&s, 50000, 9000, 3300);
	assert_true(s.polls * 50 <= s.waits);
	sim_run(&s, bound, 3400, 33000); /* freed again */
	sim_reset_counts(&s);
	sim_run(&s, 50000, 3400, 33000);
	assert_true(s.polls * 100 >= s.waits * 99);
}

/* The clock is read at an epoch's two ends only, except during a trial. */
static void test_few_clock_reads(void **state)
{
	(void)state;
	struct sim s = sim_new();
	sim_run(&s, 200000, 3400, 33000);
	sim_reset_counts(&s);
	sim_run(&s, 200000, 3400, 33000);
	assert_true(s.clock_reads * 20 <= s.waits); /* under 5% of waits */
}

/* A wait that takes seconds (the client paused) does not pin the judge on
 * a wrong side: it recovers within the bound. */
static void test_pause_recovers(void **state)
{
	(void)state;
	struct sim s = sim_new();
	sim_run(&s, 100000, 3400, 33000);
	sim_run(&s, 1, 5000000000ull, 5000000000ull);
	sim_run(&s, 2ull * (SPIN_JUDGE_EVERY_MAX + 2 * SPIN_JUDGE_PAIRS) * SPIN_JUDGE_WAITS, 3400, 33000);
	sim_reset_counts(&s);
	sim_run(&s, 50000, 3400, 33000);
	assert_true(s.polls * 100 >= s.waits * 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_polling_pays),
		cmocka_unit_test(test_polling_loses),
		cmocka_unit_test(test_noisy_machine),
		cmocka_unit_test(test_tie_goes_to_sleeping),
		cmocka_unit_test(test_follows_the_machine),
		cmocka_unit_test(test_few_clock_reads),
		cmocka_unit_test(test_pause_recovers),
		cmocka_unit_test(test_judged_spin_ignores_the_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
