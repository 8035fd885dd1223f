/* libmgr: call methods on objects that an mgr manager hosts.
 *
 * A client is one connection (one session) to a manager. Objects are named
 * by handles; a handle holds the object's id, so it stays valid across
 * fork(): a child's first call opens the child's own connection.
 *
 * Thread safety: a client may be used from several threads at once. Calls
 * are multiplexed on its one connection; a thread blocked in a parked call
 * (lock acquire, queue get...) does not stop other threads' calls. Each call
 * carries the calling thread's id, for owner-aware types (rlock).
 *
 * Connection loss: if the manager drops the connection, calls in flight
 * fail with MGR_EIO and the next call opens a new connection — a new
 * session, which holds none of the old one's references, locks or parked
 * calls. Handles stay usable while the manager instance is the same; after a
 * manager restart, calls on old handles fail with MGR_ENOOBJ.
 *
 * Errors: functions that can fail return 0 or an mgr_err and leave their
 * out-parameters untouched on failure; mgr_client_errmsg() gives the
 * message (the server's, for remote errors) of this thread's last failure.
 * libmgr never prints, exits, aborts or installs signal handlers. */
#ifndef MGR_MGR_H
#define MGR_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgr/error.h"
#include "mgr/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mgr_client mgr_client;
typedef struct mgr_object mgr_object;

/* ---- clients ---- */

/* Connects to the manager at path; NULL: $MGR_SOCKET, else the default path
 * ($XDG_RUNTIME_DIR/mgr/mgrd.sock, else /tmp/mgr-$UID/mgrd.sock).
 * Before anything is sent (and again at every reconnect) the manager must be
 * trusted: the socket's directory owned by this process's uid or root and
 * writable by nobody else (in a sticky shared directory such as /tmp: the
 * socket itself owned so), and the listening process running as this uid
 * or root — or as the uid named by $MGR_SERVER_UID (a number or a user
 * name). Otherwise MGR_EPERM, with mgr_client_errmsg() saying what is
 * wrong ("refusing /tmp/mgr-0: owned by uid 1001, not root"). A manager
 * that does not admit us says why: the code (MGR_EPERM, MGR_ELIMIT) and
 * "manager refused: <its reason>".
 * *out: caller owns — free with mgr_client_close(). */
MGR_API int mgr_client_connect(const char *path, mgr_client **out);

/* Options for mgr_client_connect_opts; zero what is not used. */
typedef struct mgr_client_opts {
	const char *address;     /* as mgr_client_connect's path */
	const char *server_user; /* also trust a manager running as this user (a name
				  * or a uid); NULL: $MGR_SERVER_UID, else none */
	/* A TCP manager's shared key (auth_key_len bytes, 16 to 512; copied, and
	 * kept for reconnects after fork); NULL: $MGR_AUTH_KEY, else the file
	 * $MGR_AUTH_KEY_FILE. Ignored for a UNIX socket. */
	const void *auth_key;
	size_t auth_key_len;
} mgr_client_opts;

/* mgr_client_connect with options (borrowed). *out: caller owns — free
 * with mgr_client_close(). MGR_EINVAL if server_user names nobody or the
 * key's length is out of range. */
MGR_API int mgr_client_connect_opts(const mgr_client_opts *opts, mgr_client **out);
/* Accepts NULL. Closes the connection; the session's references drop. */
MGR_API void mgr_client_close(mgr_client *c);
/* Per-call timeout in ms for waiting on the manager (0: none, the default).
 * Blocking methods wait for their own timeout plus this one. */
MGR_API void mgr_client_set_timeout(mgr_client *c, uint32_t ms);
/* The message of this thread's last failed call; borrowed, constant until
 * this thread's next call. Never NULL. */
MGR_API const char *mgr_client_errmsg(const mgr_client *c);
/* The session id the manager gave this connection (0 before connecting). */
MGR_API uint64_t mgr_client_session(mgr_client *c);
/* The socket path in use; borrowed. */
MGR_API const char *mgr_client_path(const mgr_client *c);
/* Object 0, the manager: create, open, lookup, delete, types, methods,
 * objects, info. Borrowed: valid while c is. */
MGR_API mgr_object *mgr_client_manager(mgr_client *c);

/* ---- private managers (Python: BaseManager().start() / shutdown()) ---- */

typedef struct mgr_manager mgr_manager;

typedef struct mgr_manager_opts {
	const char *mgrd;    /* the daemon binary; NULL: $MGR_MGRD, else the installed one */
	const char *address; /* socket path; NULL: in a fresh 0700 directory */
	const char *const *args; /* extra mgrd arguments, NULL-terminated (may be NULL) */
	uint32_t start_timeout_ms; /* 0: 10 s */
	/* Instead of executing mgrd: run this in a forked child (see
	 * mgr/server.h: mgr_server_main serves the program's own types). */
	int (*serve)(const char *socket_path, int ready_fd, int parent_pid);
	/* Also listen on TCP (Python: BaseManager(address=(host, port)).start()):
	 * "tcp:HOST:PORT" addresses (IPv6 as tcp:[::1]:0; port 0: any free one,
	 * see mgr_manager_tcp_address), NULL-terminated, at most 8; NULL: none.
	 * The UNIX socket stays. Needs auth_key. */
	const char *const *listen;
	/* The key every TCP client must prove, as the manager proves it back
	 * (mutual HMAC-SHA256, docs/security.md "Remote sessions"): auth_key_len
	 * bytes, 16 to 512, any bytes (a Python authkey); borrowed. It reaches
	 * the manager through a pipe, never its command line or environment. A
	 * session proving it acts as this process's uid (the program's objects
	 * are its own). Used only with listen. */
	const void *auth_key;
	size_t auth_key_len;
} mgr_manager_opts;

/* Starts a manager owned by this process and waits until it accepts
 * connections (no sleeping), on its socket and on every listen address.
 * It runs in its own process group (a terminal's Ctrl-C does not stop it)
 * and exits by itself when this process ends. opts may be NULL. *out:
 * caller owns — free with mgr_manager_shutdown(). MGR_EINVAL for a listen
 * address that is not tcp:HOST:PORT or a missing or bad-sized key;
 * MGR_ECONNECT if the manager could not listen (the port taken: its
 * message is on stderr). */
MGR_API int mgr_manager_start(const mgr_manager_opts *opts, mgr_manager **out);
/* The socket path, for mgr_client_connect() or MGR_SOCKET; borrowed. */
MGR_API const char *mgr_manager_address(const mgr_manager *m);
/* The i-th TCP address listened on, as bound ("tcp:127.0.0.1:40123": a
 * port 0 resolved; "tcp:[::1]:40124"), in listen's order, for
 * mgr_client_connect_opts with the key; NULL past the last. Borrowed:
 * valid while m is. */
MGR_API const char *mgr_manager_tcp_address(const mgr_manager *m, size_t i);
MGR_API int mgr_manager_pid(const mgr_manager *m);
/* Accepts NULL. Stops the manager gracefully, reaps it (no zombie) and
 * removes its socket and the directory made for it; frees m. Returns 0 if
 * it exited cleanly. */
MGR_API int mgr_manager_shutdown(mgr_manager *m);

/* ---- generic calls ---- */

/* Calls method on o with nargs arguments (borrowed). *result: caller owns —
 * free with mgr_value_free(); result may be NULL to discard it. */
MGR_API int mgr_call(mgr_object *o, const char *method, mgr_value *const *args,
		     size_t nargs, mgr_value **result);
/* The same, for blocking methods: the manager waits at most timeout_ms
 * before answering MGR_ETIMEDOUT (or the method's own answer): 0 does not
 * wait (a poll), MGR_FOREVER (mgr/sync.h) waits as long as it takes (what
 * mgr_call does); a negative one is refused with MGR_EARGS. */
MGR_API int mgr_call_timeout(mgr_object *o, const char *method, int64_t timeout_ms,
			     mgr_value *const *args, size_t nargs, mgr_value **result);
/* Arguments as a NULL-terminated list of values, consumed even on failure:
 * mgr_callv(o, "set", NULL, mgr_value_new_string("k"), mgr_value_new_int(1), NULL) */
MGR_API int mgr_callv(mgr_object *o, const char *method, mgr_value **result, ...);

/* ---- pipelining and batches ---- */

typedef struct mgr_future mgr_future;

/* Queues a call and returns at once; requests leave together at the next
 * wait (or flush), and the manager answers them in bulk. args borrowed.
 * *out: caller owns — free with mgr_future_wait() or mgr_future_free(). */
MGR_API int mgr_call_async(mgr_object *o, const char *method, mgr_value *const *args,
			   size_t nargs, mgr_future **out);
/* Waits for the call's answer and frees f (consumed even on failure).
 * *result: caller owns; result may be NULL. */
MGR_API int mgr_future_wait(mgr_future *f, mgr_value **result);
/* True once the answer is in (after mgr_client_process or another wait). */
MGR_API bool mgr_future_done(const mgr_future *f);
/* Accepts NULL. Forgets the call; its answer is dropped when it comes. */
MGR_API void mgr_future_free(mgr_future *f);
/* Sends queued requests now. */
MGR_API int mgr_client_flush(mgr_client *c);
/* The connection's fd, to watch for reading in an application's own event
 * loop (-1 when not connected); then call mgr_client_process(). Answers
 * travel through shared memory; from this call on the manager also makes
 * the fd readable when they come (a byte per batch of answers). */
MGR_API int mgr_client_fd(mgr_client *c);
/* Sends what is queued and delivers whatever answers have arrived, without
 * blocking. */
MGR_API int mgr_client_process(mgr_client *c);

typedef struct mgr_batch_call {
	const char *method;
	mgr_value *const *args; /* borrowed */
	size_t nargs;
} mgr_batch_call;

/* Runs n calls on o in one frame, back to back: no other call on o comes
 * between them. *results (caller owns) is the list of their results. The
 * first failing call ends the batch with its error (calls before it stay
 * done); blocking methods are refused in a batch. */
MGR_API int mgr_call_batch(mgr_object *o, const mgr_batch_call *calls, size_t n,
			   mgr_value **results);

/* ---- objects ---- */

/* A new object of type, named or (name NULL) anonymous, with constructor
 * arguments (borrowed). MGR_EEXIST if the name is taken.
 * *out: caller owns — free with mgr_object_release(). */
MGR_API int mgr_object_create(mgr_client *c, const char *type, const char *name,
			      mgr_value *const *args, size_t nargs, mgr_object **out);
/* The named object, created (without arguments) if missing; MGR_ETYPE if it
 * exists with another type. name NULL: a new anonymous object (as with
 * mgr_object_create); the typed openers (mgr_counter_open...) share this.
 * A name or type that is not valid UTF-8: MGR_EUTF8.
 * *out: caller owns — free with mgr_object_release(). */
MGR_API int mgr_object_open(mgr_client *c, const char *type, const char *name,
			    mgr_object **out);
/* An existing object by name. *out: caller owns — free with mgr_object_release(). */
MGR_API int mgr_object_lookup(mgr_client *c, const char *name, mgr_object **out);
/* An existing object by id (a child given mgr_object_id() of a handle, in
 * an argument or a message), checked to be of type (NULL: any type), else
 * MGR_ETYPE; MGR_ENOOBJ if there is none. Takes a reference of this
 * session, as a lookup by name does. *out: caller owns — free with
 * mgr_object_release(). */
MGR_API int mgr_object_lookup_id(mgr_client *c, uint64_t id, const char *type,
				 mgr_object **out);
/* A handle for a ref value (from a dict, a list, a method's result); takes
 * a reference of this session. *out: caller owns — free with mgr_object_release(). */
MGR_API int mgr_object_from_ref(mgr_client *c, const mgr_value *ref, mgr_object **out);
/* Ends the object for everyone now. The handle must still be released. */
MGR_API int mgr_object_delete(mgr_object *o);
/* Accepts NULL. Drops this session's reference and frees the handle (an
 * anonymous object ends with its last reference). */
MGR_API int mgr_object_release(mgr_object *o);
MGR_API uint64_t mgr_object_id(const mgr_object *o);
/* Borrowed; valid while o is. */
MGR_API const char *mgr_object_type(const mgr_object *o);
MGR_API mgr_client *mgr_object_client(const mgr_object *o);
/* A ref value naming o, to store o in a dict or list. Caller owns — free
 * with mgr_value_free(); NULL when out of memory. */
MGR_API mgr_value *mgr_object_ref(const mgr_object *o);

/* ---- counter: a shared int64 ---- */

MGR_API int mgr_counter_open(mgr_client *c, const char *name, mgr_object **out);
MGR_API int mgr_counter_get(mgr_object *o, int64_t *value);
MGR_API int mgr_counter_set(mgr_object *o, int64_t value);
/* Adds delta atomically; *now (may be NULL) gets the new value. */
MGR_API int mgr_counter_add(mgr_object *o, int64_t delta, int64_t *now);
/* Sets desired if the value is expected; *swapped says whether it did. */
MGR_API int mgr_counter_cas(mgr_object *o, int64_t expected, int64_t desired, bool *swapped);
/* Subtracts n only if the value is at least n (an atomic take: tickets,
 * permits); *taken says whether it did. */
MGR_API int mgr_counter_take(mgr_object *o, int64_t n, bool *taken);

/* ---- dict: keys are string, bytes, int or bool values ---- */

MGR_API int mgr_dict_open(mgr_client *c, const char *name, mgr_object **out);
/* key and value consumed even on failure. */
MGR_API int mgr_dict_set(mgr_object *o, mgr_value *key, mgr_value *value);
/* MGR_ENOKEY if absent. key borrowed; *value: caller owns. */
MGR_API int mgr_dict_get(mgr_object *o, const mgr_value *key, mgr_value **value);
/* dflt consumed; returned (as *value) when key is absent. */
MGR_API int mgr_dict_get_default(mgr_object *o, const mgr_value *key, mgr_value *dflt,
				 mgr_value **value);
MGR_API int mgr_dict_del(mgr_object *o, const mgr_value *key);
MGR_API int mgr_dict_contains(mgr_object *o, const mgr_value *key, bool *found);
MGR_API int mgr_dict_len(mgr_object *o, size_t *len);
/* A list of keys / values / [key, value] pairs; caller owns. */
MGR_API int mgr_dict_keys(mgr_object *o, mgr_value **list);
MGR_API int mgr_dict_values(mgr_object *o, mgr_value **list);
MGR_API int mgr_dict_items(mgr_object *o, mgr_value **list);
/* map consumed even on failure. */
MGR_API int mgr_dict_update(mgr_object *o, mgr_value *map);
/* Removes key and hands its value over (caller owns); MGR_ENOKEY if absent. */
MGR_API int mgr_dict_pop(mgr_object *o, const mgr_value *key, mgr_value **value);
/* The value of key, set to dflt (consumed) first if absent; caller owns *value. */
MGR_API int mgr_dict_setdefault(mgr_object *o, const mgr_value *key, mgr_value *dflt,
				mgr_value **value);
MGR_API int mgr_dict_clear(mgr_object *o);
/* The entries as a plain map; caller owns. */
MGR_API int mgr_dict_copy(mgr_object *o, mgr_value **map);
/* Adds delta to the int at key (0 if absent); *now (may be NULL) gets it. */
MGR_API int mgr_dict_incr(mgr_object *o, const mgr_value *key, int64_t delta, int64_t *now);

/* ---- list ---- */

MGR_API int mgr_list_open(mgr_client *c, const char *name, mgr_object **out);
/* value consumed even on failure. */
MGR_API int mgr_list_append(mgr_object *o, mgr_value *value);
/* items (a list value) consumed even on failure. */
MGR_API int mgr_list_extend(mgr_object *o, mgr_value *items);
MGR_API int mgr_list_insert(mgr_object *o, int64_t index, mgr_value *value);
/* Negative indexes count from the end; MGR_EINDEX outside. Caller owns *value. */
MGR_API int mgr_list_get(mgr_object *o, int64_t index, mgr_value **value);
MGR_API int mgr_list_set(mgr_object *o, int64_t index, mgr_value *value);
MGR_API int mgr_list_del(mgr_object *o, int64_t index);
/* Removes and hands over the item at index (-1: the last); caller owns. */
MGR_API int mgr_list_pop(mgr_object *o, int64_t index, mgr_value **value);
/* MGR_EVALUE when no item equals value (borrowed). */
MGR_API int mgr_list_remove(mgr_object *o, const mgr_value *value);
MGR_API int mgr_list_index(mgr_object *o, const mgr_value *value, int64_t *index);
MGR_API int mgr_list_count(mgr_object *o, const mgr_value *value, int64_t *count);
MGR_API int mgr_list_len(mgr_object *o, size_t *len);
/* Items [start, stop) with Python's clamping; caller owns *items. */
MGR_API int mgr_list_slice(mgr_object *o, int64_t start, int64_t stop, mgr_value **items);
MGR_API int mgr_list_reverse(mgr_object *o);
/* Numbers or strings, stable; MGR_ETYPE if the items cannot be ordered. */
MGR_API int mgr_list_sort(mgr_object *o, bool reverse);
MGR_API int mgr_list_clear(mgr_object *o);
MGR_API int mgr_list_copy(mgr_object *o, mgr_value **items);

#ifdef __cplusplus
}
#endif
#endif

#include "mgr/sync.h"
#include "mgr/containers.h"
