/* Object 0, the manager itself: creating, opening, finding, deleting and
 * releasing objects, and introspection (types, methods, objects, info).
 * Who may do which is policy.c's; the handlers ask it about the object
 * they name. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "call.h"
#include "call-create.h"
#include "gc.h"
#include "manager.h"
#include "monitor.h"
#include "park.h"
#include "policy.h"
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

static int manager_check_name(struct call *c, const mgr_value *v, bool required,
			      const char **name)
{
	if ((!v || v->kind == MGR_NIL) && !required)
		return 0;
	if (!v || v->kind != MGR_STRING)
		return call_fail(c, MGR_EARGS, "the name must be a string%s",
				 required ? "" : " or nil");
	*name = value_str(v);
	return **name ? 0 : call_fail(c, MGR_EARGS, "an object name cannot be empty");
}

/* The "mode" option: 0750 or "rwdr-d---" (policy.h). */
static int manager_check_mode(struct call *c, const mgr_value *v)
{
	uint16_t mode;
	if (v->kind == MGR_INT && v->u.i >= 0 && v->u.i <= POLICY_MODE_BITS)
		mode = (uint16_t)v->u.i;
	else if (v->kind != MGR_STRING || policy_mode_parse(value_str(v), &mode))
		return call_fail(c, MGR_EARGS, "mode is 0 to 0777 (octal) or like \"rwdr-d---\"");
	c->mode = POLICY_MODE_GIVEN | mode;
	return 0;
}

/* The option key in opts (borrowed), or NULL. */
static const mgr_value *manager_option(const mgr_value *opts, const char *key)
{
	mgr_value k = {.kind = MGR_STRING, .u.s = {(char *)key, strlen(key)}};
	return mgr_value_map_get(opts, &k);
}

/* Argument 1 as a map of options, {"name": name or nil, "mode": mode}:
 * both optional, nothing else. */
static int manager_options(struct call *c, const mgr_value *opts, bool required,
			   const char **name)
{
	static const char *const known[] = {"name", "mode"};
	for (size_t i = 0; i < mgr_value_len(opts); i++) {
		const mgr_value *k = mgr_value_map_key(opts, i);
		bool ok = k->kind == MGR_STRING &&
			  (!strcmp(value_str(k), known[0]) || !strcmp(value_str(k), known[1]));
		if (!ok)
			return call_fail(c, MGR_EARGS, "options are {name, mode}");
	}
	const mgr_value *mode = manager_option(opts, "mode");
	int err = mode ? manager_check_mode(c, mode) : 0;
	return err ? err : manager_check_name(c, manager_option(opts, "name"), required, name);
}

/* Argument 1: a name, nil for an anonymous object, or a map of options
 * {name, mode} (policy.h; an old client sends a name or nil). */
static int manager_name_arg(struct call *c, bool required, const char **name)
{
	const mgr_value *v = arg_get(c, 1);
	*name = NULL;
	if (v && v->kind == MGR_MAP)
		return manager_options(c, v, required, name);
	return manager_check_name(c, v, required, name);
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
	err = policy_target(c, o); /* the mode asked for is for a new object only */
	if (!err && o->type != t)
		err = call_fail(c, MGR_ETYPE, "'%s' is a %s, not a %s", name, o->type->name, t->name);
	return err ? err : manager_hand_out(c, o);
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
	return policy_target(c, *out); /* the right this method's row asks */
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

/* "lock #5 'jobs'" into buf. */
static const char *manager_label(const struct object *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s #%llu%s%s%s", o->type->name, (unsigned long long)o->id,
		 o->name ? " '" : "", o->name ? o->name : "", o->name ? "'" : "");
	return buf;
}

/* Another session that holds o (a lock's owner: the type's held hook), or
 * NULL. */
static const struct conn *manager_holder(struct call *c, const struct object *o)
{
	if (!o->type->held)
		return NULL;
	for (const struct conn *conn = c->srv->conns; conn; conn = conn->next)
		if (conn != c->conn && conn->state != CONN_DEAD && o->type->held(o, conn) > 0)
			return conn;
	return NULL;
}

/* Every call parked on o is answered now, naming the deletion (the type's
 * destroy would only say that the object went). */
static void manager_wake_waiters(struct call *c, struct object *o)
{
	char label[160], why[256];
	snprintf(why, sizeof(why), "%s was deleted%s by session %llu (pid %d) while this call waited",
		 manager_label(o, label, sizeof(label)), o->deleted_forced ? " (forced)" : "",
		 (unsigned long long)o->deleted_by, (int)o->deleted_pid);
	for (struct conn *conn = c->srv->conns; conn; conn = conn->next)
		for (struct waiter *w = conn->parked, *next; w; w = next) {
			next = w->cnext;
			if (w->obj == o && w->q)
				park_answer(w, MGR_ENOOBJ, NULL, why);
		}
}

/* delete(target, force=false): refused (ESTATE) while another session
 * holds the object (a lock it would lose without knowing), unless forced.
 * Calls parked on it are answered at once with who deleted it; a holder
 * learns it at its next call (dispatch.c). */
static int manager_delete(struct call *c)
{
	struct object *o;
	bool force;
	int err = manager_target(c, &o);
	if (!err)
		err = arg_bool_opt(c, 1, false, &force);
	if (err)
		return err;
	const struct conn *holder = manager_holder(c, o);
	char label[160];
	manager_label(o, label, sizeof(label));
	if (holder && !force)
		return call_fail(c, MGR_ESTATE,
				 "%s is held by session %llu (pid %d): delete(target, force=true) "
				 "ends it anyway",
				 label, (unsigned long long)holder->session, (int)holder->pid);
	o->deleted_by = c->conn ? c->conn->session : 0;
	o->deleted_pid = c->conn ? c->conn->pid : 0;
	o->deleted_forced = holder != NULL;
	if (holder)
		log_msg(LOG_INFO, "%s deleted by force by session %llu (pid %d), held by session %llu",
			label, (unsigned long long)o->deleted_by, (int)o->deleted_pid,
			(unsigned long long)holder->session);
	manager_wake_waiters(c, o);
	registry_delete(&SRV(c)->reg, o);
	return 0;
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

mgr_value *manager_method_row(const struct method *m)
{
	static const char *const keys[] = {"name",     "args",	  "doc",     "min_args",
					   "max_args", "blocking", "readonly"};
	mgr_value *vals[] = {mgr_value_new_string(m->name), mgr_value_new_string(m->args),
			     mgr_value_new_string(m->doc ? m->doc : ""),
			     mgr_value_new_int(m->min_args), mgr_value_new_int(m->max_args),
			     mgr_value_new_bool(m->flags & METHOD_BLOCKING),
			     mgr_value_new_bool(m->flags & METHOD_READONLY)};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
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

mgr_value *manager_object_row(const struct server *srv, const struct object *o)
{
	static const char *const keys[] = {"id",	"name",	      "type",	 "refs",
					   "size",	"creator_pid", "calls",	 "holder_pid",
					   "waiters", "owner_uid",   "owner_gid", "mode"};
	int32_t holder = 0;
	uint32_t waiters = 0;
	if (o->type->contention)
		o->type->contention(o, &holder, &waiters);
	uid_t uid;
	gid_t gid;
	uint16_t mode;
	char ms[POLICY_MODE_LEN];
	policy_owner(srv, o, &uid, &gid, &mode);
	policy_mode_format(mode, ms);
	mgr_value *vals[] = {
		mgr_value_new_int((int64_t)o->id),
		o->name ? mgr_value_new_string(o->name) : mgr_value_new_nil(),
		mgr_value_new_string(o->type->name), mgr_value_new_int(o->refs),
		o->type->length ? mgr_value_new_int((int64_t)o->type->length(o->state))
				: mgr_value_new_nil(), /* no size: a counter, a custom type */
		mgr_value_new_int(o->creator_pid), mgr_value_new_int((int64_t)o->calls),
		holder ? mgr_value_new_int(holder) : mgr_value_new_nil(),
		o->type->contention ? mgr_value_new_int(waiters) : mgr_value_new_nil(),
		mgr_value_new_int(uid), mgr_value_new_int(gid), mgr_value_new_string(ms)};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
}

static int manager_objects(struct call *c)
{
	mgr_value *l = mgr_value_new_list();
	IDMAP_FOREACH(&SRV(c)->reg.by_id, s)
	{
		struct object *o = s->ptr;
		if (o->dead || !policy_may(c->srv, c->conn, o, POLICY_READ))
			continue; /* what the caller may not open, it does not see */
		if (mgr_value_list_append(l, manager_object_row(c->srv, o))) {
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
					   "calls_per_s", "socket_polls"};
	mgr_value *vals[] = {
		mgr_value_new_string(MGR_VERSION), mgr_value_new_int(getpid()),
		mgr_value_new_int((int64_t)(time(NULL) - srv->started)),
		mgr_value_new_int(srv->n_conns), mgr_value_new_int((int64_t)srv->reg.live),
		mgr_value_new_int((int64_t)srv->stats.calls),
		mgr_value_new_int((int64_t)srv->stats.errors),
		mgr_value_new_int((int64_t)srv->stats.conns_total),
		mgr_value_new_int(1 + (int64_t)pool_threads()),
		mgr_value_new_int((int64_t)srv->stats.last_second),
		mgr_value_new_int((int64_t)srv->sock_caught)};
	return call_return(c, gc_info(row_new(sizeof(keys) / sizeof(keys[0]), keys, vals)));
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
	{"delete", manager_delete, 1, 2, 0, "ref|id|name, force=false",
	 "end the object now; ESTATE while another session holds it, unless forced"},
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
	 "{events, dropped}: the calls seen since the last poll (waits for one); "
	 "at the timeout: no events"},
};

const struct type type_manager = {
	.name = "manager",
	.doc = "object 0: the manager itself",
	.methods = manager_methods_table,
	.nmethods = sizeof(manager_methods_table) / sizeof(manager_methods_table[0]),
	.flags = TYPE_INTERNAL,
};
