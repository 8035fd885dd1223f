/* A client's TCP connection (an address "tcp:HOST:PORT"): connect, TCP
 * keepalive so a vanished manager is noticed, TLS when asked for
 * (MGR_TLS_CA, MGR_TLS_CERT, MGR_TLS_KEY, MGR_TLS=1), and the key handshake
 * (common/auth.h) with the key given to mgr_client_connect_opts (a
 * program's own secret: Python's authkey), else from MGR_AUTH_KEY or
 * MGR_AUTH_KEY_FILE — never a command-line argument, so it shows in no
 * process listing. The manager must
 * prove the key too: one without it gets nothing, not even the Hello.
 * No shared-memory ring over TCP. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../common/auth.h"
#include "../common/spin.h"
#include "../common/tcp.h"
#include "../common/tls-read.h"
#include "client.h"

#define CLIENT_TCP_HANDSHAKE_S 10
#define CLIENT_TCP_KEEPALIVE_S 10 /* a silent manager is dropped in ~30 s */

int client_tcp_key_keep(mgr_client *c, const void *key, size_t len)
{
	char why[128];
	c->key = malloc(sizeof(*c->key));
	if (!c->key)
		return client_fail(MGR_ENOMEM, "out of memory");
	if (auth_key_bytes(key, len, c->key, why, sizeof(why)))
		return client_fail(MGR_EINVAL, "auth key: %s", why);
	return 0;
}

void client_tcp_key_free(mgr_client *c)
{
	if (c->key)
		explicit_bzero(c->key, sizeof(*c->key));
	free(c->key);
	c->key = NULL;
}

/* The key given to connect, else from the environment; error set. */
static int client_tcp_key(const mgr_client *c, struct auth_key *key)
{
	char why[256];
	if (c->key) {
		*key = *c->key;
		return 0;
	}
	const char *s = getenv("MGR_AUTH_KEY"), *f = getenv("MGR_AUTH_KEY_FILE");
	if (s && *s)
		return auth_key_set(s, key, why, sizeof(why)) ? client_fail(MGR_EINVAL, "MGR_AUTH_KEY: %s", why) : 0;
	if (f && *f)
		return auth_key_load(f, key, why, sizeof(why)) ? client_fail(MGR_EINVAL, "%s", why) : 0;
	return client_fail(MGR_EPERM, "a TCP manager needs a key: set MGR_AUTH_KEY_FILE "
			   "(or MGR_AUTH_KEY)");
}

static void client_tcp_opts(int fd, int handshake_s)
{
	struct timeval tv = {handshake_s, 0};
	tcp_set_liveness(fd, CLIENT_TCP_KEEPALIVE_S, CLIENT_TCP_KEEPALIVE_S,
			 CLIENT_TCP_KEEPALIVE_S * 3000);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* 0: none again */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int client_tcp_connect(mgr_client *c)
{
	char host[256], port[16];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	if (auth_tcp_split(c->path, host, sizeof(host), port, sizeof(port)))
		return client_fail(MGR_EINVAL, "bad address %s: want tcp:HOST:PORT", c->path);
	int rc = getaddrinfo(host, port, &hints, &ai), e = 0;
	if (rc)
		return client_fail(MGR_ECONNECT, "%s: %s", c->path, gai_strerror(rc));
	for (struct addrinfo *a = ai; a && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen)) {
			e = errno;
			client_forget_fd(&c->fd);
		}
	}
	freeaddrinfo(ai);
	if (c->fd < 0)
		return client_fail(MGR_ECONNECT, "no manager at %s: %s", c->path, strerror(e));
	client_tcp_opts(c->fd, CLIENT_TCP_HANDSHAKE_S);
	return 0;
}

/* ---- TLS ---- */

static bool client_tls_wanted(void)
{
	const char *ca = getenv("MGR_TLS_CA"), *on = getenv("MGR_TLS");
	return (ca && *ca) || (on && *on && strcmp(on, "0"));
}

static int client_tls_fail(gnutls_session_t s, gnutls_certificate_credentials_t cr, int rc,
			   const char *what)
{
	client_tls_free(s, cr);
	return client_fail(MGR_EPERM, "TLS: %s: %s", what, gnutls_strerror(rc));
}

static int client_tls_start(mgr_client *c, const char *host)
{
	gnutls_certificate_credentials_t cr = NULL;
	gnutls_session_t s = NULL;
	const char *ca = getenv("MGR_TLS_CA"), *cert = getenv("MGR_TLS_CERT"),
		   *key = getenv("MGR_TLS_KEY");
	int rc = gnutls_certificate_allocate_credentials(&cr);
	if (!rc)
		rc = ca && *ca ? gnutls_certificate_set_x509_trust_file(cr, ca, GNUTLS_X509_FMT_PEM)
			       : gnutls_certificate_set_x509_system_trust(cr);
	if (rc <= 0)
		return client_tls_fail(s, cr, rc ? rc : GNUTLS_E_NO_CERTIFICATE_FOUND,
				       "no CA to trust (MGR_TLS_CA)");
	if (cert && *cert &&
	    (rc = gnutls_certificate_set_x509_key_file(cr, cert, key && *key ? key : cert,
						      GNUTLS_X509_FMT_PEM)))
		return client_tls_fail(s, cr, rc, "MGR_TLS_CERT / MGR_TLS_KEY");
	if ((rc = gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL)) ||
	    (rc = gnutls_set_default_priority(s)) ||
	    (rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cr)))
		return client_tls_fail(s, cr, rc, "setup");
	const char *name = getenv("MGR_TLS_SERVER_NAME");
	name = name && *name ? name : host;
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
	gnutls_session_set_verify_cert(s, name, 0);
	if (tls_read_attach(s, c->fd)) /* one recv() a reply, not two a record */
		return client_tls_fail(s, cr, GNUTLS_E_MEMORY_ERROR, "setup");
	while ((rc = gnutls_handshake(s)) < 0 && !gnutls_error_is_fatal(rc))
		;
	if (rc < 0)
		return client_tls_fail(s, cr, rc, "handshake with the manager failed");
	c->tls = s;
	c->tls_cred = cr;
	return 0;
}

void client_tls_free(void *tls, void *cred)
{
	tls_read_free(tls);
	if (tls)
		gnutls_deinit(tls);
	if (cred)
		gnutls_certificate_free_credentials(cred);
}

/* ---- the key handshake ---- */

static int client_tcp_io(mgr_client *c, void *p, size_t n, bool out)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = c->tls ? (out ? gnutls_record_send(c->tls, (char *)p + done, n - done)
					  : gnutls_record_recv(c->tls, (char *)p + done, n - done))
				   : (out ? send(c->fd, (char *)p + done, n - done, MSG_NOSIGNAL)
					  : recv(c->fd, (char *)p + done, n - done, 0));
		if (r < 0 && (r == GNUTLS_E_INTERRUPTED || (!c->tls && errno == EINTR)))
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int client_tcp_auth(mgr_client *c, const struct auth_key *key)
{
	uint8_t ch[AUTH_CHALLENGE_LEN], nonce[AUTH_NONCE], mine[AUTH_NONCE],
		msg[AUTH_CLIENT_LEN], result[AUTH_RESULT_LEN];
	if (client_tcp_io(c, ch, sizeof(ch), false))
		return client_fail(MGR_EPERM, "%s closed or stalled before its challenge "
				   "(not an mgrd over TCP, or it refused us)", c->path);
	if (auth_challenge_parse(ch, sizeof(ch), nonce))
		return client_fail(MGR_EPROTO, "%s: not an mgrd challenge", c->path);
	auth_answer_make(key, "mgr-client", nonce, msg);
	if (auth_challenge_make(msg + AUTH_ANSWER_LEN, mine) ||
	    client_tcp_io(c, msg, sizeof(msg), true) ||
	    client_tcp_io(c, result, sizeof(result), false))
		return client_fail(MGR_EIO, "%s: the key handshake broke off", c->path);
	int r = auth_result_check(key, mine, result, sizeof(result));
	if (r > 0)
		return client_fail(MGR_EPERM, "manager refused: authentication failed (wrong key) at %s",
				   c->path);
	if (r < 0)
		return client_fail(MGR_EPERM, "refusing the manager at %s: it did not prove the key",
				   c->path);
	return 0;
}

int client_tcp_open(mgr_client *c)
{
	struct auth_key key;
	char host[256], port[16];
	int err = client_tcp_key(c, &key);
	if (!err)
		err = client_tcp_connect(c);
	if (!err && client_tls_wanted() &&
	    !auth_tcp_split(c->path, host, sizeof(host), port, sizeof(port)))
		err = client_tls_start(c, host);
	if (!err)
		err = client_tcp_auth(c, &key);
	explicit_bzero(&key, sizeof(key));
	if (!err)
		client_tcp_opts(c->fd, 0); /* no timeouts once in */
	c->local = !err && tcp_peer_local(c->fd); /* TLS too: it polls the socket */
	return err;
}

bool client_tls_pending(const mgr_client *c) { return c->tls && tls_read_pending(c->tls); }

ssize_t client_tls_recv(mgr_client *c, void *tls, int fd, void *buf, size_t len, int wait_ms,
			struct spin *spin)
{
	if (spin && !tls_read_pending(tls))
		(void)spin_readable(spin, fd); /* then poll() below returns at once */
	if (!tls_read_pending(tls) && wait_ms >= 0) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int rc;
		while ((rc = poll(&pfd, 1, wait_ms)) < 0 && errno == EINTR)
			;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	(void)c;
	ssize_t n;
	while ((n = gnutls_record_recv(tls, buf, len)) == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
		;
	if (n < 0) {
		errno = EIO;
		return -1;
	}
	size_t got = (size_t)n; /* and the replies that came with it: one turn delivers them */
	while (n > 0 && got < len && tls_read_whole(tls))
		if ((n = gnutls_record_recv(tls, (uint8_t *)buf + got, len - got)) > 0)
			got += (size_t)n;
	return (ssize_t)got;
}

int client_tls_send(void *tls, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = gnutls_record_send(tls, p, len);
		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
