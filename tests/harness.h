/* Integration test support: a real mgrd started through libmgr's private
 * manager (readiness pipe, never a sleep), and raw-socket helpers for
 * talking the wire protocol directly. Failures abort the test via cmocka. */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mgr/mgr.h>

#include "../common/msg.h"

struct harness {
	mgr_manager *m;
	mgr_client *c; /* connected to m */
	const char *path; /* where clients connect: the socket, or TCP */
	char certs[256];  /* over TLS: the run's CA and certificate ("": none) */
};

/* Starts mgrd (extra args NULL-terminated, may be NULL) and connects.
 * MGR_TEST_TCP=1 (or tls): mgrd also listens on loopback TCP (port 0, a
 * key; tls: with a certificate made for the run by openssl, the test
 * skipped without it) and h->path is that address, so a test written for
 * the UNIX socket runs over TCP: its clients, forked ones too, connect
 * there with the key (MGR_AUTH_KEY) and trust the run's CA (MGR_TLS_CA). */
void harness_start(struct harness *h, const char *const *args);
/* The same with every option of mgr_manager_start. */
void harness_start_opts(struct harness *h, const mgr_manager_opts *o);
/* "tls", "tcp" or NULL: what MGR_TEST_TCP asks for. */
const char *harness_tcp(void);
/* The transport a test's clients use, for its messages: "tls" or "tcp"
 * (MGR_TEST_TCP), "socket" (MGR_RING_SIZE=0) or "ring". */
const char *harness_transport(void);
/* In dir: a CA (ca.pem), a server certificate for 127.0.0.1, ::1 and
 * localhost (srv.pem, srv.key) and a client one (cli.pem, cli.key), signed
 * by it, made by openssl. false if they could not be made. */
bool harness_make_certs(const char *dir);
/* Closes the client, stops mgrd and asserts that it exited cleanly. */
void harness_stop(struct harness *h);

/* The int at key in map m (asserts it is there). */
int64_t harness_map_int(const mgr_value *m, const char *key);
/* cmocka group setup/teardown: a manager started with no extra arguments,
 * *state is its struct harness. */
int harness_setup(void **state);
int harness_teardown(void **state);

/* An int from the manager's info() (e.g. "objects", "sessions"). */
int64_t harness_info(mgr_client *c, const char *field);

/* Polls info(field) until it equals want or timeout_ms passes (for state
 * the server changes on its own, such as a session ending); returns the
 * last value seen. */
int64_t harness_wait_info(mgr_client *c, const char *field, int64_t want, int timeout_ms);

/* Reads exactly len bytes, waiting at most timeout_ms for each read;
 * false on EOF, error or timeout. No cmocka: safe in forked children. */
bool harness_read_exact(int fd, uint8_t *p, size_t len, int timeout_ms);

/* Raw protocol: connect (fd, asserts), send bytes, send a msg, receive a
 * msg within timeout_ms (returns false on EOF/timeout). */
int harness_raw_connect(const char *path);
void harness_raw_send(int fd, const void *p, size_t len);
void harness_raw_send_msg(int fd, const struct msg *m);
bool harness_raw_recv_msg(int fd, struct msg *m, int timeout_ms);
/* Connect + Hello + Welcome (asserts). */
int harness_raw_session(const char *path);
/* The same with the Hello's name and polls (proto/README.md). */
int harness_raw_session_as(const char *path, const char *name, bool polls);
/* True once the peer closed fd (EOF) within timeout_ms. */
bool harness_raw_closed(int fd, int timeout_ms);

/* A fresh directory /tmp/<prefix>-XXXXXX into dir (asserts); removed with
 * everything in it by harness_rmtree. */
void harness_tmpdir(char *dir, size_t size, const char *prefix);
void harness_rmtree(const char *dir);

/* Waits (at most ms) for pid, a child of ours, to exit and reaps it into
 * *status: false if it did not exit in time (it is left running). */
bool harness_reap_within(pid_t pid, int ms, int *status);

/* A parent that will die: we become a subreaper, then fork a child that
 * runs fn(arg, fd) (it starts what the test watches and writes size bytes
 * about it to fd) and waits to be SIGKILLed. Reads those bytes into out;
 * returns the child's pid. */
pid_t harness_doomed_parent(void (*fn)(void *arg, int fd), void *arg, void *out, size_t size);
/* After the doomed parent died: reaps the orphan pid it left (it must exit
 * by itself within 10 s, else it is killed), stops being a subreaper.
 * Whether it exited by itself; *status its status. */
bool harness_reap_orphan(pid_t pid, int *status);

/* Runs fn(arg, i) in n child processes and returns how many exited 0. */
int harness_fork_n(int n, int (*fn)(void *arg, int i), void *arg);
/* Its parts: a child running fn(arg, i); reaping n children (pids freed),
 * how many exited 0. */
pid_t harness_spawn(int (*fn)(void *arg, int i), void *arg, int i);
int harness_reap_all(pid_t *pids, int n);

/* Open file descriptors of process pid (from /proc). */
int harness_fd_count(pid_t pid);

/* Whether pid (a child of ours, e.g. mgrd) has exited, waiting at most ms;
 * it is NOT reaped (mgr_manager_shutdown still does that). *status (may be
 * NULL): a waitpid()-style status. */
bool harness_exited_within(pid_t pid, int ms, int *status);

/* Starts mgrd (args NULL-terminated, may be NULL) with its stderr in a new
 * file /tmp/<prefix>-XXXXXX, whose path goes to log (the child inherits fd
 * 2, so it points at the file around the start); connects *c with
 * timeout_ms on its calls, so a starved call fails instead of hanging. */
void harness_start_logged(const char *const *args, const char *prefix, char log[64],
			  mgr_manager **m, mgr_client **c, uint32_t timeout_ms);
/* Lines of the log file holding needle; *sum (may be NULL) adds the number
 * after "suppressed " in each. */
int harness_log_count(const char *log, const char *needle, long *sum);
/* Fails the test if mgrd's log holds sanitizer reports. */
void harness_log_clean(const char *log);

/* The tests' second local user, HARNESS_USER, made with useradd if it is
 * missing (CI runs as root on a fresh machine; several tests may race to
 * make it: each looks again after trying). Its uid and gid into *uid and
 * *gid; false unless root (only root makes users, gives files away or
 * setuid()s) or when it cannot be made: the caller skips. */
#define HARNESS_USER "mgrtest1"
bool harness_second_user(uid_t *uid, gid_t *gid);

/* In a cmocka test: expr (an mgr call) must succeed; else the failure
 * names the expression, the code and the client's message. */
#define assert_ok(expr)                                                              \
	do {                                                                        \
		int err_ = (expr);                                                   \
		if (err_)                                                            \
			fail_msg("%s: %s: %s", #expr, mgr_errname(err_),                 \
				 mgr_client_errmsg(NULL));                               \
	} while (0)
/* expr must fail with code, and the client's message must contain part. */
#define assert_fails(expr, code, part)                                               \
	do {                                                                        \
		int err_ = (expr);                                                   \
		if (err_ != (code))                                                  \
			fail_msg("%s: got %s (%s), want %s", #expr, mgr_errname(err_),   \
				 mgr_client_errmsg(NULL), mgr_errname(code));            \
		if (!strstr(mgr_client_errmsg(NULL), (part)))                        \
			fail_msg("%s: message '%s' lacks '%s'", #expr,                   \
				 mgr_client_errmsg(NULL), (part));                       \
	} while (0)

#endif
