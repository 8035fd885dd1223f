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

/* show --all walks a whole dict (2,500 entries, more than two batches of
 * the iterator) and a list, printing every entry once; a counter shows its
 * header only; --json with --all is a usage error. */
static void test_show_all(void **state)
{
	(void)state;
	mgr_object *d, *l;
	assert_int_equal(mgr_dict_open(h.c, "walk", &d), 0);
	assert_int_equal(mgr_list_open(h.c, "walkl", &l), 0);
	for (int i = 0; i < 2500; i++)
		assert_int_equal(mgr_dict_set(d, mgr_value_new_int(i), mgr_value_new_int(i * 2)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_list_append(l, mgr_value_new_string("x")), 0);
	struct run r;
	assert_int_equal(ctl_run(&r, "show", "walk", "--all", NULL), 0);
	int lines = 0;
	for (const char *p = r.out; (p = strchr(p, '\t')); p++)
		lines++;
	assert_int_equal(lines, 2500);
	assert_non_null(strstr(r.out, "\n0\t0\n"));
	assert_non_null(strstr(r.out, "\n2499\t4998\n"));
	assert_null(strstr(r.out, "shown (--limit N)"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "show", "walkl", "--all", NULL), 0);
	assert_non_null(strstr(r.out, "\n2\t\"x\"\n"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "create", "counter", "walkc", "5", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "show", "walkc", "--all", NULL), 0);
	assert_null(strchr(r.out, '\t')); /* the header, no entries */
	run_free(&r);
	assert_int_equal(ctl_run(&r, "rm", "walkc", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "--json", "show", "walk", "--all", NULL), 2);
	run_free(&r);
	mgr_object_delete(d);
	mgr_object_delete(l);
	mgr_object_release(d);
	mgr_object_release(l);
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

/* With --json a failure is also one JSON error object on stdout, and the
 * exit codes stay: 1 failure, 2 usage. */
static void test_json_errors(void **state)
{
	(void)state;
	static const struct {
		const char *args[6];
		int status;
		const char *code;
	} cases[] = {
		{{"--json", "call", "#0", "nosuchmethod"}, 1, "ENOMETHOD"},
		{{"--json", "show", "nosuch"}, 1, "ENOOBJ"},
		{{"show", "nosuch", "--json"}, 1, "ENOOBJ"},
		{{"--json", "call", "x", "get", "bare"}, 2, "EUSAGE"},
		{{"--json", "-s", "/nonexistent/mgr.sock", "info"}, 1, "ECONNECT"},
		{{"--json", "ls", "--type", "nosuch"}, 1, "ENOTYPE"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		const char *const *a = cases[i].args;
		assert_int_equal(ctl_run(&r, a[0], a[1], a[2], a[3], a[4], a[5], NULL), cases[i].status);
		json_error_t e;
		json_t *j = json_loads(r.out, 0, &e);
		if (!j)
			fail_msg("case %zu: stdout is not JSON: '%s'", i, r.out);
		json_t *err = json_object_get(j, "error");
		assert_string_equal(json_string_value(json_object_get(err, "code")), cases[i].code);
		assert_true(json_string_length(json_object_get(err, "message")) > 0);
		assert_int_equal(json_integer_value(json_object_get(err, "exit")), cases[i].status);
		assert_non_null(strstr(r.err, "mgrctl: ")); /* people still read stderr */
		json_decref(j);
		run_free(&r);
	}
}

/* --timeout bounds a blocking call (0 polls); without it the same call
 * would wait forever. show '#0' is the manager; ls --type of a type that
 * does not exist fails. */
static void test_timeout_show_ls(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(ctl_run(&r, "create", "queue", "empty", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "--timeout", "0", "call", "empty", "get", NULL), 1);
	assert_non_null(strstr(r.err, "EEMPTY"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "call", "empty", "get", "--timeout", "0.2", NULL), 1);
	assert_non_null(strstr(r.err, "EEMPTY"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "--timeout", "soon", "info", NULL), 2);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "rm", "empty", NULL), 0);
	run_free(&r);

	json_t *j = CTL_JSON("show", "#0");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "manager");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "value"), "pid")),
			 mgr_manager_pid(h.m));
	json_decref(j);
	assert_int_equal(ctl_run(&r, "show", "#0", NULL), 0);
	assert_non_null(strstr(r.out, "manager"));
	assert_non_null(strstr(r.out, "uptime"));
	run_free(&r);

	assert_int_equal(ctl_run(&r, "ls", "--type", "nosuch", NULL), 1);
	assert_non_null(strstr(r.err, "no type 'nosuch'"));
	assert_string_equal(r.out, "");
	run_free(&r);
	assert_int_equal(ctl_run(&r, "create", "dict", "named1", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "ls", "--names", NULL), 0); /* what completion reads */
	assert_non_null(strstr(r.out, "named1\n"));
	assert_null(strstr(r.out, "NAME"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "rm", "named1", NULL), 0);
	run_free(&r);
}

/* dump then load: the data types keep their values, the others their
 * type; --replace overwrites, without it an existing name fails. */
static void test_dump_load(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(ctl_run(&r, "create", "dict", "d1", "{\"a\": [1, 2.5, \"x\"]}", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "create", "list", "l1", "[true, null, \"é\"]", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "create", "counter", "c1", "7", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "create", "lock", "k1", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "dump", "d1", "l1", "c1", "k1", NULL), 0);
	char *dump = strdup(r.out);
	run_free(&r);
	json_error_t e;
	json_t *j = json_loads(dump, 0, &e), *objs = json_object_get(j, "objects");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_int_equal(json_object_size(objs), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(objs, "c1"), "value")), 7);
	assert_string_equal(json_string_value(json_object_get(json_object_get(objs, "k1"), "type")), "lock");
	assert_null(json_object_get(json_object_get(objs, "k1"), "value"));
	json_decref(j);
	j = CTL_JSON("dump", "c1");
	assert_int_equal(json_object_size(json_object_get(j, "objects")), 1);
	json_decref(j);
	assert_int_equal(ctl_run(&r, "dump", "nosuch", NULL), 1);
	run_free(&r);

	char path[] = "/tmp/mgrctl-dump-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, dump, strlen(dump)), (ssize_t)strlen(dump));
	close(fd);
	assert_int_equal(ctl_run(&r, "load", path, NULL), 1); /* they exist */
	assert_non_null(strstr(r.err, "EEXIST"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "call", "c1", "add", "5", NULL), 0);
	run_free(&r);
	const char *names[] = {"d1", "l1", "c1", "k1"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ctl_run(&r, "rm", names[i], NULL), 0);
		run_free(&r);
	}
	assert_int_equal(ctl_run(&r, "load", path, NULL), 0);
	assert_non_null(strstr(r.out, "loaded 4 objects"));
	run_free(&r);
	assert_int_equal(ctl_run(&r, "call", "c1", "add", "5", NULL), 0); /* 7 again, not 12 */
	assert_string_equal(r.out, "12\n");
	run_free(&r);
	assert_int_equal(ctl_run(&r, "load", "--replace", path, NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "dump", "d1", "l1", "c1", "k1", NULL), 0);
	json_t *a = json_loads(dump, 0, &e), *b = json_loads(r.out, 0, &e);
	assert_true(json_equal(a, b)); /* the round trip is exact */
	json_decref(a);
	json_decref(b);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "load", "/nonexistent/dump.json", NULL), 1);
	run_free(&r);
	unlink(path);
	free(dump);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ctl_run(&r, "rm", names[i], NULL), 0);
		run_free(&r);
	}
}

/* monitor as a stream: each call with its arguments and result (cut to
 * --width), filtered by --method and --pid here, and --timeout ends it
 * with status 0. */
static void test_monitor_stream(void **state)
{
	(void)state;
	const char *argv[] = {getenv("MGR_MGRCTL"), "monitor", "--method", "set", "--width", "12",
			      "--timeout", "20", NULL};
	int out, err;
	pid_t mon = run_start(argv, &out, &err);
	char line[1024];
	assert_int_equal(run_read_line(err, line, sizeof(line), 10000), 0);
	assert_int_equal(run_read_line(out, line, sizeof(line), 10000), 0); /* the header */
	assert_non_null(strstr(line, "RESULT"));
	mgr_object *d;
	assert_int_equal(mgr_dict_open(h.c, "streamed", &d), 0);
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("key"),
				      mgr_value_new_string("a value longer than twelve")), 0);
	assert_int_equal(mgr_dict_len(d, NULL), 0); /* not "set": not shown */
	assert_int_equal(run_read_line(out, line, sizeof(line), 10000), 0);
	assert_non_null(strstr(line, "streamed (dict)"));
	assert_non_null(strstr(line, "set(\"key\", \"..."));
	assert_null(strstr(line, "twelve"));
	kill(mon, SIGTERM);
	assert_int_equal(run_reap(mon), 128 + SIGTERM);
	close(out);
	close(err);

	/* --json: full text (cut by the manager at 119 bytes), the pid filter,
	 * and --timeout ending the stream */
	char pid[24];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	const char *jargv[] = {getenv("MGR_MGRCTL"), "--json", "--timeout", "3", "monitor",
			       "--object", "streamed", "--pid", pid, NULL};
	mon = run_start(jargv, &out, &err);
	assert_int_equal(run_read_line(err, line, sizeof(line), 10000), 0);
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("n"), mgr_value_new_int(5)), 0);
	pid_t child = fork();
	if (child == 0) { /* another pid: filtered out */
		mgr_client *c;
		mgr_object *o;
		_exit(mgr_client_connect(h.path, &c) || mgr_dict_open(c, "streamed", &o) ||
		      mgr_dict_len(o, NULL));
	}
	assert_int_equal(run_reap(child), 0);
	mgr_value *got = NULL, *key = mgr_value_new_string("n");
	assert_int_equal(mgr_dict_get(d, key, &got), 0);
	mgr_value_free(got);
	mgr_value_free(key);
	const char *want[][3] = {{"set", "(\"n\", 5)", "null"}, {"get", "(\"n\")", "5"}};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(run_read_line(out, line, sizeof(line), 10000), 0);
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "method")), want[i][0]);
		assert_string_equal(json_string_value(json_object_get(j, "args")), want[i][1]);
		assert_string_equal(json_string_value(json_object_get(j, "result")), want[i][2]);
		assert_int_equal(json_integer_value(json_object_get(j, "pid")), getpid());
		json_decref(j);
	}
	assert_int_equal(run_reap(mon), 0); /* --timeout: done, not killed */
	assert_int_equal(run_read_line(out, line, sizeof(line), 1000), -1); /* nothing else */
	close(out);
	close(err);
	mgr_object_delete(d);
	mgr_object_release(d);
}

/* save prints what the manager answers: path, objects, skipped, bytes. */
static void test_save(void **state)
{
	(void)state;
	char dir[64], file[96];
	harness_tmpdir(dir, sizeof(dir), "mgrctl-save");
	snprintf(file, sizeof(file), "%s/snap", dir);
	const char *args[] = {"--snapshot", file, NULL};
	struct harness s;
	harness_start(&s, args);
	setenv("MGR_SOCKET", s.path, 1);
	struct run r;
	assert_int_equal(ctl_run(&r, "create", "counter", "kept", "3", NULL), 0);
	run_free(&r);
	assert_int_equal(ctl_run(&r, "save", NULL), 0);
	char want[160];
	snprintf(want, sizeof(want), "saved 1 objects (");
	assert_non_null(strstr(r.out, want));
	assert_non_null(strstr(r.out, file));
	run_free(&r);
	json_t *j = CTL_JSON("save");
	assert_string_equal(json_string_value(json_object_get(j, "path")), file);
	assert_int_equal(json_integer_value(json_object_get(j, "objects")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "skipped")), 0);
	assert_true(json_integer_value(json_object_get(j, "bytes")) > 0);
	json_decref(j);
	setenv("MGR_SOCKET", h.path, 1);
	harness_stop(&s);
	harness_rmtree(dir);
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
		cmocka_unit_test(test_json_errors),   cmocka_unit_test(test_timeout_show_ls),
		cmocka_unit_test(test_dump_load),     cmocka_unit_test(test_monitor_stream),
		cmocka_unit_test(test_save),          cmocka_unit_test(test_show_all),
	};
	const struct CMUnitTest last[] = {cmocka_unit_test(test_shutdown)};
	int failed = cmocka_run_group_tests_name("mgrctl", tests, setup, teardown);
	return failed | cmocka_run_group_tests_name("mgrctl-shutdown", last, setup, NULL);
}
