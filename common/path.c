/* The default socket path, and the one check of a socket's directory that
 * libmgr (before it sends anything) and mgrd (before it binds) both make:
 * see path.h. */
#include "path.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgr/error.h"

int path_default_socket(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && *xdg ? snprintf(buf, size, "%s/mgr/mgrd.sock", xdg)
			    : snprintf(buf, size, "/tmp/mgr-%u/mgrd.sock", (unsigned)getuid());
	return n > 0 && (size_t)n < size ? 0 : MGR_EINVAL;
}

bool path_trusted(const struct path_trust *t, uid_t uid)
{
	return uid == 0 || uid == t->self || (t->also != (uid_t)-1 && uid == t->also);
}

/* "root", "uid 1000 or root", "uid 1000, uid 995 or root" */
static void path_trusted_names(const struct path_trust *t, char *buf, size_t size)
{
	bool self = t->self != 0, also = t->also != (uid_t)-1 && t->also != 0 && t->also != t->self;
	if (self && also)
		snprintf(buf, size, "uid %u, uid %u or root", (unsigned)t->self, (unsigned)t->also);
	else if (self || also)
		snprintf(buf, size, "uid %u or root", (unsigned)(self ? t->self : t->also));
	else
		snprintf(buf, size, "root");
}

static enum path_verdict path_refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum path_verdict path_refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return PATH_REFUSED;
}

static enum path_verdict path_check_owner(const char *what, const struct stat *st,
					  const struct path_trust *t, char *err, size_t errlen)
{
	if (path_trusted(t, st->st_uid))
		return PATH_OK;
	char names[64];
	path_trusted_names(t, names, sizeof(names));
	return path_refuse(err, errlen, "refusing %s: owned by uid %u, not %s", what,
			   (unsigned)st->st_uid, names);
}

enum path_verdict path_check_dir(const char *dir, const struct path_trust *t, char *err,
				 size_t errlen)
{
	struct stat st;
	if (lstat(dir, &st))
		return errno == ENOENT ? PATH_ABSENT
				       : path_refuse(err, errlen, "refusing %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return path_refuse(err, errlen, "refusing %s: not a directory", dir);
	if (path_check_owner(dir, &st, t, err, errlen))
		return PATH_REFUSED;
	if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
		return PATH_OK;
	if (st.st_mode & S_ISVTX)
		return PATH_STICKY;
	return path_refuse(err, errlen, "refusing %s: writable by %s (mode %04o)", dir,
			   st.st_mode & S_IWOTH ? "others" : "its group",
			   (unsigned)(st.st_mode & 07777));
}

bool path_dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return snprintf(dir, size, ".") < (int)size;
	size_t len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= size)
		return false;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return true;
}

enum path_verdict path_check_socket(const char *path, const struct path_trust *t, char *err,
				    size_t errlen)
{
	char dir[4096];
	if (!path_dir_of(path, dir, sizeof(dir)))
		return path_refuse(err, errlen, "refusing %s: path too long", path);
	enum path_verdict v = path_check_dir(dir, t, err, errlen);
	if (v != PATH_STICKY)
		return v;
	struct stat st;
	if (lstat(path, &st))
		return PATH_ABSENT;
	if (!S_ISSOCK(st.st_mode))
		return path_refuse(err, errlen, "refusing %s: not a socket", path);
	return path_check_owner(path, &st, t, err, errlen) ? PATH_REFUSED : PATH_OK;
}
