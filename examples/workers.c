/* Worker processes for the examples (see workers.h), started and joined
 * with libmgr's process helper (mgr/process.h) as Python's Process. */
#include "workers.h"

#include <mgr/process.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* What one worker runs: a copy is the child's after fork. */
struct worker {
	worker_fn fn;
	mgr_client *c;
	int index;
	void *arg;
};

static int workers_body(void *arg)
{
	struct worker *w = arg;
	return w->fn(w->c, w->index, w->arg);
}

int workers_run(int n, worker_fn fn, mgr_client *c, void *arg)
{
	mgr_process **procs = calloc((size_t)n, sizeof(*procs));
	int failed = 0, code;
	if (!procs)
		return n;
	for (int i = 0; i < n; i++) {
		struct worker w = {fn, c, i, arg};
		failed += mgr_process_start(workers_body, &w, 0, &procs[i]) != 0;
	}
	for (int i = 0; i < n; i++) {
		if (procs[i])
			failed += mgr_process_join(procs[i], MGR_FOREVER, &code) != 0 || code != 0;
		mgr_process_free(procs[i]);
	}
	free(procs);
	return failed;
}

int example_start(const char *who, const mgr_manager_opts *opts, mgr_manager **m,
		  mgr_client **c)
{
	int err = mgr_manager_start(opts, m);
	if (err)
		return example_fail("starting the manager", err);
	printf("%s: parent %d started a manager (pid %d) at %s\n", who, (int)getpid(),
	       mgr_manager_pid(*m), mgr_manager_address(*m));
	err = mgr_client_connect(mgr_manager_address(*m), c);
	return err ? example_fail("connecting", err) : 0;
}

int example_fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s (%s)\n", what, mgr_strerror(err), mgr_client_errmsg(NULL));
	return 1;
}
