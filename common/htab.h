/* An insertion-ordered hash table keyed by mgr_value: entries live in a
 * dense array (iteration order = insertion order, like Python's dict) and a
 * power-of-two index of entry numbers is probed linearly. */
#ifndef COMMON_HTAB_H
#define COMMON_HTAB_H

#include "value.h"

struct hent {
	mgr_value *key; /* NULL: deleted hole */
	mgr_value *val;
	uint64_t hash;
};

struct htab {
	struct hent *ents;
	size_t nents, cap; /* entries used (with holes), allocated */
	size_t live;       /* entries that are not holes */
	uint32_t *idx;     /* 0 empty, UINT32_MAX deleted, else entry + 1 */
	size_t nidx, used; /* slots, slots not empty */
};

struct htab *htab_new(void);
void htab_free(struct htab *h);
void htab_clear(struct htab *h);
struct hent *htab_find(const struct htab *h, const mgr_value *key);
/* key and val consumed even on failure. The old value, if any, is handed to
 * *old (caller owns; NULL if the key was new). */
int htab_set(struct htab *h, mgr_value *key, mgr_value *val, mgr_value **old);
/* Removes key; its stored key and value go to *k and *v (caller owns).
 * Returns false when absent. */
bool htab_del(struct htab *h, const mgr_value *key, mgr_value **k, mgr_value **v);
/* The i-th live entry in insertion order (O(1) without holes). */
const struct hent *htab_nth(const struct htab *h, size_t i);

#define HTAB_FOREACH(h, e)                                                     \
	for (struct hent *e = (h)->ents; e && e < (h)->ents + (h)->nents; e++) \
		if (e->key)

#endif
