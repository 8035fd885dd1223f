/* The ticket office and the Employee pattern (see scenarios.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scenarios.h"
#include "workers.h"

#define TICKETS 3
#define BUYERS SCENARIO_WORKERS
#define WORKERS SCENARIO_WORKERS

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

int scenario_tickets(mgr_client *c)
{
	mgr_object *t, *tally;
	mgr_value *initial = mgr_value_new_int(TICKETS);
	int err = mgr_object_create(c, "counter", "tickets", &initial, 1, &t);
	if (!err)
		err = mgr_dict_open(c, "tally", &tally);
	mgr_value_free(initial);
	if (err)
		return example_fail("tickets setup", err);
	int failed = workers_run(BUYERS, buyer, c, NULL);
	int64_t left = -1, bought = tally_of(tally, "bought"), none = tally_of(tally, "none left");
	err = mgr_counter_get(t, &left);
	printf("tickets: %d buyers joined (%d failed); %" PRId64 " bought, %" PRId64
	       " told none left; %" PRId64 " remain\n", BUYERS, failed, bought, none, left);
	mgr_object_release(t);
	mgr_object_release(tally);
	int ok = !err && !failed && bought == TICKETS && none == BUYERS - TICKETS && left == 0;
	printf("tickets: %s\n", ok ? "OK" : "FAIL");
	return ok ? 0 : 1;
}

static int employee_worker(mgr_client *c, int i, void *arg)
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
static int employee_check(mgr_object *e, char *pay, size_t size)
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

int scenario_employee(mgr_client *c)
{
	mgr_object *e;
	char pay[96];
	mgr_value *args[] = {mgr_value_new_string("zhangsan"), mgr_value_new_int(1000)};
	int err = mgr_object_create(c, "employee", "zhangsan", args, 2, &e);
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	if (err)
		return example_fail("employee setup", err);
	int failed = workers_run(WORKERS, employee_worker, c, NULL);
	int bad = employee_check(e, pay, sizeof(pay));
	printf("employee: %d workers joined (%d failed), each called increase() once, no locks\n"
	       "  get_pay() = %s (expected zhangsan:2000); history in order: %s\n",
	       WORKERS, failed, pay, bad ? "no" : "yes");
	mgr_object_release(e);
	int ok = !failed && !bad;
	printf("employee: %s\n", ok ? "OK" : "FAIL");
	return ok ? 0 : 1;
}
