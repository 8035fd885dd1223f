/* The inside of a client: one connection, multiplexed between threads.
 * Calls write their request under the lock; one thread at a time reads
 * (the reader) and hands each reply to the thread waiting for its id. */
#ifndef LIBMGR_CLIENT_H
#define LIBMGR_CLIENT_H

#include <pthread.h>
#include <sys/types.h>

#include "../common/msg.h"
#include "../common/ring.h"
#include "mgr/mgr.h"

struct spin;

/* A call waiting for its reply: linked in its client's pending list (oldest
 * first, under c->mu) from client_submit until done or given up. Whoever
 * makes it done (the reader with its reply, a disconnect with an error)
 * unlinks it, fills reply or err, and stores done last (release): a
 * waiter that loads done true (acquire) owns p again and may take the
 * result without the lock (client_take). A waiter that gives up first
 * (timeout, mgr_future_free) unlinks it under the lock (client_forget). */
struct pending {
	struct pending *prev, *next;
	uint64_t id, gen; /* gen: the fork generation it was sent in */
	bool done;
	struct msg reply; /* MSG_REPLY once done */
	int err;          /* local failure (EIO, ETIMEDOUT) */
};

struct mgr_object {
	mgr_client *client;
	uint64_t id;
	uint8_t instance[16]; /* the manager instance the id belongs to */
	char *type;
};

/* Fork contract (client.c, "fork()"): at every instant, each fd field
 * below (fd, orphan_fd, passed_fds, ring->efd, orphan_ring->efd) is -1 or
 * an fd this client opened and has not closed — stored as soon as made,
 * set to -1 before close() — and each heap pointer (rbuf, wbuf, ring,
 * orphan_ring) names a live block — replaced before freed, unlinked before
 * freed. A fork in the middle of any call therefore leaves the child
 * exactly what to close and free, without the lock. */
struct mgr_client {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	mgr_client *next_client; /* all clients (client_list), for fork() */
	char path[108];
	char name[64];
	uid_t server_uid; /* also trusted as the manager's uid; (uid_t)-1: none */
	int fd;        /* -1: not connected */
	uint64_t gen;  /* fork generation the state belongs to (else: the child's
			* first call adopts what the fork handler left) */
	uint64_t next_id, session;
	uint8_t instance[16];
	struct frame_limits limits;
	bool reading;  /* a thread is the reader */
	unsigned waiters; /* threads waiting on cv (client_cv_wait): none, no broadcast */
	bool peer_spins; /* the last reply's hint: the manager polls for us */
	bool local;      /* a socket to this host: a UNIX socket, or TCP
			  * (plain or TLS) to a loopback address (client-tcp.c).
			  * The Hello says we poll (polls): without a ring,
			  * the manager polls its sockets for us, and hints */
	/* calls sent, oldest first: a reply matches at the head unless an
	 * earlier call is parked or on a worker (proto/README.md: replies
	 * to non-blocking built-in calls come back in order) */
	struct pending *pending, *pending_tail;
	uint8_t *rbuf; /* bytes read, not yet a whole frame */
	size_t rlen, rcap;
	uint8_t *wbuf; /* requests queued, not yet sent (pipelining) */
	size_t wlen, wcap;
	uint32_t timeout_ms;
	mgr_object manager;
	struct client_ring *ring; /* NULL: the socket carries the frames */
	int passed_fds[2];   /* fds that came with the Welcome, until used */
	int orphan_fd;       /* disconnected under the reader: it closes it */
	struct client_ring *orphan_ring; /* the same for the ring: it frees it */
	bool ring_refused;   /* the Welcome's ring could not be mapped */
	/* TLS over TCP (client-tcp.c): the gnutls session and its credentials;
	 * NULL: none. Sends go through it under the lock, the reader receives
	 * without it (GnuTLS allows one sender and one receiver at once). A
	 * disconnect under the reader leaves them in orphan_tls for it to free;
	 * a forked child forgets them (never freed there: another thread may
	 * have been inside GnuTLS at the fork). */
	void *tls, *tls_cred;
	void *orphan_tls, *orphan_tls_cred;
	/* In a fork's child: the parent's TLS sessions and credentials, never
	 * freed (as above) but still pointed to, so that a leak checker at the
	 * child's exit() sees memory the child chose to keep, not lost (one
	 * fork's worth: a grandchild keeps its parent's). */
	void *forked_tls[4];
	struct auth_key *key; /* TCP: the key given to connect (wiped when freed);
			       * NULL: from the environment at each connect */
};

/* The shared-memory ring (common/ring.h), once the Welcome brought one.
 * On the heap: the reader uses it without the lock, so a disconnect while
 * it reads leaves it to the reader to free (orphan). */
struct client_ring {
	struct ring r;
	int efd;       /* mgrd's eventfd: written to wake it */
	bool doorbell; /* fd mode: mgrd rings the socket instead of a futex */
	bool orphan;   /* disconnected while the reader had it */
};

/* The two halves of a call, for the async face. With the lock held:
 * submit sets p up and queues the request (sent at the next flush or
 * wait); finish waits for p's reply (or gives up) and turns it into a
 * result. Without the lock: take turns a done p (done loaded with
 * acquire) into a result. Forget (lock held): p's waiter stops waiting;
 * p is unlinked if it still waits, in this process. */
int client_submit(mgr_client *c, const mgr_object *o, struct msg_request *req,
		  struct pending *p);
int client_finish(mgr_client *c, struct pending *p, uint32_t timeout_ms, mgr_value **result);
int client_take(struct pending *p, mgr_value **result);
void client_forget(mgr_client *c, struct pending *p);
/* Frees what p's reply owns, if one came: p is spent (take calls it). */
void client_spend(struct pending *p);

/* A request by name: what an encoder reads is set (its buffers are not);
 * id, object and thread are client_submit's. A negative timeout other than
 * MGR_FOREVER is sent as it is: mgrd says EARGS. */
static inline void client_request_init(struct msg_request *req, const char *method,
				       mgr_value *const *args, size_t nargs, int64_t timeout_ms)
{
	req->method = (char *)method;
	req->args = (mgr_value **)args;
	req->nargs = nargs;
	req->batch = NULL;
	req->nbatch = 0;
	req->id = req->object = req->thread = 0;
	msg_set_timeout(req, timeout_ms);
}
int client_flush(mgr_client *c);
/* Reads what is available without blocking and delivers it. */
int client_poll_once(mgr_client *c);

/* The ring (client-ring.c). Open: from the fds the Welcome brought.
 * Close: on disconnect (the reader frees it later if it has it now); free:
 * the reader's part. Send: all of p, waiting for room (with the lock).
 * Recv: some bytes into rbuf (room made), waiting until deadline (-1:
 * none), polling a moment first if spin (the reader, without the lock).
 * Alive: mgrd's end of the socket fd is still open (doorbells drained). */
int client_ring_open(mgr_client *c, uint32_t cap);
void client_ring_close(mgr_client *c);
void client_ring_free(struct client_ring *cr, bool mapped);
/* c's state is from before a fork(): in a child, nothing of it is ours
 * (its ring is not even mapped here; the fork handler closed its fds). */
bool client_forked(const mgr_client *c);
/* Sets *fd to -1, then closes what it was (if anything): the fork contract's
 * order, so that a fork in between leaves no closed number named. */
void client_forget_fd(int *fd);
int client_ring_send(mgr_client *c, const uint8_t *p, size_t len);
int client_ring_recv(mgr_client *c, struct client_ring *cr, int fd, int64_t deadline,
		     bool spin);
bool client_ring_alive(int fd);
/* Fd mode: mgrd makes the socket readable when answers come. */
void client_ring_doorbell(mgr_client *c);
/* recv() that keeps fds passed along (SCM_RIGHTS) in c->passed_fds. */
ssize_t client_recv_fds(mgr_client *c, void *buf, size_t len);
/* The spin for this thread (client.c), and whether to use it now. */
struct spin *client_spin_state(void);
/* Whether this thread's waits may poll now (the payoff judge's side): what
 * a sender publishes as its CPU, or 0 ("do not poll for me"). */
bool client_spin_judged(void);

/* TCP addresses (client-tcp.c): connects c->path ("tcp:HOST:PORT"),
 * TLS if asked for, and proves the key (sets c->fd, c->tls); error set.
 * Then TLS I/O: recv waits up to wait_ms (-1: blocks) unless bytes are
 * buffered; send writes all of p (-1 on failure). */
int client_tcp_open(mgr_client *c);
/* The key of opts (a copy in c->key); error set. Free: wipes and frees. */
int client_tcp_key_keep(mgr_client *c, const void *key, size_t len);
void client_tcp_key_free(mgr_client *c);
/* spin: poll the socket with it a moment first (NULL: do not). */
ssize_t client_tls_recv(mgr_client *c, void *tls, int fd, void *buf, size_t len, int wait_ms,
			struct spin *spin);
int client_tls_send(void *tls, const uint8_t *p, size_t len);
void client_tls_free(void *tls, void *cred);
/* Whether c's TLS session holds input that poll() on c->fd would not show. */
bool client_tls_pending(const mgr_client *c);

/* This thread's last error message. */
void client_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Empties this thread's message (a call starting): no formatting. */
void client_clear_error(void);
int client_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Typed calls: fmt has one letter per argument: i int64_t, b bool (int),
 * s const char *, v mgr_value * consumed, V const mgr_value * borrowed. */
int client_callf(mgr_object *o, const char *method, mgr_value **result, const char *fmt, ...);
/* client_callf(o, method, result, "i", i) without the format's walk: the
 * counter's calls. */
int client_call_int(mgr_object *o, const char *method, mgr_value **result, int64_t i);
/* The same for a blocking method: the manager waits at most timeout_ms
 * (0: not at all; MGR_FOREVER: no limit) before answering. */
int client_callf_timeout(mgr_object *o, const char *method, int64_t timeout_ms,
			 mgr_value **result, const char *fmt, ...);
/* Checks the kind of *res (read after err is computed, hence a pointer):
 * MGR_EPROTO (and frees it) if wrong; hands it to *out or frees it. */
int client_want(int err, mgr_value **res, mgr_kind kind, mgr_value **out);
int client_want_int(int err, mgr_value **res, int64_t *out);
int client_want_bool(int err, mgr_value **res, bool *out);
/* A method without arguments whose result is an int / a bool. */
int client_get_int(mgr_object *o, const char *method, int64_t *out);
int client_get_bool(mgr_object *o, const char *method, bool *out);
/* "len" as a size_t. */
int client_get_len(mgr_object *o, size_t *len);

#endif
