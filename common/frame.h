/* The frame codec: 4-byte big-endian length + one protobuf Frame. Pure
 * bytes in, messages out (and back); no sockets, so it is unit tested and
 * fuzzed alone. */
#ifndef COMMON_FRAME_H
#define COMMON_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"

/* The payload length a frame's header says (inline: once a frame on both
 * sides' hot paths). */
static inline uint32_t frame_get_len(const uint8_t h[FRAME_HEADER])
{
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* Zeroes n bytes at p (a struct's leading fields on a per-call path) in
 * pieces of at most 64 bytes: GCC (-mtune=generic) writes a memset over
 * 64 bytes as `rep stosq`, whose start-up costs some 30 cycles, and a
 * call zeroed three such prefixes in mgrd. n must be a constant for
 * this to unroll into plain stores. */
static inline void frame_zero(void *p, size_t n)
{
	unsigned char *c = p;
	for (; n > 64; n -= 64, c += 64)
		memset(c, 0, 64);
	memset(c, 0, n);
}

/* The limit a frame broke. */
enum frame_limit { FRAME_LIMIT_NONE, FRAME_LIMIT_DEPTH, FRAME_LIMIT_ITEMS, FRAME_LIMIT_SIZE };

/* Walks the protobuf bytes with the schema before anything is unpacked:
 * rejects value nesting deeper than max_depth and more than max_items items
 * (values, map entries and batch calls each count one) (MGR_ELIMIT, and
 * *broke says which; broke may be NULL) and malformed wire data
 * (MGR_EPROTO, which wins: the parts outside an over-limit value are still
 * walked). Recursion never goes deeper than max_depth. */
int frame_check_limit(const uint8_t *p, size_t len, const struct frame_limits *lim,
		      enum frame_limit *broke);
int frame_check(const uint8_t *p, size_t len, const struct frame_limits *lim);

/* Decodes one payload (header excluded). On failure returns a code and, in
 * err, a message; if the frame was a well-formed request (non-zero id)
 * whose arguments were bad (EUTF8, ETYPE) or broke max_depth or max_items
 * (ELIMIT), out->kind is MSG_REQUEST with only its id set, so the caller
 * can answer that request and keep the connection. out must be
 * msg_clear()ed. */
int frame_decode(const uint8_t *p, size_t len, const struct frame_limits *lim,
		 struct msg *out, char *err, size_t errlen);

/* frame_decode for a reply's reader: an int or bool result may stay
 * unallocated in out->scalar (msg.h), for a caller that may want none. */
int frame_decode_scalars(const uint8_t *p, size_t len, const struct frame_limits *lim,
			 struct msg *out, char *err, size_t errlen);

/* frame_decode without its tightest path (frame.c, "tightest path"): the
 * same answers by contract, for tests and fuzzing to hold the two to it. */
int frame_decode_general(const uint8_t *p, size_t len, const struct frame_limits *lim,
			 struct msg *out, char *err, size_t errlen);

/* Whether q, encoded exactly as it is (id, object and thread included),
 * keeps within the limits a manager announced, counted as its
 * frame_check() and frame-length check will count: 0, or MGR_ELIMIT with a
 * message in err naming the limit and *broke (may be NULL) saying which.
 * A zero limit was not announced and is not checked. Walks no deeper than
 * max_depth + 1, so an absurdly deep value costs no more than a legal one. */
int frame_request_fits(const struct msg_request *q, const struct frame_limits *lim,
		       enum frame_limit *broke, char *err, size_t errlen);
/* The same for a sender about to write m (a MSG_REQUEST): checks the walk,
 * then prepares *fo (frame_prepare, below) and checks its size, so the
 * request is sized once. 0 with *fo ready to write; MGR_ELIMIT as above;
 * frame_prepare's error when no limit was broken. */
struct frame_out;
int frame_request_prepare(struct frame_out *fo, const struct msg *m,
			  const struct frame_limits *lim, enum frame_limit *broke, char *err,
			  size_t errlen);

/* The usual request written in one pass (frame.c, "encode, tightest
 * path"): no batch, up to 4 int / bool / nil arguments, a method under 64
 * bytes. frame_request_tight_bound: 0 if q is not that or could break
 * lim (then frame_request_prepare says how), else the most bytes writing
 * it can take. frame_request_tight_write writes the whole frame at dst
 * (that many bytes of room), the same bytes frame_write would, and
 * returns its size; 0 (nothing to send) if the method was 64 bytes or
 * more after all. */
size_t frame_request_tight_bound(const struct msg_request *q, const struct frame_limits *lim);
size_t frame_request_tight_write(const struct msg_request *q, uint8_t *dst);

/* A reply with no error and an int, bool or nil value (or none: nil)
 * written in one pass at dst (FRAME_REPLY_TIGHT_MAX bytes of room), the
 * same bytes frame_write would; returns its size, or 0 for any other
 * reply (nothing written). */
#define FRAME_REPLY_TIGHT_MAX 40
size_t frame_reply_tight_write(const struct msg_reply *y, uint8_t *dst);

/* A frame sized for writing: size first, then the bytes straight into the
 * caller's buffer (no allocation). */
struct frame_out {
	const struct msg *m; /* borrowed: must outlive the frame_out */
	size_t body;         /* bytes of the Frame's one field */
	size_t size;         /* header + payload bytes */
};

/* Sizes m for writing. */
int frame_prepare(struct frame_out *fo, const struct msg *m);
/* Writes fo->size bytes at dst. */
void frame_write(const struct frame_out *fo, uint8_t *dst);

/* Convenience: a malloc'ed frame; caller owns — free with free(). */
int frame_encode(const struct msg *m, uint8_t **out, size_t *len);

#endif
