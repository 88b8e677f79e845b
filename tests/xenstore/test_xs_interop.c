/* SPDX-License-Identifier: MIT */
/*
 * test_xs_interop.c - Debian's xenstore-utils and libxenstore against xs_testd.
 *
 * Starts tests/xenstore/xs_testd (path in argv[1]) on a private socket, sets
 * XENSTORED_PATH and drives it with the unmodified xenstore-* tools and
 * with libxenstore (xs_open, xs_read/xs_write, watches, transactions).
 * Exits 77 (skip) when xenstore-utils is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <xenstore.h>

static const char *testd_bin;
static char sock_dir[64];
static char sock_path[128];
static pid_t testd_pid;

/* Start xs_testd with domain 5 introduced and wait for its "ready". */
static int daemon_start(void **state)
{
	int pfd[2];
	char buf[16] = { 0 };
	ssize_t n;

	(void)state;
	strcpy(sock_dir, "/tmp/xs_interop.XXXXXX");
	if (!mkdtemp(sock_dir) || pipe(pfd))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/socket", sock_dir);
	testd_pid = fork();
	if (testd_pid < 0)
		return -1;
	if (testd_pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl(testd_bin, testd_bin, sock_path, "-d", "5", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	if (n <= 0 || strncmp(buf, "ready", 5) != 0)
		return -1;
	setenv("XENSTORED_PATH", sock_path, 1);
	return 0;
}

static int daemon_stop(void **state)
{
	int status = 0;

	(void)state;
	kill(testd_pid, SIGTERM);
	waitpid(testd_pid, &status, 0);
	rmdir(sock_dir);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Run a shell command, capture stdout into @out; returns the exit status. */
static int run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out) {
		n = fread(out, 1, size - 1, f);
		out[n] = '\0';
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_utils_write_read_ls_rm(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(run(NULL, 0, "xenstore-write /test/a hello /test/b/c world"), 0);
	assert_int_equal(run(out, sizeof(out), "xenstore-read /test/a"), 0);
	assert_string_equal(out, "hello\n");
	assert_int_equal(run(out, sizeof(out), "xenstore-read /test/b/c"), 0);
	assert_string_equal(out, "world\n");
	assert_int_equal(run(out, sizeof(out), "xenstore-ls /test"), 0);
	assert_non_null(strstr(out, "a = \"hello\""));
	assert_non_null(strstr(out, "b = \"\""));
	assert_non_null(strstr(out, " c = \"world\""));
	assert_int_equal(run(out, sizeof(out), "xenstore-list /test"), 0);
	assert_string_equal(out, "a\nb\n");
	assert_int_equal(run(NULL, 0, "xenstore-rm /test/b"), 0);
	assert_int_not_equal(run(NULL, 0, "xenstore-read /test/b/c 2>/dev/null"), 0);
	assert_int_equal(run(out, sizeof(out), "xenstore-ls /test"), 0);
	assert_string_equal(out, "a = \"hello\"\n");
	/* the domain introduced at start-up, and its ownership */
	assert_int_equal(run(out, sizeof(out), "xenstore-ls -p /local/domain"), 0);
	assert_non_null(strstr(out, "5 = \"\""));
	assert_non_null(strstr(out, "(n5,r0)"));
	assert_int_equal(run(NULL, 0, "xenstore-chmod /test/a n0 r5"), 0);
	assert_int_equal(run(out, sizeof(out), "xenstore-ls -p /test"), 0);
	assert_non_null(strstr(out, "(n0,r5)"));
	assert_int_equal(run(NULL, 0, "xenstore-rm /test"), 0);
}

static void test_utils_watch(void **state)
{
	char line[256];
	FILE *w;

	(void)state;
	assert_int_equal(run(NULL, 0, "xenstore-write /w/x 1"), 0);
	w = popen("exec xenstore-watch -n 3 /w", "r");
	assert_non_null(w);
	/* the first event comes at registration */
	assert_non_null(fgets(line, sizeof(line), w));
	assert_string_equal(line, "/w\n");
	assert_int_equal(run(NULL, 0, "xenstore-write /w/x 2"), 0);
	assert_non_null(fgets(line, sizeof(line), w));
	assert_string_equal(line, "/w/x\n");
	assert_int_equal(run(NULL, 0, "xenstore-rm /w/x"), 0);
	assert_non_null(fgets(line, sizeof(line), w));
	assert_string_equal(line, "/w/x\n");
	assert_int_equal(pclose(w), 0);
	assert_int_equal(run(NULL, 0, "xenstore-rm /w"), 0);
}

static void test_libxenstore(void **state)
{
	struct xs_handle *h = xs_open(0), *h2 = xs_open(0);
	xs_transaction_t t1, t2;
	unsigned int len, num;
	char **names, **ev;
	char *val;
	struct xs_permissions *perms;

	(void)state;
	assert_non_null(h);
	assert_non_null(h2);
	assert_true(xs_write(h, XBT_NULL, "/lib/k", "v1", 2));
	val = xs_read(h, XBT_NULL, "/lib/k", &len);
	assert_non_null(val);
	assert_int_equal(len, 2);
	assert_memory_equal(val, "v1", 2);
	free(val);
	assert_null(xs_read(h, XBT_NULL, "/lib/missing", &len));
	assert_int_equal(errno, ENOENT);
	assert_true(xs_mkdir(h, XBT_NULL, "/lib/d"));
	names = xs_directory(h, XBT_NULL, "/lib", &num);
	assert_non_null(names);
	assert_int_equal(num, 2);
	assert_string_equal(names[0], "k");
	assert_string_equal(names[1], "d");
	free(names);
	perms = xs_get_permissions(h, XBT_NULL, "/lib/k", &num);
	assert_non_null(perms);
	assert_int_equal(num, 1);
	assert_int_equal(perms[0].id, 0);
	assert_int_equal(perms[0].perms, XS_PERM_NONE);
	free(perms);
	val = xs_get_domain_path(h, 7);
	assert_string_equal(val, "/local/domain/7");
	free(val);
	assert_true(xs_is_domain_introduced(h, 5));
	assert_false(xs_is_domain_introduced(h, 6));

	/* watches: fire once on registration, then on change */
	assert_true(xs_watch(h, "/lib", "tok"));
	ev = xs_read_watch(h, &num);
	assert_non_null(ev);
	assert_string_equal(ev[XS_WATCH_PATH], "/lib");
	assert_string_equal(ev[XS_WATCH_TOKEN], "tok");
	free(ev);
	assert_true(xs_write(h2, XBT_NULL, "/lib/k", "v2", 2));
	ev = xs_read_watch(h, &num);
	assert_non_null(ev);
	assert_string_equal(ev[XS_WATCH_PATH], "/lib/k");
	free(ev);
	assert_true(xs_unwatch(h, "/lib", "tok"));

	/* transactions: the second of two conflicting commits gets EAGAIN */
	t1 = xs_transaction_start(h);
	t2 = xs_transaction_start(h2);
	assert_int_not_equal(t1, XBT_NULL);
	assert_int_not_equal(t2, XBT_NULL);
	val = xs_read(h, t1, "/lib/k", &len);
	free(val);
	val = xs_read(h2, t2, "/lib/k", &len);
	free(val);
	assert_true(xs_write(h, t1, "/lib/k", "t1", 2));
	assert_true(xs_write(h2, t2, "/lib/k", "t2", 2));
	assert_true(xs_transaction_end(h, t1, false));
	assert_false(xs_transaction_end(h2, t2, false));
	assert_int_equal(errno, EAGAIN);
	val = xs_read(h, XBT_NULL, "/lib/k", &len);
	assert_memory_equal(val, "t1", 2);
	free(val);
	assert_true(xs_rm(h, XBT_NULL, "/lib"));
	xs_close(h2);
	xs_close(h);
}

static void test_libxenstore_domains_perms(void **state)
{
	struct xs_handle *h = xs_open(0);
	struct xs_permissions set[2] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = 5, .perms = XS_PERM_READ },
	}, *got;
	unsigned int num;
	char **ev, **names, cmd[64];

	(void)state;
	assert_non_null(h);
	assert_true(xs_watch(h, "@introduceDomain", "i"));
	assert_true(xs_watch(h, "@releaseDomain", "r"));
	for (int i = 0; i < 2; i++) {
		ev = xs_read_watch(h, &num);
		assert_non_null(ev);
		free(ev);
	}
	assert_true(xs_introduce_domain(h, 8, 0x1234, 3));
	ev = xs_read_watch(h, &num);
	assert_non_null(ev);
	assert_string_equal(ev[XS_WATCH_PATH], "@introduceDomain");
	assert_string_equal(ev[XS_WATCH_TOKEN], "i");
	free(ev);
	assert_true(xs_is_domain_introduced(h, 8));
	assert_true(xs_release_domain(h, 8));
	ev = xs_read_watch(h, &num);
	assert_non_null(ev);
	assert_string_equal(ev[XS_WATCH_PATH], "@releaseDomain");
	free(ev);
	assert_false(xs_is_domain_introduced(h, 8));

	assert_true(xs_write(h, XBT_NULL, "/p/k", "", 0));
	assert_true(xs_set_permissions(h, XBT_NULL, "/p/k", set, 2));
	got = xs_get_permissions(h, XBT_NULL, "/p/k", &num);
	assert_non_null(got);
	assert_int_equal(num, 2);
	assert_int_equal(got[1].id, 5);
	assert_int_equal(got[1].perms, XS_PERM_READ);
	free(got);

	/* a directory too long for one message: libxenstore's XS_DIRECTORY_PART */
	for (int i = 0; i < 300; i++) {
		snprintf(cmd, sizeof(cmd), "/p/big/a-fairly-long-child-name-%03d", i);
		assert_true(xs_write(h, XBT_NULL, cmd, "", 0));
	}
	names = xs_directory(h, XBT_NULL, "/p/big", &num);
	assert_non_null(names);
	assert_int_equal(num, 300);
	assert_string_equal(names[299], "a-fairly-long-child-name-299");
	free(names);
	assert_int_equal(run(cmd, sizeof(cmd), "xenstore-list /p/big | wc -l"), 0);
	assert_string_equal(cmd, "300\n");
	assert_true(xs_rm(h, XBT_NULL, "/p"));
	xs_close(h);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utils_write_read_ls_rm),
		cmocka_unit_test(test_utils_watch),
		cmocka_unit_test(test_libxenstore),
		cmocka_unit_test(test_libxenstore_domains_perms),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s XS_TESTD\n", argv[0]);
		return 2;
	}
	testd_bin = argv[1];
	if (access("/usr/bin/xenstore-read", X_OK) || access("/usr/bin/xenstore-ls", X_OK)) {
		fprintf(stderr, "xenstore-utils not installed: skipping\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, daemon_start, daemon_stop);
}
