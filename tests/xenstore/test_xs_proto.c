/* SPDX-License-Identifier: MIT */
/*
 * test_xs_proto.c - the wire protocol: xs_client against xs_server over socketpairs.
 *
 * Each test forks a child running a fresh server with one socketpair per
 * connection slot (dom0 x2, domains 5, 6, 8, 7); the parent drives the
 * other ends with xs_client or raw bytes. Closing the control pipe stops
 * the child, which frees everything and exits 0.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <xen/io/xs_wire.h>

#include "xs_client.h"
#include "xs_server.h"

enum { C0, C0B, C5, RAW6, RAW8, C7, NSLOTS };
static const unsigned slot_dom[NSLOTS] = { 0, 0, 5, 6, 8, 7 };
static char listen_path[64];   /* the child's privileged socket */

struct fixture {
	pid_t pid;
	int ctl;
	struct xs_client *c[NSLOTS];
	int raw[NSLOTS];
};

static void server_child(int ctl, const int *fds)
{
	struct xs_server *s = xs_server_new();
	struct pollfd p[2];
	int rc = 0;

	if (!s)
		_exit(1);
	for (int i = 0; i < NSLOTS; i++)
		if (xs_server_add_conn(s, fds[i], slot_dom[i]))
			_exit(1);
	if (xs_server_listen(s, listen_path))
		_exit(1);
	if (xs_server_introduce_domain(s, 5) || xs_server_introduce_domain(s, 6) ||
	    xs_server_introduce_domain(s, 7) || xs_server_introduce_domain(s, 8))
		_exit(1);
	p[0].fd = xs_server_fd(s);
	p[0].events = POLLIN;
	p[1].fd = ctl;
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		if (xs_server_run(s)) {
			rc = 1;
			break;
		}
	}
	xs_server_free(s);
	close(ctl);
	exit(rc);  /* not _exit: let LeakSanitizer check the server's child */
}

static int fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	int sp[NSLOTS][2], ctl[2], child_fds[NSLOTS];

	if (!fx || pipe(ctl))
		return -1;
	snprintf(listen_path, sizeof(listen_path), "/tmp/xs_proto.%d.sock", (int)getpid());
	for (int i = 0; i < NSLOTS; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp[i]))
			return -1;
	fflush(NULL);
	fx->pid = fork();
	if (fx->pid < 0)
		return -1;
	if (fx->pid == 0) {
		free(fx);  /* the parent's */
		close(ctl[1]);
		for (int i = 0; i < NSLOTS; i++) {
			close(sp[i][0]);
			child_fds[i] = sp[i][1];
		}
		server_child(ctl[0], child_fds);
	}
	close(ctl[0]);
	fx->ctl = ctl[1];
	for (int i = 0; i < NSLOTS; i++) {
		close(sp[i][1]);
		if (i == RAW6 || i == RAW8) {
			fx->raw[i] = sp[i][0];
		} else {
			fx->raw[i] = -1;
			fx->c[i] = xs_client_open_fd(sp[i][0]);
			if (!fx->c[i])
				return -1;
		}
	}
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fixture *fx = *state;
	int status = 0;

	for (int i = 0; i < NSLOTS; i++) {
		xs_client_close(fx->c[i]);
		if (fx->raw[i] >= 0)
			close(fx->raw[i]);
	}
	close(fx->ctl);
	waitpid(fx->pid, &status, 0);
	free(fx);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void expect_read(struct xs_client *c, uint32_t tx, const char *path, const char *want)
{
	char *val = NULL;
	size_t len = 0;

	assert_int_equal(xs_client_read(c, tx, path, &val, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(val, want);
	free(val);
}

static void write_str(struct xs_client *c, uint32_t tx, const char *path, const char *v)
{
	assert_int_equal(xs_client_write(c, tx, path, v, strlen(v)), 0);
}

/* The next watch event, waiting up to 2 s; asserts its path and token. */
static void expect_event(struct xs_client *c, const char *path, const char *token)
{
	char *p = NULL, *t = NULL;
	int r;

	for (int i = 0; i < 200; i++) {
		r = xs_client_read_watch(c, &p, &t);
		assert_true(r >= 0);
		if (r == 1)
			break;
		struct pollfd pf = { .fd = xs_client_fd(c), .events = POLLIN };
		poll(&pf, 1, 10);
	}
	assert_int_equal(r, 1);
	assert_string_equal(p, path);
	assert_string_equal(t, token);
	free(p);
	free(t);
}

/* No event pending after a round trip (which flushes earlier events). */
static void expect_no_event(struct xs_client *c)
{
	char *p = NULL, *t = NULL, *v = NULL;

	xs_client_request(c, XS_GET_DOMAIN_PATH, 0, "0", 2, &v, NULL);
	free(v);
	assert_int_equal(xs_client_read_watch(c, &p, &t), 0);
}

static void test_basic_ops(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c = fx->c[C0];
	struct xs_client_perm acl[2] = { { 0, 'n' }, { 5, 'r' } }, *got;
	char **names, *rep, longrel[XENSTORE_REL_PATH_MAX + 2];
	unsigned n;
	size_t len;
	char *val;

	write_str(c, 0, "/a/b", "hello");
	expect_read(c, 0, "/a/b", "hello");
	expect_read(c, 0, "/a", "");
	assert_int_equal(xs_client_read(c, 0, "/a/none", &val, &len), -ENOENT);
	/* relative paths are under /local/domain/<id> */
	write_str(c, 0, "rel/x", "r");
	expect_read(c, 0, "/local/domain/0/rel/x", "r");
	assert_int_equal(xs_client_mkdir(c, 0, "/a/dir"), 0);
	assert_int_equal(xs_client_directory(c, 0, "/a", &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "b");
	assert_string_equal(names[1], "dir");
	free(names);
	assert_int_equal(xs_client_directory(c, 0, "/a/dir", &names, &n), 0);
	assert_int_equal(n, 0);
	free(names);
	assert_int_equal(xs_client_set_perms(c, 0, "/a/b", acl, 2), 0);
	assert_int_equal(xs_client_get_perms(c, 0, "/a/b", &got, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].perm, 'n');
	assert_int_equal(got[1].domid, 5);
	assert_int_equal(got[1].perm, 'r');
	free(got);
	assert_int_equal(xs_client_rm(c, 0, "/a"), 0);
	assert_int_equal(xs_client_read(c, 0, "/a/b", &val, &len), -ENOENT);
	assert_int_equal(xs_client_rm(c, 0, "/a"), 0);           /* parent exists */
	assert_int_equal(xs_client_rm(c, 0, "/a/b/c"), -ENOENT);  /* parent missing */
	/* invalid paths */
	assert_int_equal(xs_client_write(c, 0, "/a//b", "", 0), -EINVAL);
	assert_int_equal(xs_client_write(c, 0, "/a/", "", 0), -EINVAL);
	assert_int_equal(xs_client_read(c, 0, "/a b", &val, &len), -EINVAL);
	memset(longrel, 'x', sizeof(longrel) - 1);
	longrel[sizeof(longrel) - 1] = '\0';
	assert_int_equal(xs_client_read(c, 0, longrel, &val, &len), -EINVAL);
	assert_int_equal(xs_client_rm(c, 0, "/"), -EINVAL);
	assert_int_equal(xs_client_read(c, 0, "@introduceDomain", &val, &len), -EINVAL);
	assert_int_equal(xs_client_write(c, 0, "@x", "", 0), -EINVAL);
	/* the miscellany */
	assert_int_equal(xs_client_request(c, XS_GET_DOMAIN_PATH, 0, "7", 2, &rep, &len), 0);
	assert_string_equal(rep, "/local/domain/7");
	assert_int_equal(len, strlen(rep) + 1);
	free(rep);
	assert_int_equal(xs_client_request(c, XS_IS_DOMAIN_INTRODUCED, 0, "5", 2, &rep, NULL), 0);
	assert_string_equal(rep, "T");
	free(rep);
	assert_int_equal(xs_client_request(c, XS_IS_DOMAIN_INTRODUCED, 0, "9", 2, &rep, NULL), 0);
	assert_string_equal(rep, "F");
	free(rep);
	assert_int_equal(xs_client_request(c, 999, 0, "x", 2, NULL, NULL), -EINVAL);
	assert_int_equal(xs_client_request(c, XS_WATCH_EVENT, 0, "x", 2, NULL, NULL), -EINVAL);
	assert_int_equal(xs_client_request(c, XS_CONTROL, 0, "print\0hi", 9, NULL, NULL), 0);
	assert_int_equal(xs_client_request(c, XS_RESET_WATCHES, 0, "", 1, NULL, NULL), 0);
	assert_int_equal(xs_client_read(c, 1234, "/", &val, &len), -ENOENT); /* no such tx */
	assert_int_equal(xs_client_request(c, XS_SET_PERMS, 0, "/local\0q1", 10, NULL, NULL), -EINVAL);
	assert_int_equal(xs_client_request(c, XS_TRANSACTION_END, 0, "T", 2, NULL, NULL), -ENOENT);
}

static void test_permissions(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c0 = fx->c[C0], *c5 = fx->c[C5], *c7 = fx->c[C7];
	struct xs_client_perm *got, acl[2] = { { 5, 'n' }, { 7, 'r' } };
	char *val, **names;
	unsigned n;
	size_t len;

	write_str(c0, 0, "/secret/k", "s");
	assert_int_equal(xs_client_read(c5, 0, "/secret/k", &val, &len), -EACCES);
	assert_int_equal(xs_client_read(c5, 0, "/secret/none", &val, &len), -EACCES);
	assert_int_equal(xs_client_directory(c5, 0, "/secret", &names, &n), -EACCES);
	assert_int_equal(xs_client_write(c5, 0, "/secret/k", "x", 1), -EACCES);
	assert_int_equal(xs_client_write(c5, 0, "/elsewhere", "x", 1), -EACCES);
	assert_int_equal(xs_client_rm(c5, 0, "/secret"), -EACCES);
	assert_int_equal(xs_client_mkdir(c5, 0, "/local/domain/7/x"), -EACCES);
	/* its own directory, absolute or relative */
	write_str(c5, 0, "/local/domain/5/abs", "1");
	write_str(c5, 0, "data/x", "2");
	expect_read(c5, 0, "/local/domain/5/data/x", "2");
	expect_read(c0, 0, "/local/domain/5/data/x", "2");
	assert_int_equal(xs_client_get_perms(c5, 0, "data/x", &got, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].domid, 5);
	assert_int_equal(got[0].perm, 'n');
	free(got);
	assert_int_equal(xs_client_read(c7, 0, "/local/domain/5/data/x", &val, &len), -EACCES);
	assert_int_equal(xs_client_set_perms(c5, 0, "data/x", acl, 2), 0);
	expect_read(c7, 0, "/local/domain/5/data/x", "2");
	assert_int_equal(xs_client_write(c7, 0, "/local/domain/5/data/x", "no", 2), -EACCES);
	acl[0].domid = 7;
	assert_int_equal(xs_client_set_perms(c5, 0, "data/x", acl, 2), -EPERM);
	assert_int_equal(xs_client_set_perms(c7, 0, "/local/domain/5/data/x", acl, 2), -EACCES);
	/* dom-only operations */
	assert_int_equal(xs_client_request(c5, XS_INTRODUCE, 0, "9\0" "0\0" "0", 6, NULL, NULL), -EACCES);
	assert_int_equal(xs_client_request(c5, XS_RELEASE, 0, "7", 2, NULL, NULL), -EACCES);
	assert_int_equal(xs_client_request(c5, XS_CONTROL, 0, "print", 6, NULL, NULL), -EACCES);

	/* watches fire only for nodes the watcher may read */
	assert_int_equal(xs_client_watch(c5, "/secret", "s"), 0);
	expect_event(c5, "/secret", "s");
	write_str(c0, 0, "/secret/k", "again");
	expect_no_event(c5);
	assert_int_equal(xs_client_watch(c7, "/local/domain/5/data", "d"), 0);
	expect_event(c7, "/local/domain/5/data", "d");
	write_str(c5, 0, "data/y", "3");   /* inherits n5: not for 7 */
	write_str(c5, 0, "data/x", "4");   /* r7 */
	expect_event(c7, "/local/domain/5/data/x", "d");
	expect_no_event(c7);
}

static void test_watches(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c0 = fx->c[C0], *c0b = fx->c[C0B], *c5 = fx->c[C5];
	struct pollfd pf = { .fd = xs_client_fd(c0), .events = POLLIN };
	char *p, *t;

	write_str(c0, 0, "/wo/b/x", "");
	assert_int_equal(xs_client_watch(c0, "/wo", "t1"), 0);
	/* once on registration, and only once */
	expect_event(c0, "/wo", "t1");
	expect_no_event(c0);
	assert_int_equal(xs_client_watch(c0, "/wo", "t1"), -EEXIST);
	assert_int_equal(xs_client_watch(c0, "/wo", ""), 0);
	assert_int_equal(xs_client_unwatch(c0, "/wo", ""), 0);
	assert_int_equal(xs_client_unwatch(c0, "/wo", "nope"), -ENOENT);
	expect_event(c0, "/wo", "");
	/* events arriving while requests are in flight are queued, in order */
	write_str(c0, 0, "/wo/a", "1");
	write_str(c0b, 0, "/wo/b", "2");
	write_str(c0, 0, "/wo/c", "3");
	assert_int_equal(xs_client_mkdir(c0, 0, "/wo/d"), 0);
	assert_int_equal(poll(&pf, 1, 1000), 1);
	expect_event(c0, "/wo/a", "t1");
	expect_event(c0, "/wo/b", "t1");
	expect_event(c0, "/wo/c", "t1");
	expect_event(c0, "/wo/d", "t1");
	expect_no_event(c0);
	assert_int_equal(poll(&pf, 1, 0), 0);
	/* not above, not a sibling with a common prefix */
	write_str(c0, 0, "/wox", "");
	write_str(c0, 0, "/", "");
	expect_no_event(c0);
	/* rm: exact watches on descendants fire, the ancestor's once */
	assert_int_equal(xs_client_watch(c0b, "/wo/b/x", "t2"), 0);
	expect_event(c0b, "/wo/b/x", "t2");
	assert_int_equal(xs_client_rm(c0b, 0, "/wo"), 0);
	expect_event(c0b, "/wo/b/x", "t2");
	expect_event(c0, "/wo", "t1");
	expect_no_event(c0);
	expect_no_event(c0b);
	/* relative watches get relative paths */
	assert_int_equal(xs_client_watch(c5, "dev", "rel"), 0);
	expect_event(c5, "dev", "rel");
	write_str(c0, 0, "/local/domain/5/dev/vif", "x");
	expect_event(c5, "dev/vif", "rel");
	/* unwatch stops them; reset drops all */
	assert_int_equal(xs_client_unwatch(c5, "dev", "rel"), 0);
	write_str(c0, 0, "/local/domain/5/dev/vif", "y");
	expect_no_event(c5);
	assert_int_equal(xs_client_watch(c0, "/r", "a"), 0);
	expect_event(c0, "/r", "a");
	assert_int_equal(xs_client_request(c0, XS_RESET_WATCHES, 0, "", 1, NULL, NULL), 0);
	write_str(c0, 0, "/r", "1");
	expect_no_event(c0);
	assert_int_equal(xs_client_read_watch(c0, &p, &t), 0);

	/* an event longer than a message could carry is dropped, not sent */
	{
		char tok[3001], path[1200];

		memset(tok, 't', sizeof(tok) - 1);
		tok[sizeof(tok) - 1] = '\0';
		assert_int_equal(xs_client_watch(c0b, "/long", tok), 0);
		expect_event(c0b, "/long", tok);
		strcpy(path, "/long/");
		memset(path + 6, 'p', sizeof(path) - 7);
		path[sizeof(path) - 1] = '\0';
		write_str(c0, 0, path, "");
		expect_no_event(c0b);
		write_str(c0, 0, "/long", "short");
		expect_event(c0b, "/long", tok);
	}
}

static void test_transactions(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c0 = fx->c[C0], *c0b = fx->c[C0B];
	uint32_t t1, t2;
	char *val;
	size_t len;

	write_str(c0, 0, "/tx/k", "0");
	write_str(c0, 0, "/tx/j", "0");
	assert_int_equal(xs_client_watch(c0b, "/tx", "w"), 0);
	expect_event(c0b, "/tx", "w");

	/* private view; events at commit */
	assert_int_equal(xs_client_transaction_start(c0, &t1), 0);
	write_str(c0, t1, "/tx/k", "1");
	write_str(c0, t1, "/tx/new", "n");
	expect_read(c0, t1, "/tx/k", "1");
	expect_read(c0, 0, "/tx/k", "0");
	assert_int_equal(xs_client_read(c0b, 0, "/tx/new", &val, &len), -ENOENT);
	expect_no_event(c0b);
	assert_int_equal(xs_client_transaction_end(c0, t1, true), 0);
	expect_event(c0b, "/tx/k", "w");
	expect_event(c0b, "/tx/new", "w");
	expect_read(c0b, 0, "/tx/new", "n");
	assert_int_equal(xs_client_read(c0, t1, "/tx/k", &val, &len), -ENOENT); /* gone */

	/* conflict over two connections */
	assert_int_equal(xs_client_transaction_start(c0, &t1), 0);
	assert_int_equal(xs_client_transaction_start(c0b, &t2), 0);
	expect_read(c0, t1, "/tx/k", "1");
	expect_read(c0b, t2, "/tx/k", "1");
	write_str(c0, t1, "/tx/k", "A");
	write_str(c0b, t2, "/tx/k", "B");
	assert_int_equal(xs_client_transaction_end(c0, t1, true), 0);
	assert_int_equal(xs_client_transaction_end(c0b, t2, true), -EAGAIN);
	expect_read(c0, 0, "/tx/k", "A");
	/* a plain write also conflicts with a transaction that read the node */
	assert_int_equal(xs_client_transaction_start(c0b, &t2), 0);
	expect_read(c0b, t2, "/tx/k", "A");
	write_str(c0b, t2, "/tx/j", "J");
	write_str(c0, 0, "/tx/k", "C");
	assert_int_equal(xs_client_transaction_end(c0b, t2, true), -EAGAIN);
	expect_read(c0, 0, "/tx/j", "0");

	/* disjoint transactions both commit */
	assert_int_equal(xs_client_transaction_start(c0, &t1), 0);
	assert_int_equal(xs_client_transaction_start(c0b, &t2), 0);
	write_str(c0, t1, "/tx/k", "k1");
	write_str(c0b, t2, "/tx/j", "j2");
	assert_int_equal(xs_client_transaction_end(c0b, t2, true), 0);
	assert_int_equal(xs_client_transaction_end(c0, t1, true), 0);
	expect_read(c0, 0, "/tx/k", "k1");
	expect_read(c0, 0, "/tx/j", "j2");

	/* abort */
	assert_int_equal(xs_client_transaction_start(c0, &t1), 0);
	assert_int_equal(xs_client_rm(c0, t1, "/tx/k"), 0);
	assert_int_equal(xs_client_transaction_end(c0, t1, false), 0);
	expect_read(c0, 0, "/tx/k", "k1");
	/* transaction ids belong to their connection */
	assert_int_equal(xs_client_transaction_start(c0, &t1), 0);
	assert_int_equal(xs_client_read(c0b, t1 + 1000, "/tx/k", &val, &len), -ENOENT);
	assert_int_equal(xs_client_transaction_end(c0, t1, false), 0);
}

static void test_quotas(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c5 = fx->c[C5], *c0 = fx->c[C0];
	char tok[32], path[64], *p, *t;
	char big[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t tx[11];
	int err = 0;
	unsigned made;

	/* watches: 128 per connection, then E2BIG */
	for (unsigned i = 0; i < XS_SERVER_QUOTA_WATCHES; i++) {
		snprintf(tok, sizeof(tok), "t%u", i);
		assert_int_equal(xs_client_watch(c5, "q", tok), 0);
	}
	assert_int_equal(xs_client_watch(c5, "q", "one-more"), -E2BIG);
	while (xs_client_read_watch(c5, &p, &t) == 1) {
		free(p);
		free(t);
	}
	assert_int_equal(xs_client_request(c5, XS_RESET_WATCHES, 0, "", 1, NULL, NULL), 0);
	/* dom0 is not limited */
	for (unsigned i = 0; i < XS_SERVER_QUOTA_WATCHES + 2; i++) {
		snprintf(tok, sizeof(tok), "t%u", i);
		assert_int_equal(xs_client_watch(c0, "/q", tok), 0);
	}
	assert_int_equal(xs_client_request(c0, XS_RESET_WATCHES, 0, "", 1, NULL, NULL), 0);
	while (xs_client_read_watch(c0, &p, &t) == 1) {
		free(p);
		free(t);
	}

	/* transactions: 10 open at once */
	for (unsigned i = 0; i < XS_SERVER_QUOTA_TRANSACTIONS; i++)
		assert_int_equal(xs_client_transaction_start(c5, &tx[i]), 0);
	assert_int_equal(xs_client_transaction_start(c5, &tx[10]), -ENOSPC);
	assert_int_equal(xs_client_transaction_end(c5, tx[3], false), 0);
	assert_int_equal(xs_client_transaction_start(c5, &tx[3]), 0);
	for (unsigned i = 0; i < XS_SERVER_QUOTA_TRANSACTIONS; i++)
		assert_int_equal(xs_client_transaction_end(c5, tx[i], false), 0);

	/* value size */
	memset(big, 'v', sizeof(big));
	assert_int_equal(xs_client_write(c5, 0, "big", big, 2048), 0);
	assert_int_equal(xs_client_write(c5, 0, "big", big, 2049), -ENOSPC);
	assert_int_equal(xs_client_write(c0, 0, "/local/domain/5/big", big, 4000), 0);
	assert_int_equal(xs_client_write(c0, 0, "/local/domain/5/big", big, sizeof(big)), -E2BIG);

	/* nodes: 1000 per domain, its directory and "big" included */
	for (made = 2; made < 1100; made++) {
		snprintf(path, sizeof(path), "n/%u", made);
		err = xs_client_write(c5, 0, path, "", 0);
		if (err)
			break;
	}
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(made, 999);  /* "n" itself took one */
	assert_int_equal(xs_client_rm(c5, 0, "n/500"), 0);
	assert_int_equal(xs_client_write(c5, 0, "n/again", "", 0), 0);
	assert_int_equal(xs_client_write(c5, 0, "n/again2", "", 0), -ENOSPC);
}

static ssize_t raw_send(int fd, uint32_t type, uint32_t req_id, uint32_t len,
			const void *payload, size_t plen)
{
	struct xsd_sockmsg h = { type, req_id, 0, len };
	char buf[sizeof(h) + 64];

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, plen);
	return write(fd, buf, sizeof(h) + plen);
}

static void test_malformed(void **state)
{
	struct fixture *fx = *state;
	int r6 = fx->raw[RAW6], r8 = fx->raw[RAW8];
	struct xsd_sockmsg h;
	char buf[256];
	struct pollfd pf = { .fd = r6, .events = POLLIN };
	char msg[sizeof(h) + 2];

	/* an oversized length: that connection is closed, nobody else notices */
	assert_true(raw_send(r6, XS_READ, 1, XENSTORE_PAYLOAD_MAX + 1, "/x", 2) > 0);
	assert_int_equal(poll(&pf, 1, 2000), 1);
	assert_true(read(r6, buf, sizeof(buf)) <= 0);  /* EOF, or ECONNRESET: unread input */
	write_str(fx->c[C5], 0, "ok", "1");
	expect_read(fx->c[C0], 0, "/local/domain/5/ok", "1");

	/* a message dribbled in byte by byte still works */
	h = (struct xsd_sockmsg){ XS_GET_DOMAIN_PATH, 42, 0, 2 };
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), "6", 2);
	for (size_t i = 0; i < sizeof(msg); i++) {
		assert_int_equal(write(r8, msg + i, 1), 1);
		usleep(1000);
	}
	assert_int_equal(read(r8, &h, sizeof(h)), sizeof(h));
	assert_int_equal(h.type, XS_GET_DOMAIN_PATH);
	assert_int_equal(h.req_id, 42);
	assert_int_equal(h.len, 16);
	assert_int_equal(read(r8, buf, h.len), 16);
	assert_string_equal(buf, "/local/domain/6");

	/* garbage in the payload gets errors, not a crash */
	assert_true(raw_send(r8, XS_WRITE, 43, 3, "abc", 3) > 0);    /* no NUL at all */
	assert_int_equal(read(r8, &h, sizeof(h)), sizeof(h));
	assert_int_equal(h.type, XS_ERROR);
	assert_int_equal(h.req_id, 43);
	assert_int_equal(read(r8, buf, h.len), h.len);
	assert_string_equal(buf, "EINVAL");
	assert_true(raw_send(r8, XS_WATCH, 44, 0, "", 0) > 0);        /* no args */
	assert_int_equal(read(r8, &h, sizeof(h)), sizeof(h));
	assert_int_equal(h.type, XS_ERROR);
	assert_int_equal(read(r8, buf, h.len), h.len);
	assert_true(raw_send(r8, XS_TYPE_COUNT + 5, 45, 1, "", 1) > 0);
	assert_int_equal(read(r8, &h, sizeof(h)), sizeof(h));
	assert_int_equal(h.type, XS_ERROR);
	assert_int_equal(read(r8, buf, h.len), h.len);
	assert_string_equal(buf, "EINVAL");
	/* the other connections still work */
	expect_read(fx->c[C5], 0, "ok", "1");
}

static void test_event_overflow(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c0 = fx->c[C0], *slow = fx->c[C0B];
	unsigned got = 0, idle = 0;
	char *p, *t, path[32];
	const unsigned writes = 4000;

	assert_int_equal(xs_client_watch(slow, "/flood", "f"), 0);
	for (unsigned i = 0; i < writes; i++) {
		snprintf(path, sizeof(path), "/flood/%u", i);
		assert_int_equal(xs_client_write(c0, 0, path, "12345678", 8), 0);
	}
	/* the slow watcher lost events past its bound, but is still served */
	while (idle < 20) {
		int r = xs_client_read_watch(slow, &p, &t);

		assert_true(r >= 0);
		if (r == 1) {
			free(p);
			free(t);
			got++;
			idle = 0;
		} else {
			struct pollfd pf = { .fd = xs_client_fd(slow), .events = POLLIN };

			poll(&pf, 1, 10);
			idle++;
		}
	}
	assert_true(got >= XS_SERVER_MAX_OUT_EVENTS);
	assert_true(got < writes + 1);
	expect_read(slow, 0, "/flood/1", "12345678");
	write_str(c0, 0, "/flood/1", "after");
	expect_event(slow, "/flood/1", "f");
}

/*
 * The client's event queue under a flood: equal events merge, different
 * ones past the bound fold into their watch's own; it never holds more
 * than the bound plus one per watch, and what it says covers every change.
 */
static void test_client_event_bound(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c0 = fx->c[C0], *slow = fx->c[C0B];
	struct xs_client_stats st;
	char *p, *t, *v, path[48];
	unsigned got = 0, covered = 0;
	bool folded_last = false;

	assert_int_equal(xs_client_watch(slow, "/cf", "t"), 0);
	assert_int_equal(xs_client_watch(slow, "/other", "o"), 0);
	/* one node written again and again: its events merge */
	for (unsigned i = 0; i < 2000; i++) {
		assert_int_equal(xs_client_write(c0, 0, "/cf/state", i & 1 ? "4" : "5", 1), 0);
		if (i % 250 == 0) {
			assert_int_equal(xs_client_read(slow, 0, "/cf/state", &v, NULL), 0);
			free(v);
		}
	}
	assert_int_equal(xs_client_read(slow, 0, "/cf/state", &v, NULL), 0);
	free(v);
	xs_client_stats(slow, &st);
	assert_true(st.merged > 0);
	assert_true(st.pending <= 4);
	while (xs_client_read_watch(slow, &p, &t) == 1) {
		free(p);
		free(t);
	}
	/* many nodes: past the bound they fold into "/cf" */
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "/cf/many/%u", i);
		assert_int_equal(xs_client_write(c0, 0, path, "", 0), 0);
		if (i % 250 == 0) {
			assert_int_equal(xs_client_read(slow, 0, "/cf/state", &v, NULL), 0);
			free(v);
			xs_client_stats(slow, &st);
			assert_true(st.pending <= XS_CLIENT_MAX_EVENTS + 2);
		}
	}
	write_str(c0, 0, "/other", "x");
	assert_int_equal(xs_client_read(slow, 0, "/cf/state", &v, NULL), 0);
	free(v);
	xs_client_stats(slow, &st);
	assert_true(st.pending <= XS_CLIENT_MAX_EVENTS + 2);
	assert_true(st.folded > 0);
	assert_int_equal(st.dropped, 0);
	while (xs_client_read_watch(slow, &p, &t) == 1) {
		if (strcmp(p, "/cf") == 0 && strcmp(t, "t") == 0)
			folded_last = true;
		else if (strncmp(p, "/cf/many/", 9) == 0)
			covered++;
		got++;
		free(p);
		free(t);
	}
	assert_true(folded_last);
	assert_true(covered <= XS_CLIENT_MAX_EVENTS);
	assert_true(got <= XS_CLIENT_MAX_EVENTS + 2);
	/* and then it goes on as usual */
	write_str(c0, 0, "/cf/state", "after");
	expect_event(slow, "/cf/state", "t");
	assert_int_equal(xs_client_unwatch(slow, "/cf", "t"), 0);
}

static void test_introduce_release(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c0 = fx->c[C0], *c5 = fx->c[C5];
	struct xs_client_perm *got;
	unsigned n;
	char *val;
	size_t len;

	assert_int_equal(xs_client_watch(c0, "@introduceDomain", "i"), 0);
	assert_int_equal(xs_client_watch(c0, "@releaseDomain", "r"), 0);
	expect_event(c0, "@introduceDomain", "i");
	expect_event(c0, "@releaseDomain", "r");
	assert_int_equal(xs_client_request(c0, XS_INTRODUCE, 0, "9\0" "1\0" "2", 6, NULL, NULL), 0);
	expect_event(c0, "@introduceDomain", "i");
	assert_int_equal(xs_client_get_perms(c0, 0, "/local/domain/9", &got, &n), 0);
	assert_int_equal(got[0].domid, 9);
	free(got);
	assert_int_equal(xs_client_get_perms(c0, 0, "@releaseDomain", &got, &n), 0);
	assert_int_equal(n, 1);
	free(got);
	write_str(c5, 0, "alive", "1");
	assert_int_equal(xs_client_request(c0, XS_RELEASE, 0, "5", 2, NULL, NULL), 0);
	expect_event(c0, "@releaseDomain", "r");
	assert_true(xs_client_read(c5, 0, "alive", &val, &len) < 0);
	assert_int_equal(xs_client_request(c0, XS_RELEASE, 0, "5", 2, NULL, NULL), -ENOENT);
	assert_int_equal(xs_client_request(c0, XS_RELEASE, 0, "0", 2, NULL, NULL), -EINVAL);
	assert_int_equal(xs_client_request(c0, XS_IS_DOMAIN_INTRODUCED, 0, "5", 2, &val, NULL), 0);
	assert_string_equal(val, "F");
	free(val);
	/* its nodes went with it (xenstored 4.17, without -K) */
	assert_int_equal(xs_client_read(c0, 0, "/local/domain/5/alive", &val, &len), -ENOENT);
	assert_int_equal(xs_client_read(c0, 0, "/local/domain/5", &val, &len), -ENOENT);
}

static void test_directory_part(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c0 = fx->c[C0];
	char path[96], **names;
	unsigned n;
	uint32_t t;

	for (unsigned i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/big/child-with-a-rather-long-name-%03u", i);
		assert_int_equal(xs_client_write(c0, 0, path, "", 0), 0);
	}
	assert_int_equal(xs_client_request(c0, XS_DIRECTORY, 0, "/big", 5, NULL, NULL), -E2BIG);
	assert_int_equal(xs_client_directory(c0, 0, "/big", &names, &n), 0);
	assert_int_equal(n, 300);
	for (unsigned i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "child-with-a-rather-long-name-%03u", i);
		assert_string_equal(names[i], path);
	}
	free(names);
	assert_int_equal(xs_client_transaction_start(c0, &t), 0);
	assert_int_equal(xs_client_directory(c0, t, "/big", &names, &n), 0);
	assert_int_equal(n, 300);
	free(names);
	assert_int_equal(xs_client_transaction_end(c0, t, true), 0);
}

/* Random requests from a domain and from dom0: always one answer, never a crash. */
static void test_random_requests(void **state)
{
	struct fixture *fx = *state;
	static const char alphabet[] = "ab/@-_0159TF\0 .nrwb";
	unsigned seed = 12345;
	char payload[96], *rep, *p, *t;
	uint32_t tx;

	for (unsigned i = 0; i < 3000; i++) {
		struct xs_client *c = (i & 1) ? fx->c[C7] : fx->c[C0];
		uint32_t type = (uint32_t)rand_r(&seed) % (XS_TYPE_COUNT + 3);
		size_t len = (size_t)rand_r(&seed) % sizeof(payload);
		int r;

		if (type == XS_RELEASE || type == XS_RESET_WATCHES)
			continue;  /* would cut the test's own connections */
		for (size_t j = 0; j < len; j++)
			payload[j] = alphabet[(unsigned)rand_r(&seed) % (sizeof(alphabet) - 1)];
		tx = (uint32_t)rand_r(&seed) % 3;
		r = xs_client_request(c, type, tx, payload, len, &rep, NULL);
		assert_true(r <= 0);
		assert_int_not_equal(r, -EIO);
		assert_int_not_equal(r, -ECONNRESET);
		free(rep);
		while (xs_client_read_watch(c, &p, &t) == 1) {
			free(p);
			free(t);
		}
	}
	/* still serving both */
	write_str(fx->c[C7], 0, "after", "1");
	expect_read(fx->c[C0], 0, "/local/domain/7/after", "1");
}

/* The privileged socket: our client by path, like xenstored's socket. */
static void test_socket_path(void **state)
{
	struct fixture *fx = *state;
	struct xs_client *c = NULL;

	for (int i = 0; i < 200 && !c; i++) {
		c = xs_client_open_path(listen_path);
		if (!c)
			usleep(10000);
	}
	assert_non_null(c);
	write_str(c, 0, "/via/socket", "1");
	expect_read(fx->c[C0], 0, "/via/socket", "1");
	assert_int_equal(xs_client_request(c, XS_INTRODUCE, 0, "11\0" "0\0" "0", 7, NULL, NULL), 0);
	xs_client_close(c);
	assert_null(xs_client_open_path("/nonexistent/dir/sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic_ops, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_permissions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_watches, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_transactions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_quotas, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_malformed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_event_overflow, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_event_bound, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_introduce_release, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_directory_part, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_random_requests, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_socket_path, fx_setup, fx_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
