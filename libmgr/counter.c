/* Typed functions for counter objects. */
#include "client.h"

int mgr_counter_open(mgr_client *c, const char *name, mgr_object **out)
{
	return mgr_object_open(c, "counter", name, out);
}

int mgr_counter_get(mgr_object *o, int64_t *value)
{
	return client_get_int(o, "get", value);
}

int mgr_counter_set(mgr_object *o, int64_t value)
{
	return client_call_int(o, "set", NULL, value);
}

int mgr_counter_add(mgr_object *o, int64_t delta, int64_t *now)
{
	mgr_value *r = NULL;
	return client_want_int(client_call_int(o, "add", &r, delta), &r, now);
}

int mgr_counter_cas(mgr_object *o, int64_t expected, int64_t desired, bool *swapped)
{
	mgr_value *r = NULL;
	return client_want_bool(client_callf(o, "cas", &r, "ii", expected, desired), &r, swapped);
}

int mgr_counter_take(mgr_object *o, int64_t n, bool *taken)
{
	mgr_value *r = NULL;
	return client_want_bool(client_call_int(o, "take", &r, n), &r, taken);
}
