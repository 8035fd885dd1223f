/* The event loop: blocking turns, each followed, when sessions that poll
 * their sockets sent calls in it, by sock-poll.c's polling. */
#include "loop.h"

#include <event2/event.h>
#include <stdbool.h>

#include "sock-poll.h"
#include "state.h"

/* Whether a turn was told to end the loop (event_base_loopexit, _break):
 * a flag the next event_base_loop call clears, so it is asked after every
 * turn, the polls' included. */
static bool loop_told_to_stop(struct server *srv)
{
	return event_base_got_exit(srv->base) || event_base_got_break(srv->base);
}

int loop_run(struct server *srv)
{
	for (;;) {
		uint64_t reads = srv->sock_reads;
		int rc = event_base_loop(srv->base, EVLOOP_ONCE);
		if (rc < 0)
			return -1;
		if (rc > 0 || loop_told_to_stop(srv))
			return 0;
		if (srv->sock_reads != reads)
			sock_poll_after_turn(srv);
		if (loop_told_to_stop(srv))
			return 0;
	}
}
