/* The client's side of the shared-memory ring (common/ring.h): frames go
 * through memory both processes map; mgrd is woken with its eventfd, we
 * sleep on a futex. The socket stays open only to learn that mgrd is gone:
 * a futex sleep looks at it every CLIENT_RING_SLICE_MS and after every
 * wakeup that brought nothing. */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/spin.h"

#define CLIENT_RING_SLICE_MS 100

int client_ring_open(mgr_client *c, uint32_t cap)
{
	int memfd = c->passed_fds[0], efd = c->passed_fds[1];
	c->passed_fds[0] = c->passed_fds[1] = -1;
	struct client_ring *cr = calloc(1, sizeof(*cr));
	int rc = cr && memfd >= 0 && efd >= 0 ? ring_attach(&cr->r, memfd, cap) : -1;
	if (memfd >= 0)
		close(memfd); /* the mapping keeps the memory */
	if (rc) {
		if (efd >= 0)
			close(efd);
		free(cr);
		c->ring_refused = true;
		return client_fail(MGR_EPROTO, "the manager's ring cannot be mapped");
	}
	cr->efd = efd;
	c->ring = cr;
	return 0;
}

void client_ring_free(struct client_ring *cr, bool mapped)
{
	if (mapped)
		ring_detach(&cr->r);
	client_forget_fd(&cr->efd); /* -1 in a child: the fork handler closed it */
	free(cr);
}

/* Unlinked from c before freed, fds forgotten before closed (client.h). */
void client_ring_close(mgr_client *c)
{
	client_forget_fd(&c->passed_fds[0]);
	client_forget_fd(&c->passed_fds[1]);
	struct client_ring *cr = c->ring;
	if (!cr)
		return;
	c->ring = NULL;
	if (client_forked(c)) /* mapped MADV_DONTFORK: not here, and its range may be reused */
		client_ring_free(cr, false);
	else if (c->reading) { /* the reader is in it: it frees it; wake it */
		cr->orphan = true;
		c->orphan_ring = cr;
		ring_futex_wake(&cr->r.rx->tail);
	} else
		client_ring_free(cr, true);
}

static void client_ring_kick(struct client_ring *cr)
{
	uint64_t one = 1;
	(void)!write(cr->efd, &one, sizeof(one));
}

bool client_ring_alive(int fd)
{
	char b[64];
	ssize_t n;
	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
		;
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

static int client_ring_lost(void)
{
	return client_fail(MGR_EIO, "connection to the manager lost");
}

static int client_ring_broken(void)
{
	return client_fail(MGR_EPROTO, "the manager's ring does not add up");
}

/* Sleeps until *word moves from val, deadline passes or mgrd is gone. */
static int client_ring_sleep(struct client_ring *cr, int fd, uint32_t *word, uint32_t val,
			     int64_t deadline)
{
	int ms = CLIENT_RING_SLICE_MS;
	if (deadline >= 0) {
		int64_t left = deadline - clock_now_ms();
		if (left <= 0)
			return client_fail(MGR_ETIMEDOUT, "no answer from the manager in time");
		if (left < ms)
			ms = (int)left;
	}
	if (__atomic_load_n(&cr->doorbell, __ATOMIC_RELAXED)) { /* fd mode: mgrd rings the socket */
		struct pollfd pfd = {fd, POLLIN, 0};
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == val)
			poll(&pfd, 1, ms);
	} else {
		ring_futex_wait(word, val, ms);
	}
	if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == val && !client_ring_alive(fd))
		return client_ring_lost();
	return 0;
}

int client_ring_send(mgr_client *c, const uint8_t *p, size_t len)
{
	struct client_ring *cr = c->ring;
	/* where we run, for mgrd's choice to poll after answering (spin.h);
	 * none while this thread's judge says polling does not pay */
	ring_publish_cpu(&cr->r, client_spin_judged() ? spin_cpu() : 0);
	__atomic_store_n(&cr->r.woke_peer, false, __ATOMIC_RELAXED);
	while (len > 0) {
		long n = ring_write(&cr->r, p, len);
		if (n < 0)
			return client_ring_broken();
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			if (ring_peer_wants_data(&cr->r))
				client_ring_kick(cr);
			continue;
		}
		uint32_t head = __atomic_load_n(&cr->r.tx->head, __ATOMIC_ACQUIRE);
		int err = ring_sleep_room(&cr->r) ? 0
			: client_ring_sleep(cr, c->fd, &cr->r.tx->head, head, -1);
		if (err)
			return err;
	}
	return 0;
}

/* What is in the ring into rbuf: bytes taken, or -1 (broken). */
static long client_ring_take(mgr_client *c, struct client_ring *cr)
{
	long n = ring_read(&cr->r, c->rbuf + c->rlen, c->rcap - c->rlen);
	if (n > 0) {
		c->rlen += (size_t)n;
		if (ring_peer_wants_room(&cr->r))
			client_ring_kick(cr);
	}
	return n;
}

/* Polling for a reply (spin.h): on as long as mgrd is observed running on
 * another CPU; every CLIENT_RING_LOOK_EVERY looks, that is checked again. */
#define CLIENT_RING_LOOK_EVERY 32

struct client_ring_look {
	struct ring *r;
	uint32_t cpu, n;
};

static int client_ring_check(void *arg)
{
	struct client_ring_look *l = arg;
	if (ring_ready(l->r))
		return SPIN_READY;
	if (++l->n % CLIENT_RING_LOOK_EVERY == 0 &&
	    !ring_peer_elsewhere(l->r, l->cpu = spin_cpu()))
		return SPIN_STOP;
	return SPIN_WAIT;
}

/* Whether polling can pay: mgrd was awake when we sent (we did not have to
 * wake it: a woken mgrd runs wherever the kernel puts it, maybe here) and
 * runs on another CPU than ours. */
static void client_ring_spin(struct client_ring *cr)
{
	struct client_ring_look l = {&cr->r, spin_cpu(), 0};
	if (!__atomic_load_n(&cr->r.woke_peer, __ATOMIC_RELAXED) && ring_peer_elsewhere(&cr->r, l.cpu))
		spin_poll(client_spin_state(), client_ring_check, &l);
}

int client_ring_recv(mgr_client *c, struct client_ring *cr, int fd, int64_t deadline,
		     bool spin)
{
	if (spin)
		client_ring_spin(cr);
	for (;;) {
		long n = client_ring_take(c, cr);
		if (n != 0)
			return n < 0 ? client_ring_broken() : 0;
		uint32_t tail = cr->r.rx_head; /* empty: tail is where we are */
		if (ring_sleep_data(&cr->r))
			continue;
		int err = client_ring_sleep(cr, fd, &cr->r.rx->tail, tail, deadline);
		if (err)
			return err;
	}
}

void client_ring_doorbell(mgr_client *c)
{
	if (c->ring && !c->ring->doorbell) {
		__atomic_store_n(&c->ring->doorbell, true, __ATOMIC_RELAXED);
		__atomic_store_n(&c->ring->r.shm->doorbell, 1, __ATOMIC_SEQ_CST);
	}
}

ssize_t client_recv_fds(mgr_client *c, void *buf, size_t len)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.space, .msg_controllen = sizeof(ctl.space)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (i < 2 && c->passed_fds[i] < 0)
				c->passed_fds[i] = fd;
			else
				close(fd);
		}
	}
	return n;
}
