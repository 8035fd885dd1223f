/* Verbs about the manager's life: shutdown, and save (snapshots), which
 * this manager may not offer yet. */
#include <inttypes.h>
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

/* {path, objects, skipped, bytes} as the manager answers a save. */
static void cmd_save_print(const mgr_value *v)
{
	const mgr_value *path = ctl_get(v, "path");
	int64_t skipped = ctl_get_int(v, "skipped");
	printf("saved %" PRId64 " objects (%" PRId64 " bytes) to %s\n", ctl_get_int(v, "objects"),
	       ctl_get_int(v, "bytes"),
	       mgr_value_kind(path) == MGR_STRING ? mgr_value_string(path, NULL) : "?");
	if (skipped)
		printf("%s%" PRId64 " objects skipped%s (not saved: see mgrd's log)\n",
		       ctl_color(true, "red"), skipped, ctl_color(true, "reset"));
}

int cmd_save(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	mgr_value *res = NULL;
	int err = mgr_call(mgr_client_manager(ctl->client), "save", NULL, 0, &res);
	if (err == MGR_ENOMETHOD)
		return ctl_fail_code(err, "save: not supported: this manager has no snapshots yet");
	if (err)
		return ctl_fail_code(err, "save: %s (%s)", mgr_client_errmsg(ctl->client),
				     mgr_errname(err));
	int rc = CTL_OK;
	if (ctl->json)
		rc = ctl_print_json(res);
	else
		cmd_save_print(res);
	mgr_value_free(res);
	return rc;
}
