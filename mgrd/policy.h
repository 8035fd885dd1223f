/* Who may do what: every permission decision of mgrd, in one place and in
 * tables (docs/security.md, "Permissions"). An object has an owner uid, a
 * group (its creator's primary gid) and a mode like a file's: three
 * classes (owner, group, others) of three rights each, read (r: readonly
 * methods, open, lookup, describe), call (w: every other method) and
 * delete (d: manager.delete), written in octal (0750: owner rwd, group
 * r-d) or as a string ("rwdr-d---"). Root and mgrd's own uid pass every
 * object check (they can read mgrd's memory anyway); the manager's
 * administrative calls (shutdown, save, monitor) belong to them and to
 * --admin-uid / --admin-gid. Checks run at dispatch time against the
 * calling session, so holding a ref grants nothing by itself. */
#ifndef MGRD_POLICY_H
#define MGRD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct call;
struct conn;
struct object;
struct server;

enum policy_right {
	POLICY_DELETE = 1, /* d */
	POLICY_CALL = 2,   /* w: a method that is not METHOD_READONLY */
	POLICY_READ = 4,   /* r */
};

#define POLICY_MODE_BITS 0777
/* struct call's mode for call_create: this bit set means "the bits below
 * were asked for"; 0 means --default-mode. */
#define POLICY_MODE_GIVEN 01000
#define POLICY_MODE_LEN 10 /* "rwdr-d---" and its NUL */

/* Before a method runs (dispatch.c): may c->conn run c->method on c->obj?
 * The manager's own methods by its table, any other object by its mode.
 * 0, or MGR_EPERM with a message on c naming the object, the operation and
 * the mode. Calls made by mgrd itself (no conn) always may. */
int policy_check(struct call *c);
/* A manager call that names another object (open, and every method that
 * resolves one with manager_resolve: lookup, adopt, describe, delete...):
 * the right its table row asks on o. 0 or MGR_EPERM. */
int policy_target(struct call *c, const struct object *o);
/* Whether conn may use right on o (no message). */
bool policy_may(const struct server *srv, const struct conn *conn, const struct object *o,
		unsigned right);
/* Whether conn may make administrative calls. */
bool policy_admin(const struct server *srv, const struct conn *conn);
/* Whether conn's process is in group gid, primary or supplementary (the
 * groups read at admission: admit.h). */
bool policy_in_group(const struct conn *conn, gid_t gid);

/* Stamps a new object made by c: owner and group from c's session (mgrd's
 * own for internal calls), mode from c->mode or --default-mode. */
void policy_stamp(const struct call *c, struct object *o);
/* The owner, group and mode o is checked with (an object restored from a
 * snapshot has mgrd's uid and gid and --default-mode). */
void policy_owner(const struct server *srv, const struct object *o, uid_t *uid, gid_t *gid,
		  uint16_t *mode);
/* "0750" (octal, at most 0777) or "rwdr-d---" (r, w, d or '-' in each
 * place): 0, or -1 if it is neither. */
int policy_mode_parse(const char *s, uint16_t *mode);
/* mode as "rwdr-d---" into out. */
void policy_mode_format(uint16_t mode, char out[POLICY_MODE_LEN]);

#endif
