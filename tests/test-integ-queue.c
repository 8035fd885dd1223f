/* queue and joinable_queue across real processes, mirroring Python's
 * test_queue.py: FIFO order, maxsize, blocking and non-blocking put/get
 * with timeouts, a blocked put admitted when room is made, producers and
 * consumers, task_done/join, delete answering waiters, and 1,000 processes
 * parked in get served in arrival order, and a getter that died before
 * mgrd read its hang-up never handed an item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync-helpers.h"

static int64_t queue_get_int(mgr_object *q, bool block, int64_t timeout_ms, int *err)
{
	mgr_value *v = NULL;
	*err = mgr_queue_get(q, block, timeout_ms, &v);
	int64_t n = *err ? -1 : mgr_value_kind(v) == MGR_INT ? mgr_value_int(v) : -2;
	mgr_value_free(v);
	return n;
}

static void test_queue_fifo(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	bool empty = false, full = true;
	size_t n = 0;
	int err;
	assert_int_equal(mgr_queue_open(h->c, NULL, 0, &q), 0);
	assert_int_equal(mgr_queue_empty(q, &empty), 0);
	assert_true(empty);
	for (int i = 0; i < 100; i++)
		assert_int_equal(mgr_queue_put(q, mgr_value_new_int(i), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_qsize(q, &n), 0);
	assert_int_equal(n, 100);
	assert_int_equal(mgr_queue_full(q, &full), 0);
	assert_false(full); /* unbounded */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(queue_get_int(q, i % 2, MGR_FOREVER, &err), i);
		assert_int_equal(err, 0);
	}
	assert_int_equal(mgr_queue_get_nowait(q, NULL), MGR_EEMPTY);
	mgr_object_release(q);
}

static void test_queue_maxsize_and_timeouts(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	bool full = false;
	int err;
	assert_int_equal(mgr_queue_open(h->c, NULL, 2, &q), 0);
	assert_int_equal(mgr_queue_put_nowait(q, mgr_value_new_int(1)), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(2), false, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_full(q, &full), 0);
	assert_true(full);
	assert_int_equal(mgr_queue_put_nowait(q, mgr_value_new_int(3)), MGR_EFULL);
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(3), true, 50), MGR_EFULL);
	assert_true(clock_now_ms() - t0 >= 40);
	assert_int_equal(queue_get_int(q, false, MGR_FOREVER, &err), 1);
	assert_int_equal(queue_get_int(q, true, MGR_FOREVER, &err), 2);
	t0 = clock_now_ms();
	assert_int_equal(queue_get_int(q, true, 50, &err), -1);
	assert_int_equal(err, MGR_EEMPTY);
	assert_true(clock_now_ms() - t0 >= 40);
	assert_int_equal(sync_call_int(q, "waiting"), 0);
	mgr_object_release(q);
}

static int blocked_put_child(void *arg, int i)
{
	CHK(mgr_queue_put(arg, mgr_value_new_int(100 + i), true, MGR_FOREVER) == 0);
	return 0;
}

/* Python test_blocking_put: a put on a full queue waits for room; the
 * parked items enter in FIFO order. */
static void test_queue_blocked_put(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	int err;
	assert_int_equal(mgr_queue_open(h->c, NULL, 1, &q), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(7), true, MGR_FOREVER), 0);
	pid_t *pids = sync_spawn_parked(3, blocked_put_child, q, q, "waiting", 0);
	assert_int_equal(queue_get_int(q, true, MGR_FOREVER, &err), 7);
	for (int i = 0; i < 3; i++)
		assert_int_equal(queue_get_int(q, true, 20000, &err), 100 + i);
	assert_int_equal(harness_reap_all(pids, 3), 3);
	mgr_object_release(q);
}

struct pc_ctx {
	mgr_object *q, *sum;
};

#define PC_ITEMS 200

static int producer(void *arg, int i)
{
	struct pc_ctx *x = arg;
	for (int n = 1; n <= PC_ITEMS; n++)
		CHK(mgr_queue_put(x->q, mgr_value_new_int(n), true, MGR_FOREVER) == 0);
	(void)i;
	return 0;
}

static int consumer(void *arg, int i)
{
	(void)i;
	struct pc_ctx *x = arg;
	for (;;) {
		mgr_value *v = NULL;
		CHK(mgr_queue_get(x->q, true, MGR_FOREVER, &v) == 0);
		int64_t n = mgr_value_int(v);
		bool stop = mgr_value_kind(v) == MGR_NIL;
		mgr_value_free(v);
		if (!stop)
			CHK(mgr_counter_add(x->sum, n, NULL) == 0);
		CHK(mgr_queue_task_done(x->q) == 0);
		if (stop)
			return 0;
	}
}

static int pc_role(void *arg, int i) { return i < 3 ? producer(arg, i) : consumer(arg, i); }

/* 3 producers and 3 consumers over a small bounded joinable_queue. */
static void test_queue_producers_consumers(void **state)
{
	struct harness *h = *state;
	struct pc_ctx x;
	int64_t sum = 0;
	assert_int_equal(mgr_joinable_queue_open(h->c, NULL, 4, &x.q), 0);
	assert_int_equal(mgr_object_create(h->c, "counter", NULL, NULL, 0, &x.sum), 0);
	pid_t pids[6];
	for (int i = 0; i < 6; i++)
		if ((pids[i] = fork()) == 0)
			_exit(pc_role(&x, i));
	int st;
	for (int i = 0; i < 3; i++) { /* producers first, then one stop item each */
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_queue_put(x.q, mgr_value_new_nil(), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_join(x.q, 20000), 0);
	for (int i = 3; i < 6; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(mgr_counter_get(x.sum, &sum), 0);
	assert_int_equal(sum, 3 * PC_ITEMS * (PC_ITEMS + 1) / 2);
	mgr_object_release(x.q);
	mgr_object_release(x.sum);
}

static int task_child(void *arg, int ready)
{
	(void)ready;
	for (int i = 0; i < 3; i++) {
		CHK(mgr_queue_get(arg, true, MGR_FOREVER, NULL) == 0);
		CHK(mgr_queue_task_done(arg) == 0);
	}
	return 0;
}

/* Python test_queue_task_done / test_queue_join. */
static void test_joinable_join(void **state)
{
	struct harness *h = *state;
	mgr_object *q, *plain;
	assert_int_equal(mgr_joinable_queue_open(h->c, NULL, 0, &q), 0);
	assert_int_equal(mgr_queue_task_done(q), MGR_ESTATE);
	assert_int_equal(mgr_queue_join(q, MGR_FOREVER), 0); /* nothing unfinished */
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_queue_put(q, mgr_value_new_int(i), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_join(q, 30), MGR_ETIMEDOUT);
	struct kid k = kid_spawn(task_child, q);
	assert_int_equal(mgr_queue_join(q, 20000), 0);
	assert_int_equal(kid_reap(&k), 0);
	assert_int_equal(mgr_queue_task_done(q), MGR_ESTATE);
	assert_int_equal(mgr_queue_open(h->c, NULL, 0, &plain), 0);
	assert_int_equal(mgr_queue_task_done(plain), MGR_ENOMETHOD);
	mgr_object_release(q);
	mgr_object_release(plain);
}

static int deleted_getter(void *arg, int i)
{
	(void)i;
	CHK(mgr_queue_get(arg, true, MGR_FOREVER, NULL) == MGR_ENOOBJ);
	return 0;
}

static void test_queue_delete_answers_waiters(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	assert_int_equal(mgr_queue_open(h->c, NULL, 0, &q), 0);
	pid_t *pids = sync_spawn_parked(2, deleted_getter, q, q, "waiting", 0);
	assert_int_equal(mgr_object_delete(q), 0);
	assert_int_equal(harness_reap_all(pids, 2), 2);
	mgr_object_release(q);
}

static int fifo_getter(void *arg, int i)
{
	int err;
	CHK(queue_get_int(arg, true, MGR_FOREVER, &err) == i);
	return 0;
}

/* 1,000 processes parked in get: item i goes to the i-th to arrive. */
static void test_queue_thousand_getters(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	enum { N = 1000 };
	assert_int_equal(mgr_queue_open(h->c, NULL, 0, &q), 0);
	pid_t *pids = sync_spawn_parked(N, fifo_getter, q, q, "waiting", 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(mgr_queue_put(q, mgr_value_new_int(i), true, MGR_FOREVER), 0);
	assert_int_equal(harness_reap_all(pids, N), N);
	mgr_object_release(q);
}

static int dead_getter(void *arg, int i)
{
	(void)i;
	mgr_queue_get(arg, true, MGR_FOREVER, NULL);
	return 1; /* never answered: it is killed first */
}

static int live_getter(void *arg, int i)
{
	int err;
	return queue_get_int(arg, true, 10000, &err) == 7 + i && !err ? 0 : 1;
}

/* Stops mgrd (our child) and waits until it is stopped. */
static void stop_mgrd(pid_t mgrd)
{
	int st = 0;
	assert_int_equal(kill(mgrd, SIGSTOP), 0);
	assert_int_equal(waitpid(mgrd, &st, WUNTRACED), mgrd);
	assert_true(WIFSTOPPED(st));
}

/* A getter whose process died before mgrd read its hang-up is never handed
 * an item: it goes to the next live getter, or stays in the queue. mgrd is
 * stopped while the put is sent and then the getter killed, so it reads
 * the put first (its socket became readable first) and must see the death
 * itself. */
static void test_queue_dead_getter_skipped(void **state)
{
	struct harness *h = *state;
	pid_t mgrd = mgr_manager_pid(h->m);
	for (int with_live = 1; with_live >= 0; with_live--) {
		mgr_client *c;
		mgr_object *q;
		mgr_future *f;
		size_t n = 99;
		int err;
		mgr_value *seven = mgr_value_new_int(7);
		/* the put must come over the socket, the readiness mgrd orders by */
		assert_int_equal(setenv("MGR_RING_SIZE", "0", 1), 0);
		assert_int_equal(mgr_client_connect(h->path, &c), 0);
		assert_int_equal(unsetenv("MGR_RING_SIZE"), 0);
		assert_int_equal(mgr_queue_open(c, NULL, 0, &q), 0);
		pid_t *dead = sync_spawn_parked(1, dead_getter, q, q, "waiting", 0);
		pid_t *live = with_live ? sync_spawn_parked(1, live_getter, q, q, "waiting", 1)
				       : NULL;
		stop_mgrd(mgrd);
		assert_int_equal(mgr_call_async(q, "put", &seven, 1, &f), 0);
		assert_int_equal(mgr_client_flush(c), 0);
		assert_int_equal(kill(dead[0], SIGKILL), 0);
		assert_int_equal(harness_reap_all(dead, 1), 0); /* its socket is closed */
		assert_int_equal(kill(mgrd, SIGCONT), 0);
		assert_int_equal(mgr_future_wait(f, NULL), 0);
		if (with_live)
			assert_int_equal(harness_reap_all(live, 1), 1);
		assert_int_equal(mgr_queue_qsize(q, &n), 0);
		assert_int_equal(n, with_live ? 0 : 1);
		if (!with_live)
			assert_int_equal(queue_get_int(q, false, MGR_FOREVER, &err), 7);
		mgr_value_free(seven);
		mgr_object_release(q);
		mgr_client_close(c);
	}
}

/* Python: get(block, timeout) refuses a negative timeout and a timeout
 * with block false; get(True, 0) on an empty queue raises Empty at once. */
static void test_queue_timeout_arguments(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	int err;
	assert_int_equal(mgr_queue_open(h->c, NULL, 1, &q), 0);
	mgr_client_set_timeout(h->c, 5000);
	assert_int_equal(queue_get_int(q, true, 0, &err), -1);
	assert_int_equal(err, MGR_EEMPTY);
	assert_int_equal(queue_get_int(q, false, 0, &err), -1);
	assert_int_equal(err, MGR_EARGS);
	assert_int_equal(queue_get_int(q, true, -1, &err), -1);
	assert_int_equal(err, MGR_EARGS);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(1), false, 10), MGR_EARGS);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(1), true, -1), MGR_EARGS);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(1), true, 0), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(2), true, 0), MGR_EFULL);
	assert_int_equal(queue_get_int(q, true, 0, &err), 1);
	mgr_client_set_timeout(h->c, 0);
	mgr_object_release(q);
}

static int put_and_hang(void *arg, int i)
{
	CHK(mgr_queue_put(arg, mgr_value_new_int(i), true, MGR_FOREVER) == 0);
	return 1; /* killed before */
}

static int put_expect_ok(void *arg, int i)
{
	CHK(mgr_queue_put(arg, mgr_value_new_int(i), true, 20000) == 0);
	return 0;
}

/* A putter that dies while parked on a full queue: its item never enters;
 * the next putter's does. */
static void test_queue_dead_putter(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	int err;
	assert_int_equal(mgr_queue_open(h->c, NULL, 1, &q), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(0), true, MGR_FOREVER), 0);
	pid_t *dead = sync_spawn_parked(1, put_and_hang, q, q, "waiting", 0);
	assert_int_equal(kill(dead[0], SIGKILL), 0);
	assert_int_equal(harness_reap_all(dead, 1), 0);
	sync_poll(q, "waiting", 0);
	pid_t *live = sync_spawn_parked(1, put_expect_ok, q, q, "waiting", 0);
	assert_int_equal(queue_get_int(q, false, MGR_FOREVER, &err), 0);
	assert_int_equal(queue_get_int(q, true, 20000, &err), 0); /* the live putter's i = 0 */
	assert_int_equal(harness_reap_all(live, 1), 1);
	assert_int_equal(mgr_queue_get_nowait(q, NULL), MGR_EEMPTY); /* the dead one's: never */
	mgr_object_release(q);
}

static int join_and_hang(void *arg, int i)
{
	(void)i;
	mgr_queue_join(arg, MGR_FOREVER);
	return 1;
}

/* A process parked in join that dies is removed from the joiners. */
static void test_queue_dead_joiner(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	assert_int_equal(mgr_joinable_queue_open(h->c, NULL, 0, &q), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(1), true, MGR_FOREVER), 0);
	pid_t *pid = calloc(1, sizeof(*pid));
	assert_non_null(pid);
	pid[0] = harness_spawn(join_and_hang, q, 0);
	sync_poll_state(q, "joiners", 1);
	assert_int_equal(kill(pid[0], SIGKILL), 0);
	assert_int_equal(harness_reap_all(pid, 1), 0);
	sync_poll_state(q, "joiners", 0);
	mgr_object_release(q);
}

static int get_and_hang(void *arg, int ready)
{
	mgr_value *v = NULL;
	CHK(mgr_queue_get(arg, true, MGR_FOREVER, &v) == 0);
	mgr_value_free(v);
	kid_signal(ready);
	for (;;)
		pause();
}

/* A worker that took the item and died before task_done: a joinable queue
 * (ack=redeliver by default) hands the item to the next get, marked as a
 * second delivery; after its task_done join() returns. It used to hang. */
static void test_queue_redeliver(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	mgr_value *v = NULL;
	int64_t delivery = 0;
	bool again = false;
	assert_int_equal(mgr_joinable_queue_open(h->c, NULL, 0, &q), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_string("job"), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_string("next"), true, MGR_FOREVER), 0);
	struct kid k = kid_spawn(get_and_hang, q);
	kid_await(&k);
	assert_int_equal(sync_state(q, "unacked"), 1);
	kid_kill(&k);
	sync_poll_state(q, "unacked", 0); /* its session ended: the item is back */
	assert_int_equal(mgr_queue_get_ex(q, true, 20000, &v, &delivery, &again), 0);
	assert_string_equal(mgr_value_string(v, NULL), "job"); /* back at the front */
	assert_int_equal(delivery, 2);
	assert_true(again);
	mgr_value_free(v);
	assert_int_equal(sync_state(q, "redelivered"), 1);
	assert_int_equal(mgr_queue_task_done(q), 0);
	assert_int_equal(mgr_queue_get_ex(q, false, MGR_FOREVER, &v, &delivery, &again), 0);
	assert_string_equal(mgr_value_string(v, NULL), "next");
	assert_int_equal(delivery, 1);
	assert_false(again);
	mgr_value_free(v);
	assert_int_equal(mgr_queue_task_done(q), 0);
	assert_int_equal(mgr_queue_join(q, 5000), 0);
	assert_int_equal(sync_state(q, "unacked"), 0);
	mgr_object_release(q);
}

/* ack=abandon: the dead worker's item is counted and finished: join()
 * returns, and abandoned says 1. */
static void test_queue_abandon(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	int64_t n = -1;
	size_t len = 9;
	assert_int_equal(mgr_queue_open_ack(h->c, NULL, true, 0, MGR_ACK_ABANDON, &q), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_string("job"), true, MGR_FOREVER), 0);
	struct kid k = kid_spawn(get_and_hang, q);
	kid_await(&k);
	kid_kill(&k);
	assert_int_equal(mgr_queue_join(q, 20000), 0);
	assert_int_equal(mgr_queue_abandoned(q, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mgr_queue_qsize(q, &len), 0);
	assert_int_equal(len, 0);
	mgr_object_release(q);
}

/* A plain queue keeps Python's final get, unless made with an ack mode:
 * then a dead getter's item comes back, and ack() settles one. */
static void test_queue_plain_ack(void **state)
{
	struct harness *h = *state;
	mgr_object *plain, *acked;
	mgr_value *v = NULL;
	int64_t delivery = 0;
	int err;
	assert_int_equal(mgr_queue_open(h->c, NULL, 0, &plain), 0);
	assert_int_equal(mgr_queue_open_ack(h->c, NULL, false, 0, MGR_ACK_REDELIVER, &acked), 0);
	assert_int_equal(mgr_queue_put(plain, mgr_value_new_int(1), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_put(acked, mgr_value_new_int(2), true, MGR_FOREVER), 0);
	struct kid k1 = kid_spawn(get_and_hang, plain), k2 = kid_spawn(get_and_hang, acked);
	kid_await(&k1);
	kid_await(&k2);
	kid_kill(&k1);
	kid_kill(&k2);
	assert_int_equal(mgr_queue_get_ex(acked, true, 20000, &v, &delivery, NULL), 0);
	assert_int_equal(mgr_value_int(v), 2);
	assert_int_equal(delivery, 2);
	mgr_value_free(v);
	assert_int_equal(mgr_queue_ack(acked), 0);
	assert_int_equal(mgr_queue_ack(acked), MGR_ESTATE); /* nothing left to acknowledge */
	assert_int_equal(harness_wait_info(h->c, "sessions", 1, 20000), 1);
	assert_int_equal(queue_get_int(plain, false, MGR_FOREVER, &err), -1);
	assert_int_equal(err, MGR_EEMPTY); /* Python: the item went with its getter */
	assert_int_equal(mgr_queue_ack(plain), MGR_ESTATE);
	assert_int_equal(mgr_queue_task_done(plain), MGR_ENOMETHOD);
	mgr_object_release(plain);
	mgr_object_release(acked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_fifo),
		cmocka_unit_test(test_queue_maxsize_and_timeouts),
		cmocka_unit_test(test_queue_timeout_arguments),
		cmocka_unit_test(test_queue_dead_putter),
		cmocka_unit_test(test_queue_dead_joiner),
		cmocka_unit_test(test_queue_redeliver),
		cmocka_unit_test(test_queue_abandon),
		cmocka_unit_test(test_queue_plain_ack),
		cmocka_unit_test(test_queue_blocked_put),
		cmocka_unit_test(test_queue_producers_consumers),
		cmocka_unit_test(test_joinable_join),
		cmocka_unit_test(test_queue_delete_answers_waiters),
		cmocka_unit_test(test_queue_thousand_getters),
		cmocka_unit_test(test_queue_dead_getter_skipped),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
