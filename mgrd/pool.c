/* The worker pool behind custom types (see pool.h): a job queue for the
 * workers, and a completion queue drained by the loop thread when the
 * pool's eventfd turns readable. */
#include "pool.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "conn.h"
#include "call.h"
#include "log.h"
#include "state.h"
#include "session.h"
#include "stats.h"
#include "registry.h"

#define POOL_THREADS 4

struct job {
	struct job *next;
	enum { JOB_CALL, JOB_TASK, JOB_REF } kind;
	struct call call;        /* JOB_CALL: args owned by the job */
	int code;
	uint64_t t0;             /* JOB_CALL: when it was dispatched (stats) */
	void (*fn)(void *);      /* JOB_TASK: run on the loop */
	void *arg;
	bool done;
	uint64_t ref_id;         /* JOB_REF */
	int delta;
};

struct jobq {
	struct job *head, *tail;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work_cv, task_cv;
	struct jobq todo, done;
	pthread_t threads[POOL_THREADS];
	struct job *running[POOL_THREADS]; /* each worker's call under way, under mu */
	bool joined[POOL_THREADS];
	size_t nthreads;
	bool stopping;
	int efd;
	struct event *ev;
	struct server *srv;
	pthread_t loop;
	bool loop_known;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .work_cv = PTHREAD_COND_INITIALIZER,
	  .task_cv = PTHREAD_COND_INITIALIZER, .efd = -1};

static void jobq_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	*(q->tail ? &q->tail->next : &q->head) = j;
	q->tail = j;
}

static struct job *jobq_pop(struct jobq *q)
{
	struct job *j = q->head;
	if (j && !(q->head = j->next))
		q->tail = NULL;
	return j;
}

size_t pool_threads(void) { return pool.nthreads; }

bool pool_on_loop(void)
{
	return !pool.loop_known || pthread_equal(pthread_self(), pool.loop);
}

/* ---- workers ---- */

static void pool_complete(struct job *j)
{
	pthread_mutex_lock(&pool.mu);
	jobq_push(&pool.done, j);
	pthread_mutex_unlock(&pool.mu);
	uint64_t one = 1;
	if (write(pool.efd, &one, sizeof(one)) < 0) {
		/* the counter only overflows after 2^64 writes: nothing to do */
	}
}

static void *pool_worker(void *arg)
{
	size_t slot = (size_t)(uintptr_t)arg;
	for (;;) {
		pthread_mutex_lock(&pool.mu);
		while (!pool.todo.head && !pool.stopping)
			pthread_cond_wait(&pool.work_cv, &pool.mu);
		struct job *j = pool.stopping ? NULL : jobq_pop(&pool.todo);
		pool.running[slot] = j;
		pthread_mutex_unlock(&pool.mu);
		if (!j)
			return NULL;
		j->code = j->call.method->fn(&j->call);
		pthread_mutex_lock(&pool.mu);
		pool.running[slot] = NULL;
		pthread_mutex_unlock(&pool.mu);
		pool_complete(j);
	}
}

/* ---- the loop side ---- */

static void pool_submit(struct job *j)
{
	pthread_mutex_lock(&pool.mu);
	jobq_push(&pool.todo, j);
	pthread_cond_signal(&pool.work_cv);
	pthread_mutex_unlock(&pool.mu);
}

static void pool_free_job(struct job *j)
{
	for (size_t i = 0; i < j->call.nargs; i++)
		mgr_value_free(j->call.args[i]);
	free(j->call.args);
	mgr_value_free(j->call.result);
	free(j);
}

static void pool_answer(struct job *j, int code)
{
	struct call *c = &j->call;
	conn_unpin(c->conn);
	if (code)
		c->srv->stats.errors++;
	if (!code && c->borrowed) /* an int or bool built in the job's call */
		session_reply_borrowed(c->conn, c->req_id, c->borrowed);
	else
		session_reply(c->conn, c->req_id, code, code ? NULL : c->result,
			   c->err[0] ? c->err : NULL);
	if (!code && !c->borrowed)
		c->result = NULL;
}

/* A call came back: answer it, then start the object's next call (or, if
 * the object was deleted meanwhile, refuse the calls that waited). */
static void pool_finish_call(struct job *j)
{
	struct server *srv = j->call.srv;
	struct object *o = j->call.obj;
	uint64_t id = o->id;
	stats_record(types_stats(o->type, j->call.method), j->code, clock_now_ns() - j->t0);
	pool_answer(j, j->code);
	pool_free_job(j);
	for (struct job *next; (next = o->waiting);) {
		o->waiting = next->next;
		if (!o->dead) {
			pool_submit(next);
			return registry_unref(&srv->reg, id);
		}
		call_fail(&next->call, MGR_ENOOBJ, "object #%llu was deleted", (unsigned long long)id);
		pool_answer(next, MGR_ENOOBJ);
		pool_free_job(next);
		registry_unref(&srv->reg, id);
	}
	o->busy = false;
	registry_idle(&srv->reg, o);
	registry_unref(&srv->reg, id);
}

static void pool_drain(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* nonblocking: nothing to read is fine */
	}
	pthread_mutex_lock(&pool.mu);
	struct jobq q = pool.done;
	pool.done = (struct jobq){0};
	pthread_mutex_unlock(&pool.mu);
	for (struct job *j; (j = jobq_pop(&q));) {
		if (j->kind == JOB_CALL) {
			pool_finish_call(j);
		} else if (j->kind == JOB_REF) {
			if (j->delta > 0)
				registry_ref_id(&pool.srv->reg, j->ref_id);
			else
				registry_unref(&pool.srv->reg, j->ref_id);
			free(j);
		} else {
			j->fn(j->arg);
			pthread_mutex_lock(&pool.mu);
			j->done = true;
			pthread_cond_broadcast(&pool.task_cv);
			pthread_mutex_unlock(&pool.mu);
		}
	}
}

static int pool_start(struct server *srv)
{
	if (pool.nthreads)
		return 0;
	pool.srv = srv;
	pool.loop = pthread_self();
	pool.loop_known = true;
	pool.stopping = false;
	pool.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pool.ev = pool.efd < 0 ? NULL
		: event_new(srv->base, pool.efd, EV_READ | EV_PERSIST, pool_drain, NULL);
	if (!pool.ev || event_add(pool.ev, NULL))
		return MGR_ENOMEM;
	for (; pool.nthreads < POOL_THREADS; pool.nthreads++)
		if (pthread_create(&pool.threads[pool.nthreads], NULL, pool_worker,
				   (void *)(uintptr_t)pool.nthreads))
			break;
	log_msg(LOG_DEBUG, "started %zu worker threads for custom types", pool.nthreads);
	return pool.nthreads ? 0 : MGR_ENOMEM;
}

int pool_dispatch(struct call *c, struct msg_call *mc)
{
	struct job *j = calloc(1, sizeof(*j));
	mgr_value **args = calloc(mc->nargs + 1, sizeof(*args));
	if (!j || !args || pool_start(c->srv)) {
		free(j);
		free(args);
		return call_fail(c, MGR_ENOMEM, "cannot start a worker for %s.%s",
				 c->obj->type->name, c->method->name);
	}
	memcpy(args, mc->args, mc->nargs * sizeof(*args));
	memset(mc->args, 0, mc->nargs * sizeof(*args)); /* moved into the job */
	j->kind = JOB_CALL;
	j->t0 = clock_now_ns();
	j->call = *c;
	j->call.args = args;
	conn_pin(c->conn);
	registry_ref(c->obj);
	if (c->obj->busy) { /* the object's lock is taken: wait in its FIFO */
		struct job **pp = &c->obj->waiting;
		while (*pp)
			pp = &(*pp)->next;
		*pp = j;
	} else {
		c->obj->busy = true;
		pool_submit(j);
	}
	return CALL_PARKED;
}

void pool_run_on_loop(void (*fn)(void *), void *arg)
{
	if (pool_on_loop()) {
		fn(arg);
		return;
	}
	struct job j = {.kind = JOB_TASK, .fn = fn, .arg = arg};
	pool_complete(&j);
	pthread_mutex_lock(&pool.mu);
	while (!j.done)
		pthread_cond_wait(&pool.task_cv, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
}

/* The registry's post_ref: off the loop thread, a ref count change is
 * posted to it. */
static bool pool_post_ref_hook(uint64_t id, int delta)
{
	if (pool_on_loop())
		return false;
	pool_post_ref(id, delta);
	return true;
}

void pool_setup(struct server *srv) { srv->reg.post_ref = pool_post_ref_hook; }

void pool_post_ref(uint64_t id, int delta)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return; /* a lost count keeps the object alive: the safe side */
	j->kind = JOB_REF;
	j->ref_id = id;
	j->delta = delta;
	pool_complete(j);
}

/* Jobs that never ran: answered ESHUTDOWN, their holds given back. */
static void pool_drop(struct job *j)
{
	struct server *srv = j->call.srv;
	uint64_t id = j->call.obj->id;
	call_fail(&j->call, MGR_ESHUTDOWN, "manager shutting down");
	pool_answer(j, MGR_ESHUTDOWN);
	pool_free_job(j);
	registry_unref(&srv->reg, id);
}

/* Calls that waited behind a busy object: refused, before objects go.
 * Taken off their objects first: dropping one may free its object. */
static void pool_drop_all_waiting(struct server *srv)
{
	struct job *all = NULL;
	IDMAP_FOREACH(&srv->reg.by_id, s)
	{
		struct object *o = s->ptr;
		for (struct job *j; (j = o->waiting);) {
			o->waiting = j->next;
			j->next = all;
			all = j;
		}
	}
	for (struct job *j; (j = all);) {
		all = j->next;
		pool_drop(j);
	}
}

/* Worker i joined before deadline_ns (clock_now_ns()); meanwhile what the
 * workers hand the loop is served (a method creating an object waits for
 * the loop: pool_run_on_loop), every POOL_JOIN_TICK_NS. */
#define POOL_JOIN_TICK_NS 10000000l
static bool pool_join_until(size_t i, uint64_t deadline_ns)
{
	while (!pool.joined[i]) {
		if (clock_now_ns() >= deadline_ns) /* an idle worker ends at once */
			return pool.joined[i] = !pthread_tryjoin_np(pool.threads[i], NULL);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += POOL_JOIN_TICK_NS;
		ts.tv_sec += ts.tv_nsec / 1000000000l;
		ts.tv_nsec %= 1000000000l;
		pool.joined[i] = !pthread_timedjoin_np(pool.threads[i], NULL, &ts);
		if (!pool.joined[i])
			pool_drain(pool.efd, 0, NULL);
	}
	return true;
}

/* The calls still running at the deadline, one line each, with the first
 * argument if it is a string (a Python type's method name: its calls all
 * come as "call"). */
static void pool_log_stuck(void)
{
	uint64_t now = clock_now_ns();
	pthread_mutex_lock(&pool.mu);
	for (size_t i = 0; i < pool.nthreads; i++) {
		const struct job *j = pool.running[i];
		const char *a0 = j && j->call.nargs && mgr_value_kind(j->call.args[0]) == MGR_STRING
			? mgr_value_string(j->call.args[0], NULL) : NULL;
		if (j)
			log_msg(LOG_ERROR, "stop deadline: %s.%s%s%.64s%s on object #%llu still running "
				"after %llu ms", j->call.obj->type->name, j->call.method->name,
				a0 ? "('" : "", a0 ? a0 : "", a0 ? "')" : "",
				(unsigned long long)j->call.obj->id,
				(unsigned long long)((now - j->t0) / 1000000));
		else if (!pool.joined[i])
			log_msg(LOG_ERROR, "stop deadline: worker %zu has not ended", i);
	}
	pthread_mutex_unlock(&pool.mu);
}

int pool_fini(struct server *srv, uint64_t deadline_ns)
{
	if (!pool.nthreads)
		return 0;
	pthread_mutex_lock(&pool.mu);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.work_cv);
	pthread_mutex_unlock(&pool.mu);
	bool all = true;
	for (size_t i = 0; i < pool.nthreads; i++)
		all = pool_join_until(i, deadline_ns) && all;
	if (!all) {
		pool_log_stuck();
		for (size_t i = 0; i < pool.nthreads; i++)
			if (!pool.joined[i]) /* abandoned: the process exit ends them */
				pthread_detach(pool.threads[i]);
		return -1;
	}
	memset(pool.joined, 0, sizeof(pool.joined));
	pool.nthreads = 0;
	for (struct job *j; (j = jobq_pop(&pool.todo));) {
		j->call.obj->busy = false;
		pool_drop(j);
	}
	pool_drain(pool.efd, 0, NULL); /* calls that finished: answer, unpin */
	pool_drop_all_waiting(srv);
	event_free(pool.ev);
	close(pool.efd);
	pool.efd = -1;
	pool.loop_known = false;
	return 0;
}
