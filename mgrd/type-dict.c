/* dict: Python's dict semantics over an insertion-ordered hash table, plus
 * atomic read-modify-write (incr, setdefault, pop, update). */
#include "../common/htab.h"
#include "call.h"
#include "types-builtin.h"

#define DICT(c) ((struct htab *)(c)->obj->state)

static int dict_create(struct call *c, void **state)
{
	(void)c;
	return (*state = htab_new()) ? 0 : MGR_ENOMEM;
}

static void dict_destroy(void *state) { htab_free(state); }

static size_t dict_length(const void *state) { return ((const struct htab *)state)->live; }

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
	return htab_set(DICT(c), arg_take(c, 0), arg_take(c, 1));
}

static int dict_del(struct call *c)
{
	const mgr_value *key;
	int err = arg_key(c, 0, &key);
	if (err)
		return err;
	return htab_del(DICT(c), key, NULL) ? 0 : dict_missing(c, key);
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
	return call_return(c, v);
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
	e = key && dflt ? htab_put(DICT(c), key, dflt) : NULL;
	mgr_value_free(key); /* the shells: what they held is in the entry */
	mgr_value_free(dflt);
	return e ? call_return_borrowed(c, &e->val) : MGR_ENOMEM;
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
	HTAB_FOREACH(m->u.map, e)
	if (!htab_put(DICT(c), &e->key, &e->val)) /* moved: the argument keeps nils */
		return MGR_ENOMEM;
	return 0;
}

static int dict_clear(struct call *c)
{
	htab_clear(DICT(c));
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
};

/* Snapshots (snapshot.c): the entries as a map value. */
static mgr_value *dict_save(const void *state)
{
	mgr_value m = {.kind = MGR_MAP, .u.map = (struct htab *)state};
	return mgr_value_copy(&m);
}

static int dict_load(const mgr_value *saved, void **state)
{
	mgr_value *m = saved->kind == MGR_MAP ? mgr_value_copy(saved) : NULL;
	if (!m)
		return saved->kind == MGR_MAP ? MGR_ENOMEM : MGR_ETYPE;
	*state = m->u.map; /* stolen: m goes as an empty shell */
	m->kind = MGR_NIL;
	mgr_value_free(m);
	return 0;
}

const struct type type_dict = {
	.name = "dict",
	.doc = "a shared dictionary (keys: string, bytes, int, bool)",
	.create = dict_create,
	.destroy = dict_destroy,
	.length = dict_length,
	.save = dict_save,
	.load = dict_load,
	.methods = dict_methods,
	.nmethods = sizeof(dict_methods) / sizeof(dict_methods[0]),
};
