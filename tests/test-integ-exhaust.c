/* Memory and slow senders (issue 13 item 4), through a real mgrd and raw
 * sockets: announced frames reserve nothing (40 connections announcing
 * 15 MiB each leave mgrd's memory as it was) and are dropped at
 * --frame-timeout while a quiet session stays; --max-partial-bytes at its
 * exact edge across two connections (the one growing past it goes);
 * --idle-timeout spares a session waiting on a lock; --log-rate prints N
 * lines of a kind and counts the rest; a reply over max_frame, or over
 * max_outbuf on its own, is ELIMIT at its exact edge and the session
 * stays. mgrd's stderr goes to a file; every wait is a bounded poll. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include <cmocka.h>

#include "../common/clock.h"
#include "../common/frame.h"
#include <mgr/sync.h>

#include "harness.h"

#define WAIT_MS 10000
#define SLOW_CONNS 40
#define SLOW_FRAME (15u << 20)
#define SLOW_SENT 1024
#define FRAME_MS "1000"

/* Under a sanitizer mgrd's allocator reserves address space in bulk and
 * its shadow memory counts in RSS: only a looser RSS bound holds. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

struct ex {
	mgr_manager *m;
	mgr_client *c;
	const char *path;
	pid_t pid;
	char log[64]; /* mgrd's stderr */
};

/* ---- mgrd with its stderr in a file ---- */

static void ex_start(struct ex *e, const char *const *args)
{
	harness_start_logged(args, "mgr-exhaust-log", e->log, &e->m, &e->c, WAIT_MS);
	e->pid = mgr_manager_pid(e->m);
	e->path = mgr_manager_address(e->m);
}

static int log_count(const struct ex *e, const char *needle, long *sum)
{
	return harness_log_count(e->log, needle, sum);
}

/* Stops mgrd (cleanly: its exit prints held-back log counts). */
static void ex_stop(struct ex *e, bool keep_log)
{
	mgr_client_close(e->c);
	assert_int_equal(mgr_manager_shutdown(e->m), 0);
	harness_log_clean(e->log);
	if (!keep_log)
		unlink(e->log);
}

static void wait_sessions(struct ex *e, int64_t want)
{
	assert_int_equal(harness_wait_info(e->c, "sessions", want, WAIT_MS), want);
}

/* A field of /proc/pid/status, in kB. */
static long proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	long kb = -1;
	size_t n = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	assert_true(kb >= 0);
	return kb;
}

/* ---- raw frames ---- */

/* A ping whose string makes the whole frame (header included) exactly
 * total bytes; malloc'ed. */
static uint8_t *ping_of(uint64_t id, size_t total)
{
	for (size_t len = total > 64 ? total - 64 : 0;; len++) {
		char *s = malloc(len + 1);
		assert_non_null(s);
		memset(s, 'p', len);
		s[len] = '\0';
		mgr_value *v = mgr_value_new_string(s);
		free(s);
		struct msg m = {.kind = MSG_REQUEST};
		m.u.request = (struct msg_request){.id = id, .method = "ping", .args = &v, .nargs = 1};
		uint8_t *buf;
		size_t n;
		assert_int_equal(frame_encode(&m, &buf, &n), 0);
		mgr_value_free(v);
		if (n == total)
			return buf;
		free(buf);
		assert_true(n < total);
	}
}

/* mgrd has read every byte we sent on fd (a UNIX socket's unread bytes
 * count in its sender's SIOCOUTQ), and has acted on them: one round trip
 * on another session after, on its one loop thread. */
static void wait_read(struct ex *e, int fd)
{
	int64_t end = clock_now_ms() + WAIT_MS;
	int q = -1;
	while (ioctl(fd, SIOCOUTQ, &q) == 0 && q > 0 && clock_now_ms() < end)
		poll(NULL, 0, 1);
	assert_int_equal(q, 0);
	harness_info(e->c, "sessions");
}

/* fd is open and nothing came on it. */
static void assert_open(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	assert_int_equal(poll(&p, 1, 0), 0);
}

/* The next message on fd is an error reply (id) with code, whose message
 * holds needle; then, if closed, EOF. */
static void expect_error(int fd, uint64_t id, int code, const char *needle)
{
	struct msg r;
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.kind, MSG_REPLY);
	assert_int_equal(r.u.reply.id, id);
	assert_int_equal(r.u.reply.code, code);
	assert_non_null(r.u.reply.message);
	if (!strstr(r.u.reply.message, needle))
		fail_msg("\"%s\" does not say \"%s\"", r.u.reply.message, needle);
	msg_clear(&r);
}

static void expect_pong(int fd, uint64_t id)
{
	struct msg r;
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.kind, MSG_REPLY);
	assert_int_equal(r.u.reply.id, id);
	assert_int_equal(r.u.reply.code, 0);
	msg_clear(&r);
}

/* ---- 40 slow senders announcing 15 MiB each ---- */

static void test_slow_senders(void **state)
{
	(void)state;
	struct ex e = {0};
	ex_start(&e, (const char *const[]){"--frame-timeout", FRAME_MS, NULL});
	int quiet = harness_raw_session(e.path); /* Hello, then nothing: stays */
	long rss0 = proc_kb(e.pid, "VmRSS"), vm0 = proc_kb(e.pid, "VmSize");
	int fds[SLOW_CONNS];
	uint8_t part[SLOW_SENT] = {(uint8_t)(SLOW_FRAME >> 24), (uint8_t)(SLOW_FRAME >> 16),
				   (uint8_t)(SLOW_FRAME >> 8), (uint8_t)SLOW_FRAME};
	for (int i = 0; i < SLOW_CONNS; i++) {
		fds[i] = harness_raw_session(e.path);
		harness_raw_send(fds[i], part, sizeof(part));
	}
	for (int i = 0; i < SLOW_CONNS; i++)
		wait_read(&e, fds[i]);
	long rss1 = proc_kb(e.pid, "VmRSS"), vm1 = proc_kb(e.pid, "VmSize");
	print_message("%d connections announcing %u bytes, %d sent each: mgrd VmRSS %ld -> %ld kB, "
		      "VmSize %ld -> %ld kB\n", SLOW_CONNS, SLOW_FRAME, SLOW_SENT, rss0, rss1, vm0,
		      vm1);
	/* before: each announced frame reserved whole, 40 x 15 MiB of
	 * address space (touched as the bytes came) */
	assert_true(rss1 - rss0 < (SANITIZED ? 64 : 32) * 1024);
	assert_true(SANITIZED || vm1 - vm0 < 64 * 1024);
	/* each is dropped at its frame deadline, with a reason */
	for (int i = 0; i < SLOW_CONNS; i++) {
		expect_error(fds[i], 0, MGR_ETIMEDOUT, "unfinished after " FRAME_MS " ms");
		if (!harness_raw_closed(fds[i], WAIT_MS))
			fail_msg("slow connection %d still open", i);
		close(fds[i]);
	}
	wait_sessions(&e, 2);
	/* ... and the quiet session, as old as they, is still served */
	uint8_t *ping = ping_of(1, 64);
	harness_raw_send(quiet, ping, 64);
	free(ping);
	expect_pong(quiet, 1);
	close(quiet);
	ex_stop(&e, false);
}

/* ---- --max-partial-bytes at its edge ---- */

#define BUDGET 65536
#define A_SENT 20000

static void test_partial_budget_edge(void **state)
{
	(void)state;
	struct ex e = {0};
	char budget[16];
	snprintf(budget, sizeof(budget), "%d", BUDGET);
	ex_start(&e, (const char *const[]){"--max-partial-bytes", budget, NULL});
	size_t a_total = 30000, b_total = BUDGET + 100;
	uint8_t *a = ping_of(1, a_total), *b = ping_of(2, b_total);
	int fa = harness_raw_session(e.path), fb = harness_raw_session(e.path);
	/* A holds 20000, B the rest of the budget: exactly the budget, kept */
	harness_raw_send(fa, a, A_SENT);
	wait_read(&e, fa);
	harness_raw_send(fb, b, BUDGET - A_SENT);
	wait_read(&e, fb);
	assert_open(fa);
	assert_open(fb);
	/* one byte more from B: B goes (it grew), A stays */
	harness_raw_send(fb, b + BUDGET - A_SENT, 1);
	expect_error(fb, 0, MGR_ELIMIT, "over max_partial_bytes " "65536");
	assert_true(harness_raw_closed(fb, WAIT_MS));
	close(fb);
	assert_open(fa);
	/* A finishes its frame and is answered; the budget is free again */
	harness_raw_send(fa, a + A_SENT, a_total - A_SENT);
	expect_pong(fa, 1);
	int fc = harness_raw_session(e.path);
	harness_raw_send(fc, b, BUDGET);
	wait_read(&e, fc);
	assert_open(fc);
	harness_raw_send(fc, b + BUDGET, b_total - BUDGET);
	expect_pong(fc, 2);
	close(fc);
	close(fa);
	free(a);
	free(b);
	wait_sessions(&e, 1);
	ex_stop(&e, false);
}

/* ---- --idle-timeout spares a session waiting on us ---- */

static void test_idle_timeout(void **state)
{
	(void)state;
	struct ex e = {0};
	ex_start(&e, (const char *const[]){"--idle-timeout", "300", NULL});
	mgr_object *lock;
	bool got = false;
	assert_int_equal(mgr_lock_open(e.c, "l", false, &lock), 0);
	assert_int_equal(mgr_lock_acquire(lock, true, 0, &got, NULL), 0);
	assert_true(got);
	/* a raw session parks an acquire on the held lock */
	int waiter = harness_raw_session(e.path);
	struct msg q = {.kind = MSG_REQUEST};
	q.u.request = (struct msg_request){.id = 7, .object = mgr_object_id(lock),
					   .method = "acquire"};
	harness_raw_send_msg(waiter, &q);
	wait_read(&e, waiter);
	/* a quiet one opened after it is dropped for idleness (our client,
	 * the holder, keeps calling meanwhile) ... */
	int quiet = harness_raw_session(e.path);
	int64_t end = clock_now_ms() + WAIT_MS;
	for (struct pollfd p = {quiet, POLLIN, 0}; poll(&p, 1, 50) == 0;)
		assert_true(harness_info(e.c, "sessions") >= 2 && clock_now_ms() < end);
	expect_error(quiet, 0, MGR_ETIMEDOUT, "idle for 300 ms");
	assert_true(harness_raw_closed(quiet, WAIT_MS));
	close(quiet);
	/* ... the parked one, quiet longer, is not: it gets the lock */
	assert_open(waiter);
	assert_int_equal(mgr_lock_release(lock), 0);
	expect_pong(waiter, 7);
	close(waiter);
	mgr_object_release(lock);
	ex_stop(&e, false);
}

/* ---- --log-rate ---- */

/* A connection whose first frame is no Hello: one "dropping the
 * connection" line in mgrd's log. */
static void bad_first_frame(struct ex *e)
{
	int fd = harness_raw_connect(e->path);
	uint8_t *ping = ping_of(1, 64);
	harness_raw_send(fd, ping, 64);
	free(ping);
	assert_true(harness_raw_closed(fd, WAIT_MS));
	close(fd);
}

#define LOG_N 3
#define LOG_MORE 5

/* 3 lines per 10 minutes: 3 printed, the 4th to 8th counted and reported
 * in one line at exit. */
static void test_log_rate_edge(void **state)
{
	(void)state;
	struct ex e = {0};
	ex_start(&e, (const char *const[]){"--log-rate", "3/600000", NULL});
	for (int i = 0; i < LOG_N; i++)
		bad_first_frame(&e);
	assert_int_equal(log_count(&e, "expected Hello", NULL), LOG_N);
	bad_first_frame(&e);
	assert_int_equal(log_count(&e, "expected Hello", NULL), LOG_N); /* N+1: counted */
	for (int i = 1; i < LOG_MORE; i++)
		bad_first_frame(&e);
	assert_int_equal(log_count(&e, "suppressed", NULL), 0); /* within the window */
	ex_stop(&e, true);
	long sum = 0;
	assert_int_equal(log_count(&e, "expected Hello", NULL), LOG_N);
	assert_int_equal(log_count(&e, "suppressed", &sum), 1);
	assert_int_equal(sum, LOG_MORE);
	unlink(e.log);
}

/* 2 lines per 100 ms: a burst of 12, then one more every 20 ms until the
 * count of a window past is printed; at the end every line was printed or
 * counted, none lost. */
static void test_log_rate_window(void **state)
{
	(void)state;
	struct ex e = {0};
	ex_start(&e, (const char *const[]){"--log-rate", "2/100", NULL});
	int sent = 0;
	for (; sent < 12; sent++)
		bad_first_frame(&e);
	int64_t end = clock_now_ms() + WAIT_MS;
	while (!log_count(&e, "suppressed", NULL)) {
		assert_true(clock_now_ms() < end);
		poll(NULL, 0, 20);
		bad_first_frame(&e);
		sent++;
	}
	ex_stop(&e, true);
	long sum = 0;
	/* (a count's line quotes the format: not one of the lines) */
	int printed = log_count(&e, "dropping the connection", NULL) -
		      log_count(&e, "suppressed", NULL);
	log_count(&e, "suppressed", &sum);
	print_message("%d lines of a kind: %d printed, %ld counted\n", sent, printed, sum);
	assert_int_equal(printed + sum, sent);
	assert_true(sum >= 1);
	unlink(e.log);
}

/* ---- a reply too big to send ---- */

#define FILLER 1000 /* item 1: the reply can pass max_frame, a request to set item 0 not */

static mgr_value *string_of(size_t len)
{
	char *s = malloc(len + 1);
	assert_non_null(s);
	memset(s, 'r', len);
	s[len] = '\0';
	mgr_value *v = mgr_value_new_string(s);
	free(s);
	return v;
}

/* A list ["" , FILLER bytes] named big. */
static mgr_object *big_list(struct ex *e)
{
	mgr_object *list;
	assert_int_equal(mgr_list_open(e->c, "big", &list), 0);
	assert_int_equal(mgr_list_append(list, mgr_value_new_string("")), 0);
	assert_int_equal(mgr_list_append(list, string_of(FILLER)), 0);
	return list;
}

/* The body of the reply {id, [string of len, FILLER bytes]}, as mgrd
 * encodes it (--no-spin: no hint). */
static size_t reply_body(uint64_t id, size_t len)
{
	mgr_value *l = mgr_value_new_list();
	assert_int_equal(mgr_value_list_append(l, string_of(len)), 0);
	assert_int_equal(mgr_value_list_append(l, string_of(FILLER)), 0);
	struct msg m = {.kind = MSG_REPLY};
	m.u.reply = (struct msg_reply){id, 0, l, NULL, false};
	struct frame_out fo;
	assert_int_equal(frame_prepare(&fo, &m), 0);
	mgr_value_free(l);
	return fo.size - FRAME_HEADER;
}

/* list item 0 := a string of len bytes */
static void set_item0(mgr_object *list, size_t len)
{
	char *p = malloc(len + 1);
	assert_non_null(p);
	memset(p, 'r', len);
	p[len] = '\0';
	mgr_value *args[] = {mgr_value_new_int(0), mgr_value_new_string(p)};
	free(p);
	int err = mgr_call(list, "set", args, 2, NULL);
	if (err)
		fail_msg("set: %s", mgr_client_errmsg(mgr_object_client(list)));
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
}

/* On a raw session (the socket): list.copy() whose reply body is exactly
 * limit + over bytes (limit counts the frame with its header when
 * with_header): answered, or ELIMIT naming the limit; a ping after. */
static void copy_at(struct ex *e, mgr_object *list, size_t limit, bool with_header, int over,
		    const char *name)
{
	size_t want = limit + (size_t)over - (with_header ? FRAME_HEADER : 0);
	size_t len = want - FILLER - 64;
	while (reply_body(3, len) < want)
		len++;
	assert_int_equal(reply_body(3, len), want);
	set_item0(list, len);
	int fd = harness_raw_session(e->path);
	struct msg q = {.kind = MSG_REQUEST};
	q.u.request = (struct msg_request){.id = 3, .object = mgr_object_id(list), .method = "copy"};
	harness_raw_send_msg(fd, &q);
	if (over) {
		char needle[64];
		snprintf(needle, sizeof(needle), "exceeds %s %zu", name, limit);
		expect_error(fd, 3, MGR_ELIMIT, needle);
	} else {
		struct msg r;
		assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
		assert_int_equal(r.u.reply.code, 0);
		assert_int_equal(mgr_value_len(r.u.reply.value), 2);
		msg_clear(&r);
	}
	uint8_t *ping = ping_of(4, 64); /* the session stays */
	harness_raw_send(fd, ping, 64);
	free(ping);
	expect_pong(fd, 4);
	close(fd);
}

static void test_reply_too_big(void **state)
{
	(void)state;
	struct ex e = {0};
	ex_start(&e, (const char *const[]){"--max-frame", "65536", "--max-outbuf", "40000",
					   "--no-spin", NULL});
	mgr_object *list = big_list(&e);
	for (int over = 0; over <= 1; over++)
		copy_at(&e, list, 40000, true, over, "max_outbuf"); /* on a socket: alone */
	/* max_frame, with room enough for it in the output */
	mgr_object_release(list);
	mgr_client_close(e.c);
	assert_int_equal(mgr_manager_shutdown(e.m), 0);
	unlink(e.log);
	ex_start(&e, (const char *const[]){"--max-frame", "65536", "--no-spin", NULL});
	list = big_list(&e);
	for (int over = 0; over <= 1; over++)
		copy_at(&e, list, 65536, false, over, "max_frame");
	/* through libmgr: the caller gets the error and the limit, the
	 * session goes on */
	mgr_value *r = NULL;
	assert_int_equal(mgr_call(list, "copy", NULL, 0, &r), MGR_ELIMIT);
	assert_non_null(strstr(mgr_client_errmsg(e.c), "max_frame 65536"));
	assert_int_equal(mgr_list_append(list, mgr_value_new_string("")), 0);
	assert_int_equal(harness_info(e.c, "sessions"), 1);
	mgr_object_release(list);
	ex_stop(&e, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_senders),
		cmocka_unit_test(test_partial_budget_edge),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_log_rate_edge),
		cmocka_unit_test(test_log_rate_window),
		cmocka_unit_test(test_reply_too_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
