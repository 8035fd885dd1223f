/* monitor: subscribe (manager.monitor with a filter), then long-poll
 * manager.monitor_next and print each call seen, until interrupted. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cmd.h"
#include "json.h"

#define CMD_MONITOR_LINE "%-12s %7s %7s  %-28s %-16s %9s  %s\n"

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

static void cmd_monitor_line(const mgr_value *e)
{
	char when[32], sess[24], pid[24], obj[96], dur[24];
	double t = mgr_value_double(ctl_get(e, "time"));
	time_t secs = (time_t)t;
	struct tm tm;
	localtime_r(&secs, &tm);
	size_t n = strftime(when, sizeof(when), "%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03d", (int)((t - (double)secs) * 1000));
	snprintf(sess, sizeof(sess), "%" PRId64, ctl_get_int(e, "session"));
	snprintf(pid, sizeof(pid), "%" PRId64, ctl_get_int(e, "pid"));
	const mgr_value *name = ctl_get(e, "name"), *type = ctl_get(e, "type");
	snprintf(obj, sizeof(obj), "#%" PRId64 "%s%s (%s)", ctl_get_int(e, "object"),
		 name && mgr_value_kind(name) == MGR_STRING ? " " : "",
		 mgr_value_kind(name) == MGR_STRING ? mgr_value_string(name, NULL) : "",
		 mgr_value_kind(type) == MGR_STRING ? mgr_value_string(type, NULL) : "?");
	double us = (double)ctl_get_int(e, "ns") / 1e3;
	snprintf(dur, sizeof(dur), "%.1fus", us);
	const char *err = mgr_value_string(ctl_get(e, "error"), NULL);
	printf(CMD_MONITOR_LINE, when, sess, pid, obj,
	       mgr_value_string(ctl_get(e, "method"), NULL), dur, err && *err ? err : "ok");
}

static void cmd_monitor_batch(const struct ctl *ctl, const mgr_value *batch)
{
	const mgr_value *events = ctl_get(batch, "events");
	int64_t dropped = ctl_get_int(batch, "dropped");
	if (dropped)
		fprintf(stderr, "mgrctl: %" PRId64 " calls not shown (monitor fell behind)\n",
			dropped);
	for (size_t i = 0; i < mgr_value_len(events); i++) {
		const mgr_value *e = mgr_value_list_get(events, i);
		if (!ctl->json) {
			cmd_monitor_line(e);
			continue;
		}
		char *s = json_format(e, true);
		if (s)
			puts(s);
		free(s);
	}
}

int cmd_monitor(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	mgr_value *filter = cmd_monitor_filter(ctl);
	if (!filter)
		return CTL_FAIL;
	int rc = ctl_manager(ctl, "monitor", &filter, 1, NULL);
	if (rc)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, "mgrctl: monitoring calls (interrupt to stop)\n");
	if (!ctl->json)
		printf(CMD_MONITOR_LINE, "TIME", "SESSION", "PID", "OBJECT", "METHOD", "TOOK",
		       "RESULT");
	while (rc == CTL_OK) {
		mgr_value *batch = NULL, *max = mgr_value_new_int(256);
		rc = ctl_manager(ctl, "monitor_next", &max, 1, &batch);
		if (rc == CTL_OK)
			cmd_monitor_batch(ctl, batch);
		mgr_value_free(batch);
	}
	return rc;
}
