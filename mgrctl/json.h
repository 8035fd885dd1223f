/* JSON <-> mgr_value, through jansson. JSON null, booleans, integers,
 * reals, strings, arrays and objects map to the matching values. Values
 * JSON has no form for are objects with a "$" key: bytes are
 * {"$bytes": "<hex>"}, a ref is {"$ref": ID, "type": "dict"}. Map keys
 * that are not strings (int, bool, bytes) are written as their text, so
 * that direction loses the key's kind. */
#ifndef MGRCTL_JSON_H
#define MGRCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <mgr/value.h>

/* Parses len bytes of one JSON document (any value at the top). Pure: no
 * I/O, no global state, so a fuzzer can call it on any bytes.
 * *out: caller owns — free with mgr_value_free(). On failure returns -1
 * and writes why into err (untouched *out). */
int json_parse(const char *buf, size_t len, mgr_value **out, char *err, size_t errlen);

/* v as JSON text, compact (one line). Caller owns — free with free();
 * NULL when out of memory. */
char *json_format(const mgr_value *v, bool compact);

#endif
