/* The server's state as every layer reads it: configuration, the event
 * loop, the connections, the registry and the hooks by which lower layers
 * reach upper ones without calling up (set by server.c). Data only; one
 * libevent loop thread runs I/O and the built-in types (docs/design.md). */
#ifndef MGRD_STATE_H
#define MGRD_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/msg.h"
#include "object.h"

struct event_base;
struct event;
struct conn;
struct monitor;
struct snapshot;
struct server;
struct call;
struct msg_request;

/* How a lower layer reaches an upper one without calling up: server.c
 * sets these once (server_init_core); the lower layer calls through them
 * and knows nothing of what is behind. */
#define SERVER_END_HOOKS 2
#define OBSERVE_START (-3) /* observe's code before a call runs */
struct server_hooks {
	/* transport -> dispatch: a request frame arrived on conn */
	void (*request)(struct server *srv, struct conn *conn, struct msg_request *req);
	/* sessions -> parked calls, monitors: a session ended (in order) */
	void (*session_end[SERVER_END_HOOKS])(struct conn *conn);
	/* dispatch -> monitor: a call was answered (only while monitors exist);
	 * also once with code OBSERVE_START before it runs (its arguments are
	 * still all there: a method may take them) */
	void (*observe)(struct server *srv, const struct call *c, const struct msg_request *req,
			int code, uint64_t ns);
	/* services -> main: stop the server (the manager's shutdown) */
	void (*stop)(struct server *srv);
};

#define CONFIG_MAX_ALLOW 16
#define CONFIG_MAX_LISTEN 8
#define CONFIG_MAX_KEYS 16

/* TCP listeners and who may use them (listen-tcp.h, auth.h, tls.h). */
struct config_remote {
	const char *listen[CONFIG_MAX_LISTEN]; /* "tcp:HOST:PORT" */
	size_t n_listen;
	const char *key_name[CONFIG_MAX_KEYS], *key_file[CONFIG_MAX_KEYS];
	size_t n_keys;
	/* The key given in memory (--auth-key-fd, or a program's private manager:
	 * server_key_from_fd), for the key whose key_file is NULL; wiped and
	 * freed after the server (server_key_free). */
	const void *key_bytes;
	size_t key_bytes_len;
	const char *uid_key[CONFIG_MAX_KEYS]; /* --remote-uid NAME=UID: a session with */
	uid_t uid_of[CONFIG_MAX_KEYS];        /* key NAME acts as UID (default 65534) */
	size_t n_uids;
	uint32_t timeout_ms;  /* a silent peer's connection ends within this */
	const char *tls_cert, *tls_key, *tls_ca; /* tls_cert: TLS on every TCP listener */
};

struct config {
	char *socket_path;    /* NULL: the default path */
	int ready_fd;         /* -1: none */
	int listen_fd;        /* >= 0: already bound (socket activation) */
	struct frame_limits frame;
	uint32_t max_outbuf;  /* bytes queued to one client before it is cut off */
	uint32_t max_conns, max_conns_per_uid; /* per uid 0: automatic (admit.h) */
	uint32_t reserved_conns; /* kept for mgrd's uid and root; 0: automatic */
	mode_t socket_mode;   /* the socket's permission bits (0600) */
	gid_t socket_group;   /* the socket's and directory's group; (gid_t)-1: ours */
	uint32_t max_waiters; /* parked calls on one object */
	uint32_t handshake_ms;
	uint32_t max_partial; /* bytes of unfinished frames, all connections together */
	uint32_t frame_ms;    /* a frame begun must be whole within this */
	uint32_t idle_ms;     /* 0: a quiet session stays as long as it likes */
	uid_t allow_uid[CONFIG_MAX_ALLOW];
	gid_t allow_gid[CONFIG_MAX_ALLOW];
	size_t n_allow_uid, n_allow_gid;
	/* Administrative calls (policy.c): mgrd's own uid, root, and these. */
	uid_t admin_uid[CONFIG_MAX_ALLOW];
	gid_t admin_gid[CONFIG_MAX_ALLOW];
	size_t n_admin_uid, n_admin_gid;
	uint16_t default_mode; /* a new object's rwd bits unless its creator gives some */
	pid_t parent_pid;     /* > 0: exit when this process is gone */
	char *snapshot_path;  /* NULL: no snapshots (snapshot.h) */
	uint32_t snapshot_interval; /* seconds between saves; 0: at stop and on demand */
	bool ignore_bad_snapshot;   /* a bad snapshot is set aside, not fatal */
	bool ignore_sigint;
	bool remove_dir;      /* the socket's directory is ours: rmdir at stop */
	uint32_t stop_timeout_ms; /* a stop ends within this, running calls or not (server_stop) */
	bool no_spin;         /* never poll a socket instead of sleeping */
	uint32_t slice_us;    /* the loop thread's scheduler slice (spin.h); 0: the kernel's */
	uint32_t ring;        /* largest shared-memory ring offered, each way; 0: none */
	struct config_remote remote;
};

struct server_stats {
	uint64_t calls, errors, conns_total;
	uint64_t calls_mark;   /* calls when the current second began */
	uint64_t last_second;  /* calls made during the last whole second */
};

struct server {
	struct config cfg;
	struct server_hooks hooks;
	struct event_base *base;
	int listen_fd;
	struct event *accept_ev, *accept_retry_ev, *sig_ev[3], *parent_ev, *tick_ev;
	char *socket_path; /* ours to unlink, or NULL */
	struct conn *conns; /* every open connection (doubly linked) */
	struct conn *hot;   /* connections with a ring, the last to make calls first */
	/* dispatch.c: the method the last call found and its stats row (one
	 * compare finds it again; types live as long as the server) */
	struct dispatch_cache {
		const struct type *type;
		const struct method *method;
		struct method_stats *stats;
	} last_method;
	struct conn *awake; /* rings read this loop turn: to sleep before it ends */
	uint32_t n_conns;
	uint64_t partial_bytes; /* of unfinished frames, counted against max_partial (conn.c) */
	struct conn *ended; /* closed, their sessions not ended yet (session.c) */
	struct event *end_ev; /* ends them, at the start of a loop turn */
	struct registry reg;
	struct object manager; /* object 0 */
	uint8_t instance[16];
	uint64_t next_session;
	time_t started;
	bool stopping;
	uint64_t stop_deadline_ns; /* clock_now_ns() when the stop must be over; 0: not stopping */
	struct server_stats stats;
	struct monitor *monitors; /* sessions watching calls (monitor.h); NULL: none */
	struct snapshot *snapshot; /* saves armed (snapshot.c); NULL: none */
	struct tcp *tcp; /* TCP listeners and handshakes (listen-tcp.c); NULL: none */
	/* sessions that poll their socket (sock-poll.c): reads that made
	 * calls (loop.c polls after them); the polls' catches (info) */
	uint64_t sock_reads;
	uint64_t sock_caught;
};

#endif
