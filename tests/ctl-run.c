/* Running programs from tests (see ctl-run.h). */
#include "ctl-run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

pid_t run_start(const char *const argv[], int *out_fd, int *err_fd)
{
	int o[2] = {-1, -1}, e[2] = {-1, -1};
	assert_true((!out_fd || pipe2(o, O_CLOEXEC) == 0) && (!err_fd || pipe2(e, O_CLOEXEC) == 0));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (out_fd)
			dup2(o[1], 1);
		if (err_fd)
			dup2(e[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (out_fd) {
		close(o[1]);
		*out_fd = o[0];
	}
	if (err_fd) {
		close(e[1]);
		*err_fd = e[0];
	}
	return pid;
}

int run_reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Appends what fd has to *buf; false at EOF. */
static bool run_slurp(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n <= 0)
		return false;
	*buf = realloc(*buf, *len + (size_t)n + 1);
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return true;
}

void run_wait(const char *const argv[], struct run *r)
{
	int fds[2];
	memset(r, 0, sizeof(*r));
	pid_t pid = run_start(argv, &fds[0], &fds[1]);
	char **bufs[2] = {&r->out, &r->err};
	size_t lens[2] = {0, 0};
	struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, 30000) <= 0)
			fail_msg("%s did not finish in 30 s", argv[0]);
		for (int i = 0; i < 2; i++)
			if (p[i].fd >= 0 && p[i].revents && !run_slurp(p[i].fd, bufs[i], &lens[i])) {
				close(p[i].fd);
				p[i].fd = -1;
			}
	}
	for (int i = 0; i < 2; i++)
		if (!*bufs[i])
			*bufs[i] = calloc(1, 1);
	r->status = run_reap(pid);
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

int run_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t n = 0;
	while (n + 1 < size) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, timeout_ms) <= 0 || read(fd, &buf[n], 1) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

#define CTL_MAX_ARGS 32

/* Runs mgrctl with lead (if not NULL), first, then ap's arguments. */
static void ctl_vrun(struct run *r, const char *lead, const char *first, va_list ap)
{
	const char *argv[CTL_MAX_ARGS] = {getenv("MGR_MGRCTL")};
	assert_non_null(argv[0]);
	size_t n = 1;
	if (lead)
		argv[n++] = lead;
	for (const char *a = first; a && n < CTL_MAX_ARGS - 1; a = va_arg(ap, const char *))
		argv[n++] = a;
	run_wait(argv, r);
}

int ctl_run(struct run *r, const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	ctl_vrun(r, NULL, first, ap);
	va_end(ap);
	return r->status;
}

json_t *ctl_json(const char *first, ...)
{
	struct run r;
	va_list ap;
	va_start(ap, first);
	ctl_vrun(&r, "--json", first, ap);
	va_end(ap);
	if (r.status != 0)
		fail_msg("mgrctl %s failed (%d): %s", first, r.status, r.err);
	json_error_t e;
	json_t *j = json_loads(r.out, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("not JSON (%s): %s", e.text, r.out);
	run_free(&r);
	return j;
}

json_t *ctl_find_str(json_t *a, const char *key, const char *want)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(json_object_get(v, key));
		if (s && !strcmp(s, want))
			return v;
	}
	return NULL;
}
