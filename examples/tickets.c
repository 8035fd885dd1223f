/* The ticket office: 3 tickets, 10 buyer processes. Each asks how many are
 * left, then tries to take one. The manager's atomic take (counter.take)
 * decides; no buyer holds a lock. Exactly 3 succeed and 0 remain. */
#include <stdio.h>
#include <unistd.h>

#include <mgr/mgr.h>

#include "scenarios.h"
#include "workers.h"

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	int err = mgr_manager_start(NULL, &m);
	if (!err)
		printf("tickets: parent %d started a manager (pid %d)\n", (int)getpid(),
		       mgr_manager_pid(m));
	if (!err)
		err = mgr_client_connect(mgr_manager_address(m), &c);
	if (err)
		return example_fail("start manager", err);
	int rc = scenario_tickets(c);
	mgr_client_close(c);
	return mgr_manager_shutdown(m) || rc;
}
