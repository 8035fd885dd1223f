/* The frame codec: 4-byte big-endian length + one protobuf Frame. Pure
 * bytes in, messages out (and back); no sockets, so it is unit tested and
 * fuzzed alone. */
#ifndef COMMON_FRAME_H
#define COMMON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

uint32_t frame_get_len(const uint8_t hdr[FRAME_HEADER]);

/* Walks the protobuf bytes with the schema before anything is unpacked:
 * rejects value nesting deeper than max_depth and more than max_items items
 * (values, map entries and batch calls each count one)
 * (MGR_ELIMIT) and malformed wire data (MGR_EPROTO). */
int frame_check(const uint8_t *p, size_t len, const struct frame_limits *lim);

/* Decodes one payload (header excluded). On failure returns a code and, in
 * err, a message; if the frame was a well-formed request whose arguments
 * were bad (EUTF8, ETYPE), out->kind is MSG_REQUEST with only its id set,
 * so the caller can answer that request. out must be msg_clear()ed. */
int frame_decode(const uint8_t *p, size_t len, const struct frame_limits *lim,
		 struct msg *out, char *err, size_t errlen);

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
