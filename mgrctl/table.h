/* Aligned tables for mgrctl's human output. A verb describes its columns
 * once (title, map key, how to render the cell) and hands over the rows:
 * a list of maps, as the manager's listings are. */
#ifndef MGRCTL_TABLE_H
#define MGRCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include <mgr/value.h>

/* Renders one cell into buf. */
typedef void (*table_fmt)(const mgr_value *v, char *buf, size_t size);

struct table_col {
	const char *title;
	const char *key; /* the row map's key */
	table_fmt fmt;   /* NULL: table_fmt_value */
	bool right;      /* right-aligned (numbers) */
};

/* An array of columns as table_print's (cols, ncols). */
#define COLS(a) a, sizeof(a) / sizeof(a[0])

/* Prints a header and one line per row of rows (a list of maps). */
void table_print(const struct table_col *cols, size_t ncols, const mgr_value *rows);
/* Prints "label  value" lines: one per column, from one map. */
void table_print_fields(const struct table_col *cols, size_t ncols, const mgr_value *map);

/* Cell renderers. */
void table_fmt_value(const mgr_value *v, char *buf, size_t size); /* strings bare, nil "-" */
void table_fmt_repr(const mgr_value *v, char *buf, size_t size);  /* "a", b"\x00", <dict #3> */
void table_fmt_id(const mgr_value *v, char *buf, size_t size);    /* #12 */
void table_fmt_ns(const mgr_value *v, char *buf, size_t size);    /* 850ns 12.3us 4.0ms 1.20s */
void table_fmt_age(const mgr_value *v, char *buf, size_t size);   /* since (epoch s) -> 3m04s */
void table_fmt_secs(const mgr_value *v, char *buf, size_t size);  /* seconds -> 1h02m03s */

#endif
