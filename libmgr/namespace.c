/* Typed functions for namespace objects (Python's Namespace). */
#include "client.h"

int mgr_namespace_open(mgr_client *c, const char *name, mgr_object **out)
{
	return mgr_object_open(c, "namespace", name, out);
}

int mgr_namespace_create(mgr_client *c, const char *name, const mgr_value *attrs,
			 mgr_object **out)
{
	mgr_value *args[1] = {(mgr_value *)attrs};
	return mgr_object_create(c, "namespace", name, args, attrs ? 1 : 0, out);
}

int mgr_namespace_get(mgr_object *o, const char *attr, mgr_value **value)
{
	return client_callf(o, "get", value, "s", attr);
}

int mgr_namespace_set(mgr_object *o, const char *attr, mgr_value *value)
{
	return client_callf(o, "set", NULL, "sv", attr, value);
}

int mgr_namespace_del(mgr_object *o, const char *attr)
{
	return client_callf(o, "del", NULL, "s", attr);
}

int mgr_namespace_has(mgr_object *o, const char *attr, bool *found)
{
	mgr_value *r = NULL;
	return client_want_bool(client_callf(o, "has", &r, "s", attr), &r, found);
}

int mgr_namespace_names(mgr_object *o, mgr_value **names)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "names", &r, ""), &r, MGR_LIST, names);
}

int mgr_namespace_vars(mgr_object *o, mgr_value **attrs)
{
	mgr_value *r = NULL;
	return client_want(client_callf(o, "vars", &r, ""), &r, MGR_MAP, attrs);
}
