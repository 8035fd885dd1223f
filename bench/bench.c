/* bench.c: the driver shared by the C bench programs - parses the common
 * command line and runs a peer's case table: for each client count, R
 * repetitions of prepare / forked workers / verify, then one output line.
 * Failures go to stderr; the figures alone go to stdout. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OPT_OPS = 1, OPT_REPS, OPT_PINNED, OPT_UNPINNED, OPT_QUICK, OPT_ONLY,
       OPT_MEM, OPT_CLIENTS, OPT_INFLIGHT, OPT_STATE, OPT_PLACE };

const char *const bench_state_names[BENCH_NSTATES] = { "idle", "busy", "over" };
const char *const bench_place_names[BENCH_NPLACES] = { "kernel", "together", "split",
						       "apart" };

/* A placement's clients: worker i on CPU base + i % mod (mod 0: base). */
static const struct { int base, mod; } bench_place_workers[BENCH_NPLACES] = {
	[BENCH_PLACE_KERNEL] = { -1, 0 },
	[BENCH_PLACE_TOGETHER] = { 0, 0 },
	[BENCH_PLACE_SPLIT] = { 0, 2 },
	[BENCH_PLACE_APART] = { 1, 0 },
};

static pid_t bench_server;

void bench_server_pid(pid_t pid) { bench_server = pid; }

static const struct option bench_longopts[] = {
	{ "ops", required_argument, NULL, OPT_OPS },
	{ "reps", required_argument, NULL, OPT_REPS },
	{ "pinned", no_argument, NULL, OPT_PINNED },
	{ "unpinned", no_argument, NULL, OPT_UNPINNED },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "inflight", required_argument, NULL, OPT_INFLIGHT },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "place", required_argument, NULL, OPT_PLACE },
	{ NULL, 0, NULL, 0 },
};

static int bench_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--ops N] [--reps R] [--pinned|--unpinned] "
		"[--quick] [--only WORKLOAD] [--mem N] [--clients K] "
		"[--inflight F] [--state idle|busy|over] "
		"[--place kernel|together|split|apart]\n",
		prog);
	return -1;
}

/* A positive count, or 0 if arg is not one. */
static uint64_t bench_count(const char *arg)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	return (*arg && *end == '\0' && arg[0] != '-') ? v : 0;
}

/* The index of arg among names[n], or -1. */
static int bench_name_parse(const char *arg, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(arg, names[i]) == 0)
			return i;
	return -1;
}

/* Whether CPUs 0 and 1 are both ours (the placements pin to them). */
static int bench_two_cpus(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(0, &set) &&
	       CPU_ISSET(1, &set);
}

int bench_opts_parse(struct bench_opts *o, const struct bench_defaults *d,
		     int argc, char **argv)
{
	uint64_t ops = 0, reps = 0, mem = 0, k;
	int c;

	memset(o, 0, sizeof *o);
	while ((c = getopt_long(argc, argv, "", bench_longopts, NULL)) != -1) {
		if (c == OPT_OPS && !(ops = bench_count(optarg)))
			return bench_usage(argv[0]);
		if (c == OPT_REPS && !(reps = bench_count(optarg)))
			return bench_usage(argv[0]);
		if (c == OPT_MEM && !(mem = bench_count(optarg)))
			return bench_usage(argv[0]);
		if (c == '?')
			return bench_usage(argv[0]);
		if ((c == OPT_CLIENTS || c == OPT_INFLIGHT) &&
		    (!(k = bench_count(optarg)) || k > 64))
			return bench_usage(argv[0]);
		if (c == OPT_STATE &&
		    (o->state = bench_name_parse(optarg, bench_state_names, BENCH_NSTATES)) < 0)
			return bench_usage(argv[0]);
		if (c == OPT_PLACE &&
		    (o->place = bench_name_parse(optarg, bench_place_names, BENCH_NPLACES)) < 0)
			return bench_usage(argv[0]);
		if (c == OPT_CLIENTS)
			o->clients = (int)k;
		if (c == OPT_INFLIGHT)
			o->inflight = (int)k;
		o->pinned = c == OPT_PINNED ? 1 : c == OPT_UNPINNED ? 0 : o->pinned;
		o->quick |= c == OPT_QUICK;
		o->only = c == OPT_ONLY ? optarg : o->only;
	}
	if (optind < argc)
		return bench_usage(argv[0]);
	if (o->place && !bench_two_cpus()) {
		fprintf(stderr, "%s: --place %s needs CPUs 0 and 1\n", argv[0],
			bench_place_names[o->place]);
		return -1;
	}
	o->ops = ops ? ops : o->quick ? d->quick_ops : d->ops;
	o->reps = reps ? (int)reps : o->quick ? d->quick_reps : d->reps;
	o->mem = mem ? mem : o->quick ? d->quick_mem : d->mem;
	return 0;
}

int bench_wanted(const struct bench_opts *o, const char *workload)
{
	size_t n = strlen(workload);

	if (!o->only)
		return 1;
	for (const char *p = o->only; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, workload, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* ---- the machine states: busy loops beside the clients ---- */

struct bench_hogs {
	int n;
	pid_t pid[BENCH_OVER_HOGS];
};

/* The last CPU this process may run on (the busy state's hog goes there). */
static int bench_last_cpu(void)
{
	cpu_set_t set;
	int last = -1;

	if (sched_getaffinity(0, sizeof set, &set))
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			last = i;
	return last;
}

static void bench_hog_main(int cpu)
{
	volatile uint64_t spins = 0;

	if (cpu >= 0)
		stats_pin(cpu);
	for (;;)
		spins++;
}

/* Starts the busy loops of o's state; h->n of them are running. Placed,
 * the over state's go to CPUs 0 and 1 in turn. */
static int bench_hogs_start(struct bench_hogs *h, const struct bench_opts *o)
{
	int state = o->state;
	int want = state == BENCH_BUSY ? 1 : state == BENCH_OVER ? BENCH_OVER_HOGS : 0;
	int cpu = state == BENCH_BUSY ? bench_last_cpu() : -1;

	h->n = 0;
	fflush(NULL);
	while (h->n < want) {
		pid_t pid = fork();

		if (pid == 0)
			bench_hog_main(o->place && state == BENCH_OVER ? h->n % 2 : cpu);
		if (pid < 0)
			return -1;
		h->pid[h->n++] = pid;
	}
	return 0;
}

static void bench_hogs_stop(struct bench_hogs *h)
{
	for (int i = 0; i < h->n; i++)
		kill(h->pid[i], SIGKILL);
	for (int i = 0; i < h->n; i++)
		while (waitpid(h->pid[i], NULL, 0) < 0 && errno == EINTR)
			;
	h->n = 0;
}

/* One repetition of c with n clients, into rep, in the state o asks for;
 * the server's CPU time is taken across the clients' run. */
static int bench_rep(const struct bench_job *j, int n,
		     const struct bench_opts *o, struct stats_rep *rep)
{
	const struct bench_case *c = j->c;
	int64_t checks[STATS_MAX_WORKERS] = { 0 };
	struct bench_hogs hogs;

	if (c->prepare && c->prepare(j, n) < 0)
		return -1;
	int rc = bench_hogs_start(&hogs, o);
	if (o->place) { /* the server on CPU 0 and the clients as the placement says */
		if (stats_pin_pid(bench_server, 0) < 0)
			rc = -1;
		stats_place_workers(bench_place_workers[o->place].base,
				    bench_place_workers[o->place].mod);
	}
	uint64_t s0 = stats_cpu_ns(bench_server);
	if (rc == 0)
		rc = stats_workers_run(n, o->ops, c->inflight, c->fn, (void *)j, rep, checks);
	uint64_t s1 = stats_cpu_ns(bench_server);
	bench_hogs_stop(&hogs);
	if (rc < 0)
		return -1;
	rep->server_cpu_ns = s1 > s0 ? s1 - s0 : 0;
	return c->verify ? c->verify(j, o->ops, checks, n) : 0;
}

/* Prints the line of j's repetitions, or that they failed. */
static void bench_case_print(const char *peer, const struct bench_job *j, int n,
			     const struct bench_opts *o, const struct stats_rep *reps, int rc)
{
	struct stats_line line = {
		.peer = peer,
		.workload = j->c->workload,
		.clients = n,
		.inflight = j->c->inflight,
		.pinned = o->pinned,
		.state = bench_state_names[o->state],
		.place = o->place ? bench_place_names[o->place] : NULL,
		.extra = j->c->verify ? "\"check\":\"ok\"" : NULL,
	};
	if (rc == 0)
		stats_print(&line, reps, o->reps);
	else
		fprintf(stderr, "%s: %s, %d clients, inflight %d: FAILED\n",
			peer, j->c->workload, n, j->c->inflight);
}

static int bench_case_run(const char *peer, const struct bench_job *j, int n,
			  const struct bench_opts *o)
{
	struct stats_rep *reps = calloc((size_t)o->reps, sizeof *reps);
	int rc = reps ? 0 : -1;

	for (int r = 0; rc == 0 && r < o->reps; r++)
		rc = bench_rep(j, n, o, &reps[r]);
	bench_case_print(peer, j, n, o, reps, rc);
	free(reps);
	return rc;
}

int bench_run_paired(const char *peer, const struct bench_case *a,
		     const struct bench_case *b, int n, const struct bench_opts *o,
		     void *peer_arg, int (*switch_fn)(void *arg, int on), void *switch_arg)
{
	struct bench_job ja = { .c = a, .peer = peer_arg }, jb = { .c = b, .peer = peer_arg };
	struct stats_rep *ra = calloc((size_t)o->reps, sizeof *ra);
	struct stats_rep *rb = calloc((size_t)o->reps, sizeof *rb);
	int rc = ra && rb ? 0 : -1;

	for (int r = 0; rc == 0 && r < o->reps; r++) {
		rc = bench_rep(&ja, n, o, &ra[r]);
		if (rc == 0)
			rc = switch_fn(switch_arg, 1);
		if (rc == 0)
			rc = bench_rep(&jb, n, o, &rb[r]);
		if (switch_fn(switch_arg, 0) < 0)
			rc = -1;
	}
	bench_case_print(peer, &ja, n, o, ra, rc);
	bench_case_print(peer, &jb, n, o, rb, rc);
	free(ra);
	free(rb);
	return rc;
}

int bench_run(const char *peer, const struct bench_case *cases, size_t n,
	      const struct bench_opts *o, void *peer_arg)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct bench_job j = { .c = &cases[i], .peer = peer_arg };

		if (!bench_wanted(o, cases[i].workload) ||
		    (o->inflight && o->inflight != cases[i].inflight))
			continue;
		for (const int *k = cases[i].clients; *k; k++)
			if ((!o->clients || o->clients == *k) &&
			    bench_case_run(peer, &j, *k, o) < 0)
				rc = -1;
	}
	return rc;
}
