/* Verbs about the manager's life: shutdown, and save (snapshots), which
 * this manager may not offer yet. */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cmd.h"

#define CMD_SHUTDOWN_WAIT_MS 10000

/* The manager closes every connection as it stops: wait for ours to end. */
static bool cmd_wait_closed(struct ctl *ctl)
{
	int fd = mgr_client_fd(ctl->client);
	struct pollfd p = {fd, POLLIN, 0};
	char b;
	while (fd >= 0 && poll(&p, 1, CMD_SHUTDOWN_WAIT_MS) == 1)
		if (recv(fd, &b, 1, MSG_PEEK) <= 0)
			return true;
		else if (recv(fd, &b, 1, 0) < 0) /* a stray frame: skip it */
			return true;
	return fd < 0;
}

int cmd_shutdown(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int64_t pid = 0;
	mgr_value *info = NULL;
	if (ctl_manager(ctl, "info", NULL, 0, &info) == CTL_OK)
		pid = ctl_get_int(info, "pid");
	mgr_value_free(info);
	int rc = ctl_manager(ctl, "shutdown", NULL, 0, NULL);
	if (rc)
		return rc;
	if (!cmd_wait_closed(ctl))
		return ctl_fail("shutdown requested, but mgrd (pid %lld) is still up after %d s",
				(long long)pid, CMD_SHUTDOWN_WAIT_MS / 1000);
	if (ctl->json)
		printf("{\"stopped\": true, \"pid\": %lld}\n", (long long)pid);
	else
		printf("mgrd (pid %lld) stopped\n", (long long)pid);
	return CTL_OK;
}

int cmd_save(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	mgr_value *res = NULL;
	int err = mgr_call(mgr_client_manager(ctl->client), "save", NULL, 0, &res);
	if (err == MGR_ENOMETHOD)
		return ctl_fail("save: not supported: this manager has no snapshots yet");
	mgr_value_free(res);
	if (err)
		return ctl_fail("save: %s (%s)", mgr_client_errmsg(ctl->client), mgr_errname(err));
	printf(ctl->json ? "{\"saved\": true}\n" : "saved\n");
	return CTL_OK;
}
