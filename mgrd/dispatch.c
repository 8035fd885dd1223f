/* Request dispatch: object by id, method by name (both table lookups), the
 * argument count from the method's row, the caller's permission
 * (policy.c), then the handler. No per-type or per-method code lives
 * here. */
#include "dispatch.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../common/frame.h"
#include "conn.h"
#include "policy.h"
#include "pool.h"
#include "state.h"
#include "session.h"
#include "stats.h"
#include "registry.h"

struct object *dispatch_object(struct server *srv, uint64_t id)
{
	return id == 0 ? &srv->manager : registry_get(&srv->reg, id);
}

static int dispatch_check_args(struct call *c)
{
	const struct method *m = c->method;
	if (c->nargs >= (size_t)m->min_args && (m->max_args < 0 || c->nargs <= (size_t)m->max_args))
		return 0;
	if (m->min_args == m->max_args)
		return call_fail(c, MGR_EARGS, "%s.%s takes %d argument%s (%s), got %zu",
				 c->obj->type->name, m->name, m->min_args,
				 m->min_args == 1 ? "" : "s", m->args, c->nargs);
	return call_fail(c, MGR_EARGS, "%s.%s takes %d to %d arguments (%s), got %zu",
			 c->obj->type->name, m->name, m->min_args, m->max_args, m->args, c->nargs);
}

/* Whether two method names are equal: inline, as names are a few bytes
 * (libc's strcmp through the PLT was 1.4% of mgrd's pipelined run). */
static inline bool dispatch_same_name(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The method by name: the last one found again by one compare, else the
 * type's table (which then becomes the last one). */
static const struct method *dispatch_method(struct server *srv, const struct type *t,
					    const char *name)
{
	struct dispatch_cache *last = &srv->last_method;
	if (last->type == t && dispatch_same_name(last->method->name, name))
		return last->method;
	const struct method *m = types_method(t, name);
	if (m)
		*last = (struct dispatch_cache){t, m, types_stats(t, m)};
	return m;
}

static int dispatch_find(struct call *c, const char *method)
{
	c->method = dispatch_method(c->srv, c->obj->type, method);
	if (!c->method)
		return call_fail(c, MGR_ENOMETHOD, "type %s has no method '%s'",
				 c->obj->type->name, method);
	return dispatch_check_args(c);
}

/* A threaded type's call runs on the loop thread only when its object is
 * idle (no call of it on a worker) and its method says it may. */
static bool dispatch_inline(const struct call *c)
{
	const struct type *t = c->obj->type;
	return !c->obj->busy && c->method->flags & METHOD_INLINE &&
	       (!t->inline_ok || t->inline_ok(c));
}

/* Runs one method call on c->obj: 0, an error, or CALL_PARKED. */
static int dispatch_run(struct call *c, struct msg_call *mc)
{
	c->args = mc->args;
	c->nargs = mc->nargs;
	int code = dispatch_find(c, mc->method);
	if (!code)
		code = policy_check(c);
	if (code)
		return code;
	c->obj->calls++;
	if (c->obj->type->flags & TYPE_THREADED && !dispatch_inline(c))
		return pool_dispatch(c, mc); /* answered (and timed) when it comes back */
	/* timed as a run: one clock read a call (stats.h) */
	uint64_t t0 = stats_run_start(c->conn, c->conn->calls);
	code = c->method->fn(c);
	const struct dispatch_cache *last = &c->srv->last_method;
	stats_record(last->method == c->method ? last->stats : types_stats(c->obj->type, c->method),
		     code, stats_run_ns(t0, c->conn, c->conn->calls));
	return code;
}

/* A batch: the calls run back to back on one object, so no other call on
 * it comes between them; the reply is the list of their results. The
 * first failure ends the batch (earlier calls stay done, as in Redis). */
static int dispatch_batch(struct call *c, struct msg_request *req)
{
	mgr_value *results = mgr_value_new_list();
	if (!results)
		return MGR_ENOMEM;
	for (size_t i = 0; i < req->nbatch; i++) {
		const struct method *m = types_method(c->obj->type, req->batch[i].method);
		int code = m && (m->flags & METHOD_BLOCKING)
			? call_fail(c, MGR_EARGS, "blocking method '%s' in a batch", m->name)
			: c->obj->type->flags & TYPE_THREADED
			? call_fail(c, MGR_EARGS, "batches are for built-in types")
			: dispatch_run(c, &req->batch[i]);
		mgr_value *r = c->borrowed ? mgr_value_copy(c->borrowed) : c->result;
		c->borrowed = NULL;
		c->result = NULL;
		if (!code && mgr_value_list_append(results, r ? r : mgr_value_new_nil()))
			code = MGR_ENOMEM;
		if (code) {
			char why[sizeof(c->err) + 128];
			snprintf(why, sizeof(why), "batch call %zu (%.60s): %s", i + 1,
				 req->batch[i].method, c->err[0] ? c->err : mgr_strerror(code));
			memcpy(c->err, why, sizeof(c->err) - 1);
			c->err[sizeof(c->err) - 1] = '\0';
			mgr_value_free(r);
			mgr_value_free(results);
			return code;
		}
	}
	return call_return(c, results);
}

static void dispatch_answer(struct conn *conn, struct call *c, int code)
{
	if (code == CALL_PARKED) {
		mgr_value_free(c->result);
		return;
	}
	if (code)
		c->srv->stats.errors++;
	if (!code && c->borrowed)
		session_reply_borrowed(conn, c->req_id, c->borrowed);
	else
		session_reply(conn, c->req_id, code, code ? NULL : c->result, c->err[0] ? c->err : NULL);
	if (code || c->borrowed)
		mgr_value_free(c->result);
}

/* No live object with that id: say who deleted it, if someone did and it
 * is still known (a session's reference keeps the struct of a dead one). */
static int dispatch_missing(struct call *c, uint64_t id)
{
	const struct object *o = id ? idmap_get(&c->srv->reg.by_id, id) : NULL;
	if (!o || !o->dead || !o->deleted_by)
		return call_fail(c, MGR_ENOOBJ, "no object #%llu", (unsigned long long)id);
	return call_fail(c, MGR_ENOOBJ, "no object #%llu: %s%s%s%s was deleted%s by session %llu (pid %d)",
			 (unsigned long long)id, o->type->name, o->name ? " '" : "",
			 o->name ? o->name : "", o->name ? "'" : "",
			 o->deleted_forced ? " (forced)" : "", (unsigned long long)o->deleted_by,
			 (int)o->deleted_pid);
}

void dispatch_request(struct server *srv, struct conn *conn, struct msg_request *req)
{
	struct call c;
	int code;
	/* all but the message zeroed (a call's struct is mostly err[]) */
	frame_zero(&c, offsetof(struct call, err));
	c.err[0] = '\0';
	c.srv = srv;
	c.conn = conn;
	c.req_id = req->id;
	c.thread = req->thread;
	c.timeout_ms = msg_timeout(req);
	uint64_t t0 = srv->monitors ? clock_now_ns() : 0; /* the one branch when unwatched */
	c.obj = dispatch_object(srv, req->object);
	if (c.obj) /* held for the call: nothing it runs can free it under us */
		registry_ref(c.obj);
	if (t0)
		srv->hooks.observe(srv, &c, req, OBSERVE_START, 0);
	if (req->nbatch && req->method && req->method[0])
		code = call_fail(&c, MGR_EARGS, "a request has a method or a batch, not both");
	else if (!c.obj)
		code = dispatch_missing(&c, req->object);
	else if (req->nbatch)
		code = dispatch_batch(&c, req);
	else
		code = dispatch_run(&c, &(struct msg_call){req->method, req->args, req->nargs});
	srv->stats.calls++;
	conn->calls++;
	if (srv->monitors)
		srv->hooks.observe(srv, &c, req, code, t0 ? clock_now_ns() - t0 : 0);
	dispatch_answer(conn, &c, code);
	if (c.obj && c.obj->id)
		registry_unref_object(&srv->reg, c.obj); /* held since above */
	else if (c.obj)
		c.obj->refs--; /* the manager (object 0) is not in the registry */
}
