/* Polling memory (or a socket) for a moment instead of sleeping: with one
 * busy peer running on another CPU, a blocking wait costs a sleep and a
 * cross-CPU wakeup (tens of microseconds on a VM) where the answer comes in
 * one. Both mgrd (for the next request) and libmgr (for the reply) poll,
 * each with one adaptive budget. Polling only pays while the peer runs on
 * ANOTHER CPU and no one else needs ours; everything here is about noticing
 * when that stops (issue 14, docs/design.md "Latency"):
 * - the machine: polling is off while more threads are runnable than this
 *   process has CPUs (/proc/loadavg's instantaneous count, and
 *   sched_getaffinity, both re-read every 10 ms: a busy core or an
 *   oversubscribed machine turns it off within 10 ms, a freed one back on;
 *   not for a judged spin, SPIN_INIT_JUDGED: libmgr's reader, whose own
 *   co-runners the count cannot tell from strangers);
 * - the peer: the caller's check says SPIN_STOP when the peer is not
 *   observed running elsewhere (ring.h: each side publishes its CPU, and
 *   whether it sleeps), and the poll ends at once;
 * - preemption: a poll that finds itself descheduled (a gap of more than
 *   SPIN_PREEMPT_NS between two looks at the clock: someone needed this
 *   CPU) stops, and the next 16, 32, ... 1024 waits do not poll at all;
 * - payoff: a catch within 20 us (both sides in step) keeps the budget:
 *   twice what it took, at least 60 us, at most 100 us; slow catches are
 *   allowed a few times in a row (how the two sides get in step), then the
 *   budget drops to zero; so does a poll that caught nothing;
 * - at zero, every 16th wait probes for 60 us (long enough to outlast the
 *   peer's wakeup); a probe that catches offers to get in step again. */
#ifndef COMMON_SPIN_H
#define COMMON_SPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spin {
	uint32_t ns;      /* the budget; 0: only probes */
	uint32_t slow;    /* slow catches in a row */
	uint32_t waits;   /* waits at zero budget, for the probe's turn */
	uint32_t backoff; /* waits to skip after the last preemption (0: none) */
	uint32_t skip;    /* waits still to skip */
	bool judged;      /* a payoff judge (spin-judge.h) decides whether this
			   * side polls at all: no machine check */
};

#define SPIN_INIT {60000, 0, 0, 0, 0, false}
/* For a waiter whose polling a spin_judge governs (libmgr's reader). The
 * machine check counts the runnable threads of the whole machine, which
 * include the waiter's own peers: two clients of one mgrd on 2 CPUs read
 * "3 runnable > 2 CPUs" whenever mgrd and the other client run, and then
 * slept through every call whose reply came within a microsecond
 * (docs/design.md "Latency": the queue's slow mode). The judge measures
 * whether polling pays instead of guessing it from the count. */
#define SPIN_INIT_JUDGED {60000, 0, 0, 0, 0, true}

/* What a poll's check says: bytes are there; not yet; give up (the peer is
 * not running elsewhere). */
enum { SPIN_STOP = -1, SPIN_WAIT = 0, SPIN_READY = 1 };

/* Whether to poll at this wait (the machine has room unless s is judged,
 * no back-off, and the budget or a probe's turn). */
bool spin_turn(struct spin *s);
/* spin_turn with the machine's verdict given (machine_free). */
bool spin_turn_given(struct spin *s, bool machine_free);
/* Back to the starting budget (the peer started polling). */
void spin_rearm(struct spin *s);
/* Calls check(arg) until it says SPIN_READY (true) or SPIN_STOP, for up to
 * the budget. Adapts s. */
bool spin_poll(struct spin *s, int (*check)(void *), void *arg);
/* recv(fd) without blocking for up to the budget: bytes, 0 at EOF, or -1
 * with errno (EAGAIN: nothing came within it). Adapts s. */
ssize_t spin_recv(struct spin *s, int fd, void *buf, size_t len);
/* Whether fd became readable (bytes, EOF or an error to read) within the
 * budget, without taking anything from it (a TLS session's records are
 * read by its library afterwards). Adapts s. */
bool spin_readable(struct spin *s, int fd);
/* CPUs this thread may run on (polling needs two). */
int spin_cpus(void);
/* Whether the machine has a CPU to spare for polling now: runnable threads
 * (us and our peer included) at most the CPUs we may use, and at least 2
 * of them. Re-read every 10 ms; safe from any thread. */
bool spin_machine_free(void);
/* Its verdict given the CPUs we may use and the runnable threads (-1:
 * unknown). */
bool spin_machine_verdict(int cpus, int runnable);
/* The same when ours of the runnable threads are our own peers, observed
 * running elsewhere (mgrd's clients): only strangers count against us, and
 * one peer is allowed for already. Two clients of one mgrd on 2 CPUs read
 * "3 runnable > 2 CPUs" when both run (Python clients run Python code
 * between calls): mgrd stopped polling, its replies said so, and both
 * clients slept at every call (docs/design.md "Latency"). */
bool spin_machine_verdict_ours(int cpus, int runnable, int ours);
/* The CPUs we may use and the runnable threads, as last read (every 10 ms,
 * as spin_machine_free). */
void spin_machine_read(int *cpus, int *runnable);
/* The CPU this thread runs on, plus one (0: unknown). */
uint32_t spin_cpu(void);

/* The scheduler slice a waiting thread asks for (sched_attr.sched_runtime:
 * EEVDF kernels, 6.12 and later, take it as the thread's request size; older
 * kernels accept and ignore it). A thread that runs microseconds between
 * sleeps asks for a short one: its virtual deadline comes early, so when
 * woken on a CPU a busy loop holds it preempts that loop at once, instead
 * of waiting out the loop's slice (up to a few ms). Its CPU share is not
 * changed; it is preempted sooner when it runs long. */
#define SPIN_SLICE_NS 100000u         /* the short slice measured (docs/design.md) */
#define SPIN_SLICE_MIN_NS 100000u     /* the kernel's clamp */
#define SPIN_SLICE_MAX_NS 100000000u
/* The slice to ask for: env is $MGR_SLICE_US. Opt-in, because interleaved
 * runs did not show it paying in every state (docs/design.md, "Latency"):
 * unset, "", not a number or polling off (no_spin): 0; "0": 0; N: N us
 * within the kernel's clamp. 0 means leave the thread's slice alone. */
uint64_t spin_slice_want(const char *env, bool no_spin);
/* Asks for a slice of ns for the calling thread (0: nothing done). 0, or
 * -1 when the kernel refused; a real-time or idle thread is left alone. */
int spin_slice_set(uint64_t ns);
/* The slice thread tid (0: the caller) runs with, in ns; 0 if unreadable. */
uint64_t spin_slice_of(pid_t tid);

#endif
