/* mgrd's log: one line per event on stderr, with a level; lines of one
 * kind (the same format string) are rate-limited, the rest counted. */
#ifndef MGRD_LOG_H
#define MGRD_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

#include <stdbool.h>

void log_set_level(enum log_level level);
/* Whether log_set_level was called (--log-level, or a program serving its
 * own types choosing a level before mgr_server_main). */
bool log_level_was_set(void);
/* Parses "error", "warn", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);
/* At most burst lines of one format string per window_ms (both > 0);
 * the lines over are counted and reported in one "suppressed N similar
 * messages" line. Default 10 per 1000 ms. */
void log_set_rate(unsigned burst, unsigned window_ms);
/* fmt must be a string literal (or live as long as mgrd): its address is
 * its kind. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
