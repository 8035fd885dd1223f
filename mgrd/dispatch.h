/* Request dispatch: finds the object and the method in tables and runs
 * the method's handler (call.h), in a batch or alone; answers now or, if
 * parked, later. */
#ifndef MGRD_DISPATCH_H
#define MGRD_DISPATCH_H

#include "../common/msg.h"
#include "call.h"

/* Runs one request from conn and answers it (now, or later if parked). */
void dispatch_request(struct server *srv, struct conn *conn, struct msg_request *req);
/* The object with that id (0: the manager), live, or NULL. */
struct object *dispatch_object(struct server *srv, uint64_t id);

#endif
