/* Where a manager listens by default; client and server agree here. */
#ifndef COMMON_PATH_H
#define COMMON_PATH_H

#include <stddef.h>

/* $XDG_RUNTIME_DIR/mgr/mgrd.sock, else /tmp/mgr-$UID/mgrd.sock. 0 or
 * MGR_EINVAL if it does not fit in size. */
int path_default_socket(char *buf, size_t size);

#endif
