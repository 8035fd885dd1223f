/* peer-pingpong.c: the floor under any RPC over a UNIX socket. A forked
 * single-threaded poll() server answers length-prefixed requests of 48 bytes
 * with 16-byte replies (the sizes of a small mgr call), and clients drive it
 * synchronously or with a window of requests in flight. No parsing, no
 * objects: what is left is syscalls, wakeups and context switches. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "stats.h"

#define PP_REQ_LEN 48 /* 4-byte big-endian length + 44-byte body */
#define PP_REP_LEN 16 /* 4-byte big-endian length + seq + count */
#define PP_MAX_CONN 64
#define PP_MAX_INFLIGHT 64
#define PP_BUF 4096

/* One server connection: bytes read and not yet answered. */
struct pp_conn {
	int fd;
	size_t len;
	unsigned char buf[PP_BUF];
	uint32_t count; /* requests answered */
};

static void pp_put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static uint32_t pp_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int pp_write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Answer every whole request in c->buf with one write; -1 drops c. A reply
 * echoes the request's seq (bytes 4-11) and adds the connection's count. */
static int pp_conn_serve(struct pp_conn *c)
{
	unsigned char out[PP_BUF / PP_REQ_LEN * PP_REP_LEN];
	size_t off = 0, olen = 0;

	while (c->len - off >= 4) {
		uint32_t flen = pp_get32(c->buf + off);

		if (flen + 4 != PP_REQ_LEN)
			return -1;
		if (c->len - off < PP_REQ_LEN)
			break;
		pp_put32(out + olen, PP_REP_LEN - 4);
		memcpy(out + olen + 4, c->buf + off + 4, 8);
		pp_put32(out + olen + 12, ++c->count);
		olen += PP_REP_LEN;
		off += PP_REQ_LEN;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return pp_write_all(c->fd, out, olen);
}

static int pp_conn_read(struct pp_conn *c)
{
	ssize_t k = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);

	if (k <= 0)
		return k < 0 && errno == EINTR ? 0 : -1;
	c->len += (size_t)k;
	return pp_conn_serve(c);
}

/* Server state: pfd[0] is the parent's lifeline (hangup = exit), pfd[1]
 * the listener, pfd[2 + i] belongs to conn[i]. */
struct pp_server {
	struct pollfd pfd[2 + PP_MAX_CONN];
	struct pp_conn conn[PP_MAX_CONN];
	int nconn;
};

static void pp_server_accept(struct pp_server *s)
{
	int fd = accept(s->pfd[1].fd, NULL, NULL);

	if (fd < 0)
		return;
	if (s->nconn == PP_MAX_CONN) {
		close(fd);
		return;
	}
	s->conn[s->nconn] = (struct pp_conn){ .fd = fd };
	s->pfd[2 + s->nconn] = (struct pollfd){ .fd = fd, .events = POLLIN };
	s->nconn++;
}

/* Close conn i by moving the last one into its slot. */
static void pp_server_drop(struct pp_server *s, int i)
{
	close(s->conn[i].fd);
	s->nconn--;
	s->conn[i] = s->conn[s->nconn];
	s->pfd[2 + i] = s->pfd[2 + s->nconn];
}

static void pp_server_main(int listen_fd, int life_fd)
{
	static struct pp_server s;

	s.pfd[0] = (struct pollfd){ .fd = life_fd, .events = POLLIN };
	s.pfd[1] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	for (;;) {
		if (poll(s.pfd, (nfds_t)(2 + s.nconn), -1) < 0 && errno != EINTR)
			_exit(1);
		if (s.pfd[0].revents)
			_exit(0);
		if (s.pfd[1].revents & POLLIN)
			pp_server_accept(&s);
		for (int i = s.nconn - 1; i >= 0; i--)
			if (s.pfd[2 + i].revents && pp_conn_read(&s.conn[i]) < 0)
				pp_server_drop(&s, i);
	}
}

static int pp_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A client's window: requests [recvd, sent) are outstanding, t_sent[seq %
 * inflight] is when seq went out, in[] holds a partial reply. */
struct pp_win {
	uint64_t ops, sent, recvd;
	uint32_t count; /* the server's count in the last reply */
	int inflight;
	uint64_t t_sent[PP_MAX_INFLIGHT];
	unsigned char in[PP_BUF];
	size_t inlen;
};

/* Fill the window and send the new requests in one write. */
static int pp_win_send(int fd, struct pp_win *pw)
{
	unsigned char out[PP_MAX_INFLIGHT * PP_REQ_LEN] = { 0 };
	size_t len = 0;
	uint64_t now = stats_now_ns();

	while (pw->sent < pw->ops && pw->sent - pw->recvd < (uint64_t)pw->inflight) {
		pp_put32(out + len, PP_REQ_LEN - 4);
		memcpy(out + len + 4, &pw->sent, 8);
		pw->t_sent[pw->sent % (uint64_t)pw->inflight] = now;
		pw->sent++;
		len += PP_REQ_LEN;
	}
	return pp_write_all(fd, out, len);
}

/* Take one reply off in[]; -1 if it is not the one expected. */
static int pp_win_reply(struct pp_win *pw, const unsigned char *p,
			struct stats_lat *lat, uint64_t now)
{
	uint64_t seq;

	memcpy(&seq, p + 4, 8);
	if (pp_get32(p) != PP_REP_LEN - 4 || seq != pw->recvd)
		return -1;
	pw->count = pp_get32(p + 12);
	stats_lat_add(lat, now - pw->t_sent[seq % (uint64_t)pw->inflight]);
	pw->recvd++;
	return 0;
}

static int pp_win_recv(int fd, struct pp_win *pw, struct stats_lat *lat)
{
	ssize_t k = read(fd, pw->in + pw->inlen, sizeof pw->in - pw->inlen);
	uint64_t now = stats_now_ns();
	size_t off = 0;

	if (k <= 0)
		return k < 0 && errno == EINTR ? 0 : -1;
	pw->inlen += (size_t)k;
	for (; pw->inlen - off >= PP_REP_LEN; off += PP_REP_LEN)
		if (pp_win_reply(pw, pw->in + off, lat, now) < 0)
			return -1;
	memmove(pw->in, pw->in + off, pw->inlen - off);
	pw->inlen -= off;
	return 0;
}

static int pp_client(struct stats_worker *w)
{
	const struct bench_job *j = w->arg;
	struct pp_win pw = { .ops = w->ops, .inflight = w->inflight };
	int fd = pp_connect(j->peer);
	int rc = 0;

	if (fd < 0 || pw.inflight < 1 || pw.inflight > PP_MAX_INFLIGHT)
		return -1;
	stats_worker_start(w);
	while (rc == 0 && pw.recvd < pw.ops)
		if ((rc = pp_win_send(fd, &pw)) == 0)
			rc = pp_win_recv(fd, &pw, &w->lat);
	stats_worker_stop(w);
	w->check = pw.count;
	close(fd);
	return rc;
}

/* The server counted, per connection, every request it answered. */
static int pp_verify(const struct bench_job *j, uint64_t ops,
		     const int64_t *checks, int clients)
{
	int64_t sum = 0;

	(void)j;
	for (int i = 0; i < clients; i++)
		sum += checks[i];
	return (uint64_t)sum == ops ? 0 : -1;
}

static const struct bench_case pp_cases[] = {
	{ "rpc", pp_client, { 1, 2, 4, 8, 0 }, 1, NULL, pp_verify, NULL },
	{ "rpc", pp_client, { 1, 4, 0 }, 16, NULL, pp_verify, NULL },
};

static const struct bench_defaults pp_defaults = {
	.ops = 100000, .quick_ops = 10000,
	.reps = 5, .quick_reps = 3,
};

static int pp_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
			listen(fd, PP_MAX_CONN) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Listen before forking, so clients can connect as soon as they exist. */
static pid_t pp_server_start(const char *path, int *life_wr)
{
	int fd = pp_listen(path), life[2];
	pid_t pid;

	if (fd < 0 || pipe(life) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(life[1]);
		pp_server_main(fd, life[0]);
	}
	close(fd);
	close(life[0]);
	*life_wr = life[1];
	return pid;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	char dir[] = "/tmp/peer-pingpong.XXXXXX", path[sizeof dir + 8];
	int life = -1, rc, st;
	pid_t pid;

	if (bench_opts_parse(&o, &pp_defaults, argc, argv) < 0)
		return 2;
	if (stats_pin(o.pinned ? 0 : -1) < 0 || !mkdtemp(dir)) {
		perror("peer-pingpong");
		return 1;
	}
	snprintf(path, sizeof path, "%s/sock", dir);
	pid = pp_server_start(path, &life);
	bench_server_pid(pid);
	rc = pid > 0 ? bench_run("pingpong", pp_cases,
				 sizeof pp_cases / sizeof *pp_cases, &o, path)
		     : -1;
	close(life);
	if (pid > 0)
		waitpid(pid, &st, 0);
	unlink(path);
	rmdir(dir);
	return rc < 0;
}
