/* What every layer may read of an object and of the registry that owns
 * it: data only; the functions are registry.h's. */
#ifndef MGRD_OBJECT_H
#define MGRD_OBJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "idmap.h"
#include "type.h"

struct htab;
struct job;

struct object {
	uint64_t id;
	const struct type *type;
	char *name;   /* NULL: anonymous */
	void *state;  /* the type's; NULL once dead */
	uint32_t refs;
	bool dead;
	int32_t creator_pid;
	uint64_t creator_session;
	time_t created;
	uint64_t calls;
	/* Who may do what (policy.h): the creator's uid and primary gid and
	 * the rwd bits for owner, group, others. owned false: not made by a
	 * call (restored from a snapshot), so mgrd's own uid with
	 * --default-mode. */
	uid_t owner_uid;
	gid_t owner_gid;
	uint16_t mode;
	bool owned;
	/* Set by manager.delete before the state goes: who ended it, for the
	 * sessions that still call it or waited on it (0: mgrd itself). */
	uint64_t deleted_by;
	int32_t deleted_pid;
	bool deleted_forced;
	bool busy;          /* a worker thread runs one of its calls */
	bool freeing;       /* its last reference went: being freed */
	struct job *waiting; /* its next calls, FIFO (pool.c) */
};

struct registry {
	struct idmap by_id;   /* live and dead objects */
	struct idmap holders; /* live objects whose type has session_end */
	struct htab *by_name; /* name (string) -> id (int), live only */
	uint64_t next_id;
	size_t live;
	/* Set by the worker pool: a ref value taken or dropped on a worker
	 * thread is posted to the loop (true) instead of counted here. */
	bool (*post_ref)(uint64_t id, int delta);
	/* Set by the cycle collector (gc.h): a holder let go of o, which
	 * lives on and whose type can hold refs (registry_release). */
	void (*dropped)(struct registry *r, struct object *o);
};

#endif
