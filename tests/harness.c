/* Integration test support (see harness.h). */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/clock.h"
#include "../common/frame.h"

void harness_start(struct harness *h, const char *const *args)
{
	mgr_manager_opts o = {.args = args};
	harness_start_opts(h, &o);
}

const char *harness_tcp(void)
{
	const char *t = getenv("MGR_TEST_TCP");
	return !t ? NULL : strcmp(t, "tls") == 0 ? "tls" : strcmp(t, "1") == 0 ? "tcp" : NULL;
}

const char *harness_transport(void)
{
	const char *r = getenv("MGR_RING_SIZE");
	return harness_tcp() ? harness_tcp() : r && atoi(r) == 0 ? "socket" : "ring";
}

bool harness_make_certs(const char *dir)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem "
		 "-days 2 -subj /CN=mgr-test-ca >/dev/null 2>&1 && "
		 "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
		 "-subj /CN=localhost >/dev/null 2>&1 && "
		 "printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\\n' > ext && "
		 "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-out srv.pem -days 2 -extfile ext >/dev/null 2>&1 && "
		 "openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=worker "
		 ">/dev/null 2>&1 && openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key "
		 "-CAcreateserial -out cli.pem -days 2 >/dev/null 2>&1 && chmod 600 *.key", dir);
	return system(cmd) == 0;
}

#define HARNESS_MAX_ARGS 32

/* o's arguments plus the TLS listener's certificate (made into h->certs). */
static void harness_tls_args(struct harness *h, const char *const *args,
			     const char *out[HARNESS_MAX_ARGS])
{
	static char cert[300], key[300], ca[300];
	size_t n = 0;
	for (; args && args[n]; n++) {
		assert_true(n < HARNESS_MAX_ARGS - 5);
		out[n] = args[n];
	}
	harness_tmpdir(h->certs, sizeof(h->certs), "mgr-test-tls");
	if (!harness_make_certs(h->certs)) { /* no openssl */
		harness_rmtree(h->certs);
		h->certs[0] = '\0';
		skip();
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", h->certs);
	setenv("MGR_TLS_CA", ca, 1); /* the clients trust it, forked ones too */
	snprintf(cert, sizeof(cert), "%s/srv.pem", h->certs);
	snprintf(key, sizeof(key), "%s/srv.key", h->certs);
	const char *tls[] = {"--tls-cert", cert, "--tls-key", key, NULL};
	memcpy(out + n, tls, sizeof(tls));
}

void harness_start_opts(struct harness *h, const mgr_manager_opts *o)
{
	static const char key[] = "the test harness's key for TCP sessions";
	const char *listen[] = {"tcp:127.0.0.1:0", NULL}, *args[HARNESS_MAX_ARGS];
	mgr_manager_opts tcp = *o;
	memset(h, 0, sizeof(*h));
	if (harness_tcp() && !o->listen) {
		tcp.listen = listen;
		tcp.auth_key = key;
		tcp.auth_key_len = sizeof(key) - 1;
		setenv("MGR_AUTH_KEY", key, 1); /* the clients', forked ones' too */
		unsetenv("MGR_AUTH_KEY_FILE");
		if (strcmp(harness_tcp(), "tls") == 0) {
			harness_tls_args(h, o->args, args);
			tcp.args = args;
		}
		o = &tcp;
	}
	int err = mgr_manager_start(o, &h->m);
	if (err)
		fail_msg("mgr_manager_start: %s: %s", mgr_strerror(err), mgr_client_errmsg(NULL));
	h->path = o == &tcp ? mgr_manager_tcp_address(h->m, 0) : mgr_manager_address(h->m);
	assert_non_null(h->path);
	err = mgr_client_connect(h->path, &h->c);
	if (err)
		fail_msg("connect: %s: %s", mgr_strerror(err), mgr_client_errmsg(NULL));
}

void harness_stop(struct harness *h)
{
	if (!h) /* the group's setup failed */
		return;
	mgr_client_close(h->c);
	int err = mgr_manager_shutdown(h->m);
	if (h->certs[0]) /* clients read the CA at each connect: kept till now */
		harness_rmtree(h->certs);
	if (err)
		fail_msg("mgrd did not stop cleanly: %s", mgr_client_errmsg(NULL));
	memset(h, 0, sizeof(*h));
}

int64_t harness_map_int(const mgr_value *m, const char *key)
{
	mgr_value *k = mgr_value_new_string(key);
	const mgr_value *v = mgr_value_map_get(m, k);
	mgr_value_free(k);
	assert_non_null(v);
	return mgr_value_int(v);
}

int harness_setup(void **state)
{
	static struct harness h;
	harness_start(&h, NULL);
	*state = &h;
	return 0;
}

int harness_teardown(void **state)
{
	harness_stop(*state);
	return 0;
}

int64_t harness_info(mgr_client *c, const char *field)
{
	mgr_value *info = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(c), "info", NULL, 0, &info), 0);
	int64_t n = harness_map_int(info, field);
	mgr_value_free(info);
	return n;
}

int64_t harness_wait_info(mgr_client *c, const char *field, int64_t want, int timeout_ms)
{
	int64_t deadline = clock_now_ms() + timeout_ms;
	for (;;) {
		int64_t v = harness_info(c, field);
		if (v == want || clock_now_ms() > deadline)
			return v;
	}
}

int harness_raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

void harness_raw_send(int fd, const void *p, size_t len)
{
	const char *b = p;
	while (len) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the server may have closed on us: that is what some tests want */
		b += n;
		len -= (size_t)n;
	}
}

void harness_raw_send_msg(int fd, const struct msg *m)
{
	uint8_t *buf;
	size_t len;
	assert_int_equal(frame_encode(m, &buf, &len), 0);
	harness_raw_send(fd, buf, len);
	free(buf);
}

bool harness_read_exact(int fd, uint8_t *p, size_t len, int timeout_ms)
{
	while (len) {
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		ssize_t n = recv(fd, p, len, 0);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool harness_raw_recv_msg(int fd, struct msg *m, int timeout_ms)
{
	uint8_t hdr[FRAME_HEADER];
	if (!harness_read_exact(fd, hdr, sizeof(hdr), timeout_ms))
		return false;
	uint32_t len = frame_get_len(hdr);
	uint8_t *body = malloc(len + 1);
	assert_non_null(body);
	bool ok = harness_read_exact(fd, body, len, timeout_ms);
	struct frame_limits lim = {1u << 30, 1000, UINT32_MAX, 0};
	char err[160];
	if (ok)
		assert_int_equal(frame_decode(body, len, &lim, m, err, sizeof(err)), 0);
	free(body);
	return ok;
}

int harness_raw_session(const char *path)
{
	return harness_raw_session_as(path, "raw-test", false);
}

int harness_raw_session_as(const char *path, const char *name, bool polls)
{
	int fd = harness_raw_connect(path);
	struct msg hello = {.kind = MSG_HELLO};
	hello.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, (int32_t)getpid(), (char *)name, 0,
					   polls};
	harness_raw_send_msg(fd, &hello);
	struct msg w;
	assert_true(harness_raw_recv_msg(fd, &w, 5000));
	assert_int_equal(w.kind, MSG_WELCOME);
	msg_clear(&w);
	return fd;
}

bool harness_raw_closed(int fd, int timeout_ms)
{
	char buf[4096];
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
	}
}

pid_t harness_spawn(int (*fn)(void *arg, int i), void *arg, int i)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg, i));
	return pid;
}

int harness_reap_all(pid_t *pids, int n)
{
	int ok = 0, st;
	for (int i = 0; i < n; i++)
		ok += waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	free(pids);
	return ok;
}

int harness_fork_n(int n, int (*fn)(void *arg, int i), void *arg)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	assert_non_null(pids);
	for (int i = 0; i < n; i++)
		pids[i] = harness_spawn(fn, arg, i);
	return harness_reap_all(pids, n);
}

int harness_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

void harness_tmpdir(char *dir, size_t size, const char *prefix)
{
	snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
	assert_non_null(mkdtemp(dir));
}

static int harness_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void harness_rmtree(const char *dir)
{
	nftw(dir, harness_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool harness_reap_within(pid_t pid, int ms, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {pfd, POLLIN, 0};
		int rc;
		while ((rc = poll(&p, 1, ms)) < 0 && errno == EINTR)
			;
		close(pfd);
		return rc > 0 && waitpid(pid, status, 0) == pid;
	}
	struct timespec tick = {0, 10 * 1000 * 1000};
	for (int waited = 0; waited < ms; waited += 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

static void harness_read_all(int fd, void *p, size_t len)
{
	char *b = p;
	while (len) {
		ssize_t n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

pid_t harness_doomed_parent(void (*fn)(void *arg, int fd), void *arg, void *out, size_t size)
{
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t parent = fork();
	assert_true(parent >= 0);
	if (parent == 0) {
		close(fds[0]);
		fn(arg, fds[1]);
		for (;;)
			pause(); /* until SIGKILL */
	}
	close(fds[1]);
	harness_read_all(fds[0], out, size);
	close(fds[0]);
	return parent;
}

bool harness_reap_orphan(pid_t pid, int *status)
{
	bool gone = harness_reap_within(pid, 10000, status); /* a generous deadline */
	if (!gone) {
		kill(pid, SIGKILL);
		waitpid(pid, status, 0);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	return gone;
}

bool harness_exited_within(pid_t pid, int ms, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {pfd, POLLIN, 0};
		while (poll(&p, 1, ms) < 0 && errno == EINTR)
			;
		close(pfd);
	}
	siginfo_t si = {0};
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid != pid)
		return false;
	if (status)
		*status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
						   : (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
	return true;
}

bool harness_second_user(uid_t *uid, gid_t *gid)
{
	if (geteuid() != 0)
		return false;
	struct passwd *pw = getpwnam(HARNESS_USER);
	if (!pw) {
		int rc = system("useradd --system --no-create-home --shell /usr/sbin/nologin "
				HARNESS_USER " >/dev/null 2>&1");
		(void)rc; /* another test may have made it meanwhile: look again */
		pw = getpwnam(HARNESS_USER);
	}
	if (!pw || pw->pw_uid == 0)
		return false;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

void harness_start_logged(const char *const *args, const char *prefix, char log[64],
			  mgr_manager **m, mgr_client **c, uint32_t timeout_ms)
{
	snprintf(log, 64, "/tmp/%s-XXXXXX", prefix);
	int logfd = mkstemp(log);
	assert_true(logfd >= 0);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0 && dup2(logfd, 2) == 2);
	mgr_manager_opts o = {.args = args};
	int err = mgr_manager_start(&o, m);
	dup2(saved, 2);
	close(saved);
	close(logfd);
	if (err)
		fail_msg("mgr_manager_start: %s: %s", mgr_strerror(err), mgr_client_errmsg(NULL));
	err = mgr_client_connect(mgr_manager_address(*m), c);
	if (err)
		fail_msg("connect: %s: %s", mgr_strerror(err), mgr_client_errmsg(NULL));
	mgr_client_set_timeout(*c, timeout_ms);
}

int harness_log_count(const char *log, const char *needle, long *sum)
{
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, needle))
			continue;
		n++;
		const char *s = strstr(line, "suppressed ");
		if (sum && s)
			*sum += strtol(s + 11, NULL, 10);
	}
	fclose(f);
	return n;
}

void harness_log_clean(const char *log)
{
	int bad = harness_log_count(log, "runtime error", NULL) +
		  harness_log_count(log, "Sanitizer", NULL);
	if (bad)
		fail_msg("mgrd reported %d sanitizer findings; see %s", bad, log);
}
