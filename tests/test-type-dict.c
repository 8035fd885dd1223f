/* Unit tests for the built-in dict (mgrd/type-dict.c), run in-process
 * through the type's method table: every method, its results (owned or
 * borrowed), its exact error codes, and the handlers' argument checks. */
#include "../common/htab.h"
#include "type-helpers.h"

static int setup(void **state) { return th_fx_setup(state, &type_dict); }

static void set(struct fx *f, mgr_value *k, mgr_value *v)
{
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, k, v), 0);
}

static int64_t len(struct fx *f)
{
	assert_int_equal(th_run(&f->t, f->obj, "len", 0), 0);
	return mgr_value_int(th_result(&f->t));
}

static const mgr_value *res(struct fx *f) { return th_result(&f->t); }

/* keys() as a list of strings, checked against want. */
static void check_keys(struct fx *f, size_t n, const char *const *want)
{
	assert_int_equal(th_run(&f->t, f->obj, "keys", 0), 0);
	const mgr_value *l = res(f);
	assert_int_equal(mgr_value_kind(l), MGR_LIST);
	assert_int_equal(mgr_value_len(l), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(mgr_value_string(mgr_value_list_get(l, i), NULL), want[i]);
}

static void test_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int min, max;
	} rows[] = {{"get", 1, 2},	{"set", 2, 2},	 {"del", 1, 1},	   {"contains", 1, 1},
		    {"len", 0, 0},	{"keys", 0, 0},	 {"values", 0, 0}, {"items", 0, 0},
		    {"update", 1, 1},	{"pop", 1, 2},	 {"setdefault", 1, 2},
		    {"clear", 0, 0},	{"copy", 0, 0},	 {"incr", 1, 2},
		    {"popitem", 0, 0},	{"iter", 0, 1}};
	size_t n = sizeof(rows) / sizeof(rows[0]);
	assert_int_equal(type_dict.nmethods, n);
	for (size_t i = 0; i < n; i++) {
		const struct method *m = types_method(&type_dict, rows[i].name);
		if (!m)
			fail_msg("dict has no method %s", rows[i].name);
		assert_int_equal(m->min_args, rows[i].min);
		assert_int_equal(m->max_args, rows[i].max);
	}
	assert_null(types_method(&type_dict, "nope"));
}

static void test_get_set(void **state)
{
	struct fx *f = *state;
	set(f, S("a"), I(1));
	assert_null(res(f));
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("a")), 0);
	/* a stored value comes back borrowed, not copied */
	assert_non_null(f->t.c.borrowed);
	assert_null(f->t.c.result);
	assert_int_equal(mgr_value_int(res(f)), 1);

	/* absent without default: ENOKEY naming the key */
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("zz")), MGR_ENOKEY);
	assert_non_null(strstr(f->t.c.err, "\"zz\""));
	/* absent with default: the default, owned */
	assert_int_equal(th_run(&f->t, f->obj, "get", 2, S("zz"), I(9)), 0);
	assert_non_null(f->t.c.result);
	assert_int_equal(mgr_value_int(res(f)), 9);
	assert_int_equal(th_run(&f->t, f->obj, "get", 2, S("zz"), NIL()), 0);
	assert_int_equal(mgr_value_kind(res(f)), MGR_NIL);
	/* present with default: the stored value */
	assert_int_equal(th_run(&f->t, f->obj, "get", 2, S("a"), I(9)), 0);
	assert_int_equal(mgr_value_int(res(f)), 1);
	assert_int_equal(len(f), 1); /* get with a default does not store it */

	/* replace */
	set(f, S("a"), S("one"));
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("a")), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "one");
	assert_int_equal(len(f), 1);

	/* keys of every allowed kind, all distinct */
	set(f, I(1), S("int"));
	set(f, B(true), S("bool"));
	set(f, mgr_value_new_bytes("a", 1), S("bytes"));
	assert_int_equal(len(f), 4);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, B(true)), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "bool");
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(1)), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "int");
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, mgr_value_new_bytes("a", 1)), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "bytes");

	/* values of any kind, nested, stored as given */
	mgr_value *l = th_ints(3, 1, 2, 3);
	set(f, S("list"), mgr_value_copy(l));
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("list")), 0);
	assert_true(mgr_value_equal(res(f), l));
	mgr_value_free(l);
}

/* A value of a kind that cannot be a key is ETYPE, as inside a map
 * argument (issue 17); a missing one is a count error (EARGS). */
static void test_bad_keys(void **state)
{
	struct fx *f = *state;
	static const char *const methods[] = {"get", "del", "contains", "pop", "setdefault", "incr"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		assert_int_equal(th_run(&f->t, f->obj, methods[i], 1, D(1.0)), MGR_ETYPE);
		assert_int_equal(th_run(&f->t, f->obj, methods[i], 1, NIL()), MGR_ETYPE);
		assert_int_equal(th_run(&f->t, f->obj, methods[i], 1, mgr_value_new_list()), MGR_ETYPE);
		assert_int_equal(th_run(&f->t, f->obj, methods[i], 1, mgr_value_new_map()), MGR_ETYPE);
		assert_int_equal(th_run(&f->t, f->obj, methods[i], 1, mgr_value_new_ref(1, "x")),
				 MGR_ETYPE);
	}
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, D(1.0), I(1)), MGR_ETYPE);
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, mgr_value_new_list(), I(1)), MGR_ETYPE);
	assert_true(strstr(f->t.c.err, "key") != NULL);
	assert_int_equal(len(f), 0);
	/* counts through the table */
	assert_int_equal(th_run(&f->t, f->obj, "get", 0), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "get", 3, S("a"), I(1), I(2)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, S("a")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "len", 1, S("a")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "update", 0), MGR_EARGS);
	assert_int_equal(len(f), 0);
}

static void test_del_contains_len(void **state)
{
	struct fx *f = *state;
	assert_int_equal(len(f), 0);
	set(f, S("a"), I(1));
	set(f, S("b"), I(2));
	set(f, S("c"), I(3));
	assert_int_equal(len(f), 3);
	assert_int_equal(th_run(&f->t, f->obj, "contains", 1, S("b")), 0);
	assert_int_equal(mgr_value_kind(res(f)), MGR_BOOL);
	assert_true(mgr_value_bool(res(f)));
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, S("b")), 0);
	assert_null(res(f));
	assert_int_equal(th_run(&f->t, f->obj, "contains", 1, S("b")), 0);
	assert_false(mgr_value_bool(res(f)));
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, S("b")), MGR_ENOKEY);
	assert_non_null(strstr(f->t.c.err, "\"b\""));
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, I(7)), MGR_ENOKEY);
	assert_int_equal(len(f), 2);
	/* re-insert goes to the end */
	set(f, S("b"), I(22));
	check_keys(f, 3, (const char *const[]){"a", "c", "b"});
}

static void test_views(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "keys", 0), 0);
	assert_int_equal(mgr_value_kind(res(f)), MGR_LIST);
	assert_int_equal(mgr_value_len(res(f)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "items", 0), 0);
	assert_int_equal(mgr_value_len(res(f)), 0);

	set(f, S("x"), I(1));
	set(f, S("y"), th_ints(2, 7, 8));
	set(f, S("z"), NIL());
	set(f, S("x"), I(10)); /* replace keeps x first */
	check_keys(f, 3, (const char *const[]){"x", "y", "z"});

	assert_int_equal(th_run(&f->t, f->obj, "values", 0), 0);
	const mgr_value *v = res(f);
	assert_int_equal(mgr_value_len(v), 3);
	assert_int_equal(mgr_value_int(mgr_value_list_get(v, 0)), 10);
	th_assert_ints(mgr_value_list_get(v, 1), 2, 7, 8);
	assert_int_equal(mgr_value_kind(mgr_value_list_get(v, 2)), MGR_NIL);

	assert_int_equal(th_run(&f->t, f->obj, "items", 0), 0);
	const mgr_value *it = res(f);
	assert_int_equal(mgr_value_len(it), 3);
	for (size_t i = 0; i < 3; i++) {
		const mgr_value *pair = mgr_value_list_get(it, i);
		assert_int_equal(mgr_value_kind(pair), MGR_LIST);
		assert_int_equal(mgr_value_len(pair), 2);
	}
	const mgr_value *p1 = mgr_value_list_get(it, 1);
	assert_string_equal(mgr_value_string(mgr_value_list_get(p1, 0), NULL), "y");
	th_assert_ints(mgr_value_list_get(p1, 1), 2, 7, 8);

	/* the views are copies: the dict does not change with them */
	mgr_value *l = f->t.c.result;
	f->t.c.result = NULL;
	mgr_value_list_append(l, I(1));
	mgr_value_free(l);
	assert_int_equal(len(f), 3);

	/* after deletes the views skip the holes */
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, S("x")), 0);
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, S("z")), 0);
	check_keys(f, 1, (const char *const[]){"y"});
	assert_int_equal(th_run(&f->t, f->obj, "values", 0), 0);
	assert_int_equal(mgr_value_len(res(f)), 1);
}

static void test_update(void **state)
{
	struct fx *f = *state;
	set(f, S("a"), I(1));
	set(f, S("b"), I(2));
	mgr_value *m = mgr_value_new_map();
	mgr_value_map_set(m, S("b"), I(20));
	mgr_value_map_set(m, S("c"), I(30));
	mgr_value_map_set(m, I(4), th_ints(1, 4));
	assert_int_equal(th_run(&f->t, f->obj, "update", 1, m), 0);
	assert_null(res(f));
	assert_int_equal(len(f), 4);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("b")), 0);
	assert_int_equal(mgr_value_int(res(f)), 20);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(4)), 0);
	th_assert_ints(res(f), 1, 4);
	assert_int_equal(th_run(&f->t, f->obj, "copy", 0), 0);
	const mgr_value *c = res(f);
	assert_string_equal(mgr_value_string(mgr_value_map_key(c, 0), NULL), "a");
	assert_string_equal(mgr_value_string(mgr_value_map_key(c, 1), NULL), "b");
	assert_string_equal(mgr_value_string(mgr_value_map_key(c, 2), NULL), "c");
	assert_int_equal(mgr_value_int(mgr_value_map_key(c, 3)), 4);

	/* an empty map changes nothing */
	assert_int_equal(th_run(&f->t, f->obj, "update", 1, mgr_value_new_map()), 0);
	assert_int_equal(len(f), 4);
	/* anything but a map: EARGS, nothing changed */
	assert_int_equal(th_run(&f->t, f->obj, "update", 1, th_ints(2, 1, 2)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "update", 1, S("ab")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "update", 1, NIL()), MGR_EARGS);
	assert_int_equal(len(f), 4);
}

static uint64_t constant_hash(const mgr_value *key)
{
	(void)key;
	return 42;
}

/* Keys that all collide (a constant hash through the test seam): update
 * and setdefault stop at the probe cap with ELIMIT, not ENOMEM; the dict
 * keeps what went in and stays usable. */
static void test_colliding_keys(void **state)
{
	struct fx *f = *state;
	mgr_value *m = mgr_value_new_map(); /* built with the real hash */
	for (int i = 0; i < 300; i++)
		mgr_value_map_set(m, I(i), I(i));
	struct htab_test_hook hook = {constant_hash, 0};
	htab_test_set_hook(&hook);
	assert_int_equal(th_run(&f->t, f->obj, "update", 1, m), MGR_ELIMIT);
	assert_string_equal(f->t.c.err, "dict.update: too many colliding keys");
	int64_t n = len(f);
	assert_true(n > 0 && n < 300);
	assert_int_equal(th_run(&f->t, f->obj, "setdefault", 2, I(1000), I(1)), MGR_ELIMIT);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(0)), 0);
	assert_int_equal(mgr_value_int(res(f)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "clear", 0), 0);
	htab_test_set_hook(NULL);
	assert_int_equal(len(f), 0);
}

static void test_pop(void **state)
{
	struct fx *f = *state;
	set(f, S("a"), th_ints(2, 1, 2));
	set(f, S("b"), I(2));
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, S("a")), 0);
	assert_non_null(f->t.c.result); /* owned: it left the dict */
	th_assert_ints(res(f), 2, 1, 2);
	assert_int_equal(len(f), 1);
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, S("a")), MGR_ENOKEY);
	assert_non_null(strstr(f->t.c.err, "\"a\""));
	assert_int_equal(th_run(&f->t, f->obj, "pop", 2, S("a"), S("dflt")), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "dflt");
	assert_int_equal(th_run(&f->t, f->obj, "pop", 2, S("a"), NIL()), 0);
	assert_int_equal(mgr_value_kind(res(f)), MGR_NIL);
	assert_int_equal(len(f), 1);
	/* present with a default: the stored value */
	assert_int_equal(th_run(&f->t, f->obj, "pop", 2, S("b"), I(99)), 0);
	assert_int_equal(mgr_value_int(res(f)), 2);
	assert_int_equal(len(f), 0);
	/* pop on an empty dict */
	assert_int_equal(th_run(&f->t, f->obj, "pop", 1, S("b")), MGR_ENOKEY);
}

static void test_setdefault(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "setdefault", 2, S("a"), I(5)), 0);
	assert_non_null(f->t.c.borrowed);
	assert_int_equal(mgr_value_int(res(f)), 5);
	assert_int_equal(len(f), 1);
	/* present: the stored value, the default is dropped */
	assert_int_equal(th_run(&f->t, f->obj, "setdefault", 2, S("a"), I(6)), 0);
	assert_int_equal(mgr_value_int(res(f)), 5);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("a")), 0);
	assert_int_equal(mgr_value_int(res(f)), 5);
	/* without a default: nil is stored */
	assert_int_equal(th_run(&f->t, f->obj, "setdefault", 1, S("n")), 0);
	assert_int_equal(mgr_value_kind(res(f)), MGR_NIL);
	assert_int_equal(th_run(&f->t, f->obj, "contains", 1, S("n")), 0);
	assert_true(mgr_value_bool(res(f)));
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("n")), 0);
	assert_int_equal(mgr_value_kind(res(f)), MGR_NIL);
	assert_int_equal(len(f), 2);
	/* the borrowed default is the stored one */
	assert_int_equal(th_run(&f->t, f->obj, "setdefault", 2, S("l"), mgr_value_new_list()), 0);
	const mgr_value *stored = f->t.c.borrowed;
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("l")), 0);
	assert_ptr_equal(f->t.c.borrowed, stored);
}

static void test_clear(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 100; i++)
		set(f, I(i), I(i));
	assert_int_equal(th_run(&f->t, f->obj, "clear", 0), 0);
	assert_int_equal(len(f), 0);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(5)), MGR_ENOKEY);
	assert_int_equal(th_run(&f->t, f->obj, "clear", 0), 0); /* twice */
	set(f, S("again"), I(1));
	assert_int_equal(len(f), 1);
	check_keys(f, 1, (const char *const[]){"again"});
}

static void test_copy(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "copy", 0), 0);
	assert_int_equal(mgr_value_kind(res(f)), MGR_MAP);
	assert_int_equal(mgr_value_len(res(f)), 0);
	set(f, S("a"), th_ints(1, 1));
	set(f, I(2), S("two"));
	assert_int_equal(th_run(&f->t, f->obj, "copy", 0), 0);
	mgr_value *c = f->t.c.result;
	f->t.c.result = NULL;
	assert_non_null(c);
	assert_int_equal(mgr_value_len(c), 2);
	/* a deep copy: changing the dict leaves it alone */
	set(f, S("a"), I(0));
	mgr_value *k = S("a");
	th_assert_ints(mgr_value_map_get(c, k), 1, 1);
	mgr_value_free(k);
	mgr_value_free(c);
}

static void test_incr(void **state)
{
	struct fx *f = *state;
	/* absent: starts from 0 */
	assert_int_equal(th_run(&f->t, f->obj, "incr", 1, S("n")), 0);
	assert_int_equal(mgr_value_int(res(f)), 1);
	assert_int_equal(th_run(&f->t, f->obj, "incr", 1, S("n")), 0);
	assert_int_equal(mgr_value_int(res(f)), 2);
	assert_int_equal(th_run(&f->t, f->obj, "incr", 2, S("n"), I(-12)), 0);
	assert_int_equal(mgr_value_int(res(f)), -10);
	assert_int_equal(th_run(&f->t, f->obj, "incr", 2, S("n"), NIL()), 0);
	assert_int_equal(mgr_value_int(res(f)), -9);
	assert_int_equal(th_run(&f->t, f->obj, "incr", 2, S("m"), I(5)), 0);
	assert_int_equal(mgr_value_int(res(f)), 5);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("n")), 0);
	assert_int_equal(mgr_value_int(res(f)), -9);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("m")), 0);
	assert_int_equal(mgr_value_int(res(f)), 5);

	/* the stored value must be an int */
	set(f, S("s"), S("text"));
	assert_int_equal(th_run(&f->t, f->obj, "incr", 1, S("s")), MGR_ETYPE);
	assert_non_null(strstr(f->t.c.err, "string"));
	set(f, S("d"), D(1.0));
	assert_int_equal(th_run(&f->t, f->obj, "incr", 1, S("d")), MGR_ETYPE);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("s")), 0);
	assert_string_equal(mgr_value_string(res(f), NULL), "text");

	/* the delta must be an int */
	assert_int_equal(th_run(&f->t, f->obj, "incr", 2, S("n"), D(1.0)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "incr", 2, S("new"), S("1")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "contains", 1, S("new")), 0);
	assert_false(mgr_value_bool(res(f)));

	/* overflow either way: ERANGE, value unchanged */
	set(f, S("big"), I(INT64_MAX));
	assert_int_equal(th_run(&f->t, f->obj, "incr", 1, S("big")), MGR_ERANGE);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("big")), 0);
	assert_true(mgr_value_int(res(f)) == INT64_MAX);
	set(f, S("small"), I(INT64_MIN + 1));
	assert_int_equal(th_run(&f->t, f->obj, "incr", 2, S("small"), I(-1)), 0);
	assert_true(mgr_value_int(res(f)) == INT64_MIN);
	assert_int_equal(th_run(&f->t, f->obj, "incr", 2, S("small"), I(-1)), MGR_ERANGE);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, S("small")), 0);
	assert_true(mgr_value_int(res(f)) == INT64_MIN);
}

/* Many keys through the methods: growth of the table behind the dict. */
static void test_many(void **state)
{
	struct fx *f = *state;
	char buf[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "k%d", i);
		set(f, S(buf), I(i));
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(buf, sizeof(buf), "k%d", i);
		assert_int_equal(th_run(&f->t, f->obj, "del", 1, S(buf)), 0);
	}
	assert_int_equal(len(f), 2500);
	assert_int_equal(th_run(&f->t, f->obj, "keys", 0), 0);
	assert_string_equal(mgr_value_string(mgr_value_list_get(res(f), 0), NULL), "k1");
	assert_string_equal(mgr_value_string(mgr_value_list_get(res(f), 2499), NULL), "k4999");
	assert_int_equal(type_dict.length(f->obj->state), 2500);
}

/* popitem: the last entry inserted, as [key, value], LIFO; ENOKEY (Python's
 * KeyError) when empty; a key set again keeps its place. */
static void test_popitem(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "popitem", 0), MGR_ENOKEY);
	assert_string_equal(f->t.c.err, "popitem(): dictionary is empty");
	set(f, S("a"), I(1));
	set(f, S("b"), I(2));
	set(f, S("c"), I(3));
	set(f, S("a"), I(10)); /* a new value: the order stays a, b, c */
	assert_int_equal(th_run(&f->t, f->obj, "del", 1, S("b")), 0);
	static const char *const order[] = {"c", "a"};
	static const int vals[] = {3, 10};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(th_run(&f->t, f->obj, "popitem", 0), 0);
		const mgr_value *p = res(f);
		assert_int_equal(mgr_value_len(p), 2);
		assert_string_equal(mgr_value_string(mgr_value_list_get(p, 0), NULL), order[i]);
		assert_int_equal(mgr_value_int(mgr_value_list_get(p, 1)), vals[i]);
	}
	assert_int_equal(len(f), 0);
	assert_int_equal(th_run(&f->t, f->obj, "popitem", 0), MGR_ENOKEY);
}

/* dict(map), dict(pairs), dict(pairs, map): Python's dict(iterable,
 * **kwargs), the map winning; anything else EARGS. */
static void test_create_args(void **state)
{
	struct fx *f = *state;
	struct object *o;
	mgr_value *m = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(m, S("a"), I(1)), 0);
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 1, m), 0);
	assert_int_equal(th_run(&f->t, o, "get", 1, S("a")), 0);
	assert_int_equal(mgr_value_int(res(f)), 1);

	mgr_value *pairs = mgr_value_new_list(), *kw = mgr_value_new_map();
	assert_int_equal(mgr_value_list_append(pairs, th_ints(2, 7, 70)), 0);
	assert_int_equal(mgr_value_list_append(pairs, th_ints(2, 8, 80)), 0);
	assert_int_equal(mgr_value_map_set(kw, I(8), I(800)), 0);
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 2, pairs, kw), 0);
	assert_int_equal(th_run(&f->t, o, "items", 0), 0);
	assert_int_equal(mgr_value_len(res(f)), 2);
	th_assert_ints(mgr_value_list_get(res(f), 0), 2, 7, 70);
	th_assert_ints(mgr_value_list_get(res(f), 1), 2, 8, 800);

	pairs = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(pairs, th_ints(3, 1, 2, 3)), 0);
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 1, pairs), MGR_EARGS);
	pairs = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(pairs, th_ints(2, 1, 2)), 0);
	mgr_value *bad = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(bad, D(1.5)), 0);
	assert_int_equal(mgr_value_list_append(bad, I(1)), 0);
	assert_int_equal(mgr_value_list_append(pairs, bad), 0); /* a double is no key: ETYPE */
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 1, pairs), MGR_ETYPE);
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 1, I(3)), MGR_EARGS);
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 2, NIL(), I(3)), MGR_EARGS);
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 3, NIL(), NIL(), NIL()), MGR_EARGS);
	assert_int_equal(th_create(&f->reg, &type_dict, &o, 1, NIL()), 0);
	assert_int_equal(th_run(&f->t, o, "len", 0), 0);
	assert_int_equal(mgr_value_int(res(f)), 0);
}

/* The repr hook: Python's text for keys and values of every kind. */
static void test_repr(void **state)
{
	struct fx *f = *state;
	char *text = type_dict.repr(f->obj, 4096);
	assert_string_equal(text, "{}");
	free(text);
	mgr_value *l = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(l, NIL()), 0);
	assert_int_equal(mgr_value_list_append(l, B(true)), 0);
	assert_int_equal(mgr_value_list_append(l, D(2.5)), 0);
	assert_int_equal(mgr_value_list_append(l, D(1)), 0);
	assert_int_equal(mgr_value_list_append(l, D(0.1)), 0);
	assert_int_equal(mgr_value_list_append(l, D(1e16)), 0);
	assert_int_equal(mgr_value_list_append(l, mgr_value_new_bytes("\x00\xff", 2)), 0);
	set(f, S("a"), I(1));
	set(f, I(2), l);
	set(f, S("it's"), S("tab\there"));
	text = type_dict.repr(f->obj, 4096);
	assert_string_equal(text, "{'a': 1, 2: [None, True, 2.5, 1.0, 0.1, 1e+16, b'\\x00\\xff'], "
				  "\"it's\": 'tab\\there'}");
	free(text);
	text = type_dict.repr(f->obj, 10); /* cut, and says so */
	assert_string_equal(text, "{'a': 1...");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_get_set, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_del_contains_len, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_views, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_colliding_keys, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_pop, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_setdefault, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_clear, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_incr, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_popitem, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_args, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_repr, setup, th_fx_teardown),
	};
	/* MGR_TEST_SKIP=pattern skips tests (e.g. a known crash under ASan) */
	if (getenv("MGR_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("MGR_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
