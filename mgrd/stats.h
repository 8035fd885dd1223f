/* Per-method call statistics: counts, errors and a fixed-size log-scale
 * latency histogram per (type, method), kept by the type registry and
 * updated by dispatch on the loop thread. Recording is a few additions:
 * no allocation, no lock. */
#ifndef MGRD_STATS_H
#define MGRD_STATS_H

#include <stdint.h>

#include "../common/clock.h" /* clock_now_ns() times the calls */

/* Buckets: 4 per power of two of nanoseconds, up to 2^40 ns (18 min);
 * slower calls land in the last bucket. */
#define STATS_BUCKETS 160

struct method_stats {
	uint64_t calls, errors, parked;
	uint64_t total_ns, max_ns;
	uint64_t hist[STATS_BUCKETS];
};

/* code: 0, an mgr_err, or CALL_PARKED. s may be NULL (no method found). */
void stats_record(struct method_stats *s, int code, uint64_t ns);
/* A run of calls timed with one clock read each: the calls one read of a
 * connection (who) brought, in order (seq: the connection's count of
 * calls, the same for the calls of one batch). The first call of a run
 * is timed from its handler's start, each later one from where the one
 * before it ended: what the loop spent on it (its decoding, lookup and
 * check, handler, and the answer to the call before it), for 1 + n clock
 * reads a run of n rather than 2n. stats_run_start is a call's start in
 * ticks; stats_run_ns its time in ns, now at its handler's end, which
 * starts the next call of the run; with who NULL, a call alone (a
 * fresh reading, and the time since it). The clock is the thread's: the
 * TSC where the kernel keeps time with it, else clock_now_ns().
 * stats_run_break ends the run: the transport calls it as each read
 * begins (conn.c), so no wait for input is ever counted. */
uint64_t stats_run_start(const void *who, uint64_t seq);
uint64_t stats_run_ns(uint64_t t0, const void *who, uint64_t seq);
extern __thread const void *stats_run_who; /* NULL: no run (stats.c's) */
static inline void stats_run_break(void) { stats_run_who = NULL; }
/* The latency below which a fraction q (0..1) of the calls fell: the upper
 * edge of that bucket, never above the largest seen. 0 with no calls. */
uint64_t stats_quantile(const struct method_stats *s, double q);

#endif
