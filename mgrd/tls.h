/* TLS on the TCP listeners (GnuTLS): the server's certificate, and with
 * --tls-ca clients must show a certificate that CA signed. A TLS session
 * lives on its own threads: the handshake thread does the TLS handshake and
 * the key handshake (auth.h) over it, then pumps bytes between TLS and one
 * end of a socketpair while a second thread pumps the other way; the
 * session (conn.c) reads and writes the other end as it would a UNIX peer.
 * So conn.c never sees TLS, and a vanished peer (TCP keepalive, user
 * timeout) ends the pump, which closes the pair: the session ends. */
#ifndef MGRD_TLS_H
#define MGRD_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

struct tls_server;

/* The credentials of cfg (NULL in *out when cfg has no certificate); -1,
 * logged, when a file cannot be used. */
int tls_server_load(const struct config_remote *cfg, struct tls_server **out);
void tls_server_free(struct tls_server *ts);

/* On a handshake thread: the TLS handshake over fd (blocking); the session
 * or NULL (why logged at debug). */
void *tls_accept(struct tls_server *ts, int fd);
/* Moves exactly n bytes over the session; -1 when it ended. */
int tls_io(void *tls, void *p, size_t n, bool out);
/* Frees a session that will carry nothing more (fd not closed). */
void tls_end(void *tls);
/* After the key handshake: a socketpair, *conn_fd the end for the session
 * (nonblocking, close-on-exec); the other end returned (-1: failed). */
int tls_pair(int *conn_fd);
/* Pumps between tls (over fd) and pair until either side ends, then ends
 * tls and closes fd and pair. Blocking: on the handshake thread. */
void tls_pump(void *tls, int fd, int pair);

#endif
