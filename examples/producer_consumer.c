/* producer_consumer: a parent starts a private manager and forks producer
 * and consumer processes around one joinable_queue. Every item is consumed
 * exactly once (a per-item tally in a dict), join returns after the last
 * task_done, and the program exits non-zero if anything is off. */
#include <stdio.h>
#include <unistd.h>

#include <mgr/mgr.h>
#include <mgr/process.h>

#include "workers.h"

#define PRODUCERS 3
#define CONSUMERS 4
#define ITEMS 500 /* per producer */

static int producer(mgr_client *c, int p, void *q)
{
	(void)c;
	for (int i = 0; i < ITEMS; i++) {
		int err = mgr_queue_put(q, mgr_value_new_int((int64_t)p * ITEMS + i), true, MGR_FOREVER);
		if (err)
			return example_fail("put", err);
	}
	return 0;
}

/* Takes items until a nil one; tallies each item it got. */
static int consumer(mgr_client *c, int index, void *q)
{
	(void)index;
	mgr_object *tally;
	int err = mgr_dict_open(c, "tally", &tally);
	for (bool stop = false; !err && !stop;) {
		mgr_value *v = NULL;
		err = mgr_queue_get(q, true, MGR_FOREVER, &v);
		stop = !err && mgr_value_kind(v) == MGR_NIL;
		if (!err && !stop)
			err = mgr_dict_incr(tally, v, 1, NULL);
		mgr_value_free(v);
		if (!err)
			err = mgr_queue_task_done(q);
	}
	mgr_object_release(tally);
	return err ? example_fail("consuming", err) : 0;
}

/* The consumers run under one process of their own, so that the parent
 * can join the producers alone before it sends the stop items. */
struct consumers {
	mgr_client *c;
	mgr_object *q;
};

static int consumers_body(void *arg)
{
	struct consumers *cs = arg;
	return workers_run(CONSUMERS, consumer, cs->c, cs->q) != 0;
}

/* Every item once: PRODUCERS * ITEMS keys, each counted 1. */
static int check(mgr_object *tally)
{
	mgr_value *items = NULL;
	size_t n = 0, bad = 0;
	int err = mgr_dict_len(tally, &n);
	if (!err)
		err = mgr_dict_values(tally, &items);
	if (err)
		return example_fail("reading the tally", err);
	for (size_t i = 0; i < mgr_value_len(items); i++)
		bad += mgr_value_int(mgr_value_list_get(items, i)) != 1;
	mgr_value_free(items);
	printf("%zu distinct items consumed (expected %d), %zu consumed more than once\n", n,
	       PRODUCERS * ITEMS, bad);
	return n != PRODUCERS * ITEMS || bad;
}

static int run(mgr_client *c)
{
	mgr_object *q, *tally;
	mgr_process *consumers = NULL;
	int code = -1, err = mgr_joinable_queue_open(c, "work", 16, &q);
	if (!err)
		err = mgr_dict_open(c, "tally", &tally);
	if (err)
		return example_fail("opening the queue", err);
	struct consumers cs = {c, q};
	if ((err = mgr_process_start(consumers_body, &cs, 0, &consumers)))
		return example_fail("starting the consumers", err);
	int bad = workers_run(PRODUCERS, producer, c, q);
	for (int i = 0; i < CONSUMERS; i++) /* one stop item per consumer */
		bad += mgr_queue_put(q, mgr_value_new_nil(), true, MGR_FOREVER) != 0;
	if ((err = mgr_queue_join(q, 60000)))
		return example_fail("join", err);
	printf("join returned: every item put was task_done\n");
	bad += mgr_process_join(consumers, MGR_FOREVER, &code) != 0 || code != 0;
	mgr_process_free(consumers);
	printf("%d producers x %d items, %d consumers; %d failures\n", PRODUCERS, ITEMS,
	       CONSUMERS, bad);
	int rc = check(tally) || bad;
	mgr_object_release(q);
	mgr_object_release(tally);
	return rc;
}

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	if (example_start("producer_consumer", NULL, &m, &c))
		return 1;
	int rc = run(c);
	mgr_client_close(c);
	int err = mgr_manager_shutdown(m);
	printf("result: %s\n", rc || err ? "FAIL" : "OK");
	return rc || err;
}
