/* Leveled logging to stderr: "mgrd[pid]: level: message". Lines are
 * rate-limited by kind (their format string): at most log_burst of one
 * kind per window of log_window_ms; the rest are counted, and the count is
 * printed once, when that kind next logs after its window, when its slot
 * is needed for another kind, or at exit. A client that can make mgrd log
 * cannot flood the log or stall the loop on a slow stderr. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"

#define LOG_SLOTS 32 /* kinds tracked at once; the least recent gives way */

static const char *const log_names[] = {"error", "warn", "info", "debug"};
static enum log_level log_level = LOG_INFO;
static unsigned log_burst = 10, log_window_ms = 1000;

/* One kind of line: its window, lines printed in it, lines held back. */
struct log_slot {
	const char *fmt; /* NULL: free */
	enum log_level level;
	int64_t window_start, last;
	unsigned printed;
	uint64_t suppressed;
};

static struct log_slot log_slots[LOG_SLOTS];
static int log_exit_hooked;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER; /* any thread may log */

static bool log_level_chosen;

void log_set_level(enum log_level level)
{
	log_level = level;
	log_level_chosen = true;
}

bool log_level_was_set(void) { return log_level_chosen; }

void log_set_rate(unsigned burst, unsigned window_ms)
{
	log_burst = burst;
	log_window_ms = window_ms;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (!strcmp(name, log_names[i]))
			return i;
	return -1;
}

static void log_line(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "mgrd[%d]: %s: ", (int)getpid(), log_names[level]);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

static void log_linef(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(level, fmt, ap);
	va_end(ap);
}

/* Prints the count a slot held back, if any, and starts its new window. */
static void log_slot_flush(struct log_slot *s, int64_t now)
{
	if (s->suppressed)
		log_linef(s->level, "suppressed %llu similar messages (like \"%.80s\")",
			  (unsigned long long)s->suppressed, s->fmt);
	s->suppressed = 0;
	s->printed = 0;
	s->window_start = now;
}

static void log_flush_all(void)
{
	pthread_mutex_lock(&log_lock);
	for (size_t i = 0; i < LOG_SLOTS; i++)
		if (log_slots[i].fmt)
			log_slot_flush(&log_slots[i], 0);
	pthread_mutex_unlock(&log_lock);
}

/* fmt's slot: the one it has, else a free one, else the least recent
 * (whose count is printed first). */
static struct log_slot *log_slot_of(const char *fmt, enum log_level level, int64_t now)
{
	struct log_slot *lru = &log_slots[0];
	for (size_t i = 0; i < LOG_SLOTS; i++) {
		struct log_slot *s = &log_slots[i];
		if (s->fmt == fmt)
			return s;
		if (!s->fmt || (lru->fmt && s->last < lru->last))
			lru = s;
	}
	if (lru->fmt)
		log_slot_flush(lru, now);
	*lru = (struct log_slot){.fmt = fmt, .level = level, .window_start = now};
	return lru;
}

/* Whether a line of fmt may be printed now (the held-back count of its
 * last window goes first); false: counted instead. */
static int log_admit(const char *fmt, enum log_level level)
{
	int64_t now = clock_now_ms();
	struct log_slot *s = log_slot_of(fmt, level, now);
	s->last = now;
	if (now - s->window_start >= (int64_t)log_window_ms)
		log_slot_flush(s, now);
	if (s->printed < log_burst) {
		s->printed++;
		return 1;
	}
	if (!s->suppressed && !log_exit_hooked)
		log_exit_hooked = atexit(log_flush_all) == 0;
	s->suppressed++;
	return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	pthread_mutex_lock(&log_lock);
	if (log_admit(fmt, level)) {
		va_list ap;
		va_start(ap, fmt);
		log_line(level, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&log_lock);
}
