/* counter: a shared int64 with atomic add and compare-and-swap. */
#include <stdlib.h>

#include "call.h"
#include "types-builtin.h"

struct counter {
	int64_t value;
};

static int counter_create(struct call *c, void **state)
{
	struct counter *k = calloc(1, sizeof(*k));
	if (!k)
		return MGR_ENOMEM;
	int err = arg_int_opt(c, 0, 0, &k->value);
	if (err) {
		free(k);
		return err;
	}
	*state = k;
	return 0;
}

static int counter_get(struct call *c)
{
	return call_return_int(c, ((struct counter *)c->obj->state)->value);
}

static int counter_set(struct call *c)
{
	return arg_int(c, 0, &((struct counter *)c->obj->state)->value);
}

static int counter_add(struct call *c)
{
	struct counter *k = c->obj->state;
	int64_t delta, sum;
	int err = arg_int_opt(c, 0, 1, &delta);
	if (err)
		return err;
	if (__builtin_add_overflow(k->value, delta, &sum))
		return call_fail(c, MGR_ERANGE, "counter overflow: %lld + %lld",
				 (long long)k->value, (long long)delta);
	k->value = sum;
	return call_return_int(c, sum);
}

static int counter_cas(struct call *c)
{
	struct counter *k = c->obj->state;
	int64_t expected, desired;
	int err = arg_int(c, 0, &expected);
	if (!err)
		err = arg_int(c, 1, &desired);
	if (err)
		return err;
	bool swap = k->value == expected;
	if (swap)
		k->value = desired;
	return call_return_bool(c, swap);
}

static int counter_take(struct call *c)
{
	struct counter *k = c->obj->state;
	int64_t n;
	int err = arg_int_opt(c, 0, 1, &n);
	if (err)
		return err;
	if (n < 0)
		return call_fail(c, MGR_EARGS, "counter.take: n must not be negative");
	bool ok = k->value >= n;
	if (ok)
		k->value -= n;
	return call_return_bool(c, ok);
}

static const struct method counter_methods[] = {
	{"get", counter_get, 0, 0, METHOD_READONLY, "", "the value"},
	{"set", counter_set, 1, 1, 0, "value", "set the value"},
	{"add", counter_add, 0, 1, 0, "delta=1", "add delta; returns the new value"},
	{"cas", counter_cas, 2, 2, 0, "expected, new",
	 "set to new if the value is expected; returns whether it did"},
	{"take", counter_take, 0, 1, 0, "n=1",
	 "subtract n if at least n is there; returns whether it did"},
};

/* Snapshots (snapshot.c): the value as an int. */
static mgr_value *counter_save(const void *state)
{
	return mgr_value_new_int(((const struct counter *)state)->value);
}

static int counter_load(const mgr_value *saved, void **state)
{
	struct counter *k = saved->kind == MGR_INT ? malloc(sizeof(*k)) : NULL;
	if (!k)
		return saved->kind == MGR_INT ? MGR_ENOMEM : MGR_ETYPE;
	k->value = saved->u.i;
	*state = k;
	return 0;
}

const struct type type_counter = {
	.name = "counter",
	.doc = "a shared 64-bit integer",
	.create = counter_create,
	.ctor_args = "value=0",
	.destroy = free,
	.save = counter_save,
	.load = counter_load,
	.methods = counter_methods,
	.nmethods = sizeof(counter_methods) / sizeof(counter_methods[0]),
};
