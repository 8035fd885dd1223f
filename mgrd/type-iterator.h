/* Iterators: objects a container's `iter` method makes (Python's dict
 * iterator, the proxy's Iterator). An iterator holds a ref to its
 * container (so the container lives while it does) and walks it with the
 * container's step function, a bounded batch per `next`. */
#ifndef MGRD_TYPE_ITERATOR_H
#define MGRD_TYPE_ITERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "../common/value.h"

struct call;
struct object;

/* Where a walk is: at (the container's own position: an entry or an
 * index), stamp and len (what the container was at open, to see a change)
 * and view (which part of an entry: the container's choice). */
struct iter_pos {
	size_t at;
	uint64_t stamp;
	size_t len;
	int view;
};

/* One step: the entry at pos->at as a new value in *out (caller owns) and
 * pos->at moved past it; MGR_ESTOP past the end; MGR_ECHANGED (message set
 * on c) when the container changed in a way the walk cannot survive. */
typedef int (*iter_step_fn)(struct call *c, const struct object *container,
			    struct iter_pos *pos, mgr_value **out);

/* The most entries one `next` returns. */
#define ITER_MAX_BATCH 1000

/* Makes an iterator over c->obj (the container c calls) that starts at
 * *start and walks with step, and answers c with its ref. */
int iter_open(struct call *c, iter_step_fn step, const struct iter_pos *start);

#endif
