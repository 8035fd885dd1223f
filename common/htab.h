/* An insertion-ordered hash table keyed by mgr_value: entries live in a
 * dense array (iteration order = insertion order, like Python's dict) and
 * hold their key and value structs themselves (no block per value: a dict
 * entry is about 56 bytes); a power-of-two index of entry numbers is probed
 * linearly. Pointers into entries are valid until the table changes.
 *
 * Keys are hashed with value_hash, keyed with a per-process secret, so a
 * client cannot choose keys that collide. The cost of colliding keys is
 * bounded anyway: an insert that would look at more than HTAB_PROBE_MAX
 * slots widens the index (up to HTAB_SPREAD_MAX times its usual size), and
 * fails with MGR_ELIMIT if that does not help. */
#ifndef COMMON_HTAB_H
#define COMMON_HTAB_H

#include "value.h"

#define HTAB_HOLE 0xFF /* key.kind of a deleted entry */
/* With random hashes at up to 2/3 load the longest insert of 3x10^7
 * looked at 146 slots (a scan past k slots gets ~7% rarer with each slot). */
#define HTAB_PROBE_MAX 256
#define HTAB_SPREAD_MAX 4

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
/* The same with the reason for a failure: MGR_ENOMEM, or MGR_ELIMIT when
 * the key collides with too many others. *out: the entry (untouched on
 * failure). */
int htab_insert(struct htab *h, mgr_value *key, mgr_value *val, struct hent **out);
/* The same for heap values: key and val consumed even on failure. */
int htab_set(struct htab *h, mgr_value *key, mgr_value *val); /* ENOMEM, ELIMIT */
/* Removes key. Its value goes to *v if v is not NULL (caller owns; NULL
 * when out of memory), else is freed. Returns false when absent. */
bool htab_del(struct htab *h, const mgr_value *key, mgr_value **v);
/* The i-th live entry in insertion order (O(1) without holes). */
const struct hent *htab_nth(const struct htab *h, size_t i);
/* Slots a lookup of the worst-placed key looks at (1: in its home slot;
 * 0: empty table). For tests and diagnostics: O(entries). */
size_t htab_longest_probe(const struct htab *h);

/* Test seam, for tests only: while set, keys hash with hook->hash instead of
 * value_hash and every slot looked at is counted in hook->probes. NULL
 * restores value_hash. Not thread-safe; set it with no table in use. */
struct htab_test_hook {
	uint64_t (*hash)(const mgr_value *key);
	uint64_t probes;
};
void htab_test_set_hook(struct htab_test_hook *hook);

#define HTAB_FOREACH(h, e)                                                     \
	for (struct hent *e = (h)->ents; e && e < (h)->ents + (h)->nents; e++) \
		if (e->key.kind != HTAB_HOLE)

#endif
