/* mgrd's wakes of ring clients asleep for their replies: none may be lost,
 * however many sleep at once and whatever a pass finds (docs/design.md
 * "Latency": a pass's wakes were once made together at its end; this
 * checked that version, and checks any other). Raw ring clients sleep on
 * their reply's futex with a bounded wait: a wait that runs out means mgrd
 * never woke that client (libmgr would hide it behind its 100 ms
 * recheck). mgrd runs with --no-spin, so every reply to a sleeping client
 * needs its wake. */
#include <errno.h>
#include <linux/futex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/frame.h"
#include "../common/ring.h"
#include "harness.h"
#include "raw-ring.h"

#define CLIENTS 16
#define ROUNDS 40
#define WAKE_WAIT_MS 5000 /* a lost wake, not a slow machine */

static struct harness *started_no_spin(void)
{
	static struct harness h;
	const char *args[] = {"--no-spin", NULL};
	harness_start(&h, args);
	return &h;
}

/* Request{id, object 0, "info"} into the ring, no kick; then the client
 * says it sleeps for the reply (ring.h's handshake). */
static void put_request_and_sleep(struct raw_ring *rr, uint64_t id)
{
	struct msg q = {.kind = MSG_REQUEST};
	q.u.request = (struct msg_request){.id = id, .object = 0, .method = "info"};
	uint8_t *bytes = NULL;
	size_t len = 0;
	assert_int_equal(frame_encode(&q, &bytes, &len), 0);
	assert_int_equal(ring_write(&rr->r, bytes, len), (long)len);
	free(bytes);
	assert_false(ring_sleep_data(&rr->r)); /* nothing can be there yet */
}

/* Sleeps on the reply's futex until bytes come: false if a wait of
 * WAKE_WAIT_MS ran out with none (the wake was lost). */
static bool woken_for_reply(struct raw_ring *rr)
{
	uint32_t seen = rr->r.rx_head;
	while (__atomic_load_n(&rr->r.rx->tail, __ATOMIC_ACQUIRE) == seen) {
		struct timespec ts = {WAKE_WAIT_MS / 1000, 0};
		long rc = syscall(SYS_futex, &rr->r.rx->tail, FUTEX_WAIT, seen, &ts, NULL, 0);
		if (rc < 0 && errno == ETIMEDOUT)
			return false; /* even if the bytes came meanwhile: no wake */
	}
	return true;
}

/* The id of the Reply framed at buf (0: not a Reply). */
static uint64_t reply_id(const uint8_t *buf)
{
	static const struct frame_limits lim = {1u << 20, 64, UINT32_MAX, 0};
	struct msg y;
	char why[160];
	int rc = frame_decode(buf + FRAME_HEADER, frame_get_len(buf), &lim, &y, why, sizeof(why));
	uint64_t id = !rc && y.kind == MSG_REPLY ? y.u.reply.id : 0;
	msg_clear(&y); /* as mgrd does after a failed decode too */
	return id;
}

/* The whole reply, its id checked. */
static void read_reply(struct raw_ring *rr, uint64_t id)
{
	uint8_t buf[RING_MIN];
	size_t have = 0;
	while (have < FRAME_HEADER || have < FRAME_HEADER + frame_get_len(buf)) {
		long n = ring_read(&rr->r, buf + have, sizeof(buf) - have);
		assert_true(n >= 0);
		have += (size_t)n;
		if (!n && !ring_sleep_data(&rr->r))
			assert_true(woken_for_reply(rr));
	}
	assert_int_equal(reply_id(buf), id);
}

/* CLIENTS raw ring clients of a fresh mgrd --no-spin. */
static struct harness *sleepers_open(struct raw_ring *rr)
{
	struct harness *h = started_no_spin();
	for (int i = 0; i < CLIENTS; i++)
		raw_ring_open(h->path, "sleeper", &rr[i]);
	return h;
}

static void sleepers_close(struct harness *h, struct raw_ring *rr)
{
	for (int i = 0; i < CLIENTS; i++)
		raw_ring_close(&rr[i]);
	harness_stop(h);
}

/* Every client puts request round in and sleeps for it; then all kick
 * mgrd, which finds them in one pass (or a few). */
static void sleepers_ask(struct raw_ring *rr, uint64_t round)
{
	for (int i = 0; i < CLIENTS; i++)
		put_request_and_sleep(&rr[i], round);
	for (int i = 0; i < CLIENTS; i++)
		raw_ring_kick(&rr[i]);
}

/* Each client but skip (-1: none) is woken for its reply to round. */
static void sleepers_woken(struct raw_ring *rr, uint64_t round, int skip)
{
	for (int i = 0; i < CLIENTS; i++)
		if (i != skip) {
			assert_true(woken_for_reply(&rr[i]));
			read_reply(&rr[i], round);
		}
}

/* Many clients asleep at once, kicked together: mgrd finds their requests
 * in one pass and owes every one of them a wake; each is woken, round
 * after round. */
static void test_batch_of_sleepers_all_woken(void **state)
{
	(void)state;
	struct raw_ring rr[CLIENTS];
	struct harness *h = sleepers_open(rr);
	for (uint64_t round = 1; round <= ROUNDS; round++) {
		sleepers_ask(rr, round);
		sleepers_woken(rr, round, -1);
	}
	sleepers_close(h, rr);
}

/* A client that goes away with its request in, asleep for the reply (its
 * wake owed when mgrd drops it), costs the others nothing: they are woken,
 * and mgrd serves on (a new client in its place each round). */
static void test_client_gone_with_a_wake_owed(void **state)
{
	(void)state;
	struct raw_ring rr[CLIENTS];
	struct harness *h = sleepers_open(rr);
	for (uint64_t round = 1; round <= ROUNDS; round++) {
		sleepers_ask(rr, round);
		int gone = (int)(round % CLIENTS); /* mid-protocol: kicked, asleep, gone */
		raw_ring_close(&rr[gone]);
		sleepers_woken(rr, round, gone);
		raw_ring_open(h->path, "sleeper", &rr[gone]);
	}
	sleepers_close(h, rr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_of_sleepers_all_woken),
		cmocka_unit_test(test_client_gone_with_a_wake_owed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
