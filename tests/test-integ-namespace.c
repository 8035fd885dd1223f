/* namespace through a real mgrd (issue 12): Python's manager.Namespace() —
 * attributes set, read and deleted, a missing one is ENOATTR with
 * Python's message, get with a default, the names in the order set,
 * vars(), the constructor's map, Python's repr (sorted, _names left out),
 * attributes shared between processes, and a named namespace kept by
 * --snapshot across a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define S(x) mgr_value_new_string(x)
#define I(x) mgr_value_new_int(x)

static void assert_formats(const mgr_value *v, const char *want)
{
	char buf[512];
	assert_string_equal(mgr_value_format(v, buf, sizeof(buf)), want);
}

static void assert_repr(mgr_object *o, const char *want)
{
	char *text;
	assert_ok(mgr_object_repr(o, 0, &text));
	assert_string_equal(text, want);
	free(text);
}

static void test_attributes(void **state)
{
	struct harness *h = *state;
	mgr_object *ns;
	assert_ok(mgr_namespace_create(h->c, NULL, NULL, &ns));
	assert_string_equal(mgr_object_type(ns), "namespace");
	mgr_value *v;
	assert_fails(mgr_namespace_get(ns, "x", &v), MGR_ENOATTR,
		     "'Namespace' object has no attribute 'x'");
	assert_ok(mgr_namespace_set(ns, "x", I(1)));
	assert_ok(mgr_namespace_set(ns, "name", S("zhangsan")));
	assert_ok(mgr_namespace_set(ns, "x", I(2))); /* a new value keeps its place */
	assert_ok(mgr_namespace_get(ns, "x", &v));
	assert_int_equal(mgr_value_int(v), 2);
	mgr_value_free(v);
	bool has;
	assert_ok(mgr_namespace_has(ns, "name", &has));
	assert_true(has);
	assert_ok(mgr_namespace_names(ns, &v));
	assert_formats(v, "[\"x\", \"name\"]");
	mgr_value_free(v);
	assert_ok(mgr_namespace_vars(ns, &v));
	assert_formats(v, "{\"x\": 2, \"name\": \"zhangsan\"}");
	mgr_value_free(v);
	assert_ok(mgr_namespace_del(ns, "x"));
	assert_fails(mgr_namespace_del(ns, "x"), MGR_ENOATTR, "no attribute 'x'");
	assert_ok(mgr_namespace_has(ns, "x", &has));
	assert_false(has);
	/* getattr(ns, name, default) */
	mgr_value *args[] = {S("missing"), I(7)}, *r = NULL;
	assert_ok(mgr_call(ns, "get", args, 2, &r));
	assert_int_equal(mgr_value_int(r), 7);
	mgr_value_free(r);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	/* names are non-empty strings */
	mgr_value *bad[] = {I(1), I(1)};
	assert_fails(mgr_call(ns, "set", bad, 2, NULL), MGR_EARGS, "must be a string");
	mgr_value_free(bad[0]);
	bad[0] = S("");
	assert_fails(mgr_call(ns, "set", bad, 2, NULL), MGR_EARGS, "cannot be empty");
	mgr_value_free(bad[0]);
	mgr_value_free(bad[1]);
	mgr_object_release(ns);
}

/* Namespace(a=1, b='x'): the constructor's map; anything else EARGS. */
static void test_create_args(void **state)
{
	struct harness *h = *state;
	mgr_value *m = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(m, S("b"), S("x")), 0);
	assert_int_equal(mgr_value_map_set(m, S("a"), I(1)), 0);
	assert_int_equal(mgr_value_map_set(m, S("_hidden"), I(0)), 0);
	mgr_object *ns;
	assert_ok(mgr_namespace_create(h->c, NULL, m, &ns));
	mgr_value_free(m);
	/* Python's repr: sorted, names with _ left out */
	assert_repr(ns, "Namespace(a=1, b='x')");
	assert_ok(mgr_namespace_set(ns, "ab", mgr_value_new_list()));
	assert_repr(ns, "Namespace(a=1, ab=[], b='x')");
	mgr_object_release(ns);

	mgr_object *x;
	mgr_value *i = I(3);
	assert_fails(mgr_namespace_create(h->c, NULL, i, &x), MGR_EARGS, "one map of attributes");
	mgr_value_free(i);
	m = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(m, I(1), I(1)), 0);
	assert_fails(mgr_namespace_create(h->c, NULL, m, &x), MGR_EARGS, "non-empty strings");
	mgr_value_free(m);
}

/* One process sets, another reads: the attributes live on the manager. */
static void test_shared(void **state)
{
	struct harness *h = *state;
	mgr_object *ns;
	assert_ok(mgr_namespace_open(h->c, "shared-ns", &ns));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = mgr_namespace_set(ns, "from_child", I(getpid()));
		_exit(err ? 1 : 0);
	}
	int status;
	assert_true(harness_reap_within(pid, 10000, &status));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	mgr_value *v;
	assert_ok(mgr_namespace_get(ns, "from_child", &v));
	assert_int_equal(mgr_value_int(v), pid);
	mgr_value_free(v);
	assert_ok(mgr_object_delete(ns));
	mgr_object_release(ns);
}

/* --snapshot keeps a named namespace, attributes and order. */
static void test_snapshot(void **state)
{
	(void)state;
	char dir[64], snap[96];
	harness_tmpdir(dir, sizeof(dir), "mgr-ns");
	snprintf(snap, sizeof(snap), "%s/snap", dir);
	const char *args[] = {"--snapshot", snap, NULL};
	struct harness h;
	harness_start(&h, args);
	mgr_object *ns;
	assert_ok(mgr_namespace_open(h.c, "config", &ns));
	assert_ok(mgr_namespace_set(ns, "zeta", I(1)));
	assert_ok(mgr_namespace_set(ns, "alpha", S("two")));
	mgr_object_release(ns);
	harness_stop(&h); /* saves */
	harness_start(&h, args);
	assert_ok(mgr_namespace_open(h.c, "config", &ns));
	mgr_value *v;
	assert_ok(mgr_namespace_vars(ns, &v));
	assert_formats(v, "{\"zeta\": 1, \"alpha\": \"two\"}");
	mgr_value_free(v);
	mgr_object_release(ns);
	harness_stop(&h);
	harness_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_snapshot),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
