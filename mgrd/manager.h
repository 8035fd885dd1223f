/* What the manager's files share: type-manager.c (objects and
 * introspection), type-manager-views.c (sessions, stats, contents, stop)
 * and monitor.c. */
#ifndef MGRD_MANAGER_H
#define MGRD_MANAGER_H

#include <stddef.h>
#include <stdio.h>

#include "../common/value.h"

struct call;
struct method;
struct object;
struct server;

/* An object's listing row: id, name, type, refs, size, creator_pid, calls,
 * holder_pid and waiters (nil where the type has no contention hook; a nil
 * holder_pid: nobody holds it), owner_uid, owner_gid and mode ("rwd------",
 * policy.h). */
mgr_value *manager_object_row(const struct server *srv, const struct object *o);
/* The live object v names (a ref, an id or a name), if the caller has the
 * right the method's policy row asks on it (policy.h); ENOOBJ / EARGS /
 * EPERM with a message set on c otherwise. */
int manager_resolve(struct call *c, const mgr_value *v, struct object **out);

/* A method's row for `methods` and --describe-types: {name, args, doc,
 * min_args, max_args, blocking, readonly} (NULL on ENOMEM). */
mgr_value *manager_method_row(const struct method *m);

/* Rows of the manager's table implemented in type-manager-views.c. */
int manager_clients(struct call *c);
int manager_stats(struct call *c);
int manager_describe(struct call *c);
int manager_shutdown(struct call *c);
/* mgrd --describe-types: every type registered (built-ins, the manager
 * as "manager", those of --module) as JSON on f, one line: {"version",
 * "types": [{name, doc, ctor_args (null: not checked), internal, threaded,
 * methods: [method rows]}]}. Needs no server. 0, or -1 on ENOMEM or a
 * write error. */
int manager_describe_types(FILE *f);
/* Python's repr() of an object: type-manager-repr.c. */
int manager_repr(struct call *c);

#endif
