/* More of Python's containers (issue 12): dicts made with entries,
 * popitem, list contains / + / * / *=, namespaces (Python's
 * manager.Namespace()), iterators that walk a dict or list in bounded
 * batches (Python's dict iterator), and Python's repr() of any object.
 * Included by mgr/mgr.h. Conventions as in mgr/mgr.h: 0 or an mgr_err,
 * out-parameters untouched on failure, memory as each comment says. */
#ifndef MGR_CONTAINERS_H
#define MGR_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgr/error.h"
#include "mgr/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mgr_client mgr_client;
typedef struct mgr_object mgr_object;

/* ---- dict and list, more ---- */

/* A new dict (named, or anonymous when name is NULL) holding init's
 * entries: a map, or a list of [key, value] pairs (Python's dict(...)).
 * init borrowed, may be NULL; MGR_EARGS for anything else, MGR_EEXIST if
 * the name is taken. *out: caller owns — free with mgr_object_release(). */
MGR_API int mgr_dict_create(mgr_client *c, const char *name, const mgr_value *init,
			    mgr_object **out);
/* Removes the entry inserted last (LIFO, as Python's popitem); *key and
 * *value: caller owns — free with mgr_value_free(). MGR_ENOKEY if empty. */
MGR_API int mgr_dict_popitem(mgr_object *o, mgr_value **key, mgr_value **value);

/* value in l; value borrowed. */
MGR_API int mgr_list_contains(mgr_object *o, const mgr_value *value, bool *found);
/* l + items (a list value, consumed even on failure) and l * n, as a new
 * plain list: *result caller owns. The object does not change. */
MGR_API int mgr_list_concat(mgr_object *o, mgr_value *items, mgr_value **result);
MGR_API int mgr_list_repeat(mgr_object *o, int64_t n, mgr_value **result);
/* l *= n in place (n <= 0 empties it). mgr_list_extend is l += items.
 * repeat and imul: MGR_ELIMIT past the manager's max_items. */
MGR_API int mgr_list_imul(mgr_object *o, int64_t n);

/* ---- namespace: named attributes (Python's Namespace) ---- */

/* The named namespace, created empty if missing. *out: caller owns — free
 * with mgr_object_release(). */
MGR_API int mgr_namespace_open(mgr_client *c, const char *name, mgr_object **out);
/* A new namespace (anonymous when name is NULL) with the attributes of
 * attrs (a map with string keys; borrowed, may be NULL). */
MGR_API int mgr_namespace_create(mgr_client *c, const char *name, const mgr_value *attrs,
				 mgr_object **out);
/* ns.attr: *value caller owns; MGR_ENOATTR if it has none. */
MGR_API int mgr_namespace_get(mgr_object *o, const char *attr, mgr_value **value);
/* ns.attr = value; value consumed even on failure. */
MGR_API int mgr_namespace_set(mgr_object *o, const char *attr, mgr_value *value);
/* del ns.attr; MGR_ENOATTR if it has none. */
MGR_API int mgr_namespace_del(mgr_object *o, const char *attr);
MGR_API int mgr_namespace_has(mgr_object *o, const char *attr, bool *found);
/* The attribute names in the order they were first set (a list), and
 * vars(ns) (a map): caller owns. */
MGR_API int mgr_namespace_names(mgr_object *o, mgr_value **names);
MGR_API int mgr_namespace_vars(mgr_object *o, mgr_value **attrs);

/* ---- iterators: walk a dict or list in bounded batches ---- */

/* A cursor over an iterator object on the manager. The manager gives at
 * most `batch` entries a round trip (at most 1000, fewer when a reply
 * would grow past its frame limit), so a dict of millions of entries is
 * walked without one giant reply. A dict's iterator fails with
 * MGR_ECHANGED once a key is added or removed ("dictionary changed size
 * during iteration"; a new value for a key is fine); a list's walks by
 * index, as Python's does, and never fails. */
typedef struct mgr_iter mgr_iter;

typedef enum mgr_dict_view {
	MGR_DICT_KEYS,
	MGR_DICT_VALUES,
	MGR_DICT_ITEMS, /* entries are [key, value] lists */
} mgr_dict_view;

/* batch 0: 100. *out: caller owns — free with mgr_iter_close(). */
MGR_API int mgr_dict_iter_open(mgr_object *dict, mgr_dict_view view, size_t batch,
			       mgr_iter **out);
MGR_API int mgr_list_iter_open(mgr_object *list, size_t batch, mgr_iter **out);
/* The next entry: *entry borrowed, valid until the next call on it.
 * MGR_ESTOP after the last one (and from then on); MGR_ECHANGED,
 * MGR_ENOOBJ (the container was deleted) and call errors as they come. */
MGR_API int mgr_iter_next(mgr_iter *it, const mgr_value **entry);
/* Accepts NULL. Releases the iterator on the manager (and with it its hold
 * on the container) and frees the cursor. */
MGR_API int mgr_iter_close(mgr_iter *it);
/* The iterator object itself (for mgr_call "next"); borrowed. */
MGR_API mgr_object *mgr_iter_object(const mgr_iter *it);

/* ---- repr ---- */

/* Python's repr() of the object, made by the manager: "{'a': 1}", "[1, 2]",
 * "Namespace(a=1)", "<lock(locked=True, ...)>"; at most max bytes (0:
 * 4096; cut text ends in "..."). *text: caller owns — free with free(). */
MGR_API int mgr_object_repr(mgr_object *o, size_t max, char **text);

#ifdef __cplusplus
}
#endif
#endif
