/* mgrd as a systemd service, without systemd: readiness notification
 * (READY=1 / STOPPING=1 datagrams to $NOTIFY_SOCKET) and socket activation
 * through systemd-socket-activate ($MGR_SOCKET_ACTIVATE; skipped without
 * it), which passes the listening socket as fd 3 with LISTEN_PID/LISTEN_FDS. */
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
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl-run.h"
#include "harness.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	harness_tmpdir(dir, sizeof(dir), "mgr-svc");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_rmtree(dir);
	return 0;
}

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* A bound datagram socket at path. */
static int notify_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	struct pollfd p = {fd, POLLIN, 0};
	assert_int_equal(poll(&p, 1, 10000), 1);
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	if (!strstr(buf, want))
		fail_msg("notification '%s' lacks '%s'", buf, want);
}

static int64_t info_pid(const char *path)
{
	mgr_client *c;
	assert_int_equal(mgr_client_connect(path, &c), 0);
	int64_t pid = harness_info(c, "pid");
	mgr_client_close(c);
	return pid;
}

static void test_notify_ready(void **state)
{
	(void)state;
	char sock[128], notify[128];
	path_in(sock, sizeof(sock), "mgrd.sock");
	path_in(notify, sizeof(notify), "notify");
	int nfd = notify_socket(notify);
	setenv("NOTIFY_SOCKET", notify, 1);
	const char *argv[] = {getenv("MGR_MGRD"), "--socket", sock, "--log-level", "warn", NULL};
	pid_t pid = run_start(argv, NULL, NULL);
	unsetenv("NOTIFY_SOCKET");
	expect_datagram(nfd, "READY=1"); /* and then it must accept at once */
	assert_int_equal(info_pid(sock), pid);
	kill(pid, SIGTERM);
	expect_datagram(nfd, "STOPPING=1");
	assert_int_equal(run_reap(pid), 0);
	close(nfd);
}

static void test_socket_activation(void **state)
{
	(void)state;
	const char *sa = getenv("MGR_SOCKET_ACTIVATE");
	if (!sa || !*sa)
		skip();
	char sock[128], line[512];
	path_in(sock, sizeof(sock), "act.sock");
	const char *argv[] = {sa, "-l", sock, getenv("MGR_MGRD"), "--log-level", "warn", NULL};
	int err;
	pid_t pid = run_start(argv, NULL, &err);
	/* "Listening on PATH as 3." once the socket is there */
	assert_int_equal(run_read_line(err, line, sizeof(line), 10000), 0);
	assert_non_null(strstr(line, "Listening on"));
	assert_int_equal(info_pid(sock), pid); /* the first connection starts mgrd, same pid */
	char ctl_sock[160];
	snprintf(ctl_sock, sizeof(ctl_sock), "%s", sock);
	const char *shut[] = {getenv("MGR_MGRCTL"), "-s", ctl_sock, "shutdown", NULL};
	struct run r;
	run_wait(shut, &r);
	assert_int_equal(r.status, 0);
	run_free(&r);
	assert_int_equal(run_reap(pid), 0);
	close(err);
}

/* Without LISTEN_PID naming it, mgrd must not take fd 3 as its socket. */
static void test_activation_other_pid(void **state)
{
	(void)state;
	char sock[128];
	path_in(sock, sizeof(sock), "own.sock");
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	const char *argv[] = {getenv("MGR_MGRD"), "--socket", sock, "--log-level", "warn", NULL};
	int out;
	pid_t pid = run_start(argv, &out, NULL);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	mgr_client *c = NULL;
	for (int i = 0; i < 1000 && mgr_client_connect(sock, &c); i++)
		poll(NULL, 0, 10); /* no readiness channel here: poll for the socket */
	assert_non_null(c);
	mgr_client_close(c);
	kill(pid, SIGTERM);
	assert_int_equal(run_reap(pid), 0);
	close(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_ready),
		cmocka_unit_test(test_socket_activation),
		cmocka_unit_test(test_activation_other_pid),
	};
	return cmocka_run_group_tests_name("service", tests, setup, teardown);
}
