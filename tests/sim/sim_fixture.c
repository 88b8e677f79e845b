/* SPDX-License-Identifier: MIT */
/* sim_fixture.c - test helpers: start / stop a private xnb-simd, count descriptors. */
/*
 * Theory of operation: each test gets its own simd in a fresh mkdtemp()
 * directory, started in the foreground as a child so the test knows its pid
 * (for /proc/<pid>/fd and signals). The binary comes from $XNB_SIMD, which
 * meson sets to the built xnb-simd.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim_fixture.h"
#include "simd_proto.h"

static void fixture_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool fixture_can_connect(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, SIMD_SOCK_NAME);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

int fixture_simd_start(struct simd_proc *s)
{
	const char *bin = getenv("XNB_SIMD");

	if (!bin)
		return -ENOENT;
	snprintf(s->dir, sizeof(s->dir), "/tmp/xnb-simt-XXXXXX");
	if (!mkdtemp(s->dir))
		return -errno;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		execl(bin, bin, "--foreground", "--dir", s->dir, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		int st;

		if (fixture_can_connect(s->dir)) {
			setenv("XNB_SIM_DIR", s->dir, 1);
			return 0;
		}
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return -ECHILD;
		}
		fixture_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

static void fixture_rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int fixture_simd_stop(struct simd_proc *s)
{
	int st = 0, r = -1;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		kill(s->pid, SIGCONT);  /* in case a failed test left it stopped */
		if (waitpid(s->pid, &st, 0) == s->pid && WIFEXITED(st))
			r = WEXITSTATUS(st);
		s->pid = 0;
	}
	fixture_rm_dir(s->dir);
	return r;
}

int fixture_fd_count(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int fixture_fd_settled(pid_t pid)
{
	int n = fixture_fd_count(pid), same = 0;

	for (int t = 0; same < 10 && t < 2000; t += 10) {
		int m;

		fixture_sleep_ms(10);
		m = fixture_fd_count(pid);
		same = m == n ? same + 1 : 0;
		n = m;
	}
	return n;
}

int fixture_wait_fds(pid_t pid, int want, int ms)
{
	int n = fixture_fd_count(pid);

	for (int t = 0; n != want && t < ms; t += 10) {
		fixture_sleep_ms(10);
		n = fixture_fd_count(pid);
	}
	return n;
}

bool fixture_wait_fd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

const struct platform_ops *fixture_sim(void)
{
	return platform_by_name("sim");
}
