/* Generic calls: by method name with value arguments, the varargs forms,
 * and the small helpers the typed functions are written with. */
#include "call.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/value.h"

#define CALL_MAX_ARGS 16

int call_run(mgr_object *o, struct msg_request *req, mgr_value **result)
{
	mgr_client *c = o->client;
	struct pending p; /* set up by client_submit */
	client_clear_error();
	pthread_mutex_lock(&c->mu);
	int err = client_submit(c, o, req, &p);
	if (!err)
		err = client_finish(c, &p, req->timeout_ms, result); /* bounded, 0: none */
	pthread_mutex_unlock(&c->mu);
	return err;
}

_Static_assert(MGR_FOREVER == MSG_FOREVER, "one value for no timeout");

/* A checked call by name: the request around args, sent and waited for. */
static int call_request(mgr_object *o, const char *method, int64_t timeout_ms,
			mgr_value *const *args, size_t nargs, mgr_value **result)
{
	struct msg_request req;
	client_request_init(&req, method, args, nargs, timeout_ms);
	return call_run(o, &req, result);
}

int mgr_call_timeout(mgr_object *o, const char *method, int64_t timeout_ms,
		     mgr_value *const *args, size_t nargs, mgr_value **result)
{
	if (!o || !method)
		return client_fail(MGR_EINVAL, "object or method is NULL");
	bool refused = value_take_refusal(); /* since this thread's last call */
	for (size_t i = 0; i < nargs; i++)
		if (!args[i] && refused)
			return client_fail(MGR_EUTF8, "argument %zu is NULL: a string given was not "
						      "valid UTF-8", i + 1);
		else if (!args[i])
			return client_fail(MGR_ENOMEM, "argument %zu is NULL (out of memory?)", i + 1);
	return call_request(o, method, timeout_ms, args, nargs, result);
}

int mgr_call(mgr_object *o, const char *method, mgr_value *const *args, size_t nargs,
	     mgr_value **result)
{
	return mgr_call_timeout(o, method, MGR_FOREVER, args, nargs, result);
}

static void call_free_args(mgr_value **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mgr_value_free(args[i]);
}

int mgr_callv(mgr_object *o, const char *method, mgr_value **result, ...)
{
	mgr_value *args[CALL_MAX_ARGS];
	size_t n = 0;
	bool too_many = false;
	va_list ap;
	va_start(ap, result);
	for (mgr_value *v; (v = va_arg(ap, mgr_value *)) != NULL;)
		if (n < CALL_MAX_ARGS)
			args[n++] = v;
		else {
			mgr_value_free(v);
			too_many = true;
		}
	va_end(ap);
	int err = too_many ? client_fail(MGR_EINVAL, "more than %d arguments", CALL_MAX_ARGS)
			   : mgr_call(o, method, args, n, result);
	call_free_args(args, n);
	return err;
}

/* One argument of client_callf; owned tells whether to free it after. */
/* Ints and bools are built in *slot (no allocation: they are only read
 * while the request is encoded). */
static mgr_value *call_arg(char kind, va_list *ap, bool *owned, mgr_value *slot)
{
	*owned = true;
	if (kind == 'i' || kind == 'b') {
		*owned = false;
		*slot = (mgr_value){.kind = kind == 'i' ? MGR_INT : MGR_BOOL};
		if (kind == 'i')
			slot->u.i = va_arg(*ap, int64_t);
		else
			slot->u.b = va_arg(*ap, int) != 0;
		return slot;
	}
	if (kind == 's')
		return mgr_value_new_string(va_arg(*ap, const char *));
	*owned = kind == 'v';
	return va_arg(*ap, mgr_value *);
}

/* A text argument ('s') that made no value: EUTF8 when it is not valid
 * UTF-8 (checked here, not through the constructor's flag, which another
 * copy of the value code may hold), else 0 (mgr_call says ENOMEM). */
static int call_check_text(const char *fmt, mgr_value *const *args, size_t n, va_list ap)
{
	va_list aq;
	int err = 0;
	va_copy(aq, ap);
	for (size_t i = 0; i < n && !err; i++) {
		if (fmt[i] == 'i')
			(void)va_arg(aq, int64_t);
		else if (fmt[i] == 'b')
			(void)va_arg(aq, int);
		else if (fmt[i] != 's')
			(void)va_arg(aq, mgr_value *);
		else {
			const char *text = va_arg(aq, const char *);
			if (!args[i] && text && !value_utf8_valid(text, strlen(text)))
				err = client_fail(MGR_EUTF8, "argument %zu is not valid UTF-8", i + 1);
		}
	}
	va_end(aq);
	return err;
}

static int call_vformat(mgr_object *o, const char *method, int64_t timeout_ms,
			mgr_value **result, const char *fmt, va_list ap)
{
	mgr_value *args[CALL_MAX_ARGS], slots[CALL_MAX_ARGS];
	bool owned[CALL_MAX_ARGS];
	size_t n = 0;
	bool no_text = false; /* a text argument made no value: say why */
	va_list aq; /* a va_list parameter cannot be passed on by address */
	va_copy(aq, ap);
	for (; fmt[n] && n < CALL_MAX_ARGS; n++) {
		args[n] = call_arg(fmt[n], &aq, &owned[n], &slots[n]);
		no_text |= !args[n] && fmt[n] == 's';
	}
	va_end(aq);
	int err = no_text ? call_check_text(fmt, args, n, ap) : 0;
	if (!err)
		err = mgr_call_timeout(o, method, timeout_ms, args, n, result);
	for (size_t i = 0; i < n; i++)
		if (owned[i])
			mgr_value_free(args[i]);
	return err;
}

int client_callf(mgr_object *o, const char *method, mgr_value **result, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int err = call_vformat(o, method, MGR_FOREVER, result, fmt, ap);
	va_end(ap);
	return err;
}

int client_call_int(mgr_object *o, const char *method, mgr_value **result, int64_t i)
{
	if (!o)
		return client_fail(MGR_EINVAL, "object or method is NULL");
	(void)value_take_refusal(); /* as mgr_call_timeout: none is NULL here */
	mgr_value arg; /* only kind and u.i are read: encoded, never kept */
	arg.kind = MGR_INT;
	arg.u.i = i;
	mgr_value *args[1] = {&arg};
	return call_request(o, method, MGR_FOREVER, args, 1, result);
}

int client_callf_timeout(mgr_object *o, const char *method, int64_t timeout_ms,
			 mgr_value **result, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int err = call_vformat(o, method, timeout_ms, result, fmt, ap);
	va_end(ap);
	return err;
}

int client_want(int err, mgr_value **resp, mgr_kind kind, mgr_value **out)
{
	mgr_value *res = *resp;
	*resp = NULL;
	if (err)
		return err;
	if (mgr_value_kind(res) != kind) {
		err = client_fail(MGR_EPROTO, "manager answered %s where %s was expected",
				  mgr_kind_name(mgr_value_kind(res)), mgr_kind_name(kind));
		mgr_value_free(res);
		return err;
	}
	if (out)
		*out = res;
	else
		mgr_value_free(res);
	return 0;
}

int client_want_int(int err, mgr_value **resp, int64_t *out)
{
	mgr_value *res = *resp;
	if (!err && res && res->kind == MGR_INT) { /* the usual answer, directly */
		*resp = NULL;
		if (out)
			*out = res->u.i;
		mgr_value_free(res);
		return 0;
	}
	res = NULL;
	err = client_want(err, resp, MGR_INT, &res);
	if (!err && out)
		*out = mgr_value_int(res);
	mgr_value_free(res);
	return err;
}

int client_want_bool(int err, mgr_value **resp, bool *out)
{
	mgr_value *res = NULL;
	err = client_want(err, resp, MGR_BOOL, &res);
	if (!err && out)
		*out = mgr_value_bool(res);
	mgr_value_free(res);
	return err;
}

int client_get_int(mgr_object *o, const char *method, int64_t *out)
{
	mgr_value *r = NULL;
	return client_want_int(client_callf(o, method, &r, ""), &r, out);
}

int client_get_bool(mgr_object *o, const char *method, bool *out)
{
	mgr_value *r = NULL;
	return client_want_bool(client_callf(o, method, &r, ""), &r, out);
}

int client_get_len(mgr_object *o, size_t *len)
{
	int64_t n = 0;
	int err = client_get_int(o, "len", &n);
	if (!err && len)
		*len = (size_t)n;
	return err;
}
