/* mgrctl end to end: build/mgrctl/mgrctl ($MGR_MGRCTL) against a real mgrd.
 * Every verb, in human and --json form (the JSON is parsed with jansson),
 * the error messages and exit codes, and monitor seeing another process's
 * calls. */
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl-run.h"
#include "harness.h"

static struct harness h;

#define CTL_JSON(...) ctl_json(__VA_ARGS__, NULL)

static int setup(void **state)
{
	(void)state;
	harness_start(&h, NULL);
	setenv("MGR_SOCKET", h.path, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop(&h);
	return 0;
}

static void test_info(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(ctl_run(&r, "info", NULL), 0);
	assert_non_null(strstr(r.out, "version"));
	assert_non_null(strstr(r.out, "calls/s"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "--help", NULL), 0); /* help and version exit 0 */
	assert_non_null(strstr(r.out, "usage: mgrctl"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "--version", NULL), 0);
	assert_non_null(strstr(r.out, MGR_VERSION));
	run_free(&r);
	json_t *j = CTL_JSON("info");
	assert_string_equal(json_string_value(json_object_get(j, "version")), MGR_VERSION);
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), mgr_manager_pid(h.m));
	assert_true(json_integer_value(json_object_get(j, "sessions")) >= 2);
	assert_true(json_integer_value(json_object_get(j, "threads")) >= 1);
	assert_true(json_is_integer(json_object_get(j, "calls_per_s")));
	json_decref(j);
}

static void test_objects(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(ctl_run(&r, "create", "dict", "cfg", NULL), 0);
	assert_non_null(strstr(r.out, " cfg (dict)"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "call", "cfg", "set", "\"a\"", "[1, 2.5, {\"$bytes\": \"00ff\"}]", NULL), 0);
	run_free(&r);
	json_t *j = CTL_JSON("call", "cfg", "get", "\"a\"");
	assert_int_equal(json_array_size(j), 3);
	assert_true(json_real_value(json_array_get(j, 1)) == 2.5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 2), "$bytes")), "00ff");
	json_decref(j);

	j = CTL_JSON("create", "counter", "hits", "41");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "counter");
	json_int_t id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	char hash[32];
	snprintf(hash, sizeof(hash), "#%lld", (long long)id);
	j = CTL_JSON("call", hash, "add");
	assert_int_equal(json_integer_value(j), 42);
	json_decref(j);

	j = CTL_JSON("show", "hits");
	assert_int_equal(json_integer_value(json_object_get(j, "value")), 42);
	json_decref(j);
	j = CTL_JSON("show", "cfg", "--limit", "0");
	assert_int_equal(json_object_size(json_object_get(j, "value")), 0);
	assert_true(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
	assert_int_equal(ctl_run(&r, "show", "cfg", NULL), 0);
	assert_non_null(strstr(r.out, "KEY"));
	assert_non_null(strstr(r.out, "[1, 2.5, b\"\\x00\\xff\"]"));
	run_free(&r);

	j = CTL_JSON("ls", "--type", "dict");
	assert_non_null(ctl_find_str(j, "name", "cfg"));
	assert_null(ctl_find_str(j, "name", "hits"));
	json_decref(j);
	assert_int_equal(ctl_run(&r, "ls", NULL), 0);
	assert_non_null(strstr(r.out, "NAME"));
	assert_non_null(strstr(r.out, "hits"));
	run_free(&r);

	assert_int_equal(ctl_run(&r, "rm", "cfg", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "rm", hash, NULL), 0);
	run_free(&r);
	j = CTL_JSON("ls");
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
}

static void test_types_methods(void **state)
{
	(void)state;
	struct run r;
	json_t *j = CTL_JSON("types");
	size_t i;
	json_t *v;
	bool dict = false;
	json_array_foreach(j, i, v) dict |= !strcmp(json_string_value(v), "dict");
	assert_true(dict);
	json_decref(j);
	j = CTL_JSON("methods", "counter");
	json_t *add = ctl_find_str(j, "name", "add");
	assert_non_null(add);
	assert_false(json_is_true(json_object_get(add, "blocking")));
	json_decref(j);
	assert_int_equal(ctl_run(&r, "methods", "counter", NULL), 0);
	assert_non_null(strstr(r.out, "METHOD"));
	assert_non_null(strstr(r.out, "cas"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "methods", "nosuch", NULL), 1);
	assert_non_null(strstr(r.err, "ENOTYPE"));
	run_free(&r);
}

static void test_clients_stats(void **state)
{
	(void)state;
	struct run r;
	mgr_object *d;
	assert_int_equal(mgr_dict_open(h.c, "counted", &d), 0);
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("k"), mgr_value_new_int(1)), 0);
	json_t *j = CTL_JSON("clients");
	size_t i;
	json_t *v, *mine = NULL;
	json_array_foreach(j, i, v) if (json_integer_value(json_object_get(v, "pid")) == getpid())
		mine = v;
	assert_non_null(mine);
	assert_int_equal(json_integer_value(json_object_get(mine, "refs")), 1);
	assert_true(json_integer_value(json_object_get(mine, "calls")) >= 2);
	json_decref(j);
	assert_int_equal(ctl_run(&r, "clients", NULL), 0);
	assert_non_null(strstr(r.out, "SESSION"));
	run_free(&r);

	j = CTL_JSON("stats");
	json_t *set = NULL;
	json_array_foreach(j, i, v) if (!strcmp(json_string_value(json_object_get(v, "type")), "dict") &&
					!strcmp(json_string_value(json_object_get(v, "method")), "set"))
		set = v;
	assert_non_null(set);
	assert_true(json_integer_value(json_object_get(set, "calls")) >= 1);
	assert_true(json_integer_value(json_object_get(set, "p50_ns")) <=
		    json_integer_value(json_object_get(set, "max_ns")));
	json_decref(j);
	assert_int_equal(ctl_run(&r, "stats", NULL), 0);
	assert_non_null(strstr(r.out, "P99"));
	run_free(&r);
	mgr_object_delete(d);
	mgr_object_release(d);
}

static void test_errors(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(ctl_run(&r, "-s", "/nonexistent/mgr.sock", "info", NULL), 1);
	assert_non_null(strstr(r.err, "mgrctl: no manager at /nonexistent/mgr.sock"));
	assert_non_null(strstr(r.err, "is mgrd running? set MGR_SOCKET"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "frobnicate", NULL), 2);
	assert_non_null(strstr(r.err, "no verb 'frobnicate'"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "call", "x", NULL), 2);
	assert_non_null(strstr(r.err, "usage: mgrctl"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "call", "x", "get", "bare", NULL), 2);
	assert_non_null(strstr(r.err, "is not JSON"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "show", "x", "--limit", "lots", NULL), 2);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "ls", "--frob", NULL), 2);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "show", "nosuch", NULL), 1);
	assert_non_null(strstr(r.err, "mgrctl: describe: no object \"nosuch\" (ENOOBJ)"));
	assert_string_equal(r.out, "");
	run_free(&r);
	assert_int_equal(ctl_run(&r, "--json", "call", "#0", "nosuchmethod", NULL), 1);
	assert_non_null(strstr(r.err, "ENOMETHOD"));
	assert_string_equal(r.out, "");
	run_free(&r);
	assert_int_equal(ctl_run(&r, "save", NULL), 1); /* this mgrd has no --snapshot */
	assert_non_null(strstr(r.err, "ESTATE"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "help", NULL), 0);
	assert_non_null(strstr(r.out, "monitor"));
	run_free(&r);
}

/* Another process's calls, as monitor --json prints them. */
static void test_monitor(void **state)
{
	(void)state;
	const char *argv[] = {getenv("MGR_MGRCTL"), "--json", "monitor", "--type", "counter", NULL};
	int out, err;
	pid_t mon = run_start(argv, &out, &err);
	char line[1024];
	assert_int_equal(run_read_line(err, line, sizeof(line), 10000), 0);
	assert_non_null(strstr(line, "monitoring"));
	pid_t child = fork();
	if (child == 0) {
		mgr_client *c;
		mgr_object *k, *d;
		int bad = mgr_client_connect(h.path, &c) || mgr_dict_open(c, "ignored", &d) ||
			  mgr_dict_len(d, NULL) || mgr_counter_open(c, "watched", &k) ||
			  mgr_counter_add(k, 5, NULL) || mgr_call(k, "nosuch", NULL, 0, NULL) != MGR_ENOMETHOD;
		_exit(bad);
	}
	assert_int_equal(run_reap(child), 0);
	const char *want[] = {"add", "nosuch"};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(run_read_line(out, line, sizeof(line), 10000), 0);
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "method")), want[i]);
		assert_string_equal(json_string_value(json_object_get(j, "type")), "counter");
		assert_string_equal(json_string_value(json_object_get(j, "name")), "watched");
		assert_int_equal(json_integer_value(json_object_get(j, "pid")), child);
		assert_string_equal(json_string_value(json_object_get(j, "error")), i ? "ENOMETHOD" : "");
		json_decref(j);
	}
	json_t *clients = CTL_JSON("clients");
	size_t i;
	json_t *v;
	int watching = 0;
	json_array_foreach(clients, i, v) watching += json_is_true(json_object_get(v, "monitoring"));
	assert_int_equal(watching, 1);
	json_decref(clients);
	kill(mon, SIGTERM);
	assert_int_equal(run_reap(mon), 128 + SIGTERM);
	close(out);
	close(err);
}

/* Last: the manager stops, and says so. */
static void test_shutdown(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(ctl_run(&r, "shutdown", NULL), 0);
	assert_non_null(strstr(r.out, "stopped"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "info", NULL), 1);
	assert_non_null(strstr(r.err, "no manager at"));
	run_free(&r);
	mgr_client_close(h.c);
	mgr_manager_shutdown(h.m); /* reaps it; it has already exited */
	memset(&h, 0, sizeof(h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info),	      cmocka_unit_test(test_objects),
		cmocka_unit_test(test_types_methods), cmocka_unit_test(test_clients_stats),
		cmocka_unit_test(test_errors),	      cmocka_unit_test(test_monitor),
	};
	const struct CMUnitTest last[] = {cmocka_unit_test(test_shutdown)};
	int failed = cmocka_run_group_tests_name("mgrctl", tests, setup, teardown);
	return failed | cmocka_run_group_tests_name("mgrctl-shutdown", last, setup, NULL);
}
