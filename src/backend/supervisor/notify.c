/* SPDX-License-Identifier: MIT */
/* notify.c - sd_notify(3)'s datagram protocol, and the watchdog's pace. */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A decimal number: 0 and *@out, or -EINVAL. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The watchdog is ours if $WATCHDOG_PID is unset or names us (sd_watchdog_enabled(3)). */
static uint64_t watchdog_period_ms(void)
{
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t usec, p;

	if (parse_u64(getenv("WATCHDOG_USEC"), &usec) || usec == 0)
		return 0;
	if (pid && (parse_u64(pid, &p) || p != (uint64_t)getpid()))
		return 0;
	/* Twice per period, as sd_watchdog_enabled(3) advises; at least every ms. */
	return usec / 2000 ? usec / 2000 : 1;
}

int notify_init(struct notifier *n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;
	int rc = 0;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->watchdog_ms = watchdog_period_ms();
	if (path && (path[0] == '/' || path[0] == '@') &&
	    (len = strlen(path)) < sizeof(n->addr.sun_path)) {
		n->addr.sun_family = AF_UNIX;
		memcpy(n->addr.sun_path, path, len);
		if (path[0] == '@')
			n->addr.sun_path[0] = '\0'; /* abstract: no terminating NUL counted */
		else
			len++;
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
		n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (n->fd < 0)
			rc = -errno;
	} else if (path) {
		rc = -EINVAL; /* neither a path nor an abstract name (vsock: not here) */
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (n->fd < 0)
		n->watchdog_ms = 0; /* nobody to tell */
	return rc;
}

int notify_send(struct notifier *n, const char *msg)
{
	if (n->fd < 0)
		return 0;
	/* Never wait: systemd reads these promptly, and a lost STATUS= is
	 * replaced by the next one. */
	if (sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&n->addr, n->addr_len) < 0)
		return -errno;
	return 0;
}

void notify_watchdog(struct notifier *n, uint64_t now_ms)
{
	if (!n->watchdog_ms || now_ms < n->next_watchdog_ms)
		return;
	notify_send(n, "WATCHDOG=1");
	n->next_watchdog_ms = now_ms + n->watchdog_ms;
}

void notify_close(struct notifier *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->watchdog_ms = 0;
}
