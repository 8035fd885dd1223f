/* Latency histograms (see stats.h). Bucket i < 4 holds exactly i ns; above
 * that, each power of two [2^e, 2^(e+1)) is split in four equal buckets. */
#include "stats.h"
#include "type.h"

#include <time.h>


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
