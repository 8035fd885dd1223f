/* Unit tests for the frame codec (common/frame.c, common/frame-check.c,
 * common/codec.c): round trips of every message kind with nested values,
 * the depth and item limits checked before protobuf-c unpacks, malformed
 * and truncated payloads, and argument errors that keep the request id.
 * Bad frames are written by hand, byte by byte, with the pb_* helpers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/frame.h"
#include "mgr.pb-c.h"

static const struct frame_limits lim_default = {1 << 20, 32, 100000, 64};

/* ---- a tiny protobuf writer ---- */

struct pb {
	uint8_t *p;
	size_t len, cap;
};

static void pb_raw(struct pb *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 16;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)(v & 0x7F);
		v >>= 7;
		if (v)
			c |= 0x80;
		pb_raw(b, &c, 1);
	} while (v);
}

static void pb_tag(struct pb *b, unsigned field, unsigned wt) { pb_varint(b, field << 3 | wt); }

static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	pb_tag(b, field, 0);
	pb_varint(b, v);
}

static void pb_sint(struct pb *b, unsigned field, int64_t v)
{
	pb_uint(b, field, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void pb_bytes(struct pb *b, unsigned field, const void *p, size_t n)
{
	pb_tag(b, field, 2);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

/* Appends sub as a length-delimited field and frees it. */
static void pb_msg(struct pb *b, unsigned field, struct pb *sub)
{
	pb_bytes(b, field, sub->p, sub->len);
	free(sub->p);
	*sub = (struct pb){0};
}

/* Frame{request{id, method, args...}} around already-encoded Values. */
static struct pb pb_request(uint64_t id, const char *method, struct pb *args, size_t nargs)
{
	struct pb r = {0}, f = {0};
	pb_uint(&r, 1, id);
	pb_uint(&r, 2, 5);
	pb_bytes(&r, 3, method, strlen(method));
	for (size_t i = 0; i < nargs; i++)
		pb_msg(&r, 4, &args[i]);
	pb_msg(&f, 3, &r);
	return f;
}

/* ---- helpers ---- */

static int decode(const struct pb *b, const struct frame_limits *lim, struct msg *out)
{
	char err[128] = "";
	int rc = frame_decode(b->p ? b->p : (const uint8_t *)"", b->len, lim, out, err, sizeof(err));
	if (rc)
		assert_true(err[0] != '\0'); /* a failure always says why */
	return rc;
}

/* Encodes m, checks the header, decodes the payload into out. */
static int round_trip(const struct msg *m, const struct frame_limits *lim, struct msg *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(frame_encode(m, &buf, &len), 0);
	assert_true(len >= FRAME_HEADER);
	assert_int_equal(frame_get_len(buf), len - FRAME_HEADER);
	char err[128] = "";
	int rc = frame_decode(buf + FRAME_HEADER, len - FRAME_HEADER, lim, out, err, sizeof(err));
	free(buf);
	return rc;
}

/* A value nested depth deep: (depth - 1) lists around an int. */
static mgr_value *nested_list(size_t depth)
{
	mgr_value *v = mgr_value_new_int(1);
	for (size_t i = 1; i < depth; i++) {
		mgr_value *l = mgr_value_new_list();
		assert_int_equal(mgr_value_list_append(l, v), 0);
		v = l;
	}
	return v;
}

static struct msg request_of(mgr_value **args, size_t nargs)
{
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = 77, .object = 3, .thread = 9,
					   .method = (char *)"call", .args = args,
					   .nargs = nargs, .timeout_ms = 250};
	return m;
}

/* ---- round trips ---- */

static void test_header(void **state)
{
	(void)state;
	assert_int_equal(frame_get_len((const uint8_t[]){0, 0, 0, 0}), 0);
	assert_int_equal(frame_get_len((const uint8_t[]){0, 0, 1, 2}), 258);
	assert_int_equal(frame_get_len((const uint8_t[]){0x12, 0x34, 0x56, 0x78}), 0x12345678);
	assert_int_equal(frame_get_len((const uint8_t[]){0xff, 0xff, 0xff, 0xff}), 0xffffffffu);
}

static void test_hello(void **state)
{
	(void)state;
	struct msg m = {.kind = MSG_HELLO}, out;
	m.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, 4321, (char *)"worker-\xc3\xa9", 65536, true};
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.kind, MSG_HELLO);
	assert_int_equal(out.u.hello.version, MGR_PROTOCOL_VERSION);
	assert_int_equal(out.u.hello.pid, 4321);
	assert_string_equal(out.u.hello.name, "worker-\xc3\xa9");
	assert_int_equal(out.u.hello.ring, 65536);
	assert_true(out.u.hello.polls);
	msg_clear(&out);
	assert_int_equal(out.kind, MSG_NONE);
	/* a NULL name goes out as "" */
	m.u.hello = (struct msg_hello){2, -1, NULL, 0, false};
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.u.hello.version, 2);
	assert_int_equal(out.u.hello.pid, -1);
	assert_string_equal(out.u.hello.name, "");
	assert_false(out.u.hello.polls);
	msg_clear(&out);
}

static void test_welcome(void **state)
{
	(void)state;
	struct msg m = {.kind = MSG_WELCOME}, out;
	m.u.welcome.version = 1;
	for (int i = 0; i < 16; i++)
		m.u.welcome.instance[i] = (uint8_t)(0xA0 + i);
	m.u.welcome.session = 0x1122334455667788ULL;
	m.u.welcome.pid = 99;
	m.u.welcome.ring = 1u << 20;
	m.u.welcome.limits = (struct frame_limits){1 << 24, 64, 1000000, 1024};
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.kind, MSG_WELCOME);
	assert_int_equal(out.u.welcome.version, 1);
	assert_memory_equal(out.u.welcome.instance, m.u.welcome.instance, 16);
	assert_true(out.u.welcome.session == 0x1122334455667788ULL);
	assert_int_equal(out.u.welcome.pid, 99);
	assert_int_equal(out.u.welcome.ring, 1u << 20);
	assert_memory_equal(&out.u.welcome.limits, &m.u.welcome.limits, sizeof(struct frame_limits));
	msg_clear(&out);
}

/* Every kind of value, nested in lists and maps. */
static mgr_value *rich_value(void)
{
	mgr_value *inner = mgr_value_new_map();
	mgr_value_map_set(inner, mgr_value_new_string("b"), mgr_value_new_bool(false));
	mgr_value_map_set(inner, mgr_value_new_int(-1), mgr_value_new_list());
	mgr_value *m = mgr_value_new_map();
	mgr_value_map_set(m, mgr_value_new_string("a"), mgr_value_new_double(1e300));
	mgr_value_map_set(m, mgr_value_new_int(2), inner);
	mgr_value_map_set(m, mgr_value_new_bool(true), mgr_value_new_nil());
	mgr_value_map_set(m, mgr_value_new_bytes("k\0", 2), mgr_value_new_ref(7, "dict"));
	mgr_value_map_set(m, mgr_value_new_string(""), mgr_value_new_string("\xf0\x9f\x98\x80"));
	mgr_value *l = mgr_value_new_list();
	mgr_value_list_append(l, mgr_value_new_int(INT64_MIN));
	mgr_value_list_append(l, mgr_value_new_int(INT64_MAX));
	mgr_value_list_append(l, mgr_value_new_double(-0.5));
	mgr_value_list_append(l, mgr_value_new_double(INFINITY));
	mgr_value_list_append(l, mgr_value_new_string("x"));
	mgr_value_list_append(l, mgr_value_new_bytes("\0\1\2\xff", 4));
	mgr_value_list_append(l, mgr_value_new_nil());
	mgr_value_list_append(l, mgr_value_new_bool(true));
	mgr_value_list_append(l, mgr_value_new_ref(UINT64_MAX, "counter"));
	mgr_value_list_append(l, m);
	mgr_value_list_append(l, nested_list(5));
	return l;
}

static void test_request(void **state)
{
	(void)state;
	mgr_value *args[] = {mgr_value_new_string("key"), rich_value(), mgr_value_new_nil()};
	struct msg m = request_of(args, 3), out;
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.kind, MSG_REQUEST);
	const struct msg_request *q = &out.u.request;
	assert_int_equal(q->id, 77);
	assert_int_equal(q->object, 3);
	assert_int_equal(q->thread, 9);
	assert_int_equal(q->timeout_ms, 250);
	assert_string_equal(q->method, "call");
	assert_int_equal(q->nargs, 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(mgr_value_equal(q->args[i], args[i]));
	/* kinds survive exactly: nothing turns into something equal-ish */
	const mgr_value *l = q->args[1];
	assert_int_equal(mgr_value_kind(mgr_value_list_get(l, 2)), MGR_DOUBLE);
	assert_true(mgr_value_double(mgr_value_list_get(l, 2)) == -0.5);
	assert_int_equal(mgr_value_kind(mgr_value_list_get(l, 5)), MGR_BYTES);
	assert_string_equal(mgr_value_ref_type(mgr_value_list_get(l, 8)), "counter");
	assert_true(mgr_value_ref_id(mgr_value_list_get(l, 8)) == UINT64_MAX);
	/* map order is kept */
	const mgr_value *dm = mgr_value_list_get(l, 9);
	assert_string_equal(mgr_value_string(mgr_value_map_key(dm, 0), NULL), "a");
	assert_int_equal(mgr_value_int(mgr_value_map_key(dm, 1)), 2);
	assert_int_equal(mgr_value_kind(mgr_value_map_key(dm, 2)), MGR_BOOL);
	assert_int_equal(mgr_value_kind(mgr_value_map_key(dm, 3)), MGR_BYTES);
	msg_clear(&out);
	for (size_t i = 0; i < 3; i++)
		mgr_value_free(args[i]);
}

/* A request's timeout (proto/README.md, "Timeouts"): wait_ms is sent with
 * its presence (0 included) and wins; forever is neither field; a finite
 * one also goes in timeout_ms for a manager that predates wait_ms; the
 * bytes are what protobuf-c reads; a version-1 request keeps its meaning. */
static void test_request_timeouts(void **state)
{
	(void)state;
	const int64_t cases[] = {MSG_FOREVER, 0, 1, 250, 5000000000LL, -1, -7};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg m = request_of(NULL, 0), out;
		msg_set_timeout(&m.u.request, cases[i]);
		assert_int_equal(round_trip(&m, &lim_default, &out), 0);
		assert_true(msg_timeout(&out.u.request) == cases[i]);
		assert_int_equal(out.u.request.timed, cases[i] != MSG_FOREVER);
		uint32_t legacy = cases[i] == MSG_FOREVER || cases[i] < 0 ? 0
				  : cases[i] > UINT32_MAX ? UINT32_MAX : cases[i] ? (uint32_t)cases[i] : 1;
		assert_int_equal(out.u.request.timeout_ms, legacy);
		msg_clear(&out);
		uint8_t *buf = NULL;
		size_t len = 0;
		assert_int_equal(frame_encode(&m, &buf, &len), 0);
		Mgr__Frame *f = mgr__frame__unpack(NULL, len - FRAME_HEADER, buf + FRAME_HEADER);
		assert_non_null(f);
		assert_int_equal(f->request->wait_case == MGR__REQUEST__WAIT_WAIT_MS,
				 cases[i] != MSG_FOREVER);
		if (cases[i] != MSG_FOREVER)
			assert_true(f->request->wait_ms == cases[i]);
		mgr__frame__free_unpacked(f, NULL);
		free(buf);
	}
	struct msg old = request_of(NULL, 0), out; /* version 1: timeout_ms only */
	old.u.request.timeout_ms = 0;
	assert_int_equal(round_trip(&old, &lim_default, &out), 0);
	assert_true(msg_timeout(&out.u.request) == MSG_FOREVER);
	msg_clear(&out);
	old.u.request.timeout_ms = 250;
	assert_int_equal(round_trip(&old, &lim_default, &out), 0);
	assert_true(msg_timeout(&out.u.request) == 250);
	msg_clear(&out);
}

static void test_request_zero_values(void **state)
{
	(void)state;
	/* proto3 zero values inside a oneof must keep their kind */
	mgr_value *args[] = {mgr_value_new_int(0), mgr_value_new_bool(false),
			     mgr_value_new_double(0.0), mgr_value_new_string(""),
			     mgr_value_new_bytes(NULL, 0), mgr_value_new_list(),
			     mgr_value_new_map(), mgr_value_new_ref(0, "")};
	size_t n = sizeof(args) / sizeof(args[0]);
	struct msg m = request_of(args, n), out;
	m.u.request.id = 0;
	m.u.request.method = (char *)"";
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.u.request.nargs, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(mgr_value_kind(out.u.request.args[i]), mgr_value_kind(args[i]));
		assert_true(mgr_value_equal(out.u.request.args[i], args[i]));
	}
	msg_clear(&out);
	/* no arguments at all */
	m = request_of(NULL, 0);
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.u.request.nargs, 0);
	assert_non_null(out.u.request.args);
	msg_clear(&out);
	for (size_t i = 0; i < n; i++)
		mgr_value_free(args[i]);
}

static void test_reply(void **state)
{
	(void)state;
	struct msg m = {.kind = MSG_REPLY}, out;
	mgr_value *v = rich_value();
	m.u.reply = (struct msg_reply){.id = 12345, .code = 0, .value = v};
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.kind, MSG_REPLY);
	assert_int_equal(out.u.reply.id, 12345);
	assert_int_equal(out.u.reply.code, 0);
	assert_true(mgr_value_equal(out.u.reply.value, v));
	assert_null(out.u.reply.message);
	msg_clear(&out);
	mgr_value_free(v);

	/* an error with its message */
	m.u.reply = (struct msg_reply){.id = 2, .code = MGR_ENOKEY, .message = (char *)"no key \"x\""};
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.u.reply.id, 2);
	assert_int_equal(out.u.reply.code, MGR_ENOKEY);
	assert_string_equal(out.u.reply.message, "no key \"x\"");
	assert_null(out.u.reply.value);
	msg_clear(&out);

	/* an error without one: the code's own message */
	m.u.reply = (struct msg_reply){.id = 3, .code = MGR_EINDEX};
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.u.reply.code, MGR_EINDEX);
	assert_string_equal(out.u.reply.message, mgr_strerror(MGR_EINDEX));
	msg_clear(&out);
}

/* A reply whose value is NULL (nil: what every set/append/clear answers).
 * The first encoder read it from an out-of-scope compound literal, which
 * ASan caught here; it runs last so such an abort spares the others. */
static void test_reply_nil_value(void **state)
{
	(void)state;
	struct msg m = {.kind = MSG_REPLY}, out;
	m.u.reply = (struct msg_reply){.id = 1};
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_int_equal(out.u.reply.id, 1);
	assert_non_null(out.u.reply.value);
	assert_int_equal(mgr_value_kind(out.u.reply.value), MGR_NIL);
	msg_clear(&out);
	/* and a nil inside a request, the same path */
	mgr_value *args[] = {NULL};
	struct msg q = request_of(args, 1);
	assert_int_equal(round_trip(&q, &lim_default, &out), 0);
	assert_int_equal(mgr_value_kind(out.u.request.args[0]), MGR_NIL);
	msg_clear(&out);
}

static void test_reply_error_code_zero(void **state)
{
	(void)state;
	/* Reply{id 5, error{code 0, message "m"}}: an error without a code */
	struct pb e = {0}, r = {0}, f = {0};
	pb_uint(&e, 1, 0);
	pb_bytes(&e, 3, "m", 1);
	pb_uint(&r, 1, 5);
	pb_msg(&r, 3, &e);
	pb_msg(&f, 4, &r);
	struct msg out;
	assert_int_equal(decode(&f, &lim_default, &out), 0);
	assert_int_equal(out.u.reply.id, 5);
	assert_int_equal(out.u.reply.code, MGR_EPROTO);
	assert_string_equal(out.u.reply.message, "m");
	msg_clear(&out);
	free(f.p);
}

static void test_encode_invalid(void **state)
{
	(void)state;
	struct msg m = {.kind = MSG_NONE};
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(frame_encode(&m, &buf, &len), MGR_EINVAL);
	m.kind = (enum msg_kind)42;
	assert_int_equal(frame_encode(&m, &buf, &len), MGR_EINVAL);
	assert_null(buf);
}

/* A frame far bigger than the usual small ones. */
static void test_large_request(void **state)
{
	(void)state;
	mgr_value *l = mgr_value_new_list();
	for (int i = 0; i < 20000; i++)
		mgr_value_list_append(l, i % 2 ? mgr_value_new_int(i) : mgr_value_new_string("str"));
	mgr_value *args[] = {l};
	struct msg m = request_of(args, 1), out;
	assert_int_equal(round_trip(&m, &lim_default, &out), 0);
	assert_true(mgr_value_equal(out.u.request.args[0], l));
	msg_clear(&out);
	mgr_value_free(l);
}

/* ---- limits ---- */

static void test_depth_limit_encoded(void **state)
{
	(void)state;
	for (uint32_t depth = 1; depth <= 40; depth++) {
		mgr_value *args[] = {nested_list(depth)};
		struct msg m = request_of(args, 1), out;
		struct frame_limits lim = lim_default;
		lim.max_depth = depth;
		assert_int_equal(round_trip(&m, &lim, &out), 0);
		assert_true(mgr_value_equal(out.u.request.args[0], args[0]));
		msg_clear(&out);
		lim.max_depth = depth - 1;
		assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
		msg_clear(&out);
		mgr_value_free(args[0]);
	}
}

static void test_depth_limit_maps_and_reply(void **state)
{
	(void)state;
	/* {"k": {"k": {"k": 1}}}: three maps and the int, depth 4 */
	mgr_value *v = mgr_value_new_int(1);
	for (int i = 0; i < 3; i++) {
		mgr_value *m = mgr_value_new_map();
		mgr_value_map_set(m, mgr_value_new_string("k"), v);
		v = m;
	}
	struct msg m = {.kind = MSG_REPLY}, out;
	m.u.reply = (struct msg_reply){.id = 8, .value = v};
	struct frame_limits lim = lim_default;
	lim.max_depth = 4;
	assert_int_equal(round_trip(&m, &lim, &out), 0);
	assert_true(mgr_value_equal(out.u.reply.value, v));
	msg_clear(&out);
	lim.max_depth = 3;
	assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
	assert_int_equal(out.kind, MSG_NONE);
	msg_clear(&out);
	mgr_value_free(v);
}

/* Frame{request{id, method, args: [depth-deep list nesting]}}, written
 * back to front so that a 10,000-deep value costs linear time. */
static struct pb deep_request(uint64_t id, size_t depth)
{
	size_t cap = 32 + depth * 12;
	uint8_t *buf = malloc(cap), *end = buf + cap, *p = end;
	assert_non_null(buf);
#define PUT(byte) (*--p = (uint8_t)(byte))
#define PUT_VARINT(v)                                                          \
	do {                                                                   \
		uint8_t tmp_[10];                                              \
		size_t n_ = 0;                                                 \
		uint64_t x_ = (v);                                             \
		do {                                                           \
			tmp_[n_++] = (uint8_t)((x_ & 0x7F) | (x_ > 0x7F ? 0x80 : 0)); \
			x_ >>= 7;                                              \
		} while (x_);                                                  \
		while (n_)                                                     \
			PUT(tmp_[--n_]);                                       \
	} while (0)
	PUT(0x02); /* Value{i: 1} (zigzag 2) */
	PUT(0x18);
	for (size_t d = 1; d < depth; d++) {
		PUT_VARINT((size_t)(end - p)); /* ValueList{items: ...} */
		PUT(0x0A);
		PUT_VARINT((size_t)(end - p)); /* Value{list: ...} */
		PUT(0x3A);
	}
	PUT_VARINT((size_t)(end - p)); /* args */
	PUT(0x22);
	PUT('m'); /* method "m" */
	PUT(1);
	PUT(0x1A);
	PUT_VARINT(id);
	PUT(0x08);
	PUT_VARINT((size_t)(end - p)); /* Frame{request} */
	PUT(0x1A);
#undef PUT
#undef PUT_VARINT
	struct pb b = {0};
	pb_raw(&b, p, (size_t)(end - p));
	free(buf);
	return b;
}

static void test_depth_limit_hand_encoded(void **state)
{
	(void)state;
	struct frame_limits lim = lim_default;
	struct msg out;
	/* the hand encoding matches what the codec produces */
	struct pb b = deep_request(6, 3);
	assert_int_equal(decode(&b, &lim, &out), 0);
	mgr_value *want = nested_list(3);
	assert_int_equal(out.u.request.id, 6);
	assert_string_equal(out.u.request.method, "m");
	assert_true(mgr_value_equal(out.u.request.args[0], want));
	mgr_value_free(want);
	msg_clear(&out);
	free(b.p);

	for (uint32_t max = 1; max <= 64; max *= 2) {
		lim.max_depth = max;
		b = deep_request(6, max);
		assert_int_equal(decode(&b, &lim, &out), 0);
		msg_clear(&out);
		free(b.p);
		b = deep_request(6, max + 1);
		assert_int_equal(decode(&b, &lim, &out), MGR_ELIMIT);
		assert_int_equal(out.kind, MSG_REQUEST); /* answerable: see below */
		assert_int_equal(out.u.request.id, 6);
		msg_clear(&out);
		free(b.p);
	}
}

static void test_depth_10000(void **state)
{
	(void)state;
	struct pb b = deep_request(1, 10000);
	struct msg out;
	assert_int_equal(decode(&b, &lim_default, &out), MGR_ELIMIT);
	msg_clear(&out);
	assert_int_equal(frame_check(b.p, b.len, &lim_default), MGR_ELIMIT);
	/* a small limit stops the walk early; so does a large one */
	struct frame_limits lim = lim_default;
	lim.max_depth = 9999;
	assert_int_equal(frame_check(b.p, b.len, &lim), MGR_ELIMIT);
	/* every truncation of it is rejected without a crash */
	for (size_t len = 0; len < b.len; len += 997) {
		struct pb cut = {0};
		pb_raw(&cut, b.p, len);
		int rc = decode(&cut, &lim_default, &out);
		assert_true(rc == MGR_ELIMIT || rc == MGR_EPROTO);
		msg_clear(&out);
		free(cut.p);
	}
	free(b.p);
}

static void test_items_limit(void **state)
{
	(void)state;
	/* a list of 10 ints is 11 values */
	mgr_value *l = mgr_value_new_list();
	for (int i = 0; i < 10; i++)
		mgr_value_list_append(l, mgr_value_new_int(i));
	mgr_value *args[] = {l, mgr_value_new_int(1)};
	struct msg m = request_of(args, 1), out;
	struct frame_limits lim = lim_default;
	lim.max_items = 11;
	assert_int_equal(round_trip(&m, &lim, &out), 0);
	msg_clear(&out);
	lim.max_items = 10;
	assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
	msg_clear(&out);
	/* items add up over all the arguments */
	m = request_of(args, 2);
	lim.max_items = 12;
	assert_int_equal(round_trip(&m, &lim, &out), 0);
	msg_clear(&out);
	lim.max_items = 11;
	assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
	msg_clear(&out);
	lim.max_items = 0;
	assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
	msg_clear(&out);
	/* a frame without values passes max_items 0 */
	struct msg h = {.kind = MSG_HELLO};
	h.u.hello = (struct msg_hello){1, 1, (char *)"x", 0, false};
	assert_int_equal(round_trip(&h, &lim, &out), 0);
	msg_clear(&out);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
}

static void test_items_limit_map(void **state)
{
	(void)state;
	/* {"a": 1}: the map, its entry, the key and the value count: 4 */
	mgr_value *map = mgr_value_new_map();
	mgr_value_map_set(map, mgr_value_new_string("a"), mgr_value_new_int(1));
	mgr_value *args[] = {map};
	struct msg m = request_of(args, 1), out;
	struct frame_limits lim = lim_default;
	lim.max_items = 4;
	assert_int_equal(round_trip(&m, &lim, &out), 0);
	msg_clear(&out);
	lim.max_items = 3;
	assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
	msg_clear(&out);
	mgr_value_free(map);
}

/* ---- over a limit, the request is still answerable ---- */

/* decode() of b must fail with ELIMIT as request id, holding nothing but
 * the id, with a message naming limit. */
static void expect_request_limit(const struct pb *b, const struct frame_limits *lim,
				 uint64_t id, const char *limit)
{
	char err[160] = "";
	struct msg out;
	int rc = frame_decode(b->p, b->len, lim, &out, err, sizeof(err));
	struct msg seen = out;
	msg_clear(&out); /* safe on it: nothing was unpacked */
	assert_int_equal(rc, MGR_ELIMIT);
	assert_int_equal(seen.kind, MSG_REQUEST);
	assert_true(seen.u.request.id == id);
	assert_null(seen.u.request.method);
	assert_null(seen.u.request.args);
	assert_int_equal(seen.u.request.nargs, 0);
	assert_int_equal(seen.u.request.nbatch, 0);
	if (!strstr(err, limit))
		fail_msg("'%s' does not name %s", err, limit);
}

/* Where the Request's own bytes start in Frame{request} bytes at p. */
static size_t request_body_at(const uint8_t *p)
{
	size_t at = 1; /* the Frame's tag */
	while (p[at] & 0x80)
		at++;
	return at + 1;
}

static void test_deep_request_keeps_id(void **state)
{
	(void)state;
	struct frame_limits lim = lim_default; /* max_depth 32 */
	struct pb b = deep_request(0xABCDEF0123ULL, 33);
	expect_request_limit(&b, &lim, 0xABCDEF0123ULL, "max_depth");
	free(b.p);
	b = deep_request(1, 100000); /* walked no deeper than the limit */
	expect_request_limit(&b, &lim, 1, "max_depth");
	free(b.p);
	/* the id given twice: the last one, as protobuf-c reads it */
	mgr_value *deep = nested_list(40);
	uint8_t *enc = NULL;
	size_t len = 0;
	mgr_value *a[] = {deep};
	struct msg m = request_of(a, 1);
	assert_int_equal(frame_encode(&m, &enc, &len), 0);
	struct pb twice = {0}, req = {0};
	pb_uint(&req, 1, 5);
	size_t at = request_body_at(enc + FRAME_HEADER);
	pb_raw(&req, enc + FRAME_HEADER + at, len - FRAME_HEADER - at); /* then id 77 */
	pb_msg(&twice, 3, &req);
	expect_request_limit(&twice, &lim, 77, "max_depth");
	free(twice.p);
	free(enc);
	mgr_value_free(deep);
}

static void test_items_request_keeps_id(void **state)
{
	(void)state;
	mgr_value *l = mgr_value_new_list(); /* 11 values */
	for (int i = 0; i < 10; i++)
		mgr_value_list_append(l, mgr_value_new_int(i));
	mgr_value *args[] = {l};
	struct msg m = request_of(args, 1);
	uint8_t *enc = NULL;
	size_t len = 0;
	assert_int_equal(frame_encode(&m, &enc, &len), 0);
	struct pb b = {0};
	pb_raw(&b, enc + FRAME_HEADER, len - FRAME_HEADER);
	struct frame_limits lim = lim_default;
	lim.max_items = 10;
	expect_request_limit(&b, &lim, 77, "max_items");
	/* a batch's calls count too: its Call is the 12th item */
	struct msg_call call = {(char *)"append", args, 1};
	m.u.request.batch = &call;
	m.u.request.nbatch = 1;
	m.u.request.nargs = 0;
	free(enc);
	free(b.p);
	b = (struct pb){0};
	assert_int_equal(frame_encode(&m, &enc, &len), 0);
	pb_raw(&b, enc + FRAME_HEADER, len - FRAME_HEADER);
	lim.max_items = 12;
	struct msg out;
	assert_int_equal(decode(&b, &lim, &out), 0);
	assert_int_equal(out.u.request.nbatch, 1);
	msg_clear(&out);
	lim.max_items = 11;
	expect_request_limit(&b, &lim, 77, "max_items");
	free(enc);
	free(b.p);
	mgr_value_free(l);
}

/* Over a limit but not a plain request with an id: nothing to answer. */
static void test_limit_not_a_request(void **state)
{
	(void)state;
	struct frame_limits lim = lim_default;
	struct msg out;
	struct pb b = deep_request(0, 40); /* id 0 is no request's */
	assert_int_equal(decode(&b, &lim, &out), MGR_ELIMIT);
	assert_int_equal(out.kind, MSG_NONE);
	msg_clear(&out);
	free(b.p);
	/* a second Frame field after the request */
	b = deep_request(3, 40);
	pb_uint(&b, 9, 1);
	assert_int_equal(decode(&b, &lim, &out), MGR_ELIMIT);
	assert_int_equal(out.kind, MSG_NONE);
	msg_clear(&out);
	free(b.p);
	/* an id with the wrong wire type (protobuf-c refuses the frame) */
	b = deep_request(3, 40);
	size_t at = request_body_at(b.p);
	assert_int_equal(b.p[at], 0x08);
	b.p[at] = 0x0D; /* field 1 as fixed32: it and the method's 3 bytes */
	assert_int_equal(decode(&b, &lim, &out), MGR_ELIMIT);
	assert_int_equal(out.kind, MSG_NONE);
	msg_clear(&out);
	free(b.p);
	/* malformed bytes after the deep argument win over the limit */
	struct pb deep = deep_request(4, 40), f = {0};
	const uint8_t tail[] = {0x28, 0x80}; /* timeout_ms: an unfinished varint */
	pb_raw(&deep, tail, sizeof(tail));
	/* fix the Frame's length: re-wrap the request body */
	struct pb body = {0};
	at = request_body_at(deep.p);
	pb_raw(&body, deep.p + at, deep.len - at);
	pb_msg(&f, 3, &body);
	assert_int_equal(decode(&f, &lim, &out), MGR_EPROTO);
	assert_int_equal(out.kind, MSG_NONE);
	msg_clear(&out);
	free(f.p);
	free(deep.p);
}

/* ---- frame_request_fits: the sender's check agrees with the receiver's ---- */

static int fits(const struct msg_request *q, const struct frame_limits *lim, char *why,
		enum frame_limit *broke)
{
	return frame_request_fits(q, lim, broke, why, 160);
}

static void test_fits_depth_edge(void **state)
{
	(void)state;
	char why[160];
	enum frame_limit broke;
	for (uint32_t depth = 1; depth <= 40; depth++) {
		mgr_value *args[] = {mgr_value_new_string("first"), nested_list(depth)};
		struct msg m = request_of(args, 2), out;
		struct frame_limits lim = lim_default;
		lim.max_depth = depth;
		assert_int_equal(fits(&m.u.request, &lim, why, &broke), 0);
		assert_int_equal(broke, FRAME_LIMIT_NONE);
		assert_int_equal(round_trip(&m, &lim, &out), 0);
		msg_clear(&out);
		lim.max_depth = depth - 1;
		if (depth > 1) { /* max_depth 0: not announced, not checked */
			assert_int_equal(fits(&m.u.request, &lim, why, &broke), MGR_ELIMIT);
			assert_int_equal(broke, FRAME_LIMIT_DEPTH);
			char want[160];
			snprintf(want, sizeof(want), "argument 2 is nested deeper than the manager's "
				 "limit of %u (max_depth)", depth - 1);
			assert_string_equal(why, want);
			assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
			msg_clear(&out);
		}
		mgr_value_free(args[0]);
		mgr_value_free(args[1]);
	}
	/* a map in a list in a map: entries add no depth, their values do */
	mgr_value *inner = mgr_value_new_map(), *l = mgr_value_new_list(), *outer = mgr_value_new_map();
	mgr_value_map_set(inner, mgr_value_new_int(1), mgr_value_new_string("x"));
	mgr_value_list_append(l, inner);
	mgr_value_map_set(outer, mgr_value_new_string("k"), l);
	mgr_value *args[] = {outer};
	struct msg m = request_of(args, 1);
	struct frame_limits lim = lim_default;
	lim.max_depth = 4;
	assert_int_equal(fits(&m.u.request, &lim, why, NULL), 0);
	lim.max_depth = 3;
	assert_int_equal(fits(&m.u.request, &lim, why, NULL), MGR_ELIMIT);
	/* in a batch call: named by its number and method */
	struct msg_call calls[2] = {{(char *)"get", NULL, 0}, {(char *)"update", args, 1}};
	m.u.request.nargs = 0;
	m.u.request.batch = calls;
	m.u.request.nbatch = 2;
	assert_int_equal(fits(&m.u.request, &lim, why, NULL), MGR_ELIMIT);
	assert_string_equal(why, "batch call 2 (update): argument 1 is nested deeper than "
				 "the manager's limit of 3 (max_depth)");
	mgr_value_free(outer);
	/* 10,000 deep: refused after a walk of the limit's depth */
	mgr_value *deep = nested_list(10000);
	mgr_value *dargs[] = {deep};
	m = request_of(dargs, 1);
	assert_int_equal(fits(&m.u.request, &lim_default, why, &broke), MGR_ELIMIT);
	assert_int_equal(broke, FRAME_LIMIT_DEPTH);
	mgr_value_free(deep);
}

static void test_fits_items_edge(void **state)
{
	(void)state;
	char why[160];
	enum frame_limit broke;
	/* {"a": [1, 2]} and 3: map + entry + key + list + 2 ints + 1 = 7 */
	mgr_value *map = mgr_value_new_map(), *l = mgr_value_new_list();
	mgr_value_list_append(l, mgr_value_new_int(1));
	mgr_value_list_append(l, mgr_value_new_int(2));
	mgr_value_map_set(map, mgr_value_new_string("a"), l);
	mgr_value *args[] = {map, mgr_value_new_int(3)};
	struct msg m = request_of(args, 2), out;
	struct frame_limits lim = lim_default;
	lim.max_items = 7;
	assert_int_equal(fits(&m.u.request, &lim, why, &broke), 0);
	assert_int_equal(round_trip(&m, &lim, &out), 0);
	msg_clear(&out);
	lim.max_items = 6;
	assert_int_equal(fits(&m.u.request, &lim, why, &broke), MGR_ELIMIT);
	assert_int_equal(broke, FRAME_LIMIT_ITEMS);
	assert_string_equal(why, "the call holds more than 6 values, the manager's limit (max_items)");
	assert_int_equal(round_trip(&m, &lim, &out), MGR_ELIMIT);
	msg_clear(&out);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
}

static void test_fits_size_edge(void **state)
{
	(void)state;
	char why[160], want[160];
	enum frame_limit broke;
	mgr_value *args[] = {mgr_value_new_string("a string of some length")};
	struct msg m = request_of(args, 1);
	m.u.request.id = UINT64_MAX; /* every field as long as it gets */
	m.u.request.thread = UINT64_MAX;
	uint8_t *enc = NULL;
	size_t len = 0;
	assert_int_equal(frame_encode(&m, &enc, &len), 0);
	free(enc);
	struct frame_limits lim = lim_default;
	lim.max_frame = (uint32_t)(len - FRAME_HEADER); /* exactly the payload */
	assert_int_equal(fits(&m.u.request, &lim, why, &broke), 0);
	lim.max_frame--;
	assert_int_equal(fits(&m.u.request, &lim, why, &broke), MGR_ELIMIT);
	assert_int_equal(broke, FRAME_LIMIT_SIZE);
	snprintf(want, sizeof(want), "the call is %zu bytes, over the manager's limit of %u "
		 "(max_frame)", len - FRAME_HEADER, lim.max_frame);
	assert_string_equal(why, want);
	/* a smaller thread id is a smaller frame */
	m.u.request.thread = 1;
	assert_int_equal(fits(&m.u.request, &lim, why, &broke), 0);
	/* no limits announced: nothing is checked */
	struct frame_limits none = {0};
	assert_int_equal(fits(&m.u.request, &none, why, &broke), 0);
	mgr_value_free(args[0]);
}

/* ---- malformed input ---- */

static void expect_eproto(const void *bytes, size_t len)
{
	struct pb b = {0};
	pb_raw(&b, bytes, len);
	struct msg out;
	assert_int_equal(decode(&b, &lim_default, &out), MGR_EPROTO);
	assert_int_equal(out.kind, MSG_NONE);
	msg_clear(&out);
	free(b.p);
}

static void test_garbage_cases(void **state)
{
	(void)state;
	expect_eproto("", 0);                           /* empty frame */
	expect_eproto("\x78\x01", 2);                   /* only an unknown field */
	expect_eproto("\x00\x01", 2);                   /* field 0 */
	expect_eproto("\x08", 1);                       /* tag without value */
	expect_eproto("\x08\x80", 2);                   /* unfinished varint */
	expect_eproto("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12); /* 11-byte varint */
	expect_eproto("\x09\x01\x02", 3);               /* short fixed64 */
	expect_eproto("\x0d\x01", 2);                   /* short fixed32 */
	expect_eproto("\x0b\x0c", 2);                   /* group start/end */
	expect_eproto("\x0e", 1);                       /* wire type 6 */
	expect_eproto("\x0f", 1);                       /* wire type 7 */
	expect_eproto("\x1a\x05\x08\x01", 4);           /* length past the end */
	expect_eproto("\x1a\xff\xff\xff\xff\x0f", 6);   /* huge length */
	expect_eproto("\x18\x01", 2);                   /* request as a varint */
	expect_eproto("\x1a\x02\x22\x05", 4);           /* arg past its parent */
	expect_eproto("\x1a\x03\x22\x01\x3a", 5);       /* cut inside a value */
	expect_eproto("\x1a\x04\x22\x02\x3a\x00\x00", 7); /* trailing zero tag */
	expect_eproto("\xff\xff\xff\xff", 4);
}

/* Wire type mismatches that frame_check lets through: protobuf-c refuses. */
static void test_wrong_wire_types(void **state)
{
	(void)state;
	/* Request{id as length-delimited} */
	expect_eproto("\x1a\x03\x0a\x01\x41", 5);
	/* Value{i as fixed32} inside a request arg */
	expect_eproto("\x1a\x07\x22\x05\x1d\x01\x02\x03\x04", 9);
}

static void test_truncations(void **state)
{
	(void)state;
	mgr_value *args[] = {rich_value(), mgr_value_new_string("tail")};
	struct msg m = request_of(args, 2), out;
	uint8_t *buf;
	size_t len;
	assert_int_equal(frame_encode(&m, &buf, &len), 0);
	const uint8_t *p = buf + FRAME_HEADER;
	size_t n = len - FRAME_HEADER;
	char err[128];
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *copy = malloc(cut + 1); /* exact size, for ASan */
		memcpy(copy, p, cut);
		int rc = frame_decode(copy, cut, &lim_default, &out, err, sizeof(err));
		if (rc != MGR_EPROTO)
			fail_msg("cut at %zu of %zu: got %d", cut, n, rc);
		msg_clear(&out);
		free(copy);
	}
	assert_int_equal(frame_decode(p, n, &lim_default, &out, err, sizeof(err)), 0);
	msg_clear(&out);
	free(buf);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void check_any(const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len + 1);
	memcpy(copy, p, len);
	struct msg out;
	char err[128];
	int rc = frame_decode(copy, len, &lim_default, &out, err, sizeof(err));
	if (rc && rc != MGR_EPROTO && rc != MGR_ELIMIT && rc != MGR_EUTF8 && rc != MGR_ETYPE)
		fail_msg("unexpected code %d", rc);
	msg_clear(&out);
	free(copy);
}

static void test_random_garbage(void **state)
{
	(void)state;
	uint8_t buf[256];
	for (int i = 0; i < 20000; i++) {
		size_t len = next_rand() % sizeof(buf);
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)next_rand();
		check_any(buf, len);
	}
}

static void test_random_mutations(void **state)
{
	(void)state;
	mgr_value *args[] = {rich_value()};
	struct msg m = request_of(args, 1);
	uint8_t *enc;
	size_t len;
	assert_int_equal(frame_encode(&m, &enc, &len), 0);
	size_t n = len - FRAME_HEADER;
	uint8_t *buf = malloc(n);
	for (int i = 0; i < 20000; i++) {
		memcpy(buf, enc + FRAME_HEADER, n);
		for (int flips = 1 + (int)(next_rand() % 4); flips; flips--)
			buf[next_rand() % n] ^= (uint8_t)(1u << (next_rand() % 8));
		check_any(buf, n);
	}
	free(buf);
	free(enc);
	mgr_value_free(args[0]);
}

/* A oneof given twice: the last one wins and nothing leaks. */
static void test_oneof_twice(void **state)
{
	(void)state;
	struct pb v = {0}, args[1];
	pb_bytes(&v, 5, "abc", 3);
	pb_bytes(&v, 7, "", 0);
	pb_sint(&v, 3, -3);
	args[0] = v;
	struct pb f = pb_request(11, "m", args, 1);
	struct msg out;
	assert_int_equal(decode(&f, &lim_default, &out), 0);
	assert_int_equal(mgr_value_kind(out.u.request.args[0]), MGR_INT);
	assert_int_equal(mgr_value_int(out.u.request.args[0]), -3);
	msg_clear(&out);
	free(f.p);
}

/* ---- bad arguments keep the request's id ---- */

static void expect_arg_error(struct pb *arg, uint64_t id, int code)
{
	struct pb f = pb_request(id, "set", arg, 1);
	struct msg out;
	int rc = decode(&f, &lim_default, &out);
	/* read everything, clean up, then assert: no leak when one fails */
	struct msg seen = out;
	bool args_null = out.u.request.args == NULL, method_null = out.u.request.method == NULL;
	msg_clear(&out);
	free(f.p);
	assert_int_equal(rc, code);
	assert_int_equal(seen.kind, MSG_REQUEST);
	assert_true(seen.u.request.id == id);
	assert_int_equal(seen.u.request.nargs, 0);
	assert_true(args_null);
	assert_true(method_null);
}

static void test_bad_utf8_arg(void **state)
{
	(void)state;
	static const char *const bad[] = {"\xc3\x28", "\xed\xa0\x80", "\xc0\x80",
					  "ok\xf4\x90\x80\x80", "\xff"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pb v = {0};
		pb_bytes(&v, 5, bad[i], strlen(bad[i]));
		expect_arg_error(&v, 0xDEADBEEFCAFEULL + i, MGR_EUTF8);
	}
	/* deep inside: a list holding a map whose value is bad */
	struct pb s = {0}, k = {0}, e = {0}, mp = {0}, vm = {0}, lst = {0}, v = {0};
	pb_bytes(&s, 5, "\xe2\x28\xa1", 3);
	pb_bytes(&k, 5, "key", 3);
	pb_msg(&e, 1, &k);
	pb_msg(&e, 2, &s);
	pb_msg(&mp, 1, &e);
	pb_msg(&vm, 8, &mp);
	pb_msg(&lst, 1, &vm);
	pb_msg(&v, 7, &lst);
	expect_arg_error(&v, 99, MGR_EUTF8);
	/* a bad key string too */
	struct pb k2 = {0}, e2 = {0}, mp2 = {0}, v2 = {0}, val = {0};
	pb_bytes(&k2, 5, "\x80", 1);
	pb_sint(&val, 3, 1);
	pb_msg(&e2, 1, &k2);
	pb_msg(&e2, 2, &val);
	pb_msg(&mp2, 1, &e2);
	pb_msg(&v2, 8, &mp2);
	expect_arg_error(&v2, 100, MGR_EUTF8);
}

static void test_bad_utf8_method(void **state)
{
	(void)state;
	struct pb r = {0}, f = {0};
	pb_uint(&r, 1, 31337);
	pb_bytes(&r, 3, "g\xc3\x28t", 4);
	pb_msg(&f, 3, &r);
	struct msg out;
	assert_int_equal(decode(&f, &lim_default, &out), MGR_EUTF8);
	assert_int_equal(out.kind, MSG_REQUEST);
	assert_int_equal(out.u.request.id, 31337);
	assert_null(out.u.request.method);
	msg_clear(&out);
	free(f.p);
}

/* BUG (reported): a string argument with an embedded NUL is silently cut
 * at the NUL (protobuf-c hands out a C string and codec.c uses strlen), so
 * "a\0b" arrives as "a". Strings never hold NUL (mgr_value_new_stringn
 * rejects it); the frame should be refused like any invalid string. */
static void test_nul_in_string_arg(void **state)
{
	(void)state;
	struct pb v = {0};
	pb_bytes(&v, 5, "a\0b", 3);
	expect_arg_error(&v, 5150, MGR_EUTF8);
}

static void map_key_case(void (*key)(struct pb *k), uint64_t id)
{
	struct pb k = {0}, val = {0}, e = {0}, mp = {0}, v = {0};
	key(&k);
	pb_sint(&val, 3, 1);
	if (k.len || k.p)
		pb_msg(&e, 1, &k);
	pb_msg(&e, 2, &val);
	pb_msg(&mp, 1, &e);
	pb_msg(&v, 8, &mp);
	expect_arg_error(&v, id, MGR_ETYPE);
	free(k.p);
}

static void key_list(struct pb *k) { pb_bytes(k, 7, "", 0); }
static void key_map(struct pb *k) { pb_bytes(k, 8, "", 0); }
static void key_double(struct pb *k)
{
	pb_tag(k, 4, 1);
	pb_raw(k, "\0\0\0\0\0\0\xf0\x3f", 8);
}
static void key_nil(struct pb *k) { pb_uint(k, 1, 1); }
static void key_ref(struct pb *k)
{
	struct pb r = {0};
	pb_uint(&r, 1, 1);
	pb_msg(k, 9, &r);
}
static void key_absent(struct pb *k) { (void)k; }

static void test_bad_map_keys(void **state)
{
	(void)state;
	map_key_case(key_list, 1001);
	map_key_case(key_map, 1002);
	map_key_case(key_double, 1003);
	map_key_case(key_nil, 1004);
	map_key_case(key_ref, 1005);
	map_key_case(key_absent, 1006);
}

/* Repeated keys in one map on the wire: the last value wins. */
static void test_duplicate_map_keys(void **state)
{
	(void)state;
	struct pb mp = {0}, v = {0};
	for (int i = 1; i <= 3; i++) {
		struct pb k = {0}, val = {0}, e = {0};
		pb_bytes(&k, 5, "dup", 3);
		pb_sint(&val, 3, i);
		pb_msg(&e, 1, &k);
		pb_msg(&e, 2, &val);
		pb_msg(&mp, 1, &e);
	}
	pb_msg(&v, 8, &mp);
	struct pb f = pb_request(4, "m", &v, 1);
	struct msg out;
	assert_int_equal(decode(&f, &lim_default, &out), 0);
	const mgr_value *m = out.u.request.args[0];
	assert_int_equal(mgr_value_len(m), 1);
	assert_int_equal(mgr_value_int(mgr_value_map_value(m, 0)), 3);
	msg_clear(&out);
	free(f.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_welcome),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_timeouts),
		cmocka_unit_test(test_request_zero_values),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_error_code_zero),
		cmocka_unit_test(test_encode_invalid),
		cmocka_unit_test(test_large_request),
		cmocka_unit_test(test_depth_limit_encoded),
		cmocka_unit_test(test_depth_limit_maps_and_reply),
		cmocka_unit_test(test_depth_limit_hand_encoded),
		cmocka_unit_test(test_depth_10000),
		cmocka_unit_test(test_items_limit),
		cmocka_unit_test(test_items_limit_map),
		cmocka_unit_test(test_deep_request_keeps_id),
		cmocka_unit_test(test_items_request_keeps_id),
		cmocka_unit_test(test_limit_not_a_request),
		cmocka_unit_test(test_fits_depth_edge),
		cmocka_unit_test(test_fits_items_edge),
		cmocka_unit_test(test_fits_size_edge),
		cmocka_unit_test(test_garbage_cases),
		cmocka_unit_test(test_wrong_wire_types),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_oneof_twice),
		cmocka_unit_test(test_bad_utf8_arg),
		cmocka_unit_test(test_bad_utf8_method),
		cmocka_unit_test(test_nul_in_string_arg), /* BUG: fails until fixed */
		cmocka_unit_test(test_bad_map_keys),
		cmocka_unit_test(test_duplicate_map_keys),
		/* BUG: fails until fixed; kept last (ASan aborts the process) */
		cmocka_unit_test(test_reply_nil_value),
	};
	/* MGR_TEST_SKIP=pattern skips tests (e.g. a known crash under ASan) */
	if (getenv("MGR_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("MGR_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
