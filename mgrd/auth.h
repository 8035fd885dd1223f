/* Who may use a TCP listener: the shared keys (each named, each acting as
 * a configured uid so the object policy applies as for a local peer), the
 * server's side of the handshake (common/auth.h), and the failures per
 * source address that make guessing cost the guesser (docs/security.md,
 * "Remote sessions"). */
#ifndef MGRD_AUTH_H
#define MGRD_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../common/auth.h"
#include "state.h"

#define AUTH_DEFAULT_UID 65534 /* nobody */

struct auth_keys {
	struct auth_key key[CONFIG_MAX_KEYS];
	char name[CONFIG_MAX_KEYS][32];
	uid_t uid[CONFIG_MAX_KEYS];
	gid_t gid[CONFIG_MAX_KEYS];
	size_t n;
};

/* The keys of cfg read from their files; -1 (logged) if one cannot be, or
 * there is a listener and no key. */
int auth_keys_load(const struct config_remote *cfg, struct auth_keys *ks);

/* What a handshake that admitted no key came to. */
enum {
	AUTH_WRONG = -1, /* the client answered, with no key of ours: told FAILURE */
	AUTH_GONE = -2,  /* no answer: the peer went away, or the socket failed */
};

/* The handshake, blocking, on a handshake thread: over fd, or over tls
 * (a gnutls session: tls.h) if not NULL. The index of the client's key,
 * AUTH_WRONG or AUTH_GONE. */
int auth_handshake(int fd, void *tls, const struct auth_keys *ks);

/* ---- failures per source address (loop thread only) ----
 * A small table of recent failures: after AUTH_FREE_TRIES failures an
 * address waits (100 ms, doubling, at most 30 s) before its next
 * connection gets a handshake; one log line per burst. */
#define AUTH_FAIL_SLOTS 64
#define AUTH_FREE_TRIES 3
struct auth_fail {
	uint8_t addr[16];
	uint32_t fails;      /* in this burst */
	uint32_t refused;    /* connections closed while waiting */
	int64_t last, until; /* ms, monotonic */
};
struct auth_fails {
	struct auth_fail slot[AUTH_FAIL_SLOTS];
};
/* The address part of sa as 16 bytes (IPv4 mapped). */
void auth_addr_key(const struct sockaddr *sa, uint8_t out[16]);
/* Whether addr must wait now (then the connection is closed unanswered). */
bool auth_fail_blocked(struct auth_fails *f, const uint8_t addr[16], int64_t now);
/* A failed handshake from addr (text: for the log). */
void auth_fail_note(struct auth_fails *f, const uint8_t addr[16], const char *text,
		    const char *why, int64_t now);

#endif
