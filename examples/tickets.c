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
	if (example_start("tickets", NULL, &m, &c))
		return 1;
	int rc = scenario_tickets(c);
	mgr_client_close(c);
	return mgr_manager_shutdown(m) || rc;
}
