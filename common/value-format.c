/* Text renderings of a value: mgr_value_format, short and JSON-like, for
 * logs, error messages and examples (cut at the caller's buffer); and
 * value_repr, Python's repr() (None, True, 'text', {'a': [1, 2.5]}), for
 * the manager's `repr`, in a buffer it grows up to a maximum. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

/* Makes room for n more bytes and the NUL in a growable buffer. */
static bool fmt_grow(struct value_text *f, size_t n)
{
	if (!f->max || f->size > f->max)
		return false;
	size_t size = f->size * 2 > f->len + n + 1 ? f->size * 2 : f->len + n + 1;
	size = size > f->max + 1 ? f->max + 1 : size;
	char *p = realloc(f->buf, size);
	if (!p)
		return false;
	f->buf = p;
	f->size = size;
	return true;
}

static void fmt_put(struct value_text *f, const char *spec, ...)
{
	if (f->len >= f->size)
		return;
	va_list ap;
	va_start(ap, spec);
	int n = vsnprintf(f->buf + f->len, f->size - f->len, spec, ap);
	va_end(ap);
	if (n > 0 && f->len + (size_t)n >= f->size && fmt_grow(f, (size_t)n)) {
		va_start(ap, spec);
		n = vsnprintf(f->buf + f->len, f->size - f->len, spec, ap);
		va_end(ap);
	}
	f->len += n > 0 ? (size_t)n : 0;
}

static void fmt_value(struct value_text *f, const mgr_value *v);

/* Python quotes with ' unless the text has ' and no ". */
static char fmt_quote(const struct value_text *f, const mgr_value *v)
{
	if (!f->python)
		return '"';
	const char *s = value_str(v), *end = s + value_slen(v);
	return memchr(s, '\'', (size_t)(end - s)) && !memchr(s, '"', (size_t)(end - s)) ? '"'
											: '\'';
}

static void fmt_char(struct value_text *f, const mgr_value *v, unsigned char c, char q)
{
	static const char named[] = {['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
	if (c == (unsigned char)q || c == '\\')
		fmt_put(f, "\\%c", c);
	else if (f->python && c < sizeof(named) && named[c])
		fmt_put(f, "\\%c", named[c]);
	else if (c < 0x20 || c == 0x7f || (c >= 0x80 && v->kind == MGR_BYTES))
		fmt_put(f, "\\x%02x", c);
	else
		fmt_put(f, "%c", c);
}

static void fmt_blob(struct value_text *f, const mgr_value *v)
{
	char q = fmt_quote(f, v);
	fmt_put(f, v->kind == MGR_BYTES ? "b%c" : "%c", q);
	for (size_t i = 0; i < value_slen(v) && f->len < f->size; i++)
		fmt_char(f, v, (unsigned char)value_str(v)[i], q);
	fmt_put(f, "%c", q);
}

static void fmt_list(struct value_text *f, const mgr_value *v)
{
	fmt_put(f, "[");
	for (size_t i = 0; i < v->u.list.len && f->len < f->size; i++) {
		fmt_put(f, i ? ", " : "");
		fmt_value(f, v->u.list.items[i]);
	}
	fmt_put(f, "]");
}

static void fmt_map(struct value_text *f, const mgr_value *v)
{
	const char *sep = "";
	fmt_put(f, "{");
	HTAB_FOREACH(v->u.map, e)
	{
		if (f->len >= f->size)
			break;
		fmt_put(f, "%s", sep);
		fmt_value(f, &e->key);
		fmt_put(f, ": ");
		fmt_value(f, &e->val);
		sep = ", ";
	}
	fmt_put(f, "}");
}

/* Python's float repr: the shortest digits that read back the same, in
 * exponent form below 1e-4 and from 1e16, else with a decimal point. */
static void fmt_pydouble(struct value_text *f, double d)
{
	char tmp[40];
	if (d != d || d - d != 0) {
		fmt_put(f, d != d ? "nan" : d < 0 ? "-inf" : "inf");
		return;
	}
	int p = 1;
	for (; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
	int exp = atoi(strchr(tmp, 'e') + 1);
	if (exp < -4 || exp >= 16) {
		fmt_put(f, "%s", tmp);
		return;
	}
	int decimals = p - 1 - exp > 0 ? p - 1 - exp : 0;
	fmt_put(f, decimals ? "%.*f" : "%.*f.0", decimals, d);
}

static void fmt_scalar(struct value_text *f, const mgr_value *v)
{
	if (v->kind == MGR_BOOL)
		fmt_put(f, f->python ? (v->u.b ? "True" : "False") : (v->u.b ? "true" : "false"));
	else if (v->kind == MGR_INT)
		fmt_put(f, "%" PRId64, v->u.i);
	else if (v->kind == MGR_DOUBLE && f->python)
		fmt_pydouble(f, v->u.d);
	else if (v->kind == MGR_DOUBLE)
		fmt_put(f, "%.17g", v->u.d);
	else
		fmt_put(f, "<%s #%" PRIu64 ">", v->u.ref.type, v->u.ref.id);
}

static void fmt_value(struct value_text *f, const mgr_value *v)
{
	if (!v || v->kind == MGR_NIL)
		fmt_put(f, f->python ? "None" : "null");
	else if (v->kind == MGR_STRING || v->kind == MGR_BYTES)
		fmt_blob(f, v);
	else if (v->kind == MGR_LIST)
		fmt_list(f, v);
	else if (v->kind == MGR_MAP)
		fmt_map(f, v);
	else
		fmt_scalar(f, v);
}

char *mgr_value_format(const mgr_value *v, char *buf, size_t size)
{
	struct value_text f = {buf, size, 0, 0, false};
	if (size)
		buf[0] = '\0';
	fmt_value(&f, v);
	return buf;
}

/* ---- Python's repr ---- */

void value_text_init(struct value_text *t, size_t max)
{
	max = max < 8 ? 8 : max;
	size_t size = max < 64 ? max + 1 : 64;
	*t = (struct value_text){.buf = malloc(size), .size = size, .max = max, .python = true};
	if (t->buf)
		t->buf[0] = '\0';
	else
		t->size = 0; /* everything is cut; end gives NULL */
}

void value_text_put(struct value_text *t, const char *text) { fmt_put(t, "%s", text); }

void value_text_repr(struct value_text *t, const mgr_value *v) { fmt_value(t, v); }

bool value_text_full(const struct value_text *t) { return t->len >= t->size; }

char *value_text_end(struct value_text *t)
{
	if (t->buf && t->len >= t->size) { /* cut: say so, after a whole character */
		size_t at = t->size - 4;
		while (at && ((unsigned char)t->buf[at] & 0xC0) == 0x80)
			at--;
		memcpy(t->buf + at, "...", 4);
		t->len = at + 3;
	}
	return t->buf;
}

char *value_repr(const mgr_value *v, size_t max)
{
	struct value_text t;
	value_text_init(&t, max);
	value_text_repr(&t, v);
	return value_text_end(&t);
}
