/* Unit tests for the built-in list (mgrd/type-list.c), run in-process
 * through the type's method table: every method with Python's index and
 * slice rules, exact error codes, sorting (stable, reversed, mixed kinds)
 * and the handlers' argument checks. */
#include "type-helpers.h"

static int setup(void **state) { return th_fx_setup(state, &type_list); }

static const mgr_value *res(struct fx *f) { return th_result(&f->t); }

static int64_t len(struct fx *f)
{
	assert_int_equal(th_run(&f->t, f->obj, "len", 0), 0);
	return mgr_value_int(res(f));
}

/* Fills the list with 0, 1, ..., n-1. */
static void fill(struct fx *f, int n)
{
	assert_int_equal(th_run(&f->t, f->obj, "clear", 0), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, I(i)), 0);
}

/* The list's contents, as copy() returns them (valid until the next run). */
static const mgr_value *items(struct fx *f)
{
	assert_int_equal(th_run(&f->t, f->obj, "copy", 0), 0);
	return res(f);
}

static void test_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int min, max;
	} rows[] = {{"append", 1, 1}, {"extend", 1, 1}, {"insert", 2, 2},  {"get", 1, 1},
		    {"set", 2, 2},    {"del", 1, 1},	{"pop", 0, 1},	   {"remove", 1, 1},
		    {"index", 1, 1},  {"count", 1, 1},	{"len", 0, 0},	   {"slice", 0, 2},
		    {"reverse", 0, 0}, {"sort", 0, 1},	{"clear", 0, 0},   {"copy", 0, 0},
		    {"contains", 1, 1}, {"concat", 1, 1}, {"repeat", 1, 1}, {"imul", 1, 1},
		    {"iter", 0, 0}};
	size_t n = sizeof(rows) / sizeof(rows[0]);
	assert_int_equal(type_list.nmethods, n);
	for (size_t i = 0; i < n; i++) {
		const struct method *m = types_method(&type_list, rows[i].name);
		if (!m)
			fail_msg("list has no method %s", rows[i].name);
		assert_int_equal(m->min_args, rows[i].min);
		assert_int_equal(m->max_args, rows[i].max);
	}
}

static void test_create(void **state)
{
	struct fx *f = *state;
	struct object *o;
	assert_int_equal(th_create(&f->reg, &type_list, &o, 1, th_ints(3, 7, 8, 9)), 0);
	assert_int_equal(th_run(&f->t, o, "copy", 0), 0);
	th_assert_ints(res(f), 3, 7, 8, 9);
	assert_int_equal(type_list.length(o->state), 3);
	/* anything else starts empty */
	assert_int_equal(th_create(&f->reg, &type_list, &o, 1, S("abc")), 0);
	assert_int_equal(th_run(&f->t, o, "len", 0), 0);
	assert_int_equal(mgr_value_int(res(f)), 0);
	assert_int_equal(len(f), 0);
}

static void test_append_extend(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, I(1)), 0);
	assert_null(res(f));
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, th_ints(2, 2, 3)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, NIL()), 0);
	assert_int_equal(len(f), 3);
	const mgr_value *v = items(f);
	th_assert_ints(mgr_value_list_get(v, 1), 2, 2, 3); /* appended as one item */
	assert_int_equal(mgr_value_kind(mgr_value_list_get(v, 2)), MGR_NIL);

	fill(f, 2);
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, th_ints(3, 2, 3, 4)), 0);
	th_assert_ints(items(f), 5, 0, 1, 2, 3, 4);
	/* many at once, past the current capacity */
	mgr_value *big = mgr_value_new_list();
	for (int i = 0; i < 1000; i++)
		mgr_value_list_append(big, I(i));
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, big), 0);
	assert_int_equal(len(f), 1005);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(-1)), 0);
	assert_int_equal(mgr_value_int(res(f)), 999);
	/* only lists */
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, S("abc")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, mgr_value_new_map()), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, NIL()), MGR_EARGS);
	assert_int_equal(len(f), 1005);
	assert_int_equal(th_run(&f->t, f->obj, "append", 0), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "append", 2, I(1), I(2)), MGR_EARGS);
}

/* BUG (reported; seen only under UBSan): extending with an empty list calls
 * memcpy(dst, NULL, 0) -- mgrd/type-list.c:50, the empty argument list has
 * items == NULL (and so may the object's own list): undefined behaviour.
 * With halt_on_error UBSan stops the process here, so this test runs last. */
static void test_extend_empty(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, mgr_value_new_list()), 0);
	assert_int_equal(len(f), 0);
	fill(f, 2);
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, mgr_value_new_list()), 0);
	th_assert_ints(items(f), 2, 0, 1);
}

static void test_insert(void **state)
{
	struct fx *f = *state;
	fill(f, 3); /* 0 1 2 */
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(0), I(10)), 0);
	th_assert_ints(items(f), 4, 10, 0, 1, 2);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(2), I(11)), 0);
	th_assert_ints(items(f), 5, 10, 0, 11, 1, 2);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(5), I(12)), 0); /* at len: end */
	th_assert_ints(items(f), 6, 10, 0, 11, 1, 2, 12);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(-1), I(13)), 0); /* before last */
	th_assert_ints(items(f), 7, 10, 0, 11, 1, 2, 13, 12);
	/* clamping, like Python */
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(100), I(14)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(-100), I(15)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(INT64_MAX), I(16)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(INT64_MIN), I(17)), 0);
	th_assert_ints(items(f), 11, 17, 15, 10, 0, 11, 1, 2, 13, 12, 14, 16);
	/* into an empty list, at any index */
	fill(f, 0);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(-5), I(1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, I(5), I(2)), 0);
	th_assert_ints(items(f), 2, 1, 2);
	/* the index must be an int */
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, S("0"), I(1)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 2, D(0.0), I(1)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "insert", 1, I(0)), MGR_EARGS);
	assert_int_equal(len(f), 2);
}

static void test_get_set_del(void **state)
{
	struct fx *f = *state;
	fill(f, 5); /* 0 1 2 3 4 */
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(0)), 0);
	assert_non_null(f->t.c.borrowed); /* the stored item, not a copy */
	assert_int_equal(mgr_value_int(res(f)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(4)), 0);
	assert_int_equal(mgr_value_int(res(f)), 4);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(-1)), 0);
	assert_int_equal(mgr_value_int(res(f)), 4);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(-5)), 0);
	assert_int_equal(mgr_value_int(res(f)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(5)), MGR_EINDEX);
	assert_non_null(strstr(f->t.c.err, "5"));
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(-6)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(INT64_MAX)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(INT64_MIN)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("0")), MGR_EARGS);

	assert_int_equal(th_run(&f->t, f->obj, "set", 2, I(1), S("one")), 0);
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, I(-1), S("four")), 0);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(1)), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "one");
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(4)), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "four");
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, I(5), I(0)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, I(-6), I(0)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, B(false), I(0)), MGR_EARGS);
	assert_int_equal(len(f), 5);

	assert_int_equal(th_run(&f->t, f->obj, "del", 1, I(-1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, I(0)), 0);
	assert_int_equal(len(f), 3);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(0)), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "one");
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, I(3)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, I(-4)), MGR_EINDEX);
	assert_int_equal(len(f), 3);
	fill(f, 0);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(0)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(-1)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, I(0)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, I(0), I(1)), MGR_EINDEX);
}

static void test_pop(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "pop", 0), MGR_EINDEX);
	assert_non_null(strstr(f->t.c.err, "empty"));
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, I(0)), MGR_EINDEX);
	fill(f, 5);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 0), 0);
	assert_non_null(f->t.c.result); /* owned: it left the list */
	assert_int_equal(mgr_value_int(res(f)), 4);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, I(0)), 0);
	assert_int_equal(mgr_value_int(res(f)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, I(-2)), 0);
	assert_int_equal(mgr_value_int(res(f)), 2);
	th_assert_ints(items(f), 2, 1, 3);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, I(2)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, I(-3)), MGR_EINDEX);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, S("x")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 2, I(0), I(0)), MGR_EARGS);
	assert_int_equal(len(f), 2);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 0), 0);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 0), 0);
	assert_int_equal(mgr_value_int(res(f)), 1);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 0), MGR_EINDEX);
}

static void test_remove_index_count(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, th_ints(6, 1, 2, 1, 3, 1, 2)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, D(1.0)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, S("s")), 0);

	assert_int_equal(th_run(&f->t, f->obj, "count", 1, I(1)), 0);
	assert_int_equal(mgr_value_int(res(f)), 3); /* 1.0 is not 1 */
	assert_int_equal(th_run(&f->t, f->obj, "count", 1, D(1.0)), 0);
	assert_int_equal(mgr_value_int(res(f)), 1);
	assert_int_equal(th_run(&f->t, f->obj, "count", 1, I(9)), 0);
	assert_int_equal(mgr_value_int(res(f)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "count", 1, S("s")), 0);
	assert_int_equal(mgr_value_int(res(f)), 1);

	assert_int_equal(th_run(&f->t, f->obj, "index", 1, I(3)), 0);
	assert_int_equal(mgr_value_int(res(f)), 3);
	assert_int_equal(th_run(&f->t, f->obj, "index", 1, I(2)), 0);
	assert_int_equal(mgr_value_int(res(f)), 1); /* the first one */
	assert_int_equal(th_run(&f->t, f->obj, "index", 1, D(1.0)), 0);
	assert_int_equal(mgr_value_int(res(f)), 6);
	assert_int_equal(th_run(&f->t, f->obj, "index", 1, I(9)), MGR_EVALUE);
	assert_non_null(strstr(f->t.c.err, "9"));
	assert_int_equal(th_run(&f->t, f->obj, "index", 1, S("1")), MGR_EVALUE);

	assert_int_equal(th_run(&f->t, f->obj, "remove", 1, I(1)), 0);
	assert_null(res(f));
	assert_int_equal(th_run(&f->t, f->obj, "remove", 1, I(1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "index", 1, I(1)), 0);
	assert_int_equal(mgr_value_int(res(f)), 2);
	assert_int_equal(th_run(&f->t, f->obj, "remove", 1, I(9)), MGR_EVALUE);
	assert_int_equal(th_run(&f->t, f->obj, "remove", 1, NIL()), MGR_EVALUE);
	assert_int_equal(len(f), 6);
	/* remove by structural equality */
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, th_ints(2, 5, 6)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "remove", 1, th_ints(2, 5, 6)), 0);
	assert_int_equal(len(f), 6);
	fill(f, 0);
	assert_int_equal(th_run(&f->t, f->obj, "remove", 1, I(0)), MGR_EVALUE);
	assert_int_equal(th_run(&f->t, f->obj, "index", 1, I(0)), MGR_EVALUE);
	assert_int_equal(th_run(&f->t, f->obj, "count", 1, I(0)), 0);
	assert_int_equal(mgr_value_int(res(f)), 0);
}

static void check_slice(struct fx *f, mgr_value *start, mgr_value *stop, size_t n, ...)
{
	int rc = start && stop ? th_run(&f->t, f->obj, "slice", 2, start, stop)
		 : start       ? th_run(&f->t, f->obj, "slice", 1, start)
			       : th_run(&f->t, f->obj, "slice", 0);
	assert_int_equal(rc, 0);
	const mgr_value *v = res(f);
	assert_int_equal(mgr_value_kind(v), MGR_LIST);
	assert_int_equal(mgr_value_len(v), n);
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mgr_value_int(mgr_value_list_get(v, i)), va_arg(ap, int));
	va_end(ap);
}

static void test_slice(void **state)
{
	struct fx *f = *state;
	fill(f, 5); /* 0 1 2 3 4 */
	check_slice(f, NULL, NULL, 5, 0, 1, 2, 3, 4);
	check_slice(f, I(2), NULL, 3, 2, 3, 4);
	check_slice(f, I(1), I(3), 2, 1, 2);
	check_slice(f, I(-2), NULL, 2, 3, 4);
	check_slice(f, I(0), I(-1), 4, 0, 1, 2, 3);
	check_slice(f, I(-3), I(-1), 2, 2, 3);
	check_slice(f, NIL(), I(2), 2, 0, 1);
	check_slice(f, I(3), NIL(), 2, 3, 4);
	check_slice(f, NIL(), NIL(), 5, 0, 1, 2, 3, 4);
	/* clamped */
	check_slice(f, I(-100), I(100), 5, 0, 1, 2, 3, 4);
	check_slice(f, I(INT64_MIN), I(INT64_MAX), 5, 0, 1, 2, 3, 4);
	check_slice(f, I(5), NULL, 0);
	check_slice(f, I(100), NULL, 0);
	check_slice(f, NULL, NULL, 5, 0, 1, 2, 3, 4);
	/* empty when stop <= start */
	check_slice(f, I(3), I(1), 0);
	check_slice(f, I(2), I(2), 0);
	check_slice(f, I(-1), I(-3), 0);
	check_slice(f, I(0), I(-100), 0);
	/* a copy: changing it leaves the list alone */
	check_slice(f, I(0), I(2), 2, 0, 1);
	mgr_value_list_append(f->t.c.result, I(9));
	assert_int_equal(len(f), 5);
	/* bounds must be ints or nil */
	assert_int_equal(th_run(&f->t, f->obj, "slice", 1, S("1")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "slice", 2, I(0), D(2.0)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "slice", 3, I(0), I(1), I(1)), MGR_EARGS);
	fill(f, 0);
	check_slice(f, NULL, NULL, 0);
	check_slice(f, I(-1), I(1), 0);
}

static void test_reverse_clear_copy(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "reverse", 0), 0); /* empty */
	fill(f, 1);
	assert_int_equal(th_run(&f->t, f->obj, "reverse", 0), 0);
	th_assert_ints(items(f), 1, 0);
	fill(f, 4);
	assert_int_equal(th_run(&f->t, f->obj, "reverse", 0), 0);
	th_assert_ints(items(f), 4, 3, 2, 1, 0);
	fill(f, 5);
	assert_int_equal(th_run(&f->t, f->obj, "reverse", 0), 0);
	th_assert_ints(items(f), 5, 4, 3, 2, 1, 0);

	/* copy is deep and owned */
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, th_ints(1, 7)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "copy", 0), 0);
	mgr_value *c = f->t.c.result;
	f->t.c.result = NULL;
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(-1)), 0);
	assert_ptr_not_equal(mgr_value_list_get(c, 5), res(f));
	assert_true(mgr_value_equal(mgr_value_list_get(c, 5), res(f)));
	mgr_value_free(c);

	assert_int_equal(th_run(&f->t, f->obj, "clear", 0), 0);
	assert_int_equal(len(f), 0);
	assert_int_equal(th_run(&f->t, f->obj, "clear", 0), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, I(1)), 0);
	th_assert_ints(items(f), 1, 1);
}

static void test_sort_numbers(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0); /* empty */
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, th_ints(7, 5, -1, 3, 3, 0, 9, -7)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	th_assert_ints(items(f), 7, -7, -1, 0, 3, 3, 5, 9);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, B(true)), 0);
	th_assert_ints(items(f), 7, 9, 5, 3, 3, 0, -1, -7);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, B(false)), 0);
	th_assert_ints(items(f), 7, -7, -1, 0, 3, 3, 5, 9);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, NIL()), 0);
	th_assert_ints(items(f), 7, -7, -1, 0, 3, 3, 5, 9);
	/* ints and doubles order together */
	fill(f, 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, D(2.5)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, I(2)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, I(1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, D(-0.5)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, I(INT64_MIN)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	const mgr_value *v = items(f);
	assert_true(mgr_value_int(mgr_value_list_get(v, 0)) == INT64_MIN);
	assert_true(mgr_value_double(mgr_value_list_get(v, 1)) == -0.5);
	assert_int_equal(mgr_value_int(mgr_value_list_get(v, 2)), 1);
	assert_int_equal(mgr_value_int(mgr_value_list_get(v, 3)), 2);
	assert_true(mgr_value_double(mgr_value_list_get(v, 4)) == 2.5);
	/* a big one, against a known order */
	fill(f, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, I((i * 7919) % 1000)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	v = items(f);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(mgr_value_int(mgr_value_list_get(v, i)), i);
	/* the argument must be a bool */
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, I(1)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, S("true")), MGR_EARGS);
}

static void test_sort_strings(void **state)
{
	struct fx *f = *state;
	static const char *const in[] = {"pear", "apple", "", "Zebra", "apples", "\xc3\xa9t\xc3\xa9", "app"};
	static const char *const want[] = {"", "Zebra", "app", "apple", "apples", "pear", "\xc3\xa9t\xc3\xa9"};
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, S(in[i])), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	const mgr_value *v = items(f);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(mgr_value_string(mgr_value_list_get(v, i), NULL), want[i]);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, B(true)), 0);
	v = items(f);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(mgr_value_string(mgr_value_list_get(v, i), NULL), want[6 - i]);
	/* bytes sort among bytes */
	fill(f, 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, mgr_value_new_bytes("\xff", 1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, mgr_value_new_bytes("\0", 1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	v = items(f);
	assert_int_equal(((const uint8_t *)mgr_value_bytes(mgr_value_list_get(v, 0), NULL))[0], 0);
}

static void test_sort_mixed(void **state)
{
	struct fx *f = *state;
	mgr_value *mixes[][2] = {
		{I(1), S("1")},
		{S("a"), I(1)},
		{S("a"), mgr_value_new_bytes("a", 1)},
		{I(1), NIL()},
		{NIL(), NIL()},
		{th_ints(1, 1), th_ints(1, 2)},
		{D(1.0), mgr_value_new_map()},
		{mgr_value_new_ref(1, "x"), mgr_value_new_ref(2, "x")},
	};
	for (size_t i = 0; i < sizeof(mixes) / sizeof(mixes[0]); i++) {
		fill(f, 0);
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, mixes[i][0]), 0);
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, mixes[i][1]), 0);
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, I(0)), 0);
		const mgr_value *before = items(f);
		mgr_value *copy = mgr_value_copy(before);
		assert_int_equal(th_run(&f->t, f->obj, "sort", 0), MGR_ETYPE);
		assert_non_null(strstr(f->t.c.err, "cannot order"));
		assert_true(mgr_value_equal(items(f), copy)); /* untouched */
		mgr_value_free(copy);
	}
	/* the bad item may be anywhere, not only next to the first */
	fill(f, 10);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, S("x")), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, B(true)), MGR_ETYPE);
	/* one item of any kind is sorted already */
	fill(f, 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, NIL()), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
}

/* Equal keys keep their order, forwards and reversed (as in Python). An
 * int and a double of the same value compare equal; the kind tags them. */
static void test_sort_stable(void **state)
{
	struct fx *f = *state;
	mgr_value *mk[] = {I(1), D(0.5), D(1.0), I(0), I(1), D(1.0), D(2.0), I(1)};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, mk[i]), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	const mgr_value *v = items(f);
	/* 0, 0.5, then the ones in their original order, then 2.0 */
	static const mgr_kind fwd[] = {MGR_INT, MGR_DOUBLE, MGR_INT, MGR_DOUBLE,
				       MGR_INT, MGR_DOUBLE, MGR_INT, MGR_DOUBLE};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(mgr_value_kind(mgr_value_list_get(v, i)), fwd[i]);
	assert_int_equal(mgr_value_int(mgr_value_list_get(v, 0)), 0);
	assert_true(mgr_value_double(mgr_value_list_get(v, 1)) == 0.5);
	assert_true(mgr_value_double(mgr_value_list_get(v, 7)) == 2.0);

	fill(f, 0);
	mgr_value *mk2[] = {I(1), D(0.5), D(1.0), I(0), I(1), D(1.0), D(2.0), I(1)};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(th_run(&f->t, f->obj, "append", 1, mk2[i]), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 1, B(true)), 0);
	v = items(f);
	/* 2.0, then the ones in their original order, then 0.5, 0 */
	static const mgr_kind rev[] = {MGR_DOUBLE, MGR_INT, MGR_DOUBLE, MGR_INT,
				       MGR_DOUBLE, MGR_INT, MGR_DOUBLE, MGR_INT};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(mgr_value_kind(mgr_value_list_get(v, i)), rev[i]);
	assert_true(mgr_value_double(mgr_value_list_get(v, 0)) == 2.0);
	assert_true(mgr_value_double(mgr_value_list_get(v, 6)) == 0.5);

	/* a larger run: sort by value keeps insertion order among equals */
	fill(f, 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(th_run(&f->t, f->obj, "append", 1,
					i % 2 ? I(i % 5) : D((double)(i % 5))), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	v = items(f);
	/* value k's items were appended at k, k+5, k+10...: odd ones as ints */
	for (size_t i = 0; i < 300; i++) {
		const mgr_value *x = mgr_value_list_get(v, i);
		size_t k = i / 60, j = i % 60;
		assert_true(mgr_value_double(x) == (double)k);
		assert_int_equal(mgr_value_kind(x), (k + j) % 2 ? MGR_INT : MGR_DOUBLE);
	}
}

/* BUG (reported): bools sort as numbers against ints but as 0 against
 * doubles (value_compare_numbers, common/value.c:404-405), so a list of
 * [2.5, true, 0.5] sorts to [true, 0.5, 2.5]. */
static void test_sort_bool_with_doubles(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, D(2.5)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, B(true)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, D(0.5)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "sort", 0), 0);
	const mgr_value *v = items(f);
	assert_true(mgr_value_double(mgr_value_list_get(v, 0)) == 0.5);
	assert_int_equal(mgr_value_kind(mgr_value_list_get(v, 1)), MGR_BOOL);
	assert_true(mgr_value_double(mgr_value_list_get(v, 2)) == 2.5);
}

/* contains; + and * as copies (the list unchanged); *= in place. */
static void test_contains_concat_repeat(void **state)
{
	struct fx *f = *state;
	struct tcall *t = &f->t;
	assert_int_equal(th_run(t, f->obj, "extend", 1, th_ints(2, 1, 2)), 0);
	assert_int_equal(th_run(t, f->obj, "contains", 1, I(2)), 0);
	assert_true(mgr_value_bool(th_result(t)));
	assert_int_equal(th_run(t, f->obj, "contains", 1, S("2")), 0);
	assert_false(mgr_value_bool(th_result(t)));
	assert_int_equal(th_run(t, f->obj, "concat", 1, th_ints(1, 3)), 0);
	th_assert_ints(th_result(t), 3, 1, 2, 3);
	assert_int_equal(th_run(t, f->obj, "concat", 1, I(3)), MGR_EARGS);
	assert_string_equal(t->c.err, "can only concatenate list (not \"int\") to list");
	assert_int_equal(th_run(t, f->obj, "repeat", 1, I(3)), 0);
	th_assert_ints(th_result(t), 6, 1, 2, 1, 2, 1, 2);
	assert_int_equal(th_run(t, f->obj, "repeat", 1, I(-1)), 0);
	th_assert_ints(th_result(t), 0);
	assert_int_equal(th_run(t, f->obj, "copy", 0), 0);
	th_assert_ints(th_result(t), 2, 1, 2); /* + and * left it alone */
	assert_int_equal(th_run(t, f->obj, "imul", 1, I(3)), 0);
	assert_int_equal(th_run(t, f->obj, "copy", 0), 0);
	th_assert_ints(th_result(t), 6, 1, 2, 1, 2, 1, 2);
	assert_int_equal(th_run(t, f->obj, "imul", 1, I(1)), 0);
	assert_int_equal(th_run(t, f->obj, "len", 0), 0);
	assert_int_equal(mgr_value_int(th_result(t)), 6);
	assert_int_equal(th_run(t, f->obj, "repeat", 1, I(INT64_MAX)), MGR_ELIMIT);
	assert_int_equal(th_run(t, f->obj, "imul", 1, I(INT64_MAX / 2)), MGR_ELIMIT);
	assert_int_equal(th_run(t, f->obj, "imul", 1, I(0)), 0);
	assert_int_equal(th_run(t, f->obj, "len", 0), 0);
	assert_int_equal(mgr_value_int(th_result(t)), 0);
	assert_int_equal(th_run(t, f->obj, "imul", 1, S("2")), MGR_EARGS);
}

static void test_repr(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "extend", 1, th_ints(2, 1, 2)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "append", 1, S("x")), 0);
	char *text = type_list.repr(f->obj, 100);
	assert_string_equal(text, "[1, 2, 'x']");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_create, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_append_extend, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_insert, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_get_set_del, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_pop, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_remove_index_count, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_slice, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_reverse_clear_copy, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sort_numbers, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sort_strings, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sort_mixed, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_sort_stable, setup, th_fx_teardown),
		/* BUG: fails until value_compare_numbers is fixed */
		cmocka_unit_test_setup_teardown(test_sort_bool_with_doubles, setup, th_fx_teardown),
		/* BUG: fails under UBSan until fixed; kept last (UBSan may abort) */
		cmocka_unit_test_setup_teardown(test_extend_empty, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_contains_concat_repeat, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_repr, setup, th_fx_teardown),
	};
	/* MGR_TEST_SKIP=pattern skips tests (e.g. a known crash under ASan) */
	if (getenv("MGR_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("MGR_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
