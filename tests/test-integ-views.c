/* What mgrctl shows of the sync types (issue 5), end to end: a real mgrd,
 * real processes parked on its objects, and mgrctl --json (parsed with
 * jansson) reporting lock holders and waiters in FIFO order, the locks a
 * session holds, a queue's items and parked getters and putters. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl-run.h"
#include "sync-helpers.h"

static struct harness h;

/* The "value" of `mgrctl --json show name` (a new reference). */
static json_t *show_value(const char *name)
{
	json_t *d = ctl_json("show", name, NULL);
	json_t *v = json_incref(json_object_get(d, "value"));
	assert_non_null(v);
	json_decref(d);
	return v;
}

/* The element of array a whose key is the integer want, or NULL. */
static json_t *find_int(json_t *a, const char *key, json_int_t want)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) if (json_integer_value(json_object_get(v, key)) == want) return v;
	return NULL;
}

/* The "locks" column of `mgrctl clients` for the session of pid. */
static json_int_t client_locks(pid_t pid)
{
	json_t *j = ctl_json("clients", NULL);
	json_t *row = find_int(j, "pid", pid);
	assert_non_null(row);
	json_int_t n = json_integer_value(json_object_get(row, "locks"));
	json_decref(j);
	return n;
}

static void assert_pids(json_t *list, const pid_t *pids, size_t n)
{
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(json_integer_value(json_array_get(list, i)), pids[i]);
}

static int setup(void **state)
{
	(void)state;
	harness_start(&h, NULL);
	setenv("MGR_SOCKET", h.path, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop(&h);
	return 0;
}

/* ---- lock ---- */

static int acquire_child(void *arg, int i)
{
	(void)i;
	bool got = false;
	CHK(mgr_lock_acquire(arg, true, MGR_FOREVER, &got, NULL) == 0 && got);
	CHK(mgr_lock_release(arg) == 0);
	return 0;
}

/* This process holds L; two children wait on it, in order. */
static void test_lock_holder_waiters(void **state)
{
	(void)state;
	mgr_object *l, *d;
	assert_int_equal(mgr_lock_open(h.c, "L", true, &l), 0);
	assert_int_equal(mgr_dict_open(h.c, "plain", &d), 0);
	assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, NULL, NULL), 0);
	pid_t *kids = sync_spawn_parked(2, acquire_child, l, l, "waiting", 0);
	pid_t order[2] = {kids[0], kids[1]};

	json_t *v = show_value("L");
	assert_true(json_is_true(json_object_get(v, "locked")));
	assert_int_equal(json_integer_value(json_object_get(v, "owner_pid")), getpid());
	assert_true(json_integer_value(json_object_get(v, "owner_session")) > 0);
	assert_true(json_is_true(json_object_get(v, "robust")));
	assert_false(json_is_true(json_object_get(v, "owner_died")));
	assert_null(json_object_get(v, "depth")); /* a lock, not an rlock */
	assert_pids(json_object_get(v, "waiters"), order, 2);
	json_decref(v);

	assert_int_equal(client_locks(getpid()), 1);
	assert_int_equal(client_locks(order[0]), 0);

	json_t *ls = ctl_json("ls", NULL);
	json_t *row = ctl_find_str(ls, "name", "L");
	assert_non_null(row);
	assert_int_equal(json_integer_value(json_object_get(row, "holder_pid")), getpid());
	assert_int_equal(json_integer_value(json_object_get(row, "waiters")), 2);
	row = ctl_find_str(ls, "name", "plain"); /* no holders: null, not 0 */
	assert_non_null(row);
	assert_true(json_is_null(json_object_get(row, "holder_pid")));
	assert_true(json_is_null(json_object_get(row, "waiters")));
	json_decref(ls);
	struct run r;
	const char *argv[] = {getenv("MGR_MGRCTL"), "ls", NULL};
	run_wait(argv, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "HOLDER"));
	assert_non_null(strstr(r.out, "WAITERS"));
	run_free(&r);

	assert_int_equal(mgr_lock_release(l), 0); /* hands it down the queue */
	assert_int_equal(harness_reap_all(kids, 2), 2);
	v = show_value("L");
	assert_false(json_is_true(json_object_get(v, "locked")));
	assert_true(json_is_null(json_object_get(v, "owner_pid")));
	assert_int_equal(json_array_size(json_object_get(v, "waiters")), 0);
	json_decref(v);
	assert_int_equal(client_locks(getpid()), 0);
	mgr_object_delete(l);
	mgr_object_release(l);
	mgr_object_delete(d);
	mgr_object_release(d);
}

/* A robust lock whose holder died: the mark shows until the next take. */
static int die_holding(void *arg, int ready)
{
	CHK(mgr_lock_acquire(arg, true, MGR_FOREVER, NULL, NULL) == 0);
	kid_signal(ready);
	for (;;)
		pause();
}

static void test_lock_owner_died(void **state)
{
	(void)state;
	mgr_object *l;
	assert_int_equal(mgr_lock_open(h.c, "Ldied", true, &l), 0);
	struct kid k = kid_spawn(die_holding, l);
	kid_await(&k);
	json_t *v = show_value("Ldied");
	assert_int_equal(json_integer_value(json_object_get(v, "owner_pid")), k.pid);
	json_decref(v);
	kid_kill(&k);
	bool died = false;
	assert_int_equal(mgr_lock_acquire(l, true, MGR_FOREVER, NULL, &died), 0);
	assert_true(died);
	v = show_value("Ldied");
	assert_int_equal(json_integer_value(json_object_get(v, "owner_pid")), getpid());
	json_decref(v);
	assert_int_equal(mgr_lock_release(l), 0);
	mgr_object_delete(l);
	mgr_object_release(l);
}

/* ---- rlock, condition, semaphore ---- */

static void test_rlock_depth_and_held(void **state)
{
	(void)state;
	mgr_object *rl, *cond, *sem;
	assert_int_equal(mgr_rlock_open(h.c, "R", true, &rl), 0);
	assert_int_equal(mgr_condition_open(h.c, "C", NULL, &cond), 0);
	assert_int_equal(mgr_semaphore_open(h.c, "S", 3, true, &sem), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mgr_lock_acquire(rl, true, MGR_FOREVER, NULL, NULL), 0);
	assert_int_equal(mgr_condition_acquire(cond, true, MGR_FOREVER, NULL, NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mgr_semaphore_acquire(sem, true, MGR_FOREVER, NULL), 0);

	json_t *v = show_value("R");
	assert_int_equal(json_integer_value(json_object_get(v, "depth")), 2);
	assert_int_equal(json_integer_value(json_object_get(v, "owner_pid")), getpid());
	json_decref(v);
	v = show_value("C");
	assert_true(json_is_null(json_object_get(v, "lock"))); /* its own rlock */
	json_t *ls = json_object_get(v, "lock_state");
	assert_int_equal(json_integer_value(json_object_get(ls, "owner_pid")), getpid());
	assert_int_equal(json_integer_value(json_object_get(ls, "depth")), 1);
	assert_int_equal(json_array_size(json_object_get(v, "waiters")), 0);
	json_decref(v);
	v = show_value("S");
	assert_int_equal(json_integer_value(json_object_get(v, "value")), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "initial")), 3);
	assert_true(json_is_true(json_object_get(v, "robust")));
	json_t *holders = json_object_get(v, "holders");
	assert_int_equal(json_array_size(holders), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(holders, 0), "permits")), 2);
	json_decref(v);

	/* rlock depth 2 + the condition's own lock 1 + 2 robust permits */
	assert_int_equal(client_locks(getpid()), 5);

	for (int i = 0; i < 2; i++)
		assert_int_equal(mgr_lock_release(rl), 0);
	assert_int_equal(mgr_condition_release(cond), 0);
	assert_int_equal(mgr_semaphore_release(sem, 2), 0);
	assert_int_equal(client_locks(getpid()), 0);
	mgr_object *all[] = {rl, cond, sem};
	for (size_t i = 0; i < 3; i++) {
		mgr_object_delete(all[i]);
		mgr_object_release(all[i]);
	}
}

/* ---- event, barrier ---- */

static int event_child(void *arg, int i)
{
	(void)i;
	bool set = false;
	CHK(mgr_event_wait(arg, MGR_FOREVER, &set) == 0 && set);
	return 0;
}

static int barrier_child(void *arg, int i)
{
	(void)i;
	CHK(mgr_barrier_wait(arg, MGR_FOREVER, NULL) == 0);
	return 0;
}

static void test_event_barrier(void **state)
{
	(void)state;
	mgr_object *ev, *bar;
	assert_int_equal(mgr_event_open(h.c, "E", &ev), 0);
	assert_int_equal(mgr_barrier_open(h.c, "B", 3, MGR_FOREVER, &bar), 0);
	pid_t *ek = sync_spawn_parked(1, event_child, ev, ev, "waiting", 0);
	pid_t *bk = sync_spawn_parked(2, barrier_child, bar, bar, "n_waiting", 0);
	pid_t border[2] = {bk[0], bk[1]};

	json_t *v = show_value("E");
	assert_false(json_is_true(json_object_get(v, "set")));
	assert_pids(json_object_get(v, "waiters"), ek, 1);
	json_decref(v);
	v = show_value("B");
	assert_int_equal(json_integer_value(json_object_get(v, "parties")), 3);
	assert_int_equal(json_integer_value(json_object_get(v, "n_waiting")), 2);
	assert_false(json_is_true(json_object_get(v, "broken")));
	assert_pids(json_object_get(v, "waiters"), border, 2);
	json_decref(v);
	json_t *ls = ctl_json("ls", "--type", "barrier", NULL);
	assert_int_equal(json_integer_value(json_object_get(ctl_find_str(ls, "name", "B"), "waiters")), 2);
	assert_true(json_is_null(json_object_get(ctl_find_str(ls, "name", "B"), "holder_pid")));
	json_decref(ls);

	assert_int_equal(mgr_event_set(ev), 0);
	assert_int_equal(mgr_barrier_wait(bar, MGR_FOREVER, NULL), 0);
	assert_int_equal(harness_reap_all(ek, 1), 1);
	assert_int_equal(harness_reap_all(bk, 2), 2);
	mgr_object_delete(ev);
	mgr_object_release(ev);
	mgr_object_delete(bar);
	mgr_object_release(bar);
}

/* ---- queue ---- */

static int get_child(void *arg, int i)
{
	(void)i;
	mgr_value *item = NULL;
	CHK(mgr_queue_get(arg, true, MGR_FOREVER, &item) == 0 && mgr_value_int(item) == 7);
	mgr_value_free(item);
	return 0;
}

static int put_child(void *arg, int i)
{
	(void)i;
	CHK(mgr_queue_put(arg, mgr_value_new_int(100 + i), true, MGR_FOREVER) == 0);
	return 0;
}

static void test_queue(void **state)
{
	(void)state;
	mgr_object *full, *empty;
	assert_int_equal(mgr_joinable_queue_open(h.c, "Qfull", 3, &full), 0);
	assert_int_equal(mgr_queue_open(h.c, "Qempty", 0, &empty), 0);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(mgr_queue_put(full, mgr_value_new_int(i), true, MGR_FOREVER), 0);
	pid_t *putter = sync_spawn_parked(1, put_child, full, full, "waiting", 0);
	pid_t *getter = sync_spawn_parked(1, get_child, empty, empty, "waiting", 0);

	json_t *v = show_value("Qfull");
	assert_int_equal(json_integer_value(json_object_get(v, "maxsize")), 3);
	assert_int_equal(json_integer_value(json_object_get(v, "length")), 3);
	json_t *items = json_object_get(v, "items");
	assert_int_equal(json_array_size(items), 3);
	assert_int_equal(json_integer_value(json_array_get(items, 2)), 3);
	assert_pids(json_object_get(v, "putters"), putter, 1);
	assert_int_equal(json_array_size(json_object_get(v, "getters")), 0);
	assert_int_equal(json_integer_value(json_object_get(v, "unfinished")), 3);
	json_decref(v);
	json_t *d = ctl_json("show", "Qfull", "--limit", "2", NULL);
	assert_int_equal(json_array_size(json_object_get(json_object_get(d, "value"), "items")), 2);
	assert_true(json_is_true(json_object_get(d, "truncated")));
	json_decref(d);
	d = ctl_json("show", "Qfull", NULL);
	assert_false(json_is_true(json_object_get(d, "truncated")));
	json_decref(d);

	v = show_value("Qempty");
	assert_int_equal(json_integer_value(json_object_get(v, "length")), 0);
	assert_pids(json_object_get(v, "getters"), getter, 1);
	assert_null(json_object_get(v, "unfinished")); /* a plain queue */
	json_decref(v);
	json_t *ls = ctl_json("ls", NULL);
	assert_int_equal(json_integer_value(json_object_get(ctl_find_str(ls, "name", "Qempty"), "waiters")), 1);
	assert_int_equal(json_integer_value(json_object_get(ctl_find_str(ls, "name", "Qfull"), "waiters")), 1);
	json_decref(ls);
	struct run r;
	const char *argv[] = {getenv("MGR_MGRCTL"), "show", "Qfull", "--limit", "1", NULL};
	run_wait(argv, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "putters"));
	assert_non_null(strstr(r.out, "... 1 of 3 shown"));
	run_free(&r);

	assert_int_equal(mgr_queue_put(empty, mgr_value_new_int(7), true, MGR_FOREVER), 0);
	mgr_value *item = NULL;
	assert_int_equal(mgr_queue_get(full, true, MGR_FOREVER, &item), 0); /* lets the putter in */
	mgr_value_free(item);
	assert_int_equal(harness_reap_all(getter, 1), 1);
	assert_int_equal(harness_reap_all(putter, 1), 1);
	mgr_object_delete(full);
	mgr_object_release(full);
	mgr_object_delete(empty);
	mgr_object_release(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_holder_waiters), cmocka_unit_test(test_lock_owner_died),
		cmocka_unit_test(test_rlock_depth_and_held), cmocka_unit_test(test_event_barrier),
		cmocka_unit_test(test_queue),
	};
	return cmocka_run_group_tests_name("views", tests, setup, teardown);
}
