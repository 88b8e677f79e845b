/* SPDX-License-Identifier: MIT */
/*
 * test_sandbox.c - the worker's sandbox (src/backend/worker/sandbox.c),
 * entered by forked children so the test process keeps its privileges.
 *
 *   test_sandbox ids      identity, capabilities, no_new_privs, limits,
 *                         threads and an allowed write, inside the sandbox
 *   test_sandbox seccomp  calls outside the allow-list kill the child with
 *                         SIGSYS; exits 77 in sanitizer builds, which skip
 *                         the filter
 *
 * Every child that is meant to die makes the forbidden call and then exits
 * with a distinct status: if the filter let the call through, the parent
 * sees that status instead of SIGSYS and the test fails.
 * Needs root (to switch to 'nobody'); skipped (77) otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/io_uring.h>

#include <cmocka.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

#define NOBODY 65534
/* A child that got past a call the filter should have refused. */
#define NOT_KILLED 99

static uid_t nobody_uid = NOBODY;
static gid_t nobody_gid = NOBODY;
static int pipe_w = -1; /* the child's end of the parent's pipe */

static struct sandbox_config config(bool seccomp)
{
	struct sandbox_config c = {
		.uid = nobody_uid,
		.gid = nobody_gid,
		.max_fds = 64,
		/* ASan's shadow memory is a private writable mapping of terabytes:
		 * any data limit would stop its allocator. */
		.max_data_bytes = TEST_ASAN ? 0 : (rlim_t)1 << 30,
		.seccomp = seccomp,
	};

	return c;
}

/*
 * Fork; the child enters the sandbox with @c and returns @body's result as
 * its exit status (sandbox_enter() failing: 100 + errno). Returns the
 * child's wait status; what the child wrote to its pipe goes to @out.
 */
static int run_child(const struct sandbox_config *c, int (*body)(void), char *out, size_t out_size)
{
	int p[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc;

		close(p[0]);
		pipe_w = p[1];
		rc = sandbox_enter(c);
		_exit(rc ? 100 + (-rc & 0x1f) : body());
	}
	close(p[1]);
	if (out) {
		size_t got = 0;

		while (got + 1 < out_size && (n = read(p[0], out + got, out_size - 1 - got)) > 0)
			got += (size_t)n;
		out[got] = '\0';
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exit_ok(int status)
{
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void assert_sigsys(int status)
{
	if (WIFEXITED(status))
		fail_msg("child exited with %d instead of dying of SIGSYS", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* ---- ids: who the child is once inside ---- */

static int body_identity(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	static const char msg[] = "sandboxed";

	if (getuid() != NOBODY || geteuid() != NOBODY)
		return 1;
	if (getgid() != NOBODY || getegid() != NOBODY)
		return 2;
	memset(d, 0xff, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return 3;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return 4;
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0)
			return 5;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 6;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 7;
	/* An allowed call: the parent reads this. */
	if (write(pipe_w, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1)
		return 8;
	return 0;
}

static void test_identity_caps_nnp(void **state)
{
	struct sandbox_config c = config(sandbox_seccomp_supported());
	char out[32];

	(void)state;
	assert_exit_ok(run_child(&c, body_identity, out, sizeof(out)));
	assert_string_equal(out, "sandboxed");
}

static void *thread_main(void *arg)
{
	/* A thread's first malloc may make a new arena (mmap, mprotect). */
	char *buf = malloc(200000);
	static const char msg[] = "thread";

	(void)arg;
	if (!buf)
		return (void *)1;
	memcpy(buf, msg, sizeof(msg));
	if (write(pipe_w, buf, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1) {
		free(buf);
		return (void *)2;
	}
	free(buf);
	return NULL;
}

static int body_thread(void)
{
	pthread_t t;
	void *ret = (void *)-1;

	if (pthread_create(&t, NULL, thread_main, NULL) != 0)
		return 1;
	if (pthread_join(t, &ret) != 0)
		return 2;
	return ret == NULL ? 0 : 3;
}

/* The worker starts its queue threads after the sandbox is in place. */
static void test_thread_in_sandbox(void **state)
{
	struct sandbox_config c = config(sandbox_seccomp_supported());
	char out[32];

	(void)state;
	assert_exit_ok(run_child(&c, body_thread, out, sizeof(out)));
	assert_string_equal(out, "thread");
}

static int body_limits(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != 64 || rl.rlim_max != 64)
		return 1;
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
		return 2;
	if (getrlimit(RLIMIT_DATA, &rl) != 0 ||
	    rl.rlim_cur != (TEST_ASAN ? RLIM_INFINITY : (rlim_t)1 << 30))
		return 3;
	/* The hard limit went down with the soft one, and we are not root. */
	rl.rlim_cur = rl.rlim_max = 4096;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return 4;
	return 0;
}

/* getrlimit is not in the allow-list: checked without the filter. */
static void test_limits(void **state)
{
	struct sandbox_config c = config(false);

	(void)state;
	assert_exit_ok(run_child(&c, body_limits, NULL, 0));
}

static int body_none(void)
{
	return 0;
}

/* Not root and not the identity asked for: refused, nothing half done. */
static void test_unprivileged_other_uid(void **state)
{
	struct sandbox_config c = config(false);
	int status;

	(void)state;
	c.uid = NOBODY - 1;
	if (fork() == 0) {
		if (setresgid(nobody_gid, nobody_gid, nobody_gid) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(1);
		_exit(sandbox_enter(&c) == -EPERM ? 0 : 2);
	}
	assert_true(wait(&status) > 0);
	assert_exit_ok(status);
	/* Already that user: accepted. */
	c.uid = nobody_uid;
	if (fork() == 0) {
		if (setresgid(nobody_gid, nobody_gid, nobody_gid) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(1);
		_exit(sandbox_enter(&c) == 0 && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 3);
	}
	assert_true(wait(&status) > 0);
	assert_exit_ok(status);
	/* Root (uid 0) as the target is no sandbox. */
	c.uid = 0;
	assert_int_equal(WEXITSTATUS(run_child(&c, body_none, NULL, 0)), 100 + EINVAL);
}

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/* Credentials are per thread: a second thread already running is refused. */
static void test_refuses_threads(void **state)
{
	struct sandbox_config c = config(false);
	int status;

	(void)state;
	if (fork() == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, sleeper, NULL) != 0)
			_exit(1);
		_exit(sandbox_enter(&c) == -EBUSY && getuid() == 0 ? 0 : 2);
	}
	assert_true(wait(&status) > 0);
	assert_exit_ok(status);
}

/* ---- seccomp: what kills ---- */

static int body_openat(void)
{
	syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
	return NOT_KILLED;
}

static int body_socket(void)
{
	socket(AF_INET, SOCK_DGRAM, 0);
	return NOT_KILLED;
}

static int body_execve(void)
{
	char *argv[] = { "/bin/true", NULL }, *envp[] = { NULL };

	execve(argv[0], argv, envp);
	return NOT_KILLED;
}

static int body_fork(void)
{
	pid_t pid = fork(); /* glibc: clone(SIGCHLD | ...) without CLONE_THREAD */

	if (pid == 0)
		_exit(0);
	return NOT_KILLED;
}

static int body_kill_parent(void)
{
	kill(getppid(), 0);
	return NOT_KILLED;
}

static int body_bad_ioctl(void)
{
	int n;

	ioctl(pipe_w, FIONREAD, &n); /* not a request the data path makes */
	return NOT_KILLED;
}

static int body_mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return NOT_KILLED;
}

/* System call 20 of the i386 table (getpid) through int $0x80. */
static int body_i386(void)
{
	long ret = 20;

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return NOT_KILLED;
}

/* getpid through the x32 numbering. */
static int body_x32(void)
{
	syscall(0x40000000 | SYS_getpid);
	return NOT_KILLED;
}

/* What is refused softly: clone3 (glibc falls back to clone) and a new
 * io_uring (tap.c falls back to readv/writev). */
static int body_soft_refusals(void)
{
	struct io_uring_params p;
	char args[88] = { 0 };

	errno = 0;
	if (syscall(SYS_clone3, args, sizeof(args)) != -1 || errno != ENOSYS)
		return 1;
	memset(&p, 0, sizeof(p));
	errno = 0;
	if (syscall(SYS_io_uring_setup, 4, &p) != -1 || errno != EPERM)
		return 2;
	return 0;
}

#define KILL_TEST(name)                                                  \
	static void test_kills_##name(void **state)                      \
	{                                                                \
		struct sandbox_config c = config(true);                  \
		(void)state;                                             \
		assert_sigsys(run_child(&c, body_##name, NULL, 0));      \
	}
KILL_TEST(openat)
KILL_TEST(socket)
KILL_TEST(execve)
KILL_TEST(fork)
KILL_TEST(kill_parent)
KILL_TEST(bad_ioctl)
KILL_TEST(mmap_exec)
KILL_TEST(i386)
KILL_TEST(x32)

static void test_soft_refusals(void **state)
{
	struct sandbox_config c = config(true);

	(void)state;
	assert_exit_ok(run_child(&c, body_soft_refusals, NULL, 0));
}

/* The same forbidden calls without the filter do not kill: SIGSYS above
 * comes from the filter, not from the calls themselves. */
static void test_controls_without_filter(void **state)
{
	struct sandbox_config c = config(false);
	int (*bodies[])(void) = { body_openat, body_socket, body_fork, body_kill_parent,
				  body_bad_ioctl, body_mmap_exec };

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int status = run_child(&c, bodies[i], NULL, 0);

		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), NOT_KILLED);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest ids[] = {
		cmocka_unit_test(test_identity_caps_nnp),
		cmocka_unit_test(test_thread_in_sandbox),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_unprivileged_other_uid),
		cmocka_unit_test(test_refuses_threads),
	};
	const struct CMUnitTest filter[] = {
		cmocka_unit_test(test_kills_openat),
		cmocka_unit_test(test_kills_socket),
		cmocka_unit_test(test_kills_execve),
		cmocka_unit_test(test_kills_fork),
		cmocka_unit_test(test_kills_kill_parent),
		cmocka_unit_test(test_kills_bad_ioctl),
		cmocka_unit_test(test_kills_mmap_exec),
		cmocka_unit_test(test_kills_i386),
		cmocka_unit_test(test_kills_x32),
		cmocka_unit_test(test_soft_refusals),
		cmocka_unit_test(test_controls_without_filter),
	};
	const char *mode = argc > 1 ? argv[1] : "ids";

	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: needs root: skipped\n");
		return 77;
	}
	if (sandbox_user_lookup("nobody", &nobody_uid, &nobody_gid) != 0 ||
	    nobody_uid != NOBODY) {
		nobody_uid = NOBODY;
		nobody_gid = NOBODY;
	}
	if (strcmp(mode, "seccomp") == 0) {
		if (!sandbox_seccomp_supported()) {
			fprintf(stderr, "test_sandbox: sanitizer build, no seccomp filter: skipped\n");
			return 77;
		}
		return cmocka_run_group_tests_name("sandbox seccomp", filter, NULL, NULL);
	}
	return cmocka_run_group_tests_name("sandbox ids", ids, NULL, NULL);
}
