/* Worker processes for the examples (see workers.h). */
#include "workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int workers_run(int n, worker_fn fn, mgr_client *c, void *arg)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	int failed = 0, st;
	if (!pids)
		return n;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pids[i] = fork();
		if (pids[i] == 0) {
			int rc = fn(c, i, arg);
			fflush(stdout); /* _exit does not flush: keep the worker's lines */
			_exit(rc);
		}
		failed += pids[i] < 0;
	}
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			failed += waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) ||
				  WEXITSTATUS(st) != 0;
	free(pids);
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
