/* Custom types from modules: `mgrd --module libemployee.so` serves the
 * Employee type; a module that is missing, exports no mgr_module_types, or
 * registers a name that is taken is a startup error that names the module
 * (mgr_manager_start fails; mgrd run by hand says why and exits non-zero).
 * Paths come from the environment: MGR_MGRD, MGR_EMPLOYEE_MODULE,
 * MGR_CLASH_MODULE, MGR_NOTYPES_MODULE. */
#include <errno.h>
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

#include "harness.h"

#define MISSING_MODULE "/nonexistent/dir/libmissing-module.so"

static const char *module_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		fail_msg("%s is not set (run through meson test)", name);
	return v;
}

static void test_employee_from_module(void **state)
{
	(void)state;
	struct harness h;
	const char *args[] = {"--module", module_env("MGR_EMPLOYEE_MODULE"), NULL};
	harness_start(&h, args);

	mgr_value *types = NULL;
	assert_int_equal(mgr_call(mgr_client_manager(h.c), "types", NULL, 0, &types), 0);
	bool found = false;
	for (size_t i = 0; i < mgr_value_len(types); i++)
		found |= !strcmp(mgr_value_string(mgr_value_list_get(types, i), NULL), "employee");
	assert_true(found);
	mgr_value_free(types);

	int64_t base = harness_info(h.c, "objects");
	mgr_value *args2[] = {mgr_value_new_string("zhangsan"), mgr_value_new_int(1000)};
	mgr_object *e;
	assert_int_equal(mgr_object_create(h.c, "employee", NULL, args2, 2, &e), 0);
	mgr_value_free(args2[0]);
	mgr_value_free(args2[1]);
	for (int i = 0; i < 10; i++)
		assert_int_equal(mgr_call(e, "increase", NULL, 0, NULL), 0);
	mgr_value *pay = NULL, *ref = NULL;
	assert_int_equal(mgr_call(e, "get_pay", NULL, 0, &pay), 0);
	assert_string_equal(mgr_value_string(pay, NULL), "zhangsan:2000");
	mgr_value_free(pay);

	/* method_to_typeid from a module: the module calls back into mgrd */
	mgr_object *l;
	size_t n = 0;
	assert_int_equal(mgr_call(e, "history_list", NULL, 0, &ref), 0);
	assert_int_equal(mgr_object_from_ref(h.c, ref, &l), 0);
	mgr_value_free(ref);
	assert_int_equal(mgr_list_len(l, &n), 0);
	assert_int_equal(n, 10);
	mgr_object_release(l);
	mgr_object_release(e);
	assert_int_equal(harness_info(h.c, "objects"), base);
	harness_stop(&h);
}

/* mgr_manager_start fails cleanly (its child exited before ready). */
static void module_start_fails(const char *module)
{
	const char *args[] = {"--module", module, NULL};
	mgr_manager_opts o = {.args = args};
	mgr_manager *m = NULL;
	assert_int_equal(mgr_manager_start(&o, &m), MGR_ECONNECT);
	assert_null(m);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no zombie */
	assert_int_equal(errno, ECHILD);
}

/* Runs mgrd by hand with args and returns its exit status; its stderr
 * goes to err. */
static int module_run_mgrd(const char *const *args, char *err, size_t size)
{
	char dir[] = "/tmp/mgr-test-module-XXXXXX", sock[128];
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/mgrd.sock", dir);
	const char *argv[16] = {module_env("MGR_MGRD"), "--socket", sock};
	size_t n = 3;
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t r;
	while (len < size - 1 && (r = read(fds[0], err + len, size - 1 - len)) != 0)
		if (r > 0)
			len += (size_t)r;
		else if (errno != EINTR)
			break;
	err[len] = '\0';
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	struct stat sb;
	assert_int_equal(stat(sock, &sb), -1); /* it never listened */
	assert_int_equal(rmdir(dir), 0);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void module_mgrd_says(const char *const *args, const char *a, const char *b)
{
	char err[4096];
	int rc = module_run_mgrd(args, err, sizeof(err));
	if (rc == 0 || !strstr(err, a) || (b && !strstr(err, b)))
		fail_msg("mgrd exited %d; wanted non-zero and '%s'%s%s%s in:\n%s", rc, a,
			 b ? ", '" : "", b ? b : "", b ? "'" : "", err);
}

static void test_missing_module(void **state)
{
	(void)state;
	module_start_fails(MISSING_MODULE);
	const char *args[] = {"--module", MISSING_MODULE, NULL};
	module_mgrd_says(args, MISSING_MODULE, NULL);
}

static void test_clashing_module(void **state)
{
	(void)state;
	const char *clash = module_env("MGR_CLASH_MODULE");
	module_start_fails(clash);
	const char *args[] = {"--module", clash, NULL};
	module_mgrd_says(args, clash, "'dict'");

	/* two modules with the same type: the second is refused */
	const char *emp = module_env("MGR_EMPLOYEE_MODULE");
	const char *twice[] = {"--module", emp, "--module", emp, NULL};
	mgr_manager_opts o = {.args = twice};
	mgr_manager *m = NULL;
	assert_int_equal(mgr_manager_start(&o, &m), MGR_ECONNECT);
	module_mgrd_says(twice, emp, "'employee'");
}

static void test_module_without_types(void **state)
{
	(void)state;
	const char *so = module_env("MGR_NOTYPES_MODULE");
	module_start_fails(so);
	const char *args[] = {"--module", so, NULL};
	module_mgrd_says(args, so, "mgr_module_types");
	/* not a shared object at all */
	const char *text[] = {"--module", "/etc/passwd", NULL};
	module_mgrd_says(text, "/etc/passwd", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_employee_from_module),
		cmocka_unit_test(test_missing_module),
		cmocka_unit_test(test_clashing_module),
		cmocka_unit_test(test_module_without_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
