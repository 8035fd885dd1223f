/* lock and rlock across real processes, mirroring Python's lock_tests.py:
 * acquire/release/locked, non-blocking and timed acquire, release errors,
 * hand-off between threads, contention, FIFO service, reentrancy, delete
 * answering waiters, 1,000 processes parked on one lock, and a waiter that
 * died before mgrd read its hang-up skipped at release. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync-helpers.h"

struct lock_ctx {
	mgr_object *lock, *count;
};

static void test_lock_basic(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	bool got = false, died = true, locked = false;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &l), 0);
	assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, &got, &died), 0);
	assert_true(got);
	assert_false(died);
	assert_int_equal(mgr_lock_locked(l, &locked), 0);
	assert_true(locked);
	assert_int_equal(mgr_lock_acquire(l, false, MGR_FOREVER, &got, NULL), 0); /* not reentrant */
	assert_false(got);
	assert_int_equal(mgr_lock_release(l), 0);
	assert_int_equal(mgr_lock_locked(l, &locked), 0);
	assert_false(locked);
	assert_int_equal(mgr_lock_release(l), MGR_ESTATE);
	mgr_object_release(l);
}

static int timed_acquire_child(void *arg, int ready)
{
	(void)ready;
	mgr_object *l = arg;
	bool got = true;
	CHK(mgr_lock_acquire(l, false, MGR_FOREVER, &got, NULL) == 0 && !got);
	int64_t t0 = clock_now_ms();
	CHK(mgr_lock_acquire(l, true, 100, &got, NULL) == 0 && !got);
	CHK(clock_now_ms() - t0 >= 90);
	CHK(mgr_lock_release(l) == MGR_EPERM); /* robust: only its holder's session */
	return 0;
}

static void test_lock_timeout_and_owner(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &l), 0);
	assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, NULL, NULL), 0);
	struct kid k = kid_spawn(timed_acquire_child, l);
	assert_int_equal(kid_reap(&k), 0);
	assert_int_equal(sync_call_int(l, "waiting"), 0); /* the timed-out waiter left */
	assert_int_equal(mgr_lock_release(l), 0);
	mgr_object_release(l);
}

static int release_child(void *arg, int ready)
{
	(void)ready;
	CHK(mgr_lock_release(arg) == 0);
	return 0;
}

/* Python: a Lock may be released by another thread; robust=false keeps
 * that across processes. */
static void test_lock_nonrobust_release_by_other(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	bool locked = true;
	assert_int_equal(mgr_lock_open(h->c, NULL, false, &l), 0);
	assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, NULL, NULL), 0);
	struct kid k = kid_spawn(release_child, l);
	assert_int_equal(kid_reap(&k), 0);
	assert_int_equal(mgr_lock_locked(l, &locked), 0);
	assert_false(locked);
	mgr_object_release(l);
}

static void *release_thread(void *arg) { return (void *)(intptr_t)mgr_lock_release(arg); }

static void test_lock_release_from_other_thread(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	pthread_t t;
	void *rc;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &l), 0);
	assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, NULL, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, release_thread, l), 0);
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_int_equal((intptr_t)rc, 0);
	mgr_object_release(l);
}

static int contention_child(void *arg, int i)
{
	(void)i;
	struct lock_ctx *x = arg;
	for (int n = 0; n < 100; n++) {
		int64_t v = 0;
		CHK(mgr_lock_acquire(x->lock, true, MGR_FOREVER, NULL, NULL) == 0);
		CHK(mgr_counter_get(x->count, &v) == 0); /* read-modify-write, unsafe */
		CHK(mgr_counter_set(x->count, v + 1) == 0); /* without the lock */
		CHK(mgr_lock_release(x->lock) == 0);
	}
	return 0;
}

static void test_lock_contention(void **state)
{
	struct harness *h = *state;
	struct lock_ctx x;
	int64_t v = 0;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &x.lock), 0);
	assert_int_equal(mgr_object_create(h->c, "counter", NULL, NULL, 0, &x.count), 0);
	assert_int_equal(harness_fork_n(6, contention_child, &x), 6);
	assert_int_equal(mgr_counter_get(x.count, &v), 0);
	assert_int_equal(v, 600);
	mgr_object_release(x.lock);
	mgr_object_release(x.count);
}

/* Child i: acquires after the i children before it (FIFO), checks the
 * counter says so, bumps it and hands the lock on. */
static int fifo_child(void *arg, int i)
{
	struct lock_ctx *x = arg;
	bool got = false;
	int64_t v = -1;
	CHK(mgr_lock_acquire(x->lock, true, MGR_FOREVER, &got, NULL) == 0 && got);
	CHK(mgr_counter_get(x->count, &v) == 0);
	CHK(v == i);
	CHK(mgr_counter_set(x->count, v + 1) == 0);
	CHK(mgr_lock_release(x->lock) == 0);
	return 0;
}

static void lock_fifo_run(struct harness *h, int n)
{
	struct lock_ctx x;
	int64_t v = 0;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &x.lock), 0);
	assert_int_equal(mgr_object_create(h->c, "counter", NULL, NULL, 0, &x.count), 0);
	assert_int_equal(mgr_lock_acquire(x.lock, true, MGR_FOREVER, NULL, NULL), 0);
	pid_t *pids = sync_spawn_parked(n, fifo_child, &x, x.lock, "waiting", 0);
	assert_int_equal(mgr_lock_release(x.lock), 0);
	assert_int_equal(harness_reap_all(pids, n), n);
	assert_int_equal(mgr_counter_get(x.count, &v), 0);
	assert_int_equal(v, n);
	mgr_object_release(x.lock);
	mgr_object_release(x.count);
}

static void test_lock_fifo(void **state) { lock_fifo_run(*state, 20); }

/* 1,000 processes parked on one lock, served in arrival order. */
static void test_lock_thousand_waiters(void **state) { lock_fifo_run(*state, 1000); }

static void *rlock_other_thread(void *arg)
{
	bool owned = true;
	int err = mgr_lock_owned(arg, &owned);
	return (void *)(intptr_t)(err ? -1 : owned ? -2 : mgr_lock_release(arg));
}

static int rlock_other_process(void *arg, int ready)
{
	(void)ready;
	bool got = true;
	CHK(mgr_lock_release(arg) == MGR_EPERM);
	CHK(mgr_lock_acquire(arg, false, MGR_FOREVER, &got, NULL) == 0 && !got);
	return 0;
}

static void test_rlock_reentrant(void **state)
{
	struct harness *h = *state;
	mgr_object *r;
	bool got = false, owned = false;
	pthread_t t;
	void *rc;
	assert_int_equal(mgr_rlock_open(h->c, NULL, true, &r), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mgr_lock_acquire(r, false, MGR_FOREVER, &got, NULL), 0);
		assert_true(got);
	}
	assert_int_equal(mgr_lock_owned(r, &owned), 0);
	assert_true(owned);
	assert_int_equal(pthread_create(&t, NULL, rlock_other_thread, r), 0);
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_int_equal((intptr_t)rc, MGR_EPERM); /* owned per thread */
	struct kid k = kid_spawn(rlock_other_process, r);
	assert_int_equal(kid_reap(&k), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_lock_release(r), 0);
	assert_int_equal(mgr_lock_release(r), MGR_ESTATE);
	assert_int_equal(mgr_lock_owned(r, &owned), 0);
	assert_false(owned);
	mgr_object_release(r);
}

static int deleted_waiter_child(void *arg, int i)
{
	(void)i;
	CHK(mgr_lock_acquire(arg, true, MGR_FOREVER, NULL, NULL) == MGR_ENOOBJ);
	return 0;
}

static void test_lock_delete_answers_waiters(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	assert_int_equal(mgr_lock_open(h->c, "doomed-lock", true, &l), 0);
	assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, NULL, NULL), 0);
	pid_t *pids = sync_spawn_parked(3, deleted_waiter_child, l, l, "waiting", 0);
	assert_int_equal(mgr_object_delete(l), 0);
	assert_int_equal(harness_reap_all(pids, 3), 3);
	mgr_object_release(l);
}

static int dead_waiter_child(void *arg, int i)
{
	(void)i;
	mgr_lock_acquire(arg, true, MGR_FOREVER, NULL, NULL);
	return 1; /* never answered: it is killed first */
}

static int live_waiter_child(void *arg, int i)
{
	(void)i;
	bool got = false, died = true;
	CHK(mgr_lock_acquire(arg, true, 10000, &got, &died) == 0 && got && !died);
	CHK(mgr_lock_release(arg) == 0);
	return 0;
}

/* Stops mgrd (our child) and waits until it is stopped. */
static void stop_mgrd(pid_t mgrd)
{
	int st = 0;
	assert_int_equal(kill(mgrd, SIGSTOP), 0);
	assert_int_equal(waitpid(mgrd, &st, WUNTRACED), mgrd);
	assert_true(WIFSTOPPED(st));
}

/* A waiter whose process died before mgrd read its hang-up never gets the
 * lock: the release goes to the next live waiter, without an owner-died
 * mark (the dead one never held it), robust or not. mgrd is stopped while
 * the release is sent and then the waiter killed, so it reads the release
 * first (its socket became readable first) and must see the death itself. */
static void test_lock_dead_waiter_skipped(void **state)
{
	struct harness *h = *state;
	pid_t mgrd = mgr_manager_pid(h->m);
	for (int robust = 0; robust < 2; robust++) {
		mgr_client *c;
		mgr_object *l;
		mgr_future *f;
		bool got = false, died = true;
		/* the release must come over the socket, the readiness mgrd orders by */
		assert_int_equal(setenv("MGR_RING_SIZE", "0", 1), 0);
		assert_int_equal(mgr_client_connect(h->path, &c), 0);
		assert_int_equal(unsetenv("MGR_RING_SIZE"), 0);
		assert_int_equal(mgr_lock_open(c, NULL, robust, &l), 0);
		assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, &got, NULL), 0);
		assert_true(got);
		pid_t *dead = sync_spawn_parked(1, dead_waiter_child, l, l, "waiting", 0);
		pid_t *live = sync_spawn_parked(1, live_waiter_child, l, l, "waiting", 1);
		stop_mgrd(mgrd);
		assert_int_equal(mgr_call_async(l, "release", NULL, 0, &f), 0);
		assert_int_equal(mgr_client_flush(c), 0);
		assert_int_equal(kill(dead[0], SIGKILL), 0);
		assert_int_equal(harness_reap_all(dead, 1), 0); /* its socket is closed */
		assert_int_equal(kill(mgrd, SIGCONT), 0);
		assert_int_equal(mgr_future_wait(f, NULL), 0);
		assert_int_equal(harness_reap_all(live, 1), 1);
		assert_int_equal(mgr_lock_acquire(l, false, MGR_FOREVER, &got, &died), 0);
		assert_true(got);
		assert_false(died);
		assert_int_equal(mgr_lock_release(l), 0);
		mgr_object_release(l);
		mgr_client_close(c);
	}
}

/* Python's acquire(blocking, timeout): a timeout with blocking false and a
 * negative one are refused (ValueError there, EARGS here) before anything
 * is taken; 0 polls (it used to mean forever: the client timeout turns that
 * hang into a failure). Also through the generic mgr_call_timeout. */
static void test_lock_timeout_arguments(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	mgr_value *r = NULL;
	bool got = true, locked = true;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &l), 0);
	mgr_client_set_timeout(h->c, 5000);
	assert_int_equal(mgr_lock_acquire(l, false, 0, &got, NULL), MGR_EARGS);
	assert_int_equal(mgr_lock_acquire(l, false, 100, &got, NULL), MGR_EARGS);
	assert_int_equal(mgr_lock_acquire(l, true, -1, &got, NULL), MGR_EARGS);
	assert_int_equal(mgr_lock_locked(l, &locked), 0);
	assert_false(locked); /* nothing was taken */
	assert_int_equal(mgr_lock_acquire(l, true, 0, &got, NULL), 0);
	assert_true(got); /* free: a poll takes it */
	assert_int_equal(mgr_lock_acquire(l, true, 0, &got, NULL), 0);
	assert_false(got); /* held: a poll does not wait */
	assert_int_equal(mgr_call_timeout(l, "acquire", 0, NULL, 0, &r), 0);
	assert_int_equal(mgr_value_int(r), 0);
	mgr_value_free(r);
	r = NULL;
	assert_int_equal(mgr_call_timeout(l, "acquire", 30, NULL, 0, &r), 0);
	assert_int_equal(mgr_value_int(r), 0); /* timed out: not acquired */
	mgr_value_free(r);
	assert_int_equal(mgr_call_timeout(l, "acquire", -5, NULL, 0, NULL), MGR_EARGS);
	assert_int_equal(sync_call_int(l, "waiting"), 0);
	assert_int_equal(mgr_lock_release(l), 0);
	mgr_client_set_timeout(h->c, 0);
	mgr_object_release(l);
}

/* mgr_counter_take: subtracts only when at least n is there. */
static void test_counter_take(void **state)
{
	struct harness *h = *state;
	mgr_object *k;
	bool taken = false;
	int64_t v = -1;
	assert_int_equal(mgr_counter_open(h->c, "take-k", &k), 0);
	assert_int_equal(mgr_counter_add(k, 3, NULL), 0);
	assert_int_equal(mgr_counter_take(k, 2, &taken), 0);
	assert_true(taken);
	assert_int_equal(mgr_counter_take(k, 2, &taken), 0);
	assert_false(taken);
	assert_int_equal(mgr_counter_get(k, &v), 0);
	assert_int_equal(v, 1);
	mgr_object_release(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_basic),
		cmocka_unit_test(test_lock_timeout_arguments),
		cmocka_unit_test(test_counter_take),
		cmocka_unit_test(test_lock_timeout_and_owner),
		cmocka_unit_test(test_lock_nonrobust_release_by_other),
		cmocka_unit_test(test_lock_release_from_other_thread),
		cmocka_unit_test(test_lock_contention),
		cmocka_unit_test(test_lock_fifo),
		cmocka_unit_test(test_lock_thousand_waiters),
		cmocka_unit_test(test_rlock_reentrant),
		cmocka_unit_test(test_lock_delete_answers_waiters),
		cmocka_unit_test(test_lock_dead_waiter_skipped),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
