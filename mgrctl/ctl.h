/* mgrctl's shared pieces: the verb table's row, the run context, and the
 * helpers every verb uses to call the manager and report failures.
 * Exit codes: 0 success, 1 failure, 2 usage. */
#ifndef MGRCTL_CTL_H
#define MGRCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <mgr/mgr.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl {
	const char *socket; /* NULL: MGR_SOCKET, then the default path */
	bool json;
	mgr_client *client; /* connected before a verb runs, if it needs one */
	const struct ctl_verb *verb;
	const char *opt[6]; /* the verb's options' values (NULL: not given) */
	bool flag;          /* the verb's flag was given */
};

struct ctl_verb {
	const char *name;
	const char *args; /* for usage: "OBJ [--limit N]" */
	const char *help;
	const char *opts[6]; /* its "--name VALUE" options, into ctl->opt[] */
	int min_args, max_args; /* positional, after options; -1: any */
	int (*run)(struct ctl *ctl, int argc, char **argv);
	bool offline; /* runs without a manager (help) */
	const char *flag; /* its "--name" flag without a value, into ctl->flag */
};

/* How every verb reports, set once by main before a verb runs. */
struct ctl_out {
	bool json;  /* failures also go to stdout as {"error": {...}} */
	bool color; /* stdout is a terminal and NO_COLOR is unset */
	bool color_err; /* the same for stderr */
	int64_t timeout_ms; /* --timeout: how long a blocking call waits (MGR_FOREVER: as long as it takes) */
};
extern struct ctl_out ctl_out;

/* Prints "mgrctl: ..." to stderr (and with --json an error object to
 * stdout: {"error": {"message", "code", "exit"}}); returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with the mgr_err code named in the JSON object (0: none). */
int ctl_fail_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the verb's usage line (and why) to stderr; returns CTL_USAGE. */
int ctl_usage(const struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes "--name VALUE" or "--name=VALUE" out of argv. 1 found, 0 absent,
 * -1 without a value. */
int ctl_option(int *argc, char **argv, const char *name, const char **value);
/* Takes every exact flag (before "--") out of argv; whether there was one. */
bool ctl_flag(int *argc, char **argv, const char *flag);
/* A non-negative integer option value; -1 if it is not one. */
long ctl_parse_count(const char *s);

/* manager.method(args): args consumed; *result caller owns (may be NULL).
 * On failure prints "mgrctl: METHOD: message" and returns CTL_FAIL. */
int ctl_manager(struct ctl *ctl, const char *method, mgr_value **args, size_t nargs,
		mgr_value **result);
/* manager.method(args) printed: as JSON with --json, else by print. */
int ctl_view(struct ctl *ctl, const char *method, mgr_value **args, size_t nargs,
	     void (*print)(const mgr_value *v));
/* The same for any object. */
int ctl_call(mgr_object *o, const char *method, mgr_value **args, size_t nargs,
	     mgr_value **result);
/* OBJ as the manager takes it: "#12" is the id 12, anything else a name.
 * NULL (after printing why) when "#..." is not a number. */
mgr_value *ctl_target(const char *obj);
/* A handle for OBJ (the manager for "#0"). CTL_FAIL after printing why. */
int ctl_object(struct ctl *ctl, const char *obj, mgr_object **out);
void ctl_object_done(struct ctl *ctl, mgr_object *o);

/* Parses argv[0..argc) as JSON values into out[] (caller owns each).
 * CTL_USAGE after printing which one is not JSON (and none kept). */
int ctl_json_args(const struct ctl *ctl, int argc, char **argv, mgr_value **out);

/* The ANSI sequence for a role ("bold", "red", "dim", "reset") when
 * colour is on for the stream (stdout, else stderr); "" when off. */
const char *ctl_color(bool to_stdout, const char *role);

/* Prints v as one JSON document (--json output); CTL_OK or CTL_FAIL. */
int ctl_print_json(const mgr_value *v);
/* A map's value by string key (borrowed), or NULL. */
const mgr_value *ctl_get(const mgr_value *map, const char *key);
int64_t ctl_get_int(const mgr_value *map, const char *key);

#endif
