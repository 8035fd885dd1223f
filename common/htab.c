/* Ordered hash table of mgr_value keys (see htab.h). Hashing is xxHash's
 * XXH3 (libxxhash), a well-kept, fast non-cryptographic hash; hashes are
 * not stored (8 bytes an entry), a rebuild computes them again. */
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

/* Slot of key, or of the first free slot on its probe path (*found false). */
static size_t htab_probe(const struct htab *h, const mgr_value *key, bool *found)
{
	size_t mask = h->nidx - 1, i = value_hash(key) & mask, free_slot = SIZE_MAX;
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
		if (mgr_value_equal(&h->ents[x - 1].key, key)) {
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
	size_t i = htab_probe(h, key, &found);
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
		size_t s = value_hash(&h->ents[i].key) & (nidx - 1);
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

struct hent *htab_put(struct htab *h, mgr_value *key, mgr_value *val)
{
	bool found = false;
	size_t s = 0;
	if (h->nidx)
		s = htab_probe(h, key, &found);
	if (found) {
		struct hent *e = &h->ents[h->idx[s] - 1];
		value_clear(&e->val);
		e->val = *val;
		value_clear(key);
		*val = (mgr_value){.kind = MGR_NIL};
		return e;
	}
	if (htab_grow(h)) {
		value_clear(key);
		value_clear(val);
		return NULL;
	}
	s = htab_probe(h, key, &found); /* the index may be new */
	if (h->idx[s] == 0)
		h->used++;
	struct hent *e = &h->ents[h->nents];
	*e = (struct hent){*key, *val};
	*key = *val = (mgr_value){.kind = MGR_NIL};
	h->idx[s] = (uint32_t)++h->nents;
	h->live++;
	return e;
}

int htab_set(struct htab *h, mgr_value *key, mgr_value *val)
{
	if (!key || !val) {
		mgr_value_free(key);
		mgr_value_free(val);
		return MGR_ENOMEM;
	}
	struct hent *e = htab_put(h, key, val);
	free(key); /* the shells: what they held moved, or was freed */
	free(val);
	return e ? 0 : MGR_ENOMEM;
}

bool htab_del(struct htab *h, const mgr_value *key, mgr_value **v)
{
	if (h->live == 0)
		return false;
	bool found;
	size_t s = htab_probe(h, key, &found);
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
