/* Object handles: create, open, look up, adopt a ref, delete, release. A
 * handle is an id plus the manager instance it belongs to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/value.h"
#include "client.h"

static int object_adopt(mgr_client *c, mgr_value *ref, mgr_object **out)
{
	mgr_object *o = calloc(1, sizeof(*o));
	if (!o || mgr_value_kind(ref) != MGR_REF || !(o->type = strdup(mgr_value_ref_type(ref)))) {
		free(o);
		mgr_value_free(ref);
		return client_fail(o ? MGR_EPROTO : MGR_ENOMEM, "manager did not answer with a ref");
	}
	o->client = c;
	o->id = mgr_value_ref_id(ref);
	pthread_mutex_lock(&c->mu);
	memcpy(o->instance, c->instance, sizeof(o->instance));
	pthread_mutex_unlock(&c->mu);
	mgr_value_free(ref);
	*out = o;
	return 0;
}

/* manager.method(head..., args...) -> a new handle */
static int object_manager_call(mgr_client *c, const char *method, mgr_value **head,
			       size_t nhead, mgr_value *const *args, size_t nargs,
			       mgr_object **out)
{
	mgr_value **all = calloc(nhead + nargs + 1, sizeof(*all));
	int err = all ? 0 : client_fail(MGR_ENOMEM, "out of memory");
	for (size_t i = 0; all && i < nhead; i++)
		all[i] = head[i];
	for (size_t i = 0; all && i < nargs; i++)
		all[nhead + i] = args[i];
	mgr_value *ref = NULL;
	if (!err)
		err = mgr_call(&c->manager, method, all, nhead + nargs, &ref);
	for (size_t i = 0; i < nhead; i++)
		mgr_value_free(head[i]);
	free(all);
	return err ? err : object_adopt(c, ref, out);
}

/* A name given must be valid UTF-8: EUTF8 says so before anything is sent
 * (mgr_value_new_string would return NULL, which reads as ENOMEM). */
static int object_check_name(const char *what, const char *name)
{
	if (name && !value_utf8_valid(name, strlen(name)))
		return client_fail(MGR_EUTF8, "the %s is not valid UTF-8", what);
	return 0;
}

static mgr_value *object_name_value(const char *name)
{
	return name ? mgr_value_new_string(name) : mgr_value_new_nil();
}

int mgr_object_create(mgr_client *c, const char *type, const char *name,
		      mgr_value *const *args, size_t nargs, mgr_object **out)
{
	if (!c || !type || !out)
		return client_fail(MGR_EINVAL, "client, type or out is NULL");
	int err = object_check_name("type", type);
	if (!err)
		err = object_check_name("name", name);
	if (err)
		return err;
	mgr_value *head[] = {mgr_value_new_string(type), object_name_value(name)};
	return object_manager_call(c, "create", head, 2, args, nargs, out);
}

/* A NULL name: a new anonymous object, as the sync openers make. */
int mgr_object_open(mgr_client *c, const char *type, const char *name, mgr_object **out)
{
	if (!c || !type || !out)
		return client_fail(MGR_EINVAL, "client, type or out is NULL");
	int err = object_check_name("type", type);
	if (!err)
		err = object_check_name("name", name);
	if (err || !name)
		return err ? err : mgr_object_create(c, type, NULL, NULL, 0, out);
	mgr_value *head[] = {mgr_value_new_string(type), mgr_value_new_string(name)};
	return object_manager_call(c, "open", head, 2, NULL, 0, out);
}

int mgr_object_lookup(mgr_client *c, const char *name, mgr_object **out)
{
	if (!c || !name || !out)
		return client_fail(MGR_EINVAL, "client, name or out is NULL");
	int err = object_check_name("name", name);
	if (err)
		return err;
	mgr_value *head[] = {mgr_value_new_string(name)};
	return object_manager_call(c, "lookup", head, 1, NULL, 0, out);
}

int mgr_object_lookup_id(mgr_client *c, uint64_t id, const char *type, mgr_object **out)
{
	if (!c || !id || !out || id > INT64_MAX)
		return client_fail(MGR_EINVAL, "client or out is NULL, or id is not an object's");
	mgr_object *o = NULL;
	mgr_value *head[] = {mgr_value_new_int((int64_t)id)};
	int err = object_manager_call(c, "lookup", head, 1, NULL, 0, &o);
	if (!err && type && strcmp(type, o->type)) {
		char got[64];
		snprintf(got, sizeof(got), "%s", o->type);
		mgr_object_release(o); /* before the message: a call clears it */
		err = client_fail(MGR_ETYPE, "object #%llu is a %s, not a %s",
				  (unsigned long long)id, got, type);
	}
	if (!err)
		*out = o;
	return err;
}

int mgr_object_from_ref(mgr_client *c, const mgr_value *ref, mgr_object **out)
{
	if (!c || mgr_value_kind(ref) != MGR_REF || !out)
		return client_fail(MGR_EINVAL, "not a ref value");
	mgr_value *id = mgr_value_new_int((int64_t)mgr_value_ref_id(ref));
	int err = mgr_call(&c->manager, "adopt", &id, 1, NULL);
	mgr_value_free(id);
	return err ? err : object_adopt(c, mgr_value_copy(ref), out);
}

int mgr_object_delete(mgr_object *o)
{
	if (!o)
		return client_fail(MGR_EINVAL, "object is NULL");
	mgr_value *ref = mgr_object_ref(o);
	int err = mgr_call(&o->client->manager, "delete", &ref, 1, NULL);
	mgr_value_free(ref);
	return err;
}

int mgr_object_release(mgr_object *o)
{
	if (!o)
		return 0;
	int err = 0;
	if (o->id) {
		mgr_value *ref = mgr_object_ref(o);
		err = mgr_call(&o->client->manager, "release", &ref, 1, NULL);
		mgr_value_free(ref);
		if (err == MGR_ENOOBJ) /* a forked child's handle: not this session's */
			err = 0;
	}
	free(o->type);
	free(o);
	return err;
}

uint64_t mgr_object_id(const mgr_object *o) { return o ? o->id : 0; }
const char *mgr_object_type(const mgr_object *o) { return o ? o->type : NULL; }
mgr_client *mgr_object_client(const mgr_object *o) { return o ? o->client : NULL; }

mgr_value *mgr_object_ref(const mgr_object *o)
{
	return o ? mgr_value_new_ref(o->id, o->type) : NULL;
}
