/* dict, list and counter through the real socket: every method through the
 * typed libmgr API and the generic mgr_call, Python semantics (negative
 * indexes, clamped slices, pop and get defaults, setdefault, incr), and the
 * exact error codes with the server's message behind mgr_client_errmsg(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define S(x) mgr_value_new_string(x)
#define I(x) mgr_value_new_int(x)


/* The human form of v, for comparing whole containers in one line. */
static void assert_value_is(const mgr_value *v, const char *want)
{
	char buf[512];
	assert_non_null(v);
	assert_string_equal(mgr_value_format(v, buf, sizeof(buf)), want);
}

static void assert_int_value(mgr_value *v, int64_t want)
{
	assert_non_null(v);
	assert_int_equal(mgr_value_kind(v), MGR_INT);
	assert_int_equal(mgr_value_int(v), want);
	mgr_value_free(v);
}

static void assert_string_value(mgr_value *v, const char *want)
{
	assert_non_null(v);
	assert_int_equal(mgr_value_kind(v), MGR_STRING);
	assert_string_equal(mgr_value_string(v, NULL), want);
	mgr_value_free(v);
}

static mgr_object *new_obj(struct harness *h, const char *type)
{
	mgr_object *o = NULL;
	assert_ok(mgr_object_create(h->c, type, NULL, NULL, 0, &o));
	assert_string_equal(mgr_object_type(o), type);
	return o;
}

/* A list value of ints. */
static mgr_value *ints(size_t n, const int64_t *v)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mgr_value_list_append(l, I(v[i])), 0);
	return l;
}

static void list_fill(mgr_object *l, size_t n, const int64_t *v)
{
	assert_ok(mgr_list_clear(l));
	assert_ok(mgr_list_extend(l, ints(n, v)));
}

static void assert_list_is(mgr_object *l, const char *want)
{
	mgr_value *items = NULL;
	assert_ok(mgr_list_copy(l, &items));
	assert_value_is(items, want);
	mgr_value_free(items);
}

/* The kinds of a list's items, in order (tells 1.0 from 1). */
static void assert_kinds(mgr_object *l, const mgr_kind *want)
{
	mgr_value *items = NULL;
	assert_ok(mgr_list_copy(l, &items));
	for (size_t i = 0; i < mgr_value_len(items); i++)
		assert_int_equal(mgr_value_kind(mgr_value_list_get(items, i)), want[i]);
	mgr_value_free(items);
}

/* ---- dict ---- */

static void test_dict_set_get_del(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict");
	mgr_value *k = S("a"), *v = NULL;
	size_t n = 99;
	bool found = true;

	assert_ok(mgr_dict_len(d, &n));
	assert_int_equal(n, 0);
	assert_fails(mgr_dict_get(d, k, &v), MGR_ENOKEY, "no key \"a\"");
	assert_null(v); /* untouched on failure */
	assert_ok(mgr_dict_set(d, S("a"), I(1)));
	assert_ok(mgr_dict_set(d, S("a"), I(2))); /* replaces */
	assert_ok(mgr_dict_get(d, k, &v));
	assert_int_value(v, 2);
	assert_ok(mgr_dict_get_default(d, k, I(7), &v));
	assert_int_value(v, 2);
	mgr_value *missing = S("zz");
	assert_ok(mgr_dict_get_default(d, missing, I(7), &v));
	assert_int_value(v, 7);
	assert_ok(mgr_dict_contains(d, k, &found));
	assert_true(found);
	assert_ok(mgr_dict_contains(d, missing, &found));
	assert_false(found);
	assert_ok(mgr_dict_len(d, &n));
	assert_int_equal(n, 1);
	assert_ok(mgr_dict_del(d, k));
	assert_fails(mgr_dict_del(d, k), MGR_ENOKEY, "no key");
	assert_ok(mgr_dict_contains(d, k, &found));
	assert_false(found);

	/* every key kind; 1 and true and "1" are different keys */
	mgr_value *keys[] = {I(1), mgr_value_new_bool(true), S("1"), mgr_value_new_bytes("1", 1),
			     I(-5)};
	for (size_t i = 0; i < 5; i++)
		assert_ok(mgr_dict_set(d, mgr_value_copy(keys[i]), I((int64_t)i * 10)));
	for (size_t i = 0; i < 5; i++) {
		assert_ok(mgr_dict_get(d, keys[i], &v));
		assert_int_value(v, (int64_t)i * 10);
		mgr_value_free(keys[i]);
	}
	assert_ok(mgr_dict_len(d, &n));
	assert_int_equal(n, 5);

	/* values of every kind round-trip */
	mgr_value *nested = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(nested, S("l"), ints(3, (int64_t[]){1, 2, 3})), 0);
	assert_int_equal(mgr_value_map_set(nested, S("d"), mgr_value_new_double(2.5)), 0);
	assert_int_equal(mgr_value_map_set(nested, S("n"), mgr_value_new_nil()), 0);
	mgr_value *want = mgr_value_copy(nested);
	assert_ok(mgr_dict_set(d, S("nested"), nested));
	mgr_value *nk = S("nested");
	assert_ok(mgr_dict_get(d, nk, &v));
	assert_true(mgr_value_equal(v, want));
	mgr_value_free(v);
	mgr_value_free(want);

	/* a key that is not a key kind: ETYPE, as a bad key inside a map */
	assert_fails(mgr_dict_set(d, mgr_value_new_list(), I(1)), MGR_ETYPE,
		     "argument 1 must be a key");
	mgr_value *dk = mgr_value_new_double(1.0);
	assert_fails(mgr_dict_get(d, dk, &v), MGR_ETYPE, "dict.get: argument 1 must be a key");
	mgr_value_free(dk);
	mgr_value_free(nk);
	mgr_value_free(missing);
	mgr_value_free(k);
	assert_ok(mgr_object_release(d));
}

static void test_dict_views_update_copy(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict");
	mgr_value *r = NULL;
	assert_ok(mgr_dict_set(d, S("b"), I(1)));
	assert_ok(mgr_dict_set(d, S("a"), I(2)));
	assert_ok(mgr_dict_set(d, I(3), S("x")));
	assert_ok(mgr_dict_keys(d, &r)); /* insertion order */
	assert_value_is(r, "[\"b\", \"a\", 3]");
	mgr_value_free(r);
	assert_ok(mgr_dict_values(d, &r));
	assert_value_is(r, "[1, 2, \"x\"]");
	mgr_value_free(r);
	assert_ok(mgr_dict_items(d, &r));
	assert_value_is(r, "[[\"b\", 1], [\"a\", 2], [3, \"x\"]]");
	mgr_value_free(r);

	mgr_value *m = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(m, S("a"), I(20)), 0); /* overwrites, keeps order */
	assert_int_equal(mgr_value_map_set(m, S("c"), I(30)), 0);
	assert_ok(mgr_dict_update(d, m));
	assert_ok(mgr_dict_copy(d, &r));
	assert_int_equal(mgr_value_kind(r), MGR_MAP);
	assert_value_is(r, "{\"b\": 1, \"a\": 20, 3: \"x\", \"c\": 30}");
	mgr_value_free(r);
	assert_fails(mgr_dict_update(d, ints(1, (int64_t[]){1})), MGR_EARGS, "must be a map");

	/* the copy is a snapshot, not a view */
	assert_ok(mgr_dict_copy(d, &r));
	assert_ok(mgr_dict_clear(d));
	assert_int_equal(mgr_value_len(r), 4);
	mgr_value_free(r);
	size_t n = 9;
	assert_ok(mgr_dict_len(d, &n));
	assert_int_equal(n, 0);
	assert_ok(mgr_dict_keys(d, &r));
	assert_value_is(r, "[]");
	mgr_value_free(r);
	assert_ok(mgr_object_release(d));
}

static void test_dict_pop_setdefault(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict");
	mgr_value *k = S("k"), *v = NULL;
	assert_fails(mgr_dict_pop(d, k, &v), MGR_ENOKEY, "no key \"k\"");
	assert_null(v);
	/* pop with a default: no typed form, so the generic call */
	assert_ok(mgr_callv(d, "pop", &v, S("k"), S("dflt"), NULL));
	assert_string_value(v, "dflt");
	assert_ok(mgr_dict_set(d, S("k"), I(5)));
	assert_ok(mgr_callv(d, "pop", &v, S("k"), S("dflt"), NULL));
	assert_int_value(v, 5);
	assert_ok(mgr_dict_set(d, S("k"), I(6)));
	assert_ok(mgr_dict_pop(d, k, &v));
	assert_int_value(v, 6);
	bool found = true;
	assert_ok(mgr_dict_contains(d, k, &found));
	assert_false(found);

	/* setdefault: absent sets and returns the default; present returns it */
	assert_ok(mgr_dict_setdefault(d, k, ints(1, (int64_t[]){1}), &v));
	assert_value_is(v, "[1]");
	mgr_value_free(v);
	assert_ok(mgr_dict_setdefault(d, k, I(99), &v));
	assert_value_is(v, "[1]");
	mgr_value_free(v);
	assert_ok(mgr_dict_get(d, k, &v));
	assert_value_is(v, "[1]");
	mgr_value_free(v);
	/* setdefault(key) alone: Python's default None */
	assert_ok(mgr_callv(d, "setdefault", &v, S("none"), NULL));
	assert_int_equal(mgr_value_kind(v), MGR_NIL);
	mgr_value_free(v);
	mgr_value *none = S("none");
	assert_ok(mgr_dict_get(d, none, &v));
	assert_int_equal(mgr_value_kind(v), MGR_NIL);
	mgr_value_free(v);
	mgr_value_free(none);
	mgr_value_free(k);
	assert_ok(mgr_object_release(d));
}

static void test_dict_incr(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict");
	mgr_value *k = S("n"), *s = S("s"), *v = NULL;
	int64_t now = 0;
	assert_ok(mgr_dict_incr(d, k, 5, &now)); /* absent: 0 + delta */
	assert_int_equal(now, 5);
	assert_ok(mgr_dict_incr(d, k, -7, &now));
	assert_int_equal(now, -2);
	assert_ok(mgr_dict_incr(d, k, 1, NULL));
	assert_ok(mgr_dict_get(d, k, &v));
	assert_int_value(v, -1);
	assert_ok(mgr_callv(d, "incr", &v, S("n"), NULL)); /* delta defaults to 1 */
	assert_int_value(v, 0);

	assert_ok(mgr_dict_set(d, S("s"), S("text")));
	now = 42;
	assert_fails(mgr_dict_incr(d, s, 1, &now), MGR_ETYPE, "not int");
	assert_int_equal(now, 42); /* untouched on failure */
	assert_ok(mgr_dict_get(d, s, &v));
	assert_string_value(v, "text");
	assert_fails(mgr_callv(d, "incr", NULL, S("n"), S("x"), NULL), MGR_EARGS,
		     "argument 2 must be an int");

	assert_ok(mgr_dict_set(d, S("big"), I(INT64_MAX)));
	mgr_value *big = S("big");
	assert_fails(mgr_dict_incr(d, big, 1, &now), MGR_ERANGE, "overflow");
	assert_ok(mgr_dict_get(d, big, &v));
	assert_int_value(v, INT64_MAX);
	mgr_value_free(big);
	mgr_value_free(s);
	mgr_value_free(k);
	assert_ok(mgr_object_release(d));
}

/* ---- list ---- */

static void test_list_index_get_set_del(void **state)
{
	struct harness *h = *state;
	mgr_object *l = new_obj(h, "list");
	mgr_value *v = NULL;
	assert_fails(mgr_list_get(l, 0, &v), MGR_EINDEX, "out of range");
	assert_fails(mgr_list_get(l, -1, &v), MGR_EINDEX, "out of range");
	list_fill(l, 5, (int64_t[]){10, 11, 12, 13, 14});
	assert_ok(mgr_list_get(l, 0, &v));
	assert_int_value(v, 10);
	assert_ok(mgr_list_get(l, 4, &v));
	assert_int_value(v, 14);
	assert_ok(mgr_list_get(l, -1, &v));
	assert_int_value(v, 14);
	assert_ok(mgr_list_get(l, -5, &v));
	assert_int_value(v, 10);
	v = NULL;
	assert_fails(mgr_list_get(l, 5, &v), MGR_EINDEX, "index 5 out of range (length 5)");
	assert_fails(mgr_list_get(l, -6, &v), MGR_EINDEX, "index -6 out of range");
	assert_null(v);

	assert_ok(mgr_list_set(l, -2, S("x")));
	assert_ok(mgr_list_set(l, 0, S("y")));
	assert_fails(mgr_list_set(l, 5, S("z")), MGR_EINDEX, "out of range");
	assert_fails(mgr_list_set(l, -6, S("z")), MGR_EINDEX, "out of range");
	assert_list_is(l, "[\"y\", 11, 12, \"x\", 14]");

	assert_ok(mgr_list_del(l, -1));
	assert_ok(mgr_list_del(l, 1));
	assert_fails(mgr_list_del(l, 3), MGR_EINDEX, "out of range");
	assert_fails(mgr_list_del(l, -4), MGR_EINDEX, "out of range");
	assert_list_is(l, "[\"y\", 12, \"x\"]");
	assert_fails(mgr_callv(l, "get", NULL, S("0"), NULL), MGR_EARGS, "must be an int");
	assert_ok(mgr_object_release(l));
}

static void test_list_append_extend_insert(void **state)
{
	struct harness *h = *state;
	mgr_object *l = new_obj(h, "list");
	size_t n = 9;
	assert_ok(mgr_list_append(l, I(1)));
	assert_ok(mgr_list_append(l, mgr_value_new_nil()));
	assert_ok(mgr_list_extend(l, ints(2, (int64_t[]){2, 3})));
	assert_ok(mgr_list_extend(l, mgr_value_new_list()));
	assert_list_is(l, "[1, null, 2, 3]");
	assert_fails(mgr_list_extend(l, I(4)), MGR_EARGS, "must be a list");
	list_fill(l, 3, (int64_t[]){1, 2, 3});
	assert_ok(mgr_list_insert(l, 0, I(0)));     /* [0 1 2 3] */
	assert_ok(mgr_list_insert(l, -1, I(99)));   /* before the last: [0 1 2 99 3] */
	assert_ok(mgr_list_insert(l, 100, I(7)));   /* clamped to the end */
	assert_ok(mgr_list_insert(l, -100, I(-7))); /* clamped to the start */
	assert_list_is(l, "[-7, 0, 1, 2, 99, 3, 7]");
	assert_ok(mgr_list_len(l, &n));
	assert_int_equal(n, 7);
	/* a list made with initial items */
	mgr_value *init = ints(3, (int64_t[]){4, 5, 6});
	mgr_object *l2;
	assert_ok(mgr_object_create(h->c, "list", NULL, &init, 1, &l2));
	mgr_value_free(init);
	assert_list_is(l2, "[4, 5, 6]");
	assert_ok(mgr_object_release(l2));
	assert_ok(mgr_object_release(l));
}

static void test_list_pop(void **state)
{
	struct harness *h = *state;
	mgr_object *l = new_obj(h, "list");
	mgr_value *v = NULL;
	assert_fails(mgr_list_pop(l, -1, &v), MGR_EINDEX, "pop from empty list");
	assert_fails(mgr_callv(l, "pop", &v, NULL), MGR_EINDEX, "pop from empty list");
	assert_null(v);
	list_fill(l, 5, (int64_t[]){0, 1, 2, 3, 4});
	assert_ok(mgr_list_pop(l, -1, &v)); /* the typed default */
	assert_int_value(v, 4);
	assert_ok(mgr_callv(l, "pop", &v, NULL)); /* no index: the last */
	assert_int_value(v, 3);
	assert_ok(mgr_list_pop(l, 0, &v));
	assert_int_value(v, 0);
	assert_fails(mgr_list_pop(l, 2, &v), MGR_EINDEX, "index 2 out of range");
	assert_fails(mgr_list_pop(l, -3, &v), MGR_EINDEX, "out of range");
	assert_ok(mgr_list_pop(l, -2, &v));
	assert_int_value(v, 1);
	assert_list_is(l, "[2]");
	assert_ok(mgr_object_release(l));
}

static void test_list_remove_index_count(void **state)
{
	struct harness *h = *state;
	mgr_object *l = new_obj(h, "list");
	list_fill(l, 6, (int64_t[]){5, 1, 5, 2, 5, 3});
	mgr_value *five = I(5), *nine = I(9), *fived = mgr_value_new_double(5.0);
	int64_t i = -1;
	assert_ok(mgr_list_index(l, five, &i));
	assert_int_equal(i, 0);
	assert_ok(mgr_list_count(l, five, &i));
	assert_int_equal(i, 3);
	assert_ok(mgr_list_count(l, nine, &i));
	assert_int_equal(i, 0);
	assert_ok(mgr_list_count(l, fived, &i)); /* equality is by kind: 5.0 is not 5 */
	assert_int_equal(i, 0);
	i = 77;
	assert_fails(mgr_list_index(l, nine, &i), MGR_EVALUE, "9 is not in the list");
	assert_int_equal(i, 77);
	assert_ok(mgr_list_remove(l, five)); /* the first one only */
	assert_list_is(l, "[1, 5, 2, 5, 3]");
	assert_ok(mgr_list_index(l, five, &i));
	assert_int_equal(i, 1);
	assert_fails(mgr_list_remove(l, nine), MGR_EVALUE, "not in the list");
	assert_list_is(l, "[1, 5, 2, 5, 3]");
	mgr_value_free(five);
	mgr_value_free(nine);
	mgr_value_free(fived);
	assert_ok(mgr_object_release(l));
}

static void test_list_slice(void **state)
{
	struct harness *h = *state;
	mgr_object *l = new_obj(h, "list");
	mgr_value *r = NULL;
	list_fill(l, 5, (int64_t[]){0, 1, 2, 3, 4});
	static const struct {
		int64_t start, stop;
		const char *want;
	} rows[] = {
		{0, 5, "[0, 1, 2, 3, 4]"},
		{1, 3, "[1, 2]"},
		{-2, 5, "[3, 4]"},
		{0, -1, "[0, 1, 2, 3]"},
		{-100, 100, "[0, 1, 2, 3, 4]"},
		{3, 1, "[]"},
		{5, 10, "[]"},
		{-1, -2, "[]"},
		{2, 2, "[]"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_ok(mgr_list_slice(l, rows[i].start, rows[i].stop, &r));
		assert_value_is(r, rows[i].want);
		mgr_value_free(r);
	}
	/* generic: bounds optional or nil, like l[2:] and l[:-3] */
	assert_ok(mgr_callv(l, "slice", &r, I(2), NULL));
	assert_value_is(r, "[2, 3, 4]");
	mgr_value_free(r);
	assert_ok(mgr_callv(l, "slice", &r, mgr_value_new_nil(), I(-3), NULL));
	assert_value_is(r, "[0, 1]");
	mgr_value_free(r);
	assert_ok(mgr_callv(l, "slice", &r, NULL));
	assert_value_is(r, "[0, 1, 2, 3, 4]");
	mgr_value_free(r);
	assert_fails(mgr_callv(l, "slice", &r, S("a"), NULL), MGR_EARGS, "must be an int");
	assert_ok(mgr_object_release(l));
}

static void test_list_reverse_sort_clear_copy(void **state)
{
	struct harness *h = *state;
	mgr_object *l = new_obj(h, "list");
	list_fill(l, 5, (int64_t[]){3, 1, 4, 1, 5});
	assert_ok(mgr_list_reverse(l));
	assert_list_is(l, "[5, 1, 4, 1, 3]");
	assert_ok(mgr_list_sort(l, false));
	assert_list_is(l, "[1, 1, 3, 4, 5]");
	assert_ok(mgr_list_sort(l, true));
	assert_list_is(l, "[5, 4, 3, 1, 1]");

	/* ints and doubles order together, and the sort is stable both ways */
	assert_ok(mgr_list_clear(l));
	assert_ok(mgr_list_append(l, mgr_value_new_double(1.0)));
	assert_ok(mgr_list_append(l, I(2)));
	assert_ok(mgr_list_append(l, I(1)));
	assert_ok(mgr_list_append(l, mgr_value_new_double(0.5)));
	assert_ok(mgr_list_sort(l, false));
	assert_list_is(l, "[0.5, 1, 1, 2]");
	assert_kinds(l, (mgr_kind[]){MGR_DOUBLE, MGR_DOUBLE, MGR_INT, MGR_INT});
	assert_ok(mgr_list_sort(l, true));
	assert_list_is(l, "[2, 1, 1, 0.5]");
	assert_kinds(l, (mgr_kind[]){MGR_INT, MGR_DOUBLE, MGR_INT, MGR_DOUBLE});

	assert_ok(mgr_list_clear(l));
	const char *words[] = {"pear", "apple", "fig", "Zoo"};
	for (size_t i = 0; i < 4; i++)
		assert_ok(mgr_list_append(l, S(words[i])));
	assert_ok(mgr_list_sort(l, false));
	assert_list_is(l, "[\"Zoo\", \"apple\", \"fig\", \"pear\"]");
	assert_ok(mgr_callv(l, "sort", NULL, NULL)); /* reverse defaults to false */
	assert_list_is(l, "[\"Zoo\", \"apple\", \"fig\", \"pear\"]");

	assert_ok(mgr_list_append(l, I(1)));
	assert_fails(mgr_list_sort(l, false), MGR_ETYPE, "cannot order");
	assert_list_is(l, "[\"Zoo\", \"apple\", \"fig\", \"pear\", 1]"); /* unchanged */
	assert_fails(mgr_callv(l, "sort", NULL, I(1), NULL), MGR_EARGS, "must be a bool");

	mgr_value *copy = NULL;
	assert_ok(mgr_list_copy(l, &copy));
	assert_ok(mgr_list_clear(l));
	assert_int_equal(mgr_value_len(copy), 5); /* a snapshot */
	mgr_value_free(copy);
	size_t n = 9;
	assert_ok(mgr_list_len(l, &n));
	assert_int_equal(n, 0);
	assert_ok(mgr_list_sort(l, false)); /* empty: fine */
	assert_ok(mgr_list_reverse(l));
	assert_list_is(l, "[]");
	assert_ok(mgr_object_release(l));
}

/* ---- counter ---- */

static void test_counter(void **state)
{
	struct harness *h = *state;
	mgr_object *k = new_obj(h, "counter");
	int64_t v = -1;
	bool swapped = false;
	assert_ok(mgr_counter_get(k, &v));
	assert_int_equal(v, 0);
	assert_ok(mgr_counter_add(k, 5, &v));
	assert_int_equal(v, 5);
	assert_ok(mgr_counter_add(k, -8, &v));
	assert_int_equal(v, -3);
	assert_ok(mgr_counter_add(k, 1, NULL));
	mgr_value *r = NULL;
	assert_ok(mgr_callv(k, "add", &r, NULL)); /* delta defaults to 1 */
	assert_int_value(r, -1);
	assert_ok(mgr_counter_set(k, 100));
	assert_ok(mgr_counter_cas(k, 99, 1, &swapped));
	assert_false(swapped);
	assert_ok(mgr_counter_get(k, &v));
	assert_int_equal(v, 100);
	assert_ok(mgr_counter_cas(k, 100, 1, &swapped));
	assert_true(swapped);
	assert_ok(mgr_counter_get(k, &v));
	assert_int_equal(v, 1);

	assert_ok(mgr_counter_set(k, INT64_MAX));
	assert_fails(mgr_counter_add(k, 1, &v), MGR_ERANGE, "overflow");
	assert_ok(mgr_counter_set(k, INT64_MIN));
	assert_fails(mgr_counter_add(k, -1, &v), MGR_ERANGE, "overflow");
	assert_ok(mgr_counter_get(k, &v));
	assert_int_equal(v, INT64_MIN);

	/* constructor argument: the initial value */
	mgr_value *init = I(41);
	mgr_object *k2;
	assert_ok(mgr_object_create(h->c, "counter", NULL, &init, 1, &k2));
	assert_ok(mgr_counter_add(k2, 1, &v));
	assert_int_equal(v, 42);
	assert_ok(mgr_object_release(k2));
	mgr_value_free(init);
	init = S("x");
	assert_fails(mgr_object_create(h->c, "counter", NULL, &init, 1, &k2), MGR_EARGS,
		     "must be an int");
	mgr_value_free(init);
	assert_ok(mgr_object_release(k));
}

/* ---- errors common to every type ---- */

static void test_wrong_arguments(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict"), *l = new_obj(h, "list"), *k = new_obj(h, "counter");
	mgr_value *one = S("k"), *r = NULL;
	/* wrong count */
	assert_fails(mgr_call(d, "set", &one, 1, NULL), MGR_EARGS,
		     "dict.set takes 2 arguments (key, value), got 1");
	assert_fails(mgr_call(d, "len", &one, 1, NULL), MGR_EARGS, "got 1");
	assert_fails(mgr_call(d, "get", NULL, 0, NULL), MGR_EARGS, "dict.get takes 1 to 2 arguments");
	assert_fails(mgr_callv(l, "insert", NULL, I(0), NULL), MGR_EARGS, "list.insert takes 2");
	assert_fails(mgr_callv(l, "pop", NULL, I(0), I(1), NULL), MGR_EARGS, "got 2");
	assert_fails(mgr_callv(k, "cas", NULL, I(0), NULL), MGR_EARGS, "counter.cas takes 2");
	assert_fails(mgr_call(k, "set", NULL, 0, NULL), MGR_EARGS, "counter.set takes 1");
	/* wrong kind */
	assert_fails(mgr_callv(k, "add", NULL, S("x"), NULL), MGR_EARGS,
		     "counter.add: argument 1 must be an int, got string");
	assert_fails(mgr_callv(k, "cas", NULL, I(0), mgr_value_new_double(1), NULL), MGR_EARGS,
		     "argument 2 must be an int, got double");
	assert_fails(mgr_callv(k, "set", NULL, mgr_value_new_nil(), NULL), MGR_EARGS, "got nil");
	assert_fails(mgr_callv(l, "insert", NULL, S("0"), I(0), NULL), MGR_EARGS, "must be an int");
	assert_fails(mgr_callv(d, "get", NULL, mgr_value_new_map(), NULL), MGR_ETYPE, "got map");
	/* none of that changed anything */
	int64_t v = -1;
	size_t n = 9;
	assert_ok(mgr_counter_get(k, &v));
	assert_int_equal(v, 0);
	assert_ok(mgr_dict_len(d, &n));
	assert_int_equal(n, 0);
	assert_ok(mgr_list_len(l, &n));
	assert_int_equal(n, 0);
	/* a successful generic call */
	assert_ok(mgr_callv(d, "set", NULL, S("k"), I(1), NULL));
	assert_ok(mgr_call(d, "get", &one, 1, &r));
	assert_int_value(r, 1);
	mgr_value_free(one);
	mgr_object_release(d);
	mgr_object_release(l);
	mgr_object_release(k);
}

static void test_no_method(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict"), *k = new_obj(h, "counter");
	mgr_value *r = NULL;
	assert_fails(mgr_call(d, "frobnicate", NULL, 0, &r), MGR_ENOMETHOD,
		     "type dict has no method 'frobnicate'");
	assert_null(r);
	assert_fails(mgr_call(k, "append", NULL, 0, NULL), MGR_ENOMETHOD, "counter has no method");
	assert_fails(mgr_call(mgr_client_manager(h->c), "nope", NULL, 0, NULL), MGR_ENOMETHOD,
		     "manager has no method 'nope'");
	assert_fails(mgr_call(d, "", NULL, 0, NULL), MGR_ENOMETHOD, "no method ''");
	/* method names are exact */
	assert_fails(mgr_call(d, "LEN", NULL, 0, NULL), MGR_ENOMETHOD, "LEN");
	assert_ok(mgr_call(d, "len", NULL, 0, NULL));
	mgr_object_release(d);
	mgr_object_release(k);
}

static void test_no_object(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict"), *d2, *k;
	assert_fails(mgr_object_lookup(h->c, "nonexistent-name", &d2), MGR_ENOOBJ, "no object");
	assert_ok(mgr_dict_open(h->c, "types-d", &d2));
	assert_ok(mgr_counter_open(h->c, "types-k", &k));
	assert_ok(mgr_dict_set(d2, S("a"), I(1)));
	assert_ok(mgr_object_delete(d2));
	size_t n = 7;
	assert_fails(mgr_dict_len(d2, &n), MGR_ENOOBJ, "no object #");
	assert_int_equal(n, 7);
	assert_fails(mgr_dict_set(d2, S("a"), I(1)), MGR_ENOOBJ, "no object");
	assert_fails(mgr_call(d2, "nosuchmethod", NULL, 0, NULL), MGR_ENOOBJ, "no object");
	assert_fails(mgr_object_delete(d2), MGR_ENOOBJ, "no object");
	/* the name is free again, for a new object with a new id */
	mgr_object *d3;
	assert_ok(mgr_dict_open(h->c, "types-d", &d3));
	assert_true(mgr_object_id(d3) > mgr_object_id(d2));
	assert_ok(mgr_dict_len(d3, &n));
	assert_int_equal(n, 0);
	/* an anonymous object released by its only holder is gone too */
	uint64_t id = mgr_object_id(d);
	assert_ok(mgr_object_release(d));
	mgr_object *byid;
	mgr_value *idv = I((int64_t)id);
	assert_fails(mgr_object_from_ref(h->c, idv, &byid), MGR_EINVAL, "not a ref");
	mgr_value_free(idv);
	mgr_value *ref = mgr_value_new_ref(id, "dict");
	assert_fails(mgr_object_from_ref(h->c, ref, &byid), MGR_ENOOBJ, "no object");
	mgr_value_free(ref);
	mgr_object_release(d2);
	mgr_object_release(d3);
	assert_ok(mgr_object_delete(k));
	mgr_object_release(k);
}

static void test_refs_in_containers(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict"), *l = new_obj(h, "list"), *l2;
	assert_ok(mgr_list_append(l, S("inner")));
	assert_ok(mgr_dict_set(d, S("list"), mgr_object_ref(l)));
	mgr_value *k = S("list"), *ref = NULL, *v = NULL;
	assert_ok(mgr_dict_get(d, k, &ref));
	assert_int_equal(mgr_value_kind(ref), MGR_REF);
	assert_int_equal(mgr_value_ref_id(ref), mgr_object_id(l));
	assert_string_equal(mgr_value_ref_type(ref), "list");
	assert_ok(mgr_object_from_ref(h->c, ref, &l2));
	assert_ok(mgr_list_get(l2, 0, &v));
	assert_string_value(v, "inner");
	mgr_value_free(ref);
	mgr_value_free(k);
	mgr_object_release(l2);
	mgr_object_release(l);
	mgr_object_release(d);
}

/* The message of a failure is the server's, and a later success or local
 * failure replaces it. */
static void test_errmsg(void **state)
{
	struct harness *h = *state;
	mgr_object *k = new_obj(h, "counter");
	assert_int_equal(mgr_callv(k, "add", NULL, S("x"), NULL), MGR_EARGS);
	assert_string_equal(mgr_client_errmsg(h->c),
			    "counter.add: argument 1 must be an int, got string");
	assert_int_equal(mgr_call(k, "nope", NULL, 0, NULL), MGR_ENOMETHOD);
	assert_string_equal(mgr_client_errmsg(h->c), "type counter has no method 'nope'");
	assert_int_equal(mgr_call(k, NULL, NULL, 0, NULL), MGR_EINVAL);
	assert_string_not_equal(mgr_client_errmsg(h->c), "type counter has no method 'nope'");
	assert_string_equal(mgr_strerror(MGR_ENOKEY), mgr_strerror(MGR_ENOKEY));
	assert_string_equal(mgr_errname(MGR_ENOKEY), "ENOKEY");
	assert_string_equal(mgr_errname(MGR_EVALUE), "EVALUE");
	mgr_object_release(k);
}

/* ---- issue 12: popitem, dict(...), list contains / + / * / *=, repr ---- */

static void test_dict_popitem_create(void **state)
{
	struct harness *h = *state;
	mgr_value *pairs = mgr_value_new_list(), *p = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(p, S("a")), 0);
	assert_int_equal(mgr_value_list_append(p, I(1)), 0);
	assert_int_equal(mgr_value_list_append(pairs, p), 0);
	mgr_value *kw = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(kw, S("b"), I(2)), 0);
	mgr_value *args[] = {pairs, kw};
	mgr_object *d;
	assert_ok(mgr_object_create(h->c, "dict", NULL, args, 2, &d)); /* dict([("a", 1)], b=2) */
	mgr_value *k, *v;
	assert_ok(mgr_dict_popitem(d, &k, &v));
	assert_value_is(k, "\"b\"");
	assert_int_value(v, 2);
	mgr_value_free(k);
	assert_ok(mgr_dict_popitem(d, &k, &v));
	assert_string_value(k, "a");
	assert_int_value(v, 1);
	assert_fails(mgr_dict_popitem(d, &k, &v), MGR_ENOKEY, "popitem(): dictionary is empty");
	mgr_object_release(d);
	mgr_object *x;
	assert_ok(mgr_dict_create(h->c, NULL, args[1], &x)); /* a map alone is fine */
	mgr_object_release(x);
	mgr_value *three = I(3);
	assert_fails(mgr_dict_create(h->c, NULL, three, &x), MGR_EARGS, "map or a list");
	mgr_value *too_many[] = {three, three, three};
	assert_fails(mgr_object_create(h->c, "dict", NULL, too_many, 3, &x), MGR_EARGS, "");
	mgr_value_free(three);
	mgr_value_free(pairs);
	mgr_value_free(kw);
}

static void test_list_contains_concat_repeat(void **state)
{
	struct harness *h = *state;
	mgr_object *l = new_obj(h, "list");
	list_fill(l, 2, (int64_t[]){1, 2});
	bool found;
	mgr_value *two = I(2);
	assert_ok(mgr_list_contains(l, two, &found));
	assert_true(found);
	mgr_value_free(two);
	mgr_value *r;
	assert_ok(mgr_list_concat(l, ints(1, (int64_t[]){3}), &r)); /* proxy + [3] */
	assert_value_is(r, "[1, 2, 3]");
	mgr_value_free(r);
	assert_ok(mgr_list_repeat(l, 2, &r)); /* proxy * 2 */
	assert_value_is(r, "[1, 2, 1, 2]");
	mgr_value_free(r);
	assert_list_is(l, "[1, 2]"); /* copies: the list is as it was */
	assert_ok(mgr_list_imul(l, 2)); /* proxy *= 2 */
	assert_list_is(l, "[1, 2, 1, 2]");
	assert_ok(mgr_list_extend(l, ints(1, (int64_t[]){5}))); /* proxy += [5] */
	assert_list_is(l, "[1, 2, 1, 2, 5]");
	assert_fails(mgr_list_concat(l, I(1), &r), MGR_EARGS, "can only concatenate list");
	assert_fails(mgr_list_imul(l, INT64_MAX), MGR_ELIMIT, "too long");
	assert_list_is(l, "[1, 2, 1, 2, 5]");
	mgr_object_release(l);
}

static void assert_repr_is(mgr_object *o, size_t max, const char *want)
{
	char *text = NULL;
	assert_ok(mgr_object_repr(o, max, &text));
	assert_string_equal(text, want);
	free(text);
}

/* str()/repr() of any object, made by the manager: a type's own (dict,
 * list, namespace), else from what describe shows. */
static void test_repr(void **state)
{
	struct harness *h = *state;
	mgr_object *d = new_obj(h, "dict"), *l = new_obj(h, "list");
	mgr_value *k = S("k");
	assert_ok(mgr_dict_set(d, S("a"), I(1)));
	assert_ok(mgr_dict_set(d, S("b"), mgr_value_new_double(0.5)));
	assert_ok(mgr_dict_set(d, I(3), mgr_value_new_nil()));
	assert_ok(mgr_list_append(l, mgr_value_new_bool(true)));
	assert_ok(mgr_list_append(l, mgr_object_ref(d)));
	assert_repr_is(d, 0, "{'a': 1, 'b': 0.5, 3: None}");
	char want[64];
	snprintf(want, sizeof(want), "[True, <dict #%llu>]", (unsigned long long)mgr_object_id(d));
	assert_repr_is(l, 0, want);
	assert_repr_is(d, 12, "{'a': 1, ...");
	mgr_object *c = new_obj(h, "counter");
	assert_ok(mgr_counter_set(c, 5));
	assert_repr_is(c, 0, "<counter(5)>");
	mgr_object *e = new_obj(h, "event");
	assert_repr_is(e, 0, "<event(set=False, waiters=[])>");
	mgr_object *lk = new_obj(h, "lock");
	assert_repr_is(lk, 0, "<lock(locked=False, owner_pid=None, owner_session=None, robust=True, "
			      "owner_died=False, waiters=[])>");
	char *text;
	assert_fails(mgr_object_repr(d, 4, &text), MGR_EARGS, "max is 8");
	mgr_value *gone = mgr_value_new_int(999999);
	mgr_value *r = NULL;
	assert_fails(mgr_call(mgr_client_manager(h->c), "repr", &gone, 1, &r), MGR_ENOOBJ, "no object");
	mgr_value_free(gone);
	mgr_value_free(k);
	mgr_object_release(lk);
	mgr_object_release(e);
	mgr_object_release(c);
	mgr_object_release(l);
	mgr_object_release(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dict_set_get_del),
		cmocka_unit_test(test_dict_views_update_copy),
		cmocka_unit_test(test_dict_pop_setdefault),
		cmocka_unit_test(test_dict_incr),
		cmocka_unit_test(test_list_index_get_set_del),
		cmocka_unit_test(test_list_append_extend_insert),
		cmocka_unit_test(test_list_pop),
		cmocka_unit_test(test_list_remove_index_count),
		cmocka_unit_test(test_list_slice),
		cmocka_unit_test(test_list_reverse_sort_clear_copy),
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_wrong_arguments),
		cmocka_unit_test(test_no_method),
		cmocka_unit_test(test_no_object),
		cmocka_unit_test(test_refs_in_containers),
		cmocka_unit_test(test_errmsg),
		cmocka_unit_test(test_dict_popitem_create),
		cmocka_unit_test(test_list_contains_concat_repeat),
		cmocka_unit_test(test_repr),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
