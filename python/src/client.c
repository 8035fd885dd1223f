/* Client (one mgr_client) and Object (one mgr_object handle).
 *
 * Every call into libmgr that may wait on the manager runs with the GIL
 * released (Py_BEGIN_ALLOW_THREADS), so other Python threads run while one
 * waits on a lock or a queue; libmgr multiplexes the threads' calls on the
 * one connection and tags each with its thread id (rlock ownership). */
#include "ext.h"

#include <math.h>
#include <structmember.h>
#include <unistd.h>

/* ---- Client ---- */

static int client_init(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char *keys[] = {"address", "authkey", NULL};
	const char *address = NULL;
	Py_buffer key = {.buf = NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|zz*", keys, &address, &key))
		return -1;
	if (inline_guard()) {
		PyBuffer_Release(&key);
		return -1;
	}
	mgr_client_opts o = {.address = address, .auth_key = key.buf, .auth_key_len = key.len};
	mgr_client *c = NULL;
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = mgr_client_connect_opts(&o, &c);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&key);
	if (err) {
		ext_raise(err, mgr_client_errmsg(NULL));
		return -1;
	}
	mgr_client_close(self->c);
	self->c = c;
	Py_XSETREF(self->address, PyUnicode_FromString(mgr_client_path(c)));
	return self->address ? 0 : -1;
}

static void client_dealloc(ClientObject *self)
{
	if (self->c) {
		Py_BEGIN_ALLOW_THREADS
		mgr_client_close(self->c);
		Py_END_ALLOW_THREADS
	}
	Py_XDECREF(self->address);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int client_check(ClientObject *self)
{
	if (self->c)
		return 0;
	PyErr_SetString(PyExc_ValueError, "mgr: the client is closed");
	return -1;
}

/* Values for args[from..n) (as_key: the first one is a dict key);
 * NULL with an exception set. Caller frees with args_free. */
static mgr_value **args_convert(PyObject *const *args, Py_ssize_t n, int as_key)
{
	mgr_value **v = PyMem_Calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		return (mgr_value **)PyErr_NoMemory();
	for (Py_ssize_t i = 0; i < n; i++) {
		v[i] = convert_to_value(args[i], as_key && i == 0);
		if (!v[i]) {
			for (Py_ssize_t j = 0; j < i; j++)
				mgr_value_free(v[j]);
			PyMem_Free(v);
			return NULL;
		}
	}
	return v;
}

static void args_free(mgr_value **v, Py_ssize_t n)
{
	for (Py_ssize_t i = 0; i < n; i++)
		mgr_value_free(v[i]);
	PyMem_Free(v);
}

/* create(type, name=None, *args) / open(type, name) / lookup(name) */
static PyObject *client_make(ClientObject *self, PyObject *const *args, Py_ssize_t n,
			     const char *what)
{
	if (client_check(self) || inline_guard())
		return NULL;
	int need = what[0] == 'l' ? 1 : 2;
	if (n < need - (what[0] == 'c') || (what[0] != 'c' && n != need))
		return PyErr_Format(PyExc_TypeError, "%s: wrong number of arguments", what);
	const char *type = NULL, *name = NULL;
	Py_ssize_t at = 0;
	if (need == 2) {
		type = PyUnicode_AsUTF8(args[at++]);
		if (!type)
			return NULL;
	}
	if (at < n && args[at] != Py_None && !(name = PyUnicode_AsUTF8(args[at])))
		return NULL;
	at++;
	Py_ssize_t rest = n > at ? n - at : 0;
	mgr_value **vals = args_convert(args + at, rest, 0);
	if (!vals)
		return NULL;
	mgr_object *o = NULL;
	int err;
	Py_BEGIN_ALLOW_THREADS
	if (what[0] == 'c')
		err = mgr_object_create(self->c, type, name, vals, (size_t)rest, &o);
	else if (what[0] == 'o')
		err = mgr_object_open(self->c, type, name, &o);
	else
		err = mgr_object_lookup(self->c, name, &o);
	Py_END_ALLOW_THREADS
	args_free(vals, rest);
	if (err)
		return ext_raise(err, mgr_client_errmsg(self->c));
	return (PyObject *)object_wrap(self, o);
}

static PyObject *client_create(ClientObject *self, PyObject *const *args, Py_ssize_t n)
{
	return client_make(self, args, n, "create");
}

static PyObject *client_open(ClientObject *self, PyObject *const *args, Py_ssize_t n)
{
	return client_make(self, args, n, "open");
}

static PyObject *client_lookup(ClientObject *self, PyObject *const *args, Py_ssize_t n)
{
	return client_make(self, args, n, "lookup");
}

/* adopt(id, type): a handle holding this session's own reference (a proxy
 * unpickled in another process). */
static PyObject *client_adopt(ClientObject *self, PyObject *args)
{
	unsigned long long id;
	const char *type;
	if (client_check(self) || !PyArg_ParseTuple(args, "Ks", &id, &type) || inline_guard())
		return NULL;
	mgr_value *ref = mgr_value_new_ref(id, type);
	if (!ref)
		return PyErr_NoMemory();
	mgr_object *o = NULL;
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = mgr_object_from_ref(self->c, ref, &o);
	Py_END_ALLOW_THREADS
	mgr_value_free(ref);
	if (err)
		return ext_raise(err, mgr_client_errmsg(self->c));
	return (PyObject *)object_wrap(self, o);
}

/* The call shared by Client.manager_call and Object.call: o.method(args),
 * timeout (seconds, None: forever) from the keywords. */
static PyObject *call_run(ClientObject *client, mgr_object *o, PyObject *const *args,
			  Py_ssize_t nargs, PyObject *kwnames, int as_key)
{
	if (nargs < 1)
		return PyErr_Format(PyExc_TypeError, "call(method, *args, timeout=None)");
	const char *method = PyUnicode_AsUTF8(args[0]);
	if (!method || inline_guard())
		return NULL;
	PyObject *timeout = Py_None;
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (Py_ssize_t i = 0; i < nkw; i++) {
		if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "timeout"))
			return PyErr_Format(PyExc_TypeError, "call: unexpected keyword %R",
					    PyTuple_GET_ITEM(kwnames, i));
		timeout = args[nargs + i];
	}
	int64_t ms = MGR_FOREVER;
	if (timeout != Py_None) {
		double s = PyFloat_AsDouble(timeout);
		if (s == -1.0 && PyErr_Occurred())
			return NULL;
		ms = s < 0 ? -1 : s * 1000.0 >= 9.0e18 ? MGR_FOREVER : (int64_t)ceil(s * 1000.0);
	}
	Py_ssize_t n = nargs - 1;
	mgr_value **vals = args_convert(args + 1, n, as_key);
	if (!vals)
		return NULL;
	mgr_value *result = NULL;
	int err;
	Py_BEGIN_ALLOW_THREADS
	if (ms == MGR_FOREVER)
		err = mgr_call(o, method, vals, (size_t)n, &result);
	else
		err = mgr_call_timeout(o, method, ms, vals, (size_t)n, &result);
	Py_END_ALLOW_THREADS
	args_free(vals, n);
	if (err)
		return ext_raise(err, mgr_client_errmsg(client->c));
	PyObject *r = convert_from_value(client, result);
	mgr_value_free(result);
	return r;
}

static PyObject *client_manager_call(ClientObject *self, PyObject *const *args, size_t nargsf,
				     PyObject *kwnames)
{
	if (client_check(self))
		return NULL;
	return call_run(self, mgr_client_manager(self->c), args, PyVectorcall_NARGS(nargsf),
			kwnames, 0);
}

static PyObject *client_close(ClientObject *self, PyObject *unused)
{
	(void)unused;
	mgr_client *c = self->c;
	self->c = NULL;
	Py_BEGIN_ALLOW_THREADS
	mgr_client_close(c);
	Py_END_ALLOW_THREADS
	Py_RETURN_NONE;
}

static PyObject *client_set_timeout(ClientObject *self, PyObject *arg)
{
	unsigned long ms = PyLong_AsUnsignedLong(arg);
	if (PyErr_Occurred() || client_check(self))
		return NULL;
	mgr_client_set_timeout(self->c, (uint32_t)ms);
	Py_RETURN_NONE;
}

static PyObject *client_get_session(ClientObject *self, void *unused)
{
	(void)unused;
	return client_check(self) ? NULL : PyLong_FromUnsignedLongLong(mgr_client_session(self->c));
}

static PyMethodDef client_methods[] = {
	{"create", (PyCFunction)(void (*)(void))client_create, METH_FASTCALL,
	 "create(type, name=None, *args) -> Object"},
	{"open", (PyCFunction)(void (*)(void))client_open, METH_FASTCALL,
	 "open(type, name) -> Object (created if missing)"},
	{"lookup", (PyCFunction)(void (*)(void))client_lookup, METH_FASTCALL,
	 "lookup(name) -> Object"},
	{"adopt", (PyCFunction)client_adopt, METH_VARARGS,
	 "adopt(id, type) -> Object holding this session's reference"},
	{"manager_call", (PyCFunction)(void (*)(void))client_manager_call,
	 METH_FASTCALL | METH_KEYWORDS, "manager_call(method, *args): a call on object 0"},
	{"close", (PyCFunction)client_close, METH_NOARGS, "close the connection"},
	{"set_timeout", (PyCFunction)client_set_timeout, METH_O, "set_timeout(ms)"},
	{NULL, NULL, 0, NULL},
};

static PyMemberDef client_members[] = {
	{"address", T_OBJECT, offsetof(ClientObject, address), READONLY, "the socket path"},
	{NULL, 0, 0, 0, NULL},
};

static PyGetSetDef client_getset[] = {
	{"session", (getter)client_get_session, NULL, "the session id", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject Client_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mgr._mgr.Client",
	.tp_basicsize = sizeof(ClientObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Client(address=None, authkey=None): a connection to an mgr manager "
		  "(address: a socket path or tcp:HOST:PORT; authkey: a TCP manager's key, "
		  "else MGR_AUTH_KEY / MGR_AUTH_KEY_FILE)",
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)client_init,
	.tp_dealloc = (destructor)client_dealloc,
	.tp_methods = client_methods,
	.tp_members = client_members,
	.tp_getset = client_getset,
};

/* ---- Object ---- */

ObjectObject *object_wrap(ClientObject *client, mgr_object *o)
{
	ObjectObject *h = PyObject_New(ObjectObject, &Object_Type);
	if (!h) {
		mgr_object_release(o);
		return NULL;
	}
	h->client = (ClientObject *)Py_NewRef((PyObject *)client);
	h->o = o;
	h->owner = getpid();
	h->weakrefs = NULL;
	return h;
}

/* In a forked child, the first use adopts the child session's own
 * reference, so the object lives while the child uses it. */
static int object_ready(ObjectObject *self)
{
	if (!self->o) {
		PyErr_SetString(PyExc_ValueError, "mgr: the object handle was released");
		return -1;
	}
	pid_t me = getpid();
	if (self->owner == me)
		return 0;
	if (inline_guard())
		return -1;
	mgr_value *ref = mgr_object_ref(self->o);
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = mgr_call(mgr_client_manager(self->client->c), "adopt", &ref, 1, NULL);
	Py_END_ALLOW_THREADS
	mgr_value_free(ref);
	if (err) {
		ext_raise(err, mgr_client_errmsg(self->client->c));
		return -1;
	}
	self->owner = me;
	return 0;
}

static PyObject *object_call(ObjectObject *self, PyObject *const *args, size_t nargsf,
			     PyObject *kwnames)
{
	if (object_ready(self))
		return NULL;
	return call_run(self->client, self->o, args, PyVectorcall_NARGS(nargsf), kwnames, 0);
}

/* kcall(method, key, *args): the first argument is a dict key. */
static PyObject *object_kcall(ObjectObject *self, PyObject *const *args, size_t nargsf,
			      PyObject *kwnames)
{
	if (PyVectorcall_NARGS(nargsf) < 2)
		return PyErr_Format(PyExc_TypeError, "kcall(method, key, *args)");
	if (object_ready(self))
		return NULL;
	return call_run(self->client, self->o, args, PyVectorcall_NARGS(nargsf), kwnames, 1);
}

static void object_drop(ObjectObject *self)
{
	mgr_object *o = self->o;
	self->o = NULL;
	if (!o)
		return;
	if (self->owner != getpid() || !self->client->c)
		return; /* a child's copy: the parent's reference is not ours to drop */
	if (inline_defer_release(o))
		return; /* serving a call on the manager's loop: released later */
	Py_BEGIN_ALLOW_THREADS
	mgr_object_release(o);
	Py_END_ALLOW_THREADS
}

static PyObject *object_release(ObjectObject *self, PyObject *unused)
{
	(void)unused;
	object_drop(self);
	Py_RETURN_NONE;
}

static PyObject *object_delete(ObjectObject *self, PyObject *unused)
{
	(void)unused;
	if (object_ready(self) || inline_guard())
		return NULL;
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = mgr_object_delete(self->o);
	Py_END_ALLOW_THREADS
	if (err)
		return ext_raise(err, mgr_client_errmsg(self->client->c));
	Py_RETURN_NONE;
}

static void object_dealloc(ObjectObject *self)
{
	if (self->weakrefs)
		PyObject_ClearWeakRefs((PyObject *)self);
	object_drop(self);
	Py_XDECREF(self->client);
	PyObject_Free(self);
}

static PyObject *object_get_id(ObjectObject *self, void *unused)
{
	(void)unused;
	if (!self->o)
		Py_RETURN_NONE;
	return PyLong_FromUnsignedLongLong(mgr_object_id(self->o));
}

static PyObject *object_get_type(ObjectObject *self, void *unused)
{
	(void)unused;
	if (!self->o)
		Py_RETURN_NONE;
	return PyUnicode_FromString(mgr_object_type(self->o));
}

static PyObject *object_repr(ObjectObject *self)
{
	if (!self->o)
		return PyUnicode_FromString("<mgr.Object released>");
	return PyUnicode_FromFormat("<mgr.Object %s #%llu>", mgr_object_type(self->o),
				    (unsigned long long)mgr_object_id(self->o));
}

static PyMethodDef object_methods[] = {
	{"call", (PyCFunction)(void (*)(void))object_call, METH_FASTCALL | METH_KEYWORDS,
	 "call(method, *args, timeout=None): the method's result"},
	{"kcall", (PyCFunction)(void (*)(void))object_kcall, METH_FASTCALL | METH_KEYWORDS,
	 "kcall(method, key, *args, timeout=None): call with a dict key first"},
	{"release", (PyCFunction)object_release, METH_NOARGS, "drop this handle's reference"},
	{"delete", (PyCFunction)object_delete, METH_NOARGS, "end the object for everyone"},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef object_getset[] = {
	{"id", (getter)object_get_id, NULL, "the object id", NULL},
	{"type", (getter)object_get_type, NULL, "the mgr type name", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef object_members[] = {
	{"client", T_OBJECT, offsetof(ObjectObject, client), READONLY, "the Client"},
	{NULL, 0, 0, 0, NULL},
};

PyTypeObject Object_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mgr._mgr.Object",
	.tp_basicsize = sizeof(ObjectObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A handle on a shared object (made by Client.create/open/lookup/adopt)",
	.tp_dealloc = (destructor)object_dealloc,
	.tp_repr = (reprfunc)object_repr,
	.tp_methods = object_methods,
	.tp_getset = object_getset,
	.tp_members = object_members,
	.tp_weaklistoffset = offsetof(ObjectObject, weakrefs),
};
