/* Writes the seed corpora of the fuzz targets from real messages, encoded
 * by the same frame encoder clients use:
 *   gen-seeds DIR   ->  DIR/frame/..., DIR/value/..., DIR/dispatch/...
 * The committed fuzz/corpus/ was made with it; rerun after protocol
 * changes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/codec.h"
#include "../common/frame.h"

static const char *gen_dir;

static void gen_write(const char *sub, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", gen_dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", gen_dir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		perror(path), exit(1);
}

/* A list of the given values (consumed). */
static mgr_value **gen_args(size_t *n, int count, ...)
{
	mgr_value **a = calloc((size_t)count + 1, sizeof(*a));
	va_list ap;
	va_start(ap, count);
	for (int i = 0; i < count; i++)
		a[i] = va_arg(ap, mgr_value *);
	va_end(ap);
	*n = (size_t)count;
	return a;
}

static mgr_value *gen_nested(void)
{
	mgr_value *m = mgr_value_new_map(), *l = mgr_value_new_list();
	mgr_value_list_append(l, mgr_value_new_int(-7));
	mgr_value_list_append(l, mgr_value_new_double(2.5));
	mgr_value_list_append(l, mgr_value_new_bytes("\0\1\2", 3));
	mgr_value_list_append(l, mgr_value_new_nil());
	mgr_value_map_set(m, mgr_value_new_string("list"), l);
	mgr_value_map_set(m, mgr_value_new_int(42), mgr_value_new_bool(true));
	mgr_value_map_set(m, mgr_value_new_bool(false), mgr_value_new_ref(1, "dict"));
	mgr_value_map_set(m, mgr_value_new_bytes("k", 1), mgr_value_new_string("ünïcode"));
	return m;
}

/* Encodes m; the payload (header dropped) is stored, m is cleared. */
static void gen_frame(const char *sub, const char *name, struct msg *m, FILE *stream)
{
	uint8_t *p;
	size_t n;
	if (frame_encode(m, &p, &n))
		fprintf(stderr, "cannot encode %s\n", name), exit(1);
	if (sub)
		gen_write(sub, name, p + FRAME_HEADER, n - FRAME_HEADER);
	if (stream) { /* dispatch record: 2-byte little-endian length + payload */
		size_t len = n - FRAME_HEADER;
		fputc((int)(len & 0xff), stream);
		fputc((int)(len >> 8), stream);
		fwrite(p + FRAME_HEADER, 1, len, stream);
	}
	free(p);
	msg_clear(m);
}

static void gen_value(const char *name, mgr_value *v)
{
	size_t n = codec_value_size(v);
	uint8_t *p = malloc(n + 1);
	codec_value_write(v, p);
	gen_write("value", name, p, n);
	free(p);
	mgr_value_free(v);
}

static uint64_t gen_id;

/* One request record into the dispatch stream (and, named, a frame seed). */
static void gen_req(FILE *s, const char *seed, uint64_t obj, const char *method,
		    mgr_value **args, size_t nargs, uint32_t timeout)
{
	struct msg m = {.kind = MSG_REQUEST};
	m.u.request = (struct msg_request){.id = ++gen_id, .object = obj,
		.method = strdup(method), .args = args, .nargs = nargs, .timeout_ms = timeout,
		.thread = 1};
	gen_frame(seed ? "frame" : NULL, seed, &m, s);
}

#define REQ(s, obj, method, ...) do { size_t n_; mgr_value **a_ = gen_args(&n_, __VA_ARGS__); \
	gen_req(s, NULL, obj, method, a_, n_, 0); } while (0)
#define S(x) mgr_value_new_string(x)
#define I(x) mgr_value_new_int(x)

static FILE *gen_stream(const char *name, char **buf, size_t *len)
{
	gen_id = 0;
	(void)name;
	return open_memstream(buf, len);
}

/* open_memstream sets buf and len only at fclose. */
static void gen_stream_done(const char *name, FILE *s, char **buf, size_t *len)
{
	fclose(s);
	gen_write("dispatch", name, (uint8_t *)*buf, *len);
	free(*buf);
}

static void gen_dispatch(void)
{
	char *b;
	size_t n;
	FILE *s;
	/* object 1: a dict; 2: a list; 3: a counter */
	s = gen_stream("containers", &b, &n);
	REQ(s, 0, "create", 1, S("dict"));
	REQ(s, 0, "create", 2, S("list"), S("l"));
	REQ(s, 0, "create", 1, S("counter"));
	REQ(s, 1, "set", 2, S("k"), gen_nested());
	REQ(s, 1, "incr", 2, S("n"), I(5));
	REQ(s, 1, "items", 0);
	REQ(s, 2, "extend", 1, gen_nested());
	REQ(s, 2, "insert", 2, I(-1), S("x"));
	REQ(s, 2, "sort", 0);
	REQ(s, 2, "slice", 2, I(0), I(2));
	REQ(s, 3, "add", 1, I(3));
	REQ(s, 3, "cas", 2, I(3), I(9));
	REQ(s, 0, "objects", 0);
	REQ(s, 0, "release", 1, I(1));
	REQ(s, 0, "delete", 1, S("l"));
	gen_stream_done("containers", s, &b, &n);
	/* blocking types: parked calls left when the session ends */
	s = gen_stream("sync", &b, &n);
	REQ(s, 0, "create", 1, S("lock"));
	REQ(s, 0, "create", 2, S("queue"), S("q"));
	REQ(s, 0, "create", 3, S("barrier"), mgr_value_new_nil(), I(2));
	REQ(s, 0, "create", 3, S("semaphore"), mgr_value_new_nil(), I(1));
	REQ(s, 0, "create", 1, S("event"));
	REQ(s, 0, "create", 1, S("condition"));
	REQ(s, 0, "create", 1, S("rlock"));
	REQ(s, 0, "create", 1, S("joinable_queue"));
	REQ(s, 1, "acquire", 0);
	REQ(s, 1, "acquire", 0);
	REQ(s, 2, "get", 0);
	REQ(s, 2, "put", 1, I(1));
	REQ(s, 3, "wait", 0);
	REQ(s, 4, "acquire", 0);
	REQ(s, 4, "acquire", 0);
	REQ(s, 5, "wait", 0);
	REQ(s, 6, "acquire", 0);
	REQ(s, 6, "wait", 0);
	REQ(s, 7, "acquire", 0);
	REQ(s, 8, "put", 1, S("job"));
	REQ(s, 8, "join", 0);
	gen_stream_done("sync", s, &b, &n);
	/* the manager's views and a batch */
	s = gen_stream("manager", &b, &n);
	REQ(s, 0, "types", 0);
	REQ(s, 0, "methods", 1, S("queue"));
	REQ(s, 0, "info", 0);
	REQ(s, 0, "clients", 0);
	REQ(s, 0, "stats", 0);
	REQ(s, 0, "ping", 1, gen_nested());
	REQ(s, 0, "open", 2, S("dict"), S("shared"));
	REQ(s, 0, "describe", 1, S("shared"));
	REQ(s, 0, "lookup", 1, S("shared"));
	{
		struct msg m = {.kind = MSG_REQUEST};
		struct msg_call *bc = calloc(2, sizeof(*bc));
		bc[0].method = strdup("set");
		bc[0].args = gen_args(&bc[0].nargs, 2, S("a"), I(1));
		bc[1].method = strdup("incr");
		bc[1].args = gen_args(&bc[1].nargs, 2, S("a"), I(1));
		m.u.request = (struct msg_request){.id = ++gen_id, .object = 1,
						   .method = strdup(""), .batch = bc, .nbatch = 2};
		gen_frame("frame", "batch", &m, s);
	}
	REQ(s, 0, "monitor", 0);
	REQ(s, 0, "monitor_next", 0);
	REQ(s, 0, "shutdown", 0);
	gen_stream_done("manager", s, &b, &n);
}

static void gen_frames(void)
{
	struct msg m = {.kind = MSG_HELLO};
	m.u.hello = (struct msg_hello){1, 1234, strdup("seed")};
	gen_frame("frame", "hello", &m, NULL);
	m = (struct msg){.kind = MSG_WELCOME};
	m.u.welcome = (struct msg_welcome){.version = 1, .session = 7, .pid = 99,
		.limits = {1 << 20, 64, 1 << 20, 4096}};
	gen_frame("frame", "welcome", &m, NULL);
	m = (struct msg){.kind = MSG_REPLY};
	m.u.reply = (struct msg_reply){.id = 3, .value = gen_nested()};
	gen_frame("frame", "reply-value", &m, NULL);
	m = (struct msg){.kind = MSG_REPLY};
	m.u.reply = (struct msg_reply){.id = 4, .code = MGR_ENOOBJ, .message = strdup("gone")};
	gen_frame("frame", "reply-error", &m, NULL);
	size_t n;
	mgr_value **a = gen_args(&n, 3, gen_nested(), S("k"), mgr_value_new_double(-0.0));
	gen_req(NULL, "request", 1, "set", a, n, 250);
}

static void gen_values(void)
{
	gen_value("nil", mgr_value_new_nil());
	gen_value("bool", mgr_value_new_bool(true));
	gen_value("int", I(-1234567890123));
	gen_value("double", mgr_value_new_double(3.25));
	gen_value("string", S("héllo"));
	gen_value("bytes", mgr_value_new_bytes("\xff\0\x80", 3));
	gen_value("ref", mgr_value_new_ref(12, "list"));
	gen_value("nested", gen_nested());
	mgr_value *deep = I(1);
	for (int i = 0; i < 20; i++) {
		mgr_value *l = mgr_value_new_list();
		mgr_value_list_append(l, deep);
		deep = l;
	}
	gen_value("deep", deep);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return fprintf(stderr, "usage: gen-seeds DIR\n"), 2;
	gen_dir = argv[1];
	mkdir(gen_dir, 0755);
	gen_frames();
	gen_values();
	gen_dispatch();
	return 0;
}
