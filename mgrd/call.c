/* How a handler answers a call (see call.h). */
#include "call.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
