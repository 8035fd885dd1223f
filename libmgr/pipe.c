/* Typed functions for pipe ends (mgr/pipe.h): an end is an object of type
 * "pipe"; end 0's `peer` makes end 1. */
#include "client.h"
#include "mgr/pipe.h"

int mgr_pipe_new(mgr_client *c, const mgr_pipe_opts *opts, mgr_object **end0, mgr_object **end1)
{
	static const mgr_pipe_opts zero;
	const mgr_pipe_opts *o = opts ? opts : &zero;
	if (!end0 || !end1)
		return client_fail(MGR_EINVAL, "end0 or end1 is NULL");
	mgr_value *args[] = {mgr_value_new_bool(!o->one_way), mgr_value_new_int(o->maxsize),
			     mgr_value_new_bool(!o->fail_full)};
	mgr_object *a = NULL, *b = NULL;
	int err = mgr_object_create(c, "pipe", o->name, args, 3, &a);
	for (size_t i = 0; i < 3; i++)
		mgr_value_free(args[i]);
	if (!err)
		err = mgr_pipe_peer(a, &b);
	if (err) {
		mgr_object_release(a);
		return err;
	}
	*end0 = a;
	*end1 = b;
	return 0;
}

int mgr_pipe_peer(mgr_object *end, mgr_object **other)
{
	mgr_value *ref = NULL;
	if (!end || !other)
		return client_fail(MGR_EINVAL, "end or other is NULL");
	int err = client_want(client_callf(end, "peer", &ref, ""), &ref, MGR_REF, &ref);
	if (!err)
		err = mgr_object_from_ref(end->client, ref, other);
	mgr_value_free(ref);
	return err;
}

int mgr_pipe_send(mgr_object *end, mgr_value *v, int64_t timeout_ms)
{
	return client_callf_timeout(end, "send", timeout_ms, NULL, "v", v);
}

int mgr_pipe_recv(mgr_object *end, int64_t timeout_ms, mgr_value **v)
{
	return client_callf_timeout(end, "recv", timeout_ms, v, "");
}

int mgr_pipe_poll(mgr_object *end, int64_t timeout_ms, bool *ready)
{
	mgr_value *r = NULL;
	return client_want_bool(client_callf_timeout(end, "poll", timeout_ms, &r, ""), &r, ready);
}

int mgr_pipe_claim(mgr_object *end) { return client_callf(end, "claim", NULL, ""); }
int mgr_pipe_close(mgr_object *end) { return client_callf(end, "close", NULL, ""); }
