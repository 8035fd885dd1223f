/* JSON <-> mgr_value (see json.h): one converter per value kind in each
 * direction, chosen from a table. */
#include "json.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- mgr_value -> JSON ---- */

static json_t *json_from(const mgr_value *v);

static json_t *json_from_nil(const mgr_value *v) { (void)v; return json_null(); }
static json_t *json_from_bool(const mgr_value *v) { return json_boolean(mgr_value_bool(v)); }
static json_t *json_from_int(const mgr_value *v) { return json_integer(mgr_value_int(v)); }

static json_t *json_from_double(const mgr_value *v)
{
	double d = mgr_value_double(v);
	return isfinite(d) ? json_real(d) : json_null(); /* JSON has no NaN or inf */
}

static json_t *json_from_string(const mgr_value *v)
{
	size_t len;
	const char *s = mgr_value_string(v, &len);
	return json_stringn(s, len);
}

static char *json_hex(const unsigned char *p, size_t len)
{
	char *s = malloc(len * 2 + 1);
	for (size_t i = 0; s && i < len; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	if (s)
		s[len * 2] = '\0';
	return s;
}

static json_t *json_from_bytes(const mgr_value *v)
{
	size_t len;
	const unsigned char *p = mgr_value_bytes(v, &len);
	char *hex = json_hex(p, len);
	json_t *j = hex ? json_pack("{s:s}", "$bytes", hex) : NULL;
	free(hex);
	return j;
}

static json_t *json_from_list(const mgr_value *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < mgr_value_len(v); i++)
		if (json_array_append_new(a, json_from(mgr_value_list_get(v, i)))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* A map key as JSON object key text. */
static char *json_key(const mgr_value *k)
{
	char buf[64];
	if (mgr_value_kind(k) == MGR_STRING)
		return strdup(mgr_value_string(k, NULL));
	if (mgr_value_kind(k) == MGR_BYTES) {
		size_t len;
		const unsigned char *p = mgr_value_bytes(k, &len);
		return json_hex(p, len);
	}
	return strdup(mgr_value_format(k, buf, sizeof(buf)));
}

static json_t *json_from_map(const mgr_value *v)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < mgr_value_len(v); i++) {
		char *k = json_key(mgr_value_map_key(v, i));
		json_t *val = json_from(mgr_value_map_value(v, i));
		if (!k || !val || json_object_set_new(o, k, val)) {
			if (!k)
				json_decref(val);
			json_decref(o);
			o = NULL;
		}
		free(k);
	}
	return o;
}

static json_t *json_from_ref(const mgr_value *v)
{
	return json_pack("{s:I,s:s}", "$ref", (json_int_t)mgr_value_ref_id(v), "type",
			 mgr_value_ref_type(v));
}

static json_t *(*const json_from_kind[])(const mgr_value *) = {
	[MGR_NIL] = json_from_nil,	 [MGR_BOOL] = json_from_bool,
	[MGR_INT] = json_from_int,	 [MGR_DOUBLE] = json_from_double,
	[MGR_STRING] = json_from_string, [MGR_BYTES] = json_from_bytes,
	[MGR_LIST] = json_from_list,	 [MGR_MAP] = json_from_map,
	[MGR_REF] = json_from_ref,
};

static json_t *json_from(const mgr_value *v)
{
	return json_from_kind[mgr_value_kind(v)](v);
}

char *json_format(const mgr_value *v, bool compact)
{
	json_t *j = json_from(v);
	char *s = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
					    (compact ? JSON_COMPACT : JSON_INDENT(2)))
		    : NULL;
	json_decref(j);
	return s;
}

/* ---- JSON -> mgr_value ---- */

static mgr_value *json_to(const json_t *j);

static unsigned char json_nibble(char c)
{
	return (unsigned char)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

static mgr_value *json_to_bytes(const json_t *hex)
{
	const char *s = json_string_value(hex);
	size_t len = s ? strlen(s) : 1;
	if (len % 2 || strspn(s, "0123456789abcdefABCDEF") != len)
		return NULL;
	unsigned char *p = malloc(len / 2 + 1);
	for (size_t i = 0; p && i < len / 2; i++)
		p[i] = (unsigned char)(json_nibble(s[2 * i]) << 4 | json_nibble(s[2 * i + 1]));
	mgr_value *v = p ? mgr_value_new_bytes(p, len / 2) : NULL;
	free(p);
	return v;
}

static mgr_value *json_to_ref(const json_t *o)
{
	json_t *id = json_object_get(o, "$ref"), *type = json_object_get(o, "type");
	if (!json_is_integer(id) || json_integer_value(id) < 0 || (type && !json_is_string(type)))
		return NULL;
	return mgr_value_new_ref((uint64_t)json_integer_value(id),
				 type ? json_string_value(type) : "");
}

static mgr_value *json_to_object(const json_t *o)
{
	if (json_object_size(o) == 1 && json_object_get(o, "$bytes"))
		return json_to_bytes(json_object_get(o, "$bytes"));
	if (json_object_get(o, "$ref") && json_object_size(o) <= 2)
		return json_to_ref(o);
	mgr_value *m = mgr_value_new_map();
	const char *k;
	size_t klen;
	json_t *val;
	void *tmp;
	json_object_keylen_foreach_safe((json_t *)o, tmp, k, klen, val)
	{
		if (m && mgr_value_map_set(m, mgr_value_new_stringn(k, klen), json_to(val))) {
			mgr_value_free(m);
			m = NULL;
		}
	}
	return m;
}

static mgr_value *json_to_array(const json_t *a)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < json_array_size(a); i++)
		if (mgr_value_list_append(l, json_to(json_array_get(a, i)))) {
			mgr_value_free(l);
			return NULL;
		}
	return l;
}

static mgr_value *json_to_string(const json_t *s)
{
	return mgr_value_new_stringn(json_string_value(s), json_string_length(s));
}

static mgr_value *json_to_integer(const json_t *i)
{
	return mgr_value_new_int(json_integer_value(i));
}

static mgr_value *json_to_real(const json_t *r) { return mgr_value_new_double(json_real_value(r)); }
static mgr_value *json_to_true(const json_t *j) { (void)j; return mgr_value_new_bool(true); }
static mgr_value *json_to_false(const json_t *j) { (void)j; return mgr_value_new_bool(false); }
static mgr_value *json_to_null(const json_t *j) { (void)j; return mgr_value_new_nil(); }

static mgr_value *(*const json_to_type[])(const json_t *) = {
	[JSON_OBJECT] = json_to_object,	  [JSON_ARRAY] = json_to_array,
	[JSON_STRING] = json_to_string,	  [JSON_INTEGER] = json_to_integer,
	[JSON_REAL] = json_to_real,	  [JSON_TRUE] = json_to_true,
	[JSON_FALSE] = json_to_false,	  [JSON_NULL] = json_to_null,
};

static mgr_value *json_to(const json_t *j)
{
	return json_to_type[json_typeof(j)](j);
}

int json_parse(const char *buf, size_t len, mgr_value **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "%s (at character %d)", je.text, je.position);
		return -1;
	}
	mgr_value *v = json_to(j);
	json_decref(j);
	if (!v) {
		snprintf(err, errlen, "a \"$bytes\" must be hex, a \"$ref\" a non-negative id");
		return -1;
	}
	*out = v;
	return 0;
}
