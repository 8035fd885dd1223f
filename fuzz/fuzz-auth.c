/* libFuzzer target: the TCP key handshake's parsers (common/auth.h) on
 * bytes a peer chose. The server's side of the client's message, against
 * two keys and a fixed nonce: whatever the bytes, it names a key only if
 * the answer is that key's HMAC (checked here by recomputing it). The
 * client's side of a challenge and of the result: never a welcome without
 * the key's answer. Any length, including the exact sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth_key keys[2];
	static const uint8_t nonce[AUTH_NONCE] = {1, 2, 3};
	if (!keys[0].len) {
		memcpy(keys[0].k, "0123456789abcdef", 16);
		keys[0].len = 16;
		memcpy(keys[1].k, "fedcba9876543210-second", 23);
		keys[1].len = 23;
	}
	uint8_t cn[AUTH_NONCE], want[AUTH_ANSWER_LEN];
	int k = auth_server_check(keys, 2, nonce, data, size, cn);
	if (k >= 0) {
		auth_answer_make(&keys[k], "mgr-client", nonce, want);
		if (size != AUTH_CLIENT_LEN || memcmp(want, data, AUTH_ANSWER_LEN))
			abort();
	}
	uint8_t n2[AUTH_NONCE];
	if (!auth_challenge_parse(data, size, n2) && size != AUTH_CHALLENGE_LEN)
		abort();
	if (auth_result_check(&keys[0], nonce, data, size) == 0) {
		auth_answer_make(&keys[0], "mgr-server", nonce, want);
		if (size != AUTH_RESULT_LEN || memcmp(want, data + 9, AUTH_ANSWER_LEN))
			abort();
	}
	char host[64], port[16], addr[128];
	size_t n = size < sizeof(addr) - 1 ? size : sizeof(addr) - 1;
	memcpy(addr, data, n);
	addr[n] = '\0';
	(void)auth_tcp_split(addr, host, sizeof(host), port, sizeof(port));
	return 0;
}
