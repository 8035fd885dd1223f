/* The type registry: every type's table and, per type, its methods sorted by
 * name so that a call finds its method by binary search. */
#include "type.h"

#include <stdlib.h>
#include <string.h>

#include "mgr/error.h"
#include "stats.h"

#define TYPES_MAX 128

struct type_entry {
	const struct type *type;
	const struct method **by_name;
	struct method_stats *stats; /* one per row of type->methods */
};

static struct type_entry types_table[TYPES_MAX];
static size_t types_n;

static int types_cmp_method(const void *a, const void *b)
{
	return strcmp((*(const struct method *const *)a)->name,
		      (*(const struct method *const *)b)->name);
}

int types_register(const struct type *t)
{
	if (types_find(t->name))
		return MGR_EEXIST;
	if (types_n == TYPES_MAX)
		return MGR_ELIMIT;
	const struct method **idx = calloc(t->nmethods + 1, sizeof(*idx));
	struct method_stats *stats = calloc(t->nmethods + 1, sizeof(*stats));
	if (!idx || !stats) {
		free(idx);
		free(stats);
		return MGR_ENOMEM;
	}
	for (size_t i = 0; i < t->nmethods; i++)
		idx[i] = &t->methods[i];
	qsort(idx, t->nmethods, sizeof(*idx), types_cmp_method);
	types_table[types_n++] = (struct type_entry){t, idx, stats};
	return 0;
}

static const struct type_entry *types_entry(const struct type *t)
{
	for (size_t i = 0; i < types_n; i++)
		if (types_table[i].type == t)
			return &types_table[i];
	return NULL;
}

const struct type *types_find(const char *name)
{
	for (size_t i = 0; i < types_n; i++)
		if (!strcmp(types_table[i].type->name, name))
			return types_table[i].type;
	return NULL;
}

const struct method *types_method(const struct type *t, const char *name)
{
	const struct type_entry *e = types_entry(t);
	size_t lo = 0, hi = e ? t->nmethods : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *other = e->by_name[mid]->name;
		int c = (unsigned char)name[0] - (unsigned char)other[0]; /* most steps end here */
		if (c == 0)
			c = strcmp(name, other);
		if (c == 0)
			return e->by_name[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct method_stats *types_stats(const struct type *t, const struct method *m)
{
	const struct type_entry *e = types_entry(t);
	return e && m >= t->methods && m < t->methods + t->nmethods ? &e->stats[m - t->methods]
								    : NULL;
}

int types_ctor_max_args(const struct type *t)
{
	if (!t->ctor_args)
		return -1;
	int n = t->ctor_args[0] != '\0';
	for (const char *p = t->ctor_args; *p; p++)
		n += *p == ',';
	return n;
}

size_t types_count(void) { return types_n; }

const struct type *types_at(size_t i) { return i < types_n ? types_table[i].type : NULL; }

void types_reset(void)
{
	for (size_t i = 0; i < types_n; i++) {
		free(types_table[i].by_name);
		if (types_table[i].type->unregister)
			types_table[i].type->unregister(types_table[i].type);
		free(types_table[i].stats);
	}
	types_n = 0;
}
