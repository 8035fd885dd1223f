/* Who may open a session, decided once at accept: the peer's credentials
 * as the kernel recorded them at connect() (uid, gid and supplementary
 * groups), the allow lists, and the connection limits with their reserve
 * for mgrd's own uid and root. A refused peer gets one final frame saying
 * why (a Reply with id 0, as for protocol violations) before the close.
 * admit_in_group is the one group check: the policy layer calls it too. */
#ifndef MGRD_ADMIT_H
#define MGRD_ADMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct conn;
struct config;
struct server;

/* A peer as accepted: groups is the kernel's whole list (heap; free with
 * admit_peer_clear), ngroups its length. */
struct admit_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
};

/* Reads fd's peer credentials: SO_PEERCRED, then SO_PEERGROUPS (Linux
 * 4.13+, the groups at connect()); without it /proc/<pid>/status, which is
 * racy (the pid may have exited and been reused by then: a mismatch of
 * uid there fails closed, with no groups). 0, or -1 if the kernel gives no
 * credentials. */
int admit_peer_read(int fd, struct admit_peer *p);
void admit_peer_clear(struct admit_peer *p);

/* Whether g is the primary group or one of the n supplementary groups. */
bool admit_in_group(gid_t g, gid_t primary, const gid_t *groups, int n);
/* The same for a session, from the groups kept on it at accept; a peer with
 * more than CONN_MAX_GROUPS groups has only the first ones kept, so a later
 * check of one past them fails closed. */
bool admit_conn_in_group(const struct conn *c, gid_t g);
/* Keeps p's groups on c (at most CONN_MAX_GROUPS). */
void admit_keep_groups(struct conn *c, const struct admit_peer *p);

/* Fills in the limits left to mgrd (0 in cfg: automatic): the reserve
 * (min(8, max_conns / 4)) and the per-uid limit (max_conns - reserve, or
 * half that when --allow-uid / --allow-gid admit other uids). NULL, or why
 * the given values cannot work together. */
const char *admit_resolve_limits(struct config *cfg);

/* NULL if p may open a session now, else why not (*code: MGR_EPERM or
 * MGR_ELIMIT), in words a client can print. why is ours, valid until the
 * next call. */
const char *admit_check(const struct server *srv, const struct admit_peer *p, int *code);
/* The limits part alone (max-conns, the reserve, per uid), for a peer
 * admitted otherwise (a remote session's key: listen-tcp.c); code
 * MGR_ELIMIT. */
const char *admit_check_limits(const struct server *srv, uid_t uid);

/* Sends one Reply with id 0 carrying code and why (best effort: the peer
 * may be gone), then closes fd. */
void admit_refuse(int fd, int code, const char *why);

#endif
