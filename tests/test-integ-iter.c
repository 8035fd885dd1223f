/* Iterators through a real mgrd (issue 12): a dict or list walked in
 * bounded batches with libmgr's cursor (mgr_dict_iter_open / mgr_iter_next
 * / mgr_iter_close) and the raw `next`; Python's "dictionary changed size
 * during iteration" (ECHANGED, sticky), the end (ESTOP, sticky even if the
 * dict grows), a list walked by index; an iterator holds its container
 * until it is closed or exhausted; batches stay under --max-frame; a
 * million-entry dict is walked in 1000-entry replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define S(x) mgr_value_new_string(x)
#define I(x) mgr_value_new_int(x)

/* A fresh anonymous dict with keys 0..n-1, values k * 10. */
static mgr_object *int_dict(mgr_client *c, int n)
{
	mgr_value *m = mgr_value_new_map();
	for (int k = 0; k < n; k++)
		assert_int_equal(mgr_value_map_set(m, I(k), I(k * 10)), 0);
	mgr_object *d;
	assert_ok(mgr_dict_create(c, NULL, m, &d));
	mgr_value_free(m);
	return d;
}

/* Walks it to the end: the entries seen; the end must be ESTOP. */
static int walk(mgr_iter *it, int64_t first_key, bool items)
{
	const mgr_value *e;
	int n = 0, err;
	while (!(err = mgr_iter_next(it, &e))) {
		const mgr_value *k = items ? mgr_value_list_get(e, 0) : e;
		assert_int_equal(mgr_value_int(k), first_key + n);
		if (items)
			assert_int_equal(mgr_value_int(mgr_value_list_get(e, 1)), (first_key + n) * 10);
		n++;
	}
	assert_int_equal(err, MGR_ESTOP);
	return n;
}

/* Keys, values and items, in insertion order, across batch edges. */
static void test_dict_walk(void **state)
{
	struct harness *h = *state;
	mgr_object *d = int_dict(h->c, 2500);
	mgr_iter *it;
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_KEYS, 1000, &it));
	assert_int_equal(walk(it, 0, false), 2500);
	assert_fails(mgr_iter_next(it, &(const mgr_value *){0}), MGR_ESTOP, "exhausted");
	assert_ok(mgr_iter_close(it));
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_ITEMS, 7, &it));
	assert_int_equal(walk(it, 0, true), 2500);
	assert_ok(mgr_iter_close(it));
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_VALUES, 0, &it));
	const mgr_value *e;
	assert_ok(mgr_iter_next(it, &e));
	assert_int_equal(mgr_value_int(e), 0);
	assert_ok(mgr_iter_next(it, &e));
	assert_int_equal(mgr_value_int(e), 10);
	assert_ok(mgr_iter_close(it)); /* closed before the end: fine */
	mgr_value *bad = S("nope");
	mgr_value *r = NULL;
	assert_fails(mgr_call(d, "iter", &bad, 1, &r), MGR_EARGS, "\"keys\", \"values\" or \"items\"");
	mgr_value_free(bad);
	mgr_object_release(d);
}

/* The raw method: next(n) gives at most 1000 whatever n, ESTOP after. */
static void test_next_bounds(void **state)
{
	struct harness *h = *state;
	mgr_object *d = int_dict(h->c, 1500);
	mgr_iter *it;
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_KEYS, 0, &it));
	mgr_object *o = mgr_iter_object(it);
	assert_string_equal(mgr_object_type(o), "iterator");
	mgr_value *n = I(5000), *r = NULL;
	assert_ok(mgr_call(o, "next", &n, 1, &r));
	assert_int_equal(mgr_value_len(r), 1000);
	mgr_value_free(r);
	r = NULL;
	assert_ok(mgr_call(o, "next", &n, 1, &r));
	assert_int_equal(mgr_value_len(r), 500);
	assert_int_equal(mgr_value_int(mgr_value_list_get(r, 499)), 1499);
	mgr_value_free(r);
	assert_fails(mgr_call(o, "next", &n, 1, &r), MGR_ESTOP, "exhausted");
	mgr_value_free(n);
	n = I(0);
	assert_fails(mgr_call(o, "next", &n, 1, &r), MGR_EARGS, "at least 1");
	mgr_value_free(n);
	assert_ok(mgr_iter_close(it));
	/* clients cannot make one themselves */
	mgr_object *x;
	assert_fails(mgr_object_create(h->c, "iterator", NULL, NULL, 0, &x), MGR_ENOTYPE, "iterator");
	mgr_object_release(d);
}

/* Python: a key added or removed fails the next step with RuntimeError
 * "dictionary changed size during iteration", and again after; a new value
 * for a key is fine; a removal and an insert (same size) is caught too. */
static void test_dict_changed(void **state)
{
	struct harness *h = *state;
	mgr_object *d = int_dict(h->c, 10);
	mgr_iter *it;
	const mgr_value *e;
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_KEYS, 2, &it));
	assert_ok(mgr_iter_next(it, &e));
	assert_ok(mgr_dict_set(d, I(3), S("new value, same key")));
	assert_ok(mgr_iter_next(it, &e));
	assert_ok(mgr_iter_next(it, &e)); /* a fresh batch: the check ran */
	assert_int_equal(mgr_value_int(e), 2);
	assert_ok(mgr_dict_set(d, I(100), I(1)));
	assert_ok(mgr_iter_next(it, &e)); /* still in the batch in hand */
	assert_fails(mgr_iter_next(it, &e), MGR_ECHANGED, "dictionary changed size during iteration");
	assert_fails(mgr_iter_next(it, &e), MGR_ECHANGED, "");
	assert_ok(mgr_iter_close(it));

	assert_ok(mgr_dict_iter_open(d, MGR_DICT_KEYS, 1, &it));
	assert_ok(mgr_iter_next(it, &e));
	mgr_value *k5 = I(5);
	assert_ok(mgr_dict_del(d, k5));
	mgr_value_free(k5);
	assert_ok(mgr_dict_set(d, I(200), I(2)));
	assert_fails(mgr_iter_next(it, &e), MGR_ECHANGED, "dictionary keys changed during iteration");
	/* the raw method says it too, and keeps saying it */
	mgr_value *r = NULL;
	assert_fails(mgr_call(mgr_iter_object(it), "next", NULL, 0, &r), MGR_ECHANGED, "keys changed");
	assert_ok(mgr_iter_close(it));

	/* popitem, pop, clear, update with a new key, incr of a new key, setdefault */
	static const char *const ops[] = {"popitem", "clear", "incr", "setdefault", "update"};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		mgr_object *x = int_dict(h->c, 3);
		assert_ok(mgr_dict_iter_open(x, MGR_DICT_ITEMS, 1, &it));
		assert_ok(mgr_iter_next(it, &e));
		mgr_value *m = mgr_value_new_map();
		assert_int_equal(mgr_value_map_set(m, I(77), I(0)), 0);
		mgr_value *arg = !strcmp(ops[i], "update") ? m : !strcmp(ops[i], "incr") ||
						!strcmp(ops[i], "setdefault") ? I(77) : NULL;
		if (arg != m)
			mgr_value_free(m);
		r = NULL;
		assert_ok(mgr_call(x, ops[i], arg ? &arg : NULL, arg ? 1 : 0, &r));
		mgr_value_free(r);
		mgr_value_free(arg);
		if (mgr_iter_next(it, &e) != MGR_ECHANGED)
			fail_msg("dict.%s during a walk was not seen", ops[i]);
		assert_ok(mgr_iter_close(it));
		mgr_object_release(x);
	}
	mgr_object_release(d);
}

/* Exhausted stays exhausted (Python), even when the dict grows after. */
static void test_dict_end_sticky(void **state)
{
	struct harness *h = *state;
	mgr_object *d = int_dict(h->c, 3);
	mgr_iter *it;
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_KEYS, 10, &it));
	assert_int_equal(walk(it, 0, false), 3);
	assert_ok(mgr_dict_set(d, I(3), I(30)));
	mgr_value *r = NULL;
	assert_fails(mgr_call(mgr_iter_object(it), "next", NULL, 0, &r), MGR_ESTOP, "exhausted");
	assert_ok(mgr_iter_close(it));
	/* an empty dict: ESTOP at once */
	mgr_object *e;
	assert_ok(mgr_dict_create(h->c, NULL, NULL, &e));
	assert_ok(mgr_dict_iter_open(e, MGR_DICT_KEYS, 10, &it));
	assert_int_equal(walk(it, 0, false), 0);
	assert_ok(mgr_iter_close(it));
	mgr_object_release(e);
	mgr_object_release(d);
}

/* Lists walk by index, as Python's list iterator: no error; an item
 * appended before the walk gets there is seen, one removed behind it
 * shifts the rest. */
static void test_list_by_index(void **state)
{
	struct harness *h = *state;
	mgr_object *l;
	assert_ok(mgr_object_create(h->c, "list", NULL, NULL, 0, &l));
	for (int i = 0; i < 5; i++)
		assert_ok(mgr_list_append(l, I(i)));
	mgr_iter *it;
	const mgr_value *e;
	assert_ok(mgr_list_iter_open(l, 1, &it));
	assert_ok(mgr_iter_next(it, &e));
	assert_int_equal(mgr_value_int(e), 0);
	assert_ok(mgr_list_append(l, I(5)));
	assert_ok(mgr_list_del(l, 0)); /* [1..5]: index 1 is now 2 */
	int64_t want[] = {2, 3, 4, 5};
	for (size_t i = 0; i < 4; i++) {
		assert_ok(mgr_iter_next(it, &e));
		assert_int_equal(mgr_value_int(e), want[i]);
	}
	assert_fails(mgr_iter_next(it, &e), MGR_ESTOP, "exhausted");
	assert_ok(mgr_iter_close(it));
	mgr_object_release(l);
}

/* The iterator holds its container: an anonymous dict whose handle is
 * released lives while the iterator does and goes with its close; a named
 * dict deleted under a walk answers ENOOBJ. */
static void test_holds_container(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *d = int_dict(h->c, 5);
	mgr_iter *it;
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_KEYS, 2, &it));
	assert_int_equal(harness_info(h->c, "objects"), base + 2);
	assert_ok(mgr_object_release(d));
	assert_int_equal(harness_info(h->c, "objects"), base + 2); /* held */
	assert_int_equal(walk(it, 0, false), 5);
	/* exhausted: the dict is let go at once, the iterator stays */
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	assert_ok(mgr_iter_close(it));
	assert_int_equal(harness_info(h->c, "objects"), base);

	d = int_dict(h->c, 5);
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_KEYS, 2, &it));
	assert_ok(mgr_object_release(d));
	assert_ok(mgr_iter_close(it)); /* closed half way: both go */
	assert_int_equal(harness_info(h->c, "objects"), base);

	mgr_object *named;
	assert_ok(mgr_dict_open(h->c, "iter-deleted", &named));
	assert_ok(mgr_dict_set(named, I(1), I(1)));
	assert_ok(mgr_dict_iter_open(named, MGR_DICT_KEYS, 2, &it));
	assert_ok(mgr_object_delete(named));
	const mgr_value *e;
	assert_fails(mgr_iter_next(it, &e), MGR_ENOOBJ, "deleted");
	assert_ok(mgr_iter_close(it));
	mgr_object_release(named);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* A process that ends with an iterator open (and its dict's handle
 * released: the iterator holds it alone) leaves nothing behind. */
static void test_session_end_frees(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_value *keys = mgr_value_new_map(); /* more than a batch: the walk stays open */
	for (int k = 0; k < 5; k++)
		assert_int_equal(mgr_value_map_set(keys, I(k), I(k)), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mgr_client *c2;
		mgr_object *d;
		mgr_iter *it;
		const mgr_value *e;
		int step = 1;
		if (!mgr_client_connect(h->path, &c2) && ++step && !mgr_dict_create(c2, NULL, NULL, &d) &&
		    ++step && !mgr_dict_update(d, mgr_value_copy(keys)) && ++step &&
		    !mgr_dict_iter_open(d, MGR_DICT_KEYS, 2, &it) && ++step && !mgr_object_release(d) &&
		    ++step && !mgr_iter_next(it, &e) && ++step &&
		    harness_info(c2, "objects") == base + 2)
			step = 0;
		if (step)
			fprintf(stderr, "child: step %d: %s (objects %lld, base %lld)\n", step,
				mgr_client_errmsg(NULL), (long long)harness_info(c2, "objects"),
				(long long)base);
		_exit(step); /* no close, no release: the session's end frees */
	}
	mgr_value_free(keys);
	int status;
	assert_true(harness_reap_within(pid, 10000, &status));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("the child ended with status %#x", status);
	assert_int_equal(harness_wait_info(h->c, "objects", base, 10000), base);
}

/* A million entries: walked in 1000-entry replies, all of them, in order. */
static void test_million(void **state)
{
	struct harness *h = *state;
	enum { N = 1000000, CHUNK = 100000 };
	mgr_object *d;
	assert_ok(mgr_dict_create(h->c, NULL, NULL, &d));
	for (int base = 0; base < N; base += CHUNK) {
		mgr_value *m = mgr_value_new_map();
		for (int k = base; k < base + CHUNK; k++)
			assert_int_equal(mgr_value_map_set(m, I(k), I(k * 10)), 0);
		assert_ok(mgr_dict_update(d, m));
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mgr_iter *it;
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_ITEMS, 1000, &it));
	assert_int_equal(walk(it, 0, true), N);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("walked %d items in %.2f s\n", N,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_ok(mgr_iter_close(it));
	mgr_object_release(d);
}

/* --max-frame 65536: 1 KiB values, next(1000) answers fewer, every reply
 * fits, and the walk still gives every entry. */
static void test_frame_bound(void **state)
{
	(void)state;
	struct harness h;
	const char *args[] = {"--max-frame", "65536", NULL};
	harness_start(&h, args);
	char big[1024];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mgr_object *d;
	assert_ok(mgr_dict_create(h.c, NULL, NULL, &d));
	for (int k = 0; k < 300; k++)
		assert_ok(mgr_dict_set(d, I(k), S(big)));
	mgr_iter *it;
	assert_ok(mgr_dict_iter_open(d, MGR_DICT_VALUES, 1000, &it));
	mgr_value *n = I(1000), *r = NULL;
	assert_ok(mgr_call(mgr_iter_object(it), "next", &n, 1, &r));
	size_t first = mgr_value_len(r);
	print_message("a 64 KiB frame carries %zu of 300 1-KiB values\n", first);
	assert_true(first > 10 && first < 64);
	mgr_value_free(r);
	r = NULL;
	size_t total = first;
	int err;
	while (!(err = mgr_call(mgr_iter_object(it), "next", &n, 1, &r))) {
		total += mgr_value_len(r);
		mgr_value_free(r);
		r = NULL;
	}
	assert_int_equal(err, MGR_ESTOP);
	assert_int_equal(total, 300);
	mgr_value_free(n);
	assert_ok(mgr_iter_close(it));
	mgr_object_release(d);
	harness_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dict_walk),
		cmocka_unit_test(test_next_bounds),
		cmocka_unit_test(test_dict_changed),
		cmocka_unit_test(test_dict_end_sticky),
		cmocka_unit_test(test_list_by_index),
		cmocka_unit_test(test_holds_container),
		cmocka_unit_test(test_session_end_frees),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_frame_bound),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
