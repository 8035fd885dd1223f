/* Snapshots: the named objects' saved states as records, written
 * atomically (a fresh temporary file of our own, fsync, rename, fsync of
 * the directory) at a clean stop, on the manager's `save` and every
 * --snapshot-interval seconds; loaded at start in passes: decode and check
 * every record, create the objects, rewrite refs to the new ids, load the
 * states. Only a file and directory that nobody but mgrd's uid (or root)
 * can write are trusted. Format and rules: docs/snapshot.md; the threat
 * model: docs/security.md, "Snapshots". */
#include "snapshot.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../common/frame.h"
#include "../common/htab.h"
#include "log.h"
#include "manager.h"
#include "state.h"
#include "registry.h"
#include "row.h"

#define SNAP_MAGIC "MGRSNAP" /* 8 bytes with its NUL */
#define SNAP_VERSION 1
#define SNAP_HEADER 40
#define SNAP_BUF (256u << 10)
#define SNAP_EXTRA_DEPTH 4 /* the record map around a state */

/* Interval saves and the final one, once the server is ready. */
struct snapshot {
	struct event *timer;
	uint64_t calls; /* srv->stats.calls at the last complete save */
	bool dirty;     /* the last save failed or skipped objects */
};

/* ---- the header ---- */

struct snap_header {
	uint32_t version, count;
	uint64_t len, hash; /* of the records after the header */
};

static void snap_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t snap_get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void snap_header_write(uint8_t h[SNAP_HEADER], const struct snap_header *s)
{
	memcpy(h, SNAP_MAGIC, 8);
	snap_put(h + 8, s->version, 4);
	snap_put(h + 12, s->count, 4);
	snap_put(h + 16, s->len, 8);
	snap_put(h + 24, s->hash, 8);
	snap_put(h + 32, XXH64(h, 32, 0), 8);
}

/* ---- shared helpers ---- */

/* The directory of path; caller owns. */
static char *snapshot_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int snapshot_sys(char *err, size_t errlen, const char *what, const char *file)
{
	snprintf(err, errlen, "%s %s: %s", what, file, strerror(errno));
	return MGR_EIO;
}

__attribute__((format(printf, 3, 4))) static int snap_fail(char *why, size_t n,
							    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- where the file lives ----
 * The directory is opened and checked (like OpenSSH's StrictModes) at
 * every load and save; every name in it is then used relative to that
 * descriptor, so a directory swapped afterwards changes nothing. */

struct snap_dir {
	int fd;           /* the directory; -1 until opened */
	char *path;       /* for messages; owned */
	const char *base; /* the file's name in it (inside cfg.snapshot_path) */
	bool shared;      /* group or others may write it (it is sticky then) */
};

static const struct {
	mode_t fmt;
	const char *what;
} snap_kinds[] = {
	{S_IFREG, "a regular file"}, {S_IFLNK, "a symbolic link"}, {S_IFDIR, "a directory"},        {S_IFIFO, "a FIFO"},
	{S_IFCHR, "a character device"}, {S_IFBLK, "a block device"}, {S_IFSOCK, "a socket"},
};

static const char *snap_kind(mode_t m)
{
	for (size_t i = 0; i < sizeof(snap_kinds) / sizeof(snap_kinds[0]); i++)
		if ((m & S_IFMT) == snap_kinds[i].fmt)
			return snap_kinds[i].what;
	return "of an unknown kind";
}

static const char *snap_writers(mode_t m)
{
	return (m & 022) == 022 ? "group and others" : m & S_IWGRP ? "group" : "others";
}

/* Owned by mgrd's euid or root; writable by group or others only with the
 * sticky bit (a /tmp-like directory, where nobody can rename or remove
 * another's file). 0, or -1 with why. */
static int snap_dir_open(const char *path, struct snap_dir *d, char *why, size_t n)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	uid_t me = geteuid();
	*d = (struct snap_dir){.fd = -1, .path = snapshot_dir(path), .base = slash ? slash + 1 : path};
	if (!d->path)
		return snap_fail(why, n, "out of memory");
	if (!*d->base)
		return snap_fail(why, n, "names a directory, not a file");
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0 || fstat(d->fd, &st))
		return snap_fail(why, n, "cannot open its directory %s: %s", d->path, strerror(errno));
	if (st.st_uid != me && st.st_uid != 0)
		return snap_fail(why, n, "its directory %s is owned by uid %u, not by mgrd's uid %u or root",
				 d->path, (unsigned)st.st_uid, (unsigned)me);
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		return snap_fail(why, n, "its directory %s is writable by %s without the sticky bit (mode %04o)",
				 d->path, snap_writers(st.st_mode), (unsigned)(st.st_mode & 07777));
	d->shared = st.st_mode & 022;
	if (faccessat(d->fd, ".", W_OK | X_OK, AT_EACCESS))
		return snap_fail(why, n, "cannot write its directory %s: %s", d->path, strerror(errno));
	return 0;
}

static void snap_dir_close(struct snap_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
}

/* name + suffix; caller owns (NULL on ENOMEM). */
static char *snapshot_sibling(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);
	char *s = malloc(n + m + 1);
	if (s) {
		memcpy(s, name, n);
		memcpy(s + n, suffix, m + 1);
	}
	return s;
}

/* A temporary file of ours: BASE.tmp.<12 random hex digits>, created new
 * (O_EXCL: never a file or link that someone else put there), 0600. Its
 * name goes to name (size n). An fd, or -1 with errno. */
static int snap_tmp_create(const struct snap_dir *d, char *name, size_t n)
{
	for (int i = 0; i < 8; i++) {
		uint8_t r[6];
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		snprintf(name, n, "%s.tmp.%02x%02x%02x%02x%02x%02x", d->base, r[0], r[1], r[2], r[3],
			 r[4], r[5]);
		int fd = openat(d->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* A temporary file's name: BASE.tmp.*, or BASE.tmp (an older mgrd's). */
static bool snap_is_tmp(const char *name, const char *base)
{
	size_t n = strlen(base);
	return !strncmp(name, base, n) && (!strcmp(name + n, ".tmp") || !strncmp(name + n, ".tmp.", 5));
}

/* At start: removes what a save cut off left behind. Only our own regular
 * files: in a shared directory the others' are theirs to remove. */
static void snap_dir_sweep(const struct snap_dir *d)
{
	int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	struct stat st;
	while (dir && (e = readdir(dir))) {
		if (!snap_is_tmp(e->d_name, d->base) ||
		    fstatat(d->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
			log_msg(LOG_WARN, "snapshot: left %s/%s alone: %s of uid %u, not mgrd's",
				d->path, e->d_name, snap_kind(st.st_mode), (unsigned)st.st_uid);
		else if (unlinkat(d->fd, e->d_name, 0))
			log_msg(LOG_WARN, "snapshot: cannot remove %s/%s: %s", d->path, e->d_name,
				strerror(errno));
		else
			log_msg(LOG_INFO, "snapshot: removed %s/%s, left by a save that was cut off",
				d->path, e->d_name);
	}
	if (dir)
		closedir(dir);
	else if (fd >= 0)
		close(fd);
}

static bool snapshot_wanted(const struct object *o)
{
	return o && !o->dead && o->state && o->name && o->type->save && o->type->load;
}

/* Rewrites the refs inside *slot: fix returns false to drop one, which
 * becomes nil (it must leave the ref's id such that its release is right). */
typedef bool (*snapshot_ref_fn)(void *ctx, mgr_value *ref);

static void snapshot_refs(mgr_value *v, snapshot_ref_fn fix, void *ctx)
{
	if (!v || value_refs_alive() == 0)
		return;
	if (v->kind == MGR_REF && !fix(ctx, v)) {
		value_clear(v); /* in place: it is nil now */
	} else if (v->kind == MGR_LIST) {
		for (size_t i = 0; i < v->u.list.len; i++)
			snapshot_refs(v->u.list.items[i], fix, ctx);
	} else if (v->kind == MGR_MAP) {
		HTAB_FOREACH(v->u.map, e)
		snapshot_refs(&e->val, fix, ctx);
	}
}

/* ---- saving ---- */

struct snap_writer {
	int fd;
	XXH64_state_t *xx;
	uint64_t len;
	uint8_t *buf;
	size_t nbuf;
};

static int snap_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int snap_flush(struct snap_writer *w)
{
	int rc = snap_write_all(w->fd, w->buf, w->nbuf);
	w->nbuf = 0;
	return rc;
}

static int snap_emit(struct snap_writer *w, const uint8_t *p, size_t n)
{
	XXH64_update(w->xx, p, n);
	w->len += n;
	if (w->nbuf + n > SNAP_BUF && snap_flush(w))
		return -1;
	if (n >= SNAP_BUF)
		return snap_write_all(w->fd, p, n);
	memcpy(w->buf + w->nbuf, p, n);
	w->nbuf += n;
	return 0;
}

/* A saved ref stays if its object is saved too. */
static bool snapshot_ref_kept(void *reg, mgr_value *ref)
{
	return snapshot_wanted(registry_get(reg, ref->u.ref.id));
}

/* {name, type, id, state}: caller owns; NULL if the type's save failed. */
static mgr_value *snapshot_record(struct server *srv, const struct object *o)
{
	static const char *const keys[] = {"name", "type", "id", "state"};
	mgr_value *state = o->type->save(o->state);
	if (!state)
		return NULL;
	snapshot_refs(state, snapshot_ref_kept, &srv->reg);
	mgr_value *vals[] = {mgr_value_new_string(o->name), mgr_value_new_string(o->type->name),
			     mgr_value_new_int((int64_t)o->id), state};
	return row_new(4, keys, vals);
}

/* One record as a wire frame: a Reply whose id is its number. */
static int snapshot_write_record(struct snap_writer *w, struct server *srv,
				 const struct object *o, uint32_t seq, char *err, size_t errlen)
{
	struct msg m = {.kind = MSG_REPLY, .u.reply = {.id = seq, .value = snapshot_record(srv, o)}};
	uint8_t *buf = NULL;
	size_t len;
	int rc = m.u.reply.value ? frame_encode(&m, &buf, &len) : MGR_ENOMEM;
	mgr_value_free(m.u.reply.value);
	if (rc)
		snprintf(err, errlen, "cannot save '%s' (%s): %s", o->name, o->type->name,
			 mgr_strerror(rc));
	else if (snap_emit(w, buf, len))
		rc = snapshot_sys(err, errlen, "write", "the temporary file");
	free(buf);
	return rc;
}

static int snapshot_cmp(const void *a, const void *b)
{
	uint64_t x = (*(struct object *const *)a)->id, y = (*(struct object *const *)b)->id;
	return x < y ? -1 : x > y;
}

/* The objects to save, by id; a custom object busy in a method is left
 * out of this save (its state is the worker's now). */
static struct object **snapshot_collect(struct server *srv, size_t *n, uint32_t *skipped)
{
	struct object **v = malloc((srv->reg.by_id.len + 1) * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	IDMAP_FOREACH(&srv->reg.by_id, s)
	{
		struct object *o = s->ptr;
		if (snapshot_wanted(o) && o->busy) {
			log_msg(LOG_WARN, "snapshot: '%s' is busy in a method; not in this save",
				o->name);
			(*skipped)++;
		} else if (snapshot_wanted(o)) {
			v[(*n)++] = o;
		}
	}
	qsort(v, *n, sizeof(*v), snapshot_cmp);
	return v;
}

static int snapshot_write_body(struct snap_writer *w, struct server *srv, struct object **objs,
			       size_t n, char *err, size_t errlen)
{
	uint8_t h[SNAP_HEADER] = {0}; /* written last, once the records are */
	if (snap_write_all(w->fd, h, sizeof(h)))
		return snapshot_sys(err, errlen, "write", "the temporary file");
	XXH64_reset(w->xx, 0);
	for (size_t i = 0; i < n; i++) {
		int rc = snapshot_write_record(w, srv, objs[i], (uint32_t)i + 1, err, errlen);
		if (rc)
			return rc;
	}
	if (snap_flush(w))
		return snapshot_sys(err, errlen, "write", "the temporary file");
	struct snap_header sh = {SNAP_VERSION, (uint32_t)n, w->len, XXH64_digest(w->xx)};
	snap_header_write(h, &sh);
	if (pwrite(w->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return snapshot_sys(err, errlen, "write", "the temporary file");
	return fsync(w->fd) ? snapshot_sys(err, errlen, "fsync", "the temporary file") : 0;
}

/* The new file replaces the old one at once, and the rename is durable. */
static int snapshot_commit(const struct snap_dir *d, const char *tmp, const char *path,
			   char *err, size_t errlen)
{
	if (renameat(d->fd, tmp, d->fd, d->base))
		return snapshot_sys(err, errlen, "rename to", path);
	return fsync(d->fd) ? snapshot_sys(err, errlen, "fsync", d->path) : 0;
}

/* Writes and commits in d; a failure removes the temporary file and leaves
 * the previous snapshot as it was. */
static int snapshot_write(struct server *srv, const struct snap_dir *d, struct object **objs,
			  size_t n, struct snapshot_stats *st, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 20];
	struct snap_writer w = {.fd = -1, .xx = XXH64_createState(), .buf = malloc(SNAP_BUF)};
	int rc = w.xx && w.buf ? 0 : MGR_ENOMEM;
	if (!rc) {
		w.fd = snap_tmp_create(d, tmp, sizeof(tmp));
		rc = w.fd < 0 ? snapshot_sys(err, errlen, "create a temporary file in", d->path) : 0;
	}
	if (!rc)
		rc = snapshot_write_body(&w, srv, objs, n, err, errlen);
	if (w.fd >= 0 && close(w.fd) && !rc)
		rc = snapshot_sys(err, errlen, "close", "the temporary file");
	if (!rc)
		rc = snapshot_commit(d, tmp, srv->cfg.snapshot_path, err, errlen);
	if (rc && w.fd >= 0)
		unlinkat(d->fd, tmp, 0); /* gone already if the rename was made */
	st->objects = (uint32_t)n;
	st->bytes = SNAP_HEADER + w.len;
	XXH64_freeState(w.xx);
	free(w.buf);
	return rc;
}

int snapshot_save(struct server *srv, struct snapshot_stats *st, char *err, size_t errlen)
{
	struct snapshot_stats s = {0};
	const char *path = srv->cfg.snapshot_path;
	err[0] = '\0';
	if (!path) {
		snprintf(err, errlen, "no snapshot file: start mgrd with --snapshot FILE");
		return MGR_ESTATE;
	}
	uint64_t calls = srv->stats.calls;
	struct snap_dir d;
	size_t n = 0;
	struct object **objs = NULL;
	int rc = snap_dir_open(path, &d, err, errlen) ? MGR_EIO : 0;
	if (!rc && !(objs = snapshot_collect(srv, &n, &s.skipped)))
		rc = MGR_ENOMEM;
	if (!rc)
		rc = snapshot_write(srv, &d, objs, n, &s, err, errlen);
	if (rc == MGR_ENOMEM && !err[0])
		snprintf(err, errlen, "out of memory");
	snap_dir_close(&d);
	free(objs);
	if (srv->snapshot) {
		srv->snapshot->dirty = rc || s.skipped;
		srv->snapshot->calls = calls;
	}
	if (st)
		*st = s;
	return rc;
}

/* A save from the timer or the stop: the outcome goes to the log. */
static void snapshot_save_logged(struct server *srv, const char *why, enum log_level ok_level)
{
	struct snapshot_stats st;
	char err[512];
	if (snapshot_save(srv, &st, err, sizeof(err)))
		log_msg(LOG_ERROR, "snapshot %s (%s): %s; the previous file is kept",
			srv->cfg.snapshot_path, why, err);
	else
		log_msg(ok_level, "snapshot %s (%s): %u objects, %llu bytes",
			srv->cfg.snapshot_path, why, st.objects, (unsigned long long)st.bytes);
}

static void snapshot_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	if (srv->stats.calls != srv->snapshot->calls || srv->snapshot->dirty)
		snapshot_save_logged(srv, "interval", LOG_DEBUG);
}

int snapshot_start(struct server *srv)
{
	if (!srv->cfg.snapshot_path)
		return 0;
	srv->snapshot = calloc(1, sizeof(*srv->snapshot));
	if (!srv->snapshot)
		return -1;
	srv->snapshot->calls = srv->stats.calls;
	if (!srv->cfg.snapshot_interval)
		return 0;
	struct timeval tv = {(time_t)srv->cfg.snapshot_interval, 0};
	srv->snapshot->timer = event_new(srv->base, -1, EV_PERSIST, snapshot_timer_cb, srv);
	return srv->snapshot->timer && !event_add(srv->snapshot->timer, &tv) ? 0 : -1;
}

void snapshot_fini(struct server *srv)
{
	if (!srv->snapshot)
		return;
	if (srv->snapshot->timer)
		event_free(srv->snapshot->timer);
	snapshot_save_logged(srv, "stop", LOG_INFO);
	free(srv->snapshot);
	srv->snapshot = NULL;
}

/* ---- loading ---- */

struct snap_rec {
	mgr_value *rec; /* the record map; its state's refs hold old ids until rewritten */
	const char *name;
	const struct type *type;
	uint64_t old_id;
	struct object *obj; /* made by registry_restore */
};

struct snap_load {
	struct server *srv;
	const char *path;
	uint8_t *data;
	size_t size;
	struct snap_header h;
	struct snap_rec *recs;
	uint32_t n;
	struct idmap by_old; /* old id -> struct snap_rec */
	bool rewritten;      /* refs point at the new objects (and count) */
	char why[512];
};

__attribute__((format(printf, 2, 3))) static int snap_bad(struct snap_load *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(L->why, sizeof(L->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* StrictModes for the file itself (st: as found, not followed): a regular
 * file; owned by mgrd's euid or root (in a shared directory by mgrd's euid
 * only, with one link); writable by nobody else. */
static int snapshot_trusted(struct snap_load *L, const struct snap_dir *d, const struct stat *st)
{
	uid_t me = geteuid();
	if (!S_ISREG(st->st_mode))
		return snap_bad(L, "is %s, not a regular file", snap_kind(st->st_mode));
	if (st->st_uid != me && (st->st_uid != 0 || d->shared))
		return snap_bad(L, "is owned by uid %u, not by mgrd's uid %u%s", (unsigned)st->st_uid,
				(unsigned)me, d->shared ? " (its directory is shared)" : me ? " or root" : "");
	if (st->st_mode & 022)
		return snap_bad(L, "is writable by %s (mode %04o)", snap_writers(st->st_mode),
				(unsigned)(st->st_mode & 07777));
	if (d->shared && st->st_nlink != 1)
		return snap_bad(L, "has %ju hard links (its directory is shared)",
				(uintmax_t)st->st_nlink);
	return 0;
}

/* Opens what snapshot_trusted passed, never anything else: no link
 * followed, no FIFO waited on, the same inode. An fd, or -1 with L->why. */
static int snapshot_open(struct snap_load *L, const struct snap_dir *d, const struct stat *ls)
{
	struct stat st;
	int fd = openat(d->fd, d->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return snap_bad(L, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) || st.st_dev != ls->st_dev || st.st_ino != ls->st_ino) {
		close(fd);
		return snap_bad(L, "was replaced while it was opened");
	}
	return fd;
}

enum { SNAP_READ = 0, SNAP_NONE = 1, SNAP_FATAL = -1, SNAP_UNTRUSTED = -2 };

/* SNAP_NONE: no file (a first start); SNAP_READ; SNAP_FATAL: cannot read it
 * (L->why); SNAP_UNTRUSTED: a file not to trust (L->why), bad like a
 * corrupt one. */
static int snapshot_read(struct snap_load *L, const struct snap_dir *d)
{
	struct stat st;
	if (fstatat(d->fd, d->base, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? SNAP_NONE : snap_bad(L, "cannot stat: %s", strerror(errno));
	if (snapshot_trusted(L, d, &st))
		return SNAP_UNTRUSTED;
	int fd = snapshot_open(L, d, &st);
	if (fd < 0)
		return SNAP_FATAL;
	L->size = (size_t)st.st_size;
	L->data = malloc(L->size + 1);
	size_t got = 0;
	while (L->data && got < L->size) {
		ssize_t r = read(fd, L->data + got, L->size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!L->data || got != L->size)
		return snap_bad(L, "cannot read: %s", L->data ? strerror(errno) : "out of memory");
	return SNAP_READ;
}

static int snapshot_check_header(struct snap_load *L)
{
	const uint8_t *h = L->data;
	if (L->size < SNAP_HEADER)
		return snap_bad(L, "truncated: %zu bytes, shorter than the %d-byte header", L->size,
				SNAP_HEADER);
	if (memcmp(h, SNAP_MAGIC, 8))
		return snap_bad(L, "not an mgr snapshot (bad magic)");
	if (snap_get(h + 32, 8) != XXH64(h, 32, 0))
		return snap_bad(L, "corrupt: header checksum mismatch");
	L->h = (struct snap_header){(uint32_t)snap_get(h + 8, 4), (uint32_t)snap_get(h + 12, 4),
				    snap_get(h + 16, 8), snap_get(h + 24, 8)};
	if (L->h.version != SNAP_VERSION)
		return snap_bad(L, "format version %u; this mgrd reads version %d", L->h.version,
				SNAP_VERSION);
	if (L->h.count > L->h.len / FRAME_HEADER)
		return snap_bad(L, "corrupt: %u records cannot fit in %llu bytes", L->h.count,
				(unsigned long long)L->h.len);
	uint64_t have = L->size - SNAP_HEADER;
	if (have < L->h.len)
		return snap_bad(L, "truncated: %llu bytes of records, the header says %llu",
				(unsigned long long)have, (unsigned long long)L->h.len);
	if (have > L->h.len)
		return snap_bad(L, "corrupt: %llu bytes after the last record",
				(unsigned long long)(have - L->h.len));
	if (XXH64(h + SNAP_HEADER, L->h.len, 0) != L->h.hash)
		return snap_bad(L, "corrupt: checksum mismatch over %llu bytes of records",
				(unsigned long long)L->h.len);
	return 0;
}

/* Fills r from the record map (borrowed strings stay in it). */
static int snapshot_check_record(struct snap_load *L, struct snap_rec *r, uint32_t i)
{
	const mgr_value *name = row_field(r->rec, "name", MGR_STRING),
			*type = row_field(r->rec, "type", MGR_STRING),
			*id = row_field(r->rec, "id", MGR_INT);
	mgr_value k = {.kind = MGR_STRING, .u.s = {"state", 5}};
	if (!name || !type || !id || id->u.i <= 0 || !value_slen(name) ||
	    !mgr_value_map_get(r->rec, &k))
		return snap_bad(L, "record %u: not a {name, type, id, state} map", i);
	r->name = value_str(name);
	r->old_id = (uint64_t)id->u.i;
	r->type = types_find(value_str(type));
	if (!r->type || !r->type->load || (r->type->flags & TYPE_INTERNAL))
		return snap_bad(L, "record %u ('%s'): type '%s' %s", i, r->name, value_str(type),
				r->type ? "cannot be loaded"
					: "is not served (is its --module missing?)");
	if (idmap_get(&L->by_old, r->old_id))
		return snap_bad(L, "record %u ('%s'): id %llu appears twice", i, r->name,
				(unsigned long long)r->old_id);
	return idmap_put(&L->by_old, r->old_id, r) ? snap_bad(L, "out of memory") : 0;
}

static int snapshot_decode_one(struct snap_load *L, const uint8_t *p, uint32_t len, uint32_t i)
{
	struct frame_limits lim = {.max_frame = UINT32_MAX,
				   .max_depth = L->srv->cfg.frame.max_depth + SNAP_EXTRA_DEPTH,
				   .max_items = UINT32_MAX};
	struct msg m;
	char e[256];
	int rc = frame_decode(p, len, &lim, &m, e, sizeof(e));
	if (!rc && (m.kind != MSG_REPLY || m.u.reply.code || !m.u.reply.value))
		rc = MGR_EPROTO, snprintf(e, sizeof(e), "not a record frame");
	if (rc) {
		msg_clear(&m);
		return snap_bad(L, "record %u: %s", i, e);
	}
	struct snap_rec *r = &L->recs[L->n++];
	r->rec = m.u.reply.value;
	m.u.reply.value = NULL;
	msg_clear(&m);
	return snapshot_check_record(L, r, i);
}

/* Pass 1, while the registry is empty (so the refs decoded here count
 * nothing): every record decoded and checked. */
static int snapshot_decode(struct snap_load *L)
{
	const uint8_t *p = L->data + SNAP_HEADER, *end = p + L->h.len;
	L->recs = calloc((size_t)L->h.count + 1, sizeof(*L->recs));
	if (!L->recs)
		return snap_bad(L, "out of memory");
	for (uint32_t i = 1; i <= L->h.count; i++) {
		if (end - p < FRAME_HEADER || end - p - FRAME_HEADER < (ptrdiff_t)frame_get_len(p))
			return snap_bad(L, "record %u: cut short", i);
		uint32_t len = frame_get_len(p);
		if (snapshot_decode_one(L, p + FRAME_HEADER, len, i))
			return -1;
		p += FRAME_HEADER + len;
	}
	return p == end ? 0 : snap_bad(L, "corrupt: bytes after record %u", L->h.count);
}

/* A decoded ref: its old id becomes the new object's, and it counts now
 * (decoding could not count it). Refs to no saved object are dropped. */
static bool snapshot_ref_restore(void *ctx, mgr_value *ref)
{
	struct snap_load *L = ctx;
	struct snap_rec *r = idmap_get(&L->by_old, ref->u.ref.id);
	ref->u.ref.id = r ? r->obj->id : 0; /* 0: its release finds nothing */
	if (r)
		registry_ref_id(&L->srv->reg, r->obj->id);
	return r != NULL;
}

/* A record given up before its refs were rewritten: they counted nothing,
 * so their release must find nothing. */
static bool snapshot_ref_drop(void *ctx, mgr_value *ref)
{
	(void)ctx;
	ref->u.ref.id = 0;
	return false;
}

/* The state inside a checked record. */
static mgr_value *snapshot_state_slot(mgr_value *rec)
{
	mgr_value k = {.kind = MGR_STRING, .u.s = {"state", 5}};
	return &htab_find(rec->u.map, &k)->val;
}

/* Passes 2-4: objects made, refs rewritten, states loaded. */
static int snapshot_restore(struct snap_load *L)
{
	struct registry *reg = &L->srv->reg;
	for (uint32_t i = 0; i < L->n; i++)
		if (registry_restore(reg, L->recs[i].type, L->recs[i].name, &L->recs[i].obj))
			return snap_bad(L, "record %u: cannot restore '%s' (name taken twice?)", i + 1,
					L->recs[i].name);
	for (uint32_t i = 0; i < L->n; i++)
		snapshot_refs(snapshot_state_slot(L->recs[i].rec), snapshot_ref_restore, L);
	L->rewritten = true;
	for (uint32_t i = 0; i < L->n; i++) {
		struct snap_rec *r = &L->recs[i];
		int rc = r->type->load(snapshot_state_slot(r->rec), &r->obj->state);
		if (rc)
			return snap_bad(L, "record %u ('%s', %s): its state does not load: %s", i + 1,
					r->name, r->type->name, mgr_strerror(rc));
	}
	return 0;
}

/* Drops the records; on failure the restored objects go too. */
static void snapshot_load_done(struct snap_load *L, bool failed)
{
	struct registry *reg = &L->srv->reg;
	for (uint32_t i = 0; L->recs && i < L->n; i++) {
		struct snap_rec *r = &L->recs[i];
		if (!L->rewritten) /* refs still hold old ids: release none */
			snapshot_refs(r->rec, snapshot_ref_drop, NULL);
		if (r->obj && failed)
			registry_delete(reg, r->obj);
		if (r->obj)
			registry_unref(reg, r->obj->id); /* the creator's reference */
	}
	for (uint32_t i = 0; L->recs && i < L->n; i++)
		mgr_value_free(L->recs[i].rec);
	free(L->recs);
	free(L->data);
	idmap_free(&L->by_old);
}

/* A bad file with --ignore-bad-snapshot: kept aside as FILE.bad (renamed
 * in its directory: whatever it is, nothing is followed or opened). */
static int snapshot_ignore_bad(struct snap_load *L, const struct snap_dir *d)
{
	char *bad = snapshot_sibling(d->base, ".bad");
	bool moved = bad && renameat(d->fd, d->base, d->fd, bad) == 0;
	log_msg(LOG_WARN, "snapshot %s: %s; starting empty (--ignore-bad-snapshot)%s%s%s%s", L->path,
		L->why, moved ? ", the bad file is now " : "", moved ? d->path : "", moved ? "/" : "",
		moved ? bad : "");
	free(bad);
	return 0;
}

/* Read, checked and restored: SNAP_READ, SNAP_NONE, SNAP_FATAL, or
 * SNAP_UNTRUSTED for any bad file (L->why). */
static int snapshot_load_in(struct snap_load *L, const struct snap_dir *d)
{
	int rc = snapshot_read(L, d);
	if (rc != SNAP_READ) {
		free(L->data);
		return rc;
	}
	rc = snapshot_check_header(L) || snapshot_decode(L) || snapshot_restore(L) ? -1 : 0;
	snapshot_load_done(L, rc != 0);
	return rc ? SNAP_UNTRUSTED : SNAP_READ;
}

int snapshot_load(struct server *srv)
{
	struct snap_load L = {.srv = srv, .path = srv->cfg.snapshot_path};
	struct snap_dir d;
	if (!L.path)
		return 0;
	int rc = snap_dir_open(L.path, &d, L.why, sizeof(L.why)) ? SNAP_FATAL : SNAP_READ;
	if (rc == SNAP_READ) {
		snap_dir_sweep(&d);
		rc = snapshot_load_in(&L, &d);
	}
	if (rc == SNAP_READ)
		log_msg(LOG_INFO, "snapshot %s: restored %u objects", L.path, L.n);
	else if (rc == SNAP_NONE)
		log_msg(LOG_INFO, "snapshot %s does not exist yet: starting empty", L.path);
	else if (rc == SNAP_FATAL)
		log_msg(LOG_ERROR, "snapshot %s: %s", L.path, L.why);
	else if (srv->cfg.ignore_bad_snapshot)
		rc = snapshot_ignore_bad(&L, &d);
	else
		log_msg(LOG_ERROR, "snapshot %s: %s (start with --ignore-bad-snapshot to set it aside "
			"and start empty)", L.path, L.why);
	snap_dir_close(&d);
	return rc == SNAP_FATAL || rc == SNAP_UNTRUSTED ? -1 : 0;
}
