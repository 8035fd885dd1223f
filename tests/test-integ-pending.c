/* libmgr's calls in flight (libmgr/client.h, struct pending): a list kept
 * oldest first, where a reply matches at the head unless an earlier call
 * is parked, the call is unlinked by whoever makes it done, and a future
 * whose reply came is waited for without the client's lock. Its edges:
 * replies that overtake a parked call, futures waited for in any order, a
 * waiter that gives up (timeout) in the middle of the list and the late
 * reply that follows, futures freed in flight, a fork() with calls in
 * flight, threads pipelining on one client (also under ThreadSanitizer),
 * and results left unmade for a caller that wants none. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <mgr/sync.h>

#include "harness.h"

#define FLIGHT 16
#define BOUND_MS 10000 /* a reply lost is a failure in seconds, not a hang */

struct rig {
	mgr_client *c;          /* a client of its own: its list only */
	mgr_object *counter, *queue;
	mgr_value *one, *yes;
};

static void rig_open(struct harness *h, struct rig *r, const char *counter, const char *queue)
{
	assert_int_equal(mgr_client_connect(h->path, &r->c), 0);
	mgr_client_set_timeout(r->c, BOUND_MS);
	assert_int_equal(mgr_counter_open(r->c, counter, &r->counter), 0);
	assert_int_equal(mgr_queue_open(r->c, queue, 0, &r->queue), 0);
	r->one = mgr_value_new_int(1);
	r->yes = mgr_value_new_bool(true);
}

static void rig_close(struct rig *r)
{
	assert_int_equal(mgr_object_delete(r->counter), 0);
	assert_int_equal(mgr_object_delete(r->queue), 0);
	mgr_object_release(r->counter);
	mgr_object_release(r->queue);
	mgr_value_free(r->one);
	mgr_value_free(r->yes);
	mgr_client_close(r->c);
}

static mgr_future *add_async(struct rig *r)
{
	mgr_future *f = NULL;
	assert_int_equal(mgr_call_async(r->counter, "add", &r->one, 1, &f), 0);
	return f;
}

/* A get on the empty queue: parked until a put, for ever. */
static mgr_future *get_async(struct rig *r)
{
	mgr_future *f = NULL;
	assert_int_equal(mgr_call_async(r->queue, "get", &r->yes, 1, &f), 0);
	return f;
}

static int64_t wait_int(mgr_future *f)
{
	mgr_value *v = NULL;
	assert_int_equal(mgr_future_wait(f, &v), 0);
	int64_t i = mgr_value_int(v);
	mgr_value_free(v);
	return i;
}

/* Puts item from another client (h->c): the parked get answers. */
static void put_int(struct harness *h, const char *queue, int64_t item)
{
	mgr_object *q;
	assert_int_equal(mgr_queue_open(h->c, queue, 0, &q), 0);
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(item), true, 1000), 0);
	mgr_object_release(q);
}

/* The rig opened with a parked get (returned) and FLIGHT adds behind it
 * (in f), none of them sent yet. */
static mgr_future *rig_load(struct harness *h, struct rig *r, const char *counter,
			    const char *queue, mgr_future **f)
{
	rig_open(h, r, counter, queue);
	mgr_future *get = get_async(r);
	for (int i = 0; i < FLIGHT; i++)
		f[i] = add_async(r);
	return get;
}

/* A parked get at the head, FLIGHT adds behind it: every add's reply
 * overtakes it; the adds are waited for last first, then in order; the
 * get answers after all of them. */
static void test_pending_overtake_parked(void **state)
{
	struct harness *h = *state;
	struct rig r;
	mgr_future *f[FLIGHT], *get = rig_load(h, &r, "p-counter", "p-queue", f);
	assert_int_equal(wait_int(f[FLIGHT - 1]), FLIGHT); /* reads all of them */
	for (int i = 0; i < FLIGHT - 1; i++)
		assert_int_equal(wait_int(f[i]), i + 1);
	assert_false(mgr_future_done(get));
	put_int(h, "p-queue", 42);
	assert_int_equal(wait_int(get), 42);
	rig_close(&r);
}

/* The waiter of a parked get gives up (the client's timeout) with another
 * parked get and FLIGHT adds behind it: it is unlinked, the adds and the
 * second get still find their futures, and the first get's late answer
 * (mgrd hands the first put to it) is dropped, not matched to freed memory
 * (ASan would name it). */
static void test_pending_timeout_unlinks(void **state)
{
	struct harness *h = *state;
	struct rig r;
	rig_open(h, &r, "t-counter", "t-queue");
	mgr_client_set_timeout(r.c, 200);
	mgr_future *first = get_async(&r), *f[FLIGHT], *second;
	for (int i = 0; i < FLIGHT / 2; i++)
		f[i] = add_async(&r);
	second = get_async(&r);
	for (int i = FLIGHT / 2; i < FLIGHT; i++)
		f[i] = add_async(&r);
	assert_int_equal(mgr_future_wait(first, NULL), MGR_ETIMEDOUT);
	put_int(h, "t-queue", 7);  /* to the first getter: dropped here */
	put_int(h, "t-queue", 8);  /* to the second */
	for (int i = 0; i < FLIGHT; i++)
		assert_int_equal(wait_int(f[i]), i + 1);
	assert_int_equal(wait_int(second), 8);
	mgr_client_set_timeout(r.c, BOUND_MS);
	int64_t n = 0; /* the session still answers in step */
	assert_int_equal(mgr_counter_add(r.counter, 1, &n), 0);
	assert_int_equal(n, FLIGHT + 1);
	rig_close(&r);
}

/* Futures freed in flight (head, middle, tail) and after their reply came:
 * the others get their own answers; nothing leaks (ASan). */
static void test_pending_free_in_flight(void **state)
{
	struct harness *h = *state;
	struct rig r;
	rig_open(h, &r, "f-counter", "f-queue");
	mgr_future *f[FLIGHT];
	for (int i = 0; i < FLIGHT; i++)
		f[i] = add_async(&r);
	int gone[] = {0, 7, FLIGHT - 1};
	for (size_t k = 0; k < sizeof(gone) / sizeof(gone[0]); k++) {
		mgr_future_free(f[gone[k]]);
		f[gone[k]] = NULL;
	}
	/* replies come in order: waiting for the last but one delivers all
	 * before it */
	assert_int_equal(wait_int(f[FLIGHT - 2]), FLIGHT - 1);
	f[FLIGHT - 2] = NULL;
	assert_true(mgr_future_done(f[FLIGHT - 3]));
	mgr_future_free(f[FLIGHT - 3]); /* its reply is freed with it */
	f[FLIGHT - 3] = NULL;
	for (int i = 1; i < FLIGHT; i++)
		if (f[i])
			assert_int_equal(wait_int(f[i]), i + 1);
	rig_close(&r);
}

/* In the child: the parent's calls fail (EIO), its own pipeline works.
 * No cmocka here: the exit status says which check failed. */
static int fork_child(struct rig *r, mgr_future *get, mgr_future **f)
{
	if (mgr_future_wait(get, NULL) != MGR_EIO)
		return 10;
	for (int i = 0; i < FLIGHT; i += 2)
		if (mgr_future_wait(f[i], NULL) != MGR_EIO)
			return 11;
	for (int i = 1; i < FLIGHT; i += 2)
		mgr_future_free(f[i]);
	mgr_future *mine[FLIGHT];
	for (int i = 0; i < FLIGHT; i++)
		if (mgr_call_async(r->counter, "add", &r->one, 1, &mine[i]))
			return 12;
	int64_t last = 0;
	for (int i = 0; i < FLIGHT; i++) {
		mgr_value *v = NULL;
		if (mgr_future_wait(mine[i], &v) || mgr_value_int(v) <= last)
			return 13;
		last = mgr_value_int(v);
		mgr_value_free(v);
	}
	return 0;
}

/* fork() with a parked get and FLIGHT adds sent and not yet read: the child
 * sees EIO for each of them (never the parent's answers), frees or waits
 * them without touching the parent's list, and pipelines on a connection
 * of its own; the parent's calls are all answered to the parent. */
static void test_pending_fork(void **state)
{
	struct harness *h = *state;
	struct rig r;
	mgr_future *f[FLIGHT], *get = rig_load(h, &r, "k-counter", "k-queue", f);
	assert_int_equal(mgr_client_flush(r.c), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fork_child(&r, get, f));
	int status = -1;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	int64_t last = 0; /* the child's adds may come first or last */
	for (int i = 0; i < FLIGHT; i++) {
		int64_t v = wait_int(f[i]);
		assert_true(v > last);
		last = v;
	}
	int64_t total = 0;
	assert_int_equal(mgr_counter_get(r.counter, &total), 0);
	assert_int_equal(total, 2 * FLIGHT);
	put_int(h, "k-queue", 5);
	assert_int_equal(wait_int(get), 5);
	rig_close(&r);
}

#define THREADS 4
#define ROUNDS 60

struct runner {
	struct rig *r;
	int failed;
};

/* ROUNDS windows of FLIGHT adds; each answer must exceed the last one this
 * thread saw (one counter, in order on one connection). */
static void *runner_run(void *arg)
{
	struct runner *u = arg;
	int64_t last = 0;
	for (int n = 0; n < ROUNDS && !u->failed; n++) {
		mgr_future *f[FLIGHT];
		for (int i = 0; i < FLIGHT; i++)
			if (mgr_call_async(u->r->counter, "add", &u->r->one, 1, &f[i]))
				return u->failed = __LINE__, NULL;
		for (int i = 0; i < FLIGHT; i++) {
			mgr_value *v = NULL;
			if (mgr_future_wait(f[i], &v) || mgr_value_int(v) <= last)
				u->failed = __LINE__;
			last = mgr_value_int(v);
			mgr_value_free(v);
		}
	}
	return NULL;
}

/* Threads pipelining on one client: one reads and delivers, the others
 * find their futures done and take them without the lock. */
static void test_pending_threads(void **state)
{
	struct harness *h = *state;
	struct rig r;
	rig_open(h, &r, "th-counter", "th-queue");
	mgr_future *get = get_async(&r); /* parked at the head throughout */
	pthread_t t[THREADS];
	struct runner u[THREADS];
	for (int i = 0; i < THREADS; i++) {
		u[i] = (struct runner){&r, 0};
		assert_int_equal(pthread_create(&t[i], NULL, runner_run, &u[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(u[i].failed, 0);
	}
	int64_t total = 0;
	assert_int_equal(mgr_counter_get(r.counter, &total), 0);
	assert_int_equal(total, THREADS * ROUNDS * FLIGHT);
	put_int(h, "th-queue", 3);
	assert_int_equal(wait_int(get), 3);
	rig_close(&r);
}

static int call_async_wait(mgr_object *o, const char *method, mgr_value *arg, mgr_value **out)
{
	mgr_future *f = NULL;
	int err = mgr_call_async(o, method, &arg, arg ? 1 : 0, &f);
	return err ? err : mgr_future_wait(f, out);
}

/* A reply's int or bool is made a value only for a caller that wants one
 * (frame_decode_scalars): without a result a call still says it failed
 * (with its message), with one it gets the right kind and value, and a
 * future freed after such a reply came frees nothing twice (ASan). */
static void test_pending_results(void **state)
{
	struct harness *h = *state;
	struct rig r;
	rig_open(h, &r, "r-counter", "r-queue");
	mgr_value *big = mgr_value_new_int(INT64_C(1) << 40), *text = mgr_value_new_string("x");
	mgr_value *v = NULL;
	assert_int_equal(call_async_wait(r.counter, "add", big, NULL), 0);
	assert_int_not_equal(call_async_wait(r.counter, "add", text, NULL), 0);
	assert_true(mgr_client_errmsg(r.c)[0] != '\0');
	assert_int_not_equal(mgr_call(r.counter, "add", &text, 1, NULL), 0);
	assert_int_equal(mgr_call(r.counter, "add", &r.one, 1, NULL), 0);
	assert_int_equal(call_async_wait(r.counter, "add", r.one, &v), 0);
	assert_int_equal(mgr_value_kind(v), MGR_INT);
	assert_true(mgr_value_int(v) == (INT64_C(1) << 40) + 2);
	mgr_value_free(v);
	mgr_object *e;
	assert_int_equal(mgr_event_open(r.c, "r-event", &e), 0);
	assert_int_equal(call_async_wait(e, "is_set", NULL, &v), 0);
	assert_int_equal(mgr_value_kind(v), MGR_BOOL);
	assert_false(mgr_value_bool(v));
	mgr_value_free(v);
	mgr_future *f[FLIGHT];
	for (int i = 0; i < FLIGHT; i++)
		f[i] = add_async(&r);
	assert_int_equal(mgr_future_wait(f[FLIGHT - 1], NULL), 0); /* all replies came */
	for (int i = 0; i < FLIGHT - 1; i++)
		mgr_future_free(f[i]); /* answered, never taken */
	assert_int_equal(mgr_object_delete(e), 0);
	mgr_object_release(e);
	mgr_value_free(big);
	mgr_value_free(text);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_overtake_parked),
		cmocka_unit_test(test_pending_timeout_unlinks),
		cmocka_unit_test(test_pending_free_in_flight),
		cmocka_unit_test(test_pending_fork),
		cmocka_unit_test(test_pending_threads),
		cmocka_unit_test(test_pending_results),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
