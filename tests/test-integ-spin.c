/* The spin hint (Reply.spin): the manager polls only for ring clients
 * observed running on another CPU (issue 14), so a socket-only client - one
 * written from the protocol document, which never polls for its reply - is
 * never told it polls, and `mgrd --no-spin` never does either. Checked on
 * the wire, not by timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* Pings on a raw session: whether any reply carried the spin hint (this
 * client never polls, so the manager's budget may fall to zero after a few
 * slow catches: that is the back-off working). */
static bool spin_hint(const char *path)
{
	int fd = harness_raw_session(path);
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = 7, .object = 0, .method = "ping"};
	bool spin = false;
	for (int i = 0; i < 3; i++) {
		harness_raw_send_msg(fd, &m);
		struct msg r;
		assert_true(harness_raw_recv_msg(fd, &r, 5000));
		assert_int_equal(r.kind, MSG_REPLY);
		assert_int_equal(r.u.reply.id, 7);
		assert_int_equal(r.u.reply.code, 0);
		spin |= r.u.reply.spin;
		msg_clear(&r);
	}
	close(fd);
	return spin;
}

/* A socket session, alone with the manager on any number of CPUs: no hint
 * (the manager used to poll its socket and hint on two CPUs or more). */
static void test_socket_never_hinted(void **state)
{
	(void)state;
	struct harness h;
	harness_start(&h, NULL);
	assert_false(spin_hint(h.path));
	harness_stop(&h);
}

static void test_no_spin(void **state)
{
	(void)state;
	struct harness h;
	const char *args[] = {"--no-spin", NULL};
	harness_start(&h, args);
	assert_false(spin_hint(h.path));
	/* and calls work as ever */
	int64_t n = harness_info(h.c, "sessions");
	assert_true(n >= 1);
	harness_stop(&h);
}

/* With more clients than it spins for, no hint either. */
static void test_many_clients_no_hint(void **state)
{
	(void)state;
	struct harness h;
	harness_start(&h, NULL);
	mgr_client *more[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(mgr_client_connect(h.path, &more[i]), 0);
	assert_false(spin_hint(h.path));
	for (int i = 0; i < 4; i++)
		mgr_client_close(more[i]);
	harness_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_never_hinted),
		cmocka_unit_test(test_no_spin),
		cmocka_unit_test(test_many_clients_no_hint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
