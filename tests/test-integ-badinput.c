/* Bad input over a raw socket: garbage, oversized and truncated frames,
 * frames out of order, values too deep or too many, invalid UTF-8, bad
 * calls, a wrong protocol version, a client that never reads, a client that
 * never says Hello, and 1,000 pipelined requests. After every case a
 * libmgr client on the same mgrd makes a call that must succeed: a bad
 * client gets an error reply or a closed connection, nobody else notices.
 * Frames that frame_encode() cannot or will not produce are written by
 * hand with the small protobuf writer below. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 10000

/* ---- a protobuf writer, just enough for Frame/Request/Value ---- */

struct pb {
	uint8_t *p;
	size_t len, cap;
};

static void pb_put(struct pb *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static size_t pb_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (uint8_t)(v & 0x7F);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	pb_put(b, tmp, n);
}

static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3 | 0);
	pb_varint(b, v);
}

/* A length-delimited field: string, bytes or sub-message. */
static void pb_lendelim(struct pb *b, unsigned field, const void *p, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, n);
	pb_put(b, p, n);
}

static void pb_free(struct pb *b)
{
	free(b->p);
	*b = (struct pb){0};
}

/* Value fields (see proto/mgr.proto). */
enum { V_NIL = 1, V_INT = 3, V_STR = 5, V_LIST = 7, V_MAP = 8 };

static void val_str(struct pb *b, const char *s, size_t n)
{
	pb_lendelim(b, V_STR, s, n);
}

static void val_int(struct pb *b, int64_t i)
{
	pb_uint(b, V_INT, ((uint64_t)i << 1) ^ (uint64_t)(i >> 63)); /* sint64: zigzag */
}

/* A request frame (header included) for object/method with the given
 * encoded args (each one Value's bytes, concatenated as field 4 entries by
 * the caller in args). */
static struct pb frame_request(uint64_t id, uint64_t object, const char *method,
			       size_t method_len, const struct pb *args)
{
	struct pb req = {0}, frame = {0}, out = {0};
	pb_uint(&req, 1, id);
	if (object)
		pb_uint(&req, 2, object);
	pb_lendelim(&req, 3, method, method_len);
	if (args)
		pb_put(&req, args->p, args->len);
	pb_lendelim(&frame, 3, req.p, req.len);
	uint8_t hdr[4] = {(uint8_t)(frame.len >> 24), (uint8_t)(frame.len >> 16),
			  (uint8_t)(frame.len >> 8), (uint8_t)frame.len};
	pb_put(&out, hdr, 4);
	pb_put(&out, frame.p, frame.len);
	pb_free(&req);
	pb_free(&frame);
	return out;
}

/* Adds one argument (a Value's bytes) to args. */
static void args_add(struct pb *args, const struct pb *value)
{
	pb_lendelim(args, 4, value->p, value->len);
}

static void send_pb(int fd, struct pb *b)
{
	harness_raw_send(fd, b->p, b->len);
	pb_free(b);
}

/* A request with one argument, a string of raw bytes s. */
static void send_call_str(int fd, uint64_t id, const char *method, const char *s, size_t n)
{
	struct pb v = {0}, args = {0};
	val_str(&v, s, n);
	args_add(&args, &v);
	struct pb f = frame_request(id, 0, method, strlen(method), &args);
	send_pb(fd, &f);
	pb_free(&v);
	pb_free(&args);
}

/* A Value that is `depth` Values deep: lists in lists, nil innermost.
 * Written outside-in from precomputed sizes, without recursion. */
static struct pb value_nested(size_t depth)
{
	size_t *val = calloc(depth, sizeof(*val)), *lst = calloc(depth, sizeof(*lst));
	assert_true(depth > 0 && val && lst);
	/* val[k]: bytes of the Value k levels above the innermost one */
	for (size_t k = 1; k < depth; k++) {
		lst[k] = 1 + pb_varint_len(val[k - 1]) + val[k - 1];
		val[k] = 1 + pb_varint_len(lst[k]) + lst[k];
	}
	struct pb b = {0};
	for (size_t k = depth - 1; k > 0; k--) {
		pb_varint(&b, V_LIST << 3 | 2);
		pb_varint(&b, lst[k]);
		pb_varint(&b, 1 << 3 | 2); /* ValueList.items */
		pb_varint(&b, val[k - 1]);
	}
	assert_int_equal(b.len, val[depth - 1]);
	free(val);
	free(lst);
	return b;
}

/* ---- receiving ---- */

/* The next message must be a Reply with this id and error code. */
static void expect_fail(int fd, uint64_t id, int code)
{
	struct msg m;
	assert_true(harness_raw_recv_msg(fd, &m, WAIT_MS));
	assert_int_equal(m.kind, MSG_REPLY);
	if (m.u.reply.code != (uint32_t)code || m.u.reply.id != id)
		fail_msg("reply id %llu code %s (%s), want id %llu code %s",
			 (unsigned long long)m.u.reply.id, mgr_errname((int)m.u.reply.code),
			 m.u.reply.message ? m.u.reply.message : "", (unsigned long long)id,
			 mgr_errname(code));
	assert_non_null(m.u.reply.message);
	assert_true(strlen(m.u.reply.message) > 0);
	msg_clear(&m);
}

/* The next message refuses request id with ELIMIT, naming the limit. */
static void expect_limit(int fd, uint64_t id, const char *limit)
{
	struct msg m;
	assert_true(harness_raw_recv_msg(fd, &m, WAIT_MS));
	assert_int_equal(m.kind, MSG_REPLY);
	assert_int_equal(m.u.reply.id, id);
	assert_int_equal(m.u.reply.code, MGR_ELIMIT);
	assert_non_null(m.u.reply.message);
	if (!strstr(m.u.reply.message, limit))
		fail_msg("'%s' does not name %s", m.u.reply.message, limit);
	msg_clear(&m);
}

/* The connection is dropped with code: its last frame says so, then EOF. */
static void expect_dropped(int fd, int code)
{
	expect_fail(fd, 0, code);
	assert_true(harness_raw_closed(fd, WAIT_MS));
	close(fd);
}

/* The next message must be a successful Reply; returns its value (owned). */
static mgr_value *expect_result(int fd, uint64_t id)
{
	struct msg m;
	assert_true(harness_raw_recv_msg(fd, &m, WAIT_MS));
	assert_int_equal(m.kind, MSG_REPLY);
	if (m.u.reply.code)
		fail_msg("reply %llu failed: %s: %s", (unsigned long long)m.u.reply.id,
			 mgr_errname((int)m.u.reply.code), m.u.reply.message);
	assert_int_equal(m.u.reply.id, id);
	mgr_value *v = m.u.reply.value ? m.u.reply.value : mgr_value_new_nil();
	m.u.reply.value = NULL;
	msg_clear(&m);
	return v;
}

/* A raw ping on fd still works. */
static void raw_ping_ok(int fd, uint64_t id)
{
	send_call_str(fd, id, "ping", "still here", 10);
	mgr_value *v = expect_result(fd, id);
	assert_string_equal(mgr_value_string(v, NULL), "still here");
	mgr_value_free(v);
}

/* ---- the good client ---- */

struct bad {
	struct harness h;
	mgr_object *k; /* a counter the good client bumps after every case */
	int64_t bumps;
};

/* The good client's call succeeds and the daemon's state is intact. */
static void assert_alive(struct bad *b)
{
	int64_t now = 0;
	int err = mgr_counter_add(b->k, 1, &now);
	if (err)
		fail_msg("the good client failed: %s: %s", mgr_errname(err), mgr_client_errmsg(NULL));
	assert_int_equal(now, ++b->bumps);
}

/* Polls until the manager counts `want` sessions (the bad one's close is
 * handled by the server on its own time). */
static void wait_sessions(struct bad *b, int64_t want)
{
	int64_t n = -1;
	for (int i = 0; i < 100000 && (n = harness_info(b->h.c, "sessions")) != want; i++)
		;
	assert_int_equal(n, want);
}

static int setup_with(void **state)
{
	const char *const *args = *state;
	struct bad *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	harness_start(&b->h, args);
	assert_int_equal(mgr_counter_open(b->h.c, "alive", &b->k), 0);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bad *b = *state;
	if (!b)
		return 0;
	mgr_object_release(b->k);
	harness_stop(&b->h);
	free(b);
	return 0;
}

/* ---- cases ---- */

static void test_garbage(void **state)
{
	struct bad *b = *state;
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + (size_t)rand_r(&seed) % 2048;
		uint8_t *junk = malloc(n + 4);
		for (size_t i = 0; i < n + 4; i++)
			junk[i] = (uint8_t)rand_r(&seed);
		if (round % 2) { /* a plausible length, so the payload reaches the decoder */
			junk[0] = junk[1] = 0;
			junk[2] = (uint8_t)(n >> 8);
			junk[3] = (uint8_t)n;
		}
		int fd = round % 4 < 2 ? harness_raw_connect(b->h.path) : harness_raw_session(b->h.path);
		harness_raw_send(fd, junk, n + 4);
		shutdown(fd, SHUT_WR); /* a frame still incomplete ends here too */
		assert_true(harness_raw_closed(fd, WAIT_MS));
		close(fd);
		free(junk);
		if (round % 20 == 0)
			assert_alive(b);
	}
	assert_alive(b);
	wait_sessions(b, 1);
}

/* A Request payload of exactly `size` bytes: a ping with a padding string. */
static struct pb frame_of_size(uint64_t id, size_t size)
{
	for (size_t pad = 0; pad < size; pad++) {
		char *s = malloc(pad + 1);
		memset(s, 'x', pad);
		struct pb v = {0}, args = {0};
		val_str(&v, s, pad);
		args_add(&args, &v);
		struct pb f = frame_request(id, 0, "ping", 4, &args);
		free(s);
		pb_free(&v);
		pb_free(&args);
		if (f.len - 4 == size)
			return f;
		pb_free(&f);
	}
	fail_msg("no frame of %zu bytes", size);
	return (struct pb){0};
}

/* mgrd --max-frame 1024 */
static void test_frame_limit(void **state)
{
	struct bad *b = *state;
	int fd = harness_raw_session(b->h.path);
	struct pb f = frame_of_size(1, 1024);
	send_pb(fd, &f);
	mgr_value *v = expect_result(fd, 1);
	size_t len = 0;
	mgr_value_string(v, &len);
	assert_true(len > 1000);
	mgr_value_free(v);
	raw_ping_ok(fd, 2);
	assert_alive(b);

	f = frame_of_size(3, 1025);
	send_pb(fd, &f);
	expect_dropped(fd, MGR_ELIMIT); /* id 0: the connection is being dropped */
	assert_alive(b);

	/* the header alone is enough to refuse: nothing of the body is awaited */
	fd = harness_raw_session(b->h.path);
	static const uint8_t huge[4] = {0xFF, 0xFF, 0xFF, 0xFF};
	harness_raw_send(fd, huge, 4);
	expect_dropped(fd, MGR_ELIMIT);
	/* and before Hello too */
	fd = harness_raw_connect(b->h.path);
	harness_raw_send(fd, huge, 4);
	expect_dropped(fd, MGR_ELIMIT);
	assert_alive(b);
	wait_sessions(b, 1);
}

static void test_truncated(void **state)
{
	struct bad *b = *state;
	struct pb f = frame_of_size(1, 200);
	for (int mode = 0; mode < 4; mode++) {
		int fd = mode < 2 ? harness_raw_session(b->h.path) : harness_raw_connect(b->h.path);
		harness_raw_send(fd, f.p, mode % 2 ? 2 : 100); /* inside the header / the body */
		if (mode % 2 == 0) {
			close(fd); /* gone mid-frame */
		} else {
			shutdown(fd, SHUT_WR); /* the server sees EOF and closes its end */
			assert_true(harness_raw_closed(fd, WAIT_MS));
			close(fd);
		}
		assert_alive(b);
	}
	pb_free(&f);
	wait_sessions(b, 1);
}

static void test_request_before_hello(void **state)
{
	struct bad *b = *state;
	int fd = harness_raw_connect(b->h.path);
	send_call_str(fd, 5, "ping", "x", 1);
	expect_dropped(fd, MGR_EPROTO);
	assert_alive(b);

	/* a second Hello, or a frame kind only the server sends, is as bad */
	struct msg hello = {.kind = MSG_HELLO};
	hello.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, 1, "again", 0, false};
	fd = harness_raw_session(b->h.path);
	harness_raw_send_msg(fd, &hello);
	expect_dropped(fd, MGR_EPROTO);
	struct msg reply = {.kind = MSG_REPLY};
	reply.u.reply.id = 1;
	fd = harness_raw_session(b->h.path);
	harness_raw_send_msg(fd, &reply);
	expect_dropped(fd, MGR_EPROTO);
	/* an empty Frame (no message set) */
	fd = harness_raw_session(b->h.path);
	static const uint8_t empty[4] = {0, 0, 0, 0};
	harness_raw_send(fd, empty, 4);
	expect_dropped(fd, MGR_EPROTO);
	assert_alive(b);
	wait_sessions(b, 1);
}

static void test_wrong_version(void **state)
{
	struct bad *b = *state;
	uint32_t versions[] = {0, MGR_PROTOCOL_VERSION + 1, 0xFFFFFFFFu};
	for (size_t i = 0; i < 3; i++) {
		int fd = harness_raw_connect(b->h.path);
		struct msg hello = {.kind = MSG_HELLO};
		hello.u.hello = (struct msg_hello){versions[i], 1, "old", 0, false};
		harness_raw_send_msg(fd, &hello);
		expect_dropped(fd, MGR_EVERSION);
		assert_alive(b);
	}
}

/* Sends a ping whose argument is `depth` Values deep. */
static void send_deep(int fd, uint64_t id, size_t depth)
{
	struct pb v = value_nested(depth), args = {0};
	args_add(&args, &v);
	struct pb f = frame_request(id, 0, "ping", 4, &args);
	send_pb(fd, &f);
	pb_free(&v);
	pb_free(&args);
}

/* A well-formed request with a value too deep is refused alone: the
 * connection stays and answers the next call. */
static void test_deep_10000(void **state)
{
	struct bad *b = *state;
	int fd = harness_raw_session(b->h.path);
	send_deep(fd, 1, 10000);
	expect_limit(fd, 1, "max_depth");
	raw_ping_ok(fd, 2);
	assert_alive(b);
	/* deeper still, before Hello: a protocol violation first */
	int early = harness_raw_connect(b->h.path);
	send_deep(early, 1, 100000);
	expect_dropped(early, MGR_ELIMIT);
	assert_alive(b);
	/* the default limit (64) itself, then one over, on the same connection */
	send_deep(fd, 3, 64);
	mgr_value *v = expect_result(fd, 3);
	assert_int_equal(mgr_value_kind(v), MGR_LIST);
	mgr_value_free(v);
	send_deep(fd, 4, 65);
	expect_limit(fd, 4, "max_depth");
	raw_ping_ok(fd, 5);
	close(fd);
	assert_alive(b);
	wait_sessions(b, 1);
}

/* Pipelined behind and ahead of an over-deep request, calls are answered
 * in order, each with its own id; an over-deep argument of a batch call
 * or after a good argument is refused the same way. */
static void test_deep_pipelined(void **state)
{
	struct bad *b = *state;
	int fd = harness_raw_session(b->h.path);
	struct pb all = {0}, ok = {0}, args = {0};
	val_str(&ok, "ok", 2);
	struct pb f = frame_request(1, 0, "ping", 4, NULL);
	pb_put(&all, f.p, f.len);
	pb_free(&f);
	struct pb deep = value_nested(65);
	args_add(&args, &ok); /* a good argument first, the deep one second */
	args_add(&args, &deep);
	f = frame_request(2, 0, "ping", 4, &args);
	pb_put(&all, f.p, f.len);
	pb_free(&f);
	pb_free(&args);
	args_add(&args, &ok);
	f = frame_request(3, 0, "ping", 4, &args);
	pb_put(&all, f.p, f.len);
	pb_free(&f);
	send_pb(fd, &all);
	mgr_value *v = expect_result(fd, 1);
	mgr_value_free(v);
	expect_limit(fd, 2, "max_depth");
	v = expect_result(fd, 3);
	assert_string_equal(mgr_value_string(v, NULL), "ok");
	mgr_value_free(v);

	/* Request{id 4, object 0, batch: [Call{ping, [deep]}]} */
	struct pb call = {0}, req = {0}, frame = {0};
	pb_lendelim(&call, 1, "ping", 4);
	pb_lendelim(&call, 2, deep.p, deep.len);
	pb_uint(&req, 1, 4);
	pb_lendelim(&req, 7, call.p, call.len);
	pb_lendelim(&frame, 3, req.p, req.len);
	uint8_t hdr[4] = {0, 0, (uint8_t)(frame.len >> 8), (uint8_t)frame.len};
	harness_raw_send(fd, hdr, 4);
	send_pb(fd, &frame);
	expect_limit(fd, 4, "max_depth");
	raw_ping_ok(fd, 5);
	pb_free(&call);
	pb_free(&req);
	pb_free(&args);
	pb_free(&ok);
	pb_free(&deep);
	close(fd);
	assert_alive(b);
	wait_sessions(b, 1);
}

/* Only a request in the plain form is answered: an over-deep value in a
 * frame that is not one (two Frame fields; an id of 0; garbage after the
 * deep part) still ends the connection. */
static void test_deep_not_a_request(void **state)
{
	struct bad *b = *state;
	struct pb deep = value_nested(100), args = {0};
	args_add(&args, &deep);
	/* id 0 */
	int fd = harness_raw_session(b->h.path);
	struct pb f = frame_request(0, 0, "ping", 4, &args);
	send_pb(fd, &f);
	expect_dropped(fd, MGR_ELIMIT);
	assert_alive(b);
	/* the request, then a second Frame field (a Hello) */
	fd = harness_raw_session(b->h.path);
	f = frame_request(7, 0, "ping", 4, &args);
	static const uint8_t hello_field[] = {1 << 3 | 2, 2, 1 << 3, 1}; /* hello{version 1} */
	pb_put(&f, hello_field, sizeof(hello_field));
	uint32_t n = (uint32_t)f.len - 4;
	f.p[0] = (uint8_t)(n >> 24), f.p[1] = (uint8_t)(n >> 16);
	f.p[2] = (uint8_t)(n >> 8), f.p[3] = (uint8_t)n;
	send_pb(fd, &f);
	expect_dropped(fd, MGR_ELIMIT);
	assert_alive(b);
	/* a broken field after the deep argument: malformed, not over a limit */
	fd = harness_raw_session(b->h.path);
	static const uint8_t broken[] = {5 << 3 | 0, 0x80}; /* an unfinished varint */
	pb_put(&args, broken, sizeof(broken));
	f = frame_request(8, 0, "ping", 4, &args);
	send_pb(fd, &f);
	expect_dropped(fd, MGR_EPROTO);
	assert_alive(b);
	pb_free(&deep);
	pb_free(&args);
	wait_sessions(b, 1);
}

/* Depth of a decoded value: a scalar is 1. */
static size_t value_depth(const mgr_value *v)
{
	size_t d = 1;
	while (mgr_value_kind(v) == MGR_LIST && mgr_value_len(v) > 0) {
		v = mgr_value_list_get(v, 0);
		d++;
	}
	return d;
}

/* mgrd --max-depth 8: the argument is itself depth 1. */
static void test_depth_edge(void **state)
{
	struct bad *b = *state;
	int fd = harness_raw_session(b->h.path);
	for (size_t d = 1; d <= 8; d++) {
		send_deep(fd, d, d);
		mgr_value *v = expect_result(fd, d);
		assert_int_equal(value_depth(v), d);
		mgr_value_free(v);
	}
	send_deep(fd, 9, 9);
	expect_limit(fd, 9, "max_depth");
	raw_ping_ok(fd, 10);
	close(fd);
	assert_alive(b);

	/* the same edge through libmgr: the Welcome told it the limit */
	mgr_value *v = mgr_value_new_nil();
	for (int d = 1; d < 8; d++) {
		mgr_value *outer = mgr_value_new_list();
		assert_int_equal(mgr_value_list_append(outer, v), 0);
		v = outer;
	}
	mgr_value *r = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(b->h.c), "ping", &v, 1, &r), 0);
	assert_true(mgr_value_equal(v, r));
	mgr_value_free(r);
	mgr_client *c2;
	assert_int_equal(mgr_client_connect(b->h.path, &c2), 0);
	uint64_t session = mgr_client_session(c2);
	mgr_value *outer = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(outer, v), 0); /* depth 9 */
	assert_int_equal(mgr_call(mgr_client_manager(c2), "ping", &outer, 1, &r), MGR_ELIMIT);
	assert_string_equal(mgr_client_errmsg(c2),
			    "argument 1 is nested deeper than the manager's limit of 8 (max_depth)");
	assert_int_equal(mgr_client_session(c2), session);
	mgr_value_free(outer);
	mgr_client_close(c2);
	assert_alive(b);
	wait_sessions(b, 1);
}

/* ---- through libmgr: the Welcome's limits are checked before sending ---- */

/* A list value `depth` deep (a scalar is 1), an int innermost. */
static mgr_value *nested_value(int depth)
{
	mgr_value *v = mgr_value_new_int(depth);
	for (int d = 1; d < depth; d++) {
		mgr_value *outer = mgr_value_new_list();
		assert_int_equal(mgr_value_list_append(outer, v), 0);
		v = outer;
	}
	return v;
}

/* mgrd --max-depth 32: a value too deep fails its call and nothing else:
 * the session keeps its lock, its anonymous objects and its connection. */
static void test_libmgr_deep_keeps_session(void **state)
{
	struct bad *b = *state;
	mgr_client *c = b->h.c;
	uint64_t session = mgr_client_session(c);
	int64_t conns = harness_info(c, "connections_total");
	mgr_object *lock, *d, *q;
	bool got = false;
	assert_int_equal(mgr_lock_open(c, NULL, true, &lock), 0); /* robust: goes with the session */
	assert_int_equal(mgr_lock_acquire(lock, false, MGR_FOREVER, &got, NULL), 0);
	assert_true(got);
	assert_int_equal(mgr_object_create(c, "dict", NULL, NULL, 0, &d), 0);
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("k"), mgr_value_new_int(7)), 0);
	assert_int_equal(mgr_queue_open(c, NULL, 0, &q), 0);

	assert_int_equal(mgr_queue_put(q, nested_value(100), true, MGR_FOREVER), MGR_ELIMIT);
	assert_string_equal(mgr_client_errmsg(c), "argument 1 is nested deeper than the "
				"manager's limit of 32 (max_depth)");
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("deep"), nested_value(100)),
			 MGR_ELIMIT);
	assert_string_equal(mgr_client_errmsg(c), "argument 2 is nested deeper than the "
				"manager's limit of 32 (max_depth)");
	/* the async and batch faces check too */
	mgr_value *deep = nested_value(33), *key = mgr_value_new_string("deep"), *r = NULL;
	mgr_future *f = NULL;
	assert_int_equal(mgr_call_async(q, "put", &deep, 1, &f), MGR_ELIMIT);
	assert_null(f);
	assert_non_null(strstr(mgr_client_errmsg(c), "(max_depth)"));
	mgr_value *set_args[] = {key, deep};
	mgr_batch_call calls[] = {{"len", NULL, 0}, {"set", set_args, 2}};
	assert_int_equal(mgr_call_batch(d, calls, 2, &r), MGR_ELIMIT);
	assert_null(r);
	assert_string_equal(mgr_client_errmsg(c), "batch call 2 (set): argument 2 is nested "
				"deeper than the manager's limit of 32 (max_depth)");

	/* nothing was lost: same connection, same session */
	assert_int_equal(mgr_client_session(c), session);
	assert_int_equal(harness_info(c, "connections_total"), conns);
	bool owned = false;
	assert_int_equal(mgr_lock_owned(lock, &owned), 0);
	assert_true(owned);
	mgr_client *c2;
	mgr_object *lock2;
	assert_int_equal(mgr_client_connect(b->h.path, &c2), 0);
	mgr_value *ref = mgr_object_ref(lock);
	assert_int_equal(mgr_object_from_ref(c2, ref, &lock2), 0);
	mgr_value_free(ref);
	got = true;
	assert_int_equal(mgr_lock_acquire(lock2, false, MGR_FOREVER, &got, NULL), 0);
	assert_false(got); /* still ours */
	mgr_value *v = NULL, *k = mgr_value_new_string("k");
	assert_int_equal(mgr_dict_get(d, k, &v), 0); /* the anonymous dict is alive */
	assert_int_equal(mgr_value_int(v), 7);
	mgr_value_free(v);
	mgr_value_free(k);
	size_t n = 9;
	assert_int_equal(mgr_dict_len(d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mgr_queue_qsize(q, &n), 0);
	assert_int_equal(n, 0);
	/* exactly the limit passes, through the same session */
	mgr_value *edge = nested_value(32);
	assert_int_equal(mgr_queue_put(q, mgr_value_copy(edge), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_queue_get(q, true, MGR_FOREVER, &v), 0);
	assert_true(mgr_value_equal(v, edge));
	mgr_value_free(v);
	set_args[1] = edge;
	assert_int_equal(mgr_call_batch(d, calls, 2, &r), 0);
	mgr_value_free(r);
	assert_int_equal(mgr_call_async(q, "put", &edge, 1, &f), 0);
	assert_int_equal(mgr_future_wait(f, NULL), 0);
	assert_int_equal(mgr_client_session(c), session);
	assert_int_equal(harness_info(c, "connections_total"), conns + 1); /* c2's */

	mgr_value_free(edge);
	mgr_value_free(deep);
	mgr_value_free(key);
	mgr_object_release(lock2);
	mgr_client_close(c2);
	assert_int_equal(mgr_lock_release(lock), 0);
	mgr_object_release(lock);
	mgr_object_release(d);
	mgr_object_release(q);
	assert_alive(b);
}

/* mgrd --max-items 1000: a call of 1000 values is sent, 1001 is not. */
static void test_libmgr_items_edge(void **state)
{
	struct bad *b = *state;
	uint64_t session = mgr_client_session(b->h.c);
	mgr_value *l = mgr_value_new_list(), *r = NULL;
	for (int i = 0; i < 999; i++) /* the list and 999 items */
		assert_int_equal(mgr_value_list_append(l, mgr_value_new_nil()), 0);
	assert_int_equal(mgr_call(mgr_client_manager(b->h.c), "ping", &l, 1, &r), 0);
	assert_true(mgr_value_equal(l, r));
	mgr_value_free(r);
	r = NULL;
	assert_int_equal(mgr_value_list_append(l, mgr_value_new_nil()), 0);
	assert_int_equal(mgr_call(mgr_client_manager(b->h.c), "ping", &l, 1, &r), MGR_ELIMIT);
	assert_null(r);
	assert_string_equal(mgr_client_errmsg(b->h.c), "the call holds more than 1000 values, "
				"the manager's limit (max_items)");
	mgr_value_free(l);
	assert_int_equal(mgr_client_session(b->h.c), session);
	assert_alive(b);
}

/* ping(a string of pad bytes) through libmgr: its code. */
static int ping_pad(mgr_client *c, size_t pad)
{
	char *s = malloc(pad + 1);
	assert_non_null(s);
	memset(s, 'x', pad);
	s[pad] = '\0';
	mgr_value *v = mgr_value_new_string(s), *r = NULL;
	free(s);
	int err = mgr_call(mgr_client_manager(c), "ping", &v, 1, &r);
	if (!err)
		assert_true(mgr_value_equal(v, r));
	mgr_value_free(v);
	mgr_value_free(r);
	return err;
}

/* mgrd --max-frame 1024: the largest call libmgr sends is exactly 1024
 * bytes (id and thread id counted as they go out), the next is refused
 * before it leaves. */
static void test_libmgr_frame_edge(void **state)
{
	struct bad *b = *state;
	mgr_client *c = b->h.c;
	uint64_t session = mgr_client_session(c);
	int64_t conns = harness_info(c, "connections_total");
	size_t lo = 900, hi = 1100; /* lo passes, hi does not */
	assert_int_equal(ping_pad(c, lo), 0);
	assert_int_equal(ping_pad(c, hi), MGR_ELIMIT);
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		int err = ping_pad(c, mid);
		assert_true(err == 0 || err == MGR_ELIMIT);
		*(err ? &hi : &lo) = mid;
	}
	/* one byte more of string is one byte more of frame here */
	assert_int_equal(ping_pad(c, lo), 0);
	assert_int_equal(ping_pad(c, hi), MGR_ELIMIT);
	assert_string_equal(mgr_client_errmsg(c), "the call is 1025 bytes, over the manager's "
				"limit of 1024 (max_frame)");
	assert_int_equal(mgr_client_session(c), session);
	assert_int_equal(harness_info(c, "connections_total"), conns);
	assert_alive(b);
}

/* A Request with 1,000,000 Values: manager.create("list", nil, [<999,997
 * empty Values>]) (a list takes one constructor argument: more are
 * refused), or ping(<1,000,000 empty Values>). Returns the fd it went to. */
static int send_million(struct bad *b, uint64_t id, const char *method)
{
	struct pb args = {0}, first = {0}, items = {0}, initial = {0};
	size_t values = 0;
	static const uint8_t empty_arg[2] = {4 << 3 | 2, 0}, empty_item[2] = {1 << 3 | 2, 0};
	if (strcmp(method, "create") == 0) {
		val_str(&first, "list", 4);
		args_add(&args, &first);
		pb_free(&first);
		pb_put(&args, empty_arg, 2); /* the name: nil */
		for (values = 3; values < 1000000; values++)
			pb_put(&items, empty_item, 2);
		pb_lendelim(&initial, 7, items.p, items.len); /* Value.list */
		args_add(&args, &initial);
		pb_free(&items);
		pb_free(&initial);
	}
	for (; values < 1000000; values++)
		pb_put(&args, empty_arg, 2);
	int fd = harness_raw_session(b->h.path);
	struct pb f = frame_request(id, 0, method, strlen(method), &args);
	send_pb(fd, &f);
	pb_free(&args);
	return fd;
}

/* At the default limit (1,048,576) a million empty values are served. */
static void test_million_default(void **state)
{
	struct bad *b = *state;
	int fd = send_million(b, 7, "create");
	mgr_value *v = expect_result(fd, 7);
	assert_int_equal(mgr_value_kind(v), MGR_REF);
	assert_string_equal(mgr_value_ref_type(v), "list");
	mgr_value_free(v);
	raw_ping_ok(fd, 8);
	close(fd);
	/* a million arguments to a method that takes at most one: EARGS, exactly */
	fd = send_million(b, 9, "ping");
	struct msg m;
	assert_true(harness_raw_recv_msg(fd, &m, WAIT_MS));
	assert_int_equal(m.u.reply.id, 9);
	assert_int_equal(m.u.reply.code, MGR_EARGS);
	assert_non_null(strstr(m.u.reply.message, "got 1000000"));
	msg_clear(&m);
	raw_ping_ok(fd, 10);
	close(fd);
	assert_alive(b);
	wait_sessions(b, 1);
}

/* mgrd --max-items 1000000: exactly the limit passes. */
static void test_million_at_limit(void **state)
{
	struct bad *b = *state;
	int fd = send_million(b, 7, "create");
	mgr_value *v = expect_result(fd, 7);
	assert_int_equal(mgr_value_kind(v), MGR_REF);
	mgr_value_free(v);
	raw_ping_ok(fd, 8);
	close(fd);
	assert_alive(b);
}

/* mgrd --max-items 999999: one over the limit is refused. */
static void test_million_over_limit(void **state)
{
	struct bad *b = *state;
	int64_t objects = harness_info(b->h.c, "objects");
	int fd = send_million(b, 7, "create");
	expect_limit(fd, 7, "max_items");
	raw_ping_ok(fd, 8); /* refused alone: the connection stays */
	close(fd);
	assert_alive(b);
	assert_int_equal(harness_info(b->h.c, "objects"), objects);
	wait_sessions(b, 1);
}

static void test_invalid_utf8(void **state)
{
	struct bad *b = *state;
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
		{"\xff", 1},		 /* never valid */
		{"ab\xc3", 3},		 /* truncated sequence */
		{"\xc0\xaf", 2},	 /* overlong '/' */
		{"\xe0\x80\xaf", 3},	 /* overlong, 3 bytes */
		{"\xed\xa0\x80", 3},	 /* a UTF-16 surrogate */
		{"\xf4\x90\x80\x80", 4}, /* above U+10FFFF */
		{"\x80", 1},		 /* a lone continuation byte */
		{"a\0b", 3},		 /* NUL: valid UTF-8, but not in an mgr string */
	};
	int fd = harness_raw_session(b->h.path);
	uint64_t id = 100;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_call_str(fd, ++id, "ping", bad[i].s, bad[i].n);
		expect_fail(fd, id, MGR_EUTF8);
		raw_ping_ok(fd, ++id); /* the connection stays usable */
	}
	/* valid multi-byte text passes */
	static const char good[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";
	send_call_str(fd, ++id, "ping", good, strlen(good));
	mgr_value *v = expect_result(fd, id);
	assert_string_equal(mgr_value_string(v, NULL), "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
	mgr_value_free(v);

	/* inside a list inside a map value, and as a map key */
	struct pb s = {0}, list = {0}, item = {0}, entry = {0}, map = {0}, val = {0}, args = {0};
	val_str(&s, "\xfe", 1);
	pb_lendelim(&list, 1, s.p, s.len);       /* ValueList{items: s} */
	pb_lendelim(&item, V_LIST, list.p, list.len); /* Value{list} */
	struct pb key = {0};
	val_str(&key, "k", 1);
	pb_lendelim(&entry, 1, key.p, key.len);
	pb_lendelim(&entry, 2, item.p, item.len);
	pb_lendelim(&map, 1, entry.p, entry.len);
	pb_lendelim(&val, V_MAP, map.p, map.len);
	args_add(&args, &val);
	struct pb f = frame_request(++id, 0, "ping", 4, &args);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_EUTF8);
	pb_free(&entry);
	pb_free(&map);
	pb_free(&val);
	pb_free(&args);
	pb_lendelim(&entry, 1, s.p, s.len); /* the bad string as the key */
	pb_lendelim(&entry, 2, key.p, key.len);
	pb_lendelim(&map, 1, entry.p, entry.len);
	pb_lendelim(&val, V_MAP, map.p, map.len);
	args_add(&args, &val);
	f = frame_request(++id, 0, "ping", 4, &args);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_EUTF8);
	struct pb *all[] = {&s, &list, &item, &entry, &map, &val, &args, &key};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		pb_free(all[i]);

	/* in the method name */
	f = frame_request(++id, 0, "pi\xffng", 5, NULL);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_EUTF8);
	raw_ping_ok(fd, ++id);
	close(fd);
	assert_alive(b);
}

static void test_bad_calls(void **state)
{
	struct bad *b = *state;
	int fd = harness_raw_session(b->h.path);
	uint64_t id = 1;
	/* unknown object */
	struct pb f = frame_request(++id, 987654321, "get", 3, NULL);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_ENOOBJ);
	/* unknown method (of the manager, then of a real object) */
	f = frame_request(++id, 0, "frobnicate", 10, NULL);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_ENOMETHOD);
	send_call_str(fd, ++id, "create", "dict", 4);
	mgr_value *ref = expect_result(fd, id);
	uint64_t obj = mgr_value_ref_id(ref);
	mgr_value_free(ref);
	f = frame_request(++id, obj, "append", 6, NULL);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_ENOMETHOD);
	/* wrong argument count: dict.set with one, dict.len with one */
	struct pb v = {0}, args = {0};
	val_str(&v, "k", 1);
	args_add(&args, &v);
	f = frame_request(++id, obj, "set", 3, &args);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_EARGS);
	f = frame_request(++id, obj, "len", 3, &args);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_EARGS);
	f = frame_request(++id, obj, "get", 3, NULL);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_EARGS);
	/* wrong kind: a list as a dict key (ETYPE, as inside a map: issue 17);
	 * a string as a counter delta (EARGS) */
	pb_free(&v);
	pb_free(&args);
	pb_lendelim(&v, V_LIST, "", 0);
	args_add(&args, &v);
	f = frame_request(++id, obj, "get", 3, &args);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_ETYPE);
	send_call_str(fd, ++id, "create", "counter", 7);
	ref = expect_result(fd, id);
	uint64_t k = mgr_value_ref_id(ref);
	mgr_value_free(ref);
	pb_free(&v);
	pb_free(&args);
	val_str(&v, "x", 1);
	args_add(&args, &v);
	f = frame_request(++id, k, "add", 3, &args);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_EARGS);
	pb_free(&v);
	pb_free(&args);
	val_int(&v, -3);
	args_add(&args, &v);
	f = frame_request(++id, k, "add", 3, &args);
	send_pb(fd, &f);
	mgr_value *r = expect_result(fd, id);
	assert_int_equal(mgr_value_int(r), -3);
	mgr_value_free(r);
	pb_free(&v);
	pb_free(&args);
	/* an empty method name; a map key that is not a key kind */
	f = frame_request(++id, k, "", 0, NULL);
	send_pb(fd, &f);
	expect_fail(fd, id, MGR_ENOMETHOD);
	raw_ping_ok(fd, ++id);
	close(fd);
	assert_alive(b);
	wait_sessions(b, 1);
}

/* mgrd --max-outbuf 65536: a client that never reads is cut off. */
static void test_never_reads(void **state)
{
	struct bad *b = *state;
	int fd = harness_raw_session(b->h.path);
	struct timeval tv = {10, 0}; /* never hang the test on a full socket */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char *pad = malloc(1024);
	memset(pad, 'p', 1024);
	struct pb all = {0};
	for (uint64_t id = 1; id <= 4000; id++) { /* ~4 MiB of replies */
		struct pb v = {0}, args = {0};
		val_str(&v, pad, 1024);
		args_add(&args, &v);
		struct pb f = frame_request(id, 0, "ping", 4, &args);
		pb_put(&all, f.p, f.len);
		pb_free(&f);
		pb_free(&v);
		pb_free(&args);
	}
	free(pad);
	send_pb(fd, &all);
	assert_alive(b); /* while the bad one's replies pile up */
	assert_true(harness_raw_closed(fd, WAIT_MS));
	close(fd);
	assert_alive(b);
	wait_sessions(b, 1);

	/* a client that reads its (big) replies is not cut off */
	char *buf = malloc(32768);
	memset(buf, 7, 32768);
	mgr_value *big = mgr_value_new_bytes(buf, 32768), *r;
	free(buf);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(mgr_call(mgr_client_manager(b->h.c), "ping", &big, 1, &r), 0);
		assert_true(mgr_value_equal(big, r));
		mgr_value_free(r);
	}
	mgr_value_free(big);
	assert_alive(b);
}

/* mgrd --handshake-timeout 200 */
static void test_handshake_deadline(void **state)
{
	struct bad *b = *state;
	int silent = harness_raw_connect(b->h.path);
	int partial = harness_raw_connect(b->h.path);
	int good = harness_raw_session(b->h.path);
	harness_raw_send(partial, "\0\0\0\x10\x0a", 5); /* half a Hello */
	assert_true(harness_raw_closed(silent, WAIT_MS));
	assert_true(harness_raw_closed(partial, WAIT_MS));
	close(silent);
	close(partial);
	/* the deadline is for the handshake only */
	assert_false(harness_raw_closed(good, 400));
	raw_ping_ok(good, 1);
	close(good);
	assert_alive(b);
	wait_sessions(b, 1);
}

static void test_pipelining(void **state)
{
	struct bad *b = *state;
	enum { N = 1000 };
	int fd = harness_raw_session(b->h.path);
	struct pb all = {0};
	for (uint64_t id = 1; id <= N; id++) {
		struct pb v = {0}, args = {0};
		val_int(&v, (int64_t)id * 3);
		args_add(&args, &v);
		/* every tenth one fails, and must fail with its own id */
		struct pb f = id % 10 ? frame_request(id, 0, "ping", 4, &args)
				      : frame_request(id, 0, "nosuch", 6, &args);
		pb_put(&all, f.p, f.len);
		pb_free(&f);
		pb_free(&v);
		pb_free(&args);
	}
	send_pb(fd, &all); /* one write */
	bool seen[N + 1] = {false};
	for (int i = 0; i < N; i++) {
		struct msg m;
		assert_true(harness_raw_recv_msg(fd, &m, WAIT_MS));
		assert_int_equal(m.kind, MSG_REPLY);
		uint64_t id = m.u.reply.id;
		assert_true(id >= 1 && id <= N && !seen[id]);
		seen[id] = true;
		if (id % 10) {
			assert_int_equal(m.u.reply.code, 0);
			assert_int_equal(mgr_value_int(m.u.reply.value), (int64_t)id * 3);
		} else {
			assert_int_equal(m.u.reply.code, MGR_ENOMETHOD);
		}
		msg_clear(&m);
	}
	raw_ping_ok(fd, N + 1);
	close(fd);
	assert_alive(b);
}

static const char *const no_args[] = {NULL};
static const char *const small_frame[] = {"--max-frame", "1024", NULL};
static const char *const depth8[] = {"--max-depth", "8", NULL};
static const char *const depth32[] = {"--max-depth", "32", NULL};
static const char *const items1000[] = {"--max-items", "1000", NULL};
static const char *const items_at[] = {"--max-items", "1000000", NULL};
static const char *const items_under[] = {"--max-items", "999999", NULL};
static const char *const small_outbuf[] = {"--max-outbuf", "65536", NULL};
static const char *const quick_handshake[] = {"--handshake-timeout", "200", NULL};

/* Each test gets its own mgrd, started with args. */
#define WITH(test, args) \
	cmocka_unit_test_prestate_setup_teardown(test, setup_with, teardown, (void *)(args))

int main(void)
{
	const struct CMUnitTest tests[] = {
		WITH(test_garbage, no_args),
		WITH(test_frame_limit, small_frame),
		WITH(test_truncated, no_args),
		WITH(test_request_before_hello, no_args),
		WITH(test_wrong_version, no_args),
		WITH(test_deep_10000, no_args),
		WITH(test_deep_pipelined, no_args),
		WITH(test_deep_not_a_request, no_args),
		WITH(test_depth_edge, depth8),
		WITH(test_libmgr_deep_keeps_session, depth32),
		WITH(test_libmgr_items_edge, items1000),
		WITH(test_libmgr_frame_edge, small_frame),
		WITH(test_million_default, no_args),
		WITH(test_million_at_limit, items_at),
		WITH(test_million_over_limit, items_under),
		WITH(test_invalid_utf8, no_args),
		WITH(test_bad_calls, no_args),
		WITH(test_never_reads, small_outbuf),
		WITH(test_handshake_deadline, quick_handshake),
		WITH(test_pipelining, no_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
