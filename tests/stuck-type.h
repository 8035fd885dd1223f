/* test.stuck: a custom type whose block() never returns, for the stop
 * deadline (tests/test-integ-stop.c); served in-process or as a module
 * (tests/module-stuck.c). */
#ifndef TESTS_STUCK_TYPE_H
#define TESTS_STUCK_TYPE_H

#include <mgr/server.h>

/* block(): counts itself in blocked() and never returns.
 * blocked(): how many block() calls have started (in this manager).
 * spawn(): forks a process that waits forever (in the manager's process
 * group, no descriptor of the manager's kept); its pid. */
extern const mgr_type_def stuck_type;

#endif
