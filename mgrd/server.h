/* The server: configuration, the listening socket, the set of connections
 * and the registry. One libevent loop thread runs I/O and the built-in
 * types (see docs/threading.md for why). */
#ifndef MGRD_SERVER_H
#define MGRD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/msg.h"
#include "registry.h"

struct event_base;
struct event;
struct conn;
struct monitor;
struct snapshot;

#define CONFIG_MAX_ALLOW 16

struct config {
	char *socket_path;    /* NULL: the default path */
	int ready_fd;         /* -1: none */
	int listen_fd;        /* >= 0: already bound (socket activation) */
	struct frame_limits frame;
	uint32_t max_outbuf;  /* bytes queued to one client before it is cut off */
	uint32_t max_conns, max_conns_per_uid;
	uint32_t max_waiters; /* parked calls on one object */
	uint32_t handshake_ms;
	uid_t allow_uid[CONFIG_MAX_ALLOW];
	gid_t allow_gid[CONFIG_MAX_ALLOW];
	size_t n_allow_uid, n_allow_gid;
	pid_t parent_pid;     /* > 0: exit when this process is gone */
	char *snapshot_path;  /* NULL: no snapshots (snapshot.h) */
	uint32_t snapshot_interval; /* seconds between saves; 0: at stop and on demand */
	bool ignore_bad_snapshot;   /* a bad snapshot is set aside, not fatal */
	bool ignore_sigint;
	bool remove_dir;      /* the socket's directory is ours: rmdir at stop */
	bool no_spin;         /* never poll a socket instead of sleeping */
	uint32_t ring;        /* largest shared-memory ring offered, each way; 0: none */
};

void config_defaults(struct config *cfg);

struct server_stats {
	uint64_t calls, errors, conns_total;
	uint64_t calls_mark;   /* calls when the current second began */
	uint64_t last_second;  /* calls made during the last whole second */
};

struct server {
	struct config cfg;
	struct event_base *base;
	int listen_fd;
	struct event *accept_ev, *accept_retry_ev, *sig_ev[3], *parent_ev, *tick_ev;
	char *socket_path; /* ours to unlink, or NULL */
	struct conn *conns; /* every open connection (doubly linked) */
	struct conn *hot;   /* connections with a ring, the last to make calls first */
	struct conn *awake; /* rings read this loop turn: to sleep before it ends */
	uint32_t n_conns;
	struct conn *ended; /* closed, their sessions not ended yet (session.c) */
	struct event *end_ev; /* ends them, at the start of a loop turn */
	struct registry reg;
	struct object manager; /* object 0 */
	uint8_t instance[16];
	uint64_t next_session;
	time_t started;
	bool stopping;
	struct server_stats stats;
	struct monitor *monitors; /* sessions watching calls (monitor.h); NULL: none */
	struct snapshot *snapshot; /* saves armed (snapshot.c); NULL: none */
};

/* Creates the socket (or adopts cfg->listen_fd) and the loop. The config is
 * copied. On failure logs why and returns non-zero. */
int server_init(struct server *srv, const struct config *cfg);
/* Runs until stopped; 0 on a clean stop. */
int server_run(struct server *srv);
/* Stop accepting, answer what is in flight, then leave the loop. */
void server_stop(struct server *srv);
void server_fini(struct server *srv);

/* Calls answered in the last whole second. */
uint64_t server_calls_per_s(struct server *srv);

struct object *server_object(struct server *srv, uint64_t id);

#endif
