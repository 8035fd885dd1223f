/* The monitor: sessions that watch every call the manager runs. A watcher
 * subscribes with manager.monitor(filter) and then long-polls
 * manager.monitor_next(max), which answers at once with the calls seen
 * since the last poll, or parks until the next one. Each watcher has a
 * fixed ring of events (allocated when it subscribes); a slow watcher loses
 * the oldest events and is told how many. An event carries the call's
 * arguments and result as text cut to 119 bytes (args are formatted
 * before the call runs, since a method may take them). With no watcher,
 * dispatch pays one branch (srv->monitors == NULL). */
#ifndef MGRD_MONITOR_H
#define MGRD_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

struct call;
struct conn;
struct msg_request;
struct server;

/* A call ended (or parked): code 0, an mgr_err or CALL_PARKED; ns its
 * time in dispatch. Loop thread only. */
void monitor_observe(struct server *srv, const struct call *c, const struct msg_request *req,
		     int code, uint64_t ns);
/* conn's session ends: drop its subscription, if any. */
void monitor_session_end(struct conn *conn);
/* Whether conn is watching. */
bool monitor_watching(const struct server *srv, const struct conn *conn);

/* Manager methods (rows in type-manager.c). */
int monitor_subscribe(struct call *c);
int monitor_next(struct call *c);

#endif
