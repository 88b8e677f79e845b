/* SPDX-License-Identifier: MIT */
/*
 * notify.h - telling systemd how xnbd is doing (sd_notify(3)'s protocol).
 *
 * Under a Type=notify unit systemd puts a datagram socket's address in
 * $NOTIFY_SOCKET ("/path", or "@name" for the abstract namespace) and, with
 * WatchdogSec=, the period in $WATCHDOG_USEC (for the pid in $WATCHDOG_PID).
 * Each message is one datagram of "KEY=value" lines: READY=1, STATUS=...,
 * WATCHDOG=1, STOPPING=1. Without $NOTIFY_SOCKET every call does nothing.
 * A few lines of our own rather than libsystemd: one dependency fewer, and
 * nothing here can block the loop (MSG_DONTWAIT).
 */
#ifndef XNB_BACKEND_SUPERVISOR_NOTIFY_H
#define XNB_BACKEND_SUPERVISOR_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct notifier {
	int fd;                    /* -1: not under systemd (or not Type=notify) */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_ms;      /* keep-alive period: half of $WATCHDOG_USEC; 0: none */
	uint64_t next_watchdog_ms; /* when the next WATCHDOG=1 is due */
};

/*
 * notify_init() - take $NOTIFY_SOCKET and the watchdog's variables, and
 * unset them: the workers xnbd starts are not the service and must not
 * speak for it. Returns 0 (also when there is no socket: @n then does
 * nothing) or -errno for a socket that cannot be used (@n does nothing).
 */
int notify_init(struct notifier *n);

/* notify_send() - one message, e.g. "READY=1\nSTATUS=...". 0 or -errno. */
int notify_send(struct notifier *n, const char *msg);

/* notify_watchdog() - WATCHDOG=1 if one is due at @now_ms (monotonic). */
void notify_watchdog(struct notifier *n, uint64_t now_ms);

/* notify_close() - release the socket. */
void notify_close(struct notifier *n);

#endif
