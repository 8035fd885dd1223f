/* The manager's views for people and tools (what mgrctl shows): sessions,
 * per-method statistics, an object's contents, the stop, and the type
 * tables for docs/protocol-reference.md (mgrd --describe-types). Rows in
 * type-manager.c's table; the monitor stream lives in monitor.c. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "conn-ring.h"
#include "conn.h"
#include "call.h"
#include "log.h"
#include "manager.h"
#include "monitor.h"
#include "policy.h"
#include "state.h"
#include "stats.h"
#include "row.h"
#include "types-builtin.h"

#define VIEWS_DEFAULT_LIMIT 100

/* Appends row to l; frees l and returns NULL if either is NULL/fails. */
static mgr_value *views_append(mgr_value *l, mgr_value *row)
{
	if (l && !mgr_value_list_append(l, row))
		return l;
	if (!l)
		mgr_value_free(row);
	mgr_value_free(l);
	return NULL;
}

static int views_return_list(struct call *c, mgr_value *l)
{
	return l ? call_return(c, l) : MGR_ENOMEM;
}

/* ---- clients ---- */

static int64_t views_refs(const struct conn *conn)
{
	int64_t n = 0;
	IDMAP_FOREACH(&conn->refs, s)
	n += (int64_t)(uintptr_t)s->ptr;
	return n;
}

/* Holds (locks...) of conn over every object whose type can say (such
 * types give holds back at a session's end: the registry's holders); nil
 * if no such object exists. */
static mgr_value *views_held(struct server *srv, const struct conn *conn)
{
	bool any = false;
	int64_t n = 0;
	IDMAP_FOREACH(&srv->reg.holders, s)
	{
		const struct object *o = s->ptr;
		if (o->type->held) {
			any = true;
			n += o->type->held(o, conn);
		}
	}
	return any ? mgr_value_new_int(n) : mgr_value_new_nil();
}

static mgr_value *views_client_row(struct server *srv, const struct conn *conn)
{
	static const char *const keys[] = {"session", "pid", "uid", "name", "since", "calls",
					   "refs", "locks", "parked", "monitoring", "ring", "polls",
					   "addr"};
	mgr_value *vals[] = {
		mgr_value_new_int((int64_t)conn->session), mgr_value_new_int(conn->pid),
		mgr_value_new_int(conn->uid), mgr_value_new_string(conn->name),
		mgr_value_new_int((int64_t)conn->since), mgr_value_new_int((int64_t)conn->calls),
		mgr_value_new_int(views_refs(conn)), views_held(srv, conn),
		mgr_value_new_int(conn->n_parked),
		mgr_value_new_bool(monitor_watching(srv, conn)),
		mgr_value_new_int(conn->ring ? conn->ring->r.cap : 0),
		mgr_value_new_bool(conn->polls), mgr_value_new_string(conn->addr)};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
}

/* Admins see every session; anyone else the sessions of its own uid. */
int manager_clients(struct call *c)
{
	mgr_value *l = mgr_value_new_list();
	bool all = !c->conn || policy_admin(c->srv, c->conn);
	for (const struct conn *conn = c->srv->conns; conn; conn = conn->next)
		if (conn->state == CONN_READY && (all || conn->uid == c->conn->uid))
			l = views_append(l, views_client_row(c->srv, conn));
	return views_return_list(c, l);
}

/* ---- stats ---- */

static mgr_value *views_stats_row(const struct type *t, const struct method *m,
				  const struct method_stats *s)
{
	static const char *const keys[] = {"type", "method", "calls", "errors", "parked",
					   "mean_ns", "p50_ns", "p99_ns", "max_ns"};
	mgr_value *vals[] = {
		mgr_value_new_string(t->name), mgr_value_new_string(m->name),
		mgr_value_new_int((int64_t)s->calls), mgr_value_new_int((int64_t)s->errors),
		mgr_value_new_int((int64_t)s->parked),
		mgr_value_new_int((int64_t)(s->total_ns / s->calls)),
		mgr_value_new_int((int64_t)stats_quantile(s, 0.50)),
		mgr_value_new_int((int64_t)stats_quantile(s, 0.99)),
		mgr_value_new_int((int64_t)s->max_ns)};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
}

int manager_stats(struct call *c)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < types_count(); i++) {
		const struct type *t = types_at(i);
		for (size_t j = 0; l && j < t->nmethods; j++) {
			const struct method_stats *s = types_stats(t, &t->methods[j]);
			if (s && s->calls)
				l = views_append(l, views_stats_row(t, &t->methods[j], s));
		}
	}
	return views_return_list(c, l);
}

/* ---- describe ---- */

/* A copy of v with at most limit items (list) or entries (map). */
static mgr_value *views_cut(const mgr_value *v, size_t limit)
{
	mgr_kind k = mgr_value_kind(v);
	if (k != MGR_LIST && k != MGR_MAP)
		return v ? mgr_value_copy(v) : mgr_value_new_nil();
	mgr_value *out = k == MGR_LIST ? mgr_value_new_list() : mgr_value_new_map();
	size_t n = mgr_value_len(v) < limit ? mgr_value_len(v) : limit;
	for (size_t i = 0; out && i < n; i++)
		if (k == MGR_LIST ? mgr_value_list_append(out, mgr_value_copy(mgr_value_list_get(v, i)))
				  : mgr_value_map_set(out, mgr_value_copy(mgr_value_map_key(v, i)),
						      mgr_value_copy(mgr_value_map_value(v, i)))) {
			mgr_value_free(out);
			return NULL;
		}
	return out;
}

/* The type's read method that gives its whole contents, if it has one. */
static const struct method *views_reader(const struct type *t)
{
	static const char *const names[] = {"copy", "get"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct method *m = types_method(t, names[i]);
		if (m && m->min_args == 0 && m->flags & METHOD_READONLY &&
		    !(m->flags & METHOD_BLOCKING))
			return m;
	}
	return NULL;
}

/* Calls the reader as mgrd itself (no session), then cuts its result. */
static mgr_value *views_read(struct call *c, struct object *o, size_t limit)
{
	const struct method *m = views_reader(o->type);
	if (!m)
		return mgr_value_new_nil();
	struct call sub = {.srv = c->srv, .obj = o, .method = m};
	int err = m->fn(&sub);
	mgr_value *v = err ? mgr_value_new_nil() : views_cut(sub.borrowed ? sub.borrowed : sub.result, limit);
	mgr_value_free(sub.result);
	return v;
}

static int views_set(mgr_value *map, const char *key, mgr_value *v)
{
	return mgr_value_map_set(map, mgr_value_new_string(key), v);
}

/* Whether v shows less than o holds: a container shorter than o, or the
 * "items" of a state map (TYPE_STATE_MAP) shorter than o. */
static bool views_truncated(const struct object *o, const mgr_value *v)
{
	size_t len = o->type->length ? o->type->length(o->state) : 0;
	if (o->type->describe && o->type->flags & TYPE_STATE_MAP) {
		mgr_value *key = mgr_value_new_string("items");
		v = key ? mgr_value_map_get(v, key) : NULL;
		mgr_value_free(key);
	}
	return v && mgr_value_len(v) < len;
}

int manager_describe(struct call *c)
{
	struct object *o;
	int64_t limit;
	int err = manager_resolve(c, arg_get(c, 0), &o);
	if (!err)
		err = arg_int_opt(c, 1, VIEWS_DEFAULT_LIMIT, &limit);
	if (!err && limit < 0)
		err = call_fail(c, MGR_EARGS, "limit cannot be negative");
	if (err)
		return err;
	mgr_value *row = manager_object_row(c->srv, o);
	mgr_value *v = o->type->describe ? o->type->describe(o, (size_t)limit)
					 : views_read(c, o, (size_t)limit);
	bool cut = views_truncated(o, v);
	/* map_set consumes v even when row is NULL */
	if (views_set(row, "value", v) || views_set(row, "truncated", mgr_value_new_bool(cut))) {
		mgr_value_free(row);
		return MGR_ENOMEM;
	}
	return call_return(c, row);
}

/* ---- the type tables (mgrd --describe-types) ---- */

static mgr_value *views_type_row(const struct type *t)
{
	static const char *const keys[] = {"name",     "doc",	 "ctor_args",
					   "internal", "threaded", "methods"};
	mgr_value *methods = mgr_value_new_list();
	for (size_t i = 0; methods && i < t->nmethods; i++)
		methods = views_append(methods, manager_method_row(&t->methods[i]));
	mgr_value *vals[] = {
		mgr_value_new_string(t->name), mgr_value_new_string(t->doc ? t->doc : ""),
		t->ctor_args ? mgr_value_new_string(t->ctor_args) : mgr_value_new_nil(),
		mgr_value_new_bool(t->flags & TYPE_INTERNAL),
		mgr_value_new_bool(t->flags & TYPE_THREADED), methods};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
}

/* The rows as JSON: every string here is a table's text, so the JSON-like
 * form of value_text (no bytes, no doubles, no refs) is JSON. */
static int views_print_json(FILE *f, const mgr_value *v)
{
	struct value_text t;
	value_text_init(&t, 64u << 20);
	t.python = false;
	value_text_repr(&t, v);
	bool cut = value_text_full(&t);
	char *text = value_text_end(&t);
	int rc = !text || cut || fprintf(f, "%s\n", text) < 0 || fflush(f) ? -1 : 0;
	free(text);
	return rc;
}

int manager_describe_types(FILE *f)
{
	if (types_builtin_register())
		return -1;
	mgr_value *types = mgr_value_new_list();
	for (size_t i = 0; types && i < types_count(); i++)
		types = views_append(types, views_type_row(types_at(i)));
	static const char *const keys[] = {"version", "types"};
	mgr_value *vals[] = {mgr_value_new_string(MGR_VERSION), types};
	mgr_value *all = row_new(2, keys, vals);
	int rc = all ? views_print_json(f, all) : -1;
	mgr_value_free(all);
	return rc;
}

/* ---- shutdown ---- */

static void views_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	srv->hooks.stop(srv);
}

/* Stops on the next loop turn, so that this call's reply goes out first. */
int manager_shutdown(struct call *c)
{
	log_msg(LOG_INFO, "shutdown requested by session %llu (pid %d)",
		c->conn ? (unsigned long long)c->conn->session : 0ULL,
		c->conn ? (int)c->conn->pid : 0);
	struct timeval now = {0, 0};
	if (event_base_once(c->srv->base, -1, EV_TIMEOUT, views_stop_cb, c->srv, &now))
		return call_fail(c, MGR_ENOMEM, "cannot schedule the stop");
	return 0;
}
