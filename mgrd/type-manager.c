/* Object 0, the manager itself: creating, opening, finding, deleting and
 * releasing objects, and introspection (types, methods, objects, info). */
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "call.h"
#include "manager.h"
#include "monitor.h"
#include "pool.h"
#include "state.h"
#include "session.h"
#include "snapshot.h"
#include "types-builtin.h"
#include "registry.h"
#include "row.h"

#define SRV(c) ((struct server *)(c)->obj->state)

static int manager_type_arg(struct call *c, const struct type **t)
{
	const char *name;
	int err = arg_string(c, 0, &name);
	if (err)
		return err;
	*t = types_find(name);
	return *t && !((*t)->flags & TYPE_INTERNAL) ? 0
						       : call_fail(c, MGR_ENOTYPE, "no type '%s'", name);
}

/* Argument 1: a name, or nil for an anonymous object. */
static int manager_name_arg(struct call *c, bool required, const char **name)
{
	const mgr_value *v = arg_get(c, 1);
	*name = NULL;
	if ((!v || v->kind == MGR_NIL) && !required)
		return 0;
	int err = arg_string(c, 1, name);
	if (!err && !**name)
		return call_fail(c, MGR_EARGS, "an object name cannot be empty");
	return err;
}

/* o as a ref value: the reply hands the caller's session a reference to it
 * (session_reply), which the client's handle then owns. */
static int manager_hand_out(struct call *c, struct object *o)
{
	return call_return(c, mgr_value_new_ref(o->id, o->type->name));
}

static int manager_new(struct call *c, const struct type *t, const char *name)
{
	struct call sub = *c;
	mgr_value *ref;
	sub.args = c->args + 2;
	sub.nargs = c->nargs > 2 ? c->nargs - 2 : 0;
	int err = call_create(&sub, t, name, &ref);
	if (err) {
		memcpy(c->err, sub.err, sizeof(c->err));
		return err;
	}
	return call_return(c, ref); /* the reply hands the session a reference */
}

static int manager_create(struct call *c)
{
	const struct type *t;
	const char *name;
	int err = manager_type_arg(c, &t);
	if (!err)
		err = manager_name_arg(c, false, &name);
	return err ? err : manager_new(c, t, name);
}

static int manager_open(struct call *c)
{
	const struct type *t;
	const char *name;
	int err = manager_type_arg(c, &t);
	if (!err)
		err = manager_name_arg(c, true, &name);
	if (err)
		return err;
	struct object *o = registry_find(&SRV(c)->reg, name);
	if (!o)
		return manager_new(c, t, name);
	if (o->type != t)
		return call_fail(c, MGR_ETYPE, "'%s' is a %s, not a %s", name, o->type->name, t->name);
	return manager_hand_out(c, o);
}

int manager_resolve(struct call *c, const mgr_value *v, struct object **out)
{
	struct registry *reg = &SRV(c)->reg;
	if (v->kind == MGR_REF || v->kind == MGR_INT)
		*out = registry_get(reg, v->kind == MGR_REF ? v->u.ref.id : (uint64_t)v->u.i);
	else if (v->kind == MGR_STRING)
		*out = registry_find(reg, value_str(v));
	else
		return call_fail(c, MGR_EARGS, "an object is named by a ref, an id or a name");
	if (!*out) {
		char buf[96];
		return call_fail(c, MGR_ENOOBJ, "no object %s", mgr_value_format(v, buf, sizeof(buf)));
	}
	return 0;
}

/* Argument 0 names an object: a ref, an id or a name. */
static int manager_target(struct call *c, struct object **out)
{
	return manager_resolve(c, arg_get(c, 0), out);
}

static int manager_lookup(struct call *c)
{
	struct object *o;
	int err = manager_target(c, &o);
	return err ? err : manager_hand_out(c, o);
}

/* A handle for a ref the session got in a reply (from a dict, a list, a
 * method): it adopts the reference that reply handed over; without one, it
 * takes a new reference. */
static int manager_adopt(struct call *c)
{
	struct object *o;
	int err = manager_target(c, &o);
	if (err || !c->conn)
		return err;
	if (!session_refs_of(c->conn, o->id) && session_ref_add(c->conn, o))
		return MGR_ENOMEM;
	return call_return_bool(c, true);
}

static int manager_delete(struct call *c)
{
	struct object *o;
	int err = manager_target(c, &o);
	if (!err)
		registry_delete(&SRV(c)->reg, o);
	return err;
}

static int manager_release(struct call *c)
{
	const mgr_value *v = arg_get(c, 0);
	uint64_t id = v->kind == MGR_REF ? v->u.ref.id : v->kind == MGR_INT ? (uint64_t)v->u.i : 0;
	if (!id || !c->conn)
		return call_fail(c, MGR_EARGS, "release takes a ref or an id");
	if (session_ref_drop(c->conn, id))
		return call_fail(c, MGR_ENOOBJ, "this session holds no reference to #%llu",
				 (unsigned long long)id);
	return 0;
}

static int manager_types(struct call *c)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < types_count(); i++)
		if (types_at(i) != &type_manager &&
		    mgr_value_list_append(l, mgr_value_new_string(types_at(i)->name))) {
			mgr_value_free(l);
			return MGR_ENOMEM;
		}
	return call_return(c, l);
}

/* One row of a listing: a map built from (key, value) pairs. */
static mgr_value *manager_method_row(const struct method *m)
{
	static const char *const keys[] = {"name", "args", "doc", "min_args", "max_args",
					   "blocking"};
	mgr_value *vals[] = {mgr_value_new_string(m->name), mgr_value_new_string(m->args),
			     mgr_value_new_string(m->doc ? m->doc : ""),
			     mgr_value_new_int(m->min_args), mgr_value_new_int(m->max_args),
			     mgr_value_new_bool(m->flags & METHOD_BLOCKING)};
	return row_new(6, keys, vals);
}

static int manager_methods(struct call *c)
{
	const char *name;
	int err = arg_string(c, 0, &name);
	if (err)
		return err;
	const struct type *t = types_find(name);
	if (!t)
		return call_fail(c, MGR_ENOTYPE, "no type '%s'", name);
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < t->nmethods; i++)
		if (mgr_value_list_append(l, manager_method_row(&t->methods[i]))) {
			mgr_value_free(l);
			return MGR_ENOMEM;
		}
	return call_return(c, l);
}

mgr_value *manager_object_row(const struct object *o)
{
	static const char *const keys[] = {"id",	  "name",  "type",	 "refs",   "size",
					   "creator_pid", "calls", "holder_pid", "waiters"};
	int32_t holder = 0;
	uint32_t waiters = 0;
	if (o->type->contention)
		o->type->contention(o, &holder, &waiters);
	mgr_value *vals[] = {
		mgr_value_new_int((int64_t)o->id),
		o->name ? mgr_value_new_string(o->name) : mgr_value_new_nil(),
		mgr_value_new_string(o->type->name), mgr_value_new_int(o->refs),
		o->type->length ? mgr_value_new_int((int64_t)o->type->length(o->state))
				: mgr_value_new_nil(), /* no size: a counter, a custom type */
		mgr_value_new_int(o->creator_pid), mgr_value_new_int((int64_t)o->calls),
		holder ? mgr_value_new_int(holder) : mgr_value_new_nil(),
		o->type->contention ? mgr_value_new_int(waiters) : mgr_value_new_nil()};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
}

static int manager_objects(struct call *c)
{
	mgr_value *l = mgr_value_new_list();
	IDMAP_FOREACH(&SRV(c)->reg.by_id, s)
	{
		struct object *o = s->ptr;
		if (!o->dead && mgr_value_list_append(l, manager_object_row(o))) {
			mgr_value_free(l);
			return MGR_ENOMEM;
		}
	}
	return call_return(c, l);
}

static int manager_info(struct call *c)
{
	struct server *srv = SRV(c);
	static const char *const keys[] = {"version", "pid", "uptime", "sessions", "objects",
					   "calls", "errors", "connections_total", "threads",
					   "calls_per_s"};
	mgr_value *vals[] = {
		mgr_value_new_string(MGR_VERSION), mgr_value_new_int(getpid()),
		mgr_value_new_int((int64_t)(time(NULL) - srv->started)),
		mgr_value_new_int(srv->n_conns), mgr_value_new_int((int64_t)srv->reg.live),
		mgr_value_new_int((int64_t)srv->stats.calls),
		mgr_value_new_int((int64_t)srv->stats.errors),
		mgr_value_new_int((int64_t)srv->stats.conns_total),
		mgr_value_new_int(1 + (int64_t)pool_threads()),
		mgr_value_new_int((int64_t)srv->stats.last_second)};
	return call_return(c, row_new(10, keys, vals));
}

static int manager_ping(struct call *c)
{
	return c->nargs ? call_return(c, arg_take(c, 0)) : 0;
}

/* Writes the --snapshot file now (mgrctl save). */
static int manager_save(struct call *c)
{
	static const char *const keys[] = {"path", "objects", "skipped", "bytes"};
	struct snapshot_stats st;
	int err = snapshot_save(SRV(c), &st, c->err, sizeof(c->err));
	if (err)
		return err;
	mgr_value *vals[] = {mgr_value_new_string(SRV(c)->cfg.snapshot_path),
			     mgr_value_new_int(st.objects), mgr_value_new_int(st.skipped),
			     mgr_value_new_int((int64_t)st.bytes)};
	return call_return(c, row_new(4, keys, vals));
}

static const struct method manager_methods_table[] = {
	{"create", manager_create, 1, -1, 0, "type, name=None, args...",
	 "a new object; EEXIST if the name is taken"},
	{"open", manager_open, 2, -1, 0, "type, name, args...",
	 "the named object, created if missing"},
	{"lookup", manager_lookup, 1, 1, 0, "name|id", "a reference to an existing object"},
	{"adopt", manager_adopt, 1, 1, 0, "ref|id", "own a reference a reply handed over"},
	{"delete", manager_delete, 1, 1, 0, "ref|id|name", "end the object now"},
	{"release", manager_release, 1, 1, 0, "ref|id", "drop this session's reference"},
	{"types", manager_types, 0, 0, METHOD_READONLY, "", "names of the types served"},
	{"methods", manager_methods, 1, 1, METHOD_READONLY, "type", "a type's methods"},
	{"objects", manager_objects, 0, 0, METHOD_READONLY, "", "every live object"},
	{"info", manager_info, 0, 0, METHOD_READONLY, "", "the manager's figures"},
	{"ping", manager_ping, 0, 1, METHOD_READONLY, "value=None", "echo"},
	/* views for people and tools (mgrctl): type-manager-views.c, monitor.c */
	{"clients", manager_clients, 0, 0, METHOD_READONLY, "", "every session"},
	{"stats", manager_stats, 0, 0, METHOD_READONLY, "",
	 "calls, errors and latency per type and method"},
	{"describe", manager_describe, 1, 2, METHOD_READONLY, "ref|id|name, limit=100",
	 "an object's listing row and its contents"},
	{"repr", manager_repr, 1, 2, METHOD_READONLY, "ref|id|name, max=4096",
	 "Python's repr() of the object, at most max bytes"},
	{"shutdown", manager_shutdown, 0, 0, 0, "", "stop the manager (as SIGTERM does)"},
	{"save", manager_save, 0, 0, 0, "",
	 "write the --snapshot file now: {path, objects, skipped, bytes}"},
	{"monitor", monitor_subscribe, 0, 1, 0, "filter={object, type}",
	 "watch calls from now on; read them with monitor_next"},
	{"monitor_next", monitor_next, 0, 1, METHOD_READONLY | METHOD_BLOCKING, "max=256",
	 "{events, dropped}: the calls seen since the last poll (waits for one)"},
};

const struct type type_manager = {
	.name = "manager",
	.doc = "object 0: the manager itself",
	.methods = manager_methods_table,
	.nmethods = sizeof(manager_methods_table) / sizeof(manager_methods_table[0]),
	.flags = TYPE_INTERNAL,
};
