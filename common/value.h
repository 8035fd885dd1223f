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

/* 24 bytes: dicts hold millions of these. A string's or bytes' data
 * usually follows the struct in the same allocation (see value.c). */
struct mgr_value {
	uint8_t kind; /* mgr_kind */
	union {
		bool b;
		int64_t i;
		double d;
		struct {
			char *p; /* NUL-terminated, len excludes the NUL */
			size_t len;
		} s;
		struct vlist list;
		struct htab *map;
		struct {
			uint64_t id;
			char *type;
		} ref;
	} u;
};

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
uint64_t value_hash(const mgr_value *v);
bool value_utf8_valid(const char *s, size_t len);
/* An empty value of the given kind (NULL on ENOMEM). */
mgr_value *value_alloc(mgr_kind kind);
/* Approximate heap bytes used by v, for memory accounting. */
size_t value_size(const mgr_value *v);

#endif
