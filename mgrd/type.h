/* A type is a table: its name, how to create and destroy an instance, and
 * its methods. Built-in and custom types are the same kind of table, so
 * dispatch has no per-type code and introspection reads these rows. */
#ifndef MGRD_TYPE_H
#define MGRD_TYPE_H

#include <stddef.h>
#include <stdint.h>

#include "mgr/value.h"

struct call;
struct conn;
struct method_stats;
struct object;

/* A handler returns 0, an mgr_err, or this: the reply comes later. */
#define CALL_PARKED (-1)

typedef int (*method_fn)(struct call *c);

enum method_flags {
	METHOD_READONLY = 1 << 0, /* does not change the object */
	METHOD_BLOCKING = 1 << 1, /* may park the call (takes a timeout) */
	METHOD_INLINE = 1 << 2,   /* of a threaded type: quick, may run on the loop */
};

struct method {
	const char *name;
	method_fn fn;
	int8_t min_args, max_args; /* max -1: any number */
	unsigned flags;
	const char *args; /* e.g. "key, default=None": for introspection */
	const char *doc;
};

enum type_flags {
	TYPE_THREADED = 1 << 0, /* methods run on worker threads (custom types) */
	TYPE_INTERNAL = 1 << 1, /* not creatable by clients (the manager) */
	/* describe gives a map of the object's state (sync types), not its
	 * contents; its "items" entry, if any, is the contents cut at limit. */
	TYPE_STATE_MAP = 1 << 2,
};

struct type {
	const char *name;
	const char *doc;
	/* Builds the state from c->args (the constructor arguments). */
	int (*create)(struct call *c, void **state);
	/* The constructor's arguments as a method row writes them ("parties,
	 * action=None, timeout=None"; "" for none): more than it names are
	 * refused with EARGS before create runs (types_ctor_max_args). NULL:
	 * not checked (create reads what it wants). */
	const char *ctor_args;
	void (*destroy)(void *state);
	/* Size of the state's contents, for listings (items, entries...). */
	size_t (*length)(const void *state);
	/* A session ended: give back what it held (robust locks...). */
	void (*session_end)(struct object *o, struct conn *conn);
	/* Optional, for `mgrctl show`: the object's contents or state as a
	 * value, at most limit items of a container (caller owns; NULL on
	 * ENOMEM). Without it, describe calls the type's "copy" or "get". */
	mgr_value *(*describe)(const struct object *o, size_t limit);
	/* Optional, for `mgrctl clients`: how many holds (lock ownerships...)
	 * conn has on the object. */
	uint32_t (*held)(const struct object *o, const struct conn *conn);
	/* Optional, for listings (`mgrctl ls`): the pid of the process holding
	 * the object (a lock's owner; 0: none) and how many calls wait on it. */
	void (*contention)(const struct object *o, int32_t *holder_pid, uint32_t *waiters);
	const struct method *methods;
	size_t nmethods;
	unsigned flags;
	/* Optional: frees a table made at run time, when types are reset. */
	void (*unregister)(const struct type *t);
	/* Optional, for --snapshot (snapshot.c): the state as a value (caller
	 * owns; NULL on ENOMEM), and a new state from such a value (saved
	 * borrowed; 0 or an mgr_err, *state untouched on failure). A type
	 * without both is not saved. */
	mgr_value *(*save)(const void *state);
	int (*load)(const mgr_value *saved, void **state);
	/* Optional, for a threaded type: asked on the loop thread before a
	 * METHOD_INLINE call runs there, with the object idle; 0 sends this
	 * call to a worker instead (custom types' mgr_type_def.inline_ok). */
	int (*inline_ok)(const struct call *c);
	/* Optional, for the manager's `repr`: Python's repr() of the object
	 * ("{'a': 1}", "Namespace(a=1)"), at most max bytes (then cut, ending
	 * in "..."); caller owns — free with free(); NULL on ENOMEM. Without
	 * it, repr is built from describe. */
	char *(*repr)(const struct object *o, size_t max);
	/* Optional, for the cycle collector (gc.h): calls visit once for each
	 * ref value the state holds (gc_value_refs walks one value). A type
	 * without it explains none of its refs, so what it refers to counts
	 * as held from outside and is never collected through it (safe). */
	void (*refs)(const void *state, void (*visit)(uint64_t id, void *arg), void *arg);
};

/* The type registry: built-ins first, then custom types. */
int types_register(const struct type *t);
const struct type *types_find(const char *name);
const struct method *types_method(const struct type *t, const char *name);
/* The call statistics of m, one of t's rows (stats.h). */
struct method_stats *types_stats(const struct type *t, const struct method *m);
/* How many constructor arguments t takes at most (the names in its
 * ctor_args), or -1 when it does not say. */
int types_ctor_max_args(const struct type *t);
size_t types_count(void);
const struct type *types_at(size_t i);
void types_reset(void);

#endif
