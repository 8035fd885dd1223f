/* Typed functions for list objects. */
#include "client.h"

int mgr_list_open(mgr_client *c, const char *name, mgr_object **out)
{
	return mgr_object_open(c, "list", name, out);
}

int mgr_list_append(mgr_object *o, mgr_value *value)
{
	return client_callf(o, "append", NULL, "v", value);
}

int mgr_list_extend(mgr_object *o, mgr_value *items)
{
	return client_callf(o, "extend", NULL, "v", items);
}

int mgr_list_insert(mgr_object *o, int64_t index, mgr_value *value)
{
	return client_callf(o, "insert", NULL, "iv", index, value);
}

int mgr_list_get(mgr_object *o, int64_t index, mgr_value **value)
{
	return client_callf(o, "get", value, "i", index);
}

int mgr_list_set(mgr_object *o, int64_t index, mgr_value *value)
{
	return client_callf(o, "set", NULL, "iv", index, value);
}

int mgr_list_del(mgr_object *o, int64_t index) { return client_callf(o, "del", NULL, "i", index); }

int mgr_list_pop(mgr_object *o, int64_t index, mgr_value **value)
{
	return client_callf(o, "pop", value, "i", index);
}

int mgr_list_remove(mgr_object *o, const mgr_value *value)
{
	return client_callf(o, "remove", NULL, "V", value);
}

int mgr_list_index(mgr_object *o, const mgr_value *value, int64_t *index)
{
	mgr_value *r = NULL;
	return client_want_int(client_callf(o, "index", &r, "V", value), &r, index);
}

int mgr_list_count(mgr_object *o, const mgr_value *value, int64_t *count)
{
	mgr_value *r = NULL;
	return client_want_int(client_callf(o, "count", &r, "V", value), &r, count);
}

int mgr_list_len(mgr_object *o, size_t *len) { return client_get_len(o, len); }

int mgr_list_slice(mgr_object *o, int64_t start, int64_t stop, mgr_value **items)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "slice", &r, "ii", start, stop), &r, MGR_LIST, items);
}

int mgr_list_reverse(mgr_object *o) { return client_callf(o, "reverse", NULL, ""); }

int mgr_list_sort(mgr_object *o, bool reverse)
{
	return client_callf(o, "sort", NULL, "b", (int)reverse);
}

int mgr_list_clear(mgr_object *o) { return client_callf(o, "clear", NULL, ""); }

int mgr_list_copy(mgr_object *o, mgr_value **items)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "copy", &r, ""), &r, MGR_LIST, items);
}

int mgr_list_contains(mgr_object *o, const mgr_value *value, bool *found)
{
	mgr_value *r = NULL;
	return client_want_bool(client_callf(o, "contains", &r, "V", value), &r, found);
}

int mgr_list_concat(mgr_object *o, mgr_value *items, mgr_value **result)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "concat", &r, "v", items), &r, MGR_LIST, result);
}

int mgr_list_repeat(mgr_object *o, int64_t n, mgr_value **result)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "repeat", &r, "i", n), &r, MGR_LIST, result);
}

int mgr_list_imul(mgr_object *o, int64_t n) { return client_callf(o, "imul", NULL, "i", n); }
