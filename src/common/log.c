/* SPDX-License-Identifier: MIT */
/*
 * log.c - leveled, rate-limited logging to stderr.
 *
 * When stderr is the journal (a systemd service's), each line starts with
 * its syslog priority, "<3>" for an error to "<7>" for debug, which journald
 * takes off and records as the line's priority (sd-daemon(3)), so that
 * `journalctl -p warning` finds warnings and errors. systemd says where
 * stderr goes with $JOURNAL_STREAM ("DEV:INODE" of the stream it gave us):
 * only if stderr is still that stream (not redirected by a script in
 * between) are the prefixes written. Elsewhere the lines are unchanged.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "xnb";
static enum log_level log_max = LOG_LVL_INFO;
static bool log_journal;

/* Whether stderr is the stream $JOURNAL_STREAM names. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *prog, enum log_level max_level)
{
	log_prog = prog;
	log_max = max_level;
	log_journal = stderr_is_journal();
}

__attribute__((format(printf, 2, 0)))
static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	/* syslog's LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
	static const char *const prio[] = { "<3>", "<4>", "<6>", "<7>" };

	if (lvl > log_max)
		return;
	/* One line at a time: a worker's queue threads log too. */
	flockfile(stderr);
	fprintf(stderr, "%s%s: %s: ", log_journal ? prio[lvl] : "", log_prog, names[lvl]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void log_limited(struct log_ratelimit *rl, enum log_level lvl, const char *fmt, ...)
{
	uint64_t now = now_ms();
	va_list ap;

	if (now - rl->window_start_ms >= rl->interval_ms) {
		rl->window_start_ms = now;
		rl->used = 0;
	}
	if (rl->used >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->used++;
	if (rl->suppressed) {
		log_msg(lvl, "(%llu similar messages suppressed)", (unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	}
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
