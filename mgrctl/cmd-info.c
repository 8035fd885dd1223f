/* Verbs about the manager as a whole: info, clients, stats. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd.h"
#include "table.h"

static void cmd_info_print(const mgr_value *v)
{
	static const struct table_col cols[] = {
		{"version", "version"},	 {"pid", "pid"},
		{"uptime", "uptime", table_fmt_secs}, {"sessions", "sessions"},
		{"objects", "objects"},	 {"calls", "calls"},
		{"errors", "errors"},	 {"connections", "connections_total"},
		{"threads", "threads"},	 {"calls/s", "calls_per_s"},
	};
	table_print_fields(COLS(cols), v);
}

int cmd_info(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ctl_view(ctl, "info", NULL, 0, cmd_info_print);
}

static void cmd_clients_print(const mgr_value *v)
{
	static const struct table_col cols[] = {
		{"SESSION", "session", NULL, true}, {"PID", "pid", NULL, true},
		{"UID", "uid", NULL, true},	    {"CONNECTED", "since", table_fmt_age, true},
		{"CALLS", "calls", NULL, true},	    {"REFS", "refs", NULL, true},
		{"LOCKS", "locks", NULL, true},	    {"PARKED", "parked", NULL, true},
		{"RING", "ring", NULL, true},	    {"NAME", "name"},
		{"FROM", "addr"},
	};
	table_print(COLS(cols), v);
}

int cmd_clients(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ctl_view(ctl, "clients", NULL, 0, cmd_clients_print);
}

static void cmd_stats_print(const mgr_value *v)
{
	static const struct table_col cols[] = {
		{"TYPE", "type"},
		{"METHOD", "method"},
		{"CALLS", "calls", NULL, true},
		{"ERRORS", "errors", NULL, true},
		{"P50", "p50_ns", table_fmt_ns, true},
		{"P99", "p99_ns", table_fmt_ns, true},
		{"MAX", "max_ns", table_fmt_ns, true},
	};
	table_print(COLS(cols), v);
}

int cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ctl_view(ctl, "stats", NULL, 0, cmd_stats_print);
}
