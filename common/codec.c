/* mgr_value <-> Mgr__Value. Decoding validates what protobuf-c does not:
 * UTF-8 in strings and the kinds allowed as map keys. Depth was bounded by
 * frame_check() before protobuf-c unpacked anything. */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "htab.h"

/* ---- decode ---- */

static int codec_list_from_pb(const Mgr__ValueList *l, mgr_value **out)
{
	mgr_value *v = mgr_value_new_list();
	if (!v || vlist_reserve(&v->u.list, l ? l->n_items : 0)) {
		mgr_value_free(v);
		return MGR_ENOMEM;
	}
	for (size_t i = 0; l && i < l->n_items; i++) {
		int err = codec_from_pb(l->items[i], &v->u.list.items[i]);
		if (err) {
			mgr_value_free(v);
			return err;
		}
		v->u.list.len++;
	}
	*out = v;
	return 0;
}

static int codec_entry_from_pb(mgr_value *map, const Mgr__MapEntry *e)
{
	mgr_value *k = NULL, *val = NULL;
	int err = codec_from_pb(e->key, &k);
	if (!err)
		err = codec_from_pb(e->value, &val);
	if (!err && !value_is_key(k))
		err = MGR_ETYPE;
	if (err) {
		mgr_value_free(k);
		mgr_value_free(val);
		return err;
	}
	return mgr_value_map_set(map, k, val);
}

static int codec_map_from_pb(const Mgr__ValueMap *m, mgr_value **out)
{
	mgr_value *v = mgr_value_new_map();
	if (!v)
		return MGR_ENOMEM;
	for (size_t i = 0; m && i < m->n_entries; i++) {
		int err = codec_entry_from_pb(v, m->entries[i]);
		if (err) {
			mgr_value_free(v);
			return err;
		}
	}
	*out = v;
	return 0;
}

static int codec_scalar_from_pb(const Mgr__Value *pb, mgr_value **out)
{
	mgr_value *v = NULL;
	switch (pb->kind_case) {
	case MGR__VALUE__KIND_B:
		v = mgr_value_new_bool(pb->b);
		break;
	case MGR__VALUE__KIND_I:
		v = mgr_value_new_int(pb->i);
		break;
	case MGR__VALUE__KIND_D:
		v = mgr_value_new_double(pb->d);
		break;
	case MGR__VALUE__KIND_S: { /* bytes on the wire: a NUL must not cut it short */
		const char *p = pb->s.len ? (const char *)pb->s.data : "";
		if (memchr(p, '\0', pb->s.len) || !value_utf8_valid(p, pb->s.len))
			return MGR_EUTF8;
		v = mgr_value_new_stringn(p, pb->s.len);
		break;
	}
	case MGR__VALUE__KIND_BIN:
		v = mgr_value_new_bytes(pb->bin.data, pb->bin.len);
		break;
	case MGR__VALUE__KIND_REF:
		v = mgr_value_new_ref(pb->ref->id, pb->ref->type);
		break;
	default:
		v = mgr_value_new_nil();
		break;
	}
	if (!v)
		return MGR_ENOMEM;
	*out = v;
	return 0;
}

int codec_from_pb(const Mgr__Value *pb, mgr_value **out)
{
	if (!pb)
		return (*out = mgr_value_new_nil()) ? 0 : MGR_ENOMEM;
	if (pb->kind_case == MGR__VALUE__KIND_LIST)
		return codec_list_from_pb(pb->list, out);
	if (pb->kind_case == MGR__VALUE__KIND_MAP)
		return codec_map_from_pb(pb->map, out);
	return codec_scalar_from_pb(pb, out);
}

/* ---- encode ---- */

static bool codec_list_to_pb(Mgr__Value *pb, const mgr_value *v, struct arena *a)
{
	Mgr__ValueList *l = arena_alloc(a, sizeof(*l));
	size_t n = v->u.list.len;
	if (!l)
		return false;
	mgr__value_list__init(l);
	if (!(l->items = arena_alloc(a, n * sizeof(*l->items) + 1)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(l->items[i] = codec_to_pb(v->u.list.items[i], a)))
			return false;
	l->n_items = n;
	pb->list = l;
	return true;
}

static bool codec_map_to_pb(Mgr__Value *pb, const mgr_value *v, struct arena *a)
{
	Mgr__ValueMap *m = arena_alloc(a, sizeof(*m));
	Mgr__MapEntry **ents = arena_alloc(a, v->u.map->live * sizeof(*ents) + 1);
	if (!m || !ents)
		return false;
	mgr__value_map__init(m);
	m->entries = ents;
	HTAB_FOREACH(v->u.map, e)
	{
		Mgr__MapEntry *me = arena_alloc(a, sizeof(*me));
		if (!me)
			return false;
		mgr__map_entry__init(me);
		me->key = codec_to_pb(e->key, a);
		me->value = codec_to_pb(e->val, a);
		if (!me->key || !me->value)
			return false;
		m->entries[m->n_entries++] = me;
	}
	pb->map = m;
	return true;
}

static bool codec_ref_to_pb(Mgr__Value *pb, const mgr_value *v, struct arena *a)
{
	Mgr__Ref *r = arena_alloc(a, sizeof(*r));
	if (!r)
		return false;
	mgr__ref__init(r);
	r->id = v->u.ref.id;
	r->type = v->u.ref.type;
	pb->ref = r;
	return true;
}

static bool codec_fill_pb(Mgr__Value *pb, const mgr_value *v, struct arena *a)
{
	switch (v->kind) {
	case MGR_BOOL:
		pb->b = v->u.b;
		return true;
	case MGR_INT:
		pb->i = v->u.i;
		return true;
	case MGR_DOUBLE:
		pb->d = v->u.d;
		return true;
	case MGR_STRING:
		pb->s.data = (uint8_t *)v->u.s.p;
		pb->s.len = v->u.s.len;
		return true;
	case MGR_BYTES:
		pb->bin.data = (uint8_t *)v->u.s.p;
		pb->bin.len = v->u.s.len;
		return true;
	case MGR_LIST:
		return codec_list_to_pb(pb, v, a);
	case MGR_MAP:
		return codec_map_to_pb(pb, v, a);
	case MGR_REF:
		return codec_ref_to_pb(pb, v, a);
	default:
		pb->nil = true;
		return true;
	}
}

/* mgr_kind -> oneof case; the enums differ by one. */
static const Mgr__Value__KindCase codec_case[] = {
	MGR__VALUE__KIND_NIL, MGR__VALUE__KIND_B,    MGR__VALUE__KIND_I,
	MGR__VALUE__KIND_D,   MGR__VALUE__KIND_S,    MGR__VALUE__KIND_BIN,
	MGR__VALUE__KIND_LIST, MGR__VALUE__KIND_MAP, MGR__VALUE__KIND_REF,
};

Mgr__Value *codec_to_pb(const mgr_value *v, struct arena *a)
{
	Mgr__Value *pb = arena_alloc(a, sizeof(*pb));
	if (!pb)
		return NULL;
	mgr__value__init(pb);
	static const mgr_value codec_nil = {.kind = MGR_NIL};
	if (!v)
		v = &codec_nil;
	pb->kind_case = codec_case[v->kind];
	return codec_fill_pb(pb, v, a) ? pb : NULL;
}
