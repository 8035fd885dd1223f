/* condition across real processes, mirroring Python's ConditionTests:
 * wait/notify need the lock, timed wait returns false holding the lock,
 * notify(n) and notify_all wake waiters in FIFO order, a notified waiter
 * returns only once it holds the (given) lock again, rlock depth restored,
 * wait_for as a client loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync-helpers.h"

struct cond_ctx {
	mgr_object *cond, *lock, *list, *count;
};

static void test_cond_requires_lock(void **state)
{
	struct harness *h = *state;
	mgr_object *c, *d;
	assert_int_equal(mgr_condition_open(h->c, NULL, NULL, &c), 0);
	assert_int_equal(mgr_condition_wait(c, 10, NULL, NULL), MGR_EPERM);
	assert_int_equal(mgr_condition_notify(c, 1, NULL), MGR_EPERM);
	assert_int_equal(mgr_condition_notify_all(c, NULL), MGR_EPERM);
	assert_int_equal(mgr_condition_release(c), MGR_ESTATE);
	assert_int_equal(mgr_object_create(h->c, "dict", NULL, NULL, 0, &d), 0);
	mgr_object *bad = NULL;
	assert_int_equal(mgr_condition_open(h->c, NULL, d, &bad), MGR_ETYPE);
	mgr_object_release(d);
	mgr_object_release(c);
}

/* Python: wait(timeout) returns False after the timeout, lock held again;
 * with its own rlock the depth is restored. */
static void test_cond_timeout_keeps_depth(void **state)
{
	struct harness *h = *state;
	mgr_object *c;
	bool notified = true, got = false;
	assert_int_equal(mgr_condition_open(h->c, NULL, NULL, &c), 0);
	assert_int_equal(mgr_condition_acquire(c, true, MGR_FOREVER, &got, NULL), 0);
	assert_int_equal(mgr_condition_acquire(c, true, MGR_FOREVER, &got, NULL), 0);
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_condition_wait(c, 60, &notified, NULL), 0);
	assert_false(notified);
	assert_true(clock_now_ms() - t0 >= 50);
	assert_int_equal(mgr_condition_release(c), 0);
	assert_int_equal(mgr_condition_release(c), 0);
	assert_int_equal(mgr_condition_release(c), MGR_ESTATE);
	mgr_object_release(c);
}

static int cond_waiter_child(void *arg, int i)
{
	struct cond_ctx *x = arg;
	bool notified = false, owned = false;
	CHK(mgr_condition_acquire(x->cond, true, MGR_FOREVER, NULL, NULL) == 0);
	CHK(mgr_condition_wait(x->cond, MGR_FOREVER, &notified, NULL) == 0 && notified);
	CHK(mgr_lock_owned(x->cond, &owned) == 0 && owned);
	CHK(mgr_list_append(x->list, mgr_value_new_int(i)) == 0);
	CHK(mgr_condition_release(x->cond) == 0);
	return 0;
}

static void cond_notify_locked(struct cond_ctx *x, int64_t n, int64_t want_woken)
{
	int64_t woken = -1;
	assert_int_equal(mgr_condition_acquire(x->cond, true, MGR_FOREVER, NULL, NULL), 0);
	assert_int_equal(n < 0 ? mgr_condition_notify_all(x->cond, &woken)
			       : mgr_condition_notify(x->cond, n, &woken), 0);
	assert_int_equal(woken, want_woken);
	assert_int_equal(mgr_condition_release(x->cond), 0);
}

static void test_cond_notify_fifo(void **state)
{
	struct harness *h = *state;
	struct cond_ctx x;
	assert_int_equal(mgr_condition_open(h->c, NULL, NULL, &x.cond), 0);
	assert_int_equal(mgr_object_create(h->c, "list", NULL, NULL, 0, &x.list), 0);
	pid_t *pids = sync_spawn_parked(5, cond_waiter_child, &x, x.cond, "waiting", 0);
	cond_notify_locked(&x, 1, 1);
	sync_poll(x.list, "len", 1);
	cond_notify_locked(&x, 2, 2);
	sync_poll(x.list, "len", 3);
	cond_notify_locked(&x, -1, 2);
	assert_int_equal(harness_reap_all(pids, 5), 5);
	for (int i = 0; i < 5; i++) {
		mgr_value *v = NULL;
		assert_int_equal(mgr_list_get(x.list, i, &v), 0);
		assert_int_equal(mgr_value_int(v), i);
		mgr_value_free(v);
	}
	cond_notify_locked(&x, -1, 0);
	mgr_object_release(x.cond);
	mgr_object_release(x.list);
}

static int given_lock_child(void *arg, int i)
{
	(void)i;
	struct cond_ctx *x = arg;
	bool notified = false, owned = false;
	int64_t v = 0;
	CHK(mgr_condition_acquire(x->cond, true, MGR_FOREVER, NULL, NULL) == 0);
	CHK(mgr_condition_wait(x->cond, MGR_FOREVER, &notified, NULL) == 0 && notified);
	CHK(mgr_lock_owned(x->lock, &owned) == 0 && owned);
	CHK(mgr_counter_get(x->count, &v) == 0 && v == 7); /* set before the release */
	CHK(mgr_lock_release(x->lock) == 0);
	return 0;
}

/* A notified waiter re-acquires the given lock before wait returns. */
static void test_cond_given_lock_reacquire(void **state)
{
	struct harness *h = *state;
	struct cond_ctx x;
	int64_t woken = 0;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &x.lock), 0);
	assert_int_equal(mgr_condition_open(h->c, NULL, x.lock, &x.cond), 0);
	assert_int_equal(mgr_object_create(h->c, "counter", NULL, NULL, 0, &x.count), 0);
	pid_t *pids = sync_spawn_parked(1, given_lock_child, &x, x.cond, "waiting", 0);
	assert_int_equal(mgr_lock_acquire(x.lock, true, MGR_FOREVER, NULL, NULL), 0);
	assert_int_equal(mgr_condition_notify(x.cond, 1, &woken), 0);
	assert_int_equal(woken, 1);
	assert_int_equal(sync_call_int(x.cond, "waiting"), 0);
	assert_int_equal(sync_call_int(x.lock, "waiting"), 1); /* now queued on the lock */
	assert_int_equal(mgr_counter_set(x.count, 7), 0);
	assert_int_equal(mgr_lock_release(x.lock), 0);
	assert_int_equal(harness_reap_all(pids, 1), 1);
	mgr_object_release(x.cond);
	mgr_object_release(x.lock);
	mgr_object_release(x.count);
}

static int bump_child(void *arg, int ready)
{
	(void)ready;
	struct cond_ctx *x = arg;
	for (int i = 0; i < 3; i++) {
		CHK(mgr_condition_acquire(x->cond, true, MGR_FOREVER, NULL, NULL) == 0);
		CHK(mgr_counter_add(x->count, 1, NULL) == 0);
		CHK(mgr_condition_notify_all(x->cond, NULL) == 0);
		CHK(mgr_condition_release(x->cond) == 0);
	}
	return 0;
}

static bool count_reached_3(void *arg)
{
	int64_t v = 0;
	return mgr_counter_get(arg, &v) == 0 && v >= 3;
}

static void test_cond_wait_for(void **state)
{
	struct harness *h = *state;
	struct cond_ctx x;
	bool ok = false;
	assert_int_equal(mgr_condition_open(h->c, NULL, NULL, &x.cond), 0);
	assert_int_equal(mgr_object_create(h->c, "counter", NULL, NULL, 0, &x.count), 0);
	assert_int_equal(mgr_condition_acquire(x.cond, true, MGR_FOREVER, NULL, NULL), 0);
	assert_int_equal(mgr_condition_wait_for(x.cond, count_reached_3, x.count, 50, &ok), 0);
	assert_false(ok); /* nobody bumps it yet: times out */
	struct kid k = kid_spawn(bump_child, &x);
	assert_int_equal(mgr_condition_wait_for(x.cond, count_reached_3, x.count, 20000, &ok), 0);
	assert_true(ok);
	assert_int_equal(mgr_condition_release(x.cond), 0);
	assert_int_equal(kid_reap(&k), 0);
	mgr_object_release(x.cond);
	mgr_object_release(x.count);
}

/* Python: wait(0) releases the lock, is not notified, and holds the lock
 * again before it returns (at once: the client timeout bounds the old
 * forever); negative timeouts are refused before the lock is released. */
static void test_cond_zero_timeout(void **state)
{
	struct harness *h = *state;
	mgr_object *c;
	bool notified = true, got = false, owned = false;
	assert_int_equal(mgr_condition_open(h->c, NULL, NULL, &c), 0);
	mgr_client_set_timeout(h->c, 5000);
	assert_int_equal(mgr_condition_acquire(c, true, 0, &got, NULL), 0);
	assert_true(got);
	assert_int_equal(mgr_condition_wait(c, 0, &notified, NULL), 0);
	assert_false(notified);
	assert_int_equal(mgr_lock_owned(c, &owned), 0);
	assert_true(owned);
	assert_int_equal(mgr_condition_wait(c, -1, &notified, NULL), MGR_EARGS);
	assert_int_equal(mgr_lock_owned(c, &owned), 0);
	assert_true(owned);
	assert_int_equal(mgr_condition_wait_for(c, NULL, NULL, 0, NULL), MGR_EINVAL);
	assert_int_equal(mgr_condition_release(c), 0);
	assert_int_equal(mgr_condition_acquire(c, false, 10, &got, NULL), MGR_EARGS);
	mgr_client_set_timeout(h->c, 0);
	mgr_object_release(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cond_requires_lock),
		cmocka_unit_test(test_cond_timeout_keeps_depth),
		cmocka_unit_test(test_cond_zero_timeout),
		cmocka_unit_test(test_cond_notify_fifo),
		cmocka_unit_test(test_cond_given_lock_reacquire),
		cmocka_unit_test(test_cond_wait_for),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
