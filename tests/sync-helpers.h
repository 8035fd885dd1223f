/* Helpers for the synchronisation integration tests: child processes that
 * report through their exit status and a one-byte "ready" pipe, and bounded
 * polling of a server-side count (used only where a test must observe the
 * server's state, e.g. "the child is parked"). No sleeps. */
#ifndef TESTS_SYNC_HELPERS_H
#define TESTS_SYNC_HELPERS_H

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "harness.h"

/* A check inside a child: cmocka's asserts must not run there. */
#define CHK(x)                                                                      \
	do {                                                                        \
		if (!(x)) {                                                         \
			fprintf(stderr, "child %d: %s:%d: check failed: %s\n", (int)getpid(), \
				__FILE__, __LINE__, #x);                            \
			_exit(1);                                                   \
		}                                                                   \
	} while (0)

/* cmocka group setup/teardown: one private manager per test file. */
static inline int sync_setup(void **state)
{
	static struct harness h;
	harness_start(&h, NULL);
	*state = &h;
	return 0;
}

static inline int sync_teardown(void **state)
{
	harness_stop(*state);
	return 0;
}

struct kid {
	pid_t pid;
	int ready; /* read end: one byte when the child reached its point */
};

typedef int (*kid_fn)(void *arg, int ready_fd);

static inline struct kid kid_spawn(kid_fn fn, void *arg)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct kid k = {fork(), p[0]};
	assert_true(k.pid >= 0);
	if (k.pid == 0) {
		close(p[0]);
		_exit(fn(arg, p[1]));
	}
	close(p[1]);
	return k;
}

static inline void kid_signal(int ready_fd) { CHK(write(ready_fd, "r", 1) == 1); }

/* Waits (at most 20 s) for the child's ready byte. */
static inline void kid_await(struct kid *k)
{
	struct pollfd p = {k->ready, POLLIN, 0};
	char b;
	assert_int_equal(poll(&p, 1, 20000), 1);
	assert_int_equal(read(k->ready, &b, 1), 1);
}

/* Exit status, or 128 + signal. */
static inline int kid_reap(struct kid *k)
{
	int st = 0;
	assert_int_equal(waitpid(k->pid, &st, 0), k->pid);
	close(k->ready);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static inline void kid_kill(struct kid *k)
{
	assert_int_equal(kill(k->pid, SIGKILL), 0);
	assert_int_equal(kid_reap(k), 128 + SIGKILL);
}

static inline int64_t sync_call_int(mgr_object *o, const char *method)
{
	mgr_value *r = NULL;
	int err = mgr_call(o, method, NULL, 0, &r);
	if (err)
		fail_msg("%s: %s (%s)", method, mgr_strerror(err), mgr_client_errmsg(mgr_object_client(o)));
	int64_t n = mgr_value_int(r);
	mgr_value_free(r);
	return n;
}

/* Polls o.method() (an int) until it equals want; fails after 20 s. */
static inline void sync_poll(mgr_object *o, const char *method, int64_t want)
{
	int64_t deadline = clock_now_ms() + 20000, n;
	while ((n = sync_call_int(o, method)) != want && clock_now_ms() < deadline)
		;
	if (n != want)
		fail_msg("%s() stayed %lld, expected %lld", method, (long long)n, (long long)want);
}

/* o's state as `mgrctl show` reads it (the manager's describe): field key
 * of its value map as an int, or a list's length; fails if absent. */
static inline int64_t sync_state(mgr_object *o, const char *key)
{
	mgr_value *r = NULL, *ref = mgr_object_ref(o);
	int err = mgr_call(mgr_client_manager(mgr_object_client(o)), "describe", &ref, 1, &r);
	mgr_value_free(ref);
	if (err)
		fail_msg("describe: %s", mgr_strerror(err));
	mgr_value *k = mgr_value_new_string("value"), *kk = mgr_value_new_string(key);
	const mgr_value *v = mgr_value_map_get(mgr_value_map_get(r, k), kk);
	if (!v)
		fail_msg("describe: no %s", key);
	int64_t n = mgr_value_kind(v) == MGR_LIST ? (int64_t)mgr_value_len(v) : mgr_value_int(v);
	mgr_value_free(k);
	mgr_value_free(kk);
	mgr_value_free(r);
	return n;
}

/* Polls sync_state(o, key) until it equals want; fails after 20 s. */
static inline void sync_poll_state(mgr_object *o, const char *key, int64_t want)
{
	int64_t deadline = clock_now_ms() + 20000, n;
	while ((n = sync_state(o, key)) != want && clock_now_ms() < deadline)
		;
	if (n != want)
		fail_msg("%s stayed %lld, expected %lld", key, (long long)n, (long long)want);
}

/* n children in order, each parked on o before the next starts (so the
 * server's FIFO order is the spawn order): child i runs fn(arg, i) and is
 * parked once o.method() reaches base + i + 1. */
static inline pid_t *sync_spawn_parked(int n, int (*fn)(void *arg, int i), void *arg,
				       mgr_object *o, const char *method, int64_t base)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	assert_non_null(pids);
	for (int i = 0; i < n; i++) {
		pids[i] = harness_spawn(fn, arg, i);
		sync_poll(o, method, base + i + 1);
	}
	return pids;
}

#endif
