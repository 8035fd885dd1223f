/* make demo: the showcase. A parent registers the Employee type, starts a
 * manager that serves it, runs the ticket office and the Employee pattern
 * with 10 worker processes each, prints what happened and the objects left
 * on the manager, shuts it down and leaves no process behind. */
#include <stdio.h>
#include <unistd.h>

#include <mgr/server.h>

#include "employee-type.h"
#include "scenarios.h"
#include "workers.h"

static void demo_objects(mgr_client *c)
{
	mgr_value *objs = NULL;
	char buf[256];
	if (mgr_call(mgr_client_manager(c), "objects", NULL, 0, &objs))
		return;
	printf("objects left on the manager:\n");
	for (size_t i = 0; i < mgr_value_len(objs); i++)
		printf("  %s\n", mgr_value_format(mgr_value_list_get(objs, i), buf, sizeof(buf)));
	mgr_value_free(objs);
}

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	int err = mgr_type_register(&employee_type);
	if (err)
		return example_fail("demo: registering the employee type", err);
	if (example_start("demo", &(mgr_manager_opts){.serve = mgr_server_main}, &m, &c))
		return 1;
	printf("\n");
	int rc = scenario_tickets(c);
	printf("\n");
	rc |= scenario_employee(c);
	printf("\n");
	demo_objects(c);
	mgr_client_close(c);
	err = mgr_manager_shutdown(m);
	printf("\ndemo: manager stopped %s and reaped; result: %s\n",
	       err ? "with an error" : "cleanly", rc || err ? "FAIL" : "OK");
	return rc || err;
}
