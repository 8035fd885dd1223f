/* Correctness under concurrency: 8 processes hammer one counter, one dict
 * key and one list with no locks of their own, and the totals come out
 * exact. Each test runs twice: children that connect for themselves, and
 * children that keep using the parent's client (their first call must open
 * their own connection). Children never use cmocka: they exit non-zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define NPROC 8
#define NCALLS 10000
#define NAPPEND 2000

struct job {
	struct harness *h;
	bool inherit;     /* use the parent's client instead of connecting */
	mgr_object *obj;  /* the parent's handle (used when inherit) */
	const char *type; /* for opening by name when connecting */
	const char *name;
};


/* The child's client and handle: its own, or the parent's. */
static int child_object(struct job *j, mgr_client **c, mgr_object **o)
{
	if (j->inherit) {
		*c = j->h->c;
		*o = j->obj;
		return 0;
	}
	if (mgr_client_connect(j->h->path, c))
		return -1;
	return mgr_object_open(*c, j->type, j->name, o) ? -1 : 0;
}

static int child_done(struct job *j, mgr_client *c, mgr_object *o)
{
	if (!j->inherit) {
		if (mgr_object_release(o))
			return 1;
		mgr_client_close(c);
	}
	return 0;
}

static int child_counter(void *arg, int i)
{
	(void)i;
	struct job *j = arg;
	mgr_client *c;
	mgr_object *o;
	int64_t last = INT64_MIN, now;
	if (child_object(j, &c, &o))
		return 2;
	for (int n = 0; n < NCALLS; n++) {
		if (mgr_counter_add(o, 1, &now) || now <= last)
			return 3; /* each add sees a strictly later value */
		last = now;
	}
	return child_done(j, c, o);
}

static int child_incr(void *arg, int i)
{
	struct job *j = arg;
	mgr_client *c;
	mgr_object *o;
	mgr_value *shared = mgr_value_new_string("hits"), *own = mgr_value_new_int(i);
	if (child_object(j, &c, &o))
		return 2;
	for (int n = 0; n < NCALLS; n++)
		if (mgr_dict_incr(o, shared, 1, NULL) || (n % 10 == 0 && mgr_dict_incr(o, own, 2, NULL)))
			return 3;
	mgr_value_free(shared);
	mgr_value_free(own);
	return child_done(j, c, o);
}

static int child_append(void *arg, int i)
{
	struct job *j = arg;
	mgr_client *c;
	mgr_object *o;
	if (child_object(j, &c, &o))
		return 2;
	for (int n = 0; n < NAPPEND; n++)
		if (mgr_list_append(o, mgr_value_new_int((int64_t)i * NAPPEND + n)))
			return 3;
	return child_done(j, c, o);
}

static mgr_object *prepare(struct job *j, struct harness *h, bool inherit, const char *type,
			   const char *name)
{
	*j = (struct job){h, inherit, NULL, type, name};
	assert_int_equal(mgr_object_open(h->c, type, name, &j->obj), 0);
	return j->obj;
}

static void counter_run(void **state, bool inherit)
{
	struct job j;
	mgr_object *o = prepare(&j, *state, inherit, "counter", inherit ? "k-inherit" : "k-own");
	assert_int_equal(harness_fork_n(NPROC, child_counter, &j), NPROC);
	int64_t v = -1;
	assert_int_equal(mgr_counter_get(o, &v), 0);
	assert_int_equal(v, (int64_t)NPROC * NCALLS);
	assert_int_equal(mgr_object_delete(o), 0);
	mgr_object_release(o);
}

static void dict_run(void **state, bool inherit)
{
	struct job j;
	mgr_object *o = prepare(&j, *state, inherit, "dict", inherit ? "d-inherit" : "d-own");
	assert_int_equal(harness_fork_n(NPROC, child_incr, &j), NPROC);
	mgr_value *k = mgr_value_new_string("hits"), *v = NULL;
	assert_int_equal(mgr_dict_get(o, k, &v), 0);
	assert_int_equal(mgr_value_int(v), (int64_t)NPROC * NCALLS);
	mgr_value_free(v);
	mgr_value_free(k);
	for (int i = 0; i < NPROC; i++) {
		k = mgr_value_new_int(i);
		assert_int_equal(mgr_dict_get(o, k, &v), 0);
		assert_int_equal(mgr_value_int(v), 2 * (NCALLS / 10));
		mgr_value_free(v);
		mgr_value_free(k);
	}
	size_t n = 0;
	assert_int_equal(mgr_dict_len(o, &n), 0);
	assert_int_equal(n, NPROC + 1);
	assert_int_equal(mgr_object_delete(o), 0);
	mgr_object_release(o);
}

static void list_run(void **state, bool inherit)
{
	struct job j;
	mgr_object *o = prepare(&j, *state, inherit, "list", inherit ? "l-inherit" : "l-own");
	assert_int_equal(harness_fork_n(NPROC, child_append, &j), NPROC);
	mgr_value *items = NULL;
	assert_int_equal(mgr_list_copy(o, &items), 0);
	assert_int_equal(mgr_value_len(items), NPROC * NAPPEND);
	int *seen = calloc(NPROC * NAPPEND, sizeof(*seen));
	int64_t last[NPROC];
	for (int i = 0; i < NPROC; i++)
		last[i] = -1;
	for (size_t i = 0; i < mgr_value_len(items); i++) {
		const mgr_value *v = mgr_value_list_get(items, i);
		assert_int_equal(mgr_value_kind(v), MGR_INT);
		int64_t x = mgr_value_int(v);
		assert_true(x >= 0 && x < NPROC * NAPPEND);
		seen[x]++;
		/* one process's appends land in the order it made them */
		assert_true(x > last[x / NAPPEND]);
		last[x / NAPPEND] = x;
	}
	for (int i = 0; i < NPROC * NAPPEND; i++)
		assert_int_equal(seen[i], 1);
	free(seen);
	mgr_value_free(items);
	assert_int_equal(mgr_object_delete(o), 0);
	mgr_object_release(o);
}

static void test_counter_own(void **state) { counter_run(state, false); }
static void test_counter_inherited(void **state) { counter_run(state, true); }
static void test_dict_incr_own(void **state) { dict_run(state, false); }
static void test_dict_incr_inherited(void **state) { dict_run(state, true); }
static void test_list_append_own(void **state) { list_run(state, false); }
static void test_list_append_inherited(void **state) { list_run(state, true); }

/* Compare-and-swap loops from every process: no lost update either. */
static int child_cas(void *arg, int i)
{
	(void)i;
	struct job *j = arg;
	mgr_client *c;
	mgr_object *o;
	if (child_object(j, &c, &o))
		return 2;
	for (int n = 0; n < 1000; n++) {
		int64_t v;
		bool swapped = false;
		while (!swapped)
			if (mgr_counter_get(o, &v) || mgr_counter_cas(o, v, v + 1, &swapped))
				return 3;
	}
	return child_done(j, c, o);
}

static void test_counter_cas(void **state)
{
	struct job j;
	mgr_object *o = prepare(&j, *state, true, "counter", "k-cas");
	assert_int_equal(harness_fork_n(NPROC, child_cas, &j), NPROC);
	int64_t v = -1;
	assert_int_equal(mgr_counter_get(o, &v), 0);
	assert_int_equal(v, NPROC * 1000);
	mgr_object_delete(o);
	mgr_object_release(o);
}

/* The parent's own connection survived all of it, and every child's
 * session is gone. */
static void test_parent_unaffected(void **state)
{
	struct harness *h = *state;
	int64_t sessions = harness_info(h->c, "sessions");
	for (int i = 0; i < 1000 && sessions != 1; i++)
		sessions = harness_info(h->c, "sessions");
	assert_int_equal(sessions, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_own),
		cmocka_unit_test(test_counter_inherited),
		cmocka_unit_test(test_dict_incr_own),
		cmocka_unit_test(test_dict_incr_inherited),
		cmocka_unit_test(test_list_append_own),
		cmocka_unit_test(test_list_append_inherited),
		cmocka_unit_test(test_counter_cas),
		cmocka_unit_test(test_parent_unaffected),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
