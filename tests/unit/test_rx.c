/* SPDX-License-Identifier: MIT */
/* test_rx.c - guest RX: host packets into posted frontend buffers, responses by slot, copy plans. */
#include "ring_fixture.h"
#include "front.h"
#include "hash.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define PG ENGINE_PAGE_SIZE
/* Pages the fixture leaves untouched hold this byte. */
#define UNTOUCHED 0x5a

static uint8_t buf[20 * 4096];
static struct frame_info fi;

static struct engine_rx_pkt rand_pkt(uint32_t len, uint32_t seed)
{
	struct engine_rx_pkt p;

	memset(&p, 0, sizeof(p));
	assert_true(len <= sizeof(buf));
	fixture_fill_random(buf, len, seed);
	p.data = buf;
	p.len = len;
	return p;
}

static struct engine_rx_pkt tcp_pkt(int ipver, unsigned payload, uint32_t seed)
{
	struct engine_rx_pkt p;
	struct frame_spec s;

	memset(&s, 0, sizeof(s));
	s.ipver = ipver;
	s.proto = IPPROTO_TCP;
	s.payload = payload;
	s.seed = seed;
	memset(&p, 0, sizeof(p));
	p.data = buf;
	p.len = (uint32_t)fixture_build_frame(buf, &s, &fi);
	return p;
}

/* Run the batch's copies and complete it. */
static bool rx_finish(void)
{
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	return engine_rx_complete(&fx->rxq, fx->rxb);
}

static void expect_rx_rsp(RING_IDX i, uint16_t id, uint16_t flags, int16_t status)
{
	const netif_rx_response_t *r = fixture_rx_rsp(i);

	assert_int_equal(r->id, id);
	assert_int_equal(r->offset, 0);
	assert_int_equal(r->flags, flags);
	assert_int_equal(r->status, status);
}

/* The page behind @gref holds @n bytes of @src from offset 0, and the rest is untouched. */
static void expect_page(uint32_t gref, const uint8_t *src, size_t n)
{
	const uint8_t *pg = fixture_page(gref);

	assert_memory_equal(pg, src, n);
	for (size_t i = n; i < PG; i++)
		assert_int_equal(pg[i], UNTOUCHED);
}

static void test_rx_zero_length(void **state)
{
	struct engine_rx_pkt p = rand_pkt(0, 1);
	uint8_t before[FIX_PAGE];
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(4, 100, 10);
	memcpy(before, fx->rxs, FIX_PAGE);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EINVAL);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxb->nr_pkts, 0);
	assert_int_equal(fx->rxb->nr_segs, 0);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_EMPTY], 1);
	assert_int_equal(fx->rxq.stats.dropped, 1);
	assert_false(rx_finish());
	/* no responses for an empty packet: the ring is unchanged */
	assert_memory_equal(fx->rxs, before, FIX_PAGE);
}

/*
 * 128 bytes: one slot, status 128, offset 0, no flags. (FreeBSD also checks
 * a packet of two chained sub-page mbufs giving one response with the summed
 * status; our host packets are one contiguous buffer, so a sub-page packet is
 * always exactly one segment and one response, which this checks.)
 */
static void test_rx_128(void **state)
{
	struct engine_rx_pkt p = rand_pkt(128, 2);
	const struct engine_copy_seg *s;
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(4, 100, 10);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxq.ring.req_cons, 1);
	assert_int_equal(fx->rxb->nr_pkts, 1);
	assert_int_equal(fx->rxb->pkts[0].first, 0);
	assert_int_equal(fx->rxb->nr_segs, 1);
	s = &fx->rxb->segs[0];
	assert_int_equal(s->flags, GNTCOPY_dest_gref);
	assert_int_equal(s->dest.foreign.ref, 10);
	assert_int_equal(s->dest.foreign.offset, 0);
	assert_int_equal(s->dest.foreign.domid, FIX_PEER_DOMID);
	assert_ptr_equal(s->source.virt, buf);
	assert_int_equal(s->len, 128);
	/* responses stay private until complete */
	assert_int_equal(fixture_rx_rsp_prod(), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 1);
	expect_rx_rsp(0, 100, 0, 128);
	expect_page(10, buf, 128);
	expect_page(11, buf, 0);
	assert_int_equal(fx->rxq.stats.packets, 1);
	assert_int_equal(fx->rxq.stats.bytes, 128);
	assert_int_equal(fx->rxq.stats.responses, 1);
	assert_int_equal(fx->segs_failed, 0);
}

static void test_rx_one_page(void **state)
{
	struct engine_rx_pkt p = rand_pkt(PG, 3);
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(2, 7, 20);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 1);
	expect_rx_rsp(0, 7, 0, PG);
	expect_page(20, buf, PG);
}

/* PAGE_SIZE + 100: (more_data, 4096) then 100. */
static void test_rx_page_plus_100(void **state)
{
	struct engine_rx_pkt p = rand_pkt(PG + 100, 4);
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(3, 50, 30);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxb->nr_segs, 2);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 2);
	expect_rx_rsp(0, 50, NETRXF_more_data, PG);
	expect_rx_rsp(1, 51, 0, 100);
	expect_page(30, buf, PG);
	expect_page(31, buf + PG, 100);
	expect_page(32, buf, 0);
}

/* About 4.7 pages: one packet over five slots, no extra_info. */
static void test_rx_4_7_pages(void **state)
{
	const uint32_t len = 19251;
	struct engine_rx_pkt p = rand_pkt(len, 5);
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(8, 1000, 40);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxb->pkts[0].nr_slots, 5);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 5);
	for (RING_IDX i = 0; i < 4; i++) {
		expect_rx_rsp(i, (uint16_t)(1000 + i), NETRXF_more_data, PG);
		expect_page(40 + i, buf + i * PG, PG);
	}
	expect_rx_rsp(4, 1004, 0, (int16_t)(len - 4 * PG));
	expect_page(44, buf + 4 * PG, len - 4 * PG);
	assert_int_equal(fx->rxq.stats.bytes, len);
}

/* A jumbo frame: every segment stays inside its page and they add up to the packet. */
static void test_rx_copy_plan_pages(void **state)
{
	const uint32_t len = 9001;
	struct engine_rx_pkt p = rand_pkt(len, 6);
	uint32_t sum = 0;
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(4, 0, 60);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxb->nr_segs, 3);
	for (unsigned k = 0; k < fx->rxb->nr_segs; k++) {
		const struct engine_copy_seg *s = &fx->rxb->segs[k];

		assert_true((uint32_t)s->dest.foreign.offset + s->len <= PG);
		assert_int_equal(s->dest.foreign.ref, 60 + k);
		assert_ptr_equal(s->source.virt, buf + sum);
		sum += s->len;
	}
	assert_int_equal(sum, len);
}

static void test_rx_max_data_slots(void **state)
{
	struct engine_rx_pkt p = rand_pkt(ENGINE_RX_MAX_DATA_SLOTS * PG, 7);
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(40, 0, 100);
	/* one byte too many: never deliverable, nothing consumed */
	p.len = ENGINE_RX_MAX_DATA_SLOTS * PG + 1;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EMSGSIZE);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxb->nr_pkts, 0);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_TOO_BIG], 1);
	/* exactly 18 pages fit */
	p.len = ENGINE_RX_MAX_DATA_SLOTS * PG;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxq.ring.req_cons, ENGINE_RX_MAX_DATA_SLOTS);
	rx_finish();
	for (RING_IDX i = 0; i < ENGINE_RX_MAX_DATA_SLOTS; i++) {
		expect_rx_rsp(i, (uint16_t)i,
			      i + 1 < ENGINE_RX_MAX_DATA_SLOTS ? NETRXF_more_data : 0, PG);
		expect_page(100 + i, buf + i * PG, PG);
	}
}

static void test_rx_no_sg(void **state)
{
	struct engine_rx_config c = fixture_rx_default_cfg();
	struct engine_rx_pkt p = rand_pkt(PG + 1, 8);
	(void)state;

	c.sg = false;
	fixture_rx_engine(&c);
	fixture_rx_post(4, 0, 10);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EMSGSIZE);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	p.len = PG;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	expect_rx_rsp(0, 0, 0, PG);
}

/* TSO: extra_info | csum_blank | data_validated; GSO extra in the 2nd slot; data resumes in the 3rd. */
static void test_rx_gso(void **state)
{
	struct engine_rx_pkt p = tcp_pkt(4, 6000, 9);
	const netif_extra_info_t *ex;
	(void)state;

	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.meta.gso_size = 1448;
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	p.meta.csum_start = (uint16_t)fi.l4_off;
	p.meta.csum_offset = 16;
	fixture_rx_engine(NULL);
	fixture_rx_post(5, 300, 70);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxq.ring.req_cons, 3);
	assert_int_equal(fx->rxb->nr_segs, 2);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 3);
	expect_rx_rsp(0, 300, NETRXF_extra_info | NETRXF_more_data | NETRXF_csum_blank |
		      NETRXF_data_validated, PG);
	ex = fixture_rx_extra(1);
	assert_int_equal(ex->type, XEN_NETIF_EXTRA_TYPE_GSO);
	assert_int_equal(ex->flags, 0);
	assert_int_equal(ex->u.gso.size, 1448);
	assert_int_equal(ex->u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	expect_rx_rsp(2, 302, 0, (int16_t)(p.len - PG));
	expect_page(70, buf, PG);
	expect_page(71, buf, 0);           /* the extra slot's buffer gets no data */
	expect_page(72, buf + PG, p.len - PG);
	assert_int_equal(fx->rxq.stats.gso_packets, 1);
}

/* A small GSO packet: 2 slots, flags extra_info | csum_blank | data_validated, no more_data. */
static void test_rx_gso_small(void **state)
{
	struct engine_rx_pkt p = tcp_pkt(6, 10, 10);
	(void)state;

	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	p.meta.gso_size = 1220;
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	p.meta.csum_start = (uint16_t)fi.l4_off;
	p.meta.csum_offset = 16;
	fixture_rx_engine(NULL);
	fixture_rx_post(3, 1, 1);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 2);
	expect_rx_rsp(0, 1, NETRXF_extra_info | NETRXF_csum_blank | NETRXF_data_validated,
		      (int16_t)p.len);
	assert_int_equal(fixture_rx_extra(1)->u.gso.size, 1220);
	assert_int_equal(fixture_rx_extra(1)->u.gso.type, XEN_NETIF_GSO_TYPE_TCPV6);
}

static void test_rx_gso_not_negotiated(void **state)
{
	struct engine_rx_config c = fixture_rx_default_cfg();
	struct engine_rx_pkt p = tcp_pkt(4, 3000, 11);
	(void)state;

	c.gso_tcpv4 = false;
	fixture_rx_engine(&c);
	fixture_rx_post(4, 0, 10);
	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.meta.gso_size = 1448;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EOPNOTSUPP);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxb->nr_pkts, 0);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_GSO], 1);
	/* TCPv6 is negotiated, TCPv4 is not: the v6 one goes */
	p = tcp_pkt(6, 3000, 12);
	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	p.meta.gso_size = 1428;
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
}

/* Only 2 posted for a packet that needs 3: -EAGAIN, nothing consumed; then it goes. */
static void test_rx_eagain(void **state)
{
	struct engine_rx_pkt p = rand_pkt(2 * PG + 1, 13);
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(2, 0, 10);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EAGAIN);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxb->nr_pkts, 0);
	assert_int_equal(fx->rxb->nr_segs, 0);
	assert_int_equal(fx->rxq.stats.dropped, 0);
	assert_false(rx_finish());
	assert_int_equal(fixture_rx_rsp_prod(), 0);
	fixture_rx_post(1, 2, 12);
	engine_rx_batch_reset(fx->rxb);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	expect_rx_rsp(2, 2, 0, 1);
	expect_page(12, buf + 2 * PG, 1);
}

static void test_rx_wait(void **state)
{
	bool notify;
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(1, 0, 10);
	assert_int_equal(engine_rx_posted(&fx->rxq), 1);
	assert_false(engine_rx_wait(&fx->rxq, 3));
	assert_int_equal(fx->rxs->req_event, fx->rxq.ring.req_cons + 3);
	/* the frontend's second post (to 2) is not the one asked for; the third is */
	fixture_rx_push(1, 11);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fx->rxf, notify);
	assert_false(notify);
	fixture_rx_push(2, 12);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fx->rxf, notify);
	assert_true(notify);
	assert_int_equal(engine_rx_posted(&fx->rxq), 3);
	assert_true(engine_rx_wait(&fx->rxq, 3));
	assert_true(engine_rx_wait(&fx->rxq, 1));
}

/* Waiting after some consumption: the event index is relative to req_cons. */
static void test_rx_wait_after_consume(void **state)
{
	struct engine_rx_pkt p = rand_pkt(100, 14);
	(void)state;

	fixture_start_at(0, 1000);
	fixture_rx_engine(NULL);
	fixture_rx_post(5, 0, 10);
	for (int k = 0; k < 5; k++)
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(engine_rx_posted(&fx->rxq), 0);
	assert_false(engine_rx_wait(&fx->rxq, 2));
	assert_int_equal(fx->rxs->req_event, 1005 + 2);
}

static void test_rx_copy_failure(void **state)
{
	struct engine_rx_pkt small = rand_pkt(200, 15);
	struct engine_rx_pkt big;
	uint8_t before[FIX_PAGE];
	const uint8_t *after = (const uint8_t *)fx->rxs;
	size_t lo, hi;
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(5, 10, 20);   /* slot 4 stays a posted, unconsumed canary */
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &small), 0);
	big = rand_pkt(PG + 300, 16);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &big), 0);
	small = rand_pkt(200, 15);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &small), 0);
	assert_int_equal(fx->rxq.ring.req_cons, 4);
	fixture_fail_ref(22);        /* the second page of the big packet */
	/* Until the publish, the consumed slots still hold the frontend's requests. */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(RING_GET_REQUEST(&fx->rxf, i)->gref, 20 + i);
	memcpy(before, fx->rxs, FIX_PAGE);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 4);
	expect_rx_rsp(0, 10, 0, 200);
	expect_rx_rsp(1, 11, NETRXF_more_data, NETIF_RSP_ERROR);
	expect_rx_rsp(2, 12, 0, NETIF_RSP_ERROR);
	expect_rx_rsp(3, 13, 0, 200);
	/* nothing else in the page changed: only the four responses and rsp_prod */
	lo = (size_t)((const uint8_t *)&fx->rxs->ring[0] - after);
	hi = (size_t)((const uint8_t *)&fx->rxs->ring[4] - after);
	assert_memory_equal(after, before, 8);              /* req_prod, req_event */
	assert_memory_equal(after + 12, before + 12, lo - 12); /* rsp_event .. slot 0 */
	assert_memory_equal(after + hi, before + hi, FIX_PAGE - hi);
	assert_int_equal(RING_GET_REQUEST(&fx->rxf, 4)->id, 14);
	assert_int_equal(RING_GET_REQUEST(&fx->rxf, 4)->gref, 24);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_COPY], 1);
	assert_int_equal(fx->rxq.stats.packets, 2);
}

/* A GSO packet whose copy fails: data slots get ERROR, flags and the GSO extra stay. */
static void test_rx_copy_failure_gso(void **state)
{
	struct engine_rx_pkt p = tcp_pkt(4, 5000, 17);
	(void)state;

	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.meta.gso_size = 1000;
	fixture_rx_engine(NULL);
	fixture_rx_post(4, 0, 10);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	fixture_fail_ref(10);
	rx_finish();
	expect_rx_rsp(0, 0, NETRXF_extra_info | NETRXF_more_data, NETIF_RSP_ERROR);
	assert_int_equal(fixture_rx_extra(1)->type, XEN_NETIF_EXTRA_TYPE_GSO);
	assert_int_equal(fixture_rx_extra(1)->u.gso.size, 1000);
	expect_rx_rsp(2, 2, 0, NETIF_RSP_ERROR);
	assert_int_equal(fixture_rx_rsp_prod(), 3);
}

static void test_rx_csum_flags(void **state)
{
	struct engine_rx_pkt p = tcp_pkt(4, 100, 18);
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(3, 0, 10);
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	p.meta.csum_start = (uint16_t)fi.l4_off;
	p.meta.csum_offset = 16;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	p.meta.csum = ENGINE_CSUM_VALIDATED;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	p.meta.csum = ENGINE_CSUM_NONE;
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	expect_rx_rsp(0, 0, NETRXF_csum_blank | NETRXF_data_validated, (int16_t)p.len);
	expect_rx_rsp(1, 1, NETRXF_data_validated, (int16_t)p.len);
	expect_rx_rsp(2, 2, 0, (int16_t)p.len);
}

/* Prepare a PARTIAL frame as a host stack hands it over: the field holds the pseudo-header sum. */
static struct engine_rx_pkt partial_pkt(int ipver, uint8_t proto, unsigned payload, uint32_t seed)
{
	struct engine_rx_pkt p;
	struct frame_spec s;

	memset(&s, 0, sizeof(s));
	s.ipver = ipver;
	s.proto = proto;
	s.payload = payload;
	s.seed = seed;
	memset(&p, 0, sizeof(p));
	p.data = buf;
	p.len = (uint32_t)fixture_build_frame(buf, &s, &fi);
	wr16(buf + fi.csum_off, ref_pseudo_folded(buf, &fi));
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	p.meta.csum_start = (uint16_t)fi.l4_off;
	p.meta.csum_offset = (uint16_t)(fi.csum_off - fi.l4_off);
	return p;
}

/* A frontend without checksum offload gets a finished checksum, never csum_blank. */
static void test_rx_csum_completed_for_frontend(void **state)
{
	struct engine_rx_config c = fixture_rx_default_cfg();
	(void)state;

	c.csum_blank = false;
	c.ipv6_csum_blank = false;
	fixture_rx_engine(&c);
	fixture_rx_post(4, 0, 10);
	for (unsigned k = 0; k < 4; k++) {
		struct engine_rx_pkt p = partial_pkt(k < 2 ? 4 : 6, k & 1 ? IPPROTO_UDP : IPPROTO_TCP,
						     321 + k, 19 + k);

		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
		fixture_grant_copy(fx->rxb->segs + fx->rxb->nr_segs - 1, 1);
		assert_true(ref_frame_csum_ok(fixture_page(10 + k), &fi));
	}
	engine_rx_complete(&fx->rxq, fx->rxb);
	for (RING_IDX i = 0; i < 4; i++) {
		assert_int_equal(fixture_rx_rsp(i)->flags & NETRXF_csum_blank, 0);
		assert_int_equal(fixture_rx_rsp(i)->flags & NETRXF_data_validated,
				 NETRXF_data_validated);
	}
	assert_int_equal(fx->rxq.stats.csum_completed, 4);
}

/* csum_blank without ipv6 offload: IPv4 stays partial, IPv6 is finished. */
static void test_rx_csum_ipv6_needs_feature(void **state)
{
	struct engine_rx_config c = fixture_rx_default_cfg();
	struct engine_rx_pkt p;
	(void)state;

	c.ipv6_csum_blank = false;
	fixture_rx_engine(&c);
	fixture_rx_post(2, 0, 10);
	p = partial_pkt(4, IPPROTO_TCP, 100, 30);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	p = partial_pkt(6, IPPROTO_UDP, 100, 31);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp(0)->flags, NETRXF_csum_blank | NETRXF_data_validated);
	assert_int_equal(fixture_rx_rsp(1)->flags & NETRXF_csum_blank, 0);
	assert_true(ref_frame_csum_ok(fixture_page(11), &fi));
	assert_int_equal(fx->rxq.stats.csum_completed, 1);
}

/* A partial checksum we cannot finish, for a frontend that cannot take it: dropped, nothing consumed. */
static void test_rx_csum_cannot_finish(void **state)
{
	struct engine_rx_config c = fixture_rx_default_cfg();
	struct engine_rx_pkt p;
	int r;
	(void)state;

	c.csum_blank = false;
	fixture_rx_engine(&c);
	fixture_rx_post(2, 0, 10);
	p = partial_pkt(4, IPPROTO_UDP, 100, 32);
	wr16(buf + fi.l3_off + 6, 0x2000);   /* an IP fragment */
	r = engine_rx_add(&fx->rxq, fx->rxb, &p);
	assert_true(r < 0);
	assert_int_not_equal(r, -EAGAIN);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxb->nr_pkts, 0);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_CSUM], 1);
}

static struct frame_info inner_fi;

/* A tunnelled frame in buf, its inner TCP checksum PARTIAL (ring_fixture.h). */
static struct engine_rx_pkt tunnelled_pkt(enum fixture_tunnel encap, int ipver, unsigned payload,
					  uint32_t seed, size_t *outer_len)
{
	struct engine_rx_pkt p;

	memset(&p, 0, sizeof(p));
	p.data = buf;
	p.len = (uint32_t)fixture_build_tunnelled(buf, encap, ipver, payload, seed, &inner_fi,
						 outer_len, &p.meta);
	return p;
}

/*
 * netif's csum_blank cannot say where an inner checksum is (the frontend
 * walks the headers and finds the outer UDP, or no TCP/UDP under GRE):
 * the backend finishes it where the host's csum_start says, for frontends
 * with and without checksum offload, VXLAN and GRE, IPv4 and IPv6 inside.
 */
static void test_rx_csum_tunnelled_inner(void **state)
{
	(void)state;
	for (int encap = FIXTURE_VXLAN; encap <= FIXTURE_GRE; encap++) {
		for (int ipver = 4; ipver <= 6; ipver += 2) {
			for (int blank = 0; blank <= 1; blank++) {
				struct engine_rx_config c = fixture_rx_default_cfg();
				struct engine_rx_pkt p;
				size_t outer;

				c.csum_blank = blank;
				c.ipv6_csum_blank = blank;
				fixture_rx_engine(&c);
				fixture_rx_post(1, 0, 10);
				p = tunnelled_pkt((enum fixture_tunnel)encap, ipver, 300, 40 + (uint32_t)encap,
						  &outer);
				assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
				rx_finish();
				/* Delivered checked and finished: no csum_blank the guest would misplace. */
				assert_int_equal(fixture_rx_rsp(0)->flags, NETRXF_data_validated);
				assert_true(ref_frame_csum_ok(fixture_page(10) + outer, &inner_fi));
				assert_int_equal(fx->rxq.stats.csum_completed, 1);
			}
		}
	}
}

/* A csum_start outside the frame is refused, never written past it. */
static void test_rx_csum_start_outside(void **state)
{
	struct engine_rx_config c = fixture_rx_default_cfg();
	struct engine_rx_pkt p;
	size_t outer;

	(void)state;
	fixture_rx_engine(&c);
	fixture_rx_post(2, 0, 10);
	p = tunnelled_pkt(FIXTURE_GRE, 4, 100, 7, &outer);
	p.meta.csum_start = (uint16_t)(p.len - 1);
	assert_true(engine_rx_add(&fx->rxq, fx->rxb, &p) < 0);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_CSUM], 1);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
}

static void test_rx_ring_wraps(void **state)
{
	struct engine_rx_pkt p = rand_pkt(10 * PG - 5, 33);
	(void)state;

	fixture_start_at(0, 250);
	fixture_rx_engine(NULL);
	fixture_rx_post(12, 500, 200);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 260);
	for (RING_IDX i = 0; i < 10; i++) {
		expect_rx_rsp(250 + i, (uint16_t)(500 + i), i < 9 ? NETRXF_more_data : 0,
			      (int16_t)(i < 9 ? PG : PG - 5));
		expect_page(200 + i, buf + i * PG, i < 9 ? PG : PG - 5);
	}
	assert_ptr_equal(fixture_rx_rsp(256), &fx->rxs->ring[0].rsp);
}

static void test_rx_index_wraps_32bit(void **state)
{
	struct engine_rx_pkt p = tcp_pkt(4, 3 * PG, 34);
	const RING_IDX start = 0xfffffffcu;
	(void)state;

	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.meta.gso_size = 1448;
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	fixture_start_at(0, start);
	fixture_rx_engine(NULL);
	fixture_rx_post(8, 0, 300);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), start + 5);
	assert_int_equal(fixture_rx_extra(start + 1)->type, XEN_NETIF_EXTRA_TYPE_GSO);
	expect_rx_rsp(start + 4, 4, 0, (int16_t)(p.len - 3 * PG));
	expect_page(304, buf + 3 * PG, p.len - 3 * PG);
}

static void test_rx_notify(void **state)
{
	struct engine_rx_pkt p = rand_pkt(60, 35);
	bool more;
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(10, 0, 10);
	RING_FINAL_CHECK_FOR_RESPONSES(&fx->rxf, more);
	assert_false(more);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_true(rx_finish());
	fx->rxs->rsp_event = fx->rxs->rsp_prod + 50;
	engine_rx_batch_reset(fx->rxb);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_false(rx_finish());
	/* the event falls on the last of three new responses */
	fx->rxs->rsp_event = fx->rxs->rsp_prod + 3;
	engine_rx_batch_reset(fx->rxb);
	for (int k = 0; k < 3; k++)
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_true(rx_finish());
	assert_int_equal(fixture_rx_rsp_prod(), 5);
}

static void test_rx_batch_of_packets(void **state)
{
	uint32_t lens[6] = { 60, 1514, PG, PG + 1, 3 * PG, 1 };
	uint32_t gref = 0;
	RING_IDX slot = 0;
	static uint8_t copy[6][3 * PG];
	(void)state;

	fixture_rx_engine(NULL);
	fixture_rx_post(20, 0, 0);
	for (int k = 0; k < 6; k++) {
		struct engine_rx_pkt p = rand_pkt(lens[k], 40 + (uint32_t)k);

		memcpy(copy[k], buf, lens[k]);
		p.data = copy[k];
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	}
	assert_int_equal(fx->rxb->nr_pkts, 6);
	assert_int_equal(fixture_rx_rsp_prod(), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 9);
	for (int k = 0; k < 6; k++) {
		assert_int_equal(fx->rxb->pkts[k].first, slot);
		for (uint32_t done = 0; done < lens[k]; done += PG) {
			uint32_t n = lens[k] - done > PG ? PG : lens[k] - done;

			expect_rx_rsp(slot, (uint16_t)slot, done + n < lens[k] ? NETRXF_more_data : 0,
				      (int16_t)n);
			expect_page(gref, copy[k] + done, n);
			slot++;
			gref++;
		}
	}
	assert_int_equal(fx->rxq.stats.packets, 6);
	assert_int_equal(fx->rxq.stats.responses, 9);
	assert_int_equal(fx->rxq.stats.batches, 1);
}

static void test_rx_slots(void **state)
{
	struct engine_rx_config c = fixture_rx_default_cfg();
	struct engine_rx_pkt p = rand_pkt(1, 50);
	enum engine_rx_drop why;
	(void)state;

	c.gso_tcpv6 = false;
	fixture_rx_engine(&c);
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 1);
	assert_int_equal(why, ENGINE_RX_DROP_NONE);
	p.len = PG;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 1);
	p.len = PG + 1;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 2);
	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.meta.gso_size = 1448;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 3);
	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 0);
	assert_int_equal(why, ENGINE_RX_DROP_GSO);
	p.meta.gso_type = XEN_NETIF_GSO_TYPE_NONE;
	p.len = 0;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 0);
	assert_int_equal(why, ENGINE_RX_DROP_EMPTY);
	p.len = ENGINE_RX_MAX_DATA_SLOTS * PG + 1;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 0);
	assert_int_equal(why, ENGINE_RX_DROP_TOO_BIG);
	/* nothing here touched the ring */
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	assert_int_equal(fx->rxq.stats.dropped, 0);
}

static void test_rx_posted_counts(void **state)
{
	struct engine_rx_pkt p = rand_pkt(PG + 1, 51);
	(void)state;

	fixture_rx_engine(NULL);
	assert_int_equal(engine_rx_posted(&fx->rxq), 0);
	fixture_rx_post(7, 0, 0);
	assert_int_equal(engine_rx_posted(&fx->rxq), 7);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(engine_rx_posted(&fx->rxq), 5);
}

/* Lengths around every page multiple up to the 18-slot maximum, plus random ones. */
static void test_rx_length_sweep(void **state)
{
	uint32_t lens[80];
	unsigned n = 0;
	uint8_t rnd[4];
	(void)state;

	for (uint32_t pg = 1; pg <= ENGINE_RX_MAX_DATA_SLOTS; pg++) {
		lens[n++] = pg * PG - 1;
		lens[n++] = pg * PG;
		if (pg < ENGINE_RX_MAX_DATA_SLOTS)
			lens[n++] = pg * PG + 1;
	}
	while (n < 80) {
		fixture_fill_random(rnd, 4, n);
		lens[n] = 1 + (uint32_t)(rnd[0] | rnd[1] << 8 | rnd[2] << 16) % (ENGINE_RX_MAX_DATA_SLOTS * PG);
		n++;
	}
	fixture_rx_engine(NULL);
	for (unsigned k = 0; k < n; k++) {
		struct engine_rx_pkt p = rand_pkt(lens[k], 60 + k);
		RING_IDX first = fx->rxq.ring.req_cons;
		unsigned slots = (lens[k] + PG - 1) / PG;
		uint32_t sum = 0;

		/* the frontend has seen every response so far and reposts pages 0.. */
		fixture_rx_post(ENGINE_RX_MAX_DATA_SLOTS, (uint16_t)k, 0);
		engine_rx_batch_reset(fx->rxb);
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
		assert_int_equal(fx->rxq.ring.req_cons - first, slots);
		rx_finish();
		for (unsigned i = 0; i < slots; i++) {
			const netif_rx_response_t *r = fixture_rx_rsp(first + i);

			assert_int_equal(r->flags, i + 1 < slots ? NETRXF_more_data : 0);
			assert_true(r->status > 0 && r->status <= (int)PG);
			assert_memory_equal(fixture_page(i), buf + sum, (size_t)r->status);
			sum += (uint32_t)r->status;
		}
		assert_int_equal(sum, lens[k]);
		/* drain what this packet left unused, so the next starts on a fresh post */
		{
			unsigned unused = engine_rx_posted(&fx->rxq);
			struct engine_rx_pkt one = rand_pkt(1, 0);

			engine_rx_batch_reset(fx->rxb);
			for (unsigned u = 0; u < unused; u++)
				assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &one), 0);
			rx_finish();
		}
	}
	assert_int_equal(fx->rxq.fault, ENGINE_FAULT_NONE);
}

/* ---- hash extras ---- */

static struct engine_rx_config hash_cfg(void)
{
	struct engine_rx_config c = fixture_rx_default_cfg();

	c.hash_extra = true;
	return c;
}

static void set_hash(struct engine_rx_pkt *p, uint8_t type, uint32_t hash)
{
	p->meta.has_hash = 1;
	p->meta.hash_type = type;
	p->meta.hash = hash;
}

static void expect_hash_extra(RING_IDX i, uint8_t eflags, uint8_t type, uint32_t hash)
{
	const netif_extra_info_t *ex = fixture_rx_extra(i);

	assert_int_equal(ex->type, XEN_NETIF_EXTRA_TYPE_HASH);
	assert_int_equal(ex->flags, eflags);
	assert_int_equal(ex->u.hash.type, type);
	assert_int_equal(ex->u.hash.algorithm, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	/* little-endian on the ring (netif.h: LSB first) */
	assert_int_equal(ex->u.hash.value[0], (uint8_t)hash);
	assert_int_equal(ex->u.hash.value[1], (uint8_t)(hash >> 8));
	assert_int_equal(ex->u.hash.value[2], (uint8_t)(hash >> 16));
	assert_int_equal(ex->u.hash.value[3], (uint8_t)(hash >> 24));
}

/* A one-slot packet with a hash: data slot, then the hash extra; its buffer gets no data. */
static void test_rx_hash_extra(void **state)
{
	struct engine_rx_config c = hash_cfg();
	struct engine_rx_pkt p = tcp_pkt(4, 100, 21);
	enum engine_rx_drop why;
	(void)state;

	set_hash(&p, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0x51ccc178);
	fixture_rx_engine(&c);
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 2);
	fixture_rx_post(3, 40, 20);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxq.ring.req_cons, 2);
	assert_int_equal(fx->rxb->nr_segs, 1);
	assert_int_equal(fx->rxb->pkts[0].nr_extras, 1);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 2);
	expect_rx_rsp(0, 40, NETRXF_extra_info, (int16_t)p.len);
	expect_hash_extra(1, 0, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0x51ccc178);
	expect_page(20, buf, p.len);
	expect_page(21, buf, 0);
	assert_int_equal(fx->rxq.stats.hash_extras, 1);
}

/* GSO and hash: GSO extra first with MORE, then the hash, then the second data slot. */
static void test_rx_hash_and_gso(void **state)
{
	struct engine_rx_config c = hash_cfg();
	struct engine_rx_pkt p = tcp_pkt(6, 6000, 22);
	enum engine_rx_drop why;
	(void)state;

	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	p.meta.gso_size = 1440;
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	p.meta.csum_start = (uint16_t)fi.l4_off;
	p.meta.csum_offset = 16;
	set_hash(&p, _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP, 0x40207d3d);
	fixture_rx_engine(&c);
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 4);
	/* three posted for four: nothing consumed */
	fixture_rx_post(3, 0, 30);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), -EAGAIN);
	assert_int_equal(fx->rxq.ring.req_cons, 0);
	fixture_rx_post(1, 3, 33);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	assert_int_equal(fx->rxb->pkts[0].nr_extras, 2);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 4);
	expect_rx_rsp(0, 0, NETRXF_extra_info | NETRXF_more_data | NETRXF_csum_blank |
		      NETRXF_data_validated, PG);
	assert_int_equal(fixture_rx_extra(1)->type, XEN_NETIF_EXTRA_TYPE_GSO);
	assert_int_equal(fixture_rx_extra(1)->flags, XEN_NETIF_EXTRA_FLAG_MORE);
	assert_int_equal(fixture_rx_extra(1)->u.gso.size, 1440);
	expect_hash_extra(2, 0, _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP, 0x40207d3d);
	expect_rx_rsp(3, 3, 0, (int16_t)(p.len - PG));
	expect_page(30, buf, PG);
	expect_page(31, buf, 0);
	expect_page(32, buf, 0);
	expect_page(33, buf + PG, p.len - PG);
}

/* No hash extra unless the frontend takes them and the type is one netif.h names. */
static void test_rx_hash_not_sent(void **state)
{
	struct engine_rx_config c = hash_cfg();
	struct engine_rx_pkt p = tcp_pkt(4, 100, 23);
	enum engine_rx_drop why;
	(void)state;

	set_hash(&p, _XEN_NETIF_CTRL_HASH_TYPE_IPV4, 1);
	fixture_rx_engine(NULL);
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 1);
	fixture_rx_post(2, 0, 10);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp_prod(), 1);
	expect_rx_rsp(0, 0, 0, (int16_t)p.len);

	fixture_start_at(0, 0);
	fixture_rx_engine(&c);
	p.meta.hash_type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP + 1;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 1);
	p.meta.hash_type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
	p.meta.has_hash = 0;
	assert_int_equal(engine_rx_slots(&fx->rxq, &p, &why), 1);
	assert_int_equal(fx->rxq.stats.hash_extras, 0);
}

/* A failed copy: data slots become errors, both extras stay as they were. */
static void test_rx_hash_copy_failure(void **state)
{
	struct engine_rx_config c = hash_cfg();
	struct engine_rx_pkt p = tcp_pkt(4, 6000, 24);
	(void)state;

	p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.meta.gso_size = 1448;
	p.meta.csum = ENGINE_CSUM_PARTIAL;
	p.meta.csum_start = (uint16_t)fi.l4_off;
	p.meta.csum_offset = 16;
	set_hash(&p, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0xc626b0ea);
	fixture_rx_engine(&c);
	fixture_rx_post(4, 0, 50);
	fixture_fail_ref(53);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	rx_finish();
	assert_int_equal(fixture_rx_rsp(0)->status, NETIF_RSP_ERROR);
	assert_int_equal(fixture_rx_extra(1)->type, XEN_NETIF_EXTRA_TYPE_GSO);
	expect_hash_extra(2, 0, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0xc626b0ea);
	assert_int_equal(fixture_rx_rsp(3)->status, NETIF_RSP_ERROR);
	assert_int_equal(fx->rxq.stats.drop[ENGINE_RX_DROP_COPY], 1);
}

/*
 * The round trip: the backend engine hashes host packets and places them,
 * the frontend engine takes them off the same ring with their hash (and
 * GSO) metadata intact.
 */
static void test_rx_hash_roundtrip(void **state)
{
	static struct engine_front_rx_queue fq;
	static struct engine_front_buf bufs[64];
	static struct engine_front_rx_batch fb;
	static uint8_t arena[ENGINE_FRONT_RX_ARENA_MIN * 2];
	struct engine_front_rx_config fcfg = { .gso_tcpv4 = true, .gso_tcpv6 = true };
	struct engine_rx_config c = hash_cfg();
	struct engine_hash h;
	struct engine_rx_pkt p;
	static uint8_t sent[3][8000];
	uint32_t lens[3];
	(void)state;

	for (unsigned i = 0; i < 64; i++)
		bufs[i] = (struct engine_front_buf){ fixture_page(100 + i), 100 + i };
	assert_int_equal(engine_front_rx_init(&fq, fx->rxs, &fcfg, bufs, 64), 0);
	assert_int_equal(engine_front_rx_batch_init(&fb, arena, sizeof(arena)), 0);
	engine_front_rx_refill(&fq);
	fixture_rx_engine(&c);

	engine_hash_init(&h, 4);
	h.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	h.flags = ENGINE_HASH_FLAGS_ALL;
	for (unsigned i = 0; i < ENGINE_HASH_KEY_MAX; i++)
		h.key[i] = (uint8_t)(i * 31 + 7);
	for (unsigned k = 0; k < 3; k++) {
		p = tcp_pkt(k == 1 ? 6 : 4, k == 2 ? 5000 : 300, 30 + k);
		if (k == 2) {
			p.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
			p.meta.gso_size = 1448;
			p.meta.csum = ENGINE_CSUM_PARTIAL;
			p.meta.csum_start = (uint16_t)fi.l4_off;
			p.meta.csum_offset = 16;
		}
		assert_true(engine_hash_packet(&h, p.data, p.len, &p.meta) >= 0);
		assert_int_equal(p.meta.has_hash, 1);
		/* each its own bytes: the copies run after all three are placed */
		memcpy(sent[k], p.data, p.len);
		p.data = sent[k];
		lens[k] = p.len;
		assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
	}
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_complete(&fx->rxq, fx->rxb);

	assert_int_equal(engine_front_rx_poll(&fq, &fb, 64), 3);
	assert_int_equal(fq.fault, ENGINE_FRONT_FAULT_NONE);
	for (unsigned k = 0; k < 3; k++) {
		const struct engine_front_rx_pkt *r = &fb.pkts[k];
		struct engine_pkt_meta m;

		assert_int_equal(r->len, lens[k]);
		assert_memory_equal(r->data, sent[k], lens[k]);
		assert_true(engine_hash_packet(&h, sent[k], lens[k], &m) >= 0);
		assert_int_equal(r->meta.has_hash, 1);
		assert_int_equal(r->meta.hash, m.hash);
		assert_int_equal(r->meta.hash_type, k == 1 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP
							   : _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
		assert_int_equal(r->meta.gso_type, k == 2 ? XEN_NETIF_GSO_TYPE_TCPV4
							  : XEN_NETIF_GSO_TYPE_NONE);
	}
	assert_int_equal(fq.stats.extras_ignored, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rx_zero_length),
		T(test_rx_128),
		T(test_rx_one_page),
		T(test_rx_page_plus_100),
		T(test_rx_4_7_pages),
		T(test_rx_copy_plan_pages),
		T(test_rx_max_data_slots),
		T(test_rx_no_sg),
		T(test_rx_gso),
		T(test_rx_gso_small),
		T(test_rx_gso_not_negotiated),
		T(test_rx_eagain),
		T(test_rx_wait),
		T(test_rx_wait_after_consume),
		T(test_rx_copy_failure),
		T(test_rx_copy_failure_gso),
		T(test_rx_csum_flags),
		T(test_rx_csum_completed_for_frontend),
		T(test_rx_csum_ipv6_needs_feature),
		T(test_rx_csum_cannot_finish),
		T(test_rx_csum_tunnelled_inner),
		T(test_rx_csum_start_outside),
		T(test_rx_ring_wraps),
		T(test_rx_index_wraps_32bit),
		T(test_rx_notify),
		T(test_rx_batch_of_packets),
		T(test_rx_slots),
		T(test_rx_posted_counts),
		T(test_rx_length_sweep),
		T(test_rx_hash_extra),
		T(test_rx_hash_and_gso),
		T(test_rx_hash_not_sent),
		T(test_rx_hash_copy_failure),
		T(test_rx_hash_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
