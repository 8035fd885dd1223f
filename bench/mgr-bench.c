/* mgr-bench.c: the peers' workloads through libmgr -> mgrd. Owns a private
 * manager (mgr_manager_start; the binary from $MGR_MGRD), the objects each
 * case works on, the checks of their final values, the memory growth of a
 * 1M-entry dict (mgrd's VmRSS), and the optional rows (queue, Employee)
 * that run only when the manager has the type. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mgr/mgr.h>

#include "bench.h"
#include "stats.h"

#define MB_MAX_INFLIGHT 64
#define MB_PREFILL 1000 /* entries in the dict dict_get reads */
#define MB_MEM_INFLIGHT 64

/* The private manager and the parent's own client (prepare, verify; the
 * workers open their own connections). */
struct mb_server {
	mgr_manager *m;
	mgr_client *ctl;
	int have_queue, have_employee;
};

/* One call a worker makes: sync runs it to the end; async queues it. */
struct mb_op {
	const char *type, *name; /* the object the workers open */
	int (*sync)(mgr_object *o, int idx, uint64_t i);
	/* Arguments for call i of worker idx (pipelined form); NULL: sync only. */
	const char *method;
	size_t (*args)(mgr_value **a, int idx, uint64_t i);
	/* The same arguments for every call: the window makes them once (a
	 * call only reads them, as the typed sync calls build theirs on the
	 * stack), not a value made and freed a call. */
	bool args_fixed;
};

/* Worker 0 runs `first`, the others `rest` (a queue's producer / consumer). */
struct mb_work {
	const struct mb_op *first, *rest;
	int (*total)(mgr_object *o, int64_t *v); /* must equal the ops */
};

/* ---- the calls ---- */

static int mb_counter_add(mgr_object *o, int idx, uint64_t i)
{
	(void)idx, (void)i;
	return mgr_counter_add(o, 1, NULL);
}

static size_t mb_counter_args(mgr_value **a, int idx, uint64_t i)
{
	(void)idx, (void)i;
	a[0] = mgr_value_new_int(1);
	return 1;
}

static mgr_value *mb_strf(const char *fmt, int idx, uint64_t i)
{
	char buf[64];

	snprintf(buf, sizeof buf, fmt, idx, (unsigned long long)i);
	return mgr_value_new_string(buf);
}

static int mb_dict_set(mgr_object *o, int idx, uint64_t i)
{
	return mgr_dict_set(o, mb_strf("f%d:%llu", idx, i),
			    mgr_value_new_string("v"));
}

static int mb_dict_get(mgr_object *o, int idx, uint64_t i)
{
	char buf[32];
	mgr_value *k, *v = NULL;
	int err;

	(void)idx;
	snprintf(buf, sizeof buf, "f%llu", (unsigned long long)(i % MB_PREFILL));
	k = mgr_value_new_string(buf);
	err = mgr_dict_get(o, k, &v);
	if (!err && mgr_value_kind(v) != MGR_STRING)
		err = MGR_EPROTO;
	mgr_value_free(k);
	mgr_value_free(v);
	return err;
}

static int mb_list_append(mgr_object *o, int idx, uint64_t i)
{
	char buf[32];

	(void)idx;
	snprintf(buf, sizeof buf, "v%llu", (unsigned long long)i);
	return mgr_list_append(o, mgr_value_new_string(buf));
}

/* Queue and Employee go through mgr_call by method name, so this file does
 * not depend on their typed headers; a manager without the type skips them. */
static int mb_queue_put(mgr_object *o, int idx, uint64_t i)
{
	mgr_value *v = mgr_value_new_int((int64_t)i);
	int err;

	(void)idx;
	err = mgr_call(o, "put", &v, 1, NULL);
	mgr_value_free(v);
	return err;
}

static int mb_queue_get(mgr_object *o, int idx, uint64_t i)
{
	(void)idx, (void)i;
	return mgr_call(o, "get", NULL, 0, NULL);
}

/* The Employee pattern. With a registered "Employee" type: increase() on
 * the shared object (atomic, no lock). Without one it is emulated as an
 * atomic dict incr on one key, and the line says "emulated". */
static int mb_employee_call(mgr_object *o, int idx, uint64_t i)
{
	mgr_value *v = mgr_value_new_int(1);
	int err;

	(void)idx, (void)i;
	err = mgr_call(o, "increase", &v, 1, NULL);
	mgr_value_free(v);
	return err;
}

static int mb_employee_emul(mgr_object *o, int idx, uint64_t i)
{
	mgr_value *k = mgr_value_new_string("salary");
	int err;

	(void)idx, (void)i;
	err = mgr_dict_incr(o, k, 1, NULL);
	mgr_value_free(k);
	return err;
}

static int mb_total_counter(mgr_object *o, int64_t *v)
{
	return mgr_counter_get(o, v);
}

static int mb_total_len(mgr_object *o, int64_t *v, int list)
{
	size_t n;
	int err = list ? mgr_list_len(o, &n) : mgr_dict_len(o, &n);

	if (!err)
		*v = (int64_t)n;
	return err;
}

static int mb_total_dict(mgr_object *o, int64_t *v) { return mb_total_len(o, v, 0); }
static int mb_total_list(mgr_object *o, int64_t *v) { return mb_total_len(o, v, 1); }

/* get_pay() is "name:salary"; the salary started at 0. */
static int mb_total_employee(mgr_object *o, int64_t *v)
{
	mgr_value *r = NULL;
	int err = mgr_call(o, "get_pay", NULL, 0, &r);
	const char *pay = err ? NULL : mgr_value_string(r, NULL);
	const char *colon = pay ? strrchr(pay, ':') : NULL;

	if (colon)
		*v = strtoll(colon + 1, NULL, 10);
	else if (!err)
		err = MGR_EPROTO;
	mgr_value_free(r);
	return err;
}

static int mb_total_salary(mgr_object *o, int64_t *v)
{
	mgr_value *k = mgr_value_new_string("salary"), *r = NULL;
	int err = mgr_dict_get(o, k, &r);

	if (!err)
		*v = mgr_value_int(r);
	mgr_value_free(k);
	mgr_value_free(r);
	return err;
}

static const struct mb_op mb_op_counter = { "counter", "counter", mb_counter_add,
					    "add", mb_counter_args, true };
static const struct mb_op mb_op_dict_set = { "dict", "h", mb_dict_set, NULL, NULL, false };
static const struct mb_op mb_op_dict_get = { "dict", "pre", mb_dict_get, NULL, NULL, false };
static const struct mb_op mb_op_list = { "list", "l", mb_list_append, NULL, NULL, false };
static const struct mb_op mb_op_put = { "queue", "q", mb_queue_put, NULL, NULL, false };
static const struct mb_op mb_op_get = { "queue", "q", mb_queue_get, NULL, NULL, false };
static const struct mb_op mb_op_employee = { "employee", "emp", mb_employee_call,
					     NULL, NULL, false };
static const struct mb_op mb_op_employee_emul = { "dict", "emp", mb_employee_emul,
						  NULL, NULL, false };

static const struct mb_work mb_work_counter = { &mb_op_counter, &mb_op_counter,
						mb_total_counter };
static const struct mb_work mb_work_dict_set = { &mb_op_dict_set, &mb_op_dict_set,
						 mb_total_dict };
static const struct mb_work mb_work_dict_get = { &mb_op_dict_get, &mb_op_dict_get,
						 NULL };
static const struct mb_work mb_work_list = { &mb_op_list, &mb_op_list, mb_total_list };
static const struct mb_work mb_work_queue = { &mb_op_put, &mb_op_get, NULL };
static const struct mb_work mb_work_employee = { &mb_op_employee, &mb_op_employee,
						 mb_total_employee };
static const struct mb_work mb_work_employee_emul = { &mb_op_employee_emul,
						      &mb_op_employee_emul,
						      mb_total_salary };

/* ---- workers ---- */

static int mb_sync(mgr_object *o, const struct mb_op *op, struct stats_worker *w)
{
	for (uint64_t i = 0; i < w->ops; i++) {
		uint64_t t = stats_now_ns();

		if (op->sync(o, w->idx, i))
			return -1;
		stats_lat_add(&w->lat, stats_now_ns() - t);
	}
	return 0;
}

/* ---- the window's clock ----
 * clock_gettime() is ~19 ns on a VM, once a reply 3.7% of the pinned
 * 16 x 4 run's samples (perf), where peer-pingpong reads it once per read
 * or write of ~16 calls. Where the kernel keeps time with the TSC (its
 * clocksource is "tsc": invariant and in step between CPUs), the window
 * reads the TSC (~7 ns) and its latencies are turned into ns once it is
 * done, with the TSC's ratio to CLOCK_MONOTONIC over the whole window. */
struct mb_clock {
	bool tsc;
	uint64_t ns0, tick0, ns1, tick1; /* the window's start and end */
	size_t first;                    /* its first latency */
};

static bool mb_tsc; /* the kernel's clocksource is the TSC: read in main */

#if defined(__x86_64__)
#include <x86intrin.h>

static bool mb_kernel_uses_tsc(void)
{
	char name[32] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	bool ok = f && fgets(name, sizeof(name), f) && strcmp(name, "tsc\n") == 0;
	if (f)
		fclose(f);
	return ok;
}

static uint64_t mb_ticks(const struct mb_clock *k) { return k->tsc ? __rdtsc() : stats_now_ns(); }
#else
static bool mb_kernel_uses_tsc(void) { return false; }

static uint64_t mb_ticks(const struct mb_clock *k)
{
	(void)k;
	return stats_now_ns();
}
#endif

static void mb_clock_start(struct mb_clock *k, const struct stats_lat *l)
{
	k->tsc = mb_tsc;
	k->first = l->n;
	k->ns0 = stats_now_ns();
	k->tick0 = mb_ticks(k);
}

static void mb_clock_stop(struct mb_clock *k)
{
	k->ns1 = stats_now_ns();
	k->tick1 = mb_ticks(k);
}

/* The window's latencies, in ticks, made ns: after the worker's clock
 * stopped (a pass over them is no part of the run). */
static void mb_clock_to_ns(const struct mb_clock *k, struct stats_lat *l)
{
	if (!k->tsc || k->tick1 <= k->tick0)
		return;
	double ratio = (double)(k->ns1 - k->ns0) / (double)(k->tick1 - k->tick0);
	for (size_t i = k->first; i < l->n; i++)
		l->ns[i] = (uint64_t)((double)l->ns[i] * ratio);
}

/* w->ops calls keeping w->inflight outstanding: a call's latency runs from
 * its mgr_call_async to the return of its mgr_future_wait. The clock is
 * read once a reply: that reading ends the reply's latency and starts the
 * calls sent next (peer-pingpong's window reads it once a read and once a
 * write; two reads a call here were 7% of the pinned 16 x 4 run). */
static int mb_window(mgr_object *o, const struct mb_op *op, struct stats_worker *w,
		     struct mb_clock *k)
{
	mgr_future *f[MB_MAX_INFLIGHT];
	mb_clock_start(k, &w->lat);
	uint64_t t_sent[MB_MAX_INFLIGHT], sent = 0, recvd = 0;
	uint64_t win = (uint64_t)w->inflight, now = mb_ticks(k);
	mgr_value *a[4];
	size_t n = 0;
	int rc = 0;

	if (!op->args || win > MB_MAX_INFLIGHT)
		return -1;
	if (op->args_fixed)
		n = op->args(a, w->idx, 0);
	while (recvd < w->ops && rc == 0) {
		for (; sent < w->ops && sent - recvd < win && rc == 0; sent++) {
			if (!op->args_fixed)
				n = op->args(a, w->idx, sent);
			t_sent[sent % win] = now;
			rc = mgr_call_async(o, op->method, a, n, &f[sent % win]);
			for (size_t k = 0; k < n && !op->args_fixed; k++)
				mgr_value_free(a[k]);
		}
		uint64_t slot = recvd % win; /* once: peer-pingpong's two divisions a call */
		if (rc == 0 && mgr_future_wait(f[slot], NULL))
			rc = -1;
		now = mb_ticks(k);
		stats_lat_add(&w->lat, now > t_sent[slot] ? now - t_sent[slot] : 0);
		recvd++;
	}
	mb_clock_stop(k);
	for (size_t i = 0; i < n && op->args_fixed; i++)
		mgr_value_free(a[i]);
	for (; recvd < sent; recvd++)
		mgr_future_free(f[recvd % win]);
	return rc ? -1 : 0;
}

/* MGR_BENCH_LISTEN=tcp:HOST:PORT (bench/run.py's TCP rows): mgrd also
 * listens there (key $MGR_AUTH_KEY_FILE; TLS with $MGR_BENCH_TLS_CERT and
 * $MGR_BENCH_TLS_KEY) and the workers connect over it; the parent stays
 * on the socket. */
static const char *mb_address(const struct mb_server *s)
{
	const char *tcp = getenv("MGR_BENCH_LISTEN");
	return tcp && *tcp ? tcp : mgr_manager_address(s->m);
}

static const char **mb_tcp_args(const char **arg)
{
	static char uid[32]; /* the key acts as us: the parent's objects are ours */
	const char *tcp = getenv("MGR_BENCH_LISTEN"), *cert = getenv("MGR_BENCH_TLS_CERT");
	if (!tcp || !*tcp)
		return arg;
	snprintf(uid, sizeof(uid), "default=%u", (unsigned)geteuid());
	*arg++ = "--listen";
	*arg++ = tcp;
	*arg++ = "--remote-uid";
	*arg++ = uid;
	*arg++ = "--auth-key-file";
	*arg++ = getenv("MGR_AUTH_KEY_FILE");
	if (cert && *cert) {
		*arg++ = "--tls-cert";
		*arg++ = cert;
		*arg++ = "--tls-key";
		*arg++ = getenv("MGR_BENCH_TLS_KEY");
	}
	return arg;
}

static int mb_client(struct stats_worker *w)
{
	const struct bench_job *j = w->arg;
	const struct mb_server *s = j->peer;
	const struct mb_work *work = j->c->data;
	const struct mb_op *op = w->idx ? work->rest : work->first;
	mgr_client *c = NULL;
	mgr_object *o = NULL;
	int rc = -1;

	if (mgr_client_connect(mb_address(s), &c) == 0 &&
	    mgr_object_open(c, op->type, op->name, &o) == 0) {
		struct mb_clock k = {0}; /* tsc false: latencies in ns already */
		stats_worker_start(w);
		rc = w->inflight > 1 ? mb_window(o, op, w, &k) : mb_sync(o, op, w);
		stats_worker_stop(w);
		mb_clock_to_ns(&k, &w->lat);
	}
	if (rc)
		fprintf(stderr, "mgr-bench: worker %d: %s\n", w->idx,
			mgr_client_errmsg(c));
	w->check = rc == 0 ? (int64_t)w->ops : -1;
	mgr_object_release(o);
	mgr_client_close(c);
	return rc;
}

/* ---- prepare and verify (the parent's connection) ---- */

/* Drops the case's object by name, so each repetition starts empty. */
static int mb_create_employee(mgr_client *c, const char *name)
{
	mgr_value *args[] = {mgr_value_new_string("bench"), mgr_value_new_int(0)};
	mgr_object *o = NULL;
	int err = mgr_object_create(c, "employee", name, args, 2, &o);

	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	mgr_object_release(o);
	return err ? -1 : 0;
}

static int mb_prepare_fresh(const struct bench_job *j, int clients)
{
	const struct mb_server *s = j->peer;
	const struct mb_work *work = j->c->data;
	mgr_object *o = NULL;

	(void)clients;
	if (mgr_object_lookup(s->ctl, work->first->name, &o) == 0) {
		int err = mgr_object_delete(o);

		mgr_object_release(o);
		if (err)
			return -1;
	}
	if (strcmp(work->first->type, "employee") == 0) /* constructor: name, salary */
		return mb_create_employee(s->ctl, work->first->name);
	if (mgr_object_open(s->ctl, work->first->type, work->first->name, &o))
		return -1;
	mgr_object_release(o);
	return 0;
}

static int mb_prepare_prefill(const struct bench_job *j, int clients)
{
	const struct mb_server *s = j->peer;
	mgr_object *o = NULL;
	char k[32], v[32];
	int err;

	if (mb_prepare_fresh(j, clients) < 0 || mgr_dict_open(s->ctl, "pre", &o))
		return -1;
	err = 0;
	for (int i = 0; i < MB_PREFILL && !err; i++) {
		snprintf(k, sizeof k, "f%d", i);
		snprintf(v, sizeof v, "v%d", i);
		err = mgr_dict_set(o, mgr_value_new_string(k), mgr_value_new_string(v));
	}
	mgr_object_release(o);
	return err ? -1 : 0;
}

static int mb_verify_total(const struct bench_job *j, uint64_t ops,
			   const int64_t *checks, int clients)
{
	const struct mb_server *s = j->peer;
	const struct mb_work *work = j->c->data;
	mgr_object *o = NULL;
	int64_t v = -1;

	(void)checks, (void)clients;
	if (mgr_object_lookup(s->ctl, work->first->name, &o) == 0)
		work->total(o, &v);
	mgr_object_release(o);
	if ((uint64_t)v != ops)
		fprintf(stderr, "mgr-bench: %s: final value %" PRId64 ", want %llu\n",
			j->c->workload, v, (unsigned long long)ops);
	return (uint64_t)v == ops ? 0 : -1;
}

/* Everything the producer put was got or is still queued. */
static int mb_verify_queue(const struct bench_job *j, uint64_t ops,
			   const int64_t *checks, int clients)
{
	const struct mb_server *s = j->peer;
	mgr_object *o = NULL;
	mgr_value *r = NULL;
	int64_t left = -1;

	(void)ops;
	if (clients != 2 || mgr_object_lookup(s->ctl, "q", &o))
		return -1;
	if (mgr_call(o, "qsize", NULL, 0, &r) == 0 && mgr_value_kind(r) == MGR_INT)
		left = mgr_value_int(r);
	mgr_value_free(r);
	mgr_object_release(o);
	return checks[0] == checks[1] + left ? 0 : -1;
}

#define MB_ALL { 1, 2, 4, 8, 0 }

static const struct bench_case mb_cases[] = {
	{ "counter_add", mb_client, MB_ALL, 1, mb_prepare_fresh, mb_verify_total,
	  &mb_work_counter },
	{ "dict_set", mb_client, MB_ALL, 1, mb_prepare_fresh, mb_verify_total,
	  &mb_work_dict_set },
	{ "dict_get", mb_client, { 1, 0 }, 1, mb_prepare_prefill, NULL,
	  &mb_work_dict_get },
	{ "list_append", mb_client, { 1, 0 }, 1, mb_prepare_fresh, mb_verify_total,
	  &mb_work_list },
	{ "counter_add", mb_client, { 1, 4, 0 }, 16, mb_prepare_fresh,
	  mb_verify_total, &mb_work_counter },
};

/* Rows that need a type the manager may not have yet. */
static const struct bench_case mb_case_queue = {
	"queue", mb_client, { 2, 0 }, 1, mb_prepare_fresh, mb_verify_queue,
	&mb_work_queue };
static const struct bench_case mb_case_employee = {
	"employee", mb_client, MB_ALL, 1, mb_prepare_fresh, mb_verify_total,
	&mb_work_employee };
static const struct bench_case mb_case_employee_emul = {
	"employee", mb_client, MB_ALL, 1, mb_prepare_fresh, mb_verify_total,
	&mb_work_employee_emul };

static const struct bench_defaults mb_defaults = {
	.ops = 100000, .quick_ops = 5000,
	.reps = 5, .quick_reps = 3,
	.mem = 1000000, .quick_mem = 100000,
};

/* ---- memory ---- */

/* VmRSS of pid, in bytes; -1 if unreadable. */
static long long mb_rss(int pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static size_t mb_big_args(mgr_value **a, int idx, uint64_t i)
{
	char buf[32];

	(void)idx;
	snprintf(buf, sizeof buf, "f%llu", (unsigned long long)i);
	a[0] = mgr_value_new_string(buf);
	a[1] = mgr_value_new_int((int64_t)i);
	return 2;
}

static const struct mb_op mb_op_big = { "dict", "big", NULL, "set", mb_big_args, false };

/* mgrd's RSS growth over --mem pipelined sets of f<i> = <i> into one dict,
 * from the parent's connection. */
static int mb_memory(struct mb_server *s, const struct bench_opts *o)
{
	struct stats_worker w = { .ops = o->mem, .inflight = MB_MEM_INFLIGHT };
	struct stats_line line = { "mgr", "memory_hash", 1, MB_MEM_INFLIGHT,
				   o->pinned, "idle", NULL, NULL };
	struct stats_rep rep = { 0 };
	mgr_object *d = NULL;
	long long before, after;
	int64_t n = -1;
	char extra[160];
	uint64_t t0;
	int rc = -1;

	if (stats_lat_init(&w.lat, o->mem) < 0 || mgr_dict_open(s->ctl, "big", &d))
		goto out;
	before = mb_rss(mgr_manager_pid(s->m));
	t0 = stats_now_ns();
	struct mb_clock k = {0};
	if (mb_window(d, &mb_op_big, &w, &k) < 0)
		goto out;
	uint64_t took = stats_now_ns() - t0;
	mb_clock_to_ns(&k, &w.lat);
	stats_rep_compute(&rep, &w.lat, w.ops, took);
	after = mb_rss(mgr_manager_pid(s->m));
	if (mb_total_dict(d, &n) || (uint64_t)n != o->mem || before < 0 || after < 0)
		goto out;
	snprintf(extra, sizeof extra,
		 "\"check\":\"ok\",\"entries\":%llu,\"memory_growth\":%lld,"
		 "\"bytes_per_entry\":%.1f",
		 (unsigned long long)o->mem, after - before,
		 (double)(after - before) / (double)o->mem);
	line.extra = extra;
	stats_print(&line, &rep, 1);
	rc = mgr_object_delete(d) ? -1 : 0;
out:
	if (rc)
		fprintf(stderr, "mgr-bench: memory_hash: FAILED (%s)\n",
			mgr_client_errmsg(s->ctl));
	mgr_object_release(d);
	stats_lat_free(&w.lat);
	return rc;
}

/* ---- optional types ---- */

/* 1 if the manager serves type (its "types" list names it). */
static int mb_has_type(mgr_client *c, const char *type)
{
	mgr_value *types = NULL;
	int found = 0;

	if (mgr_call(mgr_client_manager(c), "types", NULL, 0, &types) == 0)
		for (size_t i = 0; i < mgr_value_len(types) && !found; i++) {
			const char *t = mgr_value_string(mgr_value_list_get(types, i), NULL);
			found = t && strcmp(t, type) == 0;
		}
	mgr_value_free(types);
	return found;
}

static void mb_skip(const char *workload, const char *why, const struct bench_opts *o)
{
	printf("{\"peer\":\"mgr\",\"workload\":\"%s\",\"pinned\":%s,"
	       "\"skipped\":\"%s\"}\n", workload, o->pinned ? "true" : "false", why);
	fflush(stdout);
	fprintf(stderr, "mgr-bench: %s: not available (%s)\n", workload, why);
}

static int mb_run_optional(struct mb_server *s, const struct bench_opts *o)
{
	int rc = 0;

	if (bench_wanted(o, "queue")) {
		if (s->have_queue)
			rc |= bench_run("mgr", &mb_case_queue, 1, o, s);
		else
			mb_skip("queue", "mgrd has no queue type yet", o);
	}
	if (bench_wanted(o, "employee")) {
		/* the emulated row is marked "mgr-emul" so no one reads it as the real one */
		if (s->have_employee)
			rc |= bench_run("mgr", &mb_case_employee, 1, o, s);
		else
			rc |= bench_run("mgr-emul", &mb_case_employee_emul, 1, o, s);
	}
	return rc;
}

/* 1,000 connected clients, idle, while 4 busy ones add to a counter: the
 * row "counter_add_idle1000" against "counter_add_busy4", the same 4
 * clients without them, their repetitions taken in turn (unpinned, the
 * machine's speed drifts more between the start and the end of a run than
 * the idle clients could cost). */
#define MB_IDLE 1000

static const struct bench_case mb_case_busy4 = {
	"counter_add_busy4", mb_client, { 4, 0 }, 1, mb_prepare_fresh, mb_verify_total,
	&mb_work_counter };
static const struct bench_case mb_case_idle = {
	"counter_add_idle1000", mb_client, { 4, 0 }, 1, mb_prepare_fresh, mb_verify_total,
	&mb_work_counter };

struct mb_idle {
	const char *address;
	mgr_client *c[MB_IDLE];
	int n;
};

/* on: connects the idle clients; off: closes them. */
static int mb_idle_switch(void *arg, int on)
{
	struct mb_idle *st = arg;
	for (; on && st->n < MB_IDLE; st->n++)
		if (mgr_client_connect(st->address, &st->c[st->n])) {
			fprintf(stderr, "mgr-bench: %d idle clients: %s\n", st->n,
				mgr_client_errmsg(NULL));
			return -1;
		}
	for (; !on && st->n > 0; st->n--)
		mgr_client_close(st->c[st->n - 1]);
	return 0;
}

static int mb_idle(const struct mb_server *s, const struct bench_opts *o)
{
	struct rlimit rl;
	struct mb_idle *st = calloc(1, sizeof(*st));
	if (!st || getrlimit(RLIMIT_NOFILE, &rl)) {
		free(st);
		return -1;
	}
	if (rl.rlim_cur < 2 * MB_IDLE + 64 && rl.rlim_max >= 2 * MB_IDLE + 64) {
		rl.rlim_cur = 2 * MB_IDLE + 64; /* a socket and a ring's eventfd each */
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	st->address = mgr_manager_address(s->m);
	int rc = bench_run_paired("mgr", &mb_case_busy4, &mb_case_idle, 4, o, (void *)s,
				  mb_idle_switch, st);
	free(st);
	return rc;
}

int main(int argc, char **argv)
{
	struct mb_server s = { 0 };
	struct bench_opts o;

	mb_tsc = mb_kernel_uses_tsc();
	int rc = -1;

	if (bench_opts_parse(&o, &mb_defaults, argc, argv) < 0)
		return 2;
	if (stats_pin(o.pinned ? 0 : -1) < 0) {
		perror("mgr-bench: sched_setaffinity");
		return 1;
	}
	fflush(NULL);
	/* the Employee type comes from the examples' module, when it is built */
	const char *module = getenv("MGR_EMPLOYEE_MODULE");
	const char *margs[14] = {NULL}, **arg = margs;
	if (module && *module) {
		*arg++ = "--module";
		*arg++ = module;
	}
	/* MGR_NO_SPIN=1: the client never polls (libmgr reads it), nor mgrd */
	const char *no_spin = getenv("MGR_NO_SPIN");
	if (no_spin && *no_spin && strcmp(no_spin, "0") != 0)
		*arg++ = "--no-spin";
	arg = mb_tcp_args(arg);
	mgr_manager_opts mo = {.args = margs};
	if (mgr_manager_start(&mo, &s.m) || mgr_client_connect(mgr_manager_address(s.m), &s.ctl)) {
		fprintf(stderr, "mgr-bench: cannot start mgrd (set MGR_MGRD): %s\n",
			mgr_client_errmsg(NULL));
		mgr_manager_shutdown(s.m);
		return 1;
	}
	bench_server_pid(mgr_manager_pid(s.m));
	s.have_queue = mb_has_type(s.ctl, "queue");
	s.have_employee = mb_has_type(s.ctl, "employee");
	rc = bench_run("mgr", mb_cases, sizeof mb_cases / sizeof *mb_cases, &o, &s);
	if (mb_run_optional(&s, &o))
		rc = -1;
	if (bench_wanted(&o, "memory_hash") && mb_memory(&s, &o) < 0)
		rc = -1;
	if (bench_wanted(&o, "counter_add_idle1000") && mb_idle(&s, &o) < 0)
		rc = -1;
	mgr_client_close(s.ctl);
	if (mgr_manager_shutdown(s.m))
		fprintf(stderr, "mgr-bench: mgrd did not exit cleanly\n");
	return rc < 0;
}
