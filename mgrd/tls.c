/* TLS for TCP listeners (see tls.h). */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define TLS_PUMP_BUF 16384 /* one TLS record */

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
	gnutls_transport_set_int(s, fd);
	while (!rc && (rc = gnutls_handshake(s)) < 0 && !gnutls_error_is_fatal(rc))
		rc = 0;
	if (rc) {
		log_msg(LOG_DEBUG, "TLS handshake failed: %s", gnutls_strerror(rc));
		gnutls_deinit(s);
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

void tls_end(void *tls) { gnutls_deinit(tls); }

int tls_pair(int *conn_fd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK)) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	*conn_fd = sv[0];
	return sv[1];
}

/* ---- the pump: TLS -> pair here, pair -> TLS on a second thread ----
 * Either direction ending shuts down the other's source, so both end. */

struct tls_pump {
	gnutls_session_t s;
	int fd, pair;
};

static int tls_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The session's replies out over TLS. */
static void *tls_pump_out(void *arg)
{
	struct tls_pump *tp = arg;
	uint8_t buf[TLS_PUMP_BUF];
	for (;;) {
		ssize_t n = read(tp->pair, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || tls_io(tp->s, buf, (size_t)n, true))
			break;
	}
	shutdown(tp->fd, SHUT_RDWR); /* the other direction's recv ends */
	return NULL;
}

void tls_pump(void *tls, int fd, int pair)
{
	struct tls_pump tp = {tls, fd, pair};
	pthread_t out;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 128 * 1024);
	bool two = pthread_create(&out, &a, tls_pump_out, &tp) == 0;
	pthread_attr_destroy(&a);
	uint8_t buf[TLS_PUMP_BUF];
	while (two) {
		ssize_t n = gnutls_record_recv(tp.s, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0 || tls_write_all(pair, buf, (size_t)n))
			break;
	}
	shutdown(pair, SHUT_RDWR); /* the session sees the end; tls_pump_out's read ends */
	if (two)
		pthread_join(out, NULL);
	gnutls_deinit(tp.s);
	close(fd);
	close(pair);
}
