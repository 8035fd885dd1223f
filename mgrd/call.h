/* A call: one request being answered. Handlers read arguments with the
 * arg_* helpers (args.c) and answer with call_return / call_fail (call.c),
 * or park the call to answer it later (park.h). What a type sees of a
 * request is this struct, nothing of the transport. */
#ifndef MGRD_CALL_H
#define MGRD_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/value.h"
#include "object.h"

struct server;
struct conn;
struct method;

struct call {
	struct server *srv;
	struct conn *conn; /* the caller; NULL for calls made by mgrd itself */
	struct object *obj;
	const struct type *creating; /* in a type's create(): which type */
	const struct method *method;
	uint64_t req_id, thread;
	int64_t timeout_ms; /* a blocking call's: MSG_FOREVER none, 0 do not wait */
	/* For call_create: POLICY_MODE_GIVEN | the new object's rwd bits, or
	 * 0 for --default-mode (policy.h). */
	uint16_t mode;
	mgr_value **args; /* a handler may take args[i] and set it to NULL */
	size_t nargs;
	mgr_value *result; /* owned; NULL is nil */
	const mgr_value *borrowed; /* or: the object's own value, sent as is */
	mgr_value slot; /* where an int or bool result is built (no allocation) */
	char err[256];
};

/* Sets the message and returns code, for `return call_fail(...)`. */
int call_fail(struct call *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* v consumed; MGR_ENOMEM if v is NULL. */
int call_return(struct call *c, mgr_value *v);
/* v stays the object's; it is encoded before anything can change it. */
int call_return_borrowed(struct call *c, const mgr_value *v);
int call_return_int(struct call *c, int64_t i);
int call_return_bool(struct call *c, bool b);

/* EARGS when c carries more constructor arguments than t takes (its
 * ctor_args row, type.h); 0 when it takes that many or does not say. */
int arg_ctor_check(struct call *c, const struct type *t);

/* Arguments. Each returns 0 or MGR_EARGS with a message naming the
 * argument, the expected kind and the kind given. */
const mgr_value *arg_get(const struct call *c, size_t i); /* NULL if absent */
int arg_int(struct call *c, size_t i, int64_t *out);
int arg_int_opt(struct call *c, size_t i, int64_t dflt, int64_t *out);
int arg_bool_opt(struct call *c, size_t i, bool dflt, bool *out);
int arg_string(struct call *c, size_t i, const char **out);
int arg_key(struct call *c, size_t i, const mgr_value **out);
/* Takes ownership of argument i (nil if absent or already taken). */
mgr_value *arg_take(struct call *c, size_t i);
/* Python index semantics: negative counts from the end; EINDEX outside
 * [0, len) — or [0, len] when end_ok. */
int arg_index(struct call *c, size_t i, size_t len, bool end_ok, size_t *out);

#endif
