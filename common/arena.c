/* The bump allocator behind frame encoding (see arena.h). */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192
#define ARENA_HDR 16 /* the link word, padded to keep alignment */

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (a->used + n > a->size) {
		size_t size = n + ARENA_HDR > ARENA_CHUNK ? n + ARENA_HDR : ARENA_CHUNK;
		char *c = malloc(size);
		if (!c)
			return NULL;
		*(void **)c = a->chunks;
		a->chunks = c;
		a->buf = c + ARENA_HDR;
		a->size = size - ARENA_HDR;
		a->used = 0;
	}
	void *p = a->buf + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

void arena_free(struct arena *a)
{
	while (a->chunks) {
		void *next = *(void **)a->chunks;
		free(a->chunks);
		a->chunks = next;
	}
	a->buf = NULL;
	a->used = a->size = 0;
}
