/* SPDX-License-Identifier: MIT */
/*
 * test_notify.c - xnbd's side of sd_notify(3), against a socket of ours
 * playing systemd: abstract and path addresses, the variables taken out of
 * the environment (the workers must not inherit them), the watchdog's pace
 * and whose watchdog it is.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

/* systemd's end: a datagram socket bound to @name ("@..." or a path). */
static int listener(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memcpy(a.sun_path, name, strlen(name));
	if (name[0] == '@')
		a.sun_path[0] = '\0';
	else
		len++;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
	return fd;
}

/* The next datagram, or "" if none is waiting. */
static const char *received(int fd)
{
	static char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void unset_all(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void abstract_socket_and_watchdog(void **state)
{
	struct notifier n;
	char name[64], pid[16];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@xnb-test-notify-%d", (int)getpid());
	fd = listener(name);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_init(&n), 0);
	/* Taken out of the environment: a worker would inherit them. */
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_null(getenv("WATCHDOG_USEC"));
	assert_null(getenv("WATCHDOG_PID"));
	assert_int_equal(n.watchdog_ms, 1000);

	assert_int_equal(notify_send(&n, "READY=1\nSTATUS=serving 0 vifs"), 0);
	assert_string_equal(received(fd), "READY=1\nSTATUS=serving 0 vifs");

	/* Due at once, then every half period. */
	notify_watchdog(&n, 5000);
	assert_string_equal(received(fd), "WATCHDOG=1");
	notify_watchdog(&n, 5999);
	assert_string_equal(received(fd), "");
	notify_watchdog(&n, 6000);
	assert_string_equal(received(fd), "WATCHDOG=1");
	notify_close(&n);
	close(fd);
}

static void path_socket(void **state)
{
	char dir[] = "/tmp/xnb-test-notify.XXXXXX", path[96];
	struct notifier n;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_init(&n), 0);
	assert_int_equal(n.watchdog_ms, 0);
	notify_watchdog(&n, 1000); /* no WatchdogSec=: nothing */
	assert_int_equal(notify_send(&n, "STOPPING=1"), 0);
	assert_string_equal(received(fd), "STOPPING=1");
	notify_close(&n);
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void someone_elses_watchdog(void **state)
{
	char name[64];
	struct notifier n;
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@xnb-test-notify-wd-%d", (int)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", "1", 1); /* the watchdog is for another process */
	assert_int_equal(notify_init(&n), 0);
	assert_int_equal(n.watchdog_ms, 0);
	notify_watchdog(&n, 1000);
	assert_string_equal(received(fd), "");
	notify_close(&n);
	close(fd);
	unset_all();
}

static void not_under_systemd(void **state)
{
	struct notifier n;

	(void)state;
	unset_all();
	setenv("WATCHDOG_USEC", "2000000", 1);
	assert_int_equal(notify_init(&n), 0);
	assert_int_equal(n.fd, -1);
	assert_int_equal(n.watchdog_ms, 0);
	assert_int_equal(notify_send(&n, "READY=1"), 0);
	notify_watchdog(&n, 1000);
	notify_close(&n);

	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1); /* not a socket we speak */
	assert_int_equal(notify_init(&n), -EINVAL);
	assert_int_equal(notify_send(&n, "READY=1"), 0);
	notify_close(&n);
	unset_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(abstract_socket_and_watchdog),
		cmocka_unit_test(path_socket),
		cmocka_unit_test(someone_elses_watchdog),
		cmocka_unit_test(not_under_systemd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
