/* The decoder's tightest path (common/frame.c, "tightest path") against
 * the general one (frame_decode_general): on the shapes it takes, its
 * edges (truncated and overlong varints, wrong wire types, unknown,
 * repeated and out-of-order fields, argument counts around its buffer,
 * method names it leaves to the general path) and a few hundred thousand
 * deterministic mutations of a usual request and reply, both must give
 * the same code and, when they decode, messages that encode to the same
 * bytes (and, when they fail on a request, the same id); frame_decode_scalars
 * keeps a reply's int or bool unallocated and otherwise agrees. And the
 * one-pass request encoder against frame_encode: the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/frame.h"

static const struct frame_limits tight_lim = {1 << 20, 32, 100000, 64};

/* frame_decode_scalars against the general decode (b, decoded): the same
 * answer; a reply's int or bool result kept unallocated in the scalar
 * (value NULL), anything else as frame_decode has it. */
static void tight_same_scalars(const uint8_t *p, size_t len, int rb, const struct msg *b)
{
	struct msg c;
	char ec[160] = "";
	int rc = frame_decode_scalars(p, len, &tight_lim, &c, ec, sizeof(ec));
	assert_int_equal(rc, rb);
	assert_int_equal(c.kind, b->kind);
	if (!rc && c.kind == MSG_REPLY) {
		const mgr_value *v = b->u.reply.value;
		mgr_kind k = mgr_value_kind(v);
		/* kept where the tightest path took it: else as frame_decode */
		bool kept = c.scalar_kind != MGR_NIL;
		assert_true(!kept || (!b->u.reply.code && c.scalar_kind == k));
		assert_true(c.u.reply.id == b->u.reply.id && c.u.reply.spin == b->u.reply.spin);
		if (kept) {
			assert_null(c.u.reply.value);
			assert_true(c.scalar == (k == MGR_INT ? mgr_value_int(v) : mgr_value_bool(v)));
			c.u.reply.value = k == MGR_INT ? mgr_value_new_int(c.scalar)
						       : mgr_value_new_bool(c.scalar != 0);
		}
		uint8_t *fb, *fc;
		size_t nb, nc;
		assert_int_equal(frame_encode(b, &fb, &nb), 0);
		assert_int_equal(frame_encode(&c, &fc, &nc), 0);
		assert_int_equal(nb, nc);
		assert_memory_equal(fb, fc, nb);
		free(fb);
		free(fc);
	}
	msg_clear(&c);
}

/* Decodes p both ways (and the scalars' way) and fails the test where they
 * differ; returns the code (0: decoded). */
static int tight_same(const uint8_t *p, size_t len)
{
	struct msg a, b;
	char ea[160] = "", eb[160] = "";
	int ra = frame_decode(p, len, &tight_lim, &a, ea, sizeof(ea));
	int rb = frame_decode_general(p, len, &tight_lim, &b, eb, sizeof(eb));
	assert_int_equal(ra, rb);
	assert_int_equal(a.kind, b.kind);
	if (ra && a.kind == MSG_REQUEST)
		assert_true(a.u.request.id == b.u.request.id);
	if (ra)
		assert_string_equal(ea, eb);
	if (!ra) {
		uint8_t *fa, *fb;
		size_t na, nb;
		assert_int_equal(frame_encode(&a, &fa, &na), 0);
		assert_int_equal(frame_encode(&b, &fb, &nb), 0);
		assert_int_equal(na, nb);
		assert_memory_equal(fa, fb, na);
		free(fa);
		free(fb);
	}
	if (!ra && a.kind == MSG_REPLY) /* frame_decode never keeps a scalar */
		assert_int_equal(a.scalar_kind, MGR_NIL);
	tight_same_scalars(p, len, rb, &b);
	msg_clear(&a);
	msg_clear(&b);
	return ra;
}

/* A Frame around body: field (3 request, 4 reply), then the length. */
static size_t tight_wrap(uint8_t *out, unsigned field, const uint8_t *body, size_t n)
{
	size_t h = 0;
	out[h++] = (uint8_t)(field << 3 | 2);
	if (n < 0x80)
		out[h++] = (uint8_t)n;
	else {
		out[h++] = (uint8_t)(n | 0x80);
		out[h++] = (uint8_t)(n >> 7);
	}
	memcpy(out + h, body, n);
	return h + n;
}

static int tight_case(unsigned field, const uint8_t *body, size_t n)
{
	uint8_t buf[512];
	return tight_same(buf, tight_wrap(buf, field, body, n));
}

#define REQ(...) tight_case(3, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))
#define REP(...) tight_case(4, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* id 300, object 5, "add", int 7, thread 123456: as libmgr writes it */
static const uint8_t tight_req[] = {0x08, 0xAC, 0x02, 0x10, 0x05, 0x1A, 0x03, 'a', 'd', 'd',
				    0x22, 0x02, 0x18, 0x0E, 0x30, 0xC0, 0xC4, 0x07};
/* id 300, int 7, spin */
static const uint8_t tight_rep[] = {0x08, 0xAC, 0x02, 0x12, 0x02, 0x18, 0x0E, 0x20, 0x01};

static void test_usual_shapes(void **state)
{
	(void)state;
	assert_int_equal(tight_case(3, tight_req, sizeof(tight_req)), 0);
	assert_int_equal(tight_case(4, tight_rep, sizeof(tight_rep)), 0);
	/* timeout, wait_ms (negative: zig-zag), no object, bool, nil */
	assert_int_equal(REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x02, 0x10, 0x01, 0x22, 0x02, 0x08,
			     0x01, 0x28, 0xE8, 0x07, 0x30, 0x01, 0x40, 0x03), 0);
	assert_int_equal(REP(0x08, 0x01, 0x12, 0x02, 0x10, 0x00), 0);
	assert_int_equal(REP(0x08, 0x01, 0x12, 0x02, 0x08, 0x01), 0);
	/* a string argument and a reply holding a list: the direct reader's */
	assert_int_equal(REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x03, 0x2A, 0x01, 'k'), 0);
	assert_int_equal(REP(0x08, 0x01, 0x12, 0x06, 0x3A, 0x04, 0x0A, 0x02, 0x18, 0x02), 0);
}

static void test_truncated(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = tight_wrap(buf, 3, tight_req, sizeof(tight_req));
	for (size_t cut = 0; cut < n; cut++)
		tight_same(buf, cut); /* the Frame's length says more */
	for (size_t cut = 0; cut < sizeof(tight_req); cut++)
		tight_case(3, tight_req, cut); /* the Request itself cut short */
	for (size_t cut = 0; cut < sizeof(tight_rep); cut++)
		tight_case(4, tight_rep, cut);
	/* a varint whose last byte is missing, inside a value and at the end */
	assert_int_not_equal(REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x02, 0x18, 0x80), 0);
	assert_int_not_equal(REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x30, 0x80), 0);
	assert_int_not_equal(REP(0x08, 0x81), 0);
}

static void test_overlong(void **state)
{
	(void)state;
	/* id in 4 bytes where 1 would do; a 9-, 10- and 11-byte thread */
	REQ(0x08, 0x81, 0x80, 0x80, 0x00, 0x1A, 0x01, 'x');
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	    0x01);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	    0x7F);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x30, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x00);
	/* a 10-byte int argument with bits past 64, an overlong bool */
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x0B, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	    0xFF, 0xFF, 0x7F);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x03, 0x10, 0x81, 0x00);
	REP(0x08, 0x01, 0x12, 0x03, 0x10, 0x81, 0x00);
	/* an overlong length, a timeout past 32 bits, a spin of 2 bytes */
	REQ(0x08, 0x01, 0x1A, 0x81, 0x00, 'x');
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x28, 0x80, 0x80, 0x80, 0x80, 0x10);
	REP(0x08, 0x01, 0x12, 0x02, 0x18, 0x02, 0x20, 0x81, 0x01);
	/* the Frame's own length in two bytes, one of them a needless 0 */
	uint8_t buf[32] = {0x1A, 0x87, 0x00, 0x08, 0x01, 0x1A, 0x01, 'x', 0x30, 0x01};
	tight_same(buf, 10);
}

/* A varint of len bytes (len - 1 with the continuation bit, the last
 * last) at out: the tight reader's unrolled lengths (1 to 4) and the loop
 * after them, each as the first field, inside a value (its last bytes)
 * and as the request's last field. */
static size_t tight_varint(uint8_t *out, size_t len, uint8_t fill, uint8_t last)
{
	for (size_t i = 0; i + 1 < len; i++)
		out[i] = (uint8_t)(0x80 | fill);
	out[len - 1] = last;
	return len;
}

static void tight_varint_at(size_t len, uint8_t fill, uint8_t last, bool cut)
{
	uint8_t v[16], b[64];
	size_t n = tight_varint(v, len, fill, last) - cut, k;
	/* as the id */
	k = 0;
	b[k++] = 0x08;
	memcpy(b + k, v, n), k += n;
	memcpy(b + k, (const uint8_t[]){0x1A, 0x01, 'x'}, 3), k += 3;
	tight_case(3, b, k);
	/* as an int argument, then as the thread (the last field) */
	k = 0;
	memcpy(b + k, (const uint8_t[]){0x08, 0x01, 0x1A, 0x01, 'x', 0x22, (uint8_t)(n + 1), 0x18}, 8);
	k += 8;
	memcpy(b + k, v, n), k += n;
	tight_case(3, b, k);
	b[k++] = 0x30;
	memcpy(b + k, v, n), k += n;
	tight_case(3, b, k);
	/* a reply's id and its int */
	k = 0;
	b[k++] = 0x08;
	memcpy(b + k, v, n), k += n;
	memcpy(b + k, (const uint8_t[]){0x12, (uint8_t)(n + 1), 0x18}, 3), k += 3;
	memcpy(b + k, v, n), k += n;
	tight_case(4, b, k);
}

static void test_varint_lengths(void **state)
{
	(void)state;
	static const uint8_t fills[] = {0x00, 0x01, 0x7F};
	static const uint8_t lasts[] = {0x00, 0x01, 0x40, 0x7F};
	for (size_t len = 1; len <= 11; len++)
		for (size_t f = 0; f < sizeof(fills); f++)
			for (size_t l = 0; l < sizeof(lasts); l++) {
				tight_varint_at(len, fills[f], lasts[l], false);
				if (len > 1)
					tight_varint_at(len, fills[f], lasts[l], true);
			}
	/* the usual request with its thread id in 4 bytes (pid_max 2^22) */
	assert_int_equal(REQ(0x08, 0xAC, 0x02, 0x10, 0x05, 0x1A, 0x03, 'a', 'd', 'd', 0x22, 0x02,
			     0x18, 0x0E, 0x30, 0xC0, 0xC4, 0x87, 0x01), 0);
}

static void test_wrong_wire_types(void **state)
{
	(void)state;
	/* protobuf-c takes some as unknown fields: the answers must agree */
	REQ(0x0A, 0x01, 0x01, 0x1A, 0x01, 'x'); /* id as bytes */
	REQ(0x08, 0x01, 0x18, 0x01); /* method as varint: protobuf-c's answer */
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x20, 0x01); /* arg varint */
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x02, 0x1A, 0x00);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x02, 0x12, 0x00);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x29, 0, 0, 0, 0, 0, 0, 0, 0); /* timeout fixed64 */
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x35, 0, 0, 0, 0);             /* thread fixed32 */
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x42, 0x00);                   /* wait_ms as bytes */
	REP(0x08, 0x01, 0x10, 0x01);             /* value as varint */
	REP(0x08, 0x01, 0x12, 0x02, 0x18, 0x02, 0x22, 0x00);             /* spin as bytes */
	REP(0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x02, 0x18, 0x02);       /* id fixed64 */
	tight_same((const uint8_t[]){0x18, 0x01}, 2);                    /* the Frame's field */
	tight_same((const uint8_t[]){0x1B, 0x00}, 2);
}

static void test_unknown_order_repeats(void **state)
{
	(void)state;
	/* unknown fields: in the Request, in a Value, in the Reply, in the Frame */
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x48, 0x01);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x7A, 0x00);
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x04, 0x18, 0x02, 0x58, 0x01);
	REP(0x08, 0x01, 0x12, 0x02, 0x18, 0x02, 0x28, 0x01);
	uint8_t buf[32];
	size_t n = tight_wrap(buf, 3, (const uint8_t[]){0x08, 0x01, 0x1A, 0x01, 'x'}, 5);
	buf[n++] = 0x48;
	buf[n++] = 0x01;
	tight_same(buf, n);
	/* out of order, repeated (the last one wins), both value and error */
	REQ(0x30, 0x01, 0x08, 0x01, 0x1A, 0x01, 'x');
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x22, 0x02, 0x18, 0x02, 0x10, 0x03);
	REQ(0x08, 0x01, 0x08, 0x02, 0x1A, 0x01, 'x');
	REQ(0x08, 0x01, 0x1A, 0x01, 'x', 0x1A, 0x01, 'y');
	REP(0x12, 0x02, 0x18, 0x02, 0x08, 0x01);
	REP(0x08, 0x01, 0x08, 0x02, 0x12, 0x02, 0x18, 0x02);
	REP(0x08, 0x01, 0x12, 0x02, 0x18, 0x02, 0x1A, 0x02, 0x08, 0x05);
	REP(0x08, 0x01, 0x1A, 0x02, 0x08, 0x05); /* an error: the general path */
	REP(0x08, 0x01);                         /* no value: nil */
	/* a batch beside the tight fields */
	REQ(0x08, 0x01, 0x3A, 0x05, 0x0A, 0x03, 'g', 'e', 't');
}

static void test_args_and_methods(void **state)
{
	(void)state;
	uint8_t body[256];
	for (size_t nargs = 0; nargs <= 6; nargs++) {
		size_t n = 0;
		memcpy(body, (const uint8_t[]){0x08, 0x01, 0x1A, 0x01, 'x'}, 5);
		n = 5;
		for (size_t i = 0; i < nargs; i++) {
			memcpy(body + n, (const uint8_t[]){0x22, 0x02, 0x18, (uint8_t)(2 * i)}, 4);
			n += 4;
		}
		assert_int_equal(tight_case(3, body, n), 0);
	}
	/* method names: empty, 31 and 32 bytes, NUL, UTF-8, bad UTF-8, space */
	REQ(0x08, 0x01, 0x1A, 0x00);
	for (size_t len = 30; len <= 33; len++) {
		size_t n = 0;
		body[n++] = 0x08, body[n++] = 0x01, body[n++] = 0x1A, body[n++] = (uint8_t)len;
		memset(body + n, 'm', len);
		assert_int_equal(tight_case(3, body, n + len), 0);
	}
	assert_int_not_equal(REQ(0x08, 0x01, 0x1A, 0x02, 'x', 0x00), 0);
	assert_int_equal(REQ(0x08, 0x01, 0x1A, 0x02, 0xC3, 0xBC), 0);
	assert_int_not_equal(REQ(0x08, 0x01, 0x1A, 0x02, 0xC3, 0x28), 0);
	assert_int_equal(REQ(0x08, 0x01, 0x1A, 0x02, 'a', ' '), 0);
	/* bad argument values keep the id (the call alone is refused) */
	assert_int_not_equal(REQ(0x08, 0x07, 0x1A, 0x01, 'x', 0x22, 0x03, 0x2A, 0x01, 0xFF), 0);
	REQ(0x08, 0x07, 0x1A, 0x01, 'x', 0x22, 0x03, 0x10, 0x80, 0x02); /* a 2-byte bool */
}

/* xorshift: the same mutations on every run */
static uint64_t tight_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void tight_mutate(const uint8_t *body, size_t n, unsigned field, uint64_t *seed)
{
	uint8_t m[64], frame[80];
	for (int round = 0; round < 60000; round++) {
		size_t len = n;
		memcpy(m, body, n);
		for (int k = 1 + (int)(tight_rand(seed) % 3); k > 0; k--) {
			uint64_t r = tight_rand(seed);
			size_t at = (size_t)(r >> 8) % len;
			if (r % 4 == 0)
				m[at] = (uint8_t)(r >> 40);
			else if (r % 4 == 1)
				m[at] ^= (uint8_t)(1u << ((r >> 32) % 8));
			else if (r % 4 == 2 && len > 1)
				memmove(m + at, m + at + 1, --len - at);
			else if (len < sizeof(m)) {
				memmove(m + at + 1, m + at, len++ - at);
				m[at] = (uint8_t)(r >> 48);
			}
		}
		size_t fl = tight_wrap(frame, field, m, len);
		tight_same(frame, fl);
		if (round % 8 == 0) /* and the Frame's own bytes */
			tight_same(frame, fl - (size_t)(tight_rand(seed) % 3));
	}
}

static void test_mutations(void **state)
{
	(void)state;
	uint64_t seed = 0x9E3779B97F4A7C15u;
	tight_mutate(tight_req, sizeof(tight_req), 3, &seed);
	tight_mutate(tight_rep, sizeof(tight_rep), 4, &seed);
}

/* ---- the one-pass request encoder against frame_prepare/frame_write ---- */

/* q written both ways, when the tight writer takes it: the same bytes,
 * and they decode. Returns whether it took q. */
static bool tight_encode_same(const struct msg_request *q, const struct frame_limits *lim)
{
	size_t bound = frame_request_tight_bound(q, lim);
	if (!bound)
		return false;
	uint8_t *t = malloc(bound);
	assert_non_null(t);
	size_t n = frame_request_tight_write(q, t);
	if (n) {
		struct msg m = {.kind = MSG_REQUEST};
		m.u.request = *q;
		uint8_t *g;
		size_t gn;
		assert_true(n <= bound);
		assert_int_equal(frame_encode(&m, &g, &gn), 0);
		assert_int_equal(n, gn);
		assert_memory_equal(t, g, n);
		assert_int_equal(tight_same(t + FRAME_HEADER, n - FRAME_HEADER), 0);
		free(g);
	}
	free(t);
	return n != 0;
}

static void test_encode(void **state)
{
	(void)state;
	static const uint64_t ids[] = {0, 1, 127, 128, 300, UINT64_MAX};
	static const int64_t ints[] = {0, -1, 7, INT64_MIN, INT64_MAX};
	char longname[80];
	memset(longname, 'm', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	mgr_value *vals[] = {mgr_value_new_int(0), mgr_value_new_bool(true),
			     mgr_value_new_bool(false), mgr_value_new_nil(), NULL};
	const char *methods[] = {"", "add", longname + 17, longname + 16, longname};
	int took = 0;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
			for (size_t na = 0; na <= 5; na++)
				for (int t = 0; t < 4; t++) {
					mgr_value *args[5];
					for (size_t a = 0; a < na; a++) {
						args[a] = vals[(i + a) % 4];
						if (args[a]->kind == MGR_INT)
							args[a]->u.i = ints[(i + k + a) % 5];
					}
					struct msg_request q = {.id = ids[i], .object = ids[(i + 1) % 6],
						.thread = ids[(i + k) % 6], .method = (char *)methods[k],
						.args = args, .nargs = na};
					msg_set_timeout(&q, t == 0 ? MSG_FOREVER : t == 1 ? 0
							   : t == 2 ? -5 : 1000);
					took += tight_encode_same(&q, &tight_lim);
				}
	assert_true(took > 0);
	/* the longest it takes: a body over 127 bytes (a 2-byte length) */
	mgr_value *big[4];
	for (size_t a = 0; a < 4; a++)
		big[a] = mgr_value_new_int(INT64_MIN);
	struct msg_request longest = {.id = UINT64_MAX, .object = UINT64_MAX, .thread = UINT64_MAX,
		.method = longname + 16, .args = big, .nargs = 4};
	msg_set_timeout(&longest, INT64_MAX - 1);
	assert_true(tight_encode_same(&longest, &tight_lim));
	for (size_t a = 0; a < 4; a++)
		mgr_value_free(big[a]);
	/* not taken: 5 arguments, a string argument, a NULL one, a batch, and
	 * limits it could break (frame_request_prepare names them) */
	mgr_value *five[5] = {vals[0], vals[0], vals[0], vals[0], vals[0]};
	mgr_value *str[1] = {mgr_value_new_string("s")}, *null[1] = {NULL};
	struct msg_call call = {"get", NULL, 0};
	struct msg_request q = {.id = 1, .method = "add", .args = five, .nargs = 5};
	assert_int_equal(frame_request_tight_bound(&q, &tight_lim), 0);
	q.args = str, q.nargs = 1;
	assert_int_equal(frame_request_tight_bound(&q, &tight_lim), 0);
	q.args = null;
	assert_int_equal(frame_request_tight_bound(&q, &tight_lim), 0);
	q.args = five, q.nargs = 2, q.batch = &call, q.nbatch = 1;
	assert_int_equal(frame_request_tight_bound(&q, &tight_lim), 0);
	q.nbatch = 0;
	assert_int_equal(frame_request_tight_bound(&q, &(struct frame_limits){100, 8, 0, 0}), 0);
	assert_int_equal(frame_request_tight_bound(&q, &(struct frame_limits){0, 8, 1, 0}), 0);
	assert_int_not_equal(frame_request_tight_bound(&q, &(struct frame_limits){0, 0, 2, 0}), 0);
	mgr_value_free(str[0]);
	for (size_t i = 0; i < 4; i++)
		mgr_value_free(vals[i]);
}

/* The one-pass reply writer against frame_encode, and what it leaves. */
static void test_encode_reply(void **state)
{
	(void)state;
	static const uint64_t ids[] = {0, 1, 300, UINT64_MAX};
	mgr_value *vals[] = {mgr_value_new_int(INT64_MIN), mgr_value_new_int(5),
			     mgr_value_new_bool(true), mgr_value_new_nil(), NULL};
	for (size_t i = 0; i < 4; i++)
		for (size_t k = 0; k < 5; k++)
			for (int spin = 0; spin < 2; spin++) {
				struct msg m = {.kind = MSG_REPLY};
				m.u.reply = (struct msg_reply){.id = ids[i], .value = vals[k],
							       .spin = spin};
				uint8_t t[FRAME_REPLY_TIGHT_MAX], *g;
				size_t n = frame_reply_tight_write(&m.u.reply, t), gn;
				assert_int_not_equal(n, 0);
				assert_int_equal(frame_encode(&m, &g, &gn), 0);
				assert_int_equal(n, gn);
				assert_memory_equal(t, g, n);
				assert_int_equal(tight_same(t + FRAME_HEADER, n - FRAME_HEADER), 0);
				free(g);
			}
	uint8_t t[FRAME_REPLY_TIGHT_MAX];
	mgr_value *s = mgr_value_new_string("s");
	assert_int_equal(frame_reply_tight_write(&(struct msg_reply){.id = 1, .value = s}, t), 0);
	assert_int_equal(frame_reply_tight_write(&(struct msg_reply){.id = 1, .code = MGR_EARGS,
								     .message = "no"}, t), 0);
	mgr_value_free(s);
	for (size_t k = 0; k < 4; k++)
		mgr_value_free(vals[k]);
}

/* The scalars' decode of the usual replies: an int (both signs, up to the
 * tightest path's 9-byte varints) and a bool stay unallocated; nil, a
 * string, an error and the largest ints do not. */
static void test_scalars(void **state)
{
	(void)state;
	static const int64_t ints[] = {0, 1, -1, 63, -64, 300, (INT64_C(1) << 62) - 1,
				       -(INT64_C(1) << 62), INT64_MAX, INT64_MIN};
	mgr_value *vals[14];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		vals[n++] = mgr_value_new_int(ints[i]);
	vals[n++] = mgr_value_new_bool(true);
	vals[n++] = mgr_value_new_bool(false);
	vals[n++] = mgr_value_new_nil();
	vals[n++] = mgr_value_new_string("s");
	for (size_t k = 0; k <= n; k++) { /* k == n: an error reply */
		struct msg m = {.kind = MSG_REPLY}, c;
		m.u.reply = (struct msg_reply){.id = 9, .value = k < n ? vals[k] : NULL,
					       .code = k < n ? 0 : MGR_EARGS,
					       .message = k < n ? NULL : "no"};
		uint8_t t[FRAME_REPLY_TIGHT_MAX], *f = t, *g = NULL;
		size_t len = frame_reply_tight_write(&m.u.reply, t); /* as mgrd writes it */
		char why[160];
		if (!len) /* a string, an error: the general encoder's */
			assert_int_equal(frame_encode(&m, &g, &len), 0);
		f = g ? g : t;
		assert_int_equal(frame_decode_scalars(f + FRAME_HEADER, len - FRAME_HEADER,
						      &tight_lim, &c, why, sizeof(why)), 0);
		mgr_kind kind = k < n ? mgr_value_kind(vals[k]) : MGR_NIL;
		/* a 10-byte varint (|int| >= 2^62) goes the general way */
		int64_t i = kind == MGR_INT ? mgr_value_int(vals[k]) : 0;
		bool kept = kind == MGR_BOOL || (kind == MGR_INT && i >= -(INT64_C(1) << 62) &&
						 i < INT64_C(1) << 62);
		assert_int_equal(c.scalar_kind, kept ? (uint8_t)kind : (uint8_t)MGR_NIL);
		assert_true(kept ? c.u.reply.value == NULL : k == n || c.u.reply.value != NULL);
		if (kept)
			assert_true(c.scalar == (kind == MGR_INT ? mgr_value_int(vals[k])
								 : mgr_value_bool(vals[k])));
		assert_int_equal(c.u.reply.code, k < n ? 0 : MGR_EARGS);
		assert_int_equal(tight_same(f + FRAME_HEADER, len - FRAME_HEADER), 0);
		msg_clear(&c);
		free(g);
	}
	for (size_t k = 0; k < n; k++)
		mgr_value_free(vals[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usual_shapes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_varint_lengths),
		cmocka_unit_test(test_wrong_wire_types),
		cmocka_unit_test(test_unknown_order_repeats),
		cmocka_unit_test(test_args_and_methods),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_reply),
		cmocka_unit_test(test_scalars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
