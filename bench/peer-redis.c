/* peer-redis.c: the same workloads against a real object server - a private
 * redis-server on a UNIX socket in a mkdtemp directory, driven with hiredis;
 * with --tcp (bench/run.py's TCP rows) the workers reach it over loopback
 * TCP instead (hiredis sets TCP_NODELAY), and the rows are "redis-tcp".
 * Owns the server's life (spawn, readiness by polling a connect with a
 * deadline, SHUTDOWN NOSAVE, reap), the command table the workers send, the
 * checks of final values, and the memory growth of a large hash. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "stats.h"

#define RD_MAX_INFLIGHT 64
#define RD_PREFILL 1000           /* fields in the hash dict_get reads */
#define RD_READY_NS 10000000000u  /* how long redis-server may take to start */
#define RD_MEM_INFLIGHT 64

/* The private server: its directory, socket and log, and the parent's own
 * connection for preparing and checking (never used by the workers). */
struct rd_server {
	char dir[32];
	char sock[64];
	char log[64];
	int port; /* --tcp: redis listens on 127.0.0.1:port; 0: the socket only */
	pid_t pid;
	redisContext *ctl;
};

/* One command a worker sends for call i, and the reply type it expects. */
struct rd_cmd {
	int (*append)(redisContext *c, int idx, uint64_t i);
	int reply;
};

/* Worker 0 sends `first`, the others `rest` (a queue's producer and its
 * consumers); then `total` is a command whose integer answer must equal the
 * ops of the repetition. */
struct rd_work {
	const struct rd_cmd *first, *rest;
	const char *total;
};

static int rd_incrby(redisContext *c, int idx, uint64_t i)
{
	(void)idx, (void)i;
	return redisAppendCommand(c, "INCR counter");
}

static int rd_hset(redisContext *c, int idx, uint64_t i)
{
	return redisAppendCommand(c, "HSET h f%d:%llu v", idx,
				  (unsigned long long)i);
}

static int rd_hget(redisContext *c, int idx, uint64_t i)
{
	(void)idx;
	return redisAppendCommand(c, "HGET pre f%llu",
				  (unsigned long long)(i % RD_PREFILL));
}

static int rd_rpush(redisContext *c, int idx, uint64_t i)
{
	(void)idx;
	return redisAppendCommand(c, "RPUSH l v%llu", (unsigned long long)i);
}

static int rd_lpush(redisContext *c, int idx, uint64_t i)
{
	(void)idx;
	return redisAppendCommand(c, "LPUSH q %llu", (unsigned long long)i);
}

static int rd_brpop(redisContext *c, int idx, uint64_t i)
{
	(void)idx, (void)i;
	return redisAppendCommand(c, "BRPOP q 0");
}

static int rd_hset_big(redisContext *c, int idx, uint64_t i)
{
	(void)idx;
	return redisAppendCommand(c, "HSET big f%llu %llu",
				  (unsigned long long)i, (unsigned long long)i);
}

static const struct rd_cmd rd_cmd_incrby = { rd_incrby, REDIS_REPLY_INTEGER };
static const struct rd_cmd rd_cmd_hset = { rd_hset, REDIS_REPLY_INTEGER };
static const struct rd_cmd rd_cmd_hget = { rd_hget, REDIS_REPLY_STRING };
static const struct rd_cmd rd_cmd_rpush = { rd_rpush, REDIS_REPLY_INTEGER };
static const struct rd_cmd rd_cmd_lpush = { rd_lpush, REDIS_REPLY_INTEGER };
static const struct rd_cmd rd_cmd_brpop = { rd_brpop, REDIS_REPLY_ARRAY };
static const struct rd_cmd rd_cmd_hset_big = { rd_hset_big,
					       REDIS_REPLY_INTEGER };

static int rd_reply_take(redisContext *c, int type)
{
	redisReply *r;
	int ok;

	if (redisGetReply(c, (void **)&r) != REDIS_OK)
		return -1;
	ok = r->type == type;
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* w->ops calls of cmd keeping w->inflight outstanding; the latency of a call
 * runs from its append to its reply (hiredis sends on the next read). */
static int rd_window(redisContext *c, const struct rd_cmd *cmd,
		     struct stats_worker *w)
{
	uint64_t t_sent[RD_MAX_INFLIGHT], sent = 0, recvd = 0;
	uint64_t win = (uint64_t)w->inflight;

	if (win < 1 || win > RD_MAX_INFLIGHT)
		return -1;
	while (recvd < w->ops) {
		for (; sent < w->ops && sent - recvd < win; sent++) {
			t_sent[sent % win] = stats_now_ns();
			if (cmd->append(c, w->idx, sent) != REDIS_OK)
				return -1;
		}
		if (rd_reply_take(c, cmd->reply) < 0)
			return -1;
		stats_lat_add(&w->lat, stats_now_ns() - t_sent[recvd % win]);
		recvd++;
	}
	return 0;
}

static redisContext *rd_connect(const struct rd_server *s)
{
	return s->port ? redisConnect("127.0.0.1", s->port) : redisConnectUnix(s->sock);
}

static int rd_client(struct stats_worker *w)
{
	const struct bench_job *j = w->arg;
	const struct rd_server *s = j->peer;
	const struct rd_work *work = j->c->data;
	redisContext *c = rd_connect(s);
	int rc;

	if (!c || c->err) {
		redisFree(c);
		return -1;
	}
	stats_worker_start(w);
	rc = rd_window(c, w->idx ? work->rest : work->first, w);
	stats_worker_stop(w);
	w->check = rc == 0 ? (int64_t)w->ops : -1;
	redisFree(c);
	return rc;
}

/* Run one command on the control connection; its integer answer (a string
 * holding a number counts too) goes to *v. */
static int rd_ctl_int(const struct rd_server *s, long long *v, const char *fmt,
		      ...)
{
	va_list ap;
	redisReply *r;
	int rc = -1;

	va_start(ap, fmt);
	r = redisvCommand(s->ctl, fmt, ap);
	va_end(ap);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		*v = r->integer, rc = 0;
	else if (r->type == REDIS_REPLY_STRING)
		*v = strtoll(r->str, NULL, 10), rc = 0;
	freeReplyObject(r);
	return rc;
}

static int rd_ctl_ok(const struct rd_server *s, const char *cmd)
{
	redisReply *r = redisCommand(s->ctl, cmd);
	int ok = r && r->type == REDIS_REPLY_STATUS;

	freeReplyObject(r);
	return ok ? 0 : -1;
}

static int rd_prepare_flush(const struct bench_job *j, int clients)
{
	(void)clients;
	return rd_ctl_ok(j->peer, "FLUSHALL");
}

static int rd_prepare_prefill(const struct bench_job *j, int clients)
{
	const struct rd_server *s = j->peer;
	long long v;

	if (rd_prepare_flush(j, clients) < 0)
		return -1;
	for (int i = 0; i < RD_PREFILL; i++)
		if (rd_ctl_int(s, &v, "HSET pre f%d v%d", i, i) < 0)
			return -1;
	return 0;
}

static int rd_verify_total(const struct bench_job *j, uint64_t ops,
			   const int64_t *checks, int clients)
{
	const struct rd_work *work = j->c->data;
	long long v;

	(void)checks, (void)clients;
	return rd_ctl_int(j->peer, &v, work->total) == 0 &&
			       (uint64_t)v == ops
		       ? 0
		       : -1;
}

/* Everything the producer pushed was popped or is still queued. */
static int rd_verify_queue(const struct bench_job *j, uint64_t ops,
			   const int64_t *checks, int clients)
{
	long long left;

	(void)ops;
	if (clients != 2 || rd_ctl_int(j->peer, &left, "LLEN q") < 0)
		return -1;
	return checks[0] == checks[1] + left ? 0 : -1;
}

static const struct rd_work rd_work_counter = { &rd_cmd_incrby, &rd_cmd_incrby,
						"GET counter" };
static const struct rd_work rd_work_dict_set = { &rd_cmd_hset, &rd_cmd_hset,
						 "HLEN h" };
static const struct rd_work rd_work_dict_get = { &rd_cmd_hget, &rd_cmd_hget,
						 NULL };
static const struct rd_work rd_work_list = { &rd_cmd_rpush, &rd_cmd_rpush,
					     "LLEN l" };
static const struct rd_work rd_work_queue = { &rd_cmd_lpush, &rd_cmd_brpop,
					      NULL };

static const struct bench_case rd_cases[] = {
	{ "counter_add", rd_client, { 1, 2, 4, 8, 0 }, 1, rd_prepare_flush,
	  rd_verify_total, &rd_work_counter },
	{ "dict_set", rd_client, { 1, 2, 4, 8, 0 }, 1, rd_prepare_flush,
	  rd_verify_total, &rd_work_dict_set },
	{ "dict_get", rd_client, { 1, 0 }, 1, rd_prepare_prefill, NULL,
	  &rd_work_dict_get },
	{ "list_append", rd_client, { 1, 0 }, 1, rd_prepare_flush,
	  rd_verify_total, &rd_work_list },
	{ "counter_add", rd_client, { 1, 4, 0 }, 16, rd_prepare_flush,
	  rd_verify_total, &rd_work_counter },
	{ "queue", rd_client, { 2, 0 }, 1, rd_prepare_flush, rd_verify_queue,
	  &rd_work_queue },
};

static const struct bench_defaults rd_defaults = {
	.ops = 100000, .quick_ops = 5000,
	.reps = 5, .quick_reps = 3,
	.mem = 1000000, .quick_mem = 100000,
};

/* used_memory from INFO memory, in bytes. */
static int rd_used_memory(const struct rd_server *s, long long *bytes)
{
	redisReply *r = redisCommand(s->ctl, "INFO memory");
	const char *p = r && r->type == REDIS_REPLY_STRING
				? strstr(r->str, "used_memory:")
				: NULL;

	if (p)
		*bytes = strtoll(p + strlen("used_memory:"), NULL, 10);
	freeReplyObject(r);
	return p ? 0 : -1;
}

/* Growth of used_memory over w->ops pipelined HSETs into one hash, run in
 * this process on the control connection. */
static int rd_memory_load(const struct rd_server *s, struct stats_worker *w,
			  struct stats_rep *rep, long long *growth)
{
	long long before, after, n;
	uint64_t t0;

	if (rd_ctl_ok(s, "FLUSHALL") < 0 || rd_used_memory(s, &before) < 0)
		return -1;
	t0 = stats_now_ns();
	if (rd_window(s->ctl, &rd_cmd_hset_big, w) < 0)
		return -1;
	stats_rep_compute(rep, &w->lat, w->ops, stats_now_ns() - t0);
	if (rd_ctl_int(s, &n, "HLEN big") < 0 || (uint64_t)n != w->ops ||
	    rd_used_memory(s, &after) < 0)
		return -1;
	*growth = after - before;
	return rd_ctl_ok(s, "FLUSHALL");
}

static int rd_memory(const struct rd_server *s, const struct bench_opts *o)
{
	struct stats_worker w = { .ops = o->mem, .inflight = RD_MEM_INFLIGHT };
	struct stats_line line = { "redis", "memory_hash", 1, RD_MEM_INFLIGHT,
				   o->pinned, "idle", NULL, NULL };
	struct stats_rep rep = { 0 };
	long long growth;
	char extra[128];
	int rc;

	if (stats_lat_init(&w.lat, o->mem) < 0)
		return -1;
	rc = rd_memory_load(s, &w, &rep, &growth);
	stats_lat_free(&w.lat);
	if (rc < 0)
		return -1;
	snprintf(extra, sizeof extra,
		 "\"check\":\"ok\",\"entries\":%llu,\"memory_growth\":%lld,"
		 "\"bytes_per_entry\":%.1f",
		 (unsigned long long)o->mem, growth,
		 (double)growth / (double)o->mem);
	line.extra = extra;
	stats_print(&line, &rep, 1);
	return 0;
}

/* The server's own words, for when it would not start. */
static void rd_log_dump(const struct rd_server *s)
{
	char buf[4096];
	FILE *f = fopen(s->log, "r");
	size_t k;

	while (f && (k = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, k, stderr);
	if (f)
		fclose(f);
}

static void rd_child_exec(const struct rd_server *s)
{
	int null = open("/dev/null", O_RDWR);

	char port[16];

	snprintf(port, sizeof port, "%d", s->port);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
	       "--unixsocket", s->sock, "--unixsocketperm", "700", "--save", "", "--appendonly",
	       "no", "--dir", s->dir, "--logfile", s->log, (char *)NULL);
	perror("peer-redis: exec redis-server");
	_exit(127);
}

/* Poll with a growing backoff until a PING answers, the server dies, or the
 * deadline passes. */
static int rd_wait_ready(struct rd_server *s, uint64_t deadline)
{
	int backoff_ms = 1;

	while (stats_now_ns() < deadline) {
		redisContext *c = rd_connect(s);

		s->ctl = c;
		if (c && !c->err && rd_ctl_ok(s, "PING") == 0)
			return 0;
		redisFree(c);
		s->ctl = NULL;
		if (waitpid(s->pid, NULL, WNOHANG) != 0)
			return -1;
		poll(NULL, 0, backoff_ms);
		backoff_ms = backoff_ms < 50 ? backoff_ms * 2 : 50;
	}
	return -1;
}

static int rd_server_start(struct rd_server *s)
{
	strcpy(s->dir, "/tmp/peer-redis.XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->sock, sizeof s->sock, "%s/redis.sock", s->dir);
	snprintf(s->log, sizeof s->log, "%s/redis.log", s->dir);
	fflush(NULL);
	s->pid = fork();
	if (s->pid == 0)
		rd_child_exec(s);
	if (s->pid < 0)
		return -1;
	return rd_wait_ready(s, stats_now_ns() + RD_READY_NS);
}

/* Reap within 5 s of SHUTDOWN NOSAVE, else kill. */
static void rd_server_reap(struct rd_server *s)
{
	uint64_t deadline = stats_now_ns() + 5000000000u;

	while (waitpid(s->pid, NULL, WNOHANG) == 0) {
		if (stats_now_ns() > deadline) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			return;
		}
		poll(NULL, 0, 5);
	}
}

static void rd_server_stop(struct rd_server *s)
{
	if (s->ctl)
		freeReplyObject(redisCommand(s->ctl, "SHUTDOWN NOSAVE"));
	redisFree(s->ctl);
	s->ctl = NULL;
	if (s->pid > 0)
		rd_server_reap(s);
	unlink(s->sock);
	unlink(s->log);
	rmdir(s->dir);
}

/* A port free on 127.0.0.1 now (the kernel's pick; redis binds it next). */
static int rd_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* --tcp, taken out of argv (bench_opts_parse knows the common options). */
static int rd_take_tcp(int *argc, char **argv)
{
	int tcp = 0, n = 0;

	for (int i = 0; i < *argc; i++) {
		if (i > 0 && !strcmp(argv[i], "--tcp"))
			tcp = 1;
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	return tcp;
}

int main(int argc, char **argv)
{
	struct rd_server s = { .pid = -1 };
	struct bench_opts o;
	int rc = -1;

	if (rd_take_tcp(&argc, argv) && (s.port = rd_free_port()) <= 0) {
		perror("peer-redis: no free TCP port");
		return 1;
	}
	if (bench_opts_parse(&o, &rd_defaults, argc, argv) < 0)
		return 2;
	if (stats_pin(o.pinned ? 0 : -1) < 0) {
		perror("peer-redis: sched_setaffinity");
		return 1;
	}
	if (rd_server_start(&s) == 0) {
		bench_server_pid(s.pid);
		rc = bench_run(s.port ? "redis-tcp" : "redis", rd_cases, sizeof rd_cases / sizeof *rd_cases,
			       &o, &s);
		if (bench_wanted(&o, "memory_hash") && rd_memory(&s, &o) < 0)
			rc = -1;
	} else {
		fprintf(stderr, "peer-redis: redis-server did not start\n");
		rd_log_dump(&s);
	}
	rd_server_stop(&s);
	return rc < 0;
}
