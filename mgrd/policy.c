/* Permission decisions (see policy.h): the manager's methods in one table,
 * objects by owner, group and mode. Nothing else in mgrd decides who may
 * do what; handlers ask here. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "call.h"
#include "conn.h"
#include "session.h"
#include "state.h"

enum policy_who {
	POLICY_ANYONE, /* any admitted session */
	POLICY_ADMINS, /* policy_admin */
};

/* The manager's methods: who may call each, and the right a method that
 * names another object (through manager_resolve, or the name of open)
 * needs on it. A method missing here is for admins only, so a new
 * administrative row cannot be left open by mistake. */
struct policy_row {
	const char *method;
	enum policy_who who;
	unsigned target; /* enum policy_right; 0: names no object */
	bool ref_ok;	 /* a reference the session holds suffices */
};

static const struct policy_row policy_manager[] = {
	{"create", POLICY_ANYONE, 0, false},
	{"open", POLICY_ANYONE, POLICY_READ, false}, /* an existing object; a new one is the caller's */
	{"lookup", POLICY_ANYONE, POLICY_READ, false},
	{"adopt", POLICY_ANYONE, POLICY_READ, true}, /* a reply handed it one: no new reach */
	{"delete", POLICY_ANYONE, POLICY_DELETE, false},
	{"release", POLICY_ANYONE, 0, false},	       /* the session's own references */
	{"types", POLICY_ANYONE, 0, false},
	{"methods", POLICY_ANYONE, 0, false},
	{"objects", POLICY_ANYONE, 0, false}, /* rows of the objects the caller may read */
	{"info", POLICY_ANYONE, 0, false},
	{"ping", POLICY_ANYONE, 0, false},
	{"clients", POLICY_ANYONE, 0, false}, /* others' sessions to admins only */
	{"stats", POLICY_ANYONE, 0, false},
	{"describe", POLICY_ANYONE, POLICY_READ, false},
	{"repr", POLICY_ANYONE, POLICY_READ, false},
	{"monitor_next", POLICY_ANYONE, 0, false}, /* needs a monitor, which is admins' */
	{"shutdown", POLICY_ADMINS, 0, false},
	{"save", POLICY_ADMINS, 0, false},
	{"monitor", POLICY_ADMINS, 0, false}, /* sees every session's calls */
};

/* The letters of the rights, from the high bit: r, w (call), d. */
static const char policy_letters[] = "rwd";
static const char *const policy_classes[] = {"others", "group", "owner"};

/* mgrd's own uid and gid: fixed for the process's life. */
static uid_t policy_self_uid(void)
{
	static uid_t uid = (uid_t)-1;
	if (uid == (uid_t)-1)
		uid = geteuid();
	return uid;
}

static gid_t policy_self_gid(void)
{
	static gid_t gid = (gid_t)-1;
	if (gid == (gid_t)-1)
		gid = getegid();
	return gid;
}

static const struct policy_row *policy_row_of(const char *method)
{
	for (size_t i = 0; i < sizeof(policy_manager) / sizeof(policy_manager[0]); i++)
		if (!strcmp(policy_manager[i].method, method))
			return &policy_manager[i];
	return NULL;
}

/* Root and mgrd's own uid: every object, every call. */
static bool policy_superuser(const struct conn *conn)
{
	return conn->uid == 0 || conn->uid == policy_self_uid();
}

bool policy_in_group(const struct conn *conn, gid_t gid)
{
	return admit_conn_in_group(conn, gid); /* primary and supplementary groups */
}

bool policy_admin(const struct server *srv, const struct conn *conn)
{
	if (policy_superuser(conn))
		return true;
	for (size_t i = 0; i < srv->cfg.n_admin_uid; i++)
		if (srv->cfg.admin_uid[i] == conn->uid)
			return true;
	for (size_t i = 0; i < srv->cfg.n_admin_gid; i++)
		if (policy_in_group(conn, srv->cfg.admin_gid[i]))
			return true;
	return false;
}

void policy_owner(const struct server *srv, const struct object *o, uid_t *uid, gid_t *gid,
		  uint16_t *mode)
{
	*uid = o->owned ? o->owner_uid : policy_self_uid();
	*gid = o->owned ? o->owner_gid : policy_self_gid();
	*mode = o->owned ? o->mode : srv->cfg.default_mode;
}

/* Which class conn is in for o: 2 owner, 1 group, 0 others (the first
 * that matches, as for files); *mode set to o's. */
static unsigned policy_class(const struct server *srv, const struct conn *conn,
			     const struct object *o, uint16_t *mode)
{
	uid_t uid;
	gid_t gid;
	policy_owner(srv, o, &uid, &gid, mode);
	return conn->uid == uid ? 2 : policy_in_group(conn, gid) ? 1 : 0;
}

bool policy_may(const struct server *srv, const struct conn *conn, const struct object *o,
		unsigned right)
{
	if (!conn || policy_superuser(conn))
		return true;
	uint16_t mode;
	unsigned cls = policy_class(srv, conn, o, &mode);
	return (mode >> (3 * cls) & right) == right;
}

void policy_mode_format(uint16_t mode, char out[POLICY_MODE_LEN])
{
	for (int i = 0; i < 9; i++)
		out[i] = mode & (0400 >> i) ? policy_letters[i % 3] : '-';
	out[9] = '\0';
}

int policy_mode_parse(const char *s, uint16_t *mode)
{
	unsigned m = 0;
	if (strlen(s) == 9 && strspn(s, "rwd-") == 9) {
		for (int i = 0; i < 9; i++)
			if (s[i] == policy_letters[i % 3])
				m |= 0400u >> i;
			else if (s[i] != '-')
				return -1;
	} else {
		char *end;
		if (!*s || *s == '-' || *s == '+' || *s == ' ')
			return -1;
		unsigned long v = strtoul(s, &end, 8);
		if (*end || v > POLICY_MODE_BITS)
			return -1;
		m = (unsigned)v;
	}
	*mode = (uint16_t)m;
	return 0;
}

/* EPERM naming the caller, the operation (op, e.g. "call set on"), the
 * object, the right needed and what the mode gives the caller's class. */
static int policy_refuse(struct call *c, const char *op, const struct object *o, unsigned right)
{
	uint16_t mode;
	uid_t uid;
	gid_t gid;
	unsigned cls = policy_class(c->srv, c->conn, o, &mode);
	policy_owner(c->srv, o, &uid, &gid, &mode);
	char ms[POLICY_MODE_LEN], mine[POLICY_MODE_LEN];
	policy_mode_format(mode, ms);
	policy_mode_format((uint16_t)(mode >> (3 * cls) & 7), mine);
	char need = policy_letters[right == POLICY_READ ? 0 : right == POLICY_CALL ? 1 : 2];
	return call_fail(c, MGR_EPERM,
			 "uid %u may not %s %s #%llu%s%s%s: it needs %c, and mode %s (owner uid "
			 "%u, gid %u) gives %s %s",
			 (unsigned)c->conn->uid, op, o->type->name, (unsigned long long)o->id,
			 o->name ? " '" : "", o->name ? o->name : "", o->name ? "'" : "", need, ms,
			 (unsigned)uid, (unsigned)gid, policy_classes[cls], mine + 6);
}

static __attribute__((noinline)) int policy_check_manager(struct call *c)
{
	const struct policy_row *row = policy_row_of(c->method->name);
	if ((row && row->who == POLICY_ANYONE) || policy_admin(c->srv, c->conn))
		return 0;
	return call_fail(c, MGR_EPERM,
			 "uid %u may not call manager.%s: administrative calls are for root, "
			 "mgrd's own uid (%u) and --admin-uid / --admin-gid",
			 (unsigned)c->conn->uid, c->method->name, (unsigned)policy_self_uid());
}

/* A refused call, out of policy_check's way (its buffer made the hot
 * function set up a stack guard on every call). */
static __attribute__((noinline, cold)) int policy_refuse_call(struct call *c, unsigned right)
{
	char op[96];
	snprintf(op, sizeof(op), "call %s on", c->method->name);
	return policy_refuse(c, op, c->obj, right);
}

int policy_check(struct call *c)
{
	if (!c->conn)
		return 0;
	if (c->obj->id == 0)
		return policy_check_manager(c);
	unsigned right = c->method->flags & METHOD_READONLY ? POLICY_READ : POLICY_CALL;
	return policy_may(c->srv, c->conn, c->obj, right) ? 0 : policy_refuse_call(c, right);
}

int policy_target(struct call *c, const struct object *o)
{
	const struct policy_row *row = c->method ? policy_row_of(c->method->name) : NULL;
	unsigned right = row ? row->target : 0;
	if (!right || !c->conn || policy_may(c->srv, c->conn, o, right) ||
	    (row->ref_ok && session_refs_of(c->conn, o->id)))
		return 0;
	return policy_refuse(c, row->method, o, right);
}

void policy_stamp(const struct call *c, struct object *o)
{
	o->owned = true;
	o->owner_uid = c->conn ? c->conn->uid : policy_self_uid();
	o->owner_gid = c->conn ? c->conn->gid : policy_self_gid();
	o->mode = c->mode & POLICY_MODE_GIVEN ? c->mode & POLICY_MODE_BITS
					      : c->srv->cfg.default_mode;
}
