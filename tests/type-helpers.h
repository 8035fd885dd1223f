/* Shared by the built-in type tests: run a method in-process, the way
 * dispatch.c does, but with no server and no connection. Arguments are
 * heap-allocated (handlers may take them); leftovers are freed after the
 * call. The argument count is checked against the method's row exactly as
 * dispatch_check_args() does, so the tables' min/max are exercised too. */
#ifndef TESTS_TYPE_HELPERS_H
#define TESTS_TYPE_HELPERS_H

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/value.h"
#include "../mgrd/dispatch.h"
#include "../mgrd/registry.h"
#include "../mgrd/types-builtin.h"

/* Stands in for object 0: the server's create runs with c->obj = manager. */
static struct object th_manager = {.id = 0, .type = &type_manager};

struct tcall {
	struct call c;
	int rc;
};

static inline mgr_value **th_args(size_t n, va_list ap)
{
	mgr_value **args = calloc(n + 1, sizeof(*args));
	assert_non_null(args);
	for (size_t i = 0; i < n; i++) {
		args[i] = va_arg(ap, mgr_value *);
		assert_non_null(args[i]);
	}
	return args;
}

static inline void th_free_args(mgr_value **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mgr_value_free(args[i]);
	free(args);
}

/* The result: owned or borrowed, or NULL for nil. */
static inline const mgr_value *th_result(const struct tcall *t)
{
	return t->c.borrowed ? t->c.borrowed : t->c.result;
}

static inline void th_done(struct tcall *t)
{
	mgr_value_free(t->c.result);
	memset(t, 0, sizeof(*t));
}

/* Runs o.method(args...): n arguments follow, consumed. Returns the code. */
static inline int th_run(struct tcall *t, struct object *o, const char *method, size_t n, ...)
{
	th_done(t);
	const struct method *m = types_method(o->type, method);
	assert_non_null(m);
	va_list ap;
	va_start(ap, n);
	mgr_value **args = th_args(n, ap);
	va_end(ap);
	t->c = (struct call){.obj = o, .method = m, .args = args, .nargs = n};
	if (n < (size_t)m->min_args || (m->max_args >= 0 && n > (size_t)m->max_args))
		t->rc = call_fail(&t->c, MGR_EARGS, "%s.%s: %zu arguments", o->type->name,
				  m->name, n);
	else
		t->rc = m->fn(&t->c);
	th_free_args(args, n);
	t->c.args = NULL;
	return t->rc;
}

/* Creates an anonymous object of type t with n constructor arguments. */
static inline int th_create(struct registry *reg, const struct type *t, struct object **out,
		     size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	mgr_value **args = th_args(n, ap);
	va_end(ap);
	struct call c = {.obj = &th_manager, .args = args, .nargs = n};
	int rc = registry_create(reg, t, NULL, &c, out);
	mgr_value_free(c.result);
	th_free_args(args, n);
	return rc;
}

/* The fixture of a type's tests: a registry holding one object of it. */
struct fx {
	struct registry reg;
	struct object *obj;
	struct tcall t;
};

static inline int th_fx_setup(void **state, const struct type *t)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(types_builtin_register(), 0);
	assert_int_equal(registry_init(&f->reg), 0);
	assert_int_equal(th_create(&f->reg, t, &f->obj, 0), 0);
	*state = f;
	return 0;
}

static inline int th_fx_teardown(void **state)
{
	struct fx *f = *state;
	th_done(&f->t);
	registry_fini(&f->reg);
	free(f);
	return 0;
}

/* Shorthands for arguments. */
#define I(x) mgr_value_new_int(x)
#define S(x) mgr_value_new_string(x)
#define D(x) mgr_value_new_double(x)
#define B(x) mgr_value_new_bool(x)
#define NIL() mgr_value_new_nil()

/* A list of n ints. */
static inline mgr_value *th_ints(size_t n, ...)
{
	mgr_value *l = mgr_value_new_list();
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mgr_value_list_append(l, I(va_arg(ap, int))), 0);
	va_end(ap);
	return l;
}

/* Checks that v is a list of exactly these ints. */
static inline void th_assert_ints(const mgr_value *v, size_t n, ...)
{
	assert_non_null(v);
	assert_int_equal(mgr_value_kind(v), MGR_LIST);
	assert_int_equal(mgr_value_len(v), n);
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const mgr_value *x = mgr_value_list_get(v, i);
		assert_int_equal(mgr_value_kind(x), MGR_INT);
		assert_int_equal(mgr_value_int(x), va_arg(ap, int));
	}
	va_end(ap);
}

#endif
