/* Admission at accept (see admit.h): the peer's credentials and groups,
 * the allow lists, the connection limits and their reserve, and the final
 * frame that tells a refused client why. */
#include "admit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/frame.h"
#include "mgr/error.h"
#include "conn.h"
#include "state.h"

#define ADMIT_RESERVE_MAX 8

/* ---- the peer ---- */

/* SO_PEERGROUPS: the kernel says how many bytes it needs (ERANGE). */
static int admit_groups_sockopt(int fd, struct admit_peer *p)
{
	socklen_t len = 64 * sizeof(gid_t);
	for (int tries = 0; tries < 3; tries++) {
		gid_t *g = malloc(len ? len : sizeof(gid_t));
		if (!g)
			return -1;
		socklen_t got = len;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &got) == 0) {
			p->groups = g;
			p->ngroups = (int)(got / sizeof(gid_t));
			return 0;
		}
		free(g);
		if (errno != ERANGE)
			return -1;
		len = got;
	}
	return -1;
}

/* /proc/<pid>/status "Groups:" — only when SO_PEERGROUPS is missing. The
 * pid may have been reused since connect(): the Uid line must still be the
 * peer's, else no groups (fail closed). */
static void admit_groups_proc(struct admit_peer *p)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
	FILE *f = fopen(path, "re");
	bool uid_ok = false;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned ruid;
		if (sscanf(line, "Uid:\t%*u\t%u", &ruid) == 1) /* the effective uid */
			uid_ok = ruid == p->uid;
		if (strncmp(line, "Groups:", 7) || !uid_ok)
			continue;
		p->groups = calloc(sizeof(line) / 2, sizeof(gid_t));
		for (char *s = line + 7, *end; p->groups && *s; s = end) {
			unsigned long g = strtoul(s, &end, 10);
			if (end == s)
				break;
			p->groups[p->ngroups++] = (gid_t)g;
		}
	}
	if (f)
		fclose(f);
}

int admit_peer_read(int fd, struct admit_peer *p)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	*p = (struct admit_peer){0};
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -1;
	*p = (struct admit_peer){.pid = cr.pid, .uid = cr.uid, .gid = cr.gid};
	if (admit_groups_sockopt(fd, p))
		admit_groups_proc(p);
	return 0;
}

void admit_peer_clear(struct admit_peer *p)
{
	free(p->groups);
	p->groups = NULL;
	p->ngroups = 0;
}

/* ---- groups ---- */

bool admit_in_group(gid_t g, gid_t primary, const gid_t *groups, int n)
{
	if (g == primary)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

bool admit_conn_in_group(const struct conn *c, gid_t g)
{
	int kept = c->ngroups < CONN_MAX_GROUPS ? c->ngroups : CONN_MAX_GROUPS;
	return admit_in_group(g, c->gid, c->groups, kept);
}

void admit_keep_groups(struct conn *c, const struct admit_peer *p)
{
	int kept = p->ngroups < CONN_MAX_GROUPS ? p->ngroups : CONN_MAX_GROUPS;
	memcpy(c->groups, p->groups, (size_t)kept * sizeof(gid_t));
	c->ngroups = p->ngroups;
}

/* ---- limits ---- */

const char *admit_resolve_limits(struct config *cfg)
{
	bool others = cfg->n_allow_uid || cfg->n_allow_gid;
	if (!cfg->reserved_conns) {
		cfg->reserved_conns = cfg->max_conns / 4;
		if (cfg->reserved_conns > ADMIT_RESERVE_MAX)
			cfg->reserved_conns = ADMIT_RESERVE_MAX;
	} else if (cfg->reserved_conns >= cfg->max_conns) {
		return "--reserved-conns must be less than --max-conns";
	}
	if (!cfg->max_conns_per_uid) {
		uint32_t shared = cfg->max_conns - cfg->reserved_conns;
		cfg->max_conns_per_uid = others && shared > 1 ? shared / 2 : shared;
	}
	return NULL;
}

static bool admit_privileged(uid_t uid) { return uid == 0 || uid == geteuid(); }

static bool admit_allowed(const struct config *cfg, const struct admit_peer *p)
{
	if (admit_privileged(p->uid))
		return true;
	for (size_t i = 0; i < cfg->n_allow_uid; i++)
		if (cfg->allow_uid[i] == p->uid)
			return true;
	for (size_t i = 0; i < cfg->n_allow_gid; i++)
		if (admit_in_group(cfg->allow_gid[i], p->gid, p->groups, p->ngroups))
			return true;
	return false;
}

static uint32_t admit_conns_of(const struct server *srv, uid_t uid)
{
	uint32_t n = 0;
	for (const struct conn *c = srv->conns; c; c = c->next)
		n += c->uid == uid;
	return n;
}

const char *admit_check(const struct server *srv, const struct admit_peer *p, int *code)
{
	static char why[200];
	const struct config *cfg = &srv->cfg;
	*code = MGR_EPERM;
	if (!admit_allowed(cfg, p))
		return snprintf(why, sizeof(why), "uid %u is not allowed: not mgrd's uid or root, "
			 "nor in --allow-uid / --allow-gid", (unsigned)p->uid), why;
	*code = MGR_ELIMIT;
	return admit_check_limits(srv, p->uid);
}

const char *admit_check_limits(const struct server *srv, uid_t uid)
{
	static char why[200];
	const struct config *cfg = &srv->cfg;
	if (srv->n_conns >= cfg->max_conns)
		return snprintf(why, sizeof(why), "connection limit reached (--max-conns %u)",
				cfg->max_conns), why;
	if (!admit_privileged(uid) && srv->n_conns >= cfg->max_conns - cfg->reserved_conns)
		return snprintf(why, sizeof(why), "connection limit reached: the last %u of "
			 "--max-conns %u are reserved for mgrd's uid and root (--reserved-conns)",
			 cfg->reserved_conns, cfg->max_conns), why;
	if (admit_conns_of(srv, uid) >= cfg->max_conns_per_uid)
		return snprintf(why, sizeof(why), "per-uid connection limit reached for uid %u "
			 "(--max-conns-per-uid %u)", (unsigned)uid, cfg->max_conns_per_uid), why;
	return NULL;
}

/* ---- refusing ---- */

void admit_refuse(int fd, int code, const char *why)
{
	struct msg m = {.kind = MSG_REPLY};
	m.u.reply = (struct msg_reply){.id = 0, .code = (uint32_t)code, .message = (char *)why};
	uint8_t *buf;
	size_t len;
	if (frame_encode(&m, &buf, &len) == 0) {
		/* a new socket's buffer takes a short frame whole; if not, the
		 * peer learns only of the close */
		(void)!send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(buf);
	}
	close(fd);
}
