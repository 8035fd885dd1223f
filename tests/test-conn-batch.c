/* conn-batch: a loop turn's listed connections send their output in one
 * batch, each only what its socket takes now, and the list empties; a
 * forgotten connection is not sent, a lone one is left to its own flush.
 * Connections here are bare structs over socketpairs (no loop); skipped
 * where io_uring cannot be had (conn_batch_add refuses). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../mgrd/conn-batch.h"

#define N 3
#define SMALL 100

struct pair {
	struct conn c;
	int peer;
};

static void pair_open(struct pair *p, size_t len, uint8_t fill)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	memset(&p->c, 0, sizeof(p->c));
	p->c.fd = sv[0];
	p->c.state = CONN_READY;
	p->c.out.p = malloc(len);
	assert_non_null(p->c.out.p);
	memset(p->c.out.p, fill, len);
	p->c.out.len = p->c.out.cap = len;
	p->peer = sv[1];
}

static void pair_close(struct pair *p)
{
	close(p->c.fd);
	close(p->peer);
	free(p->c.out.p);
}

/* Bytes waiting at p's peer, all checked to be fill. */
static size_t pair_drain(struct pair *p, uint8_t fill)
{
	uint8_t buf[4096];
	size_t got = 0;
	ssize_t n;
	while ((n = recv(p->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(buf[i], fill);
		got += (size_t)n;
	}
	assert_true(n < 0 && errno == EAGAIN);
	return got;
}

static void list_or_skip(struct conn *c)
{
	if (!conn_batch_add(c, 1))
		skip(); /* no io_uring here: every reply goes at once, nothing to test */
}

static void test_listed_all_sent_once(void **state)
{
	(void)state;
	struct pair p[N];
	for (int i = 0; i < N; i++)
		pair_open(&p[i], SMALL, (uint8_t)('a' + i));
	for (int i = 0; i < N; i++)
		list_or_skip(&p[i].c);
	assert_true(conn_batch_add(&p[0].c, 0)); /* listed twice: once */
	conn_batch_send(&p[1].c);
	for (int i = 0; i < N; i++) {
		assert_int_equal(p[i].c.out.off, SMALL);
		assert_int_equal(pair_drain(&p[i], (uint8_t)('a' + i)), SMALL);
	}
	p[0].c.out.off = 0; /* the list is empty now: nothing is sent again */
	conn_batch_send(&p[0].c);
	assert_int_equal(p[0].c.out.off, 0);
	assert_int_equal(pair_drain(&p[0], 'a'), 0);
	for (int i = 0; i < N; i++)
		pair_close(&p[i]);
}

/* A socket that takes part of the output: its output moves on by what was
 * taken, the batch does not wait, the others are sent whole. */
static void test_full_socket_partly(void **state)
{
	(void)state;
	struct pair p[2];
	size_t big = 4 << 20;
	pair_open(&p[0], big, 'x');
	pair_open(&p[1], SMALL, 'y');
	list_or_skip(&p[0].c);
	list_or_skip(&p[1].c);
	conn_batch_send(&p[0].c);
	assert_true(p[0].c.out.off > 0 && p[0].c.out.off < big);
	assert_int_equal(pair_drain(&p[0], 'x'), p[0].c.out.off);
	assert_int_equal(p[1].c.out.off, SMALL);
	assert_int_equal(pair_drain(&p[1], 'y'), SMALL);
	pair_close(&p[0]);
	pair_close(&p[1]);
}

/* One with nothing else to run in its turn is not listed; a connection
 * that closed is off the list; one listed alone, or already sent by other
 * means, is left to its own flush; one not listed sends nothing. */
static void test_forgotten_alone_and_unlisted(void **state)
{
	(void)state;
	struct pair p[3];
	for (int i = 0; i < 3; i++)
		pair_open(&p[i], SMALL, 'z');
	assert_false(conn_batch_add(&p[0].c, 0)); /* nothing else this turn: sent now */
	list_or_skip(&p[0].c);
	list_or_skip(&p[1].c);
	conn_batch_forget(&p[0].c);
	conn_batch_send(&p[2].c); /* not listed: nothing */
	assert_int_equal(p[1].c.out.off, 0);
	conn_batch_send(&p[1].c); /* alone now: its own send() follows */
	assert_int_equal(p[1].c.out.off, 0);
	assert_int_equal(pair_drain(&p[1], 'z'), 0);
	list_or_skip(&p[1].c);
	list_or_skip(&p[2].c);
	p[2].c.out.off = p[2].c.out.len; /* sent meanwhile (a reply from outside its read) */
	conn_batch_send(&p[2].c);
	assert_int_equal(p[1].c.out.off, SMALL);
	assert_int_equal(pair_drain(&p[1], 'z'), SMALL);
	assert_int_equal(pair_drain(&p[2], 'z'), 0);
	assert_int_equal(pair_drain(&p[0], 'z'), 0);
	for (int i = 0; i < 3; i++)
		pair_close(&p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed_all_sent_once),
		cmocka_unit_test(test_full_socket_partly),
		cmocka_unit_test(test_forgotten_alone_and_unlisted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
