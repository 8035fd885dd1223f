/* Shared objects inside shared objects (Python's test_dict_proxy_nested and
 * test_list_proxy_in_list): a dict or list holds a ref; reading it back
 * gives a usable handle; the container keeps the inner object alive;
 * removing it or deleting the container releases it; the server's object
 * and session counts come back to their baselines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"


static mgr_object *nested_new(mgr_client *c, const char *type)
{
	mgr_object *o = NULL;
	assert_int_equal(mgr_object_create(c, type, NULL, NULL, 0, &o), 0);
	return o;
}

static mgr_object *nested_list_of(mgr_client *c, int n, int64_t first)
{
	mgr_object *l = nested_new(c, "list");
	for (int i = 0; i < n; i++)
		assert_int_equal(mgr_list_append(l, mgr_value_new_int(first + i)), 0);
	return l;
}

/* A handle for the ref value v (asserted to be one, naming type). */
static mgr_object *nested_adopt(mgr_client *c, const mgr_value *v, const char *type)
{
	mgr_object *o = NULL;
	assert_non_null(v);
	assert_int_equal(mgr_value_kind(v), MGR_REF);
	assert_string_equal(mgr_value_ref_type(v), type);
	assert_int_equal(mgr_object_from_ref(c, v, &o), 0);
	assert_int_equal(mgr_object_id(o), mgr_value_ref_id(v));
	return o;
}

static mgr_object *nested_dict_get(mgr_object *d, const char *key, const char *type)
{
	mgr_value *k = mgr_value_new_string(key), *v = NULL;
	assert_int_equal(mgr_dict_get(d, k, &v), 0);
	mgr_object *o = nested_adopt(mgr_object_client(d), v, type);
	mgr_value_free(k);
	mgr_value_free(v);
	return o;
}

static mgr_object *nested_list_get(mgr_object *l, int64_t i, const char *type)
{
	mgr_value *v = NULL;
	assert_int_equal(mgr_list_get(l, i, &v), 0);
	mgr_object *o = nested_adopt(mgr_object_client(l), v, type);
	mgr_value_free(v);
	return o;
}

static void nested_dict_set(mgr_object *d, const char *key, mgr_value *v)
{
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string(key), v), 0);
}

static int64_t nested_dict_int(mgr_object *d, const char *key)
{
	mgr_value *k = mgr_value_new_string(key), *v = NULL;
	assert_int_equal(mgr_dict_get(d, k, &v), 0);
	assert_int_equal(mgr_value_kind(v), MGR_INT);
	int64_t n = mgr_value_int(v);
	mgr_value_free(k);
	mgr_value_free(v);
	return n;
}

static size_t nested_len(mgr_object *l)
{
	size_t n = 0;
	assert_int_equal(mgr_list_len(l, &n), 0);
	return n;
}

/* The server's count, polled (bounded) where a closed session's
 * references drop after our next call may already have been answered. */
static void nested_wait_info(mgr_client *c, const char *field, int64_t want)
{
	assert_int_equal(harness_wait_info(c, field, want, 10000), want);
}

/* The brief's sequence: a dict holds a list; our handles go and the dict
 * keeps it; del from the dict releases it. */
static void test_dict_holds_list(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *outer = nested_new(h->c, "dict"), *inner = nested_list_of(h->c, 3, 1);
	nested_dict_set(outer, "inner", mgr_object_ref(inner));
	assert_int_equal(harness_info(h->c, "objects"), base + 2);

	/* read back: a usable handle to the same object */
	mgr_object *again = nested_dict_get(outer, "inner", "list");
	assert_int_equal(mgr_object_id(again), mgr_object_id(inner));
	assert_int_equal(mgr_list_append(again, mgr_value_new_int(4)), 0);
	assert_int_equal(nested_len(inner), 4);

	/* our own handles go: the dict keeps it alive */
	assert_int_equal(mgr_object_release(again), 0);
	assert_int_equal(mgr_object_release(inner), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 2);
	inner = nested_dict_get(outer, "inner", "list");
	assert_int_equal(nested_len(inner), 4);
	mgr_value *items = NULL;
	assert_int_equal(mgr_list_copy(inner, &items), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(mgr_value_int(mgr_value_list_get(items, i)), (int64_t)i + 1);
	mgr_value_free(items);
	assert_int_equal(mgr_object_release(inner), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 2);

	/* del from the dict: the last reference goes, so does the list */
	mgr_value *k = mgr_value_new_string("inner");
	assert_int_equal(mgr_dict_del(outer, k), 0);
	mgr_value_free(k);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	assert_int_equal(mgr_object_release(outer), 0);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* Python's test_dict_proxy_nested, step by step. */
static void test_dict_proxy_nested(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *pets = nested_new(h->c, "dict"), *supplies = nested_new(h->c, "dict");
	nested_dict_set(pets, "ferrets", mgr_value_new_int(2));
	nested_dict_set(pets, "hamsters", mgr_value_new_int(4));
	nested_dict_set(supplies, "water", mgr_value_new_int(10));
	nested_dict_set(supplies, "feed", mgr_value_new_int(3));
	mgr_object *d = nested_new(h->c, "dict");
	nested_dict_set(d, "pets", mgr_object_ref(pets));
	nested_dict_set(d, "supplies", mgr_object_ref(supplies));

	/* d['supplies']['blankets'] = 5 shows through the original handle */
	mgr_object *s = nested_dict_get(d, "supplies", "dict");
	assert_int_equal(nested_dict_int(s, "water"), 10);
	nested_dict_set(s, "blankets", mgr_value_new_int(5));
	nested_dict_set(s, "water", mgr_value_new_int(7));
	mgr_object_release(s);
	assert_int_equal(nested_dict_int(supplies, "blankets"), 5);
	assert_int_equal(nested_dict_int(supplies, "water"), 7);

	/* del pets, supplies: d keeps them */
	mgr_object_release(pets);
	mgr_object_release(supplies);
	assert_int_equal(harness_info(h->c, "objects"), base + 3);
	mgr_object *p = nested_dict_get(d, "pets", "dict");
	assert_int_equal(nested_dict_int(p, "ferrets"), 2);
	mgr_object_release(p);

	/* pets = d['pets']; supplies = d['supplies']; d.clear(): ours keep them */
	pets = nested_dict_get(d, "pets", "dict");
	supplies = nested_dict_get(d, "supplies", "dict");
	assert_int_equal(mgr_dict_clear(d), 0);
	size_t n = 1;
	assert_int_equal(mgr_dict_len(d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 3);
	assert_int_equal(nested_dict_int(supplies, "water"), 7);
	assert_int_equal(nested_dict_int(pets, "hamsters"), 4);

	/* l = list([pets, supplies]); l[0]['marmots'] = 1 */
	mgr_object *l = nested_new(h->c, "list");
	assert_int_equal(mgr_list_append(l, mgr_object_ref(pets)), 0);
	assert_int_equal(mgr_list_append(l, mgr_object_ref(supplies)), 0);
	p = nested_list_get(l, 0, "dict");
	nested_dict_set(p, "marmots", mgr_value_new_int(1));
	mgr_object_release(p);
	assert_int_equal(nested_dict_int(pets, "marmots"), 1);
	mgr_object_release(pets);
	mgr_object_release(supplies);
	p = nested_list_get(l, 0, "dict");
	assert_int_equal(nested_dict_int(p, "marmots"), 1);
	mgr_object_release(p);

	/* outer = list([[88, 99], l]): a plain list stays a plain list */
	mgr_object *outer = nested_new(h->c, "list");
	mgr_value *plain = mgr_value_new_list();
	mgr_value_list_append(plain, mgr_value_new_int(88));
	mgr_value_list_append(plain, mgr_value_new_int(99));
	assert_int_equal(mgr_list_append(outer, plain), 0);
	assert_int_equal(mgr_list_append(outer, mgr_object_ref(l)), 0);
	mgr_object_release(l);
	mgr_value *first = NULL;
	assert_int_equal(mgr_list_get(outer, 0, &first), 0);
	assert_int_equal(mgr_value_kind(first), MGR_LIST);
	mgr_value_free(first);
	mgr_object *ll = nested_list_get(outer, -1, "list");
	mgr_object *sup = nested_list_get(ll, -1, "dict");
	assert_int_equal(nested_dict_int(sup, "feed"), 3);
	mgr_object_release(sup);
	mgr_object_release(ll);

	/* d, outer -> l -> pets, supplies: deleting outer releases the chain */
	assert_int_equal(harness_info(h->c, "objects"), base + 5);
	assert_int_equal(mgr_object_delete(outer), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	mgr_object_release(outer);
	mgr_object_release(d);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* Python's test_list_proxy_in_list: a list of refs. */
static void test_list_of_refs(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *a = nested_new(h->c, "list");
	for (int i = 0; i < 3; i++) {
		mgr_object *in = nested_list_of(h->c, 3, 0);
		assert_int_equal(mgr_list_append(a, mgr_object_ref(in)), 0);
		assert_int_equal(mgr_object_release(in), 0);
	}
	assert_int_equal(harness_info(h->c, "objects"), base + 4);

	/* [inner[:] for inner in a] == [[0, 1, 2]] * 3, from one copy of a */
	mgr_value *refs = NULL;
	assert_int_equal(mgr_list_copy(a, &refs), 0);
	assert_int_equal(mgr_value_len(refs), 3);
	mgr_object *in[3];
	for (size_t i = 0; i < 3; i++) {
		in[i] = nested_adopt(h->c, mgr_value_list_get(refs, i), "list");
		mgr_value *items = NULL;
		assert_int_equal(mgr_list_slice(in[i], 0, 100, &items), 0);
		assert_int_equal(mgr_value_len(items), 3);
		for (size_t j = 0; j < 3; j++)
			assert_int_equal(mgr_value_int(mgr_value_list_get(items, j)), (int64_t)j);
		mgr_value_free(items);
	}
	mgr_value_free(refs);

	/* a[0][-1] = 55 is seen through a */
	assert_int_equal(mgr_list_set(in[0], -1, mgr_value_new_int(55)), 0);
	mgr_object *first = nested_list_get(a, 0, "list");
	mgr_value *v = NULL;
	assert_int_equal(mgr_list_get(first, -1, &v), 0);
	assert_int_equal(mgr_value_int(v), 55);
	mgr_value_free(v);
	mgr_object_release(first);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(mgr_object_release(in[i]), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 4);

	/* pop hands the ref over: the object lives until we release it */
	mgr_value *popped = NULL;
	assert_int_equal(mgr_list_pop(a, -1, &popped), 0);
	mgr_object *last = nested_adopt(h->c, popped, "list");
	mgr_value_free(popped);
	assert_int_equal(nested_len(a), 2);
	assert_int_equal(nested_len(last), 3);
	assert_int_equal(harness_info(h->c, "objects"), base + 4);
	assert_int_equal(mgr_object_release(last), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 3);

	/* set over a ref, then remove, then clear: each releases one */
	assert_int_equal(mgr_list_set(a, 1, mgr_value_new_int(0)), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 2);
	assert_int_equal(mgr_list_del(a, 0), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);

	/* f = list([a]): the same object twice in a list holds two references */
	mgr_object *x = nested_list_of(h->c, 1, 9);
	assert_int_equal(mgr_list_append(a, mgr_object_ref(x)), 0);
	assert_int_equal(mgr_list_append(a, mgr_object_ref(x)), 0);
	assert_int_equal(mgr_object_release(x), 0);
	assert_int_equal(mgr_list_del(a, -1), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 2);
	assert_int_equal(mgr_list_clear(a), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	assert_int_equal(mgr_object_release(a), 0);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* A list inside a list inside a list; deleting the outermost releases all. */
static void test_list_in_list_in_list(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *inner = nested_list_of(h->c, 2, 5), *middle = nested_new(h->c, "list");
	mgr_object *outer = nested_new(h->c, "list");
	assert_int_equal(mgr_list_append(middle, mgr_object_ref(inner)), 0);
	assert_int_equal(mgr_list_append(outer, mgr_object_ref(middle)), 0);
	mgr_object_release(inner);
	mgr_object_release(middle);
	assert_int_equal(harness_info(h->c, "objects"), base + 3);

	mgr_object *m = nested_list_get(outer, 0, "list");
	mgr_object *i = nested_list_get(m, 0, "list");
	assert_int_equal(nested_len(i), 2);
	mgr_object_release(i);
	mgr_object_release(m);

	assert_int_equal(mgr_object_delete(outer), 0);
	assert_int_equal(harness_info(h->c, "objects"), base);
	mgr_object_release(outer);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* Deleting (ending for everyone) an inner object the container still
 * names: the container's ref goes stale, and dropping it frees nothing twice. */
static void test_deleted_inner(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *d = nested_new(h->c, "dict"), *l = nested_list_of(h->c, 1, 0);
	nested_dict_set(d, "l", mgr_object_ref(l));
	assert_int_equal(mgr_object_delete(l), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	assert_int_equal(mgr_list_len(l, NULL), MGR_ENOOBJ);
	mgr_object_release(l);

	/* the stale ref reads back; adopting it names no object */
	mgr_value *k = mgr_value_new_string("l"), *v = NULL;
	mgr_object *o = NULL;
	assert_int_equal(mgr_dict_get(d, k, &v), 0);
	assert_int_equal(mgr_value_kind(v), MGR_REF);
	assert_int_equal(mgr_object_from_ref(h->c, v, &o), MGR_ENOOBJ);
	assert_null(o);
	mgr_value_free(v);
	assert_int_equal(mgr_dict_del(d, k), 0);
	mgr_value_free(k);
	assert_int_equal(mgr_object_release(d), 0);
	assert_int_equal(harness_info(h->c, "objects"), base);

	/* a forged ref to an id not given out yet must not count against the
	 * object that later gets that id */
	mgr_object *d2 = nested_new(h->c, "dict");
	uint64_t next = mgr_object_id(d2) + 1;
	nested_dict_set(d2, "x", mgr_value_new_ref(next, "list"));
	mgr_object *y = nested_new(h->c, "list");
	mgr_value *kx = mgr_value_new_string("x");
	assert_int_equal(mgr_dict_del(d2, kx), 0);
	mgr_value_free(kx);
	assert_int_equal(mgr_list_append(y, mgr_value_new_int(1)), 0); /* still alive */
	assert_int_equal(nested_len(y), 1);
	assert_int_equal(mgr_object_release(y), 0);
	mgr_object_release(d2);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* A list that holds itself, and two that hold each other: delete breaks
 * the cycle. */
static void test_cycles_deleted(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *b = nested_new(h->c, "list");
	assert_int_equal(mgr_list_append(b, mgr_object_ref(b)), 0);
	mgr_object *self = nested_list_get(b, 0, "list");
	assert_int_equal(mgr_object_id(self), mgr_object_id(b));
	mgr_object_release(self);
	assert_int_equal(mgr_object_delete(b), 0);
	mgr_object_release(b);
	assert_int_equal(harness_info(h->c, "objects"), base);

	mgr_object *x = nested_new(h->c, "list"), *y = nested_new(h->c, "list");
	assert_int_equal(mgr_list_append(x, mgr_object_ref(y)), 0);
	assert_int_equal(mgr_list_append(y, mgr_object_ref(x)), 0);
	assert_int_equal(mgr_object_delete(x), 0);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	mgr_object_release(x);
	mgr_object_release(y);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* Another session reads the ref, adopts it and keeps the object alive after
 * the container lets go; a session that reads refs and closes without
 * adopting them leaks nothing. */
static void test_other_sessions(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects"), sessions = harness_info(h->c, "sessions");
	mgr_object *d, *l = nested_list_of(h->c, 2, 0);
	assert_int_equal(mgr_dict_open(h->c, "nested.shared", &d), 0);
	nested_dict_set(d, "l", mgr_object_ref(l));
	mgr_object_release(l);

	mgr_client *c2, *c3;
	mgr_object *d2, *d3;
	assert_int_equal(mgr_client_connect(h->path, &c2), 0);
	assert_int_equal(mgr_client_connect(h->path, &c3), 0);
	assert_int_equal(harness_info(h->c, "sessions"), sessions + 2);
	assert_int_equal(mgr_object_lookup(c2, "nested.shared", &d2), 0);
	assert_int_equal(mgr_object_lookup(c3, "nested.shared", &d3), 0);
	mgr_object *l2 = nested_dict_get(d2, "l", "list");
	mgr_value *k = mgr_value_new_string("l"), *dropped = NULL;
	assert_int_equal(mgr_dict_get(d3, k, &dropped), 0); /* read, never adopted */
	mgr_value_free(dropped);

	assert_int_equal(mgr_dict_del(d, k), 0);
	mgr_value_free(k);
	assert_int_equal(harness_info(h->c, "objects"), base + 2); /* c2 (and c3) hold it */
	assert_int_equal(mgr_list_append(l2, mgr_value_new_int(2)), 0);
	assert_int_equal(nested_len(l2), 3);
	mgr_object_release(d3);
	mgr_client_close(c3);
	nested_wait_info(h->c, "sessions", sessions + 1);
	assert_int_equal(harness_info(h->c, "objects"), base + 2); /* c2's handle */
	mgr_object_release(l2);
	/* c3's read-only hold goes back when mgrd ends its session, which may
	 * be after "sessions" already dropped (the same loop turn's end) */
	nested_wait_info(h->c, "objects", base + 1);
	mgr_object_release(d2);
	mgr_client_close(c2);
	nested_wait_info(h->c, "sessions", sessions);

	assert_int_equal(mgr_object_delete(d), 0);
	mgr_object_release(d);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* Refs stored by a process that then ends keep the objects alive for the
 * container (the session's own references go, the container's stay). */
static int nested_child_store(void *arg, int i)
{
	mgr_object *d = arg, *l = NULL;
	char key[16];
	snprintf(key, sizeof(key), "k%d", i);
	if (mgr_object_create(mgr_object_client(d), "list", NULL, NULL, 0, &l) ||
	    mgr_list_append(l, mgr_value_new_int(i)) ||
	    mgr_dict_set(d, mgr_value_new_string(key), mgr_object_ref(l)))
		return 1;
	return 0; /* exits holding its handle: the session's end drops it */
}

static void test_refs_from_children(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects");
	mgr_object *d = nested_new(h->c, "dict");
	assert_int_equal(harness_fork_n(5, nested_child_store, d), 5);
	nested_wait_info(h->c, "objects", base + 6);
	for (int i = 0; i < 5; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		mgr_object *l = nested_dict_get(d, key, "list");
		mgr_value *v = NULL;
		assert_int_equal(mgr_list_get(l, 0, &v), 0);
		assert_int_equal(mgr_value_int(v), i);
		mgr_value_free(v);
		mgr_object_release(l);
	}
	assert_int_equal(mgr_object_release(d), 0);
	/* the children's sessions end (dropping their handles on d) when mgrd
	 * sees them gone, which may come after our release is answered */
	nested_wait_info(h->c, "objects", base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dict_holds_list),
		cmocka_unit_test(test_dict_proxy_nested),
		cmocka_unit_test(test_list_of_refs),
		cmocka_unit_test(test_list_in_list_in_list),
		cmocka_unit_test(test_deleted_inner),
		cmocka_unit_test(test_cycles_deleted),
		cmocka_unit_test(test_other_sessions),
		cmocka_unit_test(test_refs_from_children),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
