/* test.stuck (see stuck-type.h). */
#include "stuck-type.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int stuck_blocked;
static atomic_bool stuck_forever = true; /* never cleared: block() never returns */

static int stuck_init(void **state, mgr_request *call)
{
	(void)call;
	*state = NULL;
	return 0;
}

static int stuck_block(void *state, mgr_request *call)
{
	(void)state;
	(void)call;
	atomic_fetch_add(&stuck_blocked, 1);
	while (atomic_load(&stuck_forever)) {
		struct timespec t = {1, 0};
		nanosleep(&t, NULL);
	}
	return 0;
}

static int stuck_count(void *state, mgr_request *call)
{
	(void)state;
	return mgr_request_return(call, mgr_value_new_int(atomic_load(&stuck_blocked)));
}

static int stuck_spawn(void *state, mgr_request *call)
{
	(void)state;
	pid_t pid = fork();
	if (pid == 0) { /* no client's socket held open: only the group ties it */
		syscall(SYS_close_range, 3, ~0U, 0);
		for (;;)
			pause();
	}
	if (pid < 0)
		return mgr_request_error(call, MGR_EIO, "fork failed");
	return mgr_request_return(call, mgr_value_new_int(pid));
}

static const mgr_method_def stuck_methods[] = {
	{"block", stuck_block, 0, 0, "", "never returns", 0},
	{"block_inline", stuck_block, 0, 0, "", "never returns, on the loop's thread",
	 MGR_METHOD_INLINE},
	{"blocked", stuck_count, 0, 0, "", "block() calls started", 0},
	{"spawn", stuck_spawn, 0, 0, "", "a process waiting forever; its pid", 0},
};

const mgr_type_def stuck_type = {
	.name = "test.stuck",
	.doc = "a method that never returns",
	.init = stuck_init,
	.methods = stuck_methods,
	.nmethods = sizeof(stuck_methods) / sizeof(stuck_methods[0]),
};
