/* A type is a table: its name, how to create and destroy an instance, and
 * its methods. Built-in and custom types are the same kind of table, so
 * dispatch has no per-type code and introspection reads these rows. */
#ifndef MGRD_TYPE_H
#define MGRD_TYPE_H

#include <stddef.h>
#include <stdint.h>

struct call;
struct conn;
struct object;

typedef int (*method_fn)(struct call *c);

enum method_flags {
	METHOD_READONLY = 1 << 0, /* does not change the object */
	METHOD_BLOCKING = 1 << 1, /* may park the call (takes a timeout) */
};

struct method {
	const char *name;
	method_fn fn;
	int8_t min_args, max_args; /* max -1: any number */
	unsigned flags;
	const char *args; /* e.g. "key, default=None": for introspection */
	const char *doc;
};

struct type {
	const char *name;
	const char *doc;
	/* Builds the state from c->args (the constructor arguments). */
	int (*create)(struct call *c, void **state);
	void (*destroy)(void *state);
	/* Size of the state's contents, for listings (items, entries...). */
	size_t (*length)(const void *state);
	/* A session ended: give back what it held (robust locks...). */
	void (*session_end)(struct object *o, struct conn *conn);
	const struct method *methods;
	size_t nmethods;
	unsigned flags;
};

/* The type registry: built-ins first, then custom types. */
int types_register(const struct type *t);
const struct type *types_find(const char *name);
const struct method *types_method(const struct type *t, const char *name);
size_t types_count(void);
const struct type *types_at(size_t i);
void types_reset(void);

#endif
