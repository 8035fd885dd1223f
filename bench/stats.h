/* stats.h: how every bench program measures. A monotonic clock, per-call
 * latency arrays, per-repetition figures (ops/s, p50, p99) and their summary
 * across repetitions, CPU pinning, and forked workers that start together
 * and send their timings back to the parent over a pipe. Nothing here knows
 * about any peer: pingpong, redis and mgr all measure through it. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_MAX_WORKERS 64

/* CLOCK_MONOTONIC in ns; comparable across processes on one host. */
uint64_t stats_now_ns(void);

/* Per-call latencies in ns. The array grows as needed. */
struct stats_lat {
	uint64_t *ns;
	size_t n, cap;
};

int stats_lat_init(struct stats_lat *l, size_t cap);
int stats_lat_add(struct stats_lat *l, uint64_t ns);
void stats_lat_free(struct stats_lat *l);

/* One repetition: ops done between the first worker's start and the last
 * worker's stop, and percentiles (nearest rank) over every call of it. */
struct stats_rep {
	uint64_t ops;
	uint64_t elapsed_ns;
	double ops_per_s;
	double p50_us;
	double p99_us;
	uint64_t client_cpu_ns; /* CPU time of every client between its start and stop */
	uint64_t server_cpu_ns; /* the server's over the repetition (0: not known) */
};

/* Sorts l in place. */
void stats_rep_compute(struct stats_rep *r, struct stats_lat *l, uint64_t ops,
		       uint64_t elapsed_ns);

/* Medians across repetitions (mean of the two middle ones when even), and
 * the spread of ops/s. */
struct stats_summary {
	double ops_per_s, ops_min, ops_max;
	double p50_us, p99_us;
	double cpu_us, client_cpu_us, server_cpu_us; /* CPU time per call */
};

void stats_summarize(const struct stats_rep *reps, int n,
		     struct stats_summary *s);

/* Pin the calling process (and so everything it forks or execs later) to
 * one CPU; cpu < 0 leaves the affinity alone. 0 or -1 with errno. */
int stats_pin(int cpu);
/* Pin every thread of process pid to one CPU (cpu < 0: nothing). 0 or -1. */
int stats_pin_pid(int pid, int cpu);
/* Where the next stats_workers_run's workers run: worker i on CPU
 * base + i % mod (mod 0: base alone); base < 0 (the default) leaves them
 * where fork puts them. */
void stats_place_workers(int base, int mod);

/* What a forked worker sees. The worker does its setup (connect, ...),
 * calls stats_worker_start() - which returns once every worker is ready -,
 * runs its ops adding one latency per call, calls stats_worker_stop(), and
 * returns 0 on success. `check` is free for the workload (a count, a last
 * value) and reaches the parent's verify step. */
struct stats_worker {
	int idx, nworkers;
	uint64_t ops;   /* how many calls this worker makes */
	int inflight;   /* requests kept outstanding; 1 = synchronous */
	void *arg;      /* borrowed from the caller of stats_workers_run() */
	struct stats_lat lat;
	int64_t check;
	uint64_t t0, t1;
	uint64_t cpu0, cpu1; /* the worker's CPU time (CLOCK_PROCESS_CPUTIME_ID) then */
	int go_fd, res_fd, ready; /* private to stats.c */
};

typedef int (*stats_worker_fn)(struct stats_worker *w);

void stats_worker_start(struct stats_worker *w);
void stats_worker_stop(struct stats_worker *w);

/* Fork n workers running fn, split ops among them (the remainder goes to the
 * first ones), wait for all, and fill rep from their merged timings and
 * checks[i] from worker i. 0, or -1 if any worker failed. */
int stats_workers_run(int n, uint64_t ops, int inflight, stats_worker_fn fn,
		      void *arg, struct stats_rep *rep, int64_t *checks);

/* CPU time a process has used so far (any process: clock_getcpuclockid),
 * in ns; 0 if unknown. */
uint64_t stats_cpu_ns(int pid);

/* Identity of one output line. extra, if not NULL, is a JSON fragment
 * ("\"k\":v,...") appended to the object. state: the machine state the
 * case ran in ("idle", "busy", "over"); place: the placement it was pinned
 * to (bench.h, --place), NULL for the kernel's. */
struct stats_line {
	const char *peer;
	const char *workload;
	int clients;
	int inflight;
	int pinned;
	const char *state;
	const char *extra;
	const char *place;
};

/* One JSON object on one line of stdout. */
void stats_print(const struct stats_line *line, const struct stats_rep *reps,
		 int n);

#endif
