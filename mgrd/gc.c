/* The cycle collector (gc.h). A collection runs in three phases, each from
 * the collector's own loop event, so no call is ever on the stack:
 *
 *   copy   the ids of the live objects whose type has a refs hook (one
 *          slice, O(objects): a copy, as registry_session_end takes one);
 *   walk   each one's state is visited for the ids it refers to, about
 *          GC_SLICE_WORK entries a slice, other sessions' calls served
 *          between slices: the picture (nodes and edges) may go stale;
 *   sweep  trial deletion on the picture names candidates; then the same
 *          trial deletion runs on the candidates alone, visiting their
 *          states as they are now, and what it still finds unreachable is
 *          deleted — in one slice, so no call runs between the check and
 *          the deletion. A stale picture can only cost a missed cycle
 *          (the drop that made it asks for the next collection), never a
 *          live object.
 *
 * Why the check is enough: a candidate whose refs are all held by other
 * candidates' states, none of them reachable from a candidate held from
 * outside, has no holder but those unreachable states.
 *
 * Deleting: every object to go is held first, then registry_delete'd (its
 * state destroyed: the cycle is cut, calls parked on it are answered
 * ENOOBJ), then let go, so no object is freed while the sweep still walks
 * the list. Ids only are kept between slices, never pointers. */
#include "gc.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/htab.h"
#include "log.h"
#include "registry.h"
#include "row.h"
#include "state.h"

#define GC_DELAY_MS 10 /* after the drop that asks: drops come in bursts */
/* A slice of the walk visits states until it has looked at this many
 * entries (each state's length, plus one): a big dict is one slice. */
#define GC_SLICE_WORK 4096
/* A collection starts no sooner after the last one ended than GC_PACE
 * times what the last one kept the loop busy: at most about 1/(GC_PACE+1)
 * of the loop goes to the collector, however often refs are dropped. */
#define GC_PACE 10

enum gc_phase { GC_IDLE, GC_COPY, GC_WALK, GC_SWEEP };

/* An object of the picture and the refs its state held when visited:
 * edges[edge0 .. edge0 + nedges). */
struct gc_node {
	uint64_t id;
	size_t edge0, nedges;
	uint32_t inner; /* refs to it from the visited states of live nodes */
	bool live;      /* visited, still there, not on a worker thread */
	bool marked;    /* reachable from a root */
};

/* A picture of part of the object graph. */
struct gc_graph {
	struct gc_node *nodes;
	size_t n, cap;
	uint64_t *edges;
	size_t nedges, cap_edges;
	struct idmap index; /* id -> node number + 1 */
	bool oom;
};

static struct gc {
	struct server *srv;
	struct event *ev;
	enum gc_phase phase;
	bool armed;    /* ev is pending */
	bool again;    /* a ref was dropped while a collection ran */
	bool sweeping; /* drops now are the sweep's own deletions */
	struct gc_graph g;     /* the picture the walk makes */
	struct gc_graph check; /* the sweep's candidates, as they are now */
	size_t next;   /* the next node to walk */
	uint64_t t0, busy_ns, calls0, visited, slices, max_slice_ns;
	uint64_t last_end, last_busy;
	struct gc_stats st;
} gc;

/* ---- the picture ---- */

static void gc_graph_free(struct gc_graph *g)
{
	free(g->nodes);
	free(g->edges);
	idmap_free(&g->index);
	memset(g, 0, sizeof(*g));
}

static bool gc_graph_add(struct gc_graph *g, uint64_t id)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 256;
		struct gc_node *n = realloc(g->nodes, cap * sizeof(*n));
		if (!n)
			return false;
		g->nodes = n;
		g->cap = cap;
	}
	g->nodes[g->n] = (struct gc_node){.id = id};
	g->n++;
	return idmap_put(&g->index, id, (void *)(uintptr_t)g->n) == 0;
}

static struct gc_node *gc_graph_node(const struct gc_graph *g, uint64_t id)
{
	uintptr_t i = (uintptr_t)idmap_get(&g->index, id);
	return i ? &g->nodes[i - 1] : NULL;
}

static void gc_edge(uint64_t id, void *arg)
{
	struct gc_graph *g = arg;
	if (g->nedges == g->cap_edges) {
		size_t cap = g->cap_edges ? g->cap_edges * 2 : 1024;
		uint64_t *e = realloc(g->edges, cap * sizeof(*e));
		if (!e) {
			g->oom = true;
			return;
		}
		g->edges = e;
		g->cap_edges = cap;
	}
	g->edges[g->nedges++] = id;
}

/* The object of node n as it is now, if it can be collected at all. */
static struct object *gc_object(const struct gc_node *n)
{
	struct object *o = registry_get(&gc.srv->reg, n->id);
	return o && o->state && !o->busy && o->type->refs ? o : NULL;
}

/* Visits node n's state now: its edges are the refs it holds. Returns
 * the work it took (the entries looked at, about). */
static size_t gc_visit(struct gc_graph *g, struct gc_node *n)
{
	const struct object *o = gc_object(n);
	n->edge0 = g->nedges;
	n->live = o != NULL;
	if (o)
		o->type->refs(o->state, gc_edge, g);
	n->nedges = g->nedges - n->edge0;
	gc.visited++;
	return 1 + (o && o->type->length ? o->type->length(o->state) : 0);
}

/* Trial deletion on g: inner counts the refs from live nodes' states; a
 * node with refs the states do not explain (or gone, or not visited) is
 * a root; roots mark what they reach. Unmarked nodes are the garbage of
 * the picture. False when out of memory (then nothing is garbage). */
static bool gc_mark(struct gc_graph *g)
{
	uint32_t *stack = malloc((g->n + 1) * sizeof(*stack));
	if (!stack)
		return false;
	size_t top = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct gc_node *n = &g->nodes[i];
		n->inner = 0;
		n->live = n->live && gc_object(n);
	}
	for (size_t i = 0; i < g->n; i++)
		for (size_t e = 0; g->nodes[i].live && e < g->nodes[i].nedges; e++) {
			struct gc_node *t = gc_graph_node(g, g->edges[g->nodes[i].edge0 + e]);
			if (t)
				t->inner++;
		}
	for (size_t i = 0; i < g->n; i++) {
		struct gc_node *n = &g->nodes[i];
		const struct object *o = n->live ? gc_object(n) : NULL;
		n->marked = !o || o->refs != n->inner;
		if (n->marked)
			stack[top++] = (uint32_t)i;
	}
	while (top > 0) {
		const struct gc_node *n = &g->nodes[stack[--top]];
		for (size_t e = 0; n->live && e < n->nedges; e++) {
			struct gc_node *t = gc_graph_node(g, g->edges[n->edge0 + e]);
			if (t && !t->marked) {
				t->marked = true;
				stack[top++] = (uint32_t)(t - g->nodes);
			}
		}
	}
	free(stack);
	return true;
}

/* ---- deleting ---- */

/* Deletes the unmarked nodes of g (checked just now, in this slice). */
static size_t gc_delete(struct gc_graph *g)
{
	struct registry *reg = &gc.srv->reg;
	size_t n = 0;
	gc.sweeping = true;
	for (size_t i = 0; i < g->n; i++)
		if (!g->nodes[i].marked)
			registry_ref(gc_object(&g->nodes[i])); /* held until the end */
	for (size_t i = 0; i < g->n; i++) {
		struct object *o = g->nodes[i].marked ? NULL : registry_get(reg, g->nodes[i].id);
		if (o) {
			registry_delete(reg, o);
			n++;
		}
	}
	for (size_t i = 0; i < g->n; i++)
		if (!g->nodes[i].marked)
			registry_unref(reg, g->nodes[i].id);
	gc.sweeping = false;
	return n;
}

/* The picture's garbage, checked against the objects as they are now and
 * deleted. Out of memory: nothing is deleted. */
static size_t gc_sweep(void)
{
	struct gc_graph *check = &gc.check;
	if (!gc_mark(&gc.g))
		return 0;
	for (size_t i = 0; i < gc.g.n && !check->oom; i++)
		if (!gc.g.nodes[i].marked && !gc_graph_add(check, gc.g.nodes[i].id))
			check->oom = true;
	for (size_t i = 0; i < check->n && !check->oom; i++)
		gc_visit(check, &check->nodes[i]);
	size_t n = !check->oom && check->n && gc_mark(check) ? gc_delete(check) : 0;
	if (check->oom)
		log_msg(LOG_WARN, "gc: out of memory; nothing collected this time");
	gc_graph_free(check);
	return n;
}

/* ---- the collection, slice by slice ---- */

static void gc_arm(uint64_t delay_ns)
{
	if (gc.armed || !gc.ev)
		return;
	struct timeval tv = {(time_t)(delay_ns / 1000000000u),
			     (suseconds_t)(delay_ns % 1000000000u / 1000)};
	gc.armed = event_add(gc.ev, &tv) == 0;
}

/* A collection is wanted: after GC_DELAY_MS, and at the pace above. */
static void gc_want(void)
{
	uint64_t now = clock_now_ns(), at = now + GC_DELAY_MS * 1000000ull;
	uint64_t paced = gc.last_end + GC_PACE * gc.last_busy;
	gc_arm((paced > at ? paced : at) - now);
}

static void gc_begin(void)
{
	struct registry *reg = &gc.srv->reg;
	gc.phase = GC_WALK;
	gc.next = 0;
	gc.again = false;
	gc.t0 = clock_now_ns();
	gc.busy_ns = gc.visited = gc.slices = gc.max_slice_ns = 0;
	gc.calls0 = gc.srv->stats.calls;
	gc.st.running = true;
	IDMAP_FOREACH(&reg->by_id, s)
	{
		const struct object *o = s->ptr;
		if (!o->dead && o->state && o->type->refs && !gc_graph_add(&gc.g, o->id)) {
			gc.g.oom = true;
			break;
		}
	}
}

static void gc_end(size_t collected)
{
	uint64_t now = clock_now_ns();
	gc_graph_free(&gc.g);
	gc.phase = GC_IDLE;
	gc.st = (struct gc_stats){
		.runs = gc.st.runs + 1, .collected = gc.st.collected + collected,
		.last_collected = collected, .last_visited = gc.visited,
		.last_us = (now - gc.t0) / 1000, .last_slice_us = gc.max_slice_ns / 1000,
		.last_slices = gc.slices, .last_calls = gc.srv->stats.calls - gc.calls0};
	gc.last_end = now;
	gc.last_busy = gc.busy_ns;
	if (collected)
		log_msg(LOG_DEBUG, "gc: %zu objects in cycles freed (%llu states walked, %llu us)",
			collected, (unsigned long long)gc.visited,
			(unsigned long long)gc.st.last_us);
	if (gc.again)
		gc_want();
}

/* One slice: the copy, GC_SLICE_WORK of the walk, or the sweep. */
static void gc_slice(void)
{
	if (gc.phase == GC_IDLE)
		gc_begin();
	else if (gc.phase == GC_WALK)
		for (size_t work = 0; gc.next < gc.g.n && work < GC_SLICE_WORK; gc.next++)
			work += gc_visit(&gc.g, &gc.g.nodes[gc.next]);
	if (gc.g.oom) {
		log_msg(LOG_WARN, "gc: out of memory; collection abandoned");
		gc.again = true; /* try again later */
		gc_end(0);
	} else if (gc.phase == GC_WALK && gc.next == gc.g.n) {
		gc.phase = GC_SWEEP;
	} else if (gc.phase == GC_SWEEP) {
		gc_end(gc_sweep());
	}
}

static void gc_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	gc.armed = false;
	if (gc.srv->stopping)
		return;
	uint64_t t = clock_now_ns();
	gc_slice();
	t = clock_now_ns() - t;
	gc.busy_ns += t;
	gc.slices++;
	if (t > gc.max_slice_ns)
		gc.max_slice_ns = t;
	if (gc.phase != GC_IDLE) /* the next slice after the loop's next turn */
		gc_arm(0);
	else
		gc.st.running = false;
}

/* ---- the hook and the setup ---- */

/* registry_release: a reference to o, which lives on, was dropped. */
static void gc_dropped(struct registry *r, struct object *o)
{
	(void)r;
	if (gc.sweeping) { /* one the sweep deletes, or else it may be garbage now */
		const struct gc_node *n = gc_graph_node(&gc.check, o->id);
		gc.again = gc.again || !n || n->marked;
		return;
	}
	if (gc.phase != GC_IDLE)
		gc.again = true;
	else
		gc_want();
}

void gc_setup(struct server *srv)
{
	gc_fini(gc.srv);
	memset(&gc, 0, sizeof(gc));
	gc.srv = srv;
	gc.ev = event_new(srv->base, -1, 0, gc_cb, NULL);
	if (!gc.ev)
		log_msg(LOG_WARN, "gc: no event (out of memory): cycles will not be collected");
	srv->reg.dropped = gc.ev ? gc_dropped : NULL;
}

void gc_fini(struct server *srv)
{
	if (!srv || gc.srv != srv)
		return;
	srv->reg.dropped = NULL;
	if (gc.ev)
		event_free(gc.ev);
	gc_graph_free(&gc.g);
	gc_graph_free(&gc.check);
	memset(&gc, 0, sizeof(gc));
}

/* ---- what types and the manager call ---- */

void gc_value_refs(const mgr_value *v, gc_visit_fn visit, void *arg)
{
	if (!v)
		return;
	if (v->kind == MGR_REF) {
		visit(v->u.ref.id, arg);
	} else if (v->kind == MGR_LIST) {
		for (size_t i = 0; i < v->u.list.len; i++)
			gc_value_refs(v->u.list.items[i], visit, arg);
	} else if (v->kind == MGR_MAP) {
		HTAB_FOREACH(v->u.map, e)
		gc_value_refs(&e->val, visit, arg);
	}
}

void gc_stats(struct gc_stats *out) { *out = gc.st; }

mgr_value *gc_info(mgr_value *row)
{
	const struct gc_stats *s = &gc.st;
	const struct {
		const char *key;
		uint64_t val;
	} f[] = {
		{"gc_runs", s->runs},
		{"gc_collected", s->collected},
		{"gc_last_collected", s->last_collected},
		{"gc_last_visited", s->last_visited},
		{"gc_last_us", s->last_us},
		{"gc_last_slice_us", s->last_slice_us},
		{"gc_last_slices", s->last_slices},
		{"gc_last_calls", s->last_calls},
		{"gc_running", s->running},
	};
	for (size_t i = 0; row && i < sizeof(f) / sizeof(f[0]); i++)
		if (mgr_value_map_set(row, mgr_value_new_string(f[i].key),
				      mgr_value_new_int((int64_t)f[i].val))) {
			mgr_value_free(row);
			row = NULL;
		}
	return row;
}
