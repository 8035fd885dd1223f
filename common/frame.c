/* Frames: the 4-byte length prefix and the mapping between struct msg and
 * the protobuf Frame. Decoding checks the bytes (frame-check.c) before
 * protobuf-c allocates anything. */
#include "frame.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

#define FRAME_TAG(field, wt) ((uint8_t)((field) << 3 | (wt)))

static void frame_call_clear(struct msg_call *c)
{
	for (size_t i = 0; c->args && i < c->nargs; i++)
		mgr_value_free(c->args[i]);
	free(c->args);
	free(c->method);
}

void msg_reply_free(struct msg_reply *y)
{
	mgr_value_free(y->value);
	if (y->message) /* only errors have one */
		free(y->message);
}

void msg_clear(struct msg *m)
{
	if (m->kind == MSG_HELLO)
		free(m->u.hello.name);
	if (m->kind == MSG_REQUEST) {
		struct msg_request *q = &m->u.request;
		for (size_t i = 0; q->args && i < q->nargs; i++)
			mgr_value_free(q->args[i]);
		if (q->args != q->args_buf)
			free(q->args);
		if (q->method != q->method_buf)
			free(q->method);
		for (size_t i = 0; i < q->nbatch; i++)
			frame_call_clear(&q->batch[i]);
		if (q->batch) /* nearly never: no call into libc for nothing */
			free(q->batch);
	}
	if (m->kind == MSG_REPLY)
		msg_reply_free(&m->u.reply);
	/* a request's buffers mean nothing while method and args point
	 * elsewhere: they are left as they are (152 bytes cleared per call
	 * were a tenth of decoding one) */
	if (m->kind == MSG_REQUEST) /* constant sizes: stores, not a call */
		frame_zero(m, offsetof(struct msg, u.request.method_buf));
	else if (m->kind == MSG_REPLY)
		memset(m, 0, offsetof(struct msg, u) + sizeof(struct msg_reply));
	else
		memset(m, 0, sizeof(*m));
}

int64_t msg_timeout(const struct msg_request *q)
{
	if (q->timed)
		return q->wait_ms;
	return q->timeout_ms ? (int64_t)q->timeout_ms : MSG_FOREVER;
}

void msg_set_timeout(struct msg_request *q, int64_t ms)
{
	q->timed = ms != MSG_FOREVER;
	q->wait_ms = q->timed ? ms : 0;
	q->timeout_ms = ms < 0 || !q->timed ? 0 : ms < 1 ? 1 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* ---- decode ---- */

static int frame_dec_hello(const Mgr__Frame *f, struct msg *m)
{
	m->kind = MSG_HELLO;
	m->u.hello.version = f->hello->version;
	m->u.hello.pid = f->hello->pid;
	m->u.hello.ring = f->hello->ring;
	m->u.hello.polls = f->hello->polls;
	m->u.hello.name = strdup(f->hello->name);
	return m->u.hello.name ? 0 : MGR_ENOMEM;
}

static int frame_dec_welcome(const Mgr__Frame *f, struct msg *m)
{
	const Mgr__Welcome *w = f->welcome;
	m->kind = MSG_WELCOME;
	m->u.welcome.version = w->version;
	m->u.welcome.session = w->session;
	m->u.welcome.pid = w->pid;
	m->u.welcome.ring = w->ring;
	if (w->instance.len) /* empty: data is NULL, and memcpy wants non-NULL */
		memcpy(m->u.welcome.instance, w->instance.data,
		       w->instance.len < 16 ? w->instance.len : 16);
	if (w->limits)
		m->u.welcome.limits = (struct frame_limits){w->limits->max_frame,
			w->limits->max_depth, w->limits->max_items, w->limits->max_pending};
	return 0;
}

/* method + args into a msg_call (args of a Request or of a batch Call). */
static int frame_dec_call(const char *method, Mgr__Value *const *args, size_t nargs,
			  struct msg_call *out)
{
	if (!value_utf8_valid(method, strlen(method)))
		return MGR_EUTF8;
	out->method = strdup(method);
	out->args = calloc(nargs + 1, sizeof(*out->args));
	if (!out->method || !out->args)
		return MGR_ENOMEM;
	for (; out->nargs < nargs; out->nargs++) {
		int err = codec_from_pb(args[out->nargs], &out->args[out->nargs]);
		if (err)
			return err;
	}
	return 0;
}

static int frame_dec_request(const Mgr__Frame *f, struct msg *m)
{
	const Mgr__Request *r = f->request;
	struct msg_request *q = &m->u.request;
	struct msg_call own = {0};
	m->kind = MSG_REQUEST;
	q->id = r->id;
	q->object = r->object;
	q->thread = r->thread;
	q->timeout_ms = r->timeout_ms;
	q->timed = r->wait_case == MGR__REQUEST__WAIT_WAIT_MS;
	q->wait_ms = r->wait_ms;
	int err = frame_dec_call(r->method, r->args, r->n_args, &own);
	q->method = own.method;
	q->args = own.args;
	q->nargs = own.nargs;
	if (err || !r->n_batch)
		return err;
	if (!(q->batch = calloc(r->n_batch, sizeof(*q->batch))))
		return MGR_ENOMEM;
	for (; !err && q->nbatch < r->n_batch; q->nbatch++)
		err = frame_dec_call(r->batch[q->nbatch]->method, r->batch[q->nbatch]->args,
				     r->batch[q->nbatch]->n_args, &q->batch[q->nbatch]);
	return err;
}

static int frame_dec_reply(const Mgr__Frame *f, struct msg *m)
{
	const Mgr__Reply *r = f->reply;
	struct msg_reply *y = &m->u.reply;
	m->kind = MSG_REPLY;
	y->id = r->id;
	y->spin = r->spin;
	if (r->result_case == MGR__REPLY__RESULT_ERROR) {
		y->code = r->error->code ? r->error->code : MGR_EPROTO;
		y->message = strdup(r->error->message);
		return y->message ? 0 : MGR_ENOMEM;
	}
	return codec_from_pb(r->value, &y->value);
}

typedef int (*frame_dec_fn)(const Mgr__Frame *, struct msg *);

static const frame_dec_fn frame_decoders[] = {
	[MGR__FRAME__MSG_HELLO] = frame_dec_hello,
	[MGR__FRAME__MSG_WELCOME] = frame_dec_welcome,
	[MGR__FRAME__MSG_REQUEST] = frame_dec_request,
	[MGR__FRAME__MSG_REPLY] = frame_dec_reply,
};

/* ---- decode, fast path: the bytes straight into struct msg ----
 * Requests and replies in the plain form every encoder writes (each field
 * once, known fields, right wire types) are read here without protobuf-c.
 * Anything else, and any bad value, returns -1 and goes the protobuf-c way
 * below, which gives the exact answer; so both paths agree by construction. */

#define FRAME_ARGS_BUF (sizeof(((struct msg_request *)0)->args_buf) / sizeof(mgr_value *))

/* method + the args fields (number argf) of the message in [p, end), the
 * first skip of which were decoded already into out->args (the
 * request's own buffer). method and args go into the request's own
 * buffers when they fit (q given), else into allocations. */
static int frame_fast_call(const uint8_t *method, size_t mlen, const uint8_t *p,
			   const uint8_t *end, uint64_t argf, size_t nargs, struct msg_call *out,
			   struct msg_request *q)
{
	struct codec_field f;
	size_t skip = out->nargs;
	if (memchr(method, '\0', mlen) || !value_utf8_valid((const char *)method, mlen))
		return -1;
	out->method = q && mlen < sizeof(q->method_buf) ? q->method_buf : malloc(mlen + 1);
	if (!out->method)
		return -1;
	if (!q || nargs >= FRAME_ARGS_BUF) {
		mgr_value **args = calloc(nargs + 1, sizeof(*out->args));
		if (!args)
			return -1;
		if (skip)
			memcpy(args, out->args, skip * sizeof(*args));
		out->args = args;
	}
	if (mlen)
		memcpy(out->method, method, mlen);
	out->method[mlen] = '\0';
	while (p < end && out->nargs < nargs) {
		codec_next_field(&p, end, &f); /* checked by the caller's first pass */
		if (f.num == argf && skip)
			skip--;
		else if (f.num == argf &&
			 codec_value_read(f.data, f.data + f.v, &out->args[out->nargs++]))
			return -1;
	}
	return 0;
}

static int frame_fast_batch_call(const uint8_t *p, const uint8_t *end, struct msg_call *out)
{
	struct codec_field f;
	const uint8_t *start = p, *method = (const uint8_t *)"";
	size_t mlen = 0, nargs = 0;
	bool seen = false;
	while (p < end) {
		if (!codec_next_field(&p, end, &f) || f.wt != 2 || f.num < 1 || f.num > 2 ||
		    (f.num == 1 && seen))
			return -1;
		if (f.num == 2)
			nargs++;
		else
			seen = true, method = f.data, mlen = f.v;
	}
	return frame_fast_call(method, mlen, start, end, 2, nargs, out, NULL);
}

static int frame_fast_batch(const uint8_t *p, const uint8_t *end, size_t n,
			    struct msg_request *q)
{
	struct codec_field f;
	if (!(q->batch = calloc(n, sizeof(*q->batch))))
		return -1;
	while (p < end && q->nbatch < n) {
		codec_next_field(&p, end, &f);
		if (f.num == 7 && frame_fast_batch_call(f.data, f.data + f.v, &q->batch[q->nbatch++]))
			return -1;
	}
	return 0;
}

/* One singular scalar field of a Request into q; false if it is not one. */
static bool frame_fast_req_scalar(const struct codec_field *f, struct msg_request *q)
{
	if (f->wt != 0 || (f->num == 5 && f->v > UINT32_MAX))
		return false;
	if (f->num == 8) {
		q->timed = true;
		q->wait_ms = (int64_t)(f->v >> 1) ^ -(int64_t)(f->v & 1); /* zig-zag */
	} else if (f->num == 1)
		q->id = f->v;
	else if (f->num == 2)
		q->object = f->v;
	else if (f->num == 5)
		q->timeout_ms = (uint32_t)f->v;
	else
		q->thread = f->v;
	return true;
}

/* One pass over a Request: the scalars, the method's place, and the
 * first arguments decoded straight into the request's buffer (the rest,
 * if there are more, in a second pass). */
static int frame_fast_request(const uint8_t *p, const uint8_t *end, struct msg *m)
{
	struct msg_request *q = &m->u.request;
	struct codec_field f;
	const uint8_t *start = p, *method = (const uint8_t *)"";
	size_t mlen = 0, nargs = 0, nbatch = 0;
	unsigned seen = 0;
	struct msg_call own = {.args = q->args_buf};
	m->kind = MSG_REQUEST;
	q->args = q->args_buf; /* msg_clear frees what is decoded, even on failure */
	while (p < end) {
		if (!codec_next_field(&p, end, &f) || f.num < 1 || f.num > 8)
			return -1;
		if (f.num == 4 || f.num == 7) {
			if (f.wt != 2)
				return -1;
			if (f.num == 4 && nargs++ < FRAME_ARGS_BUF - 1) {
				if (codec_value_read(f.data, f.data + f.v, &q->args_buf[own.nargs]))
					return -1;
				q->nargs = ++own.nargs;
			}
			nbatch += f.num == 7;
			continue;
		}
		if (seen & (1u << f.num))
			return -1;
		seen |= 1u << f.num;
		if (f.num == 3 && f.wt == 2)
			method = f.data, mlen = f.v;
		else if (f.num == 3 || !frame_fast_req_scalar(&f, q))
			return -1;
	}
	int rc = frame_fast_call(method, mlen, start, end, 4, nargs, &own, q);
	q->method = own.method;
	q->args = own.args;
	q->nargs = own.nargs;
	return rc || !nbatch ? rc : frame_fast_batch(start, end, nbatch, q);
}

static int frame_fast_error(const uint8_t *p, const uint8_t *end, struct msg_reply *y)
{
	struct codec_field f;
	const uint8_t *msg = (const uint8_t *)"";
	size_t mlen = 0;
	unsigned seen = 0;
	while (p < end) {
		if (!codec_next_field(&p, end, &f) || f.num < 1 || f.num > 3 ||
		    (seen & (1u << f.num)) || f.wt != (f.num == 1 ? 0u : 2u) ||
		    (f.num == 1 && f.v > UINT32_MAX))
			return -1;
		seen |= 1u << f.num;
		if (f.num == 1)
			y->code = (uint32_t)f.v;
		else if (f.num == 3)
			msg = f.data, mlen = f.v;
	}
	if (memchr(msg, '\0', mlen) || !(y->message = malloc(mlen + 1)))
		return -1;
	if (mlen)
		memcpy(y->message, msg, mlen);
	y->message[mlen] = '\0';
	if (!y->code)
		y->code = MGR_EPROTO;
	return 0;
}

static int frame_fast_reply(const uint8_t *p, const uint8_t *end, struct msg *m)
{
	struct msg_reply *y = &m->u.reply;
	struct codec_field f, res = {0};
	unsigned seen = 0;
	m->kind = MSG_REPLY;
	while (p < end) {
		if (!codec_next_field(&p, end, &f) || f.num < 1 || f.num > 4 ||
		    (seen & (1u << f.num)) || f.wt != (f.num == 1 || f.num == 4 ? 0u : 2u))
			return -1;
		seen |= 1u << f.num;
		if (f.num == 1)
			y->id = f.v;
		else if (f.num == 4)
			y->spin = f.v != 0;
		else if (res.num) /* both value and error: the last one wins */
			return -1;
		else
			res = f;
	}
	if (res.num == 3)
		return frame_fast_error(res.data, res.data + res.v, y);
	if (res.num == 2)
		return codec_value_read(res.data, res.data + res.v, &y->value);
	return (y->value = mgr_value_new_nil()) ? 0 : -1;
}

static int frame_fast_decode(const uint8_t *p, size_t len, struct msg *m)
{
	struct codec_field f;
	const uint8_t *end = p + len;
	if (!codec_next_field(&p, end, &f) || p != end || f.wt != 2)
		return -1;
	if (f.num == 3)
		return frame_fast_request(f.data, f.data + f.v, m);
	if (f.num == 4)
		return frame_fast_reply(f.data, f.data + f.v, m);
	return -1;
}

/* ---- decode, tightest path: the shapes of nearly every call ----
 * A request or a reply as the encoders here write it, fields in number
 * order, each tag one byte, lengths one byte (two for the Frame's), no
 * varint longer than 9 bytes (so none carries bits past 64), a method of
 * printable ASCII that fits the request's buffer, fewer than FRAME_ARGS_BUF
 * arguments (the buffer keeps a NULL after the last, as a calloc'ed array). Read with one compare per tag and no field records. Anything
 * else gives -1 before anything is allocated, or after, with what was
 * decoded left for msg_clear: frame_fast_decode then decodes it all again
 * the general way. The subset it takes decodes to what that way gives. */

/* A varint of 1 to 9 bytes at *p, before end; false for anything longer. */
static inline bool frame_tight_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *q = *p;
	uint64_t v = 0;
	ptrdiff_t left = end - q;
	/* 1 to 4 bytes (ids, thread ids up to 2^28, small ints) without a loop,
	 * also at the end of a field (a value's int is its last byte or two) */
	if (left >= 1 && q[0] < 0x80)
		return *out = q[0], *p = q + 1, true;
	if (left >= 2 && q[1] < 0x80)
		return *out = (q[0] & 0x7Fu) | (uint64_t)q[1] << 7, *p = q + 2, true;
	if (left >= 3 && q[2] < 0x80)
		return *out = (q[0] & 0x7Fu) | (q[1] & 0x7Fu) << 7 | (uint64_t)q[2] << 14,
		       *p = q + 3, true;
	if (left >= 4 && q[3] < 0x80)
		return *out = (q[0] & 0x7Fu) | (q[1] & 0x7Fu) << 7 | (q[2] & 0x7Fu) << 14 |
			      (uint64_t)q[3] << 21, *p = q + 4, true;
	for (unsigned shift = 0; shift < 63 && q < end; shift += 7) {
		uint8_t b = *q++;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*p = q;
			*out = v;
			return true;
		}
	}
	return false;
}

/* One scalar field (a one-byte tag, a varint) if the next tag is tag:
 * true with *v set, or true and *v untouched when the field is not there;
 * false when it is there but malformed. */
static inline bool frame_tight_uint(const uint8_t **p, const uint8_t *end, uint8_t tag,
				    uint64_t *v)
{
	if (*p >= end || **p != tag)
		return true;
	++*p;
	return frame_tight_varint(p, end, v);
}

/* A length-delimited field with a one-byte tag and a one-byte length: its
 * bytes in [*data, *data + *n), or false (not there, or not that form). */
static inline bool frame_tight_len(const uint8_t **p, const uint8_t *end, uint8_t tag,
				   const uint8_t **data, size_t *n)
{
	const uint8_t *q = *p;
	if (end - q < 2 || q[0] != tag || q[1] >= 0x80 || q[1] > end - q - 2)
		return false;
	*data = q + 2;
	*n = q[1];
	*p = q + 2 + q[1];
	return true;
}

/* A Value that is an int or a bool alone (the one field, right wire type,
 * nothing after it): true, its kind (MGR_INT, MGR_BOOL) and value set. */
static bool frame_tight_scalar(const uint8_t *p, const uint8_t *end, uint8_t *kind, int64_t *i)
{
	uint64_t v;
	const uint8_t *q = p + 1;
	if (end - p >= 2 && p[0] == FRAME_TAG(3, 0) && frame_tight_varint(&q, end, &v) && q == end) {
		*kind = MGR_INT;
		*i = (int64_t)(v >> 1) ^ -(int64_t)(v & 1); /* zig-zag */
		return true;
	}
	if (end - p == 2 && p[0] == FRAME_TAG(2, 0) && p[1] < 0x80) {
		*kind = MGR_BOOL;
		*i = p[1] != 0;
		return true;
	}
	return false;
}

/* A Value: an int, a bool or nil inline, anything else the direct
 * reader's way. */
static int frame_tight_value(const uint8_t *p, const uint8_t *end, mgr_value **out)
{
	uint8_t kind;
	int64_t i;
	if (frame_tight_scalar(p, end, &kind, &i))
		*out = value_scalar(kind, i);
	else if (end - p == 2 && p[0] == FRAME_TAG(1, 0) && p[1] < 0x80)
		*out = mgr_value_new_nil();
	else
		return codec_value_read(p, end, out);
	return *out ? 0 : -1;
}

/* A method name the tight path takes: 1 to 31 bytes of printable ASCII. */
static bool frame_tight_method(const uint8_t *s, size_t n, struct msg_request *q)
{
	if (!n || n >= sizeof(q->method_buf))
		return false;
	for (size_t i = 0; i < n; i++) { /* checked as copied: no memcpy call for a few bytes */
		if (s[i] < 0x21 || s[i] > 0x7E)
			return false;
		q->method_buf[i] = (char)s[i];
	}
	q->method_buf[n] = '\0';
	q->method = q->method_buf;
	return true;
}

static int frame_tight_request(const uint8_t *p, const uint8_t *end, struct msg *m)
{
	struct msg_request *q = &m->u.request;
	const uint8_t *s;
	size_t n;
	uint64_t timeout = 0, wait;
	frame_zero(q, offsetof(struct msg_request, method_buf)); /* the buffers: as needed */
	m->kind = MSG_REQUEST;
	q->args = q->args_buf; /* msg_clear frees what is decoded, even on failure */
	q->args_buf[0] = NULL;
	if (!frame_tight_uint(&p, end, FRAME_TAG(1, 0), &q->id) ||
	    !frame_tight_uint(&p, end, FRAME_TAG(2, 0), &q->object) ||
	    !frame_tight_len(&p, end, FRAME_TAG(3, 2), &s, &n) || !frame_tight_method(s, n, q))
		return -1;
	while (p < end && *p == FRAME_TAG(4, 2)) {
		if (q->nargs == FRAME_ARGS_BUF - 1 || !frame_tight_len(&p, end, FRAME_TAG(4, 2), &s, &n) ||
		    frame_tight_value(s, s + n, &q->args_buf[q->nargs]))
			return -1;
		q->args_buf[++q->nargs] = NULL; /* a NULL after the last, as in a calloc'ed array */
	}
	if (!frame_tight_uint(&p, end, FRAME_TAG(5, 0), &timeout) || timeout > UINT32_MAX ||
	    !frame_tight_uint(&p, end, FRAME_TAG(6, 0), &q->thread))
		return -1;
	q->timeout_ms = (uint32_t)timeout;
	if (p < end && *p == FRAME_TAG(8, 0)) {
		if (!frame_tight_uint(&p, end, FRAME_TAG(8, 0), &wait))
			return -1;
		q->timed = true;
		q->wait_ms = (int64_t)(wait >> 1) ^ -(int64_t)(wait & 1); /* zig-zag */
	}
	return p == end ? 0 : -1;
}

/* A reply with a value (an error reply goes the general way). */
static int frame_tight_reply(const uint8_t *p, const uint8_t *end, struct msg *m, bool scalars)
{
	struct msg_reply *y = &m->u.reply;
	const uint8_t *s;
	size_t n;
	uint64_t spin = 0;
	memset(y, 0, sizeof(*y));
	m->kind = MSG_REPLY;
	if (!frame_tight_uint(&p, end, FRAME_TAG(1, 0), &y->id) ||
	    !frame_tight_len(&p, end, FRAME_TAG(2, 2), &s, &n) ||
	    !frame_tight_uint(&p, end, FRAME_TAG(4, 0), &spin) || p != end)
		return -1;
	y->spin = spin != 0;
	m->scalar_kind = MGR_NIL;
	if (scalars && frame_tight_scalar(s, s + n, &m->scalar_kind, &m->scalar))
		return 0; /* no value made: the caller may want none */
	return frame_tight_value(s, s + n, &y->value);
}

static int frame_tight_decode(const uint8_t *p, size_t len, struct msg *m, bool scalars)
{
	const uint8_t *end = p + len;
	size_t body = len < 2 ? 0 : p[1] < 0x80 ? p[1] : len < 3 || p[2] >= 0x80 ? 0
		    : (size_t)(p[1] & 0x7F) | (size_t)p[2] << 7;
	size_t head = len >= 2 && p[1] < 0x80 ? 2 : 3;
	if (!body || head + body != len)
		return -1;
	if (p[0] == FRAME_TAG(3, 2))
		return frame_tight_request(p + head, end, m);
	if (p[0] == FRAME_TAG(4, 2))
		return frame_tight_reply(p + head, end, m, scalars);
	return -1;
}

/* What a broken limit is called in messages: the Welcome's name for it. */
static const char *const frame_limit_names[] = {
	[FRAME_LIMIT_DEPTH] = "max_depth",
	[FRAME_LIMIT_ITEMS] = "max_items",
	[FRAME_LIMIT_SIZE] = "max_frame",
};

/* The id of the Request a frame is, if it is one in the plain form every
 * encoder writes (the Frame's one field; the Request's known fields with
 * their wire types), else 0 (and a request's id is never 0). */
static uint64_t frame_request_id(const uint8_t *p, size_t len)
{
	struct codec_field f;
	const uint8_t *end = p + len;
	uint64_t id = 0;
	if (!codec_next_field(&p, end, &f) || p != end || f.num != 3 || f.wt != 2)
		return 0;
	for (p = f.data, end = f.data + f.v; p < end;) {
		if (!codec_next_field(&p, end, &f))
			return 0;
		bool len_field = f.num == 3 || f.num == 4 || f.num == 7;
		if (f.num <= 8 && f.wt != (len_field ? 2u : 0u))
			return 0;
		if (f.num == 1)
			id = f.v; /* repeated: the last one counts, as for protobuf-c */
	}
	return id;
}

/* Whether a length field numbered num in [p, end) holds a NUL byte (in
 * field sub of it, when sub is non-zero). protobuf-c keeps no length for
 * a string, so "ping\0junk" would reach dispatch as "ping": the bytes say. */
static bool frame_field_nul(const uint8_t *p, const uint8_t *end, uint64_t num, uint64_t sub)
{
	struct codec_field f;
	while (p < end && codec_next_field(&p, end, &f))
		if (f.num == num && f.wt == 2 &&
		    (sub ? frame_field_nul(f.data, f.data + f.v, sub, 0) : !!memchr(f.data, 0, f.v)))
			return true;
	return false;
}

/* A Request's method name or a batch Call's holding a NUL (the frame's
 * field 3: Request; its 3: method, its 7: Call, whose 1: method). */
static bool frame_method_nul(const uint8_t *p, size_t len)
{
	struct codec_field f;
	const uint8_t *end = p + len;
	while (p < end && codec_next_field(&p, end, &f))
		if (f.num == 3 && f.wt == 2 &&
		    (frame_field_nul(f.data, f.data + f.v, 3, 0) ||
		     frame_field_nul(f.data, f.data + f.v, 7, 1)))
			return true;
	return false;
}

/* The limits walk. A request that is well-formed but for a value over a
 * limit comes out as MSG_REQUEST with its id: that call alone is refused. */
static int frame_check_limits(const uint8_t *p, size_t len, const struct frame_limits *lim,
			      struct msg *out, char *err, size_t errlen)
{
	enum frame_limit broke;
	int rc = frame_check_limit(p, len, lim, &broke);
	if (rc != MGR_ELIMIT) {
		if (rc)
			snprintf(err, errlen, "malformed protobuf data");
		return rc;
	}
	if (broke == FRAME_LIMIT_DEPTH)
		snprintf(err, errlen, "a value is nested deeper than the limit of %u (%s)",
			 lim->max_depth, frame_limit_names[broke]);
	else
		snprintf(err, errlen, "more than %u values in one frame, the limit (%s)",
			 lim->max_items, frame_limit_names[broke]);
	uint64_t id = frame_request_id(p, len);
	if (id) {
		out->kind = MSG_REQUEST;
		out->u.request.id = id;
	}
	return rc;
}

static int frame_decode_as(const uint8_t *p, size_t len, const struct frame_limits *lim,
			   struct msg *out, char *err, size_t errlen, bool tight, bool scalars)
{
	out->kind = MSG_NONE; /* the tight path sets what it uses, the others all */
	/* Each nesting level and each item costs at least 2 bytes: a frame this
	 * short cannot break the limits, and the walk is only needed before
	 * protobuf-c (which recurses without a bound) sees it. */
	bool small = len / 2 < lim->max_depth && len / 2 < lim->max_items;
	if (!small)
		memset(out, 0, sizeof(*out));
	int rc = small ? 0 : frame_check_limits(p, len, lim, out, err, errlen);
	if (rc)
		return rc;
	if (tight && frame_tight_decode(p, len, out, scalars) == 0)
		return 0;
	if (out->kind != MSG_NONE)
		msg_clear(out);
	memset(out, 0, sizeof(*out));
	if (frame_fast_decode(p, len, out) == 0)
		return 0;
	msg_clear(out);
	if (small && (rc = frame_check_limits(p, len, lim, out, err, errlen)))
		return rc;
	Mgr__Frame *f = mgr__frame__unpack(NULL, len, p);
	if (!f || f->msg_case == MGR__FRAME__MSG__NOT_SET) {
		snprintf(err, errlen, "%s", f ? "empty frame" : "protobuf unpack failed");
		mgr__frame__free_unpacked(f, NULL);
		return MGR_EPROTO;
	}
	rc = frame_decoders[f->msg_case](f, out);
	mgr__frame__free_unpacked(f, NULL);
	if (!rc && out->kind == MSG_REQUEST && frame_method_nul(p, len)) {
		rc = MGR_EUTF8; /* a method name is a string: UTF-8 without NUL */
		snprintf(err, errlen, "a method name holds a NUL byte");
	} else if (rc) {
		snprintf(err, errlen, "bad value in frame: %s", mgr_strerror(rc));
	}
	if (rc) {
		uint64_t id = out->kind == MSG_REQUEST ? out->u.request.id : 0;
		enum msg_kind kind = out->kind;
		msg_clear(out);
		out->kind = kind;
		out->u.request.id = id;
	}
	return rc;
}

int frame_decode(const uint8_t *p, size_t len, const struct frame_limits *lim,
		 struct msg *out, char *err, size_t errlen)
{
	return frame_decode_as(p, len, lim, out, err, errlen, true, false);
}

int frame_decode_scalars(const uint8_t *p, size_t len, const struct frame_limits *lim,
			 struct msg *out, char *err, size_t errlen)
{
	return frame_decode_as(p, len, lim, out, err, errlen, true, true);
}

int frame_decode_general(const uint8_t *p, size_t len, const struct frame_limits *lim,
			 struct msg *out, char *err, size_t errlen)
{
	return frame_decode_as(p, len, lim, out, err, errlen, false, false);
}

/* ---- limits, before sending ---- */

/* The first argument nested deeper than room (1-based; 0: none) among
 * args; items counted into *items. */
static size_t frame_args_too_deep(mgr_value *const *args, size_t nargs, uint32_t room,
				  uint64_t *items)
{
	for (size_t i = 0; i < nargs; i++)
		if (codec_value_depth(args[i], room, items) > room)
			return i + 1;
	return 0;
}

/* Depth and items; *arg and *call (0: the request's own args, else the
 * batch call, 1-based) say where the depth broke. */
static enum frame_limit frame_request_walk(const struct msg_request *q,
					   const struct frame_limits *lim, size_t *call,
					   size_t *arg)
{
	uint32_t room = lim->max_depth ? lim->max_depth : UINT32_MAX;
	uint64_t items = q->nbatch; /* each batch Call counts one */
	*call = 0;
	*arg = frame_args_too_deep(q->args, q->nargs, room, &items);
	for (size_t i = 0; !*arg && i < q->nbatch; i++) {
		*arg = frame_args_too_deep(q->batch[i].args, q->batch[i].nargs, room, &items);
		*call = i + 1;
	}
	if (*arg)
		return FRAME_LIMIT_DEPTH;
	return lim->max_items && items > lim->max_items ? FRAME_LIMIT_ITEMS : FRAME_LIMIT_NONE;
}

int frame_request_prepare(struct frame_out *fo, const struct msg *m,
			  const struct frame_limits *lim, enum frame_limit *broke, char *err,
			  size_t errlen)
{
	size_t call, arg;
	const struct msg_request *q = &m->u.request;
	enum frame_limit why = frame_request_walk(q, lim, &call, &arg);
	int rc = why ? 0 : frame_prepare(fo, m); /* sized only once the depth is bounded */
	if (!why && lim->max_frame && (rc || fo->size - FRAME_HEADER > lim->max_frame))
		why = FRAME_LIMIT_SIZE;
	if (broke)
		*broke = why;
	if (why == FRAME_LIMIT_DEPTH && call)
		snprintf(err, errlen, "batch call %zu (%s): argument %zu is nested deeper than "
			 "the manager's limit of %u (max_depth)", call, q->batch[call - 1].method,
			 arg, lim->max_depth);
	else if (why == FRAME_LIMIT_DEPTH)
		snprintf(err, errlen, "argument %zu is nested deeper than the manager's limit "
			 "of %u (max_depth)", arg, lim->max_depth);
	else if (why == FRAME_LIMIT_ITEMS)
		snprintf(err, errlen, "the call holds more than %u values, the manager's limit "
			 "(max_items)", lim->max_items);
	else if (why == FRAME_LIMIT_SIZE)
		snprintf(err, errlen, "the call is %zu bytes, over the manager's limit of %u "
			 "(max_frame)", rc ? (size_t)UINT32_MAX : fo->size - FRAME_HEADER,
			 lim->max_frame);
	return why ? MGR_ELIMIT : rc;
}

int frame_request_fits(const struct msg_request *q, const struct frame_limits *lim,
		       enum frame_limit *broke, char *err, size_t errlen)
{
	struct frame_out fo = {0};
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = *q;
	int rc = frame_request_prepare(&fo, &m, lim, broke, err, errlen);
	return rc == MGR_ELIMIT ? rc : 0;
}

/* ---- encode ----
 * Straight from struct msg to the bytes protobuf-c would write (fields in
 * number order, proto3 zeros left out, oneof members always written): a
 * size pass, then a write pass into the caller's buffer. No allocation. */

static uint64_t frame_zigzag(int64_t i) { return ((uint64_t)i << 1) ^ (uint64_t)(i >> 63); }

static size_t frame_uint_size(uint64_t v) { return v ? 1 + codec_varint_size(v) : 0; }

static size_t frame_str_size(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n ? codec_len_field(n) : 0;
}

static uint8_t *frame_put_uint(uint8_t *p, unsigned field, uint64_t v)
{
	if (!v)
		return p;
	*p++ = FRAME_TAG(field, 0);
	return codec_put_varint(p, v);
}

static uint8_t *frame_put_str(uint8_t *p, unsigned field, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!n)
		return p;
	*p++ = FRAME_TAG(field, 2);
	p = codec_put_varint(p, n);
	memcpy(p, s, n);
	return p + n;
}

static uint8_t *frame_put_len(uint8_t *p, unsigned field, size_t n)
{
	*p++ = FRAME_TAG(field, 2);
	return codec_put_varint(p, n);
}

/* method and args of a Request or a batch Call (args in field af). */
static size_t frame_call_size(const char *method, mgr_value *const *args, size_t nargs)
{
	size_t n = frame_str_size(method);
	for (size_t i = 0; i < nargs; i++)
		n += codec_len_field(codec_value_size(args[i]));
	return n;
}

static uint8_t *frame_call_write(uint8_t *p, unsigned af, mgr_value *const *args, size_t nargs)
{
	for (size_t i = 0; i < nargs; i++) {
		p = frame_put_len(p, af, codec_value_size(args[i]));
		p = codec_value_write(args[i], p);
	}
	return p;
}

static size_t frame_size_request(const struct msg *m)
{
	const struct msg_request *q = &m->u.request;
	size_t n = frame_uint_size(q->id) + frame_uint_size(q->object) +
		   frame_call_size(q->method, q->args, q->nargs) +
		   frame_uint_size(q->timeout_ms) + frame_uint_size(q->thread) +
		   (q->timed ? 1 + codec_varint_size(frame_zigzag(q->wait_ms)) : 0);
	for (size_t i = 0; i < q->nbatch; i++)
		n += codec_len_field(frame_call_size(q->batch[i].method, q->batch[i].args,
						     q->batch[i].nargs));
	return n;
}

static uint8_t *frame_write_request(const struct msg *m, uint8_t *p)
{
	const struct msg_request *q = &m->u.request;
	p = frame_put_uint(p, 1, q->id);
	p = frame_put_uint(p, 2, q->object);
	p = frame_put_str(p, 3, q->method);
	p = frame_call_write(p, 4, q->args, q->nargs);
	p = frame_put_uint(p, 5, q->timeout_ms);
	p = frame_put_uint(p, 6, q->thread);
	for (size_t i = 0; i < q->nbatch; i++) {
		const struct msg_call *c = &q->batch[i];
		p = frame_put_len(p, 7, frame_call_size(c->method, c->args, c->nargs));
		p = frame_put_str(p, 1, c->method);
		p = frame_call_write(p, 2, c->args, c->nargs);
	}
	if (q->timed) { /* written even when 0: its presence is the point */
		*p++ = FRAME_TAG(8, 0);
		p = codec_put_varint(p, frame_zigzag(q->wait_ms));
	}
	return p;
}

static const char *frame_err_message(const struct msg_reply *y)
{
	return y->message ? y->message : mgr_strerror((int)y->code);
}

static size_t frame_error_size(const struct msg_reply *y)
{
	return frame_uint_size(y->code) + frame_str_size(mgr_errname((int)y->code)) +
	       frame_str_size(frame_err_message(y));
}

static size_t frame_size_reply(const struct msg *m)
{
	const struct msg_reply *y = &m->u.reply;
	return frame_uint_size(y->id) + codec_len_field(y->code ? frame_error_size(y)
								: codec_value_size(y->value)) +
	       frame_uint_size(y->spin);
}

static uint8_t *frame_write_reply(const struct msg *m, uint8_t *p)
{
	const struct msg_reply *y = &m->u.reply;
	p = frame_put_uint(p, 1, y->id);
	if (!y->code) {
		p = frame_put_len(p, 2, codec_value_size(y->value));
		p = codec_value_write(y->value, p);
		return frame_put_uint(p, 4, y->spin);
	}
	p = frame_put_len(p, 3, frame_error_size(y));
	p = frame_put_uint(p, 1, y->code);
	p = frame_put_str(p, 2, mgr_errname((int)y->code));
	p = frame_put_str(p, 3, frame_err_message(y));
	return frame_put_uint(p, 4, y->spin);
}

/* An int32 goes out sign-extended to 64 bits, as protobuf-c writes it. */
static uint64_t frame_int32(int32_t v) { return (uint64_t)(int64_t)v; }

static size_t frame_size_hello(const struct msg *m)
{
	const struct msg_hello *h = &m->u.hello;
	return frame_uint_size(h->version) + frame_uint_size(frame_int32(h->pid)) +
	       frame_str_size(h->name) + frame_uint_size(h->ring) + frame_uint_size(h->polls);
}

static uint8_t *frame_write_hello(const struct msg *m, uint8_t *p)
{
	const struct msg_hello *h = &m->u.hello;
	p = frame_put_uint(p, 1, h->version);
	p = frame_put_uint(p, 2, frame_int32(h->pid));
	p = frame_put_str(p, 3, h->name);
	p = frame_put_uint(p, 4, h->ring);
	return frame_put_uint(p, 5, h->polls);
}

static size_t frame_limits_size(const struct frame_limits *l)
{
	return frame_uint_size(l->max_frame) + frame_uint_size(l->max_depth) +
	       frame_uint_size(l->max_pending) + frame_uint_size(l->max_items);
}

static size_t frame_size_welcome(const struct msg *m)
{
	const struct msg_welcome *w = &m->u.welcome;
	return frame_uint_size(w->version) + codec_len_field(sizeof(w->instance)) +
	       frame_uint_size(w->session) + codec_len_field(frame_limits_size(&w->limits)) +
	       frame_uint_size(frame_int32(w->pid)) + frame_uint_size(w->ring);
}

static uint8_t *frame_write_welcome(const struct msg *m, uint8_t *p)
{
	const struct msg_welcome *w = &m->u.welcome;
	p = frame_put_uint(p, 1, w->version);
	p = frame_put_len(p, 2, sizeof(w->instance));
	memcpy(p, w->instance, sizeof(w->instance));
	p += sizeof(w->instance);
	p = frame_put_uint(p, 3, w->session);
	p = frame_put_len(p, 4, frame_limits_size(&w->limits));
	p = frame_put_uint(p, 1, w->limits.max_frame);
	p = frame_put_uint(p, 2, w->limits.max_depth);
	p = frame_put_uint(p, 3, w->limits.max_pending);
	p = frame_put_uint(p, 4, w->limits.max_items);
	p = frame_put_uint(p, 5, frame_int32(w->pid));
	return frame_put_uint(p, 6, w->ring);
}

/* ---- encode, tightest path: the usual request in one pass ---- */

/* The most a tight request's frame can take: header, the Frame's tag and
 * 2-byte length, id, object, thread and wait_ms (11 each), the method
 * (tag, length, FRAME_TIGHT_METHOD - 1 bytes), timeout (6), the
 * arguments (tag, length, tag, 10-byte varint each). */
#define FRAME_TIGHT_METHOD 64
#define FRAME_TIGHT_ARGS 4
#define FRAME_TIGHT_MAX (FRAME_HEADER + 3 + 4 * 11 + 1 + FRAME_TIGHT_METHOD + 6 + \
			 FRAME_TIGHT_ARGS * 13)

size_t frame_request_tight_bound(const struct msg_request *q, const struct frame_limits *lim)
{
	if (q->nbatch || q->nargs > FRAME_TIGHT_ARGS || (lim->max_items && q->nargs > lim->max_items))
		return 0;
	for (size_t i = 0; i < q->nargs; i++)
		if (!q->args[i] || (q->args[i]->kind != MGR_INT && q->args[i]->kind != MGR_BOOL &&
		    q->args[i]->kind != MGR_NIL))
			return 0;
	return lim->max_frame && lim->max_frame < FRAME_TIGHT_MAX ? 0 : FRAME_TIGHT_MAX;
}

size_t frame_request_tight_write(const struct msg_request *q, uint8_t *dst)
{
	uint8_t *b = dst + FRAME_HEADER + 2, *p = b; /* the body, if its length takes a byte */
	const char *s = q->method ? q->method : "";
	p = frame_put_uint(p, 1, q->id);
	p = frame_put_uint(p, 2, q->object);
	if (*s) { /* copied as it is measured (a name is a few bytes: strnlen
		   * and memcpy in libc were a quarter of this function) */
		size_t mlen = 0;
		for (; s[mlen] && mlen < FRAME_TIGHT_METHOD - 1; mlen++)
			p[2 + mlen] = (uint8_t)s[mlen];
		if (s[mlen])
			return 0;
		p[0] = FRAME_TAG(3, 2);
		p[1] = (uint8_t)mlen;
		p += 2 + mlen;
	}
	for (size_t i = 0; i < q->nargs; i++) {
		uint8_t *len = p + 1;
		*p = FRAME_TAG(4, 2);
		p = codec_value_write(q->args[i], p + 2);
		*len = (uint8_t)(p - len - 1); /* 12 bytes at most */
	}
	p = frame_put_uint(p, 5, q->timeout_ms);
	p = frame_put_uint(p, 6, q->thread);
	if (q->timed) {
		*p++ = FRAME_TAG(8, 0);
		p = codec_put_varint(p, frame_zigzag(q->wait_ms));
	}
	size_t body = (size_t)(p - b), head = body < 0x80 ? 2 : 3;
	if (head == 3)
		memmove(b + 1, b, body);
	codec_put_varint(dst + FRAME_HEADER + 1, body);
	dst[FRAME_HEADER] = FRAME_TAG(3, 2);
	size_t n = head + body;
	dst[0] = 0;
	dst[1] = 0;
	dst[2] = (uint8_t)(n >> 8);
	dst[3] = (uint8_t)n;
	return FRAME_HEADER + n;
}

size_t frame_reply_tight_write(const struct msg_reply *y, uint8_t *dst)
{
	const mgr_value *v = y->value;
	if (y->code || (v && v->kind != MGR_INT && v->kind != MGR_BOOL && v->kind != MGR_NIL))
		return 0;
	uint8_t *b = dst + FRAME_HEADER + 2, *p = frame_put_uint(b, 1, y->id);
	*p = FRAME_TAG(2, 2);
	uint8_t *end = codec_value_write(v, p + 2);
	p[1] = (uint8_t)(end - p - 2); /* 11 bytes at most */
	p = frame_put_uint(end, 4, y->spin);
	dst[FRAME_HEADER] = FRAME_TAG(4, 2);
	dst[FRAME_HEADER + 1] = (uint8_t)(p - b); /* 27 bytes at most */
	size_t n = (size_t)(p - dst) - FRAME_HEADER;
	dst[0] = dst[1] = dst[2] = 0;
	dst[3] = (uint8_t)n;
	return (size_t)(p - dst);
}

/* Per kind: the body's size and writer, and its field in Frame. */
static const struct {
	size_t (*size)(const struct msg *);
	uint8_t *(*write)(const struct msg *, uint8_t *);
	unsigned field;
} frame_encoders[] = {
	[MSG_HELLO] = {frame_size_hello, frame_write_hello, 1},
	[MSG_WELCOME] = {frame_size_welcome, frame_write_welcome, 2},
	[MSG_REQUEST] = {frame_size_request, frame_write_request, 3},
	[MSG_REPLY] = {frame_size_reply, frame_write_reply, 4},
};

int frame_prepare(struct frame_out *fo, const struct msg *m)
{
	if (m->kind == MSG_NONE || m->kind > MSG_REPLY)
		return MGR_EINVAL;
	size_t body = frame_encoders[m->kind].size(m);
	if (body > UINT32_MAX - 16)
		return MGR_ELIMIT;
	*fo = (struct frame_out){m, body, FRAME_HEADER + codec_len_field(body)};
	return 0;
}

void frame_write(const struct frame_out *fo, uint8_t *dst)
{
	const struct msg *m = fo->m;
	uint32_t n = (uint32_t)(fo->size - FRAME_HEADER);
	dst[0] = (uint8_t)(n >> 24);
	dst[1] = (uint8_t)(n >> 16);
	dst[2] = (uint8_t)(n >> 8);
	dst[3] = (uint8_t)n;
	uint8_t *p = frame_put_len(dst + FRAME_HEADER, frame_encoders[m->kind].field, fo->body);
	frame_encoders[m->kind].write(m, p);
}

int frame_encode(const struct msg *m, uint8_t **out, size_t *len)
{
	struct frame_out fo;
	int err = frame_prepare(&fo, m);
	if (err)
		return err;
	uint8_t *buf = malloc(fo.size);
	if (buf) {
		frame_write(&fo, buf);
		*out = buf;
		*len = fo.size;
	}
	return buf ? 0 : MGR_ENOMEM;
}
