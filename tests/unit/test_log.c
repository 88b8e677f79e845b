/* SPDX-License-Identifier: MIT */
/*
 * test_log.c - log lines with and without the journal's priority prefixes.
 *
 * stderr is pointed at a pipe; $JOURNAL_STREAM names that pipe (as systemd
 * names the journal's stream), names something else, or is unset. Only in
 * the first case do lines start with "<N>".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

struct capture {
	int saved_stderr;
	int rd;
};

static int setup(void **state)
{
	static struct capture c;
	int p[2];

	if (pipe(p) < 0)
		return -1;
	fflush(stderr);
	c.saved_stderr = dup(STDERR_FILENO);
	if (c.saved_stderr < 0 || dup2(p[1], STDERR_FILENO) < 0)
		return -1;
	close(p[1]);
	c.rd = p[0];
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct capture *c = *state;

	fflush(stderr);
	dup2(c->saved_stderr, STDERR_FILENO);   /* if drain() did not */
	close(c->saved_stderr);
	close(c->rd);
	unsetenv("JOURNAL_STREAM");
	return 0;
}

/*
 * What was logged: stderr is given back first (so that a failed assertion is
 * seen), which closes the pipe's only writer, so the reads end.
 */
static const char *drain(struct capture *c)
{
	static char buf[1024];
	size_t len = 0;
	ssize_t n;

	fflush(stderr);
	dup2(c->saved_stderr, STDERR_FILENO);
	while (len < sizeof(buf) - 1 && (n = read(c->rd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

static void journal_stream_of_stderr(char *out, size_t len)
{
	struct stat st;

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(out, len, "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
}

static void prefixes_on_the_journal(void **state)
{
	char env[64];

	journal_stream_of_stderr(env, sizeof(env));
	setenv("JOURNAL_STREAM", env, 1);
	log_init("t", LOG_LVL_DEBUG);
	log_err("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("d");
	assert_string_equal(drain(*state), "<3>t: error: e 1\n<4>t: warning: w\n"
					   "<6>t: info: i\n<7>t: debug: d\n");
}

static void no_prefix_on_another_stream(void **state)
{
	char env[80];

	journal_stream_of_stderr(env, sizeof(env));
	strcat(env, "1");       /* another inode */
	setenv("JOURNAL_STREAM", env, 1);
	log_init("t", LOG_LVL_INFO);
	log_warn("w");
	log_debug("not shown");
	assert_string_equal(drain(*state), "t: warning: w\n");
}

static void no_prefix_without_the_variable(void **state)
{
	unsetenv("JOURNAL_STREAM");
	log_init("t", LOG_LVL_INFO);
	log_err("e");
	assert_string_equal(drain(*state), "t: error: e\n");
}

static void no_prefix_on_a_malformed_variable(void **state)
{
	char env[80];

	journal_stream_of_stderr(env, sizeof(env));
	strcat(env, "x");
	setenv("JOURNAL_STREAM", env, 1);
	log_init("t", LOG_LVL_INFO);
	log_info("i");
	assert_string_equal(drain(*state), "t: info: i\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(prefixes_on_the_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(no_prefix_on_another_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(no_prefix_without_the_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(no_prefix_on_a_malformed_variable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
