/* fork() and libmgr: handles stay valid in a child, the child's first call
 * opens the child's own session, the parent's connection is never shared or
 * disturbed, and a child that ends without cleaning up leaves nothing
 * behind on the server. Children never use cmocka: they exit non-zero. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"


/* Polls info until field is want: the server handles a closed session on
 * its own time, and there is nothing to wait on but asking. */
static void wait_info(mgr_client *c, const char *field, int64_t want)
{
	int64_t n = harness_wait_info(c, field, want, 10000);
	if (n != want)
		fail_msg("info %s is %lld, want %lld", field, (long long)n, (long long)want);
}

/* Runs fn in one child; returns its exit status (or 128 + signal). */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct shared {
	struct harness *h;
	mgr_object *k, *d, *l;
	uint64_t parent_session;
	int pipe[2]; /* children report their session ids here */
};

static void shared_open(struct shared *s, struct harness *h)
{
	memset(s, 0, sizeof(*s));
	s->h = h;
	assert_int_equal(mgr_counter_open(h->c, "fork-k", &s->k), 0);
	assert_int_equal(mgr_dict_open(h->c, "fork-d", &s->d), 0);
	assert_int_equal(mgr_object_create(h->c, "list", NULL, NULL, 0, &s->l), 0); /* anonymous */
	assert_int_equal(mgr_counter_set(s->k, 0), 0);
	s->parent_session = mgr_client_session(h->c);
	assert_true(s->parent_session != 0);
	assert_int_equal(pipe(s->pipe), 0);
}

static void shared_close(struct shared *s)
{
	mgr_object_release(s->k);
	mgr_object_release(s->d);
	mgr_object_release(s->l);
	close(s->pipe[0]);
	close(s->pipe[1]);
}

/* The parent's client still works, on the same session. */
static void assert_parent_ok(struct shared *s, int64_t want_k)
{
	int64_t v = -1;
	assert_int_equal(mgr_counter_get(s->k, &v), 0);
	assert_int_equal(v, want_k);
	assert_int_equal(mgr_client_session(s->h->c), s->parent_session);
}

static int child_use_handles(void *arg)
{
	struct shared *s = arg;
	mgr_client *c = s->h->c;
	if (mgr_client_session(c) == s->parent_session)
		return 10; /* not the parent's session, even before the first call */
	int64_t now;
	if (mgr_counter_add(s->k, 5, &now) || now != 5)
		return 11;
	uint64_t mine = mgr_client_session(c);
	if (mine == 0 || mine == s->parent_session)
		return 12;
	if (write(s->pipe[1], &mine, sizeof(mine)) != sizeof(mine))
		return 13;
	if (mgr_dict_set(s->d, mgr_value_new_string("child"), mgr_value_new_int(getpid())) ||
	    mgr_list_append(s->l, mgr_value_new_string("from child")))
		return 14;
	/* objects made through the inherited client are this session's */
	mgr_object *o;
	if (mgr_object_create(c, "counter", NULL, NULL, 0, &o) || mgr_counter_add(o, 1, NULL))
		return 15;
	/* a grandchild: the same again, one generation down */
	pid_t pid = fork();
	if (pid == 0) {
		uint64_t g;
		if (mgr_counter_add(s->k, 100, NULL))
			_exit(20);
		g = mgr_client_session(c);
		_exit(g == 0 || g == mine || g == s->parent_session ? 21 : 0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 16;
	if (mgr_client_session(c) != mine || mgr_counter_add(s->k, 0, &now) || now != 105)
		return 17;
	return 0; /* no close, no release: the server cleans up */
}

static void test_child_uses_handles(void **state)
{
	struct harness *h = *state;
	struct shared s;
	shared_open(&s, h);
	int64_t objects = harness_info(h->c, "objects");
	assert_int_equal(in_child(child_use_handles, &s), 0);
	uint64_t child_session = 0;
	assert_int_equal(read(s.pipe[0], &child_session, sizeof(child_session)),
			 sizeof(child_session));
	assert_true(child_session != s.parent_session);
	assert_parent_ok(&s, 105);
	mgr_value *key = mgr_value_new_string("child"), *v = NULL;
	assert_int_equal(mgr_dict_get(s.d, key, &v), 0);
	assert_int_equal(mgr_value_kind(v), MGR_INT);
	mgr_value_free(v);
	mgr_value_free(key);
	assert_int_equal(mgr_list_get(s.l, 0, &v), 0);
	assert_string_equal(mgr_value_string(v, NULL), "from child");
	mgr_value_free(v);
	/* the child's anonymous counter went with its session */
	wait_info(h->c, "sessions", 1);
	wait_info(h->c, "objects", objects);
	shared_close(&s);
}

static int child_report_session(void *arg, int i)
{
	(void)i;
	struct shared *s = arg;
	if (mgr_counter_add(s->k, 1, NULL))
		return 2;
	uint64_t mine = mgr_client_session(s->h->c);
	return write(s->pipe[1], &mine, sizeof(mine)) == sizeof(mine) ? 0 : 3;
}

/* Eight children at once on the inherited client: eight new sessions. */
static void test_many_children_distinct_sessions(void **state)
{
	struct harness *h = *state;
	struct shared s;
	shared_open(&s, h);
	assert_int_equal(harness_fork_n(8, child_report_session, &s), 8);
	uint64_t ids[8];
	assert_int_equal(read(s.pipe[0], ids, sizeof(ids)), sizeof(ids));
	for (int i = 0; i < 8; i++) {
		assert_true(ids[i] != 0 && ids[i] != s.parent_session);
		for (int j = 0; j < i; j++)
			assert_true(ids[i] != ids[j]);
	}
	assert_parent_ok(&s, 8);
	/* and the children can be run again: the parent is not in some
	 * post-fork state of its own */
	assert_int_equal(harness_fork_n(8, child_report_session, &s), 8);
	assert_int_equal(read(s.pipe[0], ids, sizeof(ids)), sizeof(ids));
	assert_parent_ok(&s, 16);
	wait_info(h->c, "sessions", 1);
	shared_close(&s);
}

/* A child that closes the inherited client or releases an inherited
 * handle touches only its own copy: the parent's connection and the
 * parent's references are intact. */
static int child_close_inherited(void *arg)
{
	struct shared *s = arg;
	mgr_client_close(s->h->c); /* never used in the child */
	return 0;
}

static int child_release_inherited(void *arg)
{
	struct shared *s = arg;
	/* the anonymous list is held by the parent's session, not ours */
	if (mgr_object_release(s->l) != 0)
		return 2;
	s->l = NULL;
	return 0;
}

static void test_child_close_release(void **state)
{
	struct harness *h = *state;
	struct shared s;
	shared_open(&s, h);
	assert_int_equal(in_child(child_close_inherited, &s), 0);
	assert_parent_ok(&s, 0);
	assert_int_equal(in_child(child_release_inherited, &s), 0);
	size_t n = 9;
	assert_int_equal(mgr_list_len(s.l, &n), 0); /* still alive */
	assert_int_equal(n, 0);
	assert_parent_ok(&s, 0);
	wait_info(h->c, "sessions", 1);
	shared_close(&s);
}

/* Children that end without cleaning up, in every way a process ends:
 * exit(), _exit(), a signal while idle, SIGKILL while its connection is in
 * use. Nothing stays: sessions and anonymous objects back to baseline;
 * named objects live on. */
struct ending {
	struct shared *s;
	int how;
};

static int child_end_badly(void *arg)
{
	struct ending *e = arg;
	mgr_client *c = e->s->h->c;
	static mgr_object *anon, *named; /* reachable: exit() under LSan is no leak */
	char name[32];
	snprintf(name, sizeof(name), "left-by-%d", e->how);
	if (mgr_object_create(c, "dict", NULL, NULL, 0, &anon) ||
	    mgr_object_create(c, "list", name, NULL, 0, &named) ||
	    mgr_dict_set(anon, mgr_value_new_string("x"), mgr_value_new_int(1)))
		return 2;
	switch (e->how) {
	case 0:
		exit(0);
	case 1:
		_exit(0);
	case 2:
		raise(SIGTERM);
		return 3;
	default:
		for (;;) /* busy on the connection when it dies */
			if (mgr_counter_add(e->s->k, 1, NULL))
				return 4;
	}
}

static void test_child_exits_without_closing(void **state)
{
	struct harness *h = *state;
	struct shared s;
	shared_open(&s, h);
	int64_t sessions = harness_info(h->c, "sessions");
	int64_t objects = harness_info(h->c, "objects");
	for (int how = 0; how < 3; how++) {
		struct ending e = {&s, how};
		int st = in_child(child_end_badly, &e);
		assert_int_equal(st, how == 2 ? 128 + SIGTERM : 0);
		wait_info(h->c, "sessions", sessions);
		wait_info(h->c, "objects", objects + how + 1); /* only the named ones */
	}
	struct ending e = {&s, 3};
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_end_badly(&e));
	wait_info(h->c, "objects", objects + 5); /* the child's two are made */
	int64_t before = 0, after = 0;
	assert_int_equal(mgr_counter_get(s.k, &before), 0);
	for (int i = 0; i < 100000 && after <= before; i++) /* it is calling */
		assert_int_equal(mgr_counter_get(s.k, &after), 0);
	assert_true(after > before);
	kill(pid, SIGKILL);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	wait_info(h->c, "sessions", sessions);
	wait_info(h->c, "objects", objects + 4);
	/* the parent carries on, and the names the children made are usable */
	mgr_object *left;
	assert_int_equal(mgr_object_lookup(h->c, "left-by-3", &left), 0);
	assert_int_equal(mgr_list_append(left, mgr_value_new_int(1)), 0);
	assert_int_equal(mgr_object_delete(left), 0);
	mgr_object_release(left);
	int64_t k = 0;
	assert_int_equal(mgr_counter_get(s.k, &k), 0);
	assert_int_equal(mgr_counter_add(s.k, 1, &after), 0);
	assert_int_equal(after, k + 1);
	assert_int_equal(mgr_client_session(h->c), s.parent_session);
	shared_close(&s);
}

/* A child connects a client of its own, and a client made in the parent
 * after the children ended works as usual. */
static int child_own_client(void *arg)
{
	struct shared *s = arg;
	mgr_client *c;
	mgr_object *k;
	if (mgr_client_connect(s->h->path, &c) || mgr_counter_open(c, "fork-k", &k) ||
	    mgr_counter_add(k, 7, NULL))
		return 2;
	if (mgr_client_session(c) == s->parent_session || mgr_client_session(c) == 0)
		return 3;
	mgr_object_release(k);
	mgr_client_close(c);
	return 0;
}

static void test_child_own_client(void **state)
{
	struct harness *h = *state;
	struct shared s;
	shared_open(&s, h);
	assert_int_equal(in_child(child_own_client, &s), 0);
	assert_parent_ok(&s, 7);
	mgr_client *c2;
	assert_int_equal(mgr_client_connect(h->path, &c2), 0);
	assert_true(mgr_client_session(c2) != s.parent_session);
	mgr_object *k;
	assert_int_equal(mgr_counter_open(c2, "fork-k", &k), 0);
	assert_int_equal(mgr_counter_add(k, 1, NULL), 0);
	mgr_object_release(k);
	mgr_client_close(c2);
	assert_parent_ok(&s, 8);
	wait_info(h->c, "sessions", 1);
	shared_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_uses_handles),
		cmocka_unit_test(test_many_children_distinct_sessions),
		cmocka_unit_test(test_child_close_release),
		cmocka_unit_test(test_child_exits_without_closing),
		cmocka_unit_test(test_child_own_client),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
