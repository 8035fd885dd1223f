/* The monitor (see monitor.h): subscriptions, their event rings, and the
 * long-poll that hands events to a watcher. */
#include "monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/msg.h"
#include "conn.h"
#include "call.h"
#include "manager.h"
#include "park.h"
#include "state.h"
#include "stats.h"
#include "row.h"

#define MONITOR_RING 1024
#define MONITOR_BATCH 256
#define MONITOR_TEXT 120 /* arguments and results are cut to this (watchers cut further) */

struct monitor_event {
	uint64_t at_ns, session, object, ns;
	int32_t pid;
	int code;
	const char *type; /* a type table's name (lives with the server); NULL: none */
	char method[32];
	char name[40];
	char args[MONITOR_TEXT]; /* "(1, \"k\")" as mgr_value_format writes them, cut */
	char result[MONITOR_TEXT]; /* the result, or "" after an error */
};

/* The running call's arguments, formatted before it runs (a method may
 * take them). Loop thread only, as observing is. */
static char monitor_args_seen[MONITOR_TEXT];

struct monitor {
	struct monitor *next;
	struct conn *conn;
	bool has_object;
	uint64_t object;         /* filter when has_object */
	const struct type *type; /* filter; NULL: any */
	struct monitor_event *ring;
	size_t head, len; /* oldest event at ring[head] */
	uint64_t dropped;
	struct waitq q; /* a parked monitor_next, if any */
};

static struct monitor *monitor_of(const struct server *srv, const struct conn *conn)
{
	for (struct monitor *m = srv->monitors; m; m = m->next)
		if (m->conn == conn)
			return m;
	return NULL;
}

bool monitor_watching(const struct server *srv, const struct conn *conn)
{
	return monitor_of(srv, conn) != NULL;
}

/* ---- events to values ---- */

static mgr_value *monitor_event_value(const struct monitor_event *e, double now_wall,
				      uint64_t now_mono)
{
	static const char *const keys[] = {"time", "session", "pid", "object", "name", "type",
					   "method", "ns", "code", "error", "args", "result"};
	mgr_value *vals[] = {
		mgr_value_new_double(now_wall - (double)(now_mono - e->at_ns) / 1e9),
		mgr_value_new_int((int64_t)e->session), mgr_value_new_int(e->pid),
		mgr_value_new_int((int64_t)e->object),
		e->name[0] ? mgr_value_new_string(e->name) : mgr_value_new_nil(),
		e->type ? mgr_value_new_string(e->type) : mgr_value_new_nil(),
		mgr_value_new_string(e->method), mgr_value_new_int((int64_t)e->ns),
		mgr_value_new_int(e->code),
		mgr_value_new_string(e->code == CALL_PARKED ? "PARKED"
				     : e->code ? mgr_errname(e->code) : ""),
		mgr_value_new_string(e->args), mgr_value_new_string(e->result)};
	return row_new(sizeof(keys) / sizeof(keys[0]), keys, vals);
}

/* Takes up to max events off m's ring: {events: [...], dropped: N}. */
static mgr_value *monitor_take(struct monitor *m, size_t max)
{
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	double wall = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9;
	uint64_t mono = clock_now_ns();
	mgr_value *l = mgr_value_new_list();
	for (; l && m->len && max; max--, m->len--, m->head = (m->head + 1) % MONITOR_RING)
		if (mgr_value_list_append(l, monitor_event_value(&m->ring[m->head], wall, mono)))
			l = NULL; /* append freed it */
	static const char *const keys[] = {"events", "dropped"};
	mgr_value *vals[] = {l, mgr_value_new_int((int64_t)m->dropped)};
	m->dropped = 0;
	return l ? row_new(2, keys, vals) : (mgr_value_free(vals[1]), NULL);
}

/* ---- observing ---- */

static bool monitor_wants(const struct monitor *m, const struct call *c,
			  const struct msg_request *req)
{
	if (m->has_object && m->object != req->object)
		return false;
	return !m->type || (c->obj && c->obj->type == m->type);
}

static void monitor_push(struct monitor *m, const struct monitor_event *e)
{
	if (m->len == MONITOR_RING) {
		m->head = (m->head + 1) % MONITOR_RING;
		m->len--;
		m->dropped++;
	}
	m->ring[(m->head + m->len++) % MONITOR_RING] = *e;
	if (m->q.head)
		park_answer(m->q.head, 0, monitor_take(m, (size_t)m->q.head->n), NULL);
}

/* v as text cut to MONITOR_TEXT - 1 bytes; a cut ends in "..." and never
 * splits a UTF-8 sequence. */
static void monitor_text(const mgr_value *v, char *buf)
{
	char full[MONITOR_TEXT * 2];
	mgr_value_format(v, full, sizeof(full));
	size_t len = strlen(full);
	if (len < MONITOR_TEXT) {
		memcpy(buf, full, len + 1);
		return;
	}
	size_t cut = MONITOR_TEXT - 4;
	while (cut && (full[cut] & 0xC0) == 0x80)
		cut--;
	memcpy(buf, full, cut);
	memcpy(buf + cut, "...", 4);
}

/* The request's arguments as one tuple's text: (1, "k"). */
static void monitor_args(const struct msg_request *req, char *buf)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < req->nargs; i++)
		if (mgr_value_list_append(l, req->args[i] ? mgr_value_copy(req->args[i])
						       : mgr_value_new_nil())) {
			mgr_value_free(l); /* append freed the item, not the list */
			l = NULL;
		}
	buf[0] = '\0';
	if (!l)
		return;
	monitor_text(l, buf);
	size_t n = strlen(buf);
	if (buf[0] == '[')
		buf[0] = '(';
	if (n && buf[n - 1] == ']')
		buf[n - 1] = ')';
	mgr_value_free(l);
}

static void monitor_fill(struct monitor_event *e, const struct call *c,
			 const struct msg_request *req, int code, uint64_t ns)
{
	*e = (struct monitor_event){.at_ns = clock_now_ns(), .object = req->object, .ns = ns,
				    .code = code, .type = c->obj ? c->obj->type->name : NULL};
	if (c->conn) {
		e->session = c->conn->session;
		e->pid = c->conn->pid;
	}
	if (req->nbatch)
		snprintf(e->method, sizeof(e->method), "batch[%zu]", req->nbatch);
	else
		snprintf(e->method, sizeof(e->method), "%s", req->method);
	if (c->obj && c->obj->name)
		snprintf(e->name, sizeof(e->name), "%s", c->obj->name);
	memcpy(e->args, monitor_args_seen, sizeof(e->args));
	if (!code && !req->nbatch)
		monitor_text(c->borrowed ? c->borrowed : c->result, e->result);
}

void monitor_observe(struct server *srv, const struct call *c, const struct msg_request *req,
		     int code, uint64_t ns)
{
	if (code == OBSERVE_START) {
		monitor_args_seen[0] = '\0';
		if (!req->nbatch)
			monitor_args(req, monitor_args_seen);
		return;
	}
	if (c->method && (c->method->fn == monitor_next || c->method->fn == monitor_subscribe))
		return; /* watchers polling are not news */
	struct monitor_event e;
	bool filled = false;
	for (struct monitor *m = srv->monitors, *next; m; m = next) {
		next = m->next; /* answering cannot free m, but keep the walk simple */
		if (!monitor_wants(m, c, req))
			continue;
		if (!filled)
			monitor_fill(&e, c, req, code, ns);
		filled = true;
		monitor_push(m, &e);
	}
}

/* ---- subscriptions ---- */

static void monitor_free(struct monitor *m)
{
	park_cancel_all(&m->q, MGR_ECANCELED, "monitor ended");
	free(m->ring);
	free(m);
}

void monitor_session_end(struct conn *conn)
{
	for (struct monitor **mp = &conn->srv->monitors; *mp; mp = &(*mp)->next)
		if ((*mp)->conn == conn) {
			struct monitor *m = *mp;
			*mp = m->next;
			monitor_free(m);
			return;
		}
}

/* The filter map: {"object": ref|id|name, "type": "dict"}; both optional. */
static int monitor_filter(struct call *c, struct monitor *m)
{
	const mgr_value *f = arg_get(c, 0);
	if (!f || f->kind == MGR_NIL)
		return 0;
	if (f->kind != MGR_MAP)
		return call_fail(c, MGR_EARGS, "monitor's filter is a map {object, type}");
	mgr_value *k = mgr_value_new_string("type");
	const mgr_value *t = mgr_value_map_get(f, k);
	mgr_value_free(k);
	k = mgr_value_new_string("object");
	const mgr_value *o = mgr_value_map_get(f, k);
	mgr_value_free(k);
	if (t && (t->kind != MGR_STRING || !(m->type = types_find(value_str(t)))))
		return call_fail(c, MGR_ENOTYPE, "monitor filter: no such type");
	struct object *obj;
	int err = o ? manager_resolve(c, o, &obj) : 0;
	if (!err && o) {
		m->has_object = true;
		m->object = obj->id;
	}
	return err;
}

int monitor_subscribe(struct call *c)
{
	if (!c->conn)
		return call_fail(c, MGR_ESTATE, "only a session can monitor");
	struct monitor *m = monitor_of(c->srv, c->conn), fresh = {0};
	int err = monitor_filter(c, &fresh);
	if (err)
		return err;
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m || !(m->ring = calloc(MONITOR_RING, sizeof(*m->ring)))) {
			free(m);
			return MGR_ENOMEM;
		}
		m->conn = c->conn;
		m->next = c->srv->monitors;
		c->srv->monitors = m;
	}
	m->has_object = fresh.has_object;
	m->object = fresh.object;
	m->type = fresh.type;
	return 0;
}

static void monitor_timeout(struct waiter *w)
{
	struct monitor *m = monitor_of(w->conn->srv, w->conn);
	park_answer(w, 0, m ? monitor_take(m, 0) : NULL, NULL);
}

static const struct waiter_ops monitor_waiter_ops = {.timeout = monitor_timeout};

int monitor_next(struct call *c)
{
	struct monitor *m = c->conn ? monitor_of(c->srv, c->conn) : NULL;
	int64_t max;
	int err = arg_int_opt(c, 0, MONITOR_BATCH, &max);
	if (err)
		return err;
	if (!m)
		return call_fail(c, MGR_ESTATE, "this session is not monitoring: call monitor first");
	if (max < 1)
		return call_fail(c, MGR_EARGS, "max must be at least 1");
	if (m->len)
		return call_return(c, monitor_take(m, (size_t)max));
	struct waiter *w;
	err = park_call(c, &m->q, &monitor_waiter_ops, &w);
	if (err == CALL_PARKED)
		w->n = max;
	return err;
}
