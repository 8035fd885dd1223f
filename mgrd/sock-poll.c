/* Polling the sockets a moment before the loop sleeps (docs/design.md
 * "Loopback TCP"). A turn that read calls from a session that polls its
 * own socket for replies (no ring; its Hello said polls: libmgr to a peer
 * on this host, TLS or not) is followed by non-blocking turns - epoll_wait with no
 * timeout, and whatever callbacks it brings - under one adaptive budget
 * (common/spin.h), until one of them reads such a session's calls again
 * (the budget starts over) or the budget is spent; only then the loop
 * sleeps. The replies say so (Reply.spin), and only then does the client
 * poll for them: its next request finds mgrd awake, its reply finds the
 * client awake, and neither side wakes a sleeping, perhaps halted, CPU,
 * which on a VM costs more than the call.
 *
 * A client that blocks in recv at once (one written from the protocol
 * document) is never polled for: its reply would wake it on mgrd's
 * CPU, where a polling mgrd is in its way. What else stops the polls: the
 * machine (more runnable threads than CPUs, less the polling sessions that
 * sent lately but one: they are the peers, not strangers), a poll that
 * catches nothing (the budget drops to zero; every 16th turn probes), a
 * poll found descheduled (someone needed the CPU: the next 16 ... 1024
 * turns do not poll), --no-spin, a stop. Rings poll without system calls
 * (conn-poll.c). */
#include "sock-poll.h"

#include <event2/event.h>
#include <sys/socket.h>

#include "../common/clock.h"
#include "../common/spin.h"
#include "conn-state.h"
#include "state.h"

#define SOCK_POLL_EPOCH_NS 10000000 /* senders are counted over 10 ms */

static struct spin sock_spin = SPIN_INIT;
static bool sock_machine_ok = true; /* the last turn's verdict, for the hints */
/* polling sessions that sent: since the epoch began, and in the one before;
 * whether one of the turn's came from another CPU (or one unknown) */
static uint32_t sock_epoch, sock_senders, sock_senders_last;
static uint64_t sock_epoch_at;
static bool sock_elsewhere;

/* Whether c's calls came from another CPU than ours: the CPU that sent
 * them, as TCP records it (SO_INCOMING_CPU: on loopback, the sender's);
 * unknown - a UNIX socket records none - counts as elsewhere. A client on
 * our CPU needs it: polling would only keep it waiting. */
static bool sock_sent_elsewhere(struct conn *c)
{
	if (c->sock_cpu_unknown)
		return true;
	int cpu = -1;
	socklen_t len = sizeof(cpu);
	if (getsockopt(c->fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) || cpu < 0) {
		c->sock_cpu_unknown = true;
		return true;
	}
	return (uint32_t)cpu + 1 != spin_cpu();
}

void sock_poll_sent(struct conn *c)
{
	struct server *srv = c->srv;
	srv->sock_reads++;
	bool away = sock_sent_elsewhere(c);
	c->sock_cpu_same = !away;
	sock_elsewhere |= away;
	if (c->sock_epoch != sock_epoch) {
		c->sock_epoch = sock_epoch;
		sock_senders++;
	}
}

/* One non-blocking turn: SPIN_READY if it read a polling session's calls. */
static int sock_poll_check(void *arg)
{
	struct server *srv = arg;
	uint64_t before = srv->sock_reads;
	if (event_base_loop(srv->base, EVLOOP_NONBLOCK) < 0 || event_base_got_exit(srv->base) ||
	    event_base_got_break(srv->base) || srv->stopping)
		return SPIN_STOP;
	if (srv->sock_reads == before)
		return SPIN_WAIT;
	srv->sock_caught++;
	return SPIN_READY;
}

/* Polling sessions that sent in this epoch or the last (at least 1). */
static uint32_t sock_senders_lately(void)
{
	uint64_t now = clock_now_ns();
	if (now - sock_epoch_at >= SOCK_POLL_EPOCH_NS) {
		sock_senders_last = sock_senders;
		sock_senders = 0;
		sock_epoch++;
		sock_epoch_at = now;
	}
	uint32_t n = sock_senders_last > sock_senders ? sock_senders_last : sock_senders;
	return n ? n : 1;
}

void sock_poll_after_turn(struct server *srv)
{
	if (srv->cfg.no_spin || srv->stopping)
		return;
	int cpus, runnable;
	spin_machine_read(&cpus, &runnable);
	/* the polling sessions that sent lately are our peers, not strangers */
	sock_machine_ok = spin_machine_verdict_ours(cpus, runnable, (int)sock_senders_lately());
	/* while the calls caught come from elsewhere (all of a turn's or a
	 * catch's senders on our CPU: stop) */
	while (spin_turn_given(&sock_spin, sock_machine_ok && sock_elsewhere)) {
		sock_elsewhere = false;
		if (!spin_poll(&sock_spin, sock_poll_check, srv))
			break;
	}
	sock_elsewhere = false;
}

bool sock_poll_hint(const struct conn *c)
{
	return sock_spin.ns && sock_machine_ok && !sock_spin.skip && !c->sock_cpu_same &&
	       !c->srv->cfg.no_spin && !c->srv->stopping;
}
