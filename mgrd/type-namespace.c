/* namespace: Python's manager.Namespace(), a record of named attributes
 * (string names, any values) read, set and deleted one at a time; a missing
 * attribute is ENOATTR (Python's AttributeError). Insertion-ordered like
 * the dict; its repr is Python's "Namespace(a=1, b='x')". */
#include <stdlib.h>
#include <string.h>

#include "../common/htab.h"
#include "call.h"
#include "gc.h"
#include "types-builtin.h"

#define NS(c) ((struct htab *)(c)->obj->state)

/* Argument i as an attribute name: a non-empty string. */
static int ns_name(struct call *c, size_t i, const mgr_value **out)
{
	const char *name;
	int err = arg_string(c, i, &name);
	if (!err && !*name)
		err = call_fail(c, MGR_EARGS, "namespace: an attribute name cannot be empty");
	if (!err)
		*out = arg_get(c, i);
	return err;
}

static int ns_missing(struct call *c, const mgr_value *name)
{
	return call_fail(c, MGR_ENOATTR, "'Namespace' object has no attribute '%.200s'",
			 value_str(name));
}

/* Copies the entries of map (string keys only) into h. */
static int ns_set_all(struct call *c, struct htab *h, const mgr_value *map)
{
	HTAB_FOREACH(map->u.map, e)
	if (e->key.kind != MGR_STRING || !value_slen(&e->key))
		return call_fail(c, MGR_EARGS, "namespace: attribute names are non-empty strings");
	HTAB_FOREACH(map->u.map, e)
	if (htab_set(h, mgr_value_copy(&e->key), mgr_value_copy(&e->val)))
		return MGR_ENOMEM;
	return 0;
}

/* Namespace(attributes={}): Python's Namespace(**kwargs). */
static int ns_create(struct call *c, void **state)
{
	const mgr_value *init = arg_get(c, 0);
	if (c->nargs > 1 || (init && init->kind != MGR_MAP && init->kind != MGR_NIL))
		return call_fail(c, MGR_EARGS, "namespace() takes one map of attributes");
	struct htab *h = htab_new();
	int err = h ? 0 : MGR_ENOMEM;
	if (!err && init && init->kind == MGR_MAP)
		err = ns_set_all(c, h, init);
	if (err) {
		htab_free(h);
		return err;
	}
	*state = h;
	return 0;
}

static void ns_destroy(void *state) { htab_free(state); }

static size_t ns_length(const void *state) { return ((const struct htab *)state)->live; }

static int ns_get(struct call *c)
{
	const mgr_value *name;
	int err = ns_name(c, 0, &name);
	if (err)
		return err;
	const struct hent *e = htab_find(NS(c), name);
	if (e)
		return call_return_borrowed(c, &e->val);
	return c->nargs > 1 ? call_return(c, arg_take(c, 1)) : ns_missing(c, name);
}

static int ns_set(struct call *c)
{
	const mgr_value *name;
	int err = ns_name(c, 0, &name);
	return err ? err : htab_set(NS(c), arg_take(c, 0), arg_take(c, 1));
}

static int ns_del(struct call *c)
{
	const mgr_value *name;
	int err = ns_name(c, 0, &name);
	if (err)
		return err;
	return htab_del(NS(c), name, NULL) ? 0 : ns_missing(c, name);
}

static int ns_has(struct call *c)
{
	const mgr_value *name;
	int err = ns_name(c, 0, &name);
	return err ? err : call_return_bool(c, htab_find(NS(c), name) != NULL);
}

static int ns_names(struct call *c)
{
	mgr_value *l = mgr_value_new_list();
	HTAB_FOREACH(NS(c), e)
	if (l && mgr_value_list_append(l, mgr_value_copy(&e->key))) {
		mgr_value_free(l);
		l = NULL;
	}
	return call_return(c, l);
}

static int ns_vars(struct call *c)
{
	mgr_value m = {.kind = MGR_MAP, .u.map = NS(c)};
	return call_return(c, mgr_value_copy(&m));
}

static int ns_update(struct call *c)
{
	const mgr_value *m = arg_get(c, 0);
	if (m->kind != MGR_MAP)
		return call_fail(c, MGR_EARGS, "namespace.update: argument 1 must be a map, got %s",
				 mgr_kind_name(m->kind));
	return ns_set_all(c, NS(c), m);
}

static int ns_len(struct call *c) { return call_return_int(c, (int64_t)NS(c)->live); }

static const struct method ns_methods[] = {
	{"get", ns_get, 1, 2, METHOD_READONLY, "name, default",
	 "the attribute; default or ENOATTR if absent"},
	{"set", ns_set, 2, 2, 0, "name, value", "ns.name = value"},
	{"del", ns_del, 1, 1, 0, "name", "del ns.name; ENOATTR if absent"},
	{"has", ns_has, 1, 1, METHOD_READONLY, "name", "hasattr(ns, name)"},
	{"names", ns_names, 0, 0, METHOD_READONLY, "", "the attribute names, in the order set"},
	{"vars", ns_vars, 0, 0, METHOD_READONLY, "", "vars(ns): a map of name to value"},
	{"update", ns_update, 1, 1, 0, "map", "set every attribute of map"},
	{"len", ns_len, 0, 0, METHOD_READONLY, "", "number of attributes"},
};

/* Snapshots (snapshot.c): the attributes as a map value. */
static mgr_value *ns_save(const void *state)
{
	mgr_value m = {.kind = MGR_MAP, .u.map = (struct htab *)state};
	return mgr_value_copy(&m);
}

static int ns_load(const mgr_value *saved, void **state)
{
	if (saved->kind != MGR_MAP)
		return MGR_ETYPE;
	HTAB_FOREACH(saved->u.map, e)
	if (e->key.kind != MGR_STRING || !value_slen(&e->key))
		return MGR_ETYPE;
	mgr_value *m = mgr_value_copy(saved);
	if (!m)
		return MGR_ENOMEM;
	*state = m->u.map; /* stolen: m goes as an empty shell */
	m->kind = MGR_NIL;
	mgr_value_free(m);
	return 0;
}

/* For `mgrctl show`: at most limit attributes. */
static mgr_value *ns_describe(const struct object *o, size_t limit)
{
	mgr_value *m = mgr_value_new_map();
	HTAB_FOREACH((const struct htab *)o->state, e)
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

/* Python sorts "name=value" strings; that is the order of "name=". */
static int ns_order(const void *a, const void *b)
{
	const mgr_value *x = &(*(const struct hent *const *)a)->key;
	const mgr_value *y = &(*(const struct hent *const *)b)->key;
	size_t nx = value_slen(x), ny = value_slen(y), n = nx < ny ? nx : ny;
	int cmp = memcmp(value_str(x), value_str(y), n);
	if (cmp || nx == ny)
		return cmp;
	return nx < ny ? '=' - (unsigned char)value_str(y)[n] : (unsigned char)value_str(x)[n] - '=';
}

/* Python's repr: Namespace(a=1, b='x'), sorted, names with _ left out. */
static char *ns_repr(const struct object *o, size_t max)
{
	const struct htab *h = o->state;
	const struct hent **shown = malloc((h->live + 1) * sizeof(*shown));
	if (!shown)
		return NULL;
	size_t n = 0;
	HTAB_FOREACH(h, e)
	if (value_str(&e->key)[0] != '_')
		shown[n++] = e;
	qsort(shown, n, sizeof(*shown), ns_order);
	struct value_text t;
	value_text_init(&t, max);
	value_text_put(&t, "Namespace(");
	for (size_t i = 0; i < n && !value_text_full(&t); i++) {
		value_text_put(&t, i ? ", " : "");
		value_text_put(&t, value_str(&shown[i]->key));
		value_text_put(&t, "=");
		value_text_repr(&t, &shown[i]->val);
	}
	value_text_put(&t, ")");
	free(shown);
	return value_text_end(&t);
}

/* For the cycle collector: the refs among the attributes' values. */
static void ns_refs(const void *state, gc_visit_fn visit, void *arg)
{
	HTAB_FOREACH((const struct htab *)state, e)
	gc_value_refs(&e->val, visit, arg);
}

const struct type type_namespace = {
	.name = "namespace",
	.ctor_args = "attributes={}",
	.doc = "a record of named attributes (Python's Namespace)",
	.create = ns_create,
	.destroy = ns_destroy,
	.length = ns_length,
	.save = ns_save,
	.load = ns_load,
	.describe = ns_describe,
	.repr = ns_repr,
	.refs = ns_refs,
	.methods = ns_methods,
	.nmethods = sizeof(ns_methods) / sizeof(ns_methods[0]),
};
