/* 10 worker processes each write into a shared dict and append their pid
 * to a shared list that starts as [0, 1, 2, 3, 4]. The parent checks every
 * key and that the list has 15 entries, each worker's pid once. */
#include <stdio.h>
#include <unistd.h>

#include <mgr/mgr.h>

#include "workers.h"

#define WORKERS 10

static int worker(mgr_client *c, int i, void *arg)
{
	(void)arg;
	mgr_object *d, *l;
	int err = mgr_dict_open(c, "shared", &d);
	if (!err)
		err = mgr_list_open(c, "pids", &l);
	if (!err)
		err = mgr_dict_set(d, mgr_value_new_int(i), mgr_value_new_int(getpid()));
	if (!err)
		err = mgr_list_append(l, mgr_value_new_int(getpid()));
	if (err)
		return example_fail("worker", err);
	mgr_object_release(d);
	mgr_object_release(l);
	return 0;
}

/* Every worker's key holds a pid that the list has exactly once. */
static int check(mgr_object *d, mgr_object *l)
{
	size_t len = 0;
	int bad = mgr_list_len(l, &len) || len != 5 + WORKERS;
	for (int i = 0; !bad && i < WORKERS; i++) {
		mgr_value *key = mgr_value_new_int(i), *pid = NULL;
		int64_t n = 0;
		bad = mgr_dict_get(d, key, &pid) || mgr_list_count(l, pid, &n) || n != 1;
		mgr_value_free(key);
		mgr_value_free(pid);
	}
	return bad;
}

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	mgr_object *d, *l;
	if (example_start("shared_dict", NULL, &m, &c))
		return 1;
	mgr_value *init = mgr_value_new_list();
	for (int i = 0; i < 5; i++)
		mgr_value_list_append(init, mgr_value_new_int(i));
	int err = mgr_object_create(c, "list", "pids", &init, 1, &l);
	if (!err)
		err = mgr_dict_open(c, "shared", &d);
	mgr_value_free(init);
	if (err)
		return example_fail("setup", err);
	int failed = workers_run(WORKERS, worker, c, NULL);
	mgr_value *items = NULL, *pids = NULL;
	char buf[1024];
	mgr_dict_items(d, &items);
	mgr_list_copy(l, &pids);
	printf("shared_dict: %d workers joined (%d failed)\n  dict: %s\n", WORKERS, failed,
	       mgr_value_format(items, buf, sizeof(buf)));
	printf("  list: %s\n", mgr_value_format(pids, buf, sizeof(buf)));
	mgr_value_free(items);
	mgr_value_free(pids);
	int ok = !failed && !check(d, l);
	mgr_object_release(d);
	mgr_object_release(l);
	mgr_client_close(c);
	ok = !mgr_manager_shutdown(m) && ok;
	printf("shared_dict: %s\n", ok ? "OK" : "FAIL");
	return ok ? 0 : 1;
}
