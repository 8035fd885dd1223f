/* How a handler answers a call (see call.h). */
#include "call.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "policy.h"
#include "registry.h"
#include "state.h"

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
	c->borrowed = NULL; /* the last answer set wins */
	c->result = v;
	return v ? 0 : MGR_ENOMEM;
}

int call_return_borrowed(struct call *c, const mgr_value *v)
{
	c->borrowed = v;
	return 0;
}

int call_return_int(struct call *c, int64_t i)
{
	c->slot = (mgr_value){.kind = MGR_INT, .u.i = i};
	return call_return_borrowed(c, &c->slot);
}

int call_return_bool(struct call *c, bool b)
{
	c->slot = (mgr_value){.kind = MGR_BOOL, .u.b = b};
	return call_return_borrowed(c, &c->slot);
}

int call_create(struct call *c, const struct type *t, const char *name, mgr_value **ref)
{
	struct call sub = *c;
	struct object *o;
	sub.creating = t;
	sub.err[0] = '\0';
	int err = arg_ctor_check(c, t);
	if (err)
		return err;
	err = registry_create(&c->srv->reg, t, name, &sub, &o);
	if (err == MGR_EEXIST)
		return call_fail(c, err, "an object named '%s' exists", name);
	if (err) {
		memcpy(c->err, sub.err, sizeof(c->err));
		return err;
	}
	o->creator_pid = c->conn ? conn_pid(c->conn) : 0;
	o->creator_session = c->conn ? conn_session(c->conn) : 0;
	policy_stamp(c, o);
	*ref = mgr_value_new_ref(o->id, t->name); /* holds it until the reply */
	registry_unref(&c->srv->reg, o->id);      /* the creator's reference */
	return *ref ? 0 : MGR_ENOMEM;
}
