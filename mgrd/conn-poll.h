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

/* After c's read made calls: poll the hot rings for more, answering what
 * comes, while a client on them runs on another CPU (never a socket). */
void conn_poll_more(struct conn *c);
/* The hint in a reply to c (Reply.spin): we will poll for its next call. */
bool conn_poll_hint(const struct conn *c);
/* recv() on c's socket, polling for up to the budget (-1, EAGAIN: nothing);
 * unused since sockets are never polled, kept for conn.c's read path. */
ssize_t conn_poll_recv(struct conn *c, void *buf, size_t n);

/* The hot list: c made calls through its ring (first in line now; mgrd's
 * CPU published in its ring); c is closing (off the list). */
void conn_poll_hot(struct conn *c);
void conn_poll_forget(struct conn *c);
/* The awake list: c's ring was read this turn; before the turn ends every
 * ring on it asks to be woken again. */
void conn_poll_awake(struct conn *c);
void conn_poll_sleep_all(struct server *srv);

/* From conn.c: one read into c's input and the answers to it; polling:
 * poll the socket a moment first. 1 if it made calls, 0 if not, -1 if
 * nothing came or c was closed. */
int conn_read_once(struct conn *c, bool polling);

#endif
