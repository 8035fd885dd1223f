/* mgr_value_format: a short JSON-like rendering of a value for logs, error
 * messages and examples. Output is cut at the buffer's end. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "htab.h"

struct fmt {
	char *buf;
	size_t size, len;
};

static void fmt_put(struct fmt *f, const char *spec, ...)
{
	if (f->len >= f->size)
		return;
	va_list ap;
	va_start(ap, spec);
	int n = vsnprintf(f->buf + f->len, f->size - f->len, spec, ap);
	va_end(ap);
	f->len += n > 0 ? (size_t)n : 0;
}

static void fmt_value(struct fmt *f, const mgr_value *v);

static void fmt_blob(struct fmt *f, const mgr_value *v)
{
	fmt_put(f, v->kind == MGR_BYTES ? "b\"" : "\"");
	for (size_t i = 0; i < value_slen(v); i++) {
		unsigned char c = (unsigned char)value_str(v)[i];
		fmt_put(f, c == '"' || c == '\\' ? "\\%c" : c < 0x20 || (c >= 0x7f && v->kind == MGR_BYTES)
						? "\\x%02x" : "%c", c);
	}
	fmt_put(f, "\"");
}

static void fmt_list(struct fmt *f, const mgr_value *v)
{
	fmt_put(f, "[");
	for (size_t i = 0; i < v->u.list.len; i++) {
		fmt_put(f, i ? ", " : "");
		fmt_value(f, v->u.list.items[i]);
	}
	fmt_put(f, "]");
}

static void fmt_map(struct fmt *f, const mgr_value *v)
{
	const char *sep = "";
	fmt_put(f, "{");
	HTAB_FOREACH(v->u.map, e)
	{
		fmt_put(f, "%s", sep);
		fmt_value(f, &e->key);
		fmt_put(f, ": ");
		fmt_value(f, &e->val);
		sep = ", ";
	}
	fmt_put(f, "}");
}

static void fmt_value(struct fmt *f, const mgr_value *v)
{
	if (!v || v->kind == MGR_NIL)
		fmt_put(f, "null");
	else if (v->kind == MGR_BOOL)
		fmt_put(f, v->u.b ? "true" : "false");
	else if (v->kind == MGR_INT)
		fmt_put(f, "%" PRId64, v->u.i);
	else if (v->kind == MGR_DOUBLE)
		fmt_put(f, "%.17g", v->u.d);
	else if (v->kind == MGR_STRING || v->kind == MGR_BYTES)
		fmt_blob(f, v);
	else if (v->kind == MGR_LIST)
		fmt_list(f, v);
	else if (v->kind == MGR_MAP)
		fmt_map(f, v);
	else
		fmt_put(f, "<%s #%" PRIu64 ">", v->u.ref.type, v->u.ref.id);
}

char *mgr_value_format(const mgr_value *v, char *buf, size_t size)
{
	struct fmt f = {buf, size, 0};
	if (size)
		buf[0] = '\0';
	fmt_value(&f, v);
	return buf;
}
