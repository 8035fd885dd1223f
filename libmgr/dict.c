/* Typed functions for dict objects. */
#include "client.h"

int mgr_dict_open(mgr_client *c, const char *name, mgr_object **out)
{
	return mgr_object_open(c, "dict", name, out);
}

int mgr_dict_set(mgr_object *o, mgr_value *key, mgr_value *value)
{
	return client_callf(o, "set", NULL, "vv", key, value);
}

int mgr_dict_get(mgr_object *o, const mgr_value *key, mgr_value **value)
{
	return client_callf(o, "get", value, "V", key);
}

int mgr_dict_get_default(mgr_object *o, const mgr_value *key, mgr_value *dflt,
			 mgr_value **value)
{
	return client_callf(o, "get", value, "Vv", key, dflt);
}

int mgr_dict_del(mgr_object *o, const mgr_value *key)
{
	return client_callf(o, "del", NULL, "V", key);
}

int mgr_dict_contains(mgr_object *o, const mgr_value *key, bool *found)
{
	mgr_value *r = NULL;
	return client_want_bool(client_callf(o, "contains", &r, "V", key), &r, found);
}

int mgr_dict_len(mgr_object *o, size_t *len) { return client_get_len(o, len); }

int mgr_dict_keys(mgr_object *o, mgr_value **list)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "keys", &r, ""), &r, MGR_LIST, list);
}

int mgr_dict_values(mgr_object *o, mgr_value **list)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "values", &r, ""), &r, MGR_LIST, list);
}

int mgr_dict_items(mgr_object *o, mgr_value **list)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "items", &r, ""), &r, MGR_LIST, list);
}

int mgr_dict_update(mgr_object *o, mgr_value *map)
{
	return client_callf(o, "update", NULL, "v", map);
}

int mgr_dict_pop(mgr_object *o, const mgr_value *key, mgr_value **value)
{
	return client_callf(o, "pop", value, "V", key);
}

int mgr_dict_setdefault(mgr_object *o, const mgr_value *key, mgr_value *dflt,
			mgr_value **value)
{
	return client_callf(o, "setdefault", value, "Vv", key, dflt);
}

int mgr_dict_clear(mgr_object *o) { return client_callf(o, "clear", NULL, ""); }

int mgr_dict_copy(mgr_object *o, mgr_value **map)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "copy", &r, ""), &r, MGR_MAP, map);
}

int mgr_dict_incr(mgr_object *o, const mgr_value *key, int64_t delta, int64_t *now)
{
	mgr_value *r = NULL;
	return client_want_int(client_callf(o, "incr", &r, "Vi", key, delta), &r, now);
}

int mgr_dict_create(mgr_client *c, const char *name, const mgr_value *init, mgr_object **out)
{
	mgr_value *args[1] = {(mgr_value *)init};
	return mgr_object_create(c, "dict", name, args, init ? 1 : 0, out);
}

int mgr_dict_popitem(mgr_object *o, mgr_value **key, mgr_value **value)
{
	mgr_value *r = NULL, *pair = NULL;
	int err = client_want(client_callf(o, "popitem", &r, ""), &r, MGR_LIST, &pair);
	if (err)
		return err;
	if (mgr_value_len(pair) != 2) {
		mgr_value_free(pair);
		return client_fail(MGR_EPROTO, "popitem did not answer a [key, value] pair");
	}
	mgr_value *k = mgr_value_copy(mgr_value_list_get(pair, 0));
	mgr_value *v = mgr_value_copy(mgr_value_list_get(pair, 1));
	mgr_value_free(pair);
	if (!k || !v) {
		mgr_value_free(k);
		mgr_value_free(v);
		return client_fail(MGR_ENOMEM, "out of memory");
	}
	*key = k;
	*value = v;
	return 0;
}
