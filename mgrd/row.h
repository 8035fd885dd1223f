/* Maps with string keys as the daemon builds and reads them: a row of a
 * view (`mgrctl show`, `ls`...) and a field of a saved state. */
#ifndef MGRD_ROW_H
#define MGRD_ROW_H

#include <stddef.h>

#include "../common/value.h"

/* A map from n (key, value) pairs; the values are consumed even on
 * failure. NULL on ENOMEM. */
mgr_value *row_new(size_t n, const char *const keys[], mgr_value *vals[]);
/* A field of a map, if present and of that kind (borrowed). */
const mgr_value *row_field(const mgr_value *map, const char *key, mgr_kind kind);

#endif
