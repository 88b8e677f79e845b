/* SPDX-License-Identifier: MIT */
/*
 * log.h - logging for the daemons: stderr lines with a level, and a
 * per-source token bucket so that what a guest can trigger cannot flood.
 */
#ifndef XNB_COMMON_LOG_H
#define XNB_COMMON_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * log_init() - prefix every line with @prog; print up to @max_level. If
 * stderr is the journal ($JOURNAL_STREAM), lines also start with their
 * syslog priority ("<4>" for a warning).
 */
void log_init(const char *prog, enum log_level max_level);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A rate limit for guest-triggered messages: @burst lines, then one per
 * @interval_ms; what is suppressed is counted and reported with the next
 * line that gets through.
 */
struct log_ratelimit {
	uint64_t window_start_ms;
	unsigned interval_ms, burst, used;
	uint64_t suppressed;
};

#define LOG_RATELIMIT_INIT { 0, 5000, 10, 0, 0 }

void log_limited(struct log_ratelimit *rl, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
