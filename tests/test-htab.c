/* Unit tests for the ordered hash table (common/htab.c): insert, replace,
 * delete, re-insert, insertion order with holes, htab_nth, growth, a long
 * random run against a plain reference array, and hash flooding: keys that
 * collided under the old unkeyed hash, and the probe cap under a constant
 * hash (counted probes, never time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/htab.h"
#include "oldhash.h"

static mgr_value *ikey(int64_t i) { return mgr_value_new_int(i); }

static void set_int(struct htab *h, int64_t k, int64_t v, bool want_new)
{
	size_t before = h->live;
	assert_int_equal(htab_set(h, ikey(k), mgr_value_new_int(v)), 0);
	assert_int_equal(h->live, before + (want_new ? 1 : 0));
}

/* The value stored under int key k, or -1. */
static int64_t get_int(const struct htab *h, int64_t k)
{
	mgr_value *key = ikey(k);
	const struct hent *e = htab_find(h, key);
	mgr_value_free(key);
	return e ? mgr_value_int(&e->val) : -1;
}

static bool del_int(struct htab *h, int64_t k)
{
	mgr_value *key = ikey(k), *dv = NULL;
	const struct hent *e = htab_find(h, key);
	int64_t want = e ? mgr_value_int(&e->val) : -1;
	bool found = htab_del(h, key, &dv);
	assert_int_equal(found, e != NULL);
	if (found) /* the value is handed over */
		assert_int_equal(mgr_value_int(dv), want);
	mgr_value_free(key);
	mgr_value_free(dv);
	return found;
}

/* Checks the live keys, in order, against want[0..n). */
static void check_order(const struct htab *h, const int64_t *want, size_t n)
{
	assert_int_equal(h->live, n);
	for (size_t i = 0; i < n; i++) {
		const struct hent *e = htab_nth(h, i);
		assert_non_null(e);
		if (mgr_value_int(&e->key) != want[i])
			fail_msg("entry %zu: key %lld, want %lld", i,
				 (long long)mgr_value_int(&e->key), (long long)want[i]);
	}
	assert_null(htab_nth(h, n));
	size_t i = 0;
	HTAB_FOREACH(h, e)
	{
		assert_true(i < n);
		assert_int_equal(mgr_value_int(&e->key), want[i]);
		i++;
	}
	assert_int_equal(i, n);
}

static void test_empty(void **state)
{
	(void)state;
	struct htab *h = htab_new();
	assert_non_null(h);
	mgr_value *k = ikey(1), *dv = NULL;
	assert_null(htab_find(h, k));
	assert_false(htab_del(h, k, &dv));
	assert_false(htab_del(h, k, NULL));
	assert_null(htab_nth(h, 0));
	assert_int_equal(h->live, 0);
	mgr_value_free(k);
	htab_free(h);
	htab_free(NULL);
}

static void test_insert_replace(void **state)
{
	(void)state;
	struct htab *h = htab_new();
	for (int i = 0; i < 10; i++)
		set_int(h, i, i * 10, true);
	for (int i = 0; i < 10; i++)
		assert_int_equal(get_int(h, i), i * 10);
	assert_int_equal(get_int(h, 10), -1);
	/* replace: the old value goes, count and order unchanged */
	assert_int_equal(htab_set(h, ikey(3), mgr_value_new_string("three")), 0);
	assert_int_equal(h->live, 10);
	const struct hent *e = htab_nth(h, 3);
	assert_int_equal(mgr_value_int(&e->key), 3);
	assert_string_equal(mgr_value_string(&e->val, NULL), "three");
	/* NULL key or value: ENOMEM, the other consumed */
	assert_int_equal(htab_set(h, NULL, mgr_value_new_int(1)), MGR_ENOMEM);
	assert_int_equal(htab_set(h, ikey(99), NULL), MGR_ENOMEM);
	assert_int_equal(h->live, 10);
	assert_int_equal(get_int(h, 99), -1);
	htab_free(h);
}

static void test_mixed_keys(void **state)
{
	(void)state;
	struct htab *h = htab_new();
	mgr_value *keys[] = {mgr_value_new_int(1), mgr_value_new_bool(true),
			     mgr_value_new_string("1"), mgr_value_new_bytes("1", 1),
			     mgr_value_new_int(0), mgr_value_new_bool(false),
			     mgr_value_new_string(""), mgr_value_new_bytes(NULL, 0)};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(htab_set(h, mgr_value_copy(keys[i]), mgr_value_new_int((int64_t)i)), 0);
		assert_int_equal(h->live, i + 1); /* every one is a new key */
	}
	assert_int_equal(h->live, n);
	for (size_t i = 0; i < n; i++) {
		const struct hent *e = htab_find(h, keys[i]);
		assert_non_null(e);
		assert_int_equal(mgr_value_int(&e->val), i);
	}
	for (size_t i = 0; i < n; i++)
		mgr_value_free(keys[i]);
	htab_free(h);
}

static void test_delete_reinsert(void **state)
{
	(void)state;
	struct htab *h = htab_new();
	for (int i = 0; i < 6; i++)
		set_int(h, i, i, true);
	assert_true(del_int(h, 2));
	assert_false(del_int(h, 2));
	assert_int_equal(get_int(h, 2), -1);
	check_order(h, (int64_t[]){0, 1, 3, 4, 5}, 5);
	/* re-inserted keys go to the end, like Python's dict */
	set_int(h, 2, 22, true);
	check_order(h, (int64_t[]){0, 1, 3, 4, 5, 2}, 6);
	assert_int_equal(get_int(h, 2), 22);
	/* deleting the last entry, then adding */
	assert_true(del_int(h, 2));
	set_int(h, 7, 7, true);
	check_order(h, (int64_t[]){0, 1, 3, 4, 5, 7}, 6);
	/* holes at the front */
	assert_true(del_int(h, 0));
	assert_true(del_int(h, 1));
	check_order(h, (int64_t[]){3, 4, 5, 7}, 4);
	assert_int_equal(mgr_value_int(&htab_nth(h, 0)->key), 3);
	assert_int_equal(mgr_value_int(&htab_nth(h, 3)->key), 7);
	/* replacing a key keeps its place even with holes before it */
	set_int(h, 5, 55, false);
	check_order(h, (int64_t[]){3, 4, 5, 7}, 4);
	htab_free(h);
}

static void test_nth_with_holes(void **state)
{
	(void)state;
	struct htab *h = htab_new();
	int64_t want[50];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		set_int(h, i, i, true);
	for (int i = 0; i < 100; i++)
		if (i % 2 == 0)
			assert_true(del_int(h, i));
		else
			want[n++] = i;
	check_order(h, want, n);
	htab_free(h);
}

static void test_growth_100k(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct htab *h = htab_new();
	for (int i = 0; i < N; i++)
		set_int(h, (int64_t)i * 7919, i, true);
	assert_int_equal(h->live, N);
	for (int i = 0; i < N; i++)
		if (get_int(h, (int64_t)i * 7919) != i)
			fail_msg("key %d lost after growth", i);
	assert_int_equal(get_int(h, 1), -1);
	/* order survives growth */
	for (size_t i = 0; i < N; i += 997)
		assert_int_equal(mgr_value_int(&htab_nth(h, i)->key), (int64_t)i * 7919);
	/* string keys too */
	char buf[32];
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "k%d", i);
		assert_int_equal(htab_set(h, mgr_value_new_string(buf), mgr_value_new_int(i)), 0);
	}
	assert_int_equal(h->live, 2 * N);
	htab_free(h);
}

static void test_delete_everything(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct htab *h = htab_new();
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++)
			set_int(h, i, i, true);
		/* delete in an order unlike the insertion order */
		for (int i = 0; i < N; i++) {
			int k = (int)(((int64_t)i * 40503) % N);
			if (!del_int(h, k))
				fail_msg("round %d: key %d missing", round, k);
		}
		assert_int_equal(h->live, 0);
		assert_null(htab_nth(h, 0));
		for (int i = 0; i < N; i += 1000)
			assert_int_equal(get_int(h, i), -1);
	}
	/* and the table works after being emptied */
	set_int(h, 5, 5, true);
	check_order(h, (int64_t[]){5}, 1);
	htab_free(h);
}

/* Insert/delete churn on a few live keys: the entry array fills with holes
 * and must be compacted, never grown without bound, and must stay ordered. */
static void test_churn(void **state)
{
	(void)state;
	struct htab *h = htab_new();
	int64_t live[4];
	size_t n = 0;
	for (int64_t k = 0; k < 20000; k++) {
		set_int(h, k, k, true);
		live[n++] = k;
		if (n == 4) {
			assert_true(del_int(h, live[0]));
			for (size_t i = 0; i + 1 < n; i++)
				live[i] = live[i + 1];
			n--;
		}
		check_order(h, live, n);
	}
	assert_true(h->cap < 64);
	assert_true(h->nidx < 64);
	htab_free(h);
}

static void test_clear(void **state)
{
	(void)state;
	struct htab *h = htab_new();
	for (int i = 0; i < 1000; i++)
		set_int(h, i, i, true);
	htab_clear(h);
	assert_int_equal(h->live, 0);
	assert_int_equal(get_int(h, 1), -1);
	for (int i = 0; i < 10; i++)
		set_int(h, i, i, true);
	check_order(h, (int64_t[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10);
	htab_free(h);
}

/* Random operations against a reference: an array of (key, value) kept in
 * insertion order. */
struct ref_ent {
	int64_t key, val;
};

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random_vs_reference(void **state)
{
	(void)state;
	enum { KEYS = 600, OPS = 200000 };
	struct htab *h = htab_new();
	struct ref_ent *ref = calloc(KEYS, sizeof(*ref));
	size_t n = 0;
	for (int op = 0; op < OPS; op++) {
		int64_t k = (int64_t)(next_rand() % KEYS), v = op;
		size_t at = n;
		for (size_t i = 0; i < n; i++)
			if (ref[i].key == k)
				at = i;
		unsigned what = next_rand() % 10;
		if (what < 5) { /* set */
			set_int(h, k, v, at == n);
			if (at == n)
				ref[n++] = (struct ref_ent){k, v};
			else
				ref[at].val = v;
		} else if (what < 9) { /* delete */
			assert_int_equal(del_int(h, k), at != n);
			if (at != n) {
				memmove(&ref[at], &ref[at + 1], (n - at - 1) * sizeof(*ref));
				n--;
			}
		} else { /* find */
			assert_int_equal(get_int(h, k), at == n ? -1 : ref[at].val);
		}
		if (op % 5000 == 0 || op == OPS - 1) {
			assert_int_equal(h->live, n);
			for (size_t i = 0; i < n; i++) {
				const struct hent *e = htab_nth(h, i);
				assert_int_equal(mgr_value_int(&e->key), ref[i].key);
				assert_int_equal(mgr_value_int(&e->val), ref[i].val);
				assert_int_equal(get_int(h, ref[i].key), ref[i].val);
			}
		}
	}
	free(ref);
	htab_free(h);
}

/* ---- hash flooding (issue 13) ---- */

enum { FLOOD_N = 40000, FLOOD_BITS = 16 }; /* 40k keys: a 65536-slot index */

static uint64_t hash_keyed(const mgr_value *k) { return value_hash(k); }
static uint64_t hash_old(const mgr_value *k) { return oldhash_int(mgr_value_int(k)); }
static uint64_t hash_const(const mgr_value *k) { (void)k; return 42; }
/* Four groups whose hashes differ only in bits 9 and 10. */
static uint64_t hash_groups(const mgr_value *k) { return (uint64_t)(mgr_value_int(k) & 3) << 9; }

static int64_t *flood_keys(void)
{
	int64_t *keys = malloc(FLOOD_N * sizeof(*keys));
	assert_non_null(keys);
	oldhash_colliding(keys, FLOOD_N, FLOOD_BITS);
	for (size_t i = 0; i < FLOOD_N; i++) /* they did collide: one home slot */
		assert_int_equal(oldhash_int(keys[i]) & ((1u << FLOOD_BITS) - 1), 0);
	return keys;
}

/* Inserts keys[0..n) (value i) until the first failure: how many went in;
 * *err the failure's code (0 if none). */
static size_t insert_until_fail(struct htab *h, const int64_t *keys, size_t n, int *err)
{
	*err = 0;
	for (size_t i = 0; i < n; i++)
		if ((*err = htab_set(h, ikey(keys[i]), mgr_value_new_int((int64_t)i))))
			return i;
	return n;
}

/* The old attack set costs what random keys cost: the keyed hash spreads it
 * over the index (counted: slots looked at, and the longest probe). */
static void test_flood_keyed(void **state)
{
	(void)state;
	int64_t *keys = flood_keys();
	struct htab_test_hook hook = {hash_keyed, 0};
	htab_test_set_hook(&hook);
	struct htab *h = htab_new();
	int err;
	assert_int_equal(insert_until_fail(h, keys, FLOOD_N, &err), FLOOD_N);
	/* the old scheme: n^2/2 = 8e8 slots; random keys: about 3 an insert */
	if (hook.probes > 16 * (uint64_t)FLOOD_N)
		fail_msg("%llu slots looked at for %d inserts", (unsigned long long)hook.probes, FLOOD_N);
	assert_int_equal(h->nidx, 1u << FLOOD_BITS); /* the usual index, never widened */
	size_t longest = htab_longest_probe(h);
	if (longest >= HTAB_PROBE_MAX) /* random keys at <= 2/3 load: ~60 */
		fail_msg("longest probe %zu", longest);
	for (size_t i = 0; i < FLOOD_N; i++)
		assert_int_equal(get_int(h, keys[i]), (int64_t)i);
	/* and their keyed hashes spread over the low bits the old ones shared */
	uint8_t *seen = calloc(1u << FLOOD_BITS, 1);
	size_t distinct = 0;
	for (size_t i = 0; i < FLOOD_N; i++) {
		mgr_value *k = ikey(keys[i]);
		size_t low = value_hash(k) & ((1u << FLOOD_BITS) - 1);
		distinct += !seen[low];
		seen[low] = 1;
		mgr_value_free(k);
	}
	assert_true(distinct > FLOOD_N / 2); /* random: ~29,700 */
	free(seen);
	htab_free(h);
	htab_test_set_hook(NULL);
	free(keys);
}

/* Even the old unkeyed hash can no longer go quadratic: the cap refuses the
 * key that would scan past HTAB_PROBE_MAX slots. */
static void test_flood_old_hash_capped(void **state)
{
	(void)state;
	int64_t *keys = flood_keys();
	struct htab_test_hook hook = {hash_old, 0};
	htab_test_set_hook(&hook);
	struct htab *h = htab_new();
	int err;
	size_t in = insert_until_fail(h, keys, FLOOD_N, &err);
	assert_int_equal(err, MGR_ELIMIT);
	assert_int_equal(in, HTAB_PROBE_MAX);
	assert_true(hook.probes < 8 * (uint64_t)HTAB_PROBE_MAX * HTAB_PROBE_MAX);
	htab_free(h);
	htab_test_set_hook(NULL);
	free(keys);
}

/* Every key in one home slot: HTAB_PROBE_MAX keys go in, every later insert
 * fails with ELIMIT after one bounded scan; the index widened at most
 * HTAB_SPREAD_MAX times; lookups, replacing and deleting still work. */
static void test_probe_cap_constant(void **state)
{
	(void)state;
	enum { N = 10000 };
	struct htab_test_hook hook = {hash_const, 0};
	htab_test_set_hook(&hook);
	struct htab *h = htab_new();
	size_t in = 0, limited = 0;
	for (int64_t k = 0; k < N; k++) {
		int err = htab_set(h, ikey(k), mgr_value_new_int(k));
		in += err == 0;
		limited += err == MGR_ELIMIT;
	}
	assert_int_equal(in, HTAB_PROBE_MAX);
	assert_int_equal(limited, N - HTAB_PROBE_MAX);
	assert_int_equal(h->live, HTAB_PROBE_MAX);
	/* building: under 8 cap^2 (inserts, rebuilds, widening); each refusal:
	 * one scan of the cluster. Without the cap: N^2/2 = 5e7. */
	uint64_t bound = 8 * (uint64_t)HTAB_PROBE_MAX * HTAB_PROBE_MAX +
			 (uint64_t)(N - HTAB_PROBE_MAX) * (HTAB_PROBE_MAX + 1);
	if (hook.probes > bound)
		fail_msg("%llu slots looked at, bound %llu", (unsigned long long)hook.probes,
			 (unsigned long long)bound);
	assert_true(h->nidx <= 4 * (size_t)HTAB_PROBE_MAX * HTAB_SPREAD_MAX);
	for (int64_t k = 0; k < HTAB_PROBE_MAX; k++)
		assert_int_equal(get_int(h, k), k);
	assert_int_equal(get_int(h, N), -1);
	set_int(h, 7, 77, false); /* a present key is replaced, never refused */
	assert_true(del_int(h, 3));
	assert_int_equal(get_int(h, 3), -1);
	assert_int_equal(get_int(h, 4), 4);
	htab_free(h);
	htab_test_set_hook(NULL);
}

/* Keys that share only their low hash bits: the cap widens the index past
 * its usual size, which parts them, and every insert succeeds. */
static void test_probe_cap_widens(void **state)
{
	(void)state;
	enum { N = 600 }; /* usual index for 600 keys: 1024 slots */
	struct htab_test_hook hook = {hash_groups, 0};
	htab_test_set_hook(&hook);
	struct htab *h = htab_new();
	for (int64_t k = 0; k < N; k++)
		set_int(h, k, k, true);
	assert_int_equal(h->nidx, 2048); /* 4 groups of 150: scans of ~150 */
	assert_true(htab_longest_probe(h) <= N / 4);
	for (int64_t k = 0; k < N; k++)
		assert_int_equal(get_int(h, k), k);
	htab_free(h);
	htab_test_set_hook(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_insert_replace),
		cmocka_unit_test(test_mixed_keys),
		cmocka_unit_test(test_delete_reinsert),
		cmocka_unit_test(test_nth_with_holes),
		cmocka_unit_test(test_growth_100k),
		cmocka_unit_test(test_delete_everything),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_flood_keyed),
		cmocka_unit_test(test_flood_old_hash_capped),
		cmocka_unit_test(test_probe_cap_constant),
		cmocka_unit_test(test_probe_cap_widens),
	};
	/* MGR_TEST_SKIP=pattern skips tests (e.g. a known crash under ASan) */
	if (getenv("MGR_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("MGR_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
