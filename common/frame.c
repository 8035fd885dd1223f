/* Frames: the 4-byte length prefix and the mapping between struct msg and
 * the protobuf Frame. Decoding checks the bytes (frame-check.c) before
 * protobuf-c allocates anything. */
#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

uint32_t frame_get_len(const uint8_t h[FRAME_HEADER])
{
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static void frame_call_clear(struct msg_call *c)
{
	for (size_t i = 0; c->args && i < c->nargs; i++)
		mgr_value_free(c->args[i]);
	free(c->args);
	free(c->method);
}

void msg_clear(struct msg *m)
{
	if (m->kind == MSG_HELLO)
		free(m->u.hello.name);
	if (m->kind == MSG_REQUEST) {
		struct msg_request *q = &m->u.request;
		frame_call_clear(&(struct msg_call){q->method, q->args, q->nargs});
		for (size_t i = 0; i < q->nbatch; i++)
			frame_call_clear(&q->batch[i]);
		free(q->batch);
	}
	if (m->kind == MSG_REPLY) {
		mgr_value_free(m->u.reply.value);
		free(m->u.reply.message);
	}
	memset(m, 0, sizeof(*m));
}

/* ---- decode ---- */

static int frame_dec_hello(const Mgr__Frame *f, struct msg *m)
{
	m->kind = MSG_HELLO;
	m->u.hello.version = f->hello->version;
	m->u.hello.pid = f->hello->pid;
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

int frame_decode(const uint8_t *p, size_t len, const struct frame_limits *lim,
		 struct msg *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int rc = frame_check(p, len, lim);
	if (rc) {
		snprintf(err, errlen, rc == MGR_ELIMIT
			 ? "frame exceeds limits (depth %u, values %u)"
			 : "malformed protobuf data", lim->max_depth, lim->max_items);
		return rc;
	}
	Mgr__Frame *f = mgr__frame__unpack(NULL, len, p);
	if (!f || f->msg_case == MGR__FRAME__MSG__NOT_SET) {
		snprintf(err, errlen, "%s", f ? "empty frame" : "protobuf unpack failed");
		mgr__frame__free_unpacked(f, NULL);
		return MGR_EPROTO;
	}
	rc = frame_decoders[f->msg_case](f, out);
	mgr__frame__free_unpacked(f, NULL);
	if (rc) {
		snprintf(err, errlen, "bad value in frame: %s", mgr_strerror(rc));
		uint64_t id = out->kind == MSG_REQUEST ? out->u.request.id : 0;
		enum msg_kind kind = out->kind;
		msg_clear(out);
		out->kind = kind;
		out->u.request.id = id;
	}
	return rc;
}

/* ---- encode ---- */

static void *frame_alloc(struct frame_out *fo, size_t n)
{
	return arena_alloc(&fo->arena, n);
}

static int frame_enc_hello(struct frame_out *fo, Mgr__Frame *f, const struct msg *m)
{
	Mgr__Hello *h = frame_alloc(fo, sizeof(*h));
	if (!h)
		return MGR_ENOMEM;
	mgr__hello__init(h);
	h->version = m->u.hello.version;
	h->pid = m->u.hello.pid;
	h->name = m->u.hello.name ? m->u.hello.name : "";
	f->hello = h;
	return 0;
}

static int frame_enc_welcome(struct frame_out *fo, Mgr__Frame *f, const struct msg *m)
{
	const struct msg_welcome *w = &m->u.welcome;
	Mgr__Welcome *pw = frame_alloc(fo, sizeof(*pw));
	Mgr__Limits *l = frame_alloc(fo, sizeof(*l));
	if (!pw || !l)
		return MGR_ENOMEM;
	mgr__welcome__init(pw);
	mgr__limits__init(l);
	pw->version = w->version;
	pw->session = w->session;
	pw->pid = w->pid;
	pw->instance.data = (uint8_t *)w->instance;
	pw->instance.len = sizeof(w->instance);
	l->max_frame = w->limits.max_frame;
	l->max_depth = w->limits.max_depth;
	l->max_items = w->limits.max_items;
	l->max_pending = w->limits.max_pending;
	pw->limits = l;
	f->welcome = pw;
	return 0;
}

/* Packs method + args: returns false when out of memory. */
static bool frame_enc_args(struct frame_out *fo, const struct msg_call *c,
			   Mgr__Value ***out, size_t *n)
{
	*out = frame_alloc(fo, c->nargs * sizeof(**out) + 1);
	if (!*out)
		return false;
	for (*n = 0; *n < c->nargs; (*n)++)
		if (!((*out)[*n] = codec_to_pb(c->args[*n], &fo->arena)))
			return false;
	return true;
}

static bool frame_enc_batch(struct frame_out *fo, Mgr__Request *r, const struct msg_request *q)
{
	r->batch = frame_alloc(fo, q->nbatch * sizeof(*r->batch) + 1);
	if (!r->batch)
		return false;
	for (; r->n_batch < q->nbatch; r->n_batch++) {
		Mgr__Call *pc = frame_alloc(fo, sizeof(*pc));
		if (!pc)
			return false;
		mgr__call__init(pc);
		pc->method = q->batch[r->n_batch].method;
		if (!frame_enc_args(fo, &q->batch[r->n_batch], &pc->args, &pc->n_args))
			return false;
		r->batch[r->n_batch] = pc;
	}
	return true;
}

static int frame_enc_request(struct frame_out *fo, Mgr__Frame *f, const struct msg *m)
{
	const struct msg_request *q = &m->u.request;
	Mgr__Request *r = frame_alloc(fo, sizeof(*r));
	if (!r)
		return MGR_ENOMEM;
	mgr__request__init(r);
	r->id = q->id;
	r->object = q->object;
	r->thread = q->thread;
	r->timeout_ms = q->timeout_ms;
	r->method = q->method ? q->method : "";
	struct msg_call own = {q->method, q->args, q->nargs};
	if (!frame_enc_args(fo, &own, &r->args, &r->n_args) || !frame_enc_batch(fo, r, q))
		return MGR_ENOMEM;
	f->request = r;
	return 0;
}

static int frame_enc_reply(struct frame_out *fo, Mgr__Frame *f, const struct msg *m)
{
	const struct msg_reply *y = &m->u.reply;
	Mgr__Reply *r = frame_alloc(fo, sizeof(*r));
	if (!r)
		return MGR_ENOMEM;
	mgr__reply__init(r);
	r->id = y->id;
	f->reply = r;
	if (y->code == 0) {
		r->result_case = MGR__REPLY__RESULT_VALUE;
		r->value = codec_to_pb(y->value, &fo->arena);
		return r->value ? 0 : MGR_ENOMEM;
	}
	Mgr__Error *e = frame_alloc(fo, sizeof(*e));
	if (!e)
		return MGR_ENOMEM;
	mgr__error__init(e);
	e->code = y->code;
	e->name = (char *)mgr_errname((int)y->code);
	e->message = y->message ? y->message : (char *)mgr_strerror((int)y->code);
	r->result_case = MGR__REPLY__RESULT_ERROR;
	r->error = e;
	return 0;
}

typedef int (*frame_enc_fn)(struct frame_out *, Mgr__Frame *, const struct msg *);

static const struct {
	frame_enc_fn fn;
	Mgr__Frame__MsgCase msg_case;
} frame_encoders[] = {
	[MSG_HELLO] = {frame_enc_hello, MGR__FRAME__MSG_HELLO},
	[MSG_WELCOME] = {frame_enc_welcome, MGR__FRAME__MSG_WELCOME},
	[MSG_REQUEST] = {frame_enc_request, MGR__FRAME__MSG_REQUEST},
	[MSG_REPLY] = {frame_enc_reply, MGR__FRAME__MSG_REPLY},
};

int frame_prepare(struct frame_out *fo, const struct msg *m)
{
	fo->arena = (struct arena){fo->inline_buf, 0, sizeof(fo->inline_buf), NULL};
	fo->pb = NULL;
	if (m->kind == MSG_NONE || m->kind > MSG_REPLY)
		return MGR_EINVAL;
	Mgr__Frame *f = frame_alloc(fo, sizeof(*f));
	mgr__frame__init(f);
	f->msg_case = frame_encoders[m->kind].msg_case;
	int err = frame_encoders[m->kind].fn(fo, f, m);
	if (err) {
		frame_out_done(fo);
		return err;
	}
	fo->pb = f;
	fo->size = FRAME_HEADER + mgr__frame__get_packed_size(f);
	return 0;
}

void frame_write(const struct frame_out *fo, uint8_t *dst)
{
	uint32_t n = (uint32_t)(fo->size - FRAME_HEADER);
	dst[0] = (uint8_t)(n >> 24);
	dst[1] = (uint8_t)(n >> 16);
	dst[2] = (uint8_t)(n >> 8);
	dst[3] = (uint8_t)n;
	mgr__frame__pack(fo->pb, dst + FRAME_HEADER);
}

void frame_out_done(struct frame_out *fo)
{
	arena_free(&fo->arena);
	fo->pb = NULL;
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
	frame_out_done(&fo);
	return buf ? 0 : MGR_ENOMEM;
}
