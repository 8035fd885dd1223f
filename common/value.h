/* The inside of mgr_value, for code in this tree (codec, server types).
 * Applications see only the opaque type in mgr/value.h. */
#ifndef COMMON_VALUE_H
#define COMMON_VALUE_H

#include "mgr/value.h"

struct htab;

/* A growable array of owned values (at most UINT32_MAX items: the counts
 * are 32-bit so that a value is 24 bytes). */
struct vlist {
	mgr_value **items;
	uint32_t len, cap;
};

/* 24 bytes: dicts hold millions of these, inside their hash entries. A
 * string or bytes of up to VALUE_INLINE bytes lives inside the struct (sso
 * is then 1 + its length); longer ones on the heap. Read them with
 * value_str() / value_slen(). A value may be moved by copying the struct. */
#define VALUE_INLINE 15

struct mgr_value {
	uint8_t kind; /* mgr_kind */
	uint8_t sso;  /* string/bytes: 1 + length if inline, else 0 */
	union {
		bool b;
		int64_t i;
		double d;
		struct {
			char *p; /* NUL-terminated, len excludes the NUL */
			size_t len;
		} s;
		char inl[VALUE_INLINE + 1];
		struct vlist list;
		struct htab *map;
		struct {
			uint64_t id;
			char *type;
		} ref;
	} u;
};

static inline const char *value_str(const mgr_value *v)
{
	return v->sso ? v->u.inl : v->u.s.p;
}

static inline size_t value_slen(const mgr_value *v)
{
	return v->sso ? (size_t)v->sso - 1 : v->u.s.len;
}

/* Frees what v holds, not v itself (a value inside something else). */
void value_clear(mgr_value *v);

int vlist_reserve(struct vlist *l, size_t n);
/* item consumed even on failure; idx <= len. */
int vlist_insert(struct vlist *l, size_t idx, mgr_value *item);
/* Returns the removed item (caller owns); idx < len. */
mgr_value *vlist_remove(struct vlist *l, size_t idx);
void vlist_clear(struct vlist *l);

/* Every ref value made or freed is reported, so that a server can count
 * them as references (mgrd does; libmgr installs nothing). */
struct value_ref_hooks {
	void (*acquire)(uint64_t id);
	void (*release)(uint64_t id);
};
void value_set_ref_hooks(const struct value_ref_hooks *hooks); /* NULL: none */
/* How many ref values exist in this process now. */
size_t value_refs_alive(void);

bool value_is_key(const mgr_value *v);
/* A keyed hash of a key value (XXH3 with a per-process random secret):
 * stable within a process and its forked children, unpredictable outside. */
uint64_t value_hash(const mgr_value *v);
bool value_utf8_valid(const char *s, size_t len);
/* Whether a string constructor of this thread returned NULL because its
 * text was not valid UTF-8 (or held a NUL) since the last take; clears it.
 * libmgr reads it where a NULL argument would otherwise read as ENOMEM. */
bool value_take_refusal(void);
/* Text built piece by piece (value-format.c): Python's repr() of values
 * (None, True, 'text', {'a': [1, 2.5]}) and plain text, at most max bytes;
 * past that the text is cut and ends in "...". value_text_full: cut, stop
 * walking. value_text_end: the text (caller owns — free with free(); NULL
 * on ENOMEM). value_repr: the repr of one value the same way. */
struct value_text {
	char *buf;
	size_t size, len; /* len >= size: cut, nothing more is written */
	size_t max;       /* growable up to max bytes of text; 0: fixed buffer */
	bool python;      /* Python's repr() instead of the JSON-like form */
};
void value_text_init(struct value_text *t, size_t max);
void value_text_put(struct value_text *t, const char *text);
void value_text_repr(struct value_text *t, const mgr_value *v);
bool value_text_full(const struct value_text *t);
char *value_text_end(struct value_text *t);
char *value_repr(const mgr_value *v, size_t max);
/* An empty value of the given kind (NULL on ENOMEM). */
mgr_value *value_alloc(mgr_kind kind);
/* The int i (kind MGR_INT), the bool i != 0 (MGR_BOOL), else nil: a
 * scalar a decoder kept unallocated (msg.h) made a value. */
mgr_value *value_scalar(uint8_t kind, int64_t i);
/* A block of VALUE_SPARE_BYTES (uninitialised; NULL on ENOMEM) from this
 * thread's cache of them, else malloc's; given back to the giving
 * thread's cache, else freed (value.c). Any thread may give any block. */
#define VALUE_SPARE_BYTES 256
void *value_spare_take(void);
void value_spare_give(void *p);
/* Approximate heap bytes used by v, for memory accounting. */
size_t value_size(const mgr_value *v);

#endif
