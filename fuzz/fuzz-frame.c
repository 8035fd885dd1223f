/* libFuzzer target: the frame decoder (common/frame.c, frame-check.c,
 * codec.c) over arbitrary payload bytes, with small limits. Oracle: a
 * frame that decodes must encode, and its encoding must decode to a
 * message that encodes to the same bytes (so fast path, protobuf-c path
 * and encoder agree), and the decoder must never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct frame_limits fuzz_lim = {.max_frame = 1 << 20, .max_depth = 24,
					     .max_items = 4096, .max_pending = 64};

/* Decodes p and returns its encoding (caller frees), or NULL. */
static uint8_t *fuzz_reencode(const uint8_t *p, size_t len, size_t *outlen, int *rc)
{
	struct msg m;
	char err[160];
	uint8_t *out = NULL;
	*rc = frame_decode(p, len, &fuzz_lim, &m, err, sizeof(err));
	if (*rc == 0 && frame_encode(&m, &out, outlen))
		abort(); /* what we decoded we must be able to send back */
	if (*rc && !err[0])
		abort(); /* every failure says why */
	msg_clear(&m);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n1, n2;
	int rc;
	uint8_t *e1 = fuzz_reencode(data, size, &n1, &rc);
	if (!e1)
		return 0;
	if (n1 < FRAME_HEADER || frame_get_len(e1) != n1 - FRAME_HEADER)
		abort();
	uint8_t *e2 = fuzz_reencode(e1 + FRAME_HEADER, n1 - FRAME_HEADER, &n2, &rc);
	/* Our own encoding of a decoded frame may exceed the item limit only
	 * if the input did too, which it did not: it must decode. */
	if (!e2 || n1 != n2 || memcmp(e1, e2, n1))
		abort();
	free(e1);
	free(e2);
	return 0;
}
