/* mgr_value: constructors, accessors, copy, equality, ordering and hashing.
 * The same code builds values in libmgr and stores them in mgrd. */
#include "value.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "htab.h"

static const struct value_ref_hooks *value_hooks;
static size_t value_nrefs; /* atomic */

void value_set_ref_hooks(const struct value_ref_hooks *hooks) { value_hooks = hooks; }

size_t value_refs_alive(void) { return __atomic_load_n(&value_nrefs, __ATOMIC_RELAXED); }

/* ---- a thread's cache of value structs (and spare blocks) ----
 * A call makes and frees a value or two on each side (an argument, a
 * result); malloc and free cost ~150 instructions a value, this cache
 * ~30. It holds up to VALUE_CACHE freed structs (their contents are
 * freed at once), linked through their first bytes; a thread's cache
 * goes with the thread (a key destructor), and a value freed after that
 * goes to free(). Beside them, as many spare blocks of VALUE_SPARE_BYTES
 * (libmgr's futures: one a pipelined call, 16 in flight, where glibc's
 * own cache keeps 7 of a size and spilled the rest to _int_free). Off
 * under ASan and TSan, whose checks need every free to be one. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VALUE_CACHE 0
#else
#define VALUE_CACHE 32
#endif

struct value_list {
	void *head; /* each links the next through its first pointer's bytes */
	unsigned n;
};

struct value_cache {
	struct value_list values, spares;
	bool keyed, gone; /* the destructor is set; it ran */
};

static __thread struct value_cache value_cache;
static pthread_key_t value_cache_key;
static pthread_once_t value_cache_once = PTHREAD_ONCE_INIT;
static bool value_cache_keyed; /* the key exists */

/* The first block on l, taken off it; NULL if none. */
static void *value_list_take(struct value_list *l)
{
	void *p = l->head;
	if (p) {
		memcpy(&l->head, p, sizeof(l->head));
		l->n--;
	}
	return p;
}

static void value_cache_drain(void *arg)
{
	struct value_cache *vc = arg;
	for (void *p; (p = value_list_take(&vc->values)) || (p = value_list_take(&vc->spares));)
		free(p);
	vc->gone = true;
}

static void value_cache_key_init(void)
{
	value_cache_keyed = pthread_key_create(&value_cache_key, value_cache_drain) == 0;
}

/* Once a thread: the key whose destructor drains vc when the thread ends;
 * false if it cannot be set (vc is then not used). */
static __attribute__((noinline, cold)) bool value_cache_key_set(struct value_cache *vc)
{
	pthread_once(&value_cache_once, value_cache_key_init);
	if (!value_cache_keyed || pthread_setspecific(value_cache_key, vc))
		return false;
	vc->keyed = true;
	return true;
}

/* The thread's cache: in libmgr.so each reading of its address is a
 * __tls_get_addr call, and GCC computed it again after a branch; the
 * empty asm keeps the one. */
static inline struct value_cache *value_cache_here(void)
{
	struct value_cache *vc = &value_cache;
	__asm__("" : "+r"(vc));
	return vc;
}

/* Whether p went onto l, one of this thread's lists (else the caller
 * frees it). */
static bool value_cache_put(struct value_cache *vc, struct value_list *l, void *p)
{
	if (l->n >= VALUE_CACHE || vc->gone || (!vc->keyed && !value_cache_key_set(vc)))
		return false;
	memcpy(p, &l->head, sizeof(l->head));
	l->head = p;
	l->n++;
	return true;
}

mgr_value *value_alloc(mgr_kind kind)
{
	mgr_value *v = value_list_take(&value_cache.values);
	if (!v)
		v = malloc(sizeof(*v)); /* not calloc: glibc's calloc skips its cache */
	if (v)
		*v = (mgr_value){.kind = (uint8_t)kind};
	return v;
}

void *value_spare_take(void)
{
	void *p = value_list_take(&value_cache.spares);
	return p ? p : malloc(VALUE_SPARE_BYTES);
}

void value_spare_give(void *p)
{
	struct value_cache *vc = value_cache_here();
	if (p && !value_cache_put(vc, &vc->spares, p))
		free(p);
}

mgr_value *mgr_value_new_nil(void) { return value_alloc(MGR_NIL); }

mgr_value *value_scalar(uint8_t kind, int64_t i)
{
	if (kind == MGR_INT)
		return mgr_value_new_int(i);
	return kind == MGR_BOOL ? mgr_value_new_bool(i != 0) : mgr_value_new_nil();
}

mgr_value *mgr_value_new_bool(bool b)
{
	mgr_value *v = value_alloc(MGR_BOOL);
	if (v)
		v->u.b = b;
	return v;
}

mgr_value *mgr_value_new_int(int64_t i)
{
	mgr_value *v = value_alloc(MGR_INT);
	if (v)
		v->u.i = i;
	return v;
}

mgr_value *mgr_value_new_double(double d)
{
	mgr_value *v = value_alloc(MGR_DOUBLE);
	if (v)
		v->u.d = d;
	return v;
}

/* Short data inside the struct, longer data in its own block. */
static mgr_value *value_new_blob(mgr_kind kind, const void *p, size_t len)
{
	if (len > SIZE_MAX - 1)
		return NULL;
	mgr_value *v = value_alloc(kind);
	if (!v)
		return NULL;
	char *dst = v->u.inl;
	if (len <= VALUE_INLINE) {
		v->sso = (uint8_t)(len + 1);
	} else if (!(dst = v->u.s.p = malloc(len + 1))) {
		free(v);
		return NULL;
	} else {
		v->u.s.len = len;
	}
	if (len)
		memcpy(dst, p, len);
	dst[len] = '\0';
	return v;
}

/* Set (never cleared here: only on the failure path) when a string
 * constructor refused its text; value_take_refusal reads and clears it. */
static __thread bool value_refused;

bool value_take_refusal(void)
{
	bool r = value_refused;
	value_refused = false;
	return r;
}

/* Both public constructors call this directly (not each other): a program
 * that also links the common code statically must not have libmgr's
 * string constructor set the other copy's flag. */
static mgr_value *value_new_text(const char *s, size_t len)
{
	if (!s || memchr(s, '\0', len) || !value_utf8_valid(s, len)) {
		value_refused = s != NULL;
		return NULL;
	}
	return value_new_blob(MGR_STRING, s, len);
}

mgr_value *mgr_value_new_stringn(const char *s, size_t len) { return value_new_text(s, len); }

mgr_value *mgr_value_new_string(const char *s)
{
	return s ? value_new_text(s, strlen(s)) : NULL;
}

mgr_value *mgr_value_new_bytes(const void *p, size_t len)
{
	return (p || !len) ? value_new_blob(MGR_BYTES, p, len) : NULL;
}

mgr_value *mgr_value_new_list(void) { return value_alloc(MGR_LIST); }

mgr_value *mgr_value_new_map(void)
{
	mgr_value *v = value_alloc(MGR_MAP);
	if (v && !(v->u.map = htab_new())) {
		free(v);
		return NULL;
	}
	return v;
}

mgr_value *mgr_value_new_ref(uint64_t id, const char *type)
{
	mgr_value *v = value_alloc(MGR_REF);
	if (!v)
		return NULL;
	v->u.ref.id = id;
	if (!(v->u.ref.type = strdup(type ? type : ""))) {
		free(v);
		return NULL;
	}
	__atomic_add_fetch(&value_nrefs, 1, __ATOMIC_RELAXED);
	if (value_hooks)
		value_hooks->acquire(id);
	return v;
}

void value_clear(mgr_value *v)
{
	switch (v->kind) { /* the one switch: layout differs per kind */
	case MGR_STRING:
	case MGR_BYTES:
		if (!v->sso)
			free(v->u.s.p);
		break;
	case MGR_LIST:
		vlist_clear(&v->u.list);
		break;
	case MGR_MAP:
		htab_free(v->u.map);
		break;
	case MGR_REF:
		free(v->u.ref.type);
		__atomic_sub_fetch(&value_nrefs, 1, __ATOMIC_RELAXED);
		if (value_hooks)
			value_hooks->release(v->u.ref.id);
		break;
	default:
		break;
	}
	v->kind = MGR_NIL;
	v->sso = 0;
}

void mgr_value_free(mgr_value *v)
{
	if (!v)
		return;
	if (v->kind >= MGR_STRING) /* nil, bool, int, double own nothing */
		value_clear(v);
	struct value_cache *vc = value_cache_here();
	if (!value_cache_put(vc, &vc->values, v))
		free(v);
}

/* ---- lists ---- */

int vlist_reserve(struct vlist *l, size_t n)
{
	if (n <= l->cap)
		return 0;
	if (n > UINT32_MAX)
		return MGR_ENOMEM;
	size_t cap = l->cap ? l->cap : 4;
	while (cap < n)
		cap *= 2;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	mgr_value **p = realloc(l->items, cap * sizeof(*p));
	if (!p)
		return MGR_ENOMEM;
	l->items = p;
	l->cap = (uint32_t)cap;
	return 0;
}

int vlist_insert(struct vlist *l, size_t idx, mgr_value *item)
{
	if (!item || vlist_reserve(l, l->len + 1)) {
		mgr_value_free(item);
		return MGR_ENOMEM;
	}
	memmove(&l->items[idx + 1], &l->items[idx], (l->len - idx) * sizeof(item));
	l->items[idx] = item;
	l->len++;
	return 0;
}

mgr_value *vlist_remove(struct vlist *l, size_t idx)
{
	mgr_value *v = l->items[idx];
	l->len--;
	memmove(&l->items[idx], &l->items[idx + 1], (l->len - idx) * sizeof(v));
	return v;
}

void vlist_clear(struct vlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		mgr_value_free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int mgr_value_list_append(mgr_value *list, mgr_value *item)
{
	if (!list || list->kind != MGR_LIST) {
		mgr_value_free(item);
		return MGR_EINVAL;
	}
	return vlist_insert(&list->u.list, list->u.list.len, item);
}

/* ---- maps ---- */

bool value_is_key(const mgr_value *v)
{
	return v->kind == MGR_STRING || v->kind == MGR_BYTES || v->kind == MGR_INT ||
	       v->kind == MGR_BOOL;
}

int mgr_value_map_set(mgr_value *map, mgr_value *key, mgr_value *val)
{
	int err = !map || map->kind != MGR_MAP ? MGR_EINVAL
		  : !key || !val	       ? MGR_ENOMEM
		  : !value_is_key(key)	       ? MGR_ETYPE
					       : 0;
	if (err) {
		mgr_value_free(key);
		mgr_value_free(val);
		return err;
	}
	return htab_set(map->u.map, key, val);
}

const mgr_value *mgr_value_map_get(const mgr_value *map, const mgr_value *key)
{
	if (!map || map->kind != MGR_MAP || !key)
		return NULL;
	const struct hent *e = htab_find(map->u.map, key);
	return e ? &e->val : NULL;
}

const mgr_value *mgr_value_map_key(const mgr_value *v, size_t i)
{
	const struct hent *e = v && v->kind == MGR_MAP ? htab_nth(v->u.map, i) : NULL;
	return e ? &e->key : NULL;
}

const mgr_value *mgr_value_map_value(const mgr_value *v, size_t i)
{
	const struct hent *e = v && v->kind == MGR_MAP ? htab_nth(v->u.map, i) : NULL;
	return e ? &e->val : NULL;
}

/* ---- accessors ---- */

mgr_kind mgr_value_kind(const mgr_value *v) { return v ? (mgr_kind)v->kind : MGR_NIL; }

const char *mgr_kind_name(mgr_kind k)
{
	static const char *const names[] = {"nil",   "bool", "int", "double", "string",
					    "bytes", "list", "map", "ref"};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

bool mgr_value_bool(const mgr_value *v) { return v && v->kind == MGR_BOOL && v->u.b; }

int64_t mgr_value_int(const mgr_value *v)
{
	return v && v->kind == MGR_INT ? v->u.i : 0;
}

double mgr_value_double(const mgr_value *v)
{
	if (v && v->kind == MGR_INT)
		return (double)v->u.i;
	return v && v->kind == MGR_DOUBLE ? v->u.d : 0.0;
}

const char *mgr_value_string(const mgr_value *v, size_t *len)
{
	if (!v || v->kind != MGR_STRING)
		return NULL;
	if (len)
		*len = value_slen(v);
	return value_str(v);
}

const void *mgr_value_bytes(const mgr_value *v, size_t *len)
{
	if (!v || (v->kind != MGR_BYTES && v->kind != MGR_STRING))
		return NULL;
	if (len)
		*len = value_slen(v);
	return value_str(v);
}

size_t mgr_value_len(const mgr_value *v)
{
	if (v && v->kind == MGR_LIST)
		return v->u.list.len;
	return v && v->kind == MGR_MAP ? v->u.map->live : 0;
}

const mgr_value *mgr_value_list_get(const mgr_value *v, size_t i)
{
	if (!v || v->kind != MGR_LIST || i >= v->u.list.len)
		return NULL;
	return v->u.list.items[i];
}

uint64_t mgr_value_ref_id(const mgr_value *v)
{
	return v && v->kind == MGR_REF ? v->u.ref.id : 0;
}

const char *mgr_value_ref_type(const mgr_value *v)
{
	return v && v->kind == MGR_REF ? v->u.ref.type : NULL;
}

/* ---- copy, equality, order, hash ---- */

static mgr_value *value_copy_list(const mgr_value *v)
{
	mgr_value *c = mgr_value_new_list();
	if (!c || vlist_reserve(&c->u.list, v->u.list.len)) {
		mgr_value_free(c);
		return NULL;
	}
	for (size_t i = 0; i < v->u.list.len; i++)
		if (mgr_value_list_append(c, mgr_value_copy(v->u.list.items[i]))) {
			mgr_value_free(c);
			return NULL;
		}
	return c;
}

static mgr_value *value_copy_map(const mgr_value *v)
{
	mgr_value *c = mgr_value_new_map();
	if (!c)
		return NULL;
	HTAB_FOREACH(v->u.map, e)
	if (mgr_value_map_set(c, mgr_value_copy(&e->key), mgr_value_copy(&e->val))) {
		mgr_value_free(c);
		return NULL;
	}
	return c;
}

mgr_value *mgr_value_copy(const mgr_value *v)
{
	if (!v)
		return NULL;
	switch (v->kind) {
	case MGR_STRING:
	case MGR_BYTES:
		return value_new_blob(v->kind, value_str(v), value_slen(v));
	case MGR_LIST:
		return value_copy_list(v);
	case MGR_MAP:
		return value_copy_map(v);
	case MGR_REF:
		return mgr_value_new_ref(v->u.ref.id, v->u.ref.type);
	default: {
		mgr_value *c = value_alloc(v->kind);
		if (c)
			c->u = v->u;
		return c;
	}
	}
}

static bool value_equal_map(const mgr_value *a, const mgr_value *b)
{
	if (a->u.map->live != b->u.map->live)
		return false;
	HTAB_FOREACH(a->u.map, e)
	{
		const mgr_value *o = mgr_value_map_get(b, &e->key);
		if (!o || !mgr_value_equal(&e->val, o))
			return false;
	}
	return true;
}

bool mgr_value_equal(const mgr_value *a, const mgr_value *b)
{
	if (!a || !b || a->kind != b->kind)
		return a == b;
	switch (a->kind) {
	case MGR_NIL:
		return true;
	case MGR_BOOL:
		return a->u.b == b->u.b;
	case MGR_INT:
		return a->u.i == b->u.i;
	case MGR_DOUBLE:
		return a->u.d == b->u.d;
	case MGR_STRING:
	case MGR_BYTES:
		return value_slen(a) == value_slen(b) && !memcmp(value_str(a), value_str(b), value_slen(a));
	case MGR_LIST:
		if (a->u.list.len != b->u.list.len)
			return false;
		for (size_t i = 0; i < a->u.list.len; i++)
			if (!mgr_value_equal(a->u.list.items[i], b->u.list.items[i]))
				return false;
		return true;
	case MGR_MAP:
		return value_equal_map(a, b);
	case MGR_REF:
		return a->u.ref.id == b->u.ref.id;
	}
	return false;
}

static bool value_is_number(const mgr_value *v)
{
	return v->kind == MGR_INT || v->kind == MGR_DOUBLE || v->kind == MGR_BOOL;
}

static int value_compare_numbers(const mgr_value *a, const mgr_value *b)
{
	if (a->kind != MGR_DOUBLE && b->kind != MGR_DOUBLE) {
		int64_t x = a->kind == MGR_BOOL ? a->u.b : a->u.i;
		int64_t y = b->kind == MGR_BOOL ? b->u.b : b->u.i;
		return (x > y) - (x < y);
	}
	double x = a->kind == MGR_DOUBLE ? a->u.d : a->kind == MGR_BOOL ? a->u.b : (double)a->u.i;
	double y = b->kind == MGR_DOUBLE ? b->u.d : b->kind == MGR_BOOL ? b->u.b : (double)b->u.i;
	return (x > y) - (x < y);
}

int mgr_value_compare(const mgr_value *a, const mgr_value *b, int *out)
{
	if (!a || !b)
		return MGR_EINVAL;
	if (value_is_number(a) && value_is_number(b)) {
		*out = value_compare_numbers(a, b);
		return 0;
	}
	if (a->kind != b->kind || (a->kind != MGR_STRING && a->kind != MGR_BYTES))
		return MGR_ETYPE;
	size_t n = value_slen(a) < value_slen(b) ? value_slen(a) : value_slen(b);
	int c = memcmp(value_str(a), value_str(b), n);
	*out = c ? c : (value_slen(a) > value_slen(b)) - (value_slen(a) < value_slen(b));
	return 0;
}

/* The hash secret: XXH3 secret bytes drawn from getrandom() once per
 * process, on first use (pthread_once: libmgr hashes from any thread). A
 * forked child keeps its parent's, which its tables were built with.
 * Random bytes are what XXH3 asks of a secret ("must look like a bunch of
 * random bytes"), so they are used as they are. */
#define VALUE_SECRET_SIZE 192 /* XXH3's default size; at least XXH3_SECRET_SIZE_MIN */
static unsigned char value_secret[VALUE_SECRET_SIZE];
static pthread_once_t value_secret_once = PTHREAD_ONCE_INIT;

/* No getrandom (a seccomp filter, a pre-3.17 kernel): what tells this
 * process apart from others, spread over the secret by XXH3 itself. Not
 * secret from a local attacker; the probe cap in htab.c still bounds the
 * cost of collisions. */
static void value_secret_fallback(void)
{
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	clock_gettime(CLOCK_MONOTONIC, &t[1]);
	uint64_t seed[] = {(uint64_t)t[0].tv_sec, (uint64_t)t[0].tv_nsec, (uint64_t)t[1].tv_nsec,
			   (uint64_t)getpid(), (uint64_t)(uintptr_t)&t,
			   (uint64_t)(uintptr_t)value_secret_fallback};
	for (size_t i = 0; i < sizeof(value_secret) / 8; i++) {
		uint64_t w = XXH3_64bits_withSeed(seed, sizeof(seed), i);
		memcpy(value_secret + 8 * i, &w, 8);
	}
}

static void value_secret_init(void)
{
	int saved = errno;
	size_t got = 0;
	while (got < sizeof(value_secret)) {
		ssize_t n = getrandom(value_secret + got, sizeof(value_secret) - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	if (got < sizeof(value_secret))
		value_secret_fallback();
	errno = saved;
}

uint64_t value_hash(const mgr_value *v)
{
	pthread_once(&value_secret_once, value_secret_init);
	if (v->kind == MGR_STRING || v->kind == MGR_BYTES) /* a string and bytes alike share a hash */
		return XXH3_64bits_withSecret(value_str(v), value_slen(v), value_secret,
					      sizeof(value_secret));
	/* 16 bytes take XXH3's 9-16 byte path: both words keyed with 64 bits of
	 * the secret each and multiplied together (128-bit), where 8 bytes would
	 * take a fixed bijection of x ^ one 64-bit word. */
	uint64_t x[2] = {(uint64_t)(v->kind == MGR_BOOL ? v->u.b : v->u.i), v->kind};
	return XXH3_64bits_withSecret(x, sizeof(x), value_secret, sizeof(value_secret));
}

size_t value_size(const mgr_value *v)
{
	size_t n = sizeof(*v);
	if (v->kind == MGR_STRING || v->kind == MGR_BYTES)
		n += v->sso ? 0 : value_slen(v) + 1;
	else if (v->kind == MGR_LIST)
		for (size_t i = 0; i < v->u.list.len; i++)
			n += sizeof(mgr_value *) + value_size(v->u.list.items[i]);
	else if (v->kind == MGR_MAP)
		HTAB_FOREACH(v->u.map, e)
	n += sizeof(*e) - 2 * sizeof(mgr_value) + value_size(&e->key) + value_size(&e->val);
	return n;
}

/* ---- UTF-8 ---- */

/* Length of the sequence a lead byte starts, and its smallest code point. */
static int utf8_lead(unsigned char c, uint32_t *min)
{
	if (c < 0x80)
		return *min = 0, 1;
	if ((c & 0xE0) == 0xC0)
		return *min = 0x80, 2;
	if ((c & 0xF0) == 0xE0)
		return *min = 0x800, 3;
	if ((c & 0xF8) == 0xF0)
		return *min = 0x10000, 4;
	return 0;
}

bool value_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		uint32_t min, cp;
		int n = utf8_lead(*p, &min);
		if (n == 0 || end - p < n)
			return false;
		cp = n == 1 ? *p : *p & (0x7F >> n);
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += n;
	}
	return true;
}
