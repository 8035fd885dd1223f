/* A private manager listening on TCP (mgr_manager_start's listen and
 * auth_key; Python's BaseManager(address=('127.0.0.1', 0)).start()): the
 * bound ports come back (port 0 resolved, IPv4 and IPv6, a fixed port),
 * workers connecting over TCP with the key reach the program's own type
 * (the Employee, served in a fork of this program) and mgrd's, a wrong key
 * is refused and the manager serves on, the UNIX socket stays, the key is
 * in neither the manager's command line nor its environment, and bad
 * options or a taken port fail within the start's deadline. Both ways of
 * running the manager: a fork serving this program's types (serve), and an
 * exec'd mgrd. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <mgr/mgr.h>
#include <mgr/server.h>

#include "../examples/employee-type.h"
#include "harness.h"

static const char tcp_key[] = "0123456789abcdef-a-private-manager-key";
#define TCP_KEY_LEN (sizeof(tcp_key) - 1)

/* A manager listening on the NULL-terminated addresses with tcp_key;
 * serve: a fork of this program (its types), else an exec'd mgrd. */
static mgr_manager *tcp_start(const char *const *listen, bool serve)
{
	mgr_manager_opts o = {.listen = listen, .auth_key = tcp_key, .auth_key_len = TCP_KEY_LEN,
			      .serve = serve ? mgr_server_main : NULL};
	mgr_manager *m = NULL;
	int err = mgr_manager_start(&o, &m);
	if (err)
		fail_msg("mgr_manager_start: %s: %s", mgr_strerror(err), mgr_client_errmsg(NULL));
	return m;
}

static int tcp_connect(const char *addr, const char *key, mgr_client **c)
{
	mgr_client_opts o = {.address = addr, .auth_key = key, .auth_key_len = strlen(key)};
	return mgr_client_connect_opts(&o, c);
}

/* The port of "tcp:HOST:PORT" (asserts a real one). */
static int tcp_port(const char *addr)
{
	assert_non_null(addr);
	const char *colon = strrchr(addr, ':');
	assert_non_null(colon);
	int port = atoi(colon + 1);
	assert_true(port > 0 && port < 65536);
	return port;
}

/* A worker: its own TCP session with the key, the named employee, a raise. */
static int tcp_raise_one(void *arg, int i)
{
	(void)i;
	mgr_client *c = NULL;
	mgr_object *e = NULL;
	int err = tcp_connect(arg, tcp_key, &c);
	if (!err)
		err = mgr_object_lookup(c, "zhangsan", &e);
	if (!err)
		err = mgr_call(e, "increase", NULL, 0, NULL);
	mgr_object_release(e);
	mgr_client_close(c);
	return err ? 1 : 0;
}

static void test_serve_employee_over_tcp(void **state)
{
	(void)state;
	mgr_manager *m = tcp_start((const char *[]){"tcp:127.0.0.1:0", "tcp:[::1]:0", NULL}, true);
	const char *v4 = mgr_manager_tcp_address(m, 0), *v6 = mgr_manager_tcp_address(m, 1);
	tcp_port(v4);
	tcp_port(v6);
	assert_int_equal(strncmp(v4, "tcp:127.0.0.1:", 14), 0);
	assert_int_equal(strncmp(v6, "tcp:[::1]:", 10), 0);
	assert_null(mgr_manager_tcp_address(m, 2));

	mgr_client *c = NULL;
	assert_int_equal(tcp_connect(v6, tcp_key, &c), 0);
	mgr_object *e = NULL;
	mgr_value *args[] = {mgr_value_new_string("zhangsan"), mgr_value_new_int(1000)};
	assert_int_equal(mgr_object_create(c, "employee", "zhangsan", args, 2, &e), 0);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	assert_int_equal(harness_fork_n(10, tcp_raise_one, (void *)v4), 10);
	mgr_value *pay = NULL;
	assert_int_equal(mgr_call(e, "get_pay", NULL, 0, &pay), 0);
	assert_string_equal(mgr_value_string(pay, NULL), "zhangsan:2000");
	mgr_value_free(pay);
	mgr_object_release(e);
	mgr_client_close(c);

	/* the UNIX socket stays, with the same objects */
	assert_int_equal(mgr_client_connect(mgr_manager_address(m), &c), 0);
	assert_int_equal(mgr_object_lookup(c, "zhangsan", &e), 0);
	mgr_object_release(e);
	mgr_client_close(c);
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

/* An exec'd mgrd with the key on its pipe: a counter over TCP, a wrong
 * key refused and the manager unharmed; the key is not in its argv or
 * environment. */
static void test_exec_wrong_key_and_where_the_key_is(void **state)
{
	(void)state;
	mgr_manager *m = tcp_start((const char *[]){"tcp:127.0.0.1:0", NULL}, false);
	const char *a = mgr_manager_tcp_address(m, 0);
	tcp_port(a);
	mgr_client *c = NULL, *bad = NULL;
	assert_int_equal(tcp_connect(a, "0123456789abcdef-not-the-key", &bad), MGR_EPERM);
	assert_null(bad);
	assert_int_equal(tcp_connect(a, tcp_key, &c), 0);
	mgr_object *n = NULL;
	int64_t now = 0;
	assert_int_equal(mgr_counter_open(c, "hits", &n), 0);
	assert_int_equal(mgr_counter_add(n, 5, &now), 0);
	assert_int_equal(now, 5);
	mgr_object_release(n);
	mgr_client_close(c);

	const char *files[] = {"cmdline", "environ"};
	for (size_t i = 0; i < 2; i++) {
		char path[64], buf[65536];
		snprintf(path, sizeof(path), "/proc/%d/%s", mgr_manager_pid(m), files[i]);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_true(len > 0);
		assert_null(memmem(buf, len, tcp_key, TCP_KEY_LEN));
		if (i == 0)
			assert_non_null(memmem(buf, len, "--auth-key-fd", 13));
	}
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

/* A free port of this host, found by binding port 0 (then closed). */
static int tcp_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* A fixed port is the one bound; a second manager on it fails cleanly. */
static void test_fixed_port_and_taken(void **state)
{
	(void)state;
	char addr[64];
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%d", tcp_free_port());
	const char *listen[] = {addr, NULL};
	mgr_manager *m = tcp_start(listen, true);
	assert_string_equal(mgr_manager_tcp_address(m, 0), addr);
	for (int serve = 0; serve < 2; serve++) {
		mgr_manager_opts o = {.listen = listen, .auth_key = tcp_key,
				      .auth_key_len = TCP_KEY_LEN, .start_timeout_ms = 5000,
				      .serve = serve ? mgr_server_main : NULL,
				      .args = (const char *[]){"--log-level", "error", NULL}};
		mgr_manager *m2 = NULL;
		assert_int_equal(mgr_manager_start(&o, &m2), MGR_ECONNECT);
		assert_null(m2);
	}
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

static void test_bad_options(void **state)
{
	(void)state;
	mgr_manager *m = NULL;
	const char *v4[] = {"tcp:127.0.0.1:0", NULL};
	mgr_manager_opts nokey = {.listen = v4};
	assert_int_equal(mgr_manager_start(&nokey, &m), MGR_EINVAL);
	mgr_manager_opts shortkey = {.listen = v4, .auth_key = "short", .auth_key_len = 5};
	assert_int_equal(mgr_manager_start(&shortkey, &m), MGR_EINVAL);
	mgr_manager_opts notcp = {.listen = (const char *[]){"udp:1.2.3.4:5", NULL},
				  .auth_key = tcp_key, .auth_key_len = TCP_KEY_LEN};
	assert_int_equal(mgr_manager_start(&notcp, &m), MGR_EINVAL);
	assert_null(m);
	/* no listen: no TCP address, as before */
	m = tcp_start(NULL, false);
	assert_null(mgr_manager_tcp_address(m, 0));
	assert_int_equal(mgr_manager_shutdown(m), 0);
}

int main(void)
{
	if (mgr_type_register(&employee_type))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serve_employee_over_tcp),
		cmocka_unit_test(test_exec_wrong_key_and_where_the_key_is),
		cmocka_unit_test(test_fixed_port_and_taken),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
