/* SPDX-License-Identifier: MIT */
/* test_sim_xs.c - XenStore through the sim platform: dom0 on the socket, guests via simd. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "platform.h"
#include "sim_fixture.h"

struct xfix {
	struct simd_proc simd;
	const struct platform_ops *ops;
	struct platform *d0;
	struct platform_xs *x0;
};

static int xfix_setup(void **state)
{
	struct xfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_simd_start(&f->simd), 0);
	f->ops = fixture_sim();
	f->d0 = f->ops->open(0);
	assert_non_null(f->d0);
	assert_int_equal(f->ops->domid(f->d0), 0);
	f->x0 = f->ops->xs_open(f->d0);
	assert_non_null(f->x0);
	*state = f;
	return 0;
}

static int xfix_teardown(void **state)
{
	struct xfix *f = *state;

	f->ops->xs_close(f->x0);
	f->ops->close(f->d0);
	assert_int_equal(fixture_simd_stop(&f->simd), 0);
	free(f);
	return 0;
}

/* Next watch event within ms: 1 and the strings (freed by caller), or 0. */
static int next_watch(struct xfix *f, struct platform_xs *x, char **path, char **token, int ms)
{
	int r = f->ops->xs_read_watch(x, path, token);

	if (r != 0)
		return r;
	if (!fixture_wait_fd(f->ops->xs_fd(x), ms))
		return 0;
	return f->ops->xs_read_watch(x, path, token);
}

/* Wait for an event on path with token, skipping others; true if seen. */
static bool wait_watch(struct xfix *f, struct platform_xs *x, const char *path, const char *tok)
{
	for (int i = 0; i < 50; i++) {
		char *p = NULL, *t = NULL;
		int r = next_watch(f, x, &p, &t, 100);
		bool hit = r == 1 && !strcmp(p, path) && !strcmp(t, tok);

		free(p);
		free(t);
		if (hit)
			return true;
	}
	return false;
}

static void test_dom0_basic(void **state)
{
	struct xfix *f = *state;
	char *v = NULL, **names = NULL;
	size_t len = 0;
	unsigned n = 0;
	uint32_t tx;

	assert_int_equal(f->ops->xs_write(f->x0, 0, "/test/a", "hello", 5), 0);
	assert_int_equal(f->ops->xs_read(f->x0, 0, "/test/a", &v, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(v, "hello");
	free(v);
	assert_int_equal(f->ops->xs_mkdir(f->x0, 0, "/test/b"), 0);
	assert_int_equal(f->ops->xs_directory(f->x0, 0, "/test", &names, &n), 0);
	assert_int_equal(n, 2);
	free(names);
	assert_int_equal(f->ops->xs_transaction_start(f->x0, &tx), 0);
	assert_int_equal(f->ops->xs_write(f->x0, tx, "/test/c", "1", 1), 0);
	assert_int_equal(f->ops->xs_transaction_end(f->x0, tx, true), 0);
	assert_int_equal(f->ops->xs_read(f->x0, 0, "/test/c", &v, NULL), 0);
	free(v);
	assert_int_equal(f->ops->xs_rm(f->x0, 0, "/test"), 0);
	assert_int_equal(f->ops->xs_read(f->x0, 0, "/test/a", &v, &len), -ENOENT);
}

static void test_guest_perms_and_watch(void **state)
{
	struct xfix *f = *state;
	struct platform *g = f->ops->open(PLATFORM_DOMID_ANY);
	struct platform_xs *xg;
	struct platform_xs_perm perms[2], *got = NULL;
	char path[64], *v = NULL;
	unsigned n = 0, gid;

	assert_non_null(g);
	gid = f->ops->domid(g);
	assert_int_equal(f->ops->xs_watch(f->x0, "@releaseDomain", "rel"), 0);
	assert_true(wait_watch(f, f->x0, "@releaseDomain", "rel"));  /* fires once at once */
	xg = f->ops->xs_open(g);
	assert_non_null(xg);
	/* simd introduced the guest: its home exists and is its own. */
	snprintf(path, sizeof(path), "/local/domain/%u/x", gid);
	assert_int_equal(f->ops->xs_write(xg, 0, path, "g", 1), 0);
	assert_int_equal(f->ops->xs_write(xg, 0, "/local/domain/0/x", "g", 1), -EACCES);
	assert_int_equal(f->ops->xs_write(f->x0, 0, "/backend/x", "b", 1), 0);
	assert_int_equal(f->ops->xs_read(xg, 0, "/backend/x", &v, NULL), -EACCES);
	perms[0] = (struct platform_xs_perm){ 0, 'n' };
	perms[1] = (struct platform_xs_perm){ gid, 'r' };
	assert_int_equal(f->ops->xs_set_perms(f->x0, 0, "/backend/x", perms, 2), 0);
	assert_int_equal(f->ops->xs_get_perms(f->x0, 0, "/backend/x", &got, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got[1].domid, gid);
	assert_int_equal(got[1].perm, 'r');
	free(got);
	assert_int_equal(f->ops->xs_read(xg, 0, "/backend/x", &v, NULL), 0);
	assert_string_equal(v, "b");
	free(v);
	/* A guest watch fires on dom0's write. */
	assert_int_equal(f->ops->xs_watch(xg, "/backend/x", "tok"), 0);
	assert_true(wait_watch(f, xg, "/backend/x", "tok"));
	assert_int_equal(f->ops->xs_write(f->x0, 0, "/backend/x", "c", 1), 0);
	assert_true(wait_watch(f, xg, "/backend/x", "tok"));
	assert_int_equal(f->ops->xs_unwatch(xg, "/backend/x", "tok"), 0);
	/* Domain death fires @releaseDomain. */
	f->ops->xs_close(xg);
	f->ops->close(g);
	assert_true(wait_watch(f, f->x0, "@releaseDomain", "rel"));
}

static void test_xenstore_utils(void **state)
{
	struct xfix *f = *state;
	char cmd[512], *v = NULL;

	if (access("/usr/bin/xenstore-write", X_OK) != 0) {
		skip();
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "XENSTORED_PATH=%s/xenstored /usr/bin/xenstore-write /u/v 42 >/dev/null 2>&1",
		 f->simd.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(f->ops->xs_read(f->x0, 0, "/u/v", &v, NULL), 0);
	assert_string_equal(v, "42");
	free(v);
}

/* A second dom0 session is another dom0 process: same XenStore, same rights. */
static void test_dom0_second_process(void **state)
{
	struct xfix *f = *state;
	struct platform *d0b = f->ops->open(0);
	struct platform_xs *xb;
	char *v = NULL;

	assert_non_null(d0b);
	assert_int_equal(f->ops->domid(d0b), 0);
	xb = f->ops->xs_open(d0b);
	assert_non_null(xb);
	assert_int_equal(f->ops->xs_write(f->x0, 0, "/shared/k", "v1", 2), 0);
	assert_int_equal(f->ops->xs_read(xb, 0, "/shared/k", &v, NULL), 0);
	assert_string_equal(v, "v1");
	free(v);
	f->ops->xs_close(xb);
	f->ops->close(d0b);
	/* The first session is unaffected by the second one going. */
	assert_int_equal(f->ops->xs_read(f->x0, 0, "/shared/k", &v, NULL), 0);
	assert_string_equal(v, "v1");
	free(v);
}

/* A guest's domid stays one process's. */
static void test_guest_exclusive(void **state)
{
	struct xfix *f = *state;
	struct platform *g = f->ops->open(5);

	assert_non_null(g);
	assert_null(f->ops->open(5));
	assert_int_equal(errno, EEXIST);
	f->ops->close(g);
}

/* A guest domain has one XenStore connection, as on Xen; a new one once it closed it. */
static void test_guest_one_connection(void **state)
{
	struct xfix *f = *state;
	struct platform *g = f->ops->open(PLATFORM_DOMID_ANY);
	struct platform_xs *x1, *x2;
	char *v = NULL;

	assert_non_null(g);
	x1 = f->ops->xs_open(g);
	assert_non_null(x1);
	assert_int_equal(f->ops->xs_write(x1, 0, "k", "1", 1), 0);
	errno = 0;
	assert_null(f->ops->xs_open(g));
	assert_int_equal(errno, EEXIST);
	f->ops->xs_close(x1);
	x2 = NULL;
	for (int i = 0; i < 50 && !x2; i++) {
		x2 = f->ops->xs_open(g);
		if (!x2)
			usleep(10000);
	}
	assert_non_null(x2);
	assert_int_equal(f->ops->xs_read(x2, 0, "k", &v, NULL), 0);
	assert_string_equal(v, "1");
	free(v);
	f->ops->xs_close(x2);
	f->ops->close(g);
}

/*
 * A guest dies and a new one gets its domid: the old one's nodes are gone
 * and dom0's grants to it do not pass on (XSA-322); @releaseDomain reaches
 * dom0's watcher, not another guest's.
 */
static void test_domid_reuse(void **state)
{
	struct xfix *f = *state;
	struct platform *g = f->ops->open(44), *other = f->ops->open(PLATFORM_DOMID_ANY);
	struct platform_xs *xg, *xo, *xg2;
	struct platform_xs_perm perms[2] = { { 0, 'n' }, { 44, 'r' } };
	char *v = NULL, *p = NULL, *t = NULL;

	assert_non_null(g);
	assert_non_null(other);
	xg = f->ops->xs_open(g);
	xo = f->ops->xs_open(other);
	assert_non_null(xg);
	assert_non_null(xo);
	assert_int_equal(f->ops->xs_watch(f->x0, "@releaseDomain", "rel"), 0);
	assert_true(wait_watch(f, f->x0, "@releaseDomain", "rel"));
	assert_int_equal(f->ops->xs_watch(xo, "@releaseDomain", "orel"), 0);
	assert_true(wait_watch(f, xo, "@releaseDomain", "orel"));
	assert_int_equal(f->ops->xs_write(xg, 0, "device/vif/0/state", "4", 1), 0);
	assert_int_equal(f->ops->xs_write(f->x0, 0, "/backend/vif/44/0/state", "2", 1), 0);
	assert_int_equal(f->ops->xs_set_perms(f->x0, 0, "/backend/vif/44/0", perms, 2), 0);
	assert_int_equal(f->ops->xs_read(xg, 0, "/backend/vif/44/0", &v, NULL), 0);
	free(v);

	f->ops->xs_close(xg);
	f->ops->close(g);
	assert_true(wait_watch(f, f->x0, "@releaseDomain", "rel"));
	assert_int_equal(next_watch(f, xo, &p, &t, 300), 0);
	assert_int_equal(f->ops->xs_read(f->x0, 0, "/local/domain/44/device/vif/0/state", &v, NULL),
			 -ENOENT);

	g = f->ops->open(44);
	assert_non_null(g);
	xg2 = f->ops->xs_open(g);
	assert_non_null(xg2);
	assert_int_equal(f->ops->xs_read(xg2, 0, "device/vif/0/state", &v, NULL), -ENOENT);
	assert_int_equal(f->ops->xs_read(xg2, 0, "/backend/vif/44/0", &v, NULL), -EACCES);
	/* until dom0 grants the new domain */
	assert_int_equal(f->ops->xs_set_perms(f->x0, 0, "/backend/vif/44/0", perms, 2), 0);
	assert_int_equal(f->ops->xs_read(xg2, 0, "/backend/vif/44/0", &v, NULL), 0);
	free(v);
	f->ops->xs_close(xg2);
	f->ops->xs_close(xo);
	f->ops->close(g);
	f->ops->close(other);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, xfix_setup, xfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dom0_basic),
		T(test_guest_perms_and_watch),
		T(test_xenstore_utils),
		T(test_dom0_second_process),
		T(test_guest_exclusive),
		T(test_guest_one_connection),
		T(test_domid_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
