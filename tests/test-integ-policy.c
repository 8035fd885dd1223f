/* Permissions (mgrd/policy.c, docs/security.md "Permissions") through the
 * real daemon: a second real uid (mgrtest1, made with useradd if missing;
 * these tests need root and skip otherwise) connects through the socket in
 * a forked child and is refused root's objects under the default mode,
 * the administrative calls, and what a mode does not grant, each with its
 * exact code and message; a mode or --admin-uid grants them. Deleting a
 * lock another session holds is refused unless forced, and a forced
 * delete is reported to the holder and the waiter (same uid: runs as any
 * user). Every wait is bounded. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/clock.h"
#include <mgr/sync.h>

#include "ctl-run.h"
#include "harness.h"

#define WAIT_MS 10000
#define OTHER HARNESS_USER

static uid_t other_uid;
static gid_t other_gid;

/* The second uid (harness_second_user). False: skip. */
static bool other_user(void) { return harness_second_user(&other_uid, &other_gid); }

#define NEED_OTHER()                                                                         \
	do {                                                                                 \
		if (!other_user()) {                                                         \
			fprintf(stderr, "skipped: needs root and a second uid (" OTHER "): " \
					"run as root (useradd)\n");                          \
			skip();                                                              \
		}                                                                            \
	} while (0)

/* mgrd (as root) admitting OTHER, its socket reachable by it. */
static void start_shared(struct harness *h, const char *const *more)
{
	const char *args[8] = {"--allow-uid", OTHER};
	for (size_t i = 0; more && more[i] && i < 5; i++)
		args[2 + i] = more[i];
	harness_start(h, args);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", h->path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(h->path, 0666), 0);
}

/* ---- what the other uid does, in a child ---- */

struct out {
	int code;
	int64_t n;
	char msg[512];
};

typedef void (*other_fn)(mgr_client *c, const void *arg, struct out *o);

static void out_set(struct out *o, mgr_client *c, int code)
{
	o->code = code;
	snprintf(o->msg, sizeof(o->msg), "%s", code ? mgr_client_errmsg(c) : "");
}

/* The supplementary groups the child takes with OTHER's uid (none unless a
 * test sets them). */
static gid_t other_groups[1];
static size_t n_other_groups;

/* Runs fn as OTHER on its own connection; its result in *o (code -1: the
 * child could not become OTHER or connect, -2: no answer in time). */
static void as_other(const char *path, other_fn fn, const void *arg, struct out *o)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct out r = {.code = -1};
		mgr_client *c = NULL;
		if (!setgroups(n_other_groups, other_groups) && !setgid(other_gid) &&
		    !setuid(other_uid) &&
		    !mgr_client_connect(path, &c)) {
			mgr_client_set_timeout(c, WAIT_MS);
			fn(c, arg, &r);
		} else
			snprintf(r.msg, sizeof(r.msg), "as %s: %s", OTHER, mgr_client_errmsg(NULL));
		mgr_client_close(c);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	*o = (struct out){.code = -2};
	struct pollfd pfd = {p[0], POLLIN, 0};
	if (poll(&pfd, 1, WAIT_MS) == 1 && read(p[0], o, sizeof(*o)) != sizeof(*o))
		o->code = -2;
	close(p[0]);
	int st;
	if (!harness_reap_within(pid, WAIT_MS, &st))
		kill(pid, SIGKILL), waitpid(pid, &st, 0);
}

static void other_lookup(mgr_client *c, const void *name, struct out *o)
{
	mgr_object *obj = NULL;
	out_set(o, c, mgr_object_lookup(c, name, &obj));
	mgr_object_release(obj);
}

static void other_open(mgr_client *c, const void *name, struct out *o)
{
	mgr_object *obj = NULL;
	out_set(o, c, mgr_object_open(c, "dict", name, &obj));
	mgr_object_release(obj);
}

static void other_delete(mgr_client *c, const void *name, struct out *o)
{
	mgr_value *t = mgr_value_new_string(name);
	out_set(o, c, mgr_call(mgr_client_manager(c), "delete", &t, 1, NULL));
	mgr_value_free(t);
}

/* manager.<method>() with no arguments; n: the length of a list result. */
static void other_manager(mgr_client *c, const void *method, struct out *o)
{
	mgr_value *r = NULL;
	out_set(o, c, mgr_call(mgr_client_manager(c), method, NULL, 0, &r));
	o->n = (int64_t)mgr_value_len(r);
	mgr_value_free(r);
}

/* adopt(id): a guessed id, no reference handed. */
static void other_adopt(mgr_client *c, const void *id, struct out *o)
{
	mgr_value *v = mgr_value_new_int(*(const int64_t *)id);
	out_set(o, c, mgr_call(mgr_client_manager(c), "adopt", &v, 1, NULL));
	mgr_value_free(v);
}

/* The ref under "lock" in the dict "board": adopted (a reply handed it),
 * then acquire(blocking=false) on it. */
static void other_ref_call(mgr_client *c, const void *arg, struct out *o)
{
	(void)arg;
	mgr_object *board = NULL, *lock = NULL;
	mgr_value *k = mgr_value_new_string("lock"), *ref = NULL;
	int err = mgr_object_lookup(c, "board", &board);
	if (!err)
		err = mgr_call(board, "get", &k, 1, &ref);
	if (!err)
		err = mgr_object_from_ref(c, ref, &lock);
	if (!err) {
		bool got;
		err = mgr_lock_acquire(lock, false, 0, &got, NULL);
	}
	out_set(o, c, err);
	mgr_value_free(k);
	mgr_value_free(ref);
	mgr_object_release(lock);
	mgr_object_release(board);
}

/* In dict name: set "k" = 2, then get "k" into n; delete it if asked. */
struct dict_op {
	const char *name;
	const char *method; /* "get", "set" or "delete" */
};

static void other_dict(mgr_client *c, const void *arg, struct out *o)
{
	const struct dict_op *op = arg;
	mgr_object *d = NULL;
	mgr_value *v = NULL;
	int err = mgr_object_lookup(c, op->name, &d);
	if (!err && !strcmp(op->method, "set"))
		err = mgr_dict_set(d, mgr_value_new_string("k"), mgr_value_new_int(2));
	else if (!err && !strcmp(op->method, "get"))
		err = mgr_callv(d, "get", &v, mgr_value_new_string("k"), NULL);
	else if (!err)
		err = mgr_object_delete(d);
	out_set(o, c, err);
	o->n = v ? mgr_value_int(v) : -1;
	mgr_value_free(v);
	mgr_object_release(d);
}

/* ---- root's side ---- */

/* manager.create(type, {name, mode}): mode given as an int or a string. */
static mgr_object *create_mode(mgr_client *c, const char *type, const char *name,
			       mgr_value *mode)
{
	mgr_value *opts = mgr_value_new_map();
	assert_int_equal(mgr_value_map_set(opts, mgr_value_new_string("name"),
					   name ? mgr_value_new_string(name) : mgr_value_new_nil()),
			 0);
	if (mode)
		assert_int_equal(mgr_value_map_set(opts, mgr_value_new_string("mode"), mode), 0);
	mgr_value *args[] = {mgr_value_new_string(type), opts}, *ref = NULL;
	int err = mgr_call(mgr_client_manager(c), "create", args, 2, &ref);
	if (err)
		fail_msg("create %s: %s", name, mgr_client_errmsg(c));
	mgr_object *o;
	assert_int_equal(mgr_object_from_ref(c, ref, &o), 0);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	mgr_value_free(ref);
	return o;
}

/* The objects() row of id (caller frees with json... no: a copy). */
static mgr_value *row_of(mgr_client *c, uint64_t id)
{
	mgr_value *all = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(c), "objects", NULL, 0, &all), 0);
	mgr_value *row = NULL;
	for (size_t i = 0; !row && i < mgr_value_len(all); i++) {
		const mgr_value *r = mgr_value_list_get(all, i);
		mgr_value *k = mgr_value_new_string("id");
		if (mgr_value_int(mgr_value_map_get(r, k)) == (int64_t)id)
			row = mgr_value_copy(r);
		mgr_value_free(k);
	}
	mgr_value_free(all);
	assert_non_null(row);
	return row;
}

static const char *row_str(const mgr_value *row, const char *key)
{
	mgr_value *k = mgr_value_new_string(key);
	const char *s = mgr_value_string(mgr_value_map_get(row, k), NULL);
	mgr_value_free(k);
	return s ? s : "";
}

#define ASSERT_OUT(o, want_code, want_msg)                                                   \
	do {                                                                                 \
		if ((o).code != (want_code) || strcmp((o).msg, (want_msg)))                  \
			fail_msg("got %d '%s'\n  want %d '%s'", (o).code, (o).msg, want_code, \
				 want_msg);                                                  \
	} while (0)

/* The refusal message for OTHER doing op on a root-owned object. */
static const char *refusal(char *buf, size_t size, const char *op, const char *what,
			   uint64_t id, const char *name, char need, const char *mode,
			   const char *gives)
{
	snprintf(buf, size,
		 "uid %u may not %s %s #%llu%s%s%s: it needs %c, and mode %s (owner uid 0, gid 0) "
		 "gives others %s",
		 (unsigned)other_uid, op, what, (unsigned long long)id, name ? " '" : "",
		 name ? name : "", name ? "'" : "", need, mode, gives);
	return buf;
}

/* Root's default-mode objects are out of OTHER's reach (open, lookup,
 * delete, a guessed id, a ref handed in a reply), and so are shutdown,
 * save and monitor; the listing shows it only what it may read. */
static void test_private_by_default(void **state)
{
	(void)state;
	NEED_OTHER();
	struct harness h;
	start_shared(&h, NULL);
	mgr_object *secret, *lock, *board;
	assert_int_equal(mgr_dict_open(h.c, "secret", &secret), 0);
	assert_int_equal(mgr_dict_set(secret, mgr_value_new_string("k"), mgr_value_new_int(1)), 0);
	assert_int_equal(mgr_object_create(h.c, "lock", NULL, NULL, 0, &lock), 0);
	board = create_mode(h.c, "dict", "board", mgr_value_new_string("rwdr--r--"));
	assert_int_equal(mgr_dict_set(board, mgr_value_new_string("lock"), mgr_object_ref(lock)), 0);
	uint64_t sid = mgr_object_id(secret), lid = mgr_object_id(lock), bid = mgr_object_id(board);
	char want[512];
	struct out o;

	as_other(h.path, other_lookup, "secret", &o);
	ASSERT_OUT(o, MGR_EPERM, refusal(want, sizeof(want), "lookup", "dict", sid, "secret", 'r',
					 "rwd------", "---"));
	as_other(h.path, other_open, "secret", &o);
	ASSERT_OUT(o, MGR_EPERM, refusal(want, sizeof(want), "open", "dict", sid, "secret", 'r',
					 "rwd------", "---"));
	as_other(h.path, other_delete, "secret", &o);
	ASSERT_OUT(o, MGR_EPERM, refusal(want, sizeof(want), "delete", "dict", sid, "secret", 'd',
					 "rwd------", "---"));
	int64_t guess = (int64_t)lid;
	as_other(h.path, other_adopt, &guess, &o);
	ASSERT_OUT(o, MGR_EPERM, refusal(want, sizeof(want), "adopt", "lock", lid, NULL, 'r',
					 "rwd------", "---"));
	/* board is readable, its ref is handed over, the lock stays closed */
	as_other(h.path, other_ref_call, NULL, &o);
	ASSERT_OUT(o, MGR_EPERM, refusal(want, sizeof(want), "call acquire on", "lock", lid, NULL,
					 'w', "rwd------", "---"));
	as_other(h.path, other_dict, &(struct dict_op){"board", "set"}, &o);
	ASSERT_OUT(o, MGR_EPERM, refusal(want, sizeof(want), "call set on", "dict", bid, "board",
					 'w', "rwdr--r--", "r--"));
	as_other(h.path, other_dict, &(struct dict_op){"board", "delete"}, &o);
	assert_int_equal(o.code, MGR_EPERM);
	as_other(h.path, other_manager, "objects", &o);
	assert_int_equal(o.code, 0);
	assert_int_equal(o.n, 1); /* board only */

	static const char *const admin[] = {"shutdown", "save", "monitor"};
	for (size_t i = 0; i < 3; i++) {
		as_other(h.path, other_manager, admin[i], &o);
		snprintf(want, sizeof(want),
			 "uid %u may not call manager.%s: administrative calls are for root, "
			 "mgrd's own uid (0) and --admin-uid / --admin-gid",
			 (unsigned)other_uid, admin[i]);
		ASSERT_OUT(o, MGR_EPERM, want);
	}
	assert_int_equal(harness_info(h.c, "objects"), 3); /* nothing went */

	/* owner and mode in the rows and in mgrctl ls */
	mgr_value *row = row_of(h.c, sid);
	assert_string_equal(row_str(row, "mode"), "rwd------");
	assert_int_equal(harness_map_int(row, "owner_uid"), 0);
	mgr_value_free(row);
	row = row_of(h.c, bid);
	assert_string_equal(row_str(row, "mode"), "rwdr--r--");
	mgr_value_free(row);
	struct run r;
	assert_int_equal(ctl_run(&r, "-s", h.path, "ls", NULL), 0);
	assert_non_null(strstr(r.out, "MODE"));
	assert_non_null(strstr(r.out, "rwdr--r--"));
	assert_non_null(strstr(r.out, "rwd------"));
	run_free(&r);

	mgr_object_release(board);
	mgr_object_release(lock);
	mgr_object_release(secret);
	harness_stop(&h);
}

/* A mode given at creation (octal int or string) or --default-mode grants
 * OTHER what it says, and only that. */
static void test_granted_by_mode(void **state)
{
	(void)state;
	NEED_OTHER();
	struct harness h;
	const char *more[] = {"--default-mode", "rwd---r--", NULL};
	start_shared(&h, more);
	mgr_object *open = create_mode(h.c, "dict", "open", mgr_value_new_int(0777));
	mgr_object *dflt;
	assert_int_equal(mgr_dict_open(h.c, "dflt", &dflt), 0);
	assert_int_equal(mgr_dict_set(dflt, mgr_value_new_string("k"), mgr_value_new_int(5)), 0);
	struct out o;
	as_other(h.path, other_dict, &(struct dict_op){"open", "set"}, &o);
	ASSERT_OUT(o, 0, "");
	as_other(h.path, other_dict, &(struct dict_op){"open", "get"}, &o);
	ASSERT_OUT(o, 0, "");
	assert_int_equal(o.n, 2);
	as_other(h.path, other_dict, &(struct dict_op){"dflt", "get"}, &o); /* r by default */
	ASSERT_OUT(o, 0, "");
	assert_int_equal(o.n, 5);
	as_other(h.path, other_dict, &(struct dict_op){"dflt", "set"}, &o);
	assert_int_equal(o.code, MGR_EPERM);
	as_other(h.path, other_dict, &(struct dict_op){"open", "delete"}, &o);
	ASSERT_OUT(o, 0, "");
	assert_int_equal(harness_info(h.c, "objects"), 1);
	/* a bad mode is refused, with what a mode looks like */
	mgr_value *opts = mgr_value_new_map(), *ref = NULL;
	mgr_value_map_set(opts, mgr_value_new_string("mode"), mgr_value_new_string("rwx------"));
	mgr_value *args[] = {mgr_value_new_string("dict"), opts};
	assert_int_equal(mgr_call(mgr_client_manager(h.c), "create", args, 2, &ref), MGR_EARGS);
	assert_string_equal(mgr_client_errmsg(h.c),
			    "mode is 0 to 0777 (octal) or like \"rwdr-d---\"");
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	mgr_object_release(open);
	mgr_object_release(dflt);
	harness_stop(&h);
}

/* The group class counts supplementary groups (read at admission): OTHER
 * with root's group 0 as a supplementary group may read a rwdr----- object
 * of root's (owner gid 0), and nothing more; without it, nothing. */
static void test_group_by_supplementary(void **state)
{
	(void)state;
	NEED_OTHER();
	struct harness h;
	start_shared(&h, NULL);
	mgr_object *grp = create_mode(h.c, "dict", "grp", mgr_value_new_string("rwdr-----"));
	assert_int_equal(mgr_dict_set(grp, mgr_value_new_string("k"), mgr_value_new_int(7)), 0);
	struct out o;
	as_other(h.path, other_dict, &(struct dict_op){"grp", "get"}, &o);
	assert_int_equal(o.code, MGR_EPERM);
	other_groups[0] = 0;
	n_other_groups = 1;
	as_other(h.path, other_dict, &(struct dict_op){"grp", "get"}, &o);
	ASSERT_OUT(o, 0, "");
	assert_int_equal(o.n, 7);
	as_other(h.path, other_dict, &(struct dict_op){"grp", "set"}, &o);
	assert_int_equal(o.code, MGR_EPERM);
	n_other_groups = 0;
	mgr_object_release(grp);
	harness_stop(&h);
}

/* --admin-uid OTHER: it may save and shut the manager down, still not
 * read root's private objects. */
static void test_admin_uid(void **state)
{
	(void)state;
	NEED_OTHER();
	struct harness h;
	const char *more[] = {"--admin-uid", OTHER, NULL};
	start_shared(&h, more);
	mgr_object *secret;
	assert_int_equal(mgr_dict_open(h.c, "secret", &secret), 0);
	struct out o;
	as_other(h.path, other_lookup, "secret", &o);
	assert_int_equal(o.code, MGR_EPERM);
	as_other(h.path, other_manager, "save", &o);
	assert_true(o.code != MGR_EPERM); /* no --snapshot: refused for that reason */
	as_other(h.path, other_manager, "shutdown", &o);
	ASSERT_OUT(o, 0, "");
	assert_true(harness_exited_within(mgr_manager_pid(h.m), WAIT_MS, NULL));
	mgr_object_release(secret);
	mgr_client_close(h.c);
	assert_int_equal(mgr_manager_shutdown(h.m), 0);
}

/* ---- deleting what another session holds (same uid) ---- */

static int64_t lock_waiting(mgr_object *l)
{
	mgr_value *v = NULL;
	assert_int_equal(mgr_call(l, "waiting", NULL, 0, &v), 0);
	int64_t n = mgr_value_int(v);
	mgr_value_free(v);
	return n;
}

/* A holds "held", B waits on it: C's delete is refused naming A; forced,
 * B's wait ends naming the deletion, and so does A's next call. */
static void test_delete_held(void **state)
{
	struct harness *h = *state;
	mgr_client *b, *c;
	assert_int_equal(mgr_client_connect(h->path, &b), 0);
	assert_int_equal(mgr_client_connect(h->path, &c), 0);
	mgr_client_set_timeout(b, WAIT_MS);
	mgr_object *la, *lb;
	assert_int_equal(mgr_lock_open(h->c, "held", true, &la), 0);
	assert_int_equal(mgr_lock_open(b, "held", true, &lb), 0);
	bool got = false;
	assert_int_equal(mgr_lock_acquire(la, true, 0, &got, NULL), 0);
	assert_true(got);
	mgr_value *yes = mgr_value_new_bool(true);
	mgr_future *f;
	assert_int_equal(mgr_call_async(lb, "acquire", &yes, 1, &f), 0);
	assert_int_equal(mgr_client_flush(b), 0);
	int64_t deadline = clock_now_ms() + WAIT_MS;
	while (lock_waiting(la) != 1 && clock_now_ms() < deadline)
		;
	assert_int_equal(lock_waiting(la), 1);

	uint64_t id = mgr_object_id(la);
	char want[512];
	mgr_value *args[] = {mgr_value_new_string("held"), mgr_value_new_bool(true)};
	assert_int_equal(mgr_call(mgr_client_manager(c), "delete", args, 1, NULL), MGR_ESTATE);
	snprintf(want, sizeof(want),
		 "lock #%llu 'held' is held by session %llu (pid %d): delete(target, "
		 "force=true) ends it anyway",
		 (unsigned long long)id, (unsigned long long)mgr_client_session(h->c),
		 (int)getpid());
	assert_string_equal(mgr_client_errmsg(c), want);
	struct run r; /* mgrctl rm says the same and fails */
	assert_int_equal(ctl_run(&r, "-s", h->path, "rm", "held", NULL), 1);
	assert_non_null(strstr(r.err, "is held by session"));
	run_free(&r);

	assert_int_equal(mgr_call(mgr_client_manager(c), "delete", args, 2, NULL), 0);
	snprintf(want, sizeof(want),
		 "lock #%llu 'held' was deleted (forced) by session %llu (pid %d) while this "
		 "call waited",
		 (unsigned long long)id, (unsigned long long)mgr_client_session(c), (int)getpid());
	assert_int_equal(mgr_future_wait(f, NULL), MGR_ENOOBJ);
	assert_string_equal(mgr_client_errmsg(b), want);
	assert_int_equal(mgr_lock_release(la), MGR_ENOOBJ);
	snprintf(want, sizeof(want),
		 "no object #%llu: lock 'held' was deleted (forced) by session %llu (pid %d)",
		 (unsigned long long)id, (unsigned long long)mgr_client_session(c), (int)getpid());
	assert_string_equal(mgr_client_errmsg(h->c), want);

	/* a lock held by nobody else goes without force, as before */
	mgr_object *mine;
	assert_int_equal(mgr_lock_open(h->c, "mine", true, &mine), 0);
	assert_int_equal(mgr_lock_acquire(mine, true, 0, &got, NULL), 0);
	assert_int_equal(mgr_object_delete(mine), 0);
	/* mgrctl rm --force */
	mgr_object *again;
	assert_int_equal(mgr_lock_open(b, "again", true, &again), 0);
	assert_int_equal(mgr_lock_acquire(again, true, 0, &got, NULL), 0);
	assert_int_equal(ctl_run(&r, "-s", h->path, "rm", "again", "--force", NULL), 0);
	run_free(&r);
	assert_int_equal(mgr_lock_release(again), MGR_ENOOBJ);

	mgr_value_free(yes);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	mgr_object_release(again);
	mgr_object_release(mine);
	mgr_object_release(la);
	mgr_object_release(lb);
	mgr_client_close(b);
	mgr_client_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_by_default),
		cmocka_unit_test(test_granted_by_mode),
		cmocka_unit_test(test_group_by_supplementary),
		cmocka_unit_test(test_admin_uid),
		cmocka_unit_test(test_delete_held),
	};
	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
