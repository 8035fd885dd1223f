/* Protocol strictness (issue 17), found by a client written from
 * proto/README.md alone: a request with id 0 (reserved for the
 * connection's own replies) ends the connection with Reply{id: 0, EPROTO};
 * a request with both a method and a batch is refused (EARGS) instead of
 * running the batch; a method name holding a NUL ("ping\0junk") is EUTF8
 * for that request, never run as "ping", however the frame is decoded; a
 * key of a kind that cannot be one is ETYPE, whether it is an argument or
 * a key inside a map argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 10000

static struct harness h;

static int setup(void **state)
{
	(void)state;
	harness_start(&h, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop(&h);
	return 0;
}

/* mgrd answers Reply{id: 0, EPROTO} and closes fd's connection. */
static void expect_id0_violation(int fd)
{
	struct msg r = {0};
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.kind, MSG_REPLY);
	assert_int_equal(r.u.reply.id, 0);
	assert_int_equal(r.u.reply.code, MGR_EPROTO);
	msg_clear(&r);
	assert_true(harness_raw_closed(fd, WAIT_MS));
	close(fd);
}

static void test_id_zero(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = 0, .object = 0, .method = "ping"};
	harness_raw_send_msg(fd, &m);
	expect_id0_violation(fd);
}

static void test_method_and_batch(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	struct msg_call calls[] = {{"ping", NULL, 0}};
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = 7, .object = 0, .method = "info",
					   .batch = calls, .nbatch = 1};
	harness_raw_send_msg(fd, &m);
	struct msg r = {0};
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.u.reply.id, 7);
	assert_int_equal(r.u.reply.code, MGR_EARGS);
	msg_clear(&r);
	/* the connection lives on: a plain request is answered */
	m.u.request = (struct msg_request){.id = 8, .object = 0, .method = "types"};
	harness_raw_send_msg(fd, &m);
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.u.reply.id, 8);
	msg_clear(&r);
	close(fd);
}

/* ---- raw frames, byte by byte (every length here is under 128) ---- */

struct bytes {
	uint8_t p[256];
	size_t len;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->p));
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* A length-delimited field: tag, length, the bytes. */
static void put_field(struct bytes *b, unsigned num, const void *p, size_t n)
{
	assert_true(num < 16 && n < 128);
	uint8_t head[2] = {(uint8_t)(num << 3 | 2), (uint8_t)n};
	put(b, head, 2);
	put(b, p, n);
}

static void put_varint_field(struct bytes *b, unsigned num, uint8_t v)
{
	assert_true(num < 16 && v < 128);
	uint8_t f[2] = {(uint8_t)(num << 3), v};
	put(b, f, 2);
}

/* Frame{request: req} with its big-endian length prefix, sent on fd. */
static void send_request(int fd, const struct bytes *req)
{
	struct bytes fr = {0};
	uint8_t len[4] = {0, 0, 0, (uint8_t)(req->len + 2)};
	put(&fr, len, 4);
	put_field(&fr, 3, req->p, req->len);
	harness_raw_send(fd, fr.p, fr.len);
}

/* The reply to id: its code (0: a value). */
static int reply_code(int fd, uint64_t id)
{
	struct msg r = {0};
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.kind, MSG_REPLY);
	assert_int_equal(r.u.reply.id, id);
	int code = r.u.reply.code;
	msg_clear(&r);
	return code;
}

/* The session is still there: a plain ping is answered. */
static void assert_alive(int fd, uint64_t id)
{
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = id, .object = 0, .method = "ping"};
	harness_raw_send_msg(fd, &m);
	assert_int_equal(reply_code(fd, id), 0);
}

static const char nul_name[] = "ping\0junk"; /* 9 bytes */

/* The same when the id-0 request also fails to decode (a name that is not
 * UTF-8): still a violation of the id, not an error answered and served on. */
static void test_id_zero_undecodable(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	struct bytes q = {0};
	put_field(&q, 3, nul_name, sizeof(nul_name) - 1); /* id 0: field 1 absent */
	send_request(fd, &q);
	expect_id0_violation(fd);
}

/* Request{id, method: "ping\0junk"} in the plain form: the fast decoder
 * steps aside, protobuf-c would cut the name at the NUL. */
static void test_method_nul(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	struct bytes q = {0};
	put_varint_field(&q, 1, 21);
	put_field(&q, 3, nul_name, sizeof(nul_name) - 1);
	send_request(fd, &q);
	assert_int_equal(reply_code(fd, 21), MGR_EUTF8);
	assert_alive(fd, 22);
	close(fd);
}

/* The same with a field the fast decoder does not know (15): only
 * protobuf-c reads it. */
static void test_method_nul_unknown_field(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	struct bytes q = {0};
	put_varint_field(&q, 1, 23);
	put_field(&q, 3, nul_name, sizeof(nul_name) - 1);
	put_varint_field(&q, 15, 1);
	send_request(fd, &q);
	assert_int_equal(reply_code(fd, 23), MGR_EUTF8);
	assert_alive(fd, 24);
	close(fd);
}

/* A batch Call's name: Request{id, object 0, batch: [Call{method}]}. */
static void test_batch_method_nul(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	struct bytes call = {0}, q = {0};
	put_field(&call, 1, nul_name, sizeof(nul_name) - 1);
	put_varint_field(&q, 1, 25);
	put_field(&q, 7, call.p, call.len);
	send_request(fd, &q);
	assert_int_equal(reply_code(fd, 25), MGR_EUTF8);
	assert_alive(fd, 26);
	close(fd);
}

/* A dict made on the raw session; its id (< 128 in this test run). */
static uint8_t raw_dict(int fd)
{
	mgr_value *args[] = {mgr_value_new_string("dict")};
	struct msg m = {.kind = MSG_REQUEST}, r = {0};
	m.u.request = (struct msg_request){.id = 30, .object = 0, .method = "create",
					   .args = args, .nargs = 1};
	harness_raw_send_msg(fd, &m);
	mgr_value_free(args[0]);
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.u.reply.code, 0);
	assert_int_equal(mgr_value_kind(r.u.reply.value), MGR_REF);
	uint64_t id = r.u.reply.value->u.ref.id;
	msg_clear(&r);
	assert_true(id > 0 && id < 128);
	return (uint8_t)id;
}

/* dict.get([]) and dict.set("a", {[]: 1}): the same bad key, as the
 * argument and inside a map argument, is the same error: ETYPE. */
static void test_bad_key_one_error(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	uint8_t dict = raw_dict(fd);
	static const uint8_t list[] = {0x3a, 0x00};          /* Value{list: {}} */
	static const uint8_t one[] = {0x18, 0x02};           /* Value{i: 1} */
	static const uint8_t str_a[] = {0x2a, 0x01, 'a'};    /* Value{s: "a"} */
	struct bytes q = {0};
	put_varint_field(&q, 1, 31);
	put_varint_field(&q, 2, dict);
	put_field(&q, 3, "get", 3);
	put_field(&q, 4, list, sizeof(list));
	send_request(fd, &q);
	assert_int_equal(reply_code(fd, 31), MGR_ETYPE);

	struct bytes entry = {0}, map = {0}, val = {0};
	put_field(&entry, 1, list, sizeof(list));
	put_field(&entry, 2, one, sizeof(one));
	put_field(&map, 1, entry.p, entry.len);
	put_field(&val, 8, map.p, map.len); /* Value{map: {entries: [entry]}} */
	q = (struct bytes){0};
	put_varint_field(&q, 1, 32);
	put_varint_field(&q, 2, dict);
	put_field(&q, 3, "set", 3);
	put_field(&q, 4, str_a, sizeof(str_a));
	put_field(&q, 4, val.p, val.len);
	send_request(fd, &q);
	assert_int_equal(reply_code(fd, 32), MGR_ETYPE);

	/* and as the key of a [key, value] pair of dict()'s constructor */
	mgr_value *pair = mgr_value_new_list(), *pairs = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(pair, mgr_value_new_list()), 0);
	assert_int_equal(mgr_value_list_append(pair, mgr_value_new_int(1)), 0);
	assert_int_equal(mgr_value_list_append(pairs, pair), 0);
	mgr_value *args[] = {mgr_value_new_string("dict"), mgr_value_new_nil(), pairs};
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = 34, .object = 0, .method = "create",
					   .args = args, .nargs = 3};
	harness_raw_send_msg(fd, &m);
	for (size_t i = 0; i < 3; i++)
		mgr_value_free(args[i]);
	assert_int_equal(reply_code(fd, 34), MGR_ETYPE);
	assert_alive(fd, 33);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_zero),
		cmocka_unit_test(test_id_zero_undecodable),
		cmocka_unit_test(test_method_and_batch),
		cmocka_unit_test(test_method_nul),
		cmocka_unit_test(test_method_nul_unknown_field),
		cmocka_unit_test(test_batch_method_nul),
		cmocka_unit_test(test_bad_key_one_error),
	};
	return cmocka_run_group_tests_name("strict", tests, setup, teardown);
}
