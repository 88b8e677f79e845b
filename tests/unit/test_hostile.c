/* SPDX-License-Identifier: MIT */
/* test_hostile.c - a hostile frontend against the engine: the XSA patterns and Linux's drop/fatal checks. */
#include "ring_fixture.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PG ENGINE_PAGE_SIZE

static uint8_t frame[80000];
static struct frame_info fi;

static void rand_frame(size_t len, uint32_t seed)
{
	fixture_fill_random(frame, len, seed);
}

static const struct engine_tx_pkt *pkt(unsigned i)
{
	assert_true(i < fx->txb->nr_pkts);
	return &fx->txb->pkts[i];
}

static void expect_rsp(RING_IDX i, uint16_t id, int16_t status)
{
	const netif_tx_response_t *r = fixture_tx_rsp(i);

	assert_int_equal(r->status, status);
	if (status != NETIF_RSP_NULL)
		assert_int_equal(r->id, id);
}

/* The queue is dead with @why: nothing more is consumed, answered or armed. */
static void expect_tx_dead(enum engine_fault why, RING_IDX cons)
{
	RING_IDX rsp_prod = fx->txs->rsp_prod, req_event = fx->txs->req_event;

	assert_int_equal(fx->txq.fault, why);
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.ring.req_cons, cons);
	assert_int_equal(fx->txb->nr_rsps, 0);
	assert_int_equal(fx->txb->nr_segs, 0);
	assert_false(engine_tx_more(&fx->txq));
	assert_int_equal(fx->txs->rsp_prod, rsp_prod);
	assert_int_equal(fx->txs->req_event, req_event);
	assert_int_equal(fx->txq.fault, why);
}

/* ---- XSA-39: corrupt ring indices ---- */

static void test_xsa39_tx_req_prod_ahead(void **state)
{
	static const RING_IDX ahead[] = { ENGINE_TX_RING_SIZE + 1, 1000, 0x10000, 0x7fffffffu,
					  0x80000000u, 0xffffffffu };
	(void)state;

	for (size_t k = 0; k < sizeof(ahead) / sizeof(ahead[0]); k++) {
		const uint16_t own[1] = { 60 };

		fixture_teardown(NULL);
		fixture_setup(NULL);
		fixture_tx_engine(NULL);
		rand_frame(60, 1);
		fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, NULL, 0);
		fx->txs->req_prod = ahead[k];
		assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
		assert_int_equal(fx->txq.fault, ENGINE_FAULT_REQ_PROD);
		assert_int_equal(fx->txq.ring.req_cons, 0);
		assert_int_equal(fx->txb->nr_rsps, 0);
		assert_int_equal(fx->txb->nr_pkts, 0);
		assert_false(engine_tx_respond(&fx->txq, fx->txb));
		assert_int_equal(fx->txs->rsp_prod, 0);
		/* an honest-looking producer afterwards changes nothing: the queue is dead */
		fixture_tx_publish();
		expect_tx_dead(ENGINE_FAULT_REQ_PROD, 0);
	}
}

/* Exactly a ring's worth is legal; one more is not. */
static void test_xsa39_tx_ring_boundary(void **state)
{
	const uint16_t own[1] = { 60 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(60, 2);
	for (uint32_t k = 0; k < ENGINE_TX_RING_SIZE; k++)
		fixture_tx_packet(frame, own, 1, k, 0, 0, (uint16_t)k, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(ENGINE_TX_RING_SIZE), ENGINE_TX_RING_SIZE);
	engine_tx_respond(&fx->txq, fx->txb);
	/* after 256 responses the frontend may post 256 more, not 257 */
	fx->txs->req_prod = 2 * ENGINE_TX_RING_SIZE + 1;
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_REQ_PROD);
	assert_int_equal(fx->txq.ring.req_cons, ENGINE_TX_RING_SIZE);
}

/* A producer moved backwards behind what was consumed. */
static void test_xsa39_tx_req_prod_backwards(void **state)
{
	const uint16_t own[1] = { 60 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(60, 3);
	for (uint32_t k = 0; k < 5; k++)
		fixture_tx_packet(frame, own, 1, k, 0, 0, (uint16_t)k, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 5);
	engine_tx_respond(&fx->txq, fx->txb);
	fx->txs->req_prod = 3;
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_REQ_PROD);
	expect_tx_dead(ENGINE_FAULT_REQ_PROD, 5);
}

static void test_xsa39_rx_req_prod_ahead(void **state)
{
	struct engine_rx_pkt p;
	(void)state;

	rand_frame(100, 4);
	memset(&p, 0, sizeof(p));
	p.data = frame;
	p.len = 100;
	fixture_rx_engine(NULL);
	fixture_rx_post(3, 0, 10);
	fx->rxs->req_prod = ENGINE_RX_RING_SIZE + 1;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EPROTO);
	assert_int_equal(fx->rxq.fault, ENGINE_FAULT_REQ_PROD);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxb->nr_pkts, 0);
	/* dead: a sane producer does not revive it */
	fx->rxs->req_prod = 3;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EPROTO);
	assert_false(engine_rx_wait(&fx->rxq, 1));
	assert_false(engine_rx_complete(&fx->rxq, fx->rxb));
	assert_int_equal(fx->rxs->rsp_prod, 0);
}

static void test_xsa39_rx_req_prod_backwards(void **state)
{
	struct engine_rx_pkt p;
	(void)state;

	rand_frame(100, 5);
	memset(&p, 0, sizeof(p));
	p.data = frame;
	p.len = 100;
	fixture_start_at(0, 40);
	fixture_rx_engine(NULL);
	fixture_rx_post(4, 0, 10);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_complete(&fx->rxq, fx->rxb);
	engine_rx_batch_reset(fx->rxb);
	fx->rxs->req_prod = 41;   /* behind req_cons (42) */
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EPROTO);
	assert_int_equal(fx->rxq.fault, ENGINE_FAULT_REQ_PROD);
	assert_int_equal(fx->rxq.ring.req_cons, 42);
}

/* ---- XSA-155: double fetch ---- */

struct rewrite {
	RING_IDX from, to;
};

/* The frontend rewrites every request it published, between parse and copy. */
static void rewrite_tx_requests(void *arg)
{
	const struct rewrite *w = arg;

	for (RING_IDX i = w->from; i != w->to; i++) {
		netif_tx_request_t *r = fixture_tx_req(i);

		r->size = 4000;
		r->offset = 4000;
		r->gref = 0xdeadbeef;
		r->id = 0xbad;
		r->flags = NETTXF_more_data | NETTXF_extra_info | NETTXF_csum_blank;
	}
}

static void test_xsa155_tx_rewrite_after_parse(void **state)
{
	const uint16_t own[3] = { 1000, 500, 250 };
	struct rewrite w = { 0, 0 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(1750, 6);
	fixture_tx_packet(frame, own, 3, 20, 8, 0, 300, NULL, 0);
	fixture_tx_packet(frame, own, 1, 30, 8, 0, 400, NULL, 0);
	fixture_tx_publish();
	w.to = fx->txs->req_prod;
	fixture_set_copy_hook(rewrite_tx_requests, &w);
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), 4);
	fixture_grant_copy(fx->txb->segs, fx->txb->nr_segs);
	/* the ring now says something else entirely */
	assert_int_equal(fixture_tx_req(0)->size, 4000);
	engine_tx_finish(&fx->txq, fx->txb);
	assert_int_equal(fx->txb->nr_pkts, 2);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->len, 1750);
	assert_memory_equal(pkt(0)->data, frame, 1750);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_NONE);
	assert_int_equal(pkt(1)->len, 1000);
	assert_memory_equal(pkt(1)->data, frame, 1000);
	rewrite_tx_requests(&w);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 300, NETIF_RSP_OKAY);
	expect_rsp(1, 301, NETIF_RSP_OKAY);
	expect_rsp(2, 302, NETIF_RSP_OKAY);
	expect_rsp(3, 400, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
	assert_int_equal(fx->segs_failed, 0);
}

/*
 * A racing frontend: a thread rewrites TX request slots continuously while
 * the engine parses. Whatever it reads, each delivered packet must be
 * self-consistent (one validated copy of each request): segments inside
 * their pages, summing to the packet length, landing inside the packet.
 * In "plausible" mode every value the racer writes is valid on its own
 * (sizes 60 or 1000, more_data only on even slots), so packets do get
 * through and only an engine that reads a slot twice could mix them up;
 * in "garbage" mode anything goes and the queue may die (then reconnects).
 */
struct racer {
	volatile int stop;
	volatile unsigned passes;  /* full sweeps of the ring done */
	uint32_t seed;
	void *ring;       /* netif_tx_sring_t or netif_rx_sring_t */
	int rx;
	int garbage;
};

static void race_tx_slot(netif_tx_request_t *q, unsigned i, uint32_t x, int garbage)
{
	uint16_t size, offset, flags;
	uint32_t gref;

	if (garbage) {
		size = (x & 0x100) ? (uint16_t)(x >> 16) : (uint16_t)((x >> 16) & 0x7f);
		offset = (uint16_t)((x >> 4) & 0x1fff);
		flags = (uint16_t)(x & 0xf);
		gref = (x >> 9) % (FIX_NR_PAGES + 8);
	} else {
		size = (x & 1) ? 1000 : 60;
		offset = (uint16_t)((i & 1) * 100);
		flags = (!(i & 1) && (x & 2)) ? NETTXF_more_data : 0;
		gref = i;
	}
	__atomic_store_n(&q->size, size, __ATOMIC_RELAXED);
	__atomic_store_n(&q->offset, offset, __ATOMIC_RELAXED);
	__atomic_store_n(&q->flags, flags, __ATOMIC_RELAXED);
	__atomic_store_n(&q->gref, gref, __ATOMIC_RELAXED);
	__atomic_store_n(&q->id, (uint16_t)i, __ATOMIC_RELAXED);
}

static void *race_requests(void *arg)
{
	struct racer *r = arg;
	uint32_t x = r->seed | 1;

	while (!r->stop) {
		for (unsigned i = 0; i < ENGINE_TX_RING_SIZE; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			if (r->rx) {
				netif_rx_sring_t *s = r->ring;

				__atomic_store_n(&s->ring[i].req.gref, x % (FIX_NR_PAGES + 8), __ATOMIC_RELAXED);
				__atomic_store_n(&s->ring[i].req.id, (uint16_t)x, __ATOMIC_RELAXED);
			} else {
				netif_tx_sring_t *s = r->ring;

				race_tx_slot(&s->ring[i].req, i, x, r->garbage);
			}
		}
		r->passes++;
	}
	return NULL;
}

static void check_tx_batch_consistent(int consumed)
{
	const struct engine_tx_batch *b = fx->txb;

	assert_int_equal(b->nr_rsps, (unsigned)consumed);
	for (unsigned p = 0; p < b->nr_pkts; p++) {
		const struct engine_tx_pkt *a = &b->pkts[p];
		uint32_t sum = 0;
		uint8_t *at = a->data;

		assert_true(a->rsp_count >= 1);
		assert_true(a->rsp_first + a->rsp_count <= b->nr_rsps);
		if (a->drop != ENGINE_TX_DROP_NONE || a->kind != ENGINE_TX_PACKET)
			continue;
		assert_true(a->len >= 14);
		assert_true(a->data >= b->arena && a->data + a->len <= b->arena + b->arena_size);
		for (unsigned s = a->seg_first; s < a->seg_first + a->seg_count; s++) {
			const struct engine_copy_seg *g = &b->segs[s];

			assert_true(s < b->nr_segs);
			assert_int_equal(g->flags, GNTCOPY_source_gref);
			assert_int_equal(g->source.foreign.domid, FIX_PEER_DOMID);
			assert_true(g->len > 0);
			assert_true((uint32_t)g->source.foreign.offset + g->len <= PG);
			assert_ptr_equal(g->dest.virt, at);
			at += g->len;
			sum += g->len;
		}
		assert_int_equal(sum, a->len);
	}
}

static void race_tx(int garbage, int iterations)
{
	struct racer r = { 0, 0, 0x1234567u, NULL, 0, 0 };
	pthread_t th;
	unsigned faults = 0;
	uint64_t delivered = 0;

	r.ring = fx->txs;
	r.garbage = garbage;
	fixture_tx_engine(NULL);
	assert_int_equal(pthread_create(&th, NULL, race_requests, &r), 0);
	while (r.passes == 0)
		;   /* the initial page garbage is not the racer's */
	for (int it = 0; it < iterations; it++) {
		RING_IDX base = fx->txs->rsp_prod;
		unsigned avail = 1 + (unsigned)(it % ENGINE_TX_RING_SIZE);
		int n;

		fx->txs->req_prod = base + avail;
		n = engine_tx_parse(&fx->txq, fx->txb, 256);
		if (n < 0) {
			assert_int_equal(n, -EPROTO);
			assert_int_not_equal(fx->txq.fault, ENGINE_FAULT_NONE);
			assert_int_not_equal(fx->txq.fault, ENGINE_FAULT_REQ_PROD);
			faults++;
			delivered += fx->txq.stats.packets;
			/* reconnect: a fresh queue attached where the ring stands */
			fixture_tx_engine(NULL);
			continue;
		}
		assert_true((unsigned)n <= avail);
		fixture_grant_copy(fx->txb->segs, fx->txb->nr_segs);
		engine_tx_finish(&fx->txq, fx->txb);
		check_tx_batch_consistent(n);
		engine_tx_respond(&fx->txq, fx->txb);
		assert_int_equal(fx->txs->rsp_prod, base + (RING_IDX)n);
	}
	r.stop = 1;
	pthread_join(th, NULL);
	delivered += fx->txq.stats.packets;
	if (!garbage) {
		/* every value it wrote was valid: the queue never died, and packets flowed */
		assert_int_equal(faults, 0);
		assert_true(delivered > (uint64_t)iterations);
	}
}

static void test_xsa155_tx_racing_frontend(void **state)
{
	(void)state;
	race_tx(0, 3000);
}

static void test_xsa155_tx_racing_garbage(void **state)
{
	(void)state;
	race_tx(1, 3000);
}

/* The RX side under a racing frontend: every planned copy is a whole-page-bounded write. */
static void test_xsa155_rx_racing_frontend(void **state)
{
	struct racer r = { 0, 0, 0x7654321u, NULL, 1, 0 };
	pthread_t th;
	struct engine_rx_pkt p;
	(void)state;

	r.ring = fx->rxs;
	rand_frame(3 * PG + 7, 8);
	memset(&p, 0, sizeof(p));
	p.data = frame;
	fixture_rx_engine(NULL);
	assert_int_equal(pthread_create(&th, NULL, race_requests, &r), 0);
	while (r.passes == 0)
		;
	for (int it = 0; it < 3000; it++) {
		RING_IDX base = fx->rxs->rsp_prod;
		unsigned segs = 0;

		fx->rxs->req_prod = base + ENGINE_RX_RING_SIZE;
		engine_rx_batch_reset(fx->rxb);
		p.len = 1 + (uint32_t)(it * 977) % (3 * PG + 7);
		while (engine_rx_add(&fx->rxq, fx->rxb, &p) == 0)
			;
		for (unsigned k = 0; k < fx->rxb->nr_pkts; k++) {
			const struct engine_rx_placed *pl = &fx->rxb->pkts[k];
			uint32_t sum = 0;

			for (unsigned s = pl->seg_first; s < pl->seg_first + pl->seg_count; s++) {
				const struct engine_copy_seg *g = &fx->rxb->segs[s];

				assert_int_equal(g->flags, GNTCOPY_dest_gref);
				assert_int_equal(g->dest.foreign.offset, 0);
				assert_int_equal(g->dest.foreign.domid, FIX_PEER_DOMID);
				assert_true(g->len > 0 && g->len <= PG);
				assert_ptr_equal(g->source.virt, p.data + sum);
				sum += g->len;
				segs++;
			}
			assert_int_equal(sum, p.len);
		}
		assert_int_equal(segs, fx->rxb->nr_segs);
		fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
		engine_rx_complete(&fx->rxq, fx->rxb);
		assert_int_equal(fx->rxs->rsp_prod, base + fx->rxb->nr_slots);
		assert_int_equal(fx->rxq.fault, ENGINE_FAULT_NONE);
	}
	r.stop = 1;
	pthread_join(th, NULL);
}

/* ---- XSA-362/367: grant copy failures ---- */

static void test_xsa362_tx_each_copy_failure(void **state)
{
	const uint16_t own[3] = { 100, 100, 100 };
	(void)state;

	for (uint32_t bad = 0; bad < 15; bad++) {
		fixture_teardown(NULL);
		fixture_setup(NULL);
		fixture_tx_engine(NULL);
		rand_frame(300, 9);
		for (uint32_t p = 0; p < 5; p++)
			fixture_tx_packet(frame, own, 3, 3 * p, 0, 0, (uint16_t)(3 * p), NULL, 0);
		fixture_fail_ref(bad);
		fixture_tx_publish();
		assert_int_equal(fixture_tx_run(256), 15);
		for (uint32_t p = 0; p < 5; p++) {
			bool failed = p == bad / 3;

			assert_int_equal(pkt(p)->drop, failed ? ENGINE_TX_DROP_COPY : ENGINE_TX_DROP_NONE);
			if (!failed)
				assert_memory_equal(pkt(p)->data, frame, 300);
		}
		engine_tx_respond(&fx->txq, fx->txb);
		for (RING_IDX i = 0; i < 15; i++)
			expect_rsp(i, (uint16_t)i, i / 3 == bad / 3 ? NETIF_RSP_ERROR : NETIF_RSP_OKAY);
		assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
	}
}

/* A grant reference the frontend never granted: the hypervisor refuses it, that packet fails. */
static void test_xsa362_tx_bogus_gref(void **state)
{
	const uint16_t own[1] = { 100 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(100, 10);
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, NULL, 0);
	fixture_tx_push(0xffffffffu, 0, 100, 0, 2);
	fixture_tx_push(FIX_NR_PAGES, 0, 100, 0, 3);
	fixture_tx_packet(frame, own, 1, 2, 0, 0, 4, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 4);
	assert_int_equal(fx->txb->segs[1].status, GNTST_bad_gntref);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_OKAY);
	expect_rsp(1, 2, NETIF_RSP_ERROR);
	expect_rsp(2, 3, NETIF_RSP_ERROR);
	expect_rsp(3, 4, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_COPY], 2);
}

static void test_xsa362_rx_bogus_gref(void **state)
{
	struct engine_rx_pkt p;
	(void)state;

	rand_frame(500, 11);
	memset(&p, 0, sizeof(p));
	p.data = frame;
	p.len = 500;
	fixture_rx_engine(NULL);
	fixture_rx_push(1, 10);
	fixture_rx_push(2, 0xfffffff0u);
	fixture_rx_push(3, 11);
	fixture_rx_publish();
	for (int k = 0; k < 3; k++)
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_complete(&fx->rxq, fx->rxb);
	assert_int_equal(fixture_rx_rsp(0)->status, 500);
	assert_int_equal(fixture_rx_rsp(1)->status, NETIF_RSP_ERROR);
	assert_int_equal(fixture_rx_rsp(1)->id, 2);
	assert_int_equal(fixture_rx_rsp(2)->status, 500);
	assert_memory_equal(fixture_page(11), frame, 500);
	assert_int_equal(fx->rxq.fault, ENGINE_FAULT_NONE);
}

/* ---- XSA-392: a frontend starving RX ---- */

static void test_xsa392_one_slot_posted(void **state)
{
	struct engine_rx_pkt p;
	uint64_t dropped;
	(void)state;

	rand_frame(PG + 10, 12);
	memset(&p, 0, sizeof(p));
	p.data = frame;
	p.len = PG + 10;    /* needs 2 slots */
	fixture_rx_engine(NULL);
	fixture_rx_post(1, 0, 10);
	dropped = fx->rxq.stats.dropped;
	for (int k = 0; k < 1000; k++) {
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EAGAIN);
		assert_false(engine_rx_wait(&fx->rxq, 2));
	}
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxb->nr_pkts, 0);
	assert_int_equal(fx->rxb->nr_segs, 0);
	assert_int_equal(fx->rxs->req_event, 2);
	assert_int_equal(fx->rxs->rsp_prod, 0);
	/* the engine neither queued nor dropped on its own: that is the caller's bounded queue */
	assert_int_equal(fx->rxq.stats.dropped, dropped);
	assert_int_equal(engine_rx_posted(&fx->rxq), 1);
	/* a small packet still goes into the one slot */
	p.len = 100;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxq.ring.req_cons, 1);
}

/* The same with a GSO packet: one data slot plus its extra need two. */
static void test_xsa392_gso_needs_extra_slot(void **state)
{
	struct engine_rx_pkt p;
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_TCP, .payload = 1000, .seed = 13 };
	bool notify;
	(void)state;

	memset(&p, 0, sizeof(p));
	p.data = frame;
	p.len = (uint32_t)fixture_build_frame(frame, &s, &fi);
	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.meta.gso_size = 500;
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	fixture_rx_engine(NULL);
	fixture_rx_post(1, 0, 10);
	for (int k = 0; k < 100; k++)
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EAGAIN);
	assert_false(engine_rx_wait(&fx->rxq, 2));
	fixture_rx_push(1, 11);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fx->rxf, notify);
	assert_true(notify);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxq.ring.req_cons, 2);
}

/* XSA-424: the drop path under load keeps exact counts and never consumes. */
static void test_xsa424_drop_path_under_load(void **state)
{
	struct engine_rx_pkt good, big, empty;
	unsigned delivered = 0, dropped = 0;
	(void)state;

	rand_frame(ENGINE_RX_MAX_DATA_SLOTS * PG + 1, 14);
	memset(&good, 0, sizeof(good));
	good.data = frame;
	good.len = 1000;
	big = good;
	big.len = ENGINE_RX_MAX_DATA_SLOTS * PG + 1;
	empty = good;
	empty.len = 0;
	fixture_rx_engine(NULL);
	for (int round = 0; round < 200; round++) {
		RING_IDX before;

		fixture_rx_post(64, (uint16_t)round, 0);
		engine_rx_batch_reset(fx->rxb);
		for (int k = 0; k < 64; k++) {
			before = fx->rxq.ring.req_cons;
			assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &big), -EMSGSIZE);
			assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &empty), -EINVAL);
			assert_int_equal(fx->rxq.ring.req_cons, before);
			dropped += 2;
			assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &good), 0);
			delivered++;
		}
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &good), -EAGAIN);
		fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
		engine_rx_complete(&fx->rxq, fx->rxb);
		/* the frontend consumes its responses */
		fx->rxf.rsp_cons = fx->rxs->rsp_prod;
	}
	assert_int_equal(fx->rxq.stats.packets, delivered);
	assert_int_equal(fx->rxq.stats.dropped, dropped);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_TOO_BIG], dropped / 2);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_EMPTY], dropped / 2);
	assert_int_equal(fx->rxs->rsp_prod, delivered);
	assert_int_equal(fx->rxq.fault, ENGINE_FAULT_NONE);
}

/* A full batch says -ENOSPC (complete first), distinct from a ring without requests. */
static void test_rx_batch_full_enospc(void **state)
{
	struct engine_rx_pkt p;
	(void)state;

	rand_frame(64, 15);
	memset(&p, 0, sizeof(p));
	p.data = frame;
	p.len = 64;
	fixture_rx_engine(NULL);
	fixture_rx_post(ENGINE_RX_RING_SIZE, 0, 0);
	for (unsigned k = 0; k < ENGINE_RX_RING_SIZE; k++)
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -ENOSPC);
	assert_int_equal(fx->rxq.ring.req_cons, ENGINE_RX_RING_SIZE);
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_complete(&fx->rxq, fx->rxb);
	assert_int_equal(fx->rxs->rsp_prod, ENGINE_RX_RING_SIZE);
	engine_rx_batch_reset(fx->rxb);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EAGAIN);
	assert_int_equal(fx->rxq.fault, ENGINE_FAULT_NONE);
}

/* ---- XSA-423 / XSA-432: headers split across many tiny slots ---- */

static void push_split(const uint8_t *f, size_t len, const uint16_t *sizes, unsigned n,
		       uint16_t flags, const netif_extra_info_t *ex, unsigned nex)
{
	size_t used = 0;
	uint16_t own[ENGINE_TX_FATAL_SLOTS];

	for (unsigned k = 1; k < n; k++)
		used += sizes[k];
	assert_true(used <= len);
	own[0] = (uint16_t)(len - used);
	for (unsigned k = 1; k < n; k++)
		own[k] = sizes[k];
	/* every slot at an odd offset, to shake out alignment assumptions */
	fixture_tx_packet(f, own, n, 100, 3, flags, 500, ex, nex);
}

static void test_xsa423_headers_split_tcp4(void **state)
{
	struct engine_tx_config c = fixture_tx_default_cfg();
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_TCP, .ip_opt_len = 8,
				.tcp_opt_len = 12, .payload = 30, .seed = 16, .ip_csum_garbage = true };
	size_t len = fixture_build_frame(frame, &s, &fi);
	uint16_t sizes[XEN_NETIF_NR_SLOTS_MIN];
	(void)state;

	/* slots 1..17 carry 1..10 bytes each (98 in all); slot 0 keeps the first 6 */
	sizes[0] = 0;
	for (unsigned k = 1; k < XEN_NETIF_NR_SLOTS_MIN; k++)
		sizes[k] = (uint16_t)(1 + (k * 7) % 10);
	c.complete_csum = true;
	fixture_tx_engine(&c);
	push_split(frame, len, sizes, XEN_NETIF_NR_SLOTS_MIN, NETTXF_csum_blank, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), XEN_NETIF_NR_SLOTS_MIN);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->len, len);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_VALIDATED);
	assert_true(ref_frame_csum_ok(pkt(0)->data, &fi));
	/* apart from the two checksum fields, the bytes are the frame's */
	wr16(frame + fi.csum_off, ref_l4_csum(frame, &fi));
	wr16(frame + fi.l3_off + 10, ref_ipv4_hdr_csum(frame, &fi));
	assert_memory_equal(pkt(0)->data, frame, len);
}

/* The first slot holds only a single byte; everything else is in 17 tiny fragments. */
static void test_xsa423_headers_split_tcp6_gso(void **state)
{
	struct frame_spec s = { .ipver = 6, .proto = IPPROTO_TCP, .v6_ext = 2,
				.tcp_opt_len = 20, .payload = 0, .seed = 17 };
	size_t len = fixture_build_frame(frame, &s, &fi);
	uint16_t sizes[XEN_NETIF_NR_SLOTS_MIN];
	netif_extra_info_t ex;
	size_t rest = len - 1;
	(void)state;

	memset(&ex, 0, sizeof(ex));
	ex.type = XEN_NETIF_EXTRA_TYPE_GSO;
	ex.u.gso.size = 1200;
	ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
	/* 1 + 17 fragments covering len - 1 bytes (= 117): 16 x 7 + 5 */
	sizes[0] = 0;
	for (unsigned k = 1; k < XEN_NETIF_NR_SLOTS_MIN; k++) {
		sizes[k] = (uint16_t)(rest > 7 ? 7 : rest);
		rest -= sizes[k];
	}
	assert_int_equal(rest, 0);
	fixture_tx_engine(NULL);
	push_split(frame, len, sizes, XEN_NETIF_NR_SLOTS_MIN, NETTXF_csum_blank, &ex, 1);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), XEN_NETIF_NR_SLOTS_MIN + 1);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(fx->txb->segs[0].len, 1);
	assert_memory_equal(pkt(0)->data, frame, len);
	assert_int_equal(pkt(0)->meta.gso_type, XEN_NETIF_GSO_TYPE_TCPV6);
	assert_int_equal(pkt(0)->meta.hdr_len, 14 + 40 + 24 + 40);
	assert_int_equal(pkt(0)->meta.csum_start, 14 + 40 + 24);
}

/* XSA-432: maximum slots, each one byte, packet (18 B) smaller than its headers: clean drop. */
static void test_xsa432_tiny_packet_max_slots(void **state)
{
	uint16_t own[XEN_NETIF_NR_SLOTS_MIN];
	netif_extra_info_t ex;
	const uint16_t good[1] = { 60 };
	(void)state;

	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_TCP, .payload = 0, .seed = 18 };
	fixture_build_frame(frame, &s, &fi);
	for (unsigned k = 0; k < XEN_NETIF_NR_SLOTS_MIN; k++)
		own[k] = 1;
	fixture_tx_engine(NULL);
	/* checksum offload requested on truncated headers */
	fixture_tx_packet(frame, own, XEN_NETIF_NR_SLOTS_MIN, 0, 4095, NETTXF_csum_blank, 0, NULL, 0);
	/* GSO requested on truncated headers */
	memset(&ex, 0, sizeof(ex));
	ex.type = XEN_NETIF_EXTRA_TYPE_GSO;
	ex.u.gso.size = 1448;
	ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	fixture_tx_packet(frame, own, XEN_NETIF_NR_SLOTS_MIN, 20, 4095, NETTXF_csum_blank,
			  100, &ex, 1);
	rand_frame(60, 19);
	fixture_tx_packet(frame, good, 1, 50, 0, 0, 200, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 2 * XEN_NETIF_NR_SLOTS_MIN + 2);
	assert_int_equal(fx->txb->nr_pkts, 3);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_BAD_CSUM);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_BAD_GSO);
	assert_int_equal(pkt(2)->drop, ENGINE_TX_DROP_NONE);
	assert_memory_equal(pkt(2)->data, frame, 60);
	engine_tx_respond(&fx->txq, fx->txb);
	for (RING_IDX i = 0; i < XEN_NETIF_NR_SLOTS_MIN; i++)
		expect_rsp(i, (uint16_t)i, NETIF_RSP_ERROR);
	expect_rsp(XEN_NETIF_NR_SLOTS_MIN, 100, NETIF_RSP_ERROR);
	expect_rsp(XEN_NETIF_NR_SLOTS_MIN + 1, 0, NETIF_RSP_NULL);
	expect_rsp(2 * XEN_NETIF_NR_SLOTS_MIN + 1, 200, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
}

/* ---- XSA-448: every fragment zero-length ---- */

static void test_xsa448_all_zero_fragments(void **state)
{
	const uint16_t good[1] = { 60 };
	(void)state;

	fixture_tx_engine(NULL);
	/* a lone zero-length request */
	fixture_tx_push(1, 0, 0, 0, 1);
	/* 18 zero-length slots */
	fixture_tx_push(2, 0, 0, NETTXF_more_data, 2);
	for (uint16_t k = 0; k < 17; k++)
		fixture_tx_push(3 + k, 0, 0, k < 16 ? NETTXF_more_data : 0, (uint16_t)(3 + k));
	/* a total under 14 with only zero-length fragments after it */
	fixture_tx_push(30, 0, 10, NETTXF_more_data, 20);
	fixture_tx_push(31, 0, 0, 0, 21);
	rand_frame(60, 20);
	fixture_tx_packet(frame, good, 1, 40, 0, 0, 22, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 22);
	assert_int_equal(fx->txb->nr_pkts, 4);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_RUNT);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_RUNT);
	assert_int_equal(pkt(2)->drop, ENGINE_TX_DROP_RUNT);
	assert_int_equal(pkt(3)->drop, ENGINE_TX_DROP_NONE);
	/* only the good packet is copied */
	assert_int_equal(fx->txb->nr_segs, 1);
	engine_tx_respond(&fx->txq, fx->txb);
	for (RING_IDX i = 0; i < 21; i++)
		expect_rsp(i, (uint16_t)(i + 1), NETIF_RSP_ERROR);
	expect_rsp(21, 22, NETIF_RSP_OKAY);
}

/* ---- Linux netback's fatal checks ---- */

static void test_fatal_21_slots(void **state)
{
	const uint16_t good[1] = { 60 };
	uint16_t own[ENGINE_TX_FATAL_SLOTS + 1];
	(void)state;

	for (unsigned k = 0; k <= ENGINE_TX_FATAL_SLOTS; k++)
		own[k] = 10;
	fixture_tx_engine(NULL);
	rand_frame(300, 21);
	fixture_tx_packet(frame, good, 1, 0, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 1);
	engine_tx_respond(&fx->txq, fx->txb);
	fixture_tx_packet(frame, own, ENGINE_TX_FATAL_SLOTS + 1, 10, 0, 0, 100, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_TOO_MANY_SLOTS);
	assert_int_equal(fx->txs->rsp_prod, 1);
	expect_tx_dead(ENGINE_FAULT_TOO_MANY_SLOTS, 1);
}

/* A whole ring of more_data that never ends a packet: past the fatal threshold long before. */
static void test_fatal_endless_packet(void **state)
{
	(void)state;

	fixture_tx_engine(NULL);
	for (uint32_t k = 0; k < ENGINE_TX_RING_SIZE; k++)
		fixture_tx_push(k, 0, 100, NETTXF_more_data, (uint16_t)k);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_TOO_MANY_SLOTS);
	assert_int_equal(fx->txs->rsp_prod, 0);
	expect_tx_dead(ENGINE_FAULT_TOO_MANY_SLOTS, 0);
}

/* More than the fatal threshold announced, even before the rest is published. */
static void test_fatal_slots_before_published(void **state)
{
	(void)state;

	fixture_tx_engine(NULL);
	for (uint32_t k = 0; k < ENGINE_TX_FATAL_SLOTS; k++)
		fixture_tx_push(k, 0, 100, NETTXF_more_data, (uint16_t)k);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_TOO_MANY_SLOTS);
}

static void check_cross_page(uint16_t off0, uint16_t size0, uint16_t off1, uint16_t size1,
			     bool two)
{
	fixture_tx_engine(NULL);
	fixture_tx_push(1, off0, size0, two ? NETTXF_more_data : 0, 1);
	if (two)
		fixture_tx_push(2, off1, size1, 0, 2);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_CROSS_PAGE);
	assert_int_equal(fx->txq.ring.req_cons, 0);
	assert_int_equal(fx->txb->nr_segs, 0);
	assert_int_equal(fx->txs->rsp_prod, 0);
}

static void test_fatal_cross_page(void **state)
{
	(void)state;
	/* first slot alone */
	check_cross_page(4000, 200, 0, 0, false);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	/* a fragment */
	check_cross_page(0, 300, 4000, 200, true);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	/* the first slot's own part (total 5000 - 100 in the fragment) */
	check_cross_page(100, 5000, 0, 100, true);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	/* 16-bit values that would wrap if added in 16 bits */
	check_cross_page(0, 100, 0xffff, 0xffff, true);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	check_cross_page(0xfff0, 0x20, 0, 0, false);
}

/*
 * The cross-page check holds for every slot, whatever else is wrong with the
 * packet: a first slot running past its page is fatal even when the packet
 * would be dropped anyway for a bad extra (policy: "offset + size past its
 * page: fatal", tx.c's table and Linux netback).
 */
static void test_fatal_cross_page_with_bad_extra(void **state)
{
	netif_extra_info_t ex;
	(void)state;

	memset(&ex, 0, sizeof(ex));
	ex.type = 0xff;
	fixture_tx_engine(NULL);
	fixture_tx_push(1, 4000, 200, NETTXF_extra_info, 1);
	fixture_tx_push_extra(&ex);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_CROSS_PAGE);
}

/* Ending exactly at the page boundary is fine. */
static void test_page_boundary_exact(void **state)
{
	const uint16_t own[2] = { 96, 4096 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(4192, 22);
	memcpy(fixture_page(1) + 4000, frame, 96);
	memcpy(fixture_page(2), frame + 96, 4096);
	fixture_tx_push(1, 4000, 4192, NETTXF_more_data, 1);
	fixture_tx_push(2, 0, own[1], 0, 2);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 2);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_memory_equal(pkt(0)->data, frame, 4192);
}

static void test_fatal_too_many_extras(void **state)
{
	netif_extra_info_t ex[5];
	const uint16_t own[1] = { 60 };
	(void)state;

	memset(ex, 0, sizeof(ex));
	for (int k = 0; k < 5; k++) {
		ex[k].type = XEN_NETIF_EXTRA_TYPE_HASH;
		ex[k].u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
	}
	fixture_tx_engine(NULL);
	rand_frame(60, 23);
	/* four extras (one per type) is the most an honest frontend sends: not fatal */
	ex[0].type = XEN_NETIF_EXTRA_TYPE_GSO;
	ex[0].u.gso.size = 1000;
	ex[0].u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	ex[1].type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
	ex[2].type = XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, ex, 4);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 5);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
	assert_int_not_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);  /* mcast without control */
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_ERROR);
	for (RING_IDX i = 1; i < 5; i++)
		expect_rsp(i, 0, NETIF_RSP_NULL);
	/* five is not */
	for (int k = 0; k < 5; k++)
		ex[k].type = XEN_NETIF_EXTRA_TYPE_HASH;
	fixture_tx_packet(frame, own, 1, 2, 0, 0, 2, ex, 5);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_TOO_MANY_EXTRAS);
	expect_tx_dead(ENGINE_FAULT_TOO_MANY_EXTRAS, 5);
}

/* XSA-90: the fault is raised where it is found, mid-batch, and leaves the shared ring alone. */
static void test_xsa90_fault_mid_batch(void **state)
{
	const uint16_t own[1] = { 60 };
	RING_IDX req_event;
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(60, 24);
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, NULL, 0);
	fixture_tx_packet(frame, own, 1, 2, 0, 0, 2, NULL, 0);
	fixture_tx_push(3, 4090, 60, 0, 3);
	fixture_tx_packet(frame, own, 1, 4, 0, 0, 4, NULL, 0);
	fixture_tx_publish();
	req_event = fx->txs->req_event;
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 256), -EPROTO);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_CROSS_PAGE);
	assert_int_equal(fx->txs->rsp_prod, 0);
	assert_int_equal(fx->txs->req_event, req_event);
	/* nothing past the bad request was touched */
	assert_true(fx->txq.ring.req_cons <= 2);
	assert_false(engine_tx_more(&fx->txq));
}

/* ---- XSA-332: spurious wake-ups are cheap and bounded ---- */

static void test_xsa332_spurious_events(void **state)
{
	uint8_t before[FIX_PAGE];
	(void)state;

	fixture_tx_engine(NULL);
	assert_false(engine_tx_more(&fx->txq));
	memcpy(before, fx->txs, FIX_PAGE);
	for (int k = 0; k < 10000; k++) {
		assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 64), 0);
		assert_false(engine_tx_respond(&fx->txq, fx->txb));
		assert_false(engine_tx_more(&fx->txq));
	}
	assert_memory_equal(fx->txs, before, FIX_PAGE);
	assert_int_equal(fx->txq.stats.requests, 0);
	assert_int_equal(fx->txq.stats.batches, 0);
}

/*
 * XSA-332 again: a frontend that publishes the first slot of a packet and
 * never the rest. Parse rightly waits (consumes nothing), but the caller's
 * "go round again?" question must then say no, and arm req_event so that
 * the frontend's next publish wakes us; otherwise the usual service loop
 *     do { n = parse(); ... } while (engine_tx_more(q));
 * spins a backend CPU for as long as the guest likes, with one request.
 */
static void test_xsa332_incomplete_packet_does_not_spin(void **state)
{
	bool notify;
	int spins = 0;
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(300, 27);
	memcpy(fixture_page(1), frame, 200);
	memcpy(fixture_page(2), frame + 200, 100);
	fixture_tx_push(1, 0, 300, NETTXF_more_data, 7);
	fixture_tx_publish();
	do {
		assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 64), 0);
		engine_tx_respond(&fx->txq, fx->txb);
	} while (engine_tx_more(&fx->txq) && ++spins < 100);
	assert_int_equal(spins, 0);
	assert_int_equal(fx->txq.ring.req_cons, 0);
	/* the rest of the packet arrives: the frontend is told to notify, and it parses */
	fixture_tx_push(2, 0, 100, 0, 8);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fx->txf, notify);
	assert_true(notify);
	assert_true(engine_tx_more(&fx->txq));
	assert_int_equal(fixture_tx_run(64), 2);
	assert_memory_equal(fx->txb->pkts[0].data, frame, 300);
}

/*
 * Work per call is bounded by the budget at packet granularity: parse stops
 * starting packets once the budget is reached, so one call takes at most
 * budget - 1 + one maximal packet (20 data slots + 4 extras).
 */
static void test_xsa332_budget_bounds_work(void **state)
{
	const uint16_t own[3] = { 20, 20, 20 };
	int total = 0;
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(60, 25);
	for (uint32_t p = 0; p < 80; p++)
		fixture_tx_packet(frame, own, 3, 3 * p, 0, 0, (uint16_t)(3 * p), NULL, 0);
	fixture_tx_publish();
	while (total < 240) {
		int n = fixture_tx_run(4);

		assert_true(n > 0);
		assert_true((unsigned)n <= 4 - 1 + ENGINE_TX_FATAL_SLOTS + 4);
		assert_int_equal(n % 3, 0);        /* whole packets only */
		engine_tx_respond(&fx->txq, fx->txb);
		total += n;
	}
	assert_int_equal(total, 240);
	assert_int_equal(fx->txq.stats.packets, 80);
	/* budget 0 does nothing */
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 0), 0);
}

/* The notification decision does not trust the rsp_prod the frontend can scribble on. */
static void test_scribbled_rsp_prod(void **state)
{
	const uint16_t own[1] = { 60 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(60, 26);
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), 1);
	fx->txs->rsp_prod = 0xffffff00u;
	fx->txs->rsp_event = 0xffffff80u;
	/* with our own previous producer (0), event 0xffffff80 is not in (0, 1] */
	assert_false(engine_tx_respond(&fx->txq, fx->txb));
	assert_int_equal(fx->txs->rsp_prod, 1);
	expect_rsp(0, 1, NETIF_RSP_OKAY);
}

static void test_fault_strings(void **state)
{
	static const enum engine_fault all[] = {
		ENGINE_FAULT_NONE, ENGINE_FAULT_REQ_PROD, ENGINE_FAULT_TOO_MANY_SLOTS,
		ENGINE_FAULT_CROSS_PAGE, ENGINE_FAULT_TOO_MANY_EXTRAS,
	};
	const size_t n = sizeof(all) / sizeof(all[0]);
	(void)state;

	for (size_t i = 0; i < n; i++) {
		const char *s = engine_fault_str(all[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s, engine_fault_str(all[j]));
	}
	assert_non_null(engine_fault_str((enum engine_fault)1000));
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_xsa39_tx_req_prod_ahead),
		T(test_xsa39_tx_ring_boundary),
		T(test_xsa39_tx_req_prod_backwards),
		T(test_xsa39_rx_req_prod_ahead),
		T(test_xsa39_rx_req_prod_backwards),
		T(test_xsa155_tx_rewrite_after_parse),
		T(test_xsa155_tx_racing_frontend),
		T(test_xsa155_tx_racing_garbage),
		T(test_xsa155_rx_racing_frontend),
		T(test_xsa362_tx_each_copy_failure),
		T(test_xsa362_tx_bogus_gref),
		T(test_xsa362_rx_bogus_gref),
		T(test_xsa392_one_slot_posted),
		T(test_xsa392_gso_needs_extra_slot),
		T(test_xsa424_drop_path_under_load),
		T(test_rx_batch_full_enospc),
		T(test_xsa423_headers_split_tcp4),
		T(test_xsa423_headers_split_tcp6_gso),
		T(test_xsa432_tiny_packet_max_slots),
		T(test_xsa448_all_zero_fragments),
		T(test_fatal_21_slots),
		T(test_fatal_endless_packet),
		T(test_fatal_slots_before_published),
		T(test_fatal_cross_page),
		T(test_fatal_cross_page_with_bad_extra),
		T(test_page_boundary_exact),
		T(test_fatal_too_many_extras),
		T(test_xsa90_fault_mid_batch),
		T(test_xsa332_spurious_events),
		T(test_xsa332_incomplete_packet_does_not_spin),
		T(test_xsa332_budget_bounds_work),
		T(test_scribbled_rsp_prod),
		T(test_fault_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
