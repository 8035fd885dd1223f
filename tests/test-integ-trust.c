/* Trust both ways, with real second uids (issue 13 items 1 and 6; needs
 * root, skipped otherwise): a client refuses, before it sends a byte, a
 * socket in a directory that another user owns or can write, a socket of
 * another user in a sticky shared directory, and a manager that runs as
 * another uid unless told to accept it ($MGR_SERVER_UID, the connect
 * option); mgrd refuses such a directory too. And the way in: a socket
 * made for a group (--socket-mode/--socket-group) admits a peer by a
 * supplementary group (--allow-gid), and a peer that is not admitted is
 * told why. Fake managers are small processes of another uid that count
 * the connections and bytes they get. */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/clock.h"
#include "ctl-run.h"
#include "harness.h"

#define WAIT_MS 10000
#define NOBODY 65534
#define TEST_USER HARNESS_USER
#define GROUP_SOCK 64123 /* the socket's group in the item 6 tests */
#define GROUP_ADMIT 64124 /* the group --allow-gid admits */

static bool ready; /* root, and TEST_USER exists */
static uid_t test_uid;
static gid_t test_gid;

struct env {
	char dir[64]; /* a fresh directory, searchable by all (0711) */
};

/* ---- set-up: the second user, one run at a time ---- */

/* TEST_USER, made if missing (CI runs as root on a fresh machine). Runs
 * of this test from several builds share /tmp/mgr-<uid>: a lock file
 * takes them one at a time. */
static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("integ-trust: not root: the tests that need a second uid are skipped\n");
		return 0;
	}
	if (!harness_second_user(&test_uid, &test_gid)) {
		print_message("integ-trust: cannot create user %s: skipped\n", TEST_USER);
		return 0;
	}
	int fd = open("/tmp/mgr-integ-trust.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) /* held until we exit */
		return -1;
	ready = true;
	return 0;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	harness_tmpdir(e->dir, sizeof(e->dir), "mgr-trust");
	assert_int_equal(chmod(e->dir, 0711), 0);
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

static void become(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	if (setgroups((size_t)ngroups, groups) || setgid(gid) || setuid(uid))
		_exit(99);
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- a fake manager ---- */

struct fake {
	pid_t pid;
	int ctl;    /* closing it stops the fake */
	int result; /* then it writes its counts here */
};

struct fake_counts {
	uint64_t conns, bytes;
};

struct fake_opts {
	const char *dir; /* made by the fake's uid with dir_mode (NULL: exists) */
	mode_t dir_mode;
	const char *path;
	uid_t uid;       /* the fake runs (listens) as this uid */
	bool bind_as_root; /* bind as root, then become uid and listen */
};

/* The fake's loop: accept, count what arrives, close a connection at its
 * first bytes (no answer ever), until ctl closes. */
static void fake_serve(int lfd, int ctl, int result)
{
	struct fake_counts n = {0};
	int conn = -1;
	for (;;) {
		struct pollfd p[3] = {{ctl, POLLIN, 0}, {lfd, POLLIN, 0}, {conn, POLLIN, 0}};
		if (poll(p, conn >= 0 ? 3 : 2, WAIT_MS * 3) <= 0)
			break;
		if (p[0].revents && !p[1].revents && !(conn >= 0 && p[2].revents))
			break; /* stopped, and nothing left to count */
		if (p[1].revents & POLLIN) {
			if (conn >= 0)
				close(conn);
			conn = accept(lfd, NULL, NULL);
			n.conns += conn >= 0;
		}
		if (conn >= 0 && p[2].revents) {
			char buf[4096];
			ssize_t r = recv(conn, buf, sizeof(buf), 0);
			n.bytes += r > 0 ? (uint64_t)r : 0;
			close(conn);
			conn = -1;
		}
	}
	(void)!write(result, &n, sizeof(n));
	_exit(0);
}

static struct fake fake_start(const struct fake_opts *o)
{
	int rdy[2], ctl[2], res[2];
	assert_int_equal(pipe2(rdy, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ctl, O_CLOEXEC), 0);
	assert_int_equal(pipe2(res, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(rdy[0]);
		close(ctl[1]);
		close(res[0]);
		if (!o->bind_as_root)
			become(o->uid, NOBODY, 0, NULL);
		if (o->dir && (mkdir(o->dir, 0700) || chmod(o->dir, o->dir_mode)))
			_exit(90);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o->path);
		int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(o->path, 0666))
			_exit(91);
		if (o->bind_as_root)
			become(o->uid, NOBODY, 0, NULL);
		if (listen(lfd, 8) || write(rdy[1], "R", 1) != 1) /* credentials taken here */
			_exit(92);
		fake_serve(lfd, ctl[0], res[1]);
	}
	close(rdy[1]);
	close(ctl[0]);
	close(res[1]);
	struct pollfd p = {rdy[0], POLLIN, 0};
	char c = 0;
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	if (read(rdy[0], &c, 1) != 1)
		fail_msg("the fake manager did not start");
	close(rdy[0]);
	return (struct fake){pid, ctl[1], res[0]};
}

static struct fake_counts fake_stop(struct fake *f)
{
	struct fake_counts n = {0};
	close(f->ctl);
	struct pollfd p = {f->result, POLLIN, 0};
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_int_equal(read(f->result, &n, sizeof(n)), (ssize_t)sizeof(n));
	close(f->result);
	int st;
	assert_true(harness_reap_within(f->pid, WAIT_MS, &st));
	return n;
}

/* ---- a client as another user ---- */

struct as_client {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[4];
	const char *path; /* NULL: the default path */
};

/* In a child as a->uid: connect and ping; the child writes
 * "OK" or "ERRNAME: message" into out. */
static void client_as(const struct as_client *a, char *out, size_t size)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		become(a->uid, a->gid, a->ngroups, a->groups);
		unsetenv("XDG_RUNTIME_DIR");
		unsetenv("MGR_SOCKET");
		unsetenv("MGR_SERVER_UID");
		mgr_client *c;
		int err = mgr_client_connect(a->path, &c);
		mgr_value *r = NULL;
		if (!err)
			err = mgr_call(mgr_client_manager(c), "ping", NULL, 0, &r);
		dprintf(p[1], "%s%s%s", err ? mgr_errname(err) : "OK", err ? ": " : "",
			err ? mgr_client_errmsg(NULL) : "");
		_exit(0);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while (len < size - 1 && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	int st;
	assert_true(harness_reap_within(pid, WAIT_MS, &st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Connecting as root (ourselves) to path: the code, the message in msg. */
static int connect_here(const char *path, const char *server_user, char *msg, size_t size)
{
	mgr_client *c = NULL;
	int err = mgr_client_connect_opts(&(mgr_client_opts){.address = path, .server_user = server_user}, &c);
	snprintf(msg, size, "%s", err ? mgr_client_errmsg(NULL) : "");
	mgr_client_close(c);
	return err;
}

/* ---- item 1: the client trusts only the real manager ---- */

/* Another user takes TEST_USER's default directory (/tmp/mgr-<uid>, mode
 * 0777) and listens there: TEST_USER's client refuses it before sending a
 * byte — before connecting at all — and TEST_USER's mgrd refuses to start
 * there, leaving the directory as it found it. */
static void test_default_dir_taken(void **state)
{
	(void)state;
	if (!ready)
		skip();
	char dir[64], path[100], want[300];
	snprintf(dir, sizeof(dir), "/tmp/mgr-%u", (unsigned)test_uid);
	snprintf(path, sizeof(path), "%s/mgrd.sock", dir);
	harness_rmtree(dir); /* a previous run's */
	struct fake f = fake_start(&(struct fake_opts){dir, 0777, path, NOBODY, false});

	char got[512];
	client_as(&(struct as_client){test_uid, test_gid, 0, {0}, NULL}, got, sizeof(got));
	snprintf(want, sizeof(want), "EPERM: refusing %s: owned by uid %u, not uid %u or root", dir,
		 NOBODY, (unsigned)test_uid);
	assert_string_equal(got, want);

	/* mgrd as TEST_USER, on the default path: exit 1, saying why */
	char log[100];
	snprintf(log, sizeof(log), "%s.log", dir);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(98);
		become(test_uid, test_gid, 0, NULL);
		unsetenv("XDG_RUNTIME_DIR");
		execl(getenv("MGR_MGRD"), "mgrd", (char *)NULL);
		_exit(127);
	}
	int st;
	assert_true(harness_reap_within(pid, WAIT_MS, &st));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	char *text = slurp(log);
	unlink(log);
	strcat(want, "; not using it for the socket");
	if (!strstr(text, want + strlen("EPERM: ")))
		fail_msg("mgrd said: %s", text);
	struct stat sb;
	assert_int_equal(lstat(dir, &sb), 0); /* never chmod'ed nor chown'ed */
	assert_int_equal(sb.st_mode & 07777, 0777);
	assert_int_equal(sb.st_uid, NOBODY);

	struct fake_counts n = fake_stop(&f);
	assert_int_equal(n.conns, 0);
	assert_int_equal(n.bytes, 0);
	harness_rmtree(dir);
}

/* Root's client and an explicit path: a directory of root's that others
 * can write (not sticky) is refused; so is one that another user owns. */
static void test_dir_writable_or_foreign(void **state)
{
	struct env *e = *state;
	if (!ready)
		skip();
	char open_dir[100], sock[120], msg[300], want[300];
	snprintf(open_dir, sizeof(open_dir), "%s/open", e->dir);
	snprintf(sock, sizeof(sock), "%s/s", open_dir);
	assert_int_equal(mkdir(open_dir, 0700), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	struct fake f = fake_start(&(struct fake_opts){NULL, 0, sock, NOBODY, false});
	assert_int_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EPERM);
	snprintf(want, sizeof(want), "refusing %s: writable by others (mode 0777)", open_dir);
	assert_string_equal(msg, want);
	assert_int_equal(chmod(open_dir, 0775), 0);
	assert_int_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EPERM);
	snprintf(want, sizeof(want), "refusing %s: writable by its group (mode 0775)", open_dir);
	assert_string_equal(msg, want);
	struct fake_counts n = fake_stop(&f);
	assert_int_equal(n.conns + n.bytes, 0);

	char theirs[100];
	snprintf(theirs, sizeof(theirs), "%s/theirs", e->dir);
	snprintf(sock, sizeof(sock), "%s/s", theirs);
	assert_int_equal(mkdir(theirs, 0755), 0);
	assert_int_equal(chown(theirs, NOBODY, NOBODY), 0);
	f = fake_start(&(struct fake_opts){NULL, 0, sock, NOBODY, false});
	assert_int_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EPERM);
	snprintf(want, sizeof(want), "refusing %s: owned by uid %u, not root", theirs, NOBODY);
	assert_string_equal(msg, want);
	/* mgrctl prints it and fails */
	struct run r;
	setenv("MGR_SOCKET", sock, 1);
	int rc = ctl_run(&r, "info", NULL);
	unsetenv("MGR_SOCKET");
	assert_int_not_equal(rc, 0);
	char line[400];
	snprintf(line, sizeof(line), "mgrctl: %s\n", want);
	assert_string_equal(r.err, line);
	assert_string_equal(r.out, "");
	run_free(&r);
	n = fake_stop(&f);
	assert_int_equal(n.conns + n.bytes, 0);
}

/* A sticky shared directory (as /tmp): the socket's own owner decides —
 * another user's socket is refused unless that uid is accepted. */
static void test_sticky_dir(void **state)
{
	struct env *e = *state;
	if (!ready)
		skip();
	char shared[100], sock[120], msg[300], want[300];
	snprintf(shared, sizeof(shared), "%s/shared", e->dir);
	snprintf(sock, sizeof(sock), "%s/s", shared);
	assert_int_equal(mkdir(shared, 0700), 0);
	assert_int_equal(chmod(shared, 01777), 0);
	struct fake f = fake_start(&(struct fake_opts){NULL, 0, sock, NOBODY, false});
	assert_int_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EPERM);
	snprintf(want, sizeof(want), "refusing %s: owned by uid %u, not root", sock, NOBODY);
	assert_string_equal(msg, want);
	struct fake_counts n = fake_stop(&f);
	assert_int_equal(n.conns + n.bytes, 0);

	/* told to accept that uid: it is trusted (and the fake hears Hello) */
	unlink(sock);
	f = fake_start(&(struct fake_opts){NULL, 0, sock, NOBODY, false});
	assert_int_not_equal(connect_here(sock, "65534", msg, sizeof(msg)), MGR_EPERM);
	n = fake_stop(&f);
	assert_int_equal(n.conns, 1);
	assert_true(n.bytes > 0);
}

/* A trusted directory, but the process listening runs as another uid
 * (SO_PEERCRED): refused after connect(), before a byte is sent, unless
 * MGR_SERVER_UID (or the connect option) names it. */
static void test_peer_uid(void **state)
{
	struct env *e = *state;
	if (!ready)
		skip();
	char dir[100], sock[120], msg[300], want[300];
	snprintf(dir, sizeof(dir), "%s/run", e->dir);
	snprintf(sock, sizeof(sock), "%s/s", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	struct fake f = fake_start(&(struct fake_opts){NULL, 0, sock, NOBODY, true});
	assert_int_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EPERM);
	snprintf(want, sizeof(want),
		 "refusing the manager at %s: it runs as uid %u (set MGR_SERVER_UID to accept it)",
		 sock, NOBODY);
	assert_string_equal(msg, want);
	/* another uid named is not this one */
	setenv("MGR_SERVER_UID", "12345", 1);
	assert_int_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EPERM);
	struct fake_counts n = fake_stop(&f);
	assert_int_equal(n.bytes, 0);
	assert_int_equal(n.conns, 2); /* connected, then refused: nothing sent */

	setenv("MGR_SERVER_UID", "nobody", 1); /* a name works too */
	unlink(sock);
	f = fake_start(&(struct fake_opts){NULL, 0, sock, NOBODY, true});
	assert_int_not_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EPERM);
	unsetenv("MGR_SERVER_UID");
	n = fake_stop(&f);
	assert_true(n.bytes > 0);
	setenv("MGR_SERVER_UID", "no-such-user-here", 1);
	assert_int_equal(connect_here(sock, NULL, msg, sizeof(msg)), MGR_EINVAL);
	unsetenv("MGR_SERVER_UID");
}

/* ---- item 6: a socket for a group, admission by supplementary group ---- */

struct daemon {
	pid_t pid;
	char log[120];
};

static struct daemon mgrd_start(const struct env *e, const char *sock, const char *const *extra)
{
	struct daemon d = {0};
	snprintf(d.log, sizeof(d.log), "%s/mgrd.log", e->dir);
	char ppid[16];
	snprintf(ppid, sizeof(ppid), "%d", (int)getpid());
	const char *argv[24] = {getenv("MGR_MGRD"), "--socket", sock, "--ready-fd", "5",
				"--parent-pid", ppid};
	size_t n = 7;
	for (size_t i = 0; extra[i]; i++)
		argv[n++] = extra[i];
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	d.pid = fork();
	assert_true(d.pid >= 0);
	if (d.pid == 0) {
		int fd = open(d.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0 || dup2(p[1], 5) < 0 || fcntl(5, F_SETFD, 0))
			_exit(98); /* (dup2 onto itself keeps O_CLOEXEC: cleared) */
		umask(0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	char line[256] = "";
	struct pollfd pfd = {p[0], POLLIN, 0};
	if (poll(&pfd, 1, WAIT_MS) != 1 || read(p[0], line, sizeof(line) - 1) <= 0)
		fail_msg("mgrd did not start: %s", slurp(d.log));
	close(p[0]);
	return d;
}

static void mgrd_stop(struct daemon *d)
{
	assert_int_equal(kill(d->pid, SIGTERM), 0);
	int st;
	assert_true(harness_reap_within(d->pid, WAIT_MS, &st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_socket_group(void **state)
{
	struct env *e = *state;
	if (!ready)
		skip();
	char sub[100], sock[120], got[512], want[300];
	snprintf(sub, sizeof(sub), "%s/sub", e->dir);
	snprintf(sock, sizeof(sock), "%s/s", sub);
	const char *args[] = {"--socket-mode", "0660", "--socket-group", "64123",
			      "--allow-gid", "64124", NULL};
	struct daemon d = mgrd_start(e, sock, args);
	struct stat st;
	assert_int_equal(lstat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0710); /* search for the group only */
	assert_int_equal(st.st_gid, GROUP_SOCK);
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, GROUP_SOCK);

	/* in the socket's group and, supplementary, the admitted one: served */
	client_as(&(struct as_client){test_uid, test_gid, 2, {GROUP_SOCK, GROUP_ADMIT}, sock},
		  got, sizeof(got));
	assert_string_equal(got, "OK");
	/* in the socket's group only: it reaches mgrd, which says why not */
	client_as(&(struct as_client){test_uid, test_gid, 1, {GROUP_SOCK}, sock}, got, sizeof(got));
	snprintf(want, sizeof(want), "EPERM: manager refused: uid %u is not allowed: not mgrd's "
		 "uid or root, nor in --allow-uid / --allow-gid", (unsigned)test_uid);
	assert_string_equal(got, want);
	/* in neither: the socket is out of its reach */
	client_as(&(struct as_client){test_uid, test_gid, 0, {0}, sock}, got, sizeof(got));
	assert_non_null(strstr(got, "ECONNECT: cannot connect to the manager at"));
	assert_non_null(strstr(got, "does not let uid")); /* not "is mgrd running?": it is */
	assert_non_null(strstr(got, "Permission denied"));
	mgrd_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_dir_taken),
		cmocka_unit_test_setup_teardown(test_dir_writable_or_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sticky_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_group, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
