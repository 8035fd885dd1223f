/* A private manager's process group: libmgr's mgr_manager_start makes the
 * manager the leader of a group of its own, which every process it starts
 * joins (a Python manager's Pool workers, a method's subprocesses) unless
 * that process moves away. When the manager must exit with calls still
 * running (pool_fini past the stop deadline), those processes would outlive
 * it, so it ends them first. */
#ifndef MGRD_PGROUP_H
#define MGRD_PGROUP_H

/* SIGKILLs every other process in this process's group if this process
 * leads it; how many were signalled (0 if it does not lead its group). */
int pgroup_kill_others(void);

#endif
