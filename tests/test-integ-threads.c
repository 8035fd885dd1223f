/* Threads of one process sharing one mgr_client: the connection is
 * multiplexed (libmgr/client.h), so calls from several threads interleave
 * on it, one thread reads and hands each reply to its caller. Eight threads
 * make synchronous and pipelined calls at once while two more are parked in
 * blocking calls (a queue get on an empty queue, a lock another session
 * holds) that must not hold the others up. Totals come out exact. Built
 * into the ThreadSanitizer run (make test-tsan). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mgr/sync.h>

#include "harness.h"

#define NTHREADS 8
#define NCALLS 1500
#define BURST 8       /* pipelined calls per burst */
#define BURST_EVERY 50

struct shared {
	mgr_client *c;
	mgr_object *counter, *dict, *queue, *lock;
	int failed; /* first failure's line, read after the joins */
};

struct worker {
	struct shared *s;
	int index;
};


#define CHECK(s, cond) do { if (!(cond)) { __atomic_store_n(&(s)->failed, __LINE__, \
	__ATOMIC_RELAXED); return NULL; } } while (0)

/* BURST adds on the counter in flight at once, then their answers. */
static int burst(mgr_object *counter)
{
	mgr_future *f[BURST];
	mgr_value *one = mgr_value_new_int(1);
	int err = 0;
	for (int i = 0; i < BURST; i++)
		if (mgr_call_async(counter, "add", &one, 1, &f[i]))
			f[i] = NULL, err = 1;
	for (int i = 0; i < BURST; i++)
		if (f[i] && mgr_future_wait(f[i], NULL))
			err = 1;
	mgr_value_free(one);
	return err;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct shared *s = w->s;
	mgr_value *key = mgr_value_new_int(w->index);
	int64_t last = INT64_MIN, now;
	for (int n = 0; n < NCALLS; n++) {
		CHECK(s, mgr_counter_add(s->counter, 1, &now) == 0 && now > last);
		last = now;
		CHECK(s, mgr_dict_incr(s->dict, key, 1, NULL) == 0);
		if (n % BURST_EVERY == 0)
			CHECK(s, burst(s->counter) == 0);
	}
	mgr_value_free(key);
	return NULL;
}

/* Parked until the main thread puts an item (no timeout). */
static void *queue_waiter(void *arg)
{
	struct shared *s = arg;
	mgr_value *item = NULL;
	CHECK(s, mgr_queue_get(s->queue, true, MGR_FOREVER, &item) == 0);
	CHECK(s, mgr_value_int(item) == 42);
	mgr_value_free(item);
	return NULL;
}

/* Parked until the other session releases the lock. */
static void *lock_waiter(void *arg)
{
	struct shared *s = arg;
	bool got = false;
	CHECK(s, mgr_lock_acquire(s->lock, true, MGR_FOREVER, &got, NULL) == 0 && got);
	CHECK(s, mgr_lock_release(s->lock) == 0);
	return NULL;
}

static void test_threads_share_client(void **state)
{
	struct harness *h = *state;
	struct shared s = {.c = h->c};
	mgr_client *other;
	mgr_object *other_lock;
	bool got;
	assert_int_equal(mgr_counter_open(h->c, "t-counter", &s.counter), 0);
	assert_int_equal(mgr_dict_open(h->c, "t-dict", &s.dict), 0);
	assert_int_equal(mgr_queue_open(h->c, "t-queue", 0, &s.queue), 0);
	assert_int_equal(mgr_lock_open(h->c, "t-lock", true, &s.lock), 0);
	/* another session holds the lock */
	assert_int_equal(mgr_client_connect(h->path, &other), 0);
	assert_int_equal(mgr_lock_open(other, "t-lock", true, &other_lock), 0);
	assert_int_equal(mgr_lock_acquire(other_lock, true, 1000, &got, NULL), 0);
	assert_true(got);

	pthread_t qt, lt, t[NTHREADS];
	struct worker w[NTHREADS];
	assert_int_equal(pthread_create(&qt, NULL, queue_waiter, &s), 0);
	assert_int_equal(pthread_create(&lt, NULL, lock_waiter, &s), 0);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){&s, i};
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) /* while two threads stay parked */
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(s.failed, 0);

	assert_int_equal(mgr_queue_put(s.queue, mgr_value_new_int(42), true, 1000), 0);
	assert_int_equal(mgr_lock_release(other_lock), 0);
	assert_int_equal(pthread_join(qt, NULL), 0);
	assert_int_equal(pthread_join(lt, NULL), 0);
	assert_int_equal(s.failed, 0);

	int64_t total;
	assert_int_equal(mgr_counter_get(s.counter, &total), 0);
	int bursts = (NCALLS + BURST_EVERY - 1) / BURST_EVERY;
	assert_int_equal(total, (int64_t)NTHREADS * (NCALLS + bursts * BURST));
	for (int i = 0; i < NTHREADS; i++) {
		mgr_value *k = mgr_value_new_int(i), *v = NULL;
		assert_int_equal(mgr_dict_get(s.dict, k, &v), 0);
		assert_int_equal(mgr_value_int(v), NCALLS);
		mgr_value_free(k);
		mgr_value_free(v);
	}
	mgr_object *objs[] = {s.counter, s.dict, s.queue, s.lock};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(mgr_object_delete(objs[i]), 0);
		mgr_object_release(objs[i]);
	}
	mgr_object_release(other_lock);
	mgr_client_close(other);
}

/* Threads that time out in blocking calls while others keep calling: each
 * timeout is answered to its own thread, and nothing is left parked. */
static void *timeout_run(void *arg)
{
	struct shared *s = arg;
	for (int n = 0; n < 20; n++) {
		mgr_value *item = NULL;
		CHECK(s, mgr_queue_get(s->queue, true, 5, &item) == MGR_EEMPTY);
		CHECK(s, mgr_counter_add(s->counter, 1, NULL) == 0);
	}
	return NULL;
}

static void test_threads_timeouts(void **state)
{
	struct harness *h = *state;
	struct shared s = {.c = h->c};
	assert_int_equal(mgr_counter_open(h->c, "t2-counter", &s.counter), 0);
	assert_int_equal(mgr_queue_open(h->c, "t2-queue", 0, &s.queue), 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, timeout_run, &s), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(s.failed, 0);
	int64_t total;
	assert_int_equal(mgr_counter_get(s.counter, &total), 0);
	assert_int_equal(total, 80);
	mgr_value *w = NULL;
	assert_int_equal(mgr_call(s.queue, "waiting", NULL, 0, &w), 0);
	assert_int_equal(mgr_value_int(w), 0);
	mgr_value_free(w);
	assert_int_equal(mgr_object_delete(s.counter), 0);
	assert_int_equal(mgr_object_delete(s.queue), 0);
	mgr_object_release(s.counter);
	mgr_object_release(s.queue);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_share_client),
		cmocka_unit_test(test_threads_timeouts),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
