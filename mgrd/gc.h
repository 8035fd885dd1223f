/* The cycle collector: frees objects that only reference cycles keep
 * alive (a list holding a ref to itself, two dicts holding each other)
 * once no session, no name and no work in flight holds any of them.
 * Reference counts alone never free those (Python's manager leaks them).
 *
 * How: trial deletion, as CPython's gc does. An object's refs count every
 * holder (registry.h); the refs that containers' states hold are found by
 * the types' refs hooks (type.h). An object with more refs than the states
 * explain is held from outside (a session, its name, a parked item, a
 * call): a root. What no root reaches is garbage. A type without a refs
 * hook explains nothing, so what it refers to is a root: never wrong.
 *
 * When: a drop of a container's reference that leaves it alive
 * (registry.c: registry_release) asks for a collection; it starts
 * GC_DELAY_MS later from its own loop event, never inside a call, and
 * walks the containers a slice at a time, so other sessions' calls are
 * served between slices. What it finds is checked against the objects as
 * they are then, in one slice, before anything is deleted (see gc.c). */
#ifndef MGRD_GC_H
#define MGRD_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/value.h"

struct server;

typedef void (*gc_visit_fn)(uint64_t id, void *arg);

/* What the collector did; the last_* figures are of the last finished
 * collection. */
struct gc_stats {
	uint64_t runs;           /* collections finished */
	uint64_t collected;      /* objects they freed, in all */
	uint64_t last_collected; /* objects the last one freed */
	uint64_t last_visited;   /* object states it walked */
	uint64_t last_us;        /* from its start to its end, loop turns between slices included */
	uint64_t last_slice_us;  /* its longest slice: the longest any call waited on it */
	uint64_t last_slices;
	uint64_t last_calls;     /* calls the manager answered while it ran */
	bool running;
};

/* Arms the collector for srv (after its loop and registry are made):
 * sets the registry's dropped hook. Without it (out of memory, logged)
 * nothing is collected. One server per process at a time. */
void gc_setup(struct server *srv);
/* Stops it and frees what a collection in progress had (server_fini). */
void gc_fini(struct server *srv);
/* Calls visit for each ref inside v, nested lists and maps included: the
 * body of a container type's refs hook. */
void gc_value_refs(const mgr_value *v, gc_visit_fn visit, void *arg);
/* The manager's info row with the collector's figures added (gc_*
 * fields). row consumed; NULL (row freed) on ENOMEM or when row is NULL. */
mgr_value *gc_info(mgr_value *row);
void gc_stats(struct gc_stats *out);

#endif
