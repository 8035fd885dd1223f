/* Integration test support: a real mgrd started through libmgr's private
 * manager (readiness pipe, never a sleep), and raw-socket helpers for
 * talking the wire protocol directly. Failures abort the test via cmocka. */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mgr/mgr.h>

#include "../common/msg.h"

struct harness {
	mgr_manager *m;
	mgr_client *c; /* connected to m */
	const char *path;
};

/* Starts mgrd (extra args NULL-terminated, may be NULL) and connects. */
void harness_start(struct harness *h, const char *const *args);
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

/* Raw protocol: connect (fd, asserts), send bytes, send a msg, receive a
 * msg within timeout_ms (returns false on EOF/timeout). */
int harness_raw_connect(const char *path);
void harness_raw_send(int fd, const void *p, size_t len);
void harness_raw_send_msg(int fd, const struct msg *m);
bool harness_raw_recv_msg(int fd, struct msg *m, int timeout_ms);
/* Connect + Hello + Welcome (asserts). */
int harness_raw_session(const char *path);
/* True once the peer closed fd (EOF) within timeout_ms. */
bool harness_raw_closed(int fd, int timeout_ms);

/* Runs fn(arg, i) in n child processes and returns how many exited 0. */
int harness_fork_n(int n, int (*fn)(void *arg, int i), void *arg);

#endif
