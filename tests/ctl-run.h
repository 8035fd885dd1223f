/* Running a program from a test and capturing its output: mgrctl, mgrd,
 * systemd-socket-activate. Failures to start abort the test (cmocka). */
#ifndef TESTS_CTL_RUN_H
#define TESTS_CTL_RUN_H

#include <jansson.h>
#include <sys/types.h>

struct run {
	int status; /* exit code, or 128 + signal */
	char *out, *err; /* NUL-terminated; free with run_free */
};

/* Runs argv (argv[0] a path) to completion. */
void run_wait(const char *const argv[], struct run *r);
void run_free(struct run *r);
/* Starts argv with stdout and stderr on pipes (*out_fd, *err_fd; either
 * pointer may be NULL to inherit); returns the pid. */
pid_t run_start(const char *const argv[], int *out_fd, int *err_fd);
/* Reads one line from fd into buf within timeout_ms; 0, or -1 on EOF or
 * timeout. */
int run_read_line(int fd, char *buf, size_t size, int timeout_ms);
/* Waits for pid: its exit code, or 128 + signal. */
int run_reap(pid_t pid);

/* mgrctl ($MGR_MGRCTL) with first and the NULL-terminated arguments after
 * it, to completion: its exit code; r keeps the output (run_free). */
int ctl_run(struct run *r, const char *first, ...);
/* `mgrctl --json first ...` (NULL-terminated), which must succeed: its
 * parsed stdout (json_decref). */
json_t *ctl_json(const char *first, ...);
/* The element of array a whose key is the string want, or NULL. */
json_t *ctl_find_str(json_t *a, const char *key, const char *want);

#endif
