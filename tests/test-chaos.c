/* Chaos: 50 client processes do random operations on every type — counters,
 * dicts, lists, robust locks (held across operations), rlocks, conditions,
 * queues (waiting on an empty one), barriers, events, robust semaphores,
 * pipelined calls, anonymous objects and, when MGR_EMPLOYEE_MODULE names
 * the example module, a custom type on the worker pool — while the parent
 * SIGKILLs random ones at random moments and starts new ones in their
 * place; a few exit abruptly by themselves. Runs MGR_CHAOS_SECONDS (15).
 *
 * Afterwards mgrd must be alive and serving, no lock held by a dead session,
 * sessions / objects / references / fds back to their baseline, RSS bounded,
 * and every counter exact: each worker counts on counters of its own slot
 * and writes the value the server acknowledged to a pipe after each ack,
 * so a counter ends at the last acknowledged value, or one more when the
 * last worker of the slot died with an increment in flight (pipelined:
 * up to PIPE_DEPTH more). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>
#include <mgr/sync.h>

#include "../common/clock.h"
#include "harness.h"

#define NWORKERS 50
#define NLOCKS 4
#define PIPE_DEPTH 8
/* RSS may grow this much; a sanitizer build's mgrd also keeps freed memory
 * in quarantine (ASan: 256 MiB by default) and shadow pages. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_SLACK_KB ((64 + 512) * 1024)
#else
#define RSS_SLACK_KB (64 * 1024)
#endif

enum rec_kind { REC_COUNTER, REC_DICT, REC_PIPE, REC_EMP, REC_NKINDS };

/* What a worker writes after each acknowledged increment (< PIPE_BUF). */
struct rec {
	int32_t kind;
	int64_t value;
};

struct slot {
	pid_t pid;  /* 0: none running */
	int fd;     /* read end of its pipe */
	int64_t acked[REC_NKINDS]; /* last acknowledged value */
	int64_t gaps[REC_NKINDS];  /* acks that skipped values (died in flight) */
	int kills, deaths;
};

struct chaos {
	struct harness h;
	bool employee;
	int stop_fd, stop_wfd; /* stop pipe: EOF on stop_fd means stop */
	struct slot slots[NWORKERS];
	unsigned spawned, kills, abrupt, clean, failed;
	uint64_t acks;
};

/* ---- the worker (a child: no cmocka; exits non-zero on a real error) ---- */

struct worker {
	int slot, wfd, stop_fd;
	uint64_t rng;
	mgr_client *c;
	mgr_object *ctr, *pipe_ctr, *dict, *list, *locks[NLOCKS], *rlock, *cond, *q_empty,
		*q_work, *barrier, *event, *sem, *emp;
	mgr_object *held; /* a lock kept across operations, or NULL */
	mgr_value *key;
};

#define WCHK(x) do { if (!(x)) { fprintf(stderr, "chaos worker %d: line %d: %s\n", \
	(int)getpid(), __LINE__, #x); _exit(10); } } while (0)

static uint64_t rnd(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static void pause_us(struct worker *w, unsigned max_us)
{
	struct timespec ts = {0, (long)(rnd(w) % max_us) * 1000};
	nanosleep(&ts, NULL);
}

static void ack(struct worker *w, int kind, int64_t value)
{
	struct rec r = {kind, value};
	WCHK(write(w->wfd, &r, sizeof(r)) == sizeof(r));
}

static bool stopping(struct worker *w)
{
	struct pollfd p = {w->stop_fd, POLLIN, 0};
	return poll(&p, 1, 0) > 0;
}

static void w_counter(struct worker *w)
{
	int64_t now;
	WCHK(mgr_counter_add(w->ctr, 1, &now) == 0);
	ack(w, REC_COUNTER, now);
}

static void w_dict(struct worker *w)
{
	int64_t now;
	WCHK(mgr_dict_incr(w->dict, w->key, 1, &now) == 0);
	ack(w, REC_DICT, now);
}

static void w_list(struct worker *w)
{
	size_t len;
	WCHK(mgr_list_append(w->list, mgr_value_new_int(w->slot)) == 0);
	WCHK(mgr_list_len(w->list, &len) == 0);
	if (len > 200) {
		mgr_value *v = NULL;
		int err = mgr_list_pop(w->list, 0, &v); /* another may have emptied it */
		WCHK(err == 0 || err == MGR_EINDEX);
		mgr_value_free(v);
	}
}

static void w_release_held(struct worker *w)
{
	if (w->held)
		WCHK(mgr_lock_release(w->held) == 0);
	w->held = NULL;
}

/* A robust lock: held for a moment, or kept across later operations. */
static void w_lock(struct worker *w)
{
	bool got = false;
	w_release_held(w);
	mgr_object *l = w->locks[rnd(w) % NLOCKS];
	WCHK(mgr_lock_acquire(l, true, 30, &got, NULL) == 0);
	if (!got)
		return;
	if (rnd(w) % 4 == 0) {
		w->held = l;
		return;
	}
	pause_us(w, 2000);
	WCHK(mgr_lock_release(l) == 0);
}

static void w_rlock(struct worker *w)
{
	bool got = false;
	WCHK(mgr_lock_acquire(w->rlock, true, 20, &got, NULL) == 0);
	if (!got)
		return;
	WCHK(mgr_lock_acquire(w->rlock, true, 20, &got, NULL) == 0 && got);
	pause_us(w, 1000);
	WCHK(mgr_lock_release(w->rlock) == 0);
	WCHK(mgr_lock_release(w->rlock) == 0);
}

static void w_cond(struct worker *w)
{
	bool got = false;
	WCHK(mgr_condition_acquire(w->cond, true, 20, &got, NULL) == 0);
	if (!got)
		return;
	if (rnd(w) % 2)
		WCHK(mgr_condition_wait(w->cond, 5, NULL, NULL) == 0);
	else
		WCHK(mgr_condition_notify_all(w->cond, NULL) == 0);
	WCHK(mgr_condition_release(w->cond) == 0);
}

static void w_queue(struct worker *w)
{
	mgr_value *v = NULL;
	if (rnd(w) % 2) { /* parked on a queue nobody fills */
		WCHK(mgr_queue_get(w->q_empty, true, 20, &v) == MGR_EEMPTY);
		return;
	}
	WCHK(mgr_queue_put(w->q_work, mgr_value_new_int(w->slot), true, 20) == 0);
	int err = mgr_queue_get(w->q_work, true, 20, &v);
	WCHK(err == 0 || err == MGR_EEMPTY);
	mgr_value_free(v);
}

static void w_barrier(struct worker *w)
{
	int err = mgr_barrier_wait(w->barrier, 30, NULL);
	WCHK(err == 0 || err == MGR_EBROKEN || err == MGR_ETIMEDOUT);
	bool broken = false;
	if (err && mgr_barrier_broken(w->barrier, &broken) == 0 && broken)
		WCHK(mgr_barrier_reset(w->barrier) == 0);
}

static void w_event(struct worker *w)
{
	switch (rnd(w) % 3) {
	case 0:
		WCHK(mgr_event_set(w->event) == 0);
		break;
	case 1:
		WCHK(mgr_event_clear(w->event) == 0);
		break;
	default:
		WCHK(mgr_event_wait(w->event, 10, NULL) == 0);
	}
}

static void w_sem(struct worker *w)
{
	bool got = false;
	WCHK(mgr_semaphore_acquire(w->sem, true, 20, &got) == 0);
	if (!got)
		return;
	pause_us(w, 2000);
	WCHK(mgr_semaphore_release(w->sem, 1) == 0);
}

/* PIPE_DEPTH adds in flight at once; each answer acknowledged in order. */
static void w_pipeline(struct worker *w)
{
	mgr_future *f[PIPE_DEPTH];
	mgr_value *one = mgr_value_new_int(1);
	for (int i = 0; i < PIPE_DEPTH; i++)
		WCHK(mgr_call_async(w->pipe_ctr, "add", &one, 1, &f[i]) == 0);
	mgr_value_free(one);
	WCHK(mgr_client_flush(w->c) == 0);
	for (int i = 0; i < PIPE_DEPTH; i++) {
		mgr_value *now = NULL;
		WCHK(mgr_future_wait(f[i], &now) == 0);
		ack(w, REC_PIPE, mgr_value_int(now));
		mgr_value_free(now);
	}
}

/* Anonymous objects: a dict holding a list; freed with the references. */
static void w_objects(struct worker *w)
{
	mgr_object *d, *l;
	WCHK(mgr_object_create(w->c, "dict", NULL, NULL, 0, &d) == 0);
	WCHK(mgr_object_create(w->c, "list", NULL, NULL, 0, &l) == 0);
	WCHK(mgr_dict_set(d, mgr_value_new_string("l"), mgr_object_ref(l)) == 0);
	pause_us(w, 1000);
	WCHK(mgr_object_release(l) == 0);
	WCHK(mgr_object_release(d) == 0);
}

static void w_employee(struct worker *w)
{
	mgr_value *one = mgr_value_new_int(1), *now = NULL;
	WCHK(mgr_call(w->emp, "increase", &one, 1, &now) == 0);
	ack(w, REC_EMP, mgr_value_int(now));
	mgr_value_free(now);
	mgr_value_free(one);
}

static void (*const worker_ops[])(struct worker *) = {
	w_counter, w_counter, w_dict, w_dict, w_list, w_lock, w_lock, w_rlock, w_cond,
	w_queue, w_queue, w_barrier, w_event, w_sem, w_pipeline, w_objects, w_employee,
};
#define NOPS (sizeof(worker_ops) / sizeof(worker_ops[0]))

static void worker_open(struct worker *w, bool employee)
{
	char name[32];
	snprintf(name, sizeof(name), "ctr-%d", w->slot);
	WCHK(mgr_counter_open(w->c, name, &w->ctr) == 0);
	snprintf(name, sizeof(name), "pipe-%d", w->slot);
	WCHK(mgr_counter_open(w->c, name, &w->pipe_ctr) == 0);
	for (int i = 0; i < NLOCKS; i++) {
		snprintf(name, sizeof(name), "lock-%d", i);
		WCHK(mgr_lock_open(w->c, name, true, &w->locks[i]) == 0);
	}
	WCHK(mgr_dict_open(w->c, "dict", &w->dict) == 0);
	WCHK(mgr_list_open(w->c, "list", &w->list) == 0);
	WCHK(mgr_rlock_open(w->c, "rlock", true, &w->rlock) == 0);
	WCHK(mgr_condition_open(w->c, "cond", NULL, &w->cond) == 0);
	WCHK(mgr_queue_open(w->c, "q-empty", 0, &w->q_empty) == 0);
	WCHK(mgr_queue_open(w->c, "q-work", 0, &w->q_work) == 0);
	WCHK(mgr_barrier_open(w->c, "barrier", 3, &w->barrier) == 0);
	WCHK(mgr_event_open(w->c, "event", &w->event) == 0);
	WCHK(mgr_semaphore_open(w->c, "sem", 3, true, &w->sem) == 0);
	if (employee) {
		snprintf(name, sizeof(name), "emp-%d", w->slot);
		WCHK(mgr_object_lookup(w->c, name, &w->emp) == 0);
	}
}

static int worker_main(const char *path, int slot, int wfd, int stop_fd, bool employee,
		       uint64_t seed)
{
	struct worker w = {.slot = slot, .wfd = wfd, .stop_fd = stop_fd, .rng = seed | 1};
	WCHK(mgr_client_connect(path, &w.c) == 0);
	w.key = mgr_value_new_int(slot);
	worker_open(&w, employee);
	size_t nops = employee ? NOPS : NOPS - 1;
	while (!stopping(&w)) {
		worker_ops[rnd(&w) % nops](&w);
		if (rnd(&w) % 3000 == 0)
			_exit(0); /* ends abruptly: locks, references left to the server */
	}
	w_release_held(&w); /* a clean end: gives everything back */
	mgr_value_free(w.key);
	mgr_client_close(w.c);
	return 0;
}

/* ---- the parent ---- */

static void chaos_spawn(struct chaos *ch, int i)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	uint64_t seed = ((uint64_t)ch->spawned << 20) ^ (uint64_t)i ^ (uint64_t)time(NULL) << 32;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		close(ch->stop_wfd); /* the parent's close must reach EOF */
		_exit(worker_main(ch->h.path, i, p[1], ch->stop_fd, ch->employee, seed));
	}
	close(p[1]);
	ch->slots[i].pid = pid;
	ch->slots[i].fd = p[0];
	ch->spawned++;
}

/* Reads the slot's acknowledgements; kind by kind they only grow. A jump of
 * more than one is an increment that a killed worker had in flight. */
static void chaos_read(struct chaos *ch, struct slot *s, bool to_eof)
{
	struct rec r[256];
	for (;;) {
		if (!to_eof) {
			struct pollfd p = {s->fd, POLLIN, 0};
			if (poll(&p, 1, 0) <= 0)
				return;
		}
		ssize_t n = read(s->fd, r, sizeof(r));
		if (n <= 0)
			return;
		assert_int_equal(n % (ssize_t)sizeof(r[0]), 0);
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(r[0]); i++) {
			assert_true(r[i].kind >= 0 && r[i].kind < REC_NKINDS);
			int64_t *last = &s->acked[r[i].kind];
			assert_true(r[i].value > *last);
			s->gaps[r[i].kind] += r[i].value - *last - 1;
			*last = r[i].value;
			ch->acks++;
		}
	}
}

/* Reaps the slot's worker (killed or not) and takes its last acks. */
static void chaos_reap(struct chaos *ch, struct slot *s, bool killed)
{
	int st;
	pid_t pid = s->pid;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	chaos_read(ch, s, true);
	close(s->fd);
	s->pid = 0;
	s->fd = -1;
	s->deaths++;
	if (killed && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return; /* it ended abruptly by itself just before our kill: fine */
	if (killed) {
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			ch->failed++;
			print_error("killed worker %d ended with status %#x\n", (int)pid, st);
		}
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		ch->failed++;
		print_error("worker %d ended with status %#x\n", (int)pid, st);
	}
}

/* Workers that ended by themselves (the abrupt _exit(0)) are replaced. */
static void chaos_replace_exited(struct chaos *ch)
{
	for (int i = 0; i < NWORKERS; i++) {
		struct slot *s = &ch->slots[i];
		siginfo_t si = {0};
		if (s->pid && (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) ||
			       si.si_pid == 0))
			continue;
		if (s->pid) {
			chaos_reap(ch, s, false);
			ch->abrupt++;
		}
		chaos_spawn(ch, i);
	}
}

/* The parent's own calls during the storm: the daemon keeps answering. */
static int64_t chaos_ping(struct chaos *ch)
{
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_call(mgr_client_manager(ch->h.c), "ping", NULL, 0, NULL), 0);
	return clock_now_ms() - t0;
}

static void chaos_storm(struct chaos *ch, int64_t ms, int64_t *max_ping)
{
	int64_t end = clock_now_ms() + ms, next_kill = 0, next_ping = 0;
	uint64_t rng = (uint64_t)time(NULL) | 1;
	for (int64_t now; (now = clock_now_ms()) < end;) {
		struct pollfd p[NWORKERS];
		for (int i = 0; i < NWORKERS; i++)
			p[i] = (struct pollfd){ch->slots[i].fd, POLLIN, 0};
		poll(p, NWORKERS, 5);
		for (int i = 0; i < NWORKERS; i++)
			if (p[i].revents & POLLIN)
				chaos_read(ch, &ch->slots[i], false);
		chaos_replace_exited(ch);
		now = clock_now_ms();
		if (now >= next_kill) { /* one kill every 5-25 ms */
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			struct slot *s = &ch->slots[rng % NWORKERS];
			assert_int_equal(kill(s->pid, SIGKILL), 0);
			chaos_reap(ch, s, true);
			s->kills++;
			ch->kills++;
			chaos_spawn(ch, (int)(s - ch->slots));
			next_kill = now + 5 + (int64_t)(rng >> 8) % 21;
		}
		if (now >= next_ping) {
			int64_t t = chaos_ping(ch);
			*max_ping = t > *max_ping ? t : *max_ping;
			next_ping = now + 250;
		}
	}
}

/* The end: half are killed, the rest stop cleanly (stop pipe closed). */
static void chaos_finish(struct chaos *ch)
{
	for (int i = 0; i < NWORKERS; i += 2) {
		assert_int_equal(kill(ch->slots[i].pid, SIGKILL), 0);
		chaos_reap(ch, &ch->slots[i], true);
		ch->slots[i].kills++;
		ch->kills++;
	}
	close(ch->stop_wfd);
	for (int i = 1; i < NWORKERS; i += 2) {
		chaos_reap(ch, &ch->slots[i], false);
		ch->clean++;
	}
}

/* ---- the daemon's figures ---- */

static long chaos_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Object id -> refs, from the manager's objects(). */
static mgr_value *chaos_objects(mgr_client *c)
{
	mgr_value *l = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(c), "objects", NULL, 0, &l), 0);
	return l;
}

static int64_t chaos_row_int(const mgr_value *row, const char *field)
{
	mgr_value *k = mgr_value_new_string(field);
	const mgr_value *v = mgr_value_map_get(row, k);
	mgr_value_free(k);
	assert_non_null(v);
	return mgr_value_int(v);
}

static void chaos_same_objects(const mgr_value *before, const mgr_value *after)
{
	assert_int_equal(mgr_value_len(after), mgr_value_len(before));
	for (size_t i = 0; i < mgr_value_len(before); i++) {
		const mgr_value *b = mgr_value_list_get(before, i), *a = NULL;
		for (size_t j = 0; j < mgr_value_len(after) && !a; j++)
			if (chaos_row_int(mgr_value_list_get(after, j), "id") == chaos_row_int(b, "id"))
				a = mgr_value_list_get(after, j);
		assert_non_null(a);
		assert_int_equal(chaos_row_int(a, "refs"), chaos_row_int(b, "refs"));
	}
}

/* Sessions back to the baseline; the server sees each close at once, but
 * the last ones may still be in its queue: bounded polling. */
static void chaos_await_sessions(mgr_client *c, int64_t want)
{
	assert_int_equal(harness_wait_info(c, "sessions", want, 10000), want);
}

/* ---- the parent's objects and the final checks ---- */

struct parent_objs {
	mgr_object *ctr[NWORKERS], *pipe_ctr[NWORKERS], *emp[NWORKERS], *locks[NLOCKS];
	mgr_object *dict, *rlock, *cond, *sem, *q_empty, *barrier, *event;
};

static void chaos_create(struct chaos *ch, struct parent_objs *o)
{
	mgr_client *c = ch->h.c;
	char name[32];
	for (int i = 0; i < NWORKERS; i++) {
		snprintf(name, sizeof(name), "ctr-%d", i);
		assert_int_equal(mgr_counter_open(c, name, &o->ctr[i]), 0);
		snprintf(name, sizeof(name), "pipe-%d", i);
		assert_int_equal(mgr_counter_open(c, name, &o->pipe_ctr[i]), 0);
		if (ch->employee) {
			mgr_value *args[] = {mgr_value_new_string(name), mgr_value_new_int(0)};
			snprintf(name, sizeof(name), "emp-%d", i);
			assert_int_equal(mgr_object_create(c, "employee", name, args, 2, &o->emp[i]), 0);
			mgr_value_free(args[0]);
			mgr_value_free(args[1]);
		}
	}
	for (int i = 0; i < NLOCKS; i++) {
		snprintf(name, sizeof(name), "lock-%d", i);
		assert_int_equal(mgr_lock_open(c, name, true, &o->locks[i]), 0);
	}
	mgr_object *l, *qw;
	assert_int_equal(mgr_dict_open(c, "dict", &o->dict), 0);
	assert_int_equal(mgr_list_open(c, "list", &l), 0);
	assert_int_equal(mgr_rlock_open(c, "rlock", true, &o->rlock), 0);
	assert_int_equal(mgr_condition_open(c, "cond", NULL, &o->cond), 0);
	assert_int_equal(mgr_queue_open(c, "q-empty", 0, &o->q_empty), 0);
	assert_int_equal(mgr_queue_open(c, "q-work", 0, &qw), 0);
	assert_int_equal(mgr_barrier_open(c, "barrier", 3, &o->barrier), 0);
	assert_int_equal(mgr_event_open(c, "event", &o->event), 0);
	assert_int_equal(mgr_semaphore_open(c, "sem", 3, true, &o->sem), 0);
	mgr_object_release(l);
	mgr_object_release(qw);
}

static void chaos_check_counters(struct chaos *ch, struct parent_objs *o)
{
	for (int i = 0; i < NWORKERS; i++) {
		struct slot *s = &ch->slots[i];
		int64_t v;
		assert_int_equal(mgr_counter_get(o->ctr[i], &v), 0);
		assert_in_range(v, s->acked[REC_COUNTER], s->acked[REC_COUNTER] + 1);
		assert_in_range(s->gaps[REC_COUNTER], 0, s->deaths);
		mgr_value *k = mgr_value_new_int(i), *d = NULL;
		int err = mgr_dict_get(o->dict, k, &d);
		assert_true(err == 0 || (err == MGR_ENOKEY && s->acked[REC_DICT] == 0));
		v = d ? mgr_value_int(d) : 0;
		assert_in_range(v, s->acked[REC_DICT], s->acked[REC_DICT] + 1);
		assert_in_range(s->gaps[REC_DICT], 0, s->deaths);
		mgr_value_free(k);
		mgr_value_free(d);
		assert_int_equal(mgr_counter_get(o->pipe_ctr[i], &v), 0);
		assert_in_range(v, s->acked[REC_PIPE], s->acked[REC_PIPE] + PIPE_DEPTH);
		if (ch->employee) {
			mgr_value *pay = NULL;
			assert_int_equal(mgr_call(o->emp[i], "history", NULL, 0, &pay), 0);
			v = (int64_t)mgr_value_len(pay); /* one raise of 1 each */
			assert_in_range(v, s->acked[REC_EMP], s->acked[REC_EMP] + 1);
			mgr_value_free(pay);
		}
	}
}

/* Every lock free (robust: a dead holder's is released), every waiter gone. */
static void chaos_check_sync(struct parent_objs *o)
{
	bool got = false;
	for (int i = 0; i < NLOCKS; i++) {
		assert_int_equal(mgr_lock_acquire(o->locks[i], true, 200, &got, NULL), 0);
		assert_true(got);
		assert_int_equal(mgr_lock_release(o->locks[i]), 0);
	}
	assert_int_equal(mgr_lock_acquire(o->rlock, true, 200, &got, NULL), 0);
	assert_true(got);
	assert_int_equal(mgr_lock_release(o->rlock), 0);
	assert_int_equal(mgr_condition_acquire(o->cond, true, 200, &got, NULL), 0);
	assert_true(got);
	assert_int_equal(mgr_condition_release(o->cond), 0);
	int64_t n;
	assert_int_equal(mgr_semaphore_value(o->sem, &n), 0);
	assert_int_equal(n, 3); /* robust: dead sessions' permits came back */
	assert_int_equal(mgr_barrier_n_waiting(o->barrier, &n), 0);
	assert_int_equal(n, 0);
	mgr_object *waitable[] = {o->q_empty, o->event, o->sem, o->locks[0], o->cond};
	for (size_t i = 0; i < sizeof(waitable) / sizeof(waitable[0]); i++) {
		mgr_value *w = NULL;
		assert_int_equal(mgr_call(waitable[i], "waiting", NULL, 0, &w), 0);
		assert_int_equal(mgr_value_int(w), 0);
		mgr_value_free(w);
	}
}

static void chaos_release(struct chaos *ch, struct parent_objs *o)
{
	for (int i = 0; i < NWORKERS; i++) {
		mgr_object_release(o->ctr[i]);
		mgr_object_release(o->pipe_ctr[i]);
		mgr_object_release(o->emp[i]);
	}
	for (int i = 0; i < NLOCKS; i++)
		mgr_object_release(o->locks[i]);
	mgr_object *rest[] = {o->dict, o->rlock, o->cond, o->sem, o->q_empty, o->barrier,
			      o->event};
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		mgr_object_release(rest[i]);
	(void)ch;
}

static int64_t chaos_seconds(void)
{
	const char *s = getenv("MGR_CHAOS_SECONDS");
	return s && atoi(s) > 0 ? atoi(s) : 15;
}

static void test_chaos(void **state)
{
	(void)state;
	static struct chaos ch;
	const char *module = getenv("MGR_EMPLOYEE_MODULE");
	const char *args[] = {"--module", module, NULL};
	ch.employee = module && *module;
	harness_start(&ch.h, ch.employee ? args : NULL);
	int pid = mgr_manager_pid(ch.h.m);
	struct parent_objs o = {0};
	chaos_create(&ch, &o);

	if (ch.employee) /* the worker pool (and its wake-up fd) starts at first use */
		assert_int_equal(mgr_call(o.emp[0], "get_pay", NULL, 0, NULL), 0);
	int64_t sessions0 = harness_info(ch.h.c, "sessions"), objects0 = harness_info(ch.h.c, "objects");
	int64_t calls0 = harness_info(ch.h.c, "calls");
	mgr_value *rows0 = chaos_objects(ch.h.c);
	int fds0 = harness_fd_count(pid);
	long rss0 = chaos_rss_kb(pid);

	int stop[2];
	assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
	ch.stop_fd = stop[0];
	ch.stop_wfd = stop[1];
	for (int i = 0; i < NWORKERS; i++)
		chaos_spawn(&ch, i);
	int64_t t0 = clock_now_ms(), max_ping = 0;
	chaos_storm(&ch, chaos_seconds() * 1000, &max_ping);
	long rss_peak = chaos_rss_kb(pid);
	chaos_finish(&ch);
	close(stop[0]);
	int64_t elapsed = clock_now_ms() - t0;

	/* alive and serving */
	assert_int_equal(kill(pid, 0), 0);
	chaos_ping(&ch);
	chaos_await_sessions(ch.h.c, sessions0);
	mgr_value *clients = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(ch.h.c), "clients", NULL, 0, &clients), 0);
	assert_int_equal((int64_t)mgr_value_len(clients), sessions0);
	mgr_value_free(clients);
	assert_int_equal(harness_info(ch.h.c, "objects"), objects0);
	mgr_value *rows1 = chaos_objects(ch.h.c);
	chaos_same_objects(rows0, rows1);
	assert_int_equal(harness_fd_count(pid), fds0);
	long rss1 = chaos_rss_kb(pid);
	if (rss1 >= rss0 + RSS_SLACK_KB)
		fail_msg("mgrd RSS %ld KiB, baseline %ld KiB", rss1, rss0);
	chaos_check_sync(&o);
	chaos_check_counters(&ch, &o);
	assert_int_equal(ch.failed, 0);
	int64_t calls = harness_info(ch.h.c, "calls") - calls0;

	printf("chaos: %.1f s, %d workers at a time, %u processes started, %u SIGKILLed, "
	       "%u ended abruptly, %u stopped cleanly\n"
	       "chaos: %lld calls served (%lld/s), %llu acknowledged increments checked, "
	       "slowest manager ping during the storm %lld ms%s\n"
	       "chaos: mgrd after: sessions %lld, objects %lld (baseline), fds %d (baseline %d), "
	       "RSS %ld KiB (baseline %ld, peak %ld)\n",
	       (double)elapsed / 1000, NWORKERS, ch.spawned, ch.kills, ch.abrupt, ch.clean,
	       (long long)calls, (long long)(calls * 1000 / (elapsed ? elapsed : 1)),
	       (unsigned long long)ch.acks, (long long)max_ping,
	       ch.employee ? ", custom type included" : "", (long long)sessions0,
	       (long long)objects0, harness_fd_count(pid), fds0, rss1, rss0, rss_peak);
	mgr_value_free(rows0);
	mgr_value_free(rows1);
	chaos_release(&ch, &o);
	harness_stop(&ch.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chaos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
