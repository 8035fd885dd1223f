/* The shared-key handshake's messages (see auth.h). HMAC-SHA256 comes from
 * GnuTLS (nettle underneath): maintained, constant-time, and the same
 * library that carries TLS, so one dependency does both. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char auth_challenge_tag[] = "#CHALLENGE#{sha256}"; /* 19 bytes */
static const char auth_digest_tag[] = "{sha256}";               /* 8 bytes */
static const char auth_welcome_tag[] = "#WELCOME#";             /* 9 bytes */
static const char auth_failure_tag[] = "#FAILURE#";

int auth_challenge_make(uint8_t out[AUTH_CHALLENGE_LEN], uint8_t nonce[AUTH_NONCE])
{
	if (getrandom(nonce, AUTH_NONCE, 0) != AUTH_NONCE)
		return -1;
	memcpy(out, auth_challenge_tag, 19);
	memcpy(out + 19, nonce, AUTH_NONCE);
	return 0;
}

int auth_challenge_parse(const uint8_t *msg, size_t len, uint8_t nonce[AUTH_NONCE])
{
	if (len != AUTH_CHALLENGE_LEN || memcmp(msg, auth_challenge_tag, 19))
		return -1;
	memcpy(nonce, msg + 19, AUTH_NONCE);
	return 0;
}

/* HMAC-SHA256(key, role + "{sha256}" + nonce) */
static void auth_mac(const struct auth_key *key, const char *role,
		     const uint8_t nonce[AUTH_NONCE], uint8_t mac[AUTH_MAC])
{
	uint8_t text[32 + 8 + AUTH_NONCE];
	size_t rl = strlen(role) > 32 ? 32 : strlen(role);
	memcpy(text, role, rl);
	memcpy(text + rl, auth_digest_tag, 8);
	memcpy(text + rl + 8, nonce, AUTH_NONCE);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key->k, key->len, text, rl + 8 + AUTH_NONCE, mac))
		memset(mac, 0xff, AUTH_MAC); /* matches no answer a peer computed */
}

void auth_answer_make(const struct auth_key *key, const char *role,
		      const uint8_t nonce[AUTH_NONCE], uint8_t out[AUTH_ANSWER_LEN])
{
	memcpy(out, auth_digest_tag, 8);
	auth_mac(key, role, nonce, out + 8);
}

bool auth_answer_check(const struct auth_key *key, const char *role,
		       const uint8_t nonce[AUTH_NONCE], const uint8_t *msg, size_t len)
{
	uint8_t want[AUTH_ANSWER_LEN];
	if (len != AUTH_ANSWER_LEN)
		return false;
	auth_answer_make(key, role, nonce, want);
	return gnutls_memcmp(want, msg, AUTH_ANSWER_LEN) == 0;
}

int auth_server_check(const struct auth_key *keys, size_t nkeys,
		      const uint8_t nonce[AUTH_NONCE], const uint8_t *msg, size_t len,
		      uint8_t client_nonce[AUTH_NONCE])
{
	if (len != AUTH_CLIENT_LEN ||
	    auth_challenge_parse(msg + AUTH_ANSWER_LEN, AUTH_CHALLENGE_LEN, client_nonce))
		return -1;
	int found = -1;
	for (size_t i = 0; i < nkeys; i++) /* all of them: the time names no key */
		if (auth_answer_check(&keys[i], "mgr-client", nonce, msg, AUTH_ANSWER_LEN) &&
		    found < 0)
			found = (int)i;
	return found;
}

void auth_result_make(const struct auth_key *key, const uint8_t client_nonce[AUTH_NONCE],
		      uint8_t out[AUTH_RESULT_LEN])
{
	memset(out, 0, AUTH_RESULT_LEN);
	memcpy(out, key ? auth_welcome_tag : auth_failure_tag, 9);
	if (key)
		auth_answer_make(key, "mgr-server", client_nonce, out + 9);
}

int auth_result_check(const struct auth_key *key, const uint8_t client_nonce[AUTH_NONCE],
		      const uint8_t *msg, size_t len)
{
	if (len == AUTH_RESULT_LEN && !memcmp(msg, auth_failure_tag, 9))
		return 1;
	if (len != AUTH_RESULT_LEN || memcmp(msg, auth_welcome_tag, 9))
		return -1;
	return auth_answer_check(key, "mgr-server", client_nonce, msg + 9, AUTH_ANSWER_LEN) ? 0 : -1;
}

int auth_key_set(const char *s, struct auth_key *key, char *why, size_t n)
{
	return auth_key_bytes(s, strlen(s), key, why, n);
}

int auth_key_bytes(const void *b, size_t len, struct auth_key *key, char *why, size_t n)
{
	if (len < AUTH_KEY_MIN || len > AUTH_KEY_MAX)
		return snprintf(why, n, "the key must be %d to %d bytes (it is %zu)",
				AUTH_KEY_MIN, AUTH_KEY_MAX, len), -1;
	memcpy(key->k, b, len);
	key->len = len;
	return 0;
}

int auth_key_load(const char *path, struct auth_key *key, char *why, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		return snprintf(why, n, "cannot read the key file %s: %s", path,
				strerror(errno)), fd >= 0 ? close(fd) : 0, -1;
	const char *bad = !S_ISREG(st.st_mode) ? "not a regular file"
			  : st.st_mode & 0077 ? "readable or writable by group or others (chmod 600)"
			  : NULL;
	ssize_t got = bad ? 0 : read(fd, key->k, sizeof(key->k));
	char extra;
	bool more = got == (ssize_t)sizeof(key->k) && read(fd, &extra, 1) == 1;
	close(fd);
	if (bad)
		return snprintf(why, n, "refusing the key file %s: %s", path, bad), -1;
	if (got > 0 && key->k[got - 1] == '\n' && !more)
		got--;
	if (got < AUTH_KEY_MIN || more)
		return snprintf(why, n, "the key in %s must be %d to %d bytes", path,
				AUTH_KEY_MIN, AUTH_KEY_MAX), -1;
	key->len = (size_t)got;
	return 0;
}

bool auth_is_tcp(const char *addr) { return addr && !strncmp(addr, "tcp:", 4); }

int auth_tcp_split(const char *addr, char *host, size_t hn, char *port, size_t pn)
{
	if (!auth_is_tcp(addr))
		return -1;
	const char *h = addr + 4, *colon = strrchr(h, ':');
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	size_t len = (size_t)(colon - h);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (!len || len >= hn || strlen(colon + 1) >= pn)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	snprintf(port, pn, "%s", colon + 1);
	return 0;
}
