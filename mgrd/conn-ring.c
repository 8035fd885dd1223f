/* A connection's shared-memory ring, mgrd's side (see conn-ring.h). */
#include "conn-ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn_ring *conn_ring_new(uint32_t want, uint32_t max, int sock, int *memfd)
{
	if (!want || !max)
		return NULL;
	struct conn_ring *cr = calloc(1, sizeof(*cr));
	if (!cr)
		return NULL;
	uint32_t cap = ring_cap(want < max ? want : max);
	if (cap > max && cap > RING_MIN)
		cap >>= 1; /* rounding up must not pass the limit */
	cr->sock = sock;
	cr->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	*memfd = cr->efd < 0 ? -1 : ring_create(&cr->r, cap);
	if (*memfd < 0) {
		if (cr->efd >= 0)
			close(cr->efd);
		free(cr);
		return NULL;
	}
	return cr;
}

void conn_ring_free(struct conn_ring *cr)
{
	if (!cr)
		return;
	if (cr->r.shm) { /* a client asleep on the ring: wake it to find the socket closed */
		ring_futex_wake(&cr->r.tx->tail);
		ring_futex_wake(&cr->r.rx->head);
	}
	ring_detach(&cr->r);
	close(cr->efd);
	free(cr);
}

int conn_ring_send_fds(int sock, const void *buf, size_t len, int memfd, int efd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.space, .msg_controllen = sizeof(ctl.space)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	int fds[2] = {memfd, efd};
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ssize_t n;
	while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)len ? 0 : -1;
}

/* The client sleeps on a futex, or (fd mode) in poll() on its socket. */
static void conn_ring_wake_client(struct conn_ring *cr)
{
	if (__atomic_load_n(&cr->r.shm->doorbell, __ATOMIC_RELAXED)) {
		char b = 0;
		(void)!send(cr->sock, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT); /* full: it has one */
		return;
	}
	if (ring_peer_wants_data(&cr->r))
		ring_futex_wake(&cr->r.tx->tail);
}

ssize_t conn_ring_recv(struct conn_ring *cr, void *buf, size_t len)
{
	long n = ring_read(&cr->r, buf, len);
	if (n <= 0) {
		errno = n < 0 ? EPROTO : EAGAIN;
		return -1;
	}
	if (ring_peer_wants_room(&cr->r))
		ring_futex_wake(&cr->r.rx->head);
	return n;
}

ssize_t conn_ring_send(struct conn_ring *cr, const void *buf, size_t len)
{
	long n = ring_write(&cr->r, buf, len);
	if (n <= 0) {
		errno = n < 0 ? EPROTO : EAGAIN;
		return -1;
	}
	conn_ring_wake_client(cr);
	return n;
}

bool conn_ring_sleep(struct conn_ring *cr) { return ring_sleep_data(&cr->r); }

bool conn_ring_sleep_room(struct conn_ring *cr) { return ring_sleep_room(&cr->r); }
