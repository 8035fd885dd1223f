/* list: Python's list semantics (negative indexes count from the end,
 * slices clamp), with pop/insert/remove atomic on the server, and
 * iterators that walk by index as Python's do. */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "gc.h"
#include "state.h"
#include "type-iterator.h"
#include "types-builtin.h"

#define LIST(c) ((struct vlist *)(c)->obj->state)

static int list_create(struct call *c, void **state)
{
	struct vlist *l = calloc(1, sizeof(*l));
	if (!l)
		return MGR_ENOMEM;
	const mgr_value *init = arg_get(c, 0);
	if (init && init->kind == MGR_LIST) { /* list(initial items) */
		mgr_value *v = arg_take(c, 0);
		*l = v->u.list;
		v->u.list = (struct vlist){0};
		mgr_value_free(v);
	}
	*state = l;
	return 0;
}

static void list_destroy(void *state)
{
	vlist_clear(state);
	free(state);
}

static size_t list_length(const void *state) { return ((const struct vlist *)state)->len; }

static int list_append(struct call *c)
{
	struct vlist *l = LIST(c);
	return vlist_insert(l, l->len, arg_take(c, 0));
}

static int list_extend(struct call *c)
{
	struct vlist *l = LIST(c);
	const mgr_value *src = arg_get(c, 0);
	if (src->kind != MGR_LIST)
		return call_fail(c, MGR_EARGS, "list.extend: argument 1 must be a list, got %s",
				 mgr_kind_name(src->kind));
	if (src->u.list.len == 0)
		return 0;
	if (vlist_reserve(l, l->len + src->u.list.len))
		return MGR_ENOMEM;
	memcpy(&l->items[l->len], src->u.list.items, src->u.list.len * sizeof(mgr_value *));
	l->len += src->u.list.len;
	c->args[0]->u.list.len = 0; /* items moved */
	return 0;
}

static int list_insert(struct call *c)
{
	struct vlist *l = LIST(c);
	int64_t idx, n = (int64_t)l->len;
	int err = arg_int(c, 0, &idx);
	if (err)
		return err;
	idx = idx < 0 ? (idx + n < 0 ? 0 : idx + n) : (idx > n ? n : idx); /* Python clamps */
	return vlist_insert(l, (size_t)idx, arg_take(c, 1));
}

static int list_get(struct call *c)
{
	size_t i;
	int err = arg_index(c, 0, LIST(c)->len, false, &i);
	return err ? err : call_return_borrowed(c, LIST(c)->items[i]);
}

static int list_set(struct call *c)
{
	size_t i;
	int err = arg_index(c, 0, LIST(c)->len, false, &i);
	if (err)
		return err;
	mgr_value_free(LIST(c)->items[i]);
	LIST(c)->items[i] = arg_take(c, 1);
	return 0;
}

static int list_del(struct call *c)
{
	size_t i;
	int err = arg_index(c, 0, LIST(c)->len, false, &i);
	if (!err)
		mgr_value_free(vlist_remove(LIST(c), i));
	return err;
}

static int list_pop(struct call *c)
{
	size_t i;
	if (LIST(c)->len == 0)
		return call_fail(c, MGR_EINDEX, "pop from empty list");
	if (c->nargs == 0)
		return call_return(c, vlist_remove(LIST(c), LIST(c)->len - 1));
	int err = arg_index(c, 0, LIST(c)->len, false, &i);
	return err ? err : call_return(c, vlist_remove(LIST(c), i));
}

/* First index of an item equal to argument 0, or -1. */
static int64_t list_find(struct call *c)
{
	const mgr_value *v = arg_get(c, 0);
	for (size_t i = 0; i < LIST(c)->len; i++)
		if (mgr_value_equal(LIST(c)->items[i], v))
			return (int64_t)i;
	return -1;
}

static int list_not_found(struct call *c)
{
	char buf[96];
	return call_fail(c, MGR_EVALUE, "%s is not in the list",
			 mgr_value_format(arg_get(c, 0), buf, sizeof(buf)));
}

static int list_remove(struct call *c)
{
	int64_t i = list_find(c);
	if (i < 0)
		return list_not_found(c);
	mgr_value_free(vlist_remove(LIST(c), (size_t)i));
	return 0;
}

static int list_index(struct call *c)
{
	int64_t i = list_find(c);
	return i < 0 ? list_not_found(c) : call_return_int(c, i);
}

static int list_count(struct call *c)
{
	int64_t n = 0;
	for (size_t i = 0; i < LIST(c)->len; i++)
		n += mgr_value_equal(LIST(c)->items[i], arg_get(c, 0));
	return call_return_int(c, n);
}

static int list_contains(struct call *c) { return call_return_bool(c, list_find(c) >= 0); }

static int list_len(struct call *c) { return call_return_int(c, (int64_t)LIST(c)->len); }

/* A slice bound: nil means the default; Python clamps into [0, len]. */
static int list_bound(struct call *c, size_t i, int64_t dflt, int64_t *out)
{
	int64_t n = (int64_t)LIST(c)->len, v;
	int err = arg_int_opt(c, i, dflt, &v);
	if (err)
		return err;
	if (v < 0)
		v += n;
	*out = v < 0 ? 0 : v > n ? n : v;
	return 0;
}

static int list_copy_range(struct call *c, size_t from, size_t to)
{
	mgr_value *out = mgr_value_new_list();
	if (!out || vlist_reserve(&out->u.list, to > from ? to - from : 0)) {
		mgr_value_free(out);
		return MGR_ENOMEM;
	}
	for (size_t i = from; i < to; i++)
		if (mgr_value_list_append(out, mgr_value_copy(LIST(c)->items[i]))) {
			mgr_value_free(out);
			return MGR_ENOMEM;
		}
	return call_return(c, out);
}

static int list_slice(struct call *c)
{
	int64_t start, stop;
	int err = list_bound(c, 0, 0, &start);
	if (!err)
		err = list_bound(c, 1, (int64_t)LIST(c)->len, &stop);
	return err ? err : list_copy_range(c, (size_t)start, stop > start ? (size_t)stop : (size_t)start);
}

static int list_copy(struct call *c) { return list_copy_range(c, 0, LIST(c)->len); }

/* ---- Python's + and *: concat and repeat answer a new plain list (a
 * copy, as `proxy + [..]` does); imul repeats in place (`*=`). ---- */

/* Argument i as a repeat count: below 0 counts as 0 (Python). ELIMIT when
 * len * n items would be more than a frame may carry (max_items): a
 * request of a few bytes must not make the manager build gigabytes. */
static int list_times(struct call *c, size_t i, size_t len, size_t *n)
{
	int64_t k;
	int err = arg_int(c, i, &k);
	if (err)
		return err;
	*n = k < 0 ? 0 : (size_t)k;
	size_t most = c->srv && c->srv->cfg.frame.max_items ? c->srv->cfg.frame.max_items : UINT32_MAX;
	if (len && *n > most / len)
		return call_fail(c, MGR_ELIMIT, "list.%s: %zu x %lld items is too long",
				 c->method->name, len, (long long)k);
	return 0;
}

/* Appends n copies of the first len items of src to out (src may be out:
 * its items are read after out grows). */
static int list_append_copies(struct vlist *out, const struct vlist *src, size_t len, size_t n)
{
	if (vlist_reserve(out, out->len + len * n))
		return MGR_ENOMEM;
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < len; i++) {
			mgr_value *v = mgr_value_copy(src->items[i]);
			if (!v)
				return MGR_ENOMEM;
			out->items[out->len++] = v;
		}
	return 0;
}

static int list_repeat(struct call *c)
{
	size_t n;
	int err = list_times(c, 0, LIST(c)->len, &n);
	mgr_value *out = err ? NULL : mgr_value_new_list();
	if (err || !out)
		return err ? err : MGR_ENOMEM;
	err = list_append_copies(&out->u.list, LIST(c), LIST(c)->len, n);
	if (err) {
		mgr_value_free(out);
		return err;
	}
	return call_return(c, out);
}

static int list_imul(struct call *c)
{
	struct vlist *l = LIST(c);
	size_t n, len = l->len;
	int err = list_times(c, 0, len, &n);
	if (err || n == 1)
		return err;
	if (n == 0) {
		vlist_clear(l);
		return 0;
	}
	err = list_append_copies(l, l, len, n - 1);
	while (err && l->len > len) /* all or nothing */
		mgr_value_free(l->items[--l->len]);
	return err;
}

static int list_concat(struct call *c)
{
	const mgr_value *tail = arg_get(c, 0);
	if (tail->kind != MGR_LIST)
		return call_fail(c, MGR_EARGS, "can only concatenate list (not \"%s\") to list",
				 mgr_kind_name(tail->kind));
	if ((size_t)LIST(c)->len + tail->u.list.len > UINT32_MAX)
		return call_fail(c, MGR_ELIMIT, "list.concat: the result is too long");
	mgr_value *out = mgr_value_new_list();
	int err = out ? list_append_copies(&out->u.list, LIST(c), LIST(c)->len, 1) : MGR_ENOMEM;
	if (!err) { /* the argument's items move */
		err = vlist_reserve(&out->u.list, out->u.list.len + tail->u.list.len);
		for (size_t i = 0; !err && i < tail->u.list.len; i++)
			out->u.list.items[out->u.list.len++] = tail->u.list.items[i];
		if (!err)
			c->args[0]->u.list.len = 0;
	}
	if (err) {
		mgr_value_free(out);
		return err;
	}
	return call_return(c, out);
}

/* ---- iterators (type-iterator.c): by index, as Python's list iterator:
 * items added or removed meanwhile are seen or skipped, never an error. */

static int list_step(struct call *c, const struct object *o, struct iter_pos *p, mgr_value **out)
{
	(void)c;
	const struct vlist *l = o->state;
	if (p->at >= l->len)
		return MGR_ESTOP;
	if (!(*out = mgr_value_copy(l->items[p->at])))
		return MGR_ENOMEM;
	p->at++;
	return 0;
}

static int list_iter(struct call *c)
{
	struct iter_pos start = {0};
	return iter_open(c, list_step, &start);
}

static int list_reverse(struct call *c)
{
	struct vlist *l = LIST(c);
	for (size_t i = 0, j = l->len; i + 1 < j; i++, j--) {
		mgr_value *t = l->items[i];
		l->items[i] = l->items[j - 1];
		l->items[j - 1] = t;
	}
	return 0;
}

static int list_clear(struct call *c)
{
	vlist_clear(LIST(c));
	return 0;
}

/* Stable merge sort; the items were checked to be mutually comparable. */
static void list_merge_sort(mgr_value **a, mgr_value **tmp, size_t n, bool rev)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;
	list_merge_sort(a, tmp, h, rev);
	list_merge_sort(a + h, tmp, n - h, rev);
	while (i < h && j < n) {
		int cmp = 0;
		mgr_value_compare(a[j], a[i], &cmp);
		tmp[k++] = (rev ? cmp > 0 : cmp < 0) ? a[j++] : a[i++];
	}
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

static int list_sort(struct call *c)
{
	struct vlist *l = LIST(c);
	bool rev;
	int cmp, err = arg_bool_opt(c, 0, false, &rev);
	for (size_t i = 1; !err && i < l->len; i++)
		if (mgr_value_compare(l->items[0], l->items[i], &cmp))
			return call_fail(c, MGR_ETYPE, "list.sort: cannot order %s against %s",
					 mgr_kind_name(l->items[0]->kind),
					 mgr_kind_name(l->items[i]->kind));
	if (err || l->len < 2)
		return err;
	mgr_value **tmp = malloc(l->len * sizeof(*tmp));
	if (!tmp)
		return MGR_ENOMEM;
	list_merge_sort(l->items, tmp, l->len, rev);
	free(tmp);
	return 0;
}

static const struct method list_methods[] = {
	{"append", list_append, 1, 1, 0, "value", "add at the end"},
	{"extend", list_extend, 1, 1, 0, "list", "add every item at the end"},
	{"insert", list_insert, 2, 2, 0, "index, value", "insert before index (clamped)"},
	{"get", list_get, 1, 1, METHOD_READONLY, "index", "l[index]"},
	{"set", list_set, 2, 2, 0, "index, value", "l[index] = value"},
	{"del", list_del, 1, 1, 0, "index", "del l[index]"},
	{"pop", list_pop, 0, 1, 0, "index=-1", "remove and return l[index]"},
	{"remove", list_remove, 1, 1, 0, "value", "remove the first equal item; EVALUE if none"},
	{"index", list_index, 1, 1, METHOD_READONLY, "value", "index of the first equal item"},
	{"count", list_count, 1, 1, METHOD_READONLY, "value", "number of equal items"},
	{"contains", list_contains, 1, 1, METHOD_READONLY, "value", "value in l"},
	{"len", list_len, 0, 0, METHOD_READONLY, "", "number of items"},
	{"slice", list_slice, 0, 2, METHOD_READONLY, "start=0, stop=len", "l[start:stop] as a list"},
	{"reverse", list_reverse, 0, 0, 0, "", "reverse in place"},
	{"sort", list_sort, 0, 1, 0, "reverse=false", "stable sort of numbers or of strings"},
	{"clear", list_clear, 0, 0, 0, "", "remove every item"},
	{"copy", list_copy, 0, 0, METHOD_READONLY, "", "the items as a plain list"},
	{"concat", list_concat, 1, 1, METHOD_READONLY, "list", "l + list, as a plain list"},
	{"repeat", list_repeat, 1, 1, METHOD_READONLY, "n", "l * n, as a plain list"},
	{"imul", list_imul, 1, 1, 0, "n", "l *= n (n <= 0 empties it)"},
	{"iter", list_iter, 0, 0, METHOD_READONLY, "", "an iterator over the items (next(n)), by index"},
};

/* Snapshots (snapshot.c): the items as a list value. */
static mgr_value *list_save(const void *state)
{
	mgr_value l = {.kind = MGR_LIST, .u.list = *(const struct vlist *)state};
	return mgr_value_copy(&l);
}

static int list_load(const mgr_value *saved, void **state)
{
	struct vlist *l = saved->kind == MGR_LIST ? malloc(sizeof(*l)) : NULL;
	mgr_value *v = l ? mgr_value_copy(saved) : NULL;
	if (!v) {
		free(l);
		return saved->kind == MGR_LIST ? MGR_ENOMEM : MGR_ETYPE;
	}
	*l = v->u.list; /* stolen: v goes as an empty shell */
	v->u.list = (struct vlist){0};
	mgr_value_free(v);
	*state = l;
	return 0;
}

/* For `mgrctl show`: at most limit items, without copying the rest. */
static mgr_value *list_describe(const struct object *o, size_t limit)
{
	const struct vlist *l = o->state;
	mgr_value *out = mgr_value_new_list();
	for (size_t i = 0; out && i < l->len && i < limit; i++)
		if (mgr_value_list_append(out, mgr_value_copy(l->items[i]))) {
			mgr_value_free(out);
			return NULL;
		}
	return out;
}

/* Python's repr: [1, 'a', None]. */
static char *list_repr(const struct object *o, size_t max)
{
	mgr_value l = {.kind = MGR_LIST, .u.list = *(const struct vlist *)o->state};
	return value_repr(&l, max);
}

/* For the cycle collector: the refs among the items. */
static void list_refs(const void *state, gc_visit_fn visit, void *arg)
{
	const struct vlist *l = state;
	for (size_t i = 0; i < l->len; i++)
		gc_value_refs(l->items[i], visit, arg);
}

const struct type type_list = {
	.name = "list",
	.ctor_args = "initial=[]",
	.doc = "a shared list",
	.create = list_create,
	.destroy = list_destroy,
	.length = list_length,
	.save = list_save,
	.load = list_load,
	.describe = list_describe,
	.repr = list_repr,
	.refs = list_refs,
	.methods = list_methods,
	.nmethods = sizeof(list_methods) / sizeof(list_methods[0]),
};
