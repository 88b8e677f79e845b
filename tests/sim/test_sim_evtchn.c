/* SPDX-License-Identifier: MIT */
/* test_sim_evtchn.c - event-channel semantics of the sim platform (Xen + Linux evtchn device). */
/*
 * Two domains in one process (two sessions) with one event-channel handle
 * each; each test gets a fresh xnb-simd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
