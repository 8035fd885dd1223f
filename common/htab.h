/* An insertion-ordered hash table keyed by mgr_value: entries live in a
 * dense array (iteration order = insertion order, like Python's dict) and
 * hold their key and value structs themselves (no block per value: a dict
 * entry is about 56 bytes); a power-of-two index of entry numbers is probed
 * linearly. Pointers into entries are valid until the table changes. */
#ifndef COMMON_HTAB_H
#define COMMON_HTAB_H

#include "value.h"

#define HTAB_HOLE 0xFF /* key.kind of a deleted entry */

struct hent {
	mgr_value key;
	mgr_value val;
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
/* Moves what *key and *val hold into the table (the structs stay the
 * caller's, left nil); an equal key's old value is freed. The entry, or
 * NULL when out of memory (what key and val held is freed then). */
struct hent *htab_put(struct htab *h, mgr_value *key, mgr_value *val);
/* The same for heap values: key and val consumed even on failure. */
int htab_set(struct htab *h, mgr_value *key, mgr_value *val);
/* Removes key. Its value goes to *v if v is not NULL (caller owns; NULL
 * when out of memory), else is freed. Returns false when absent. */
bool htab_del(struct htab *h, const mgr_value *key, mgr_value **v);
/* The i-th live entry in insertion order (O(1) without holes). */
const struct hent *htab_nth(const struct htab *h, size_t i);

#define HTAB_FOREACH(h, e)                                                     \
	for (struct hent *e = (h)->ents; e && e < (h)->ents + (h)->nents; e++) \
		if (e->key.kind != HTAB_HOLE)

#endif
