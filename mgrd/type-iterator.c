/* iterator: what a container's `iter` makes (type-iterator.h). It holds a
 * ref to its container, so the container lives while it does; next(n)
 * walks it with the container's step function, a batch bounded by
 * ITER_MAX_BATCH, ITER_MAX_BYTES and the frame limits, and answers ESTOP
 * at the end, from when on it holds its container no longer (Python's
 * exhausted iterators stay exhausted). Clients cannot create one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/codec.h"
#include "call.h"
#include "call-create.h"
#include "registry.h"
#include "state.h"
#include "type-iterator.h"
#include "types-builtin.h"

/* A batch's bytes at most, below the frame limit: one `next` does not keep
 * the loop (and the other clients) for long. */
#define ITER_MAX_BYTES (1u << 20)

struct iter {
	struct registry *reg;
	mgr_value *of; /* a ref to the container (a reference); NULL once exhausted */
	iter_step_fn step;
	struct iter_pos pos;
	struct frame_limits lim;
	uint64_t served; /* entries given so far */
};

#define ITER(c) ((struct iter *)(c)->obj->state)

/* Made by iter_open through call_create: c->obj is the container. */
static int iter_create(struct call *c, void **state)
{
	if (!c->srv || !c->obj || c->obj->type == &type_manager)
		return call_fail(c, MGR_EPERM, "an iterator comes from a container's iter");
	struct iter *it = calloc(1, sizeof(*it));
	if (!it || !(it->of = mgr_value_new_ref(c->obj->id, c->obj->type->name))) {
		free(it);
		return MGR_ENOMEM;
	}
	it->reg = &c->srv->reg;
	it->lim = c->srv->cfg.frame;
	*state = it;
	return 0;
}

static void iter_destroy(void *state)
{
	struct iter *it = state;
	mgr_value_free(it->of); /* the container's reference goes */
	free(it);
}

int iter_open(struct call *c, iter_step_fn step, const struct iter_pos *start)
{
	mgr_value *ref;
	int err = call_create(c, &type_iterator, NULL, &ref);
	if (err)
		return err;
	struct object *o = registry_get(&c->srv->reg, mgr_value_ref_id(ref));
	struct iter *it = o->state;
	it->step = step;
	it->pos = *start;
	return call_return(c, ref); /* the reply hands the session a reference */
}

/* What one reply may carry: bytes and items, from the frame limits. */
static void iter_budget(const struct iter *it, size_t *bytes, uint64_t *items)
{
	size_t frame = it->lim.max_frame ? it->lim.max_frame : ITER_MAX_BYTES;
	frame -= frame / 8 < 4096 ? frame / 8 : 4096; /* the reply's own fields */
	*bytes = frame < ITER_MAX_BYTES ? frame : ITER_MAX_BYTES;
	*items = it->lim.max_items ? it->lim.max_items - 1 : UINT64_MAX; /* the list itself */
}

/* Whether v fits what is left of the budget (and the nesting limit inside
 * the reply's list); takes its share if so. */
static bool iter_fits(const struct iter *it, const mgr_value *v, size_t *bytes, uint64_t *items)
{
	size_t size = codec_len_field(codec_value_size(v));
	uint64_t n = 0;
	uint32_t room = it->lim.max_depth ? it->lim.max_depth - 1 : UINT32_MAX - 1;
	if (codec_value_depth(v, room, &n) > room || size > *bytes || n > *items)
		return false;
	*bytes -= size;
	*items -= n;
	return true;
}

/* One batch into out: 0 (out may be short: the end or the budget), or an
 * error with the position unmoved past what out holds. */
static int iter_fill(struct call *c, struct iter *it, const struct object *o, size_t n,
		     mgr_value *out)
{
	size_t bytes;
	uint64_t items;
	iter_budget(it, &bytes, &items);
	while (mgr_value_len(out) < n) {
		struct iter_pos at = it->pos;
		mgr_value *v;
		int err = it->step(c, o, &it->pos, &v);
		if (err)
			return err;
		if (!iter_fits(it, v, &bytes, &items)) {
			it->pos = at; /* given by the next batch */
			mgr_value_free(v);
			if (!mgr_value_len(out))
				return call_fail(c, MGR_ELIMIT, "entry %" PRIu64 " does not fit one reply",
						 it->served);
			return 0;
		}
		if (mgr_value_list_append(out, v))
			return MGR_ENOMEM;
		it->served++;
	}
	return 0;
}

/* The walk is over: the container goes (if this held it last). */
static void iter_finish(struct iter *it)
{
	mgr_value *of = it->of;
	it->of = NULL;
	mgr_value_free(of);
}

/* next(n=1): a list of up to n entries (at most ITER_MAX_BATCH, fewer if
 * the budget is reached first); ESTOP once none is left. */
static int iter_next(struct call *c)
{
	struct iter *it = ITER(c);
	int64_t n;
	int err = arg_int_opt(c, 0, 1, &n);
	if (err || n < 1)
		return err ? err : call_fail(c, MGR_EARGS, "iterator.next: n must be at least 1");
	if (!it->of)
		return call_fail(c, MGR_ESTOP, "the iterator is exhausted");
	const struct object *o = registry_get(it->reg, mgr_value_ref_id(it->of));
	if (!o || !o->state)
		return call_fail(c, MGR_ENOOBJ, "the %s iterated was deleted", mgr_value_ref_type(it->of));
	mgr_value *out = mgr_value_new_list();
	err = out ? iter_fill(c, it, o, n > ITER_MAX_BATCH ? ITER_MAX_BATCH : (size_t)n, out)
		  : MGR_ENOMEM;
	if (err == MGR_ESTOP)
		iter_finish(it); /* o may be gone now */
	if (err == MGR_ESTOP && mgr_value_len(out))
		err = 0;
	if (err) {
		mgr_value_free(out);
		return err == MGR_ESTOP ? call_fail(c, err, "the iterator is exhausted") : err;
	}
	return call_return(c, out);
}

static const struct method iter_methods[] = {
	{"next", iter_next, 0, 1, 0, "n=1",
	 "a list of up to n entries (at most 1000); ESTOP at the end, ECHANGED if the container changed"},
};

/* For `mgrctl show`: {of: the container's ref (nil once exhausted), served}. */
static mgr_value *iter_describe(const struct object *o, size_t limit)
{
	(void)limit;
	const struct iter *it = o->state;
	mgr_value *m = mgr_value_new_map();
	if (mgr_value_map_set(m, mgr_value_new_string("of"),
			      it->of ? mgr_value_copy(it->of) : mgr_value_new_nil()) ||
	    mgr_value_map_set(m, mgr_value_new_string("served"),
			      mgr_value_new_int((int64_t)it->served))) {
		mgr_value_free(m);
		return NULL;
	}
	return m;
}

static char *iter_repr(const struct object *o, size_t max)
{
	const struct iter *it = o->state;
	char buf[96];
	if (it->of)
		snprintf(buf, sizeof(buf), "<%s_iterator of #%" PRIu64 ">", mgr_value_ref_type(it->of),
			 mgr_value_ref_id(it->of));
	else
		snprintf(buf, sizeof(buf), "<exhausted iterator>");
	struct value_text t;
	value_text_init(&t, max);
	value_text_put(&t, buf);
	return value_text_end(&t);
}

const struct type type_iterator = {
	.name = "iterator",
	.doc = "a walk over a dict or list (made by their iter method)",
	.create = iter_create,
	.destroy = iter_destroy,
	.describe = iter_describe,
	.repr = iter_repr,
	.methods = iter_methods,
	.nmethods = sizeof(iter_methods) / sizeof(iter_methods[0]),
	.flags = TYPE_INTERNAL | TYPE_STATE_MAP,
};
