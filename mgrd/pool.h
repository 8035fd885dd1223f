/* Worker threads for custom types' methods. The loop thread owns every
 * object; a call on an object whose type is TYPE_THREADED becomes a job:
 * it runs on a worker while the object is marked busy (its later calls wait
 * in the object's FIFO), and its reply is sent by the loop thread when the
 * job comes back. So calls on one object never overlap, and a slow method
 * stalls only its own object. Workers reach the loop thread through
 * pool_run_on_loop (registry work) and pool_post_ref (reference counts). */
#ifndef MGRD_POOL_H
#define MGRD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct call;
struct msg_call;
struct object;

/* Takes over the call (moving its arguments) and answers it later;
 * returns CALL_PARKED or an error to answer now. */
int pool_dispatch(struct call *c, struct msg_call *mc);
/* Worker threads running now (0 until a custom type is first called). */
size_t pool_threads(void);
/* True on the loop thread (or before the pool exists). */
bool pool_on_loop(void);
/* Runs fn(arg) on the loop thread and waits for it (from a worker). */
void pool_run_on_loop(void (*fn)(void *), void *arg);
/* Applies a reference count change to object id on the loop thread. */
void pool_post_ref(uint64_t id, int delta);
/* Routes ref counts taken on worker threads to the loop (registry.post_ref). */
void pool_setup(struct server *srv);
/* Joins the workers by deadline_ns (clock_now_ns()), serving what they ask
 * of the loop meanwhile; calls not run yet are refused (ESHUTDOWN); 0.
 * -1 if a call still runs at the deadline: it is logged (type, method,
 * object, how long) and nothing is freed (the caller ends the process,
 * which ends the stuck threads). */
int pool_fini(struct server *srv, uint64_t deadline_ns);

#endif
