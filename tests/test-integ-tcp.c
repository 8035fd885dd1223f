/* Remote workers (issue 16): mgrd on TCP, IPv4 and IPv6, port 0. The right
 * key works; a wrong key and no key are refused, the daemon unharmed (a
 * session on the UNIX socket still answers) and the failures logged once
 * per burst; a raw client sending garbage or nothing is dropped by the
 * handshake deadline, with mgrd's memory and threads bounded; TLS with a CA
 * made here (openssl CLI), with and without a client certificate; and a
 * worker whose host vanishes (a veth link in a network namespace set down:
 * no FIN, no RST) loses its robust lock to a local client, owner-died,
 * within --remote-timeout plus the keepalive probes (root and ip(8) only;
 * skipped otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <mgr/mgr.h>
#include <mgr/sync.h>

#include "../common/clock.h"
#include "../common/tcp.h"
#include "../libmgr/client.h"
#include "harness.h"

#define READY_FD 5
#define WAIT_MS 20000

struct daemon {
	char dir[256], sock[300], key[300], log[300];
	char addr[4][80]; /* from the ready line */
	int n_addr;
	pid_t pid;
};

static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void write_key(const char *path, const char *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, strlen(key)), (ssize_t)strlen(key));
	close(fd);
}

/* mgrd with a key file and extra args (NULL-terminated); reads the ready
 * line's TCP addresses. */
static void daemon_start(struct daemon *d, const char *const *extra)
{
	harness_tmpdir(d->dir, sizeof(d->dir), "mgr-tcp");
	snprintf(d->sock, sizeof(d->sock), "%s/s/mgrd.sock", d->dir);
	snprintf(d->key, sizeof(d->key), "%s/key", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	write_key(d->key, "0123456789abcdef-the-right-key\n");
	const char *argv[40] = {getenv("MGR_MGRD"), "--socket", d->sock, "--auth-key-file",
				d->key, "--ready-fd", "5", "--handshake-timeout", "1000",
				"--parent-pid", NULL}; /* a failed test leaves no mgrd */
	char ppid[16];
	snprintf(ppid, sizeof(ppid), "%d", (int)getpid());
	argv[10] = ppid;
	size_t n = 11;
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	assert_non_null(argv[0]);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		int err = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (err < 0 || dup2(err, 2) < 0 || dup2(p[1], READY_FD) < 0 ||
		    fcntl(READY_FD, F_SETFD, 0))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	char line[512];
	size_t len = 0;
	while (len < sizeof(line) - 1) {
		struct pollfd pfd = {p[0], POLLIN, 0};
		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
		ssize_t r = read(p[0], line + len, 1);
		assert_true(r == 1);
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(p[0]);
	d->n_addr = 0;
	for (char *s = strstr(line, " tcp:"); s && d->n_addr < 4; s = strstr(s + 1, " tcp:")) {
		sscanf(s + 1, "%79s", d->addr[d->n_addr++]);
	}
	setenv("MGR_AUTH_KEY_FILE", d->key, 1);
	unsetenv("MGR_AUTH_KEY");
}

static void daemon_stop(struct daemon *d)
{
	kill(d->pid, SIGTERM);
	int status;
	assert_true(harness_reap_within(d->pid, WAIT_MS, &status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	harness_rmtree(d->dir);
}

static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* A session on the UNIX socket answers: the daemon is unharmed. */
static void unix_ping(const struct daemon *d)
{
	mgr_client *c;
	assert_int_equal(mgr_client_connect(d->sock, &c), 0);
	assert_true(harness_info(c, "sessions") >= 1);
	mgr_client_close(c);
}

static int port_of(const char *addr) { return atoi(strrchr(addr, ':') + 1); }

/* ---- polling for replies (design.md "Loopback TCP") ---- */

/* A plain TCP session to this host, like a UNIX-socket one, is local: its
 * Hello says it polls (the manager then polls its sockets for it and hints
 * it: test-integ-spin). Calls answered either way, their count checked: a
 * poll that took a reply or a request must not lose or repeat one. */
static void test_local_tcp_polls(void **state)
{
	(void)state;
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", "--listen", "tcp:[::1]:0", NULL};
	daemon_start(&d, extra);
	const char *addrs[] = {d.addr[0], d.addr[1], d.sock};
	for (int i = 0; i < 3; i++) {
		mgr_client *c;
		assert_int_equal(mgr_client_connect(addrs[i], &c), 0);
		assert_true(c->local); /* loopback TCP and the UNIX socket alike */
		assert_int_equal(tcp_peer_local(c->fd), i < 2);
		mgr_object *cnt;
		char name[16];
		snprintf(name, sizeof(name), "polled%d", i);
		assert_int_equal(mgr_object_open(c, "counter", name, &cnt), 0);
		for (int k = 0; k < 2000; k++) {
			mgr_value *r = NULL;
			assert_int_equal(mgr_callv(cnt, "add", &r, NULL), 0);
			mgr_value_free(r);
		}
		mgr_value *v = NULL;
		assert_int_equal(mgr_callv(cnt, "get", &v, NULL), 0);
		assert_int_equal(mgr_value_int(v), 2000);
		mgr_value_free(v);
		mgr_object_release(cnt);
		mgr_client_close(c);
	}
	daemon_stop(&d);
}

/* ---- the key ---- */

/* The addr of c's own session in its manager's clients view (caller frees). */
static char *session_addr(mgr_client *c)
{
	mgr_value *rows = NULL;
	char *addr = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(c), "clients", NULL, 0, &rows), 0);
	for (size_t i = 0; i < mgr_value_len(rows); i++) {
		const mgr_value *row = mgr_value_list_get(rows, i);
		mgr_value *ks = mgr_value_new_string("session"), *ka = mgr_value_new_string("addr");
		if (mgr_value_int(mgr_value_map_get(row, ks)) == (int64_t)mgr_client_session(c))
			addr = strdup(mgr_value_string(mgr_value_map_get(row, ka), NULL));
		mgr_value_free(ks);
		mgr_value_free(ka);
	}
	mgr_value_free(rows);
	assert_non_null(addr);
	return addr;
}

static void test_right_key_v4_v6(void **state)
{
	(void)state;
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", "--listen", "tcp:[::1]:0", NULL};
	daemon_start(&d, extra);
	assert_int_equal(d.n_addr, 2);
	assert_non_null(strstr(d.addr[0], "tcp:127.0.0.1:"));
	assert_non_null(strstr(d.addr[1], "tcp:[::1]:"));
	assert_true(port_of(d.addr[0]) > 0 && port_of(d.addr[1]) > 0);
	for (int i = 0; i < 2; i++) {
		mgr_client *c;
		assert_int_equal(mgr_client_connect(d.addr[i], &c), 0);
		mgr_object *cnt;
		assert_int_equal(mgr_object_open(c, "counter", "hits", &cnt), 0);
		mgr_value *r = NULL;
		assert_int_equal(mgr_callv(cnt, "add", &r, NULL), 0);
		mgr_value_free(r);
		assert_int_equal(harness_info(c, "sessions"), 1);
		char *addr = session_addr(c); /* where it came from, its own port */
		assert_non_null(strstr(addr, i ? "tcp:[::1]:" : "tcp:127.0.0.1:"));
		assert_true(port_of(addr) > 0 && port_of(addr) != port_of(d.addr[i]));
		free(addr);
		mgr_object_release(cnt);
		mgr_client_close(c);
	}
	mgr_client *u; /* on the UNIX socket: no addr */
	assert_int_equal(mgr_client_connect(d.sock, &u), 0);
	char *addr = session_addr(u);
	assert_string_equal(addr, "");
	free(addr);
	mgr_client_close(u);
	/* the remote sessions acted as nobody: the counter is 65534's */
	assert_int_equal(count_in_file(d.log, "key default, acting as uid 65534"), 2);
	daemon_stop(&d);
}

static void test_wrong_and_no_key(void **state)
{
	(void)state;
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", NULL};
	daemon_start(&d, extra);
	mgr_client *c;
	int64_t t0 = clock_now_ms();
	setenv("MGR_AUTH_KEY", "0123456789abcdef-a-wrong-key", 1);
	for (int i = 0; i < 5; i++) {
		int err = mgr_client_connect(d.addr[0], &c);
		assert_int_equal(err, MGR_EPERM);
	}
	unsetenv("MGR_AUTH_KEY");
	unsetenv("MGR_AUTH_KEY_FILE");
	assert_int_equal(mgr_client_connect(d.addr[0], &c), MGR_EPERM);
	assert_true(clock_now_ms() - t0 < WAIT_MS);
	unix_ping(&d);
	/* once per burst, however many failed */
	assert_int_equal(count_in_file(d.log, "authentication failed from 127.0.0.1"), 1);
	assert_int_equal(count_in_file(d.log, "acting as uid"), 0);
	daemon_stop(&d);
}

/* ---- raw peers: garbage, silence, many at once ---- */

static int raw_tcp(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_of(addr))};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Reads until EOF within ms: the bytes received, -1 if still open. */
static ssize_t read_to_eof(int fd, int ms)
{
	char buf[4096];
	ssize_t total = 0;
	int64_t until = clock_now_ms() + ms;
	for (;;) {
		int left = (int)(until - clock_now_ms());
		struct pollfd pfd = {fd, POLLIN, 0};
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return -1;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return n == 0 || errno == ECONNRESET ? total : -1;
		total += n;
	}
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Peers that take the challenge and go away without answering (a worker
 * killed while it connects: Ctrl-C on its process group), closing or
 * resetting: they guessed nothing, so they are no failures, and a worker of
 * the same host that comes next is let in at once, not made to wait. The
 * chaos-tcp storm found them counted: its workers' connects were refused. */
static void test_gone_before_answering(void **state)
{
	(void)state;
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", NULL};
	daemon_start(&d, extra);
	for (int i = 0; i < 20; i++) {
		int fd = raw_tcp(d.addr[0]);
		char challenge[51];
		assert_true(harness_read_exact(fd, (uint8_t *)challenge, sizeof(challenge), WAIT_MS));
		if (i % 2) { /* a reset, as a killed process's unread socket gives */
			struct linger l = {1, 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		close(fd);
	}
	for (int i = 0; i < 5; i++) {
		mgr_client *c;
		assert_int_equal(mgr_client_connect(d.addr[0], &c), 0);
		mgr_client_close(c);
	}
	assert_int_equal(count_in_file(d.log, "authentication failed from"), 0);
	assert_int_equal(count_in_file(d.log, "acting as uid"), 5);
	daemon_stop(&d);
}

static void test_raw_garbage_and_silence(void **state)
{
	(void)state;
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", NULL};
	daemon_start(&d, extra);
	long rss0 = rss_kb(d.pid);
	/* garbage: a challenge (51) and a FAILURE (49) come back, then EOF */
	int fd = raw_tcp(d.addr[0]);
	char junk[300];
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(send(fd, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
	ssize_t got = read_to_eof(fd, WAIT_MS);
	assert_int_equal(got, 51 + 49);
	close(fd);
	/* silence, 100 at once (more than the 64 handshakes allowed at a time):
	 * every one is closed by the 1 s deadline or at once */
	int fds[100];
	for (int i = 0; i < 100; i++)
		fds[i] = raw_tcp(d.addr[0]);
	long rss_peak = rss_kb(d.pid);
	for (int i = 0; i < 100; i++) {
		assert_true(read_to_eof(fds[i], WAIT_MS) >= 0);
		close(fds[i]);
	}
	print_message("RSS %ld kB before, %ld kB with 100 silent peers\n", rss0, rss_peak);
	assert_true(rss_peak - rss0 < 64 * 1024);
	unix_ping(&d);
	mgr_client *c; /* the address waits a moment after its failures: then in */
	int err = MGR_EPERM;
	for (int i = 0; i < 400 && err; i++) {
		err = mgr_client_connect(d.addr[0], &c);
		if (err)
			usleep(100 * 1000);
	}
	assert_int_equal(err, 0);
	mgr_client_close(c);
	daemon_stop(&d);
}

/* ---- TLS with a CA made here ---- */

static void make_certs(const char *dir) { assert_true(harness_make_certs(dir)); }

static void test_tls(void **state)
{
	(void)state;
	if (system("openssl version >/dev/null 2>&1")) {
		skip();
	}
	char certs[256], a[300], b[300], ca[300], cc[300], ck[300];
	harness_tmpdir(certs, sizeof(certs), "mgr-tls");
	make_certs(certs);
	snprintf(a, sizeof(a), "%s/srv.pem", certs);
	snprintf(b, sizeof(b), "%s/srv.key", certs);
	snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
	snprintf(cc, sizeof(cc), "%s/cli.pem", certs);
	snprintf(ck, sizeof(ck), "%s/cli.key", certs);
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", "--tls-cert", a, "--tls-key", b,
			       "--tls-ca", ca, NULL};
	daemon_start(&d, extra);
	mgr_client *c;
	setenv("MGR_TLS_CA", ca, 1);
	/* no client certificate: the handshake fails */
	unsetenv("MGR_TLS_CERT");
	assert_int_not_equal(mgr_client_connect(d.addr[0], &c), 0);
	setenv("MGR_TLS_CERT", cc, 1);
	setenv("MGR_TLS_KEY", ck, 1);
	assert_int_equal(mgr_client_connect(d.addr[0], &c), 0);
	assert_true(c->local); /* TLS to this host polls its socket too (Hello.polls) */
	mgr_object *l;
	assert_int_equal(mgr_object_open(c, "list", "tl", &l), 0);
	for (int i = 0; i < 200; i++) { /* many frames, some big: the pump carries them */
		char blob[20000];
		memset(blob, i, sizeof(blob));
		mgr_value *big = mgr_value_new_bytes(blob, (size_t)(i * 97) % sizeof(blob)), *r = NULL;
		assert_int_equal(mgr_call(l, "append", &big, 1, &r), 0);
		mgr_value_free(big);
		mgr_value_free(r);
	}
	assert_int_equal(harness_info(c, "sessions"), 1);
	mgr_object_release(l);
	mgr_client_close(c);
	/* plain TCP to a TLS listener: refused, nothing learnt */
	unsetenv("MGR_TLS_CA");
	assert_int_not_equal(mgr_client_connect(d.addr[0], &c), 0);
	unsetenv("MGR_TLS_CERT");
	unsetenv("MGR_TLS_KEY");
	unix_ping(&d);
	daemon_stop(&d);
	harness_rmtree(certs);
}

/* mgrd's threads (the Threads: line of /proc/PID/status). */
static int thread_count(pid_t pid)
{
	char path[64], line[256];
	int n = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (n < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) != 1)
			n = -1;
	fclose(f);
	assert_true(n > 0);
	return n;
}

/* The count once it holds for 50 ms (at most 2 s): a finished handshake
 * thread gone, and a sanitizer's own thread, started with the first
 * thread mgrd makes, counted. */
static int thread_count_settled(pid_t pid)
{
	int n = thread_count(pid), last = -1;
	for (int i = 0; i < 40 && n != last; i++) {
		usleep(50000);
		last = n;
		n = thread_count(pid);
	}
	return n;
}

/* TLS sessions run on the loop thread (tls.h): once their handshake
 * threads are gone, two more sessions leave mgrd with no more threads than
 * one did (a pump kept two per session); and records that came in one read are all answered
 * though no more bytes wake the loop: 200 requests, each flushed as its
 * own record, wait for their replies with a bounded timeout; the same for
 * replies read ahead together by a client driven by mgr_client_process. */
static void test_tls_on_loop(void **state)
{
	(void)state;
	if (system("openssl version >/dev/null 2>&1")) {
		skip();
	}
	char certs[256], a[300], b[300], ca[300];
	harness_tmpdir(certs, sizeof(certs), "mgr-tls");
	make_certs(certs);
	snprintf(a, sizeof(a), "%s/srv.pem", certs);
	snprintf(b, sizeof(b), "%s/srv.key", certs);
	snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", "--tls-cert", a, "--tls-key", b, NULL};
	daemon_start(&d, extra);
	setenv("MGR_TLS_CA", ca, 1);
	mgr_client *c[3];
	mgr_object *n[3];
	mgr_future *f[200];
	int before = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mgr_client_connect(d.addr[0], &c[i]), 0);
		mgr_client_set_timeout(c[i], 5000);
		assert_int_equal(mgr_counter_open(c[i], "tl", &n[i]), 0);
		if (i == 0) /* mgrd's threads with one TLS session */
			before = thread_count_settled(d.pid);
	}
	unsetenv("MGR_TLS_CA"); /* read at connect only */
	mgr_value *one = mgr_value_new_int(1);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(mgr_call_async(n[i % 3], "add", &one, 1, &f[i]), 0);
		assert_int_equal(mgr_client_flush(c[i % 3]), 0);
	}
	for (int i = 0; i < 200; i++)
		assert_int_equal(mgr_future_wait(f[i], NULL), 0);
	/* an application's own loop: poll(mgr_client_fd), mgr_client_process;
	 * three replies read ahead together must all be delivered */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mgr_call_async(n[0], "add", &one, 1, &f[i]), 0);
		assert_int_equal(mgr_client_flush(c[0]), 0);
	}
	usleep(100000); /* the replies come meanwhile */
	int64_t until = clock_now_ms() + 3000;
	while (!(mgr_future_done(f[0]) && mgr_future_done(f[1]) && mgr_future_done(f[2])) &&
	       clock_now_ms() < until) {
		struct pollfd pfd = {mgr_client_fd(c[0]), POLLIN, 0};
		poll(&pfd, 1, 100);
		assert_int_equal(mgr_client_process(c[0]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_true(mgr_future_done(f[i]));
		assert_int_equal(mgr_future_wait(f[i], NULL), 0);
	}
	mgr_value_free(one);
	int64_t v = 0;
	assert_int_equal(mgr_counter_get(n[0], &v), 0);
	assert_int_equal(v, 203);
	until = clock_now_ms() + 5000;
	while (thread_count(d.pid) > before && clock_now_ms() < until)
		usleep(10000);
	assert_true(thread_count(d.pid) <= before); /* two more sessions, no more threads */
	for (int i = 0; i < 3; i++) {
		mgr_object_release(n[i]);
		mgr_client_close(c[i]);
	}
	daemon_stop(&d);
	harness_rmtree(certs);
}

/* A TLS client over the limits is told why over TLS (tls_refuse), and
 * the next one gets in once a slot frees. */
static void test_tls_refused(void **state)
{
	(void)state;
	if (system("openssl version >/dev/null 2>&1")) {
		skip();
	}
	char certs[256], a[300], b[300], ca[300];
	harness_tmpdir(certs, sizeof(certs), "mgr-tls");
	make_certs(certs);
	snprintf(a, sizeof(a), "%s/srv.pem", certs);
	snprintf(b, sizeof(b), "%s/srv.key", certs);
	snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:127.0.0.1:0", "--tls-cert", a, "--tls-key", b,
			       "--max-conns-per-uid", "1", NULL};
	daemon_start(&d, extra);
	setenv("MGR_TLS_CA", ca, 1);
	mgr_client *c1, *c2;
	assert_int_equal(mgr_client_connect(d.addr[0], &c1), 0);
	int rc = mgr_client_connect(d.addr[0], &c2);
	const char *why = mgr_client_errmsg(NULL);
	unsetenv("MGR_TLS_CA");
	assert_int_equal(rc, MGR_ELIMIT);
	assert_non_null(strstr(why, "per-uid connection limit"));
	mgr_client_close(c1);
	setenv("MGR_TLS_CA", ca, 1);
	int64_t until = clock_now_ms() + 5000; /* c1's session ends as its close is read */
	while ((rc = mgr_client_connect(d.addr[0], &c2)) && clock_now_ms() < until)
		usleep(20000);
	unsetenv("MGR_TLS_CA");
	assert_int_equal(rc, 0);
	assert_int_equal(harness_info(c2, "sessions"), 1);
	mgr_client_close(c2);
	daemon_stop(&d);
	harness_rmtree(certs);
}

/* ---- a host that vanishes ---- */

#define NS "mgrtcp16"
#define VH "mgrt16h"
#define VC "mgrt16c"

static void netns_down(void)
{
	(void)!system("ip netns del " NS " 2>/dev/null; ip link del " VH " 2>/dev/null");
}

static bool netns_up(void)
{
	netns_down();
	return system("ip netns add " NS " && ip link add " VH " type veth peer name " VC
		      " && ip link set " VC " netns " NS " && ip addr add 10.231.16.1/24 dev " VH
		      " && ip link set " VH " up && ip netns exec " NS " ip addr add "
		      "10.231.16.2/24 dev " VC " && ip netns exec " NS " ip link set " VC " up"
		      " && ip netns exec " NS " ip link set lo up") == 0;
}

/* The worker, in the namespace: takes the robust lock, says so, waits. */
static void worker(const char *addr, int tell)
{
	int ns = open("/run/netns/" NS, O_RDONLY | O_CLOEXEC);
	mgr_client *c;
	mgr_object *l;
	bool got = false;
	if (ns < 0 || setns(ns, CLONE_NEWNET) || mgr_client_connect(addr, &c) ||
	    mgr_lock_open(c, "vanish", true, &l) ||
	    mgr_lock_acquire(l, true, 5000, &got, NULL) || !got)
		_exit(1);
	(void)!write(tell, "L", 1);
	pause();
	_exit(0);
}

static void test_vanished_host(void **state)
{
	(void)state;
	if (geteuid() != 0 || system("ip -V >/dev/null 2>&1")) {
		print_message("skipped: needs root and ip(8) for a network namespace\n");
		skip();
	}
	if (!netns_up()) {
		netns_down();
		print_message("skipped: cannot make a network namespace with a veth pair here\n");
		skip();
	}
	struct daemon d;
	const char *extra[] = {"--listen", "tcp:10.231.16.1:0", "--remote-timeout", "2000", NULL};
	daemon_start(&d, extra);
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		close(p[0]);
		worker(d.addr[0], p[1]);
	}
	close(p[1]);
	char b;
	struct pollfd pfd = {p[0], POLLIN, 0};
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	assert_int_equal(read(p[0], &b, 1), 1);
	close(p[0]);
	mgr_client *c;
	mgr_object *l;
	assert_int_equal(mgr_client_connect(d.sock, &c), 0);
	assert_int_equal(mgr_lock_open(c, "vanish", true, &l), 0);
	bool got = true, died = false;
	assert_int_equal(mgr_lock_acquire(l, true, 0, &got, &died), 0);
	assert_false(got); /* the worker holds it */
	/* the cable is pulled: no FIN, no RST; the worker process lives on */
	int64_t t0 = clock_now_ms();
	run("ip link set " VH " down");
	assert_int_equal(mgr_lock_acquire(l, true, 20000, &got, &died), 0);
	int64_t took = clock_now_ms() - t0;
	print_message("the vanished worker's lock came back after %lld ms (--remote-timeout 2000)\n",
		      (long long)took);
	assert_true(got);
	assert_true(died);
	assert_int_equal(mgr_lock_release(l), 0);
	mgr_object_release(l);
	mgr_client_close(c);
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	netns_down();
	daemon_stop(&d);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_key_v4_v6),
		cmocka_unit_test(test_local_tcp_polls),
		cmocka_unit_test(test_wrong_and_no_key),
		cmocka_unit_test(test_raw_garbage_and_silence),
		cmocka_unit_test(test_gone_before_answering),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_on_loop),
		cmocka_unit_test(test_tls_refused),
		cmocka_unit_test(test_vanished_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
