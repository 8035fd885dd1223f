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
	int err = mgr_type_register(&employee_type); /* served by the forked manager */
	if (err)
		return example_fail("registering the employee type", err);
	if (example_start("employee", &(mgr_manager_opts){.serve = mgr_server_main}, &m, &c))
		return 1;
	int rc = scenario_employee(c);
	mgr_client_close(c);
	return mgr_manager_shutdown(m) || rc;
}
