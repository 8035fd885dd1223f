/* Ending the rest of our process group (see pgroup.h): /proc lists every
 * process; field 5 of /proc/PID/stat is its group. kill(-pgrp) would end
 * this process too, before it could say why it exits. */
#include "pgroup.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* The process group of pid, from /proc/PID/stat; -1 if it is gone or a
 * zombie (ended already). */
static pid_t pgroup_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	char *end = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
	int ppid, pgrp;
	char state;
	if (!end || sscanf(end + 1, " %c %d %d", &state, &ppid, &pgrp) != 3 || state == 'Z')
		return -1;
	return (pid_t)pgrp;
}

/* One pass over /proc: how many were signalled. */
static int pgroup_kill_pass(pid_t self)
{
	DIR *d = opendir("/proc");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == self || pgroup_of((pid_t)pid) != self)
			continue;
		if (kill((pid_t)pid, SIGKILL) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* A process forked while a pass ran is caught by the next; a pass that
 * finds none left ends it (one just killed may still show: at most 5). */
int pgroup_kill_others(void)
{
	pid_t self = getpid();
	if (getpgrp() != self)
		return 0;
	int n = 0;
	for (int pass = 0, k = 1; k && pass < 5; pass++)
		n += k = pgroup_kill_pass(self);
	if (n)
		log_msg(LOG_WARN, "SIGKILL to the rest of the manager's process group (%d sent)", n);
	return n;
}
