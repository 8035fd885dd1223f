/* barrier across real processes, mirroring Python's BarrierTests: several
 * parties over several rounds with distinct indexes, abort, reset, a timeout
 * breaking it for everyone, parties and n_waiting, constructor errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync-helpers.h"

#define ROUNDS 3

struct bar_ctx {
	mgr_object *bar, *seen; /* seen: a counter of index bits */
};

static int round_child(void *arg, int i)
{
	(void)i;
	struct bar_ctx *x = arg;
	for (int r = 0; r < ROUNDS; r++) {
		int64_t index = -1;
		CHK(mgr_barrier_wait(x->bar, 20000, &index) == 0);
		CHK(index >= 0 && index < 4);
		CHK(mgr_counter_add(x->seen, (int64_t)1 << (index + 8 * r), NULL) == 0);
	}
	return 0;
}

/* Python test_barrier: 4 parties, 3 rounds; each round every index once. */
static void test_barrier_rounds(void **state)
{
	struct harness *h = *state;
	struct bar_ctx x;
	int64_t parties = 0, seen = 0;
	assert_int_equal(mgr_barrier_open(h->c, NULL, 4, MGR_FOREVER, &x.bar), 0);
	assert_int_equal(mgr_object_create(h->c, "counter", NULL, NULL, 0, &x.seen), 0);
	assert_int_equal(mgr_barrier_parties(x.bar, &parties), 0);
	assert_int_equal(parties, 4);
	assert_int_equal(harness_fork_n(4, round_child, &x), 4);
	assert_int_equal(mgr_counter_get(x.seen, &seen), 0);
	assert_int_equal(seen, 0x0f0f0f);
	mgr_object_release(x.bar);
	mgr_object_release(x.seen);
}

static int broken_child(void *arg, int i)
{
	(void)i;
	CHK(mgr_barrier_wait(arg, MGR_FOREVER, NULL) == MGR_EBROKEN);
	return 0;
}

static void barrier_break_with(struct harness *h, int (*breaker)(mgr_object *), bool stays)
{
	mgr_object *b;
	bool broken = !stays;
	int64_t index = -1;
	assert_int_equal(mgr_barrier_open(h->c, NULL, 3, MGR_FOREVER, &b), 0);
	pid_t *pids = sync_spawn_parked(2, broken_child, b, b, "n_waiting", 0);
	assert_int_equal(breaker(b), 0);
	assert_int_equal(harness_reap_all(pids, 2), 2);
	assert_int_equal(mgr_barrier_broken(b, &broken), 0);
	assert_int_equal(broken, stays);
	if (stays)
		assert_int_equal(mgr_barrier_wait(b, MGR_FOREVER, NULL), MGR_EBROKEN);
	assert_int_equal(mgr_barrier_reset(b), 0);
	assert_int_equal(mgr_barrier_broken(b, &broken), 0);
	assert_false(broken);
	mgr_object_release(b);
	(void)index;
}

static void test_barrier_abort(void **state) { barrier_break_with(*state, mgr_barrier_abort, true); }
static void test_barrier_reset(void **state) { barrier_break_with(*state, mgr_barrier_reset, false); }

static void test_barrier_timeout_breaks(void **state)
{
	struct harness *h = *state;
	mgr_object *b;
	bool broken = false;
	int64_t n = -1;
	assert_int_equal(mgr_barrier_open(h->c, NULL, 2, MGR_FOREVER, &b), 0);
	assert_int_equal(mgr_barrier_wait(b, 50, NULL), MGR_EBROKEN);
	assert_int_equal(mgr_barrier_broken(b, &broken), 0);
	assert_true(broken);
	assert_int_equal(mgr_barrier_n_waiting(b, &n), 0);
	assert_int_equal(n, 0);
	mgr_object_release(b);
}

static void test_barrier_constructor(void **state)
{
	struct harness *h = *state;
	mgr_object *b = NULL;
	int64_t index = -1;
	assert_int_equal(mgr_barrier_open(h->c, NULL, 0, MGR_FOREVER, &b), MGR_EVALUE);
	assert_int_equal(mgr_object_create(h->c, "barrier", NULL, NULL, 0, &b), MGR_EARGS);
	assert_int_equal(mgr_barrier_open(h->c, NULL, 1, MGR_FOREVER, &b), 0);
	assert_int_equal(mgr_barrier_wait(b, MGR_FOREVER, &index), 0); /* one party: at once */
	assert_int_equal(index, 0);
	mgr_object_release(b);
}

/* Python: wait(0) by a party that is not the last breaks the barrier at
 * once (BrokenBarrierError); by the last it trips. The client timeout
 * bounds the old meaning of 0 (forever). */
static void test_barrier_zero_timeout(void **state)
{
	struct harness *h = *state;
	mgr_object *b, *one;
	bool broken = false;
	int64_t index = -1;
	mgr_client_set_timeout(h->c, 5000);
	assert_int_equal(mgr_barrier_open(h->c, NULL, 2, MGR_FOREVER, &b), 0);
	assert_int_equal(mgr_barrier_wait(b, 0, NULL), MGR_EBROKEN);
	assert_int_equal(mgr_barrier_broken(b, &broken), 0);
	assert_true(broken);
	assert_int_equal(mgr_barrier_open(h->c, NULL, 1, MGR_FOREVER, &one), 0);
	assert_int_equal(mgr_barrier_wait(one, 0, &index), 0);
	assert_int_equal(index, 0);
	assert_int_equal(mgr_barrier_wait(one, -1, &index), MGR_EARGS);
	mgr_client_set_timeout(h->c, 0);
	mgr_object_release(one);
	mgr_object_release(b);
}

/* Python's Barrier(parties, action=None, timeout=None): a wait given no
 * timeout uses the barrier's; one given its own uses that. */
static void test_barrier_default_timeout(void **state)
{
	struct harness *h = *state;
	mgr_object *b;
	bool broken = false;
	mgr_client_set_timeout(h->c, 5000); /* the default ignored would hang */
	assert_int_equal(mgr_barrier_open(h->c, NULL, 2, 30, &b), 0);
	assert_int_equal(mgr_barrier_wait(b, MGR_FOREVER, NULL), MGR_EBROKEN);
	assert_int_equal(mgr_barrier_broken(b, &broken), 0);
	assert_true(broken);
	assert_int_equal(mgr_barrier_reset(b), 0);
	assert_int_equal(mgr_barrier_wait(b, 0, NULL), MGR_EBROKEN); /* its own wins */
	mgr_client_set_timeout(h->c, 0);
	mgr_object_release(b);
}

static int create_with(mgr_client *c, const char *type, size_t n, ...)
{
	mgr_value *args[8];
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		args[i] = va_arg(ap, mgr_value *);
	va_end(ap);
	mgr_object *o = NULL;
	int err = mgr_object_create(c, type, NULL, args, n, &o);
	for (size_t i = 0; i < n; i++)
		mgr_value_free(args[i]);
	mgr_object_release(o);
	return err;
}

#define I(n) mgr_value_new_int(n)
#define NIL mgr_value_new_nil()

/* Every sync type refuses constructor arguments beyond its own (they used
 * to be ignored), and the barrier refuses an action and a negative timeout. */
static void test_constructor_arguments(void **state)
{
	struct harness *h = *state;
	assert_int_equal(create_with(h->c, "barrier", 3, I(2), NIL, I(50)), 0);
	assert_int_equal(create_with(h->c, "barrier", 4, I(2), NIL, I(50), I(1)), MGR_EARGS);
	assert_int_equal(create_with(h->c, "barrier", 2, I(2), I(1)), MGR_EARGS); /* an action */
	assert_int_equal(create_with(h->c, "barrier", 3, I(2), NIL, I(-1)), MGR_EARGS);
	assert_int_equal(create_with(h->c, "event", 1, I(1)), MGR_EARGS);
	assert_int_equal(create_with(h->c, "lock", 2, mgr_value_new_bool(true), I(1)), MGR_EARGS);
	assert_int_equal(create_with(h->c, "rlock", 2, mgr_value_new_bool(true), I(1)), MGR_EARGS);
	assert_int_equal(create_with(h->c, "semaphore", 3, I(1), mgr_value_new_bool(false), I(1)),
			 MGR_EARGS);
	assert_int_equal(create_with(h->c, "bounded_semaphore", 3, I(1), NIL, NIL), MGR_EARGS);
	assert_int_equal(create_with(h->c, "condition", 2, NIL, NIL), MGR_EARGS);
	assert_int_equal(create_with(h->c, "queue", 3, I(1), NIL, NIL), MGR_EARGS);
	assert_int_equal(create_with(h->c, "joinable_queue", 3, I(1), NIL, NIL), MGR_EARGS);
	assert_int_equal(create_with(h->c, "queue", 2, I(1), mgr_value_new_string("twice")),
			 MGR_EARGS);
	assert_int_equal(create_with(h->c, "semaphore", 1, I(-1)), MGR_EARGS);
	/* and the containers */
	assert_int_equal(create_with(h->c, "counter", 1, I(5)), 0);
	assert_int_equal(create_with(h->c, "counter", 2, I(5), I(1)), MGR_EARGS);
	assert_int_equal(create_with(h->c, "dict", 3, NIL, NIL, NIL), MGR_EARGS);
	assert_int_equal(create_with(h->c, "list", 2, NIL, NIL), MGR_EARGS);
	assert_int_equal(create_with(h->c, "namespace", 2, NIL, NIL), MGR_EARGS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_barrier_rounds),
		cmocka_unit_test(test_barrier_abort),
		cmocka_unit_test(test_barrier_reset),
		cmocka_unit_test(test_barrier_timeout_breaks),
		cmocka_unit_test(test_barrier_constructor),
		cmocka_unit_test(test_barrier_zero_timeout),
		cmocka_unit_test(test_barrier_default_timeout),
		cmocka_unit_test(test_constructor_arguments),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
