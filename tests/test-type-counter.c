/* Unit tests for the built-in counter (mgrd/type-counter.c), run in-process
 * through the type's method table: create, get, set, add, cas, and the
 * handlers' own argument checks. */
#include "type-helpers.h"

static int setup(void **state) { return th_fx_setup(state, &type_counter); }

static int64_t get(struct fx *f)
{
	assert_int_equal(th_run(&f->t, f->obj, "get", 0), 0);
	assert_int_equal(mgr_value_kind(th_result(&f->t)), MGR_INT);
	return mgr_value_int(th_result(&f->t));
}

static void test_table(void **state)
{
	(void)state;
	assert_ptr_equal(types_find("counter"), &type_counter);
	static const struct {
		const char *name;
		int min, max;
	} rows[] = {{"get", 0, 0}, {"set", 1, 1}, {"add", 0, 1}, {"cas", 2, 2}, {"take", 0, 1}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct method *m = types_method(&type_counter, rows[i].name);
		assert_non_null(m);
		assert_int_equal(m->min_args, rows[i].min);
		assert_int_equal(m->max_args, rows[i].max);
	}
	assert_null(types_method(&type_counter, "incr"));
	assert_int_equal(type_counter.nmethods, 5);
}

static void test_create(void **state)
{
	struct fx *f = *state;
	struct object *o;
	assert_int_equal(get(f), 0); /* default 0 */
	assert_int_equal(th_create(&f->reg, &type_counter, &o, 1, I(-17)), 0);
	assert_int_equal(th_run(&f->t, o, "get", 0), 0);
	assert_int_equal(mgr_value_int(th_result(&f->t)), -17);
	assert_int_equal(th_create(&f->reg, &type_counter, &o, 1, NIL()), 0);
	assert_int_equal(th_run(&f->t, o, "get", 0), 0);
	assert_int_equal(mgr_value_int(th_result(&f->t)), 0);
	assert_int_equal(th_create(&f->reg, &type_counter, &o, 1, S("5")), MGR_EARGS);
	assert_int_equal(th_create(&f->reg, &type_counter, &o, 1, D(5.0)), MGR_EARGS);
	assert_int_equal(f->reg.live, 3);
}

static void test_get_set(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, I(42)), 0);
	assert_null(th_result(&f->t)); /* set answers nil */
	assert_int_equal(get(f), 42);
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, I(INT64_MIN)), 0);
	assert_true(get(f) == INT64_MIN);
	/* wrong kinds leave the value alone */
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, S("1")), MGR_EARGS);
	assert_true(strstr(f->t.c.err, "int") != NULL);
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, D(1.0)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, NIL()), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, B(true)), MGR_EARGS);
	assert_true(get(f) == INT64_MIN);
	/* counts through the table */
	assert_int_equal(th_run(&f->t, f->obj, "set", 0), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "set", 2, I(1), I(2)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "get", 1, I(1)), MGR_EARGS);
}

static void test_add(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "add", 0), 0);
	assert_int_equal(mgr_value_int(th_result(&f->t)), 1);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, I(10)), 0);
	assert_int_equal(mgr_value_int(th_result(&f->t)), 11);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, I(-20)), 0);
	assert_int_equal(mgr_value_int(th_result(&f->t)), -9);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, NIL()), 0); /* nil: the default */
	assert_int_equal(mgr_value_int(th_result(&f->t)), -8);
	assert_int_equal(get(f), -8);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, S("x")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, D(1.5)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "add", 2, I(1), I(1)), MGR_EARGS);
	assert_int_equal(get(f), -8);
}

static void test_add_overflow(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, I(INT64_MAX - 1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "add", 0), 0);
	assert_true(mgr_value_int(th_result(&f->t)) == INT64_MAX);
	assert_int_equal(th_run(&f->t, f->obj, "add", 0), MGR_ERANGE);
	assert_true(f->t.c.err[0] != '\0');
	assert_true(get(f) == INT64_MAX); /* unchanged */
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, I(INT64_MIN)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, I(-1)), MGR_ERANGE);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, I(INT64_MAX)), 0);
	assert_int_equal(mgr_value_int(th_result(&f->t)), -1);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, I(INT64_MIN)), MGR_ERANGE);
	assert_int_equal(get(f), -1);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, I(1)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "add", 1, I(INT64_MIN)), 0);
	assert_true(mgr_value_int(th_result(&f->t)) == INT64_MIN);
}

static void test_cas(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, I(5)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "cas", 2, I(4), I(100)), 0);
	assert_int_equal(mgr_value_kind(th_result(&f->t)), MGR_BOOL);
	assert_false(mgr_value_bool(th_result(&f->t)));
	assert_int_equal(get(f), 5);
	assert_int_equal(th_run(&f->t, f->obj, "cas", 2, I(5), I(100)), 0);
	assert_true(mgr_value_bool(th_result(&f->t)));
	assert_int_equal(get(f), 100);
	assert_int_equal(th_run(&f->t, f->obj, "cas", 2, I(5), I(7)), 0);
	assert_false(mgr_value_bool(th_result(&f->t)));
	assert_int_equal(get(f), 100);
	/* kinds of both arguments are checked before anything changes */
	assert_int_equal(th_run(&f->t, f->obj, "cas", 2, I(100), S("x")), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "cas", 2, S("x"), I(1)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "cas", 2, D(100.0), I(1)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "cas", 1, I(100)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "cas", 3, I(100), I(1), I(2)), MGR_EARGS);
	assert_int_equal(get(f), 100);
}

static void test_take(void **state)
{
	struct fx *f = *state;
	assert_int_equal(th_run(&f->t, f->obj, "set", 1, I(3)), 0);
	assert_int_equal(th_run(&f->t, f->obj, "take", 0), 0); /* n defaults to 1 */
	assert_true(mgr_value_bool(th_result(&f->t)));
	assert_int_equal(get(f), 2);
	assert_int_equal(th_run(&f->t, f->obj, "take", 1, I(2)), 0); /* exactly what is left */
	assert_true(mgr_value_bool(th_result(&f->t)));
	assert_int_equal(get(f), 0);
	assert_int_equal(th_run(&f->t, f->obj, "take", 1, I(1)), 0); /* none left: unchanged */
	assert_false(mgr_value_bool(th_result(&f->t)));
	assert_int_equal(get(f), 0);
	assert_int_equal(th_run(&f->t, f->obj, "take", 1, I(-1)), MGR_EARGS);
	assert_int_equal(th_run(&f->t, f->obj, "take", 1, S("x")), MGR_EARGS);
	assert_int_equal(get(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_create, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_get_set, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_add, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_add_overflow, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_cas, setup, th_fx_teardown),
		cmocka_unit_test_setup_teardown(test_take, setup, th_fx_teardown),
	};
	/* MGR_TEST_SKIP=pattern skips tests (e.g. a known crash under ASan) */
	if (getenv("MGR_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("MGR_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
