/* libFuzzer target: request dispatch on an in-process server. A fresh
 * struct server (registry, built-in types, an event loop, no listening
 * socket) gets one real connection (conn_new on one end of a socketpair);
 * after a valid Hello the input's frames go through the real read path —
 * conn.c framing, frame_decode, dispatch, every built-in type, parking —
 * and the replies are drained from the other end. Then the connection is
 * closed (its session given back) and the server torn down, so leaks and
 * use-after-free of session state show up under ASan.
 *
 * Input: records of [2-byte little-endian length][payload]; each payload
 * becomes one frame with the right 4-byte header. A length of 0xFFFF sends
 * the rest of the input raw (bad headers, partial frames). */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/frame.h"
#include "../mgrd/conn.h"
#include "../mgrd/log.h"
#include "../mgrd/server.h"
#include "../mgrd/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_MAX_STREAM (1 << 20)

struct fuzz_stream {
	uint8_t *p;
	size_t len, off;
};

static void fuzz_noop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
}

static void fuzz_put(struct fuzz_stream *s, const void *p, size_t n)
{
	if (s->len + n > FUZZ_MAX_STREAM)
		return;
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void fuzz_put_frame(struct fuzz_stream *s, const uint8_t *p, size_t n)
{
	uint8_t hdr[FRAME_HEADER] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				     (uint8_t)n};
	fuzz_put(s, hdr, sizeof(hdr));
	fuzz_put(s, p, n);
}

/* The bytes the client sends: Hello, then the input's frames. */
static void fuzz_build(struct fuzz_stream *s, const uint8_t *data, size_t size)
{
	static const uint8_t hello[] = {0x0a, 0x08, 0x08, 0x01, 0x10, 0x01, 0x1a, 0x02, 'f', 'z'};
	fuzz_put_frame(s, hello, sizeof(hello));
	while (size >= 2) {
		size_t n = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2, size -= 2;
		if (n == 0xFFFF) {
			fuzz_put(s, data, size);
			return;
		}
		if (n > size)
			n = size;
		fuzz_put_frame(s, data, n);
		data += n, size -= n;
	}
}

static void fuzz_drain(int fd)
{
	uint8_t buf[65536];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int fuzz_server(struct server *srv)
{
	struct config cfg;
	config_defaults(&cfg);
	cfg.frame = (struct frame_limits){.max_frame = 1 << 20, .max_depth = 24,
					  .max_items = 4096, .max_pending = 64};
	cfg.max_outbuf = 4u << 20;
	cfg.max_waiters = 64;
	if (server_init_core(srv, &cfg))
		return -1;
	/* server_stop (the manager's shutdown method) expects this timer. */
	srv->accept_retry_ev = evtimer_new(srv->base, fuzz_noop_cb, srv);
	return srv->accept_retry_ev ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[FUZZ_MAX_STREAM];
	struct fuzz_stream s = {.p = buf};
	struct server srv;
	int sv[2];
	fuzz_build(&s, data, size);
	if (fuzz_server(&srv) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		abort();
	/* Inputs of odd length run as a uid that is neither root nor mgrd's
	 * own, so the permission checks (mgrd/policy.c) refuse what modes and
	 * the manager's table say: an object created with {"mode": 0}, the
	 * administrative calls. */
	uid_t uid = size & 1 ? getuid() + 4242 : getuid();
	struct conn *c = conn_new(&srv, sv[0], getpid(), uid, getgid());
	if (!c)
		abort();
	/* Write what the socket takes, run the loop, read the replies; stop
	 * when everything is sent and the loop has settled (or the
	 * connection is gone). Parked calls stay parked: closing cancels them. */
	for (int idle = 0; idle < 4 && srv.conns;) {
		if (s.off < s.len) {
			ssize_t n = send(sv[1], s.p + s.off, s.len - s.off, MSG_NOSIGNAL);
			if (n > 0)
				s.off += (size_t)n;
			else if (errno != EAGAIN)
				s.off = s.len;
		}
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
		fuzz_drain(sv[1]);
		idle = s.off < s.len ? 0 : idle + 1;
	}
	server_fini(&srv); /* closes the conn (giving back its session), frees all */
	close(sv[1]);
	return 0;
}
