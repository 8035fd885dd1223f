/* Values from protobuf-c's generated Value (the exact decoding path, used
 * when the direct reader declines), and between mgr_value and the Value's
 * wire bytes directly (no protobuf-c structs, no allocation but the values
 * themselves). Private to common/ (and the fuzz targets). */
#ifndef COMMON_CODEC_H
#define COMMON_CODEC_H

#include "mgr.pb-c.h"
#include "value.h"

/* pb is borrowed; *out: caller owns. EUTF8 / ETYPE / ENOMEM on failure. */
int codec_from_pb(const Mgr__Value *pb, mgr_value **out);

/* ---- wire bytes directly ---- */

static inline size_t codec_varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint8_t *codec_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A length-delimited field of n bytes with a one-byte tag (fields 1-15). */
static inline size_t codec_len_field(size_t n) { return 1 + codec_varint_size(n) + n; }

/* One field as read: v is the varint (wire type 0) or the length (2); data
 * points at the bytes (types 1, 2, 5); nv is the varint's byte count. */
struct codec_field {
	uint64_t num, v;
	unsigned wt, nv;
	const uint8_t *data;
};

/* Reads the field at *p and advances past it; false if malformed. */
bool codec_next_field_slow(const uint8_t **p, const uint8_t *end, struct codec_field *f);

/* The same, inline for the common case: a one-byte tag, then a varint or
 * a length of up to 4 bytes (ids, thread ids and counts run past 127);
 * anything longer or odd goes the slow way, which takes the same bytes. */
static inline bool codec_next_field(const uint8_t **p, const uint8_t *end, struct codec_field *f)
{
	const uint8_t *q = *p, *r = q + 2;
	unsigned wt = q < end ? q[0] & 7 : 1;
	if (end - q < 2 || q[0] < 8 || q[0] >= 0x80 || (wt != 0 && wt != 2))
		return codec_next_field_slow(p, end, f);
	uint64_t v = q[1];
	if (v >= 0x80) { /* 2 to 4 bytes */
		const uint8_t *stop = end - r > 3 ? r + 3 : end;
		v &= 0x7F;
		for (unsigned shift = 7;; shift += 7) {
			if (r == stop)
				return codec_next_field_slow(p, end, f);
			uint8_t b = *r++;
			v |= (uint64_t)(b & 0x7F) << shift;
			if (!(b & 0x80))
				break;
		}
	}
	if (wt == 2 && v > (uint64_t)(end - r))
		return codec_next_field_slow(p, end, f);
	f->num = q[0] >> 3;
	f->wt = wt;
	f->v = v;
	f->nv = (unsigned)(r - q - 1);
	f->data = wt == 0 ? q + 1 : r;
	*p = wt == 0 ? r : r + v;
	return true;
}

/* Bytes of v as a Value message (without its own tag and length); v NULL
 * is nil. Writing returns the end of what was written. */
size_t codec_value_size(const mgr_value *v);
uint8_t *codec_value_write(const mgr_value *v, uint8_t *p);
/* The nesting of v as frame_check() counts it (a scalar is 1), and the
 * items it counts (each value and map entry one) added to *items; looks no
 * more than room levels down: a value deeper than room gives room + 1 (and
 * a partial count). So a value being checked against a limit costs a
 * recursion no deeper than the limit. */
uint32_t codec_value_depth(const mgr_value *v, uint32_t room, uint64_t *items);
/* Decodes the Value message in [p, end) into *out (caller owns). 0, or -1
 * when the bytes are not the plain form this reader takes (duplicate or
 * unknown fields, odd wire types) or hold a bad value: then the protobuf-c
 * path decodes them and gives the exact answer. */
int codec_value_read(const uint8_t *p, const uint8_t *end, mgr_value **out);

#endif
