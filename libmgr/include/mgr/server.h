/* Serving custom types (Python: BaseManager.register('Employee', Employee)).
 *
 * A type is a table: its name, a constructor that builds the instance's
 * state from the create() arguments, a destructor, and methods whose
 * handlers read argument values and return a value or an error. The
 * manager runs every call of an object under that object's lock (calls on
 * one object never overlap) and runs custom methods on worker threads, so a
 * slow method does not stall other objects.
 *
 * Register types in the program, then start a manager that serves them
 * with mgr_manager_start(&(mgr_manager_opts){.serve = mgr_server_main}, &m)
 * (the manager is a forked child of the program, like Python's); or build
 * the same code as a module (.so) with MGR_MODULE() and run
 * `mgrd --module PATH`. Link with libmgrserver. */
#ifndef MGR_SERVER_H
#define MGR_SERVER_H

#include <stdarg.h>

#include "mgr/mgr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A call in progress in the manager: valid only during the handler. */
typedef struct mgr_request mgr_request;

/* Returns 0 (the result, if any, set with mgr_request_return) or an error
 * code (with mgr_request_error). */
typedef int (*mgr_method_fn)(void *state, mgr_request *call);

/* mgr_method_def.flags */
enum {
	/* The method is quick and never blocks: the manager may run it on its
	 * I/O thread when the object is idle, which saves a thread hand-off
	 * per call. Without it the call runs on a worker thread. */
	MGR_METHOD_INLINE = 1 << 0,
};

typedef struct mgr_method_def {
	const char *name;
	mgr_method_fn fn;
	int min_args, max_args; /* max -1: any number */
	const char *args;       /* for introspection, e.g. "amount=100" */
	const char *doc;
	unsigned flags;         /* MGR_METHOD_* */
} mgr_method_def;

typedef struct mgr_type_def {
	const char *name;
	const char *doc;
	/* Builds *state from the create() arguments (mgr_request_arg...). */
	int (*init)(void **state, mgr_request *call);
	/* Accepts NULL. Frees what init made. */
	void (*destroy)(void *state);
	const mgr_method_def *methods;
	size_t nmethods;
	/* Optional, for `mgrd --snapshot` (named objects survive a restart):
	 * save returns the state as a value (caller owns; NULL on failure);
	 * load builds *state from such a value (saved borrowed; 0 or an error
	 * code). Both run on mgrd's loop thread, never during a method of the
	 * same object. A type without both is not saved. Refs inside a saved
	 * value survive only if they name another saved named object. */
	mgr_value *(*save)(const void *state);
	int (*load)(const mgr_value *saved, void **state);
	/* Optional: decides per call whether a call of any of the type's
	 * methods may run on the manager's I/O thread (as MGR_METHOD_INLINE,
	 * which it implies for every method). Asked on that thread, only when
	 * the object is idle: it must be quick and never block. Nonzero: the
	 * method runs right after, on the same thread, before any other call
	 * is served; 0: this call runs on a worker. */
	int (*inline_ok)(void *state, mgr_request *call);
} mgr_type_def;

/* Registers a type for managers started from this program (or, in a
 * module, for mgrd). def is borrowed and must outlive the manager.
 * MGR_EEXIST if the name is taken (by a built-in type too). */
MGR_API int mgr_type_register(const mgr_type_def *def);

/* Arguments of the call: borrowed, valid during the handler. */
MGR_API size_t mgr_request_nargs(const mgr_request *call);
MGR_API const mgr_value *mgr_request_arg(const mgr_request *call, size_t i);
/* The argument as an int / string; MGR_EARGS (with a message) if it is not. */
MGR_API int mgr_request_arg_int(mgr_request *call, size_t i, int64_t *out);
MGR_API int mgr_request_arg_string(mgr_request *call, size_t i, const char **out);
/* Takes argument i (caller owns; nil if absent or already taken). */
MGR_API mgr_value *mgr_request_take_arg(mgr_request *call, size_t i);
/* Sets the result; v consumed. MGR_ENOMEM if v is NULL. */
MGR_API int mgr_request_return(mgr_request *call, mgr_value *v);
/* Sets the error message; returns code, for `return mgr_request_error(...)`. */
MGR_API int mgr_request_error(mgr_request *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The def of the type whose handler runs (in init: the type being built). */
MGR_API const mgr_type_def *mgr_request_type(const mgr_request *call);
/* Creates a new anonymous shared object (Python's method_to_typeid) and
 * returns a ref to it (caller owns); return it from the method and the
 * client gets a handle with mgr_object_from_ref(). args borrowed. */
MGR_API int mgr_request_create(mgr_request *call, const char *type, mgr_value *const *args,
			    size_t nargs, mgr_value **ref);

/* For mgr_manager_opts.serve: runs a manager (the mgrd core, with every
 * type registered in this program) in the forked child. */
MGR_API int mgr_server_main(const char *socket_path, int ready_fd, int parent_pid);

/* A module exports its types as a NULL-terminated array:
 *   MGR_MODULE(&employee_type, &other_type) */
#define MGR_MODULE(...)                                                        \
	__attribute__((visibility("default"))) const mgr_type_def *const mgr_module_types[] = { \
		__VA_ARGS__, NULL}

#ifdef __cplusplus
}
#endif
#endif
