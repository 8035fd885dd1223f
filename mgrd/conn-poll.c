/* Polling instead of sleeping (common/spin.h), mgrd's side: after
 * answering, the loop polls for the next request: on a socket, that
 * client's, only while few connections are open (no other client waits
 * behind it); with rings, the 16 rings that made calls last (the hot
 * list; a load from memory each, no system call), however many
 * connections are open. On more than one CPU, and for at most 64 requests
 * (8 on a socket with a second busy client) before returning to the loop.
 * Socket clients are told to poll too only while few connections are
 * open; ring clients whenever the loop polls.
 *
 * A ring the loop reads stops asking to be woken (its client skips the
 * eventfd write); every such ring goes on the awake list, and before a ring
 * callback returns to the loop each one on it asks again (or, if bytes
 * came meanwhile, is looked at on the next turn). */
#include "conn-poll.h"

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>

#include "../common/spin.h"
#include "conn-ring.h"
#include "conn.h"
#include "state.h"

#define CONN_SPIN_MAX_CONNS 3 /* two busy clients (plus, say, their parent) */
#define CONN_SPIN_HOT 16 /* rings polled */
#define CONN_SPIN_MAX_FRAMES 64
#define CONN_SPIN_SHARED_FRAMES 8

static struct spin conn_spin_state = SPIN_INIT;
static int conn_cpus; /* 0: not known yet */

/* Whether polling after serving c can pay at all (its budget aside): on a
 * socket only while few connections are open; rings cost nothing to poll. */
static bool conn_spin_possible(const struct conn *c)
{
	if (!conn_cpus)
		conn_cpus = spin_cpus();
	return c->state == CONN_READY && (c->ring || c->srv->n_conns <= CONN_SPIN_MAX_CONNS) &&
	       conn_cpus >= 2 && !c->srv->stopping && !c->srv->cfg.no_spin;
}

bool conn_poll_hint(const struct conn *c)
{
	return conn_spin_state.ns && conn_spin_possible(c);
}

static bool conn_spin_wanted(const struct conn *c)
{
	if (!conn_spin_possible(c) || c->out.len > c->out.off)
		return false;
	return spin_turn(&conn_spin_state);
}

void conn_poll_hot(struct conn *c)
{
	struct server *srv = c->srv;
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

/* Every ring on the awake list asks to be woken again. */
void conn_poll_sleep_all(struct server *srv)
{
	while (srv->awake) {
		struct conn *o = srv->awake;
		srv->awake = o->awake_next;
		o->awake = false;
		if (o->ring && o->state == CONN_READY && conn_ring_sleep(o->ring))
			event_active(o->ring_ev, EV_READ, 0); /* more came: next turn */
	}
}

/* spin_poll over the hot rings: the first with bytes waiting. */
struct conn_spin_any {
	struct server *srv;
	struct conn *ready;
};

static bool conn_spin_any_ready(void *arg)
{
	struct conn_spin_any *a = arg;
	int n = 0;
	for (struct conn *o = a->srv->hot; o && n < CONN_SPIN_HOT; o = o->hot_next, n++)
		if (o->state == CONN_READY && ring_ready(&o->ring->r)) {
			a->ready = o;
			return true;
		}
	return false;
}

ssize_t conn_poll_recv(struct conn *c, void *buf, size_t n)
{
	return spin_recv(&conn_spin_state, c->fd, buf, n);
}

static void conn_spin_socket(struct conn *c)
{
	int frames = c->srv->n_conns <= 2 ? CONN_SPIN_MAX_FRAMES : CONN_SPIN_SHARED_FRAMES;
	for (int served = 0; served < frames && conn_spin_wanted(c); served++)
		if (conn_read_once(c, true) < 0)
			return; /* nothing came (back to the loop), or closed */
}

/* Polls every ring; serves whichever has a request. While the loop polls,
 * no ring asks to be woken, so clients do not write the eventfd. */
static void conn_spin_rings(struct conn *c)
{
	for (int served = 0; served < CONN_SPIN_MAX_FRAMES && conn_spin_wanted(c); served++) {
		struct conn_spin_any any = {c->srv, NULL};
		if (!spin_poll(&conn_spin_state, conn_spin_any_ready, &any))
			return;
		conn_poll_awake(any.ready);
		conn_read_once(any.ready, false);
	}
}

void conn_poll_more(struct conn *c)
{
	if (c->ring)
		conn_spin_rings(c);
	else
		conn_spin_socket(c);
}
