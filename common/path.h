/* Where a manager listens by default, and whom a socket's place is
 * trusted to: client and server agree here (docs/security.md, "Trusting
 * the manager"). */
#ifndef COMMON_PATH_H
#define COMMON_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* $XDG_RUNTIME_DIR/mgr/mgrd.sock, else /tmp/mgr-$UID/mgrd.sock. 0 or
 * MGR_EINVAL if it does not fit in size. */
int path_default_socket(char *buf, size_t size);

/* The uids trusted with a manager's socket: self (the caller's euid), root,
 * and also (another one the caller was told to accept; (uid_t)-1: none). */
struct path_trust {
	uid_t self, also;
};

bool path_trusted(const struct path_trust *t, uid_t uid);

/* What path_check_dir and path_check_socket found. */
enum path_verdict {
	PATH_REFUSED = -1, /* err says why; nothing may be sent there */
	PATH_OK = 0,       /* owned by a trusted uid, writable by nobody else */
	PATH_STICKY = 1,   /* a shared sticky directory (/tmp) owned by a trusted
			    * uid: only a socket's own owner may replace it */
	PATH_ABSENT = 2,   /* the directory does not exist */
};

/* Whether dir may hold a manager's socket. On PATH_REFUSED, err gets
 * "refusing DIR: owned by uid N, not ..." or "... writable by others
 * (mode 0777)"; lstat, so a symlink is refused too. */
enum path_verdict path_check_dir(const char *dir, const struct path_trust *t, char *err,
				 size_t errlen);

/* The client's check before connecting to the socket at path: its
 * directory (as above) and, in a sticky shared directory, the socket
 * itself owned by a trusted uid. PATH_OK or PATH_ABSENT (connecting will
 * say there is no manager) or PATH_REFUSED with err. */
enum path_verdict path_check_socket(const char *path, const struct path_trust *t, char *err,
				    size_t errlen);

/* The directory part of path into dir ("." if none); false if too long. */
bool path_dir_of(const char *path, char *dir, size_t size);

#endif
