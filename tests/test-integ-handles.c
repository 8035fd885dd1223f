/* Handles as issue 12 found them: every typed opener makes an anonymous
 * object from a NULL name (counter and list refused it), a string that is
 * not valid UTF-8 is MGR_EUTF8 through the typed API (not "out of
 * memory?"), and an object is found by id and type, with a reference of
 * the finder's session (a child given an id can hold what it names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "sync-helpers.h"

static const char bad_utf8[] = "caf\xc3"; /* a lead byte without its continuation */

static void test_anonymous_openers(void **state)
{
	struct harness *h = *state;
	int (*const openers[])(mgr_client *, const char *, mgr_object **) = {
		mgr_counter_open, mgr_list_open, mgr_dict_open, mgr_namespace_open, mgr_event_open,
	};
	int64_t before = harness_info(h->c, "objects");
	for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++) {
		mgr_object *a = NULL, *b = NULL;
		assert_int_equal(openers[i](h->c, NULL, &a), 0);
		assert_int_equal(openers[i](h->c, NULL, &b), 0);
		assert_int_not_equal(mgr_object_id(a), mgr_object_id(b)); /* two new ones */
		mgr_object_release(a);
		mgr_object_release(b);
	}
	mgr_object *o;
	assert_int_equal(mgr_counter_open(h->c, NULL, &o), 0);
	assert_int_equal(mgr_counter_add(o, 5, NULL), 0);
	mgr_object_release(o);
	assert_int_equal(mgr_object_open(h->c, "list", NULL, &o), 0);
	assert_int_equal(mgr_list_append(o, mgr_value_new_int(1)), 0);
	mgr_object_release(o);
	/* anonymous: each went with its last reference */
	assert_int_equal(harness_info(h->c, "objects"), before);
}

/* libmgr.so's own mgr_value_new_string: this test also links the common
 * code statically (the harness uses it), whose copy would be called
 * otherwise; a program linking libmgr alone has only libmgr's. */
static mgr_value *libmgr_new_string(const char *s)
{
	void *lib = dlopen("libmgr.so.0", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(lib);
	mgr_value *(*fn)(const char *) = (mgr_value * (*)(const char *)) dlsym(lib, "mgr_value_new_string");
	assert_non_null(fn);
	mgr_value *v = fn(s);
	dlclose(lib);
	return v;
}

static void test_utf8_reported(void **state)
{
	struct harness *h = *state;
	mgr_object *d, *o = NULL;
	assert_int_equal(mgr_dict_open(h->c, NULL, &d), 0);
	/* a value the caller built: the NULL it got is explained */
	assert_int_equal(mgr_dict_set(d, libmgr_new_string(bad_utf8), mgr_value_new_int(1)),
			 MGR_EUTF8);
	assert_non_null(strstr(mgr_client_errmsg(h->c), "UTF-8"));
	/* a name or attribute given as text */
	assert_int_equal(mgr_counter_open(h->c, bad_utf8, &o), MGR_EUTF8);
	assert_int_equal(mgr_object_lookup(h->c, bad_utf8, &o), MGR_EUTF8);
	assert_int_equal(mgr_object_create(h->c, "dict", bad_utf8, NULL, 0, &o), MGR_EUTF8);
	assert_null(o);
	mgr_object *ns;
	assert_int_equal(mgr_namespace_open(h->c, NULL, &ns), 0);
	assert_int_equal(mgr_namespace_set(ns, bad_utf8, mgr_value_new_int(1)), MGR_EUTF8);
	mgr_object_release(ns);
	/* what was reported stays with the call it belonged to */
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("k"), mgr_value_new_int(1)), 0);
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("k"), NULL), MGR_ENOMEM);
	mgr_object_release(d);
}

/* A child given only an id finds the object and holds it. */
static int lookup_child(void *arg)
{
	struct harness *h = arg;
	uint64_t id;
	mgr_client *c;
	mgr_object *o, *wrong = NULL;
	CHK(read(STDIN_FILENO, &id, sizeof(id)) == sizeof(id));
	CHK(mgr_client_connect(h->path, &c) == 0);
	CHK(mgr_object_lookup_id(c, id, "counter", &o) == 0);
	CHK(mgr_object_id(o) == id);
	CHK(mgr_object_lookup_id(c, id, "list", &wrong) == MGR_ETYPE && !wrong);
	CHK(mgr_counter_add(o, 1, NULL) == 0);
	mgr_object_release(o);
	mgr_client_close(c);
	return 0;
}

static void test_lookup_id(void **state)
{
	struct harness *h = *state;
	mgr_object *o, *again, *any;
	int64_t v = 0;
	assert_int_equal(mgr_counter_open(h->c, NULL, &o), 0);
	uint64_t id = mgr_object_id(o);
	assert_int_equal(mgr_object_lookup_id(h->c, id, NULL, &any), 0);
	assert_string_equal(mgr_object_type(any), "counter");
	assert_int_equal(mgr_object_lookup_id(h->c, id, "counter", &again), 0);
	assert_int_equal(mgr_object_lookup_id(h->c, id + 1000000, NULL, &any), MGR_ENOOBJ);
	assert_int_equal(mgr_object_lookup_id(h->c, 0, NULL, &any), MGR_EINVAL);
	/* the lookup's reference keeps the anonymous counter when o goes */
	mgr_object_release(o);
	assert_int_equal(mgr_counter_add(again, 2, &v), 0);
	assert_int_equal(v, 2);
	/* a child told only the id */
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[0], STDIN_FILENO);
		_exit(lookup_child(h));
	}
	assert_int_equal(write(p[1], &id, sizeof(id)), sizeof(id));
	int st;
	assert_true(harness_reap_within(pid, 10000, &st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(mgr_counter_get(again, &v), 0);
	assert_int_equal(v, 3);
	mgr_object_release(again);
	mgr_object_release(any);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anonymous_openers),
		cmocka_unit_test(test_utf8_reported),
		cmocka_unit_test(test_lookup_id),
	};
	return cmocka_run_group_tests(tests, sync_setup, sync_teardown);
}
