/* Processes SIGKILLed while holding or waiting, and what the survivors see:
 * (a) a robust lock, (b) an rlock held twice, (c) a get parked on an empty
 * queue (also before the loop has read the dead peer's EOF), (d) a barrier
 * wait, (e) robust semaphore permits, (f) a robust=false lock released by
 * another process, (g) a condition waiter that notify must not count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sync-helpers.h"

/* The child takes what hold() takes, says so, and waits to be killed. */
static int hold_and_hang(void *arg, int ready, int (*hold)(mgr_object *))
{
	CHK(hold(arg) == 0);
	kid_signal(ready);
	for (;;)
		pause();
}

static int take_lock(mgr_object *o) { return mgr_lock_acquire(o, true, MGR_FOREVER, NULL, NULL); }
static int take_lock_twice(mgr_object *o) { return take_lock(o) ? -1 : take_lock(o); }
static int take_permits(mgr_object *o) { return mgr_semaphore_acquire(o, true, MGR_FOREVER, NULL) ? -1 : mgr_semaphore_acquire(o, true, MGR_FOREVER, NULL); }

static int lock_holder(void *arg, int ready) { return hold_and_hang(arg, ready, take_lock); }
static int rlock_holder(void *arg, int ready) { return hold_and_hang(arg, ready, take_lock_twice); }
static int permit_holder(void *arg, int ready) { return hold_and_hang(arg, ready, take_permits); }

static int owner_died_waiter(void *arg, int i)
{
	(void)i;
	bool got = false, died = false;
	CHK(mgr_lock_acquire(arg, true, MGR_FOREVER, &got, &died) == 0 && got && died);
	CHK(mgr_lock_release(arg) == 0);
	return 0;
}

/* (a) the parked waiter gets the lock with the owner-died mark; the mark
 * is then cleared. */
static void test_crash_lock_holder(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	bool got = false, died = true;
	assert_int_equal(mgr_lock_open(h->c, NULL, true, &l), 0);
	struct kid k = kid_spawn(lock_holder, l);
	kid_await(&k);
	pid_t *pids = sync_spawn_parked(1, owner_died_waiter, l, l, "waiting", 0);
	kid_kill(&k);
	assert_int_equal(harness_reap_all(pids, 1), 1);
	assert_int_equal(mgr_lock_acquire(l, false, MGR_FOREVER, &got, &died), 0);
	assert_true(got);
	assert_false(died);
	assert_int_equal(mgr_lock_release(l), 0);
	mgr_object_release(l);
}

/* (b) an rlock held at depth 2 is released entirely. */
static void test_crash_rlock_held_twice(void **state)
{
	struct harness *h = *state;
	mgr_object *r;
	bool got = false, died = false, locked = true;
	assert_int_equal(mgr_rlock_open(h->c, NULL, true, &r), 0);
	struct kid k = kid_spawn(rlock_holder, r);
	kid_await(&k);
	kid_kill(&k);
	assert_int_equal(mgr_lock_acquire(r, true, 20000, &got, &died), 0);
	assert_true(got);
	assert_true(died);
	assert_int_equal(mgr_lock_release(r), 0);
	assert_int_equal(mgr_lock_locked(r, &locked), 0);
	assert_false(locked);
	mgr_object_release(r);
}

static int getter_hang(void *arg, int i)
{
	(void)i;
	mgr_queue_get(arg, true, MGR_FOREVER, NULL);
	return 1; /* never answered: it is killed first */
}

static int getter_expect(void *arg, int i)
{
	(void)i;
	mgr_value *v = NULL;
	CHK(mgr_queue_get(arg, true, MGR_FOREVER, &v) == 0);
	CHK(strcmp(mgr_value_string(v, NULL), "item") == 0);
	mgr_value_free(v);
	return 0;
}

/* (c) the dead getter gets nothing: the item goes to the next live getter,
 * or stays in the queue when there is none. */
static void test_crash_queue_getter(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	size_t n = 0;
	assert_int_equal(mgr_queue_open(h->c, NULL, 0, &q), 0);
	pid_t *dead = sync_spawn_parked(1, getter_hang, q, q, "waiting", 0);
	pid_t *live = sync_spawn_parked(1, getter_expect, q, q, "waiting", 1);
	assert_int_equal(kill(dead[0], SIGKILL), 0);
	assert_int_equal(harness_reap_all(dead, 1), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_string("item"), true, MGR_FOREVER), 0);
	assert_int_equal(harness_reap_all(live, 1), 1);
	dead = sync_spawn_parked(1, getter_hang, q, q, "waiting", 0);
	assert_int_equal(kill(dead[0], SIGKILL), 0);
	assert_int_equal(harness_reap_all(dead, 1), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_string("item"), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_qsize(q, &n), 0);
	assert_int_equal(n, 1);
	mgr_object_release(q);
}

static void raw_request(int fd, uint64_t id, uint64_t object, const char *method,
			mgr_value **args, size_t nargs)
{
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = id, .object = object, .method = (char *)method,
					   .args = args, .nargs = nargs};
	harness_raw_send_msg(fd, &m);
}

/* (c) again, with the put read before the dead getter's EOF: the manager
 * is stopped while the put is sent and then the getter's socket closed. */
static void test_crash_queue_getter_eof_unread(void **state)
{
	struct harness *h = *state;
	mgr_object *q;
	size_t n = 0;
	struct msg reply;
	if (harness_tcp()) /* raw protocol sessions are the UNIX socket's */
		skip();
	assert_int_equal(mgr_queue_open(h->c, NULL, 0, &q), 0);
	int getter = harness_raw_session(h->path), putter = harness_raw_session(h->path);
	raw_request(getter, 1, mgr_object_id(q), "get", NULL, 0);
	sync_poll(q, "waiting", 1);
	assert_int_equal(kill(mgr_manager_pid(h->m), SIGSTOP), 0);
	mgr_value *item = mgr_value_new_string("item");
	raw_request(putter, 2, mgr_object_id(q), "put", &item, 1);
	close(getter); /* after the put: the loop sees the put first */
	assert_int_equal(kill(mgr_manager_pid(h->m), SIGCONT), 0);
	assert_true(harness_raw_recv_msg(putter, &reply, 20000));
	assert_int_equal(reply.u.reply.code, 0);
	msg_clear(&reply);
	assert_int_equal(mgr_queue_qsize(q, &n), 0);
	assert_int_equal(n, 1);
	mgr_value_free(item);
	close(putter);
	mgr_object_release(q);
}

static int barrier_hang(void *arg, int i)
{
	(void)i;
	mgr_barrier_wait(arg, MGR_FOREVER, NULL);
	return 1;
}

static int barrier_expect_broken(void *arg, int i)
{
	(void)i;
	CHK(mgr_barrier_wait(arg, MGR_FOREVER, NULL) == MGR_EBROKEN);
	return 0;
}

static int barrier_expect_index(void *arg, int i)
{
	int64_t index = -1;
	CHK(mgr_barrier_wait(arg, MGR_FOREVER, &index) == 0 && index == i);
	return 0;
}

/* (d) a party dying inside wait breaks the barrier for the others. */
static void test_crash_barrier_waiter(void **state)
{
	struct harness *h = *state;
	mgr_object *b;
	bool broken = false;
	int64_t index = -1;
	assert_int_equal(mgr_barrier_open(h->c, NULL, 3, MGR_FOREVER, &b), 0);
	pid_t *dead = sync_spawn_parked(1, barrier_hang, b, b, "n_waiting", 0);
	pid_t *live = sync_spawn_parked(1, barrier_expect_broken, b, b, "n_waiting", 1);
	assert_int_equal(kill(dead[0], SIGKILL), 0);
	assert_int_equal(harness_reap_all(dead, 1), 0);
	assert_int_equal(harness_reap_all(live, 1), 1);
	assert_int_equal(mgr_barrier_broken(b, &broken), 0);
	assert_true(broken);
	assert_int_equal(mgr_barrier_wait(b, MGR_FOREVER, NULL), MGR_EBROKEN);
	assert_int_equal(mgr_barrier_reset(b), 0); /* usable again: three parties */
	dead = sync_spawn_parked(2, barrier_expect_index, b, b, "n_waiting", 0);
	assert_int_equal(mgr_barrier_wait(b, MGR_FOREVER, &index), 0);
	assert_int_equal(index, 2);
	assert_int_equal(harness_reap_all(dead, 2), 2);
	mgr_object_release(b);
}

/* (e) a robust semaphore gets a dead session's permits back; a default one
 * keeps Python's semantics (nothing comes back). */
static void test_crash_semaphore_permits(void **state)
{
	struct harness *h = *state;
	mgr_object *s, *plain;
	bool got = true;
	int64_t v = -1;
	assert_int_equal(mgr_semaphore_open(h->c, NULL, 2, true, &s), 0);
	assert_int_equal(mgr_semaphore_open(h->c, NULL, 2, false, &plain), 0);
	struct kid k = kid_spawn(permit_holder, s), kp = kid_spawn(permit_holder, plain);
	kid_await(&k);
	kid_await(&kp);
	assert_int_equal(mgr_semaphore_acquire(s, false, MGR_FOREVER, &got), 0);
	assert_false(got);
	kid_kill(&k);
	kid_kill(&kp);
	assert_int_equal(mgr_semaphore_acquire(s, true, 20000, &got), 0);
	assert_true(got);
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(mgr_semaphore_value(plain, &v), 0);
	assert_int_equal(v, 0);
	mgr_object_release(s);
	mgr_object_release(plain);
}

/* (f) robust=false: the dead holder's lock stays locked (Python); another
 * process may release it, and then it is free, with no owner-died mark. */
static void test_crash_nonrobust_lock(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	bool got = true, died = true, locked = false;
	assert_int_equal(mgr_lock_open(h->c, NULL, false, &l), 0);
	struct kid k = kid_spawn(lock_holder, l);
	kid_await(&k);
	kid_kill(&k);
	assert_int_equal(mgr_lock_acquire(l, true, 50, &got, NULL), 0);
	assert_false(got);
	assert_int_equal(mgr_lock_locked(l, &locked), 0);
	assert_true(locked);
	assert_int_equal(mgr_lock_release(l), 0);
	assert_int_equal(mgr_lock_acquire(l, false, MGR_FOREVER, &got, &died), 0);
	assert_true(got);
	assert_false(died);
	mgr_object_release(l);
}

/* The manager has ended every session but the test's own. */
static void await_sessions_ended(struct harness *h)
{
	assert_int_equal(harness_wait_info(h->c, "sessions", 1, 20000), 1);
}

/* (h) a robust=false rlock stays locked, and owned by the dead holder:
 * nobody else may release it (unlike a robust=false plain lock). */
static void test_crash_nonrobust_rlock(void **state)
{
	struct harness *h = *state;
	mgr_object *r;
	bool got = true, locked = false;
	assert_int_equal(mgr_rlock_open(h->c, NULL, false, &r), 0);
	struct kid k = kid_spawn(rlock_holder, r);
	kid_await(&k);
	kid_kill(&k);
	await_sessions_ended(h);
	assert_int_equal(mgr_lock_acquire(r, false, MGR_FOREVER, &got, NULL), 0);
	assert_false(got);
	assert_int_equal(mgr_lock_locked(r, &locked), 0);
	assert_true(locked);
	assert_int_equal(mgr_lock_release(r), MGR_EPERM);
	mgr_object_release(r);
}

static int release_twice_take_once(mgr_object *o)
{
	bool got = false;
	if (mgr_semaphore_release(o, 1) || mgr_semaphore_release(o, 1))
		return -1;
	return mgr_semaphore_acquire(o, true, MGR_FOREVER, &got) || !got ? -1 : 0;
}

static int net_giver(void *arg, int ready) { return hold_and_hang(arg, ready, release_twice_take_once); }

/* (i) a robust semaphore counts a session's permits net: one that released
 * 2 and acquired 1 gave one more than it took, so its end returns nothing
 * (the value stays 1; counting only what it acquired gave 2). */
static void test_crash_semaphore_net(void **state)
{
	struct harness *h = *state;
	mgr_object *s;
	int64_t v = -1;
	assert_int_equal(mgr_semaphore_open(h->c, NULL, 0, true, &s), 0);
	struct kid k = kid_spawn(net_giver, s);
	kid_await(&k);
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 1);
	kid_kill(&k);
	await_sessions_ended(h);
	assert_int_equal(mgr_semaphore_value(s, &v), 0);
	assert_int_equal(v, 1);
	mgr_object_release(s);
}

static int cond_hang(void *arg, int i)
{
	(void)i;
	CHK(mgr_condition_acquire(arg, true, MGR_FOREVER, NULL, NULL) == 0);
	mgr_condition_wait(arg, MGR_FOREVER, NULL, NULL);
	return 1;
}

static int cond_expect(void *arg, int i)
{
	(void)i;
	bool notified = false;
	CHK(mgr_condition_acquire(arg, true, MGR_FOREVER, NULL, NULL) == 0);
	CHK(mgr_condition_wait(arg, MGR_FOREVER, &notified, NULL) == 0 && notified);
	CHK(mgr_condition_release(arg) == 0);
	return 0;
}

/* (g) notify(1) skips the dead waiter and wakes the live one. */
static void test_crash_condition_waiter(void **state)
{
	struct harness *h = *state;
	mgr_object *c;
	int64_t woken = 0;
	assert_int_equal(mgr_condition_open(h->c, NULL, NULL, &c), 0);
	pid_t *dead = sync_spawn_parked(1, cond_hang, c, c, "waiting", 0);
	pid_t *live = sync_spawn_parked(1, cond_expect, c, c, "waiting", 1);
	assert_int_equal(kill(dead[0], SIGKILL), 0);
	assert_int_equal(harness_reap_all(dead, 1), 0);
	assert_int_equal(mgr_condition_acquire(c, true, MGR_FOREVER, NULL, NULL), 0);
	assert_int_equal(mgr_condition_notify(c, 1, &woken), 0);
	assert_int_equal(woken, 1);
	assert_int_equal(mgr_condition_release(c), 0);
	assert_int_equal(harness_reap_all(live, 1), 1);
	mgr_object_release(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_lock_holder),
		cmocka_unit_test(test_crash_rlock_held_twice),
		cmocka_unit_test(test_crash_queue_getter),
		cmocka_unit_test(test_crash_queue_getter_eof_unread),
		cmocka_unit_test(test_crash_barrier_waiter),
		cmocka_unit_test(test_crash_semaphore_permits),
		cmocka_unit_test(test_crash_nonrobust_lock),
		cmocka_unit_test(test_crash_condition_waiter),
		cmocka_unit_test(test_crash_nonrobust_rlock),
		cmocka_unit_test(test_crash_semaphore_net),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
