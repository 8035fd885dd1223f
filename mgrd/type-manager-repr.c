/* The manager's `repr`: Python's str()/repr() of any object, made in the
 * manager. A type's repr hook gives it ("{'a': 1}", "Namespace(a=1)");
 * any other type's is built from what `describe` shows: "<lock(locked=True,
 * owner=12)>" for a state map, "<counter(5)>" for a value, "<type #id>"
 * when there is nothing to show. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "manager.h"
#include "object.h"

#define REPR_DEFAULT_MAX 4096
#define REPR_MAX (1u << 20)

/* The state map's entries as name=repr; any other value as its repr. */
static void repr_fields(struct value_text *t, const mgr_value *v)
{
	if (mgr_value_kind(v) != MGR_MAP) {
		value_text_repr(t, v);
		return;
	}
	for (size_t i = 0; i < mgr_value_len(v) && !value_text_full(t); i++) {
		const mgr_value *k = mgr_value_map_key(v, i);
		value_text_put(t, i ? ", " : "");
		if (mgr_value_kind(k) == MGR_STRING)
			value_text_put(t, mgr_value_string(k, NULL));
		else
			value_text_repr(t, k);
		value_text_put(t, "=");
		value_text_repr(t, mgr_value_map_value(v, i));
	}
}

static bool repr_is(const mgr_value *v, const char *s)
{
	const char *text = mgr_value_string(v, NULL);
	return text && !strcmp(text, s);
}

/* "<type(fields)>" from describe's value for o, which c named in arg 0. */
static char *repr_generic(struct call *c, const struct object *o, size_t max)
{
	mgr_value *args[] = {mgr_value_copy(arg_get(c, 0)), mgr_value_new_int((int64_t)max)};
	struct call sub = *c;
	sub.args = args;
	sub.nargs = 2;
	sub.result = NULL;
	sub.borrowed = NULL;
	int err = args[0] && args[1] ? manager_describe(&sub) : MGR_ENOMEM;
	const mgr_value *v = NULL;
	for (size_t i = 0; !err && i < mgr_value_len(sub.result); i++)
		if (repr_is(mgr_value_map_key(sub.result, i), "value"))
			v = mgr_value_map_value(sub.result, i);
	char head[96];
	struct value_text t;
	value_text_init(&t, max);
	if (mgr_value_kind(v) == MGR_NIL)
		snprintf(head, sizeof(head), "<%s #%" PRIu64 ">", o->type->name, o->id);
	else
		snprintf(head, sizeof(head), "<%s(", o->type->name);
	value_text_put(&t, head);
	if (mgr_value_kind(v) != MGR_NIL) {
		repr_fields(&t, v);
		value_text_put(&t, ")>");
	}
	mgr_value_free(sub.result);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	return value_text_end(&t);
}

/* repr(target, max=4096): the text, at most max bytes (at most 1 MiB). */
int manager_repr(struct call *c)
{
	struct object *o;
	int64_t max;
	int err = manager_resolve(c, arg_get(c, 0), &o);
	if (!err)
		err = arg_int_opt(c, 1, REPR_DEFAULT_MAX, &max);
	if (!err && (max < 8 || max > REPR_MAX))
		err = call_fail(c, MGR_EARGS, "repr: max is 8 to %u bytes", REPR_MAX);
	if (err)
		return err;
	char *text = o->type->repr ? o->type->repr(o, (size_t)max) : repr_generic(c, o, (size_t)max);
	mgr_value *v = text ? mgr_value_new_string(text) : NULL;
	free(text);
	return call_return(c, v);
}
