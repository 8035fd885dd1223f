/* Objects made for a call (see call-create.h). */
#include "call-create.h"

#include <string.h>

#include "conn.h"
#include "policy.h"
#include "registry.h"
#include "state.h"

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
