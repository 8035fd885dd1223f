/* The ticket office: 3 tickets, 10 buyer processes. Each asks how many are
 * left, then tries to take one. The manager's atomic take (counter.take)
 * decides; no buyer holds a lock. Exactly 3 succeed and 0 remain. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include <mgr/mgr.h>

#include "workers.h"

#define TICKETS 3
#define BUYERS 10

static int buyer(mgr_client *c, int i, void *arg)
{
	(void)arg;
	mgr_object *t, *tally;
	int64_t left = 0;
	bool got = false;
	int err = mgr_counter_open(c, "tickets", &t);
	if (!err)
		err = mgr_dict_open(c, "tally", &tally);
	if (!err)
		err = mgr_counter_get(t, &left);
	if (!err)
		err = mgr_counter_take(t, 1, &got);
	mgr_value *key = mgr_value_new_string(got ? "bought" : "none left");
	if (!err)
		err = mgr_dict_incr(tally, key, 1, NULL);
	mgr_value_free(key);
	if (err)
		return example_fail("buyer", err);
	printf("buyer %d (pid %d): saw %" PRId64 " left, %s\n", i, (int)getpid(), left,
	       got ? "bought one" : "none left for me");
	mgr_object_release(t);
	mgr_object_release(tally);
	return 0;
}

static int64_t tally_of(mgr_object *tally, const char *what)
{
	mgr_value *key = mgr_value_new_string(what), *v = NULL;
	int64_t n = mgr_dict_get_default(tally, key, mgr_value_new_int(0), &v) ? -1 : mgr_value_int(v);
	mgr_value_free(key);
	mgr_value_free(v);
	return n;
}

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	mgr_object *t, *tally;
	int err = mgr_manager_start(NULL, &m);
	if (err)
		return example_fail("start manager", err);
	printf("tickets: parent %d started a manager (pid %d)\n", (int)getpid(), mgr_manager_pid(m));
	mgr_value *initial = mgr_value_new_int(TICKETS);
	err = mgr_client_connect(mgr_manager_address(m), &c);
	if (!err)
		err = mgr_object_create(c, "counter", "tickets", &initial, 1, &t);
	if (!err)
		err = mgr_dict_open(c, "tally", &tally);
	mgr_value_free(initial);
	if (err)
		return example_fail("setup", err);
	int failed = workers_run(BUYERS, buyer, c, NULL);
	int64_t left = -1, bought = tally_of(tally, "bought"), none = tally_of(tally, "none left");
	err = mgr_counter_get(t, &left);
	printf("tickets: %d buyers joined (%d failed); %" PRId64 " bought, %" PRId64
	       " told none left; %" PRId64 " remain\n", BUYERS, failed, bought, none, left);
	mgr_object_release(t);
	mgr_object_release(tally);
	mgr_client_close(c);
	int stop = mgr_manager_shutdown(m);
	int ok = !err && !failed && bought == TICKETS && none == BUYERS - TICKETS && left == 0 && !stop;
	printf("tickets: %s\n", ok ? "OK" : "FAIL");
	return ok ? 0 : 1;
}
