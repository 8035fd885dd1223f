/* Which calls of Python-served types run on mgrd's loop thread (inline)
 * instead of a worker thread, and the gate every Python entry of the
 * manager process takes (python/README.md, "Speed").
 *
 * A worker run costs two cross-CPU wake-ups (loop -> worker -> loop); an
 * inline run costs none, but it stalls every other client while it runs,
 * so only a method known to be quick goes inline. What is known is learned
 * per (type, method name), in an inline_stat:
 *   LEARNING: runs on workers; after INLINE_LEARN quick runs (under
 *             INLINE_QUICK_NS of CPU, and it did not wait: no voluntary
 *             context switch, so a preempted run still counts) it becomes
 *             INLINE.
 *   INLINE:   runs on the loop when the object is idle, no other Python
 *             call is under way (the gate: the loop never waits for the
 *             GIL) and no other Python thread exists in the process.
 *   NEVER:    a run called a manager, or was interrupted (below):
 *             workers only, for good; or a run was slow (INLINE_SLOW_NS of
 *             CPU) or waited (on the loop at all, on a worker longer than
 *             INLINE_QUICK_NS): workers until twice as many quick runs as
 *             the last time say it is quick again (inline_demote).
 * A method running inline must not wait for another call (that call needs
 * the loop): calling a manager fails at once (inline_guard), and a watchdog
 * thread interrupts an inline run that waits on the loop for INLINE_STUCK_NS
 * (a signal to the loop thread, which is Python's main thread here: its
 * handler raises in the waiting method). Either fails that one call with a
 * RuntimeError; the method is NEVER from then on. */
#include "ext.h"

#include <mgr/server.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define INLINE_LEARN 8
#define INLINE_QUICK_NS 100000ull      /* a quick run: under 100 us */
#define INLINE_SLOW_NS 2000000ull      /* a run using 2 ms of CPU: NEVER */
#define INLINE_STUCK_NS 100000000ull   /* an inline run waiting 100 ms: interrupted */
#define INLINE_WATCH_NS 20000000l      /* the watchdog's period */
#define INLINE_MAX_STATS 4096          /* methods learned per process, at most */
#define INLINE_SIGNAL SIGURG           /* ignored by default: a stray one is harmless */

enum { INLINE_LEARNING, INLINE_YES, INLINE_NEVER };
static const char *const inline_mode_names[] = {"learning", "inline", "worker"};

struct inline_stat {
	struct inline_stat *_Atomic next;
	const mgr_type_def *type;
	_Atomic int mode;
	int quick;                       /* quick worker runs (with the GIL) */
	int need;                        /* quick runs it takes to go inline */
	bool for_good;                   /* NEVER that no quick run undoes */
	_Atomic unsigned long long inline_runs, worker_runs;
	char name[];
};

#define INLINE_BUCKETS 256
static struct inline_stat *_Atomic inline_table[INLINE_BUCKETS];
static pthread_mutex_t inline_table_mu = PTHREAD_MUTEX_INITIALIZER;
static int inline_nstats;            /* under inline_table_mu */

static _Atomic int inline_gate;      /* hook entries under way (loop's and workers') */
static _Atomic bool inline_enabled;  /* set up in the manager process */
static _Atomic bool inline_alone;    /* no Python thread but ours */
static pthread_t inline_loop;        /* mgrd's loop thread: Python's main thread */
static bool inline_loop_known;
static PyObject *inline_active, *inline_limbo, *inline_dummy; /* threading's; owned */

/* The watchdog: inline_seq is odd while an inline run is under way;
 * inline_kill is the run it interrupted. */
static _Atomic unsigned long long inline_seq, inline_kill;
static pthread_once_t inline_watch_once = PTHREAD_ONCE_INIT;

static __thread struct inline_run *inline_current; /* the run this thread serves */
static __thread struct inline_stat *inline_claimed; /* inline_ok said yes: the run is next */

/* mgr_object handles dropped while inline (releasing is a call): released
 * by the next worker run. */
struct inline_drop {
	struct inline_drop *next;
	mgr_object *o;
};
static struct inline_drop *inline_drops;
static pthread_mutex_t inline_drops_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long inline_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* This thread's CPU time and voluntary context switches (waits). The CPU
 * time is CLOCK_THREAD_CPUTIME_ID's, not getrusage's: getrusage counts only
 * what the scheduler accounted at its last tick or switch, so on a thread
 * that never sleeps (the loop with several clients) a 40 us run could read
 * as a whole tick (2-4 ms: "slow", the method NEVER for good). */
static void inline_usage(unsigned long long *cpu, long *waits)
{
	struct rusage u;
	getrusage(RUSAGE_THREAD, &u);
	*waits = u.ru_nvcsw;
	*cpu = inline_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* ---- the table ---- */

static size_t inline_hash(const mgr_type_def *t, const char *name)
{
	size_t h = (size_t)t * 31u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = h * 33u + *p;
	return h % INLINE_BUCKETS;
}

/* Lock-free: entries are only ever added at a bucket's head, never freed. */
static struct inline_stat *inline_find(const mgr_type_def *t, const char *name)
{
	struct inline_stat *s = atomic_load(&inline_table[inline_hash(t, name)]);
	for (; s; s = atomic_load(&s->next))
		if (s->type == t && strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* The entry, added if missing (NULL once INLINE_MAX_STATS are known, or
 * out of memory: such a method simply stays on workers). */
static struct inline_stat *inline_get(const mgr_type_def *t, const char *name)
{
	struct inline_stat *s = inline_find(t, name);
	if (s)
		return s;
	pthread_mutex_lock(&inline_table_mu);
	size_t len = strlen(name);
	s = inline_find(t, name);
	if (!s && inline_nstats < INLINE_MAX_STATS && (s = calloc(1, sizeof(*s) + len + 1))) {
		s->type = t;
		memcpy(s->name, name, len + 1);
		struct inline_stat *_Atomic *head = &inline_table[inline_hash(t, name)];
		atomic_store(&s->next, atomic_load(head));
		atomic_store(head, s);
		inline_nstats++;
	}
	pthread_mutex_unlock(&inline_table_mu);
	return s;
}

/* The method a call of the type's "call" method names (its argument 0). */
static const char *inline_method_name(mgr_request *call)
{
	const mgr_value *v = mgr_request_nargs(call) ? mgr_request_arg(call, 0) : NULL;
	return v ? mgr_value_string(v, NULL) : NULL;
}

/* ---- the gate ---- */

PyGILState_STATE inline_py_enter(void)
{
	atomic_fetch_add(&inline_gate, 1);
	return PyGILState_Ensure();
}

void inline_py_leave(PyGILState_STATE g)
{
	PyGILState_Release(g);
	atomic_fetch_sub(&inline_gate, 1);
}

PyGILState_STATE inline_init_enter(struct inline_run *r)
{
	*r = (struct inline_run){.outer = inline_current,
				 .on_loop = inline_loop_known && pthread_equal(pthread_self(), inline_loop)};
	PyGILState_STATE g = inline_py_enter();
	inline_current = r;
	return g;
}

void inline_init_leave(struct inline_run *r, PyGILState_STATE g)
{
	inline_current = r->outer;
	inline_py_leave(g);
}

/* With the GIL: whether the process has no Python thread but the main one
 * (dummies stand for threads Python did not start: mgrd's). */
static bool inline_check_alone(void)
{
	if (!inline_active || PyDict_GET_SIZE(inline_limbo))
		return false;
	Py_ssize_t pos = 0, real = 0;
	PyObject *k, *v;
	while (PyDict_Next(inline_active, &pos, &k, &v))
		real += PyObject_TypeCheck(v, (PyTypeObject *)inline_dummy) ? 0 : 1;
	return real <= 1;
}

int inline_ok(void *state, mgr_request *call)
{
	(void)state;
	if (!atomic_load_explicit(&inline_enabled, memory_order_relaxed) ||
	    !atomic_load(&inline_alone))
		return 0;
	const char *name = inline_method_name(call);
	struct inline_stat *s = name ? inline_find(mgr_request_type(call), name) : NULL;
	int idle = 0;
	if (!s || atomic_load(&s->mode) != INLINE_YES ||
	    !atomic_compare_exchange_strong(&inline_gate, &idle, 1))
		return 0;
	inline_claimed = s; /* the gate is ours: inline_enter takes it over */
	return 1;
}

/* ---- runs ---- */

static void inline_release_drops(void)
{
	pthread_mutex_lock(&inline_drops_mu);
	struct inline_drop *d = inline_drops;
	inline_drops = NULL;
	pthread_mutex_unlock(&inline_drops_mu);
	while (d) {
		struct inline_drop *next = d->next;
		mgr_object_release(d->o);
		free(d);
		d = next;
	}
}

PyGILState_STATE inline_enter(struct inline_run *r, mgr_request *call)
{
	*r = (struct inline_run){.stat = inline_claimed, .outer = inline_current};
	inline_claimed = NULL;
	PyGILState_STATE g;
	if (r->stat) { /* on the loop: the gate is taken, the GIL free */
		r->on_loop = true;
		g = PyGILState_Ensure();
		atomic_fetch_add(&inline_seq, 1);
	} else {
		inline_release_drops();
		const char *name = inline_method_name(call);
		r->stat = name && atomic_load_explicit(&inline_enabled, memory_order_relaxed)
			? inline_get(mgr_request_type(call), name) : NULL;
		g = inline_py_enter();
	}
	inline_usage(&r->cpu0, &r->waits0);
	r->t0 = inline_ns(CLOCK_MONOTONIC);
	inline_current = r;
	return g;
}

static void *inline_watch(void *arg);

static void inline_watch_start(void)
{
	pthread_t t;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with mgrd's threads */
	if (pthread_create(&t, NULL, inline_watch, NULL) == 0)
		pthread_detach(t);
	else
		atomic_store(&inline_enabled, false); /* no watchdog: no inline runs */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* With the GIL: the method runs on workers for good (it called a
 * manager, or waited on the loop until the watchdog interrupted it). */
static void inline_never(struct inline_stat *s)
{
	s->for_good = true;
	atomic_store(&s->mode, INLINE_NEVER);
}

/* With the GIL: a run was slow or waited: workers from now on, until
 * twice as many quick worker runs as last time (8, 16, ... 8,192) say
 * again that it is quick. A method that is slow or waits every time never
 * comes back; one that a loaded machine made look slow once does (under
 * load, a 50 us run now and then reads as waiting or slow). */
static void inline_demote(struct inline_stat *s)
{
	int need = s->need ? s->need : INLINE_LEARN;
	s->need = need < (INLINE_LEARN << 10) ? need * 2 : need;
	s->quick = 0;
	atomic_store(&s->mode, INLINE_NEVER);
}

/* With the GIL: what this run taught about its method. */
static void inline_learn(struct inline_run *r)
{
	struct inline_stat *s = r->stat;
	unsigned long long wall = inline_ns(CLOCK_MONOTONIC) - r->t0, cpu;
	long waits;
	inline_usage(&cpu, &waits);
	cpu -= r->cpu0;
	bool waited = waits != r->waits0;
	atomic_fetch_add(r->on_loop ? &s->inline_runs : &s->worker_runs, 1);
	if (r->called_out) {
		inline_never(s);
	} else if (cpu > INLINE_SLOW_NS || (waited && (r->on_loop || wall > INLINE_QUICK_NS))) {
		inline_demote(s);
	} else if (!r->on_loop && !waited && cpu < INLINE_QUICK_NS &&
		   ++s->quick >= (s->need ? s->need : INLINE_LEARN) &&
		   atomic_load(&s->mode) != INLINE_YES && !s->for_good) {
		pthread_once(&inline_watch_once, inline_watch_start);
		atomic_store(&s->mode, INLINE_YES);
	}
}

void inline_leave(struct inline_run *r, PyGILState_STATE g)
{
	if (r->stat)
		inline_learn(r);
	if (r->on_loop)
		atomic_fetch_add(&inline_seq, 1);
	atomic_store(&inline_alone, inline_check_alone());
	inline_current = r->outer;
	inline_py_leave(g);
}

bool inline_on_loop(void)
{
	return inline_current && inline_current->on_loop;
}

/* ---- what the client code asks ---- */

int inline_guard(void)
{
	struct inline_run *r = inline_current;
	if (!r)
		return 0;
	r->called_out = true;
	if (!r->on_loop)
		return 0;
	if (!r->stat) {
		PyErr_SetString(PyExc_RuntimeError,
				"mgr: a registered class's constructor runs on the manager's I/O "
				"thread, where it cannot call a manager (the call would wait for "
				"that thread): call the manager from a method");
		return -1;
	}
	inline_never(r->stat);
	PyErr_Format(PyExc_RuntimeError,
		     "mgr: method %s of %s ran on the manager's I/O thread, where it cannot "
		     "call a manager (the call would wait for that thread); it runs on worker "
		     "threads from now on: call it again",
		     r->stat->name, r->stat->type->name);
	return -1;
}

bool inline_defer_release(mgr_object *o)
{
	if (!inline_on_loop())
		return false;
	struct inline_drop *d = malloc(sizeof(*d));
	if (!d)
		return true; /* out of memory: the reference leaks, the loop does not wait */
	d->o = o;
	pthread_mutex_lock(&inline_drops_mu);
	d->next = inline_drops;
	inline_drops = d;
	pthread_mutex_unlock(&inline_drops_mu);
	inline_current->called_out = true;
	return true;
}

/* ---- the watchdog ---- */

static void *inline_watch(void *arg)
{
	(void)arg;
	clockid_t loop_cpu;
	if (pthread_getcpuclockid(inline_loop, &loop_cpu))
		return NULL;
	unsigned long long seen = 0, wall0 = 0, cpu0 = 0;
	for (;;) {
		nanosleep(&(struct timespec){0, INLINE_WATCH_NS}, NULL);
		unsigned long long run = atomic_load(&inline_seq);
		unsigned long long now = inline_ns(CLOCK_MONOTONIC), cpu = inline_ns(loop_cpu);
		if (!(run & 1) || run != seen) {
			seen = run;
			wall0 = now;
			cpu0 = cpu;
		} else if (now - wall0 >= INLINE_STUCK_NS && (cpu - cpu0) * 2 < now - wall0) {
			atomic_store(&inline_kill, run); /* waiting, not computing: interrupt */
			pthread_kill(inline_loop, INLINE_SIGNAL);
		}
	}
	return NULL;
}

/* The Python handler of INLINE_SIGNAL, on the loop thread: raises in the
 * inline run the watchdog interrupted (none else). */
static PyObject *inline_on_signal(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	struct inline_run *r = inline_current;
	if (!r || !r->on_loop || atomic_load(&inline_kill) != atomic_load(&inline_seq))
		Py_RETURN_NONE;
	r->called_out = true;
	inline_never(r->stat);
	return PyErr_Format(PyExc_RuntimeError,
			    "mgr: method %s of %s waited on the manager's I/O thread, which "
			    "serves the calls it may wait for; it was interrupted and runs on "
			    "worker threads from now on: call it again",
			    r->stat->name, r->stat->type->name);
}

static PyMethodDef inline_signal_def = {"_mgr_inline_interrupt", inline_on_signal, METH_VARARGS,
					"interrupts a Python method waiting on mgrd's loop thread"};

/* In the manager process, with the GIL, on the thread that will run
 * mgrd's loop: what inline runs need, or inline runs stay off. */
void inline_setup(void)
{
	inline_loop = pthread_self();
	inline_loop_known = true;
	const char *env = getenv("MGR_PY_INLINE");
	if (env && strcmp(env, "0") == 0)
		return;
	/* the heap this process inherited (the whole program's: the manager is
	 * a fork) out of the collector's sight: a full collection over it would
	 * take milliseconds inside some quick method's run, which would then
	 * look slow (the method NEVER inline) */
	PyObject *gc = PyImport_ImportModule("gc");
	PyObject *frozen = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
	Py_XDECREF(frozen);
	Py_XDECREF(gc);
	PyErr_Clear();
	PyObject *threading = PyImport_ImportModule("threading");
	PyObject *signal = PyImport_ImportModule("signal");
	PyObject *fn = PyCFunction_New(&inline_signal_def, NULL);
	PyObject *r = signal && fn ? PyObject_CallMethod(signal, "signal", "iO", INLINE_SIGNAL, fn)
				   : NULL;
	if (r && threading) { /* signal.signal fails off Python's main thread */
		inline_active = PyObject_GetAttrString(threading, "_active");
		inline_limbo = PyObject_GetAttrString(threading, "_limbo");
		inline_dummy = PyObject_GetAttrString(threading, "_DummyThread");
	}
	bool ok = inline_active && PyDict_Check(inline_active) && inline_limbo &&
		  PyDict_Check(inline_limbo) && inline_dummy && PyType_Check(inline_dummy);
	PyErr_Clear();
	Py_XDECREF(r);
	Py_XDECREF(fn);
	Py_XDECREF(signal);
	Py_XDECREF(threading);
	atomic_store(&inline_alone, ok && inline_check_alone());
	atomic_store(&inline_enabled, ok);
}

/* The private debug call "#RUNS", name: [inline runs, worker runs, mode]
 * of this type's method name; -1 for any other call. */
int inline_debug(mgr_request *call)
{
	const char *what = inline_method_name(call);
	if (!what || strcmp(what, "#RUNS") != 0)
		return -1;
	const char *name = NULL;
	int err = mgr_request_arg_string(call, 1, &name);
	if (err)
		return err;
	struct inline_stat *s = inline_find(mgr_request_type(call), name);
	mgr_value *l = mgr_value_new_list();
	int mode = s ? atomic_load(&s->mode) : INLINE_LEARNING;
	if (l && (mgr_value_list_append(l, mgr_value_new_int(s ? (int64_t)s->inline_runs : 0)) ||
		  mgr_value_list_append(l, mgr_value_new_int(s ? (int64_t)s->worker_runs : 0)) ||
		  mgr_value_list_append(l, mgr_value_new_string(inline_mode_names[mode])))) {
		mgr_value_free(l);
		l = NULL;
	}
	return mgr_request_return(call, l);
}
