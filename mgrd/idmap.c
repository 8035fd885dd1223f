/* id -> pointer map (see idmap.h). */
#include "idmap.h"

#include <stdlib.h>

#include "mgr/error.h"

static size_t idmap_home(const struct idmap *m, uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL; /* a 64-bit mixer: ids are sequential */
	id ^= id >> 33;
	return id & (m->cap - 1);
}

static struct idmap_slot *idmap_find(const struct idmap *m, uint64_t id)
{
	if (!m->cap)
		return NULL;
	for (size_t i = idmap_home(m, id);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].id == id)
			return &m->slots[i];
		if (!m->slots[i].id)
			return NULL;
	}
}

void *idmap_get(const struct idmap *m, uint64_t id)
{
	struct idmap_slot *s = idmap_find(m, id);
	return s ? s->ptr : NULL;
}

static void idmap_place(struct idmap *m, uint64_t id, void *ptr)
{
	size_t i = idmap_home(m, id);
	while (m->slots[i].id)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = (struct idmap_slot){id, ptr};
	m->len++;
}

static int idmap_grow(struct idmap *m)
{
	struct idmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return MGR_ENOMEM;
	}
	m->len = 0;
	IDMAP_FOREACH(&old, s)
	idmap_place(m, s->id, s->ptr);
	free(old.slots);
	return 0;
}

int idmap_put(struct idmap *m, uint64_t id, void *ptr)
{
	struct idmap_slot *s = idmap_find(m, id);
	if (s) {
		s->ptr = ptr;
		return 0;
	}
	if ((m->len + 1) * 4 > m->cap * 3 && idmap_grow(m))
		return MGR_ENOMEM;
	idmap_place(m, id, ptr);
	return 0;
}

void *idmap_del(struct idmap *m, uint64_t id)
{
	struct idmap_slot *s = idmap_find(m, id);
	if (!s)
		return NULL;
	void *ptr = s->ptr;
	size_t hole = (size_t)(s - m->slots), mask = m->cap - 1;
	/* backward shift: move later entries of the run into the hole */
	for (size_t i = (hole + 1) & mask; m->slots[i].id; i = (i + 1) & mask) {
		size_t home = idmap_home(m, m->slots[i].id);
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			m->slots[hole] = m->slots[i];
			hole = i;
		}
	}
	m->slots[hole] = (struct idmap_slot){0, NULL};
	m->len--;
	return ptr;
}

void idmap_free(struct idmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = 0;
}
