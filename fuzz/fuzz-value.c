/* libFuzzer target: the value decoder. The input is one protobuf Value
 * message. It is wrapped in a Request and checked with frame_check (depth
 * and item limits, as mgrd does before decoding); then the direct reader
 * (codec_value_read, the fast path) and protobuf-c + codec_from_pb (the
 * exact path) decode it and must agree: when the fast path accepts, the
 * exact path accepts too and both values encode to the same bytes, and
 * that encoding decodes back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/codec.h"
#include "../common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct frame_limits fuzz_lim = {.max_frame = 1 << 20, .max_depth = 24,
					     .max_items = 4096, .max_pending = 64};

/* Frame{request{id: 1, method: "x", args: [data]}} */
static uint8_t *fuzz_wrap(const uint8_t *data, size_t size, size_t *len)
{
	size_t req = 2 + 3 + codec_len_field(size);
	uint8_t *buf = malloc(codec_len_field(req)), *p = buf;
	if (!buf)
		abort();
	*p++ = 3 << 3 | 2;
	p = codec_put_varint(p, req);
	*p++ = 1 << 3 | 0, *p++ = 1;
	*p++ = 3 << 3 | 2, *p++ = 1, *p++ = 'x';
	*p++ = 4 << 3 | 2;
	p = codec_put_varint(p, size);
	if (size)
		memcpy(p, data, size);
	*len = (size_t)(p - buf) + size;
	return buf;
}

/* The wire bytes of v (caller frees). */
static uint8_t *fuzz_bytes(const mgr_value *v, size_t *len)
{
	*len = codec_value_size(v);
	uint8_t *p = malloc(*len + 1);
	if (!p || (size_t)(codec_value_write(v, p) - p) != *len)
		abort();
	return p;
}

static int fuzz_exact(const uint8_t *data, size_t size, mgr_value **out)
{
	Mgr__Value *pb = mgr__value__unpack(NULL, size, data);
	if (!pb)
		return MGR_EPROTO;
	int rc = codec_from_pb(pb, out);
	mgr__value__free_unpacked(pb, NULL);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t wlen, n1, n2, n3;
	uint8_t *w = fuzz_wrap(data, size, &wlen);
	int checked = frame_check(w, wlen, &fuzz_lim);
	free(w);
	if (checked)
		return 0; /* mgrd never decodes past this check */
	mgr_value *fast = NULL, *exact = NULL, *again = NULL;
	int frc = codec_value_read(data, data + size, &fast);
	int erc = fuzz_exact(data, size, &exact);
	if (frc == 0 && erc != 0)
		abort(); /* the fast path accepted what the exact path refuses */
	if (erc == 0) {
		uint8_t *b1 = fuzz_bytes(exact, &n1);
		if (frc == 0) {
			uint8_t *b2 = fuzz_bytes(fast, &n2);
			if (n1 != n2 || memcmp(b1, b2, n1))
				abort(); /* the two paths disagree */
			free(b2);
		}
		if (codec_value_read(b1, b1 + n1, &again))
			abort(); /* our own encoding is the plain form */
		uint8_t *b3 = fuzz_bytes(again, &n3);
		if (n1 != n3 || memcmp(b1, b3, n1))
			abort();
		free(b1);
		free(b3);
	}
	mgr_value_free(fast);
	mgr_value_free(exact);
	mgr_value_free(again);
	return 0;
}
