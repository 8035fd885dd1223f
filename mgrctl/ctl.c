/* Helpers shared by mgrctl's verbs (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct ctl_out ctl_out = {.timeout_ms = MGR_FOREVER};

const char *ctl_color(bool to_stdout, const char *role)
{
	static const struct {
		const char *role, *seq;
	} roles[] = {{"bold", "\033[1m"}, {"red", "\033[31m"}, {"dim", "\033[2m"},
		     {"reset", "\033[0m"}};
	if (!(to_stdout ? ctl_out.color : ctl_out.color_err))
		return "";
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(roles[i].role, role))
			return roles[i].seq;
	return "";
}

/* The JSON error object on stdout (--json): what a script reads instead
 * of stderr's text. */
static void ctl_json_error(const char *msg, const char *code, int exit_code)
{
	mgr_value *e = mgr_value_new_map(), *top = mgr_value_new_map();
	mgr_value_map_set(e, mgr_value_new_string("message"), mgr_value_new_string(msg));
	mgr_value_map_set(e, mgr_value_new_string("code"),
			  code ? mgr_value_new_string(code) : mgr_value_new_nil());
	mgr_value_map_set(e, mgr_value_new_string("exit"), mgr_value_new_int(exit_code));
	mgr_value_map_set(top, mgr_value_new_string("error"), e);
	char *s = json_format(top, true);
	if (s)
		puts(s);
	free(s);
	mgr_value_free(top);
}

static int ctl_vreport(int exit_code, const char *code, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%smgrctl:%s %s\n", ctl_color(false, "red"), ctl_color(false, "reset"),
		msg);
	if (ctl_out.json)
		ctl_json_error(msg, code, exit_code);
	return exit_code;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ctl_vreport(CTL_FAIL, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int ctl_fail_code(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ctl_vreport(CTL_FAIL, code ? mgr_errname(code) : NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int ctl_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctl_vreport(CTL_USAGE, "EUSAGE", fmt, ap);
	fprintf(stderr, "usage: mgrctl [-s SOCKET] [--json] [--timeout SECS] %s %s\n",
		ctl->verb->name, ctl->verb->args);
	va_end(ap);
	return CTL_USAGE;
}

static void ctl_shift(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof(*argv));
	*argc -= n;
}

int ctl_option(int *argc, char **argv, const char *name, const char **value)
{
	size_t len = strlen(name);
	for (int i = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, len))
			continue;
		const char *rest = argv[i] + 2 + len;
		if (*rest == '=') {
			*value = rest + 1;
			ctl_shift(argc, argv, i, 1);
			return 1;
		}
		if (*rest)
			continue;
		if (i + 1 >= *argc)
			return -1;
		*value = argv[i + 1];
		ctl_shift(argc, argv, i, 2);
		return 1;
	}
	return 0;
}

bool ctl_flag(int *argc, char **argv, const char *flag)
{
	bool found = false;
	for (int i = 0; i < *argc && strcmp(argv[i], "--");)
		if (!strcmp(argv[i], flag)) {
			ctl_shift(argc, argv, i, 1);
			found = true;
		} else
			i++;
	return found;
}

long ctl_parse_count(const char *s)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	return errno || !*s || *end || n < 0 ? -1 : n;
}

static void ctl_free_args(mgr_value **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mgr_value_free(args[i]);
}

int ctl_call(mgr_object *o, const char *method, mgr_value **args, size_t nargs,
	     mgr_value **result)
{
	int err = mgr_call_timeout(o, method, ctl_out.timeout_ms, args, nargs, result);
	ctl_free_args(args, nargs);
	if (!err)
		return CTL_OK;
	return ctl_fail_code(err, "%s: %s (%s)", method, mgr_client_errmsg(mgr_object_client(o)),
			     mgr_errname(err));
}

int ctl_manager(struct ctl *ctl, const char *method, mgr_value **args, size_t nargs,
		mgr_value **result)
{
	return ctl_call(mgr_client_manager(ctl->client), method, args, nargs, result);
}

int ctl_view(struct ctl *ctl, const char *method, mgr_value **args, size_t nargs,
	     void (*print)(const mgr_value *v))
{
	mgr_value *v = NULL;
	int rc = ctl_manager(ctl, method, args, nargs, &v);
	if (rc == CTL_OK && ctl->json)
		rc = ctl_print_json(v);
	else if (rc == CTL_OK)
		print(v);
	mgr_value_free(v);
	return rc;
}

mgr_value *ctl_target(const char *obj)
{
	if (obj[0] != '#')
		return mgr_value_new_string(obj);
	long id = ctl_parse_count(obj + 1);
	if (id < 0) {
		ctl_fail("'%s' is not an object: use a name or #ID", obj);
		return NULL;
	}
	return mgr_value_new_int(id);
}

int ctl_object(struct ctl *ctl, const char *obj, mgr_object **out)
{
	mgr_value *t = ctl_target(obj);
	if (!t)
		return CTL_FAIL;
	if (mgr_value_kind(t) == MGR_INT && mgr_value_int(t) == 0) {
		mgr_value_free(t);
		*out = mgr_client_manager(ctl->client);
		return CTL_OK;
	}
	mgr_value *ref = mgr_value_kind(t) == MGR_INT
		? mgr_value_new_ref((uint64_t)mgr_value_int(t), "object") : NULL;
	int err = ref ? mgr_object_from_ref(ctl->client, ref, out)
		      : mgr_object_lookup(ctl->client, obj, out);
	mgr_value_free(ref);
	mgr_value_free(t);
	return err ? ctl_fail_code(err, "%s: %s", obj, mgr_client_errmsg(ctl->client)) : CTL_OK;
}

void ctl_object_done(struct ctl *ctl, mgr_object *o)
{
	if (o != mgr_client_manager(ctl->client))
		mgr_object_release(o);
}

int ctl_json_args(const struct ctl *ctl, int argc, char **argv, mgr_value **out)
{
	char err[160];
	for (int i = 0; i < argc; i++)
		if (json_parse(argv[i], strlen(argv[i]), &out[i], err, sizeof(err))) {
			ctl_free_args(out, (size_t)i);
			return ctl_usage(ctl, "argument '%s' is not JSON: %s (strings are quoted: "
					 "'\"text\"')", argv[i], err);
		}
	return CTL_OK;
}

int ctl_print_json(const mgr_value *v)
{
	char *s = json_format(v, true);
	if (!s)
		return ctl_fail("cannot render the result as JSON");
	puts(s);
	free(s);
	return CTL_OK;
}

const mgr_value *ctl_get(const mgr_value *map, const char *key)
{
	mgr_value *k = mgr_value_new_string(key);
	const mgr_value *v = mgr_value_map_get(map, k);
	mgr_value_free(k);
	return v;
}

int64_t ctl_get_int(const mgr_value *map, const char *key)
{
	const mgr_value *v = ctl_get(map, key);
	return mgr_value_kind(v) == MGR_INT ? mgr_value_int(v) : 0;
}
