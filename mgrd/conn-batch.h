/* The replies of one loop turn, sent with one system call (issue 16).
 *
 * A turn that answered several TCP sessions used to send each one's
 * replies with its own send(); each send wakes that session's client, and
 * on a busy machine the woken client takes the loop's CPU as the send
 * returns, once per reply. Listed here instead, the turn's replies leave
 * together in one io_uring_enter: the clients wake inside one system call
 * and the loop is put off the CPU once a turn, not once a reply.
 *
 * Only the bytes the sockets take now are sent (never waiting); what is
 * left, a failed send and closing are the connection's own flush, which
 * conn.c runs for each listed connection right after (its write event,
 * made active when it was listed). The list and the ring are the loop
 * thread's own (one per thread running a server); without io_uring (an
 * old kernel, a seccomp filter, built without liburing) nothing is ever
 * listed and every reply is sent at once as before. */
#ifndef MGRD_CONN_BATCH_H
#define MGRD_CONN_BATCH_H

#include <stdbool.h>

#include "conn-state.h"

/* Lists c, whose output is to leave at the end of this loop turn, if it
 * will not be alone: the list has others, or others_ready (the loop's
 * events still to run this turn: sessions that may reply too). false when
 * it is alone or cannot be listed (no io_uring, the list is full): send
 * it now. */
bool conn_batch_add(struct conn *c, int others_ready);

/* Sets up the calling thread's ring now: the loop thread of a server with
 * TCP listeners, before its first session, so that the ring's fd is there
 * from the start and not opened by some later turn (mgrd's fds, counted
 * before and after a storm of sessions, are the same). Nothing without
 * io_uring. */
void conn_batch_prepare(void);

/* c closes: off the list (nothing if it was not on it). */
void conn_batch_forget(struct conn *c);

/* If c is listed: sends every listed connection's output, as much as each
 * socket takes now, and empties the list. Called from the first listed
 * connection's write event of the turn. */
void conn_batch_send(struct conn *c);

#endif
