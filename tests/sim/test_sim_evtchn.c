/* SPDX-License-Identifier: MIT */
/* test_sim_evtchn.c - event-channel semantics of the sim platform (Xen + Linux evtchn device). */
/*
 * Two domains in one process (two sessions) with one event-channel handle
 * each; each test gets a fresh xnb-simd. The direct-path tests at the end
 * check what the channels between processes must keep of Xen's semantics,
 * one of them with a child domain and simd stopped.
 */
#include <errno.h>
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

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "platform.h"
#include "sim_fixture.h"

struct efix {
	struct simd_proc simd;
	const struct platform_ops *ops;
	struct platform *a, *b;
	struct platform_evtchn *ea, *eb;
	uint16_t da, db;
};

static int efix_setup(void **state)
{
	struct efix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_simd_start(&f->simd), 0);
	f->ops = fixture_sim();
	f->a = f->ops->open(PLATFORM_DOMID_ANY);
	f->b = f->ops->open(PLATFORM_DOMID_ANY);
	assert_non_null(f->a);
	assert_non_null(f->b);
	f->da = (uint16_t)f->ops->domid(f->a);
	f->db = (uint16_t)f->ops->domid(f->b);
	f->ea = f->ops->evtchn_open(f->a);
	f->eb = f->ops->evtchn_open(f->b);
	assert_non_null(f->ea);
	assert_non_null(f->eb);
	*state = f;
	return 0;
}

static int efix_teardown(void **state)
{
	struct efix *f = *state;

	f->ops->evtchn_close(f->ea);
	f->ops->evtchn_close(f->eb);
	f->ops->close(f->a);
	if (f->b)
		f->ops->close(f->b);
	assert_int_equal(fixture_simd_stop(&f->simd), 0);
	free(f);
	return 0;
}

/* Wait for h's fd and read one port; -EAGAIN if nothing came within ms. */
static int wait_pending(struct efix *f, struct platform_evtchn *h, int ms)
{
	int r = f->ops->evtchn_pending(h);

	if (r != -EAGAIN)
		return r;
	if (!fixture_wait_fd(f->ops->evtchn_fd(h), ms))
		return -EAGAIN;
	return f->ops->evtchn_pending(h);
}

/* Connect A and B; consume the bind's own pending event (Xen sets it). */
static void connect_ab(struct efix *f, int *pa, int *pb)
{
	*pa = f->ops->evtchn_alloc_unbound(f->ea, f->db);
	assert_true(*pa > 0);
	*pb = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)*pa);
	assert_true(*pb > 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), *pb);
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)*pb), 0);
	assert_int_equal(wait_pending(f, f->eb, 50), -EAGAIN);
}

static void test_notify_both_ways(void **state)
{
	struct efix *f = *state;
	int pa, pb;

	connect_ab(f, &pa, &pb);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb);
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_int_equal(f->ops->evtchn_pending(f->ea), -EAGAIN);
	/* Drained: the fd is no longer readable. */
	assert_false(fixture_wait_fd(f->ops->evtchn_fd(f->ea), 20));
}

static void test_mask_until_unmask(void **state)
{
	struct efix *f = *state;
	int pa, pb;

	connect_ab(f, &pa, &pb);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb);
	/* Masked now: more notifications stay pending, nothing is delivered. */
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 100), -EAGAIN);
	/* Unmask redelivers the pending port, once. */
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb);
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
	assert_int_equal(wait_pending(f, f->eb, 100), -EAGAIN);
	/* Unmasking a port we do not have is ignored, as the evtchn device does. */
	assert_int_equal(f->ops->evtchn_unmask(f->eb, 999), 0);
}

static void test_many_ports(void **state)
{
	struct efix *f = *state;
	int pa[5], pb[5], seen = 0;

	for (int i = 0; i < 5; i++)
		connect_ab(f, &pa[i], &pb[i]);
	for (int i = 0; i < 5; i++)
		assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa[i]), 0);
	for (int k = 0; k < 5; k++) {
		int p = wait_pending(f, f->eb, 1000);
		int i;

		for (i = 0; i < 5 && pb[i] != p; i++)
			;
		assert_true(i < 5);
		assert_false(seen & (1 << i));
		seen |= 1 << i;
	}
	assert_int_equal(wait_pending(f, f->eb, 50), -EAGAIN);
}

static void test_status(void **state)
{
	struct efix *f = *state;
	uint16_t rd = 0;
	uint32_t rp = 0;
	int pa, pb;

	connect_ab(f, &pa, &pb);
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa, &rd, &rp), EVTCHNSTAT_interdomain);
	assert_int_equal(rd, f->db);
	assert_int_equal(rp, (uint32_t)pb);
	assert_int_equal(f->ops->evtchn_status(f->ea, 900, NULL, NULL), EVTCHNSTAT_closed);
	assert_int_equal(f->ops->evtchn_status(f->ea, 100000, NULL, NULL), -EINVAL);
	pa = f->ops->evtchn_alloc_unbound(f->ea, 700);  /* a domain that does not exist: fine */
	assert_true(pa > 0);
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa, &rd, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(rd, 700);
}

static void test_bind_errors(void **state)
{
	struct efix *f = *state;
	int pa, pb, other;

	pa = f->ops->evtchn_alloc_unbound(f->ea, f->db);
	other = f->ops->evtchn_alloc_unbound(f->ea, 700);
	assert_true(pa > 0 && other > 0 && pa != other);
	assert_int_equal(f->ops->evtchn_bind_interdomain(f->eb, 800, (uint32_t)pa), -ESRCH);
	assert_int_equal(f->ops->evtchn_bind_interdomain(f->eb, f->da, 0), -EINVAL);
	assert_int_equal(f->ops->evtchn_bind_interdomain(f->eb, f->da, 5000), -EINVAL);
	assert_int_equal(f->ops->evtchn_bind_interdomain(f->eb, f->da, 600), -EINVAL);
	/* Unbound for someone else. */
	assert_int_equal(f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)other), -EINVAL);
	pb = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa);
	assert_true(pb > 0);
	/* Already connected. */
	assert_int_equal(f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa), -EINVAL);
	/* Ports this handle did not bind. */
	assert_int_equal(f->ops->evtchn_notify(f->eb, 77), -ENOTCONN);
	assert_int_equal(f->ops->evtchn_unbind(f->eb, 77), -ENOTCONN);
	assert_int_equal(f->ops->evtchn_notify(f->eb, 100000), -ENOTCONN);
}

static void test_unbind_peer_sees_unbound(void **state)
{
	struct efix *f = *state;
	uint16_t rd = 0;
	int pa, pb, pb2;

	connect_ab(f, &pa, &pb);
	assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), 0);
	assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), -ENOTCONN);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), -ENOTCONN);
	/* Xen: the other end reverts to unbound, for the domain that closed. */
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa, &rd, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(rd, f->db);
	assert_int_equal(f->ops->evtchn_status(f->eb, (uint32_t)pb, NULL, NULL), EVTCHNSTAT_closed);
	/* Notifying it is harmless and delivers nothing. */
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 50), -EAGAIN);
	assert_int_equal(wait_pending(f, f->ea, 20), -EAGAIN);
	/* And B may bind to it again. */
	pb2 = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa);
	assert_true(pb2 > 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb2);
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb2), 0);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb2);
}

static void test_close_handle_and_domain(void **state)
{
	struct efix *f = *state;
	struct platform_evtchn *e2;
	int pa, pb, pa2, pb2;

	connect_ab(f, &pa, &pb);
	e2 = f->ops->evtchn_open(f->b);
	assert_non_null(e2);
	pa2 = f->ops->evtchn_alloc_unbound(f->ea, f->db);
	pb2 = f->ops->evtchn_bind_interdomain(e2, f->da, (uint32_t)pa2);
	assert_true(pb2 > 0);
	assert_int_not_equal(pb2, pb);
	/* The second handle only sees its own ports. */
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb2), -ENOTCONN);
	assert_int_equal(wait_pending(f, e2, 1000), pb2);
	f->ops->evtchn_close(e2);
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa2, NULL, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa, NULL, NULL),
			 EVTCHNSTAT_interdomain);
	/* Domain B dies: A's end reverts to unbound; notify is harmless. */
	f->ops->evtchn_close(f->eb);
	f->eb = NULL;
	f->ops->close(f->b);
	f->b = NULL;
	for (int i = 0; i < 500; i++) {
		if (f->ops->evtchn_status(f->ea, (uint32_t)pa, NULL, NULL) == EVTCHNSTAT_unbound)
			break;
		usleep(10000);
	}
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa, NULL, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(f->ops->evtchn_bind_interdomain(f->ea, f->db, 1), -ESRCH);
}

static void test_loopback(void **state)
{
	struct efix *f = *state;
	int p1, p2;

	/* A domain may connect to itself (DOMID_SELF or its own id). */
	p1 = f->ops->evtchn_alloc_unbound(f->ea, DOMID_SELF);
	assert_true(p1 > 0);
	p2 = f->ops->evtchn_bind_interdomain(f->ea, f->da, (uint32_t)p1);
	assert_true(p2 > 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), p2);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)p2), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), p1);
}

/* ---- the direct path ------------------------------------------------------ */

/* Nothing pending on h: its fd stays unreadable for ms and pending agrees. */
static void assert_quiet(struct efix *f, struct platform_evtchn *h, int ms)
{
	assert_false(fixture_wait_fd(f->ops->evtchn_fd(h), ms));
	assert_int_equal(f->ops->evtchn_pending(h), -EAGAIN);
}

/*
 * The bind sets only the binder's new port pending, once, even if the other
 * side had already notified; the other side's fd does not become readable
 * (its end arrives on the event socket, which is no event).
 */
static void test_pending_at_bind(void **state)
{
	struct efix *f = *state;
	int pa, pb;

	pa = f->ops->evtchn_alloc_unbound(f->ea, f->db);
	assert_true(pa > 0);
	pb = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa);
	assert_true(pb > 0);
	assert_quiet(f, f->ea, 50);
	/* A notifies before B looked: still one event for B. */
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb);
	assert_quiet(f, f->eb, 50);
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
	assert_quiet(f, f->eb, 50);
	/* And B's first notify reaches A, whose end came on its event socket. */
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_quiet(f, f->ea, 50);
}

/* Notifications while masked: not lost, and one event however many (Xen coalesces). */
static void test_masked_coalesce(void **state)
{
	struct efix *f = *state;
	int pa, pb;

	connect_ab(f, &pa, &pb);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
		assert_int_equal(wait_pending(f, f->eb, 1000), pb);
		/* Masked: far more than the channel queues, all while masked. */
		for (int i = 0; i < 100; i++)
			assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
		assert_quiet(f, f->eb, 50);
		assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
		assert_int_equal(wait_pending(f, f->eb, 1000), pb);
		assert_quiet(f, f->eb, 50);
		assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
		assert_quiet(f, f->eb, 50);
		/* A second unmask of an unmasked port changes nothing. */
		assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
		assert_quiet(f, f->eb, 20);
	}
}

/*
 * A port closed and bound again (same number) gets nothing that was sent
 * on its old channel: neither what was queued for it when it closed, nor
 * what the other side sends in between, nor later sends on the old end.
 */
static void test_rebind_no_stale(void **state)
{
	struct efix *f = *state;
	uint16_t rd = 0;
	int pa, pb, pb2;

	connect_ab(f, &pa, &pb);
	/* Queued at B's end, never taken. */
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), 0);
	assert_quiet(f, f->eb, 50);
	/* Sent by A while unbound: dropped. */
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa, &rd, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	pb2 = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa);
	assert_int_equal(pb2, pb);  /* the same port number, a new channel */
	/* Exactly the bind's own event. */
	assert_int_equal(wait_pending(f, f->eb, 1000), pb2);
	assert_quiet(f, f->eb, 50);
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb2), 0);
	assert_quiet(f, f->eb, 50);
	/* The new channel works both ways. */
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb2);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb2), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)pa), 0);
	/* A port of A's closed and its number reused for another peer: B's
	 * notify on its old port is refused, nothing reaches the new one. */
	assert_int_equal(f->ops->evtchn_unbind(f->ea, (uint32_t)pa), 0);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb2), 0);  /* dropped */
	assert_int_equal(f->ops->evtchn_alloc_unbound(f->ea, f->db), pa);
	assert_quiet(f, f->ea, 50);
	assert_int_equal(f->ops->evtchn_status(f->eb, (uint32_t)pb2, NULL, NULL),
			 EVTCHNSTAT_unbound);
}

/*
 * Notifications a peer sent while our port was masked stay pending when it
 * rebinds our port (Xen's pending bit outlives the channel), and still come
 * once.
 */
static void test_rebind_keeps_pending(void **state)
{
	struct efix *f = *state;
	int pa, pb, pb2;

	connect_ab(f, &pa, &pb);
	/* B notifies, A takes it, stays masked; B notifies again and goes. */
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);
	assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), 0);
	/* B binds again and notifies, all while A's port is masked. */
	pb2 = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa);
	assert_true(pb2 > 0);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb2), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb2);
	/* At unmask: one event, then nothing. */
	assert_int_equal(f->ops->evtchn_pending(f->ea), -EAGAIN);
	assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)pa), 0);
	assert_quiet(f, f->ea, 50);
	/* And the new channel carries A's notifications to B. */
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb2), 0);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb2);
}

/*
 * A peer domain dies: our end reverts to unbound, what it sent before
 * still comes (once, at unmask), its death wakes nobody, our notify goes
 * nowhere, and a new domain can bind the port and hear from us.
 */
static void test_peer_death(void **state)
{
	struct efix *f = *state;
	struct platform *c;
	struct platform_evtchn *ec;
	uint16_t rd = 0;
	int pa, pb, pa2, pc;

	connect_ab(f, &pa, &pb);
	pa2 = f->ops->evtchn_alloc_unbound(f->ea, f->db);
	assert_true(f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa2) > 0);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);  /* while masked */
	f->ops->evtchn_close(f->eb);
	f->eb = NULL;
	f->ops->close(f->b);
	f->b = NULL;
	for (int i = 0; i < 500; i++) {
		if (f->ops->evtchn_status(f->ea, (uint32_t)pa, NULL, NULL) == EVTCHNSTAT_unbound)
			break;
		usleep(10000);
	}
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa, &rd, NULL), EVTCHNSTAT_unbound);
	assert_int_equal(rd, f->db);
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)pa2, NULL, NULL),
			 EVTCHNSTAT_unbound);
	/* No wake-up for the death itself (pa2 never fired). */
	assert_quiet(f, f->ea, 50);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)pa), 0);
	assert_quiet(f, f->ea, 50);
	/* A new domain with B's domid binds the port again. */
	c = f->ops->open(f->db);
	assert_non_null(c);
	ec = f->ops->evtchn_open(c);
	assert_non_null(ec);
	pc = f->ops->evtchn_bind_interdomain(ec, f->da, (uint32_t)pa);
	assert_true(pc > 0);
	assert_int_equal(wait_pending(f, ec, 1000), pc);
	assert_int_equal(f->ops->evtchn_unmask(ec, (uint32_t)pc), 0);
	assert_quiet(f, ec, 50);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, ec, 1000), pc);
	assert_int_equal(f->ops->evtchn_notify(ec, (uint32_t)pc), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	f->ops->evtchn_close(ec);
	f->ops->close(c);
}

/* Neither process nor simd grows in descriptors over many bind / unbind cycles. */
static void test_fd_counts(void **state)
{
	struct efix *f = *state;
	int self, simd, pa, pb;

	/* One cycle first, so that lazily made things exist. */
	connect_ab(f, &pa, &pb);
	assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), 0);
	assert_int_equal(f->ops->evtchn_unbind(f->ea, (uint32_t)pa), 0);
	self = fixture_fd_count(getpid());
	simd = fixture_fd_settled(f->simd.pid);
	for (int i = 0; i < 1000; i++) {
		pa = f->ops->evtchn_alloc_unbound(f->ea, f->db);
		assert_true(pa > 0);
		pb = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa);
		assert_true(pb > 0);
		assert_int_equal(wait_pending(f, f->eb, 1000), pb);
		assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
		assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);
		assert_int_equal(wait_pending(f, f->ea, 1000), pa);
		assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
		assert_int_equal(wait_pending(f, f->eb, 1000), pb);
		/* Alternate who closes first. */
		if (i & 1) {
			assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), 0);
			assert_int_equal(f->ops->evtchn_unbind(f->ea, (uint32_t)pa), 0);
		} else {
			assert_int_equal(f->ops->evtchn_unbind(f->ea, (uint32_t)pa), 0);
			assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), 0);
		}
	}
	assert_int_equal(fixture_fd_count(getpid()), self);
	assert_int_equal(fixture_wait_fds(f->simd.pid, simd, 5000), simd);
}

/*
 * A handle that does not read its event socket: B binds and unbinds A's
 * port 1000 times while A looks at nothing. simd keeps at most one end per
 * port once the socket is full, nobody's bind fails, and A then talks to
 * B's last channel (and only that one).
 */
static void test_events_unread(void **state)
{
	struct efix *f = *state;
	int simd = fixture_fd_settled(f->simd.pid), self = fixture_fd_count(getpid()), pa, pb = 0;

	pa = f->ops->evtchn_alloc_unbound(f->ea, f->db);
	assert_true(pa > 0);
	for (int i = 0; i < 1000; i++) {
		pb = f->ops->evtchn_bind_interdomain(f->eb, f->da, (uint32_t)pa);
		assert_true(pb > 0);
		assert_int_equal(wait_pending(f, f->eb, 1000), pb);
		if (i < 999)
			assert_int_equal(f->ops->evtchn_unbind(f->eb, (uint32_t)pb), 0);
	}
	/* simd: the channel's two ends, and at most one kept end of A's. */
	assert_true(fixture_fd_count(f->simd.pid) <= simd + 3);
	assert_int_equal(f->ops->evtchn_unmask(f->eb, (uint32_t)pb), 0);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)pa), 0);
	assert_int_equal(wait_pending(f, f->eb, 1000), pb);
	assert_quiet(f, f->eb, 50);
	assert_int_equal(f->ops->evtchn_notify(f->eb, (uint32_t)pb), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), pa);
	assert_quiet(f, f->ea, 50);
	/* Each side holds its one end; every older one went. */
	assert_int_equal(fixture_fd_count(getpid()), self + 2);
}

/* Child domain for test_no_simd_after_bind: report its port, then echo. */
static int child_echo(int wfd, uint16_t peer)
{
	const struct platform_ops *ops = fixture_sim();
	struct platform *p = ops->open(PLATFORM_DOMID_ANY);
	struct platform_evtchn *e = p ? ops->evtchn_open(p) : NULL;
	uint32_t msg[2];
	int port;

	if (!e)
		return 10;
	port = ops->evtchn_alloc_unbound(e, peer);
	if (port <= 0)
		return 11;
	msg[0] = ops->domid(p);
	msg[1] = (uint32_t)port;
	if (write(wfd, msg, sizeof(msg)) != sizeof(msg))
		return 12;
	/* Everything from here on happens while simd is stopped. */
	for (int round = 0; round < 20; round++) {
		int r = ops->evtchn_pending(e);

		if (r == -EAGAIN && fixture_wait_fd(ops->evtchn_fd(e), 5000))
			r = ops->evtchn_pending(e);
		if (r != port)
			return 13;
		if (ops->evtchn_unmask(e, (uint32_t)port) || ops->evtchn_notify(e, (uint32_t)port))
			return 14;
	}
	return 0;
}

/* The state of process pid ('T' when stopped), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[256], *q;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	q = strrchr(buf, ')');
	return q && q[1] == ' ' ? q[2] : 0;
}

/*
 * After the bind, notify, pending and unmask need nothing from simd: with
 * simd stopped (SIGSTOP), two processes ping-pong 20 times, the unbound
 * side's first event included, and a masked port's notifications come once
 * at unmask.
 */
static void test_no_simd_after_bind(void **state)
{
	struct efix *f = *state;
	uint32_t msg[2];
	int up[2], st, lp;
	pid_t pid;

	assert_int_equal(pipe(up), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		_exit(child_echo(up[1], f->da));
	}
	close(up[1]);
	assert_int_equal(read(up[0], msg, sizeof(msg)), (ssize_t)sizeof(msg));
	close(up[0]);
	lp = f->ops->evtchn_bind_interdomain(f->ea, (uint16_t)msg[0], msg[1]);
	assert_true(lp > 0);
	assert_int_equal(kill(f->simd.pid, SIGSTOP), 0);
	for (int i = 0; i < 100 && proc_state(f->simd.pid) != 'T'; i++)
		usleep(1000);
	assert_int_equal(proc_state(f->simd.pid), 'T');
	/* The bind's own event, then masked: the child's echoes wait. */
	assert_int_equal(wait_pending(f, f->ea, 1000), lp);
	assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)lp), 0);
	usleep(100000);
	assert_quiet(f, f->ea, 50);
	assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)lp), 0);
	assert_int_equal(wait_pending(f, f->ea, 1000), lp);
	assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)lp), 0);
	for (int round = 1; round < 20; round++) {
		assert_int_equal(f->ops->evtchn_notify(f->ea, (uint32_t)lp), 0);
		assert_int_equal(wait_pending(f, f->ea, 2000), lp);
		assert_int_equal(f->ops->evtchn_unmask(f->ea, (uint32_t)lp), 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(proc_state(f->simd.pid), 'T');  /* stopped all along */
	assert_int_equal(kill(f->simd.pid, SIGCONT), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* simd catches up: the child's death reverts our port. */
	for (int i = 0; i < 500; i++) {
		if (f->ops->evtchn_status(f->ea, (uint32_t)lp, NULL, NULL) == EVTCHNSTAT_unbound)
			break;
		usleep(10000);
	}
	assert_int_equal(f->ops->evtchn_status(f->ea, (uint32_t)lp, NULL, NULL), EVTCHNSTAT_unbound);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, efix_setup, efix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_notify_both_ways),
		T(test_mask_until_unmask),
		T(test_many_ports),
		T(test_status),
		T(test_bind_errors),
		T(test_unbind_peer_sees_unbound),
		T(test_close_handle_and_domain),
		T(test_loopback),
		T(test_pending_at_bind),
		T(test_masked_coalesce),
		T(test_rebind_no_stale),
		T(test_rebind_keeps_pending),
		T(test_peer_death),
		T(test_fd_counts),
		T(test_events_unread),
		T(test_no_simd_after_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
