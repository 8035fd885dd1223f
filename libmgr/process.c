/* Child processes (mgr/process.h): fork a function, join it through a
 * pidfd, reap exactly the child started (waitpid on its pid, never -1). A
 * kernel without pidfds gets a WNOHANG poll every 5 ms instead. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "client.h"
#include "mgr/process.h"

struct mgr_process {
	pid_t pid;
	int pidfd;     /* -1: none (no pidfds), or closed once reaped */
	unsigned flags;
	bool reaped;
	int exitcode;  /* once reaped: status, or -signal */
};

/* The child: a daemon dies with the thread that forked it; if that one is
 * already gone (it died between fork and prctl) there is no one to ask. */
static _Noreturn void process_child(mgr_process_fn fn, void *arg, unsigned flags, pid_t parent)
{
	if (flags & MGR_PROCESS_DAEMON) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(255);
	}
	int rc = fn(arg);
	fflush(NULL); /* _exit does not flush: keep the child's lines */
	_exit(rc & 0xff);
}

int mgr_process_start(mgr_process_fn fn, void *arg, unsigned flags, mgr_process **out)
{
	if (!fn || !out || (flags & ~(unsigned)MGR_PROCESS_DAEMON))
		return client_fail(MGR_EINVAL, "fn or out is NULL, or unknown flags");
	mgr_process *p = calloc(1, sizeof(*p));
	if (!p)
		return client_fail(MGR_ENOMEM, "out of memory");
	pid_t parent = getpid();
	fflush(NULL); /* else the child writes the parent's buffered lines again */
	p->pid = fork();
	if (p->pid < 0) {
		int e = errno;
		free(p);
		return client_fail(e == ENOMEM ? MGR_ENOMEM : MGR_ELIMIT, "fork: %s", strerror(e));
	}
	if (p->pid == 0)
		process_child(fn, arg, flags, parent);
	p->flags = flags;
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	*out = p;
	return 0;
}

static void process_record(mgr_process *p, int status)
{
	p->reaped = true;
	p->exitcode = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

/* Reaps p if it has ended (without waiting); true once reaped. */
static bool process_reap_now(mgr_process *p)
{
	int status;
	pid_t r;
	if (p->reaped)
		return true;
	while ((r = waitpid(p->pid, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == p->pid)
		process_record(p, status);
	else if (r < 0) /* ECHILD: reaped elsewhere (a wait(-1), SIGCHLD ignored): status unknown, 0 */
		process_record(p, 0);
	return p->reaped;
}

static int process_left(int64_t deadline)
{
	if (deadline == INT64_MAX)
		return -1;
	int64_t left = deadline - clock_now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Waits until p's pidfd is readable (it ended) or deadline; without a
 * pidfd, a short sleep. */
static void process_wait_some(mgr_process *p, int64_t deadline)
{
	if (p->pidfd >= 0) {
		struct pollfd pfd = {p->pidfd, POLLIN, 0};
		poll(&pfd, 1, process_left(deadline)); /* EINTR: the caller loops */
		return;
	}
	int left = process_left(deadline);
	struct timespec tick = {0, (left >= 0 && left < 5 ? left : 5) * 1000 * 1000L};
	nanosleep(&tick, NULL);
}

int mgr_process_join(mgr_process *p, int64_t timeout_ms, int *exitcode)
{
	if (!p || timeout_ms < 0)
		return client_fail(MGR_EINVAL, "process is NULL or the timeout is negative");
	int64_t now = clock_now_ms();
	int64_t deadline = timeout_ms == MGR_FOREVER || timeout_ms > INT64_MAX - now
				   ? INT64_MAX
				   : now + timeout_ms;
	while (!process_reap_now(p)) {
		if (clock_now_ms() >= deadline)
			return client_fail(MGR_ETIMEDOUT, "process %d still runs", (int)p->pid);
		process_wait_some(p, deadline);
	}
	if (exitcode)
		*exitcode = p->exitcode;
	return 0;
}

bool mgr_process_is_alive(mgr_process *p) { return p && !process_reap_now(p); }

int mgr_process_exitcode(mgr_process *p, int *exitcode)
{
	if (!p || !exitcode)
		return client_fail(MGR_EINVAL, "process or exitcode is NULL");
	if (!process_reap_now(p))
		return client_fail(MGR_ESTATE, "process %d still runs", (int)p->pid);
	*exitcode = p->exitcode;
	return 0;
}

/* Signals p unless it was reaped (its pid may be someone else's now);
 * through the pidfd when there is one, so a pid reused in between is safe. */
static int process_signal(mgr_process *p, int sig)
{
	if (!p)
		return client_fail(MGR_EINVAL, "process is NULL");
	if (p->reaped)
		return 0;
	int rc = p->pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0)
			       : kill(p->pid, sig);
	if (rc < 0 && errno != ESRCH)
		return client_fail(MGR_EPERM, "signal %d to %d: %s", sig, (int)p->pid, strerror(errno));
	return 0;
}

int mgr_process_terminate(mgr_process *p) { return process_signal(p, SIGTERM); }
int mgr_process_kill(mgr_process *p) { return process_signal(p, SIGKILL); }
pid_t mgr_process_pid(const mgr_process *p) { return p ? p->pid : 0; }

void mgr_process_free(mgr_process *p)
{
	if (!p)
		return;
	if (p->flags & MGR_PROCESS_DAEMON)
		process_signal(p, SIGKILL);
	mgr_process_join(p, MGR_FOREVER, NULL);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p);
}
