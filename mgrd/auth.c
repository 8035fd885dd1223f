/* Shared keys, the server's side of the handshake, and failures per
 * source address (see auth.h). */
#include "auth.h"

#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tls.h"

/* ---- keys ---- */

static uid_t auth_uid_for(const struct config_remote *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_uids; i++)
		if (!strcmp(cfg->uid_key[i], name))
			return cfg->uid_of[i];
	return AUTH_DEFAULT_UID;
}

int auth_keys_load(const struct config_remote *cfg, struct auth_keys *ks)
{
	char why[256];
	memset(ks, 0, sizeof(*ks));
	if (cfg->n_listen && !cfg->n_keys)
		return log_msg(LOG_ERROR, "--listen tcp:... needs a key: --auth-key-file FILE or "
			       "--auth-key NAME=FILE (TCP is never open without one)"), -1;
	for (size_t i = 0; i < cfg->n_keys; i++) {
		if (cfg->key_file[i] ? auth_key_load(cfg->key_file[i], &ks->key[i], why, sizeof(why))
		    : auth_key_bytes(cfg->key_bytes, cfg->key_bytes_len, &ks->key[i], why, sizeof(why)))
			return log_msg(LOG_ERROR, "%s", why), -1;
		snprintf(ks->name[i], sizeof(ks->name[i]), "%s", cfg->key_name[i]);
		ks->uid[i] = auth_uid_for(cfg, cfg->key_name[i]);
		struct passwd *pw = getpwuid(ks->uid[i]);
		ks->gid[i] = pw ? pw->pw_gid : (gid_t)ks->uid[i];
	}
	for (size_t i = 0; i < cfg->n_uids; i++) {
		bool named = false;
		for (size_t k = 0; k < cfg->n_keys; k++)
			named |= !strcmp(cfg->uid_key[i], cfg->key_name[k]);
		if (!named)
			return log_msg(LOG_ERROR, "--remote-uid names key '%s', which no --auth-key "
				       "gives", cfg->uid_key[i]), -1;
	}
	ks->n = cfg->n_keys;
	return 0;
}

/* ---- the handshake (a handshake thread; blocking) ---- */

/* Moves exactly n bytes; -1 if the peer went away (or the loop shut the
 * socket down at the handshake deadline). */
static int auth_io(int fd, void *tls, void *p, size_t n, bool out)
{
	if (tls)
		return tls_io(tls, p, n, out);
	for (size_t done = 0; done < n;) {
		ssize_t r = out ? send(fd, (uint8_t *)p + done, n - done, MSG_NOSIGNAL)
				: recv(fd, (uint8_t *)p + done, n - done, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

int auth_handshake(int fd, void *tls, const struct auth_keys *ks)
{
	uint8_t challenge[AUTH_CHALLENGE_LEN], nonce[AUTH_NONCE], client_nonce[AUTH_NONCE];
	uint8_t answer[AUTH_CLIENT_LEN], result[AUTH_RESULT_LEN];
	if (auth_challenge_make(challenge, nonce) ||
	    auth_io(fd, tls, challenge, sizeof(challenge), true) ||
	    auth_io(fd, tls, answer, sizeof(answer), false))
		return AUTH_GONE;
	int k = auth_server_check(ks->key, ks->n, nonce, answer, sizeof(answer), client_nonce);
	auth_result_make(k >= 0 ? &ks->key[k] : NULL, client_nonce, result);
	if (auth_io(fd, tls, result, sizeof(result), true))
		return k >= 0 ? AUTH_GONE : AUTH_WRONG; /* a wrong answer counts all the same */
	return k >= 0 ? k : AUTH_WRONG;
}

/* ---- failures per source address ---- */

#define AUTH_BURST_MS 60000 /* a burst ends after this long without a failure */
#define AUTH_WAIT_MIN_MS 100
#define AUTH_WAIT_MAX_MS 30000

void auth_addr_key(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

static struct auth_fail *auth_fail_find(struct auth_fails *f, const uint8_t addr[16])
{
	for (size_t i = 0; i < AUTH_FAIL_SLOTS; i++)
		if (f->slot[i].fails && !memcmp(f->slot[i].addr, addr, 16))
			return &f->slot[i];
	return NULL;
}

bool auth_fail_blocked(struct auth_fails *f, const uint8_t addr[16], int64_t now)
{
	struct auth_fail *s = auth_fail_find(f, addr);
	if (!s || now >= s->until)
		return false;
	s->refused++;
	return true;
}

/* The slot for addr: its own, else a free or ended one, else the oldest. */
static struct auth_fail *auth_fail_slot(struct auth_fails *f, const uint8_t addr[16],
					int64_t now)
{
	struct auth_fail *s = auth_fail_find(f, addr), *old = &f->slot[0];
	if (s)
		return s;
	for (size_t i = 0; i < AUTH_FAIL_SLOTS; i++) {
		s = &f->slot[i];
		if (!s->fails || now - s->last > AUTH_BURST_MS)
			return s;
		if (s->last < old->last)
			old = s;
	}
	return old;
}

void auth_fail_note(struct auth_fails *f, const uint8_t addr[16], const char *text,
		    const char *why, int64_t now)
{
	struct auth_fail *s = auth_fail_slot(f, addr, now);
	if (memcmp(s->addr, addr, 16) || now - s->last > AUTH_BURST_MS) {
		if (s->fails > 1 || s->refused) /* the burst before, in one line */
			log_msg(LOG_WARN, "authentication: a burst of %u failures (%u connections "
				"closed unanswered) ended", s->fails, s->refused);
		*s = (struct auth_fail){.fails = 0};
		memcpy(s->addr, addr, 16);
	}
	if (s->fails++ == 0) /* once per burst: the rest are counted */
		log_msg(LOG_WARN, "authentication failed from %s: %s (more failures from it are "
			"counted, not logged, until %d s pass without one)", text, why,
			AUTH_BURST_MS / 1000);
	s->last = now;
	if (s->fails >= AUTH_FREE_TRIES) {
		uint32_t shift = s->fails - AUTH_FREE_TRIES;
		int64_t wait = shift > 10 ? AUTH_WAIT_MAX_MS : (int64_t)AUTH_WAIT_MIN_MS << shift;
		s->until = now + (wait > AUTH_WAIT_MAX_MS ? AUTH_WAIT_MAX_MS : wait);
	}
}
