/* mgr_value from Mgr__Value, and mgr_value <-> wire bytes directly.
 * Decoding validates what protobuf-c does not: UTF-8 in strings and the
 * kinds allowed as map keys. Depth was bounded by frame_check() before
 * protobuf-c unpacked anything. */
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

/* ---- wire bytes directly (see codec.h) ---- */

enum { CODEC_VARINT = 0, CODEC_FIXED64 = 1, CODEC_LEN = 2, CODEC_FIXED32 = 5 };

#define CODEC_TAG(field, wt) ((uint8_t)((field) << 3 | (wt)))

/* A varint of at most 10 bytes, as frame_check() takes them. */
static bool __attribute__((noinline))
codec_varint_slow(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		v |= shift < 64 ? (uint64_t)(b & 0x7F) << shift : 0;
		if (!(b & 0x80)) {
			*out = v;
			return shift < 64;
		}
	}
	return false;
}

/* One byte (most tags and lengths) inline; longer ones out of line. */
static inline bool codec_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	if (__builtin_expect(*p < end && !(**p & 0x80), 1)) {
		*out = *(*p)++;
		return true;
	}
	return codec_varint_slow(p, end, out);
}

bool codec_next_field_slow(const uint8_t **p, const uint8_t *end, struct codec_field *f)
{
	uint64_t tag;
	const uint8_t *q = *p;
	/* protobuf-c reads tags and lengths as 32-bit varints (5 bytes at most):
	 * refuse longer ones too, so both decoders accept the same bytes */
	if (!codec_get_varint(&q, end, &tag) || (tag >> 3) == 0 || q - *p > 5 ||
	    tag > UINT32_MAX)
		return false;
	f->num = tag >> 3;
	f->wt = tag & 7;
	f->data = q;
	f->v = 0;
	f->nv = 0;
	if (f->wt == CODEC_FIXED64 || f->wt == CODEC_FIXED32) {
		size_t n = f->wt == CODEC_FIXED64 ? 8 : 4;
		if ((size_t)(end - q) < n)
			return false;
		*p = q + n;
		return true;
	}
	const uint8_t *start = q;
	if ((f->wt != CODEC_VARINT && f->wt != CODEC_LEN) || !codec_get_varint(&q, end, &f->v))
		return false;
	f->nv = (unsigned)(q - start);
	if (f->wt == CODEC_LEN) {
		if (f->nv > 5 || f->v > (uint64_t)(end - q))
			return false;
		f->data = q;
		q += f->v;
	}
	*p = q;
	return true;
}

static uint64_t codec_zigzag(int64_t i) { return ((uint64_t)i << 1) ^ (uint64_t)(i >> 63); }

static size_t codec_entry_size(const mgr_value *k, const mgr_value *v)
{
	return codec_len_field(codec_value_size(k)) + codec_len_field(codec_value_size(v));
}

static size_t codec_ref_size(const mgr_value *v)
{
	size_t tl = v->u.ref.type ? strlen(v->u.ref.type) : 0;
	return (v->u.ref.id ? 1 + codec_varint_size(v->u.ref.id) : 0) + (tl ? codec_len_field(tl) : 0);
}

/* The body of a list's ValueList / a map's ValueMap. */
static size_t codec_items_size(const mgr_value *v)
{
	size_t n = 0;
	if (v->kind == MGR_LIST)
		for (size_t i = 0; i < v->u.list.len; i++)
			n += codec_len_field(codec_value_size(v->u.list.items[i]));
	else
		HTAB_FOREACH(v->u.map, e)
			n += codec_len_field(codec_entry_size(&e->key, &e->val));
	return n;
}

size_t codec_value_size(const mgr_value *v)
{
	switch (v ? v->kind : MGR_NIL) {
	case MGR_INT:
		return 1 + codec_varint_size(codec_zigzag(v->u.i));
	case MGR_DOUBLE:
		return 9;
	case MGR_STRING:
	case MGR_BYTES:
		return codec_len_field(value_slen(v));
	case MGR_LIST:
	case MGR_MAP:
		return codec_len_field(codec_items_size(v));
	case MGR_REF:
		return codec_len_field(codec_ref_size(v));
	default: /* nil, bool */
		return 2;
	}
}

static uint32_t codec_max(uint32_t a, uint32_t b) { return a > b ? a : b; }

uint32_t codec_value_depth(const mgr_value *v, uint32_t room, uint64_t *items)
{
	uint32_t below = 0; /* the deepest item's nesting; room - 1 or more: too deep */
	*items += 1;
	if (!room || !v)
		return 1;
	if (v->kind == MGR_LIST)
		for (uint32_t i = 0; i < v->u.list.len && below < room; i++)
			below = codec_max(below, codec_value_depth(v->u.list.items[i], room - 1, items));
	if (v->kind == MGR_MAP)
		HTAB_FOREACH(v->u.map, e) {
			if (below >= room)
				break;
			*items += 1; /* the MapEntry */
			below = codec_max(below, codec_value_depth(&e->key, room - 1, items));
			below = codec_max(below, codec_value_depth(&e->val, room - 1, items));
		}
	return 1 + below;
}

static uint8_t *codec_put_bytes(uint8_t *p, uint8_t tag, const void *s, size_t n)
{
	*p++ = tag;
	p = codec_put_varint(p, n);
	if (n)
		memcpy(p, s, n);
	return p + n;
}

/* A Value field: tag, length, body. */
static uint8_t *codec_put_value(uint8_t *p, uint8_t tag, const mgr_value *v)
{
	*p++ = tag;
	p = codec_put_varint(p, codec_value_size(v));
	return codec_value_write(v, p);
}

static uint8_t *codec_items_write(const mgr_value *v, uint8_t *p)
{
	*p++ = CODEC_TAG(v->kind == MGR_LIST ? 7 : 8, CODEC_LEN);
	p = codec_put_varint(p, codec_items_size(v));
	if (v->kind == MGR_LIST) {
		for (size_t i = 0; i < v->u.list.len; i++)
			p = codec_put_value(p, CODEC_TAG(1, CODEC_LEN), v->u.list.items[i]);
		return p;
	}
	HTAB_FOREACH(v->u.map, e) {
		*p++ = CODEC_TAG(1, CODEC_LEN);
		p = codec_put_varint(p, codec_entry_size(&e->key, &e->val));
		p = codec_put_value(p, CODEC_TAG(1, CODEC_LEN), &e->key);
		p = codec_put_value(p, CODEC_TAG(2, CODEC_LEN), &e->val);
	}
	return p;
}

static uint8_t *codec_ref_write(const mgr_value *v, uint8_t *p)
{
	size_t tl = v->u.ref.type ? strlen(v->u.ref.type) : 0;
	*p++ = CODEC_TAG(9, CODEC_LEN);
	p = codec_put_varint(p, codec_ref_size(v));
	if (v->u.ref.id) {
		*p++ = CODEC_TAG(1, CODEC_VARINT);
		p = codec_put_varint(p, v->u.ref.id);
	}
	return tl ? codec_put_bytes(p, CODEC_TAG(2, CODEC_LEN), v->u.ref.type, tl) : p;
}

uint8_t *codec_value_write(const mgr_value *v, uint8_t *p)
{
	uint64_t bits;
	switch (v ? v->kind : MGR_NIL) {
	case MGR_BOOL:
		*p++ = CODEC_TAG(2, CODEC_VARINT);
		*p++ = v->u.b ? 1 : 0;
		return p;
	case MGR_INT:
		*p++ = CODEC_TAG(3, CODEC_VARINT);
		return codec_put_varint(p, codec_zigzag(v->u.i));
	case MGR_DOUBLE:
		*p++ = CODEC_TAG(4, CODEC_FIXED64);
		memcpy(&bits, &v->u.d, 8);
		for (int i = 0; i < 8; i++)
			*p++ = (uint8_t)(bits >> (8 * i));
		return p;
	case MGR_STRING:
	case MGR_BYTES:
		return codec_put_bytes(p, CODEC_TAG(v->kind == MGR_STRING ? 5 : 6, CODEC_LEN),
				       value_str(v), value_slen(v));
	case MGR_LIST:
	case MGR_MAP:
		return codec_items_write(v, p);
	case MGR_REF:
		return codec_ref_write(v, p);
	default:
		*p++ = CODEC_TAG(1, CODEC_VARINT);
		*p++ = 1;
		return p;
	}
}

static int codec_list_read(const uint8_t *p, const uint8_t *end, mgr_value **out)
{
	struct codec_field f;
	size_t n = 0;
	for (const uint8_t *q = p; q < end; n++)
		if (!codec_next_field(&q, end, &f) || f.num != 1 || f.wt != CODEC_LEN)
			return -1;
	mgr_value *v = mgr_value_new_list();
	if (!v || vlist_reserve(&v->u.list, n)) {
		mgr_value_free(v);
		return -1;
	}
	while (p < end) {
		codec_next_field(&p, end, &f);
		if (codec_value_read(f.data, f.data + f.v, &v->u.list.items[v->u.list.len])) {
			mgr_value_free(v);
			return -1;
		}
		v->u.list.len++;
	}
	*out = v;
	return 0;
}

/* One MapEntry into map; a missing key or value is nil, as protobuf-c's. */
static int codec_entry_read(mgr_value *map, const uint8_t *p, const uint8_t *end)
{
	struct codec_field f;
	const uint8_t *kv[2][2] = {{NULL, NULL}, {NULL, NULL}};
	while (p < end) {
		if (!codec_next_field(&p, end, &f) || f.num < 1 || f.num > 2 ||
		    f.wt != CODEC_LEN || kv[f.num - 1][0])
			return -1;
		kv[f.num - 1][0] = f.data;
		kv[f.num - 1][1] = f.data + f.v;
	}
	mgr_value *k = NULL, *v = NULL;
	int err = kv[0][0] ? codec_value_read(kv[0][0], kv[0][1], &k)
			   : (k = mgr_value_new_nil()) ? 0 : -1;
	if (!err)
		err = kv[1][0] ? codec_value_read(kv[1][0], kv[1][1], &v)
			       : (v = mgr_value_new_nil()) ? 0 : -1;
	if (err || !value_is_key(k)) {
		mgr_value_free(k);
		mgr_value_free(v);
		return -1;
	}
	return mgr_value_map_set(map, k, v) ? -1 : 0;
}

static int codec_map_read(const uint8_t *p, const uint8_t *end, mgr_value **out)
{
	struct codec_field f;
	mgr_value *v = mgr_value_new_map();
	if (!v)
		return -1;
	while (p < end)
		if (!codec_next_field(&p, end, &f) || f.num != 1 || f.wt != CODEC_LEN ||
		    codec_entry_read(v, f.data, f.data + f.v)) {
			mgr_value_free(v);
			return -1;
		}
	*out = v;
	return 0;
}

static int codec_ref_read(const uint8_t *p, const uint8_t *end, mgr_value **out)
{
	struct codec_field f;
	uint64_t id = 0;
	char type[256] = "";
	unsigned seen = 0;
	while (p < end) {
		if (!codec_next_field(&p, end, &f) || f.num < 1 || f.num > 2 || (seen & (1u << f.num)) ||
		    f.wt != (f.num == 1 ? CODEC_VARINT : CODEC_LEN))
			return -1;
		seen |= 1u << f.num;
		if (f.num == 1)
			id = f.v;
		else if (f.v >= sizeof(type) || memchr(f.data, '\0', f.v))
			return -1;
		else
			memcpy(type, f.data, f.v), type[f.v] = '\0';
	}
	return (*out = mgr_value_new_ref(id, type)) ? 0 : -1;
}

int codec_value_read(const uint8_t *p, const uint8_t *end, mgr_value **out)
{
	struct codec_field f;
	mgr_value *v = NULL;
	uint64_t bits = 0;
	if (!codec_next_field(&p, end, &f) || p != end) /* exactly one field */
		return -1;
	if ((f.num <= 3 && f.wt != CODEC_VARINT) || (f.num == 4 && f.wt != CODEC_FIXED64) ||
	    (f.num >= 5 && f.wt != CODEC_LEN))
		return -1;
	switch (f.num) {
	case 1:
		v = mgr_value_new_nil();
		break;
	case 2: /* a longer varint may carry bits past 64 that protobuf-c counts */
		v = f.nv == 1 ? mgr_value_new_bool(f.v != 0) : NULL;
		break;
	case 3:
		v = mgr_value_new_int((int64_t)(f.v >> 1) ^ -(int64_t)(f.v & 1));
		break;
	case 4:
		for (int i = 7; i >= 0; i--)
			bits = bits << 8 | f.data[i];
		double d;
		memcpy(&d, &bits, 8);
		v = mgr_value_new_double(d);
		break;
	case 5: /* NULL also for a NUL or bad UTF-8: the slow path names it */
		v = mgr_value_new_stringn(f.v ? (const char *)f.data : "", f.v);
		break;
	case 6:
		v = mgr_value_new_bytes(f.data, f.v);
		break;
	case 7:
		return codec_list_read(f.data, f.data + f.v, out);
	case 8:
		return codec_map_read(f.data, f.data + f.v, out);
	case 9:
		return codec_ref_read(f.data, f.data + f.v, out);
	default:
		return -1;
	}
	if (!v)
		return -1;
	*out = v;
	return 0;
}
