/* A read-ahead under a GnuTLS session (see tls-read.h). */
#include "tls-read.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TLS_READ_BUF (16384 + 2048) /* a whole record of the largest size, with its overhead */
#define TLS_HEADER 5                /* type, version, length (16 bits, big-endian) */

struct tls_read {
	gnutls_session_t s;
	int fd;
	size_t off, len; /* [off, len) of buf not yet handed to GnuTLS */
	uint8_t buf[TLS_READ_BUF];
};

/* GnuTLS's pull: from the buffer; refilled by one recv() only when empty. */
static ssize_t tls_read_pull(gnutls_transport_ptr_t ptr, void *p, size_t n)
{
	struct tls_read *r = ptr;
	if (r->off == r->len) {
		ssize_t got = recv(r->fd, r->buf, sizeof(r->buf), 0);
		if (got <= 0) {
			if (got < 0)
				gnutls_transport_set_errno(r->s, errno);
			return got;
		}
		r->off = 0;
		r->len = (size_t)got;
	}
	size_t k = r->len - r->off < n ? r->len - r->off : n;
	memcpy(p, r->buf + r->off, k);
	r->off += k;
	return (ssize_t)k;
}

/* GnuTLS's wait for data (handshake timeouts): the buffer first. */
static int tls_read_wait(gnutls_transport_ptr_t ptr, unsigned ms)
{
	struct tls_read *r = ptr;
	if (r->off < r->len)
		return 1;
	struct pollfd pfd = {r->fd, POLLIN, 0};
	int rc = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
	if (rc < 0)
		gnutls_transport_set_errno(r->s, errno);
	return rc;
}

int tls_read_attach(gnutls_session_t s, int fd)
{
	struct tls_read *r = malloc(sizeof(*r));
	if (!r)
		return -1;
	r->s = s;
	r->fd = fd;
	r->off = r->len = 0;
	gnutls_session_set_ptr(s, r);
	/* pulls get r; pushes keep GnuTLS's own send on the fd */
	gnutls_transport_set_ptr2(s, r, (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_pull_function(s, tls_read_pull);
	gnutls_transport_set_pull_timeout_function(s, tls_read_wait);
	return 0;
}

bool tls_read_pending(gnutls_session_t s)
{
	const struct tls_read *r = gnutls_session_get_ptr(s);
	return gnutls_record_check_pending(s) > 0 || (r && r->off < r->len);
}

bool tls_read_whole(gnutls_session_t s)
{
	const struct tls_read *r = gnutls_session_get_ptr(s);
	if (gnutls_record_check_pending(s) > 0)
		return true;
	/* GnuTLS pulls a record's header, then exactly its body: r->off is at
	 * a record's start */
	size_t have = r ? r->len - r->off : 0;
	return have >= TLS_HEADER &&
	       have >= TLS_HEADER + ((size_t)r->buf[r->off + 3] << 8 | r->buf[r->off + 4]);
}

void tls_read_free(gnutls_session_t s)
{
	if (!s)
		return;
	free(gnutls_session_get_ptr(s));
	gnutls_session_set_ptr(s, NULL);
}
