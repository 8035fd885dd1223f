/* make demo: a parent starts a private manager, forks workers that share a
 * counter, a dict and a list with no locks of their own, checks the totals
 * and prints what happened and what is left on the manager. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mgr/mgr.h>

#define WORKERS 8
#define ROUNDS 2000

static int fail(const char *what, int err, mgr_client *c)
{
	fprintf(stderr, "demo: %s: %s (%s)\n", what, mgr_strerror(err), mgr_client_errmsg(c));
	return 1;
}

/* One worker: its own calls, the manager's atomicity. */
static int worker(mgr_client *c, int n)
{
	mgr_object *hits, *words, *seen;
	int err = mgr_counter_open(c, "hits", &hits);
	if (!err)
		err = mgr_dict_open(c, "words", &words);
	if (!err)
		err = mgr_list_open(c, "seen", &seen);
	mgr_value *key = mgr_value_new_string("total");
	for (int i = 0; !err && i < ROUNDS; i++) {
		err = mgr_counter_add(hits, 1, NULL);
		if (!err)
			err = mgr_dict_incr(words, key, 1, NULL);
	}
	if (!err)
		err = mgr_list_append(seen, mgr_value_new_int(n));
	mgr_value_free(key);
	if (err)
		return fail("worker call", err, c);
	mgr_object_release(hits);
	mgr_object_release(words);
	mgr_object_release(seen);
	return 0;
}

static int check(mgr_client *c)
{
	mgr_object *hits, *words, *seen;
	int64_t total = 0, incr = 0;
	size_t len = 0;
	mgr_value *key = mgr_value_new_string("total"), *v = NULL;
	int err = mgr_counter_open(c, "hits", &hits);
	err = err ? err : mgr_dict_open(c, "words", &words);
	err = err ? err : mgr_list_open(c, "seen", &seen);
	err = err ? err : mgr_counter_get(hits, &total);
	err = err ? err : mgr_dict_get(words, key, &v);
	err = err ? err : mgr_list_len(seen, &len);
	mgr_value_free(key);
	if (err)
		return fail("reading results", err, c);
	incr = mgr_value_int(v);
	mgr_value_free(v);
	printf("counter 'hits'     = %" PRId64 " (expected %d)\n", total, WORKERS * ROUNDS);
	printf("dict 'words'.total = %" PRId64 " (expected %d)\n", incr, WORKERS * ROUNDS);
	printf("list 'seen'        = %zu entries (expected %d)\n", len, WORKERS);
	mgr_object_release(hits);
	mgr_object_release(words);
	mgr_object_release(seen);
	return total == WORKERS * ROUNDS && incr == WORKERS * ROUNDS && len == WORKERS ? 0 : 1;
}

static void list_objects(mgr_client *c)
{
	mgr_value *objs = NULL;
	char buf[256];
	if (mgr_call(mgr_client_manager(c), "objects", NULL, 0, &objs))
		return;
	printf("objects on the manager:\n");
	for (size_t i = 0; i < mgr_value_len(objs); i++)
		printf("  %s\n", mgr_value_format(mgr_value_list_get(objs, i), buf, sizeof(buf)));
	mgr_value_free(objs);
}

int main(void)
{
	mgr_manager *m;
	mgr_client *c;
	int err = mgr_manager_start(NULL, &m);
	if (err)
		return fail("starting the manager", err, NULL);
	printf("manager pid %d at %s\n", mgr_manager_pid(m), mgr_manager_address(m));
	if ((err = mgr_client_connect(mgr_manager_address(m), &c)))
		return fail("connecting", err, NULL);
	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++)
		if ((pids[i] = fork()) == 0)
			_exit(worker(c, i)); /* the child's first call opens its own connection */
	int bad = 0, st;
	for (int i = 0; i < WORKERS; i++) /* not wait(): the manager is a child too */
		bad += waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	printf("%d workers x %d rounds of counter add + dict incr, no client locks; %d failed\n",
	       WORKERS, ROUNDS, bad);
	int rc = check(c) || bad;
	list_objects(c);
	mgr_client_close(c);
	err = mgr_manager_shutdown(m);
	printf("manager shut down %s; result: %s\n", err ? "with an error" : "cleanly",
	       rc ? "FAIL" : "OK");
	return rc || err;
}
