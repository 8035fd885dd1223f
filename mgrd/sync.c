/* Helpers shared by the synchronisation types (see sync.h): a waiter is
 * served only if its process is still connected, so an item or a lock is
 * never handed to a process that died before the loop read its EOF. A dead
 * one is only detached here; its session ends later, at one place in the
 * loop (session.h), never inside the operation that found it. */
#include "sync.h"

#include <poll.h>

#include "../common/msg.h"
#include "conn.h"
#include "call.h"

int sync_check_timeout(struct call *c, bool blocking)
{
	const char *what = c->method ? c->method->name : "call";
	if (c->timeout_ms < 0)
		return call_fail(c, MGR_EARGS, "%s.%s: timeout must be >= 0 ms, got %lld",
				 c->obj->type->name, what, (long long)c->timeout_ms);
	if (!blocking && c->timeout_ms != MSG_FOREVER)
		return call_fail(c, MGR_EARGS, "%s.%s: can't specify a timeout for a non-blocking call",
				 c->obj->type->name, what);
	return 0;
}

int sync_blocking_arg(struct call *c, size_t i, bool *blocking)
{
	int err = arg_bool_opt(c, i, true, blocking);
	return err ? err : sync_check_timeout(c, *blocking);
}

bool sync_alive(const struct conn *conn)
{
	struct pollfd p = {.fd = conn->fd, .events = POLLRDHUP};
	if (conn->fd < 0 || conn->state == CONN_DEAD)
		return false;
	return poll(&p, 1, 0) == 0 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

struct waiter *sync_head(struct waitq *q)
{
	while (q->head && !sync_alive(q->head->conn))
		park_detach(q->head); /* its session ends when the loop reads the EOF */
	return q->head;
}

void sync_timeout_false(struct waiter *w) { park_answer(w, 0, mgr_value_new_bool(false), NULL); }

void sync_timeout_zero(struct waiter *w) { park_answer(w, 0, mgr_value_new_int(0), NULL); }

mgr_value *sync_pids(const struct waitq *q)
{
	mgr_value *l = mgr_value_new_list();
	for (const struct waiter *w = q->head; l && w; w = w->next)
		if (mgr_value_list_append(l, mgr_value_new_int(conn_pid(w->conn)))) {
			mgr_value_free(l);
			return NULL;
		}
	return l;
}
