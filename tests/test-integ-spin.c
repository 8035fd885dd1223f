/* The spin hint (Reply.spin): the manager polls only for ring clients
 * observed running on another CPU (issue 14), so a socket-only client - one
 * written from the protocol document, which never polls for its reply - is
 * never told it polls, and `mgrd --no-spin` never does either. Checked on
 * the wire, not by timing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_never_hinted),
		cmocka_unit_test(test_no_spin),
		cmocka_unit_test(test_many_clients_no_hint),
		cmocka_unit_test(test_parked_call_not_polled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
