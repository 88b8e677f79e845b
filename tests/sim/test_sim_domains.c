/* SPDX-License-Identifier: MIT */
/* test_sim_domains.c - multi-process tests: domids, data exchange, kill -9, start-up, hostile input. */
/*
 * Children are separate domains (fork, then their own session); they never
 * call cmocka and report by exit status. Each test gets a fresh xnb-simd.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>

#include "platform.h"
#include "sim.h"
#include "simd_proto.h"
#include "sim_fixture.h"

struct dfix {
	struct simd_proc simd;
	const struct platform_ops *ops;
};

struct child_info {
	uint32_t domid, ref[2], port;
};

static int dfix_setup(void **state)
{
	struct dfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_simd_start(&f->simd), 0);
	f->ops = fixture_sim();
	*state = f;
	return 0;
}

static int dfix_teardown(void **state)
{
	struct dfix *f = *state;

	if (f->simd.pid > 0)
		assert_int_equal(fixture_simd_stop(&f->simd), 0);
	free(f);
	return 0;
}

static bool read_full(int fd, void *buf, size_t len)
{
	return read(fd, buf, len) == (ssize_t)len;
}

static int child_wait_port(const struct platform_ops *ops, struct platform_evtchn *e, int ms)
{
	int r = ops->evtchn_pending(e);

	if (r != -EAGAIN)
		return r;
	if (!fixture_wait_fd(ops->evtchn_fd(e), ms))
		return -ETIMEDOUT;
	return ops->evtchn_pending(e);
}

static void test_domids(void **state)
{
	struct dfix *f = *state;
	struct platform *a, *b, *c, *d0;

	a = f->ops->open(PLATFORM_DOMID_ANY);
	b = f->ops->open(PLATFORM_DOMID_ANY);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(f->ops->domid(a), 1);
	assert_int_equal(f->ops->domid(b), 2);
	c = f->ops->open(7);
	assert_non_null(c);
	assert_int_equal(f->ops->domid(c), 7);
	assert_null(f->ops->open(7));
	assert_int_equal(errno, EEXIST);
	assert_null(f->ops->open(100000));
	assert_int_equal(errno, EINVAL);
	d0 = f->ops->open(0);
	assert_non_null(d0);
	assert_int_equal(f->ops->domid(d0), 0);
	f->ops->close(a);
	f->ops->close(b);
	f->ops->close(c);
	f->ops->close(d0);
}

/* Every handle of every kind, opened and closed: the client leaks nothing. */
static void test_client_no_leak(void **state)
{
	struct dfix *f = *state;
	int before = fixture_fd_count(getpid());

	for (int i = 0; i < 3; i++) {
		struct platform *a = f->ops->open(PLATFORM_DOMID_ANY);
		struct platform *b = f->ops->open(PLATFORM_DOMID_ANY);
		struct platform_gntshr *s = f->ops->gntshr_open(a);
		struct platform_gnttab *g = f->ops->gnttab_open(b);
		struct platform_evtchn *ea = f->ops->evtchn_open(a), *eb = f->ops->evtchn_open(b);
		struct platform_xs *x = f->ops->xs_open(b);
		uint32_t ref;
		void *pg, *m;
		int pa;

		assert_non_null(s);
		assert_non_null(g);
		assert_non_null(ea);
		assert_non_null(eb);
		assert_non_null(x);
		pg = f->ops->gntshr_share(s, (uint16_t)f->ops->domid(b), 1, &ref, true);
		assert_non_null(pg);
		m = f->ops->gnttab_map(g, (uint16_t)f->ops->domid(a), ref, true, NULL);
		assert_non_null(m);
		pa = f->ops->evtchn_alloc_unbound(ea, (uint16_t)f->ops->domid(b));
		assert_true(f->ops->evtchn_bind_interdomain(eb, (uint16_t)f->ops->domid(a),
							    (uint32_t)pa) > 0);
		assert_int_equal(f->ops->xs_write(x, 0, "k", "v", 1), 0);
		assert_int_equal(f->ops->gnttab_unmap(g, m), 0);
		assert_int_equal(f->ops->gntshr_unshare(s, pg, 1), 0);
		f->ops->xs_close(x);
		f->ops->evtchn_close(ea);
		f->ops->evtchn_close(eb);
		f->ops->gnttab_close(g);
		f->ops->gntshr_close(s);
		f->ops->close(a);
		f->ops->close(b);
	}
	assert_int_equal(fixture_fd_count(getpid()), before);
}

/* Frontend child: grant a page to dom0, wait for "ping", answer "pong". */
static int child_exchange(int wfd, int rfd)
{
	const struct platform_ops *ops = fixture_sim();
	struct platform *p = ops->open(PLATFORM_DOMID_ANY);
	struct platform_gntshr *s = p ? ops->gntshr_open(p) : NULL;
	struct platform_evtchn *e = p ? ops->evtchn_open(p) : NULL;
	struct child_info ci = { 0 };
	uint8_t *pg;
	char c;
	int port;

	if (!s || !e)
		return 10;
	pg = ops->gntshr_share(s, 0, 1, ci.ref, true);
	port = ops->evtchn_alloc_unbound(e, 0);
	if (!pg || port <= 0)
		return 11;
	ci.domid = ops->domid(p);
	ci.port = (uint32_t)port;
	if (write(wfd, &ci, sizeof(ci)) != sizeof(ci))
		return 12;
	if (child_wait_port(ops, e, 5000) != port)
		return 13;
	for (int i = 0; i < 4096; i++)
		if (pg[i] != (uint8_t)(i ^ 0x5a))
			return 14;
	for (int i = 0; i < 4096; i++)
		pg[i] = (uint8_t)(i ^ 0xa5);
	if (ops->evtchn_unmask(e, (uint32_t)port) || ops->evtchn_notify(e, (uint32_t)port))
		return 15;
	if (read(rfd, &c, 1) != 0)  /* until the parent is done */
		return 16;
	if (ops->gntshr_unshare(s, pg, 1) != 0)
		return 17;
	ops->gntshr_close(s);
	ops->evtchn_close(e);
	ops->close(p);
	return 0;
}

static void test_two_domains_exchange(void **state)
{
	struct dfix *f = *state;
	int up[2], down[2], st;
	struct child_info ci;
	pid_t pid;
	struct platform *d0 = f->ops->open(0);
	struct platform_gnttab *g;
	struct platform_evtchn *e;
	uint8_t out[4096], in[4096];
	struct engine_copy_seg sg[2];
	int lport;

	assert_non_null(d0);
	g = f->ops->gnttab_open(d0);
	e = f->ops->evtchn_open(d0);
	assert_non_null(g);
	assert_non_null(e);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		_exit(child_exchange(up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	assert_true(read_full(up[0], &ci, sizeof(ci)));
	lport = f->ops->evtchn_bind_interdomain(e, (uint16_t)ci.domid, ci.port);
	assert_true(lport > 0);
	assert_int_equal(child_wait_port(f->ops, e, 1000), lport);  /* the bind's own event */
	assert_int_equal(f->ops->evtchn_unmask(e, (uint32_t)lport), 0);
	for (int i = 0; i < 4096; i++)
		out[i] = (uint8_t)(i ^ 0x5a);
	for (int k = 0; k < 2; k++) {
		memset(&sg[k], 0, sizeof(sg[k]));
		sg[k].flags = GNTCOPY_dest_gref;
		sg[k].source.virt = out + k * 2048;
		sg[k].dest.foreign.domid = (uint16_t)ci.domid;
		sg[k].dest.foreign.ref = ci.ref[0];
		sg[k].dest.foreign.offset = (uint16_t)(k * 2048);
		sg[k].len = 2048;
	}
	assert_int_equal(f->ops->gnttab_copy(g, sg, 2), 0);
	assert_int_equal(sg[0].status, GNTST_okay);
	assert_int_equal(sg[1].status, GNTST_okay);
	assert_int_equal(f->ops->evtchn_notify(e, (uint32_t)lport), 0);
	assert_int_equal(child_wait_port(f->ops, e, 5000), lport);
	memset(&sg[0], 0, sizeof(sg[0]));
	sg[0].flags = GNTCOPY_source_gref;
	sg[0].source.foreign.domid = (uint16_t)ci.domid;
	sg[0].source.foreign.ref = ci.ref[0];
	sg[0].dest.virt = in;
	sg[0].len = 4096;
	assert_int_equal(f->ops->gnttab_copy(g, sg, 1), 0);
	assert_int_equal(sg[0].status, GNTST_okay);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(in[i], (uint8_t)(i ^ 0xa5));
	close(down[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(up[0]);
	f->ops->gnttab_close(g);
	f->ops->evtchn_close(e);
	f->ops->close(d0);
}

/* A guest that keeps working until it is killed. */
static int child_busy(int wfd)
{
	const struct platform_ops *ops = fixture_sim();
	struct platform *p = ops->open(PLATFORM_DOMID_ANY);
	struct platform_gntshr *s = p ? ops->gntshr_open(p) : NULL;
	struct platform_evtchn *e = p ? ops->evtchn_open(p) : NULL;
	struct platform_xs *x = p ? ops->xs_open(p) : NULL;
	struct child_info ci = { 0 };
	volatile uint64_t *pg;
	int port;

	if (!s || !e || !x)
		return 10;
	pg = ops->gntshr_share(s, 0, 2, ci.ref, true);
	port = ops->evtchn_alloc_unbound(e, 0);
	if (!pg || port <= 0)
		return 11;
	ci.domid = ops->domid(p);
	ci.port = (uint32_t)port;
	if (write(wfd, &ci, sizeof(ci)) != sizeof(ci))
		return 12;
	for (uint64_t n = 1;; n++) {
		pg[0] = n;
		ops->evtchn_notify(e, (uint32_t)port);
		ops->evtchn_pending(e);
		ops->evtchn_unmask(e, (uint32_t)port);
		ops->xs_write(x, 0, "data/n", "1", 1);
		usleep(200);
	}
}

static bool wait_release(struct dfix *f, struct platform_xs *x)
{
	for (int i = 0; i < 100; i++) {
		char *p = NULL, *t = NULL;
		int r = f->ops->xs_read_watch(x, &p, &t);
		bool hit = r == 1 && !strcmp(p, "@releaseDomain");

		free(p);
		free(t);
		if (hit)
			return true;
		if (r == 0)
			fixture_wait_fd(f->ops->xs_fd(x), 50);
	}
	return false;
}

static void test_kill9_cleanup(void **state)
{
	struct dfix *f = *state;
	int empty = fixture_fd_settled(f->simd.pid);
	struct platform *d0 = f->ops->open(0);
	struct platform_gnttab *g = f->ops->gnttab_open(d0);
	struct platform_evtchn *e = f->ops->evtchn_open(d0);
	struct platform_xs *x = f->ops->xs_open(d0);
	struct engine_copy_seg sg;
	struct child_info ci;
	uint64_t val = 0, before;
	volatile uint64_t *m;
	int up[2], baseline, st, lport, got_event = 0;
	int16_t gst;
	pid_t pid;

	assert_non_null(g);
	assert_non_null(e);
	assert_non_null(x);
	assert_int_equal(f->ops->xs_watch(x, "@releaseDomain", "rel"), 0);
	assert_true(wait_release(f, x));  /* the initial firing */
	baseline = fixture_fd_settled(f->simd.pid);
	assert_true(baseline > 0);
	assert_int_equal(pipe(up), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		_exit(child_busy(up[1]));
	}
	close(up[1]);
	assert_true(read_full(up[0], &ci, sizeof(ci)));
	close(up[0]);
	assert_true(fixture_fd_count(f->simd.pid) > baseline);
	m = f->ops->gnttab_map(g, (uint16_t)ci.domid, ci.ref[1], true, &gst);
	assert_non_null(m);
	lport = f->ops->evtchn_bind_interdomain(e, (uint16_t)ci.domid, ci.port);
	assert_true(lport > 0);
	memset(&sg, 0, sizeof(sg));
	sg.flags = GNTCOPY_source_gref;
	sg.source.foreign.domid = (uint16_t)ci.domid;
	sg.source.foreign.ref = ci.ref[0];
	sg.dest.virt = &val;
	sg.len = sizeof(val);
	/* Mid-operation: the child is busy notifying and writing; we copy. */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(f->ops->gnttab_copy(g, &sg, 1), 0);
		assert_int_equal(sg.status, GNTST_okay);
		if (f->ops->evtchn_pending(e) == lport) {
			got_event = 1;
			f->ops->evtchn_unmask(e, (uint32_t)lport);
		}
		usleep(500);
	}
	assert_true(val > 0);
	assert_true(got_event);
	m[0] = 0x1234;
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_true(wait_release(f, x));
	/* The peer's operations fail cleanly (simd marks the domain dead
	 * before it fires @releaseDomain) and write nothing. */
	val = before = 0xdeadbeef;
	assert_int_equal(f->ops->gnttab_copy(g, &sg, 1), 0);
	assert_int_equal(sg.status, GNTST_bad_domain);
	assert_int_equal(val, before);
	assert_null(f->ops->gnttab_map(g, (uint16_t)ci.domid, ci.ref[0], false, &gst));
	assert_int_equal(gst, GNTST_bad_domain);
	assert_int_equal(f->ops->evtchn_status(e, (uint32_t)lport, NULL, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(f->ops->evtchn_notify(e, (uint32_t)lport), 0);
	/* A page still mapped stays valid until unmapped, as in Xen. */
	assert_int_equal(m[0], 0x1234);
	m[0] = 0x5678;
	assert_int_equal(m[0], 0x5678);
	assert_int_equal(f->ops->gnttab_unmap(g, (void *)m), 0);
	/* simd freed everything the domain held. */
	assert_int_equal(fixture_wait_fds(f->simd.pid, baseline, 5000), baseline);
	/* And the domid is free again. */
	{
		struct platform *again = f->ops->open((int)ci.domid);

		assert_non_null(again);
		assert_null(f->ops->gnttab_map(g, (uint16_t)ci.domid, ci.ref[0], false, &gst));
		assert_int_equal(gst, GNTST_general_error);  /* new domain, nothing granted */
		f->ops->close(again);
	}
	f->ops->xs_close(x);
	f->ops->gnttab_close(g);
	f->ops->evtchn_close(e);
	f->ops->close(d0);
	assert_int_equal(fixture_wait_fds(f->simd.pid, empty, 5000), empty);
}

static void test_second_start_refused(void **state)
{
	struct dfix *f = *state;
	char buf[256] = { 0 }, want[64];
	int err[2], st;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(err[1], 2);
		execl(getenv("XNB_SIMD"), "xnb-simd", "--foreground", "--dir", f->simd.dir,
		      (char *)NULL);
		_exit(127);
	}
	close(err[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	n = read(err[0], buf, sizeof(buf) - 1);
	close(err[0]);
	assert_true(n > 0);
	snprintf(want, sizeof(want), "already running (pid %ld)", (long)f->simd.pid);
	assert_non_null(strstr(buf, want));
	/* The first one is unaffected. */
	assert_int_equal(kill(f->simd.pid, 0), 0);
	assert_true(access(f->simd.dir, F_OK) == 0);
}

static int raw_connect(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, SIMD_SOCK_NAME);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int raw_call(int fd, uint32_t op, const int *fds, unsigned nfds, struct simd_msg *rep)
{
	struct simd_msg m = { .op = op };
	int rfds[SIMD_MAX_FDS];
	unsigned rn;

	assert_int_equal(simd_msg_send(fd, &m, fds, nfds), 0);
	assert_int_equal(simd_msg_recv(fd, rep, rfds, &rn), 0);
	for (unsigned i = 0; i < rn; i++)
		close(rfds[i]);
	return rep->rc;
}

static void test_hostile_client(void **state)
{
	struct dfix *f = *state;
	int baseline = fixture_fd_settled(f->simd.pid);
	int fd = raw_connect(f->simd.dir);
	struct simd_msg rep;
	int mfd[2], rfds[SIMD_MAX_FDS];
	unsigned rn;
	char junk[5] = "junk";
	struct platform *ok;

	/* Wrong size. */
	assert_int_equal(send(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	assert_int_equal(simd_msg_recv(fd, &rep, rfds, &rn), 0);
	assert_int_equal(rep.rc, -EBADMSG);
	/* Anything before REGISTER, unknown ops. */
	assert_int_equal(raw_call(fd, SIMD_OP_PEER, NULL, 0, &rep), -EPROTO);
	assert_int_equal(raw_call(fd, 999, NULL, 0, &rep), -EPROTO);
	/* REGISTER without memory, or with unsealed memfds (their fds are closed). */
	assert_int_equal(raw_call(fd, SIMD_OP_REGISTER, NULL, 0, &rep), -EINVAL);
	mfd[0] = memfd_create("x", MFD_CLOEXEC);
	mfd[1] = memfd_create("y", MFD_CLOEXEC);
	assert_int_equal(ftruncate(mfd[0], 4096), 0);
	assert_int_equal(raw_call(fd, SIMD_OP_REGISTER, mfd, 2, &rep), -EINVAL);
	assert_int_equal(raw_call(fd, SIMD_OP_EVTCHN_STATUS, mfd, 2, &rep), -EPROTO);
	close(mfd[0]);
	close(mfd[1]);
	/* simd is fine and serves others meanwhile. */
	ok = f->ops->open(PLATFORM_DOMID_ANY);
	assert_non_null(ok);
	{
		struct platform_evtchn *e = f->ops->evtchn_open(ok);

		assert_non_null(e);
		/* Ops on handles or ports that are not ours: errors, no crash. */
		assert_int_equal(f->ops->evtchn_status(e, 0xffffffffu, NULL, NULL), -EINVAL);
		f->ops->evtchn_close(e);
	}
	f->ops->close(ok);
	close(fd);
	assert_int_equal(fixture_wait_fds(f->simd.pid, baseline, 5000), baseline);
}

static void test_hostile_registered(void **state)
{
	struct dfix *f = *state;
	struct platform *p = f->ops->open(PLATFORM_DOMID_ANY);
	int fd, rfds[SIMD_MAX_FDS];
	struct simd_msg m = { .op = SIMD_OP_EVTCHN_CHANNEL, .arg = { 12345, 99999 } };
	unsigned rn;

	assert_non_null(p);
	fd = platform_sim_ctl_fd(p);
	/* simd's own event message is no request; requests with bad handles get errors. */
	assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simd_msg_recv(fd, &m, rfds, &rn), 0);
	assert_int_equal(m.op, SIMD_OP_EVTCHN_CHANNEL | SIMD_REPLY);
	assert_int_equal(m.rc, -EINVAL);
	m = (struct simd_msg){ .op = SIMD_OP_EVTCHN_ALLOC_UNBOUND, .arg = { 12345, 99999 } };
	assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simd_msg_recv(fd, &m, rfds, &rn), 0);
	assert_int_equal(m.op, SIMD_OP_EVTCHN_ALLOC_UNBOUND | SIMD_REPLY);
	assert_int_equal(m.rc, -EINVAL);
	m = (struct simd_msg){ .op = SIMD_OP_EVTCHN_BIND, .arg = { 12345, 0, 1 } };
	assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simd_msg_recv(fd, &m, rfds, &rn), 0);
	assert_int_equal(m.op, SIMD_OP_EVTCHN_BIND | SIMD_REPLY);
	assert_int_equal(m.rc, -EINVAL);
	assert_int_equal(rn, 0);
	m = (struct simd_msg){ .op = SIMD_OP_REGISTER };
	assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simd_msg_recv(fd, &m, rfds, &rn), 0);
	assert_int_equal(m.rc, -EALREADY);
	m = (struct simd_msg){ .op = SIMD_OP_PEER, .arg = { 5000 } };
	assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simd_msg_recv(fd, &m, rfds, &rn), 0);
	assert_int_equal(m.rc, -ESRCH);
	m = (struct simd_msg){ .op = SIMD_OP_EVTCHN_CLOSE, .arg = { 77 } };
	assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simd_msg_recv(fd, &m, rfds, &rn), 0);
	assert_int_equal(m.rc, -EINVAL);
	f->ops->close(p);
}

/* Random requests from a registered domain: errors only, nothing leaks. */
static void test_hostile_random(void **state)
{
	struct dfix *f = *state;
	int baseline = fixture_fd_settled(f->simd.pid);
	struct platform *p = f->ops->open(PLATFORM_DOMID_ANY);
	struct platform *q = f->ops->open(PLATFORM_DOMID_ANY);
	struct platform_evtchn *e;
	unsigned seed = 12345;
	int fd, port;

	assert_non_null(p);
	assert_non_null(q);
	e = f->ops->evtchn_open(q);
	assert_non_null(e);
	port = f->ops->evtchn_alloc_unbound(e, (uint16_t)f->ops->domid(p));
	assert_true(port > 0);
	fd = platform_sim_ctl_fd(p);
	for (int i = 0; i < 4000; i++) {
		struct simd_msg m = { 0 }, rep;
		int rfds[SIMD_MAX_FDS];
		unsigned rn;

		seed = seed * 1103515245u + 12345u;
		m.op = (seed >> 8) % (SIMD_OP_MAX + 2);
		for (int k = 0; k < 6; k++) {
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 4) % 4) {
			case 0: m.arg[k] = (seed >> 8) % 4; break;
			case 1: m.arg[k] = (seed >> 8) % 2048; break;
			case 2: m.arg[k] = (uint32_t)port; break;
			default: m.arg[k] = seed; break;
			}
		}
		assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
		assert_int_equal(simd_msg_recv(fd, &rep, rfds, &rn), 0);
		assert_int_equal(rep.op, m.op | SIMD_REPLY);
		for (unsigned k = 0; k < rn; k++)
			close(rfds[k]);
	}
	f->ops->evtchn_close(e);
	f->ops->close(q);
	f->ops->close(p);
	assert_int_equal(fixture_wait_fds(f->simd.pid, baseline, 5000), baseline);
}

static void test_sigterm_cleanup(void **state)
{
	struct dfix *f = *state;
	struct platform *p = f->ops->open(PLATFORM_DOMID_ANY);
	char path[128];
	int st;

	assert_non_null(p);
	assert_int_equal(kill(f->simd.pid, SIGTERM), 0);
	assert_int_equal(waitpid(f->simd.pid, &st, 0), f->simd.pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	f->simd.pid = 0;
	snprintf(path, sizeof(path), "%s/%s", f->simd.dir, SIMD_SOCK_NAME);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/%s", f->simd.dir, SIMD_XS_SOCK_NAME);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/%s", f->simd.dir, SIMD_PID_NAME);
	assert_int_equal(access(path, F_OK), -1);
	f->ops->close(p);
	assert_null(f->ops->open(PLATFORM_DOMID_ANY));
	assert_int_equal(fixture_simd_stop(&f->simd), -1);  /* only removes the dir */
}

static void test_daemon_mode(void **state)
{
	struct dfix *f = *state;
	char dir[64], cmd[256], path[128], buf[32] = { 0 };
	long pid;
	int fd;

	(void)f;
	snprintf(dir, sizeof(dir), "/tmp/xnb-simd-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "%s --daemon --dir %s/run", getenv("XNB_SIMD"), dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/run/%s", dir, SIMD_PID_NAME);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	pid = strtol(buf, NULL, 10);
	assert_true(pid > 1);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	/* Refused while it runs. */
	snprintf(cmd, sizeof(cmd), "%s --daemon --dir %s/run 2>/dev/null", getenv("XNB_SIMD"), dir);
	assert_int_not_equal(system(cmd), 0);
	assert_int_equal(kill((pid_t)pid, SIGTERM), 0);
	for (int i = 0; i < 500 && access(path, F_OK) == 0; i++)
		usleep(10000);
	assert_int_equal(access(path, F_OK), -1);
	for (int i = 0; i < 500 && kill((pid_t)pid, 0) == 0; i++)
		usleep(10000);
	snprintf(path, sizeof(path), "%s/run", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- several processes of dom0 --------------------------------------------- */

/*
 * The next port event within ms (polling, so a late delivery still counts),
 * or -ETIMEDOUT. Waits the whole time when nothing comes, for negative checks.
 */
static int wait_port(const struct platform_ops *ops, struct platform_evtchn *e, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		int r = ops->evtchn_pending(e);

		if (r != -EAGAIN)
			return r;
		fixture_wait_fd(ops->evtchn_fd(e), 10);
	}
	return -ETIMEDOUT;
}

/* A raw request on a session's control socket: the rc. */
static int ctl_req(struct platform *p, uint32_t op, uint32_t a0, uint32_t a1, uint32_t a2,
		   struct simd_msg *rep)
{
	struct simd_msg m = { .op = op, .arg = { a0, a1, a2 } }, tmp;
	int fd = platform_sim_ctl_fd(p), rfds[SIMD_MAX_FDS];
	unsigned rn;

	if (!rep)
		rep = &tmp;
	assert_int_equal(simd_msg_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simd_msg_recv(fd, rep, rfds, &rn), 0);
	assert_int_equal(rep->op, op | SIMD_REPLY);
	for (unsigned i = 0; i < rn; i++)
		close(rfds[i]);
	return rep->rc;
}

/* domid's generation as simd reports it to p (PEER), or -errno. */
static long long dom_gen(struct platform *p, uint32_t domid)
{
	struct simd_msg rep;
	int r = ctl_req(p, SIMD_OP_PEER, domid, 0, 0, &rep);

	return r < 0 ? r : (long long)rep.arg[0];
}

/* p's port: its EVTCHNSTAT_* state, *rdom its remote domid, as EVTCHNOP_status. */
static int port_state(struct platform *p, uint32_t port, uint32_t *rdom)
{
	struct simd_msg rep;

	assert_int_equal(ctl_req(p, SIMD_OP_EVTCHN_STATUS, port, 0, 0, &rep), 0);
	if (rdom)
		*rdom = rep.arg[1];
	return (int)rep.arg[0];
}

/* Copy 4096 bytes from the guest's grant ref through g: the GNTST_ status. */
static int copy_from(const struct platform_ops *ops, struct platform_gnttab *g, uint16_t domid,
		     uint32_t ref, uint8_t *buf)
{
	struct engine_copy_seg sg;

	memset(&sg, 0, sizeof(sg));
	sg.flags = GNTCOPY_source_gref;
	sg.source.foreign.domid = domid;
	sg.source.foreign.ref = ref;
	sg.dest.virt = buf;
	sg.len = 4096;
	assert_int_equal(ops->gnttab_copy(g, &sg, 1), 0);
	return sg.status;
}

/*
 * Two dom0 sessions (processes of dom0 as simd sees them) and a guest: A,
 * the first registrant, binds the guest's port; B cannot use A's handle;
 * A goes and dom0 lives on (same generation, B's grant copy and map work),
 * the guest's port is unbound for dom0 again and B binds it; dom0 dies only
 * with B.
 */
static void test_dom0_processes(void **state)
{
	struct dfix *f = *state;
	const struct platform_ops *ops = f->ops;
	int empty = fixture_fd_settled(f->simd.pid), with_a, with_b, before_close;
	struct platform *a, *b, *g, *again;
	struct platform_gntshr *gs;
	struct platform_gnttab *gtb;
	struct platform_evtchn *ea, *eb, *ge;
	uint8_t *pg, buf[4096];
	volatile uint8_t *m;
	uint32_t ref, rdom, ha;
	uint16_t gdom;
	long long gen0;
	int gport, gport2, la, lb;

	a = ops->open(0);
	assert_non_null(a);
	with_a = fixture_fd_count(f->simd.pid);
	assert_int_equal(with_a, empty + 3);  /* connection, memory, grant table */
	b = ops->open(0);
	assert_non_null(b);
	assert_int_equal(ops->domid(b), 0);
	with_b = fixture_fd_count(f->simd.pid);
	assert_int_equal(with_b, with_a + 1);  /* B's memfds were not kept */
	/* dom0's grant table is A's: B cannot grant. */
	assert_null(ops->gntshr_open(b));
	assert_int_equal(errno, EOPNOTSUPP);

	g = ops->open(PLATFORM_DOMID_ANY);
	assert_non_null(g);
	gdom = (uint16_t)ops->domid(g);
	gen0 = dom_gen(g, 0);
	assert_true(gen0 > 0 && (gen0 & 1));
	gs = ops->gntshr_open(g);
	ge = ops->evtchn_open(g);
	ea = ops->evtchn_open(a);
	eb = ops->evtchn_open(b);
	gtb = ops->gnttab_open(b);
	assert_non_null(gs);
	assert_non_null(ge);
	assert_non_null(ea);
	assert_non_null(eb);
	assert_non_null(gtb);
	pg = ops->gntshr_share(gs, 0, 1, &ref, true);
	assert_non_null(pg);
	for (int i = 0; i < 4096; i++)
		pg[i] = (uint8_t)(i * 7);
	gport = ops->evtchn_alloc_unbound(ge, 0);
	gport2 = ops->evtchn_alloc_unbound(ge, 0);
	assert_true(gport > 0);
	assert_true(gport2 > 0);

	/* A binds the guest's port; the guest's notify reaches A. */
	la = ops->evtchn_bind_interdomain(ea, gdom, (uint32_t)gport);
	assert_true(la > 0);
	assert_int_equal(wait_port(ops, ea, 2000), la);  /* the bind's own event */
	assert_int_equal(ops->evtchn_unmask(ea, (uint32_t)la), 0);
	assert_int_equal(ops->evtchn_notify(ge, (uint32_t)gport), 0);
	assert_int_equal(wait_port(ops, ea, 2000), la);  /* A's port is masked now */

	/* A's handle cannot be used by B. */
	ha = platform_sim_evtchn_handle(ea);
	assert_int_equal(ctl_req(b, SIMD_OP_EVTCHN_ALLOC_UNBOUND, ha, gdom, 0, NULL), -EBADF);
	assert_int_equal(ctl_req(b, SIMD_OP_EVTCHN_BIND, ha, gdom, (uint32_t)gport2, NULL),
			 -EBADF);
	assert_int_equal(port_state(g, (uint32_t)gport2, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(ctl_req(b, SIMD_OP_EVTCHN_UNBIND, ha, (uint32_t)la, 0, NULL), -EBADF);
	assert_int_equal(ctl_req(b, SIMD_OP_EVTCHN_CLOSE, ha, 0, 0, NULL), -EBADF);
	assert_int_equal(port_state(b, (uint32_t)la, NULL), EVTCHNSTAT_interdomain);
	assert_int_equal(ctl_req(b, SIMD_OP_EVTCHN_ALLOC_UNBOUND, 9999, gdom, 0, NULL), -EINVAL);
	/* Notify and unmask are no requests, so there is none for B to make
	 * with A's handle: A's end of the channel is in A's process only. B's
	 * own handle refuses A's port, and A's port stays masked: the guest's
	 * next notify stays pending until A unmasks. */
	assert_int_equal(ctl_req(b, SIMD_OP_EVTCHN_CHANNEL, ha, (uint32_t)la, 0, NULL), -EINVAL);
	assert_int_equal(ops->evtchn_notify(eb, (uint32_t)la), -ENOTCONN);
	assert_int_equal(ops->evtchn_unmask(eb, (uint32_t)la), 0);
	assert_int_equal(ops->evtchn_notify(ge, (uint32_t)gport), 0);
	assert_int_equal(wait_port(ops, ea, 200), -ETIMEDOUT);
	assert_int_equal(ops->evtchn_unmask(ea, (uint32_t)la), 0);
	assert_int_equal(wait_port(ops, ea, 2000), la);
	assert_int_equal(ops->evtchn_unmask(ea, (uint32_t)la), 0);
	/* Nothing reached the guest from B; A's own notify goes through. */
	assert_int_equal(wait_port(ops, ge, 200), -ETIMEDOUT);
	assert_int_equal(ops->evtchn_notify(ea, (uint32_t)la), 0);
	assert_int_equal(wait_port(ops, ge, 2000), gport);
	assert_int_equal(ops->evtchn_unmask(ge, (uint32_t)gport), 0);

	/* B maps the guest's page before A goes. */
	m = ops->gnttab_map(gtb, gdom, ref, true, NULL);
	assert_non_null(m);

	/* A goes: only its handle (epoll instance, event socket), its channel
	 * to the guest (simd's copies of both ends) and its connection. */
	before_close = fixture_fd_count(f->simd.pid);
	ops->evtchn_close(ea);
	ops->close(a);
	assert_int_equal(fixture_wait_fds(f->simd.pid, before_close - 5, 5000), before_close - 5);
	assert_int_equal(port_state(g, (uint32_t)gport, &rdom), EVTCHNSTAT_unbound);
	assert_int_equal(rdom, 0);
	assert_int_equal(dom_gen(g, 0), gen0);
	assert_int_equal(dom_gen(b, 0), gen0);
	assert_int_equal(copy_from(ops, gtb, gdom, ref, buf), GNTST_okay);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(buf[i], (uint8_t)(i * 7));
	assert_int_equal(m[5], (uint8_t)35);
	m[5] = 0xee;
	assert_int_equal(pg[5], 0xee);
	assert_int_equal(ops->gnttab_unmap(gtb, (void *)m), 0);

	/* B binds the same guest port and gets its notifications. */
	lb = ops->evtchn_bind_interdomain(eb, gdom, (uint32_t)gport);
	assert_true(lb > 0);
	assert_int_equal(wait_port(ops, eb, 2000), lb);
	assert_int_equal(ops->evtchn_unmask(eb, (uint32_t)lb), 0);
	assert_int_equal(ops->evtchn_notify(ge, (uint32_t)gport), 0);
	assert_int_equal(wait_port(ops, eb, 2000), lb);
	assert_int_equal(ops->evtchn_unmask(eb, (uint32_t)lb), 0);
	assert_int_equal(ops->evtchn_notify(eb, (uint32_t)lb), 0);
	assert_int_equal(wait_port(ops, ge, 2000), gport);
	assert_int_equal(ops->evtchn_unmask(ge, (uint32_t)gport), 0);

	/* The last process of dom0 going is dom0's death. */
	ops->gnttab_close(gtb);
	ops->evtchn_close(eb);
	ops->close(b);
	for (int i = 0; i < 500 && dom_gen(g, 0) != -ESRCH; i++)
		usleep(10000);
	assert_int_equal(dom_gen(g, 0), -ESRCH);
	assert_int_equal(port_state(g, (uint32_t)gport, &rdom), EVTCHNSTAT_unbound);
	/* A new dom0 is a fresh domain whose first process may grant. */
	again = ops->open(0);
	assert_non_null(again);
	assert_int_equal(dom_gen(g, 0), gen0 + 2);
	{
		struct platform_gntshr *s0 = ops->gntshr_open(again);

		assert_non_null(s0);
		ops->gntshr_close(s0);
	}
	ops->close(again);

	assert_int_equal(ops->gntshr_unshare(gs, pg, 1), 0);
	ops->gntshr_close(gs);
	ops->evtchn_close(ge);
	ops->close(g);
	assert_int_equal(fixture_wait_fds(f->simd.pid, empty, 5000), empty);
}

/* A dom0 worker: bind the guest's port, report it, echo one event, then wait to be killed. */
static int child_dom0_worker(int wfd, uint16_t gdom, uint32_t gport)
{
	const struct platform_ops *ops = fixture_sim();
	struct platform *w = ops->open(0);
	struct platform_evtchn *e = w ? ops->evtchn_open(w) : NULL;
	int lp;

	if (!e)
		return 10;
	lp = ops->evtchn_bind_interdomain(e, gdom, gport);
	if (lp <= 0 || wait_port(ops, e, 2000) != lp || ops->evtchn_unmask(e, (uint32_t)lp))
		return 11;
	if (write(wfd, &lp, sizeof(lp)) != sizeof(lp))
		return 12;
	if (wait_port(ops, e, 5000) != lp || ops->evtchn_notify(e, (uint32_t)lp))
		return 13;
	for (;;)
		pause();
}

/* A worker process of dom0 killed: its port is unbound for dom0 again, dom0 lives. */
static void test_dom0_worker_killed(void **state)
{
	struct dfix *f = *state;
	const struct platform_ops *ops = f->ops;
	struct platform *sv = ops->open(0), *g = ops->open(PLATFORM_DOMID_ANY);
	struct platform_evtchn *esv, *ge;
	int up[2], st, gport, lp, ls, baseline;
	uint32_t rdom;
	uint16_t gdom;
	long long gen0;
	pid_t pid;

	assert_non_null(sv);
	assert_non_null(g);
	esv = ops->evtchn_open(sv);
	ge = ops->evtchn_open(g);
	assert_non_null(esv);
	assert_non_null(ge);
	gdom = (uint16_t)ops->domid(g);
	gport = ops->evtchn_alloc_unbound(ge, 0);
	assert_true(gport > 0);
	gen0 = dom_gen(g, 0);
	baseline = fixture_fd_settled(f->simd.pid);
	assert_int_equal(pipe(up), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		_exit(child_dom0_worker(up[1], gdom, (uint32_t)gport));
	}
	close(up[1]);
	assert_true(read_full(up[0], &lp, sizeof(lp)));
	close(up[0]);
	assert_int_equal(port_state(g, (uint32_t)gport, &rdom), EVTCHNSTAT_interdomain);
	assert_int_equal(rdom, 0);
	/* The worker answers the guest's event. */
	assert_int_equal(ops->evtchn_notify(ge, (uint32_t)gport), 0);
	assert_int_equal(wait_port(ops, ge, 5000), gport);
	assert_int_equal(ops->evtchn_unmask(ge, (uint32_t)gport), 0);
	/* The supervisor's process cannot take the worker's port. */
	assert_true(ops->evtchn_bind_interdomain(esv, gdom, (uint32_t)gport) < 0);

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	/* simd freed the worker's connection and handle, nothing of dom0's. */
	assert_int_equal(fixture_wait_fds(f->simd.pid, baseline, 5000), baseline);
	assert_int_equal(port_state(g, (uint32_t)gport, &rdom), EVTCHNSTAT_unbound);
	assert_int_equal(rdom, 0);
	assert_int_equal(dom_gen(g, 0), gen0);
	/* The supervisor (or a new worker) binds it again. */
	ls = ops->evtchn_bind_interdomain(esv, gdom, (uint32_t)gport);
	assert_true(ls > 0);
	assert_int_equal(wait_port(ops, esv, 2000), ls);
	assert_int_equal(ops->evtchn_unmask(esv, (uint32_t)ls), 0);
	assert_int_equal(ops->evtchn_notify(ge, (uint32_t)gport), 0);
	assert_int_equal(wait_port(ops, esv, 2000), ls);
	ops->evtchn_close(ge);
	ops->evtchn_close(esv);
	ops->close(g);
	ops->close(sv);
}

/*
 * A backend process of dom0: bind the guest's two ports and keep both
 * directions busy; with stop_after > 0, exit 0 once it has had that many
 * events from the guest (a second backend), else until killed.
 */
static int child_busy_backend(uint16_t gdom, uint32_t gp1, uint32_t gp2, int stop_after)
{
	const struct platform_ops *ops = fixture_sim();
	struct platform *w = ops->open(0);
	struct platform_evtchn *e = w ? ops->evtchn_open(w) : NULL;
	int l1, l2, got = 0;

	if (!e)
		return 10;
	l1 = ops->evtchn_bind_interdomain(e, gdom, gp1);
	l2 = ops->evtchn_bind_interdomain(e, gdom, gp2);
	if (l1 <= 0 || l2 <= 0)
		return 11;
	for (int i = 0; i < 200000; i++) {
		int r;

		ops->evtchn_notify(e, (uint32_t)(i & 1 ? l1 : l2));
		while ((r = ops->evtchn_pending(e)) > 0) {
			ops->evtchn_unmask(e, (uint32_t)r);
			got++;
		}
		if (stop_after > 0 && got >= stop_after)
			return 0;
		fixture_wait_fd(ops->evtchn_fd(e), 1);
	}
	return 12;
}

/* The guest side of test_peer_killed_mid_stream: events on either port in ms. */
static int guest_events(const struct platform_ops *ops, struct platform_evtchn *e, uint32_t p1,
			uint32_t p2, int ms)
{
	int got = 0;

	for (int t = 0; t < ms; t++) {
		int r;

		ops->evtchn_notify(e, t & 1 ? p1 : p2);
		while ((r = ops->evtchn_pending(e)) > 0) {
			assert_true((uint32_t)r == p1 || (uint32_t)r == p2);
			ops->evtchn_unmask(e, (uint32_t)r);
			got++;
		}
		fixture_wait_fd(ops->evtchn_fd(e), 1);
	}
	return got;
}

/*
 * A backend killed while both sides notify as fast as they can, and a new
 * one binding the same guest ports (a worker's restart): the guest goes on
 * with the new one, in both directions, never missing its notifications.
 */
static void test_peer_killed_mid_stream(void **state)
{
	struct dfix *f = *state;
	const struct platform_ops *ops = f->ops;
	struct platform *g = ops->open(PLATFORM_DOMID_ANY);
	struct platform_evtchn *ge = g ? ops->evtchn_open(g) : NULL;
	uint16_t gdom;
	int p1, p2, st;
	pid_t w1, w2;

	assert_non_null(ge);
	gdom = (uint16_t)ops->domid(g);
	p1 = ops->evtchn_alloc_unbound(ge, 0);
	p2 = ops->evtchn_alloc_unbound(ge, 0);
	assert_true(p1 > 0 && p2 > 0);
	for (int round = 0; round < 5; round++) {
		w1 = fork();
		assert_true(w1 >= 0);
		if (w1 == 0)
			_exit(child_busy_backend(gdom, (uint32_t)p1, (uint32_t)p2, 0));
		assert_true(guest_events(ops, ge, (uint32_t)p1, (uint32_t)p2, 300) > 0);
		kill(w1, SIGKILL);
		assert_int_equal(waitpid(w1, &st, 0), w1);
		assert_true(WIFSIGNALED(st));
		for (int i = 0; i < 500; i++) {
			if (ops->evtchn_status(ge, (uint32_t)p1, NULL, NULL) == EVTCHNSTAT_unbound &&
			    ops->evtchn_status(ge, (uint32_t)p2, NULL, NULL) == EVTCHNSTAT_unbound)
				break;
			usleep(1000);
		}
		w2 = fork();
		assert_true(w2 >= 0);
		if (w2 == 0)
			_exit(child_busy_backend(gdom, (uint32_t)p1, (uint32_t)p2, 100));
		assert_true(guest_events(ops, ge, (uint32_t)p1, (uint32_t)p2, 300) > 0);
		for (int t = 0; t < 5000 && waitpid(w2, &st, WNOHANG) == 0; t++)
			guest_events(ops, ge, (uint32_t)p1, (uint32_t)p2, 1);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		for (int i = 0; i < 500; i++) {
			if (ops->evtchn_status(ge, (uint32_t)p1, NULL, NULL) == EVTCHNSTAT_unbound &&
			    ops->evtchn_status(ge, (uint32_t)p2, NULL, NULL) == EVTCHNSTAT_unbound)
				break;
			usleep(1000);
		}
	}
	ops->evtchn_close(ge);
	ops->close(g);
}

/* The event-channel handle limit is per process, so many dom0 workers fit. */
static void test_dom0_handle_limit_per_process(void **state)
{
	struct dfix *f = *state;
	const struct platform_ops *ops = f->ops;
	struct platform *a = ops->open(0), *b = ops->open(0);
	struct platform_evtchn *ea[SIMD_MAX_EVTCHN_HANDLES], *eb;

	assert_non_null(a);
	assert_non_null(b);
	for (unsigned i = 0; i < SIMD_MAX_EVTCHN_HANDLES; i++) {
		ea[i] = ops->evtchn_open(a);
		assert_non_null(ea[i]);
	}
	assert_null(ops->evtchn_open(a));
	assert_int_equal(errno, EMFILE);
	eb = ops->evtchn_open(b);
	assert_non_null(eb);
	ops->evtchn_close(eb);
	for (unsigned i = 0; i < SIMD_MAX_EVTCHN_HANDLES; i++)
		ops->evtchn_close(ea[i]);
	ops->close(b);
	ops->close(a);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dfix_setup, dfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_domids),
		T(test_client_no_leak),
		T(test_two_domains_exchange),
		T(test_kill9_cleanup),
		T(test_second_start_refused),
		T(test_hostile_client),
		T(test_hostile_registered),
		T(test_hostile_random),
		T(test_sigterm_cleanup),
		T(test_daemon_mode),
		T(test_dom0_processes),
		T(test_dom0_worker_killed),
		T(test_dom0_handle_limit_per_process),
		T(test_peer_killed_mid_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
