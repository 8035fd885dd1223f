/* What every layer may read of a connection (= session): data only; the
 * functions are conn.h's. Polling (conn-poll.c) reads it without calling
 * back into conn.c. */
#ifndef MGRD_CONN_STATE_H
#define MGRD_CONN_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../common/value.h"
#include "idmap.h"

struct server;
struct waiter;
struct object;
struct msg;
struct conn_ring;

/* Supplementary groups kept per session (admit.h, admit_conn_in_group). */
#define CONN_MAX_GROUPS 64

enum conn_state {
	CONN_HELLO,   /* waiting for Hello; nothing else is accepted */
	CONN_READY,   /* serving requests */
	CONN_CLOSING, /* flushing the last replies, reading nothing */
	CONN_DEAD,    /* closed; freed on the next loop turn */
};

struct conn {
	struct conn *next, *prev; /* server's list */
	struct server *srv;
	int fd;
	enum conn_state state;
	unsigned users; /* inside its read callback: replies wait for one flush */
	unsigned pins;  /* calls running on worker threads: keeps the struct */
	bool free_deferred; /* closed while pinned: conn_unpin frees */
	struct event *read_ev, *write_ev, *timer_ev;
	struct conn_ring *ring;  /* shared memory carries the bytes; NULL: the socket */
	struct event *ring_ev;   /* the ring's eventfd */
	void *tls; /* TLS session on fd (tls.h), ended with c; NULL: plain bytes */
	struct conn *hot_next, *hot_prev; /* server's ring conns, last busy first */
	struct conn *awake_next; /* server's rings not asked to wake it (see conn.c) */
	bool hot, awake;
	/* bytes read and not yet handled; replies not yet sent: [off, len) */
	struct conn_buf {
		uint8_t *p;
		size_t off, len, cap;
	} in, out;
	/* Deadlines after Hello (conn.c): when the unfinished frame in `in`
	 * began, when the client last sent anything, when closing began; the
	 * timer is due at timer_due (all ms, monotonic; 0: not armed). */
	int64_t frame_since, active_since, closing_since, timer_due;
	size_t in_charge; /* bytes of `in` counted in srv->partial_bytes */
	bool remote;  /* over TCP (listen-tcp.c): never offered a ring */
	/* sock-poll.c: no ring, and its Hello said it polls its socket; its
	 * socket records no sender's CPU; its last calls came from ours;
	 * sock-poll.c's epoch when it last sent */
	bool polls, sock_cpu_unknown, sock_cpu_same;
	uint32_t sock_epoch;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	/* the peer's supplementary groups at connect() (admit.c): ngroups is
	 * the kernel's count, groups the first CONN_MAX_GROUPS of them */
	gid_t groups[CONN_MAX_GROUPS];
	int ngroups;
	uint64_t session;
	char name[64];
	char addr[72]; /* a TCP session's peer, "tcp:HOST:PORT"; "" on the socket */
	time_t since;
	uint64_t calls;
	struct idmap refs;       /* object id -> (uintptr_t) count */
	struct waiter *parked;   /* this session's parked calls */
	struct conn *ended_next; /* server's sessions to end (session.c) */
	uint32_t n_parked;
};

#endif
