/* Custom types: a program's (or a module's) mgr_type_def becomes an
 * ordinary type table whose methods run on the worker pool, and the
 * mgr_call_* functions that handlers use to read arguments and answer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr/server.h"

#include "call.h"
#include "call-create.h"
#include "pool.h"
#include "state.h"
#include "type.h"
#include "types-builtin.h"

struct mgr_request {
	struct call *c;
};

/* A registered custom type: the table mgrd dispatches on, and the def.
 * type comes first so a struct type pointer leads back here. */
struct custom_type {
	struct type type;
	struct method *methods;
	const mgr_type_def *def;
};

static int custom_method(struct call *c)
{
	const struct custom_type *ct = (const struct custom_type *)c->obj->type;
	const mgr_method_def *m = &ct->def->methods[c->method - ct->methods];
	mgr_request mc = {c};
	return m->fn(c->obj->state, &mc);
}

/* The type's inline_ok, on the loop thread (dispatch's inline rule). */
static int custom_inline_ok(const struct call *c)
{
	const struct custom_type *ct = (const struct custom_type *)c->obj->type;
	mgr_request mc = {(struct call *)c};
	return ct->def->inline_ok(c->obj->state, &mc);
}

static int custom_create(struct call *c, void **state)
{
	const struct custom_type *ct = (const struct custom_type *)c->creating;
	mgr_request mc = {c};
	*state = NULL;
	return ct->def->init ? ct->def->init(state, &mc) : 0;
}

static void custom_unregister(const struct type *t)
{
	struct custom_type *ct = (struct custom_type *)t;
	free(ct->methods);
	free(ct);
}

static struct custom_type *custom_build(const mgr_type_def *def)
{
	struct custom_type *ct = calloc(1, sizeof(*ct));
	struct method *ms = calloc(def->nmethods + 1, sizeof(*ms));
	if (!ct || !ms) {
		free(ct);
		free(ms);
		return NULL;
	}
	for (size_t i = 0; i < def->nmethods; i++) {
		const mgr_method_def *d = &def->methods[i];
		bool inl = d->flags & MGR_METHOD_INLINE || def->inline_ok;
		ms[i] = (struct method){d->name, custom_method, (int8_t)d->min_args,
					(int8_t)d->max_args, inl ? METHOD_INLINE : 0,
					d->args ? d->args : "", d->doc};
	}
	ct->type = (struct type){.name = def->name, .doc = def->doc, .create = custom_create,
				 .destroy = def->destroy, .methods = ms,
				 .nmethods = def->nmethods, .flags = TYPE_THREADED,
				 .unregister = custom_unregister, .save = def->save,
				 .load = def->load, .inline_ok = def->inline_ok ? custom_inline_ok : NULL};
	ct->methods = ms;
	ct->def = def;
	return ct;
}

int mgr_type_register(const mgr_type_def *def)
{
	if (!def || !def->name || !*def->name || (def->nmethods && !def->methods))
		return MGR_EINVAL;
	int err = types_builtin_register(); /* built-in names are taken first */
	if (err)
		return err;
	if (types_find(def->name))
		return MGR_EEXIST;
	struct custom_type *ct = custom_build(def);
	if (!ct)
		return MGR_ENOMEM;
	err = types_register(&ct->type);
	if (err) {
		free(ct->methods);
		free(ct);
	}
	return err;
}

/* ---- what handlers call ---- */

const mgr_type_def *mgr_request_type(const mgr_request *call)
{
	const struct type *t = call->c->creating ? call->c->creating : call->c->obj->type;
	return ((const struct custom_type *)t)->def; /* handlers run for custom types only */
}

size_t mgr_request_nargs(const mgr_request *call) { return call->c->nargs; }

const mgr_value *mgr_request_arg(const mgr_request *call, size_t i) { return arg_get(call->c, i); }

int mgr_request_arg_int(mgr_request *call, size_t i, int64_t *out) { return arg_int(call->c, i, out); }

int mgr_request_arg_string(mgr_request *call, size_t i, const char **out)
{
	return arg_string(call->c, i, out);
}

mgr_value *mgr_request_take_arg(mgr_request *call, size_t i) { return arg_take(call->c, i); }

int mgr_request_return(mgr_request *call, mgr_value *v) { return call_return(call->c, v); }

int mgr_request_error(mgr_request *call, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->c->err, sizeof(call->c->err), fmt, ap);
	va_end(ap);
	return code;
}

struct custom_new {
	struct call *c;
	const char *type;
	mgr_value *const *args;
	size_t nargs;
	mgr_value *ref;
	int err;
};

/* On the loop thread: the registry is the loop's alone. */
static void custom_new_on_loop(void *arg)
{
	struct custom_new *n = arg;
	const struct type *t = types_find(n->type);
	struct call sub = {.srv = n->c->srv, .conn = n->c->conn, .obj = n->c->obj,
			   .args = (mgr_value **)n->args, .nargs = n->nargs};
	n->err = !t || t->flags & TYPE_INTERNAL
		? call_fail(n->c, MGR_ENOTYPE, "no type '%s'", n->type)
		: call_create(&sub, t, NULL, &n->ref);
	if (n->err && sub.err[0])
		memcpy(n->c->err, sub.err, sizeof(sub.err));
}

int mgr_request_create(mgr_request *call, const char *type, mgr_value *const *args, size_t nargs,
		    mgr_value **ref)
{
	struct custom_new n = {call->c, type, args, nargs, NULL, 0};
	if (!type || !ref)
		return MGR_EINVAL;
	pool_run_on_loop(custom_new_on_loop, &n);
	if (!n.err)
		*ref = n.ref;
	return n.err;
}
