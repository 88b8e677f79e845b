/* SPDX-License-Identifier: MIT */
/*
 * test_xs_domains.c - the server against hostile domains, in one process.
 *
 * A rig is a server and raw client ends of socketpairs it adopted as some
 * domain's connection; the test writes xenstored messages byte for byte,
 * as a guest would, and runs the server between reads (nothing blocks).
 * Covered: one connection per guest, the per-domain quotas (watches,
 * transactions, outstanding requests, nodes at commit, ACL size),
 * XS_SET_TARGET, domain release (nodes removed, grants not inherited by a
 * new domain with the same id), the special watches' permissions, and
 * arguments without their NUL.
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
#include <unistd.h>
#include <cmocka.h>
#include <xen/io/xs_wire.h>

#include "xs_server.h"

#define HDR sizeof(struct xsd_sockmsg)

/* A client end: what it read and did not consume yet. */
struct peer {
	int fd;
	unsigned domid;
	char buf[HDR + XENSTORE_PAYLOAD_MAX + 1];
	size_t have;
	uint32_t next_req;
	unsigned events;    /* watch events seen (and dropped) while waiting for replies */
	char last_event[256];
};

struct rig {
	struct xs_server *s;
};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->s = xs_server_new();
	assert_non_null(r->s);
	return r;
}

static void rig_free(struct rig *r)
{
	xs_server_free(r->s);
	free(r);
}

static void pump(struct rig *r)
{
	for (int i = 0; i < 3; i++)
		assert_int_equal(xs_server_run(r->s), 0);
}

/*
 * A connection of @domid (0: privileged); -errno of xs_server_add_conn() in
 * *@err. @small: the server's end sends into a socket buffer as small as
 * Linux allows, so that what the peer does not read stays queued in the server.
 */
static struct peer *peer_open(struct rig *r, unsigned domid, bool small, int *err)
{
	struct peer *p = calloc(1, sizeof(*p));
	int sv[2], one = 1;

	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	if (small) {
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	}
	p->fd = sv[1];
	p->domid = domid;
	p->next_req = 1;
	*err = xs_server_add_conn(r->s, sv[0], domid);
	if (*err) {
		close(p->fd);
		free(p);
		return NULL;
	}
	return p;
}

static struct peer *peer(struct rig *r, unsigned domid)
{
	int err;
	struct peer *p = peer_open(r, domid, false, &err);

	assert_int_equal(err, 0);
	return p;
}

static struct peer *peer_small(struct rig *r, unsigned domid)
{
	int err;
	struct peer *p = peer_open(r, domid, true, &err);

	assert_int_equal(err, 0);
	return p;
}

static void peer_close(struct peer *p)
{
	if (p) {
		close(p->fd);
		free(p);
	}
}

static void send_raw(struct peer *p, uint32_t type, uint32_t req_id, uint32_t tx,
		     const void *payload, size_t len)
{
	struct xsd_sockmsg h = { type, req_id, tx, (uint32_t)len };
	char msg[HDR + XENSTORE_PAYLOAD_MAX];

	memcpy(msg, &h, HDR);
	memcpy(msg + HDR, payload, len);
	assert_int_equal(write(p->fd, msg, HDR + len), (ssize_t)(HDR + len));
}

/* One whole message from @p within ~2 s of running the server: 1, or 0 if none came. */
static int recv_msg(struct rig *r, struct peer *p, struct xsd_sockmsg *h, int tries)
{
	for (int i = 0; i < tries; i++) {
		size_t want = HDR;
		ssize_t n;

		if (p->have >= HDR) {
			memcpy(h, p->buf, HDR);
			want += h->len;
		}
		if (p->have >= HDR && p->have == want) {
			p->buf[want] = '\0';
			p->have = 0;
			return 1;
		}
		n = read(p->fd, p->buf + p->have, want - p->have);
		if (n > 0) {
			p->have += (size_t)n;
			i--;
			continue;
		}
		pump(r);
		if (i > 5)
			usleep(1000);
	}
	return 0;
}

/* Send a request, wait for its answer: 0 (reply in @reply), or -errno from XS_ERROR. */
static int call(struct rig *r, struct peer *p, uint32_t type, uint32_t tx,
		const void *payload, size_t len, char *reply, size_t size)
{
	uint32_t id = p->next_req++;
	struct xsd_sockmsg h;

	send_raw(p, type, id, tx, payload, len);
	for (;;) {
		assert_int_equal(recv_msg(r, p, &h, 2000), 1);
		if (h.type == XS_WATCH_EVENT) {
			p->events++;
			snprintf(p->last_event, sizeof(p->last_event), "%s", p->buf + HDR);
			continue;
		}
		assert_int_equal(h.req_id, id);
		if (h.type == XS_ERROR) {
			static const struct { const char *s; int e; } map[] = {
				{ "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
				{ "ENOENT", ENOENT }, { "ENOMEM", ENOMEM }, { "ENOSPC", ENOSPC },
				{ "EBUSY", EBUSY }, { "EAGAIN", EAGAIN }, { "E2BIG", E2BIG },
				{ "EPERM", EPERM },
			};

			for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
				if (strcmp(p->buf + HDR, map[i].s) == 0)
					return -map[i].e;
			fail_msg("unexpected error %s", p->buf + HDR);
		}
		assert_int_equal(h.type, type);
		if (reply) {
			assert_true(h.len < size);
			memcpy(reply, p->buf + HDR, h.len + 1);
		}
		return 0;
	}
}

/* A request of NUL-terminated strings (the last argument's NUL included). */
static int callv(struct rig *r, struct peer *p, uint32_t type, uint32_t tx, char *reply,
		 size_t size, int nargs, ...)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t off = 0;
	va_list ap;

	va_start(ap, nargs);
	for (int i = 0; i < nargs; i++) {
		const char *a = va_arg(ap, const char *);
		size_t l = strlen(a) + 1;

		memcpy(buf + off, a, l);
		off += l;
	}
	va_end(ap);
	return call(r, p, type, tx, buf, off, reply, size);
}

static int xwrite(struct rig *r, struct peer *p, uint32_t tx, const char *path, const char *val)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(val);

	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vl);
	return call(r, p, XS_WRITE, tx, buf, pl + vl, NULL, 0);
}

static int xread(struct rig *r, struct peer *p, uint32_t tx, const char *path, char *out,
		 size_t size)
{
	return callv(r, p, XS_READ, tx, out, size, 1, path);
}

static int xwatch(struct rig *r, struct peer *p, const char *path, const char *token)
{
	return callv(r, p, XS_WATCH, 0, NULL, 0, 2, path, token);
}

static uint32_t tx_start(struct rig *r, struct peer *p)
{
	char id[16];

	assert_int_equal(callv(r, p, XS_TRANSACTION_START, 0, id, sizeof(id), 1, ""), 0);
	return (uint32_t)strtoul(id, NULL, 10);
}

static int tx_end(struct rig *r, struct peer *p, uint32_t tx, bool commit)
{
	return callv(r, p, XS_TRANSACTION_END, tx, NULL, 0, 1, commit ? "T" : "F");
}

/* Events that reached @p since the last call (those seen while waiting for replies too). */
static unsigned drain_events(struct rig *r, struct peer *p)
{
	struct xsd_sockmsg h;
	unsigned n = p->events;

	while (recv_msg(r, p, &h, 20) == 1) {
		assert_int_equal(h.type, XS_WATCH_EVENT);
		snprintf(p->last_event, sizeof(p->last_event), "%s", p->buf + HDR);
		n++;
	}
	p->events = 0;
	return n;
}

static void usage(struct rig *r, unsigned domid, struct xs_server_domain_usage *u)
{
	xs_server_domain_usage(r->s, domid, u);
}

/* ---- one connection per guest ----------------------------------------------------- */

static void test_one_connection_per_guest(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *g2, *d0[8];
	char v[64];
	int err;

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	/* a second connection for the same guest is refused; dom0 has as many as it likes */
	assert_null(peer_open(r, 5, false, &err));
	assert_int_equal(err, -EEXIST);
	for (int i = 0; i < 8; i++)
		d0[i] = peer(r, 0);
	assert_int_equal(xwrite(r, g, 0, "x", "1"), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(xread(r, d0[i], 0, "/local/domain/5/x", v, sizeof(v)), 0);
	/* out of range */
	assert_null(peer_open(r, 0x7ff0, false, &err));
	assert_int_equal(err, -EINVAL);
	/* once the guest has closed its end, it may connect again */
	peer_close(g);
	g2 = peer(r, 5);
	assert_int_equal(xread(r, g2, 0, "x", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	peer_close(g2);
	for (int i = 0; i < 8; i++)
		peer_close(d0[i]);
	rig_free(r);
}

/* ---- per-domain quotas ------------------------------------------------------------ */

static void test_watch_and_tx_quota(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer(r, 0);
	struct xs_server_domain_usage u;
	uint32_t tx[XS_SERVER_QUOTA_TRANSACTIONS];
	char tok[16];

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	for (unsigned i = 0; i < XS_SERVER_QUOTA_WATCHES; i++) {
		snprintf(tok, sizeof(tok), "t%u", i);
		assert_int_equal(xwatch(r, g, "w", tok), 0);
	}
	assert_int_equal(xwatch(r, g, "w", "one-more"), -E2BIG);
	assert_int_equal(xwatch(r, g, "@releaseDomain", "one-more"), -E2BIG);
	usage(r, 5, &u);
	assert_int_equal(u.watches, XS_SERVER_QUOTA_WATCHES);
	/* the quota is the domain's: it comes back with its connection */
	peer_close(g);
	pump(r);
	usage(r, 5, &u);
	assert_int_equal(u.watches, 0);
	g = peer(r, 5);
	for (unsigned i = 0; i < XS_SERVER_QUOTA_TRANSACTIONS; i++)
		tx[i] = tx_start(r, g);
	assert_int_equal(callv(r, g, XS_TRANSACTION_START, 0, NULL, 0, 1, ""), -ENOSPC);
	usage(r, 5, &u);
	assert_int_equal(u.transactions, XS_SERVER_QUOTA_TRANSACTIONS);
	assert_int_equal(tx_end(r, g, tx[0], false), 0);
	tx[0] = tx_start(r, g);
	for (unsigned i = 0; i < XS_SERVER_QUOTA_TRANSACTIONS; i++)
		assert_int_equal(tx_end(r, g, tx[i], false), 0);
	/* dom0 is not limited */
	for (unsigned i = 0; i < XS_SERVER_QUOTA_WATCHES + 5; i++) {
		snprintf(tok, sizeof(tok), "t%u", i);
		assert_int_equal(xwatch(r, d0, "/w", tok), 0);
	}
	for (unsigned i = 0; i < XS_SERVER_QUOTA_TRANSACTIONS + 5; i++)
		tx_start(r, d0);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

/*
 * Ten transactions each under the node quota: the commits that would take
 * the domain past it fail, whatever order they come in.
 */
static void test_node_quota_at_commit(void **state)
{
	struct rig *r = rig_new();
	struct peer *g;
	struct xs_server_domain_usage u;
	uint32_t tx[10];
	unsigned ok = 0, nospc = 0, base;
	char path[64];

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	/* each its own parent: transactions creating below one parent conflict */
	for (unsigned t = 0; t < 10; t++) {
		snprintf(path, sizeof(path), "t%u", t);
		assert_int_equal(xwrite(r, g, 0, path, ""), 0);
	}
	usage(r, 5, &u);
	base = u.nodes;
	assert_int_equal(base, 11);
	for (unsigned t = 0; t < 10; t++)
		tx[t] = tx_start(r, g);
	for (unsigned t = 0; t < 10; t++) {
		for (unsigned i = 0; i < 300; i++) {
			snprintf(path, sizeof(path), "t%u/n%u", t, i);
			assert_int_equal(xwrite(r, g, tx[t], path, ""), 0);
		}
	}
	for (unsigned t = 0; t < 10; t++) {
		int err = tx_end(r, g, tx[t], true);

		assert_true(err == 0 || err == -ENOSPC);
		ok += err == 0;
		nospc += err == -ENOSPC;
	}
	usage(r, 5, &u);
	assert_int_equal(ok, 3);   /* 11 + 3 * 300 <= 1000 < 11 + 4 * 300 */
	assert_int_equal(nospc, 7);
	assert_int_equal(u.nodes, base + 3 * 300);
	assert_true(u.nodes <= 1000);
	peer_close(g);
	rig_free(r);
}

/* A transaction touches at most quota_trans_nodes nodes; an unprivileged one fails past it. */
static void test_tx_nodes_quota(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer(r, 0);
	uint32_t tx;
	char path[64], v[16];
	int err = 0;
	unsigned i;

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	for (i = 0; i < 1100; i++) {
		snprintf(path, sizeof(path), "/local/domain/5/r/%u", i);
		assert_int_equal(xwrite(r, d0, 0, path, "v"), 0);
	}
	tx = tx_start(r, g);
	for (i = 0; i < 1100 && !err; i++) {
		snprintf(path, sizeof(path), "r/%u", i);
		err = xread(r, g, tx, path, v, sizeof(v));
	}
	assert_int_equal(err, -ENOSPC);
	assert_true(i > 1000);
	assert_int_equal(tx_end(r, g, tx, true), -ENOSPC);
	/* dom0's are not limited */
	tx = tx_start(r, d0);
	for (i = 0; i < 1100; i++) {
		snprintf(path, sizeof(path), "/local/domain/5/r/%u", i);
		assert_int_equal(xread(r, d0, tx, path, v, sizeof(v)), 0);
	}
	assert_int_equal(tx_end(r, d0, tx, true), 0);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

/* A guest that does not read its replies: the server stops reading it at the quota. */
static void test_outstanding_replies(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer(r, 0);
	struct xs_server_domain_usage u;
	struct xsd_sockmsg h;
	char big[2 + 2048];
	unsigned got = 0;

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer_small(r, 5);
	memset(big, 'v', sizeof(big));
	memcpy(big, "b", 2);
	assert_int_equal(call(r, g, XS_WRITE, 0, big, sizeof(big), NULL, 0), 0);
	for (uint32_t i = 0; i < 100; i++)
		send_raw(g, XS_READ, 1000 + i, 0, "b", 2);
	pump(r);
	pump(r);
	usage(r, 5, &u);
	assert_int_equal(u.outstanding, XS_SERVER_QUOTA_OUTSTANDING);
	/* others are served meanwhile */
	assert_int_equal(xwrite(r, d0, 0, "/other", "1"), 0);
	/* reading its replies lets it go on: every request answered, in order */
	while (got < 100 && recv_msg(r, g, &h, 200) == 1) {
		assert_int_equal(h.type, XS_READ);
		assert_int_equal(h.req_id, 1000 + got);
		got++;
	}
	assert_int_equal(got, 100);
	usage(r, 5, &u);
	assert_int_equal(u.outstanding, 0);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

/*
 * A guest whose writes fire events at a dom0 reader that is slow: each
 * request is outstanding until its events are delivered (as xenstored
 * counts them), so the guest is held at the quota, not the reader flooded.
 */
static void test_outstanding_events(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer_small(r, 0);
	struct xs_server_domain_usage u;
	struct xsd_sockmsg h;
	unsigned replies = 0, events;
	char path[32];

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	assert_int_equal(xwatch(r, d0, "/local/domain/5", "w"), 0);
	assert_int_equal(drain_events(r, d0), 1);
	for (uint32_t i = 0; i < 200; i++) {
		int l = snprintf(path, sizeof(path), "flood-%03u", i);

		send_raw(g, XS_WRITE, 1 + i, 0, path, (size_t)l + 1);
	}
	for (int i = 0; i < 10; i++)
		pump(r);
	while (recv_msg(r, g, &h, 20) == 1) {
		assert_int_equal(h.type, XS_WRITE);
		replies++;
	}
	usage(r, 5, &u);
	assert_true(replies < 200);
	assert_int_equal(u.outstanding, XS_SERVER_QUOTA_OUTSTANDING);
	/* the reader catches up: everything goes through */
	events = 0;
	while (replies < 200) {
		events += drain_events(r, d0);
		while (recv_msg(r, g, &h, 5) == 1)
			replies++;
	}
	events += drain_events(r, d0);
	assert_int_equal(events, 200);
	usage(r, 5, &u);
	assert_int_equal(u.outstanding, 0);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

/* An event equal to one still queued is not queued again (xenstored's send_event()). */
static void test_duplicate_events(void **state)
{
	struct rig *r = rig_new();
	struct peer *d0 = peer(r, 0), *w = peer_small(r, 0);
	unsigned n;

	(void)state;
	assert_int_equal(xwatch(r, w, "/dup", "t"), 0);
	assert_int_equal(drain_events(r, w), 1);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(xwrite(r, d0, 0, "/dup", i & 1 ? "a" : "b"), 0);
	n = drain_events(r, w);
	assert_true(n >= 1);
	assert_true(n < 3000);
	assert_string_equal(w->last_event, "/dup");
	peer_close(d0);
	peer_close(w);
	rig_free(r);
}

/* ---- ACL size ------------------------------------------------------------------- */

static void test_acl_quota(void **state)
{
	static const char six[] = "x\0n5\0r1\0r2\0r3\0r4\0r6";
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer(r, 0);

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	assert_int_equal(xwrite(r, g, 0, "x", ""), 0);
	/* six entries: ENOSPC for a guest (xenstored's quota_nb_perms_per_node, 5) */
	assert_int_equal(call(r, g, XS_SET_PERMS, 0, six, sizeof(six), NULL, 0), -ENOSPC);
	assert_int_equal(call(r, g, XS_SET_PERMS, 0, six, sizeof(six) - 3, NULL, 0), 0);
	assert_int_equal(callv(r, d0, XS_SET_PERMS, 0, NULL, 0, 7, "/local/domain/5/x",
			       "n5", "r1", "r2", "r3", "r4", "r6"), 0);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

/* ---- XS_SET_TARGET ------------------------------------------------------------- */

static void test_set_target(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *stub, *d0 = peer(r, 0);
	char v[64];

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	assert_int_equal(xs_server_introduce_domain(r->s, 9), 0);
	g = peer(r, 5);
	stub = peer(r, 9);
	assert_int_equal(xwrite(r, g, 0, "data", "guest's"), 0);
	assert_int_equal(xwrite(r, d0, 0, "/granted", "g"), 0);
	assert_int_equal(callv(r, d0, XS_SET_PERMS, 0, NULL, 0, 3, "/granted", "n0", "r5"), 0);
	assert_int_equal(xread(r, stub, 0, "/local/domain/5/data", v, sizeof(v)), -EACCES);
	assert_int_equal(xread(r, stub, 0, "/granted", v, sizeof(v)), -EACCES);
	/* dom0 only, both domains introduced, no dom0 */
	assert_int_equal(callv(r, g, XS_SET_TARGET, 0, NULL, 0, 2, "9", "5"), -EACCES);
	assert_int_equal(callv(r, d0, XS_SET_TARGET, 0, NULL, 0, 2, "9", "77"), -ENOENT);
	assert_int_equal(callv(r, d0, XS_SET_TARGET, 0, NULL, 0, 2, "77", "5"), -ENOENT);
	assert_int_equal(callv(r, d0, XS_SET_TARGET, 0, NULL, 0, 2, "9", "0"), -EINVAL);
	assert_int_equal(callv(r, d0, XS_SET_TARGET, 0, NULL, 0, 1, "9"), -EINVAL);
	assert_int_equal(callv(r, d0, XS_SET_TARGET, 0, NULL, 0, 2, "9", "5"), 0);
	/* domain 9 now has domain 5's rights: its nodes, its grants */
	assert_int_equal(xread(r, stub, 0, "/local/domain/5/data", v, sizeof(v)), 0);
	assert_string_equal(v, "guest's");
	assert_int_equal(xwrite(r, stub, 0, "/local/domain/5/data", "stub's"), 0);
	assert_int_equal(xread(r, stub, 0, "/granted", v, sizeof(v)), 0);
	/* and nothing more, nor the other way round */
	assert_int_equal(xwrite(r, stub, 0, "/granted", "no"), -EACCES);
	assert_int_equal(xwrite(r, g, 0, "/local/domain/9/x", "no"), -EACCES);
	/* the target gone, its rights go with it */
	assert_int_equal(xs_server_release_domain(r->s, 5), 0);
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	assert_int_equal(xwrite(r, d0, 0, "/local/domain/5/data", "new"), 0);
	assert_int_equal(xread(r, stub, 0, "/local/domain/5/data", v, sizeof(v)), -EACCES);
	peer_close(g);
	peer_close(stub);
	peer_close(d0);
	rig_free(r);
}

/* ---- domain release ------------------------------------------------------------ */

static void test_release_and_reuse(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *g2, *d0 = peer(r, 0);
	struct xs_server_domain_usage u;
	char v[64];

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	assert_int_equal(xwrite(r, g, 0, "device/vif/0/state", "4"), 0);
	assert_int_equal(xwrite(r, d0, 0, "/backend/vif/5/0/state", "4"), 0);
	assert_int_equal(callv(r, d0, XS_SET_PERMS, 0, NULL, 0, 3, "/backend/vif/5/0", "n0", "r5"), 0);
	assert_int_equal(xread(r, g, 0, "/backend/vif/5/0", v, sizeof(v)), 0);
	assert_int_equal(xwatch(r, d0, "/local/domain/5", "home"), 0);
	assert_int_equal(drain_events(r, d0), 1);
	usage(r, 5, &u);
	assert_true(u.nodes > 0);

	assert_int_equal(callv(r, d0, XS_RELEASE, 0, NULL, 0, 1, "5"), 0);
	/* its connection went, its nodes with it (watchers hear of it) */
	assert_true(drain_events(r, d0) >= 1);
	assert_int_equal(xread(r, d0, 0, "/local/domain/5", v, sizeof(v)), -ENOENT);
	usage(r, 5, &u);
	assert_false(u.connected);
	assert_int_equal(u.nodes, 0);
	/* dom0's node that granted it stays, the grant does not pass to a new domain 5 */
	assert_int_equal(xread(r, d0, 0, "/backend/vif/5/0/state", v, sizeof(v)), 0);
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g2 = peer(r, 5);
	assert_int_equal(xread(r, g2, 0, "/backend/vif/5/0", v, sizeof(v)), -EACCES);
	assert_int_equal(xread(r, g2, 0, "/backend/vif/5/0/state", v, sizeof(v)), -EACCES);
	assert_int_equal(xread(r, g2, 0, "device/vif/0/state", v, sizeof(v)), -ENOENT);
	/* not even once dom0 changes the node: the entry stays ignored */
	assert_int_equal(xwrite(r, d0, 0, "/backend/vif/5/0", "touched"), 0);
	assert_int_equal(xread(r, g2, 0, "/backend/vif/5/0", v, sizeof(v)), -EACCES);
	/* a grant made to the new domain works */
	assert_int_equal(callv(r, d0, XS_SET_PERMS, 0, NULL, 0, 3, "/backend/vif/5/0", "n0", "r5"), 0);
	assert_int_equal(xread(r, g2, 0, "/backend/vif/5/0", v, sizeof(v)), 0);
	assert_string_equal(v, "touched");
	/* releasing what is not introduced, or dom0 */
	assert_int_equal(callv(r, d0, XS_RELEASE, 0, NULL, 0, 1, "77"), -ENOENT);
	assert_int_equal(callv(r, d0, XS_RELEASE, 0, NULL, 0, 1, "0"), -EINVAL);
	assert_int_equal(callv(r, g2, XS_RELEASE, 0, NULL, 0, 1, "5"), -EACCES);
	peer_close(g);
	peer_close(g2);
	peer_close(d0);
	rig_free(r);
}

/* A transaction started before a domain died cannot hand the dead domain's grant to the next. */
static void test_release_during_transaction(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer(r, 0);
	uint32_t tx;
	char v[64];

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	assert_int_equal(xwrite(r, d0, 0, "/be/x", "1"), 0);
	tx = tx_start(r, d0);
	assert_int_equal(callv(r, d0, XS_SET_PERMS, tx, NULL, 0, 3, "/be/x", "n0", "r5"), 0);
	assert_int_equal(xs_server_release_domain(r->s, 5), 0);
	assert_int_equal(tx_end(r, d0, tx, true), 0);
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	assert_int_equal(xread(r, g, 0, "/be/x", v, sizeof(v)), -EACCES);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

/* ---- the special watches --------------------------------------------------------- */

static void test_special_watches(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer(r, 0);
	char v[64];

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	assert_int_equal(xwatch(r, g, "@introduceDomain", "i"), 0);
	assert_int_equal(xwatch(r, g, "@releaseDomain", "r"), 0);
	assert_int_equal(xwatch(r, d0, "@introduceDomain", "i"), 0);
	assert_int_equal(xwatch(r, d0, "@releaseDomain", "r"), 0);
	/* each fires once at registration, for anyone */
	assert_int_equal(drain_events(r, g), 2);
	assert_int_equal(drain_events(r, d0), 2);
	/* then only for the privileged (xenstored since 4.15) */
	assert_int_equal(xs_server_introduce_domain(r->s, 6), 0);
	assert_int_equal(xs_server_release_domain(r->s, 6), 0);
	assert_int_equal(drain_events(r, d0), 2);
	assert_int_equal(drain_events(r, g), 0);
	/* ... or those the special node's ACL lets read, which only dom0 sets */
	assert_int_equal(callv(r, g, XS_SET_PERMS, 0, NULL, 0, 3, "@releaseDomain", "n5", "r5"),
			 -EACCES);
	assert_int_equal(callv(r, d0, XS_SET_PERMS, 0, NULL, 0, 3, "@releaseDomain", "n0", "r5"), 0);
	assert_int_equal(callv(r, d0, XS_GET_PERMS, 0, v, sizeof(v), 1, "@releaseDomain"), 0);
	assert_memory_equal(v, "n0\0r5", 6);
	assert_int_equal(xs_server_introduce_domain(r->s, 6), 0);
	assert_int_equal(xs_server_release_domain(r->s, 6), 0);
	assert_int_equal(drain_events(r, g), 1);
	assert_string_equal(g->last_event, "@releaseDomain");
	/* a released domain leaves the special ACLs */
	assert_int_equal(xs_server_release_domain(r->s, 5), 0);
	assert_int_equal(callv(r, d0, XS_GET_PERMS, 0, v, sizeof(v), 1, "@releaseDomain"), 0);
	assert_memory_equal(v, "n0", 3);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

/* ---- arguments without their NUL --------------------------------------------------- */

static void test_unterminated_arguments(void **state)
{
	struct rig *r = rig_new();
	struct peer *g, *d0 = peer(r, 0);
	char v[64];
	static const struct {
		uint32_t type;
		const char *payload;
		size_t len;
	} bad[] = {
		{ XS_READ, "data", 4 },
		{ XS_READ, "data\0more", 9 },
		{ XS_READ, "data\0more\0", 10 },
		{ XS_WRITE, "data", 4 },
		{ XS_MKDIR, "dir", 3 },
		{ XS_RM, "data", 4 },
		{ XS_DIRECTORY, "/local", 6 },
		{ XS_DIRECTORY_PART, "/local\0" "0", 8 },
		{ XS_GET_PERMS, "data", 4 },
		{ XS_SET_PERMS, "data\0n5", 7 },
		{ XS_SET_PERMS, "data", 4 },
		{ XS_WATCH, "data\0tok", 8 },
		{ XS_WATCH, "data", 4 },
		{ XS_UNWATCH, "data\0tok", 8 },
		{ XS_GET_DOMAIN_PATH, "5", 1 },
		{ XS_TRANSACTION_END, "T", 1 },
	};

	(void)state;
	assert_int_equal(xs_server_introduce_domain(r->s, 5), 0);
	g = peer(r, 5);
	assert_int_equal(xwrite(r, g, 0, "data", "v"), 0);
	assert_int_equal(xwatch(r, g, "data", "tok"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t tx = bad[i].type == XS_TRANSACTION_END ? tx_start(r, g) : 0;

		assert_int_equal(call(r, g, bad[i].type, tx, bad[i].payload, bad[i].len, v, sizeof(v)),
				 -EINVAL);
	}
	/* dom0's too */
	assert_int_equal(call(r, d0, XS_READ, 0, "/local", 6, v, sizeof(v)), -EINVAL);
	assert_int_equal(call(r, d0, XS_INTRODUCE, 0, "7\0" "0\0" "1", 5, NULL, 0), -EINVAL);
	assert_int_equal(call(r, d0, XS_RELEASE, 0, "5", 1, NULL, 0), -EINVAL);
	assert_int_equal(call(r, d0, XS_IS_DOMAIN_INTRODUCED, 0, "5", 1, NULL, 0), -EINVAL);
	/* nothing changed, and the terminated forms work */
	assert_int_equal(xread(r, g, 0, "data", v, sizeof(v)), 0);
	assert_string_equal(v, "v");
	assert_int_equal(call(r, d0, XS_IS_DOMAIN_INTRODUCED, 0, "5", 2, v, sizeof(v)), 0);
	assert_string_equal(v, "T");
	/* a guest may not ask */
	assert_int_equal(call(r, g, XS_IS_DOMAIN_INTRODUCED, 0, "5", 2, v, sizeof(v)), -EACCES);
	peer_close(g);
	peer_close(d0);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_connection_per_guest),
		cmocka_unit_test(test_watch_and_tx_quota),
		cmocka_unit_test(test_node_quota_at_commit),
		cmocka_unit_test(test_tx_nodes_quota),
		cmocka_unit_test(test_outstanding_replies),
		cmocka_unit_test(test_outstanding_events),
		cmocka_unit_test(test_duplicate_events),
		cmocka_unit_test(test_acl_quota),
		cmocka_unit_test(test_set_target),
		cmocka_unit_test(test_release_and_reuse),
		cmocka_unit_test(test_release_during_transaction),
		cmocka_unit_test(test_special_watches),
		cmocka_unit_test(test_unterminated_arguments),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
