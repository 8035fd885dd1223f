/* Object ids, names and reference counts (see registry.h). */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "../common/htab.h"
#include "conn.h"
#include "log.h"

/* Ref values count as references (nested objects stay alive while a
 * container holds them). One server per process: the hooks find it here. */
static struct registry *registry_current;

static bool registry_posted(uint64_t id, int delta)
{
	return registry_current && registry_current->post_ref &&
	       registry_current->post_ref(id, delta);
}

static void registry_hook_acquire(uint64_t id)
{
	if (!registry_posted(id, 1) && registry_current)
		registry_ref_id(registry_current, id);
}

static void registry_hook_release(uint64_t id)
{
	if (!registry_posted(id, -1) && registry_current)
		registry_release(registry_current, id);
}

static const struct value_ref_hooks registry_hooks = {registry_hook_acquire,
						       registry_hook_release};

int registry_init(struct registry *r)
{
	memset(r, 0, sizeof(*r));
	registry_current = r;
	value_set_ref_hooks(&registry_hooks);
	r->next_id = 1;
	r->by_name = htab_new();
	return r->by_name ? 0 : MGR_ENOMEM;
}

static void registry_destroy_state(struct object *o)
{
	if (o->busy)
		return; /* a worker uses it: registry_idle destroys it after */
	if (o->state && o->type->destroy)
		o->type->destroy(o->state);
	o->state = NULL;
}

static void registry_free_object(struct object *o)
{
	o->busy = false; /* no worker call is left (pool_fini) */
	registry_destroy_state(o);
	free(o->name);
	free(o);
}

void registry_fini(struct registry *r)
{
	value_set_ref_hooks(NULL); /* objects are going in any order now */
	registry_current = NULL;
	IDMAP_FOREACH(&r->by_id, s)
	registry_free_object(s->ptr);
	idmap_free(&r->by_id);
	idmap_free(&r->holders);
	htab_free(r->by_name);
	r->by_name = NULL;
}

static int registry_name_add(struct registry *r, struct object *o)
{
	return htab_set(r->by_name, mgr_value_new_string(o->name),
			mgr_value_new_int((int64_t)o->id));
}

static void registry_name_del(struct registry *r, struct object *o)
{
	mgr_value key = {.kind = MGR_STRING, .u.s = {o->name, strlen(o->name)}};
	htab_del(r->by_name, &key, NULL);
}

static struct object *registry_alloc(struct registry *r, const struct type *t,
				     const char *name)
{
	struct object *o = calloc(1, sizeof(*o));
	if (!o || (name && !(o->name = strdup(name)))) {
		free(o);
		return NULL;
	}
	o->id = r->next_id;
	o->type = t;
	o->refs = name ? 2 : 1;
	o->created = time(NULL);
	return o;
}

/* Indexes o (its state made, or err): 0, or err and o is freed. */
static int registry_add(struct registry *r, struct object *o, int err, struct object **out)
{
	if (!err && idmap_put(&r->by_id, o->id, o))
		err = MGR_ENOMEM;
	if (!err && o->name && registry_name_add(r, o)) {
		idmap_del(&r->by_id, o->id);
		err = MGR_ENOMEM;
	}
	if (!err && o->type->session_end && idmap_put(&r->holders, o->id, o)) {
		idmap_del(&r->by_id, o->id);
		if (o->name)
			registry_name_del(r, o);
		err = MGR_ENOMEM;
	}
	if (err) {
		registry_free_object(o);
		return err;
	}
	r->next_id++;
	r->live++;
	*out = o;
	return 0;
}

int registry_create(struct registry *r, const struct type *t, const char *name,
		    struct call *c, struct object **out)
{
	if (name && registry_find(r, name))
		return MGR_EEXIST;
	struct object *o = registry_alloc(r, t, name);
	if (!o)
		return MGR_ENOMEM;
	return registry_add(r, o, t->create ? t->create(c, &o->state) : 0, out);
}

int registry_restore(struct registry *r, const struct type *t, const char *name,
		     struct object **out)
{
	if (registry_find(r, name))
		return MGR_EEXIST;
	struct object *o = registry_alloc(r, t, name);
	return o ? registry_add(r, o, 0, out) : MGR_ENOMEM;
}

struct object *registry_get(const struct registry *r, uint64_t id)
{
	struct object *o = idmap_get(&r->by_id, id);
	return o && !o->dead ? o : NULL;
}

struct object *registry_find(const struct registry *r, const char *name)
{
	mgr_value key = {.kind = MGR_STRING, .u.s = {(char *)name, strlen(name)}};
	const struct hent *e = htab_find(r->by_name, &key);
	return e ? registry_get(r, (uint64_t)e->val.u.i) : NULL;
}

void registry_ref(struct object *o) { o->refs++; }

/* A ref value naming an id not given out yet (a client can forge one) is
 * counted nowhere, so that id must never be given out: else dropping the
 * value would take a reference the object never had. Ids past 2^62 are out
 * of reach of next_id anyway. */
void registry_ref_id(struct registry *r, uint64_t id)
{
	struct object *o = idmap_get(&r->by_id, id);
	if (o)
		o->refs++;
	else if (id >= r->next_id && id < (UINT64_C(1) << 62))
		r->next_id = id + 1;
}

void registry_idle(struct registry *r, struct object *o)
{
	(void)r;
	if (o->dead)
		registry_destroy_state(o);
}

void registry_unref_object(struct registry *r, struct object *o)
{
	uint64_t id = o->id;
	if (o->freeing || --o->refs > 0)
		return;
	o->freeing = true; /* its state may hold refs to itself */
	if (!o->dead)
		r->live--;
	idmap_del(&r->by_id, id);
	idmap_del(&r->holders, id);
	registry_free_object(o);
}

void registry_unref(struct registry *r, uint64_t id)
{
	struct object *o = idmap_get(&r->by_id, id);
	if (o)
		registry_unref_object(r, o);
}

void registry_release(struct registry *r, uint64_t id)
{
	registry_unref(r, id);
	struct object *o = r->dropped ? idmap_get(&r->by_id, id) : NULL;
	if (o && !o->dead && o->type->refs)
		r->dropped(r, o);
}

/* The walk is over a copy of the ids: a hook may free objects (a parked
 * item's refs dropped, a lock's waiter answered...), which shifts the map.
 * Each object is held while its hook runs. */
void registry_session_end(struct registry *r, struct conn *conn)
{
	size_t n = 0;
	uint64_t *ids = malloc((r->holders.len + 1) * sizeof(*ids));
	if (!ids)
		return; /* out of memory: holds stay (the safe side) */
	IDMAP_FOREACH(&r->holders, s)
	ids[n++] = s->id;
	for (size_t i = 0; i < n; i++) {
		struct object *o = idmap_get(&r->holders, ids[i]);
		if (!o)
			continue;
		o->refs++;
		o->type->session_end(o, conn);
		registry_unref(r, ids[i]);
	}
	free(ids);
}

void registry_delete(struct registry *r, struct object *o)
{
	if (o->dead)
		return;
	uint64_t id = o->id;
	o->refs++; /* held while its state (which may point at it) goes */
	o->dead = true;
	r->live--;
	idmap_del(&r->holders, id);
	registry_destroy_state(o);
	if (o->name) {
		registry_name_del(r, o);
		registry_unref(r, id); /* the name's reference */
	}
	registry_unref(r, id);
}
