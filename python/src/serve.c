/* Private managers (Manager) and the Python types they serve.
 *
 * Manager() runs mgr_manager_start with .serve: the manager is a fork of
 * this Python process running mgrd's core (mgr_server_main), as CPython's
 * fork-context manager is a fork of the parent. Types registered with
 * _register_type are mgr custom types whose handlers run on mgrd's worker
 * threads, or on its loop thread once known to be quick (inline.c), and
 * call the Python hooks (mgr/_pyserve.py) under the GIL; mgrd runs each
 * call under the object's lock, so methods of one object never overlap.
 * The built-in types never enter Python. */
#include "ext.h"

#include <mgr/server.h>
#include <pthread.h>
#include <signal.h>
#include <structmember.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static PyObject *hook_create, *hook_call, *hook_destroy, *hook_start; /* owned */
static void serve_drain(void);

PyObject *serve_set_hooks(PyObject *self, PyObject *args)
{
	(void)self;
	PyObject *c, *m, *d, *st;
	if (!PyArg_ParseTuple(args, "OOOO", &c, &m, &d, &st))
		return NULL;
	Py_XSETREF(hook_start, Py_NewRef(st));
	Py_XSETREF(hook_create, Py_NewRef(c));
	Py_XSETREF(hook_call, Py_NewRef(m));
	Py_XSETREF(hook_destroy, Py_NewRef(d));
	Py_RETURN_NONE;
}

/* The request's arguments as a Python list (refs as (id, type) tuples). */
static PyObject *serve_args(mgr_request *call)
{
	size_t n = mgr_request_nargs(call);
	PyObject *l = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; l && i < n; i++) {
		PyObject *v = convert_from_value(NULL, mgr_request_arg(call, i));
		if (!v)
			Py_CLEAR(l);
		else
			PyList_SET_ITEM(l, (Py_ssize_t)i, v);
	}
	return l;
}

/* The Python exception in flight as the call's error (EMODULE). */
static int serve_fail(mgr_request *call)
{
	PyObject *type, *exc, *tb;
	PyErr_Fetch(&type, &exc, &tb);
	PyErr_NormalizeException(&type, &exc, &tb);
	PyObject *s = exc ? PyObject_Repr(exc) : NULL;
	const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
	int err = mgr_request_error(call, MGR_EMODULE, "%s", text ? text : "python error");
	PyErr_Clear();
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(exc);
	Py_XDECREF(tb);
	return err;
}

static int serve_init(void **state, mgr_request *call)
{
	struct inline_run run;
	PyGILState_STATE g = inline_init_enter(&run);
	serve_drain();
	PyObject *args = serve_args(call);
	PyObject *obj = args && hook_create ? PyObject_CallOneArg(hook_create, args) : NULL;
	Py_XDECREF(args);
	int err = obj ? 0 : serve_fail(call);
	*state = obj;
	inline_init_leave(&run, g);
	return err;
}

/* Objects to drop, pushed by serve_destroy: it may run on mgrd's loop
 * thread, which must never wait for the GIL (a Python method holding it
 * could be waiting for the loop). Dropped by the next Python call. */
struct serve_dead {
	struct serve_dead *next;
	PyObject *obj;
};
static struct serve_dead *serve_dead_list;
static pthread_mutex_t serve_dead_mu = PTHREAD_MUTEX_INITIALIZER;

static void serve_destroy(void *state)
{
	struct serve_dead *d = state ? malloc(sizeof(*d)) : NULL;
	if (!d)
		return; /* out of memory: the object leaks */
	d->obj = state;
	pthread_mutex_lock(&serve_dead_mu);
	d->next = serve_dead_list;
	serve_dead_list = d;
	pthread_mutex_unlock(&serve_dead_mu);
}

/* With the GIL: drops what serve_destroy queued. */
static void serve_drain(void)
{
	pthread_mutex_lock(&serve_dead_mu);
	struct serve_dead *d = serve_dead_list;
	serve_dead_list = NULL;
	pthread_mutex_unlock(&serve_dead_mu);
	while (d) {
		struct serve_dead *next = d->next;
		if (hook_destroy) {
			PyObject *r = PyObject_CallOneArg(hook_destroy, d->obj);
			Py_XDECREF(r);
			PyErr_Clear();
		}
		Py_DECREF(d->obj);
		free(d);
		d = next;
	}
}

/* A hook result ("\0create", type, token): a new shared object of that
 * type built from token (Python's method_to_typeid); its ref is the result. */
static int serve_result_create(mgr_request *call, PyObject *r)
{
	const char *type = PyUnicode_AsUTF8(PyTuple_GET_ITEM(r, 1));
	mgr_value *token = type ? convert_to_value(PyTuple_GET_ITEM(r, 2), 0) : NULL;
	if (!token)
		return serve_fail(call);
	mgr_value *ref = NULL;
	int err;
	if (inline_on_loop()) { /* made right here, by this thread: keep the GIL */
		err = mgr_request_create(call, type, &token, 1, &ref);
	} else {
		Py_BEGIN_ALLOW_THREADS
		err = mgr_request_create(call, type, &token, 1, &ref);
		Py_END_ALLOW_THREADS
	}
	mgr_value_free(token);
	return err ? err : mgr_request_return(call, ref);
}

static int serve_is_create(PyObject *r)
{
	if (!PyTuple_CheckExact(r) || PyTuple_GET_SIZE(r) != 3)
		return 0;
	PyObject *tag = PyTuple_GET_ITEM(r, 0);
	return PyUnicode_Check(tag) && PyUnicode_CompareWithASCIIString(tag, "\001create") == 0;
}

static int serve_method(void *state, mgr_request *call)
{
	int err = inline_debug(call);
	if (err >= 0)
		return err;
	struct inline_run run;
	PyGILState_STATE g = inline_enter(&run, call);
	serve_drain();
	PyObject *args = serve_args(call);
	PyObject *r = args && hook_call ? PyObject_CallFunctionObjArgs(hook_call, (PyObject *)state,
									 args, NULL) : NULL;
	Py_XDECREF(args);
	if (!r)
		err = serve_fail(call);
	else if (serve_is_create(r))
		err = serve_result_create(call, r);
	else {
		mgr_value *v = convert_to_value(r, 0);
		err = v ? mgr_request_return(call, v) : serve_fail(call);
	}
	Py_XDECREF(r);
	inline_leave(&run, g);
	return err;
}

static const mgr_method_def serve_methods[] = {
	{"call", serve_method, 1, -1, "method, args...", "a method of the Python object", 0},
};

/* _register_type(name): a type served by Python hooks in managers started
 * from now on. Registering a name twice is a no-op. */
PyObject *serve_register_type(PyObject *self, PyObject *args)
{
	(void)self;
	const char *name;
	if (!PyArg_ParseTuple(args, "s", &name))
		return NULL;
	mgr_type_def *def = PyMem_RawCalloc(1, sizeof(*def));
	char *copy = def ? strdup(name) : NULL;
	if (!copy) {
		PyMem_RawFree(def);
		return PyErr_NoMemory();
	}
	*def = (mgr_type_def){.name = copy, .doc = "a Python class (mgr.managers register)",
			      .init = serve_init, .destroy = serve_destroy,
			      .methods = serve_methods, .nmethods = 1, .inline_ok = inline_ok};
	int err = mgr_type_register(def); /* def lives as long as the process */
	if (err == MGR_EEXIST) {
		free(copy);
		PyMem_RawFree(def);
		Py_RETURN_FALSE;
	}
	if (err)
		return ext_raise(err, "register type");
	Py_RETURN_TRUE;
}

/* ---- Manager: a private manager owned by this process ---- */

typedef struct {
	PyObject_HEAD
	mgr_manager *m;
	pid_t owner;
	PyObject *address;
	PyObject *tcp; /* the TCP addresses as bound: a tuple of "tcp:HOST:PORT" */
} ManagerObject;

/* The forked child: Python's after-fork work, then mgrd's core with the GIL
 * released, so its worker threads can take it for Python types. */
void log_set_level(int level); /* mgrd/log.h, in libmgrserver: 1 is warnings */

#define SERVE_STOP_TIMEOUT_MS "1000" /* unless $MGR_STOP_TIMEOUT_MS says */

static int serve_main(const char *path, int ready_fd, int parent_pid)
{
	PyOS_AfterFork_Child();
	/* CPython's manager is terminated 1 s (shutdown_timeout) after it was
	 * asked to stop; ours exits by itself past this deadline, logging the
	 * methods still running, and ends its process group (Pool workers) */
	setenv("MGR_STOP_TIMEOUT_MS", SERVE_STOP_TIMEOUT_MS, 0);
	if (!getenv("MGR_PY_VERBOSE"))
		log_set_level(1); /* quiet as CPython's manager: warnings and errors only */
	if (hook_start) { /* BaseManager.start(initializer, initargs) */
		PyObject *r = PyObject_CallNoArgs(hook_start);
		if (!r) {
			PyErr_Print();
			return 1;
		}
		Py_DECREF(r);
	}
	inline_setup();
	PyThreadState *ts = PyEval_SaveThread();
	int r = mgr_server_main(path, ready_fd, parent_pid);
	PyEval_RestoreThread(ts);
	PyObject *util = PyImport_ImportModule("multiprocessing.util");
	PyObject *done = util ? PyObject_CallMethod(util, "_exit_function", NULL) : NULL;
	Py_XDECREF(done);
	Py_XDECREF(util);
	PyErr_Clear(); /* children (a Pool's workers) are stopped as at a normal exit */
	return r;
}

#define MANAGER_MAX_LISTEN 8

/* listen (a sequence of "tcp:HOST:PORT" str, or None) into out, NULL-
 * terminated; the strings are borrowed from items, which the caller
 * releases. -1 with the exception set. */
static int manager_listen(PyObject *listen, PyObject **items, const char *out[])
{
	*items = NULL;
	out[0] = NULL;
	if (listen == Py_None)
		return 0;
	*items = PySequence_Fast(listen, "listen: a sequence of 'tcp:HOST:PORT' addresses");
	Py_ssize_t n = *items ? PySequence_Fast_GET_SIZE(*items) : -1;
	if (n > MANAGER_MAX_LISTEN)
		PyErr_Format(PyExc_ValueError, "listen: at most %d addresses", MANAGER_MAX_LISTEN);
	if (n < 0 || n > MANAGER_MAX_LISTEN)
		return -1;
	for (Py_ssize_t i = 0; i < n; i++)
		if (!(out[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(*items, i))))
			return -1;
	out[n] = NULL;
	return 0;
}

/* The started manager's addresses: its socket path and the TCP ones. */
static int manager_addresses(ManagerObject *self)
{
	size_t n = 0;
	while (mgr_manager_tcp_address(self->m, n))
		n++;
	self->address = PyUnicode_FromString(mgr_manager_address(self->m));
	self->tcp = PyTuple_New((Py_ssize_t)n);
	for (size_t i = 0; self->tcp && i < n; i++) {
		PyObject *a = PyUnicode_FromString(mgr_manager_tcp_address(self->m, i));
		if (!a)
			return -1;
		PyTuple_SET_ITEM(self->tcp, (Py_ssize_t)i, a);
	}
	return self->address && self->tcp ? 0 : -1;
}

static int manager_init(ManagerObject *self, PyObject *args, PyObject *kw)
{
	static char *keys[] = {"mgrd", "address", "start_timeout", "listen", "authkey", NULL};
	const char *mgrd = NULL, *address = NULL, *listen[MANAGER_MAX_LISTEN + 1];
	double timeout = 0;
	PyObject *listen_arg = Py_None, *items = NULL;
	Py_buffer key = {.buf = NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|zzdOz*", keys, &mgrd, &address, &timeout,
					 &listen_arg, &key))
		return -1;
	int err = manager_listen(listen_arg, &items, listen);
	mgr_manager_opts o = {.mgrd = mgrd, .address = address,
			      .start_timeout_ms = (uint32_t)(timeout * 1000),
			      .serve = mgrd ? NULL : serve_main, .listen = listen,
			      .auth_key = key.buf, .auth_key_len = (size_t)key.len};
	mgr_manager *m = NULL;
	if (!err) {
		/* the fork happens inside, with the GIL held (the child takes it over) */
		PyOS_BeforeFork();
		err = mgr_manager_start(&o, &m);
		PyOS_AfterFork_Parent();
		if (err)
			ext_raise(err, mgr_client_errmsg(NULL));
	}
	Py_XDECREF(items);
	PyBuffer_Release(&key);
	if (err)
		return -1;
	self->m = m;
	self->owner = getpid();
	return manager_addresses(self);
}

static PyObject *manager_shutdown(ManagerObject *self, PyObject *unused)
{
	(void)unused;
	mgr_manager *m = self->m;
	self->m = NULL;
	if (!m || self->owner != getpid())
		Py_RETURN_NONE;
	int r;
	pid_t pid = mgr_manager_pid(m);
	Py_BEGIN_ALLOW_THREADS
	r = mgr_manager_shutdown(m);
	Py_END_ALLOW_THREADS
	/* libmgr killed it (it outlived its stop deadline: its loop was stuck
	 * too): what it started (a Pool's workers) is still in its group */
	if (r == MGR_ETIMEDOUT && pid > 0)
		kill(-pid, SIGKILL);
	return PyLong_FromLong(r);
}

static void manager_dealloc(ManagerObject *self)
{
	PyObject *r = manager_shutdown(self, NULL);
	Py_XDECREF(r);
	Py_XDECREF(self->address);
	Py_XDECREF(self->tcp);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *manager_get_pid(ManagerObject *self, void *unused)
{
	(void)unused;
	if (!self->m)
		Py_RETURN_NONE;
	return PyLong_FromLong(mgr_manager_pid(self->m));
}

static PyMethodDef manager_methods[] = {
	{"shutdown", (PyCFunction)manager_shutdown, METH_NOARGS,
	 "stop the manager, reap it, remove its socket; its exit status"},
	{NULL, NULL, 0, NULL},
};

static PyMemberDef manager_members[] = {
	{"address", T_OBJECT, offsetof(ManagerObject, address), READONLY, "the socket path"},
	{"tcp_addresses", T_OBJECT, offsetof(ManagerObject, tcp), READONLY,
	 "the TCP addresses listened on, as bound ('tcp:127.0.0.1:40123')"},
	{NULL, 0, 0, 0, NULL},
};

static PyGetSetDef manager_getset[] = {
	{"pid", (getter)manager_get_pid, NULL, "the manager's pid (None once shut down)", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject Manager_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mgr._mgr.Manager",
	.tp_basicsize = sizeof(ManagerObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Manager(mgrd=None, address=None, start_timeout=0, listen=None, authkey=None): "
		  "a private manager (a fork of this process serving its Python types; mgrd: exec "
		  "that binary), also on TCP at listen's 'tcp:HOST:PORT' addresses with authkey",
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)manager_init,
	.tp_dealloc = (destructor)manager_dealloc,
	.tp_methods = manager_methods,
	.tp_members = manager_members,
	.tp_getset = manager_getset,
};
