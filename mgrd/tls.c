/* TLS for TCP listeners (see tls.h). */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/frame.h"
#include "../common/tls-read.h"
#include "log.h"

struct tls_server {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	bool want_client_cert;
};

int tls_server_load(const struct config_remote *cfg, struct tls_server **out)
{
	*out = NULL;
	if (!cfg->tls_cert && !cfg->tls_key && !cfg->tls_ca)
		return 0;
	if (!cfg->tls_cert || !cfg->tls_key)
		return log_msg(LOG_ERROR, "TLS needs both --tls-cert and --tls-key"), -1;
	struct tls_server *ts = calloc(1, sizeof(*ts));
	int rc = ts ? gnutls_certificate_allocate_credentials(&ts->cred) : GNUTLS_E_MEMORY_ERROR;
	if (!rc)
		rc = gnutls_certificate_set_x509_key_file(ts->cred, cfg->tls_cert, cfg->tls_key,
							  GNUTLS_X509_FMT_PEM);
	if (!rc && cfg->tls_ca) {
		int n = gnutls_certificate_set_x509_trust_file(ts->cred, cfg->tls_ca,
							       GNUTLS_X509_FMT_PEM);
		rc = n < 0 ? n : n == 0 ? GNUTLS_E_NO_CERTIFICATE_FOUND : 0;
		ts->want_client_cert = true;
	}
	if (!rc)
		rc = gnutls_priority_init(&ts->prio, "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1", NULL);
	if (rc) {
		log_msg(LOG_ERROR, "TLS: cannot use --tls-cert/--tls-key/--tls-ca: %s",
			gnutls_strerror(rc));
		tls_server_free(ts);
		return -1;
	}
	*out = ts;
	return 0;
}

void tls_server_free(struct tls_server *ts)
{
	if (!ts)
		return;
	if (ts->cred)
		gnutls_certificate_free_credentials(ts->cred);
	if (ts->prio)
		gnutls_priority_deinit(ts->prio);
	free(ts);
}

void *tls_accept(struct tls_server *ts, int fd)
{
	gnutls_session_t s;
	if (gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL))
		return NULL;
	int rc = gnutls_priority_set(s, ts->prio);
	if (!rc)
		rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, ts->cred);
	if (!rc && ts->want_client_cert) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(s, NULL, 0); /* the chain to --tls-ca */
	}
	if (!rc && tls_read_attach(s, fd))
		rc = GNUTLS_E_MEMORY_ERROR;
	while (!rc && (rc = gnutls_handshake(s)) < 0 && !gnutls_error_is_fatal(rc))
		rc = 0;
	if (rc) {
		log_msg(LOG_DEBUG, "TLS handshake failed: %s", gnutls_strerror(rc));
		tls_end(s);
		return NULL;
	}
	return s;
}

int tls_io(void *tls, void *p, size_t n, bool out)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = out ? gnutls_record_send(tls, (uint8_t *)p + done, n - done)
				: gnutls_record_recv(tls, (uint8_t *)p + done, n - done);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

void tls_end(void *tls)
{
	if (!tls)
		return;
	tls_read_free(tls);
	gnutls_deinit(tls);
}

/* ---- the session's I/O, on the loop thread, nonblocking ---- */

/* A GnuTLS result as read()/send() would give it: AGAIN and INTERRUPTED
 * as EAGAIN and EINTR (call again: GnuTLS keeps what it began), other
 * errors as ECONNRESET. */
static ssize_t tls_result(ssize_t r)
{
	if (r >= 0)
		return r;
	errno = r == GNUTLS_E_AGAIN ? EAGAIN
		: r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal((int)r) ? EINTR
		: ECONNRESET;
	return -1;
}

ssize_t tls_recv(void *tls, void *p, size_t n)
{
	ssize_t r = gnutls_record_recv(tls, p, n);
	size_t got = r > 0 ? (size_t)r : 0;
	while (r > 0 && got < n && tls_read_whole(tls)) /* requests that came together */
		if ((r = gnutls_record_recv(tls, (uint8_t *)p + got, n - got)) > 0)
			got += (size_t)r;
	return got ? (ssize_t)got : tls_result(r); /* an error after some: again next time */
}

ssize_t tls_send(void *tls, const void *p, size_t n)
{
	return tls_result(gnutls_record_send(tls, p, n));
}

bool tls_pending(void *tls) { return tls_read_pending(tls); }

void tls_refuse(void *tls, int fd, int code, const char *why)
{
	struct msg m = {.kind = MSG_REPLY};
	m.u.reply = (struct msg_reply){.id = 0, .code = (uint32_t)code, .message = (char *)why};
	uint8_t *buf;
	size_t len;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !fcntl(fd, F_SETFL, fl | O_NONBLOCK) && !frame_encode(&m, &buf, &len)) {
		(void)gnutls_record_send(tls, buf, len); /* as admit_refuse: room, or the close alone */
		free(buf);
	}
	tls_end(tls);
	close(fd);
}
