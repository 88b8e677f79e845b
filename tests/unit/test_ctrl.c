/* SPDX-License-Identifier: MIT */
/*
 * test_ctrl.c - the control ring: the backend engine against a hand-driven
 * (honest, then hostile) frontend, the frontend engine against a
 * hand-driven backend, and the two engines talking to each other.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl.h"
#include "front_ctrl.h"

#define PAGE ENGINE_PAGE_SIZE
#define NPAGES 8u
#define PEER 9u
#define NQ 4u
#define RS ENGINE_CTRL_RING_SIZE

struct ctx {
	union { xen_netif_ctrl_sring_t s; uint8_t page[PAGE]; } *ring;
	uint8_t *pages;                  /* guest pages: gref g is page g */
	xen_netif_ctrl_front_ring_t f;   /* the hand-driven frontend's view */
	struct engine_ctrl c;
	struct engine_ctrl_batch b;
	struct engine_front_ctrl fe;
	RING_IDX be_cons, be_rsp;        /* the hand-driven backend's indices */
	uint32_t fail_ref;               /* copies from this gref fail */
	unsigned copies;
};

static struct ctx *x;

static int setup(void **state)
{
	struct engine_ctrl_config cfg = { .peer_domid = PEER, .num_queues = NQ };

	(void)state;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->ring = aligned_alloc(PAGE, PAGE);
	x->pages = aligned_alloc(PAGE, (size_t)NPAGES * PAGE);
	if (!x->ring || !x->pages)
		return -1;
	memset(x->ring, 0xa7, PAGE);
	memset(x->pages, 0, (size_t)NPAGES * PAGE);
	x->fail_ref = UINT32_MAX;
	SHARED_RING_INIT(&x->ring->s);
	FRONT_RING_INIT(&x->f, &x->ring->s, PAGE);
	return engine_ctrl_init(&x->c, &x->ring->s, &cfg);
}

static int teardown(void **state)
{
	(void)state;
	free(x->ring);
	free(x->pages);
	free(x);
	x = NULL;
	return 0;
}

static uint8_t *page(uint32_t gref)
{
	assert_true(gref < NPAGES);
	return x->pages + (size_t)gref * PAGE;
}

/* Simulated GNTTABOP_copy: guest page to our staging only, as the engine plans it. */
static void grant_copy(struct engine_copy_seg *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct engine_copy_seg *s = &segs[i];

		assert_int_equal(s->flags, GNTCOPY_source_gref);
		assert_int_equal(s->source.foreign.domid, PEER);
		assert_true((uint32_t)s->source.foreign.offset + s->len <= PAGE);
		assert_true((uint8_t *)s->dest.virt >= x->b.staging &&
			    (uint8_t *)s->dest.virt + s->len <= x->b.staging + sizeof(x->b.staging));
		x->copies++;
		if (s->source.foreign.ref >= NPAGES || s->source.foreign.ref == x->fail_ref) {
			s->status = GNTST_bad_gntref;
			continue;
		}
		memcpy(s->dest.virt, page(s->source.foreign.ref) + s->source.foreign.offset, s->len);
		s->status = GNTST_okay;
	}
}

/* ---- the hand-driven frontend ---- */

static void fe_push(uint16_t id, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2)
{
	struct xen_netif_ctrl_request *r = RING_GET_REQUEST(&x->f, x->f.req_prod_pvt++);

	r->id = id;
	r->type = type;
	r->data[0] = d0;
	r->data[1] = d1;
	r->data[2] = d2;
}

static void fe_publish(void)
{
	x->ring->s.req_prod = x->f.req_prod_pvt;
}

static const struct xen_netif_ctrl_response *fe_rsp(RING_IDX i)
{
	return RING_GET_RESPONSE(&x->f, i);
}

/* Backend rounds until it has nothing left; returns requests consumed. */
static unsigned be_run(void)
{
	unsigned total = 0;

	do {
		int n = engine_ctrl_process(&x->c, &x->b);

		assert_true(n >= 0);
		total += (unsigned)n;
		grant_copy(x->b.segs, x->b.nr_segs);
		engine_ctrl_complete(&x->c, &x->b);
	} while (engine_ctrl_more(&x->c));
	return total;
}

/* One request through the backend; returns a copy of its response. */
static struct xen_netif_ctrl_response req1(uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2)
{
	RING_IDX at = x->f.req_prod_pvt;
	static uint16_t id = 1000;
	struct xen_netif_ctrl_response r;

	fe_push(++id, type, d0, d1, d2);
	fe_publish();
	assert_int_equal(be_run(), 1);
	assert_int_equal(x->ring->s.rsp_prod, at + 1);
	r = *fe_rsp(at);
	assert_int_equal(r.id, id);
	assert_int_equal(r.type, type);
	return r;
}

static void expect(uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2, uint32_t status,
		   uint32_t data)
{
	struct xen_netif_ctrl_response r = req1(type, d0, d1, d2);

	assert_int_equal(r.status, status);
	assert_int_equal(r.data, data);
}

#define OK XEN_NETIF_CTRL_STATUS_SUCCESS
#define NOTSUP XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED
#define INVAL XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER
#define OVERFLOW XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW
#define T_ALG XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM
#define T_GETF XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS
#define T_SETF XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS
#define T_KEY XEN_NETIF_CTRL_TYPE_SET_HASH_KEY
#define T_GETSZ XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE
#define T_SETSZ XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE
#define T_MAP XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING
#define TOEPLITZ XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ

static void put_mapping(uint32_t gref, const uint32_t *e, unsigned n)
{
	memcpy(page(gref), e, (size_t)n * sizeof(*e));
}

/* ---- backend: each request type ---- */

static void test_init(void **state)
{
	struct engine_ctrl c;
	struct engine_ctrl_config cfg = { .peer_domid = PEER, .num_queues = 0 };
	(void)state;

	assert_int_equal(engine_ctrl_init(&c, &x->ring->s, &cfg), -EINVAL);
	assert_int_equal(x->c.hash.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
	assert_int_equal(x->c.hash.num_queues, NQ);
	assert_int_equal(x->c.hash.size, 0);
	/* nothing posted: nothing done, and req_event armed for the first request */
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), 0);
	assert_false(engine_ctrl_complete(&x->c, &x->b));
	assert_false(engine_ctrl_more(&x->c));
	assert_int_equal(x->ring->s.req_event, 1);
}

static void test_algorithm(void **state)
{
	(void)state;
	expect(T_ALG, 2, 0, 0, INVAL, 0);
	expect(T_ALG, UINT32_MAX, 0, 0, INVAL, 0);
	assert_int_equal(x->c.hash.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
	expect(T_ALG, TOEPLITZ, 0, 0, OK, 0);
	assert_int_equal(x->c.hash.alg, TOEPLITZ);
	expect(T_ALG, 7, 0, 0, INVAL, 0);
	assert_int_equal(x->c.hash.alg, TOEPLITZ); /* a refused request changes nothing */
	expect(T_ALG, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, 0, 0, OK, 0);
	assert_int_equal(x->c.hash.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
}

static void test_flags(void **state)
{
	(void)state;
	/* a valid algorithm first (netif.h) */
	expect(T_GETF, 0, 0, 0, NOTSUP, 0);
	expect(T_SETF, XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0, NOTSUP, 0);
	expect(T_ALG, TOEPLITZ, 0, 0, OK, 0);
	expect(T_GETF, 0, 0, 0, OK, 0xf);
	/* unknown bits */
	expect(T_SETF, 0x10, 0, 0, INVAL, 0);
	expect(T_SETF, 0x80000003, 0, 0, INVAL, 0);
	assert_int_equal(x->c.hash.flags, 0);
	expect(T_SETF, XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP, 0, 0,
	       OK, 0);
	assert_int_equal(x->c.hash.flags, 0x9);
	expect(T_SETF, 0, 0, 0, OK, 0);
	assert_int_equal(x->c.hash.flags, 0);
	/* unknown bits are refused before the algorithm is looked at, as Linux does */
	expect(T_ALG, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, 0, 0, OK, 0);
	expect(T_SETF, 0x100, 0, 0, INVAL, 0);
}

static void test_key(void **state)
{
	uint8_t zero[ENGINE_HASH_KEY_MAX] = { 0 };
	(void)state;

	for (unsigned i = 0; i < PAGE; i++)
		page(3)[i] = (uint8_t)(i * 7 + 1);
	expect(T_KEY, 3, ENGINE_HASH_KEY_MAX, 0, OK, 0);
	assert_memory_equal(x->c.hash.key, page(3), ENGINE_HASH_KEY_MAX);
	assert_int_equal(x->b.segs[0].len, ENGINE_HASH_KEY_MAX);
	assert_int_equal(x->b.segs[0].source.foreign.ref, 3);
	assert_int_equal(x->b.segs[0].source.foreign.offset, 0);
	/* too long: no copy, key kept */
	x->copies = 0;
	expect(T_KEY, 3, ENGINE_HASH_KEY_MAX + 1, 0, OVERFLOW, 0);
	expect(T_KEY, 3, PAGE + 1, 0, OVERFLOW, 0);
	expect(T_KEY, 3, UINT32_MAX, 0, OVERFLOW, 0);
	assert_int_equal(x->copies, 0);
	assert_memory_equal(x->c.hash.key, page(3), ENGINE_HASH_KEY_MAX);
	/* shorter: the rest is zero */
	page(4)[0] = 0xaa;
	page(4)[1] = 0xbb;
	page(4)[2] = 0xcc;
	expect(T_KEY, 4, 2, 0, OK, 0);
	assert_int_equal(x->c.hash.key[0], 0xaa);
	assert_int_equal(x->c.hash.key[1], 0xbb);
	assert_memory_equal(x->c.hash.key + 2, zero, ENGINE_HASH_KEY_MAX - 2);
	/* a failed copy: INVALID_PARAMETER, key unchanged */
	x->fail_ref = 3;
	expect(T_KEY, 3, 10, 0, INVAL, 0);
	expect(T_KEY, 100, 10, 0, INVAL, 0);
	assert_int_equal(x->c.hash.key[0], 0xaa);
	assert_int_equal(x->c.stats.copy_failed, 2);
	/* size 0 clears it without a copy */
	x->copies = 0;
	expect(T_KEY, 3, 0, 0, OK, 0);
	assert_int_equal(x->copies, 0);
	assert_memory_equal(x->c.hash.key, zero, ENGINE_HASH_KEY_MAX);
}

static void test_mapping_size(void **state)
{
	uint32_t e[8] = { 1, 2, 3, 0, 1, 2, 3, 0 };
	(void)state;

	expect(T_GETSZ, 0, 0, 0, OK, ENGINE_HASH_MAPPING_MAX);
	expect(T_SETSZ, ENGINE_HASH_MAPPING_MAX + 1, 0, 0, INVAL, 0);
	expect(T_SETSZ, UINT32_MAX, 0, 0, INVAL, 0);
	assert_int_equal(x->c.hash.size, 0);
	expect(T_SETSZ, 8, 0, 0, OK, 0);
	assert_int_equal(x->c.hash.size, 8);
	put_mapping(2, e, 8);
	expect(T_MAP, 2, 8, 0, OK, 0);
	assert_memory_equal(x->c.hash.mapping, e, sizeof(e));
	/* a new size invalidates the table: zero filled */
	expect(T_SETSZ, ENGINE_HASH_MAPPING_MAX, 0, 0, OK, 0);
	for (unsigned i = 0; i < ENGINE_HASH_MAPPING_MAX; i++)
		assert_int_equal(x->c.hash.mapping[i], 0);
	/* 0 is valid: modular arithmetic (netif.h) */
	expect(T_SETSZ, 0, 0, 0, OK, 0);
	assert_int_equal(x->c.hash.size, 0);
}

static void test_mapping(void **state)
{
	uint32_t e[ENGINE_HASH_MAPPING_MAX], before[ENGINE_HASH_MAPPING_MAX];
	(void)state;

	for (unsigned i = 0; i < ENGINE_HASH_MAPPING_MAX; i++)
		e[i] = (i * 5 + 1) % NQ;
	put_mapping(1, e, ENGINE_HASH_MAPPING_MAX);
	/* no table yet: any entry is past the size */
	expect(T_MAP, 1, 1, 0, INVAL, 0);
	expect(T_SETSZ, 16, 0, 0, OK, 0);
	expect(T_MAP, 1, 16, 0, OK, 0);
	assert_memory_equal(x->c.hash.mapping, e, 16 * sizeof(uint32_t));
	assert_int_equal(x->b.segs[0].len, 16 * sizeof(uint32_t));

	/* a sub-table at an offset leaves the rest alone */
	memcpy(before, x->c.hash.mapping, sizeof(before));
	put_mapping(2, (const uint32_t[]){ 3, 3, 3 }, 3);
	expect(T_MAP, 2, 3, 5, OK, 0);
	before[5] = before[6] = before[7] = 3;
	assert_memory_equal(x->c.hash.mapping, before, sizeof(before));

	/* an entry >= num_queues: refused whole, nothing changes */
	put_mapping(2, (const uint32_t[]){ 0, 1, NQ, 2 }, 4);
	expect(T_MAP, 2, 4, 0, INVAL, 0);
	put_mapping(2, (const uint32_t[]){ UINT32_MAX }, 1);
	expect(T_MAP, 2, 1, 15, INVAL, 0);
	assert_memory_equal(x->c.hash.mapping, before, sizeof(before));
	assert_int_equal(x->c.stats.bad_mapping, 2);

	/* past the size set: INVALID_PARAMETER; past what we support: BUFFER_OVERFLOW */
	x->copies = 0;
	expect(T_MAP, 1, 17, 0, INVAL, 0);
	expect(T_MAP, 1, 1, 16, INVAL, 0);
	expect(T_MAP, 1, ENGINE_HASH_MAPPING_MAX + 1, 0, OVERFLOW, 0);
	expect(T_MAP, 1, PAGE / 4 + 1, 0, OVERFLOW, 0);   /* more than one page */
	expect(T_MAP, 1, 1, ENGINE_HASH_MAPPING_MAX, OVERFLOW, 0);
	expect(T_MAP, 1, 2, UINT32_MAX, OVERFLOW, 0);     /* off + len wraps in 32 bits */
	expect(T_MAP, 1, UINT32_MAX, 1, OVERFLOW, 0);
	expect(T_MAP, 1, 0x40000001, 0, OVERFLOW, 0);     /* len * 4 wraps in 32 bits */
	assert_int_equal(x->copies, 0);
	/* empty sub-tables are fine where the offset is within the size */
	expect(T_MAP, 1, 0, 16, OK, 0);
	expect(T_MAP, 1, 0, 17, INVAL, 0);
	assert_int_equal(x->copies, 0);
	/* a failed copy */
	x->fail_ref = 1;
	expect(T_MAP, 1, 4, 0, INVAL, 0);
	assert_memory_equal(x->c.hash.mapping, before, sizeof(before));
}

static void test_unknown_types(void **state)
{
	const uint16_t types[] = { XEN_NETIF_CTRL_TYPE_INVALID,
				   XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE,
				   XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING,
				   XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 11, 0x7fff, 0xffff };
	(void)state;

	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		expect(types[i], 1, 2, 3, NOTSUP, 0);
	assert_int_equal(x->c.stats.status[NOTSUP], sizeof(types) / sizeof(types[0]));
	assert_int_equal(x->copies, 0);
}

/* ---- backend: batching, ordering, the ring ---- */

/* A batch ends after a copy; the requests behind it see its outcome. */
static void test_batch_order(void **state)
{
	(void)state;
	put_mapping(5, (const uint32_t[]){ 2, 1 }, 2);
	fe_push(1, T_ALG, TOEPLITZ, 0, 0);
	fe_push(2, T_SETSZ, 2, 0, 0);
	fe_push(3, T_MAP, 5, 2, 0);
	fe_push(4, T_MAP, 5, 2, 1);       /* past the size 2 */
	fe_push(5, T_SETSZ, 4, 0, 0);
	fe_push(6, T_MAP, 5, 2, 2);
	fe_push(7, T_GETF, 0, 0, 0);
	fe_publish();

	assert_int_equal(engine_ctrl_process(&x->c, &x->b), 3);
	assert_int_equal(x->b.nr_segs, 1);
	/* nothing is published before complete: RX still sees hashing off */
	assert_int_equal(x->c.hash.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
	assert_int_equal(x->ring->s.rsp_prod, 0);
	grant_copy(x->b.segs, x->b.nr_segs);
	assert_true(engine_ctrl_complete(&x->c, &x->b));
	assert_int_equal(x->ring->s.rsp_prod, 3);
	assert_int_equal(x->c.hash.alg, TOEPLITZ);
	assert_int_equal(x->c.hash.mapping[0], 2);
	assert_int_equal(x->c.hash.mapping[1], 1);
	assert_true(engine_ctrl_more(&x->c));

	assert_int_equal(engine_ctrl_process(&x->c, &x->b), 3); /* 4 and 5 answered, 6 copies */
	grant_copy(x->b.segs, x->b.nr_segs);
	engine_ctrl_complete(&x->c, &x->b);
	assert_int_equal(be_run(), 1);
	assert_int_equal(x->ring->s.rsp_prod, 7);
	for (RING_IDX i = 0; i < 7; i++)
		assert_int_equal(fe_rsp(i)->id, i + 1);
	assert_int_equal(fe_rsp(3)->status, INVAL);
	assert_int_equal(fe_rsp(5)->status, OK);
	assert_int_equal(fe_rsp(6)->data, 0xf);
	/* the size change zeroed the table, then entries 2..3 were set */
	assert_int_equal(x->c.hash.size, 4);
	assert_int_equal(x->c.hash.mapping[0], 0);
	assert_int_equal(x->c.hash.mapping[2], 2);
	assert_int_equal(x->c.hash.mapping[3], 1);
}

/* The request is read once: rewriting the ring under the copy changes nothing. */
static void test_copy_once(void **state)
{
	struct xen_netif_ctrl_request *r;
	(void)state;

	page(6)[0] = 0x11;
	fe_push(42, T_KEY, 6, 1, 0);
	fe_publish();
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), 1);
	r = RING_GET_REQUEST(&x->f, 0);
	r->data[1] = 4000;      /* a longer key than was checked */
	r->id = 7;
	r->type = T_MAP;
	grant_copy(x->b.segs, x->b.nr_segs);
	engine_ctrl_complete(&x->c, &x->b);
	assert_int_equal(fe_rsp(0)->id, 42);
	assert_int_equal(fe_rsp(0)->type, T_KEY);
	assert_int_equal(fe_rsp(0)->status, OK);
	assert_int_equal(x->c.hash.key[0], 0x11);
	assert_int_equal(x->c.hash.key[1], 0);
}

static void test_hostile_prod(void **state)
{
	(void)state;
	fe_push(1, T_GETSZ, 0, 0, 0);
	fe_publish();
	assert_int_equal(be_run(), 1);
	/* one request answered; a producer a ring and one ahead of it */
	x->ring->s.req_prod = 1 + RS + 1;
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), -EPROTO);
	assert_int_equal(x->c.fault, ENGINE_FAULT_REQ_PROD);
	assert_int_equal(x->b.nr_rsps, 0);
	assert_false(engine_ctrl_complete(&x->c, &x->b));
	assert_int_equal(x->ring->s.rsp_prod, 1);
	/* dead for good, even when the producer comes back */
	x->ring->s.req_prod = 2;
	assert_false(engine_ctrl_more(&x->c));
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), -EPROTO);
	/* a producer behind the consumer is as far off */
	assert_int_equal(engine_ctrl_init(&x->c, &x->ring->s,
					  &(struct engine_ctrl_config){ PEER, NQ }), 0);
	x->ring->s.req_prod = 0;
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), -EPROTO);
}

/* A full ring of requests, at indices about to wrap, answered in order. */
static void test_full_ring_wraps(void **state)
{
	const RING_IDX start = 0xffffffc0u;
	(void)state;

	x->ring->s.req_prod = x->ring->s.rsp_prod = start;
	x->f.req_prod_pvt = x->f.rsp_cons = start;
	assert_int_equal(engine_ctrl_init(&x->c, &x->ring->s,
					  &(struct engine_ctrl_config){ PEER, NQ }), 0);
	for (unsigned i = 0; i < RS; i++)
		fe_push((uint16_t)i, i % 2 ? T_GETSZ : T_GETF, 0, 0, 0);
	fe_publish();
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), RS);
	engine_ctrl_complete(&x->c, &x->b);
	assert_int_equal(x->ring->s.rsp_prod, (RING_IDX)(start + RS));
	for (unsigned i = 0; i < RS; i++) {
		const struct xen_netif_ctrl_response *r = fe_rsp(start + i);

		assert_int_equal(r->id, i);
		assert_int_equal(r->status, i % 2 ? OK : NOTSUP);
	}
	assert_false(engine_ctrl_more(&x->c));
	assert_int_equal(x->ring->s.req_event, (RING_IDX)(start + RS + 1));
}

/* Notifications follow rsp_event; more() re-arms req_event and sees a racing request. */
static void test_events(void **state)
{
	(void)state;
	fe_push(1, T_GETSZ, 0, 0, 0);
	fe_publish();
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), 1);
	assert_true(engine_ctrl_complete(&x->c, &x->b)); /* rsp_event 1 */
	/* the frontend does not ask for the next one */
	x->ring->s.rsp_event = 10;
	fe_push(2, T_GETSZ, 0, 0, 0);
	fe_publish();
	assert_true(engine_ctrl_more(&x->c));
	assert_int_equal(engine_ctrl_process(&x->c, &x->b), 1);
	assert_false(engine_ctrl_complete(&x->c, &x->b));
	assert_false(engine_ctrl_complete(&x->c, &x->b)); /* twice: nothing more */
	assert_int_equal(x->ring->s.rsp_prod, 2);
	assert_false(engine_ctrl_more(&x->c));
	assert_int_equal(x->ring->s.req_event, 3);
}

/* What the RX path gets once a frontend has configured hashing. */
static void test_hash_state_for_rx(void **state)
{
	static const uint8_t frame[54] = {
		[12] = 0x08, [13] = 0x00,                       /* IPv4 */
		[14] = 0x45, [23] = 6,                          /* TCP */
		[26] = 66, 9, 149, 187, 161, 142, 100, 80,     /* src, dst */
		[34] = 0x0a, 0xea, 0x06, 0xe6,                  /* 2794 -> 1766 */
	};
	static const uint8_t key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	uint32_t e[8] = { 3, 2, 1, 0, 3, 2, 1, 0 };
	struct engine_pkt_meta m;
	(void)state;

	assert_int_equal(engine_hash_packet(&x->c.hash, frame, sizeof(frame), &m), -EOPNOTSUPP);
	memcpy(page(0), key, sizeof(key));
	put_mapping(1, e, 8);
	expect(T_ALG, TOEPLITZ, 0, 0, OK, 0);
	expect(T_SETF, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0, OK, 0);
	expect(T_KEY, 0, sizeof(key), 0, OK, 0);
	assert_int_equal(engine_hash_packet(&x->c.hash, frame, sizeof(frame), &m),
			 (int)(0x51ccc178u % NQ));
	expect(T_SETSZ, 8, 0, 0, OK, 0);
	expect(T_MAP, 1, 8, 0, OK, 0);
	assert_int_equal(engine_hash_packet(&x->c.hash, frame, sizeof(frame), &m),
			 (int)e[0x51ccc178u % 8]);
	assert_int_equal(m.has_hash, 1);
	assert_int_equal(m.hash, 0x51ccc178);
	assert_int_equal(m.hash_type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
}

/* A restarted backend takes back what its predecessor committed, checked. */
static void test_restore(void **state)
{
	struct engine_hash h, bad;
	static const uint8_t frame[34] = {
		[12] = 0x08, [13] = 0x00, [14] = 0x45, [23] = 17, /* IPv4 UDP */
		[26] = 10, 0, 0, 1, 10, 0, 0, 2,
	};
	struct engine_pkt_meta m;
	(void)state;

	engine_hash_init(&h, NQ);
	h.alg = TOEPLITZ;
	h.flags = XEN_NETIF_CTRL_HASH_TYPE_IPV4;
	h.key[0] = 0x6d;
	h.size = 2;
	h.mapping[0] = 3;
	h.mapping[1] = 1;
	h.mapping[2] = 2; /* past the size: not taken */
	assert_int_equal(engine_ctrl_restore(&x->c, &h), 0);
	assert_int_equal(x->c.hash.alg, TOEPLITZ);
	assert_int_equal(x->c.hash.size, 2);
	assert_int_equal(x->c.hash.mapping[1], 1);
	assert_int_equal(x->c.hash.mapping[2], 0);
	assert_int_equal(x->c.hash.key[0], 0x6d);
	assert_true(engine_hash_packet(&x->c.hash, frame, sizeof(frame), &m) >= 0);
	assert_int_equal(m.has_hash, 1);
	/* and the ring carries on from it: GET_HASH_FLAGS works, algorithm set */
	expect(T_GETF, 0, 0, 0, OK, ENGINE_HASH_FLAGS_ALL);

	bad = h;
	bad.mapping[1] = NQ;
	assert_int_equal(engine_ctrl_restore(&x->c, &bad), -EINVAL);
	bad = h;
	bad.alg = 7;
	assert_int_equal(engine_ctrl_restore(&x->c, &bad), -EINVAL);
	bad = h;
	bad.flags = 1u << 9;
	assert_int_equal(engine_ctrl_restore(&x->c, &bad), -EINVAL);
	bad = h;
	bad.size = ENGINE_HASH_MAPPING_MAX + 1;
	assert_int_equal(engine_ctrl_restore(&x->c, &bad), -EINVAL);
	bad = h;
	bad.num_queues = NQ + 1;
	assert_int_equal(engine_ctrl_restore(&x->c, &bad), -EINVAL);
	/* a refused state changes nothing */
	assert_int_equal(x->c.hash.mapping[0], 3);
}

/* ---- frontend engine ---- */

static void fe_init(void)
{
	memset(x->ring, 0xa5, PAGE); /* the engine initialises what it owns */
	engine_front_ctrl_init(&x->fe, &x->ring->s);
	x->be_cons = x->be_rsp = 0;
}

static const struct xen_netif_ctrl_request *be_req(RING_IDX i)
{
	return &x->ring->s.ring[i % RS].req;
}

static void be_answer(uint16_t id, uint16_t type, uint32_t status, uint32_t data)
{
	struct xen_netif_ctrl_response *r = &x->ring->s.ring[x->be_rsp++ % RS].rsp;

	r->id = id;
	r->type = type;
	r->status = status;
	r->data = data;
}

static void be_publish(void)
{
	x->ring->s.rsp_prod = x->be_rsp;
}

static void test_front_requests(void **state)
{
	struct engine_front_ctrl_rsp out[8];
	bool more;
	int ids[7];
	(void)state;

	fe_init();
	assert_int_equal(x->ring->s.req_prod, 0);
	ids[0] = engine_front_ctrl_set_algorithm(&x->fe, TOEPLITZ);
	ids[1] = engine_front_ctrl_get_flags(&x->fe);
	ids[2] = engine_front_ctrl_set_flags(&x->fe, 0xf);
	ids[3] = engine_front_ctrl_set_key(&x->fe, 77, 40);
	ids[4] = engine_front_ctrl_get_mapping_size(&x->fe);
	ids[5] = engine_front_ctrl_set_mapping_size(&x->fe, 64);
	ids[6] = engine_front_ctrl_set_mapping(&x->fe, 78, 32, 32);
	for (unsigned i = 0; i < 7; i++) {
		assert_true(ids[i] >= 0);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}
	assert_int_equal(x->ring->s.req_prod, 0); /* not before push */
	assert_true(engine_front_ctrl_push(&x->fe));
	assert_int_equal(x->ring->s.req_prod, 7);
	assert_false(engine_front_ctrl_push(&x->fe));

	assert_int_equal(be_req(0)->type, T_ALG);
	assert_int_equal(be_req(0)->data[0], TOEPLITZ);
	assert_int_equal(be_req(3)->type, T_KEY);
	assert_int_equal(be_req(3)->data[0], 77);
	assert_int_equal(be_req(3)->data[1], 40);
	assert_int_equal(be_req(6)->type, T_MAP);
	assert_int_equal(be_req(6)->data[0], 78);
	assert_int_equal(be_req(6)->data[1], 32);
	assert_int_equal(be_req(6)->data[2], 32);
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(be_req(i)->id, ids[i]);

	/* answers in another order than asked */
	be_answer((uint16_t)ids[4], T_GETSZ, OK, 128);
	be_answer((uint16_t)ids[0], T_ALG, OK, 0);
	be_answer((uint16_t)ids[1], T_GETF, OK, 0xf);
	be_answer((uint16_t)ids[3], T_KEY, 9, 0);   /* a status netif.h lacks */
	be_publish();
	assert_int_equal(engine_front_ctrl_poll(&x->fe, out, 8, &more), 4);
	assert_false(more);
	assert_int_equal(out[0].id, ids[4]);
	assert_int_equal(out[0].data, 128);
	assert_int_equal(out[2].data, 0xf);
	assert_int_equal(out[3].status, 9);
	assert_int_equal(x->fe.stats.unknown_status, 1);
	assert_int_equal(engine_front_ctrl_pending(&x->fe), 3);
	assert_int_equal(x->ring->s.rsp_event, 5);

	/* a budget of one leaves the rest for the next poll */
	be_answer((uint16_t)ids[2], T_SETF, OK, 0);
	be_answer((uint16_t)ids[5], T_SETSZ, OK, 0);
	be_answer((uint16_t)ids[6], T_MAP, INVAL, 0);
	be_publish();
	assert_int_equal(engine_front_ctrl_poll(&x->fe, out, 1, &more), 1);
	assert_true(more);
	assert_int_equal(engine_front_ctrl_poll(&x->fe, out, 8, &more), 2);
	assert_false(more);
	assert_int_equal(out[1].status, INVAL);
	assert_int_equal(engine_front_ctrl_pending(&x->fe), 0);
}

static void test_front_ring_full(void **state)
{
	struct engine_front_ctrl_rsp out[RS];
	bool more;
	(void)state;

	fe_init();
	for (unsigned i = 0; i < RS; i++)
		assert_true(engine_front_ctrl_get_flags(&x->fe) >= 0);
	assert_int_equal(engine_front_ctrl_get_flags(&x->fe), -EAGAIN);
	assert_int_equal(x->fe.stats.busy, 1);
	engine_front_ctrl_push(&x->fe);
	for (unsigned i = 0; i < RS; i++)
		be_answer(be_req(i)->id, T_GETF, NOTSUP, 0);
	be_publish();
	assert_int_equal(engine_front_ctrl_poll(&x->fe, out, RS + 100, &more), RS);
	assert_true(engine_front_ctrl_get_flags(&x->fe) >= 0);
}

static void expect_front_fault(enum engine_front_fault f)
{
	struct engine_front_ctrl_rsp out[4];
	bool more;

	assert_int_equal(engine_front_ctrl_poll(&x->fe, out, 4, &more), -EPROTO);
	assert_int_equal(x->fe.fault, f);
	assert_string_not_equal(engine_front_fault_str(f), "unknown fault");
	assert_int_equal(engine_front_ctrl_poll(&x->fe, out, 4, &more), -EPROTO);
	assert_int_equal(engine_front_ctrl_get_flags(&x->fe), -EPROTO);
}

static void test_front_hostile(void **state)
{
	int id;
	(void)state;

	/* more responses than requests */
	fe_init();
	engine_front_ctrl_get_flags(&x->fe);
	engine_front_ctrl_push(&x->fe);
	x->ring->s.rsp_prod = 2;
	expect_front_fault(ENGINE_FRONT_FAULT_CTRL_RSP_PROD);

	/* an answer to a request written but not published */
	fe_init();
	engine_front_ctrl_get_flags(&x->fe);
	x->ring->s.rsp_prod = 1;
	expect_front_fault(ENGINE_FRONT_FAULT_CTRL_RSP_PROD);

	/* an id never issued, and one out of range */
	fe_init();
	id = engine_front_ctrl_get_flags(&x->fe);
	engine_front_ctrl_push(&x->fe);
	be_answer((uint16_t)(id + 1), T_GETF, OK, 0);
	be_publish();
	expect_front_fault(ENGINE_FRONT_FAULT_CTRL_ID);
	fe_init();
	engine_front_ctrl_get_flags(&x->fe);
	engine_front_ctrl_push(&x->fe);
	be_answer(RS, T_GETF, OK, 0);
	be_publish();
	expect_front_fault(ENGINE_FRONT_FAULT_CTRL_ID);

	/* the same id twice */
	fe_init();
	id = engine_front_ctrl_get_flags(&x->fe);
	engine_front_ctrl_get_flags(&x->fe);
	engine_front_ctrl_push(&x->fe);
	be_answer((uint16_t)id, T_GETF, OK, 0);
	be_answer((uint16_t)id, T_GETF, OK, 0);
	be_publish();
	expect_front_fault(ENGINE_FRONT_FAULT_CTRL_ID);

	/* a type other than the request's */
	fe_init();
	id = engine_front_ctrl_get_flags(&x->fe);
	engine_front_ctrl_push(&x->fe);
	be_answer((uint16_t)id, T_SETF, OK, 0);
	be_publish();
	expect_front_fault(ENGINE_FRONT_FAULT_CTRL_TYPE);
}

/* ---- both engines on one ring ---- */

static void test_roundtrip(void **state)
{
	struct engine_front_ctrl_rsp out[RS];
	uint32_t e[64];
	unsigned got = 0;
	bool more;
	(void)state;

	fe_init();
	assert_int_equal(engine_ctrl_init(&x->c, &x->ring->s,
					  &(struct engine_ctrl_config){ PEER, NQ }), 0);
	for (unsigned i = 0; i < 64; i++)
		e[i] = i % NQ;
	put_mapping(2, e, 64);
	memset(page(3), 0x3c, 40);
	engine_front_ctrl_set_algorithm(&x->fe, TOEPLITZ);
	engine_front_ctrl_get_flags(&x->fe);
	engine_front_ctrl_set_flags(&x->fe, XEN_NETIF_CTRL_HASH_TYPE_IPV4 |
				    XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	engine_front_ctrl_set_key(&x->fe, 3, 40);
	engine_front_ctrl_get_mapping_size(&x->fe);
	engine_front_ctrl_set_mapping_size(&x->fe, 64);
	engine_front_ctrl_set_mapping(&x->fe, 2, 32, 0);
	engine_front_ctrl_set_mapping(&x->fe, 2, 32, 32);  /* the same page for the second half */
	engine_front_ctrl_set_mapping(&x->fe, 2, 64, 1);   /* past the size */
	engine_front_ctrl_send(&x->fe, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 2, 1);
	assert_true(engine_front_ctrl_push(&x->fe));
	assert_int_equal(be_run(), 10);
	do {
		int n = engine_front_ctrl_poll(&x->fe, out + got, RS, &more);

		assert_true(n >= 0);
		got += (unsigned)n;
	} while (more);
	assert_int_equal(got, 10);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(out[i].status, i == 8 ? INVAL : i == 9 ? NOTSUP : OK);
	assert_int_equal(out[1].data, 0xf);
	assert_int_equal(out[4].data, ENGINE_HASH_MAPPING_MAX);
	assert_int_equal(x->c.hash.size, 64);
	assert_memory_equal(x->c.hash.mapping, e, 32 * sizeof(uint32_t));
	assert_memory_equal(x->c.hash.mapping + 32, e, 32 * sizeof(uint32_t));
	assert_int_equal(x->c.hash.key[39], 0x3c);
	assert_int_equal(engine_front_ctrl_pending(&x->fe), 0);
	assert_int_equal(x->fe.fault, ENGINE_FRONT_FAULT_NONE);
	assert_int_equal(x->c.fault, ENGINE_FAULT_NONE);
}

#define TT(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TT(test_init),
		TT(test_algorithm),
		TT(test_flags),
		TT(test_key),
		TT(test_mapping_size),
		TT(test_mapping),
		TT(test_unknown_types),
		TT(test_batch_order),
		TT(test_copy_once),
		TT(test_hostile_prod),
		TT(test_full_ring_wraps),
		TT(test_events),
		TT(test_hash_state_for_rx),
		TT(test_restore),
		TT(test_front_requests),
		TT(test_front_ring_full),
		TT(test_front_hostile),
		TT(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
