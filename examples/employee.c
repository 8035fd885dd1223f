/* The Employee pattern: the program registers its own type, starts a
 * manager that serves it (a forked child, like Python's BaseManager), and
 * 10 worker processes call increase() on one shared employee. Python needs a
 * Lock around each call; here the method runs under the object's lock. */
#include <stdio.h>
#include <unistd.h>

#include <mgr/server.h>

#include "employee-type.h"
#include "scenarios.h"
#include "workers.h"

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	int err = mgr_type_register(&employee_type);
	if (!err)
		err = mgr_manager_start(&(mgr_manager_opts){.serve = mgr_server_main}, &m);
	if (!err)
		printf("employee: parent %d started a manager (pid %d) serving its own 'employee' type\n",
		       (int)getpid(), mgr_manager_pid(m));
	if (!err)
		err = mgr_client_connect(mgr_manager_address(m), &c);
	if (err)
		return example_fail("start manager", err);
	int rc = scenario_employee(c);
	mgr_client_close(c);
	return mgr_manager_shutdown(m) || rc;
}
