/* libFuzzer target: sessions that share objects and die (issue 11). Four
 * fake clients, each on a socketpair with its own Hello, drive one
 * in-process server through the real read path (conn.c, dispatch, the
 * built-in types, parking, the deferred session end). The input is a list
 * of operations: create/open/lookup/adopt/release/delete an object, call a
 * method, kill a session (its client end closed and the loop run at once,
 * or closed only once the next request is sent, so that mgrd runs that
 * request before it reads the hang-up: a process that died while another's
 * call was on its way). Every reply is checked against a model of what
 * proto/README.md and docs/sync.md promise; a mismatch aborts, so libFuzzer
 * keeps the input. FUZZ_SESSIONS_TRACE=1 prints the operations as they run.
 *
 * Input: one operation per byte b: session b & 3, kind (b >> 2) & 15, then
 * the bytes that kind reads (fz_step). Kinds: 0-7 call [slot, method,
 * arg]; 8 create, 9 open [slot, type, ctor arg]; 10 create anonymous [slot,
 * type, ctor arg]; 11 kill; 12 kill, seen after the next request; 13
 * lookup or adopt [slot, which]; 14 release [slot]; 15 delete [slot].
 * Slots 0-7 are the named objects "n0".."n7", 8-11 anonymous ones; a dead
 * session's next operation reconnects it as a new session. The seeds in
 * fuzz/corpus/sessions are written in these terms. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/frame.h"
#include "../mgrd/conn.h"
#include "../mgrd/log.h"
#include "../mgrd/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NSESS 4
#define NSLOT 12
#define NNAMED 8
#define NOBJ 32     /* objects the model follows in one input */
#define MAXW 24     /* parked calls it follows per object */
#define MAXITEMS 32 /* list and queue items */
#define NKEYS 6     /* dict keys 0..5 */
#define MAXOPS 400
#define NEXP 512

enum { T_COUNTER, T_DICT, T_LIST, T_LOCK, T_SEM, T_QUEUE, T_EVENT, T_BARRIER, NTYPES };
static const char *const fz_tname[NTYPES] = {"counter", "dict",  "list",  "lock",
					      "semaphore", "queue", "event", "barrier"};

/* A parked call. n: a queue putter's item, a barrier waiter's index. */
enum { W_GET, W_PUT, W_ACQ, W_WAIT };
struct mwait {
	int sess, kind;
	uint64_t id;
	int64_t n;
};

/* The model of one object. */
struct mobj {
	int type;
	bool live, anon;
	uint64_t id;         /* learned from the reply that created it */
	int refs[NSESS];     /* references held by the session in each slot */
	int64_t v;           /* counter value, semaphore permits, event flag,
				barrier parties, queue maxsize (0: unbounded) */
	int holder;          /* lock: the holding session's slot, -1: unlocked */
	bool robust, owner_died, broken;
	int64_t held[NSESS]; /* robust semaphore: each session's net permits, acquired
			      * minus released (negative: it released more than it
			      * took, and what it takes later is paid for) */
	int nkeys;           /* dict, in insertion order */
	int64_t keys[NKEYS], vals[NKEYS];
	int nitems; /* list, queue (front first) */
	int64_t items[MAXITEMS];
	int nw; /* parked calls, first come first */
	struct mwait w[MAXW];
};

/* A reply the model expects: a value (NULL: nil), or a ref to object obj. */
struct mexp {
	int sess, code, ref_obj;
	uint64_t id;
	mgr_value *v;
};

struct msess {
	int fd;
	bool alive, welcomed;
	size_t inlen;
	uint8_t in[1 << 16];
};

static struct {
	struct server srv;
	struct msess s[NSESS];
	struct mobj o[NOBJ];
	int nobj;
	int slot[NSLOT]; /* object of each slot, -1: none yet */
	struct mexp exp[NEXP];
	int nexp;
	uint64_t next_id;
	int pending; /* a killed session whose hang-up the loop has not read, or -1 */
	int linger_fd; /* its client end, closed once the next request is sent */
	int ops;
	bool trace;
} fz;

static const struct frame_limits fz_limits = {1 << 20, 64, 1 << 20, 4096};

static void fz_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fuzz-sessions: ORACLE MISMATCH at operation %d: ", fz.ops);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(rerun the input with FUZZ_SESSIONS_TRACE=1 to see the operations)\n");
	abort();
}

static void fz_log(const char *fmt, ...)
{
	va_list ap;
	if (!fz.trace)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* ---- expectations ---- */

static mgr_value *I(int64_t i) { return mgr_value_new_int(i); }
static mgr_value *B(bool b) { return mgr_value_new_bool(b); }

/* v consumed. Replies to a dead session cannot be read: not expected. */
static void fz_expect_ref(int sess, uint64_t id, int code, mgr_value *v, int ref_obj)
{
	if (!fz.s[sess].alive) {
		mgr_value_free(v);
		return;
	}
	if (fz.nexp == NEXP)
		fz_fail("more than %d replies expected at once", NEXP);
	fz.exp[fz.nexp++] = (struct mexp){.sess = sess, .id = id, .code = code, .v = v,
					  .ref_obj = ref_obj};
}

static void fz_expect(int sess, uint64_t id, int code, mgr_value *v)
{
	fz_expect_ref(sess, id, code, v, -1);
}

static bool fz_is_nil(const mgr_value *v) { return !v || mgr_value_kind(v) == MGR_NIL; }

static void fz_check_ref(const struct mexp *e, const mgr_value *got)
{
	struct mobj *o = &fz.o[e->ref_obj];
	if (!got || mgr_value_kind(got) != MGR_REF ||
	    strcmp(mgr_value_ref_type(got), fz_tname[o->type]) != 0)
		fz_fail("session %d request %llu: expected a ref to a %s", e->sess,
			(unsigned long long)e->id, fz_tname[o->type]);
	uint64_t id = mgr_value_ref_id(got);
	if (o->id == 0) { /* a new object: a new id */
		for (int i = 0; i < fz.nobj; i++)
			if (fz.o[i].id == id)
				fz_fail("new object got the id %llu of object %d",
					(unsigned long long)id, i);
		o->id = id;
	} else if (o->id != id) {
		fz_fail("session %d request %llu: ref to #%llu, expected #%llu", e->sess,
			(unsigned long long)e->id, (unsigned long long)id,
			(unsigned long long)o->id);
	}
}

static void fz_check_reply(int k, const struct msg_reply *r)
{
	int i = 0;
	while (i < fz.nexp && !(fz.exp[i].sess == k && fz.exp[i].id == r->id))
		i++;
	char got[256], want[256];
	mgr_value_format(r->value, got, sizeof(got));
	if (i == fz.nexp)
		fz_fail("session %d got an unexpected reply to request %llu: code %u value %s (%s)",
			k, (unsigned long long)r->id, r->code, got, r->message ? r->message : "");
	struct mexp e = fz.exp[i];
	fz.exp[i] = fz.exp[--fz.nexp];
	mgr_value_format(e.v, want, sizeof(want));
	if ((int)r->code != e.code)
		fz_fail("session %d request %llu: code %u (%s) value %s, expected code %d value %s", k,
			(unsigned long long)r->id, r->code, r->message ? r->message : "", got,
			e.code, want);
	if (e.code == 0 && e.ref_obj >= 0)
		fz_check_ref(&e, r->value);
	else if (e.code == 0 && !(fz_is_nil(e.v) ? fz_is_nil(r->value)
						 : r->value && mgr_value_equal(e.v, r->value)))
		fz_fail("session %d request %llu: value %s, expected %s", k,
			(unsigned long long)r->id, got, want);
	fz_log("  reply s%d #%llu: code %u %s\n", k, (unsigned long long)r->id, r->code, got);
	mgr_value_free(e.v);
}

static void fz_check_done(void)
{
	if (fz.nexp)
		fz_fail("session %d got no reply to request %llu (%d replies missing)",
			fz.exp[0].sess, (unsigned long long)fz.exp[0].id, fz.nexp);
}

/* ---- the clients' side: bytes ---- */

static void fz_frame(int k, const uint8_t *p, size_t len)
{
	struct msg m = {0};
	char err[160];
	if (frame_decode(p, len, &fz_limits, &m, err, sizeof(err)))
		fz_fail("session %d: undecodable frame from mgrd: %s", k, err);
	if (!fz.s[k].welcomed) {
		if (m.kind != MSG_WELCOME)
			fz_fail("session %d: expected a Welcome, got frame kind %d", k, m.kind);
		fz.s[k].welcomed = true;
	} else if (m.kind != MSG_REPLY) {
		fz_fail("session %d: frame kind %d from mgrd", k, m.kind);
	} else {
		fz_check_reply(k, &m.u.reply);
	}
	msg_clear(&m);
}

static void fz_frames(int k)
{
	struct msess *s = &fz.s[k];
	size_t off = 0;
	while (s->inlen - off >= FRAME_HEADER) {
		size_t n = frame_get_len(s->in + off);
		if (n > sizeof(s->in) - FRAME_HEADER)
			fz_fail("session %d: a %zu-byte frame", k, n);
		if (s->inlen - off < FRAME_HEADER + n)
			break;
		fz_frame(k, s->in + off + FRAME_HEADER, n);
		off += FRAME_HEADER + n;
	}
	memmove(s->in, s->in + off, s->inlen - off);
	s->inlen -= off;
}

/* Reads what mgrd sent every live session; true if anything came. */
static bool fz_read_all(void)
{
	bool got = false;
	for (int k = 0; k < NSESS; k++) {
		struct msess *s = &fz.s[k];
		while (s->alive) {
			ssize_t n = recv(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen, 0);
			if (n == 0)
				fz_fail("mgrd closed session %d", k);
			if (n < 0)
				break;
			s->inlen += (size_t)n;
			got = true;
			fz_frames(k);
		}
	}
	return got;
}

/* A lingering death: the client end closes after the next request is
 * sent and before the loop runs, so mgrd reads that request before the
 * hang-up (as when a process dies while another's call is on its way). */
static void fz_linger_close(void)
{
	if (fz.linger_fd >= 0)
		close(fz.linger_fd);
	fz.linger_fd = -1;
}

/* Runs the loop until nothing more comes and no session end is queued. */
static void fz_settle(void)
{
	fz_linger_close();
	for (int idle = 0; idle < 3 || fz.srv.ended;) {
		event_base_loop(fz.srv.base, EVLOOP_NONBLOCK);
		idle = fz_read_all() ? 0 : idle + 1;
	}
	fz.pending = -1;
}

static void fz_send(int k, const struct msg *m)
{
	uint8_t *p;
	size_t n, off = 0;
	if (frame_encode(m, &p, &n))
		abort();
	while (off < n) {
		ssize_t r = send(fz.s[k].fd, p + off, n - off, MSG_NOSIGNAL);
		if (r > 0)
			off += (size_t)r;
		else if (errno == EAGAIN)
			event_base_loop(fz.srv.base, EVLOOP_NONBLOCK), fz_read_all();
		else
			fz_fail("session %d: send: %s", k, strerror(errno));
	}
	free(p);
}

/* args consumed. */
static void fz_request(int k, uint64_t id, uint64_t object, const char *method,
		       mgr_value **args, size_t nargs)
{
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = id, .object = object, .method = (char *)method,
					   .args = args, .nargs = nargs, .thread = 1};
	if (fz.trace) {
		fz_log("  s%d #%llu: object %llu %s(", k, (unsigned long long)id,
		       (unsigned long long)object, method);
		for (size_t i = 0; i < nargs; i++) {
			char buf[64];
			fz_log("%s%s", i ? ", " : "", mgr_value_format(args[i], buf, sizeof(buf)));
		}
		fz_log(")\n");
	}
	fz_send(k, &m);
	fz_linger_close();
	for (size_t i = 0; i < nargs; i++)
		mgr_value_free(args[i]);
}

static void fz_connect(int k)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		abort();
	if (!conn_new(&fz.srv, sv[0], 100 + k, getuid(), getgid()))
		abort();
	struct msess *s = &fz.s[k];
	s->fd = sv[1];
	s->alive = true;
	s->welcomed = false;
	s->inlen = 0;
	struct msg m = {.kind = MSG_HELLO};
	m.u.hello = (struct msg_hello){.version = 1, .pid = 100 + k, .name = (char *)"fz"};
	fz_log("connect s%d\n", k);
	fz_send(k, &m);
	fz_settle();
	if (!s->welcomed)
		fz_fail("session %d: no Welcome", k);
}

/* ---- the model: parked calls ---- */

static int fz_first(const struct mobj *o, int kind)
{
	for (int i = 0; i < o->nw; i++)
		if (o->w[i].kind == kind)
			return i;
	return -1;
}

static struct mwait fz_unpark(struct mobj *o, int i)
{
	struct mwait w = o->w[i];
	memmove(o->w + i, o->w + i + 1, (size_t)(o->nw - i - 1) * sizeof(*o->w));
	o->nw--;
	return w;
}

static void fz_park(struct mobj *o, int sess, uint64_t id, int kind, int64_t n)
{
	o->w[o->nw++] = (struct mwait){.sess = sess, .kind = kind, .id = id, .n = n};
}

/* Every parked call answered code (no value). */
static void fz_answer_all(struct mobj *o, int code)
{
	for (int i = 0; i < o->nw; i++)
		fz_expect(o->w[i].sess, o->w[i].id, code, NULL);
	o->nw = 0;
}

/* Deleted, or an anonymous object's last reference went. */
static void fz_destroy(struct mobj *o)
{
	o->live = false;
	fz_answer_all(o, MGR_ENOOBJ);
}

static int fz_total_refs(const struct mobj *o)
{
	int n = 0;
	for (int k = 0; k < NSESS; k++)
		n += o->refs[k];
	return n;
}

/* A free lock goes to its first waiter, who reads the owner-died mark. */
static void fz_lock_pass(struct mobj *o)
{
	int i = fz_first(o, W_ACQ);
	if (i < 0 || o->holder >= 0)
		return;
	struct mwait w = fz_unpark(o, i);
	o->holder = w.sess;
	fz_expect(w.sess, w.id, 0, I(1 | (o->owner_died ? 2 : 0)));
	o->owner_died = false;
}

static void fz_sem_wake(struct mobj *o)
{
	int i;
	while (o->v > 0 && (i = fz_first(o, W_ACQ)) >= 0) {
		struct mwait w = fz_unpark(o, i);
		if (o->robust)
			o->held[w.sess]++;
		o->v--;
		fz_expect(w.sess, w.id, 0, B(true));
	}
}

static void fz_barrier_break(struct mobj *o)
{
	o->broken = true;
	fz_answer_all(o, MGR_EBROKEN);
}

/* Session k ended: its parked calls go (a barrier it waited on breaks),
 * then what it held (robust locks and semaphore permits), then its
 * references (an anonymous object without any ends). */
static void fz_model_end(int k)
{
	for (int i = 0; i < fz.nobj; i++) {
		struct mobj *o = &fz.o[i];
		bool had = false;
		for (int j = 0; j < o->nw;)
			if (o->w[j].sess == k)
				fz_unpark(o, j), had = true;
			else
				j++;
		if (had && o->type == T_BARRIER)
			fz_barrier_break(o);
	}
	for (int i = 0; i < fz.nobj; i++) {
		struct mobj *o = &fz.o[i];
		if (o->live && o->type == T_LOCK && o->robust && o->holder == k) {
			o->holder = -1;
			o->owner_died = true;
			fz_lock_pass(o);
		}
		int64_t net = o->held[k]; /* the session's count goes, whatever its sign */
		o->held[k] = 0;
		if (o->live && o->type == T_SEM && net > 0) {
			o->v += net;
			fz_sem_wake(o);
		}
	}
	for (int i = 0; i < fz.nobj; i++) {
		struct mobj *o = &fz.o[i];
		bool had = o->refs[k] > 0;
		o->refs[k] = 0;
		if (had && o->anon && o->live && fz_total_refs(o) == 0)
			fz_destroy(o);
	}
}

/* Whether k's death may be seen by mgrd only after the next operation with
 * the same replies: not if it frees something the next operation could
 * observe either way (a lock, permits, a barrier, an object). */
static bool fz_may_linger(int k)
{
	for (int i = 0; i < fz.nobj; i++) {
		const struct mobj *o = &fz.o[i];
		if (!o->live)
			continue;
		if ((o->type == T_LOCK && o->robust && o->holder == k) || o->held[k] > 0 ||
		    (o->anon && o->refs[k] && fz_total_refs(o) == o->refs[k]))
			return false;
		for (int j = 0; j < o->nw; j++)
			if (o->type == T_BARRIER && o->w[j].sess == k)
				return false;
	}
	return true;
}

/* ---- the model: method calls ---- */

struct fz_call {
	int k;
	struct mobj *o;
	uint64_t id;
	uint8_t m, a;
	const char *method;
	mgr_value *args[3];
	size_t nargs;
};

/* The request: method and n args (consumed). */
static void fz_req(struct fz_call *c, const char *method, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	c->method = method;
	for (int i = 0; i < n; i++)
		c->args[c->nargs++] = va_arg(ap, mgr_value *);
	va_end(ap);
}

static void fz_ok(struct fz_call *c, mgr_value *v) { fz_expect(c->k, c->id, 0, v); }
static void fz_err(struct fz_call *c, int code) { fz_expect(c->k, c->id, code, NULL); }

static mgr_value *fz_int_list(const int64_t *p, int n)
{
	mgr_value *l = mgr_value_new_list();
	for (int i = 0; i < n; i++)
		mgr_value_list_append(l, I(p[i]));
	return l;
}

static bool fz_counter(struct fz_call *c)
{
	struct mobj *o = c->o;
	int64_t x = c->a % 7 - 3, y = c->a / 7 % 4;
	switch (c->m % 5) {
	case 0:
		fz_req(c, "get", 0), fz_ok(c, I(o->v));
		break;
	case 1:
		o->v += x;
		fz_req(c, "add", 1, I(x)), fz_ok(c, I(o->v));
		break;
	case 2:
		o->v = x;
		fz_req(c, "set", 1, I(x)), fz_ok(c, NULL);
		break;
	case 3: {
		bool swap = o->v == x;
		o->v = swap ? y : o->v;
		fz_req(c, "cas", 2, I(x), I(y)), fz_ok(c, B(swap));
		break;
	}
	default: {
		bool took = o->v >= y;
		o->v -= took ? y : 0;
		fz_req(c, "take", 1, I(y)), fz_ok(c, B(took));
	}
	}
	return true;
}

static int fz_dict_find(const struct mobj *o, int64_t key)
{
	for (int i = 0; i < o->nkeys; i++)
		if (o->keys[i] == key)
			return i;
	return -1;
}

static void fz_dict_del(struct mobj *o, int i)
{
	memmove(o->keys + i, o->keys + i + 1, (size_t)(o->nkeys - i - 1) * sizeof(*o->keys));
	memmove(o->vals + i, o->vals + i + 1, (size_t)(o->nkeys - i - 1) * sizeof(*o->vals));
	o->nkeys--;
}

static void fz_dict_put(struct mobj *o, int i, int64_t key, int64_t val)
{
	if (i < 0) {
		i = o->nkeys++;
		o->keys[i] = key;
	}
	o->vals[i] = val;
}

static bool fz_dict(struct fz_call *c)
{
	struct mobj *o = c->o;
	int64_t key = c->a % NKEYS, val = c->a / NKEYS;
	int i = fz_dict_find(o, key);
	switch (c->m % 9) {
	case 0:
		fz_dict_put(o, i, key, val);
		fz_req(c, "set", 2, I(key), I(val)), fz_ok(c, NULL);
		break;
	case 1:
		fz_req(c, "get", 1, I(key));
		i < 0 ? fz_err(c, MGR_ENOKEY) : fz_ok(c, I(o->vals[i]));
		break;
	case 2:
		fz_req(c, "get", 2, I(key), I(-1)), fz_ok(c, I(i < 0 ? -1 : o->vals[i]));
		break;
	case 3:
		fz_req(c, "pop", 1, I(key));
		i < 0 ? fz_err(c, MGR_ENOKEY) : (fz_ok(c, I(o->vals[i])), fz_dict_del(o, i));
		break;
	case 4:
		fz_req(c, "len", 0), fz_ok(c, I(o->nkeys));
		break;
	case 5:
		fz_req(c, "contains", 1, I(key)), fz_ok(c, B(i >= 0));
		break;
	case 6:
		fz_dict_put(o, i, key, (i < 0 ? 0 : o->vals[i]) + val % 5 - 2);
		fz_req(c, "incr", 2, I(key), I(val % 5 - 2)), fz_ok(c, I(o->vals[fz_dict_find(o, key)]));
		break;
	case 7:
		fz_req(c, "keys", 0), fz_ok(c, fz_int_list(o->keys, o->nkeys));
		break;
	default:
		fz_req(c, "del", 1, I(key));
		i < 0 ? fz_err(c, MGR_ENOKEY) : (fz_ok(c, NULL), fz_dict_del(o, i));
	}
	return true;
}

static int64_t fz_remove_item(struct mobj *o, int i)
{
	int64_t v = o->items[i];
	memmove(o->items + i, o->items + i + 1, (size_t)(o->nitems - i - 1) * sizeof(*o->items));
	o->nitems--;
	return v;
}

static bool fz_list(struct fz_call *c)
{
	struct mobj *o = c->o;
	int64_t val = c->a, idx = c->a % 5 - 2, pos = idx < 0 ? idx + o->nitems : idx;
	switch (c->m % 6) {
	case 0:
		if (o->nitems == MAXITEMS)
			return false;
		o->items[o->nitems++] = val;
		fz_req(c, "append", 1, I(val)), fz_ok(c, NULL);
		break;
	case 1:
		fz_req(c, "pop", 0);
		o->nitems ? fz_ok(c, I(fz_remove_item(o, o->nitems - 1))) : fz_err(c, MGR_EINDEX);
		break;
	case 2:
		fz_req(c, "pop", 1, I(0));
		o->nitems ? fz_ok(c, I(fz_remove_item(o, 0))) : fz_err(c, MGR_EINDEX);
		break;
	case 3:
		fz_req(c, "len", 0), fz_ok(c, I(o->nitems));
		break;
	case 4:
		fz_req(c, "get", 1, I(idx));
		pos >= 0 && pos < o->nitems ? fz_ok(c, I(o->items[pos])) : fz_err(c, MGR_EINDEX);
		break;
	default:
		fz_req(c, "copy", 0), fz_ok(c, fz_int_list(o->items, o->nitems));
	}
	return true;
}

static bool fz_lock(struct fz_call *c)
{
	struct mobj *o = c->o;
	bool blocking = c->m % 4 == 0;
	switch (c->m % 4) {
	case 0:
	case 1:
		/* blocking=true is the default: sometimes said, sometimes not */
		if (blocking && c->a & 1)
			fz_req(c, "acquire", 0);
		else
			fz_req(c, "acquire", 1, B(blocking));
		if (o->holder < 0 && fz_first(o, W_ACQ) < 0) {
			o->holder = c->k;
			fz_ok(c, I(1 | (o->owner_died ? 2 : 0)));
			o->owner_died = false;
		} else if (!blocking) {
			fz_ok(c, I(0));
		} else {
			fz_park(o, c->k, c->id, W_ACQ, 0);
		}
		break;
	case 2:
		fz_req(c, "release", 0);
		if (o->holder < 0) {
			fz_err(c, MGR_ESTATE);
		} else if (o->robust && o->holder != c->k) {
			fz_err(c, MGR_EPERM);
		} else {
			o->holder = -1;
			fz_ok(c, NULL);
			fz_lock_pass(o);
		}
		break;
	default:
		fz_req(c, "locked", 0), fz_ok(c, B(o->holder >= 0));
	}
	return true;
}

static bool fz_sem(struct fz_call *c)
{
	struct mobj *o = c->o;
	bool blocking = c->m % 4 == 0;
	switch (c->m % 4) {
	case 0:
	case 1:
		fz_req(c, "acquire", 1, B(blocking));
		if (o->v > 0 && fz_first(o, W_ACQ) < 0) {
			o->v--;
			o->held[c->k] += o->robust;
			fz_ok(c, B(true));
		} else if (!blocking) {
			fz_ok(c, B(false));
		} else {
			fz_park(o, c->k, c->id, W_ACQ, 0);
		}
		break;
	case 2:
		fz_req(c, "release", 0);
		o->held[c->k] -= o->robust;
		o->v++;
		fz_ok(c, NULL);
		fz_sem_wake(o);
		break;
	default:
		fz_req(c, "get_value", 0), fz_ok(c, I(o->v));
	}
	return true;
}

static bool fz_queue_full(const struct mobj *o) { return o->v > 0 && o->nitems >= o->v; }

static void fz_queue_put(struct fz_call *c, bool block)
{
	struct mobj *o = c->o;
	int64_t item = c->a;
	int g = fz_first(o, W_GET);
	if (g >= 0) { /* only when empty: straight to the first getter */
		struct mwait w = fz_unpark(o, g);
		fz_expect(w.sess, w.id, 0, I(item));
		fz_ok(c, NULL);
	} else if (!fz_queue_full(o)) {
		o->items[o->nitems++] = item;
		fz_ok(c, NULL);
	} else if (!block) {
		fz_err(c, MGR_EFULL);
	} else {
		fz_park(o, c->k, c->id, W_PUT, item);
	}
}

static void fz_queue_get(struct fz_call *c, bool block)
{
	struct mobj *o = c->o;
	int p;
	if (o->nitems) {
		fz_ok(c, I(fz_remove_item(o, 0)));
		if (!fz_queue_full(o) && (p = fz_first(o, W_PUT)) >= 0) {
			struct mwait w = fz_unpark(o, p);
			o->items[o->nitems++] = w.n;
			fz_expect(w.sess, w.id, 0, NULL);
		}
	} else if (!block) {
		fz_err(c, MGR_EEMPTY);
	} else {
		fz_park(o, c->k, c->id, W_GET, 0);
	}
}

static bool fz_queue(struct fz_call *c)
{
	struct mobj *o = c->o;
	switch (c->m % 5) {
	case 0:
	case 1:
		if (o->nitems == MAXITEMS)
			return false;
		if (c->m % 5 == 0)
			fz_req(c, "put", 1, I(c->a));
		else
			fz_req(c, "put", 2, I(c->a), B(false));
		fz_queue_put(c, c->m % 5 == 0);
		break;
	case 2:
		fz_req(c, "get", 0), fz_queue_get(c, true);
		break;
	case 3:
		fz_req(c, "get", 1, B(false)), fz_queue_get(c, false);
		break;
	default:
		fz_req(c, "qsize", 0), fz_ok(c, I(o->nitems));
	}
	return true;
}

static bool fz_event(struct fz_call *c)
{
	struct mobj *o = c->o;
	switch (c->m % 4) {
	case 0:
		o->v = 1;
		fz_req(c, "set", 0), fz_ok(c, NULL);
		for (int i = 0; i < o->nw; i++)
			fz_expect(o->w[i].sess, o->w[i].id, 0, B(true));
		o->nw = 0;
		break;
	case 1:
		o->v = 0;
		fz_req(c, "clear", 0), fz_ok(c, NULL);
		break;
	case 2:
		fz_req(c, "is_set", 0), fz_ok(c, B(o->v));
		break;
	default:
		fz_req(c, "wait", 0);
		if (o->v)
			fz_ok(c, B(true));
		else
			fz_park(o, c->k, c->id, W_WAIT, 0);
	}
	return true;
}

static bool fz_barrier(struct fz_call *c)
{
	struct mobj *o = c->o;
	switch (c->m % 5) {
	case 0:
	case 1:
		fz_req(c, "wait", 0);
		if (o->broken) {
			fz_err(c, MGR_EBROKEN);
		} else if (o->nw + 1 >= o->v) { /* the last party: everyone passes */
			for (int i = 0; i < o->nw; i++)
				fz_expect(o->w[i].sess, o->w[i].id, 0, I(o->w[i].n));
			o->nw = 0;
			fz_ok(c, I(o->v - 1));
		} else {
			fz_park(o, c->k, c->id, W_WAIT, o->nw);
		}
		break;
	case 2:
		fz_req(c, "abort", 0), fz_ok(c, NULL);
		fz_barrier_break(o);
		break;
	case 3:
		fz_req(c, "reset", 0), fz_ok(c, NULL);
		fz_barrier_break(o);
		o->broken = false;
		break;
	default:
		fz_req(c, "broken", 0), fz_ok(c, B(o->broken));
	}
	return true;
}

static bool (*const fz_methods[NTYPES])(struct fz_call *) = {
	fz_counter, fz_dict, fz_list, fz_lock, fz_sem, fz_queue, fz_event, fz_barrier,
};

/* ---- operations ---- */

struct fz_in {
	const uint8_t *p;
	size_t len, off;
};

static uint8_t fz_byte(struct fz_in *in) { return in->off < in->len ? in->p[in->off++] : 0; }

static void fz_call_op(int k, int slot, uint8_t m, uint8_t a)
{
	if (fz.slot[slot] < 0)
		return;
	struct mobj *o = &fz.o[fz.slot[slot]];
	struct fz_call c = {.k = k, .o = o, .id = fz.next_id + 1, .m = m, .a = a};
	if (o->live && o->nw == MAXW)
		return; /* the model follows no more parked calls on it */
	if (o->live && !fz_methods[o->type](&c))
		return;
	if (!o->live) { /* deleted or ended: any method */
		fz_req(&c, "get", 0);
		fz_err(&c, MGR_ENOOBJ);
	}
	fz.next_id++;
	fz_request(k, c.id, o->id, c.method, c.args, c.nargs);
}

/* The constructor arguments of type t from byte a (or the defaults open
 * uses); sets up o. */
static size_t fz_ctor(struct mobj *o, int t, uint8_t a, bool dflt, mgr_value **args)
{
	*o = (struct mobj){.type = t, .live = true, .holder = -1, .robust = t == T_LOCK};
	if (t == T_SEM)
		o->v = 1;
	if (dflt)
		return 0;
	switch (t) {
	case T_COUNTER:
		o->v = a % 5 - 2;
		return args[0] = I(o->v), 1;
	case T_LOCK:
		o->robust = !(a & 8);
		return args[0] = B(o->robust), 1;
	case T_SEM:
		o->v = a % 3;
		o->robust = a & 4;
		return args[0] = I(o->v), args[1] = B(o->robust), 2;
	case T_QUEUE:
		o->v = a % 3;
		return args[0] = I(o->v), 1;
	case T_BARRIER:
		o->v = 1 + a % 3;
		return args[0] = I(o->v), 1;
	default:
		return 0;
	}
}

/* create (named or anonymous) and open. */
static void fz_create_op(int k, int slot, uint8_t t, uint8_t a, bool open)
{
	uint64_t id = fz.next_id + 1;
	int type = t % NTYPES, cur = fz.slot[slot];
	bool named = slot < NNAMED;
	mgr_value *args[5] = {mgr_value_new_string(fz_tname[type])};
	char name[8];
	snprintf(name, sizeof(name), "n%d", slot);
	args[1] = named ? mgr_value_new_string(name) : mgr_value_new_nil();
	size_t n = 2;
	if (named && cur >= 0 && fz.o[cur].live) { /* the name is taken */
		struct mobj *o = &fz.o[cur];
		if (!open)
			fz_expect(k, id, MGR_EEXIST, NULL);
		else if (o->type != type)
			fz_expect(k, id, MGR_ETYPE, NULL);
		else
			fz_expect_ref(k, id, 0, NULL, cur), o->refs[k]++;
	} else if (open && type == T_BARRIER) { /* parties has no default */
		fz_expect(k, id, MGR_EARGS, NULL);
	} else if (fz.nobj == NOBJ) {
		mgr_value_free(args[0]);
		mgr_value_free(args[1]);
		return;
	} else {
		struct mobj *o = &fz.o[fz.nobj];
		n += fz_ctor(o, type, a, open, args + 2);
		o->anon = !named;
		o->refs[k] = 1;
		fz.slot[slot] = fz.nobj++;
		fz_expect_ref(k, id, 0, NULL, fz.slot[slot]);
	}
	fz.next_id++;
	fz_request(k, id, 0, open ? "open" : "create", args, n);
}

/* Whether a session other than k may hold o (a lock, robust permits):
 * deleting it then is refused unless forced, in the versions that have
 * delete(target, force); the model does not go there. */
static bool fz_held_by_other(const struct mobj *o, int k)
{
	if (!o->live)
		return false;
	if (o->type == T_LOCK && o->holder >= 0 && o->holder != k)
		return true;
	for (int j = 0; j < NSESS; j++)
		if (j != k && o->held[j] > 0)
			return true;
	return false;
}

/* lookup, adopt, release, delete: by name (named slots) or id. */
enum { M_LOOKUP, M_ADOPT, M_RELEASE, M_DELETE };
static const char *const fz_mgr_name[] = {"lookup", "adopt", "release", "delete"};

static void fz_manager_op(int k, int slot, int what)
{
	if (fz.slot[slot] < 0)
		return;
	int idx = fz.slot[slot];
	struct mobj *o = &fz.o[idx];
	if (what == M_DELETE && fz_held_by_other(o, k))
		return;
	uint64_t id = ++fz.next_id;
	char name[8];
	snprintf(name, sizeof(name), "n%d", slot);
	bool by_name = slot < NNAMED && (what == M_LOOKUP || what == M_DELETE);
	mgr_value *arg = by_name ? mgr_value_new_string(name) : I((int64_t)o->id);
	if (what == M_RELEASE) {
		if (o->refs[k] == 0) {
			fz_expect(k, id, MGR_ENOOBJ, NULL);
		} else {
			o->refs[k]--;
			fz_expect(k, id, 0, NULL);
			if (o->anon && o->live && fz_total_refs(o) == 0)
				fz_destroy(o);
		}
	} else if (!o->live) {
		fz_expect(k, id, MGR_ENOOBJ, NULL);
	} else if (what == M_LOOKUP) {
		o->refs[k]++;
		fz_expect_ref(k, id, 0, NULL, idx);
	} else if (what == M_ADOPT) {
		o->refs[k] += o->refs[k] == 0;
		fz_expect(k, id, 0, B(true));
	} else {
		fz_expect(k, id, 0, NULL);
		fz_destroy(o);
	}
	fz_request(k, id, 0, fz_mgr_name[what], &arg, 1);
}

/* Kills session k: its client end closes. Unless linger, the loop runs now
 * (mgrd reads the hang-up and ends the session); else only after the next
 * operation, which mgrd may run first. */
static void fz_kill(int k, bool linger)
{
	if (!fz.s[k].alive)
		return;
	if (fz.pending >= 0) { /* one lingering death at a time */
		fz_settle();
		fz_check_done();
	}
	linger = linger && fz_may_linger(k);
	fz_log("kill s%d%s\n", k, linger ? " (mgrd reads it later)" : "");
	fz.s[k].alive = false;
	fz_model_end(k);
	if (linger) {
		fz.pending = k;
		fz.linger_fd = fz.s[k].fd;
		fz.s[k].fd = -1;
		return;
	}
	close(fz.s[k].fd);
	fz.s[k].fd = -1;
	fz_settle();
	fz_check_done();
}

static void fz_step(struct fz_in *in)
{
	uint8_t b = fz_byte(in);
	int k = b & 3, kind = (b >> 2) & 15;
	if (kind == 11 || kind == 12) {
		fz_kill(k, kind == 12);
		return;
	}
	int slot = fz_byte(in) % NSLOT;
	if (!fz.s[k].alive)
		fz_connect(k);
	fz_log("op %d: s%d kind %d slot %d\n", fz.ops, k, kind, slot);
	if (kind < 8) {
		uint8_t m = fz_byte(in);
		fz_call_op(k, slot, m, fz_byte(in));
	} else if (kind == 8 || kind == 9) {
		uint8_t t = fz_byte(in);
		fz_create_op(k, slot % NNAMED, t, fz_byte(in), kind == 9);
	} else if (kind == 10) {
		uint8_t t = fz_byte(in);
		fz_create_op(k, NNAMED + slot % (NSLOT - NNAMED), t, fz_byte(in), false);
	} else {
		static const int what[] = {M_LOOKUP, M_ADOPT, M_RELEASE, M_DELETE};
		fz_manager_op(k, slot, kind == 13 ? what[fz_byte(in) & 1] : what[kind - 12]);
	}
	fz_settle();
	fz_check_done();
}

/* ---- the server ---- */

static void fz_noop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
}

static void fz_start(void)
{
	struct config cfg;
	config_defaults(&cfg);
	cfg.no_spin = true; /* no busy polling of the sockets */
	cfg.ring = 0;
	if (server_init_core(&fz.srv, &cfg))
		abort();
	fz.srv.accept_retry_ev = evtimer_new(fz.srv.base, fz_noop_cb, &fz.srv);
	if (!fz.srv.accept_retry_ev)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_ERROR);
	fz.trace = getenv("FUZZ_SESSIONS_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool trace = fz.trace;
	memset(&fz, 0, sizeof(fz));
	fz.trace = trace;
	fz.pending = fz.linger_fd = -1;
	for (int i = 0; i < NSLOT; i++)
		fz.slot[i] = -1;
	fz_start();
	struct fz_in in = {data, size, 0};
	for (fz.ops = 0; in.off < in.len && fz.ops < MAXOPS; fz.ops++)
		fz_step(&in);
	fz_settle();
	fz_check_done();
	server_fini(&fz.srv); /* ends every session, frees every object */
	for (int k = 0; k < NSESS; k++)
		if (fz.s[k].alive)
			close(fz.s[k].fd);
	for (int i = 0; i < fz.nexp; i++)
		mgr_value_free(fz.exp[i].v);
	return 0;
}
