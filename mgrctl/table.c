/* Aligned tables (see table.h): cells are rendered first, then each column
 * is as wide as its widest cell. */
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define TABLE_CELL 256

void table_fmt_value(const mgr_value *v, char *buf, size_t size)
{
	if (mgr_value_kind(v) == MGR_STRING)
		snprintf(buf, size, "%s", mgr_value_string(v, NULL));
	else if (mgr_value_kind(v) == MGR_NIL)
		snprintf(buf, size, "-");
	else
		mgr_value_format(v, buf, size);
}

void table_fmt_repr(const mgr_value *v, char *buf, size_t size)
{
	mgr_value_format(v, buf, size);
}

void table_fmt_id(const mgr_value *v, char *buf, size_t size)
{
	snprintf(buf, size, "#%" PRId64, mgr_value_int(v));
}

void table_fmt_ns(const mgr_value *v, char *buf, size_t size)
{
	static const struct {
		double below, div;
		const char *fmt;
	} units[] = {{1e3, 1, "%.0fns"}, {1e6, 1e3, "%.1fus"}, {1e9, 1e6, "%.1fms"},
		     {1e300, 1e9, "%.2fs"}};
	double ns = (double)mgr_value_int(v);
	size_t i = 0;
	while (ns >= units[i].below)
		i++;
	snprintf(buf, size, units[i].fmt, ns / units[i].div);
}

static void table_duration(int64_t s, char *buf, size_t size)
{
	if (s < 60)
		snprintf(buf, size, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h", s / 86400, s / 3600 % 24);
}

void table_fmt_secs(const mgr_value *v, char *buf, size_t size)
{
	table_duration(mgr_value_int(v), buf, size);
}

void table_fmt_age(const mgr_value *v, char *buf, size_t size)
{
	int64_t age = (int64_t)time(NULL) - mgr_value_int(v);
	table_duration(age > 0 ? age : 0, buf, size);
}

static void table_cell(const struct table_col *col, const mgr_value *row, char *buf)
{
	(col->fmt ? col->fmt : table_fmt_value)(ctl_get(row, col->key), buf, TABLE_CELL);
	buf[strcspn(buf, "\n")] = '\0';
}

static void table_line(const struct table_col *cols, size_t ncols, const int *width,
		       char (*cells)[TABLE_CELL])
{
	for (size_t c = 0; c < ncols; c++) {
		int w = c + 1 == ncols && !cols[c].right ? 0 : width[c];
		printf("%s%*s", c ? "  " : "", cols[c].right ? w : -w, cells[c]);
	}
	putchar('\n');
}

void table_print(const struct table_col *cols, size_t ncols, const mgr_value *rows)
{
	size_t nrows = mgr_value_len(rows);
	char (*cells)[TABLE_CELL] = calloc((nrows + 1) * ncols, TABLE_CELL);
	int *width = calloc(ncols, sizeof(*width));
	if (!cells || !width) {
		free(cells);
		free(width);
		ctl_fail("out of memory");
		return;
	}
	for (size_t c = 0; c < ncols; c++)
		snprintf(cells[c], TABLE_CELL, "%s", cols[c].title);
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++)
			table_cell(&cols[c], mgr_value_list_get(rows, r), cells[(r + 1) * ncols + c]);
	for (size_t i = 0; i < (nrows + 1) * ncols; i++)
		if ((int)strlen(cells[i]) > width[i % ncols])
			width[i % ncols] = (int)strlen(cells[i]);
	fputs(ctl_color(true, "bold"), stdout); /* the header, on a terminal */
	for (size_t r = 0; r <= nrows; r++) {
		table_line(cols, ncols, width, &cells[r * ncols]);
		if (!r)
			fputs(ctl_color(true, "reset"), stdout);
	}
	free(cells);
	free(width);
}

void table_print_fields(const struct table_col *cols, size_t ncols, const mgr_value *map)
{
	int width = 0;
	for (size_t c = 0; c < ncols; c++)
		if ((int)strlen(cols[c].title) > width)
			width = (int)strlen(cols[c].title);
	for (size_t c = 0; c < ncols; c++) {
		char cell[TABLE_CELL];
		table_cell(&cols[c], map, cell);
		printf("%s%-*s%s  %s\n", ctl_color(true, "bold"), width, cols[c].title,
		       ctl_color(true, "reset"), cell);
	}
}
