/* The spin hint (Reply.spin): the manager polls for ring clients observed
 * running on another CPU (issue 14) and for socket sessions whose Hello
 * says they poll theirs (issue 16, mgrd/sock-poll.c), so a socket-only
 * client - one written from the protocol document, which never polls for
 * its reply - is never told it polls nor polled for, and `mgrd --no-spin`
 * never does either. Checked on the wire, not by timing. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mgr/sync.h>

#include "../libmgr/client.h"
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

/* A consumer parked in get: its reply waits for another client, so mgrd
 * must not invite it to poll (the CPU hint in its ring goes to 0) - else
 * the consumer polls for a reply only the producer can bring, and mgrd
 * polls it back because it looks awake (issue 14's queue case). Checked
 * on the ring's header, not by timing; bounded waits. */
struct parked_get {
	mgr_object *q;
	int rc;
};

static void *parked_get_run(void *arg)
{
	struct parked_get *g = arg;
	mgr_value *item = NULL;
	g->rc = mgr_queue_get(g->q, true, 10000, &item);
	mgr_value_free(item);
	return NULL;
}

static uint32_t server_cpu_hint(mgr_client *c)
{
	return __atomic_load_n(&c->ring->r.shm->cpu[RING_SERVER], __ATOMIC_RELAXED);
}

static void test_parked_call_not_polled(void **state)
{
	(void)state;
	struct harness h;
	harness_start(&h, NULL);
	mgr_client *consumer;
	assert_int_equal(mgr_client_connect(h.path, &consumer), 0);
	if (!consumer->ring) { /* MGR_RING_SIZE=0: no ring, no hint */
		mgr_client_close(consumer);
		harness_stop(&h);
		skip();
	}
	mgr_object *pq, *cq;
	assert_int_equal(mgr_queue_open(h.c, "parked", 0, &pq), 0);
	assert_int_equal(mgr_queue_open(consumer, "parked", 0, &cq), 0);
	assert_int_not_equal(server_cpu_hint(consumer), 0); /* the open: "poll for me" */
	struct parked_get g = {cq, -1};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, parked_get_run, &g), 0);
	bool zero = false; /* up to 5 s for mgrd to read and park the get */
	for (int i = 0; i < 5000 && !zero; i++) {
		zero = server_cpu_hint(consumer) == 0;
		if (!zero)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	assert_int_equal(mgr_queue_put(pq, mgr_value_new_int(1), true, 5000), 0);
	pthread_join(t, NULL);
	assert_int_equal(g.rc, 0);
	assert_true(zero);
	mgr_object_release(cq);
	mgr_object_release(pq);
	mgr_client_close(consumer);
	harness_stop(&h);
}

/* ---- sessions that poll their socket (Hello.polls, mgrd/sock-poll.c) ---- */

/* The "polls" of a session in the manager's clients view: the one named
 * name, or if NULL the one numbered session (-1: no such session). */
static int session_polls(mgr_client *c, const char *name, uint64_t session)
{
	mgr_value *l = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(c), "clients", NULL, 0, &l), 0);
	int polls = -1;
	mgr_value *kn = mgr_value_new_string("name"), *kp = mgr_value_new_string("polls");
	for (size_t i = 0; i < mgr_value_len(l); i++) {
		const mgr_value *row = mgr_value_list_get(l, i);
		const char *n = mgr_value_string(mgr_value_map_get(row, kn), NULL);
		if (name ? n && !strcmp(n, name) : (uint64_t)harness_map_int(row, "session") == session)
			polls = mgr_value_bool(mgr_value_map_get(row, kp));
	}
	mgr_value_free(kn);
	mgr_value_free(kp);
	mgr_value_free(l);
	return polls;
}

/* n pings on raw session fd, each answered in order with its own id and
 * value: whether any reply carried the spin hint. */
static bool raw_pings(int fd, int n)
{
	bool spin = false;
	for (int i = 1; i <= n; i++) {
		mgr_value *arg = mgr_value_new_int(i);
		struct msg m = {.kind = MSG_REQUEST};
		m.u.request = (struct msg_request){.id = (uint64_t)i, .object = 0, .method = "ping",
						   .args = &arg, .nargs = 1};
		harness_raw_send_msg(fd, &m);
		mgr_value_free(arg);
		struct msg r;
		assert_true(harness_raw_recv_msg(fd, &r, 5000));
		assert_int_equal(r.kind, MSG_REPLY);
		assert_int_equal(r.u.reply.id, (uint64_t)i);
		assert_int_equal(r.u.reply.code, 0);
		assert_int_equal(mgr_value_int(r.u.reply.value), i);
		spin |= r.u.reply.spin;
		msg_clear(&r);
	}
	return spin;
}

/* What the Hello says is what the manager records: a raw session saying
 * polls, one not saying it, libmgr's own session (with a ring: its polls
 * do not count, the ring has its own) and libmgr without a ring
 * (MGR_RING_SIZE=0: it polls its UNIX socket, and says so). */
static void test_hello_polls_recorded(void **state)
{
	(void)state;
	struct harness h;
	harness_start(&h, NULL);
	int yes = harness_raw_session_as(h.path, "raw-polls", true);
	int no = harness_raw_session_as(h.path, "raw-sleeps", false);
	setenv("MGR_RING_SIZE", "0", 1);
	mgr_client *sock;
	assert_int_equal(mgr_client_connect(h.path, &sock), 0);
	unsetenv("MGR_RING_SIZE");
	assert_int_equal(session_polls(h.c, "raw-polls", 0), 1);
	assert_int_equal(session_polls(h.c, "raw-sleeps", 0), 0);
	cpu_set_t cpus;
	bool two = !sched_getaffinity(0, sizeof(cpus), &cpus) && CPU_COUNT(&cpus) > 1;
	assert_int_equal(session_polls(h.c, NULL, mgr_client_session(sock)), two);
	/* the harness's client: a ring (its polls are the ring's), unless
	 * this run forces the socket */
	if (h.c->ring)
		assert_int_equal(session_polls(h.c, NULL, mgr_client_session(h.c)), 0);
	(void)raw_pings(yes, 200); /* answered in order, each its own (asserted) */
	close(yes);
	close(no);
	mgr_client_close(sock);
	harness_stop(&h);
}

/* mgrd polls its sockets only after calls from a session that polls its
 * own: 2000 calls from a session that sleeps in recv (one written from the
 * protocol document) are never polled for (the catches counted in info's
 * socket_polls stay 0) nor hinted; with --no-spin, not even for a session
 * that polls. Deterministic: no timing. */
static void test_socket_polls_only_for_pollers(void **state)
{
	(void)state;
	struct harness h;
	harness_start(&h, NULL);
	int fd = harness_raw_session_as(h.path, "raw-sleeps", false);
	assert_false(raw_pings(fd, 2000));
	assert_int_equal(harness_info(h.c, "socket_polls"), 0);
	close(fd);
	harness_stop(&h);

	const char *args[] = {"--no-spin", NULL};
	harness_start(&h, args);
	fd = harness_raw_session_as(h.path, "raw-polls", true);
	assert_false(raw_pings(fd, 2000));
	assert_int_equal(harness_info(h.c, "socket_polls"), 0);
	close(fd);
	harness_stop(&h);
}

/* A stop right after a polling session's last calls, while mgrd still
 * polls for more (for up to its budget): it stops in time, cleanly. An
 * exit asked for inside a poll's non-blocking turn (the signal, the last
 * session gone) used to be forgotten by the next blocking turn, and mgrd
 * ran on until killed. Twenty rounds: the window is the poll's budget. */
static void test_stop_while_polling(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		struct harness h;
		harness_start(&h, NULL);
		int fd = harness_raw_session_as(h.path, "raw-polls", true);
		(void)raw_pings(fd, 300);
		close(fd);
		harness_stop(&h); /* fails unless mgrd stopped cleanly in time */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_never_hinted),
		cmocka_unit_test(test_no_spin),
		cmocka_unit_test(test_many_clients_no_hint),
		cmocka_unit_test(test_parked_call_not_polled),
		cmocka_unit_test(test_hello_polls_recorded),
		cmocka_unit_test(test_socket_polls_only_for_pollers),
		cmocka_unit_test(test_stop_while_polling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
