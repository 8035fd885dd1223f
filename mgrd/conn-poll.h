/* Polling instead of sleeping, mgrd's side (conn-poll.c): after a
 * client's calls, poll a moment for more before going back to the loop;
 * the hint for replies; the hot list of rings to poll and the awake list of
 * rings to put back to sleep. */
#ifndef MGRD_CONN_POLL_H
#define MGRD_CONN_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conn;
struct server;

/* After c's read made calls (served of them polled for so far): the next
 * ring with a request, polled for while a client on the hot rings runs on
 * another CPU (never a socket), or NULL. conn.c reads it; this file never
 * calls back into conn.c. */
struct conn *conn_poll_next(struct conn *c, int served);
/* The hint in a reply to c (Reply.spin): we will poll for its next call. */
bool conn_poll_hint(const struct conn *c);
/* The hot list: c made calls through its ring (first in line now; mgrd's
 * CPU published in its ring); c is closing (off the list). */
void conn_poll_hot(struct conn *c);
void conn_poll_forget(struct conn *c);
/* The awake list: c's ring was read this turn; before the turn ends every
 * ring on it asks to be woken again: conn_poll_sleep_all returns one where
 * more came meanwhile, for the caller to read at once (the turn made reads
 * reads so far, fewer than the poll's limit), or NULL; the others are
 * activated for the next turn. */
void conn_poll_awake(struct conn *c);
struct conn *conn_poll_sleep_all(struct server *srv, int reads);

#endif
