/* mgrd's log: one line per event on stderr, with a level. */
#ifndef MGRD_LOG_H
#define MGRD_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
/* Parses "error", "warn", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
