/* Sessions: what a connection owns above its bytes — references to objects,
 * replies that hand it references, and its end. A session's end is an
 * event: conn_close only marks the connection and queues it; the end runs
 * at one place in the loop (session_end_cb), never in the middle of
 * another object's operation, so no object, waiter or connection that
 * code up the stack still uses is freed under it (docs/design.md,
 * "Lifetimes"). */
#ifndef MGRD_SESSION_H
#define MGRD_SESSION_H

#include <stdint.h>

#include "../common/value.h"

struct conn;
struct object;
struct server;

/* Creates the event that ends queued sessions. 0 or MGR_ENOMEM. */
int session_setup(struct server *srv);
/* Ends every queued session now (server shutdown, outside the loop). */
void session_end_queued(struct server *srv);

/* Queues a reply; the session gets a reference for each ref inside the
 * value, so those objects live until it adopts or drops them. value
 * consumed; message borrowed (NULL: default). */
void session_reply(struct conn *c, uint64_t id, int code, mgr_value *value, const char *message);
/* The same with a value that stays the caller's. */
void session_reply_borrowed(struct conn *c, uint64_t id, const mgr_value *v);

/* Session references: one more to o (0 or MGR_ENOMEM); one fewer to id
 * (MGR_ENOOBJ if the session holds none); how many it holds. */
int session_ref_add(struct conn *c, struct object *o);
int session_ref_drop(struct conn *c, uint64_t id);
uint32_t session_refs_of(const struct conn *c, uint64_t id);

#endif
