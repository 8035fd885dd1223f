/* Argument helpers for method handlers: each checks one argument's kind and
 * fails with a message that names the method, the argument and the kinds. */
#include <stdio.h>

#include "call.h"

const mgr_value *arg_get(const struct call *c, size_t i)
{
	return i < c->nargs ? c->args[i] : NULL;
}

static int arg_wrong_as(struct call *c, int code, size_t i, const char *want)
{
	const mgr_value *v = arg_get(c, i);
	return call_fail(c, code, "%s.%s: argument %zu must be %s, got %s",
			 c->obj->type->name, c->method ? c->method->name : "create", i + 1,
			 want, v ? mgr_kind_name(mgr_value_kind(v)) : "nothing");
}

static int arg_wrong(struct call *c, size_t i, const char *want)
{
	return arg_wrong_as(c, MGR_EARGS, i, want);
}

int arg_int(struct call *c, size_t i, int64_t *out)
{
	const mgr_value *v = arg_get(c, i);
	if (!v || v->kind != MGR_INT)
		return arg_wrong(c, i, "an int");
	*out = v->u.i;
	return 0;
}

int arg_int_opt(struct call *c, size_t i, int64_t dflt, int64_t *out)
{
	const mgr_value *v = arg_get(c, i);
	if (!v || v->kind == MGR_NIL) {
		*out = dflt;
		return 0;
	}
	return arg_int(c, i, out);
}

int arg_bool_opt(struct call *c, size_t i, bool dflt, bool *out)
{
	const mgr_value *v = arg_get(c, i);
	if (!v || v->kind == MGR_NIL) {
		*out = dflt;
		return 0;
	}
	if (v->kind != MGR_BOOL)
		return arg_wrong(c, i, "a bool");
	*out = v->u.b;
	return 0;
}

int arg_string(struct call *c, size_t i, const char **out)
{
	const mgr_value *v = arg_get(c, i);
	if (!v || v->kind != MGR_STRING)
		return arg_wrong(c, i, "a string");
	*out = value_str(v);
	return 0;
}

int arg_key(struct call *c, size_t i, const mgr_value **out)
{
	const mgr_value *v = arg_get(c, i);
	if (!v || !value_is_key(v)) /* ETYPE, as a bad key inside a map argument */
		return arg_wrong_as(c, v ? MGR_ETYPE : MGR_EARGS, i, "a key (string, bytes, int or bool)");
	*out = v;
	return 0;
}

int arg_ctor_check(struct call *c, const struct type *t)
{
	int max = types_ctor_max_args(t);
	if (max < 0 || c->nargs <= (size_t)max)
		return 0;
	return call_fail(c, MGR_EARGS, "%s takes %d constructor argument%s (%s), got %zu", t->name,
			 max, max == 1 ? "" : "s", max ? t->ctor_args : "none", c->nargs);
}

mgr_value *arg_take(struct call *c, size_t i)
{
	if (i >= c->nargs)
		return mgr_value_new_nil();
	mgr_value *v = c->args[i];
	c->args[i] = NULL;
	return v ? v : mgr_value_new_nil();
}

int arg_index(struct call *c, size_t i, size_t len, bool end_ok, size_t *out)
{
	int64_t idx;
	int err = arg_int(c, i, &idx);
	if (err)
		return err;
	int64_t n = (int64_t)len, pos = idx < 0 ? idx + n : idx;
	if (pos < 0 || pos > n || (pos == n && !end_ok))
		return call_fail(c, MGR_EINDEX, "%s index %lld out of range (length %zu)",
				 c->obj->type->name, (long long)idx, len);
	*out = (size_t)pos;
	return 0;
}
