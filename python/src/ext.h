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

/* serve.c: the manager type and the Python-served custom types. */
extern PyTypeObject Manager_Type;
PyObject *serve_register_type(PyObject *self, PyObject *args);
PyObject *serve_set_hooks(PyObject *self, PyObject *args);

#endif
