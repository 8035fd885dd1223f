/* bench.h: how a bench program is driven. The command line every peer
 * shares (--ops --reps --pinned/--unpinned --quick --only --mem), and a table
 * of cases, each run for every client count and repetition, verified, and
 * printed as one JSON line through stats_print(). */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"

struct bench_opts {
	uint64_t ops;     /* calls per repetition, split among the clients */
	int reps;
	int pinned;       /* 1: client and server processes on CPU 0 */
	int quick;
	uint64_t mem;     /* entries for memory workloads */
	const char *only; /* run only these workloads (comma-separated); NULL runs all */
	int clients;      /* run only this client count; 0 runs all */
	int inflight;     /* run only cases with this window; 0 runs all */
	int state;        /* enum bench_state: what else runs beside each repetition */
	int place;        /* enum bench_place: where its processes run */
};

/* The machine state a repetition runs in: nothing else (idle); one busy
 * loop pinned to the last CPU this process may use (busy: one core taken by
 * an unrelated process); BENCH_OVER_HOGS busy loops, unpinned (over: more
 * runnable processes than cores). The bench starts the loops right before
 * the clients and kills them right after. */
enum bench_state { BENCH_IDLE, BENCH_BUSY, BENCH_OVER, BENCH_NSTATES };
#define BENCH_OVER_HOGS 8
extern const char *const bench_state_names[BENCH_NSTATES];

/* Where a repetition's processes run (--place). By default the kernel
 * places them (BENCH_PLACE_KERNEL), and in the over state that is a draw
 * that decides a repetition's speed for every peer alike (docs/design.md,
 * "The over state's two modes"). The others pin the server's threads to
 * CPU 0 and the over state's busy loops to CPUs 0 and 1 in turn, then the
 * clients: all on CPU 0 (together), all on CPU 1 (apart), or in turn
 * (split: half beside the server). One placement at a time is measured
 * instead of a mix of them. Needs CPUs 0 and 1. */
enum bench_place { BENCH_PLACE_KERNEL, BENCH_PLACE_TOGETHER, BENCH_PLACE_SPLIT,
		   BENCH_PLACE_APART, BENCH_NPLACES };
extern const char *const bench_place_names[BENCH_NPLACES];

/* The server's pid, once the peer started it: its CPU time over each
 * repetition goes into the line (server_cpu_us). 0: not known. */
void bench_server_pid(pid_t pid);

/* Per peer: a sync IPC round trip costs 10 us in C and 100 us in Python. */
struct bench_defaults {
	uint64_t ops, quick_ops;
	int reps, quick_reps;
	uint64_t mem, quick_mem;
};

/* 0, or -1 after printing usage to stderr. --state idle|busy|over. */
int bench_opts_parse(struct bench_opts *o, const struct bench_defaults *d,
		     int argc, char **argv);
/* Whether workload is in --only's list (or there is none). */
int bench_wanted(const struct bench_opts *o, const char *workload);

struct bench_case;

/* What stats_worker.arg points to while a case runs. */
struct bench_job {
	const struct bench_case *c;
	void *peer;
};

struct bench_case {
	const char *workload;
	stats_worker_fn fn;
	int clients[5]; /* 0-terminated */
	int inflight;   /* 1 = synchronous */
	/* Before each repetition; NULL when there is nothing to reset. */
	int (*prepare)(const struct bench_job *j, int clients);
	/* After each repetition, ops being the total of all clients; 0 if the
	 * server's final state is what those ops must give. NULL: no check. */
	int (*verify)(const struct bench_job *j, uint64_t ops,
		      const int64_t *checks, int clients);
	const void *data; /* the peer's own per-case data, borrowed */
};

/* Run every wanted case; 0, or -1 if any repetition failed or verify said
 * no (the others still run). */
int bench_run(const char *peer, const struct bench_case *cases, size_t n,
	      const struct bench_opts *o, void *peer_arg);

/* Two cases with n clients, their repetitions taken in turn (a, b, a, b,
 * ...) so that both see the same machine, and switch(arg, 1) called before
 * each of b's, switch(arg, 0) after: b is a with something added (say, a
 * thousand idle clients). Both lines printed; 0 or -1 as bench_run. */
int bench_run_paired(const char *peer, const struct bench_case *a,
		     const struct bench_case *b, int n, const struct bench_opts *o,
		     void *peer_arg, int (*switch_fn)(void *arg, int on), void *switch_arg);

#endif
