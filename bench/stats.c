/* stats.c: measuring for the bench programs - clock, latency arrays,
 * percentiles and medians, CPU pinning, forked workers with a common start
 * and their results coming back over a pipe, and the JSON output line.
 * Pipe protocol, worker to parent: one ready byte, then a stats_msg, then
 * msg.nlat uint64_t latencies. The parent closes the go pipe to start all. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stats.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct stats_msg {
	int32_t status;
	int64_t check;
	uint64_t t0, t1, nlat;
	uint64_t cpu_ns; /* the worker's CPU time between start and stop */
};

uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t stats_clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t stats_cpu_ns(int pid)
{
	clockid_t id;

	if (pid <= 0 || clock_getcpuclockid(pid, &id))
		return 0;
	return stats_clock_ns(id);
}

int stats_lat_init(struct stats_lat *l, size_t cap)
{
	l->n = 0;
	l->cap = cap ? cap : 1;
	l->ns = malloc(l->cap * sizeof *l->ns);
	return l->ns ? 0 : -1;
}

int stats_lat_add(struct stats_lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		uint64_t *p = realloc(l->ns, 2 * l->cap * sizeof *p);

		if (!p)
			return -1;
		l->ns = p;
		l->cap *= 2;
	}
	l->ns[l->n++] = ns;
	return 0;
}

void stats_lat_free(struct stats_lat *l)
{
	if (!l)
		return;
	free(l->ns);
	l->ns = NULL;
	l->n = l->cap = 0;
}

static int stats_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int stats_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank on a sorted array: the ceil(p * n)-th smallest. */
static double stats_pct_us(const struct stats_lat *l, double p)
{
	size_t rank;

	if (l->n == 0)
		return 0;
	rank = (size_t)ceil(p * (double)l->n);
	if (rank < 1)
		rank = 1;
	return (double)l->ns[rank - 1] / 1000.0;
}

void stats_rep_compute(struct stats_rep *r, struct stats_lat *l, uint64_t ops,
		       uint64_t elapsed_ns)
{
	qsort(l->ns, l->n, sizeof *l->ns, stats_cmp_u64);
	r->ops = ops;
	r->elapsed_ns = elapsed_ns;
	r->ops_per_s = elapsed_ns ? (double)ops * 1e9 / (double)elapsed_ns : 0;
	r->p50_us = stats_pct_us(l, 0.50);
	r->p99_us = stats_pct_us(l, 0.99);
}

/* Median of n values taken every `stride` bytes from base. */
static double stats_median(const void *base, size_t stride, int n)
{
	double v[n > 0 ? n : 1];

	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)base + (size_t)i * stride);
	qsort(v, (size_t)n, sizeof *v, stats_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void stats_summarize(const struct stats_rep *reps, int n,
		     struct stats_summary *s)
{
	memset(s, 0, sizeof *s);
	if (n <= 0)
		return;
	s->ops_per_s = stats_median(&reps->ops_per_s, sizeof *reps, n);
	s->p50_us = stats_median(&reps->p50_us, sizeof *reps, n);
	s->p99_us = stats_median(&reps->p99_us, sizeof *reps, n);
	double cl[n], sv[n], all[n];
	for (int i = 0; i < n; i++) {
		double ops = reps[i].ops ? (double)reps[i].ops : 1;
		cl[i] = (double)reps[i].client_cpu_ns / 1000.0 / ops;
		sv[i] = (double)reps[i].server_cpu_ns / 1000.0 / ops;
		all[i] = cl[i] + sv[i];
	}
	s->client_cpu_us = stats_median(cl, sizeof *cl, n);
	s->server_cpu_us = stats_median(sv, sizeof *sv, n);
	s->cpu_us = stats_median(all, sizeof *all, n);
	s->ops_min = s->ops_max = reps[0].ops_per_s;
	for (int i = 1; i < n; i++) {
		s->ops_min = fmin(s->ops_min, reps[i].ops_per_s);
		s->ops_max = fmax(s->ops_max, reps[i].ops_per_s);
	}
}

int stats_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof set, &set);
}

int stats_pin_pid(int pid, int cpu)
{
	char dir[64];
	cpu_set_t set;
	int rc = 0;

	if (cpu < 0)
		return 0;
	snprintf(dir, sizeof dir, "/proc/%d/task", pid);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' && sched_setaffinity(atoi(e->d_name), sizeof set, &set))
			rc = -1;
	closedir(d);
	return rc;
}

static int stats_place_base = -1, stats_place_mod;

void stats_place_workers(int base, int mod)
{
	stats_place_base = base;
	stats_place_mod = mod;
}

/* Worker idx's CPU under stats_place_workers, or -1. */
static int stats_place_cpu(int idx)
{
	if (stats_place_base < 0)
		return -1;
	return stats_place_base + (stats_place_mod ? idx % stats_place_mod : 0);
}

static int stats_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int stats_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t k = read(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

void stats_worker_start(struct stats_worker *w)
{
	char c = 'R';

	stats_write_all(w->res_fd, &c, 1);
	w->ready = 1;
	while (read(w->go_fd, &c, 1) < 0 && errno == EINTR)
		;
	w->cpu0 = stats_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	w->t0 = stats_now_ns();
}

void stats_worker_stop(struct stats_worker *w)
{
	w->t1 = stats_now_ns();
	w->cpu1 = stats_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* In the child: run fn, send the result, never return. */
static void stats_worker_main(struct stats_worker *w, stats_worker_fn fn)
{
	struct stats_msg m = { 0 };

	/* every thread: a sanitizer's may be running already */
	if (stats_lat_init(&w->lat, w->ops) < 0 ||
	    stats_pin_pid(getpid(), stats_place_cpu(w->idx)) < 0)
		_exit(1);
	m.status = fn(w);
	if (!w->ready) /* failed in setup: still keep the protocol */
		stats_write_all(w->res_fd, "R", 1);
	m.check = w->check;
	m.t0 = w->t0;
	m.t1 = w->t1;
	m.cpu_ns = w->cpu1 > w->cpu0 ? w->cpu1 - w->cpu0 : 0;
	m.nlat = w->lat.n;
	if (stats_write_all(w->res_fd, &m, sizeof m) < 0 ||
	    stats_write_all(w->res_fd, w->lat.ns, m.nlat * sizeof *w->lat.ns) < 0)
		_exit(1);
	_exit(m.status ? 1 : 0);
}

/* Fork worker idx; its end of the result pipe is returned in *res_fd. */
static pid_t stats_worker_fork(struct stats_worker *w, stats_worker_fn fn,
			       int go[2], int *res_fd)
{
	int res[2];
	pid_t pid;

	if (pipe(res) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(res[0]);
		w->go_fd = go[0];
		w->res_fd = res[1];
		stats_worker_main(w, fn);
	}
	close(res[1]);
	*res_fd = res[0];
	if (pid < 0)
		close(res[0]);
	return pid;
}

/* Read one worker's result and append its latencies to all. */
static int stats_worker_collect(int fd, struct stats_lat *all,
				struct stats_msg *m)
{
	size_t need;

	if (stats_read_all(fd, m, sizeof *m) < 0)
		return -1;
	need = all->n + m->nlat;
	if (need > all->cap) {
		uint64_t *p = realloc(all->ns, need * sizeof *p);

		if (!p)
			return -1;
		all->ns = p;
		all->cap = need;
	}
	if (stats_read_all(fd, all->ns + all->n, m->nlat * sizeof *all->ns) < 0)
		return -1;
	all->n = need;
	return m->status ? -1 : 0;
}

struct stats_pool {
	int n;
	pid_t pid[STATS_MAX_WORKERS];
	int fd[STATS_MAX_WORKERS];
};

static int stats_pool_fork(struct stats_pool *p, uint64_t ops, int inflight,
			   stats_worker_fn fn, void *arg, int go[2])
{
	for (int i = 0; i < p->n; i++) {
		struct stats_worker w = {
			.idx = i,
			.nworkers = p->n,
			.ops = ops / (uint64_t)p->n +
			       ((uint64_t)i < ops % (uint64_t)p->n),
			.inflight = inflight,
			.arg = arg,
		};

		p->pid[i] = stats_worker_fork(&w, fn, go, &p->fd[i]);
		if (p->pid[i] < 0) {
			p->n = i;
			return -1;
		}
	}
	return 0;
}

/* Wait until every worker is ready (or gone), then start them all. */
static int stats_pool_go(struct stats_pool *p, int go[2])
{
	int rc = 0;
	char c;

	for (int i = 0; i < p->n; i++)
		if (stats_read_all(p->fd[i], &c, 1) < 0)
			rc = -1;
	close(go[1]);
	return rc;
}

static int stats_pool_reap(struct stats_pool *p, struct stats_rep *rep,
			   int64_t *checks, uint64_t ops)
{
	struct stats_lat all;
	struct stats_msg m;
	uint64_t t0 = UINT64_MAX, t1 = 0, cpu = 0;
	int rc = stats_lat_init(&all, ops);

	for (int i = 0; i < p->n; i++) {
		if (rc == 0 && stats_worker_collect(p->fd[i], &all, &m) == 0) {
			checks[i] = m.check;
			t0 = m.t0 < t0 ? m.t0 : t0;
			t1 = m.t1 > t1 ? m.t1 : t1;
			cpu += m.cpu_ns;
		} else {
			rc = -1;
		}
		close(p->fd[i]);
	}
	for (int i = 0, st; i < p->n; i++)
		if (waitpid(p->pid[i], &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			rc = -1;
	if (rc == 0) {
		stats_rep_compute(rep, &all, ops, t1 - t0);
		rep->client_cpu_ns = cpu;
	}
	stats_lat_free(&all);
	return rc;
}

int stats_workers_run(int n, uint64_t ops, int inflight, stats_worker_fn fn,
		      void *arg, struct stats_rep *rep, int64_t *checks)
{
	struct stats_pool p = { .n = n };
	int go[2], rc;

	if (n < 1 || n > STATS_MAX_WORKERS || pipe(go) < 0)
		return -1;
	rc = stats_pool_fork(&p, ops, inflight, fn, arg, go);
	close(go[0]);
	if (stats_pool_go(&p, go) < 0)
		rc = -1;
	if (stats_pool_reap(&p, rep, checks, ops) < 0)
		rc = -1;
	return rc;
}

static void stats_print_reps(const struct stats_rep *reps, int n)
{
	for (int i = 0; i < n; i++)
		printf("%s{\"ops_per_s\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
		       "\"client_cpu_ns\":%llu,\"server_cpu_ns\":%llu}",
		       i ? "," : "", reps[i].ops_per_s, reps[i].p50_us,
		       reps[i].p99_us, (unsigned long long)reps[i].client_cpu_ns,
		       (unsigned long long)reps[i].server_cpu_ns);
}

void stats_print(const struct stats_line *line, const struct stats_rep *reps,
		 int n)
{
	struct stats_summary s;

	stats_summarize(reps, n, &s);
	printf("{\"peer\":\"%s\",\"workload\":\"%s\",\"clients\":%d,"
	       "\"inflight\":%d,\"pinned\":%s,\"ops\":%llu,"
	       "\"ops_per_s\":%.0f,\"ops_min\":%.0f,\"ops_max\":%.0f,"
	       "\"p50_us\":%.2f,\"p99_us\":%.2f,\"state\":\"%s\","
	       "\"cpu_us_per_call\":%.3f,\"client_cpu_us\":%.3f,\"server_cpu_us\":%.3f,",
	       line->peer, line->workload, line->clients, line->inflight,
	       line->pinned ? "true" : "false",
	       (unsigned long long)(n > 0 ? reps[0].ops : 0), s.ops_per_s,
	       s.ops_min, s.ops_max, s.p50_us, s.p99_us,
	       line->state ? line->state : "idle", s.cpu_us, s.client_cpu_us,
	       s.server_cpu_us);
	if (line->place)
		printf("\"place\":\"%s\",", line->place);
	if (line->extra)
		printf("%s,", line->extra);
	printf("\"reps\":[");
	stats_print_reps(reps, n);
	printf("]}\n");
	fflush(stdout);
}
