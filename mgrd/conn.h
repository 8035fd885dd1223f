/* One client connection, which is also its session: framing, handshake,
 * output buffering and backpressure, the references the session holds and
 * the calls it has parked. */
#ifndef MGRD_CONN_H
#define MGRD_CONN_H

#include "conn-state.h"

/* The pid and session id of a connection. */
int32_t conn_pid(const struct conn *conn);
uint64_t conn_session(const struct conn *conn);

struct conn *conn_new(struct server *srv, int fd, pid_t pid, uid_t uid, gid_t gid);
/* Closes now (replies not yet written are dropped): the socket, ring and
 * events go and c is marked dead, nothing else. Its session ends later, at
 * one place in the loop (session.h); safe anywhere, even inside an object's
 * operation or c's own callback. */
void conn_close(struct conn *c, const char *why);
/* For session.c once the session has ended: frees c now, or when its last
 * worker call unpins it. */
void conn_free(struct conn *c);
/* Closes once the output is written (stop reading first). */
void conn_close_after_flush(struct conn *c);

/* A worker-thread call holds the connection; the last unpin of a closed
 * connection frees it. */
void conn_pin(struct conn *c);
void conn_unpin(struct conn *c);

/* Queues a reply, bytes only (session_reply also hands the session the
 * references inside the value). value consumed; message borrowed (NULL:
 * default). */
void conn_reply(struct conn *c, uint64_t id, int code, mgr_value *value, const char *message);

/* Queues a reply carrying v, which stays the caller's. */
void conn_reply_borrowed(struct conn *c, uint64_t id, const mgr_value *v);

#endif
