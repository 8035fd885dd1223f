/* The mgrd binary itself ($MGR_MGRD), run directly: socket and directory
 * modes, the default path under $XDG_RUNTIME_DIR, stale and live sockets,
 * SIGTERM and SIGINT (which stop it) and SIGHUP (which does not), peers of
 * another uid, --max-conns and --max-conns-per-uid at their edge, the
 * per-uid default and the reserve for mgrd's uid and root, and the command
 * line. Readiness comes from the --ready-fd line, never a sleep. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/frame.h"
#include "../common/clock.h"
#include "harness.h"

#define READY_FD 5
#define WAIT_MS 10000
#define NOBODY 65534

struct env {
	char dir[64];   /* a fresh temporary directory, removed after the test */
	char sock[100]; /* dir/s */
	char err[100];  /* dir/stderr: mgrd's log */
	char out[100];  /* dir/stdout */
};

struct daemon {
	pid_t pid;
	char ready[256]; /* the readiness line, without its newline */
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	harness_tmpdir(e->dir, sizeof(e->dir), "mgr-itest");
	snprintf(e->sock, sizeof(e->sock), "%s/s", e->dir);
	snprintf(e->err, sizeof(e->err), "%s/stderr", e->dir);
	snprintf(e->out, sizeof(e->out), "%s/stdout", e->dir);
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

static const char *mgrd_path(void)
{
	const char *p = getenv("MGR_MGRD");
	assert_non_null(p);
	return p;
}

/* fork + exec mgrd with args (NULL-terminated), stdout/stderr to files,
 * XDG_RUNTIME_DIR set to xdg if not NULL, umask 0 (mgrd must set its own
 * modes). Returns the pid; *ready_rd gets the readiness pipe. */
static pid_t spawn(const struct env *e, const char *const *args, const char *xdg, int *ready_rd)
{
	const char *argv[32] = {mgrd_path()};
	size_t n = 1;
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int out = open(e->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(e->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
		    dup2(p[1], READY_FD) < 0 || fcntl(READY_FD, F_SETFD, 0))
			_exit(126); /* (dup2 onto itself keeps O_CLOEXEC: cleared) */
		if (xdg)
			setenv("XDG_RUNTIME_DIR", xdg, 1);
		else
			unsetenv("XDG_RUNTIME_DIR");
		umask(0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	if (ready_rd)
		*ready_rd = p[0];
	else
		close(p[0]);
	return pid;
}

/* Reads the readiness line: true once it came, false on EOF (mgrd exited). */
static bool read_ready(int fd, char *line, size_t size)
{
	size_t len = 0;
	while (len < size - 1) {
		struct pollfd pfd = {fd, POLLIN, 0};
		assert_true(poll(&pfd, 1, WAIT_MS) == 1);
		ssize_t r = read(fd, line + len, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (line[len] == '\n') {
			line[len] = '\0';
			close(fd);
			return true;
		}
		len++;
	}
	line[len] = '\0';
	close(fd);
	return false;
}

/* Exit status of pid (128 + signal if killed), waiting at most WAIT_MS. */
static int wait_exit(pid_t pid)
{
	int st;
	if (!harness_reap_within(pid, WAIT_MS, &st)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("mgrd %d did not exit in time", (int)pid);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Starts mgrd on e->sock (plus extra args) and waits until it is ready. */
static struct daemon start(const struct env *e, const char *const *extra)
{
	char ppid[16];
	snprintf(ppid, sizeof(ppid), "%d", (int)getpid());
	const char *args[24] = {"--socket", e->sock, "--ready-fd", "5", "--parent-pid", ppid};
	size_t n = 6;
	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	struct daemon d = {0};
	int rd;
	d.pid = spawn(e, args, NULL, &rd);
	if (!read_ready(rd, d.ready, sizeof(d.ready)))
		fail_msg("mgrd exited before it was ready: status %d", wait_exit(d.pid));
	return d;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Stops mgrd with sig: exit status 0, and (in sanitizer builds) nothing
 * reported in its log. */
static void stop(const struct env *e, struct daemon *d, int sig)
{
	assert_int_equal(kill(d->pid, sig), 0);
	assert_int_equal(wait_exit(d->pid), 0);
	const char *log = slurp(e->err);
	if (strstr(log, "runtime error") || strstr(log, "Sanitizer"))
		fail_msg("mgrd reported: %s", log);
}

/* A ping through libmgr on path. */
static void assert_serves(const char *path)
{
	mgr_client *c;
	int err = mgr_client_connect(path, &c);
	if (err)
		fail_msg("connect %s: %s: %s", path, mgr_errname(err), mgr_client_errmsg(NULL));
	mgr_value *v = mgr_value_new_string("ping"), *r = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(c), "ping", &v, 1, &r), 0);
	assert_true(mgr_value_equal(v, r));
	mgr_value_free(v);
	mgr_value_free(r);
	mgr_client_close(c);
}

static mode_t mode_of(const char *path, mode_t type)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & S_IFMT, type);
	return st.st_mode & 07777;
}

/* ---- tests ---- */

static void test_modes(void **state)
{
	struct env *e = *state;
	char sub[160];
	snprintf(sub, sizeof(sub), "%s/sub", e->dir);
	snprintf(e->sock, sizeof(e->sock), "%s/sub/s", e->dir); /* a directory it must make */
	struct daemon d = start(e, NULL);
	char want[200];
	snprintf(want, sizeof(want), "READY %s", e->sock);
	assert_string_equal(d.ready, want);
	assert_int_equal(mode_of(sub, S_IFDIR), 0700);
	assert_int_equal(mode_of(e->sock, S_IFSOCK), 0600);
	assert_serves(e->sock);
	stop(e, &d, SIGTERM);
	assert_int_equal(access(e->sock, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_xdg_default_path(void **state)
{
	struct env *e = *state;
	char ppid[16], path[200], dir[160], want[220];
	snprintf(ppid, sizeof(ppid), "%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s/mgr", e->dir);
	snprintf(path, sizeof(path), "%s/mgr/mgrd.sock", e->dir);
	const char *args[] = {"--ready-fd", "5", "--parent-pid", ppid, NULL};
	struct daemon d = {0};
	int rd;
	d.pid = spawn(e, args, e->dir, &rd);
	assert_true(read_ready(rd, d.ready, sizeof(d.ready)));
	snprintf(want, sizeof(want), "READY %s", path);
	assert_string_equal(d.ready, want);
	assert_int_equal(mode_of(dir, S_IFDIR), 0700);
	assert_int_equal(mode_of(path, S_IFSOCK), 0600);

	/* libmgr finds it the same way: no MGR_SOCKET, XDG_RUNTIME_DIR set */
	char *old_xdg = getenv("XDG_RUNTIME_DIR"), *old_sock = getenv("MGR_SOCKET");
	old_xdg = old_xdg ? strdup(old_xdg) : NULL;
	old_sock = old_sock ? strdup(old_sock) : NULL;
	setenv("XDG_RUNTIME_DIR", e->dir, 1);
	unsetenv("MGR_SOCKET");
	mgr_client *c;
	assert_int_equal(mgr_client_connect(NULL, &c), 0);
	assert_string_equal(mgr_client_path(c), path);
	mgr_client_close(c);
	/* and MGR_SOCKET wins over the default */
	setenv("MGR_SOCKET", e->sock, 1); /* nothing listens there */
	assert_int_equal(mgr_client_connect(NULL, &c), MGR_ECONNECT);
	assert_non_null(strstr(mgr_client_errmsg(NULL), e->sock));
	if (old_xdg)
		setenv("XDG_RUNTIME_DIR", old_xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	if (old_sock)
		setenv("MGR_SOCKET", old_sock, 1);
	else
		unsetenv("MGR_SOCKET");
	free(old_xdg);
	free(old_sock);
	stop(e, &d, SIGTERM);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_stale_socket_replaced(void **state)
{
	struct env *e = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", e->sock);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	close(fd); /* a dead daemon's socket: the file stays, nobody listens */
	(void)mode_of(e->sock, S_IFSOCK); /* there, and a socket */
	struct daemon d = start(e, NULL);
	assert_int_equal(mode_of(e->sock, S_IFSOCK), 0600);
	assert_serves(e->sock);
	stop(e, &d, SIGTERM);
}

/* Only a socket is ever replaced: a file at the path is someone's data. */
static void test_not_a_socket_kept(void **state)
{
	struct env *e = *state;
	FILE *f = fopen(e->sock, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	const char *args[] = {"--socket", e->sock, "--ready-fd", "5", NULL};
	int rd;
	char line[256];
	pid_t pid = spawn(e, args, NULL, &rd);
	assert_false(read_ready(rd, line, sizeof(line)));
	assert_int_equal(wait_exit(pid), 1);
	assert_non_null(strstr(slurp(e->err), "not a socket"));
	assert_string_equal(slurp(e->sock), "precious\n");
}

static void test_live_socket_refused(void **state)
{
	struct env *e = *state;
	struct daemon d = start(e, NULL);
	char errfile[sizeof(e->err)];
	snprintf(errfile, sizeof(errfile), "%s", e->err);
	snprintf(e->err, sizeof(e->err), "%s/stderr2", e->dir); /* keep the first log */
	const char *args[] = {"--socket", e->sock, "--ready-fd", "5", NULL};
	int rd;
	char line[256];
	pid_t second = spawn(e, args, NULL, &rd);
	assert_false(read_ready(rd, line, sizeof(line))); /* never ready */
	assert_int_equal(wait_exit(second), 1);
	char *log = slurp(e->err);
	if (!strstr(log, "already listening"))
		fail_msg("no 'already listening' in: %s", log);
	assert_non_null(strstr(log, e->sock));
	/* the first one is untouched */
	assert_int_equal(mode_of(e->sock, S_IFSOCK), 0600);
	assert_serves(e->sock);
	snprintf(e->err, sizeof(e->err), "%s", errfile);
	stop(e, &d, SIGTERM);
}

static void signal_stops(struct env *e, int sig)
{
	struct daemon d = start(e, NULL);
	mgr_client *c;
	mgr_object *k;
	assert_int_equal(mgr_client_connect(e->sock, &c), 0);
	assert_int_equal(mgr_counter_open(c, "k", &k), 0);
	assert_int_equal(mgr_counter_add(k, 1, NULL), 0);
	stop(e, &d, sig); /* with a client connected */
	assert_int_equal(access(e->sock, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	int err = mgr_counter_add(k, 1, NULL);
	assert_true(err == MGR_EIO || err == MGR_ECONNECT);
	mgr_object_release(k);
	mgr_client_close(c);
	assert_non_null(strstr(slurp(e->err), "stopping"));
}

static void test_sigterm(void **state) { signal_stops(*state, SIGTERM); }
static void test_sigint(void **state) { signal_stops(*state, SIGINT); }

/* Connects to path and says Hello, without cmocka (for children): 1 if
 * welcomed (*fd stays open), 0 if refused (why: the final frame's message,
 * "" if there was none; the refusal that a client can print), -1 if it
 * could not connect, -2 on anything else. */
static int raw_hello(const char *path, int *fd, char *why, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0 || connect(*fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	struct msg m = {.kind = MSG_HELLO};
	m.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, (int32_t)getpid(), "raw", 0, false};
	uint8_t *buf, hdr[FRAME_HEADER];
	size_t len;
	if (frame_encode(&m, &buf, &len))
		return -2;
	send(*fd, buf, len, MSG_NOSIGNAL); /* may fail: we may be closed already */
	free(buf);
	snprintf(why, size, "%s", "");
	if (!harness_read_exact(*fd, hdr, sizeof(hdr), WAIT_MS))
		return 0; /* closed without a word */
	uint32_t blen = frame_get_len(hdr);
	uint8_t *body = malloc(blen + 1);
	struct frame_limits lim = {1u << 20, 64, 1u << 20, 0};
	char err[160];
	int rc = body && harness_read_exact(*fd, body, blen, WAIT_MS) &&
		 !frame_decode(body, blen, &lim, &m, err, sizeof(err)) ? 0 : -2;
	free(body);
	if (rc == 0 && m.kind == MSG_WELCOME)
		rc = 1;
	else if (rc == 0 && m.kind == MSG_REPLY && m.u.reply.id == 0 && m.u.reply.code)
		snprintf(why, size, "%s", m.u.reply.message ? m.u.reply.message : "");
	else
		rc = -2;
	msg_clear(&m);
	return rc;
}

/* In a child as uid/gid 65534: connect and say Hello. Exit 0 if refused
 * (a final frame saying why, or a bare close), 1 if welcomed, 2+ on errors
 * (3: could not connect at all). */
static int as_nobody_hello(const char *path)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 2;
	int fd;
	char why[256];
	int rc = raw_hello(path, &fd, why, sizeof(why));
	return rc == 1 ? 1 : rc == 0 ? 0 : rc == -1 ? 3 : 6;
}

/* In a child as 65534: a libmgr client that pings. 0 on success. */
static int as_nobody_ping(const char *path)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 2;
	mgr_client *c;
	mgr_value *r = NULL;
	if (mgr_client_connect(path, &c))
		return 3;
	int err = mgr_call(mgr_client_manager(c), "ping", NULL, 0, &r);
	mgr_value_free(r);
	mgr_client_close(c);
	return err ? 4 : 0;
}

static int in_child(int (*fn)(const char *), const char *path)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(path));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A client on sock once the server has noticed a slot freed (on its own
 * time): connects are retried within WAIT_MS. */
static mgr_client *connect_once_freed(const char *sock)
{
	mgr_client *c = NULL;
	int err = -1;
	int64_t deadline = clock_now_ms() + WAIT_MS;
	do {
		err = mgr_client_connect(sock, &c);
	} while (err && clock_now_ms() < deadline);
	assert_int_equal(err, 0);
	return c;
}

/* Let 65534 reach the socket: mgrd made it 0600 in a 0700 directory (the
 * modes test checks that); a peer check is what is tested here. */
static void open_up(const struct env *e)
{
	char sub[160];
	snprintf(sub, sizeof(sub), "%s/sub", e->dir);
	assert_int_equal(chmod(e->dir, 0755), 0);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(chmod(e->sock, 0666), 0);
}

static void test_other_uid(void **state)
{
	struct env *e = *state;
	if (geteuid() != 0)
		skip(); /* needs root to become another user */
	snprintf(e->sock, sizeof(e->sock), "%s/sub/s", e->dir);
	struct daemon d = start(e, NULL);
	/* as made, the socket is out of reach of another user altogether */
	assert_int_equal(in_child(as_nobody_hello, e->sock), 3);
	open_up(e);
	assert_int_equal(in_child(as_nobody_hello, e->sock), 0); /* refused by SO_PEERCRED */
	assert_true(in_child(as_nobody_ping, e->sock) != 0);
	assert_non_null(strstr(slurp(e->err), "uid 65534 is not allowed"));
	assert_serves(e->sock); /* our own uid still is */
	stop(e, &d, SIGTERM);

	const char *allow[] = {"--allow-uid", "65534", NULL};
	d = start(e, allow);
	open_up(e);
	assert_int_equal(in_child(as_nobody_hello, e->sock), 1); /* welcomed */
	assert_int_equal(in_child(as_nobody_ping, e->sock), 0);
	stop(e, &d, SIGTERM);

	const char *allow_gid[] = {"--allow-gid", "65534", NULL};
	d = start(e, allow_gid);
	open_up(e);
	assert_int_equal(in_child(as_nobody_ping, e->sock), 0);
	stop(e, &d, SIGTERM);
}

static void test_max_conns(void **state)
{
	struct env *e = *state;
	const char *args[] = {"--max-conns", "2", NULL};
	struct daemon d = start(e, args);
	mgr_client *c1, *c2, *c3 = NULL;
	assert_int_equal(mgr_client_connect(e->sock, &c1), 0);
	assert_int_equal(mgr_client_connect(e->sock, &c2), 0);
	/* a third: accepted by the kernel, closed by mgrd without a Welcome */
	int fd = harness_raw_connect(e->sock);
	struct msg hello = {.kind = MSG_HELLO};
	hello.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, 1, "third", 0, false};
	harness_raw_send_msg(fd, &hello);
	assert_true(harness_raw_closed(fd, WAIT_MS));
	close(fd);
	assert_true(mgr_client_connect(e->sock, &c3) != 0);
	assert_non_null(strstr(slurp(e->err), "connection limit"));
	/* the two admitted ones work */
	assert_int_equal(harness_info(c1, "sessions"), 2);
	assert_int_equal(harness_info(c2, "sessions"), 2);
	/* a slot frees when one leaves (the server notices on its own time) */
	mgr_client_close(c1);
	c3 = connect_once_freed(e->sock);
	assert_int_equal(harness_info(c3, "sessions"), 2);
	mgr_client_close(c2);
	mgr_client_close(c3);
	stop(e, &d, SIGTERM);
}

/* --max-conns-per-uid 2: two sessions of our uid are served, a third is
 * closed without a Welcome; the limit is per uid (another allowed uid
 * still gets in, when we can become one) and a slot frees when one of
 * ours leaves. */
static void test_max_conns_per_uid(void **state)
{
	struct env *e = *state;
	snprintf(e->sock, sizeof(e->sock), "%s/sub/s", e->dir); /* for open_up */
	const char *args[] = {"--max-conns-per-uid", "2", "--allow-uid", "65534", NULL};
	struct daemon d = start(e, args);
	mgr_client *c1, *c2, *c3 = NULL;
	assert_int_equal(mgr_client_connect(e->sock, &c1), 0);
	assert_int_equal(mgr_client_connect(e->sock, &c2), 0);
	assert_int_equal(harness_info(c2, "sessions"), 2);
	int fd = harness_raw_connect(e->sock);
	struct msg hello = {.kind = MSG_HELLO};
	hello.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, 1, "third", 0, false};
	harness_raw_send_msg(fd, &hello);
	assert_true(harness_raw_closed(fd, WAIT_MS));
	close(fd);
	assert_true(mgr_client_connect(e->sock, &c3) != 0);
	assert_non_null(strstr(slurp(e->err), "per-uid connection limit"));
	assert_int_equal(harness_info(c1, "sessions"), 2);
	if (geteuid() == 0) { /* nobody has a limit of its own */
		open_up(e);
		assert_int_equal(in_child(as_nobody_ping, e->sock), 0);
	}
	mgr_client_close(c1);
	c3 = connect_once_freed(e->sock);
	assert_int_equal(harness_info(c3, "sessions"), 2);
	mgr_client_close(c2);
	mgr_client_close(c3);
	stop(e, &d, SIGTERM);
}

/* A child as uid 65534 opens sessions on path until one is refused (at
 * most 16) and holds them until *release is closed; *count gets how many
 * were welcomed, why the refusal's message. Returns the child's pid. */
static pid_t hold_as_nobody(const char *path, int *release, int *count, char *why, size_t size)
{
	int res[2], rel[2];
	assert_int_equal(pipe2(res, O_CLOEXEC), 0);
	assert_int_equal(pipe2(rel, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(rel[1]);
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		int n = 0, fd, rc = 1;
		char msg[256] = "";
		while (n < 16 && (rc = raw_hello(path, &fd, msg, sizeof(msg))) == 1)
			n++;
		dprintf(res[1], "%d %s\n", rc == 0 ? n : -1, msg);
		char c;
		(void)!read(rel[0], &c, 1); /* EOF: released */
		_exit(0);
	}
	close(res[1]);
	close(rel[0]);
	*release = rel[1];
	char line[300] = "";
	size_t len = 0;
	while (len < sizeof(line) - 1 && !strchr(line, '\n')) {
		struct pollfd pfd = {res[0], POLLIN, 0};
		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
		ssize_t r = read(res[0], line + len, sizeof(line) - 1 - len);
		assert_true(r > 0);
		len += (size_t)r;
		line[len] = '\0';
	}
	close(res[0]);
	/* "N message\n" */
	char *sp = strchr(line, ' ');
	assert_non_null(sp);
	*count = atoi(line);
	sp[strcspn(sp, "\n")] = '\0';
	snprintf(why, size, "%s", sp + 1);
	return pid;
}

static void release_holder(pid_t pid, int release)
{
	close(release);
	int st;
	assert_true(harness_reap_within(pid, WAIT_MS, &st));
}

/* The per-uid default leaves room for others: --max-conns 8 with another
 * uid admitted keeps 2 for mgrd's uid and root and gives each uid half of
 * the other 6. A uid that fills its share is told so, and root still
 * connects (before: one uid could take all 8). */
static void test_per_uid_default(void **state)
{
	struct env *e = *state;
	if (geteuid() != 0)
		skip(); /* needs root to become another user */
	snprintf(e->sock, sizeof(e->sock), "%s/sub/s", e->dir);
	const char *args[] = {"--max-conns", "8", "--allow-uid", "65534", NULL};
	struct daemon d = start(e, args);
	open_up(e);
	int release, n;
	char why[256];
	pid_t h = hold_as_nobody(e->sock, &release, &n, why, sizeof(why));
	assert_int_equal(n, 3);
	assert_string_equal(why, "per-uid connection limit reached for uid 65534 "
				 "(--max-conns-per-uid 3)");
	assert_serves(e->sock); /* root, while 65534 holds its 3 */
	release_holder(h, release);
	stop(e, &d, SIGTERM);
}

/* The reserve: with --max-conns 4 (1 kept for mgrd's uid and root) and a
 * uid that may take all 4, it gets 3 and is told why not a 4th; root takes
 * the last one, and a 5th, even root's, is refused with the reason that
 * libmgr reports (not a bare "connection lost"). */
static void test_reserve(void **state)
{
	struct env *e = *state;
	if (geteuid() != 0)
		skip(); /* needs root to become another user */
	snprintf(e->sock, sizeof(e->sock), "%s/sub/s", e->dir);
	const char *args[] = {"--max-conns", "4", "--max-conns-per-uid", "4",
			      "--allow-uid", "65534", NULL};
	struct daemon d = start(e, args);
	open_up(e);
	int release, n;
	char why[256];
	pid_t h = hold_as_nobody(e->sock, &release, &n, why, sizeof(why));
	assert_int_equal(n, 3);
	assert_string_equal(why, "connection limit reached: the last 1 of --max-conns 4 are "
				 "reserved for mgrd's uid and root (--reserved-conns)");
	mgr_client *c, *c2 = NULL;
	assert_int_equal(mgr_client_connect(e->sock, &c), 0);
	assert_int_equal(harness_info(c, "sessions"), 4);
	assert_int_equal(mgr_client_connect(e->sock, &c2), MGR_ELIMIT);
	assert_string_equal(mgr_client_errmsg(NULL),
			    "manager refused: connection limit reached (--max-conns 4)");
	mgr_client_close(c);
	release_holder(h, release);
	stop(e, &d, SIGTERM);
}

/* SIGHUP (a closed terminal, a service manager's reload) leaves mgrd
 * serving; it says so in its log. */
static void test_sighup(void **state)
{
	struct env *e = *state;
	struct daemon d = start(e, NULL);
	mgr_client *c;
	assert_int_equal(mgr_client_connect(e->sock, &c), 0);
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	int64_t deadline = clock_now_ms() + WAIT_MS;
	while (!strstr(slurp(e->err), "SIGHUP: ignored") && clock_now_ms() < deadline)
		usleep(10000); /* a log line is all there is to wait for */
	assert_non_null(strstr(slurp(e->err), "SIGHUP: ignored"));
	assert_int_equal(harness_info(c, "sessions"), 1); /* the same session, alive */
	assert_serves(e->sock);
	mgr_client_close(c);
	stop(e, &d, SIGTERM);
}

/* Runs mgrd with args to its end; returns the exit status. */
static int run(struct env *e, const char *const *args)
{
	pid_t pid = spawn(e, args, NULL, NULL);
	return wait_exit(pid);
}

static void test_command_line(void **state)
{
	struct env *e = *state;
	assert_int_equal(run(e, (const char *[]){"--help", NULL}), 0);
	char *out = slurp(e->out);
	assert_non_null(strstr(out, "usage: mgrd"));
	assert_non_null(strstr(out, "--max-frame"));
	assert_int_equal(run(e, (const char *[]){"--frobnicate", NULL}), 2);
	assert_non_null(strstr(slurp(e->err), "usage"));
	assert_int_equal(run(e, (const char *[]){"--max-frame", "abc", NULL}), 2);
	assert_non_null(strstr(slurp(e->err), "invalid value for --max-frame"));
	assert_int_equal(run(e, (const char *[]){"--max-frame", "0", NULL}), 2);
	assert_int_equal(run(e, (const char *[]){"--max-conns", "-1", NULL}), 2);
	/* a ring is 0 (none) or 4 KiB .. 64 MiB each way */
	assert_int_equal(run(e, (const char *[]){"--ring-size", "4095", NULL}), 2);
	assert_non_null(strstr(slurp(e->err), "invalid value for --ring-size"));
	assert_int_equal(run(e, (const char *[]){"--ring-size", "67108865", NULL}), 2);
	/* a slice is 0 (the kernel's) or 100 us .. 100 ms */
	assert_int_equal(run(e, (const char *[]){"--slice-us", "99", NULL}), 2);
	assert_non_null(strstr(slurp(e->err), "invalid value for --slice-us"));
	assert_int_equal(run(e, (const char *[]){"--slice-us", "100001", NULL}), 2);
	assert_int_equal(run(e, (const char *[]){"--slice-us", "-1", NULL}), 2);
	assert_int_equal(run(e, (const char *[]){"--socket", e->sock, "extra", NULL}), 2);
	assert_int_equal(run(e, (const char *[]){"--ready-fd", NULL}), 2); /* missing value */
	/* a socket mode keeps mgrd's own read and write, and no x bits */
	assert_int_equal(run(e, (const char *[]){"--socket-mode", "0460", NULL}), 2);
	assert_int_equal(run(e, (const char *[]){"--socket-mode", "0770", NULL}), 2);
	assert_int_equal(run(e, (const char *[]){"--socket-mode", "rw", NULL}), 2);
	assert_int_equal(run(e, (const char *[]){"--socket-group", "no-such-group-here", NULL}), 2);
	/* the reserve must leave some connections to share */
	assert_int_equal(run(e, (const char *[]){"--socket", e->sock, "--max-conns", "4",
						 "--reserved-conns", "4", NULL}), 1);
	assert_non_null(strstr(slurp(e->err), "--reserved-conns must be less than --max-conns"));
	/* paths it cannot use: exit 1 with a message */
	assert_int_equal(run(e, (const char *[]){"--socket", "relative.sock", NULL}), 1);
	assert_non_null(strstr(slurp(e->err), "absolute"));
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(run(e, (const char *[]){"--socket", longpath, NULL}), 1);
	assert_int_equal(access(e->sock, F_OK), -1); /* none of these made a socket */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xdg_default_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_socket_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_socket_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_conns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_conns_per_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_uid_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sighup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
