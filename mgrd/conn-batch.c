/* One loop turn's replies in one system call (see conn-batch.h).
 *
 * Ownership: the list holds borrowed connections for one loop turn at most
 * (conn.c takes each off in conn_close, before the struct can go); the
 * ring is the thread's, set up at the first listing and given back when
 * the thread ends (a thread-specific key's destructor). */
#include "conn-batch.h"

#include <stddef.h>

#ifdef MGR_HAVE_URING
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#define CONN_BATCH_MAX 64 /* replies of one turn beyond these are sent one by one */

static __thread struct conn *conn_batch_list[CONN_BATCH_MAX];
static __thread size_t conn_batch_n;
static __thread struct io_uring *conn_batch_ring; /* NULL: not set up yet */
static __thread bool conn_batch_off;               /* io_uring refused: never again */
static pthread_key_t conn_batch_key;
static pthread_once_t conn_batch_once = PTHREAD_ONCE_INIT;
static bool conn_batch_keyed;

static void conn_batch_ring_free(void *ring)
{
	io_uring_queue_exit(ring);
	free(ring);
}

static void conn_batch_key_make(void)
{
	conn_batch_keyed = pthread_key_create(&conn_batch_key, conn_batch_ring_free) == 0;
}

/* The thread's ring, set up once; NULL when io_uring cannot be had. */
static struct io_uring *conn_batch_ring_get(void)
{
	if (conn_batch_ring || conn_batch_off)
		return conn_batch_off ? NULL : conn_batch_ring;
	pthread_once(&conn_batch_once, conn_batch_key_make);
	struct io_uring *r = malloc(sizeof(*r));
	if (!r || !conn_batch_keyed || io_uring_queue_init(CONN_BATCH_MAX, r, 0) < 0) {
		free(r);
		conn_batch_off = true;
		return NULL;
	}
	if (pthread_setspecific(conn_batch_key, r)) {
		conn_batch_ring_free(r);
		conn_batch_off = true;
		return NULL;
	}
	return conn_batch_ring = r;
}

/* Where c is listed, or -1. */
static ptrdiff_t conn_batch_find(const struct conn *c)
{
	for (size_t i = 0; i < conn_batch_n; i++)
		if (conn_batch_list[i] == c)
			return (ptrdiff_t)i;
	return -1;
}

bool conn_batch_add(struct conn *c, int others_ready)
{
	if (conn_batch_find(c) >= 0)
		return true;
	if ((!conn_batch_n && others_ready <= 0) || conn_batch_n == CONN_BATCH_MAX ||
	    !conn_batch_ring_get())
		return false;
	conn_batch_list[conn_batch_n++] = c;
	return true;
}

void conn_batch_forget(struct conn *c)
{
	ptrdiff_t i = conn_batch_find(c);
	if (i >= 0)
		conn_batch_list[i] = conn_batch_list[--conn_batch_n];
}

/* Waits for n completions (all come at once: the sends never wait) and
 * moves each connection's output on by what its socket took. */
static void conn_batch_reap(struct io_uring *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_cqe *cqe;
		int rc;
		while ((rc = io_uring_wait_cqe(r, &cqe)) == -EINTR)
			;
		if (rc < 0) { /* cannot happen with sends submitted; never again */
			conn_batch_off = true;
			return;
		}
		struct conn *c = io_uring_cqe_get_data(cqe);
		if (cqe->res > 0)
			c->out.off += (size_t)cqe->res;
		io_uring_cqe_seen(r, cqe);
	}
}

/* One send per listed connection with output, all in one io_uring_enter.
 * MSG_DONTWAIT: a full socket completes at once with -EAGAIN instead of
 * waiting, and its own flush arms its write event. */
static void conn_batch_submit(struct io_uring *r)
{
	unsigned queued = 0;
	for (size_t i = 0; i < conn_batch_n; i++) {
		struct conn *c = conn_batch_list[i];
		struct io_uring_sqe *sqe;
		if (c->out.len == c->out.off || !(sqe = io_uring_get_sqe(r)))
			continue; /* sent meanwhile (a reply from outside its read) */
		io_uring_prep_send(sqe, c->fd, c->out.p + c->out.off, c->out.len - c->out.off,
				   MSG_NOSIGNAL | MSG_DONTWAIT);
		io_uring_sqe_set_data(sqe, c);
		queued++;
	}
	int sent = queued ? io_uring_submit(r) : 0;
	if (sent < (int)queued) /* some stay queued in the ring: never use it again */
		conn_batch_off = true;
	if (sent > 0)
		conn_batch_reap(r, (unsigned)sent);
}

void conn_batch_prepare(void) { (void)conn_batch_ring_get(); }

void conn_batch_send(struct conn *c)
{
	if (conn_batch_find(c) < 0)
		return;
	if (conn_batch_n > 1 && !conn_batch_off) /* one alone: its own send() is as cheap */
		conn_batch_submit(conn_batch_ring);
	conn_batch_n = 0;
}

#else /* built without liburing: every reply is sent at once */

bool conn_batch_add(struct conn *c, int others_ready)
{
	(void)c;
	(void)others_ready;
	return false;
}

void conn_batch_prepare(void) {}

void conn_batch_forget(struct conn *c) { (void)c; }

void conn_batch_send(struct conn *c) { (void)c; }

#endif
