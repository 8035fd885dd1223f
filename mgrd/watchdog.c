/* The stop deadline when the loop does not come back (see watchdog.h). */
#include "watchdog.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../common/clock.h"

static const int watchdog_sigs[] = {SIGTERM, SIGINT};

/* One watchdog a process: the signal handler has no argument to find it by. */
static struct {
	struct watchdog_conf conf;
	int efd;  /* rung by a stop signal and by watchdog_done */
	atomic_bool done;
	bool running;
	pthread_t thread;
	struct sigaction before[2]; /* libevent's handlers, called after ours */
} wd = {.efd = -1};

static void watchdog_ring(void)
{
	uint64_t one = 1;
	(void)!write(wd.efd, &one, sizeof(one)); /* async-signal-safe */
}

static void watchdog_signal(int sig)
{
	int saved = errno;
	watchdog_ring();
	for (size_t i = 0; i < 2; i++)
		if (watchdog_sigs[i] == sig && wd.before[i].sa_handler != SIG_DFL &&
		    wd.before[i].sa_handler != SIG_IGN)
			wd.before[i].sa_handler(sig);
	errno = saved;
}

/* Ours in front of each stop signal's handler (not of an ignored one). */
static int watchdog_chain(void)
{
	for (size_t i = 0; i < 2; i++) {
		if (sigaction(watchdog_sigs[i], NULL, &wd.before[i]))
			return -1;
		if (wd.before[i].sa_handler == SIG_IGN || (wd.before[i].sa_flags & SA_SIGINFO))
			continue;
		struct sigaction sa = wd.before[i];
		sa.sa_handler = watchdog_signal;
		if (sigaction(watchdog_sigs[i], &sa, NULL))
			return -1;
	}
	return 0;
}

/* Asleep until a stop signal or the parent's end: true; false when done. */
static bool watchdog_wait_stop(void)
{
	int pfd = wd.conf.parent_pid > 0 ? wd.conf.parent_fd : -1;
	struct pollfd p[2] = {{wd.efd, POLLIN, 0}, {pfd, POLLIN, 0}};
	bool poll_ppid = wd.conf.parent_pid > 0 && pfd < 0;
	for (;;) {
		int n = poll(p, pfd >= 0 ? 2 : 1, poll_ppid ? 1000 : -1);
		if (atomic_load(&wd.done))
			return false;
		if (n > 0 || (poll_ppid && getppid() != wd.conf.parent_pid))
			return true;
	}
}

/* Asleep until done or the deadline: whether done came. */
static bool watchdog_wait_done(int64_t deadline_ms)
{
	struct pollfd p = {wd.efd, POLLIN, 0};
	uint64_t one;
	while (!atomic_load(&wd.done)) {
		int64_t left = deadline_ms - clock_now_ms();
		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) > 0)
			(void)!read(wd.efd, &one, sizeof(one)); /* a repeated signal */
	}
	return true;
}

static void *watchdog_main(void *arg)
{
	(void)arg;
	if (!watchdog_wait_stop())
		return NULL;
	int64_t deadline = clock_now_ms() + wd.conf.stop_ms + WATCHDOG_GRACE_MS;
	if (watchdog_wait_done(deadline))
		return NULL;
	char why[128];
	snprintf(why, sizeof(why), "the loop did not come back within %u ms of the stop "
		 "(a method running on it?)", wd.conf.stop_ms + WATCHDOG_GRACE_MS);
	wd.conf.last_words(wd.conf.arg, why);
	return NULL;
}

int watchdog_start(const struct watchdog_conf *conf)
{
	if (wd.running) /* one a process: a second server goes without */
		return -1;
	wd.conf = *conf;
	atomic_store(&wd.done, false);
	wd.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wd.efd < 0)
		return -1;
	sigset_t all, old;
	sigfillset(&all); /* the signals go to the loop's thread, as libevent expects */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&wd.thread, NULL, watchdog_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc || watchdog_chain()) {
		if (!rc) {
			atomic_store(&wd.done, true);
			watchdog_ring();
			pthread_join(wd.thread, NULL);
		}
		watchdog_done();
		return -1;
	}
	wd.running = true;
	return 0;
}

void watchdog_done(void)
{
	atomic_store(&wd.done, true);
	if (wd.running) {
		for (size_t i = 0; i < 2; i++) /* libevent's own again (it restores later) */
			if (wd.before[i].sa_handler != SIG_IGN && !(wd.before[i].sa_flags & SA_SIGINFO))
				sigaction(watchdog_sigs[i], &wd.before[i], NULL);
		watchdog_ring();
		pthread_join(wd.thread, NULL);
		wd.running = false;
	}
	if (wd.efd >= 0)
		close(wd.efd);
	wd.efd = -1;
}
