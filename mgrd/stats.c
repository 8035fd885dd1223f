/* Latency histograms (see stats.h). Bucket i < 4 holds exactly i ns; above
 * that, each power of two [2^e, 2^(e+1)) is split in four equal buckets. */
#include "stats.h"
#include "type.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the calls' clock ----
 * Two clock_gettime() a call (~19 ns each on a 2-vCPU VM) were a twentieth
 * of the loop thread's time in a pipeline. Where the kernel keeps time
 * with the TSC (its clocksource is "tsc": invariant and in step between
 * CPUs, else the kernel would have left it), a call is timed with two
 * rdtsc (~8 ns) and converted with a ratio measured against
 * CLOCK_MONOTONIC: over 100 us at the thread's first reading, then from
 * that first reading to now every 65,536 conversions (one clock read).
 * Elsewhere a tick is a nanosecond. */
#define STATS_CALIBRATE_NS 100000
#define STATS_RECALIBRATE 65536

struct stats_clock {
	bool decided, tsc;
	uint64_t tsc0, ns0; /* the first reading */
	uint64_t mult;      /* ns = ticks * mult >> 32 */
	uint32_t left;      /* conversions until the ratio is measured again */
	/* the run (stats.h): the last call's reading at its end and the seq
	 * it was taken at (whom with: stats_run_who) */
	uint64_t run_seq, run_end;
};

__thread const void *stats_run_who;

static __thread struct stats_clock stats_clock;

#if defined(__x86_64__)
#include <x86intrin.h>

static bool stats_kernel_uses_tsc(void)
{
	char name[32] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (!f)
		return false;
	bool ok = fgets(name, sizeof(name), f) && strcmp(name, "tsc\n") == 0;
	fclose(f);
	return ok;
}

/* The TSC at one instant of CLOCK_MONOTONIC (*ns): the middle of two
 * readings around it, the closest of four tries (a preemption between
 * them would skew the ratio). */
static uint64_t stats_pair(uint64_t *ns)
{
	uint64_t best = 0, gap = UINT64_MAX; /* 0: never in order (no ratio) */
	*ns = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t a = __rdtsc(), n = clock_now_ns(), b = __rdtsc();
		if (b >= a && b - a < gap) {
			gap = b - a;
			best = a + gap / 2;
			*ns = n;
		}
	}
	return best;
}

/* The ratio from the first reading to the pair (t, ns); 0 if no tick passed. */
static uint64_t stats_ratio(const struct stats_clock *k, uint64_t t, uint64_t ns)
{
	if (t <= k->tsc0 || ns <= k->ns0)
		return 0;
	return (uint64_t)(((unsigned __int128)(ns - k->ns0) << 32) / (t - k->tsc0));
}

/* Once a thread, out of line: the readings stay a few instructions. */
__attribute__((noinline, cold)) static void stats_clock_decide(struct stats_clock *k)
{
	k->decided = true;
	if (!stats_kernel_uses_tsc())
		return;
	uint64_t ns, t;
	k->tsc0 = stats_pair(&k->ns0);
	do
		t = stats_pair(&ns);
	while (ns - k->ns0 < STATS_CALIBRATE_NS);
	k->mult = stats_ratio(k, t, ns);
	k->left = STATS_RECALIBRATE;
	k->tsc = k->mult != 0;
}

__attribute__((noinline, cold)) static void stats_clock_again(struct stats_clock *k)
{
	uint64_t ns, now = stats_pair(&ns), mult = stats_ratio(k, now, ns);
	k->mult = mult ? mult : k->mult;
	k->left = STATS_RECALIBRATE;
}

/* ns from t0 to t (both ticks) */
static uint64_t stats_ns_between(struct stats_clock *k, uint64_t t0, uint64_t t)
{
	if (!k->tsc)
		return t - t0;
	if (--k->left == 0)
		stats_clock_again(k);
	/* another CPU's TSC a hair behind: 0, not 2^64 */
	return t > t0 ? (uint64_t)(((unsigned __int128)(t - t0) * k->mult) >> 32) : 0;
}

static uint64_t stats_now(const struct stats_clock *k) { return k->tsc ? __rdtsc() : clock_now_ns(); }
#else
static void stats_clock_decide(struct stats_clock *k) { k->decided = true; }

static uint64_t stats_ns_between(struct stats_clock *k, uint64_t t0, uint64_t t)
{
	(void)k;
	return t - t0;
}

static uint64_t stats_now(const struct stats_clock *k)
{
	(void)k;
	return clock_now_ns();
}
#endif

/* ---- runs: one clock read a call ---- */

uint64_t stats_run_start(const void *who, uint64_t seq)
{
	struct stats_clock *k = &stats_clock;
	/* seq 0, a connection's first call, never continues a run: a run
	 * left by a closed connection whose struct this one reuses ends */
	if (seq && who && stats_run_who == who && seq - k->run_seq <= 1)
		return k->run_end;
	if (!k->decided)
		stats_clock_decide(k);
	return stats_now(k);
}

uint64_t stats_run_ns(uint64_t t0, const void *who, uint64_t seq)
{
	struct stats_clock *k = &stats_clock;
	uint64_t t = stats_now(k);
	stats_run_who = who;
	k->run_seq = seq;
	k->run_end = t;
	return stats_ns_between(k, t0, t);
}

static unsigned stats_bucket(uint64_t ns)
{
	if (ns < 4)
		return (unsigned)ns;
	unsigned e = 63u - (unsigned)__builtin_clzll(ns);
	unsigned i = (e - 1) * 4 + (unsigned)((ns >> (e - 2)) & 3);
	return i < STATS_BUCKETS ? i : STATS_BUCKETS - 1;
}

/* The largest latency bucket i holds. */
static uint64_t stats_bucket_top(unsigned i)
{
	if (i < 4)
		return i;
	unsigned e = i / 4 + 1, sub = i % 4;
	return ((uint64_t)(4 + sub + 1) << (e - 2)) - 1;
}

void stats_record(struct method_stats *s, int code, uint64_t ns)
{
	if (!s)
		return;
	s->calls++;
	s->errors += code > 0;
	s->parked += code == CALL_PARKED;
	s->total_ns += ns;
	if (ns > s->max_ns)
		s->max_ns = ns;
	s->hist[stats_bucket(ns)]++;
}

uint64_t stats_quantile(const struct method_stats *s, double q)
{
	uint64_t want = (uint64_t)(q * (double)s->calls + 0.999999), seen = 0;
	for (unsigned i = 0; i < STATS_BUCKETS && s->calls; i++) {
		seen += s->hist[i];
		if (seen >= want && seen > 0) {
			uint64_t top = stats_bucket_top(i);
			return top < s->max_ns ? top : s->max_ns;
		}
	}
	return 0;
}
