/* pipe across real processes (Python's Pipe()): messages in order both
 * ways, poll with 0 (now) and with a timeout, EOF when the other end's
 * process is killed or the end is closed (bounded: a regression fails, it
 * does not hang), a full end blocking or failing, one-way pipes, and ends
 * handed to children through an inherited handle and by id. Children run
 * through mgr_process_start and never use cmocka (CHK exits non-zero). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mgr/pipe.h>
#include <mgr/process.h>

#include "sync-helpers.h"

/* Bounds for what must come quickly: generous, a regression hits them. */
#define SOON_MS 10000

struct ends {
	mgr_object *a, *b;
	const char *path;
};

static void ends_new(struct harness *h, const mgr_pipe_opts *o, struct ends *e)
{
	assert_int_equal(mgr_pipe_new(h->c, o, &e->a, &e->b), 0);
	assert_string_equal(mgr_object_type(e->a), "pipe");
	assert_string_equal(mgr_object_type(e->b), "pipe");
	assert_int_not_equal(mgr_object_id(e->a), mgr_object_id(e->b));
	e->path = h->path;
}

static void ends_free(struct ends *e)
{
	mgr_object_release(e->a);
	mgr_object_release(e->b);
}

static int64_t recv_int(mgr_object *end, int64_t timeout_ms, int *err)
{
	mgr_value *v = NULL;
	*err = mgr_pipe_recv(end, timeout_ms, &v);
	int64_t n = *err ? -1 : mgr_value_kind(v) == MGR_INT ? mgr_value_int(v) : -2;
	mgr_value_free(v);
	return n;
}

static void join_ok(mgr_process *p)
{
	int code = -1;
	assert_int_equal(mgr_process_join(p, SOON_MS, &code), 0);
	assert_int_equal(code, 0);
	mgr_process_free(p);
}

/* ---- order, both ways, through the inherited handle ---- */

/* The child echoes n+1000 for each n until it gets -1. */
static int echo_child(void *arg)
{
	struct ends *e = arg;
	int err;
	CHK(mgr_pipe_claim(e->b) == 0);
	for (int64_t n; (n = recv_int(e->b, SOON_MS, &err)) != -1 || err;) {
		CHK(err == 0);
		CHK(mgr_pipe_send(e->b, mgr_value_new_int(n + 1000), MGR_FOREVER) == 0);
	}
	return 0;
}

static void test_pipe_order(void **state)
{
	struct ends e;
	mgr_process *p;
	int err;
	ends_new(*state, NULL, &e);
	assert_int_equal(mgr_process_start(echo_child, &e, 0, &p), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(i), MGR_FOREVER), 0);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(recv_int(e.a, SOON_MS, &err), i + 1000);
		assert_int_equal(err, 0);
	}
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(-1), MGR_FOREVER), 0);
	join_ok(p);
	/* the child's session ended holding end b: EOF, and a send fails */
	assert_int_equal(recv_int(e.a, SOON_MS, &err), -1);
	assert_int_equal(err, MGR_EEOF);
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(1), MGR_FOREVER), MGR_EEOF);
	ends_free(&e);
}

/* ---- poll ---- */

static int send_later_child(void *arg)
{
	struct ends *e = arg;
	CHK(mgr_pipe_send(e->b, mgr_value_new_string("late"), MGR_FOREVER) == 0);
	return 0;
}

static void test_pipe_poll(void **state)
{
	struct ends e;
	mgr_process *p;
	bool ready = true;
	ends_new(*state, NULL, &e);
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_pipe_poll(e.a, 0, &ready), 0); /* 0 polls: at once */
	assert_false(ready);
	assert_true(clock_now_ms() - t0 < SOON_MS);
	t0 = clock_now_ms();
	assert_int_equal(mgr_pipe_poll(e.a, 50, &ready), 0);
	assert_false(ready);
	assert_true(clock_now_ms() - t0 >= 40);
	/* a waiting poll is answered by a send from another process */
	assert_int_equal(mgr_process_start(send_later_child, &e, 0, &p), 0);
	assert_int_equal(mgr_pipe_poll(e.a, SOON_MS, &ready), 0);
	assert_true(ready);
	join_ok(p);
	assert_int_equal(mgr_pipe_poll(e.a, 0, &ready), 0); /* poll does not consume */
	assert_true(ready);
	mgr_value *v = NULL;
	assert_int_equal(mgr_pipe_recv(e.a, 0, &v), 0);
	assert_string_equal(mgr_value_string(v, NULL), "late");
	mgr_value_free(v);
	/* nothing left, and the sender's process ended: poll says EOF is there */
	assert_int_equal(mgr_pipe_poll(e.a, SOON_MS, &ready), 0);
	assert_true(ready);
	assert_int_equal(mgr_pipe_recv(e.a, 0, &v), MGR_EEOF);
	ends_free(&e);
}

static void test_pipe_recv_timeout(void **state)
{
	struct ends e;
	mgr_value *v = NULL;
	ends_new(*state, NULL, &e);
	assert_int_equal(mgr_pipe_recv(e.a, 0, &v), MGR_ETIMEDOUT);
	assert_int_equal(mgr_pipe_recv(e.a, 30, &v), MGR_ETIMEDOUT);
	assert_int_equal(mgr_pipe_recv(e.a, -1, &v), MGR_EARGS);
	assert_null(v);
	ends_free(&e);
}

/* ---- a killed process: EOF, not a hang ---- */

/* Claims end b, says so, then waits to be killed. */
static int doomed_child(void *arg)
{
	struct ends *e = arg;
	CHK(mgr_pipe_claim(e->b) == 0);
	CHK(mgr_pipe_send(e->b, mgr_value_new_string("ready"), MGR_FOREVER) == 0);
	for (;;)
		pause();
}

/* Waits (bounded) in recv on end a: exits 0 if answered EEOF. */
static int eof_reader_child(void *arg)
{
	struct ends *e = arg;
	mgr_value *v = NULL;
	return mgr_pipe_recv(e->a, SOON_MS, &v) == MGR_EEOF ? 0 : 3;
}

static void test_pipe_killed_peer(void **state)
{
	struct ends e;
	mgr_process *p, *reader;
	mgr_value *v = NULL;
	int code = 0;
	ends_new(*state, NULL, &e);
	assert_int_equal(mgr_process_start(doomed_child, &e, 0, &p), 0);
	assert_int_equal(mgr_pipe_recv(e.a, SOON_MS, &v), 0);
	assert_string_equal(mgr_value_string(v, NULL), "ready");
	mgr_value_free(v);
	/* a receiver parked when the child dies is answered EEOF */
	assert_int_equal(mgr_process_start(eof_reader_child, &e, 0, &reader), 0);
	sync_poll_state(e.a, "readers", 1);
	assert_int_equal(mgr_process_kill(p), 0);
	assert_int_equal(mgr_process_join(p, SOON_MS, &code), 0);
	assert_int_equal(code, -SIGKILL);
	mgr_process_free(p);
	join_ok(reader);
	/* and from then on, at once */
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_pipe_recv(e.a, SOON_MS, &v), MGR_EEOF);
	assert_true(clock_now_ms() - t0 < SOON_MS);
	ends_free(&e);
}

/* ---- close ---- */

static void test_pipe_close(void **state)
{
	struct ends e;
	mgr_value *v = NULL;
	bool ready = false;
	ends_new(*state, NULL, &e);
	assert_int_equal(mgr_pipe_send(e.b, mgr_value_new_int(7), MGR_FOREVER), 0);
	assert_int_equal(mgr_pipe_close(e.b), 0);
	/* what was sent before the close is still read, then EOF */
	assert_int_equal(mgr_pipe_recv(e.a, 0, &v), 0);
	assert_int_equal(mgr_value_int(v), 7);
	mgr_value_free(v);
	v = NULL;
	assert_int_equal(mgr_pipe_poll(e.a, 0, &ready), 0);
	assert_true(ready);
	assert_int_equal(mgr_pipe_recv(e.a, MGR_FOREVER, &v), MGR_EEOF);
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(1), MGR_FOREVER), MGR_EEOF);
	/* the closed end itself */
	assert_int_equal(mgr_pipe_recv(e.b, 0, &v), MGR_ESTATE);
	assert_int_equal(mgr_pipe_send(e.b, mgr_value_new_int(1), MGR_FOREVER), MGR_ESTATE);
	assert_null(v);
	ends_free(&e);
}

/* A receiver parked when the other end is closed by another process. */
static int close_child(void *arg)
{
	struct ends *e = arg;
	CHK(mgr_pipe_close(e->b) == 0);
	return 0;
}

static void test_pipe_close_wakes(void **state)
{
	struct ends e;
	mgr_process *p, *reader;
	ends_new(*state, NULL, &e);
	assert_int_equal(mgr_process_start(eof_reader_child, &e, 0, &reader), 0);
	sync_poll_state(e.a, "readers", 1);
	assert_int_equal(mgr_process_start(close_child, &e, 0, &p), 0);
	join_ok(p);
	join_ok(reader);
	ends_free(&e);
}

/* Releasing the last handle on an end is its end too. */
static void test_pipe_end_gone(void **state)
{
	struct harness *h = *state;
	struct ends e;
	mgr_object *again;
	mgr_value *v = NULL;
	ends_new(h, NULL, &e);
	assert_int_equal(mgr_object_release(e.b), 0);
	assert_int_equal(mgr_pipe_recv(e.a, SOON_MS, &v), MGR_EEOF);
	assert_int_equal(mgr_pipe_peer(e.a, &again), MGR_EEOF);
	mgr_object_release(e.a);
}

/* ---- a full end ---- */

static void test_pipe_full_fails(void **state)
{
	struct ends e;
	mgr_pipe_opts o = {.maxsize = 2, .fail_full = true};
	int err;
	ends_new(*state, &o, &e);
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(1), MGR_FOREVER), 0);
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(2), MGR_FOREVER), 0);
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(3), MGR_FOREVER), MGR_EFULL);
	/* a timeout with a send that does not wait is a contradiction */
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(3), 10), MGR_EARGS);
	/* the other direction has its own room */
	assert_int_equal(mgr_pipe_send(e.b, mgr_value_new_int(9), MGR_FOREVER), 0);
	assert_int_equal(recv_int(e.b, 0, &err), 1);
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(3), MGR_FOREVER), 0);
	assert_int_equal(recv_int(e.b, 0, &err), 2);
	assert_int_equal(recv_int(e.b, 0, &err), 3);
	assert_int_equal(recv_int(e.a, 0, &err), 9);
	ends_free(&e);
}

static int flood_child(void *arg)
{
	struct ends *e = arg;
	for (int i = 0; i < 6; i++)
		CHK(mgr_pipe_send(e->b, mgr_value_new_int(i), MGR_FOREVER) == 0);
	return 0;
}

static void test_pipe_full_blocks(void **state)
{
	struct ends e;
	mgr_process *p;
	mgr_pipe_opts o = {.maxsize = 2};
	int err;
	ends_new(*state, &o, &e);
	assert_int_equal(mgr_pipe_send(e.b, mgr_value_new_int(0), MGR_FOREVER), 0);
	assert_int_equal(mgr_pipe_send(e.b, mgr_value_new_int(1), MGR_FOREVER), 0);
	int64_t t0 = clock_now_ms();
	assert_int_equal(mgr_pipe_send(e.b, mgr_value_new_int(2), 50), MGR_EFULL);
	assert_true(clock_now_ms() - t0 >= 40);
	assert_int_equal(recv_int(e.a, 0, &err), 0);
	assert_int_equal(recv_int(e.a, 0, &err), 1);
	/* a child sends 6 into room for 2: it waits, and is let in as we read */
	assert_int_equal(mgr_process_start(flood_child, &e, 0, &p), 0);
	sync_poll_state(e.b, "writers", 1);
	assert_int_equal(sync_state(e.a, "queued"), 2);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(recv_int(e.a, SOON_MS, &err), i);
		assert_int_equal(err, 0);
	}
	join_ok(p);
	ends_free(&e);
}

/* ---- one-way pipes ---- */

static void test_pipe_one_way(void **state)
{
	struct ends e;
	mgr_pipe_opts o = {.one_way = true};
	mgr_value *v = NULL;
	ends_new(*state, &o, &e);
	assert_int_equal(mgr_pipe_send(e.a, mgr_value_new_int(1), MGR_FOREVER), MGR_ESTATE);
	assert_int_equal(mgr_pipe_recv(e.b, 0, &v), MGR_ESTATE);
	assert_int_equal(mgr_pipe_send(e.b, mgr_value_new_int(2), MGR_FOREVER), 0);
	assert_int_equal(mgr_pipe_recv(e.a, 0, &v), 0);
	assert_int_equal(mgr_value_int(v), 2);
	mgr_value_free(v);
	ends_free(&e);
}

/* ---- an end handed by id to a process with its own client ---- */

static int by_id_child(void *arg)
{
	struct ends *e = arg;
	mgr_client *c;
	mgr_object *end, *wrong;
	CHK(mgr_client_connect(e->path, &c) == 0);
	CHK(mgr_object_lookup_id(c, mgr_object_id(e->b), "dict", &wrong) == MGR_ETYPE);
	CHK(mgr_object_lookup_id(c, mgr_object_id(e->b), "pipe", &end) == 0);
	CHK(mgr_pipe_send(end, mgr_value_new_string("by id"), MGR_FOREVER) == 0);
	mgr_object_release(end);
	mgr_client_close(c);
	return 0;
}

static void test_pipe_by_id(void **state)
{
	struct ends e;
	mgr_process *p;
	mgr_value *v = NULL;
	ends_new(*state, NULL, &e);
	assert_int_equal(mgr_process_start(by_id_child, &e, 0, &p), 0);
	assert_int_equal(mgr_pipe_recv(e.a, SOON_MS, &v), 0);
	assert_string_equal(mgr_value_string(v, NULL), "by id");
	mgr_value_free(v);
	join_ok(p);
	assert_int_equal(mgr_pipe_recv(e.a, SOON_MS, &v), MGR_EEOF);
	ends_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_order),	 cmocka_unit_test(test_pipe_poll),
		cmocka_unit_test(test_pipe_recv_timeout), cmocka_unit_test(test_pipe_killed_peer),
		cmocka_unit_test(test_pipe_close),	 cmocka_unit_test(test_pipe_close_wakes),
		cmocka_unit_test(test_pipe_end_gone),	 cmocka_unit_test(test_pipe_full_fails),
		cmocka_unit_test(test_pipe_full_blocks),  cmocka_unit_test(test_pipe_one_way),
		cmocka_unit_test(test_pipe_by_id),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
