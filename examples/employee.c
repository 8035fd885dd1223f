/* The Employee pattern: the program registers its own type, starts a
 * manager that serves it (a forked child, like Python's BaseManager), and
 * 10 worker processes call increase() on one shared employee. Python needs a
 * Lock around each call; here the method runs under the object's lock. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mgr/server.h>

#include "employee-type.h"
#include "workers.h"

#define WORKERS 10

static int worker(mgr_client *c, int i, void *arg)
{
	(void)i;
	(void)arg;
	mgr_object *e;
	int err = mgr_object_lookup(c, "zhangsan", &e);
	if (!err)
		err = mgr_callv(e, "increase", NULL, mgr_value_new_int(100), NULL);
	if (err)
		return example_fail("worker", err);
	mgr_object_release(e);
	return 0;
}

/* get_pay is "zhangsan:2000" and the history is 1100, 1200, ... 2000. */
static int check(mgr_object *e, char *pay, size_t size)
{
	mgr_value *p = NULL, *h = NULL;
	int bad = mgr_call(e, "get_pay", NULL, 0, &p) || mgr_call(e, "history", NULL, 0, &h);
	snprintf(pay, size, "%s", bad ? "?" : mgr_value_string(p, NULL));
	bad = bad || strcmp(pay, "zhangsan:2000") || mgr_value_len(h) != WORKERS;
	for (size_t i = 0; !bad && i < WORKERS; i++)
		bad = mgr_value_int(mgr_value_list_get(h, i)) != 1100 + 100 * (int64_t)i;
	mgr_value_free(p);
	mgr_value_free(h);
	return bad;
}

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	mgr_object *e;
	char pay[96];
	int err = mgr_type_register(&employee_type);
	if (!err)
		err = mgr_manager_start(&(mgr_manager_opts){.serve = mgr_server_main}, &m);
	if (err)
		return example_fail("start manager", err);
	printf("employee: parent %d started a manager (pid %d) serving its own 'employee' type\n",
	       (int)getpid(), mgr_manager_pid(m));
	mgr_value *args[] = {mgr_value_new_string("zhangsan"), mgr_value_new_int(1000)};
	err = mgr_client_connect(mgr_manager_address(m), &c);
	if (!err)
		err = mgr_object_create(c, "employee", "zhangsan", args, 2, &e);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	if (err)
		return example_fail("setup", err);
	int failed = workers_run(WORKERS, worker, c, NULL);
	int bad = check(e, pay, sizeof(pay));
	printf("employee: %d workers joined (%d failed), each called increase() once, no locks\n"
	       "  get_pay() = %s (expected zhangsan:2000); history in order: %s\n",
	       WORKERS, failed, pay, bad ? "no" : "yes");
	mgr_object_release(e);
	mgr_client_close(c);
	int ok = !mgr_manager_shutdown(m) && !failed && !bad;
	printf("employee: %s\n", ok ? "OK" : "FAIL");
	return ok ? 0 : 1;
}
