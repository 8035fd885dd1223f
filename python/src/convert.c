/* Python objects <-> mgr values.
 *
 * None, bool, int (int64), float, str (UTF-8 without NUL), bytes, list and
 * dict map to their mgr kinds; an Object (or a proxy, through its
 * `_mgr_object` attribute) to a ref. Anything else — a tuple, a set, an
 * int beyond int64, a str with NUL, any picklable object — travels as a
 * bytes value: EXT_TAG followed by the pickle (the hook ext_dumps). mgrd
 * stores and compares those bytes and never unpickles them; only Python
 * clients do (ext_loads). Plain bytes that happen to begin with EXT_TAG
 * are pickled too, so decoding is never ambiguous. */
#include "ext.h"

#include <string.h>

static mgr_value *convert_pickled(PyObject *obj)
{
	if (!ext_dumps) {
		PyErr_Format(PyExc_TypeError, "mgr cannot send %.100s (no pickle hook)",
			     Py_TYPE(obj)->tp_name);
		return NULL;
	}
	PyObject *b = PyObject_CallOneArg(ext_dumps, obj);
	if (!b)
		return NULL;
	if (!PyBytes_Check(b)) {
		Py_DECREF(b);
		PyErr_SetString(PyExc_TypeError, "mgr: the pickle hook must return bytes");
		return NULL;
	}
	Py_ssize_t n = PyBytes_GET_SIZE(b);
	char *buf = PyMem_Malloc((size_t)n + EXT_TAG_LEN);
	mgr_value *v = NULL;
	if (buf) {
		memcpy(buf, EXT_TAG, EXT_TAG_LEN);
		memcpy(buf + EXT_TAG_LEN, PyBytes_AS_STRING(b), (size_t)n);
		v = mgr_value_new_bytes(buf, (size_t)n + EXT_TAG_LEN);
		PyMem_Free(buf);
	}
	Py_DECREF(b);
	if (!v)
		PyErr_NoMemory();
	return v;
}

static mgr_value *convert_int(PyObject *obj)
{
	int overflow = 0;
	long long i = PyLong_AsLongLongAndOverflow(obj, &overflow);
	if (overflow)
		return convert_pickled(obj);
	if (i == -1 && PyErr_Occurred())
		return NULL;
	return mgr_value_new_int(i);
}

static mgr_value *convert_str(PyObject *obj)
{
	Py_ssize_t n;
	const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
	if (!s) { /* lone surrogates */
		PyErr_Clear();
		return convert_pickled(obj);
	}
	if (memchr(s, 0, (size_t)n))
		return convert_pickled(obj);
	return mgr_value_new_stringn(s, (size_t)n);
}

static mgr_value *convert_bytes(PyObject *obj)
{
	Py_ssize_t n = PyBytes_GET_SIZE(obj);
	const char *p = PyBytes_AS_STRING(obj);
	if (n >= EXT_TAG_LEN && memcmp(p, EXT_TAG, EXT_TAG_LEN) == 0)
		return convert_pickled(obj);
	return mgr_value_new_bytes(p, (size_t)n);
}

static mgr_value *convert_list(PyObject *obj)
{
	mgr_value *l = mgr_value_new_list();
	if (!l)
		return (mgr_value *)PyErr_NoMemory();
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(obj); i++) {
		mgr_value *item = convert_to_value(PyList_GET_ITEM(obj, i), 0);
		if (!item || mgr_value_list_append(l, item)) {
			if (item)
				PyErr_NoMemory();
			mgr_value_free(l);
			return NULL;
		}
	}
	return l;
}

static mgr_value *convert_dict(PyObject *obj)
{
	mgr_value *m = mgr_value_new_map();
	if (!m)
		return (mgr_value *)PyErr_NoMemory();
	PyObject *k, *val;
	Py_ssize_t pos = 0;
	while (PyDict_Next(obj, &pos, &k, &val)) {
		mgr_value *mk = convert_to_value(k, 1);
		mgr_value *mv = mk ? convert_to_value(val, 0) : NULL;
		if (!mv) {
			mgr_value_free(mk);
			mgr_value_free(m);
			return NULL;
		}
		int err = mgr_value_map_set(m, mk, mv);
		if (err) {
			mgr_value_free(m);
			return ext_raise(err, "dict key"), NULL;
		}
	}
	return m;
}

/* An Object, or a proxy carrying one in `_mgr_object`: a ref. */
static mgr_value *convert_ref(PyObject *obj)
{
	ObjectObject *h = (ObjectObject *)obj;
	if (!h->o) {
		PyErr_SetString(PyExc_ValueError, "mgr: the object handle was released");
		return NULL;
	}
	mgr_value *v = mgr_object_ref(h->o);
	return v ? v : (mgr_value *)PyErr_NoMemory();
}

static mgr_value *convert_other(PyObject *obj)
{
	if (PyObject_TypeCheck(obj, &Object_Type))
		return convert_ref(obj);
	PyObject *h = NULL;
	h = PyObject_GetAttrString(obj, "_mgr_object");
	if (!h) {
		PyErr_Clear();
		return convert_pickled(obj);
	}
	mgr_value *v = PyObject_TypeCheck(h, &Object_Type) ? convert_ref(h) : convert_pickled(obj);
	Py_DECREF(h);
	return v;
}

/* A key as Python's dict sees it: equal keys give equal values. */
static mgr_value *convert_key(PyObject *obj)
{
	if (PyBool_Check(obj))
		return mgr_value_new_int(obj == Py_True);
	if (PyFloat_CheckExact(obj)) {
		double d = PyFloat_AS_DOUBLE(obj);
		if (d == (double)(long long)d && d > -9.2e18 && d < 9.2e18)
			return mgr_value_new_int((long long)d);
		return convert_pickled(obj);
	}
	if (PyTuple_Check(obj) && PyTuple_GET_SIZE(obj) == 0)
		return convert_pickled(obj);
	return NULL; /* not special */
}

mgr_value *convert_to_value(PyObject *obj, int as_key)
{
	mgr_value *v = NULL;
	if (as_key && (v = convert_key(obj)))
		return v;
	if (as_key && PyErr_Occurred())
		return NULL;
	if (obj == Py_None)
		v = mgr_value_new_nil();
	else if (PyBool_Check(obj))
		v = mgr_value_new_bool(obj == Py_True);
	else if (PyLong_CheckExact(obj))
		return convert_int(obj);
	else if (PyFloat_CheckExact(obj))
		v = mgr_value_new_double(PyFloat_AS_DOUBLE(obj));
	else if (PyUnicode_CheckExact(obj))
		return convert_str(obj);
	else if (PyBytes_CheckExact(obj))
		return convert_bytes(obj);
	else if (PyList_CheckExact(obj) && !as_key)
		return convert_list(obj);
	else if (PyDict_CheckExact(obj) && !as_key)
		return convert_dict(obj);
	else
		return convert_other(obj);
	return v ? v : (mgr_value *)PyErr_NoMemory();
}

/* ---- mgr values -> Python ---- */

static PyObject *convert_bytes_back(const mgr_value *v)
{
	size_t n;
	const char *p = mgr_value_bytes(v, &n);
	if (n >= EXT_TAG_LEN && memcmp(p, EXT_TAG, EXT_TAG_LEN) == 0 && ext_loads) {
		PyObject *b = PyBytes_FromStringAndSize(p + EXT_TAG_LEN, (Py_ssize_t)(n - EXT_TAG_LEN));
		if (!b)
			return NULL;
		PyObject *r = PyObject_CallOneArg(ext_loads, b);
		Py_DECREF(b);
		return r;
	}
	return PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
}

static PyObject *convert_list_back(ClientObject *client, const mgr_value *v)
{
	size_t n = mgr_value_len(v);
	PyObject *l = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; l && i < n; i++) {
		PyObject *item = convert_from_value(client, mgr_value_list_get(v, i));
		if (!item)
			Py_CLEAR(l);
		else
			PyList_SET_ITEM(l, (Py_ssize_t)i, item);
	}
	return l;
}

static PyObject *convert_map_back(ClientObject *client, const mgr_value *v)
{
	PyObject *d = PyDict_New();
	for (size_t i = 0; d && i < mgr_value_len(v); i++) {
		PyObject *k = convert_from_value(client, mgr_value_map_key(v, i));
		PyObject *val = k ? convert_from_value(client, mgr_value_map_value(v, i)) : NULL;
		if (!val || PyDict_SetItem(d, k, val) < 0)
			Py_CLEAR(d);
		Py_XDECREF(k);
		Py_XDECREF(val);
	}
	return d;
}

/* A ref: the reply handed this session a reference; adopt (no second
 * reference) makes it the handle's. */
static PyObject *convert_ref_back(ClientObject *client, const mgr_value *v)
{
	if (!client)
		return Py_BuildValue("(Ks)", (unsigned long long)mgr_value_ref_id(v),
				     mgr_value_ref_type(v));
	mgr_object *o;
	int err = mgr_object_from_ref(client->c, v, &o);
	if (err)
		return ext_raise(err, mgr_client_errmsg(client->c));
	ObjectObject *h = object_wrap(client, o);
	if (!h || !ext_ref_hook)
		return (PyObject *)h;
	PyObject *r = PyObject_CallOneArg(ext_ref_hook, (PyObject *)h);
	Py_DECREF(h);
	return r;
}

PyObject *convert_from_value(ClientObject *client, const mgr_value *v)
{
	size_t n;
	const char *s;
	switch (mgr_value_kind(v)) {
	case MGR_NIL:
		Py_RETURN_NONE;
	case MGR_BOOL:
		return PyBool_FromLong(mgr_value_bool(v));
	case MGR_INT:
		return PyLong_FromLongLong(mgr_value_int(v));
	case MGR_DOUBLE:
		return PyFloat_FromDouble(mgr_value_double(v));
	case MGR_STRING:
		s = mgr_value_string(v, &n);
		return PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "surrogatepass");
	case MGR_BYTES:
		return convert_bytes_back(v);
	case MGR_LIST:
		return convert_list_back(client, v);
	case MGR_MAP:
		return convert_map_back(client, v);
	case MGR_REF:
		return convert_ref_back(client, v);
	}
	PyErr_SetString(PyExc_ValueError, "mgr: unknown value kind");
	return NULL;
}
