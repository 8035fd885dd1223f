/* Hash flooding through the real daemon (issue 13, item 3): 40k int keys
 * that all collided under the old unkeyed map hash go to mgrd in a
 * dict.update and in a manager ping (the map is decoded, stored, echoed).
 * Both complete and keep every key; and while they are in flight another
 * client's calls keep completing, each within a bounded wait. Before the
 * keyed hash one such request held mgrd's loop for seconds (update: 7.6 s,
 * ping: 3.9 s on a 2-core VM), so the other client's call ran out of its
 * wait. The figures measured are printed, never asserted. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "oldhash.h"

enum {
	FLOOD_N = 40000, /* a 65536-slot index: the low 16 bits decide the slot */
	FLOOD_BITS = 16,
	FLOOD_ROUNDS = 3, /* each: one dict.update, one ping */
	/* The other client's wait for each answer: far above what a flood
	 * request costs now (~0.05 s; ~0.3 s under ASan), below what one
	 * cost before (update 7.6 s). */
	PEER_WAIT_MS = 5000,
	FLOOD_WAIT_MS = 60000, /* the flooder's own bound: never a hang */
};

struct flood {
	const char *path;
	mgr_value *map; /* the colliding keys, value i for key i */
	int rounds_done, err;
	int done; /* atomic: the flooder finished */
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static mgr_value *flood_map(void)
{
	int64_t *keys = malloc(FLOOD_N * sizeof(*keys));
	assert_non_null(keys);
	oldhash_colliding(keys, FLOOD_N, FLOOD_BITS);
	mgr_value *m = mgr_value_new_map();
	for (size_t i = 0; i < FLOOD_N; i++) {
		assert_int_equal(oldhash_int(keys[i]) & ((1u << FLOOD_BITS) - 1), 0);
		assert_int_equal(mgr_value_map_set(m, mgr_value_new_int(keys[i]),
						   mgr_value_new_int((int64_t)i)),
				 0);
	}
	free(keys);
	return m;
}

/* One round: update a fresh dict with the map (its len must then be N), and
 * ping the map (the echo must equal it). */
static int flood_round(struct flood *f, mgr_client *c)
{
	mgr_object *d = NULL;
	mgr_value *res = NULL;
	int err = mgr_object_create(c, "dict", NULL, NULL, 0, &d);
	double t0 = now_s();
	if (!err)
		err = mgr_call(d, "update", &f->map, 1, NULL);
	double t1 = now_s();
	if (!err)
		err = mgr_callv(d, "len", &res, NULL);
	if (!err && mgr_value_int(res) != FLOOD_N)
		err = MGR_EPROTO;
	mgr_value_free(res);
	res = NULL;
	double t2 = now_s();
	if (!err)
		err = mgr_call(mgr_client_manager(c), "ping", &f->map, 1, &res);
	double t3 = now_s();
	if (!err && !mgr_value_equal(res, f->map))
		err = MGR_EPROTO;
	mgr_value_free(res);
	if (d)
		mgr_object_delete(d);
	mgr_object_release(d);
	fprintf(stderr, "flood round: update %.3f s, ping %.3f s (%s)\n", t1 - t0, t3 - t2,
		mgr_strerror(err));
	return err;
}

static void *flooder(void *arg)
{
	struct flood *f = arg;
	mgr_client *c = NULL;
	f->err = mgr_client_connect(f->path, &c);
	if (!f->err)
		mgr_client_set_timeout(c, FLOOD_WAIT_MS);
	for (int i = 0; !f->err && i < FLOOD_ROUNDS; i++)
		if (!(f->err = flood_round(f, c)))
			__atomic_add_fetch(&f->rounds_done, 1, __ATOMIC_RELAXED);
	mgr_client_close(c);
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_flood_keeps_mgrd_responsive(void **state)
{
	struct harness *h = *state;
	static struct flood f; /* static: outlives this frame if the test fails */
	f = (struct flood){.path = h->path, .map = flood_map()};
	mgr_client_set_timeout(h->c, PEER_WAIT_MS);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, flooder, &f), 0);
	/* the other client: pings until the flood is over; every answer must
	 * come within its bounded wait */
	int peer_calls = 0, peer_err = 0;
	while (!__atomic_load_n(&f.done, __ATOMIC_ACQUIRE)) {
		mgr_value *res = NULL;
		if ((peer_err = mgr_callv(mgr_client_manager(h->c), "ping", &res,
					  mgr_value_new_int(peer_calls), NULL)))
			break;
		assert_int_equal(mgr_value_int(res), peer_calls);
		mgr_value_free(res);
		peer_calls++;
	}
	fprintf(stderr, "flood: %d rounds of %d keys; the other client: %d calls (%s)\n",
		__atomic_load_n(&f.rounds_done, __ATOMIC_RELAXED), FLOOD_N, peer_calls,
		mgr_strerror(peer_err));
	if (peer_err) /* not joined: the teardown stops mgrd, which ends the flooder's call */
		fail_msg("the other client's call failed while the flood was in flight: %s (%s)",
			 mgr_strerror(peer_err), mgr_client_errmsg(h->c));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(f.err, 0);
	assert_int_equal(f.rounds_done, FLOOD_ROUNDS);
	assert_true(peer_calls >= FLOOD_ROUNDS); /* it ran all along the flood */
	mgr_client_set_timeout(h->c, 0);
	mgr_value_free(f.map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_keeps_mgrd_responsive),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
