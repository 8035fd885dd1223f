/* semaphore and bounded_semaphore across real processes, mirroring
 * Python's lock_tests.py: counting, non-blocking and timed acquire,
 * release(n) waking n waiters in FIFO order, unowned permits (signalling
 * between processes), bounded over-release, constructor errors, and a
 * robust one's permits given back at a session's end (exactly those held,
 * a bounded one capped at its initial value). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "sync-helpers.h"

static void test_sem_counting(void **state)
{
	struct harness *h = *state;
	mgr_object *s;
	bool got = false;
	int64_t v = -1;
	assert_int_equal(mgr_semaphore_open(h->c, NULL, 3, false, &s), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mgr_semaphore_acquire(s, false, MGR_FOREVER, &got), 0);
		assert_true(got);
	}
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mgr_semaphore_acquire(s, false, MGR_FOREVER, &got), 0);
	assert_false(got);
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_semaphore_acquire(s, true, 80, &got), 0);
	assert_false(got);
	assert_true(clock_now_ms() - t0 >= 70);
	assert_int_equal(mgr_semaphore_release(s, 2), 0);
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(mgr_semaphore_release(s, 0), MGR_EVALUE);
	mgr_object_release(s);
}

static void test_sem_constructor(void **state)
{
	struct harness *h = *state;
	mgr_object *s = NULL;
	int64_t v = 0;
	assert_int_equal(mgr_semaphore_open(h->c, NULL, -1, false, &s), MGR_EARGS);
	assert_int_equal(mgr_object_create(h->c, "semaphore", NULL, NULL, 0, &s), 0);
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 1); /* Python's default */
	mgr_object_release(s);
}

static void test_bounded_over_release(void **state)
{
	struct harness *h = *state;
	mgr_object *s;
	assert_int_equal(mgr_bounded_semaphore_open(h->c, NULL, 2, false, &s), 0);
	assert_int_equal(mgr_semaphore_release(s, 1), MGR_ESTATE);
	assert_int_equal(mgr_semaphore_acquire(s, true, MGR_FOREVER, NULL), 0);
	assert_int_equal(mgr_semaphore_release(s, 2), MGR_ESTATE);
	assert_int_equal(mgr_semaphore_release(s, 1), 0);
	assert_int_equal(mgr_semaphore_release(s, 1), MGR_ESTATE);
	mgr_object_release(s);
}

struct sem_ctx {
	mgr_object *sem, *order;
};

static int sem_waiter_child(void *arg, int i)
{
	struct sem_ctx *x = arg;
	bool got = false;
	CHK(mgr_semaphore_acquire(x->sem, true, MGR_FOREVER, &got) == 0 && got);
	CHK(mgr_list_append(x->order, mgr_value_new_int(i)) == 0);
	return 0;
}

/* release(n) wakes exactly n waiters, the first n to arrive. */
static void test_sem_multirelease_fifo(void **state)
{
	struct harness *h = *state;
	struct sem_ctx x;
	size_t len = 0;
	assert_int_equal(mgr_semaphore_open(h->c, NULL, 0, false, &x.sem), 0);
	assert_int_equal(mgr_object_create(h->c, "list", NULL, NULL, 0, &x.order), 0);
	pid_t *pids = sync_spawn_parked(5, sem_waiter_child, &x, x.sem, "waiting", 0);
	assert_int_equal(mgr_semaphore_release(x.sem, 3), 0);
	sync_poll(x.order, "len", 3);
	assert_int_equal(sync_call_int(x.sem, "waiting"), 2);
	assert_int_equal(mgr_semaphore_release(x.sem, 2), 0);
	assert_int_equal(harness_reap_all(pids, 5), 5);
	assert_int_equal(mgr_list_len(x.order, &len), 0);
	assert_int_equal(len, 5);
	for (int i = 0; i < 3; i++) { /* the first three, in some order, then the last two */
		mgr_value *v = NULL;
		assert_int_equal(mgr_list_get(x.order, i, &v), 0);
		assert_true(mgr_value_int(v) < 3);
		mgr_value_free(v);
	}
	mgr_object_release(x.sem);
	mgr_object_release(x.order);
}

static int signal_child(void *arg, int ready)
{
	(void)ready;
	CHK(mgr_semaphore_release(arg, 1) == 0);
	return 0;
}

/* Default (not robust): a permit is not owned, so one process can signal
 * another by releasing what it never acquired. */
static void test_sem_signal_between_processes(void **state)
{
	struct harness *h = *state;
	mgr_object *s;
	bool got = false;
	assert_int_equal(mgr_semaphore_open(h->c, NULL, 0, false, &s), 0);
	struct kid k = kid_spawn(signal_child, s);
	assert_int_equal(mgr_semaphore_acquire(s, true, 20000, &got), 0);
	assert_true(got);
	assert_int_equal(kid_reap(&k), 0);
	mgr_object_release(s);
}

static int sem_deleted_child(void *arg, int i)
{
	(void)i;
	CHK(mgr_semaphore_acquire(arg, true, MGR_FOREVER, NULL) == MGR_ENOOBJ);
	return 0;
}

static void test_sem_delete_answers_waiters(void **state)
{
	struct harness *h = *state;
	mgr_object *s;
	assert_int_equal(mgr_semaphore_open(h->c, NULL, 0, false, &s), 0);
	pid_t *pids = sync_spawn_parked(2, sem_deleted_child, s, s, "waiting", 0);
	assert_int_equal(mgr_object_delete(s), 0);
	assert_int_equal(harness_reap_all(pids, 2), 2);
	mgr_object_release(s);
}

/* Takes every free permit of s without blocking; how many it got. */
static int64_t take_all(mgr_object *s)
{
	bool got = true;
	int64_t n = 0;
	while (got && n < 100) {
		assert_int_equal(mgr_semaphore_acquire(s, false, MGR_FOREVER, &got), 0);
		n += got;
	}
	return n;
}

/* A bounded robust semaphore never goes over its initial value: a session
 * ends holding a permit that another session already released for it
 * (permits are unowned), and what comes back from the dead session is
 * capped at the initial value. */
static void test_bounded_robust_cap(void **state)
{
	struct harness *h = *state;
	mgr_client *other;
	mgr_object *s, *s2;
	bool got = false;
	int64_t v = -1;
	assert_int_equal(mgr_bounded_semaphore_open(h->c, "bsem-cap", 2, true, &s), 0);
	assert_int_equal(mgr_client_connect(h->path, &other), 0);
	assert_int_equal(mgr_bounded_semaphore_open(other, "bsem-cap", 2, true, &s2), 0);
	assert_int_equal(mgr_semaphore_acquire(s2, false, MGR_FOREVER, &got), 0);
	assert_true(got);
	assert_int_equal(mgr_semaphore_release(s, 1), 0); /* for the other session */
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(mgr_semaphore_release(s, 1), MGR_ESTATE);
	mgr_object_release(s2);
	mgr_client_close(other); /* it ends holding the permit: capped */
	assert_int_equal(harness_wait_info(h->c, "sessions", 1, 20000), 1); /* ours alone */
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(take_all(s), 2);
	assert_int_equal(mgr_semaphore_release(s, 2), 0);
	assert_int_equal(mgr_semaphore_release(s, 1), MGR_ESTATE);
	mgr_object_release(s);
}

/* The value of s once it is not 0, polling for at most ms; 0, or -1 if it
 * stayed 0 (*v: the last value read). */
static int sem_value_wait_nonzero(mgr_object *s, int ms, int64_t *v)
{
	for (int waited = 0;; waited++) {
		assert_int_equal(mgr_semaphore_value(s, v), 0);
		if (*v || waited >= ms)
			return *v ? 0 : -1;
		usleep(1000);
	}
}

/* A robust semaphore gives back exactly what an ended session held: not
 * what it acquired and released again, nor what another session holds. */
static void test_robust_returns_what_was_held(void **state)
{
	struct harness *h = *state;
	mgr_client *other;
	mgr_object *s, *s2;
	int64_t v = -1;
	assert_int_equal(mgr_semaphore_open(h->c, "rsem-held", 5, true, &s), 0);
	assert_int_equal(mgr_client_connect(h->path, &other), 0);
	assert_int_equal(mgr_semaphore_open(other, "rsem-held", 5, true, &s2), 0);
	assert_int_equal(take_all(s2), 5);
	assert_int_equal(mgr_semaphore_release(s2, 2), 0); /* it holds 3 */
	assert_int_equal(take_all(s), 2);		    /* we hold 2 */
	mgr_object_release(s2);
	mgr_client_close(other);
	assert_int_equal(harness_wait_info(h->c, "sessions", 1, 20000), 1); /* ours alone */
	/* info's "sessions" drops when the connection closes; its holds come
	 * back a little later, all at once (session.c, at the end of that
	 * loop turn), and our next call can be read in the same turn */
	assert_int_equal(sem_value_wait_nonzero(s, 20000, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(take_all(s), 3);
	assert_int_equal(mgr_semaphore_release(s, 5), 0);
	mgr_object_release(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sem_counting),
		cmocka_unit_test(test_sem_constructor),
		cmocka_unit_test(test_bounded_over_release),
		cmocka_unit_test(test_sem_multirelease_fifo),
		cmocka_unit_test(test_sem_signal_between_processes),
		cmocka_unit_test(test_sem_delete_answers_waiters),
		cmocka_unit_test(test_bounded_robust_cap),
		cmocka_unit_test(test_robust_returns_what_was_held),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
