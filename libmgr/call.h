/* Calls checked against the manager's limits before they leave (call.c):
 * a value over what the Welcome announced fails that call alone, with
 * MGR_ELIMIT and a message naming the limit; nothing is sent, so the
 * session and everything it holds stay. */
#ifndef LIBMGR_CALL_H
#define LIBMGR_CALL_H

#include "client.h"

/* With c's lock held, just before client_submit(c, o, req): 0, or
 * MGR_ELIMIT with this thread's error message set. req borrowed. */
int call_check(mgr_client *c, const mgr_object *o, const struct msg_request *req);

/* A whole call on o: check, send, wait (req->timeout_ms for a blocking
 * method). req borrowed; *result (may be NULL): caller owns. */
int call_run(mgr_object *o, struct msg_request *req, mgr_value **result);

#endif
