/* dict: Python's dict semantics over an insertion-ordered hash table, plus
 * atomic read-modify-write (incr, setdefault, pop, update) and iterators
 * that see a change of the keys (Python's "changed size during iteration"). */
#include <stdlib.h>
#include <string.h>

#include "../common/htab.h"
#include "call.h"
#include "gc.h"
#include "type-iterator.h"
#include "types-builtin.h"

/* The state: the entries, and a count of the changes to the set of keys
 * (an insert or a removal; not a new value for a key) that iterators
 * compare with the one they started at. */
struct dict {
	struct htab *h;
	uint64_t version;
};

#define DSTATE(c) ((struct dict *)(c)->obj->state)
#define DICT(c) (DSTATE(c)->h)

/* After a method that may add or remove keys, given the count before. */
static void dict_note(struct dict *d, size_t live_before)
{
	if (d->h->live != live_before)
		d->version++;
}

static struct dict *dict_wrap(struct htab *h)
{
	struct dict *d = h ? calloc(1, sizeof(*d)) : NULL;
	if (d)
		d->h = h;
	else
		htab_free(h);
	return d;
}

static void dict_destroy(void *state)
{
	struct dict *d = state;
	if (d)
		htab_free(d->h);
	free(d);
}

static size_t dict_length(const void *state) { return ((const struct dict *)state)->h->live; }

/* dict(pairs) and dict(map): a list of [key, value] pairs or a map, copied
 * into h; nil adds nothing. */
static int dict_init_from(struct call *c, struct htab *h, const mgr_value *src)
{
	if (!src || src->kind == MGR_NIL)
		return 0;
	if (src->kind == MGR_MAP) {
		int err = 0;
		HTAB_FOREACH(src->u.map, e)
		if (!err)
			err = htab_set(h, mgr_value_copy(&e->key), mgr_value_copy(&e->val));
		return err;
	}
	if (src->kind != MGR_LIST)
		return call_fail(c, MGR_EARGS, "dict(): argument 1 must be a map or a list of "
					       "[key, value] pairs, got %s", mgr_kind_name(src->kind));
	for (size_t i = 0; i < src->u.list.len; i++) {
		const mgr_value *p = src->u.list.items[i];
		if (p->kind != MGR_LIST || p->u.list.len != 2)
			return call_fail(c, MGR_EARGS, "dict(): item %zu is not a [key, value] pair", i);
		if (!value_is_key(p->u.list.items[0])) /* ETYPE, as any bad key */
			return call_fail(c, MGR_ETYPE, "dict(): the key of item %zu is %s, not a "
				"string, bytes, int or bool", i, mgr_kind_name(p->u.list.items[0]->kind));
		int err = htab_set(h, mgr_value_copy(p->u.list.items[0]),
				   mgr_value_copy(p->u.list.items[1]));
		if (err)
			return err;
	}
	return 0;
}

/* dict(initial=None, entries={}): Python's dict(iterable, **kwargs), the
 * initial entries as a map or pairs, then a map of more (which win). */
static int dict_create(struct call *c, void **state)
{
	if (c->nargs > 2)
		return call_fail(c, MGR_EARGS, "dict() takes at most 2 arguments (%zu given)", c->nargs);
	const mgr_value *more = arg_get(c, 1);
	if (more && more->kind != MGR_MAP && more->kind != MGR_NIL)
		return call_fail(c, MGR_EARGS, "dict(): argument 2 must be a map, got %s",
				 mgr_kind_name(more->kind));
	struct dict *d = dict_wrap(htab_new());
	if (!d)
		return MGR_ENOMEM;
	int err = dict_init_from(c, d->h, arg_get(c, 0));
	if (!err)
		err = dict_init_from(c, d->h, more);
	if (err) {
		dict_destroy(d);
		return err;
	}
	*state = d;
	return 0;
}

static int dict_missing(struct call *c, const mgr_value *key)
{
	char buf[96];
	return call_fail(c, MGR_ENOKEY, "no key %s", mgr_value_format(key, buf, sizeof(buf)));
}

/* Finds argument 0 as a key: *e NULL when absent. */
static int dict_lookup(struct call *c, struct hent **e)
{
	const mgr_value *key;
	int err = arg_key(c, 0, &key);
	if (!err)
		*e = htab_find(DICT(c), key);
	return err;
}

static int dict_get(struct call *c)
{
	struct hent *e;
	int err = dict_lookup(c, &e);
	if (err)
		return err;
	if (e)
		return call_return_borrowed(c, &e->val);
	return c->nargs > 1 ? call_return(c, arg_take(c, 1)) : dict_missing(c, c->args[0]);
}

static int dict_set(struct call *c)
{
	const mgr_value *key;
	int err = arg_key(c, 0, &key);
	if (err)
		return err;
	size_t before = DICT(c)->live;
	err = htab_set(DICT(c), arg_take(c, 0), arg_take(c, 1));
	dict_note(DSTATE(c), before);
	return err;
}

static int dict_del(struct call *c)
{
	const mgr_value *key;
	int err = arg_key(c, 0, &key);
	if (err)
		return err;
	if (!htab_del(DICT(c), key, NULL))
		return dict_missing(c, key);
	DSTATE(c)->version++;
	return 0;
}

static int dict_pop(struct call *c)
{
	const mgr_value *key;
	mgr_value *v;
	int err = arg_key(c, 0, &key);
	if (err)
		return err;
	if (!htab_del(DICT(c), key, &v))
		return c->nargs > 1 ? call_return(c, arg_take(c, 1)) : dict_missing(c, key);
	DSTATE(c)->version++;
	return call_return(c, v);
}

/* The last entry inserted, removed and returned as [key, value] (LIFO,
 * as Python's popitem); ENOKEY when empty, as Python's KeyError. */
static int dict_popitem(struct call *c)
{
	struct htab *h = DICT(c);
	if (!h->live)
		return call_fail(c, MGR_ENOKEY, "popitem(): dictionary is empty");
	size_t i = h->nents;
	while (h->ents[i - 1].key.kind == HTAB_HOLE) /* trailing holes are trimmed: no walk */
		i--;
	mgr_value *pair = mgr_value_new_list(), *key = mgr_value_copy(&h->ents[i - 1].key), *v;
	if (!pair || !key || !htab_del(h, key, &v) || !v) {
		mgr_value_free(pair);
		mgr_value_free(key);
		return MGR_ENOMEM;
	}
	DSTATE(c)->version++;
	if (mgr_value_list_append(pair, key) || mgr_value_list_append(pair, v)) {
		mgr_value_free(pair);
		return MGR_ENOMEM;
	}
	return call_return(c, pair);
}

static int dict_contains(struct call *c)
{
	struct hent *e;
	int err = dict_lookup(c, &e);
	return err ? err : call_return_bool(c, e != NULL);
}

static int dict_len(struct call *c) { return call_return_int(c, (int64_t)DICT(c)->live); }

static int dict_setdefault(struct call *c)
{
	struct hent *e;
	int err = dict_lookup(c, &e);
	if (err || e)
		return err ? err : call_return_borrowed(c, &e->val);
	mgr_value *key = arg_take(c, 0), *dflt = arg_take(c, 1);
	err = key && dflt ? htab_insert(DICT(c), key, dflt, &e) : MGR_ENOMEM;
	DSTATE(c)->version += !err;
	mgr_value_free(key); /* the shells: what they held is in the entry */
	mgr_value_free(dflt);
	return err ? err : call_return_borrowed(c, &e->val);
}

static int dict_incr(struct call *c)
{
	struct hent *e;
	int64_t delta, sum;
	int err = dict_lookup(c, &e);
	if (!err)
		err = arg_int_opt(c, 1, 1, &delta);
	if (err)
		return err;
	if (!e) {
		err = htab_set(DICT(c), arg_take(c, 0), mgr_value_new_int(delta));
		DSTATE(c)->version += !err;
		return err ? err : call_return_int(c, delta);
	}
	if (e->val.kind != MGR_INT)
		return call_fail(c, MGR_ETYPE, "dict.incr: the value is %s, not int",
				 mgr_kind_name(e->val.kind));
	if (__builtin_add_overflow(e->val.u.i, delta, &sum))
		return call_fail(c, MGR_ERANGE, "dict.incr overflows int64");
	e->val.u.i = sum;
	return call_return_int(c, sum);
}

static int dict_update(struct call *c)
{
	const mgr_value *m = arg_get(c, 0);
	if (m->kind != MGR_MAP)
		return call_fail(c, MGR_EARGS, "dict.update: argument 1 must be a map, got %s",
				 mgr_kind_name(m->kind));
	size_t before = DICT(c)->live;
	int err = 0;
	struct hent *added;
	HTAB_FOREACH(m->u.map, e)
	if (!err) /* moved: the argument keeps nils */
		err = htab_insert(DICT(c), &e->key, &e->val, &added);
	dict_note(DSTATE(c), before);
	return err == MGR_ELIMIT ? call_fail(c, err, "dict.update: too many colliding keys")
				 : err;
}

static int dict_clear(struct call *c)
{
	size_t before = DICT(c)->live;
	htab_clear(DICT(c));
	dict_note(DSTATE(c), before);
	return 0;
}

/* keys / values / items / copy: one walk, a table of what to collect. */
enum dict_view { VIEW_KEYS, VIEW_VALUES, VIEW_ITEMS };

static mgr_value *dict_view_item(const struct hent *e, enum dict_view view)
{
	if (view == VIEW_KEYS)
		return mgr_value_copy(&e->key);
	if (view == VIEW_VALUES)
		return mgr_value_copy(&e->val);
	mgr_value *pair = mgr_value_new_list();
	if (mgr_value_list_append(pair, mgr_value_copy(&e->key)) ||
	    mgr_value_list_append(pair, mgr_value_copy(&e->val))) {
		mgr_value_free(pair);
		return NULL;
	}
	return pair;
}

static int dict_view(struct call *c, enum dict_view view)
{
	mgr_value *l = mgr_value_new_list();
	if (!l || vlist_reserve(&l->u.list, DICT(c)->live)) {
		mgr_value_free(l);
		return MGR_ENOMEM;
	}
	HTAB_FOREACH(DICT(c), e)
	if (mgr_value_list_append(l, dict_view_item(e, view))) {
		mgr_value_free(l);
		return MGR_ENOMEM;
	}
	return call_return(c, l);
}

static int dict_keys(struct call *c) { return dict_view(c, VIEW_KEYS); }
static int dict_values(struct call *c) { return dict_view(c, VIEW_VALUES); }
static int dict_items(struct call *c) { return dict_view(c, VIEW_ITEMS); }

static int dict_copy(struct call *c)
{
	mgr_value m = {.kind = MGR_MAP, .u.map = DICT(c)};
	return call_return(c, mgr_value_copy(&m));
}

/* ---- iterators (type-iterator.c) ---- */

static const char *const dict_view_names[] = {[VIEW_KEYS] = "keys", [VIEW_VALUES] = "values",
					      [VIEW_ITEMS] = "items"};

static int dict_step(struct call *c, const struct object *o, struct iter_pos *p, mgr_value **out)
{
	const struct dict *d = o->state;
	if (d->version != p->stamp)
		return call_fail(c, MGR_ECHANGED, "dictionary %s during iteration",
				 d->h->live != p->len ? "changed size" : "keys changed");
	while (p->at < d->h->nents && d->h->ents[p->at].key.kind == HTAB_HOLE)
		p->at++;
	if (p->at >= d->h->nents)
		return MGR_ESTOP;
	if (!(*out = dict_view_item(&d->h->ents[p->at], (enum dict_view)p->view)))
		return MGR_ENOMEM;
	p->at++;
	return 0;
}

/* iter(view="keys"): an iterator over the keys, values or [key, value]
 * items, which fails with ECHANGED once a key is added or removed. */
static int dict_iter(struct call *c)
{
	const mgr_value *v = arg_get(c, 0);
	struct iter_pos start = {.stamp = DSTATE(c)->version, .len = DICT(c)->live, .view = -1};
	for (int i = 0; i < 3; i++)
		if (!v || v->kind == MGR_NIL ? i == VIEW_KEYS
		    : v->kind == MGR_STRING && !strcmp(value_str(v), dict_view_names[i]))
			start.view = i;
	if (start.view < 0)
		return call_fail(c, MGR_EARGS, "dict.iter: the view is \"keys\", \"values\" or \"items\"");
	return iter_open(c, dict_step, &start);
}

static const struct method dict_methods[] = {
	{"get", dict_get, 1, 2, METHOD_READONLY, "key, default", "the value; default or ENOKEY if absent"},
	{"set", dict_set, 2, 2, 0, "key, value", "d[key] = value"},
	{"del", dict_del, 1, 1, 0, "key", "del d[key]; ENOKEY if absent"},
	{"contains", dict_contains, 1, 1, METHOD_READONLY, "key", "key in d"},
	{"len", dict_len, 0, 0, METHOD_READONLY, "", "number of entries"},
	{"keys", dict_keys, 0, 0, METHOD_READONLY, "", "list of keys, in insertion order"},
	{"values", dict_values, 0, 0, METHOD_READONLY, "", "list of values"},
	{"items", dict_items, 0, 0, METHOD_READONLY, "", "list of [key, value]"},
	{"update", dict_update, 1, 1, 0, "map", "set every entry of map"},
	{"pop", dict_pop, 1, 2, 0, "key, default", "remove and return; default or ENOKEY"},
	{"setdefault", dict_setdefault, 1, 2, 0, "key, default=None",
	 "the value, setting default first if absent"},
	{"clear", dict_clear, 0, 0, 0, "", "remove every entry"},
	{"copy", dict_copy, 0, 0, METHOD_READONLY, "", "a plain map with the same entries"},
	{"incr", dict_incr, 1, 2, 0, "key, delta=1", "add delta to an int value (0 if absent); new value"},
	{"popitem", dict_popitem, 0, 0, 0, "", "remove and return the last [key, value]; ENOKEY if empty"},
	{"iter", dict_iter, 0, 1, METHOD_READONLY, "view=\"keys\"",
	 "an iterator over keys, values or items (next(n)); ECHANGED once keys change"},
};

/* Snapshots (snapshot.c): the entries as a map value. */
static mgr_value *dict_save(const void *state)
{
	mgr_value m = {.kind = MGR_MAP, .u.map = ((const struct dict *)state)->h};
	return mgr_value_copy(&m);
}

static int dict_load(const mgr_value *saved, void **state)
{
	mgr_value *m = saved->kind == MGR_MAP ? mgr_value_copy(saved) : NULL;
	if (!m)
		return saved->kind == MGR_MAP ? MGR_ENOMEM : MGR_ETYPE;
	struct dict *d = dict_wrap(m->u.map); /* stolen: m goes as an empty shell */
	m->kind = MGR_NIL;
	mgr_value_free(m);
	if (!d)
		return MGR_ENOMEM;
	*state = d;
	return 0;
}

/* For `mgrctl show`: at most limit entries, without copying the rest. */
static mgr_value *dict_describe(const struct object *o, size_t limit)
{
	const struct htab *h = ((const struct dict *)o->state)->h;
	mgr_value *m = mgr_value_new_map();
	HTAB_FOREACH(h, e)
	{
		if (!m || !limit--)
			break;
		if (mgr_value_map_set(m, mgr_value_copy(&e->key), mgr_value_copy(&e->val))) {
			mgr_value_free(m);
			return NULL;
		}
	}
	return m;
}

/* Python's repr: {'a': 1, 'b': [2]}. */
static char *dict_repr(const struct object *o, size_t max)
{
	mgr_value m = {.kind = MGR_MAP, .u.map = ((const struct dict *)o->state)->h};
	return value_repr(&m, max);
}

/* For the cycle collector: the refs among the values. */
static void dict_refs(const void *state, gc_visit_fn visit, void *arg)
{
	HTAB_FOREACH(((const struct dict *)state)->h, e)
	gc_value_refs(&e->val, visit, arg);
}

const struct type type_dict = {
	.name = "dict",
	.ctor_args = "initial=None, entries={}",
	.doc = "a shared dictionary (keys: string, bytes, int, bool)",
	.create = dict_create,
	.destroy = dict_destroy,
	.length = dict_length,
	.save = dict_save,
	.load = dict_load,
	.describe = dict_describe,
	.repr = dict_repr,
	.refs = dict_refs,
	.methods = dict_methods,
	.nmethods = sizeof(dict_methods) / sizeof(dict_methods[0]),
};
