/* Conversions between mgr_value and protobuf-c's generated Value. Private to
 * common/: only frame.c includes this. */
#ifndef COMMON_CODEC_H
#define COMMON_CODEC_H

#include "mgr.pb-c.h"
#include "arena.h"
#include "value.h"

/* pb is borrowed; *out: caller owns. EUTF8 / ETYPE / ENOMEM on failure. */
int codec_from_pb(const Mgr__Value *pb, mgr_value **out);
/* v is borrowed and must outlive the result; memory from the arena. */
Mgr__Value *codec_to_pb(const mgr_value *v, struct arena *a);

#endif
