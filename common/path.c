/* The default socket path (see path.h). */
#include "path.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mgr/error.h"

int path_default_socket(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && *xdg ? snprintf(buf, size, "%s/mgr/mgrd.sock", xdg)
			    : snprintf(buf, size, "/tmp/mgr-%u/mgrd.sock", (unsigned)getuid());
	return n > 0 && (size_t)n < size ? 0 : MGR_EINVAL;
}
