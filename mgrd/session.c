/* Sessions (see session.h): references a session holds, replies that hand
 * it references, and the one place where a session ends. */
#include "session.h"

#include <event2/event.h>
#include <stdlib.h>

#include "../common/htab.h"
#include "conn.h"
#include "registry.h"
#include "state.h"

/* ---- references ---- */

int session_ref_add(struct conn *c, struct object *o)
{
	uintptr_t n = (uintptr_t)idmap_get(&c->refs, o->id);
	if (idmap_put(&c->refs, o->id, (void *)(n + 1)))
		return MGR_ENOMEM;
	registry_ref(o);
	return 0;
}

int session_ref_drop(struct conn *c, uint64_t id)
{
	uintptr_t n = (uintptr_t)idmap_get(&c->refs, id);
	if (n == 0)
		return MGR_ENOOBJ;
	if (n == 1)
		idmap_del(&c->refs, id);
	else
		idmap_put(&c->refs, id, (void *)(n - 1));
	registry_release(&c->srv->reg, id);
	return 0;
}

uint32_t session_refs_of(const struct conn *c, uint64_t id)
{
	return (uint32_t)(uintptr_t)idmap_get(&c->refs, id);
}

/* The session gets a reference for each ref inside v (a reply leaving for
 * it), so the objects stay alive until it adopts or drops them. */
static void session_hand_refs(struct conn *c, const mgr_value *v)
{
	if (!v || value_refs_alive() == 0)
		return; /* no ref values exist anywhere: nothing to walk */
	if (v->kind == MGR_REF) {
		struct object *o = registry_get(&c->srv->reg, v->u.ref.id);
		if (o)
			session_ref_add(c, o);
	} else if (v->kind == MGR_LIST) {
		for (size_t i = 0; i < v->u.list.len; i++)
			session_hand_refs(c, v->u.list.items[i]);
	} else if (v->kind == MGR_MAP) {
		HTAB_FOREACH(v->u.map, e)
		session_hand_refs(c, &e->val);
	}
}

/* ---- replies ---- */

void session_reply(struct conn *c, uint64_t id, int code, mgr_value *value, const char *message)
{
	if (c->state != CONN_DEAD)
		session_hand_refs(c, value);
	conn_reply(c, id, code, value, message);
}

void session_reply_borrowed(struct conn *c, uint64_t id, const mgr_value *v)
{
	if (c->state != CONN_DEAD)
		session_hand_refs(c, v);
	conn_reply_borrowed(c, id, v);
}

/* ---- the end ---- */

/* Gives back everything c's session held: parked calls (their gone
 * hooks), monitors, holds (robust locks, permits...), references. Objects
 * may be freed here, and other sessions may be found dead and queued:
 * this runs only from the loop (or at shutdown), with no call on the
 * stack. */
static void session_release(struct conn *c)
{
	struct registry *reg = &c->srv->reg;
	for (size_t i = 0; i < SERVER_END_HOOKS; i++) /* parked calls, monitors */
		if (c->srv->hooks.session_end[i])
			c->srv->hooks.session_end[i](c);
	registry_session_end(reg, c);
	struct idmap refs = c->refs; /* taken whole: frees below cannot reach it */
	c->refs = (struct idmap){0};
	IDMAP_FOREACH(&refs, s)
	for (uintptr_t n = (uintptr_t)s->ptr; n > 0; n--)
		registry_release(reg, s->id);
	idmap_free(&refs);
}

void session_end_queued(struct server *srv)
{
	for (struct conn *c; (c = srv->ended);) {
		srv->ended = c->ended_next;
		c->ended_next = NULL;
		session_release(c);
		conn_free(c);
	}
}

static void session_end_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_end_queued(arg);
}

int session_setup(struct server *srv)
{
	srv->end_ev = event_new(srv->base, -1, 0, session_end_cb, srv);
	return srv->end_ev ? 0 : MGR_ENOMEM;
}
