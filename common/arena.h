/* A bump allocator for building messages to pack: the first chunk may be
 * the caller's (on the stack), the rest are malloc'ed and freed at once. */
#ifndef COMMON_ARENA_H
#define COMMON_ARENA_H

#include <stddef.h>

struct arena {
	char *buf;
	size_t used, size;
	void *chunks; /* malloc'ed chunks, linked through their first word */
};

/* Zeroed memory, or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
void arena_free(struct arena *a);

#endif
