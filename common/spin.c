/* The adaptive poll shared by mgrd and libmgr (see spin.h). */
#include "spin.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"

#define SPIN_START_NS 60000
#define SPIN_MAX_NS 100000
#define SPIN_PROBE_NS 60000 /* a probe must outlast one cross-CPU wakeup */
#define SPIN_PROBE_EVERY 16
#define SPIN_HOT_NS 20000   /* a catch this quick: both sides are in step */
#define SPIN_SLOW_MAX 3
#define SPIN_PREEMPT_NS 20000 /* a gap this long between two looks: descheduled */
#define SPIN_BACKOFF_MIN 16
#define SPIN_BACKOFF_MAX 1024
#define SPIN_MACHINE_NS 10000000 /* how often the machine is looked at again */

/* ---- the machine: runnable threads against usable CPUs ---- */

/* The instantaneous runnable count, /proc/loadavg's fourth field "R/T"
 * (-1: unreadable). */
static int spin_runnable(void)
{
	char buf[128];
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = buf;
	for (int field = 0; field < 3 && p; field++) /* past the three averages */
		if ((p = strchr(p, ' ')))
			p++;
	return p ? atoi(p) : -1;
}

int spin_cpus(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof(set), &set) ? 1 : CPU_COUNT(&set);
}

bool spin_machine_verdict(int cpus, int runnable)
{
	/* unreadable /proc: trust the peer checks alone */
	return cpus >= 2 && (runnable < 0 || runnable <= cpus);
}

bool spin_machine_verdict_ours(int cpus, int runnable, int ours)
{
	/* the verdict allows for one peer; the others are not strangers */
	if (runnable >= 0 && ours > 1)
		runnable = runnable > ours - 1 ? runnable - (ours - 1) : 0;
	return spin_machine_verdict(cpus, runnable);
}

/* Racy by design: threads may both refresh; either reading is a fresh one
 * (a torn pair mixes two fresh ones). */
static uint64_t spin_machine_at;
static int spin_machine_cpus_seen, spin_machine_runnable_seen;

void spin_machine_read(int *cpus, int *runnable)
{
	uint64_t now = clock_now_ns();
	if (now - __atomic_load_n(&spin_machine_at, __ATOMIC_RELAXED) >= SPIN_MACHINE_NS) {
		__atomic_store_n(&spin_machine_cpus_seen, spin_cpus(), __ATOMIC_RELAXED);
		__atomic_store_n(&spin_machine_runnable_seen, spin_runnable(), __ATOMIC_RELAXED);
		__atomic_store_n(&spin_machine_at, now, __ATOMIC_RELAXED);
	}
	*cpus = __atomic_load_n(&spin_machine_cpus_seen, __ATOMIC_RELAXED);
	*runnable = __atomic_load_n(&spin_machine_runnable_seen, __ATOMIC_RELAXED);
}

bool spin_machine_free(void)
{
	int cpus, runnable;
	spin_machine_read(&cpus, &runnable);
	return spin_machine_verdict(cpus, runnable);
}

uint32_t spin_cpu(void)
{
	int cpu = sched_getcpu();
	return cpu < 0 ? 0 : (uint32_t)cpu + 1;
}

/* ---- the budget ---- */

bool spin_turn_given(struct spin *s, bool machine_free)
{
	if (s->skip) {
		s->skip--;
		return false;
	}
	if (!s->judged && !machine_free)
		return false;
	return s->ns || ++s->waits % SPIN_PROBE_EVERY == 0;
}

bool spin_turn(struct spin *s)
{
	/* a judged spin never asks: the clock read and /proc every 10 ms saved */
	return spin_turn_given(s, s->judged || spin_machine_free());
}

void spin_rearm(struct spin *s)
{
	if (s->skip)
		return; /* preempted lately: the back-off runs out first */
	s->ns = SPIN_START_NS;
	s->slow = 0;
}

static void spin_caught(struct spin *s, uint64_t spent)
{
	if (spent <= SPIN_HOT_NS) {
		s->slow = 0;
		s->backoff = 0;
		uint64_t want = 2 * spent < SPIN_START_NS ? SPIN_START_NS : 2 * spent;
		s->ns = want > SPIN_MAX_NS ? SPIN_MAX_NS : (uint32_t)want;
	} else if (!s->ns) { /* a probe caught one: offer to get in step */
		s->ns = SPIN_START_NS;
		s->slow = SPIN_SLOW_MAX - 1;
	} else if (++s->slow >= SPIN_SLOW_MAX) {
		s->ns = 0;
	}
}

/* Descheduled while polling: someone else needed this CPU. */
static void spin_preempted(struct spin *s)
{
	s->ns = 0;
	s->backoff = s->backoff ? 2 * s->backoff : SPIN_BACKOFF_MIN;
	if (s->backoff > SPIN_BACKOFF_MAX)
		s->backoff = SPIN_BACKOFF_MAX;
	s->skip = s->backoff;
}

bool spin_poll(struct spin *s, int (*check)(void *), void *arg)
{
	uint32_t budget = s->ns ? s->ns : SPIN_PROBE_NS;
	uint64_t t0 = clock_now_ns(), last = t0, now;
	for (;;) {
		int got = check(arg);
		now = clock_now_ns();
		if (got == SPIN_READY) {
			spin_caught(s, now - t0);
			return true;
		}
		if (got == SPIN_STOP)
			break;
		if (now - last > SPIN_PREEMPT_NS) {
			spin_preempted(s);
			return false;
		}
		if (now - t0 >= budget)
			break;
		last = now;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
	s->ns = 0;
	return false;
}

struct spin_recv_arg {
	int fd;
	void *buf;
	size_t len;
	int flags; /* beside MSG_DONTWAIT: MSG_PEEK leaves the bytes */
	ssize_t n;
};

static int spin_recv_ready(void *arg)
{
	struct spin_recv_arg *a = arg;
	a->n = recv(a->fd, a->buf, a->len, MSG_DONTWAIT | a->flags);
	return a->n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ? SPIN_READY : SPIN_WAIT;
}

ssize_t spin_recv(struct spin *s, int fd, void *buf, size_t len)
{
	struct spin_recv_arg a = {fd, buf, len, 0, -1};
	if (spin_poll(s, spin_recv_ready, &a))
		return a.n;
	errno = EAGAIN;
	return -1;
}

bool spin_readable(struct spin *s, int fd)
{
	char b;
	struct spin_recv_arg a = {fd, &b, 1, MSG_PEEK, -1};
	return spin_poll(s, spin_recv_ready, &a);
}

/* ---- the scheduler slice ---- */

/* struct sched_attr as far as SCHED_ATTR_SIZE_VER0 (glibc has no wrapper). */
struct spin_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

uint64_t spin_slice_want(const char *env, bool no_spin)
{
	if (!env || !*env || no_spin)
		return 0;
	char *end;
	long us = strtol(env, &end, 10);
	if (*end || us < 0)
		return 0; /* not a number: as if unset */
	uint64_t ns = (uint64_t)us * 1000;
	return !ns ? 0 : ns < SPIN_SLICE_MIN_NS ? SPIN_SLICE_MIN_NS
		: ns > SPIN_SLICE_MAX_NS ? SPIN_SLICE_MAX_NS : ns;
}

int spin_slice_set(uint64_t ns)
{
	struct spin_sched_attr a;
	memset(&a, 0, sizeof(a));
	if (!ns || syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0))
		return ns ? -1 : 0;
	if (a.policy != SCHED_OTHER && a.policy != SCHED_BATCH)
		return 0; /* real-time or idle: not ours to touch */
	a.size = sizeof(a);
	a.flags = 0;
	a.runtime = ns;
	return syscall(SYS_sched_setattr, 0, &a, 0) ? -1 : 0;
}

uint64_t spin_slice_of(pid_t tid)
{
	struct spin_sched_attr a;
	memset(&a, 0, sizeof(a));
	return syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0) ? 0 : a.runtime;
}
