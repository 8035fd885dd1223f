/* Making an object for a call (call-create.c): the registry creates it
 * from the call's constructor arguments, the policy stamps its owner and
 * mode. Above both call.c and policy.c, so neither needs the other. */
#ifndef MGRD_CALL_CREATE_H
#define MGRD_CALL_CREATE_H

#include "call.h"

/* A new object of type t (named, or anonymous when name is NULL) built
 * from c's args and made by c's session, which owns it (with c->mode, see
 * policy.h): *ref (caller owns) is its ref
 * value, which holds it until the reply hands it to the session. */
int call_create(struct call *c, const struct type *t, const char *name, mgr_value **ref);

#endif
