/* Request dispatch: object by id, method by name (both table lookups), the
 * argument count from the method's row, then the handler. No per-type or
 * per-method code lives here. */
#include "dispatch.h"

#include <stdarg.h>
#include <stdio.h>

#include "conn.h"
#include "server.h"

int call_fail(struct call *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return code;
}

int call_return(struct call *c, mgr_value *v)
{
	mgr_value_free(c->result);
	c->result = v;
	return v ? 0 : MGR_ENOMEM;
}

int call_return_borrowed(struct call *c, const mgr_value *v)
{
	c->borrowed = v;
	return 0;
}

int call_return_int(struct call *c, int64_t i) { return call_return(c, mgr_value_new_int(i)); }

int call_return_bool(struct call *c, bool b) { return call_return(c, mgr_value_new_bool(b)); }

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

static int dispatch_find(struct call *c, uint64_t object, const char *method)
{
	c->obj = server_object(c->srv, object);
	if (!c->obj)
		return call_fail(c, MGR_ENOOBJ, "no object #%llu", (unsigned long long)object);
	c->method = types_method(c->obj->type, method);
	if (!c->method)
		return call_fail(c, MGR_ENOMETHOD, "type %s has no method '%s'",
				 c->obj->type->name, method);
	return dispatch_check_args(c);
}

void dispatch_request(struct server *srv, struct conn *conn, struct msg_request *req)
{
	struct call c = {.srv = srv, .conn = conn, .req_id = req->id, .thread = req->thread,
			 .timeout_ms = req->timeout_ms, .args = req->args, .nargs = req->nargs};
	int code = dispatch_find(&c, req->object, req->method);
	if (!code) {
		c.obj->calls++;
		code = c.method->fn(&c);
	}
	srv->stats.calls++;
	conn->calls++;
	if (code == CALL_PARKED) {
		mgr_value_free(c.result);
		return;
	}
	if (code)
		srv->stats.errors++;
	if (!code && c.borrowed)
		conn_reply_borrowed(conn, req->id, c.borrowed);
	else
		conn_reply(conn, req->id, code, code ? NULL : c.result, c.err[0] ? c.err : NULL);
	if (code || c.borrowed)
		mgr_value_free(c.result);
}
