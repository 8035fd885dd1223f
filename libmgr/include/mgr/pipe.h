/* mgr/pipe.h: Python's Pipe() hosted by the manager: two ends, each an
 * object, each meant for one process. What one end sends the other
 * receives, in order. An end belongs to the first session that uses it
 * (send, recv, poll), or to the last that claimed it (mgr_pipe_claim);
 * once that session ends (its process died),
 * once the end is closed, or once its object is gone, the other end reads
 * what was already sent and then MGR_EEOF (Python's EOFError), and a send
 * to it fails with MGR_EEOF (Python's BrokenPipeError) — never a hang.
 *
 * Handing an end to a process: a forked child uses the parent's handle (its
 * first call opens its own connection); it calls mgr_pipe_claim first, so
 * that its death is the other end's EOF (sending or receiving first does
 * the same if no session used the end before). Another
 * process takes it by id: mgr_object_lookup_id(c, id, "pipe", &end). The
 * parent keeps its handle on the end it handed until the child has one of
 * its own (an anonymous end ends with its last reference: then the other
 * end sees EOF too).
 *
 * Timeouts are mgr/sync.h's: 0 polls, MGR_FOREVER waits as long as it
 * takes. Pipes are not saved in snapshots. See docs/sync.md. */
#ifndef MGR_PIPE_H
#define MGR_PIPE_H

#include <stdbool.h>
#include <stdint.h>

#include "mgr/mgr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Zeroed: Python's Pipe() (duplex, unbounded, anonymous). */
typedef struct mgr_pipe_opts {
	const char *name; /* end 0's name; NULL: anonymous */
	bool one_way;     /* Pipe(duplex=False): end 0 only receives, end 1 only sends */
	int64_t maxsize;  /* messages waiting at one end at most; 0: no limit */
	bool fail_full;   /* a send to a full end fails with MGR_EFULL instead of waiting */
} mgr_pipe_opts;

/* A new pipe: *end0 and *end1 (caller owns both — free with
 * mgr_object_release()); opts may be NULL. Both untouched on failure. */
MGR_API int mgr_pipe_new(mgr_client *c, const mgr_pipe_opts *opts, mgr_object **end0,
			 mgr_object **end1);
/* The other end of end (a new handle: caller owns — free with
 * mgr_object_release()); MGR_EEOF if it is gone. */
MGR_API int mgr_pipe_peer(mgr_object *end, mgr_object **other);
/* Sends v (consumed even on failure) to the other end; when its inbox is
 * full, waits at most timeout_ms for room (MGR_EFULL then; with fail_full,
 * MGR_EFULL at once: pass MGR_FOREVER as the timeout). MGR_EEOF if the other
 * end is closed; MGR_ESTATE if this one is, or only receives. */
MGR_API int mgr_pipe_send(mgr_object *end, mgr_value *v, int64_t timeout_ms);
/* The next message sent to end (caller owns *v), waiting at most timeout_ms
 * (MGR_ETIMEDOUT then; Python's recv() is MGR_FOREVER). MGR_EEOF once none
 * is left and the other end is closed. */
MGR_API int mgr_pipe_recv(mgr_object *end, int64_t timeout_ms, mgr_value **v);
/* Python's poll(timeout): *ready is whether recv would answer at once (a
 * message, or EOF), waiting at most timeout_ms for that (0: now). */
MGR_API int mgr_pipe_poll(mgr_object *end, int64_t timeout_ms, bool *ready);
/* Makes this session the end's user, so that its end is the other end's
 * EOF (what a process handed an end calls first). */
MGR_API int mgr_pipe_claim(mgr_object *end);
/* Closes end for both processes: the other end sees EOF. The handle must
 * still be released. */
MGR_API int mgr_pipe_close(mgr_object *end);

#ifdef __cplusplus
}
#endif
#endif
