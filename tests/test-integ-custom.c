/* Custom types served by the program itself (Python's BaseManager.register):
 * the Employee example with 10 worker processes, every call under the
 * object's lock, introspection, method_to_typeid, a slow method that stalls
 * only its own object, FIFO order of queued calls, name clashes with the
 * built-ins, and a constructor's error reaching the client. The manager is
 * a forked child of this program (opts.serve = mgr_server_main). */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <mgr/server.h>

#include "../examples/employee-type.h"
#include "harness.h"

/* ---- test types ---- */

/* rmw: a read-modify-write with a pause in the middle: only the object's
 * lock keeps increments from being lost. "inside" counts handlers running
 * on the object at once; it must never exceed 1. */
struct rmw {
	int64_t value;
	atomic_int inside;
	atomic_int overlaps;
};

static void custom_pause_us(long us)
{
	struct timespec t = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&t, &t))
		;
}

static int rmw_init(void **state, mgr_request *call)
{
	(void)call;
	*state = calloc(1, sizeof(struct rmw));
	return *state ? 0 : MGR_ENOMEM;
}

static int rmw_incr(void *state, mgr_request *call)
{
	struct rmw *r = state;
	if (atomic_fetch_add(&r->inside, 1) != 0)
		atomic_fetch_add(&r->overlaps, 1);
	int64_t v = r->value; /* read */
	custom_pause_us(200); /* let any other call in, if the lock let it */
	r->value = v + 1;     /* write */
	atomic_fetch_sub(&r->inside, 1);
	return mgr_request_return(call, mgr_value_new_int(v + 1));
}

static int rmw_get(void *state, mgr_request *call)
{
	struct rmw *r = state;
	mgr_value *l = mgr_value_new_list();
	mgr_value_list_append(l, mgr_value_new_int(r->value));
	mgr_value_list_append(l, mgr_value_new_int(atomic_load(&r->overlaps)));
	return mgr_request_return(call, l);
}

static const mgr_method_def rmw_methods[] = {
	{"incr", rmw_incr, 0, 0, "", "value += 1, slowly", 0},
	{"get", rmw_get, 0, 0, "", "[value, overlapping calls seen]", 0},
};

static const mgr_type_def rmw_type = {
	.name = "test.rmw",
	.doc = "read-modify-write with a pause",
	.init = rmw_init,
	.destroy = free,
	.methods = rmw_methods,
	.nmethods = 2,
};

/* sleeper: sleep_ms(ms) holds its object; note(x) records x in order. note
 * is MGR_METHOD_INLINE (may run on mgrd's loop thread): it must still never
 * run while sleep_ms holds the object, which it checks. */
struct sleeper {
	mgr_value *notes;
	volatile int sleeping;
};

static int sleeper_init(void **state, mgr_request *call)
{
	(void)call;
	struct sleeper *s = calloc(1, sizeof(*s));
	if (!s || !(s->notes = mgr_value_new_list())) {
		free(s);
		return MGR_ENOMEM;
	}
	*state = s;
	return 0;
}

static void sleeper_destroy(void *state)
{
	struct sleeper *s = state;
	if (s)
		mgr_value_free(s->notes);
	free(s);
}

static int sleeper_sleep_ms(void *state, mgr_request *call)
{
	struct sleeper *s = state;
	int64_t ms;
	int err = mgr_request_arg_int(call, 0, &ms);
	if (err)
		return err;
	if (ms < 0 || ms > 60000)
		return mgr_request_error(call, MGR_ERANGE, "sleep_ms: %lld out of range", (long long)ms);
	s->sleeping = 1;
	custom_pause_us((long)ms * 1000);
	s->sleeping = 0;
	return mgr_request_return(call, mgr_value_new_int(ms));
}

static int sleeper_note(void *state, mgr_request *call)
{
	struct sleeper *s = state;
	if (s->sleeping)
		return mgr_request_error(call, MGR_ESTATE, "note ran while sleep_ms held the object");
	mgr_value *x = mgr_request_take_arg(call, 0);
	return mgr_value_list_append(s->notes, x) ? MGR_ENOMEM : 0;
}

static int sleeper_notes(void *state, mgr_request *call)
{
	struct sleeper *s = state;
	return mgr_request_return(call, mgr_value_copy(s->notes));
}

static int sleeper_ping(void *state, mgr_request *call)
{
	(void)state;
	return mgr_request_return(call, mgr_value_new_bool(true));
}

static const mgr_method_def sleeper_methods[] = {
	{"sleep_ms", sleeper_sleep_ms, 1, 1, "ms", "hold the object for ms", 0},
	{"note", sleeper_note, 1, 1, "x", "append x to the notes", MGR_METHOD_INLINE},
	{"notes", sleeper_notes, 0, 0, "", "the notes, in order", 0},
	{"ping", sleeper_ping, 0, 0, "", "true", 0},
};

static const mgr_type_def sleeper_type = {
	.name = "test.sleeper",
	.init = sleeper_init,
	.destroy = sleeper_destroy,
	.methods = sleeper_methods,
	.nmethods = 4,
};

/* checked: its constructor refuses a negative argument with its own code. */
static int checked_init(void **state, mgr_request *call)
{
	int64_t n;
	int err = mgr_request_arg_int(call, 0, &n);
	if (err)
		return err;
	if (n < 0)
		return mgr_request_error(call, MGR_ERANGE, "checked: %lld is negative", (long long)n);
	*state = NULL;
	return 0;
}

static const mgr_type_def checked_type = {.name = "test.checked", .init = checked_init};

/* clashes with the built-in dict */
static const mgr_type_def fake_dict_type = {.name = "dict", .init = checked_init};

/* ---- setup ---- */

static int setup(void **state)
{
	static struct harness h;
	const mgr_type_def *types[] = {&employee_type, &rmw_type, &sleeper_type, &checked_type};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (mgr_type_register(types[i]))
			return -1;
	mgr_manager_opts o = {.serve = mgr_server_main};
	memset(&h, 0, sizeof(h));
	int err = mgr_manager_start(&o, &h.m);
	if (err) {
		print_error("mgr_manager_start: %s: %s\n", mgr_strerror(err), mgr_client_errmsg(NULL));
		return -1;
	}
	h.path = mgr_manager_address(h.m);
	if (mgr_client_connect(h.path, &h.c))
		return -1;
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	harness_stop(*state);
	return 0;
}

static mgr_object *custom_create(mgr_client *c, const char *type, const char *name,
				 mgr_value **args, size_t nargs)
{
	mgr_object *o = NULL;
	int err = mgr_object_create(c, type, name, args, nargs, &o);
	for (size_t i = 0; i < nargs; i++)
		mgr_value_free(args[i]);
	if (err)
		fail_msg("create %s: %s: %s", type, mgr_strerror(err), mgr_client_errmsg(c));
	return o;
}

static mgr_object *custom_employee(mgr_client *c, const char *name, int64_t salary)
{
	mgr_value *args[] = {mgr_value_new_string("zhangsan"), mgr_value_new_int(salary)};
	return custom_create(c, "employee", name, args, 2);
}

/* ---- Employee ---- */

static int custom_raise_one(void *arg, int i)
{
	(void)i;
	return mgr_call(arg, "increase", NULL, 0, NULL) ? 1 : 0;
}

static void test_employee_ten_workers(void **state)
{
	struct harness *h = *state;
	mgr_object *e = custom_employee(h->c, "zhangsan", 1000);
	assert_int_equal(harness_fork_n(10, custom_raise_one, e), 10);

	mgr_value *pay = NULL, *hist = NULL;
	assert_int_equal(mgr_call(e, "get_pay", NULL, 0, &pay), 0);
	assert_string_equal(mgr_value_string(pay, NULL), "zhangsan:2000");
	assert_int_equal(mgr_call(e, "history", NULL, 0, &hist), 0);
	assert_int_equal(mgr_value_len(hist), 10);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(mgr_value_int(mgr_value_list_get(hist, i)), 1100 + 100 * (int64_t)i);
	mgr_value_free(pay);
	mgr_value_free(hist);

	/* increase(amount) with its argument, and a bad one */
	mgr_value *now = NULL;
	assert_int_equal(mgr_callv(e, "increase", &now, mgr_value_new_int(50), NULL), 0);
	assert_int_equal(mgr_value_int(now), 2050);
	mgr_value_free(now);
	assert_int_equal(mgr_callv(e, "increase", NULL, mgr_value_new_string("x"), NULL), MGR_EARGS);
	assert_int_equal(mgr_callv(e, "increase", NULL, mgr_value_new_int(1), mgr_value_new_int(2),
				   NULL), MGR_EARGS);
	assert_int_equal(mgr_call(e, "fire", NULL, 0, NULL), MGR_ENOMETHOD);
	assert_int_equal(mgr_object_delete(e), 0);
	mgr_object_release(e);
}

/* ---- each call under the object's lock ---- */

enum { RMW_PROCS = 8, RMW_CALLS = 25 };

static int custom_rmw_worker(void *arg, int i)
{
	(void)i;
	for (int k = 0; k < RMW_CALLS; k++)
		if (mgr_call(arg, "incr", NULL, 0, NULL))
			return 1;
	return 0;
}

static void test_calls_under_object_lock(void **state)
{
	struct harness *h = *state;
	mgr_object *o = custom_create(h->c, "test.rmw", "rmw", NULL, 0);
	assert_int_equal(harness_fork_n(RMW_PROCS, custom_rmw_worker, o), RMW_PROCS);
	mgr_value *r = NULL;
	assert_int_equal(mgr_call(o, "get", NULL, 0, &r), 0);
	assert_int_equal(mgr_value_int(mgr_value_list_get(r, 0)), RMW_PROCS * RMW_CALLS);
	assert_int_equal(mgr_value_int(mgr_value_list_get(r, 1)), 0); /* never overlapped */
	mgr_value_free(r);
	assert_int_equal(mgr_object_delete(o), 0);
	mgr_object_release(o);
}

/* ---- introspection ---- */

static bool custom_list_has_string(const mgr_value *l, const char *s)
{
	for (size_t i = 0; i < mgr_value_len(l); i++)
		if (!strcmp(mgr_value_string(mgr_value_list_get(l, i), NULL), s))
			return true;
	return false;
}

static const char *custom_row_string(const mgr_value *row, const char *key)
{
	mgr_value *k = mgr_value_new_string(key);
	const mgr_value *v = mgr_value_map_get(row, k);
	mgr_value_free(k);
	assert_non_null(v);
	return mgr_value_string(v, NULL);
}

static void test_introspection(void **state)
{
	struct harness *h = *state;
	mgr_object *mgr = mgr_client_manager(h->c);
	mgr_value *types = NULL, *methods = NULL;
	assert_int_equal(mgr_call(mgr, "types", NULL, 0, &types), 0);
	assert_true(custom_list_has_string(types, "employee"));
	assert_true(custom_list_has_string(types, "test.rmw"));
	assert_true(custom_list_has_string(types, "dict")); /* the built-ins too */
	assert_false(custom_list_has_string(types, "test.never-registered"));
	mgr_value_free(types);

	assert_int_equal(mgr_callv(mgr, "methods", &methods, mgr_value_new_string("employee"), NULL), 0);
	assert_int_equal(mgr_value_len(methods), employee_type.nmethods);
	for (size_t i = 0; i < employee_type.nmethods; i++) {
		const mgr_value *row = mgr_value_list_get(methods, i);
		const mgr_method_def *d = &employee_type.methods[i];
		assert_string_equal(custom_row_string(row, "name"), d->name);
		assert_string_equal(custom_row_string(row, "args"), d->args);
		assert_string_equal(custom_row_string(row, "doc"), d->doc);
	}
	mgr_value_free(methods);
	assert_int_equal(mgr_callv(mgr, "methods", NULL, mgr_value_new_string("nope"), NULL),
			 MGR_ENOTYPE);
}

/* ---- method_to_typeid: a method returns a new shared object ---- */

static void test_method_returns_ref(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *e = custom_employee(h->c, NULL, 1000);
	assert_int_equal(mgr_call(e, "increase", NULL, 0, NULL), 0);
	assert_int_equal(mgr_callv(e, "increase", NULL, mgr_value_new_int(300), NULL), 0);

	mgr_value *ref = NULL, *items = NULL;
	mgr_object *l;
	assert_int_equal(mgr_call(e, "history_list", NULL, 0, &ref), 0);
	assert_int_equal(mgr_value_kind(ref), MGR_REF);
	assert_string_equal(mgr_value_ref_type(ref), "list");
	assert_int_equal(harness_info(h->c, "objects"), base + 2); /* the reply's reference keeps it */
	assert_int_equal(mgr_object_from_ref(h->c, ref, &l), 0);
	mgr_value_free(ref);
	assert_string_equal(mgr_object_type(l), "list");
	assert_int_equal(mgr_list_copy(l, &items), 0);
	assert_int_equal(mgr_value_len(items), 2);
	assert_int_equal(mgr_value_int(mgr_value_list_get(items, 0)), 1100);
	assert_int_equal(mgr_value_int(mgr_value_list_get(items, 1)), 1400);
	mgr_value_free(items);
	/* an ordinary list: usable, and independent of the employee */
	assert_int_equal(mgr_list_append(l, mgr_value_new_int(7)), 0);
	size_t n = 0;
	assert_int_equal(mgr_list_len(l, &n), 0);
	assert_int_equal(n, 3);

	assert_int_equal(mgr_object_release(l), 0); /* the last reference */
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	assert_int_equal(mgr_object_release(e), 0);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* ---- a slow method stalls only its own object ---- */

static void test_slow_method_does_not_stall_others(void **state)
{
	struct harness *h = *state;
	mgr_client *c2;
	assert_int_equal(mgr_client_connect(h->path, &c2), 0);
	mgr_object *a = custom_create(h->c, "test.sleeper", "A", NULL, 0);
	mgr_object *b = custom_create(h->c, "test.sleeper", "B", NULL, 0), *b2, *d;
	assert_int_equal(mgr_object_lookup(c2, "B", &b2), 0);
	assert_int_equal(mgr_dict_open(c2, "builtin", &d), 0);

	mgr_value *ms = mgr_value_new_int(1000);
	mgr_future *f;
	assert_int_equal(mgr_call_async(a, "sleep_ms", &ms, 1, &f), 0);
	mgr_value_free(ms);
	assert_int_equal(mgr_client_flush(h->c), 0);

	/* until A answers, B (custom, on another worker) and a built-in keep
	 * answering another client */
	long b_calls = 0, builtin_calls = 0;
	mgr_value *key = mgr_value_new_string("n");
	while (!mgr_future_done(f)) {
		assert_int_equal(mgr_call(b2, "ping", NULL, 0, NULL), 0);
		b_calls++;
		assert_int_equal(mgr_dict_incr(d, key, 1, NULL), 0);
		builtin_calls++;
		assert_int_equal(mgr_client_process(h->c), 0);
	}
	mgr_value *r = NULL;
	assert_int_equal(mgr_future_wait(f, &r), 0);
	assert_int_equal(mgr_value_int(r), 1000);
	mgr_value_free(r);
	print_message("      B answered %ld calls while A slept 1000 ms\n", b_calls);
	assert_true(b_calls >= 50);
	int64_t n = 0;
	assert_int_equal(mgr_dict_incr(d, key, 0, &n), 0);
	assert_int_equal(n, builtin_calls);
	mgr_value_free(key);

	mgr_object_delete(d);
	mgr_object_release(d);
	mgr_object_release(b2);
	mgr_client_close(c2);
	mgr_object_delete(a);
	mgr_object_delete(b);
	mgr_object_release(a);
	mgr_object_release(b);
}

/* ---- calls queued on a busy object complete, in order ---- */

static void test_queued_calls_in_order(void **state)
{
	struct harness *h = *state;
	enum { N = 50 };
	mgr_object *a = custom_create(h->c, "test.sleeper", NULL, NULL, 0);
	mgr_future *sleep_f, *f[N];
	mgr_value *ms = mgr_value_new_int(200);
	assert_int_equal(mgr_call_async(a, "sleep_ms", &ms, 1, &sleep_f), 0);
	mgr_value_free(ms);
	for (int i = 0; i < N; i++) {
		mgr_value *x = mgr_value_new_int(i);
		assert_int_equal(mgr_call_async(a, "note", &x, 1, &f[i]), 0);
		mgr_value_free(x);
	}
	assert_int_equal(mgr_future_wait(sleep_f, NULL), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(mgr_future_wait(f[i], NULL), 0);
	mgr_value *notes = NULL;
	assert_int_equal(mgr_call(a, "notes", NULL, 0, &notes), 0);
	assert_int_equal(mgr_value_len(notes), N);
	for (int i = 0; i < N; i++)
		assert_int_equal(mgr_value_int(mgr_value_list_get(notes, (size_t)i)), i);
	mgr_value_free(notes);
	assert_int_equal(mgr_object_release(a), 0);
}

/* ---- registration and constructor errors ---- */

static void test_register_clash(void **state)
{
	(void)state;
	assert_int_equal(mgr_type_register(&fake_dict_type), MGR_EEXIST);
	assert_int_equal(mgr_type_register(&employee_type), MGR_EEXIST); /* registered in setup */
	mgr_type_def unnamed = {.name = ""};
	assert_int_equal(mgr_type_register(&unnamed), MGR_EINVAL);
	assert_int_equal(mgr_type_register(NULL), MGR_EINVAL);
}

static void test_constructor_errors(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *o = NULL;
	mgr_value *neg = mgr_value_new_int(-5), *str = mgr_value_new_string("x");
	assert_int_equal(mgr_object_create(h->c, "test.checked", NULL, &neg, 1, &o), MGR_ERANGE);
	assert_non_null(strstr(mgr_client_errmsg(h->c), "-5 is negative"));
	assert_null(o);
	assert_int_equal(mgr_object_create(h->c, "test.checked", "named", &str, 1, &o), MGR_EARGS);
	assert_int_equal(mgr_object_create(h->c, "employee", NULL, NULL, 0, &o), MGR_EARGS);
	assert_int_equal(mgr_object_create(h->c, "employee", NULL, &neg, 1, &o), MGR_EARGS);
	assert_null(o);
	/* a failed construction leaves nothing behind, not even its name */
	assert_int_equal(harness_info(h->c, "objects"), base);
	assert_int_equal(mgr_object_lookup(h->c, "named", &o), MGR_ENOOBJ);
	mgr_value_free(neg);
	mgr_value_free(str);

	mgr_value *one = mgr_value_new_int(1);
	assert_int_equal(mgr_object_create(h->c, "test.checked", "named", &one, 1, &o), 0);
	mgr_value_free(one);
	assert_int_equal(mgr_object_delete(o), 0);
	mgr_object_release(o);
}


/* ---- the served manager is a forked copy of this program ---- */

/* The forked manager must not keep this program's connections open: when
 * the program closes a client, that manager's server sees the session end
 * (else a serve child holding a copy of the socket hides it). */
static void test_serve_child_holds_no_client_fds(void **state)
{
	(void)state;
	mgr_manager *m1, *m2;
	mgr_client *watcher, *c;
	assert_int_equal(mgr_manager_start(NULL, &m1), 0); /* an exec'd mgrd */
	assert_int_equal(mgr_client_connect(mgr_manager_address(m1), &watcher), 0);
	assert_int_equal(mgr_client_connect(mgr_manager_address(m1), &c), 0);
	assert_int_equal(harness_info(watcher, "sessions"), 2);
	mgr_manager_opts o = {.serve = mgr_server_main};
	assert_int_equal(mgr_manager_start(&o, &m2), 0); /* forked while c is open */
	mgr_client_close(c);
	assert_int_equal(harness_wait_info(watcher, "sessions", 1, 10000), 1);
	mgr_client_close(watcher);
	assert_int_equal(mgr_manager_shutdown(m2), 0);
	assert_int_equal(mgr_manager_shutdown(m1), 0);
}

/* In the doomed parent: a served manager; its pid to fd (-1 if none). */
static void custom_start_served(void *arg, int fd)
{
	(void)arg;
	mgr_manager_opts o = {.serve = mgr_server_main};
	mgr_manager *m;
	pid_t pid = mgr_manager_start(&o, &m) ? -1 : mgr_manager_pid(m);
	if (write(fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		_exit(1);
}

/* The served manager exits by itself when the program is SIGKILLed: a
 * child of ours starts one and dies; as subreaper we reap the orphan. */
static void test_serve_parent_sigkilled(void **state)
{
	(void)state;
	pid_t mgr = 0;
	pid_t parent = harness_doomed_parent(custom_start_served, NULL, &mgr, sizeof(mgr));
	assert_true(mgr > 0);
	assert_int_equal(kill(parent, SIGKILL), 0);
	assert_int_equal(waitpid(parent, NULL, 0), parent);
	int st = 0;
	assert_true(harness_reap_orphan(mgr, &st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_employee_ten_workers),
		cmocka_unit_test(test_calls_under_object_lock),
		cmocka_unit_test(test_introspection),
		cmocka_unit_test(test_method_returns_ref),
		cmocka_unit_test(test_slow_method_does_not_stall_others),
		cmocka_unit_test(test_queued_calls_in_order),
		cmocka_unit_test(test_register_clash),
		cmocka_unit_test(test_constructor_errors),
		cmocka_unit_test(test_serve_child_holds_no_client_fds),
		cmocka_unit_test(test_serve_parent_sigkilled),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
