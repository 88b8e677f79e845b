/* SPDX-License-Identifier: MIT */
/* test_xs_store.c - in-process tests of the XenStore tree: semantics, permissions, quotas, transactions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xen/io/xs_wire.h>

#include "xs_store.h"

static const struct xs_store_caller dom0 = { 0, true };
static const struct xs_store_caller dom5 = { 5, false };
static const struct xs_store_caller dom6 = { 6, false };

/* Notifications seen, as "path" or "=path" (exact), newline separated. */
static char seen[8192];

static void record(void *ctx, const char *path, bool exact,
		   const struct xs_store_perm *perms, unsigned nperms)
{
	(void)ctx;
	(void)perms;
	(void)nperms;
	snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s\n", exact ? "=" : "", path);
}

static struct xs_store *store_with_domain(void)
{
	struct xs_store *st = xs_store_new();
	struct xs_store_perm p5 = { 5, XS_STORE_PERM_NONE };

	assert_non_null(st);
	assert_int_equal(xs_store_mkdir(st, NULL, &dom0, "/local/domain/5"), 0);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/local/domain/5", &p5, 1), 0);
	seen[0] = '\0';
	xs_store_notify_set(st, record, NULL);
	return st;
}

static void expect_val_tx(struct xs_store *st, struct xs_store_tx *tx,
			  const struct xs_store_caller *c, const char *path, const char *want)
{
	const char *val;
	size_t len;

	assert_int_equal(xs_store_read(st, tx, c, path, &val, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(val, want, len);
}

static void expect_val(struct xs_store *st, const struct xs_store_caller *c,
		       const char *path, const char *want)
{
	expect_val_tx(st, NULL, c, path, want);
}

static void test_path_ok(void **state)
{
	char longp[XENSTORE_ABS_PATH_MAX + 8];

	(void)state;
	assert_true(xs_store_path_ok("/"));
	assert_true(xs_store_path_ok("/a/b-c_d@e/0"));
	assert_false(xs_store_path_ok(""));
	assert_false(xs_store_path_ok("a"));
	assert_false(xs_store_path_ok("/a/"));
	assert_false(xs_store_path_ok("/a//b"));
	assert_false(xs_store_path_ok("/a b"));
	assert_false(xs_store_path_ok("/a.b"));
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[XENSTORE_ABS_PATH_MAX] = '\0';
	assert_true(xs_store_path_ok(longp));
	longp[XENSTORE_ABS_PATH_MAX] = 'a';
	longp[XENSTORE_ABS_PATH_MAX + 1] = '\0';
	assert_false(xs_store_path_ok(longp));
}

static void test_basic(void **state)
{
	struct xs_store *st = store_with_domain();
	const char *val;
	size_t len;
	char *kids;
	uint64_t gen;

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/a/b/c", "v", 1), 0);
	expect_val(st, &dom0, "/a/b/c", "v");
	expect_val(st, &dom0, "/a/b", "");
	assert_int_equal(xs_store_read(st, NULL, &dom0, "/a/x", &val, &len), -ENOENT);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/a/d", "", 0), 0);
	assert_int_equal(xs_store_directory(st, NULL, &dom0, "/a", &kids, &len, &gen), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(kids, "b\0d\0", 4);
	free(kids);
	assert_int_equal(xs_store_mkdir(st, NULL, &dom0, "/a/b"), 0);
	expect_val(st, &dom0, "/a/b", "");
	assert_int_equal(xs_store_rm(st, NULL, &dom0, "/a/nothing"), 0);
	assert_int_equal(xs_store_rm(st, NULL, &dom0, "/nothing/at/all"), -ENOENT);
	assert_int_equal(xs_store_rm(st, NULL, &dom0, "/"), -EINVAL);
	assert_int_equal(xs_store_rm(st, NULL, &dom0, "/a/b"), 0);
	assert_false(xs_store_exists(st, "/a/b/c"));
	assert_true(xs_store_exists(st, "/a/d"));
	assert_int_equal(xs_store_directory(st, NULL, &dom0, "/a/d", &kids, &len, NULL), 0);
	assert_null(kids);
	assert_int_equal(len, 0);
	xs_store_free(st);
}

static void test_notify_order(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_perm p = { 0, XS_STORE_PERM_READ };

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/w/x/y", "1", 1), 0);
	assert_int_equal(xs_store_mkdir(st, NULL, &dom0, "/w/z"), 0);
	assert_int_equal(xs_store_mkdir(st, NULL, &dom0, "/w/z"), 0);  /* exists: no event */
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/w/z", &p, 1), 0);
	assert_string_equal(seen, "/w/x/y\n/w/z\n/w/z\n");
	seen[0] = '\0';
	assert_int_equal(xs_store_rm(st, NULL, &dom0, "/w"), 0);
	/* children first, each exact, then the removed node itself */
	assert_string_equal(seen, "=/w/z\n=/w/x/y\n=/w/x\n/w\n");
	xs_store_free(st);
}

static void test_perms(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_perm acl[2] = { { 0, XS_STORE_PERM_NONE }, { 5, XS_STORE_PERM_READ } };
	struct xs_store_perm *got;
	unsigned n;
	const char *val;
	size_t len;

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/secret/k", "s", 1), 0);
	assert_int_equal(xs_store_read(st, NULL, &dom5, "/secret/k", &val, &len), -EACCES);
	/* a missing node below an unreadable one is EACCES, not ENOENT */
	assert_int_equal(xs_store_read(st, NULL, &dom5, "/secret/none", &val, &len), -EACCES);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/secret/k", "x", 1), -EACCES);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/secret/new", "x", 1), -EACCES);
	assert_int_equal(xs_store_rm(st, NULL, &dom5, "/secret/k"), -EACCES);
	/* read ACL entry */
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/secret/k", acl, 2), 0);
	expect_val(st, &dom5, "/secret/k", "s");
	assert_int_equal(xs_store_read(st, NULL, &dom6, "/secret/k", &val, &len), -EACCES);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/secret/k", "x", 1), -EACCES);
	acl[1].bits = XS_STORE_PERM_READ | XS_STORE_PERM_WRITE;
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/secret/k", acl, 2), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/secret/k", "x", 1), 0);
	/* only the owner may change the ACL */
	assert_int_equal(xs_store_set_perms(st, NULL, &dom5, "/secret/k", acl, 2), -EACCES);
	/* a domain's own directory */
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/a/b", "1", 1), 0);
	assert_int_equal(xs_store_get_perms(st, NULL, &dom5, "/local/domain/5/a/b", &got, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].domid, 5);
	free(got);
	assert_int_equal(xs_store_read(st, NULL, &dom6, "/local/domain/5/a/b", &val, &len), -EACCES);
	/* the owner may set its ACL but not give the node away */
	acl[0].domid = 5;
	acl[1].domid = 6;
	acl[1].bits = XS_STORE_PERM_READ;
	assert_int_equal(xs_store_set_perms(st, NULL, &dom5, "/local/domain/5/a", acl, 2), 0);
	expect_val(st, &dom6, "/local/domain/5/a", "");
	acl[0].domid = 6;
	assert_int_equal(xs_store_set_perms(st, NULL, &dom5, "/local/domain/5/a", acl, 2), -EPERM);
	/* children created by a domain inherit the ACL with the creator as owner */
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/a/c", "", 0), 0);
	assert_int_equal(xs_store_get_perms(st, NULL, &dom0, "/local/domain/5/a/c", &got, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].domid, 5);
	assert_int_equal(got[1].domid, 6);
	assert_int_equal(got[1].bits, XS_STORE_PERM_READ);
	free(got);
	/* dom0 creating below a domain's node inherits the domain as owner */
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/local/domain/5/fromdom0", "", 0), 0);
	assert_int_equal(xs_store_get_perms(st, NULL, &dom0, "/local/domain/5/fromdom0", &got, &n), 0);
	assert_int_equal(got[0].domid, 5);
	free(got);
	xs_store_free(st);
}

static void test_perms_wire(void **state)
{
	struct xs_store_perm *p;
	unsigned n;
	size_t len;
	char *s;

	(void)state;
	assert_int_equal(xs_store_perms_parse("n0\0r5\0b7\0", 9, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[1].domid, 5);
	assert_int_equal(p[2].bits, XS_STORE_PERM_READ | XS_STORE_PERM_WRITE);
	s = xs_store_perms_format(p, n, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(s, "n0\0r5\0b7\0", 9);
	free(s);
	free(p);
	assert_int_equal(xs_store_perms_parse("w12", 3, &p, &n), 0);
	assert_int_equal(p[0].domid, 12);
	free(p);
	assert_int_equal(xs_store_perms_parse("x0\0", 3, &p, &n), -EINVAL);
	assert_int_equal(xs_store_perms_parse("r\0", 2, &p, &n), -EINVAL);
	assert_int_equal(xs_store_perms_parse("r1a\0", 4, &p, &n), -EINVAL);
	assert_int_equal(xs_store_perms_parse("r1\0\0", 4, &p, &n), -EINVAL);
	assert_int_equal(xs_store_perms_parse("", 0, &p, &n), -EINVAL);
	assert_int_equal(xs_store_perms_parse("r99999999999\0", 13, &p, &n), -EINVAL);
}

static void test_quota(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_quotas q;
	char path[64], big[3000];
	unsigned base;

	(void)state;
	xs_store_quotas_get(st, &q);
	q.nodes = 10;
	q.node_size = 100;
	xs_store_quotas_set(st, &q);
	base = xs_store_nodes_owned(st, 5);
	assert_int_equal(base, 1);
	for (unsigned i = base; i < 10; i++) {
		snprintf(path, sizeof(path), "/local/domain/5/n%u", i);
		assert_int_equal(xs_store_write(st, NULL, &dom5, path, "", 0), 0);
	}
	assert_int_equal(xs_store_nodes_owned(st, 5), 10);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/more", "", 0), -ENOSPC);
	/* a chain of parents counts as a whole */
	assert_int_equal(xs_store_rm(st, NULL, &dom5, "/local/domain/5/n9"), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/x/y", "", 0), -ENOSPC);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/x", "", 0), 0);
	/* rewriting existing nodes is fine */
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/n1", "v", 1), 0);
	/* value size */
	memset(big, 'a', sizeof(big));
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/n1", big, 101), -ENOSPC);
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/n1", big, 100), 0);
	/* dom0 is exempt, even below the domain (where nodes are the domain's) */
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/local/domain/5/n1", big, sizeof(big)), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/local/domain/5/dom0made", "", 0), 0);
	assert_int_equal(xs_store_nodes_owned(st, 5), 11);
	assert_int_equal(xs_store_rm(st, NULL, &dom0, "/local/domain/5"), 0);
	assert_int_equal(xs_store_nodes_owned(st, 5), 0);
	xs_store_free(st);
}

static void test_transactions(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_tx *t1, *t2;
	const char *val;
	size_t len;

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/t/a", "0", 1), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/t/b", "0", 1), 0);
	/* private copy: invisible until commit, events at commit */
	t1 = xs_store_tx_start(st);
	assert_non_null(t1);
	assert_int_equal(xs_store_write(st, t1, &dom0, "/t/a", "1", 1), 0);
	assert_int_equal(xs_store_write(st, t1, &dom0, "/t/new/x", "n", 1), 0);
	expect_val_tx(st, t1, &dom0, "/t/a", "1");
	expect_val(st, &dom0, "/t/a", "0");
	assert_int_equal(xs_store_read(st, NULL, &dom0, "/t/new/x", &val, &len), -ENOENT);
	seen[0] = '\0';
	assert_int_equal(xs_store_tx_commit(t1, &dom0), 0);
	assert_string_equal(seen, "/t/a\n/t/new/x\n");
	expect_val(st, &dom0, "/t/new/x", "n");
	xs_store_tx_free(t1);

	/* conflict: both read and write /t/a */
	t1 = xs_store_tx_start(st);
	t2 = xs_store_tx_start(st);
	assert_int_equal(xs_store_read(st, t1, &dom0, "/t/a", &val, &len), 0);
	assert_int_equal(xs_store_read(st, t2, &dom0, "/t/a", &val, &len), 0);
	assert_int_equal(xs_store_write(st, t1, &dom0, "/t/a", "A", 1), 0);
	assert_int_equal(xs_store_write(st, t2, &dom0, "/t/a", "B", 1), 0);
	assert_int_equal(xs_store_tx_commit(t1, &dom0), 0);
	seen[0] = '\0';
	assert_int_equal(xs_store_tx_commit(t2, &dom0), -EAGAIN);
	assert_string_equal(seen, "");
	expect_val(st, &dom0, "/t/a", "A");
	xs_store_tx_free(t1);
	xs_store_tx_free(t2);

	/* no conflict: disjoint existing nodes */
	t1 = xs_store_tx_start(st);
	t2 = xs_store_tx_start(st);
	assert_int_equal(xs_store_write(st, t1, &dom0, "/t/a", "1", 1), 0);
	assert_int_equal(xs_store_write(st, t2, &dom0, "/t/b", "2", 1), 0);
	assert_int_equal(xs_store_tx_commit(t1, &dom0), 0);
	assert_int_equal(xs_store_tx_commit(t2, &dom0), 0);
	expect_val(st, &dom0, "/t/a", "1");
	expect_val(st, &dom0, "/t/b", "2");
	xs_store_tx_free(t1);
	xs_store_tx_free(t2);

	/* a transaction's rm conflicts with a change below the removed node */
	t1 = xs_store_tx_start(st);
	assert_int_equal(xs_store_rm(st, t1, &dom0, "/t/new"), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/t/new/x", "changed", 7), 0);
	assert_int_equal(xs_store_tx_commit(t1, &dom0), -EAGAIN);
	xs_store_tx_free(t1);

	/* reading a missing node conflicts with its creation */
	t1 = xs_store_tx_start(st);
	assert_int_equal(xs_store_read(st, t1, &dom0, "/t/later", &val, &len), -ENOENT);
	assert_int_equal(xs_store_write(st, t1, &dom0, "/t/other", "", 0), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/t/later", "", 0), 0);
	assert_int_equal(xs_store_tx_commit(t1, &dom0), -EAGAIN);
	xs_store_tx_free(t1);

	/* permissions and quotas apply inside transactions too */
	t1 = xs_store_tx_start(st);
	assert_int_equal(xs_store_write(st, t1, &dom5, "/t/a", "x", 1), -EACCES);
	assert_int_equal(xs_store_write(st, t1, &dom5, "/local/domain/5/tx", "x", 1), 0);
	assert_int_equal(xs_store_tx_commit(t1, &dom5), 0);
	assert_int_equal(xs_store_nodes_owned(st, 5), 2);
	xs_store_tx_free(t1);
	xs_store_free(st);
}

/* A transaction costs what it touches, not the size of the tree. */
static void test_tx_cost(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_tx *tx[10];
	char path[64], val[2048];
	const char *v;
	size_t len;

	(void)state;
	memset(val, 'v', sizeof(val));
	for (unsigned i = 0; i < 4096; i++) {
		snprintf(path, sizeof(path), "/big/%u/%u", i / 64, i % 64);
		assert_int_equal(xs_store_write(st, NULL, &dom0, path, val, sizeof(val)), 0);
	}
	for (unsigned i = 0; i < 10; i++) {
		tx[i] = xs_store_tx_start(st);
		assert_non_null(tx[i]);
		assert_int_equal(xs_store_tx_nodes(tx[i]), 0);
		assert_true(xs_store_tx_bytes(tx[i]) < 256);
	}
	/* a read: one record, no copy of the value */
	assert_int_equal(xs_store_read(st, tx[0], &dom0, "/big/3/3", &v, &len), 0);
	assert_int_equal(len, sizeof(val));
	assert_int_equal(xs_store_tx_nodes(tx[0]), 1);
	assert_true(xs_store_tx_bytes(tx[0]) < 1024);
	/* a write: the new value, no more */
	assert_int_equal(xs_store_write(st, tx[1], &dom0, "/big/3/3", "w", 1), 0);
	assert_true(xs_store_tx_bytes(tx[1]) < 1024);
	/* removing a subtree touches each node of it (conflicts below), copies no value */
	assert_int_equal(xs_store_rm(st, tx[2], &dom0, "/big/7"), 0);
	assert_int_equal(xs_store_tx_nodes(tx[2]), 64 + 2);
	assert_true(xs_store_tx_bytes(tx[2]) < 64 * 256);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(xs_store_tx_commit(tx[i], &dom0), 0);
	expect_val(st, &dom0, "/big/3/3", "w");
	assert_false(xs_store_exists(st, "/big/7/0"));
	assert_true(xs_store_exists(st, "/big/8/63"));
	for (unsigned i = 0; i < 10; i++)
		xs_store_tx_free(tx[i]);
	xs_store_free(st);
}

/* What a transaction sees: its own changes, children in the order it made them. */
static void test_tx_view(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_tx *tx;
	const char *val;
	char *kids;
	size_t len;

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/v/a/deep", "1", 1), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/v/b", "2", 1), 0);
	tx = xs_store_tx_start(st);
	/* removed, then made again: empty, the old children gone */
	assert_int_equal(xs_store_rm(st, tx, &dom0, "/v/a"), 0);
	assert_int_equal(xs_store_read(st, tx, &dom0, "/v/a/deep", &val, &len), -ENOENT);
	assert_int_equal(xs_store_rm(st, tx, &dom0, "/v/a/deep"), -ENOENT);
	assert_int_equal(xs_store_write(st, tx, &dom0, "/v/z", "", 0), 0);
	assert_int_equal(xs_store_write(st, tx, &dom0, "/v/a/new", "n", 1), 0);
	assert_int_equal(xs_store_read(st, tx, &dom0, "/v/a/deep", &val, &len), -ENOENT);
	expect_val_tx(st, tx, &dom0, "/v/a", "");
	assert_int_equal(xs_store_directory(st, tx, &dom0, "/v", &kids, &len, NULL), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(kids, "b\0z\0a\0", 6);
	free(kids);
	/* the tree does not see any of it */
	assert_int_equal(xs_store_directory(st, NULL, &dom0, "/v", &kids, &len, NULL), 0);
	assert_memory_equal(kids, "a\0b\0", 4);
	free(kids);
	expect_val(st, &dom0, "/v/a/deep", "1");
	seen[0] = '\0';
	assert_int_equal(xs_store_tx_commit(tx, &dom0), 0);
	assert_string_equal(seen, "=/v/a/deep\n/v/a\n/v/z\n/v/a/new\n");
	assert_int_equal(xs_store_directory(st, NULL, &dom0, "/v", &kids, &len, NULL), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(kids, "b\0z\0a\0", 6);
	free(kids);
	assert_false(xs_store_exists(st, "/v/a/deep"));
	expect_val(st, &dom0, "/v/a/new", "n");
	assert_int_equal(xs_store_nodes_owned(st, 0), xs_store_nodes(st) - 1);  /* all dom0's but 5's home */
	xs_store_tx_free(tx);
	xs_store_free(st);
}

/* Transactions each under the node quota cannot commit past it together. */
static void test_tx_quota(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_quotas q;
	struct xs_store_tx *tx[4];
	char path[64];

	(void)state;
	xs_store_quotas_get(st, &q);
	q.nodes = 10;
	xs_store_quotas_set(st, &q);
	for (unsigned t = 0; t < 4; t++) {
		snprintf(path, sizeof(path), "/local/domain/5/t%u", t);
		assert_int_equal(xs_store_write(st, NULL, &dom5, path, "", 0), 0);
	}
	for (unsigned t = 0; t < 4; t++) {
		tx[t] = xs_store_tx_start(st);
		for (unsigned i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "/local/domain/5/t%u/%u", t, i);
			assert_int_equal(xs_store_write(st, tx[t], &dom5, path, "", 0), 0);
		}
	}
	/* 5 + 3 = 8, 11 > 10 */
	assert_int_equal(xs_store_tx_commit(tx[0], &dom5), 0);
	assert_int_equal(xs_store_tx_commit(tx[1], &dom5), -ENOSPC);
	assert_int_equal(xs_store_tx_commit(tx[2], &dom5), -ENOSPC);
	assert_int_equal(xs_store_nodes_owned(st, 5), 8);
	/* dom0 committing is not held to it */
	assert_int_equal(xs_store_tx_commit(tx[3], &dom0), 0);
	assert_int_equal(xs_store_nodes_owned(st, 5), 11);
	/* a transaction counts its own nodes as it goes */
	xs_store_tx_free(tx[0]);
	tx[0] = xs_store_tx_start(st);
	assert_int_equal(xs_store_rm(st, tx[0], &dom5, "/local/domain/5/t3"), 0);
	assert_int_equal(xs_store_write(st, tx[0], &dom5, "/local/domain/5/x/y", "", 0), 0);
	assert_int_equal(xs_store_write(st, tx[0], &dom5, "/local/domain/5/x/z", "", 0), 0);
	assert_int_equal(xs_store_write(st, tx[0], &dom5, "/local/domain/5/x/w", "", 0), -ENOSPC);
	assert_int_equal(xs_store_tx_commit(tx[0], &dom5), 0);
	assert_int_equal(xs_store_nodes_owned(st, 5), 10);
	/* and touches at most q.tx_nodes nodes */
	q.tx_nodes = 8;
	xs_store_quotas_set(st, &q);
	xs_store_tx_free(tx[1]);
	tx[1] = xs_store_tx_start(st);
	for (unsigned i = 0; i < 8; i++) {
		const char *v;
		size_t len;

		/* 3 nodes, then missing ones (and their parent): the 9th node is one too many */
		snprintf(path, sizeof(path), "/local/domain/5/t0/%u", i);
		assert_int_equal(xs_store_read(st, tx[1], &dom5, path, &v, &len),
				 i < 3 ? 0 : i < 7 ? -ENOENT : -ENOSPC);
	}
	assert_int_equal(xs_store_mkdir(st, tx[1], &dom5, "/local/domain/5/t0/9"), -ENOSPC);
	assert_int_equal(xs_store_tx_commit(tx[1], &dom5), -ENOSPC);
	for (unsigned t = 0; t < 4; t++)
		xs_store_tx_free(tx[t]);
	xs_store_free(st);
}

static void test_perms_quota(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_perm acl[6] = {
		{ 5, XS_STORE_PERM_NONE }, { 1, XS_STORE_PERM_READ }, { 2, XS_STORE_PERM_READ },
		{ 3, XS_STORE_PERM_READ }, { 4, XS_STORE_PERM_READ }, { 6, XS_STORE_PERM_READ },
	};

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/p", "", 0), 0);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom5, "/local/domain/5/p", acl, 6), -ENOSPC);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom5, "/local/domain/5/p", acl, 5), 0);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/local/domain/5/p", acl, 6), 0);
	xs_store_free(st);
}

/* A caller with a target has the target's rights too. */
static void test_target(void **state)
{
	struct xs_store *st = store_with_domain();
	const struct xs_store_caller stub = { 9, false, true, 5 };
	struct xs_store_perm acl[2] = { { 0, XS_STORE_PERM_NONE }, { 5, XS_STORE_PERM_READ } };
	const char *val;
	size_t len;

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/k", "5", 1), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/shared", "s", 1), 0);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/shared", acl, 2), 0);
	expect_val(st, &stub, "/local/domain/5/k", "5");
	expect_val(st, &stub, "/shared", "s");
	assert_int_equal(xs_store_write(st, NULL, &stub, "/shared", "x", 1), -EACCES);
	/* what it creates is its own */
	assert_int_equal(xs_store_write(st, NULL, &stub, "/local/domain/5/made", "", 0), 0);
	assert_int_equal(xs_store_nodes_owned(st, 9), 1);
	assert_int_equal(xs_store_read(st, NULL, &dom6, "/local/domain/5/k", &val, &len), -EACCES);
	xs_store_free(st);
}

/* A released domain's nodes go; entries naming it are ignored from then on. */
static void test_release(void **state)
{
	struct xs_store *st = store_with_domain();
	struct xs_store_perm acl[3] = {
		{ 0, XS_STORE_PERM_NONE }, { 5, XS_STORE_PERM_READ }, { 6, XS_STORE_PERM_READ },
	};
	struct xs_store_perm *got;
	struct xs_store_tx *tx;
	const char *val;
	unsigned n;
	size_t len;

	(void)state;
	assert_int_equal(xs_store_write(st, NULL, &dom5, "/local/domain/5/a/b", "1", 1), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/local/domain/5/dom0s", "", 0), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/be/5", "x", 1), 0);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/be/5", acl, 3), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/be/5/kid", "k", 1), 0);
	acl[0].domid = 5;
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/elsewhere/of5", "", 0), 0);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/elsewhere/of5", acl, 1), 0);
	expect_val(st, &dom5, "/be/5", "x");
	tx = xs_store_tx_start(st);
	assert_int_equal(xs_store_read(st, tx, &dom0, "/local/domain/5/a", &val, &len), 0);
	seen[0] = '\0';

	assert_int_equal(xs_store_domain_release(st, 0), -EINVAL);
	assert_int_equal(xs_store_domain_release(st, 5), 0);
	/* every node it owned, with what lies below */
	assert_string_equal(seen, "=/local/domain/5/dom0s\n=/local/domain/5/a/b\n=/local/domain/5/a\n"
				  "/local/domain/5\n/elsewhere/of5\n");
	assert_int_equal(xs_store_nodes_owned(st, 5), 0);
	assert_true(xs_store_exists(st, "/elsewhere"));
	assert_int_equal(xs_store_tx_commit(tx, &dom0), -EAGAIN);
	xs_store_tx_free(tx);
	/* a new domain 5 does not inherit the grant, a domain 6 keeps its own */
	assert_int_equal(xs_store_read(st, NULL, &dom5, "/be/5", &val, &len), -EACCES);
	assert_int_equal(xs_store_read(st, NULL, &dom5, "/be/5/kid", &val, &len), -EACCES);
	expect_val(st, &dom6, "/be/5", "x");
	/* the ACL still shows it, as xenstored's does */
	assert_int_equal(xs_store_get_perms(st, NULL, &dom0, "/be/5", &got, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(got[1].domid, 5);
	assert_int_equal(got[1].bits, XS_STORE_PERM_READ);
	free(got);
	/* nor a grant of the same ACL to the new one, on a node not changed since */
	acl[0].domid = 0;
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/be/6", "", 0), 0);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/be/6", acl, 3), 0);
	assert_int_equal(xs_store_domain_release(st, 5), 0);
	assert_int_equal(xs_store_read(st, NULL, &dom5, "/be/6", &val, &len), -EACCES);
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/be/6", acl, 3), 0);
	expect_val(st, &dom5, "/be/6", "");
	/* changes of the node, or children made below, do not bring it back */
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/be/5", "y", 1), 0);
	assert_int_equal(xs_store_write(st, NULL, &dom0, "/be/5/new", "", 0), 0);
	assert_int_equal(xs_store_read(st, NULL, &dom5, "/be/5", &val, &len), -EACCES);
	assert_int_equal(xs_store_read(st, NULL, &dom5, "/be/5/new", &val, &len), -EACCES);
	/* granting again does */
	acl[0].domid = 0;
	assert_int_equal(xs_store_set_perms(st, NULL, &dom0, "/be/5", acl, 3), 0);
	expect_val(st, &dom5, "/be/5", "y");
	xs_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_ok),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_notify_order),
		cmocka_unit_test(test_perms),
		cmocka_unit_test(test_perms_wire),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_tx_cost),
		cmocka_unit_test(test_tx_view),
		cmocka_unit_test(test_tx_quota),
		cmocka_unit_test(test_perms_quota),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
