/* Ordered hash table of mgr_value keys (see htab.h). Hashing is xxHash's
 * XXH3 (libxxhash), a well-kept, fast non-cryptographic hash. */
#include "htab.h"

#include <stdlib.h>
#include <string.h>

#define HTAB_DELETED UINT32_MAX

struct htab *htab_new(void)
{
	return calloc(1, sizeof(struct htab));
}

void htab_clear(struct htab *h)
{
	HTAB_FOREACH(h, e)
	{
		mgr_value_free(e->key);
		mgr_value_free(e->val);
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

/* Slot of key, or of the first free slot on its probe path (*found false). */
static size_t htab_probe(const struct htab *h, const mgr_value *key, uint64_t hash,
			 bool *found)
{
	size_t mask = h->nidx - 1, i = hash & mask, free_slot = SIZE_MAX;
	for (;; i = (i + 1) & mask) {
		uint32_t x = h->idx[i];
		if (x == 0) {
			*found = false;
			return free_slot != SIZE_MAX ? free_slot : i;
		}
		if (x == HTAB_DELETED) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
			continue;
		}
		const struct hent *e = &h->ents[x - 1];
		if (e->hash == hash && mgr_value_equal(e->key, key)) {
			*found = true;
			return i;
		}
	}
}

struct hent *htab_find(const struct htab *h, const mgr_value *key)
{
	if (h->live == 0)
		return NULL;
	bool found;
	size_t i = htab_probe(h, key, value_hash(key), &found);
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
		if (h->ents[i].key)
			h->ents[n++] = h->ents[i];
	for (size_t i = 0; i < n; i++) {
		size_t s = h->ents[i].hash & (nidx - 1);
		while (idx[s])
			s = (s + 1) & (nidx - 1);
		idx[s] = (uint32_t)(i + 1);
	}
	free(h->idx);
	h->idx = idx;
	h->nidx = nidx;
	h->nents = h->live = h->used = n;
	return 0;
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
	size_t nidx = 8;
	while (nidx * 2 <= (h->live + 1) * 3)
		nidx *= 2;
	return htab_rebuild(h, nidx);
}

int htab_set(struct htab *h, mgr_value *key, mgr_value *val, mgr_value **old)
{
	*old = NULL;
	int err = key && val ? htab_grow(h) : MGR_ENOMEM;
	if (err) {
		mgr_value_free(key);
		mgr_value_free(val);
		return err;
	}
	uint64_t hash = value_hash(key);
	bool found;
	size_t s = htab_probe(h, key, hash, &found);
	if (found) {
		struct hent *e = &h->ents[h->idx[s] - 1];
		*old = e->val;
		e->val = val;
		mgr_value_free(key);
		return 0;
	}
	if (h->idx[s] == 0)
		h->used++;
	h->ents[h->nents] = (struct hent){key, val, hash};
	h->idx[s] = (uint32_t)++h->nents;
	h->live++;
	return 0;
}

bool htab_del(struct htab *h, const mgr_value *key, mgr_value **k, mgr_value **v)
{
	if (h->live == 0)
		return false;
	bool found;
	size_t s = htab_probe(h, key, value_hash(key), &found);
	if (!found)
		return false;
	struct hent *e = &h->ents[h->idx[s] - 1];
	*k = e->key;
	*v = e->val;
	e->key = e->val = NULL;
	h->idx[s] = HTAB_DELETED;
	h->live--;
	while (h->nents && !h->ents[h->nents - 1].key)
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
		if (h->ents[j].key && i-- == 0)
			return &h->ents[j];
	return NULL;
}
