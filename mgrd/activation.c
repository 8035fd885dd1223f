/* Socket activation and readiness notification (see activation.h). The
 * protocols are sd_listen_fds(3) and sd_notify(3); both are a few lines. */
#include "activation.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define ACTIVATION_FD 3 /* SD_LISTEN_FDS_START */

static long activation_env(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long v = s && *s ? strtol(s, &end, 10) : -1;
	return s && *s && !*end ? v : -1;
}

int activation_listen_fd(void)
{
	long pid = activation_env("LISTEN_PID"), n = activation_env("LISTEN_FDS");
	if (pid != (long)getpid() || n < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n > 1)
		log_msg(LOG_WARN, "socket activation passed %ld sockets; using the first", n);
	int type = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(ACTIVATION_FD, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM) {
		log_msg(LOG_ERROR, "fd %d from socket activation is not a stream socket",
			ACTIVATION_FD);
		return -1;
	}
	fcntl(ACTIVATION_FD, F_SETFD, FD_CLOEXEC);
	return ACTIVATION_FD;
}

/* The address in $NOTIFY_SOCKET: a path, or "@name" for an abstract one. */
static socklen_t activation_addr(const char *path, struct sockaddr_un *sa)
{
	size_t len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa->sun_path))
		return 0;
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	memcpy(sa->sun_path, path, len);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
}

int activation_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	if (!path || !*path)
		return 0;
	socklen_t salen = activation_addr(path, &sa);
	int fd = salen ? socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
	ssize_t n = fd < 0 ? -1 : sendto(fd, state, strlen(state), MSG_NOSIGNAL,
					(struct sockaddr *)&sa, salen);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		log_msg(LOG_WARN, "cannot notify %s: %s", path, salen ? strerror(err) : "bad address");
	return n < 0 ? -1 : 0;
}
