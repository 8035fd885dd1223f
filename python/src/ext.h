/* mgr._mgr: the C half of the Python package (python/README.md).
 * Shared declarations of the extension's files: module.c (the module, the
 * error map), convert.c (Python objects <-> mgr values), client.c (Client
 * and Object), serve.c (private managers that serve Python types). */
#ifndef MGR_PY_EXT_H
#define MGR_PY_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sys/types.h>

#include <mgr/mgr.h>

/* A connection to a manager, shared by every thread of the process (libmgr
 * multiplexes); after fork() the child's first call opens its own. */
typedef struct {
	PyObject_HEAD
	mgr_client *c;
	PyObject *address; /* str */
} ClientObject;

/* A handle on one shared object. The reference it stands for belongs to
 * the session of process `owner`: a forked child adopts its own reference
 * on its first call, and only the owner releases at dealloc. */
typedef struct {
	PyObject_HEAD
	ClientObject *client; /* strong */
	mgr_object *o;        /* NULL once released */
	pid_t owner;
	PyObject *weakrefs;
} ObjectObject;

extern PyTypeObject Client_Type;
extern PyTypeObject Object_Type;

/* module.c: raises the exception mapped to err (with libmgr's message for
 * this thread); returns NULL for `return ext_raise(...)`. */
PyObject *ext_raise(int err, const char *msg);
/* The pickle hooks set by the Python layer (mgr._values): dumps(obj) -> bytes,
 * loads(bytes) -> obj. Borrowed; NULL before set. */
extern PyObject *ext_dumps, *ext_loads;
/* Called with an Object for every ref in a reply; returns the proxy. */
extern PyObject *ext_ref_hook;

/* convert.c. The tag that marks a pickled Python object in a bytes value. */
#define EXT_TAG "\x00mgr:py\x00"
#define EXT_TAG_LEN 8
/* A new mgr value for obj (NULL with an exception set). as_key: normalised
 * as Python compares dict keys (True -> 1, 2.0 -> 2, anything else that a
 * map cannot key on -> tagged pickle). */
mgr_value *convert_to_value(PyObject *obj, int as_key);
/* A new Python object for v (NULL with an exception set); refs become
 * Objects of client (through ext_ref_hook). */
PyObject *convert_from_value(ClientObject *client, const mgr_value *v);

/* client.c */
ObjectObject *object_wrap(ClientObject *client, mgr_object *o);

/* inline.c: where calls of Python-served types run (mgrd's loop thread or a
 * worker) and the gate around every Python entry of the manager process. */
#include <stdbool.h>
#include <mgr/server.h>

/* One run of a Python-served method or constructor (serve.c's handlers),
 * on this thread. */
struct inline_run {
	struct inline_stat *stat; /* its method's; NULL: not learned */
	struct inline_run *outer;
	unsigned long long t0, cpu0; /* wall clock and CPU time at the start */
	long waits0;                 /* voluntary context switches at the start */
	bool on_loop;    /* runs on mgrd's loop thread */
	bool called_out; /* called a manager (or was interrupted) */
};
/* The manager process, with the GIL, on the thread about to run mgrd's loop. */
void inline_setup(void);
/* mgr_type_def.inline_ok of the Python types. */
int inline_ok(void *state, mgr_request *call);
/* Around a method run: takes the gate and the GIL / learns, gives both back. */
PyGILState_STATE inline_enter(struct inline_run *r, mgr_request *call);
void inline_leave(struct inline_run *r, PyGILState_STATE g);
/* Around any other Python entry: the gate and the GIL. */
PyGILState_STATE inline_py_enter(void);
void inline_py_leave(PyGILState_STATE g);
/* Around a constructor (it runs on mgrd's loop): the gate and the GIL, and
 * inline_guard refuses its manager calls. */
PyGILState_STATE inline_init_enter(struct inline_run *r);
void inline_init_leave(struct inline_run *r, PyGILState_STATE g);
/* Whether this thread runs a method on mgrd's loop thread. */
bool inline_on_loop(void);
/* Before the client code calls a manager: 0, or -1 with RuntimeError set
 * when running on mgrd's loop (the call could never be answered). Marks
 * the running method as one that calls out (never inline). */
int inline_guard(void);
/* Releasing o is a call: on mgrd's loop it is put off to a worker run
 * (true, o taken); false elsewhere. */
bool inline_defer_release(mgr_object *o);
/* The private call "#RUNS", method: its [inline, worker, mode]; -1: not it. */
int inline_debug(mgr_request *call);

/* serve.c: the manager type and the Python-served custom types. */
extern PyTypeObject Manager_Type;
PyObject *serve_register_type(PyObject *self, PyObject *args);
PyObject *serve_set_hooks(PyObject *self, PyObject *args);

#endif
