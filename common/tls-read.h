/* A read-ahead under a GnuTLS session, for both sides of a TCP connection.
 * GnuTLS's own reads ask the kernel for exactly what it needs next — a
 * record's 5-byte header, then its body — so every record costs two
 * read()s. Attached, one recv() takes what the socket holds (up to one
 * buffer) and GnuTLS takes its records from that: one read per reply or
 * per batch of requests. Writes stay GnuTLS's own (sendmsg on fd).
 *
 * Bytes held here are invisible to poll(): before waiting on the socket,
 * ask tls_read_pending. On a nonblocking fd an empty buffer's recv() may
 * fail with EAGAIN and GnuTLS returns GNUTLS_E_AGAIN, as without it.
 * Ownership: the buffer hangs off the session (gnutls_session_set_ptr,
 * which nothing else may use) and is freed by tls_read_free. */
#ifndef COMMON_TLS_READ_H
#define COMMON_TLS_READ_H

#include <gnutls/gnutls.h>
#include <stdbool.h>

/* Puts s's reads from fd through a read-ahead buffer; -1 when out of
 * memory (s unchanged). Call before the handshake. */
int tls_read_attach(gnutls_session_t s, int fd);
/* Whether a record (or part of one) is held for s that poll() on the
 * socket would not show: in the read-ahead, or decrypted inside GnuTLS. */
bool tls_read_pending(gnutls_session_t s);
/* Whether the next record can be had without reading the socket: a whole
 * one is in the read-ahead, or decrypted input waits inside GnuTLS. Readers
 * take all such records in one turn, so requests (or replies) that came
 * together are answered (or delivered) together. */
bool tls_read_whole(gnutls_session_t s);
/* Frees s's read-ahead (s itself stays; NULL is fine). */
void tls_read_free(gnutls_session_t s);

#endif
