/* TCP listeners (--listen tcp:HOST:PORT, alongside the UNIX socket): each
 * connection is admitted only after the key handshake (auth.h), over TLS
 * when configured (tls.h), then becomes an ordinary session (conn.h) acting
 * as its key's uid, never offered the shared-memory ring. Handshakes run on
 * their own threads (at most TCP_MAX_PENDING at once) so a slow or hostile
 * peer never holds the loop; each has --handshake-timeout to finish. A
 * connection's liveness is TCP's: keepalive and TCP_USER_TIMEOUT end it
 * within --remote-timeout when the peer's host vanishes. */
#ifndef MGRD_LISTEN_TCP_H
#define MGRD_LISTEN_TCP_H

#include <stddef.h>

struct server;

#define TCP_MAX_PENDING 64
#define TCP_DEFAULT_TIMEOUT_MS 30000

/* Listens on cfg.remote's addresses (none: nothing to do); -1, logged. */
int tcp_start(struct server *srv);
/* The bound addresses, " tcp:ADDR:PORT" each, for the ready line. */
void tcp_describe(const struct server *srv, char *buf, size_t n);
/* No more accepts; handshakes in progress are cut short. */
void tcp_stop(struct server *srv);
/* After the sessions closed: waits (bounded) for the threads, frees. */
void tcp_fini(struct server *srv);

#endif
