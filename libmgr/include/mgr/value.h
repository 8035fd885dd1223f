/* mgr values: the data that crosses the wire. A value is plain data (never
 * code): nil, bool, int, double, string, bytes, list, map, or a reference to
 * another shared object. Values are trees; a container owns its children. */
#ifndef MGR_VALUE_H
#define MGR_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mgr_value mgr_value;

typedef enum mgr_kind {
	MGR_NIL = 0,
	MGR_BOOL,
	MGR_INT,
	MGR_DOUBLE,
	MGR_STRING,
	MGR_BYTES,
	MGR_LIST,
	MGR_MAP,
	MGR_REF,
} mgr_kind;

/* Constructors: caller owns — free with mgr_value_free(). NULL when out of
 * memory (or, for strings, when not valid UTF-8 or holding a NUL: a call
 * given that NULL as an argument, directly or through a typed function,
 * then fails with MGR_EUTF8, not MGR_ENOMEM). */
MGR_API mgr_value *mgr_value_new_nil(void);
MGR_API mgr_value *mgr_value_new_bool(bool b);
MGR_API mgr_value *mgr_value_new_int(int64_t i);
MGR_API mgr_value *mgr_value_new_double(double d);
MGR_API mgr_value *mgr_value_new_string(const char *s);
MGR_API mgr_value *mgr_value_new_stringn(const char *s, size_t len);
MGR_API mgr_value *mgr_value_new_bytes(const void *p, size_t len);
MGR_API mgr_value *mgr_value_new_list(void);
MGR_API mgr_value *mgr_value_new_map(void);
MGR_API mgr_value *mgr_value_new_ref(uint64_t id, const char *type);

/* Deep copy: caller owns — free with mgr_value_free(). NULL on ENOMEM. */
MGR_API mgr_value *mgr_value_copy(const mgr_value *v);
/* Accepts NULL. Frees the value and everything it contains. */
MGR_API void mgr_value_free(mgr_value *v);

/* Containers. item/key/val are consumed even on failure; a NULL item (from a
 * failed constructor) gives MGR_ENOMEM, so calls can be chained. */
MGR_API int mgr_value_list_append(mgr_value *list, mgr_value *item);
/* Replaces an existing equal key. Keys must be string, bytes, int or bool
 * (MGR_ETYPE otherwise). */
MGR_API int mgr_value_map_set(mgr_value *map, mgr_value *key, mgr_value *val);

/* Inspection: all results are borrowed from v (for a map's keys and values:
 * valid until that map is changed). */
MGR_API mgr_kind mgr_value_kind(const mgr_value *v);
MGR_API const char *mgr_kind_name(mgr_kind k);
MGR_API bool mgr_value_bool(const mgr_value *v);
MGR_API int64_t mgr_value_int(const mgr_value *v);
MGR_API double mgr_value_double(const mgr_value *v);
/* String and bytes: NUL-terminated data (bytes too); len may be NULL. */
MGR_API const char *mgr_value_string(const mgr_value *v, size_t *len);
MGR_API const void *mgr_value_bytes(const mgr_value *v, size_t *len);
/* Number of items of a list or entries of a map; 0 for scalars. */
MGR_API size_t mgr_value_len(const mgr_value *v);
MGR_API const mgr_value *mgr_value_list_get(const mgr_value *v, size_t i);
/* Map entries in insertion order, i < mgr_value_len(). */
MGR_API const mgr_value *mgr_value_map_key(const mgr_value *v, size_t i);
MGR_API const mgr_value *mgr_value_map_value(const mgr_value *v, size_t i);
MGR_API const mgr_value *mgr_value_map_get(const mgr_value *map, const mgr_value *key);
MGR_API uint64_t mgr_value_ref_id(const mgr_value *v);
MGR_API const char *mgr_value_ref_type(const mgr_value *v);

/* Equality is by kind and content (1 and 1.0 differ). */
MGR_API bool mgr_value_equal(const mgr_value *a, const mgr_value *b);
/* Orders two numbers or two strings/bytes: *out is <0, 0 or >0.
 * MGR_ETYPE when the two cannot be ordered against each other. */
MGR_API int mgr_value_compare(const mgr_value *a, const mgr_value *b, int *out);
/* Writes a short human form (JSON-like) into buf; returns buf. */
MGR_API char *mgr_value_format(const mgr_value *v, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
