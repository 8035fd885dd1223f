/* The asynchronous face: futures for pipelined calls, the fd for an event
 * loop, and batches that run several calls atomically on one object. */
#include <stdlib.h>

#include "call.h"
#include "../common/value.h"

/* A spare block (common/value.h): one a pipelined call, 16 in flight,
 * where malloc's own cache keeps 7 of a size. */
struct mgr_future {
	mgr_client *client;
	struct pending p; /* in the client's pending list until done or freed */
};

_Static_assert(sizeof(struct mgr_future) <= VALUE_SPARE_BYTES, "a future fits a spare block");

int mgr_call_async(mgr_object *o, const char *method, mgr_value *const *args,
		   size_t nargs, mgr_future **out)
{
	if (!o || !method || !out)
		return client_fail(MGR_EINVAL, "object, method or out is NULL");
	mgr_future *f = value_spare_take();
	if (!f)
		return client_fail(MGR_ENOMEM, "out of memory");
	struct msg_request req;
	client_request_init(&req, method, args, nargs, MGR_FOREVER);
	f->client = o->client;
	pthread_mutex_lock(&f->client->mu);
	int err = client_submit(f->client, o, &req, &f->p);
	pthread_mutex_unlock(&f->client->mu);
	if (err) {
		value_spare_give(f);
		return err;
	}
	*out = f;
	return 0;
}

int mgr_future_wait(mgr_future *f, mgr_value **result)
{
	if (!f)
		return client_fail(MGR_EINVAL, "future is NULL");
	int err;
	if (__atomic_load_n(&f->p.done, __ATOMIC_ACQUIRE)) { /* answered: ours again */
		err = client_take(&f->p, result);
	} else {
		pthread_mutex_lock(&f->client->mu);
		err = client_finish(f->client, &f->p, 0, result);
		pthread_mutex_unlock(&f->client->mu);
	}
	value_spare_give(f);
	return err;
}

bool mgr_future_done(const mgr_future *f)
{
	if (!f)
		return false;
	pthread_mutex_lock(&f->client->mu);
	bool done = f->p.done;
	pthread_mutex_unlock(&f->client->mu);
	return done;
}

void mgr_future_free(mgr_future *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->client->mu);
	client_forget(f->client, &f->p);
	pthread_mutex_unlock(&f->client->mu);
	client_spend(&f->p);
	value_spare_give(f);
}

int mgr_client_flush(mgr_client *c)
{
	pthread_mutex_lock(&c->mu);
	int err = client_flush(c);
	pthread_mutex_unlock(&c->mu);
	return err;
}

int mgr_client_fd(mgr_client *c)
{
	pthread_mutex_lock(&c->mu);
	int fd = c->fd;
	client_ring_doorbell(c); /* answers must make fd readable now */
	pthread_mutex_unlock(&c->mu);
	return fd;
}

int mgr_client_process(mgr_client *c)
{
	pthread_mutex_lock(&c->mu);
	int err = client_poll_once(c);
	pthread_mutex_unlock(&c->mu);
	return err;
}

int mgr_call_batch(mgr_object *o, const mgr_batch_call *calls, size_t n, mgr_value **results)
{
	if (!o || (!calls && n))
		return client_fail(MGR_EINVAL, "object or calls is NULL");
	struct msg_call *batch = calloc(n + 1, sizeof(*batch));
	if (!batch)
		return client_fail(MGR_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		batch[i] = (struct msg_call){(char *)calls[i].method, (mgr_value **)calls[i].args,
					     calls[i].nargs};
	struct msg_request req = {.method = "", .batch = batch, .nbatch = n};
	int err = call_run(o, &req, results);
	free(batch);
	return err;
}
