/* Messages as the rest of the tree sees them: plain C structs holding
 * mgr_values. frame.c turns them into wire frames and back; no other file
 * sees a generated protobuf-c type. */
#ifndef COMMON_MSG_H
#define COMMON_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "value.h"

#define MGR_PROTOCOL_VERSION 1
#define FRAME_HEADER 4
/* A call's timeout when it has none (the public MGR_FOREVER). */
#define MSG_FOREVER INT64_MAX

enum msg_kind { MSG_NONE, MSG_HELLO, MSG_WELCOME, MSG_REQUEST, MSG_REPLY };

struct frame_limits {
	uint32_t max_frame; /* payload bytes, header excluded */
	uint32_t max_depth; /* nesting of values */
	uint32_t max_items; /* values + map entries + batch calls in one frame */
	uint32_t max_pending;
};

struct msg_hello {
	uint32_t version;
	int32_t pid;
	char *name;
	uint32_t ring; /* ring bytes each way wanted; 0: the socket only */
	bool polls;    /* polls its socket for replies (proto/README.md) */
};

struct msg_welcome {
	uint32_t version;
	uint8_t instance[16];
	uint64_t session;
	int32_t pid;
	struct frame_limits limits;
	uint32_t ring; /* ring bytes each way granted (fds ride with it); 0: none */
};

/* One method call: the request's own, or one of a batch. */
struct msg_call {
	char *method;
	mgr_value **args;
	size_t nargs;
};

struct msg_request {
	uint64_t id, object, thread;
	char *method;
	mgr_value **args;
	size_t nargs;
	/* The timeout, two fields on the wire (proto/README.md, "Timeouts"):
	 * timeout_ms as version-1 clients send it (0: forever), and wait_ms,
	 * which wins when timed is set (0: do not wait; < 0: refused). Read
	 * it with msg_timeout(). */
	uint32_t timeout_ms;
	bool timed;
	int64_t wait_ms;
	struct msg_call *batch; /* nbatch calls instead of method/args */
	size_t nbatch;
	/* Where a decoded request's method and arguments usually live (no
	 * allocation per call); method / args point here when they fit. */
	char method_buf[32];
	mgr_value *args_buf[4];
};

struct msg_reply {
	uint64_t id;
	uint32_t code;   /* 0: value is the result */
	mgr_value *value; /* owned; NULL means nil */
	char *message;   /* error message when code != 0 */
	bool spin;       /* the manager polls for the next request (a hint) */
};

struct msg {
	enum msg_kind kind;
	/* A decoded reply's int or bool result, left unallocated by
	 * frame_decode_scalars (a caller that passes no result never makes a
	 * value of it): scalar_kind MGR_INT or MGR_BOOL (scalar 0 or 1) and
	 * u.reply.value NULL. MGR_NIL (what every other decode of a reply
	 * leaves): u.reply.value holds the result (NULL: nil). */
	uint8_t scalar_kind;
	int64_t scalar;
	union {
		struct msg_hello hello;
		struct msg_welcome welcome;
		struct msg_request request;
		struct msg_reply reply;
	} u;
};

/* q's timeout in ms: MSG_FOREVER when it has none, else what wait_ms or
 * timeout_ms say (negative: a client error, for the receiver to refuse). */
int64_t msg_timeout(const struct msg_request *q);
/* Sets q's timeout the way every encoder should: ms >= 0 or MSG_FOREVER
 * (other negatives are sent as given, for the receiver to refuse). A
 * finite one also goes in timeout_ms (at least 1), so a manager that
 * predates wait_ms still bounds the call. */
void msg_set_timeout(struct msg_request *q, int64_t ms);

/* Frees what a decoded msg owns and resets it to MSG_NONE, the member it
 * held zeroed (a request's method_buf / args_buf excepted: they mean
 * nothing until method / args point at them). */
void msg_clear(struct msg *m);
/* Frees what a reply owns (value, message); its fields are left as they
 * are: for a reply about to be dropped, without msg_clear's reset. */
void msg_reply_free(struct msg_reply *y);

#endif
