/* event across real processes, mirroring Python's EventTests: is_set,
 * set/clear, wait returning at once when set, timed wait returning false,
 * set waking every waiting process, delete answering waiters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync-helpers.h"

static void test_event_flag(void **state)
{
	struct harness *h = *state;
	mgr_object *e;
	bool set = true;
	assert_int_equal(mgr_event_open(h->c, NULL, &e), 0);
	assert_int_equal(mgr_event_is_set(e, &set), 0);
	assert_false(set);
	assert_int_equal(mgr_event_set(e), 0);
	assert_int_equal(mgr_event_is_set(e, &set), 0);
	assert_true(set);
	assert_int_equal(mgr_event_wait(e, MGR_FOREVER, &set), 0); /* set: at once */
	assert_true(set);
	assert_int_equal(mgr_event_clear(e), 0);
	assert_int_equal(mgr_event_is_set(e, &set), 0);
	assert_false(set);
	mgr_object_release(e);
}

static void test_event_timeout(void **state)
{
	struct harness *h = *state;
	mgr_object *e;
	bool set = true;
	assert_int_equal(mgr_event_open(h->c, NULL, &e), 0);
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_event_wait(e, 60, &set), 0);
	assert_false(set);
	assert_true(clock_now_ms() - t0 >= 50);
	assert_int_equal(sync_call_int(e, "waiting"), 0);
	mgr_object_release(e);
}

static int event_waiter_child(void *arg, int i)
{
	(void)i;
	bool set = false;
	CHK(mgr_event_wait(arg, MGR_FOREVER, &set) == 0 && set);
	return 0;
}

/* Python test_notify: set wakes every waiter; a clear right after does not
 * take the wakeup back. */
static void test_event_set_wakes_all(void **state)
{
	struct harness *h = *state;
	mgr_object *e;
	assert_int_equal(mgr_event_open(h->c, "ev-all", &e), 0);
	pid_t *pids = sync_spawn_parked(8, event_waiter_child, e, e, "waiting", 0);
	assert_int_equal(mgr_event_set(e), 0);
	assert_int_equal(mgr_event_clear(e), 0);
	assert_int_equal(harness_reap_all(pids, 8), 8);
	mgr_object_release(e);
}

static int event_deleted_child(void *arg, int i)
{
	(void)i;
	CHK(mgr_event_wait(arg, MGR_FOREVER, NULL) == MGR_ENOOBJ);
	return 0;
}

static void test_event_delete_answers_waiters(void **state)
{
	struct harness *h = *state;
	mgr_object *e;
	assert_int_equal(mgr_event_open(h->c, NULL, &e), 0);
	pid_t *pids = sync_spawn_parked(2, event_deleted_child, e, e, "waiting", 0);
	assert_int_equal(mgr_object_delete(e), 0);
	assert_int_equal(harness_reap_all(pids, 2), 2);
	mgr_object_release(e);
}

/* Python: wait(0) is a poll, false at once when unset (it used to mean
 * forever: the client timeout turns that hang into a failure), true when
 * set; a negative timeout is refused (Python: ValueError). */
static void test_event_zero_timeout(void **state)
{
	struct harness *h = *state;
	mgr_object *e;
	bool set = true;
	assert_int_equal(mgr_event_open(h->c, NULL, &e), 0);
	mgr_client_set_timeout(h->c, 5000);
	assert_int_equal(mgr_event_wait(e, 0, &set), 0);
	assert_false(set);
	assert_int_equal(sync_call_int(e, "waiting"), 0);
	assert_int_equal(mgr_event_wait(e, -1, &set), MGR_EARGS);
	assert_int_equal(mgr_event_set(e), 0);
	assert_int_equal(mgr_event_wait(e, -1, &set), MGR_EARGS); /* even when set */
	set = false;
	assert_int_equal(mgr_event_wait(e, 0, &set), 0);
	assert_true(set);
	mgr_client_set_timeout(h->c, 0);
	mgr_object_release(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_flag),
		cmocka_unit_test(test_event_timeout),
		cmocka_unit_test(test_event_zero_timeout),
		cmocka_unit_test(test_event_set_wakes_all),
		cmocka_unit_test(test_event_delete_answers_waiters),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
