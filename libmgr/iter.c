/* Iterator cursors: an iterator object on the manager (a container's
 * `iter`) read a batch at a time; entries are handed out one by one from
 * the batch in hand. */
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define ITER_DEFAULT_BATCH 100
#define ITER_MAX_BATCH 1000 /* the manager's bound too */

struct mgr_iter {
	mgr_object *obj;  /* the iterator on the manager */
	int64_t batch;
	mgr_value *buf;   /* the batch in hand (a list), or NULL */
	size_t next;      /* its next entry */
	int end;          /* 0, or the error that ended the walk (sticky) */
};

/* container.iter(args...) made into a cursor. */
static int iter_open(mgr_object *o, mgr_value *view, size_t batch, mgr_iter **out)
{
	if (!o || !out) {
		mgr_value_free(view);
		return client_fail(MGR_EINVAL, "object or out is NULL");
	}
	mgr_value *ref = NULL;
	int err = view ? client_callf(o, "iter", &ref, "v", view) : client_callf(o, "iter", &ref, "");
	mgr_iter *it = err ? NULL : calloc(1, sizeof(*it));
	if (!err && !it)
		err = client_fail(MGR_ENOMEM, "out of memory");
	if (!err)
		err = mgr_value_kind(ref) == MGR_REF ? mgr_object_from_ref(o->client, ref, &it->obj)
						    : client_fail(MGR_EPROTO, "iter did not answer a ref");
	mgr_value_free(ref); /* the session's reference went to it->obj */
	if (err) {
		free(it);
		return err;
	}
	it->batch = batch == 0 ? ITER_DEFAULT_BATCH : batch > ITER_MAX_BATCH ? ITER_MAX_BATCH
									     : (int64_t)batch;
	*out = it;
	return 0;
}

int mgr_dict_iter_open(mgr_object *dict, mgr_dict_view view, size_t batch, mgr_iter **out)
{
	static const char *const names[] = {"keys", "values", "items"};
	if ((unsigned)view > MGR_DICT_ITEMS)
		return client_fail(MGR_EINVAL, "no dict view %d", (int)view);
	return iter_open(dict, mgr_value_new_string(names[view]), batch, out);
}

int mgr_list_iter_open(mgr_object *list, size_t batch, mgr_iter **out)
{
	return iter_open(list, NULL, batch, out);
}

/* Replaces the batch in hand with the next one. */
static int iter_fetch(mgr_iter *it)
{
	mgr_value *r = NULL, *l = NULL;
	int err = client_want(client_callf(it->obj, "next", &r, "i", it->batch), &r, MGR_LIST, &l);
	if (err)
		return err;
	if (!mgr_value_len(l)) {
		mgr_value_free(l);
		return client_fail(MGR_EPROTO, "next answered no entry");
	}
	mgr_value_free(it->buf);
	it->buf = l;
	it->next = 0;
	return 0;
}

int mgr_iter_next(mgr_iter *it, const mgr_value **entry)
{
	if (!it || !entry)
		return client_fail(MGR_EINVAL, "iterator or entry is NULL");
	if (it->end)
		return client_fail(it->end, "%s", it->end == MGR_ESTOP ? "the iterator is exhausted"
									: "the walk failed before");
	if (!it->buf || it->next >= mgr_value_len(it->buf)) {
		int err = iter_fetch(it);
		if (err == MGR_ESTOP || err == MGR_ECHANGED || err == MGR_ENOOBJ)
			it->end = err;
		if (err)
			return err;
	}
	*entry = mgr_value_list_get(it->buf, it->next++);
	return 0;
}

int mgr_iter_close(mgr_iter *it)
{
	if (!it)
		return 0;
	int err = mgr_object_release(it->obj);
	mgr_value_free(it->buf);
	free(it);
	return err;
}

mgr_object *mgr_iter_object(const mgr_iter *it) { return it ? it->obj : NULL; }

int mgr_object_repr(mgr_object *o, size_t max, char **text)
{
	if (!o || !text)
		return client_fail(MGR_EINVAL, "object or text is NULL");
	mgr_value *args[] = {mgr_object_ref(o), mgr_value_new_int(max ? (int64_t)max : 4096)};
	mgr_value *r = NULL, *s = NULL;
	int err = args[0] && args[1] ? mgr_call(&o->client->manager, "repr", args, 2, &r)
				     : client_fail(MGR_ENOMEM, "out of memory");
	mgr_value_free(args[0]);
	mgr_value_free(args[1]);
	err = client_want(err, &r, MGR_STRING, &s);
	if (err)
		return err;
	char *copy = strdup(mgr_value_string(s, NULL));
	mgr_value_free(s);
	if (!copy)
		return client_fail(MGR_ENOMEM, "out of memory");
	*text = copy;
	return 0;
}
