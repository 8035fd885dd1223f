/* A whole call, sent and waited for (call.c). Every request is checked
 * against the manager's limits as client_submit writes it: a value over
 * what the Welcome announced fails that call alone, with MGR_ELIMIT and a
 * message naming the limit; nothing is sent, so the session stays. */
#ifndef LIBMGR_CALL_H
#define LIBMGR_CALL_H

#include "client.h"

/* A whole call on o: check, send, wait (req->timeout_ms for a blocking
 * method). req borrowed; *result (may be NULL): caller owns. */
int call_run(mgr_object *o, struct msg_request *req, mgr_value **result);

#endif
