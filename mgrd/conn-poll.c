/* Polling instead of sleeping (common/spin.h), mgrd's side: after
 * answering, the loop polls the 16 rings that made calls last (the hot
 * list; a load from memory each, no system call), however many connections
 * are open, for at most 64 requests before returning to the loop - but only
 * while one of their clients is observed running on another CPU than
 * mgrd's (it published its CPU with its last request and does not sleep:
 * ring.h), and the machine has a CPU to spare (the runnable count less
 * those clients but one: spin_machine_verdict_ours). A
 * client that needs the CPU mgrd would burn, or a busy machine, stops it.
 * Socket connections are not polled here: sock-poll.c polls the sockets
 * of sessions that say they poll theirs (a socket-only client written
 * from the protocol document does not poll for its reply, so polling for
 * its next request would only take the CPU it needs). Ring clients are told to
 * poll too (Reply.spin) whenever the loop means to.
 *
 * A ring the loop reads stops asking to be woken (its client skips the
 * eventfd write); every such ring goes on the awake list, and before a ring
 * callback returns to the loop each one on it asks again; if bytes came
 * meanwhile, the callback reads one such ring at once (within the turn's
 * 64 reads) and the others on the next turn. */
#include "conn-poll.h"

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>

#include "../common/spin.h"
#include "conn-ring.h"
#include "conn-state.h"
#include "state.h"

#define CONN_SPIN_HOT 16 /* rings polled */
#define CONN_SPIN_MAX_FRAMES 64
#define CONN_SPIN_LOOK_EVERY 32 /* polls between looks at where clients run */

static struct spin conn_spin_state = SPIN_INIT;

/* Whether polling after serving c can pay at all (its budget aside). */
static bool conn_spin_possible(const struct conn *c)
{
	return c->ring && c->state == CONN_READY && !c->srv->stopping && !c->srv->cfg.no_spin;
}

/* The machine's verdict (spin_machine_free, a clock read) for the hints,
 * taken once per read that made calls rather than once per reply: a read
 * of 16 pipelined calls paid 16 clock reads for one answer. It is taken
 * again at the first hint after conn_poll_hot moved the read count on;
 * a reply that no read brought (a pool job's, a parked call's woken by a
 * timer) reuses the last one: only a hint, a stale one costs a client's
 * poll probe at worst, never correctness. */
static uint64_t conn_poll_reads, conn_poll_judged = UINT64_MAX;
static bool conn_poll_machine_ok;

static int conn_spin_count_elsewhere(const struct server *srv, uint32_t cpu);

/* Our own clients observed running on another CPU are not strangers in
 * the runnable count (spin_machine_verdict_ours). */
static bool conn_poll_machine_free(const struct server *srv)
{
	if (conn_poll_judged != conn_poll_reads) {
		conn_poll_judged = conn_poll_reads;
		int cpus, runnable;
		spin_machine_read(&cpus, &runnable);
		conn_poll_machine_ok = spin_machine_verdict_ours(
			cpus, runnable, conn_spin_count_elsewhere(srv, spin_cpu()));
	}
	return conn_poll_machine_ok;
}

bool conn_poll_hint(const struct conn *c)
{
	return conn_spin_state.ns && conn_spin_possible(c) && conn_poll_machine_free(c->srv);
}

/* Whether a client on the hot list runs on another CPU than cpu (ours)
 * and may send: one with a parked call waits for its reply (a blocking
 * get, acquire, wait), which only another client's call brings; that it
 * looks awake says nothing about a next request, and polling for it takes
 * the CPU the client who will release it needs. */
static bool conn_spin_elsewhere(const struct conn *o, uint32_t cpu)
{
	return o->state == CONN_READY && !o->n_parked && ring_peer_elsewhere(&o->ring->r, cpu);
}

/* How many clients on the hot list run elsewhere and may send (at most
 * CONN_SPIN_HOT looked at). */
static int conn_spin_count_elsewhere(const struct server *srv, uint32_t cpu)
{
	int n = 0, found = 0;
	for (const struct conn *o = srv->hot; o && n < CONN_SPIN_HOT; o = o->hot_next, n++)
		found += conn_spin_elsewhere(o, cpu);
	return found;
}

static bool conn_spin_wanted(const struct conn *c)
{
	if (!conn_spin_possible(c) || c->out.len > c->out.off)
		return false;
	return spin_turn_given(&conn_spin_state, conn_poll_machine_free(c->srv)) &&
	       conn_spin_count_elsewhere(c->srv, spin_cpu()) > 0;
}

void conn_poll_hot(struct conn *c)
{
	struct server *srv = c->srv;
	/* for its choice to poll; 0 while it has a call parked: its reply
	 * waits for another client, so polling for it would only take that
	 * client's CPU (the client stops at its next look) */
	ring_publish_cpu(&c->ring->r, c->n_parked ? 0 : spin_cpu());
	conn_poll_reads++; /* the next hint looks at the machine again */
	if (srv->hot == c)
		return;
	conn_poll_forget(c);
	c->hot = true;
	c->hot_prev = NULL;
	c->hot_next = srv->hot;
	if (srv->hot)
		srv->hot->hot_prev = c;
	srv->hot = c;
}

void conn_poll_forget(struct conn *c)
{
	if (!c->hot)
		return;
	if (c->hot_prev)
		c->hot_prev->hot_next = c->hot_next;
	else
		c->srv->hot = c->hot_next;
	if (c->hot_next)
		c->hot_next->hot_prev = c->hot_prev;
	c->hot = false;
}

void conn_poll_awake(struct conn *c)
{
	if (c->awake)
		return;
	c->awake = true;
	c->awake_next = c->srv->awake;
	c->srv->awake = c;
}

/* Every ring on the awake list asks to be woken again. One where more came
 * meanwhile is returned to be read now, while this turn has read fewer than
 * CONN_SPIN_MAX_FRAMES times (what libevent would do next anyway: an event
 * activated from a callback runs in the same pass, before any fd is polled;
 * this saves activating it); the rest are read next turn. */
struct conn *conn_poll_sleep_all(struct server *srv, int reads)
{
	struct conn *now = NULL;
	while (srv->awake) {
		struct conn *o = srv->awake;
		srv->awake = o->awake_next;
		o->awake = false;
		if (!o->ring || o->state != CONN_READY || !conn_ring_sleep(o->ring))
			continue;
		if (!now && reads < CONN_SPIN_MAX_FRAMES)
			now = o;
		else
			event_active(o->ring_ev, EV_READ, 0); /* more came: next turn */
	}
	return now;
}

/* spin_poll over the hot rings: the first with bytes waiting; SPIN_STOP
 * once no client on the list runs elsewhere. */
struct conn_spin_any {
	struct server *srv;
	struct conn *ready;
	uint32_t looks;
};

static int conn_spin_any_ready(void *arg)
{
	struct conn_spin_any *a = arg;
	int n = 0;
	for (struct conn *o = a->srv->hot; o && n < CONN_SPIN_HOT; o = o->hot_next, n++)
		if (o->state == CONN_READY && ring_ready(&o->ring->r)) {
			a->ready = o;
			return SPIN_READY;
		}
	if (++a->looks % CONN_SPIN_LOOK_EVERY == 0 &&
	    !conn_spin_count_elsewhere(a->srv, spin_cpu()))
		return SPIN_STOP;
	return SPIN_WAIT;
}

/* Polls every ring for a request, while polling can pay: the ring that
 * has one (woken up, on the awake list), or NULL to stop. While the loop
 * polls, no ring asks to be woken, so clients do not write the eventfd. */
struct conn *conn_poll_next(struct conn *c, int served)
{
	if (served >= CONN_SPIN_MAX_FRAMES || !conn_spin_wanted(c))
		return NULL;
	struct conn_spin_any any = {c->srv, NULL, 0};
	if (!spin_poll(&conn_spin_state, conn_spin_any_ready, &any))
		return NULL;
	conn_poll_awake(any.ready);
	return any.ready;
}
