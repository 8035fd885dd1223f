/* Unit tests for the id -> pointer map (mgrd/idmap.c): put, get, replace,
 * delete, and backward-shift deletion checked against a reference array
 * under long random runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../mgrd/idmap.h"
#include "mgr/error.h"

#define P(x) ((void *)(uintptr_t)(x))

static size_t count_slots(const struct idmap *m)
{
	size_t n = 0;
	IDMAP_FOREACH(m, s)
	n++;
	return n;
}

static void test_empty(void **state)
{
	(void)state;
	struct idmap m = {0};
	assert_null(idmap_get(&m, 1));
	assert_null(idmap_del(&m, 1));
	assert_int_equal(count_slots(&m), 0);
	idmap_free(&m);
	idmap_free(&m); /* twice is fine */
}

static void test_put_get_del(void **state)
{
	(void)state;
	struct idmap m = {0};
	for (uint64_t id = 1; id <= 100; id++)
		assert_int_equal(idmap_put(&m, id, P(id * 10)), 0);
	assert_int_equal(m.len, 100);
	assert_true(m.cap >= 100 && (m.cap & (m.cap - 1)) == 0);
	for (uint64_t id = 1; id <= 100; id++)
		assert_ptr_equal(idmap_get(&m, id), P(id * 10));
	assert_null(idmap_get(&m, 101));
	assert_null(idmap_get(&m, UINT64_MAX));
	/* replace keeps the count */
	assert_int_equal(idmap_put(&m, 50, P(5)), 0);
	assert_int_equal(m.len, 100);
	assert_ptr_equal(idmap_get(&m, 50), P(5));
	/* delete returns the pointer once */
	assert_ptr_equal(idmap_del(&m, 50), P(5));
	assert_null(idmap_del(&m, 50));
	assert_null(idmap_get(&m, 50));
	assert_int_equal(m.len, 99);
	assert_int_equal(count_slots(&m), 99);
	for (uint64_t id = 1; id <= 100; id++)
		if (id != 50)
			assert_ptr_equal(idmap_get(&m, id), P(id * 10));
	/* delete everything, then reuse */
	for (uint64_t id = 1; id <= 100; id++)
		if (id != 50)
			assert_ptr_equal(idmap_del(&m, id), P(id * 10));
	assert_int_equal(m.len, 0);
	assert_int_equal(count_slots(&m), 0);
	assert_int_equal(idmap_put(&m, 7, P(7)), 0);
	assert_ptr_equal(idmap_get(&m, 7), P(7));
	idmap_free(&m);
	assert_null(m.slots);
	assert_int_equal(m.cap, 0);
	assert_int_equal(m.len, 0);
}

static void test_big_ids(void **state)
{
	(void)state;
	struct idmap m = {0};
	uint64_t ids[] = {UINT64_MAX, UINT64_MAX - 1, 1ULL << 63, 1ULL << 32, 1ULL << 40,
			  (1ULL << 40) + 1, 0x123456789ABCDEFULL};
	size_t n = sizeof(ids) / sizeof(ids[0]);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(idmap_put(&m, ids[i], P(i + 1)), 0);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(idmap_get(&m, ids[i]), P(i + 1));
	for (size_t i = 0; i < n; i += 2)
		assert_ptr_equal(idmap_del(&m, ids[i]), P(i + 1));
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(idmap_get(&m, ids[i]), i % 2 ? P(i + 1) : NULL);
	idmap_free(&m);
}

/* Every slot in every run must be reachable from its home slot without
 * crossing an empty slot: the invariant backward-shift deletion keeps. */
static void check_runs(const struct idmap *m)
{
	IDMAP_FOREACH(m, s)
	assert_ptr_equal(idmap_get(m, s->id), s->ptr);
}

static uint64_t rng = 0x243F6A8885A308D3ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random put/get/del against ref[id] for ids in [1, keys]. */
static void random_run(uint64_t keys, int ops, uint64_t stride)
{
	struct idmap m = {0};
	uintptr_t *ref = calloc(keys + 1, sizeof(*ref));
	size_t live = 0;
	assert_non_null(ref);
	for (int op = 1; op <= ops; op++) {
		uint64_t k = 1 + next_rand() % keys, id = k * stride;
		unsigned what = next_rand() % 8;
		if (what < 4) {
			assert_int_equal(idmap_put(&m, id, P(op)), 0);
			live += ref[k] == 0;
			ref[k] = (uintptr_t)op;
		} else if (what < 7) {
			assert_ptr_equal(idmap_del(&m, id), P(ref[k]));
			live -= ref[k] != 0;
			ref[k] = 0;
		} else {
			assert_ptr_equal(idmap_get(&m, id), P(ref[k]));
		}
		assert_int_equal(m.len, live);
		if (op % 997 == 0 || op == ops) {
			for (uint64_t j = 1; j <= keys; j++)
				if (idmap_get(&m, j * stride) != P(ref[j]))
					fail_msg("op %d: id %llu maps to %p, want %p", op,
						 (unsigned long long)(j * stride),
						 idmap_get(&m, j * stride), P(ref[j]));
			assert_int_equal(count_slots(&m), live);
			check_runs(&m);
		}
	}
	for (uint64_t j = 1; j <= keys; j++)
		assert_ptr_equal(idmap_del(&m, j * stride), P(ref[j]));
	assert_int_equal(m.len, 0);
	assert_int_equal(count_slots(&m), 0);
	free(ref);
	idmap_free(&m);
}

static void test_random_small(void **state)
{
	(void)state;
	random_run(12, 100000, 1); /* stays in a 16-slot table: many wraps */
}

static void test_random_sequential(void **state)
{
	(void)state;
	random_run(3000, 300000, 1);
}

static void test_random_strided(void **state)
{
	(void)state;
	random_run(2000, 200000, 1ULL << 32);
	random_run(500, 100000, 16); /* multiples of the table size */
}

/* Deleting from a full run in every order keeps the rest reachable. */
static void test_delete_from_runs(void **state)
{
	(void)state;
	for (uint64_t first = 1; first <= 12; first++) {
		struct idmap m = {0};
		for (uint64_t id = 1; id <= 12; id++)
			assert_int_equal(idmap_put(&m, id, P(id)), 0);
		assert_int_equal(m.cap, 16);
		for (uint64_t i = 0; i < 12; i++) {
			uint64_t id = 1 + (first - 1 + i * 5) % 12;
			assert_ptr_equal(idmap_del(&m, id), P(id));
			check_runs(&m);
			assert_int_equal(count_slots(&m), 11 - i);
		}
		idmap_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_big_ids),
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_random_sequential),
		cmocka_unit_test(test_random_strided),
		cmocka_unit_test(test_delete_from_runs),
	};
	/* MGR_TEST_SKIP=pattern skips tests (e.g. a known crash under ASan) */
	if (getenv("MGR_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("MGR_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
