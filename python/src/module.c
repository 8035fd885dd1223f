/* mgr._mgr: the module, its hooks from the Python layer, and the map from
 * mgr error codes to Python exceptions (set by mgr/_errors.py). */
#include "ext.h"

PyObject *ext_dumps, *ext_loads, *ext_ref_hook;
static PyObject *error_map;     /* {code: exception class}; owned */
static PyObject *error_default; /* owned */

PyObject *ext_raise(int err, const char *msg)
{
	PyObject *key = PyLong_FromLong(err);
	PyObject *cls = error_map && key ? PyDict_GetItemWithError(error_map, key) : NULL;
	Py_XDECREF(key);
	PyErr_Clear();
	if (!cls)
		cls = error_default ? error_default : PyExc_RuntimeError;
	PyObject *text = PyUnicode_FromFormat("%s: %s", mgr_errname(err),
					      msg && *msg ? msg : mgr_strerror(err));
	if (!text)
		return NULL;
	PyObject *exc = PyObject_CallOneArg(cls, text);
	Py_DECREF(text);
	if (!exc)
		return NULL;
	PyObject *code = PyLong_FromLong(err);
	if (code) {
		PyObject_SetAttrString(exc, "mgr_code", code);
		Py_DECREF(code);
	}
	PyErr_Clear();
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

/* _set_hooks(dumps, loads, ref_hook, error_map, default_error) */
static PyObject *module_set_hooks(PyObject *self, PyObject *args)
{
	(void)self;
	PyObject *d, *l, *r, *m, *e;
	if (!PyArg_ParseTuple(args, "OOOO!O", &d, &l, &r, &PyDict_Type, &m, &e))
		return NULL;
	PyObject **slots[] = {&ext_dumps, &ext_loads, &ext_ref_hook, &error_map, &error_default};
	PyObject *vals[] = {d, l, r, m, e};
	for (size_t i = 0; i < 5; i++) {
		Py_XDECREF(*slots[i]);
		*slots[i] = vals[i] == Py_None ? NULL : Py_NewRef(vals[i]);
	}
	Py_RETURN_NONE;
}

static PyObject *module_strerror(PyObject *self, PyObject *arg)
{
	(void)self;
	long code = PyLong_AsLong(arg);
	if (code == -1 && PyErr_Occurred())
		return NULL;
	return Py_BuildValue("ss", mgr_errname((int)code), mgr_strerror((int)code));
}

static PyObject *module_to_value_roundtrip(PyObject *self, PyObject *args)
{
	(void)self;
	PyObject *obj;
	int as_key = 0;
	if (!PyArg_ParseTuple(args, "O|p", &obj, &as_key))
		return NULL;
	mgr_value *v = convert_to_value(obj, as_key);
	if (!v)
		return NULL;
	PyObject *r = convert_from_value(NULL, v);
	mgr_value_free(v);
	return r;
}

static PyMethodDef module_methods[] = {
	{"_set_hooks", module_set_hooks, METH_VARARGS,
	 "_set_hooks(dumps, loads, ref_hook, error_map, default_error)"},
	{"_register_type", serve_register_type, METH_VARARGS,
	 "_register_type(name): a custom type served by Python in managers started later"},
	{"_set_serve_hooks", serve_set_hooks, METH_VARARGS,
	 "_set_serve_hooks(create, call, destroy): the Python side of served types"},
	{"strerror", module_strerror, METH_O, "strerror(code) -> (name, text)"},
	{"_roundtrip", module_to_value_roundtrip, METH_VARARGS,
	 "_roundtrip(obj, as_key=False): obj through an mgr value and back (tests)"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT, "_mgr", "mgr's C client (libmgr) for Python", -1, module_methods,
	NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__mgr(void)
{
	PyTypeObject *types[] = {&Client_Type, &Object_Type, &Manager_Type};
	for (size_t i = 0; i < 3; i++)
		if (PyType_Ready(types[i]) < 0)
			return NULL;
	PyObject *m = PyModule_Create(&module_def);
	if (!m)
		return NULL;
	const char *names[] = {"Client", "Object", "Manager"};
	for (size_t i = 0; i < 3; i++)
		if (PyModule_AddObjectRef(m, names[i], (PyObject *)types[i]) < 0)
			goto fail;
	if (PyModule_AddIntConstant(m, "FOREVER", -1) < 0 ||
	    PyModule_AddStringConstant(m, "TAG", "") < 0)
		goto fail;
	PyObject *tag = PyBytes_FromStringAndSize(EXT_TAG, EXT_TAG_LEN);
	if (!tag || PyModule_AddObject(m, "TAG", tag) < 0) {
		Py_XDECREF(tag);
		goto fail;
	}
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
