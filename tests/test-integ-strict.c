/* Protocol strictness (issue 17), found by a client written from
 * proto/README.md alone: a request with id 0 (reserved for the
 * connection's own replies) ends the connection with Reply{id: 0, EPROTO};
 * a request with both a method and a batch is refused (EARGS) instead of
 * running the batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void test_id_zero(void **state)
{
	(void)state;
	int fd = harness_raw_session(h.path);
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = 0, .object = 0, .method = "ping"};
	harness_raw_send_msg(fd, &m);
	struct msg r = {0};
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.kind, MSG_REPLY);
	assert_int_equal(r.u.reply.id, 0);
	assert_int_equal(r.u.reply.code, MGR_EPROTO);
	msg_clear(&r);
	assert_true(harness_raw_closed(fd, WAIT_MS));
	close(fd);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_zero),
		cmocka_unit_test(test_method_and_batch),
	};
	return cmocka_run_group_tests_name("strict", tests, setup, teardown);
}
