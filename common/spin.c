/* The adaptive poll shared by mgrd and libmgr (see spin.h). */
#include "spin.h"

#include <errno.h>
#include <sched.h>
#include <sys/socket.h>

#include "clock.h"

#define SPIN_START_NS 60000
#define SPIN_MAX_NS 100000
#define SPIN_PROBE_NS 60000 /* a probe must outlast one cross-CPU wakeup */
#define SPIN_PROBE_EVERY 16
#define SPIN_HOT_NS 20000   /* a catch this quick: both sides are in step */
#define SPIN_SLOW_MAX 3

bool spin_turn(struct spin *s)
{
	return s->ns || ++s->waits % SPIN_PROBE_EVERY == 0;
}

void spin_rearm(struct spin *s)
{
	s->ns = SPIN_START_NS;
	s->slow = 0;
}

static void spin_caught(struct spin *s, uint64_t spent)
{
	if (spent <= SPIN_HOT_NS) {
		s->slow = 0;
		uint64_t want = 2 * spent < SPIN_START_NS ? SPIN_START_NS : 2 * spent;
		s->ns = want > SPIN_MAX_NS ? SPIN_MAX_NS : (uint32_t)want;
	} else if (!s->ns) { /* a probe caught one: offer to get in step */
		s->ns = SPIN_START_NS;
		s->slow = SPIN_SLOW_MAX - 1;
	} else if (++s->slow >= SPIN_SLOW_MAX) {
		s->ns = 0;
	}
}

bool spin_poll(struct spin *s, bool (*ready)(void *), void *arg)
{
	uint32_t budget = s->ns ? s->ns : SPIN_PROBE_NS;
	uint64_t t0 = clock_now_ns(), spent;
	do {
		if (ready(arg)) {
			spin_caught(s, clock_now_ns() - t0);
			return true;
		}
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		spent = clock_now_ns() - t0;
	} while (spent < budget);
	s->ns = 0;
	return false;
}

struct spin_recv_arg {
	int fd;
	void *buf;
	size_t len;
	ssize_t n;
};

static bool spin_recv_ready(void *arg)
{
	struct spin_recv_arg *a = arg;
	a->n = recv(a->fd, a->buf, a->len, MSG_DONTWAIT);
	return a->n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

ssize_t spin_recv(struct spin *s, int fd, void *buf, size_t len)
{
	struct spin_recv_arg a = {fd, buf, len, -1};
	if (spin_poll(s, spin_recv_ready, &a))
		return a.n;
	errno = EAGAIN;
	return -1;
}

int spin_cpus(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof(set), &set) ? 1 : CPU_COUNT(&set);
}
