/* The shared-memory ring (common/ring.h): offered by default, sized within
 * both sides' limits, carries frames larger than itself and long pipelines
 * both ways, works in fd mode, notices a manager that died, and a client
 * that breaks its ring (or talks on the socket after setting one up) loses
 * only its own connection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/frame.h"
#include "../common/ring.h"
#include "harness.h"
#include "raw-ring.h"

/* ---- helpers ---- */

/* The ring size the manager gave the session of client c (0: socket). */
static int64_t ring_of(mgr_client *c)
{
	mgr_value *l = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(c), "clients", NULL, 0, &l), 0);
	int64_t ring = -1, me = (int64_t)mgr_client_session(c);
	for (size_t i = 0; i < mgr_value_len(l); i++) {
		const mgr_value *row = mgr_value_list_get(l, i);
		if (harness_map_int(row, "session") == me)
			ring = harness_map_int(row, "ring");
	}
	mgr_value_free(l);
	return ring;
}

/* A client asking for a ring of want bytes (NULL: the default). */
static mgr_client *connect_asking(const char *path, const char *want)
{
	mgr_client *c = NULL;
	if (want)
		setenv("MGR_RING_SIZE", want, 1);
	int err = mgr_client_connect(path, &c);
	unsetenv("MGR_RING_SIZE");
	if (err)
		fail_msg("connect: %s", mgr_client_errmsg(NULL));
	return c;
}

static void counter_round_trip(mgr_client *c, const char *name)
{
	mgr_object *o = NULL;
	int64_t v = 0;
	assert_int_equal(mgr_counter_open(c, name, &o), 0);
	assert_int_equal(mgr_counter_add(o, 5, &v), 0);
	assert_int_equal(mgr_counter_add(o, -2, &v), 0);
	assert_int_equal(mgr_counter_get(o, &v), 0);
	assert_true(v % 3 == 0 && v > 0);
	mgr_object_release(o);
}

static struct harness *started(const char *ring_size)
{
	static struct harness h;
	const char *args[] = {"--ring-size", ring_size, NULL};
	harness_start(&h, args);
	return &h;
}

/* ---- sizes ---- */

static void test_ring_by_default(void **state)
{
	struct harness *h = *state;
	assert_int_equal(ring_of(h->c), RING_DEFAULT);
	counter_round_trip(h->c, "default");
	mgr_client *sock = connect_asking(h->path, "0");
	assert_int_equal(ring_of(sock), 0); /* MGR_RING_SIZE=0: the socket only */
	counter_round_trip(sock, "default");
	mgr_client_close(sock);
}

static void test_ring_sizes_rounded_and_capped(void **state)
{
	struct harness *h = *state;
	static const struct {
		const char *want;
		int64_t got;
	} cases[] = {{"5000", 8192}, {"1", RING_MIN}, {"65536", 65536},
		     {"1048576", RING_DEFAULT}}; /* capped by mgrd's default */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mgr_client *c = connect_asking(h->path, cases[i].want);
		assert_int_equal(ring_of(c), cases[i].got);
		counter_round_trip(c, "sizes");
		mgr_client_close(c);
	}
	/* the manager's --ring-size is the most a client gets; 0 turns rings off */
	struct harness *small = started("4096");
	mgr_client *c = connect_asking(small->path, "1048576");
	assert_int_equal(ring_of(small->c), RING_MIN);
	assert_int_equal(ring_of(c), RING_MIN);
	mgr_client_close(c);
	harness_stop(small);
	struct harness *off = started("0");
	assert_int_equal(ring_of(off->c), 0);
	counter_round_trip(off->c, "off");
	harness_stop(off);
}

/* A client at its open-files limit cannot receive the ring's fds (the
 * kernel drops them): it connects again over the socket. */
static void test_no_fds_left_falls_back_to_socket(void **state)
{
	struct harness *h = *state;
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {64, 64};
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(2);
		int last = -1;
		for (int fd; (fd = open("/dev/null", O_RDONLY)) >= 0;)
			last = fd;
		close(last); /* room for the socket alone */
		mgr_client *c = NULL;
		if (mgr_client_connect(h->path, &c))
			_exit(3);
		_exit(ring_of(c) == 0 ? 0 : 4);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- traffic ---- */

/* Frames many times the ring's size, both ways, on a 4 KiB ring. */
static void test_frames_bigger_than_the_ring(void **state)
{
	(void)state;
	struct harness *h = started("4096");
	size_t n = 1u << 20;
	char *big = malloc(n + 1);
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	mgr_object *d = NULL;
	mgr_value *got = NULL;
	assert_int_equal(mgr_dict_open(h->c, "big", &d), 0);
	assert_int_equal(mgr_dict_set(d, mgr_value_new_string("k"), mgr_value_new_string(big)), 0);
	mgr_value *key = mgr_value_new_string("k");
	assert_int_equal(mgr_dict_get(d, key, &got), 0);
	size_t len = 0;
	const char *s = mgr_value_string(got, &len);
	assert_int_equal(len, n);
	assert_memory_equal(s, big, n);
	mgr_value_free(got);
	mgr_value_free(key);
	mgr_object_release(d);
	free(big);
	harness_stop(h);
}

/* 20,000 calls in flight through a 4 KiB ring: requests and replies both
 * fill it and wait for room. */
static void test_long_pipeline_through_a_small_ring(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct harness *h = started("4096");
	mgr_object *o = NULL;
	assert_int_equal(mgr_counter_open(h->c, "pipe", &o), 0);
	mgr_future **f = calloc(N, sizeof(*f));
	assert_non_null(f);
	mgr_value *one = mgr_value_new_int(1);
	for (int i = 0; i < N; i++)
		assert_int_equal(mgr_call_async(o, "add", &one, 1, &f[i]), 0);
	int64_t sum = 0;
	for (int i = 0; i < N; i++) {
		mgr_value *r = NULL;
		assert_int_equal(mgr_future_wait(f[i], &r), 0);
		sum += mgr_value_int(r);
		mgr_value_free(r);
	}
	assert_true(sum == (int64_t)N * (N + 1) / 2); /* every add answered, in order */
	mgr_value_free(one);
	free(f);
	mgr_object_release(o);
	harness_stop(h);
}

/* fd mode: the socket becomes readable when answers come through the ring. */
static void test_fd_mode(void **state)
{
	struct harness *h = *state;
	mgr_client *c = connect_asking(h->path, NULL);
	int fd = mgr_client_fd(c);
	assert_true(fd >= 0);
	mgr_object *o = NULL;
	assert_int_equal(mgr_counter_open(c, "fdmode", &o), 0);
	for (int round = 0; round < 50; round++) {
		mgr_future *f = NULL;
		mgr_value *one = mgr_value_new_int(1);
		assert_int_equal(mgr_call_async(o, "add", &one, 1, &f), 0);
		mgr_value_free(one);
		assert_int_equal(mgr_client_flush(c), 0);
		while (!mgr_future_done(f)) {
			struct pollfd p = {fd, POLLIN, 0};
			assert_int_equal(poll(&p, 1, 5000), 1); /* the doorbell rang */
			assert_int_equal(mgr_client_process(c), 0);
		}
		assert_int_equal(mgr_future_wait(f, NULL), 0);
	}
	int64_t v = 0;
	assert_int_equal(mgr_counter_get(o, &v), 0);
	assert_int_equal(v, 50);
	mgr_object_release(o);
	mgr_client_close(c);
}

/* ---- fork ---- */

/* The address of this process's first ring mapping (from /proc/self/maps). */
static void *ring_mapping(size_t *len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	void *at = NULL;
	while (f && !at && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (strstr(line, "memfd:mgr-ring") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			at = (void *)lo;
			*len = hi - lo;
		}
	}
	if (f)
		fclose(f);
	return at;
}

/* A forked child has no copy of its parent's ring (MADV_DONTFORK), so that
 * address range is free in the child and may be handed out again: dropping
 * the parent's connection there must not unmap it. */
static void test_fork_child_keeps_its_memory(void **state)
{
	struct harness *h = *state;
	mgr_object *o = NULL;
	assert_int_equal(mgr_counter_open(h->c, "forked", &o), 0);
	assert_int_equal(mgr_counter_add(o, 1, NULL), 0);
	size_t len = 0;
	void *at = ring_mapping(&len);
	assert_non_null(at);
	pid_t pid = fork();
	if (pid == 0) {
		unsigned char *p = mmap(at, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != at)
			_exit(2); /* the range was not free: the ring was copied */
		memset(p, 0x5a, len);
		if (mgr_counter_add(o, 1, NULL)) /* drops the parent's connection */
			_exit(3);
		for (size_t i = 0; i < len; i += 4096)
			if (p[i] != 0x5a)
				_exit(4);
		mgr_client_close(h->c); /* the parent's client, closed in the child */
		_exit(p[len - 1] == 0x5a ? 0 : 5);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	int64_t v = 0;
	assert_int_equal(mgr_counter_get(o, &v), 0);
	assert_int_equal(v, 2);
	mgr_object_release(o);
}

/* ---- a manager that dies ---- */

/* A child blocked on a lock (asleep on the ring's futex) learns that mgrd
 * was killed: its call fails instead of sleeping forever. */
static void test_manager_killed_while_waiting(void **state)
{
	(void)state;
	struct harness h;
	harness_start(&h, NULL);
	mgr_object *lock = NULL;
	bool got = false;
	assert_int_equal(mgr_lock_open(h.c, "l", true, &lock), 0);
	assert_int_equal(mgr_lock_acquire(lock, true, MGR_FOREVER, &got, NULL), 0);
	assert_true(got);
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t child = fork();
	if (child == 0) {
		mgr_client *c = connect_asking(h.path, NULL);
		mgr_object *l = NULL;
		if (mgr_lock_open(c, "l", true, &l) || ring_of(c) != RING_DEFAULT)
			_exit(2);
		(void)!write(ready[1], "x", 1);
		int err = mgr_lock_acquire(l, true, MGR_FOREVER, NULL, NULL);
		_exit(err == MGR_EIO ? 0 : 3);
	}
	char b;
	assert_int_equal(read(ready[0], &b, 1), 1);
	assert_int_equal(harness_wait_info(h.c, "sessions", 2, 5000), 2);
	kill(mgr_manager_pid(h.m), SIGKILL);
	int st = 0;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	int64_t v;
	mgr_object *o = NULL;
	assert_int_not_equal(mgr_counter_open(h.c, "after", &o), 0); /* we see it too */
	(void)v;
	close(ready[0]);
	close(ready[1]);
	mgr_object_release(lock);
	mgr_client_close(h.c);
	mgr_manager_shutdown(h.m); /* reaps it; it did not stop cleanly */
}

/* Two threads on one client when mgrd dies: one asleep in a blocking call
 * (the reader, in the ring without the lock), one stuck writing a request
 * bigger than the 4 KiB ring. Whichever notices first disconnects; the
 * other must not touch the unmapped ring. Both calls fail; nothing
 * crashes (ASan runs this too). */
struct two_threads {
	mgr_object *lock;
	mgr_object *dict;
	int err;
};

static void *blocked_reader(void *arg)
{
	struct two_threads *t = arg;
	t->err = mgr_lock_acquire(t->lock, true, MGR_FOREVER, NULL, NULL);
	return NULL;
}

static void test_manager_killed_under_two_threads(void **state)
{
	(void)state;
	struct harness *h = started("4096");
	mgr_client *other = connect_asking(h->path, NULL);
	mgr_object *held = NULL, *lock = NULL, *dict = NULL;
	bool got = false;
	assert_int_equal(mgr_lock_open(other, "l2", true, &held), 0);
	assert_int_equal(mgr_lock_acquire(held, true, MGR_FOREVER, &got, NULL), 0);
	assert_true(got);
	assert_int_equal(mgr_lock_open(h->c, "l2", true, &lock), 0);
	assert_int_equal(mgr_dict_open(h->c, "d2", &dict), 0);
	struct two_threads t = {lock, dict, 0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, blocked_reader, &t), 0);
	int64_t parked = 0;
	for (int i = 0; i < 500 && parked < 1; i++) { /* the acquire is parked */
		mgr_value *l = NULL;
		assert_int_equal(mgr_call(mgr_client_manager(other), "clients", NULL, 0, &l), 0);
		for (size_t j = 0; j < mgr_value_len(l); j++)
			parked += harness_map_int(mgr_value_list_get(l, j), "parked");
		mgr_value_free(l);
		if (parked < 1)
			usleep(10000);
	}
	assert_int_equal(parked, 1);
	kill(mgr_manager_pid(h->m), SIGKILL);
	char *big = malloc(65536);
	assert_non_null(big);
	memset(big, 'x', 65535);
	big[65535] = '\0';
	int err = mgr_dict_set(dict, mgr_value_new_string("k"), mgr_value_new_string(big));
	free(big);
	assert_int_not_equal(err, 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_not_equal(t.err, 0);
	mgr_object_release(dict);
	mgr_object_release(lock);
	mgr_object_release(held);
	mgr_client_close(other);
	mgr_client_close(h->c);
	mgr_manager_shutdown(h->m); /* reaps it */
}

/* ---- hostile clients ---- */

/* Writes Request{id, object 0, "info"} into the ring and kicks mgrd. */
static void raw_ring_request(struct raw_ring *rr, uint64_t id)
{
	struct msg q = {.kind = MSG_REQUEST};
	q.u.request = (struct msg_request){.id = id, .object = 0, .method = "info"};
	raw_ring_send(rr, &q);
}

/* By hand, the protocol works: a Request written into the ring and a kick
 * get a Reply in the other direction. */
static void test_raw_request_through_the_ring(void **state)
{
	struct harness *h = *state;
	struct raw_ring rr;
	raw_ring_open(h->path, "raw-ring", &rr);
	raw_ring_request(&rr, 7);
	uint8_t buf[8192];
	size_t have = 0;
	for (int tries = 0; tries < 5000 && (have < FRAME_HEADER ||
					     have < FRAME_HEADER + frame_get_len(buf)); tries++) {
		long n = ring_read(&rr.r, buf + have, sizeof(buf) - have);
		assert_true(n >= 0);
		have += (size_t)n;
		if (!n)
			usleep(1000);
	}
	struct msg y;
	struct frame_limits lim = {1u << 20, 64, UINT32_MAX, 0};
	char why[160];
	assert_true(have >= FRAME_HEADER);
	assert_int_equal(frame_decode(buf + FRAME_HEADER, frame_get_len(buf), &lim, &y, why,
				      sizeof(why)), 0);
	assert_int_equal(y.kind, MSG_REPLY);
	assert_int_equal(y.u.reply.id, 7);
	assert_int_equal(y.u.reply.code, 0);
	msg_clear(&y);
	raw_ring_close(&rr);
}

/* The memfd is sealed: a client cannot shrink it under mgrd (which would
 * make mgrd fault on the next access). */
static void test_ring_cannot_be_shrunk(void **state)
{
	struct harness *h = *state;
	struct raw_ring rr;
	raw_ring_open(h->path, "raw-ring", &rr);
	assert_int_equal(ftruncate(rr.memfd, 0), -1);
	assert_int_equal(errno, EPERM);
	raw_ring_close(&rr);
	counter_round_trip(h->c, "sealed");
}

/* Counters that do not add up: that connection is dropped, nothing else. */
static void test_broken_ring_drops_only_that_client(void **state)
{
	struct harness *h = *state;
	int64_t before = harness_info(h->c, "sessions");
	static const uint32_t bogus_tail[] = {RING_MIN + 1, 0x80000000u, 0xffffffffu};
	for (size_t i = 0; i < sizeof(bogus_tail) / sizeof(bogus_tail[0]); i++) {
		struct raw_ring rr;
		raw_ring_open(h->path, "raw-ring", &rr);
		__atomic_store_n(&rr.r.shm->dir[0].tail, bogus_tail[i], __ATOMIC_SEQ_CST);
		raw_ring_kick(&rr);
		assert_true(harness_raw_closed(rr.sock, 5000));
		raw_ring_close(&rr);
	}
	/* mgrd's own counters in shared memory are not trusted either */
	struct raw_ring rr;
	raw_ring_open(h->path, "raw-ring", &rr);
	__atomic_store_n(&rr.r.shm->dir[1].head, 0x40000000u, __ATOMIC_SEQ_CST);
	raw_ring_request(&rr, 1);
	assert_true(harness_raw_closed(rr.sock, 5000));
	raw_ring_close(&rr);
	assert_int_equal(harness_wait_info(h->c, "sessions", before, 5000), before);
	counter_round_trip(h->c, "survivor");
}

/* Once the ring is up, bytes on the socket are a protocol violation. */
static void test_socket_talk_after_ring_dropped(void **state)
{
	struct harness *h = *state;
	struct raw_ring rr;
	raw_ring_open(h->path, "raw-ring", &rr);
	struct msg q = {.kind = MSG_REQUEST};
	q.u.request = (struct msg_request){.id = 1, .object = 0, .method = "info"};
	harness_raw_send_msg(rr.sock, &q);
	assert_true(harness_raw_closed(rr.sock, 5000));
	raw_ring_close(&rr);
	counter_round_trip(h->c, "after-socket-talk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_by_default),
		cmocka_unit_test(test_ring_sizes_rounded_and_capped),
		cmocka_unit_test(test_no_fds_left_falls_back_to_socket),
		cmocka_unit_test(test_frames_bigger_than_the_ring),
		cmocka_unit_test(test_long_pipeline_through_a_small_ring),
		cmocka_unit_test(test_fd_mode),
		cmocka_unit_test(test_fork_child_keeps_its_memory),
		cmocka_unit_test(test_manager_killed_while_waiting),
		cmocka_unit_test(test_manager_killed_under_two_threads),
		cmocka_unit_test(test_raw_request_through_the_ring),
		cmocka_unit_test(test_ring_cannot_be_shrunk),
		cmocka_unit_test(test_broken_ring_drops_only_that_client),
		cmocka_unit_test(test_socket_talk_after_ring_dropped),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
