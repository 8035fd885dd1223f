/* A map from 64-bit ids to pointers (open addressing, linear probing,
 * backward-shift deletion). Used for the object registry and for the
 * references each session holds. Id 0 is never stored. */
#ifndef MGRD_IDMAP_H
#define MGRD_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot {
	uint64_t id; /* 0: empty */
	void *ptr;
};

struct idmap {
	struct idmap_slot *slots;
	size_t cap, len; /* cap is a power of two or 0 */
};

void *idmap_get(const struct idmap *m, uint64_t id);
/* Inserts or replaces. 0 or MGR_ENOMEM. */
int idmap_put(struct idmap *m, uint64_t id, void *ptr);
/* Removes id; returns its pointer or NULL. */
void *idmap_del(struct idmap *m, uint64_t id);
void idmap_free(struct idmap *m);

#define IDMAP_FOREACH(m, s)                                                    \
	for (struct idmap_slot *s = (m)->slots; s && s < (m)->slots + (m)->cap; s++) \
		if (s->id)

#endif
