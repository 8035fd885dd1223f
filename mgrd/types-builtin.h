/* The built-in types' tables, and their registration at server start. */
#ifndef MGRD_TYPES_BUILTIN_H
#define MGRD_TYPES_BUILTIN_H

#include "type.h"

extern const struct type type_manager; /* object 0: create, open, ... */
extern const struct type type_counter;
extern const struct type type_dict;
extern const struct type type_list;
extern const struct type type_lock;
extern const struct type type_rlock;
extern const struct type type_semaphore;
extern const struct type type_bounded_semaphore;
extern const struct type type_event;
extern const struct type type_condition;
extern const struct type type_barrier;
extern const struct type type_queue;
extern const struct type type_joinable_queue;
extern const struct type type_namespace;
extern const struct type type_iterator; /* internal: made by dict.iter, list.iter */
extern const struct type type_pipe;     /* one end; the other: its peer method */

/* Registers every built-in type once; 0 or an mgr_err. */
int types_builtin_register(void);

#endif
