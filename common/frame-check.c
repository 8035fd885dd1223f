/* Schema-aware walk over protobuf bytes, done before protobuf-c unpacks a
 * frame: protobuf-c 1.4 recurses without a depth limit and allocates per
 * repeated entry, so depth and value count are bounded here first. A part
 * that breaks a limit is stepped over, not entered: the rest of the frame
 * is still walked, so a well-formed request can be told from garbage. */
#include <stdbool.h>

#include "frame.h"

enum pbmsg { PB_NONE, PB_FRAME, PB_REQUEST, PB_CALL, PB_REPLY, PB_VALUE, PB_LIST,
	     PB_MAP, PB_ENTRY, PB_OTHER };

/* Sub-message fields that can lead to a Value: [message][field] = type. */
static const enum pbmsg check_schema[PB_OTHER + 1][10] = {
	[PB_FRAME] = {[1] = PB_OTHER, [2] = PB_OTHER, [3] = PB_REQUEST, [4] = PB_REPLY},
	[PB_REQUEST] = {[4] = PB_VALUE, [7] = PB_CALL},
	[PB_CALL] = {[2] = PB_VALUE},
	[PB_REPLY] = {[2] = PB_VALUE, [3] = PB_OTHER},
	[PB_VALUE] = {[7] = PB_LIST, [8] = PB_MAP, [9] = PB_OTHER},
	[PB_LIST] = {[1] = PB_VALUE},
	[PB_MAP] = {[1] = PB_ENTRY},
	[PB_ENTRY] = {[1] = PB_VALUE, [2] = PB_VALUE},
};

struct check {
	const struct frame_limits *lim;
	uint32_t items;
	enum frame_limit broke; /* the first limit broken; nothing is entered after */
};

static bool check_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static int check_msg(struct check *c, enum pbmsg m, const uint8_t *p,
		     const uint8_t *end, uint32_t depth);

/* One field at *p; advances past it. */
static int check_field(struct check *c, enum pbmsg m, const uint8_t **p,
		       const uint8_t *end, uint32_t depth)
{
	static const uint8_t fixed[8] = {[1] = 8, [5] = 4};
	uint64_t tag, len;
	if (!check_varint(p, end, &tag) || (tag >> 3) == 0)
		return MGR_EPROTO;
	unsigned wt = tag & 7;
	if (wt == 0)
		return check_varint(p, end, &len) ? 0 : MGR_EPROTO;
	if (wt == 1 || wt == 5) {
		if ((size_t)(end - *p) < fixed[wt])
			return MGR_EPROTO;
		*p += fixed[wt];
		return 0;
	}
	if (wt != 2 || !check_varint(p, end, &len) || len > (uint64_t)(end - *p))
		return MGR_EPROTO;
	const uint8_t *sub = *p;
	*p += len;
	uint64_t field = tag >> 3;
	enum pbmsg next = field < 10 && m != PB_OTHER ? check_schema[m][field] : PB_NONE;
	if (next == PB_NONE || next == PB_OTHER || c->broke)
		return 0; /* scalar, string, a message without values, or past a limit */
	return check_msg(c, next, sub, *p, depth);
}

static int check_msg(struct check *c, enum pbmsg m, const uint8_t *p,
		     const uint8_t *end, uint32_t depth)
{
	if (m == PB_VALUE && ++depth > c->lim->max_depth)
		c->broke = FRAME_LIMIT_DEPTH;
	else if ((m == PB_VALUE || m == PB_ENTRY || m == PB_CALL) &&
		 ++c->items > c->lim->max_items)
		c->broke = FRAME_LIMIT_ITEMS;
	if (c->broke)
		return 0; /* its bytes are bounded by the enclosing length: skipped */
	while (p < end) {
		int err = check_field(c, m, &p, end, depth);
		if (err)
			return err;
	}
	return 0;
}

int frame_check_limit(const uint8_t *p, size_t len, const struct frame_limits *lim,
		      enum frame_limit *broke)
{
	struct check c = {lim, 0, FRAME_LIMIT_NONE};
	int err = check_msg(&c, PB_FRAME, p, p + len, 0);
	if (broke)
		*broke = err ? FRAME_LIMIT_NONE : c.broke;
	return err ? err : c.broke ? MGR_ELIMIT : 0;
}

int frame_check(const uint8_t *p, size_t len, const struct frame_limits *lim)
{
	return frame_check_limit(p, len, lim, NULL);
}
