/* monitor: a live stream of the calls the manager runs, like redis-cli
 * MONITOR. The manager keeps a ring of events per watcher; mgrctl
 * subscribes (manager.monitor with the object/type filter) and then
 * long-polls manager.monitor_next, which answers as soon as a call is
 * seen: one request per burst of calls, each event printed as it comes
 * (a line, or one JSON object per line with --json). Filters the manager
 * does not know (--method, --pid) are applied here. Runs until
 * interrupted, or for --timeout seconds (then exits 0). The manager lets
 * admins only watch (policy.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "cmd.h"
#include "json.h"

#define CMD_MONITOR_LINE "%-12s %7s %7s  %-24s %-12s %8s  %s%s%s\n"
#define CMD_MONITOR_WIDTH 60 /* arguments and result, each, by default */

struct cmd_monitor {
	const char *method; /* --method; NULL: any */
	long pid;           /* --pid; -1: any */
	long width;         /* --width */
	bool json;
};

/* {object: OBJ, type: TYPE} from --object / --type; NULL after an error. */
static mgr_value *cmd_monitor_filter(const struct ctl *ctl)
{
	mgr_value *f = mgr_value_new_map();
	if (ctl->opt[0]) {
		mgr_value *t = ctl_target(ctl->opt[0]);
		if (!t || mgr_value_map_set(f, mgr_value_new_string("object"), t)) {
			mgr_value_free(f);
			return NULL;
		}
	}
	if (ctl->opt[1] && mgr_value_map_set(f, mgr_value_new_string("type"),
					     mgr_value_new_string(ctl->opt[1]))) {
		mgr_value_free(f);
		return NULL;
	}
	return f;
}

static const char *cmd_monitor_str(const mgr_value *e, const char *key)
{
	const mgr_value *v = ctl_get(e, key);
	return mgr_value_kind(v) == MGR_STRING ? mgr_value_string(v, NULL) : "";
}

/* s cut to width bytes (not splitting UTF-8), "..." marking a cut. */
static void cmd_monitor_cut(const char *s, long width, char *buf, size_t size)
{
	size_t len = strlen(s), w = (size_t)width < size - 1 ? (size_t)width : size - 1;
	if (len <= w) {
		snprintf(buf, size, "%s", s);
		return;
	}
	size_t cut = w > 3 ? w - 3 : 0;
	while (cut && (s[cut] & 0xC0) == 0x80)
		cut--;
	snprintf(buf, size, "%.*s...", (int)cut, s);
}

static void cmd_monitor_line(const struct cmd_monitor *m, const mgr_value *e)
{
	char when[32], sess[24], pid[24], obj[96], dur[24], call[512], res[512];
	double t = mgr_value_double(ctl_get(e, "time"));
	time_t secs = (time_t)t;
	struct tm tm;
	localtime_r(&secs, &tm);
	size_t n = strftime(when, sizeof(when), "%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03d", (int)((t - (double)secs) * 1000));
	snprintf(sess, sizeof(sess), "%" PRId64, ctl_get_int(e, "session"));
	snprintf(pid, sizeof(pid), "%" PRId64, ctl_get_int(e, "pid"));
	const char *name = cmd_monitor_str(e, "name"), *type = cmd_monitor_str(e, "type");
	snprintf(obj, sizeof(obj), "#%" PRId64 "%s%s (%s)", ctl_get_int(e, "object"),
		 *name ? " " : "", name, *type ? type : "?");
	snprintf(dur, sizeof(dur), "%.1fus", (double)ctl_get_int(e, "ns") / 1e3);
	char args[512];
	cmd_monitor_cut(cmd_monitor_str(e, "args"), m->width, args, sizeof(args));
	snprintf(call, sizeof(call), "%s%s", cmd_monitor_str(e, "method"), *args ? args : "()");
	const char *err = cmd_monitor_str(e, "error");
	if (*err)
		snprintf(res, sizeof(res), "%s", err);
	else
		cmd_monitor_cut(cmd_monitor_str(e, "result"), m->width, res, sizeof(res));
	printf(CMD_MONITOR_LINE, when, sess, pid, obj, call, dur, *err ? ctl_color(true, "red") : "",
	       *err || *res ? res : "ok", *err ? ctl_color(true, "reset") : "");
}

static bool cmd_monitor_wants(const struct cmd_monitor *m, const mgr_value *e)
{
	if (m->pid >= 0 && ctl_get_int(e, "pid") != m->pid)
		return false;
	return !m->method || !strcmp(cmd_monitor_str(e, "method"), m->method);
}

static void cmd_monitor_batch(const struct cmd_monitor *m, const mgr_value *batch)
{
	const mgr_value *events = ctl_get(batch, "events");
	int64_t dropped = ctl_get_int(batch, "dropped");
	if (dropped)
		fprintf(stderr, "mgrctl: %" PRId64 " calls not shown (monitor fell behind)\n",
			dropped);
	for (size_t i = 0; i < mgr_value_len(events); i++) {
		const mgr_value *e = mgr_value_list_get(events, i);
		if (!cmd_monitor_wants(m, e))
			continue;
		if (!m->json) {
			cmd_monitor_line(m, e);
			continue;
		}
		char *s = json_format(e, true);
		if (s)
			puts(s);
		free(s);
	}
}

static int cmd_monitor_options(struct ctl *ctl, struct cmd_monitor *m)
{
	*m = (struct cmd_monitor){ctl->opt[2], -1, CMD_MONITOR_WIDTH, ctl->json};
	if (ctl->opt[3] && (m->pid = ctl_parse_count(ctl->opt[3])) < 0)
		return ctl_usage(ctl, "--pid takes a process id, not '%s'", ctl->opt[3]);
	if (ctl->opt[4] && (m->width = ctl_parse_count(ctl->opt[4])) < 4)
		return ctl_usage(ctl, "--width takes a count of at least 4, not '%s'", ctl->opt[4]);
	return CTL_OK;
}

/* Polls until the --timeout deadline (or forever): CTL_OK when it passed. */
static int cmd_monitor_loop(struct ctl *ctl, const struct cmd_monitor *m)
{
	int64_t deadline = ctl_out.timeout_ms == MGR_FOREVER ? INT64_MAX
				: clock_now_ms() + ctl_out.timeout_ms;
	mgr_object *mgr = mgr_client_manager(ctl->client);
	for (;;) {
		int64_t left = deadline == INT64_MAX ? MGR_FOREVER : deadline - clock_now_ms();
		if (left <= 0)
			return CTL_OK;
		mgr_value *batch = NULL, *max = mgr_value_new_int(256);
		int err = mgr_call_timeout(mgr, "monitor_next", left, &max, 1, &batch);
		mgr_value_free(max);
		if (err == MGR_ETIMEDOUT)
			continue; /* the deadline passed with nothing seen */
		if (err)
			return ctl_fail_code(err, "monitor_next: %s (%s)", mgr_client_errmsg(ctl->client),
					     mgr_errname(err));
		cmd_monitor_batch(m, batch);
		mgr_value_free(batch);
	}
}

int cmd_monitor(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct cmd_monitor m;
	int rc = cmd_monitor_options(ctl, &m);
	if (rc)
		return rc;
	mgr_value *filter = cmd_monitor_filter(ctl);
	if (!filter)
		return CTL_FAIL;
	rc = ctl_manager(ctl, "monitor", &filter, 1, NULL);
	if (rc)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, "mgrctl: monitoring calls (interrupt to stop)\n");
	if (!ctl->json)
		printf("%s" CMD_MONITOR_LINE, ctl_color(true, "bold"), "TIME", "SESSION", "PID",
		       "OBJECT", "CALL", "TOOK", "RESULT", "", ctl_color(true, "reset"));
	return cmd_monitor_loop(ctl, &m);
}
