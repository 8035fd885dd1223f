/* String-keyed maps (see row.h). */
#include "row.h"

#include <string.h>

mgr_value *row_new(size_t n, const char *const keys[], mgr_value *vals[])
{
	mgr_value *m = mgr_value_new_map();
	for (size_t i = 0; i < n; i++)
		if (mgr_value_map_set(m, mgr_value_new_string(keys[i]), vals[i])) {
			for (size_t j = i + 1; j < n; j++)
				mgr_value_free(vals[j]);
			mgr_value_free(m);
			return NULL;
		}
	return m;
}

const mgr_value *row_field(const mgr_value *map, const char *key, mgr_kind kind)
{
	if (!map || map->kind != MGR_MAP)
		return NULL;
	mgr_value k = {.kind = MGR_STRING, .u.s = {(char *)key, strlen(key)}};
	const mgr_value *v = mgr_value_map_get(map, &k);
	return v && v->kind == kind ? v : NULL;
}
