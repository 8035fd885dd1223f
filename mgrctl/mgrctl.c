/* mgrctl: see and drive a running mgr manager. Global options, then one
 * verb from the table below; each verb lives in a cmd-*.c file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const struct ctl_verb ctl_verbs[] = {
	{"info", "", "the manager's version, pid, uptime and figures", {0}, 0, 0, cmd_info},
	{"ls", "[--type TYPE] [--names]", "list objects (--names: their names only)", {"type"}, 0,
	 0, cmd_ls, false, "names"},
	{"show", "OBJ [--limit N] [--all]",
	 "an object's contents (#0: the manager); --all walks a whole dict or list", {"limit"}, 1, 1,
	 cmd_show, false, "all"},
	{"call", "OBJ METHOD [ARG...]", "call a method; each ARG is a JSON value", {0}, 2, -1,
	 cmd_call},
	{"create", "TYPE [NAME|-] [ARG...] [--mode MODE]",
	 "a new object (ARGs are JSON; MODE like 0750 or rwdr-d---)", {"mode"}, 1, -1, cmd_create},
	{"rm", "OBJ [--force]", "delete an object (--force: even if another session holds it)",
	 {0}, 1, 1, cmd_rm, false, "force"},
	{"types", "", "the types the manager serves", {0}, 0, 0, cmd_types},
	{"methods", "TYPE", "a type's methods", {0}, 1, 1, cmd_methods},
	{"clients", "", "the sessions", {0}, 0, 0, cmd_clients},
	{"stats", "", "calls, errors and latency per type and method", {0}, 0, 0, cmd_stats},
	{"monitor", "[--object OBJ] [--type TYPE] [--method M] [--pid PID] [--width N]",
	 "watch calls as they run, with arguments and results (until interrupted, or --timeout)",
	 {"object", "type", "method", "pid", "width"}, 0, 0, cmd_monitor},
	{"shutdown", "", "stop the manager", {0}, 0, 0, cmd_shutdown},
	{"save", "", "snapshot the objects (if the manager supports it)", {0}, 0, 0, cmd_save},
	{"dump", "[OBJ...]", "named objects (all, or these) as one JSON document", {0}, 0, -1,
	 cmd_dump},
	{"load", "[FILE|-] [--replace]", "create the objects of a dump (stdin by default)", {0}, 0,
	 1, cmd_load, false, "replace"},
	{"help", "[VERB]", "this text", {0}, 0, 1, cmd_help, true},
};

#define N_VERBS (sizeof(ctl_verbs) / sizeof(ctl_verbs[0]))

static const struct ctl_verb *ctl_find(const char *name)
{
	for (size_t i = 0; i < N_VERBS; i++)
		if (!strcmp(ctl_verbs[i].name, name))
			return &ctl_verbs[i];
	return NULL;
}

static void ctl_help(FILE *f)
{
	fprintf(f, "usage: mgrctl [-s SOCKET] [--json] [--timeout SECS] VERB [ARG...]\n"
		   "See and drive a running mgr manager (MGR_SOCKET, or the default socket).\n\n");
	for (size_t i = 0; i < N_VERBS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", ctl_verbs[i].name, ctl_verbs[i].args);
		fprintf(f, "  %-40s %s\n", left, ctl_verbs[i].help);
	}
	fprintf(f, "\nOBJ is an object's name or #ID (#0: the manager). --json prints one JSON\n"
		   "document, and a failure as {\"error\": {\"message\", \"code\", \"exit\"}}.\n"
		   "--timeout SECS (0 polls; default: forever) bounds how long a blocking call\n"
		   "waits (and how long monitor runs). NO_COLOR turns colour off.\n"
		   "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int cmd_help(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	const struct ctl_verb *v = argc ? ctl_find(argv[0]) : NULL;
	if (argc && !v)
		return ctl_fail("no verb '%s' (see mgrctl help)", argv[0]);
	if (v)
		printf("usage: mgrctl [-s SOCKET] [--json] [--timeout SECS] %s %s\n%s\n", v->name,
		       v->args, v->help);
	else
		ctl_help(stdout);
	return CTL_OK;
}

#define CTL_DONE 1000 /* handled (--help, --version): exit 0 */

/* --timeout SECS: a non-negative decimal ("0" polls, "2.5"), or "forever". */
static int ctl_parse_timeout(const char *s, int64_t *ms)
{
	if (!strcmp(s, "forever") || !strcmp(s, "none")) {
		*ms = MGR_FOREVER;
		return 0;
	}
	char *end;
	double secs = strtod(s, &end);
	if (!*s || *end || !(secs >= 0) || secs > 1e9)
		return -1;
	*ms = (int64_t)(secs * 1000 + 0.999);
	return 0;
}

static bool ctl_want_color(int fd)
{
	const char *no = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return isatty(fd) && !(no && *no) && !(term && !strcmp(term, "dumb"));
}

/* Global options; returns the index of the verb, or -exit code (-CTL_DONE
 * for a clean exit). */
static int ctl_global(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	  {"version", no_argument, NULL, 'V'},
		{"timeout", required_argument, NULL, 't'}, {0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "+s:jhVt:", longopts, NULL)) != -1) {
		if (ch == 's')
			ctl->socket = optarg;
		else if (ch == 'j')
			ctl->json = ctl_out.json = true;
		else if (ch == 't' && ctl_parse_timeout(optarg, &ctl_out.timeout_ms)) {
			fprintf(stderr, "mgrctl: --timeout takes seconds (0 polls) or 'forever', "
					"not '%s'\n", optarg);
			return -CTL_USAGE;
		} else if (ch == 't')
			continue;
		else if (ch == 'h' || ch == 'V')
			return ch == 'h' ? (ctl_help(stdout), -CTL_DONE)
					 : (printf("mgrctl %s\n", MGR_VERSION), -CTL_DONE);
		else
			return ctl_help(stderr), -CTL_USAGE;
	}
	if (optind >= argc) {
		ctl_help(stderr);
		return -CTL_USAGE;
	}
	return optind;
}

/* Takes the verb's options out of argv, then checks what is left. */
static int ctl_verb_args(struct ctl *ctl, int *argc, char **argv)
{
	const struct ctl_verb *v = ctl->verb;
	ctl->json |= ctl_flag(argc, argv, "--json"); /* also after the verb */
	ctl_out.json = ctl->json;
	const char *t = NULL; /* --timeout also after the verb */
	if (ctl_option(argc, argv, "timeout", &t) < 0 ||
	    (t && ctl_parse_timeout(t, &ctl_out.timeout_ms)))
		return ctl_usage(ctl, "--timeout takes seconds (0 polls) or 'forever'");
	for (size_t i = 0; i < 6 && v->opts[i]; i++)
		if (ctl_option(argc, argv, v->opts[i], &ctl->opt[i]) < 0)
			return ctl_usage(ctl, "--%s needs a value", v->opts[i]);
	if (v->flag) {
		char flag[32];
		snprintf(flag, sizeof(flag), "--%s", v->flag);
		ctl->flag = ctl_flag(argc, argv, flag);
	}
	for (int i = 0; i < *argc; i++)
		if (!strcmp(argv[i], "--")) {
			memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
			(*argc)--;
			break;
		} else if (!strncmp(argv[i], "--", 2))
			return ctl_usage(ctl, "unknown option '%s'", argv[i]);
	if (*argc < v->min_args || (v->max_args >= 0 && *argc > v->max_args))
		return ctl_usage(ctl, "wrong number of arguments");
	return CTL_OK;
}

static int ctl_connect(struct ctl *ctl)
{
	if (ctl->verb->offline)
		return CTL_OK;
	int err = mgr_client_connect(ctl->socket, &ctl->client);
	if (err)
		return ctl_fail_code(err, "%s", mgr_client_errmsg(NULL));
	/* a hung manager must not hang mgrctl when a bound was asked for */
	if (ctl_out.timeout_ms != MGR_FOREVER)
		mgr_client_set_timeout(ctl->client, ctl_out.timeout_ms > UINT32_MAX - 1000
				       ? UINT32_MAX : (uint32_t)ctl_out.timeout_ms + 1000);
	return CTL_OK;
}

int main(int argc, char **argv)
{
	struct ctl ctl = {0};
	ctl_out.color = ctl_want_color(1);
	ctl_out.color_err = ctl_want_color(2);
	int i = ctl_global(&ctl, argc, argv);
	if (i < 0)
		return i == -CTL_DONE ? CTL_OK : -i;
	ctl.verb = ctl_find(argv[i]);
	if (!ctl.verb) {
		fprintf(stderr, "mgrctl: no verb '%s'\n", argv[i]);
		ctl_help(stderr);
		return CTL_USAGE;
	}
	int n = argc - i - 1;
	int rc = ctl_verb_args(&ctl, &n, argv + i + 1);
	if (rc == CTL_OK)
		rc = ctl_connect(&ctl);
	if (rc == CTL_OK)
		rc = ctl.verb->run(&ctl, n, argv + i + 1);
	mgr_client_close(ctl.client);
	return rc;
}
