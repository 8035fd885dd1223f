/* A raw ring client for tests (see raw-ring.h). */
#include "raw-ring.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/frame.h"
#include "harness.h"

/* The Welcome frame in buf (n bytes) offers a ring of RING_MIN. */
static void raw_ring_check_welcome(const uint8_t *buf, ssize_t n)
{
	struct msg w;
	struct frame_limits lim = {1u << 20, 64, UINT32_MAX, 0};
	char why[160];
	assert_true(n > FRAME_HEADER);
	assert_int_equal(frame_decode(buf + FRAME_HEADER, frame_get_len(buf), &lim, &w, why,
				      sizeof(why)), 0);
	assert_int_equal(w.kind, MSG_WELCOME);
	assert_int_equal(w.u.welcome.ring, RING_MIN);
	msg_clear(&w);
}

void raw_ring_open(const char *path, const char *name, struct raw_ring *rr)
{
	rr->sock = harness_raw_connect(path);
	struct msg hello = {.kind = MSG_HELLO};
	hello.u.hello = (struct msg_hello){MGR_PROTOCOL_VERSION, (int32_t)getpid(), (char *)name,
					   RING_MIN, false};
	harness_raw_send_msg(rr->sock, &hello);
	uint8_t buf[4096];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
			    .msg_controllen = sizeof(ctl.space)};
	raw_ring_check_welcome(buf, recvmsg(rr->sock, &mh, 0));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	int fds[2];
	memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	rr->memfd = fds[0];
	rr->efd = fds[1];
	assert_int_equal(ring_attach(&rr->r, rr->memfd, RING_MIN), 0);
}

void raw_ring_kick(struct raw_ring *rr)
{
	uint64_t one = 1;
	assert_int_equal(write(rr->efd, &one, sizeof(one)), sizeof(one));
}

void raw_ring_send(struct raw_ring *rr, const struct msg *m)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	assert_int_equal(frame_encode(m, &bytes, &len), 0);
	assert_int_equal(ring_write(&rr->r, bytes, len), (long)len);
	free(bytes);
	raw_ring_kick(rr);
}

void raw_ring_close(struct raw_ring *rr)
{
	ring_detach(&rr->r);
	close(rr->memfd);
	close(rr->efd);
	close(rr->sock);
}
