/* The registry owns every shared object: ids (64-bit, never reused), unique
 * names and reference counts. An object lives while it has holders: session
 * references, container references and, for a named object, its name.
 * delete ends it at once: its state is destroyed and calls get ENOOBJ, but
 * the struct stays (dead) until its last holder lets go. */
#ifndef MGRD_REGISTRY_H
#define MGRD_REGISTRY_H

#include "object.h"

struct call;
struct conn;

int registry_init(struct registry *r);
/* Frees every object (server shutdown). */
void registry_fini(struct registry *r);
/* A new object with one reference (the creator's) plus one for its name.
 * MGR_EEXIST if the name is taken. c goes to the type's create() as it is
 * (it reads c->args); the registry does not look into it. */
int registry_create(struct registry *r, const struct type *t, const char *name,
		    struct call *c, struct object **out);
/* For snapshot.c at start: a named object of type t without a state yet
 * (the caller sets o->state before anything can call it), holding the
 * creator's reference and the name's. EEXIST, ENOMEM. */
int registry_restore(struct registry *r, const struct type *t, const char *name,
		     struct object **out);
/* A live object, or NULL. */
struct object *registry_get(const struct registry *r, uint64_t id);
struct object *registry_find(const struct registry *r, const char *name);
void registry_ref(struct object *o);
/* One more reference to id, if it exists (live or dead); an id not given
 * out yet never will be (a forged ref must not count against it). */
void registry_ref_id(struct registry *r, uint64_t id);
/* The object's worker call ended: a deleted object's state goes now. */
void registry_idle(struct registry *r, struct object *o);
/* Drops one reference to id (live or dead); frees at zero. */
void registry_unref(struct registry *r, uint64_t id);
/* The same for an object the caller holds a reference on (so it is still
 * in by_id: only the last unref takes it out), without the lookup. */
void registry_unref_object(struct registry *r, struct object *o);
/* The same for a holder letting go for good (a ref value freed, a
 * session's reference dropped): if the object lives on and its type can
 * hold refs, it may now be held only from a cycle, and r->dropped hears
 * of it. (A call's own hold on its object is dropped with unref.) */
void registry_release(struct registry *r, uint64_t id);
/* A session ended: each object that may hold something of it (a type
 * with session_end) gives it back. Visits only those objects. */
void registry_session_end(struct registry *r, struct conn *conn);
/* Ends the object now (see above). */
void registry_delete(struct registry *r, struct object *o);

#endif
