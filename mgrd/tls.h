/* TLS on the TCP listeners (GnuTLS): the server's certificate, and with
 * --tls-ca clients must show a certificate that CA signed. The handshake
 * thread does the TLS handshake and the key handshake (auth.h) over it on
 * a blocking fd; the loop then owns the session with the connection and
 * conn.c reads and writes through it (tls_recv, tls_send) on the same TCP
 * socket, nonblocking: no thread or socketpair in between, so a call over
 * TLS costs the wakeups and syscalls of one over plain TCP. A vanished
 * peer (TCP keepalive, user timeout) fails the socket as for plain TCP.
 * Reads go through a read-ahead (common/tls-read.h): one recv() per batch
 * of records, whose bytes poll() does not see — ask tls_pending. */
#ifndef MGRD_TLS_H
#define MGRD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "state.h"

struct tls_server;

/* The credentials of cfg (NULL in *out when cfg has no certificate); -1,
 * logged, when a file cannot be used. */
int tls_server_load(const struct config_remote *cfg, struct tls_server **out);
void tls_server_free(struct tls_server *ts);

/* On a handshake thread: the TLS handshake over fd (blocking); the session
 * or NULL (why logged at debug). The session reads and writes fd from now
 * on, whoever calls. */
void *tls_accept(struct tls_server *ts, int fd);
/* Moves exactly n bytes over the session (blocking fd); -1 when it ended. */
int tls_io(void *tls, void *p, size_t n, bool out);
/* Frees a session that will carry nothing more (fd not closed; NULL: none). */
void tls_end(void *tls);

/* On the loop, the fd nonblocking: as read() and send() (MSG_NOSIGNAL)
 * would. -1 with EAGAIN: call again when the socket is ready (a send
 * begun is finished by the next call, which returns its count); EINTR: at
 * once; ECONNRESET: the session is broken. */
ssize_t tls_recv(void *tls, void *p, size_t n); /* every record already read ahead that fits */
ssize_t tls_send(void *tls, const void *p, size_t n);
/* Whether input is held that poll() on the socket would not show: read
 * again before waiting. */
bool tls_pending(void *tls);
/* A refused connection: one reply frame with code and why over TLS (if it
 * fits now), then the session ended and fd closed. */
void tls_refuse(void *tls, int fd, int code, const char *why);

#endif
