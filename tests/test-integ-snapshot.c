/* mgrd --snapshot: named dicts, lists, counters, queues and events come
 * back after a restart (values of every kind, refs by name); the manager's
 * save; interval saves; SIGKILL in the middle of a save leaves a snapshot
 * that loads completely; a leftover temporary file is removed; a corrupt
 * or truncated file stops mgrd with exit 1 and a message, or is set aside
 * with --ignore-bad-snapshot; a missing file is a first start.
 * Trust (issue 13 item 2), with a second real uid (ATTACKER, made with
 * useradd; skipped unless root): in a shared sticky directory the
 * attacker's files named like the temporary file are neither written
 * through nor followed nor removed, and the saved file is 0600 and ours; a
 * snapshot of another uid or writable by group/others, a directory others
 * can write without the sticky bit, a FIFO, symlink, directory or device at
 * the path: refused at start with exit 1 and one exact line, or set aside
 * with --ignore-bad-snapshot (never for the directory), without hanging. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 10000
#define ATTACKER HARNESS_USER /* a second local user */

struct env {
	char dir[64];
	char snap[100]; /* dir/snap, or dir/pub/snap for the shared directory */
	char tmp[110];  /* snap.tmp: the temporary file of mgrd before issue 13 */
	char err[100];  /* dir/stderr of a directly spawned mgrd */
	char pub[80];   /* dir/pub: a directory shared with the attacker */
	uid_t auid;     /* the attacker's */
	gid_t agid;
	bool run_as_attacker; /* run_mgrd: mgrd runs as the attacker (a user's own mgrd) */
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	harness_tmpdir(e->dir, sizeof(e->dir), "mgr-snaptest");
	snprintf(e->snap, sizeof(e->snap), "%s/snap", e->dir);
	snprintf(e->tmp, sizeof(e->tmp), "%s.tmp", e->snap);
	snprintf(e->err, sizeof(e->err), "%s/stderr", e->dir);
	snprintf(e->pub, sizeof(e->pub), "%s/pub", e->dir);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	harness_rmtree(e->dir);
	free(e);
	return 0;
}

/* mgrd with --snapshot and up to two more arguments. */
static void start(struct harness *h, struct env *e, const char *a1, const char *a2)
{
	const char *args[] = {"--snapshot", e->snap, a1, a2, NULL};
	harness_start(h, args);
}

/* SIGKILL: no final save. */
static void kill9(struct harness *h)
{
	mgr_client_close(h->c);
	assert_int_equal(kill(mgr_manager_pid(h->m), SIGKILL), 0);
	mgr_manager_shutdown(h->m); /* reaps it; not a clean exit */
	memset(h, 0, sizeof(*h));
}

static mgr_object *object(struct harness *h, const char *type, const char *name, mgr_value *arg)
{
	mgr_object *o;
	mgr_value *args[] = {arg};
	assert_int_equal(mgr_object_create(h->c, type, name, args, arg ? 1 : 0, &o), 0);
	mgr_value_free(arg);
	return o;
}

static mgr_object *lookup(struct harness *h, const char *name)
{
	mgr_object *o;
	assert_int_equal(mgr_object_lookup(h->c, name, &o), 0);
	return o;
}

static mgr_value *str(const char *s) { return mgr_value_new_string(s); }

static mgr_value *list_of(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	mgr_value *l = mgr_value_new_list();
	for (int i = 0; i < n; i++)
		assert_int_equal(mgr_value_list_append(l, va_arg(ap, mgr_value *)), 0);
	va_end(ap);
	return l;
}

/* Values of every kind, nested. */
static mgr_value *sample(void)
{
	mgr_value *inner = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(inner, mgr_value_new_int(7),
					   mgr_value_new_bytes("\0\1\2", 3)), 0);
	assert_int_equal(mgr_value_map_set(inner, mgr_value_new_bool(true), str("t")), 0);
	assert_int_equal(mgr_value_map_set(inner, mgr_value_new_bytes("k\0", 2),
					   mgr_value_new_double(1e300)), 0);
	mgr_value *m = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(m, str("nil"), mgr_value_new_nil()), 0);
	assert_int_equal(mgr_value_map_set(m, str("bool"), mgr_value_new_bool(false)), 0);
	assert_int_equal(mgr_value_map_set(m, str("int"), mgr_value_new_int(INT64_MIN)), 0);
	assert_int_equal(mgr_value_map_set(m, str("double"), mgr_value_new_double(-0.25)), 0);
	assert_int_equal(mgr_value_map_set(m, str("string"), str("h\xc3\xa9llo")), 0);
	assert_int_equal(mgr_value_map_set(m, str("bytes"), mgr_value_new_bytes("a\0b", 3)), 0);
	assert_int_equal(mgr_value_map_set(m, mgr_value_new_int(-3), list_of(3, mgr_value_new_int(1),
		list_of(2, mgr_value_new_double(2.5), list_of(1, str("deep"))), inner)), 0);
	assert_int_equal(mgr_value_map_set(m, mgr_value_new_bytes("\xff", 1), mgr_value_new_list()), 0);
	assert_int_equal(mgr_value_map_set(m, mgr_value_new_bool(false), mgr_value_new_map()), 0);
	return m;
}

static mgr_value *call0(mgr_object *o, const char *method)
{
	mgr_value *r = NULL;
	assert_int_equal(mgr_callv(o, method, &r, NULL), 0);
	return r;
}

static void fill(struct harness *h)
{
	mgr_object *d = object(h, "dict", "d", NULL), *l = object(h, "list", "l", NULL),
		   *anon = object(h, "dict", NULL, NULL);
	assert_int_equal(mgr_callv(d, "update", NULL, sample(), NULL), 0);
	assert_int_equal(mgr_callv(d, "set", NULL, str("ref_l"), mgr_object_ref(l), NULL), 0);
	assert_int_equal(mgr_callv(d, "set", NULL, str("ref_anon"), mgr_object_ref(anon), NULL), 0);
	assert_int_equal(mgr_callv(l, "extend", NULL, list_of(4, mgr_value_new_int(1), sample(),
		mgr_value_new_bytes("", 0), mgr_object_ref(d)), NULL), 0);
	mgr_object *k = object(h, "counter", "k", mgr_value_new_int(-42));
	mgr_object *q = object(h, "queue", "q", mgr_value_new_int(5));
	for (int i = 0; i < 3; i++)
		assert_int_equal(mgr_callv(q, "put", NULL, list_of(1, mgr_value_new_int(i)), NULL), 0);
	mgr_object *jq = object(h, "joinable_queue", "jq", NULL);
	assert_int_equal(mgr_callv(jq, "put", NULL, str("a"), NULL), 0);
	assert_int_equal(mgr_callv(jq, "put", NULL, str("b"), NULL), 0);
	mgr_value_free(call0(jq, "get")); /* got, not yet task_done */
	mgr_object *e1 = object(h, "event", "e_set", NULL), *e2 = object(h, "event", "e_clear", NULL);
	assert_int_equal(mgr_callv(e1, "set", NULL, NULL), 0);
	mgr_object *lk = object(h, "lock", "lk", NULL); /* nothing worth keeping */
	mgr_object *objs[] = {d, l, anon, k, q, jq, e1, e2, lk};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		mgr_object_release(objs[i]);
}

static void check_ref(const mgr_value *v, mgr_object *to)
{
	assert_int_equal(mgr_value_kind(v), MGR_REF);
	assert_int_equal(mgr_value_ref_id(v), mgr_object_id(to));
	assert_string_equal(mgr_value_ref_type(v), mgr_object_type(to));
}

static void check_dict_list(struct harness *h)
{
	mgr_object *d = lookup(h, "d"), *l = lookup(h, "l");
	mgr_value *got = call0(d, "copy"), *want = sample(), *k = str("ref_l"), *k2 = str("ref_anon");
	assert_int_equal(mgr_value_len(got), mgr_value_len(want) + 2);
	for (size_t i = 0; i < mgr_value_len(want); i++) {
		const mgr_value *v = mgr_value_map_get(got, mgr_value_map_key(want, i));
		assert_non_null(v);
		assert_true(mgr_value_equal(v, mgr_value_map_value(want, i)));
	}
	check_ref(mgr_value_map_get(got, k), l);
	assert_int_equal(mgr_value_kind(mgr_value_map_get(got, k2)), MGR_NIL); /* anonymous: dropped */
	mgr_value *items = call0(l, "copy"), *s = sample();
	assert_int_equal(mgr_value_len(items), 4);
	assert_int_equal(mgr_value_int(mgr_value_list_get(items, 0)), 1);
	assert_true(mgr_value_equal(mgr_value_list_get(items, 1), s));
	assert_int_equal(mgr_value_kind(mgr_value_list_get(items, 2)), MGR_BYTES);
	check_ref(mgr_value_list_get(items, 3), d);
	mgr_value *vals[] = {got, want, k, k2, items, s};
	for (size_t i = 0; i < 6; i++)
		mgr_value_free(vals[i]);
	mgr_object_release(d);
	mgr_object_release(l);
}

static int64_t int_of(mgr_object *o, const char *method)
{
	mgr_value *v = call0(o, method);
	int64_t n = mgr_value_kind(v) == MGR_BOOL ? mgr_value_bool(v) : mgr_value_int(v);
	mgr_value_free(v);
	return n;
}

static void check_sync(struct harness *h)
{
	mgr_object *k = lookup(h, "k"), *q = lookup(h, "q"), *jq = lookup(h, "jq"),
		   *e1 = lookup(h, "e_set"), *e2 = lookup(h, "e_clear");
	assert_int_equal(int_of(k, "get"), -42);
	assert_int_equal(int_of(q, "qsize"), 3);
	assert_int_equal(mgr_callv(q, "put", NULL, str("x"), NULL), 0);
	assert_int_equal(mgr_callv(q, "put", NULL, str("y"), NULL), 0);
	assert_int_equal(int_of(q, "full"), 1); /* maxsize 5 came back */
	for (int i = 0; i < 3; i++) {
		mgr_value *v = call0(q, "get"), *want = list_of(1, mgr_value_new_int(i));
		assert_true(mgr_value_equal(v, want));
		mgr_value_free(v);
		mgr_value_free(want);
	}
	assert_int_equal(int_of(jq, "qsize"), 2); /* "a" was got, never done: redelivered */
	assert_int_equal(mgr_callv(jq, "task_done", NULL, NULL), 0); /* two unfinished */
	assert_int_equal(mgr_callv(jq, "task_done", NULL, NULL), 0);
	assert_int_equal(mgr_callv(jq, "task_done", NULL, NULL), MGR_ESTATE);
	assert_int_equal(int_of(e1, "is_set"), 1);
	assert_int_equal(int_of(e2, "is_set"), 0);
	mgr_object *lk;
	assert_int_equal(mgr_object_lookup(h->c, "lk", &lk), MGR_ENOOBJ);
	mgr_object *objs[] = {k, q, jq, e1, e2};
	for (size_t i = 0; i < 5; i++)
		mgr_object_release(objs[i]);
}

static void test_restart_keeps_named_objects(void **state)
{
	struct env *e = *state;
	struct harness h;
	start(&h, e, NULL, NULL); /* no file yet: a first start */
	assert_int_equal(harness_info(h.c, "objects"), 0);
	fill(&h);
	harness_stop(&h); /* SIGTERM: the final save */
	start(&h, e, NULL, NULL);
	assert_int_equal(harness_info(h.c, "objects"), 7);
	check_dict_list(&h);
	check_sync(&h);
	harness_stop(&h);
	start(&h, e, NULL, NULL); /* and once more: a restored state saves alike */
	check_dict_list(&h);
	harness_stop(&h);
}

static mgr_value *save(struct harness *h, int want)
{
	mgr_value *r = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(h->c), "save", NULL, 0, &r), want);
	return r;
}

static void test_save_on_demand(void **state)
{
	struct env *e = *state;
	struct harness h;
	harness_start(&h, NULL);
	assert_null(save(&h, MGR_ESTATE)); /* no --snapshot */
	harness_stop(&h);
	start(&h, e, NULL, NULL);
	fill(&h);
	mgr_value *r = save(&h, 0);
	assert_int_equal(harness_map_int(r, "objects"), 7);
	assert_true(harness_map_int(r, "bytes") > 100);
	mgr_value_free(r);
	mgr_object *k = lookup(&h, "k");
	assert_int_equal(mgr_callv(k, "set", NULL, mgr_value_new_int(99), NULL), 0);
	mgr_object_release(k);
	kill9(&h); /* the 99 was never saved */
	start(&h, e, NULL, NULL);
	check_dict_list(&h);
	check_sync(&h); /* k is -42 */
	harness_stop(&h);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Polls (bounded) until the snapshot file is a new one (another inode). */
static void wait_new_file(const char *path, ino_t old)
{
	struct stat st;
	for (int i = 0; i < WAIT_MS / 10; i++, sleep_ms(10))
		if (stat(path, &st) == 0 && st.st_ino != old)
			return;
	fail_msg("%s was not rewritten in %d ms", path, WAIT_MS);
}

static ino_t inode(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void counter_to(struct harness *h, int64_t v)
{
	mgr_object *k;
	assert_int_equal(mgr_object_open(h->c, "counter", "k", &k), 0);
	assert_int_equal(mgr_callv(k, "set", NULL, mgr_value_new_int(v), NULL), 0);
	mgr_object_release(k);
}

static void check_counter(struct harness *h, int64_t v)
{
	mgr_object *k = lookup(h, "k");
	assert_int_equal(int_of(k, "get"), v);
	mgr_object_release(k);
}

static void test_interval(void **state)
{
	struct env *e = *state;
	struct harness h;
	start(&h, e, "--snapshot-interval", "1");
	counter_to(&h, 1);
	wait_new_file(e->snap, 0);
	kill9(&h);
	start(&h, e, "--snapshot-interval", "1");
	check_counter(&h, 1);
	ino_t old = inode(e->snap);
	counter_to(&h, 2);
	wait_new_file(e->snap, old);
	kill9(&h);
	start(&h, e, NULL, NULL);
	check_counter(&h, 2);
	harness_stop(&h);
}

/* Files named snap.tmp or snap.tmp.* next to the snapshot. */
static int count_tmp(struct env *e)
{
	char dir[100];
	snprintf(dir, sizeof(dir), "%s", e->snap);
	*strrchr(dir, '/') = '\0';
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += !strcmp(de->d_name, "snap.tmp") || !strncmp(de->d_name, "snap.tmp.", 9);
	closedir(d);
	return n;
}

/* A dict big enough that a save takes a while; "gen" tells the saves apart. */
static void big_dict(struct harness *h, int64_t gen, int n)
{
	mgr_object *d;
	assert_int_equal(mgr_object_open(h->c, "dict", "big", &d), 0);
	char pad[200];
	memset(pad, 'x', sizeof(pad));
	for (int base = 0; base < n; base += 10000) {
		mgr_value *m = mgr_value_new_map();
		for (int i = base; i < base + 10000 && i < n; i++)
			assert_int_equal(mgr_value_map_set(m, mgr_value_new_int(i),
				mgr_value_new_bytes(pad, sizeof(pad))), 0);
		assert_int_equal(mgr_callv(d, "update", NULL, m, NULL), 0);
	}
	assert_int_equal(mgr_callv(d, "set", NULL, str("gen"), mgr_value_new_int(gen), NULL), 0);
	mgr_object_release(d);
}

static void test_kill_during_save(void **state)
{
	struct env *e = *state;
	struct harness h;
	start(&h, e, NULL, NULL);
	big_dict(&h, 1, 100000);
	mgr_value_free(save(&h, 0)); /* the previous snapshot: gen 1 */
	big_dict(&h, 2, 200000);
	mgr_future *f;
	assert_int_equal(mgr_call_async(mgr_client_manager(h.c), "save", NULL, 0, &f), 0);
	assert_int_equal(mgr_client_flush(h.c), 0);
	bool cut = false; /* did the kill come while the temporary file was there? */
	for (int i = 0; i < WAIT_MS * 10 && !cut; i++) {
		cut = count_tmp(e) > 0;
		if (!cut)
			usleep(100);
	}
	pid_t pid = mgr_manager_pid(h.m);
	assert_int_equal(kill(pid, SIGKILL), 0);
	mgr_future_free(f);
	mgr_client_close(h.c);
	mgr_manager_shutdown(h.m);
	print_message("killed %s the save\n", cut ? "during" : "after");
	start(&h, e, NULL, NULL); /* loads completely, or mgrd would have exited 1 */
	assert_int_equal(count_tmp(e), 0); /* the leftover is gone */
	mgr_object *d = lookup(&h, "big");
	mgr_value *k = str("gen"), *gen = NULL;
	assert_int_equal(mgr_callv(d, "get", &gen, mgr_value_copy(k), NULL), 0);
	int64_t len = int_of(d, "len");
	print_message("the snapshot that loaded: gen %lld, %lld entries\n",
		      (long long)mgr_value_int(gen), (long long)len);
	assert_int_equal(len, mgr_value_int(gen) == 1 ? 100001 : 200001);
	mgr_value_free(k);
	mgr_value_free(gen);
	mgr_object_release(d);
	harness_stop(&h);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void test_leftover_tmp_removed(void **state)
{
	struct env *e = *state;
	struct harness h;
	start(&h, e, NULL, NULL);
	counter_to(&h, 7);
	harness_stop(&h);
	char ours[120];
	snprintf(ours, sizeof(ours), "%s.tmp.0123456789ab", e->snap);
	write_file(ours, "MGRSNAP\0half a save", 19);
	write_file(e->tmp, "MGRSNAP\0half a save", 19); /* an older mgrd's name */
	assert_int_equal(count_tmp(e), 2);
	start(&h, e, NULL, NULL);
	assert_int_equal(count_tmp(e), 0);
	check_counter(&h, 7);
	harness_stop(&h);
}

/* Runs mgrd directly; returns its exit status (it must exit by itself). */
static int run_mgrd(struct env *e, const char *extra)
{
	char sock[120];
	snprintf(sock, sizeof(sock), "%s/%s", e->dir, e->run_as_attacker ? "asock/s" : "s");
	const char *mgrd = getenv("MGR_MGRD");
	assert_non_null(mgrd);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(e->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (e->run_as_attacker && (setgroups(0, NULL) || setgid(e->agid) || setuid(e->auid)))
			_exit(126);
		execl(mgrd, mgrd, "--snapshot", e->snap, "--socket", sock, extra, (char *)NULL);
		_exit(127);
	}
	int status;
	if (harness_reap_within(pid, WAIT_MS, &status))
		return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("mgrd did not exit within %d ms (it started on a bad snapshot, or hung)", WAIT_MS);
	return -1;
}

static void assert_log_has(struct env *e, const char *what)
{
	char buf[4096] = {0};
	int fd = open(e->err, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	if (!strstr(buf, what) || !strstr(buf, e->snap))
		fail_msg("the log does not name %s and '%s':\n%s", e->snap, what, buf);
}

static size_t read_snap(struct env *e, uint8_t **data)
{
	struct stat st;
	assert_int_equal(stat(e->snap, &st), 0);
	*data = malloc((size_t)st.st_size);
	int fd = open(e->snap, O_RDONLY);
	assert_int_equal(read(fd, *data, (size_t)st.st_size), st.st_size);
	close(fd);
	return (size_t)st.st_size;
}

static void test_bad_files(void **state)
{
	struct env *e = *state;
	struct harness h;
	start(&h, e, NULL, NULL);
	fill(&h);
	harness_stop(&h);
	uint8_t *good;
	size_t n = read_snap(e, &good);
	static const struct {
		size_t at, len; /* the file is good[0, len) with the byte at `at` flipped */
		const char *why;
	} cases[] = {
		{SIZE_MAX, 0, "truncated"},       /* empty */
		{SIZE_MAX, 20, "truncated"},      /* inside the header */
		{SIZE_MAX, 1, "truncated"},       /* cut at the end: filled below */
		{60, 0, "corrupt: checksum"},     /* a record's byte */
		{20, 0, "corrupt: header"},       /* a header byte */
		{0, 0, "bad magic"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = i == 2 ? n - 7 : i < 2 ? cases[i].len : n;
		uint8_t *bad = malloc(n);
		memcpy(bad, good, n);
		if (cases[i].at != SIZE_MAX)
			bad[cases[i].at] ^= 0x20;
		write_file(e->snap, bad, len);
		free(bad);
		assert_int_equal(run_mgrd(e, NULL), 1);
		assert_log_has(e, cases[i].why);
		struct stat st;
		assert_int_equal(stat(e->snap, &st), 0); /* left alone */
		assert_int_equal((size_t)st.st_size, len);
	}
	/* --ignore-bad-snapshot: a warning, the file set aside, an empty start */
	char bad[120];
	snprintf(bad, sizeof(bad), "%s.bad", e->snap);
	start(&h, e, "--ignore-bad-snapshot", NULL);
	assert_int_equal(harness_info(h.c, "objects"), 0);
	assert_int_equal(access(bad, F_OK), 0);
	harness_stop(&h); /* saves an empty snapshot */
	start(&h, e, NULL, NULL);
	assert_int_equal(harness_info(h.c, "objects"), 0);
	harness_stop(&h);
	free(good);
}

/* A custom type with save/load (examples/employee-type.c, as a module). */
static void test_custom_type(void **state)
{
	struct env *e = *state;
	struct harness h;
	const char *mod = getenv("MGR_EMPLOYEE_MODULE");
	assert_non_null(mod);
	start(&h, e, "--module", mod);
	mgr_object *emp, *d = object(&h, "dict", "d", NULL);
	mgr_value *args[] = {str("alice"), mgr_value_new_int(1000)};
	assert_int_equal(mgr_object_create(h.c, "employee", "emp", args, 2, &emp), 0);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	assert_int_equal(int_of(emp, "increase"), 1100);
	assert_int_equal(mgr_callv(emp, "increase", NULL, mgr_value_new_int(-50), NULL), 0);
	assert_int_equal(mgr_callv(d, "set", NULL, str("e"), mgr_object_ref(emp), NULL), 0);
	mgr_object_release(emp);
	mgr_object_release(d);
	harness_stop(&h);
	start(&h, e, "--module", mod);
	assert_int_equal(harness_info(h.c, "objects"), 2);
	emp = lookup(&h, "emp");
	d = lookup(&h, "d");
	mgr_value *pay = call0(emp, "get_pay"), *hist = call0(emp, "history"), *k = str("e");
	mgr_value *want = list_of(2, mgr_value_new_int(1100), mgr_value_new_int(1050)), *ref = NULL;
	assert_string_equal(mgr_value_string(pay, NULL), "alice:1050");
	assert_true(mgr_value_equal(hist, want));
	assert_int_equal(mgr_callv(d, "get", &ref, mgr_value_copy(k), NULL), 0);
	check_ref(ref, emp);
	mgr_value *vals[] = {pay, hist, k, want, ref};
	for (size_t i = 0; i < 5; i++)
		mgr_value_free(vals[i]);
	mgr_object_release(emp);
	mgr_object_release(d);
	harness_stop(&h);
	assert_int_equal(run_mgrd(e, NULL), 1); /* without the module */
	assert_log_has(e, "type 'employee' is not served");
}

/* ---- trust: a second uid, shared directories, special files ---- */

/* The attacker's uid and gid into e (harness_second_user). False unless
 * root (only root can make a user, give files away or setuid). */
static bool attacker(struct env *e) { return harness_second_user(&e->auid, &e->agid); }

#define NEED_ATTACKER(e)                                                                  \
	do {                                                                              \
		if (!attacker(e)) {                                                       \
			print_message("skipped: needs root to make the second uid " ATTACKER \
				      " and give files away\n");                                  \
			skip();                                                           \
		}                                                                         \
	} while (0)

/* Runs fn(e) in a child as the attacker; its exit status (0: it did it). */
static int as_attacker(struct env *e, int (*fn)(struct env *e))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(e->agid) || setuid(e->auid))
			_exit(126);
		_exit(fn(e));
	}
	int status;
	assert_true(harness_reap_within(pid, WAIT_MS, &status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* dir/pub with mode (chmod: umask does not cut it); dir becomes 0711 so
 * that the attacker can reach it, and the snapshot is dir/pub/snap. */
static void make_pub(struct env *e, mode_t mode)
{
	assert_int_equal(chmod(e->dir, 0711), 0);
	assert_int_equal(mkdir(e->pub, 0700), 0);
	assert_int_equal(chmod(e->pub, mode), 0);
	snprintf(e->snap, sizeof(e->snap), "%s/snap", e->pub);
	snprintf(e->tmp, sizeof(e->tmp), "%s.tmp", e->snap);
}

static char *pub_file(struct env *e, const char *name)
{
	static char path[4][120];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", e->pub, name);
	return p;
}

static int write_world(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	return fd < 0 || fchmod(fd, 0666) || write(fd, text, strlen(text)) != (ssize_t)strlen(text)
		       ? 1 : close(fd);
}

/* The attacker's bait, the temporary file's old name, and a symlink that
 * looks like one of the new temporary files. */
static int plant_regular(struct env *e)
{
	return write_world(pub_file(e, "bait"), "bait") || write_world(e->tmp, "attacker") ||
	       symlink(pub_file(e, "bait"), pub_file(e, "snap.tmp.000000000000"));
}

static int plant_symlink(struct env *e)
{
	return write_world(pub_file(e, "bait"), "bait") || symlink(pub_file(e, "bait"), e->tmp);
}

/* 0 if the attacker cannot open the snapshot: EACCES. */
static int read_snap_as_attacker(struct env *e)
{
	return !(open(e->snap, O_RDONLY) < 0 && errno == EACCES);
}

static void assert_content(const char *path, const char *text)
{
	char buf[64] = {0};
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(text));
	assert_string_equal(buf, text);
	close(fd);
}

/* lstat(path): owned by uid, of kind fmt, with mode. */
static void assert_stat(const char *path, uid_t uid, mode_t fmt, mode_t mode)
{
	struct stat st;
	if (lstat(path, &st))
		fail_msg("%s: %s", path, strerror(errno));
	if (st.st_uid != uid || (st.st_mode & S_IFMT) != fmt ||
	    (fmt != S_IFLNK && (st.st_mode & 07777) != mode))
		fail_msg("%s: uid %u, mode %06o; want uid %u, mode %06o", path, (unsigned)st.st_uid,
			 (unsigned)st.st_mode, (unsigned)uid, (unsigned)(fmt | mode));
}

static void secret_to(struct harness *h, const char *value)
{
	mgr_object *d;
	assert_int_equal(mgr_object_open(h->c, "dict", "cfg", &d), 0);
	assert_int_equal(mgr_callv(d, "set", NULL, str("password"), str(value), NULL), 0);
	mgr_object_release(d);
}

static void check_secret(struct harness *h, const char *value)
{
	mgr_object *d = lookup(h, "cfg");
	mgr_value *k = str("password"), *v = NULL;
	assert_int_equal(mgr_callv(d, "get", &v, k, NULL), 0);
	assert_string_equal(mgr_value_string(v, NULL), value);
	mgr_value_free(v);
	mgr_object_release(d);
}

/* The snapshot is mgrd's alone, and the attacker's files are exactly as
 * they were planted. */
static void check_shared_dir(struct env *e, bool tmp_is_link)
{
	assert_stat(e->snap, geteuid(), S_IFREG, 0600);
	assert_int_equal(as_attacker(e, read_snap_as_attacker), 0);
	assert_content(pub_file(e, "bait"), "bait");
	assert_stat(pub_file(e, "bait"), e->auid, S_IFREG, 0666);
	if (tmp_is_link) {
		assert_stat(e->tmp, e->auid, S_IFLNK, 0);
	} else {
		assert_stat(e->tmp, e->auid, S_IFREG, 0666);
		assert_content(e->tmp, "attacker");
		assert_stat(pub_file(e, "snap.tmp.000000000000"), e->auid, S_IFLNK, 0);
	}
}

/* In a sticky 1777 directory, the attacker's files planted while mgrd
 * runs: a save and the stop write only a fresh file of mgrd's; the next
 * start (which sweeps leftovers) and stop leave the attacker's alone. */
static void shared_dir_round(struct env *e, int (*plant)(struct env *e), bool tmp_is_link)
{
	struct harness h;
	make_pub(e, 01777);
	start(&h, e, NULL, NULL);
	assert_int_equal(as_attacker(e, plant), 0);
	secret_to(&h, "s3cret");
	mgr_value_free(save(&h, 0));
	check_shared_dir(e, tmp_is_link);
	harness_stop(&h); /* and the final save */
	check_shared_dir(e, tmp_is_link);
	start(&h, e, NULL, NULL); /* it is a good snapshot, and it loads */
	check_secret(&h, "s3cret");
	harness_stop(&h);
	check_shared_dir(e, tmp_is_link);
	harness_rmtree(e->pub);
}

static void test_shared_dir_tmp(void **state)
{
	struct env *e = *state;
	NEED_ATTACKER(e);
	shared_dir_round(e, plant_regular, false);
	shared_dir_round(e, plant_symlink, true);
}

/* mgrd run directly must exit 1 with this line about the snapshot. */
static void assert_refused(struct env *e, const char *extra, const char *fmt, ...)
{
	char why[400], line[600], buf[8192] = {0};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	assert_int_equal(run_mgrd(e, extra), 1);
	snprintf(line, sizeof(line), "snapshot %s: %s\n", e->snap, why);
	int fd = open(e->err, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	if (!strstr(buf, line))
		fail_msg("the log has no line ending in\n%s\n--- log:\n%s", line, buf);
}

#define HINT " (start with --ignore-bad-snapshot to set it aside and start empty)"

/* A good snapshot at e->snap (one counter, 5). */
static void good_snapshot(struct env *e)
{
	struct harness h;
	start(&h, e, NULL, NULL);
	counter_to(&h, 5);
	harness_stop(&h);
}

static void test_untrusted_file(void **state)
{
	struct env *e = *state;
	struct harness h;
	NEED_ATTACKER(e);
	good_snapshot(e);
	assert_stat(e->snap, 0, S_IFREG, 0600);
	assert_int_equal(chown(e->snap, e->auid, e->agid), 0);
	assert_refused(e, NULL, "is owned by uid %u, not by mgrd's uid 0" HINT, (unsigned)e->auid);
	assert_int_equal(chown(e->snap, 0, 0), 0);
	assert_int_equal(chmod(e->snap, 0620), 0);
	assert_refused(e, NULL, "is writable by group (mode 0620)" HINT);
	assert_int_equal(chmod(e->snap, 0602), 0);
	assert_refused(e, NULL, "is writable by others (mode 0602)" HINT);
	assert_int_equal(chmod(e->snap, 0644), 0); /* readable is not forgeable: it loads */
	start(&h, e, NULL, NULL);
	check_counter(&h, 5);
	harness_stop(&h);
	assert_stat(e->snap, 0, S_IFREG, 0600); /* and the next save is private */
	assert_int_equal(chmod(e->snap, 0666), 0);
	start(&h, e, "--ignore-bad-snapshot", NULL); /* set aside */
	assert_int_equal(harness_info(h.c, "objects"), 0);
	harness_stop(&h);
	char bad[120];
	snprintf(bad, sizeof(bad), "%s.bad", e->snap);
	assert_stat(bad, 0, S_IFREG, 0666);
	assert_stat(e->snap, 0, S_IFREG, 0600);
}

static void test_untrusted_dir(void **state)
{
	struct env *e = *state;
	struct harness h;
	NEED_ATTACKER(e);
	make_pub(e, 0777);
	const char *no_sticky = "its directory %s is writable by %s without the sticky bit (mode %04o)";
	assert_refused(e, NULL, no_sticky, e->pub, "group and others", 0777);
	assert_refused(e, "--ignore-bad-snapshot", no_sticky, e->pub, "group and others", 0777);
	assert_int_equal(chmod(e->pub, 0775), 0);
	assert_refused(e, NULL, no_sticky, e->pub, "group", 0775);
	assert_int_equal(chmod(e->pub, 0755), 0);
	assert_int_equal(chown(e->pub, e->auid, e->agid), 0);
	assert_refused(e, NULL, "its directory %s is owned by uid %u, not by mgrd's uid 0 or root",
		       e->pub, (unsigned)e->auid);
	assert_int_equal(chown(e->pub, 0, 0), 0);
	assert_int_equal(chmod(e->pub, 01777), 0); /* sticky: a file of ours will do */
	good_snapshot(e);
	start(&h, e, NULL, NULL);
	check_counter(&h, 5);
	harness_stop(&h);
	char link2[120];
	snprintf(link2, sizeof(link2), "%s/another-name", e->pub);
	assert_int_equal(link(e->snap, link2), 0);
	assert_refused(e, NULL, "has 2 hard links (its directory is shared)" HINT);
	assert_int_equal(unlink(link2), 0);
	assert_int_equal(chown(e->snap, e->auid, e->agid), 0);
	assert_refused(e, NULL, "is owned by uid %u, not by mgrd's uid 0 (its directory is shared)" HINT,
		       (unsigned)e->auid);
}

/* A user's own mgrd (not root) in a shared sticky directory trusts only
 * its own file there, not even root's (root may have been tricked into
 * leaving one there). */
static void test_shared_dir_not_root(void **state)
{
	struct env *e = *state;
	NEED_ATTACKER(e);
	make_pub(e, 01777);
	good_snapshot(e); /* root's, made by a root mgrd */
	assert_int_equal(chmod(e->snap, 0644), 0);
	char asock[100];
	snprintf(asock, sizeof(asock), "%s/asock", e->dir);
	assert_int_equal(mkdir(asock, 0700), 0);
	assert_int_equal(chown(asock, e->auid, e->agid), 0);
	e->run_as_attacker = true;
	assert_refused(e, NULL, "is owned by uid 0, not by mgrd's uid %u (its directory is shared)" HINT,
		       (unsigned)e->auid);
	e->run_as_attacker = false;
}

/* Something that is no regular file at the snapshot's path: refused at
 * once (run_mgrd waits WAIT_MS at most), not followed, not opened. */
static void test_special_files(void **state)
{
	struct env *e = *state;
	struct harness h;
	char good[120], bad[120], fifo[120];
	struct stat g0, g1;
	snprintf(good, sizeof(good), "%s/good", e->dir);
	snprintf(bad, sizeof(bad), "%s.bad", e->snap);
	snprintf(fifo, sizeof(fifo), "%s/fifo", e->dir);
	assert_int_equal(mkfifo(e->snap, 0600), 0); /* no writer: an open would wait forever */
	assert_refused(e, NULL, "is a FIFO, not a regular file" HINT);
	assert_int_equal(rename(e->snap, fifo), 0);
	good_snapshot(e);
	assert_int_equal(rename(e->snap, good), 0);
	assert_int_equal(stat(good, &g0), 0);
	assert_int_equal(symlink(good, e->snap), 0); /* to a good snapshot of ours */
	assert_refused(e, NULL, "is a symbolic link, not a regular file" HINT);
	assert_int_equal(unlink(e->snap), 0);
	assert_int_equal(mkdir(e->snap, 0700), 0);
	assert_refused(e, NULL, "is a directory, not a regular file" HINT);
	assert_int_equal(rmdir(e->snap), 0);
	if (geteuid() == 0) { /* /dev/null's numbers */
		assert_int_equal(mknod(e->snap, S_IFCHR | 0600, makedev(1, 3)), 0);
		assert_refused(e, NULL, "is a character device, not a regular file" HINT);
		assert_int_equal(unlink(e->snap), 0);
	}
	assert_int_equal(rename(fifo, e->snap), 0);
	start(&h, e, "--ignore-bad-snapshot", NULL);
	assert_int_equal(harness_info(h.c, "objects"), 0);
	harness_stop(&h);
	assert_stat(bad, geteuid(), S_IFIFO, 0600);
	assert_stat(e->snap, geteuid(), S_IFREG, 0600);
	assert_int_equal(stat(good, &g1), 0); /* the symlink's target: untouched */
	assert_int_equal(g1.st_ino, g0.st_ino);
	assert_int_equal(g1.st_size, g0.st_size);
	assert_int_equal(g1.st_mtim.tv_nsec, g0.st_mtim.tv_nsec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_keeps_named_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_on_demand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_during_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_tmp_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_dir_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_dir_not_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
