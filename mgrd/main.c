/* mgrd's command line: a table of options, each with its setter and help,
 * then the server's life. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../common/ring.h"
#include "../common/spin.h"
#include "activation.h"
#include "log.h"
#include "manager.h"
#include "module.h"
#include "policy.h"
#include "server.h"

struct option_row {
	const char *name;
	const char *arg; /* NULL: a flag */
	int (*set)(struct config *cfg, const char *arg, void *field);
	size_t offset;
	const char *help;
};

static int opt_u32(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 0);
	if (errno || *end || !*arg || v == 0 || v > UINT32_MAX)
		return -1;
	*(uint32_t *)field = (uint32_t)v;
	return 0;
}

/* 0 (no rings) or a size a ring can have. */
static int opt_ring(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 0);
	if (errno || *end || !*arg || (v && (v < RING_MIN || v > RING_MAX)))
		return -1;
	*(uint32_t *)field = (uint32_t)v;
	return 0;
}

/* 0 (the kernel's slice) or one within the kernel's clamp, in us. */
static int opt_slice(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (errno || *end || !*arg ||
	    (v && (v < SPIN_SLICE_MIN_NS / 1000 || v > SPIN_SLICE_MAX_NS / 1000)))
		return -1;
	*(uint32_t *)field = (uint32_t)v;
	return 0;
}

static int opt_int(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	char *end;
	long v = strtol(arg, &end, 10);
	if (*end || !*arg || v < 0 || v > INT_MAX)
		return -1;
	*(int *)field = (int)v;
	return 0;
}

static int opt_path(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	*(char **)field = (char *)arg;
	return 0;
}

static int opt_flag(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	(void)arg;
	*(bool *)field = true;
	return 0;
}

static int opt_allow_uid(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	struct passwd *pw = getpwnam(arg);
	char *end;
	unsigned long v = pw ? pw->pw_uid : strtoul(arg, &end, 10);
	if ((!pw && (*end || !*arg)) || cfg->n_allow_uid == CONFIG_MAX_ALLOW)
		return -1;
	cfg->allow_uid[cfg->n_allow_uid++] = (uid_t)v;
	return 0;
}

static int opt_allow_gid(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	struct group *gr = getgrnam(arg);
	char *end;
	unsigned long v = gr ? gr->gr_gid : strtoul(arg, &end, 10);
	if ((!gr && (*end || !*arg)) || cfg->n_allow_gid == CONFIG_MAX_ALLOW)
		return -1;
	cfg->allow_gid[cfg->n_allow_gid++] = (gid_t)v;
	return 0;
}

/* Octal permission bits; mgrd's own uid keeps read and write. */
static int opt_mode(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 8);
	if (errno || *end || !*arg || v & ~0666ul || (v & 0600) != 0600)
		return -1;
	*(mode_t *)field = (mode_t)v;
	return 0;
}

static int opt_group(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	struct group *gr = getgrnam(arg);
	char *end;
	unsigned long v = gr ? gr->gr_gid : strtoul(arg, &end, 10);
	if ((!gr && (*end || !*arg)) || v >= (gid_t)-1)
		return -1;
	*(gid_t *)field = (gid_t)v;
	return 0;
}

static int opt_log_level(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	(void)field;
	int level = log_level_parse(arg);
	if (level < 0)
		return -1;
	log_set_level((enum log_level)level);
	return 0;
}

/* N lines of one kind per second, or N/MS: per MS milliseconds. */
static int opt_log_rate(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	(void)field;
	char *end;
	errno = 0;
	unsigned long n = strtoul(arg, &end, 10), ms = 1000;
	if (*end == '/')
		ms = strtoul(end + 1, &end, 10);
	if (errno || *end || !*arg || !n || !ms || n > UINT32_MAX || ms > UINT32_MAX)
		return -1;
	log_set_rate((unsigned)n, (unsigned)ms);
	return 0;
}

static int opt_module(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	(void)field;
	return module_load(arg) ? -1 : 0; /* logs why */
}

/* Administrators (policy.c): a user or group name, or a number. */
static int opt_admin_uid(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	struct passwd *pw = getpwnam(arg);
	char *end;
	unsigned long v = pw ? pw->pw_uid : strtoul(arg, &end, 10);
	if ((!pw && (*end || !*arg)) || cfg->n_admin_uid == CONFIG_MAX_ALLOW)
		return -1;
	cfg->admin_uid[cfg->n_admin_uid++] = (uid_t)v;
	return 0;
}

static int opt_admin_gid(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	struct group *gr = getgrnam(arg);
	char *end;
	unsigned long v = gr ? gr->gr_gid : strtoul(arg, &end, 10);
	if ((!gr && (*end || !*arg)) || cfg->n_admin_gid == CONFIG_MAX_ALLOW)
		return -1;
	cfg->admin_gid[cfg->n_admin_gid++] = (gid_t)v;
	return 0;
}

/* An object mode: octal or "rwdr-d---" (policy.h). */
static int opt_object_mode(struct config *cfg, const char *arg, void *field)
{
	(void)cfg;
	return policy_mode_parse(arg, (uint16_t *)field);
}

/* --listen tcp:HOST:PORT (repeatable). */
static int opt_listen(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	if (strncmp(arg, "tcp:", 4) || cfg->remote.n_listen == CONFIG_MAX_LISTEN)
		return -1;
	cfg->remote.listen[cfg->remote.n_listen++] = arg;
	return 0;
}

/* --auth-key NAME=FILE; --auth-key-file FILE is the key named "default". */
static int opt_auth_key(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	const char *eq = strchr(arg, '=');
	struct config_remote *r = &cfg->remote;
	if (!eq || eq == arg || !eq[1] || eq - arg > 31 || r->n_keys == CONFIG_MAX_KEYS)
		return -1;
	r->key_name[r->n_keys] = strndup(arg, (size_t)(eq - arg));
	r->key_file[r->n_keys++] = eq + 1;
	return 0;
}

static int opt_auth_key_file(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	struct config_remote *r = &cfg->remote;
	if (!*arg || r->n_keys == CONFIG_MAX_KEYS)
		return -1;
	r->key_name[r->n_keys] = "default";
	r->key_file[r->n_keys++] = arg;
	return 0;
}

/* --auth-key-fd FD: the key named "default", read from FD (server.c). */
static int opt_auth_key_fd(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	char *end;
	long fd = strtol(arg, &end, 10);
	return *arg && !*end && fd >= 0 && fd <= INT_MAX ? server_key_from_fd(&cfg->remote, (int)fd) : -1;
}

/* --remote-uid NAME=UID (a user name or a number). */
static int opt_remote_uid(struct config *cfg, const char *arg, void *field)
{
	(void)field;
	const char *eq = strchr(arg, '=');
	struct config_remote *r = &cfg->remote;
	if (!eq || eq == arg || !eq[1] || r->n_uids == CONFIG_MAX_KEYS)
		return -1;
	struct passwd *pw = getpwnam(eq + 1);
	char *end;
	unsigned long v = pw ? pw->pw_uid : strtoul(eq + 1, &end, 10);
	if (!pw && *end)
		return -1;
	r->uid_key[r->n_uids] = strndup(arg, (size_t)(eq - arg));
	r->uid_of[r->n_uids++] = (uid_t)v;
	return 0;
}

/* --version: prints it and exits, as --help does. */
static int opt_version(struct config *cfg, const char *arg, void *field)
{
	(void)cfg, (void)arg, (void)field;
	printf("mgrd %s\n", MGR_VERSION);
	exit(0);
}

/* --describe-types: main prints the tables once every --module is loaded. */
static bool describe_types;

static int opt_describe_types(struct config *cfg, const char *arg, void *field)
{
	(void)cfg, (void)arg, (void)field;
	describe_types = true;
	return 0;
}

#define OFF(f) offsetof(struct config, f)

static const struct option_row option_table[] = {
	{"socket", "PATH", opt_path, OFF(socket_path), "listen on PATH (default $XDG_RUNTIME_DIR/mgr/mgrd.sock)"},
	{"version", NULL, opt_version, 0, "print mgrd's version and exit"},
	{"describe-types", NULL, opt_describe_types, 0, "print the types served (with --module's) and their methods as JSON, and exit"},
	{"ready-fd", "N", opt_int, OFF(ready_fd), "write one line to fd N once accepting"},
	{"max-frame", "BYTES", opt_u32, OFF(frame.max_frame), "largest frame (default 16 MiB)"},
	{"max-depth", "N", opt_u32, OFF(frame.max_depth), "deepest value nesting (default 64)"},
	{"max-items", "N", opt_u32, OFF(frame.max_items), "most values in one frame (default 1048576)"},
	{"max-pending", "N", opt_u32, OFF(frame.max_pending), "parked calls per connection (default 4096)"},
	{"max-outbuf", "BYTES", opt_u32, OFF(max_outbuf), "unread reply bytes before a client is cut off (default 64 MiB)"},
	{"max-conns", "N", opt_u32, OFF(max_conns), "connections in total (default 4096)"},
	{"max-conns-per-uid", "N", opt_u32, OFF(max_conns_per_uid), "connections per uid (default: --max-conns less the reserve, half that with --allow-uid/--allow-gid)"},
	{"reserved-conns", "N", opt_u32, OFF(reserved_conns), "connections only mgrd's uid and root may take (default min(8, max-conns/4))"},
	{"max-waiters", "N", opt_u32, OFF(max_waiters), "parked calls per object (default 65536)"},
	{"handshake-timeout", "MS", opt_u32, OFF(handshake_ms), "close connections silent this long (default 5000)"},
	{"max-partial-bytes", "BYTES", opt_u32, OFF(max_partial), "unfinished frames of all clients together; the one growing past it is dropped (default 64 MiB)"},
	{"frame-timeout", "MS", opt_u32, OFF(frame_ms), "drop a client that began a frame and did not finish it in MS (default 30000)"},
	{"idle-timeout", "MS", opt_u32, OFF(idle_ms), "drop a session with nothing sent, waiting or owed for MS (default: never)"},
	{"allow-uid", "UID", opt_allow_uid, 0, "also accept this user (repeatable)"},
	{"allow-gid", "GID", opt_allow_gid, 0, "also accept this group, primary or supplementary (repeatable)"},
	{"socket-mode", "MODE", opt_mode, OFF(socket_mode), "the socket's permissions, octal (default 0600); its directory gets search for the same"},
	{"socket-group", "GROUP", opt_group, OFF(socket_group), "the socket's and its directory's group (default mgrd's)"},
	{"parent-pid", "PID", opt_int, OFF(parent_pid), "exit when this process ends"},
	{"ignore-sigint", NULL, opt_flag, OFF(ignore_sigint), "do not stop on SIGINT"},
	{"remove-dir", NULL, opt_flag, OFF(remove_dir), "remove the socket's directory at exit"},
	{"ring-size", "BYTES", opt_ring, OFF(ring), "largest shared-memory ring per client, each way, 4 KiB-64 MiB; 0: the socket only (default 64 KiB)"},
	{"no-spin", NULL, opt_flag, OFF(no_spin), "never busy-poll a client's socket (saves CPU, costs latency)"},
	{"slice-us", "US", opt_slice, OFF(slice_us), "the loop thread's scheduler slice, 100-100000; 0: the kernel's (default 100)"},
	{"log-level", "LEVEL", opt_log_level, 0, "error, warn, info (default) or debug"},
	{"log-rate", "N[/MS]", opt_log_rate, 0, "at most N lines of one kind per MS (default 10/1000), then a count"},
	{"module", "PATH", opt_module, 0, "serve the custom types of this .so (repeatable)"},
	{"snapshot", "FILE", opt_path, OFF(snapshot_path), "keep named objects in FILE across restarts"},
	{"snapshot-interval", "SECONDS", opt_u32, OFF(snapshot_interval), "also save every SECONDS (if anything was called)"},
	{"ignore-bad-snapshot", NULL, opt_flag, OFF(ignore_bad_snapshot), "set a corrupt snapshot aside and start empty"},
	{"admin-uid", "UID", opt_admin_uid, 0, "also let this user shut down, save and monitor (repeatable)"},
	{"admin-gid", "GID", opt_admin_gid, 0, "also let this group shut down, save and monitor (repeatable)"},
	{"listen", "tcp:HOST:PORT", opt_listen, 0, "also listen on TCP (repeatable; IPv6 as [::1]; port 0: any, shown on the ready line); needs a key"},
	{"auth-key-file", "FILE", opt_auth_key_file, 0, "the shared key TCP clients must prove (the key named 'default'; FILE mode 0600)"},
	{"auth-key", "NAME=FILE", opt_auth_key, 0, "a named shared key (repeatable)"},
	{"auth-key-fd", "FD", opt_auth_key_fd, 0, "the key named 'default', read from descriptor FD to its end (a pipe from the program starting mgrd)"},
	{"remote-uid", "NAME=UID", opt_remote_uid, 0, "sessions with key NAME act as UID for permissions and limits (default nobody, 65534)"},
	{"stop-timeout", "MS", opt_u32, OFF(stop_timeout_ms), "a stop is over within MS even if calls of custom types still run: they are logged and mgrd exits (status 3; default 5000)"},
	{"remote-timeout", "MS", opt_u32, OFF(remote.timeout_ms), "a TCP peer that stops answering is dropped within MS (keepalive, TCP_USER_TIMEOUT; default 30000)"},
	{"tls-cert", "FILE", opt_path, OFF(remote.tls_cert), "TLS on the TCP listeners: the server's certificate chain (PEM)"},
	{"tls-key", "FILE", opt_path, OFF(remote.tls_key), "the certificate's private key (PEM)"},
	{"tls-ca", "FILE", opt_path, OFF(remote.tls_ca), "require client certificates signed by this CA (PEM)"},
	{"default-mode", "MODE", opt_object_mode, OFF(default_mode), "a new object's permissions unless its creator gives some: octal rwd bits for owner, group, others, or like rwdr-d--- (default 0700: the owner's alone)"},
};

#define N_OPTIONS (sizeof(option_table) / sizeof(option_table[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: mgrd [OPTION]...\nServe shared objects to local processes.\n\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		char left[48];
		snprintf(left, sizeof(left), "--%s%s%s", option_table[i].name,
			 option_table[i].arg ? " " : "", option_table[i].arg ? option_table[i].arg : "");
		fprintf(f, "  %-28s %s\n", left, option_table[i].help);
	}
	fprintf(f, "  %-28s %s\n", "--help", "this text");
}

static int parse_args(int argc, char **argv, struct config *cfg)
{
	struct option longopts[N_OPTIONS + 2] = {{0}};
	for (size_t i = 0; i < N_OPTIONS; i++)
		longopts[i] = (struct option){option_table[i].name,
			option_table[i].arg ? required_argument : no_argument, NULL, (int)i + 256};
	longopts[N_OPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h')
			return usage(stdout), 1;
		if (ch < 256)
			return usage(stderr), 2;
		const struct option_row *o = &option_table[ch - 256];
		if (o->set(cfg, optarg, (char *)cfg + o->offset)) {
			fprintf(stderr, "mgrd: invalid value for --%s: '%s'\n", o->name, optarg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mgrd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* Room for --max-conns clients with rings (a socket and an eventfd each):
 * the soft limit on open files is raised as far as that, within the hard
 * one. A client refused an eventfd still works, over the socket. */
static void raise_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = 2 * (rlim_t)cfg->max_conns + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* What the options allocated: the key of --auth-key-fd (wiped), the
 * names of --remote-uid. */
static void main_config_free(struct config *cfg)
{
	server_key_free(&cfg->remote);
	for (size_t i = 0; i < cfg->remote.n_uids; i++)
		free((char *)cfg->remote.uid_key[i]);
}

int main(int argc, char **argv)
{
	struct config cfg;
	config_defaults(&cfg);
	int rc = parse_args(argc, argv, &cfg);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (describe_types)
		return manager_describe_types(stdout) ? 1 : 0;
	if (cfg.listen_fd < 0)
		cfg.listen_fd = activation_listen_fd(); /* systemd's mgrd.socket */
	raise_fd_limit(&cfg);
	struct server srv;
	if (server_init(&srv, &cfg)) {
		server_fini(&srv);
		main_config_free(&cfg);
		return 1;
	}
	activation_notify("READY=1\nSTATUS=accepting connections");
	rc = server_run(&srv);
	activation_notify("STOPPING=1");
	log_msg(LOG_INFO, "stopped");
	server_fini(&srv);
	main_config_free(&cfg);
	return rc ? 1 : 0;
}
