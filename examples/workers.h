/* What the example programs share: forking worker processes that use the
 * parent's client (each child's first call opens its own connection) and
 * joining exactly those (the manager is a child too: never wait() for any). */
#ifndef EXAMPLES_WORKERS_H
#define EXAMPLES_WORKERS_H

#include <mgr/mgr.h>

typedef int (*worker_fn)(mgr_client *c, int index, void *arg);

/* Runs fn in n child processes; returns how many failed (exit != 0). */
int workers_run(int n, worker_fn fn, mgr_client *c, void *arg);
/* Prints "what: error (server message)" to stderr; returns 1. */
int example_fail(const char *what, int err);
/* Starts a private manager (opts may be NULL), says so as who, and
 * connects to it: 0, or non-zero after example_fail(). */
int example_start(const char *who, const mgr_manager_opts *opts, mgr_manager **m,
		  mgr_client **c);

#endif
