/* Reference cycles through a real mgrd (issue 12): a list holding itself,
 * two dicts holding each other (one through nested values), a queue, a
 * joinable queue and a namespace holding themselves are freed once their
 * last outside holder lets go; a cycle still held by a name, a session's
 * reference or a parked put's item is not, and its contents are intact;
 * 10000 lists in one cycle are collected while another client's calls are
 * answered between the collector's slices; info counts it all.
 *
 * "Not collected" is checked without sleeping: a throwaway list holding
 * itself is released after the setup, and once it is collected, a
 * collection that started after the setup has run (and must have freed
 * exactly that one). */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <mgr/containers.h>
#include <mgr/sync.h>

#include "../common/clock.h"
#include "harness.h"

#define S(x) mgr_value_new_string(x)
#define I(x) mgr_value_new_int(x)
#define WAIT_MS 30000 /* bounded waits: a regression fails, never hangs */

static mgr_object *gc_new(mgr_client *c, const char *type, const char *name)
{
	mgr_object *o = NULL;
	assert_ok(mgr_object_create(c, type, name, NULL, 0, &o));
	return o;
}

/* A list holding [ints..., ref to itself]. */
static mgr_object *gc_self_list(mgr_client *c, int nints)
{
	mgr_object *l = gc_new(c, "list", NULL);
	for (int i = 0; i < nints; i++)
		assert_ok(mgr_list_append(l, I(i + 1)));
	assert_ok(mgr_list_append(l, mgr_object_ref(l)));
	return l;
}

/* Polls info until field >= want (bounded); returns the whole info map of
 * that moment (caller frees). */
static mgr_value *gc_wait_at_least(mgr_client *c, const char *field, int64_t want)
{
	int64_t deadline = clock_now_ms() + WAIT_MS;
	for (;;) {
		mgr_value *info = NULL;
		assert_ok(mgr_call(mgr_client_manager(c), "info", NULL, 0, &info));
		int64_t v = harness_map_int(info, field);
		if (v >= want)
			return info;
		mgr_value_free(info);
		if (clock_now_ms() > deadline)
			fail_msg("info %s stayed at %lld, want %lld within %d ms", field,
				 (long long)v, (long long)want, WAIT_MS);
	}
}

static void gc_wait_collected(mgr_client *c, int64_t want)
{
	mgr_value_free(gc_wait_at_least(c, "gc_collected", want));
}

/* A collection that started after now has run: a throwaway cycle is made,
 * released and collected; it was the only thing collected since. */
static void gc_one_more_run(mgr_client *c)
{
	int64_t before = harness_info(c, "gc_collected");
	mgr_object_release(gc_self_list(c, 0));
	gc_wait_collected(c, before + 1);
	assert_int_equal(harness_info(c, "gc_collected"), before + 1);
}

/* A handle for the ref value v (borrowed), which must name id if id != 0. */
static mgr_object *gc_adopt(mgr_client *c, const mgr_value *v, uint64_t id)
{
	mgr_object *o = NULL;
	assert_non_null(v);
	assert_int_equal(mgr_value_kind(v), MGR_REF);
	if (id)
		assert_int_equal(mgr_value_ref_id(v), id);
	assert_ok(mgr_object_from_ref(c, v, &o));
	return o;
}

/* The items of list id, read by a client of its own: a reply carrying
 * refs hands its session a reference for each, which it keeps until it
 * adopts and releases them, or ends. Caller frees. */
static mgr_value *gc_peek_list(const char *path, uint64_t id)
{
	mgr_client *c;
	mgr_object *l;
	mgr_value *items = NULL, *ref = mgr_value_new_ref(id, "list");
	assert_ok(mgr_client_connect(path, &c));
	assert_ok(mgr_object_from_ref(c, ref, &l));
	assert_ok(mgr_list_copy(l, &items));
	mgr_value_free(ref);
	mgr_object_release(l);
	mgr_client_close(c);
	return items;
}

/* List id holds 1..n, then a ref to itself, then more. */
static void gc_check_self_list(const char *path, uint64_t id, int n, size_t len)
{
	mgr_value *items = gc_peek_list(path, id);
	assert_int_equal(mgr_value_len(items), len);
	for (int i = 0; i < n; i++)
		assert_int_equal(mgr_value_int(mgr_value_list_get(items, (size_t)i)), i + 1);
	const mgr_value *self = mgr_value_list_get(items, (size_t)n);
	assert_int_equal(mgr_value_kind(self), MGR_REF);
	assert_int_equal(mgr_value_ref_id(self), id);
	mgr_value_free(items);
}

/* ---- freed ---- */

/* The case: a list holding itself, released by its creator. */
static void test_self_list_collected(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects"), coll = harness_info(h->c, "gc_collected");
	int64_t runs = harness_info(h->c, "gc_runs");
	mgr_object *l = gc_self_list(h->c, 3);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	mgr_object_release(l);
	gc_wait_collected(h->c, coll + 1);
	assert_int_equal(harness_info(h->c, "objects"), base);
	assert_int_equal(harness_info(h->c, "gc_collected"), coll + 1);
	assert_true(harness_info(h->c, "gc_runs") > runs);
	assert_true(harness_info(h->c, "gc_last_visited") >= 1);
}

/* Two dicts holding each other, the way back through a list and a map
 * inside a value; a counter only they hold goes with them. */
static void test_two_dicts_collected(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects"), coll = harness_info(h->c, "gc_collected");
	mgr_object *a = gc_new(h->c, "dict", NULL), *b = gc_new(h->c, "dict", NULL);
	mgr_object *n = gc_new(h->c, "counter", NULL);
	assert_ok(mgr_dict_set(a, S("peer"), mgr_object_ref(b)));
	assert_ok(mgr_dict_set(a, S("count"), mgr_object_ref(n)));
	mgr_value *deep = mgr_value_new_list(), *m = mgr_value_new_map();
	assert_ok(mgr_value_map_set(m, S("back"), mgr_object_ref(a)));
	assert_ok(mgr_value_list_append(deep, I(7)));
	assert_ok(mgr_value_list_append(deep, m));
	assert_ok(mgr_dict_set(b, S("deep"), deep));
	assert_int_equal(harness_info(h->c, "objects"), base + 3);
	mgr_object_release(n);
	mgr_object_release(a);
	mgr_object_release(b);
	gc_wait_collected(h->c, coll + 2);
	assert_int_equal(harness_info(h->c, "objects"), base);
	assert_int_equal(harness_info(h->c, "gc_collected"), coll + 2);
}

/* Every container type that holds refs: a queue, a joinable queue (in
 * its ring) and a namespace (an attribute) holding themselves. */
static void test_every_container_collected(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects"), coll = harness_info(h->c, "gc_collected");
	mgr_object *q = gc_new(h->c, "queue", NULL), *jq = gc_new(h->c, "joinable_queue", NULL);
	mgr_object *ns = gc_new(h->c, "namespace", NULL);
	assert_ok(mgr_queue_put(q, mgr_object_ref(q), true, MGR_FOREVER));
	assert_ok(mgr_queue_put(jq, mgr_object_ref(jq), true, MGR_FOREVER));
	assert_ok(mgr_namespace_set(ns, "me", mgr_object_ref(ns)));
	mgr_object_release(q);
	mgr_object_release(jq);
	mgr_object_release(ns);
	gc_wait_collected(h->c, coll + 3);
	assert_int_equal(harness_info(h->c, "objects"), base);
	assert_int_equal(harness_info(h->c, "gc_collected"), coll + 3);
}

/* ---- held: not freed ---- */

/* A cycle a name reaches, and one a session's reference reaches, stay
 * with their contents; once those let go, they are collected. */
static void test_reachable_kept(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects"), coll = harness_info(h->c, "gc_collected");
	mgr_object *root = gc_new(h->c, "dict", "gc.root");
	mgr_object *l = gc_self_list(h->c, 3);
	uint64_t lid = mgr_object_id(l);
	assert_ok(mgr_dict_set(root, S("l"), mgr_object_ref(l)));
	mgr_object *a = gc_new(h->c, "list", NULL), *b = gc_self_list(h->c, 2);
	assert_ok(mgr_list_append(a, mgr_object_ref(b)));
	assert_ok(mgr_list_append(b, mgr_object_ref(a)));
	uint64_t bid = mgr_object_id(b);
	mgr_object_release(l);
	mgr_object_release(b);

	gc_one_more_run(h->c);
	assert_int_equal(harness_info(h->c, "objects"), base + 4);
	assert_int_equal(harness_info(h->c, "gc_collected"), coll + 1);
	mgr_value *k = S("l"), *v = NULL;
	assert_ok(mgr_dict_get(root, k, &v));
	l = gc_adopt(h->c, v, lid);
	mgr_value_free(v);
	mgr_object_release(l);
	gc_check_self_list(h->path, lid, 3, 4);
	assert_ok(mgr_list_get(a, 0, &v));
	b = gc_adopt(h->c, v, bid);
	mgr_value_free(v);
	mgr_object_release(b);
	gc_check_self_list(h->path, bid, 2, 4); /* 1, 2, itself, a */

	/* the holders let go: both cycles go */
	assert_ok(mgr_dict_del(root, k));
	mgr_value_free(k);
	mgr_object_release(a);
	gc_wait_collected(h->c, coll + 1 + 3);
	assert_int_equal(harness_info(h->c, "objects"), base + 1);
	assert_ok(mgr_object_delete(root));
	mgr_object_release(root);
	assert_int_equal(harness_info(h->c, "objects"), base);
}

/* The parked putter: another process puts a ref to list lid into the
 * full queue qid and waits there, holding no reference to the queue (it
 * releases its handle once the put is sent: a parked call does not hold
 * its object). Exits 0 if the put went through. */
struct gc_putter {
	const char *path;
	uint64_t qid, lid;
};

static int gc_putter(void *arg, int i)
{
	(void)i;
	const struct gc_putter *p = arg;
	mgr_client *c;
	mgr_object *q;
	mgr_future *f;
	mgr_value *qref = mgr_value_new_ref(p->qid, "queue");
	mgr_value *args[] = {mgr_value_new_ref(p->lid, "list"), mgr_value_new_bool(true)};
	if (mgr_client_connect(p->path, &c) || mgr_object_from_ref(c, qref, &q) ||
	    mgr_call_async(q, "put", args, 2, &f) || mgr_client_flush(c))
		return 1;
	mgr_object_release(q);
	int err = mgr_future_wait(f, NULL);
	mgr_client_close(c);
	return err ? 2 : 0;
}

/* Reaps child pid (bounded): whether it exited 0. */
static bool gc_reap(pid_t pid)
{
	int status = 0;
	assert_true(harness_reap_within(pid, WAIT_MS, &status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* How many calls wait on object id. */
static int64_t gc_waiters(mgr_client *c, uint64_t id)
{
	mgr_value *row = NULL;
	assert_ok(mgr_callv(mgr_client_manager(c), "describe", &row, I((int64_t)id), NULL));
	int64_t n = harness_map_int(row, "waiters");
	mgr_value_free(row);
	return n;
}

static void gc_wait_waiters(mgr_client *c, uint64_t id, int64_t want)
{
	int64_t deadline = clock_now_ms() + WAIT_MS;
	while (gc_waiters(c, id) != want)
		if (clock_now_ms() > deadline)
			fail_msg("object %llu: waiters never became %lld", (unsigned long long)id,
				 (long long)want);
}

/* A full anonymous queue q and a list l holding q; another process's put
 * of a ref to l is parked on q. Nobody else holds either: the parked
 * item holds l, l holds q — not garbage (a parked item is work in flight,
 * not part of the queue's state). Then either the put goes through (the
 * item in q's ring: now a cycle, collected once we let go) or the putter
 * is killed while parked (its item goes with its session: collected). */
static void test_parked_item_kept(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects"), coll = harness_info(h->c, "gc_collected");
	for (int round = 0; round < 2; round++) {
		bool kill_it = round == 1;
		mgr_value *one = I(1);
		mgr_object *q = NULL, *l = gc_self_list(h->c, 2);
		assert_ok(mgr_object_create(h->c, "queue", NULL, &one, 1, &q)); /* maxsize 1 */
		mgr_value_free(one);
		assert_ok(mgr_queue_put(q, I(0), true, MGR_FOREVER)); /* full */
		assert_ok(mgr_list_append(l, mgr_object_ref(q)));
		struct gc_putter p = {h->path, mgr_object_id(q), mgr_object_id(l)};
		pid_t pid = harness_spawn(gc_putter, &p, 0);
		gc_wait_waiters(h->c, p.qid, 1);
		mgr_object_release(l);
		mgr_object_release(q);

		gc_one_more_run(h->c);
		coll += 1;
		assert_int_equal(harness_info(h->c, "objects"), base + 2);
		assert_int_equal(gc_waiters(h->c, p.qid), 1);
		if (kill_it) {
			assert_int_equal(kill(pid, SIGKILL), 0);
			assert_false(gc_reap(pid));
		} else {
			/* room in q: the put goes through, l is in q's ring */
			mgr_value *v = NULL, *qref = mgr_value_new_ref(p.qid, "queue");
			assert_ok(mgr_object_from_ref(h->c, qref, &q));
			mgr_value_free(qref);
			assert_ok(mgr_queue_get(q, true, MGR_FOREVER, &v));
			assert_int_equal(mgr_value_int(v), 0);
			mgr_value_free(v);
			assert_true(gc_reap(pid));
			gc_check_self_list(h->path, p.lid, 2, 4); /* 1, 2, itself, q */
			mgr_object_release(q);
		}
		gc_wait_collected(h->c, coll + 2);
		coll += 2;
		assert_int_equal(harness_info(h->c, "objects"), base);
	}
	assert_int_equal(harness_info(h->c, "gc_collected"), coll);
}

/* ---- big ---- */

#define GC_BIG 10000
#define GC_PAYLOAD 64 /* ints in each list: the walk has something to read */

struct gc_spin {
	const char *path;
	int stop[2]; /* a pipe: the test closes its end to stop the spinner */
};

/* Another client calling all the time, until the stop pipe is closed;
 * exits with 0 if every call succeeded. */
static int gc_spinner(void *arg, int i)
{
	(void)i;
	const struct gc_spin *sp = arg;
	const char *path = sp->path;
	int fd = sp->stop[0];
	close(sp->stop[1]);
	mgr_client *c;
	mgr_object *n;
	if (mgr_client_connect(path, &c) || mgr_counter_open(c, "gc.spin", &n))
		return 1;
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, 0) != 0)
			break;
		if (mgr_counter_add(n, 1, NULL))
			return 2;
	}
	mgr_object_release(n);
	mgr_client_close(c);
	return 0;
}

/* GC_BIG lists in one cycle, each holding the one made before it and the
 * first holding the last: collected whole while another client's calls
 * are answered between the collector's slices. */
static void test_big_cycle(void **state)
{
	struct harness *h = *state;
	int64_t base = harness_info(h->c, "objects"), coll = harness_info(h->c, "gc_collected");
	mgr_value *payload = mgr_value_new_list();
	for (int i = 0; i < GC_PAYLOAD; i++)
		assert_ok(mgr_value_list_append(payload, I(i)));
	mgr_object *first = gc_new(h->c, "list", NULL), *prev = first;
	for (int i = 1; i < GC_BIG; i++) {
		mgr_object *cur = NULL;
		assert_ok(mgr_object_create(h->c, "list", NULL, &payload, 1, &cur));
		assert_ok(mgr_list_append(cur, mgr_object_ref(prev)));
		if (prev != first)
			mgr_object_release(prev);
		prev = cur;
	}
	mgr_value_free(payload);
	assert_ok(mgr_list_append(first, mgr_object_ref(prev)));
	mgr_object_release(prev);
	gc_one_more_run(h->c); /* held by our reference to first: all kept */
	assert_int_equal(harness_info(h->c, "objects"), base + GC_BIG);

	struct gc_spin sp = {h->path, {-1, -1}};
	assert_int_equal(pipe(sp.stop), 0);
	pid_t pid = harness_spawn(gc_spinner, &sp, 0);
	mgr_object *spin = NULL;
	assert_ok(mgr_counter_open(h->c, "gc.spin", &spin));
	int64_t spun = 0;
	while (spun == 0) /* the spinner is calling */
		assert_ok(mgr_counter_get(spin, &spun));

	coll += 1;
	mgr_object_release(first);
	mgr_value *info = gc_wait_at_least(h->c, "gc_collected", coll + GC_BIG);
	close(sp.stop[1]);
	assert_true(gc_reap(pid));
	close(sp.stop[0]);
	int64_t calls = harness_map_int(info, "gc_last_calls");
	int64_t slices = harness_map_int(info, "gc_last_slices");
	printf("gc of %d: %lld us, longest slice %lld us, %lld slices, %lld states walked, "
	       "%lld calls answered meanwhile\n",
	       GC_BIG, (long long)harness_map_int(info, "gc_last_us"),
	       (long long)harness_map_int(info, "gc_last_slice_us"), (long long)slices,
	       (long long)harness_map_int(info, "gc_last_visited"), (long long)calls);
	assert_int_equal(harness_map_int(info, "gc_collected"), coll + GC_BIG);
	assert_int_equal(harness_map_int(info, "gc_last_collected"), GC_BIG);
	assert_true(harness_map_int(info, "gc_last_visited") >= GC_BIG);
	assert_true(slices > 2);
	assert_true(calls > 0); /* others were served while it ran */
	mgr_value_free(info);
	assert_int_equal(harness_info(h->c, "objects"), base + 1); /* gc.spin */
	assert_int_equal(harness_info(h->c, "gc_running"), 0);
	assert_ok(mgr_object_delete(spin));
	mgr_object_release(spin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_list_collected),
		cmocka_unit_test(test_two_dicts_collected),
		cmocka_unit_test(test_every_container_collected),
		cmocka_unit_test(test_reachable_kept),
		cmocka_unit_test(test_parked_item_kept),
		cmocka_unit_test(test_big_cycle),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
