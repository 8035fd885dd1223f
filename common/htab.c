/* Ordered hash table of mgr_value keys (see htab.h). Hashing is value_hash
 * (XXH3 keyed with a per-process secret); hashes are not stored (8 bytes an
 * entry), a rebuild computes them again. Every insert counts the slots it
 * looks at: past HTAB_PROBE_MAX the index widens, then the insert fails. */
#include "htab.h"

#include <stdlib.h>
#include <string.h>

#define HTAB_DELETED UINT32_MAX

static struct htab_test_hook *htab_hook; /* NULL but in tests */

void htab_test_set_hook(struct htab_test_hook *hook) { htab_hook = hook; }

static uint64_t htab_hash(const mgr_value *key)
{
	return htab_hook ? htab_hook->hash(key) : value_hash(key);
}

struct htab *htab_new(void)
{
	return calloc(1, sizeof(struct htab));
}

void htab_clear(struct htab *h)
{
	HTAB_FOREACH(h, e)
	{
		value_clear(&e->key);
		value_clear(&e->val);
	}
	free(h->ents);
	free(h->idx);
	memset(h, 0, sizeof(*h));
}

void htab_free(struct htab *h)
{
	if (!h)
		return;
	htab_clear(h);
	free(h);
}

/* Slot of key, or of the first free slot on its probe path (*found false);
 * *steps: the slots looked at. */
static size_t htab_probe(const struct htab *h, const mgr_value *key, uint64_t hash, bool *found,
			 size_t *steps)
{
	size_t mask = h->nidx - 1, i = hash & mask, free_slot = SIZE_MAX, n = 1;
	for (;; i = (i + 1) & mask, n++) {
		uint32_t x = h->idx[i];
		if (x == 0) {
			*found = false;
			i = free_slot != SIZE_MAX ? free_slot : i;
			break;
		}
		if (x == HTAB_DELETED) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
			continue;
		}
		if (mgr_value_equal(&h->ents[x - 1].key, key)) {
			*found = true;
			break;
		}
	}
	if (htab_hook)
		htab_hook->probes += n;
	*steps = n;
	return i;
}

struct hent *htab_find(const struct htab *h, const mgr_value *key)
{
	if (h->live == 0)
		return NULL;
	bool found;
	size_t steps, i = htab_probe(h, key, htab_hash(key), &found, &steps);
	return found ? &h->ents[h->idx[i] - 1] : NULL;
}

/* Compacts the entries and rebuilds an index of nidx slots. */
static int htab_rebuild(struct htab *h, size_t nidx)
{
	uint32_t *idx = calloc(nidx, sizeof(*idx));
	if (!idx)
		return MGR_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < h->nents; i++)
		if (h->ents[i].key.kind != HTAB_HOLE)
			h->ents[n++] = h->ents[i];
	for (size_t i = 0; i < n; i++) {
		size_t s = htab_hash(&h->ents[i].key) & (nidx - 1), steps = 1;
		for (; idx[s]; steps++)
			s = (s + 1) & (nidx - 1);
		idx[s] = (uint32_t)(i + 1);
		if (htab_hook)
			htab_hook->probes += steps;
	}
	free(h->idx);
	h->idx = idx;
	h->nidx = nidx;
	h->nents = h->live = h->used = n;
	return 0;
}

/* The usual index for n keys: a power of two, at most 2/3 full. */
static size_t htab_index_size(size_t n)
{
	size_t nidx = 8;
	while (nidx * 2 <= n * 3)
		nidx *= 2;
	return nidx;
}

static int htab_grow(struct htab *h)
{
	if (h->nents == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4;
		if (h->live < h->nents / 2)
			cap = h->cap; /* mostly holes: compaction below frees room */
		else {
			struct hent *e = realloc(h->ents, cap * sizeof(*e));
			if (!e)
				return MGR_ENOMEM;
			h->ents = e;
			h->cap = cap;
		}
		if (h->nents == h->cap)
			return htab_rebuild(h, h->nidx);
	}
	if ((h->used + 1) * 3 < h->nidx * 2)
		return 0;
	return htab_rebuild(h, htab_index_size(h->live + 1));
}

/* An insert of key looked at more than HTAB_PROBE_MAX slots: a wider index
 * parts keys that share only their low hash bits; keys that share more are
 * refused (MGR_ELIMIT) rather than scanned ever longer. *s, *steps: the
 * key's slot in the index that takes it. */
static int htab_spread(struct htab *h, const mgr_value *key, uint64_t hash, size_t *s,
		       size_t *steps)
{
	bool found;
	while (*steps > HTAB_PROBE_MAX) {
		if (h->nidx >= HTAB_SPREAD_MAX * htab_index_size(h->live + 1))
			return MGR_ELIMIT;
		int err = htab_rebuild(h, h->nidx * 2);
		if (err)
			return err;
		*s = htab_probe(h, key, hash, &found, steps);
	}
	return 0;
}

/* Replaces the value of the entry in slot s with *val. */
static struct hent *htab_replace(struct htab *h, size_t s, mgr_value *key, mgr_value *val)
{
	struct hent *e = &h->ents[h->idx[s] - 1];
	value_clear(&e->val);
	e->val = *val;
	value_clear(key);
	*val = (mgr_value){.kind = MGR_NIL};
	return e;
}

int htab_insert(struct htab *h, mgr_value *key, mgr_value *val, struct hent **out)
{
	uint64_t hash = htab_hash(key);
	bool found = false;
	size_t s = 0, steps = 0;
	if (h->nidx)
		s = htab_probe(h, key, hash, &found, &steps);
	if (found) {
		*out = htab_replace(h, s, key, val);
		return 0;
	}
	uint32_t *idx = h->idx;
	int err = htab_grow(h);
	if (!err && h->idx != idx) /* a new index (the old one is freed after) */
		s = htab_probe(h, key, hash, &found, &steps);
	if (!err)
		err = htab_spread(h, key, hash, &s, &steps);
	if (err) {
		value_clear(key);
		value_clear(val);
		return err;
	}
	if (h->idx[s] == 0)
		h->used++;
	struct hent *e = &h->ents[h->nents];
	*e = (struct hent){*key, *val};
	*key = *val = (mgr_value){.kind = MGR_NIL};
	h->idx[s] = (uint32_t)++h->nents;
	h->live++;
	*out = e;
	return 0;
}

struct hent *htab_put(struct htab *h, mgr_value *key, mgr_value *val)
{
	struct hent *e;
	return htab_insert(h, key, val, &e) ? NULL : e;
}

int htab_set(struct htab *h, mgr_value *key, mgr_value *val)
{
	if (!key || !val) {
		mgr_value_free(key);
		mgr_value_free(val);
		return MGR_ENOMEM;
	}
	struct hent *e;
	int err = htab_insert(h, key, val, &e);
	free(key); /* the shells: what they held moved, or was freed */
	free(val);
	return err;
}

bool htab_del(struct htab *h, const mgr_value *key, mgr_value **v)
{
	if (h->live == 0)
		return false;
	bool found;
	size_t steps, s = htab_probe(h, key, htab_hash(key), &found, &steps);
	if (!found)
		return false;
	struct hent *e = &h->ents[h->idx[s] - 1];
	mgr_value *out = v ? malloc(sizeof(*out)) : NULL;
	if (out)
		*out = e->val;
	else
		value_clear(&e->val);
	if (v)
		*v = out;
	value_clear(&e->key);
	e->key.kind = HTAB_HOLE;
	h->idx[s] = HTAB_DELETED;
	h->live--;
	while (h->nents && h->ents[h->nents - 1].key.kind == HTAB_HOLE)
		h->nents--; /* trailing holes are free to reuse */
	if (h->live == 0)
		htab_rebuild(h, h->nidx);
	return true;
}

const struct hent *htab_nth(const struct htab *h, size_t i)
{
	if (i >= h->live)
		return NULL;
	if (h->live == h->nents)
		return &h->ents[i];
	for (size_t j = 0; j < h->nents; j++)
		if (h->ents[j].key.kind != HTAB_HOLE && i-- == 0)
			return &h->ents[j];
	return NULL;
}

size_t htab_longest_probe(const struct htab *h)
{
	size_t mask = h->nidx - 1, longest = 0;
	for (size_t i = 0; i < h->nidx; i++) {
		uint32_t x = h->idx[i];
		if (x == 0 || x == HTAB_DELETED)
			continue;
		size_t n = ((i - (htab_hash(&h->ents[x - 1].key) & mask)) & mask) + 1;
		if (n > longest)
			longest = n;
	}
	return longest;
}
