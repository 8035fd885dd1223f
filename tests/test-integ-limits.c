/* Limits that need many sockets: mgrd out of file descriptors (accept backs
 * off without spinning, an existing client keeps working, new clients are
 * served again once descriptors free up), and 500 idle or half-sent
 * connections beside a client making 10,000 calls; parked calls at the
 * edge of --max-waiters and --max-pending; --max-outbuf at its edge
 * (through a ring that is never read). mgrd's log (its stderr)
 * goes to a file so the tests can read what it said; waits are bounded
 * polls of the server's state, never a sleep. */
#include <dirent.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/frame.h"
#include "../common/clock.h"
#include "../common/ring.h"
#include <mgr/sync.h>

#include "harness.h"
#include "raw-ring.h"

#define WAIT_MS 10000
#define FD_HEADROOM 16 /* descriptors mgrd may still open once limited */
#define BACKLOGGED 4	/* connections left waiting in the listen backlog */
#define IDLE_CONNS 500
#define CALLS 10000

struct lim {
	mgr_manager *m;
	mgr_client *c;
	mgr_object *k; /* a counter the working client bumps */
	int64_t bumps;
	pid_t pid;
	char log[64]; /* mgrd's stderr */
};

/* ---- mgrd with its stderr in a file ---- */

/* Starts mgrd (extra args, NULL-terminated) with stderr sent to l->log. */
static void lim_start(struct lim *l, const char *const *args)
{
	harness_start_logged(args, "mgr-limits-log", l->log, &l->m, &l->c, WAIT_MS);
	l->pid = mgr_manager_pid(l->m);
	assert_int_equal(mgr_counter_open(l->c, "alive", &l->k), 0);
}

/* How often needle occurs in mgrd's log so far. */
static int log_count(const struct lim *l, const char *needle)
{
	return harness_log_count(l->log, needle, NULL);
}

/* Stops mgrd (it must exit cleanly) and checks its log for sanitizer
 * reports. */
static void lim_stop(struct lim *l)
{
	mgr_object_release(l->k);
	mgr_client_close(l->c);
	assert_int_equal(mgr_manager_shutdown(l->m), 0);
	harness_log_clean(l->log);
	unlink(l->log);
}

/* The working client's call succeeds and counts right. */
static void assert_alive(struct lim *l)
{
	int64_t now = 0;
	int err = mgr_counter_add(l->k, 1, &now);
	if (err)
		fail_msg("the working client failed: %s: %s", mgr_errname(err),
			 mgr_client_errmsg(NULL));
	assert_int_equal(now, ++l->bumps);
}

/* Polls the manager until it counts `want` sessions (closes are handled
 * on the server's own time), at most WAIT_MS. */
static void wait_sessions(struct lim *l, int64_t want)
{
	assert_int_equal(harness_wait_info(l->c, "sessions", want, WAIT_MS), want);
}

/* ---- /proc ---- */

/* utime + stime of pid (all its threads), in clock ticks. */
static long proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	assert_non_null(p);
	unsigned long ut = 0, st = 0;
	/* after ")": state and fields 4..13, then utime (14) and stime (15) */
	int got = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	assert_int_equal(got, 2);
	return (long)(ut + st);
}

/* ---- raw connections ---- */

static void encode(const struct msg *m, uint8_t **buf, size_t *len)
{
	assert_int_equal(frame_encode(m, buf, len), 0);
}

static void hello_frame(uint8_t **buf, size_t *len)
{
	struct msg hello = {.kind = MSG_HELLO};
	hello.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, (int32_t)getpid(), "limits", 0, false};
	encode(&hello, buf, len);
}

static void ping_frame(uint64_t id, uint8_t **buf, size_t *len)
{
	mgr_value *v = mgr_value_new_string("ping");
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = id, .method = "ping", .args = &v, .nargs = 1};
	encode(&m, buf, len);
	mgr_value_free(v);
}

/* The next message on fd is the successful reply to ping `id`. */
static void expect_pong(int fd, uint64_t id)
{
	struct msg r;
	assert_true(harness_raw_recv_msg(fd, &r, WAIT_MS));
	assert_int_equal(r.kind, MSG_REPLY);
	assert_int_equal(r.u.reply.id, id);
	assert_int_equal(r.u.reply.code, 0);
	assert_string_equal(mgr_value_string(r.u.reply.value, NULL), "ping");
	msg_clear(&r);
}

static void raw_ping(int fd, uint64_t id)
{
	uint8_t *buf;
	size_t len;
	ping_frame(id, &buf, &len);
	harness_raw_send(fd, buf, len);
	free(buf);
	expect_pong(fd, id);
}

static void send_hello(int fd)
{
	uint8_t *buf;
	size_t len;
	hello_frame(&buf, &len);
	harness_raw_send(fd, buf, len);
	free(buf);
}

/* ---- out of file descriptors ---- */

/* Connects and says Hello; 1 once the Welcome came, 0 if mgrd logged that
 * it paused accepts (out of descriptors) and no Welcome came: this one
 * waits in the listen backlog. */
static int hello_or_paused(struct lim *l, int fd, int paused_before)
{
	send_hello(fd);
	int64_t end = clock_now_ms() + WAIT_MS;
	while (clock_now_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 20) == 1) {
			struct msg w;
			assert_true(harness_raw_recv_msg(fd, &w, WAIT_MS));
			assert_int_equal(w.kind, MSG_WELCOME);
			msg_clear(&w);
			return 1;
		}
		if (log_count(l, "pausing accepts") > paused_before)
			return 0;
	}
	fail_msg("neither a Welcome nor an accept pause within %d ms", WAIT_MS);
	return -1;
}

/* Lowers mgrd's soft RLIMIT_NOFILE to what it has open plus FD_HEADROOM
 * (the hard limit stays, so it can be raised back); *old gets the limit. */
static void limit_fds(struct lim *l, struct rlimit *old)
{
	assert_int_equal(prlimit(l->pid, RLIMIT_NOFILE, NULL, old), 0);
	struct rlimit low = {(rlim_t)harness_fd_count(l->pid) + FD_HEADROOM, old->rlim_max};
	assert_int_equal(prlimit(l->pid, RLIMIT_NOFILE, &low, NULL), 0);
}

static void test_out_of_fds(void **state)
{
	(void)state;
	struct lim l = {0};
	lim_start(&l, NULL);
	const char *path = mgr_manager_address(l.m);
	assert_alive(&l);
	struct rlimit old;
	limit_fds(&l, &old);
	/* sessions until mgrd runs out; the first one it cannot accept stays
	 * in the backlog, as do a few more */
	int served[FD_HEADROOM + 1], nserved = 0, waiting[BACKLOGGED + 1], nwaiting = 0;
	int paused = log_count(&l, "pausing accepts");
	for (;;) {
		assert_true(nserved <= FD_HEADROOM);
		int fd = harness_raw_connect(path);
		if (!hello_or_paused(&l, fd, paused)) {
			waiting[nwaiting++] = fd;
			break;
		}
		served[nserved++] = fd;
	}
	assert_true(nserved >= FD_HEADROOM / 2); /* mgrd needs no fds of its own to serve */
	while (nwaiting <= BACKLOGGED) {
		waiting[nwaiting] = harness_raw_connect(path);
		send_hello(waiting[nwaiting++]);
	}
	wait_sessions(&l, 1 + nserved);
	/* saturated: ~1 s with nothing to do but retry accept; a spin would
	 * use the whole core, the backoff next to nothing. No Welcome comes. */
	long hz = sysconf(_SC_CLK_TCK);
	int paused0 = log_count(&l, "pausing accepts");
	long cpu0 = proc_cpu_ticks(l.pid);
	int64_t t0 = clock_now_ms();
	struct pollfd p = {waiting[0], POLLIN, 0};
	assert_int_equal(poll(&p, 1, 1000), 0);
	long cpu = proc_cpu_ticks(l.pid) - cpu0;
	int64_t ms = clock_now_ms() - t0;
	int retries = log_count(&l, "pausing accepts") - paused0;
	print_message("out of fds for %lld ms: mgrd used %ld ms of CPU, paused accepts %d times\n",
		      (long long)ms, cpu * 1000 / hz, retries);
	assert_true(cpu * 1000 / hz < ms / 5); /* under 20% of a core */
	assert_true(retries >= 1);	       /* it keeps trying ... */
	assert_true(retries <= ms / 20 + 2);   /* ... at a bounded rate */
	/* the existing connections keep working while it is saturated */
	for (int i = 0; i < 1000; i++)
		assert_alive(&l);
	for (int i = 0; i < nserved; i++)
		raw_ping(served[i], 1);
	/* free some descriptors (the backlogged ones go too: mgrd accepts
	 * them first, sees EOF and closes them) */
	for (int i = 0; i < nwaiting; i++)
		close(waiting[i]);
	int keep = nserved / 2;
	for (int i = keep; i < nserved; i++)
		close(served[i]);
	assert_true(nserved - keep > nwaiting);
	wait_sessions(&l, 1 + keep);
	/* recovery: a new client is served again */
	int fd = harness_raw_session(path);
	raw_ping(fd, 2);
	close(fd);
	wait_sessions(&l, 1 + keep);
	mgr_client *c2;
	assert_int_equal(mgr_client_connect(path, &c2), 0);
	assert_int_equal(harness_info(c2, "sessions"), 2 + keep);
	mgr_client_close(c2);
	for (int i = 0; i < keep; i++) {
		raw_ping(served[i], 3);
		close(served[i]);
	}
	assert_alive(&l);
	wait_sessions(&l, 1);
	assert_int_equal(prlimit(l.pid, RLIMIT_NOFILE, &old, NULL), 0);
	lim_stop(&l);
}

/* ---- 500 idle or half-sent connections ---- */

/* What each of the raw connections does; IDLE_CONNS of them, in turn. */
enum idle_kind {
	IDLE_SILENT,	    /* connects and says nothing: closed at the deadline */
	IDLE_HELLO,	    /* Hello, then nothing: stays */
	IDLE_HALF_HEADER,   /* half a frame header: closed at the deadline */
	IDLE_HALF_BODY,	    /* a header and half a Hello: closed at the deadline */
	IDLE_HALF_REQUEST,  /* Hello, then half a request: stays, can finish it */
	IDLE_KINDS
};

static bool idle_stays(int kind)
{
	return kind == IDLE_HELLO || kind == IDLE_HALF_REQUEST;
}

/* Opens connection i as its kind says; half of a request's frame is kept
 * in rest/rest_len for later. */
static int idle_open(const char *path, int i, uint8_t **rest, size_t *rest_len)
{
	uint8_t *buf;
	size_t len;
	int kind = i % IDLE_KINDS;
	if (idle_stays(kind)) {
		int fd = harness_raw_session(path);
		if (kind == IDLE_HALF_REQUEST) {
			ping_frame((uint64_t)i, &buf, &len);
			harness_raw_send(fd, buf, len / 2);
			*rest_len = len - len / 2;
			*rest = malloc(*rest_len);
			assert_non_null(*rest);
			memcpy(*rest, buf + len / 2, *rest_len);
			free(buf);
		}
		return fd;
	}
	int fd = harness_raw_connect(path);
	if (kind == IDLE_SILENT)
		return fd;
	hello_frame(&buf, &len);
	harness_raw_send(fd, buf, kind == IDLE_HALF_HEADER ? FRAME_HEADER / 2
						   : FRAME_HEADER + (len - FRAME_HEADER) / 2);
	free(buf);
	return fd;
}

static void test_idle_half_sent(void **state)
{
	(void)state;
	/* 500 sockets here and in mgrd (which inherits the limit) */
	struct rlimit rl, saved;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	rl = saved;
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_true(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 2 * IDLE_CONNS + 64);
	struct lim l = {0};
	lim_start(&l, (const char *const[]){"--handshake-timeout", "500", NULL});
	const char *path = mgr_manager_address(l.m);
	int fds[IDLE_CONNS];
	uint8_t *rest[IDLE_CONNS] = {0};
	size_t rest_len[IDLE_CONNS] = {0};
	int stays = 0;
	/* the ones that handshake first, so the deadline's clock for the
	 * others starts as late as possible, right before the calls */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < IDLE_CONNS; i++)
			if (idle_stays(i % IDLE_KINDS) == (pass == 0)) {
				fds[i] = idle_open(path, i, &rest[i], &rest_len[i]);
				stays += pass == 0;
			}
	int64_t t0 = clock_now_ms();
	for (int i = 0; i < CALLS; i++)
		assert_alive(&l);
	print_message("%d calls beside %d idle or half-sent connections: %lld ms\n", CALLS,
		      IDLE_CONNS, (long long)(clock_now_ms() - t0));
	/* the deadline closes every connection that never finished a Hello */
	for (int i = 0; i < IDLE_CONNS; i++)
		if (!idle_stays(i % IDLE_KINDS)) {
			if (!harness_raw_closed(fds[i], WAIT_MS))
				fail_msg("connection %d (kind %d) still open", i, i % IDLE_KINDS);
			close(fds[i]);
		}
	wait_sessions(&l, 1 + stays);
	/* ... and keeps the handshaken ones, past their own deadline: they
	 * still answer, and a request sent in halves completes */
	for (int i = 0; i < IDLE_CONNS; i++) {
		if (!idle_stays(i % IDLE_KINDS))
			continue;
		if (rest[i]) {
			harness_raw_send(fds[i], rest[i], rest_len[i]);
			free(rest[i]);
			expect_pong(fds[i], (uint64_t)i);
		} else {
			raw_ping(fds[i], (uint64_t)i);
		}
		close(fds[i]);
	}
	wait_sessions(&l, 1);
	assert_int_equal(l.bumps, CALLS);
	lim_stop(&l);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

/* ---- parked calls: --max-waiters (an object's), --max-pending (a session's) ---- */

#define OVER_MS 100 /* a call over a limit is refused at once; with a bug it
		     * would park, and this timeout ends it instead of the test */

static int64_t call_int(mgr_object *o, const char *method)
{
	mgr_value *r = NULL;
	int err = mgr_call(o, method, NULL, 0, &r);
	if (err)
		fail_msg("%s: %s: %s", method, mgr_errname(err), mgr_client_errmsg(NULL));
	int64_t n = mgr_value_int(r);
	mgr_value_free(r);
	return n;
}

/* q's parked getters and putters; the calls c sent before are counted (a
 * connection's calls are served in order). */
static int64_t waiting(mgr_object *q) { return call_int(q, "waiting"); }

/* Polls q until want calls are parked on it (another session's calls
 * arrive on the server's own time), at most WAIT_MS. */
static void wait_waiting(mgr_object *q, int64_t want)
{
	int64_t end = clock_now_ms() + WAIT_MS, n;
	while ((n = waiting(q)) != want && clock_now_ms() < end)
		;
	assert_int_equal(n, want);
}

/* A get parked on q (async: it leaves with the connection's next call). */
static mgr_future *park_get(mgr_object *q)
{
	mgr_future *f = NULL;
	assert_int_equal(mgr_call_async(q, "get", NULL, 0, &f), 0);
	return f;
}

/* Puts v into q; the parked get f receives it. */
static void feed(mgr_object *q, mgr_future *f, int64_t v)
{
	mgr_value *r = NULL;
	assert_int_equal(mgr_queue_put(q, mgr_value_new_int(v), true, MGR_FOREVER), 0);
	assert_int_equal(mgr_future_wait(f, &r), 0);
	assert_int_equal(mgr_value_int(r), v);
	mgr_value_free(r);
}

/* One blocking get more than the limit allows: ELIMIT at once, whose
 * message names the limit. */
static void assert_refused(mgr_object *q, const char *why)
{
	mgr_value *item = NULL;
	assert_int_equal(mgr_queue_get(q, true, OVER_MS, &item), MGR_ELIMIT);
	assert_null(item);
	const char *msg = mgr_client_errmsg(mgr_object_client(q));
	if (!strstr(msg, why))
		fail_msg("ELIMIT says \"%s\", not \"%s\"", msg, why);
}

/* mgrd --max-waiters 3: an object parks 3 calls, from any sessions; the
 * 4th is refused (ELIMIT) while calls that do not park still run; another
 * object is not limited by it; once served, it parks 3 again. */
static void test_max_waiters(void **state)
{
	(void)state;
	struct lim l = {0};
	lim_start(&l, (const char *const[]){"--max-waiters", "3", NULL});
	mgr_client *c2;
	mgr_object *q, *q2, *other;
	assert_int_equal(mgr_client_connect(mgr_manager_address(l.m), &c2), 0);
	assert_int_equal(mgr_queue_open(l.c, "w", 0, &q), 0);
	assert_int_equal(mgr_queue_open(c2, "w", 0, &q2), 0);
	assert_int_equal(mgr_queue_open(l.c, "other", 0, &other), 0);
	mgr_future *f[4] = {park_get(q), park_get(q)};
	assert_int_equal(waiting(q), 2);
	f[2] = park_get(q2); /* the third from another session */
	assert_int_equal(mgr_client_flush(c2), 0);
	wait_waiting(q, 3);
	assert_refused(q, "waiters");
	assert_refused(q2, "waiters");
	assert_int_equal(waiting(q), 3);
	mgr_value *item = NULL;
	assert_int_equal(mgr_queue_get(q, false, MGR_FOREVER, &item), MGR_EEMPTY);
	assert_alive(&l);
	f[3] = park_get(other);
	assert_int_equal(waiting(other), 1);
	feed(other, f[3], 99);
	for (int i = 0; i < 3; i++) /* FIFO: ours first, then the other session's */
		feed(q, f[i], i);
	assert_int_equal(waiting(q), 0);
	for (int i = 0; i < 3; i++)
		f[i] = park_get(q);
	assert_int_equal(waiting(q), 3);
	assert_refused(q, "waiters");
	for (int i = 0; i < 3; i++)
		feed(q, f[i], 10 + i);
	mgr_object_release(q2);
	mgr_client_close(c2);
	mgr_object_release(q);
	mgr_object_release(other);
	lim_stop(&l);
}

/* mgrd --max-pending 3: a session parks 3 calls, on any objects; its 4th
 * is refused (ELIMIT) while its calls that do not park still run; another
 * session parks on the same object; once one is served, it parks again. */
static void test_max_pending(void **state)
{
	(void)state;
	struct lim l = {0};
	lim_start(&l, (const char *const[]){"--max-pending", "3", NULL});
	mgr_client *c2;
	mgr_object *q[4], *q3;
	mgr_future *f[4], *f2;
	const char *names[] = {"a", "b", "c", "d"};
	for (int i = 0; i < 4; i++)
		assert_int_equal(mgr_queue_open(l.c, names[i], 0, &q[i]), 0);
	for (int i = 0; i < 3; i++)
		f[i] = park_get(q[i]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(waiting(q[i]), 1);
	assert_refused(q[3], "parked calls");
	assert_int_equal(waiting(q[3]), 0);
	assert_alive(&l);
	assert_int_equal(mgr_client_connect(mgr_manager_address(l.m), &c2), 0);
	assert_int_equal(mgr_queue_open(c2, "d", 0, &q3), 0);
	f2 = park_get(q3);
	assert_int_equal(mgr_client_flush(c2), 0);
	wait_waiting(q[3], 1);
	feed(q[0], f[0], 0); /* one fewer parked: room for one */
	f[3] = park_get(q[3]);
	assert_int_equal(waiting(q[3]), 2);
	assert_refused(q[0], "parked calls");
	feed(q[3], f2, 3); /* FIFO: the other session's first */
	feed(q[3], f[3], 4);
	feed(q[1], f[1], 1);
	feed(q[2], f[2], 2);
	mgr_object_release(q3);
	mgr_client_close(c2);
	for (int i = 0; i < 4; i++)
		mgr_object_release(q[i]);
	lim_stop(&l);
}

/* ---- --max-outbuf at its edge, through a ring that is never read ---- */

/* Request{id, object, "get", [0]} into the ring, and a kick. */
static void raw_ring_get0(struct raw_ring *rr, uint64_t object)
{
	mgr_value *zero = mgr_value_new_int(0);
	struct msg q = {.kind = MSG_REQUEST};
	q.u.request = (struct msg_request){.id = 1, .object = object, .method = "get",
					   .args = &zero, .nargs = 1};
	raw_ring_send(rr, &q);
	mgr_value_free(zero);
}

/* Waits until mgrd has written `bytes` into rr's ring towards us. */
static void raw_ring_wait_written(struct raw_ring *rr, uint32_t bytes)
{
	int64_t end = clock_now_ms() + WAIT_MS;
	uint32_t head = rr->r.rx_head;
	while (__atomic_load_n(&rr->r.rx->tail, __ATOMIC_ACQUIRE) - head != bytes)
		if (clock_now_ms() > end)
			fail_msg("mgrd wrote %u bytes, not %u",
				 __atomic_load_n(&rr->r.rx->tail, __ATOMIC_ACQUIRE) - head, bytes);
}

/* Reads one whole frame from the ring (mgrd refills it as we read): a
 * reply with code; its size with the header, *str_len the length of the
 * string it returns (code 0). */
static size_t raw_ring_reply(struct raw_ring *rr, int code, size_t *str_len)
{
	size_t have = 0, cap = 1u << 20;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	int64_t end = clock_now_ms() + WAIT_MS;
	while (have < FRAME_HEADER || have < FRAME_HEADER + frame_get_len(buf)) {
		long n = ring_read(&rr->r, buf + have, cap - have);
		assert_true(n >= 0);
		have += (size_t)n;
		if (n)
			raw_ring_kick(rr); /* room for mgrd */
		else if (clock_now_ms() > end)
			fail_msg("a reply of %zu bytes so far, not whole", have);
	}
	assert_int_equal(have, FRAME_HEADER + frame_get_len(buf));
	struct msg y;
	struct frame_limits lim = {1u << 20, 64, UINT32_MAX, 0};
	char why[160];
	assert_int_equal(frame_decode(buf + FRAME_HEADER, frame_get_len(buf), &lim, &y, why,
				      sizeof(why)), 0);
	assert_int_equal(y.kind, MSG_REPLY);
	assert_int_equal(y.u.reply.id, 1);
	assert_int_equal(y.u.reply.code, code);
	if (!code)
		assert_non_null(mgr_value_string(y.u.reply.value, str_len));
	msg_clear(&y);
	free(buf);
	return have;
}

/* Makes item 0 of list a string of len bytes. */
static void set_item0(mgr_object *list, size_t len)
{
	char *p = malloc(len + 1);
	assert_non_null(p);
	memset(p, 'o', len);
	p[len] = '\0';
	mgr_value *args[] = {mgr_value_new_int(0), mgr_value_new_string(p)};
	assert_int_equal(mgr_call(list, "set", args, 2, NULL), 0);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	free(p);
}

#define OUTBUF 8192

/* mgrd --max-outbuf 8192: a reply that would leave more than 8192 bytes
 * waiting for a client is refused, not at 8192. Its ring (4096 bytes,
 * exact) takes the first bytes of a reply and the rest waits: one reply of
 * 4096 + 8192 bytes leaves exactly the limit waiting (kept, and then read
 * whole), one byte more is one over (ELIMIT instead, naming the limit; the
 * session stays: issue 13). The reply's
 * overhead is measured first, on a session that reads; --no-spin keeps
 * every reply's encoding the same. */
static void test_max_outbuf_edge(void **state)
{
	(void)state;
	struct lim l = {0};
	char max[16];
	snprintf(max, sizeof(max), "%d", OUTBUF);
	lim_start(&l, (const char *const[]){"--max-outbuf", max, "--no-spin", NULL});
	const char *path = mgr_manager_address(l.m);
	mgr_object *list;
	assert_int_equal(mgr_list_open(l.c, "big", &list), 0);
	assert_int_equal(mgr_list_append(list, mgr_value_new_string("")), 0);
	uint64_t id = mgr_object_id(list);
	/* the overhead of a reply with a string of 2-byte length, as this is */
	struct raw_ring rr;
	size_t probe = 10000, got = 0;
	set_item0(list, probe);
	raw_ring_open(path, "outbuf", &rr);
	raw_ring_get0(&rr, id);
	size_t overhead = raw_ring_reply(&rr, 0, &got) - probe;
	assert_int_equal(got, probe);
	raw_ring_close(&rr);
	wait_sessions(&l, 1);
	for (size_t over = 0; over <= 1; over++) {
		size_t len = RING_MIN + OUTBUF + over - overhead;
		assert_true(len >= 128 && len < 16384); /* the same length encoding */
		set_item0(list, len);
		raw_ring_open(path, "outbuf", &rr);
		wait_sessions(&l, 2);
		raw_ring_get0(&rr, id);
		if (over) { /* it could never be sent: ELIMIT, the session stays */
			raw_ring_reply(&rr, MGR_ELIMIT, NULL);
			assert_int_equal(harness_info(l.c, "sessions"), 2);
		} else {
			raw_ring_wait_written(&rr, RING_MIN); /* the reply is put, the ring full */
			assert_int_equal(harness_info(l.c, "sessions"), 2); /* kept */
			assert_int_equal(raw_ring_reply(&rr, 0, &got), RING_MIN + OUTBUF);
			assert_int_equal(got, len);
		}
		raw_ring_close(&rr);
		wait_sessions(&l, 1);
	}
	mgr_object_release(list);
	lim_stop(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_fds),
		cmocka_unit_test(test_idle_half_sent),
		cmocka_unit_test(test_max_waiters),
		cmocka_unit_test(test_max_pending),
		cmocka_unit_test(test_max_outbuf_edge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
