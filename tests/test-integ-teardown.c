/* A waiter and a holder that die together (issue 11, item 1): a program
 * waits on an anonymous object that its own forked worker holds or is
 * working on, and Ctrl-C (SIGINT to the process group) or kill(-pgid,
 * SIGKILL) ends both at the same instant. The object lives only through the
 * waiter's reference, so whichever session end mgrd handles first may free
 * it — while the other's wake path (lock_pass, sem_wake, queue admission,
 * notify, barrier trip) is still walking its wait queue.
 *
 * Per round: a process-group leader creates the object, forks a worker that
 * inherits the handle, both start, the test kills the group (SIGKILL,
 * SIGINT, or SIGINT then SIGKILL at once), then checks that mgrd is alive,
 * answers a fresh client, and that its sessions and objects are back to the
 * baseline. MGR_TEARDOWN_ROUNDS (30) rounds per shape. A crashed mgrd is
 * counted, restarted, and the shape fails at its end with the count. */
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mgr/sync.h>

#include "../common/clock.h"
#include "harness.h"

#define LONG_MS 60000 /* the leader's and worker's waits: longer than a round */

/* In the leader or the worker (no cmocka there): exit code = line. */
#define TCHK(x) do { if (!(x)) { fprintf(stderr, "teardown %d: line %d: %s\n", \
	(int)getpid(), __LINE__, #x); _exit(__LINE__ % 200 + 20); } } while (0)

struct shape {
	const char *name;
	/* creates the anonymous object on the leader's client */
	int (*create)(mgr_client *c, mgr_object **o);
	/* the worker: holds or works, writes one byte to ready when started */
	void (*work)(mgr_object *o, int ready);
	/* the leader, after the worker is ready: blocks (in a loop) */
	void (*wait)(mgr_object *o);
	/* the leader parks and stays parked: the test kills once it is */
	bool passive;
};

static void ready_once(int *ready)
{
	if (*ready >= 0) {
		TCHK(write(*ready, "r", 1) == 1);
		close(*ready);
		*ready = -1;
	}
}

/* In the leader: tells the test its worker's pid and its own session,
 * once (a passive shape before it parks, an active one after its first
 * call came back). The session, not the pid, finds the leader in the
 * clients view: over TCP (MGR_TEST_TCP) a session has no pid. */
struct leader_news {
	pid_t worker;
	uint64_t session;
};
static int leader_report = -1;
static struct leader_news leader_news;

static void started(void)
{
	if (leader_report >= 0) {
		TCHK(write(leader_report, &leader_news, sizeof(leader_news)) ==
		     sizeof(leader_news));
		close(leader_report);
		leader_report = -1;
	}
}

static void hang(void)
{
	for (;;)
		pause();
}

static int64_t waiting(mgr_object *o)
{
	mgr_value *v = NULL;
	TCHK(mgr_call(o, "waiting", NULL, 0, &v) == 0);
	int64_t n = mgr_value_int(v);
	mgr_value_free(v);
	return n;
}

/* ---- lock, rlock: the worker holds, the leader's acquire parks ---- */

static int lock_create(mgr_client *c, mgr_object **o) { return mgr_lock_open(c, NULL, true, o); }
static int rlock_create(mgr_client *c, mgr_object **o) { return mgr_rlock_open(c, NULL, true, o); }

static void lock_hold(mgr_object *o, int ready)
{
	bool got = false;
	TCHK(mgr_lock_acquire(o, true, LONG_MS, &got, NULL) == 0 && got);
	ready_once(&ready);
	hang();
}

static void lock_wait(mgr_object *o)
{
	started();
	for (;;)
		TCHK(mgr_lock_acquire(o, true, LONG_MS, NULL, NULL) == 0);
}

/* ---- semaphores ---- */

/* robust, 1 permit: the worker takes it (given back when it dies). */
static int sem1_create(mgr_client *c, mgr_object **o) { return mgr_semaphore_open(c, NULL, 1, true, o); }
/* 0 permits: the worker signals the leader, a permit whenever it waits. */
static int sem0_create(mgr_client *c, mgr_object **o) { return mgr_semaphore_open(c, NULL, 0, false, o); }

static void sem_hold(mgr_object *o, int ready)
{
	bool got = false;
	TCHK(mgr_semaphore_acquire(o, true, LONG_MS, &got) == 0 && got);
	ready_once(&ready);
	hang();
}

static void sem_signal(mgr_object *o, int ready)
{
	ready_once(&ready);
	for (;;)
		if (waiting(o) > 0)
			TCHK(mgr_semaphore_release(o, 1) == 0);
}

static void sem_wait_parked(mgr_object *o)
{
	started();
	for (;;)
		TCHK(mgr_semaphore_acquire(o, true, LONG_MS, NULL) == 0);
}

static void sem_wait(mgr_object *o)
{
	for (;; started())
		TCHK(mgr_semaphore_acquire(o, true, LONG_MS, NULL) == 0);
}

/* ---- queues ---- */

/* bounded and full: the leader's put parks, the worker's gets admit it. */
static int qfull_create(mgr_client *c, mgr_object **o)
{
	int err = mgr_queue_open(c, NULL, 1, o);
	return err ? err : mgr_queue_put_nowait(*o, mgr_value_new_int(0));
}

static void qfull_get(mgr_object *o, int ready)
{
	ready_once(&ready);
	for (;;) {
		mgr_value *v = NULL;
		TCHK(mgr_queue_get(o, true, LONG_MS, &v) == 0);
		mgr_value_free(v);
	}
}

static void qfull_put(mgr_object *o)
{
	for (int64_t i = 1;; i++, started())
		TCHK(mgr_queue_put(o, mgr_value_new_int(i), true, LONG_MS) == 0);
}

/* empty: the leader's get parks, the worker puts whenever it does. */
static int qempty_create(mgr_client *c, mgr_object **o) { return mgr_queue_open(c, NULL, 0, o); }

static void qempty_put(mgr_object *o, int ready)
{
	ready_once(&ready);
	for (int64_t i = 0;; i++)
		if (waiting(o) > 0)
			TCHK(mgr_queue_put(o, mgr_value_new_int(i), true, LONG_MS) == 0);
}

static void qempty_get(mgr_object *o)
{
	for (;; started()) {
		mgr_value *v = NULL;
		TCHK(mgr_queue_get(o, true, LONG_MS, &v) == 0);
		mgr_value_free(v);
	}
}

/* ---- condition ---- */

static int cond_create(mgr_client *c, mgr_object **o) { return mgr_condition_open(c, NULL, NULL, o); }

/* the worker holds the condition's lock; the leader's acquire parks */
static void cond_hold(mgr_object *o, int ready)
{
	bool got = false;
	TCHK(mgr_condition_acquire(o, true, LONG_MS, &got, NULL) == 0 && got);
	ready_once(&ready);
	hang();
}

static void cond_acquire_wait(mgr_object *o)
{
	started();
	for (;;)
		TCHK(mgr_condition_acquire(o, true, LONG_MS, NULL, NULL) == 0);
}

/* the leader waits on it, the worker notifies */
static void cond_notify(mgr_object *o, int ready)
{
	ready_once(&ready);
	for (;;) {
		TCHK(mgr_condition_acquire(o, true, LONG_MS, NULL, NULL) == 0);
		TCHK(mgr_condition_notify_all(o, NULL) == 0);
		TCHK(mgr_condition_release(o) == 0);
	}
}

static void cond_wait(mgr_object *o)
{
	for (;; started()) {
		TCHK(mgr_condition_acquire(o, true, LONG_MS, NULL, NULL) == 0);
		TCHK(mgr_condition_wait(o, LONG_MS, NULL, NULL) == 0);
		TCHK(mgr_condition_release(o) == 0);
	}
}

/* ---- barrier: two parties, the leader and the worker, trip in turn ---- */

static int barrier_create(mgr_client *c, mgr_object **o) { return mgr_barrier_open(c, NULL, 2, MGR_FOREVER, o); }

static void barrier_work(mgr_object *o, int ready)
{
	ready_once(&ready);
	for (;;)
		TCHK(mgr_barrier_wait(o, LONG_MS, NULL) == 0);
}

static void barrier_wait(mgr_object *o)
{
	for (;; started())
		TCHK(mgr_barrier_wait(o, LONG_MS, NULL) == 0);
}

static const struct shape shapes[] = {
	{"lock", lock_create, lock_hold, lock_wait, true},
	{"rlock", rlock_create, lock_hold, lock_wait, true},
	{"semaphore(1)", sem1_create, sem_hold, sem_wait_parked, true},
	{"semaphore(0)", sem0_create, sem_signal, sem_wait, false},
	{"queue-full", qfull_create, qfull_get, qfull_put, false},
	{"queue-empty", qempty_create, qempty_put, qempty_get, false},
	{"condition", cond_create, cond_hold, cond_acquire_wait, true},
	{"condition-notify", cond_create, cond_notify, cond_wait, false},
	{"barrier", barrier_create, barrier_work, barrier_wait, false},
};

/* ---- the process group ---- */

/* The leader: a new process group, SIGINT at its default action (Ctrl-C
 * kills), its own client; reports its worker's pid on report. */
static void leader_main(const char *path, const struct shape *s, int report)
{
	TCHK(setpgid(0, 0) == 0);
	signal(SIGINT, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	mgr_client *c;
	mgr_object *o;
	TCHK(mgr_client_connect(path, &c) == 0);
	TCHK(s->create(c, &o) == 0);
	int p[2];
	TCHK(pipe(p) == 0);
	pid_t w = fork();
	TCHK(w >= 0);
	if (w == 0) { /* the worker: inherits the handle; its first call connects */
		close(p[0]);
		close(report);
		s->work(o, p[1]);
		_exit(1);
	}
	close(p[1]);
	struct pollfd pf = {p[0], POLLIN, 0};
	char b;
	TCHK(poll(&pf, 1, 20000) == 1 && read(p[0], &b, 1) == 1);
	leader_report = report;
	leader_news = (struct leader_news){w, mgr_client_session(c)};
	s->wait(o);
	_exit(2);
}

struct td {
	struct harness h;
	bool started;
	int64_t sessions0, objects0;
	uint64_t rng;
	int crashes, rounds, sigint_rounds;
	pid_t group; /* the round's process group, killed if the test fails */
};

static struct td td;

/* How many calls the session of pid has parked (-1: no such session);
 * MGR_E* as a negative number if the call failed. */
static int64_t td_parked(mgr_client *c, uint64_t session)
{
	mgr_value *rows = NULL;
	int err = mgr_call(mgr_client_manager(c), "clients", NULL, 0, &rows);
	if (err)
		return -1000 - err;
	int64_t n = -1;
	for (size_t i = 0; i < mgr_value_len(rows) && n < 0; i++)
		if (harness_map_int(mgr_value_list_get(rows, i), "session") == (int64_t)session)
			n = harness_map_int(mgr_value_list_get(rows, i), "parked");
	mgr_value_free(rows);
	return n;
}

static void td_start(void)
{
	harness_start(&td.h, NULL);
	mgr_client_set_timeout(td.h.c, 10000); /* a call never hangs the test */
	td.sessions0 = harness_info(td.h.c, "sessions");
	td.objects0 = harness_info(td.h.c, "objects");
	td.started = true;
}

/* mgrd died: say how, reap it, start a new one. */
static void td_crashed(const struct shape *s, int round, int sig)
{
	int st = 0;
	harness_exited_within(mgr_manager_pid(td.h.m), 0, &st);
	print_message("teardown %s round %d (%s): mgrd died: %s %d\n", s->name, round,
		      sig == SIGKILL ? "SIGKILL" : sig == SIGINT ? "SIGINT" : "SIGINT+SIGKILL",
		      WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	td.crashes++;
	mgr_client_close(td.h.c);
	mgr_manager_shutdown(td.h.m);
	td_start();
}

/* Whether mgrd is dead (at most ms to make sure after a failed call). */
static bool td_dead(int ms) { return harness_exited_within(mgr_manager_pid(td.h.m), ms, NULL); }

static void td_fail_cleanup(void)
{
	if (td.group > 0)
		kill(-td.group, SIGKILL);
	td.group = 0;
}

/* Reaps pid within 5 s; SIGKILLs it if it ignored a SIGINT (a failure). */
static int td_reap(pid_t pid, int sig)
{
	int st = 0;
	if (!harness_reap_within(pid, 5000, &st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("process %d did not die of signal %d within 5 s", (int)pid, sig);
	}
	return st;
}

/* After the kill: back to the baseline, or dead. false: mgrd died. */
static bool td_settle(const struct shape *s, int round)
{
	int64_t deadline = clock_now_ms() + 10000, sess = -1, objs = -1;
	for (;;) {
		if (td_dead(0))
			return false;
		mgr_value *info = NULL;
		if (mgr_call(mgr_client_manager(td.h.c), "info", NULL, 0, &info)) {
			if (td_dead(3000))
				return false;
			fail_msg("%s round %d: mgrd alive but info failed: %s", s->name, round,
				 mgr_client_errmsg(td.h.c));
		}
		sess = harness_map_int(info, "sessions");
		objs = harness_map_int(info, "objects");
		mgr_value_free(info);
		if (sess == td.sessions0 && objs == td.objects0)
			break;
		if (clock_now_ms() > deadline)
			fail_msg("%s round %d: sessions %lld objects %lld after 10 s, baseline %lld %lld",
				 s->name, round, (long long)sess, (long long)objs,
				 (long long)td.sessions0, (long long)td.objects0);
	}
	mgr_client *fresh; /* a new client is served */
	int err = mgr_client_connect(td.h.path, &fresh);
	if (!err) {
		mgr_client_set_timeout(fresh, 10000);
		err = mgr_call(mgr_client_manager(fresh), "ping", NULL, 0, NULL);
		mgr_client_close(fresh);
	}
	if (err && td_dead(3000))
		return false;
	if (err)
		fail_msg("%s round %d: mgrd alive but a fresh client failed: %s", s->name, round,
			 mgr_strerror(err));
	return true;
}

/* Waits until the leader reported its worker started, and, for a passive
 * shape, until the leader's call is parked. false: mgrd died meanwhile. */
static bool td_await(const struct shape *s, int round, pid_t leader, int report, pid_t *worker)
{
	td.group = leader;
	struct pollfd p = {report, POLLIN, 0};
	int64_t deadline = clock_now_ms() + 20000;
	while (poll(&p, 1, 100) == 0) {
		if (td_dead(0))
			return false;
		if (clock_now_ms() > deadline) {
			td_fail_cleanup();
			fail_msg("%s round %d: the group did not start in 20 s", s->name, round);
		}
	}
	struct leader_news news;
	if (read(report, &news, sizeof(news)) != sizeof(news)) {
		if (td_dead(3000))
			return false;
		td_fail_cleanup();
		int st = td_reap(leader, 0);
		fail_msg("%s round %d: the leader failed (status %#x)", s->name, round, st);
	}
	*worker = news.worker;
	while (s->passive) {
		int64_t n = td_parked(td.h.c, news.session);
		if (n > 0)
			break;
		if (n < -1 && td_dead(3000))
			return false;
		if (n < -1 || clock_now_ms() > deadline) {
			td_fail_cleanup();
			fail_msg("%s round %d: the leader did not park (%lld)", s->name, round,
				 (long long)n);
		}
	}
	return true;
}

static bool td_expected_death(int st, int sig)
{
	if (!WIFSIGNALED(st))
		return false;
	return WTERMSIG(st) == SIGKILL || (sig != SIGKILL && WTERMSIG(st) == SIGINT);
}

static void td_round(const struct shape *s, int round)
{
	static const int sigs[] = {SIGKILL, SIGINT, 0}; /* 0: SIGINT, then SIGKILL */
	int sig = sigs[round % 3];
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t leader = fork();
	assert_true(leader >= 0);
	if (leader == 0) {
		close(p[0]);
		leader_main(td.h.path, s, p[1]);
	}
	close(p[1]);
	setpgid(leader, leader); /* also done by the leader: no race with the kill */
	pid_t worker = 0;
	bool alive = td_await(s, round, leader, p[0], &worker);
	close(p[0]);
	td.rng ^= td.rng << 13, td.rng ^= td.rng >> 7, td.rng ^= td.rng << 17;
	if (alive && !s->passive) /* somewhere in the loop */
		nanosleep(&(struct timespec){0, (long)(td.rng % 2000) * 1000}, NULL);
	assert_int_equal(kill(-leader, sig ? sig : SIGINT), 0);
	if (!sig)
		kill(-leader, SIGKILL);
	int lst = td_reap(leader, sig), wst = worker > 0 ? td_reap(worker, sig) : 0;
	td.rounds++;
	td.sigint_rounds += sig != SIGKILL;
	if (!alive || !td_settle(s, round)) {
		td_crashed(s, round, sig);
		return;
	}
	if (!td_expected_death(lst, sig) || (worker > 0 && !td_expected_death(wst, sig)))
		fail_msg("%s round %d: leader status %#x, worker status %#x (signal %d)", s->name,
			 round, lst, wst, sig);
}

static int td_rounds(void)
{
	const char *r = getenv("MGR_TEARDOWN_ROUNDS");
	return r && atoi(r) > 0 ? atoi(r) : 30;
}

static void test_teardown(void **state)
{
	const struct shape *s = *state;
	if (!td.started)
		td_start();
	int crashes0 = td.crashes, n = td_rounds();
	for (int i = 0; i < n; i++)
		td_round(s, i);
	int crashed = td.crashes - crashes0;
	print_message("teardown %s: mgrd crashed in %d of %d rounds (%s)\n", s->name, crashed, n,
		      harness_transport());
	if (crashed)
		fail_msg("%s: mgrd crashed in %d of %d rounds where a waiter and a holder died together",
			 s->name, crashed, n);
}

static int td_group_teardown(void **state)
{
	(void)state;
	print_message("teardown: %d rounds (%d with SIGINT), mgrd crashed in %d\n", td.rounds,
		      td.sigint_rounds, td.crashes);
	if (td.started)
		harness_stop(&td.h);
	return 0;
}

#define TD_TEST(i) {shapes[i].name, test_teardown, NULL, NULL, (void *)&shapes[i]}

int main(void)
{
	/* the workers are the leaders' children: reparented to us, reaped here */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	td.rng = (uint64_t)time(NULL) | 1;
	const struct CMUnitTest tests[] = {
		TD_TEST(0), TD_TEST(1), TD_TEST(2), TD_TEST(3), TD_TEST(4),
		TD_TEST(5), TD_TEST(6), TD_TEST(7), TD_TEST(8),
	};
	_Static_assert(sizeof(tests) / sizeof(tests[0]) == sizeof(shapes) / sizeof(shapes[0]),
		       "one test per shape");
	return cmocka_run_group_tests(tests, NULL, td_group_teardown);
}
