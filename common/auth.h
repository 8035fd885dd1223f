/* The shared-key handshake of a TCP connection (docs/security.md, "Remote
 * sessions"): a mutual challenge-response with HMAC-SHA256, the shape of
 * CPython's multiprocessing.connection (deliver_challenge /
 * answer_challenge, "{sha256}" messages), in fixed-size messages so a
 * peer can make the other side hold no more than these few bytes:
 *
 *   server -> client  CHALLENGE  "#CHALLENGE#{sha256}" + 32 random bytes
 *   client -> server  ANSWER     "{sha256}" + HMAC(key, "mgr-client" + that nonce)
 *                     CHALLENGE  the client's own, 32 fresh random bytes
 *   server -> client  RESULT     "#WELCOME#" + "{sha256}" + HMAC(key, "mgr-server" + nonce)
 *                                or "#FAILURE#" + 40 zero bytes
 *
 * Each side proves it holds the key on the other's nonce; the role string
 * keeps an answer from being reflected back as the other side's. Answers
 * are compared in constant time. Nothing but these bytes is sent until both
 * sides are satisfied: then the frames (Hello first) follow. */
#ifndef COMMON_AUTH_H
#define COMMON_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_NONCE 32
#define AUTH_MAC 32
#define AUTH_KEY_MIN 16
#define AUTH_KEY_MAX 512
#define AUTH_CHALLENGE_LEN (19 + AUTH_NONCE)      /* 51 */
#define AUTH_ANSWER_LEN (8 + AUTH_MAC)            /* 40 */
#define AUTH_CLIENT_LEN (AUTH_ANSWER_LEN + AUTH_CHALLENGE_LEN) /* 91 */
#define AUTH_RESULT_LEN (9 + AUTH_ANSWER_LEN)     /* 49 */

struct auth_key {
	uint8_t k[AUTH_KEY_MAX];
	size_t len;
};

/* A new challenge into out; its nonce into nonce. -1 if no randomness. */
int auth_challenge_make(uint8_t out[AUTH_CHALLENGE_LEN], uint8_t nonce[AUTH_NONCE]);
/* The nonce of a challenge; -1 if msg is not one. */
int auth_challenge_parse(const uint8_t *msg, size_t len, uint8_t nonce[AUTH_NONCE]);
/* The answer to nonce for role ("mgr-client" or "mgr-server"). */
void auth_answer_make(const struct auth_key *key, const char *role,
		      const uint8_t nonce[AUTH_NONCE], uint8_t out[AUTH_ANSWER_LEN]);
/* Whether msg answers nonce for role with key (constant time in msg). */
bool auth_answer_check(const struct auth_key *key, const char *role,
		       const uint8_t nonce[AUTH_NONCE], const uint8_t *msg, size_t len);

/* The server's side of the client's message (ANSWER + CHALLENGE) to its
 * nonce: the index of the key it answers with (every key tried, so the
 * time does not say which), and the client's nonce; -1 if none or msg is
 * malformed. */
int auth_server_check(const struct auth_key *keys, size_t nkeys,
		      const uint8_t nonce[AUTH_NONCE], const uint8_t *msg, size_t len,
		      uint8_t client_nonce[AUTH_NONCE]);
/* The server's RESULT: welcome with its answer to client_nonce (key not
 * NULL), or failure. */
void auth_result_make(const struct auth_key *key, const uint8_t client_nonce[AUTH_NONCE],
		      uint8_t out[AUTH_RESULT_LEN]);
/* The client's side of RESULT: 0 welcome and the server proved the key,
 * 1 the server refused us, -1 a server without the key (or garbage). */
int auth_result_check(const struct auth_key *key, const uint8_t client_nonce[AUTH_NONCE],
		      const uint8_t *msg, size_t len);

/* A key from a file: its bytes, one trailing newline dropped; the file
 * must be a regular file not readable by group or others, the key
 * AUTH_KEY_MIN..AUTH_KEY_MAX bytes. -1 with why filled. */
int auth_key_load(const char *path, struct auth_key *key, char *why, size_t n);
/* A key given as a string (MGR_AUTH_KEY); the same length rule. */
int auth_key_set(const char *s, struct auth_key *key, char *why, size_t n);
/* A key of len bytes (any bytes: a Python authkey); the same length rule. */
int auth_key_bytes(const void *b, size_t len, struct auth_key *key, char *why, size_t n);

/* "tcp:HOST:PORT" (HOST may be [v6]) into host and port; -1 if addr is
 * not one. Whether an address names TCP: auth_is_tcp. */
int auth_tcp_split(const char *addr, char *host, size_t hn, char *port, size_t pn);
bool auth_is_tcp(const char *addr);

#endif
