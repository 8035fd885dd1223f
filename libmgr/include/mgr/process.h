/* Processes as Python's multiprocessing.Process has them: start a function
 * in a forked child, join it with a timeout, ask whether it is alive and
 * how it ended, terminate or kill it. Joins wait on a pidfd (poll), so a
 * timeout needs no signal handler and no sleeping loop.
 *
 * Zombies and orphans: a child that has ended stays a zombie (its exit
 * status kept by the kernel) until its parent reaps it; these functions
 * reap the child they started, and only it (never wait(-1): a private
 * manager is a child too). mgr_process_join reaps it, and so does
 * mgr_process_free (after waiting for a non-daemon child, or killing a
 * daemon one, as Python does for its children at exit), so a child started
 * here never stays a zombie. A child whose parent dies first is an orphan,
 * re-parented to init (or a subreaper) and reaped there; a daemon child
 * (MGR_PROCESS_DAEMON) does not outlive its parent at all: the kernel sends
 * it SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG), and a
 * child whose parent died before it could ask for that exits at once.
 *
 * The child is a fork: it shares nothing with the parent after it starts
 * but what fork copies. libmgr handles (clients, objects) work in it as
 * mgr.h says: its first call opens its own connection. Not thread-safe on
 * one mgr_process: use each from one thread at a time. */
#ifndef MGR_PROCESS_H
#define MGR_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mgr/error.h"
#include "mgr/sync.h" /* MGR_FOREVER */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mgr_process mgr_process;

/* What the child runs; its return value is the child's exit status (0-255,
 * Python's exitcode; Python's sys.exit(n)). */
typedef int (*mgr_process_fn)(void *arg);

enum mgr_process_flags {
	/* Python's daemon=True: killed with its parent (see above), and by
	 * mgr_process_free instead of waited for. */
	MGR_PROCESS_DAEMON = 1 << 0,
};

/* Forks a child that runs fn(arg) and exits with its result (stdio flushed
 * first in both: no buffered line is written twice). *out: caller owns —
 * free with mgr_process_free(). MGR_EINVAL (fn or out NULL, unknown
 * flags), MGR_ENOMEM, MGR_ELIMIT (fork failed: process limit). */
MGR_API int mgr_process_start(mgr_process_fn fn, void *arg, unsigned flags, mgr_process **out);
/* Waits until the child ends, at most timeout_ms (0: do not wait;
 * MGR_FOREVER: as long as it takes), and reaps it. MGR_ETIMEDOUT if it
 * still runs (Python's join returns and exitcode stays None); *exitcode
 * (may be NULL) as mgr_process_exitcode. Joining an ended child again
 * answers the same. A negative timeout: MGR_EINVAL. */
MGR_API int mgr_process_join(mgr_process *p, int64_t timeout_ms, int *exitcode);
/* Whether the child still runs (reaps it if it ended). */
MGR_API bool mgr_process_is_alive(mgr_process *p);
/* How it ended, as Python's exitcode: its exit status, or -N when signal
 * N ended it. MGR_ESTATE while it runs (Python's None). Reaps it if it
 * ended. */
MGR_API int mgr_process_exitcode(mgr_process *p, int *exitcode);
/* SIGTERM (Python's terminate) / SIGKILL (kill). 0 also when it already
 * ended (nothing is sent to a reaped pid). */
MGR_API int mgr_process_terminate(mgr_process *p);
MGR_API int mgr_process_kill(mgr_process *p);
MGR_API pid_t mgr_process_pid(const mgr_process *p);
/* Accepts NULL. A child still running is waited for, or killed first if
 * it is a daemon; then reaped. Frees p. */
MGR_API void mgr_process_free(mgr_process *p);

#ifdef __cplusplus
}
#endif
#endif
