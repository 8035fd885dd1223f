/* Leveled logging to stderr: "mgrd[pid]: level: message". */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const log_names[] = {"error", "warn", "info", "debug"};
static enum log_level log_level = LOG_INFO;

void log_set_level(enum log_level level) { log_level = level; }

int log_level_parse(const char *name)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (!strcmp(name, log_names[i]))
			return i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[1024];
	int n = snprintf(line, sizeof(line), "mgrd[%d]: %s: ", (int)getpid(), log_names[level]);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
