/* SPDX-License-Identifier: MIT */
/* test_tx.c - guest TX: requests to packets, copy plans, responses, offloads and notifications. */
#include "ring_fixture.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static uint8_t frame[70000];
static struct frame_info fi;

/* Random bytes (no IP semantics: only sent without checksum flags). */
static void rand_frame(size_t len, uint32_t seed)
{
	fixture_fill_random(frame, len, seed);
}

static size_t ip_frame(int ipver, uint8_t proto, unsigned payload, uint32_t seed)
{
	struct frame_spec s;

	memset(&s, 0, sizeof(s));
	s.ipver = ipver;
	s.proto = proto;
	s.payload = payload;
	s.seed = seed;
	s.ip_csum_garbage = true;
	return fixture_build_frame(frame, &s, &fi);
}

static void expect_rsp(RING_IDX i, uint16_t id, int16_t status)
{
	const netif_tx_response_t *r = fixture_tx_rsp(i);

	assert_int_equal(r->status, status);
	if (status != NETIF_RSP_NULL)
		assert_int_equal(r->id, id);
}

static const struct engine_tx_pkt *pkt(unsigned i)
{
	assert_true(i < fx->txb->nr_pkts);
	return &fx->txb->pkts[i];
}

static netif_extra_info_t hash_extra(uint8_t htype, uint32_t v)
{
	netif_extra_info_t e;

	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_HASH;
	e.u.hash.type = htype;
	e.u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	e.u.hash.value[0] = (uint8_t)v;
	e.u.hash.value[1] = (uint8_t)(v >> 8);
	e.u.hash.value[2] = (uint8_t)(v >> 16);
	e.u.hash.value[3] = (uint8_t)(v >> 24);
	return e;
}

static netif_extra_info_t gso_extra(uint16_t mss, uint8_t type)
{
	netif_extra_info_t e;

	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_GSO;
	e.u.gso.size = mss;
	e.u.gso.type = type;
	return e;
}

/* ---- ring -> packet ---- */

static void test_empty_ring(void **state)
{
	uint8_t before[FIX_PAGE];
	netif_tx_back_ring_t ring_before;
	(void)state;

	fixture_tx_engine(NULL);
	memcpy(before, fx->txs, FIX_PAGE);
	ring_before = fx->txq.ring;
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 64), 0);
	assert_int_equal(fx->txb->nr_pkts, 0);
	assert_int_equal(fx->txb->nr_segs, 0);
	assert_int_equal(fx->txb->nr_rsps, 0);
	assert_false(engine_tx_respond(&fx->txq, fx->txb));
	/* an empty batch leaves both rings byte-for-byte alone */
	assert_memory_equal(fx->txs, before, FIX_PAGE);
	assert_memory_equal(&fx->txq.ring, &ring_before, sizeof(ring_before));
	assert_int_equal(fx->txq.stats.requests, 0);
}

static void test_one_request(void **state)
{
	const uint16_t own[1] = { 69 };
	const struct engine_copy_seg *s;
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(69, 1);
	fixture_tx_packet(frame, own, 1, 9, 17, 0, 0x4321, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 1);
	assert_int_equal(fx->txb->nr_pkts, 1);
	assert_int_equal(fx->txb->nr_segs, 1);
	assert_int_equal(pkt(0)->len, 69);
	assert_int_equal(pkt(0)->kind, ENGINE_TX_PACKET);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_NONE);
	assert_int_equal(pkt(0)->meta.gso_type, XEN_NETIF_GSO_TYPE_NONE);
	/* the copy plan: gref 9 at offset 17 of the peer, into the packet's bytes */
	s = &fx->txb->segs[0];
	assert_int_equal(s->flags, GNTCOPY_source_gref);
	assert_int_equal(s->source.foreign.ref, 9);
	assert_int_equal(s->source.foreign.offset, 17);
	assert_int_equal(s->source.foreign.domid, FIX_PEER_DOMID);
	assert_int_equal(s->len, 69);
	assert_ptr_equal(s->dest.virt, pkt(0)->data);
	assert_int_equal(s->status, GNTST_okay);
	assert_memory_equal(pkt(0)->data, frame, 69);

	assert_int_equal(fixture_tx_rsp_prod(), 0);  /* nothing published before respond */
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_rsp_prod(), 1);
	assert_int_equal(fx->txq.ring.rsp_prod_pvt, fx->txs->req_prod);
	expect_rsp(0, 0x4321, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.packets, 1);
	assert_int_equal(fx->txq.stats.bytes, 69);
	assert_int_equal(fx->txq.stats.requests, 1);
	assert_int_equal(fx->txq.stats.dropped, 0);
}

/* 100 (more_data) + 40: the first slot holds 60 of its own bytes. */
static void test_two_requests(void **state)
{
	const uint16_t own[2] = { 60, 40 };
	const struct engine_copy_seg *s;
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(100, 2);
	fixture_tx_packet(frame, own, 2, 30, 100, 0, 10, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	assert_int_equal(fx->txb->nr_pkts, 1);
	assert_int_equal(pkt(0)->len, 100);
	assert_int_equal(fx->txb->nr_segs, 2);
	s = fx->txb->segs;
	assert_int_equal(s[0].len, 60);
	assert_int_equal(s[1].len, 40);
	assert_int_equal(s[0].source.foreign.ref, 30);
	assert_int_equal(s[1].source.foreign.ref, 31);
	assert_ptr_equal((uint8_t *)s[1].dest.virt, (uint8_t *)s[0].dest.virt + 60);
	assert_memory_equal(pkt(0)->data, frame, 100);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 10, NETIF_RSP_OKAY);
	expect_rsp(1, 11, NETIF_RSP_OKAY);
	assert_int_equal(fixture_tx_rsp_prod(), 2);
}

static void test_three_requests(void **state)
{
	const uint16_t own[3] = { 110, 40, 50 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(200, 3);
	fixture_tx_packet(frame, own, 3, 40, 0, 0, 500, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	assert_int_equal(pkt(0)->len, 200);
	assert_int_equal(fx->txb->nr_segs, 3);
	assert_int_equal(fx->txb->segs[0].len, 110);
	assert_int_equal(fx->txb->segs[1].len, 40);
	assert_int_equal(fx->txb->segs[2].len, 50);
	assert_memory_equal(pkt(0)->data, frame, 200);
	engine_tx_respond(&fx->txq, fx->txb);
	for (RING_IDX i = 0; i < 3; i++)
		expect_rsp(i, (uint16_t)(500 + i), NETIF_RSP_OKAY);
}

/* 150 (extra_info | more_data), GSO extra, 50: the data continues two slots after the first. */
static void test_extra_info_gso(void **state)
{
	const uint16_t own[2] = { 100, 50 };
	netif_extra_info_t ex = gso_extra(250, XEN_NETIF_GSO_TYPE_TCPV4);
	(void)state;

	fixture_tx_engine(NULL);
	assert_int_equal(ip_frame(4, IPPROTO_TCP, 150 - 54, 4), 150);
	fixture_tx_packet(frame, own, 2, 50, 0, NETTXF_csum_blank, 1, &ex, 1);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	assert_int_equal(fx->txb->nr_pkts, 1);
	assert_int_equal(pkt(0)->len, 150);
	assert_int_equal(fx->txb->nr_segs, 2);
	assert_int_equal(fx->txb->segs[0].len, 100);
	assert_int_equal(fx->txb->segs[1].len, 50);
	/* the second data slot is ring slot 2 (gref 51 was pushed there) */
	assert_int_equal(fx->txb->segs[1].source.foreign.ref, 51);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->meta.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(pkt(0)->meta.gso_size, 250);
	assert_int_equal(pkt(0)->meta.hdr_len, 54);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_PARTIAL);
	assert_int_equal(pkt(0)->meta.csum_start, 34);
	assert_int_equal(pkt(0)->meta.csum_offset, 16);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_OKAY);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	expect_rsp(2, 2, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.gso_packets, 1);
}

/* A lone more_data request: nothing consumed until the rest is published. */
static void test_partial_packet_waits(void **state)
{
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(300, 5);
	memcpy(fixture_page(1), frame, 200);
	memcpy(fixture_page(2), frame + 200, 100);
	fixture_tx_push(1, 0, 300, NETTXF_more_data, 7);
	fixture_tx_publish();
	for (int k = 0; k < 3; k++) {
		assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 64), 0);
		assert_int_equal(fx->txq.ring.req_cons, 0);
		assert_int_equal(fx->txb->nr_rsps, 0);
		assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
	}
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_rsp_prod(), 0);
	fixture_tx_push(2, 0, 100, 0, 8);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	assert_int_equal(pkt(0)->len, 300);
	assert_memory_equal(pkt(0)->data, frame, 300);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 7, NETIF_RSP_OKAY);
	expect_rsp(1, 8, NETIF_RSP_OKAY);
}

/* A complete packet before an incomplete one: only the complete one is consumed. */
static void test_partial_after_complete(void **state)
{
	const uint16_t own[1] = { 64 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(64, 6);
	fixture_tx_packet(frame, own, 1, 3, 0, 0, 1, NULL, 0);
	fixture_tx_push(4, 0, 100, NETTXF_more_data, 2);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 1);
	assert_int_equal(fx->txq.ring.req_cons, 1);
	assert_int_equal(fx->txb->nr_pkts, 1);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_rsp_prod(), 1);
}

/* Extra info announced but not yet published, or a chain not yet ended: wait. */
static void test_extra_not_yet_published(void **state)
{
	netif_extra_info_t ex = hash_extra(_XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0x11223344);
	size_t len = ip_frame(4, IPPROTO_TCP, 500, 7);
	(void)state;

	fixture_tx_engine(NULL);
	memcpy(fixture_page(5), frame, len);
	fixture_tx_push(5, 0, (uint16_t)len, NETTXF_extra_info | NETTXF_csum_blank, 9);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 64), 0);
	assert_int_equal(fx->txq.ring.req_cons, 0);
	/* the first extra says another follows, which is not there yet */
	ex.flags = XEN_NETIF_EXTRA_FLAG_MORE;
	fixture_tx_push_extra(&ex);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, 64), 0);
	assert_int_equal(fx->txq.ring.req_cons, 0);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
	fixture_tx_push_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->len, len);
	assert_true(pkt(0)->meta.has_hash);
	assert_int_equal(pkt(0)->meta.hash, 0x11223344);
	assert_int_equal(pkt(0)->meta.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 9, NETIF_RSP_OKAY);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	expect_rsp(2, 0, NETIF_RSP_NULL);
}

/* Three requests straddling the end of the ring. */
static void test_ring_wraps(void **state)
{
	const uint16_t own[3] = { 100, 200, 300 };
	(void)state;

	fixture_start_at(254, 0);
	fixture_tx_engine(NULL);
	rand_frame(600, 8);
	fixture_tx_packet(frame, own, 3, 60, 8, 0, 70, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	assert_int_equal(pkt(0)->len, 600);
	assert_memory_equal(pkt(0)->data, frame, 600);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_rsp_prod(), 257);
	expect_rsp(254, 70, NETIF_RSP_OKAY);
	expect_rsp(255, 71, NETIF_RSP_OKAY);
	expect_rsp(256, 72, NETIF_RSP_OKAY);
	/* slot 256 is physical slot 0 */
	assert_ptr_equal(fixture_tx_rsp(256), &fx->txs->ring[0].rsp);
}

/* Indices crossing 2^32. */
static void test_index_wraps_32bit(void **state)
{
	const uint16_t own[2] = { 700, 300 };
	const RING_IDX start = 0xfffffffeu;
	(void)state;

	fixture_start_at(start, 0);
	fixture_tx_engine(NULL);
	for (int p = 0; p < 3; p++) {
		rand_frame(1000, 9 + (uint32_t)p);
		fixture_tx_packet(frame, own, 2, 100 + 2 * (uint32_t)p, 0, 0, (uint16_t)(10 * p), NULL, 0);
	}
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 6);
	assert_int_equal(fx->txb->nr_pkts, 3);
	assert_memory_equal(pkt(2)->data, frame, 1000);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_rsp_prod(), start + 6);
	expect_rsp(start + 4, 20, NETIF_RSP_OKAY);
	expect_rsp(start + 5, 21, NETIF_RSP_OKAY);
}

/* ---- packet -> responses ---- */

static void test_rsp_data_plus_extra(void **state)
{
	const uint16_t own[1] = { 80 };
	netif_extra_info_t ex = hash_extra(_XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0xcafef00d);
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(80, 10);
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 99, &ex, 1);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	assert_int_equal(fx->txb->nr_segs, 1);
	assert_true(pkt(0)->meta.has_hash);
	assert_int_equal(pkt(0)->meta.hash, 0xcafef00du);
	assert_int_equal(pkt(0)->meta.hash_type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 99, NETIF_RSP_OKAY);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	assert_int_equal(fixture_tx_rsp_prod(), 2);
}

/* 3 data requests + 1 extra: OKAY, NULL, OKAY (id 1034), OKAY (id 34). */
static void test_rsp_three_data_one_extra(void **state)
{
	netif_extra_info_t ex = hash_extra(_XEN_NETIF_CTRL_HASH_TYPE_IPV6, 1);
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(300, 11);
	memcpy(fixture_page(1), frame, 100);
	memcpy(fixture_page(2), frame + 100, 100);
	memcpy(fixture_page(3), frame + 200, 100);
	fixture_tx_push(1, 0, 300, NETTXF_more_data | NETTXF_extra_info, 5);
	fixture_tx_push_extra(&ex);
	fixture_tx_push(2, 0, 100, NETTXF_more_data, 1034);
	fixture_tx_push(3, 0, 100, 0, 34);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 4);
	assert_memory_equal(pkt(0)->data, frame, 300);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 5, NETIF_RSP_OKAY);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	expect_rsp(2, 1034, NETIF_RSP_OKAY);
	expect_rsp(3, 34, NETIF_RSP_OKAY);
}

static void check_bad_extra(uint8_t type)
{
	const uint16_t own[1] = { 64 };
	netif_extra_info_t ex;

	memset(&ex, 0, sizeof(ex));
	ex.type = type;
	rand_frame(64, type);
	fixture_tx_packet(frame, own, 1, 6, 0, 0, 0x77, &ex, 1);
	/* and a good packet behind it */
	fixture_tx_packet(frame, own, 1, 7, 0, 0, 0x78, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	assert_int_equal(fx->txb->nr_pkts, 2);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_BAD_EXTRA);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_NONE);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 0x77, NETIF_RSP_ERROR);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	expect_rsp(2, 0x78, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_BAD_EXTRA], 1);
	assert_int_equal(fx->txq.stats.dropped, 1);
	assert_int_equal(fx->txq.stats.packets, 1);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
}

static void test_rsp_invalid_extra_ff(void **state)
{
	(void)state;
	fixture_tx_engine(NULL);
	check_bad_extra(0xff);
}

static void test_rsp_invalid_extra_none(void **state)
{
	(void)state;
	fixture_tx_engine(NULL);
	check_bad_extra(XEN_NETIF_EXTRA_TYPE_NONE);
}

static void test_rsp_invalid_extra_max(void **state)
{
	(void)state;
	fixture_tx_engine(NULL);
	check_bad_extra(XEN_NETIF_EXTRA_TYPE_MAX);
}

/* The host refusing a packet is answered DROPPED, not ERROR. */
static void test_rsp_host_dropped(void **state)
{
	const uint16_t own[2] = { 50, 50 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(100, 12);
	fixture_tx_packet(frame, own, 2, 1, 0, 0, 3, NULL, 0);
	fixture_tx_packet(frame, own, 2, 3, 0, 0, 5, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 4);
	fx->txb->pkts[0].drop = ENGINE_TX_DROP_HOST;
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 3, NETIF_RSP_DROPPED);
	expect_rsp(1, 4, NETIF_RSP_DROPPED);
	expect_rsp(2, 5, NETIF_RSP_OKAY);
	expect_rsp(3, 6, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_HOST], 1);
	assert_int_equal(fx->txq.stats.packets, 1);
	assert_int_equal(fx->txq.stats.bytes, 100);
}

/* Refused after an OKAY answer: the counters move, the answers stay. */
static void test_host_refused_after_respond(void **state)
{
	const uint16_t own[2] = { 50, 50 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(100, 12);
	fixture_tx_packet(frame, own, 2, 1, 0, 0, 3, NULL, 0);
	fixture_tx_packet(frame, own, 2, 3, 0, 0, 5, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 4);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fx->txq.stats.packets, 2);
	engine_tx_host_refused(&fx->txq, &fx->txb->pkts[1]);
	for (unsigned i = 0; i < 4; i++)
		expect_rsp(i, (uint16_t)(3 + i), NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.packets, 1);
	assert_int_equal(fx->txq.stats.bytes, 100);
	assert_int_equal(fx->txq.stats.dropped, 1);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_HOST], 1);
}

/* Responses wrap the ring; the third carries id 3. */
static void test_rsp_wraps(void **state)
{
	const uint16_t own[1] = { 42 };
	(void)state;

	fixture_start_at(255, 0);
	fixture_tx_engine(NULL);
	rand_frame(42, 13);
	for (uint16_t id = 1; id <= 3; id++)
		fixture_tx_packet(frame, own, 1, id, 0, 0, id, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(255, 1, NETIF_RSP_OKAY);
	expect_rsp(256, 2, NETIF_RSP_OKAY);
	expect_rsp(257, 3, NETIF_RSP_OKAY);
	assert_int_equal(fx->txs->ring[1].rsp.id, 3);
}

/* ---- copy plan ---- */

static void test_copy_1900_500(void **state)
{
	const uint16_t own[2] = { 1400, 500 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(1900, 14);
	fixture_tx_packet(frame, own, 2, 20, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	assert_int_equal(fx->txb->nr_segs, 2);
	assert_int_equal(fx->txb->segs[0].len, 1400);
	assert_int_equal(fx->txb->segs[1].len, 500);
	assert_ptr_equal((uint8_t *)fx->txb->segs[1].dest.virt,
			 (uint8_t *)fx->txb->segs[0].dest.virt + 1400);
	assert_int_equal(pkt(0)->len, 1900);
	assert_memory_equal(pkt(0)->data, frame, 1900);
}

/*
 * FreeBSD splits a slot's copy at mbuf boundaries. Our policy differs: the
 * arena is contiguous and a slot never crosses its page, so every data slot
 * is exactly one segment, whatever its size.
 */
static void test_copy_one_segment_per_slot(void **state)
{
	const uint16_t own[4] = { 4096, 4096, 4096, 1000 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(13288, 15);
	fixture_tx_packet(frame, own, 4, 200, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 4);
	assert_int_equal(fx->txb->nr_segs, 4);
	for (unsigned k = 0; k < 4; k++) {
		const struct engine_copy_seg *s = &fx->txb->segs[k];

		assert_int_equal(s->len, own[k]);
		assert_int_equal(s->source.foreign.ref, 200 + k);
		assert_int_equal(s->source.foreign.offset, 0);
		assert_true(s->source.foreign.offset + s->len <= FIX_PAGE);
	}
	assert_int_equal(pkt(0)->len, 13288);
	assert_memory_equal(pkt(0)->data, frame, 13288);
}

/* The largest TX packet, 65535 bytes over 16 slots. */
static void test_copy_max_size_packet(void **state)
{
	uint16_t own[16];
	size_t total = 0;
	(void)state;

	for (int k = 0; k < 16; k++) {
		own[k] = k < 15 ? 4096 : (uint16_t)(65535 - 15 * 4096);
		total += own[k];
	}
	assert_int_equal(total, 65535);
	fixture_tx_engine(NULL);
	rand_frame(total, 16);
	fixture_tx_packet(frame, own, 16, 300, 0, 0, 0, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 16);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->len, 65535);
	assert_memory_equal(pkt(0)->data, frame, 65535);
}

/* Packets of many sizes, one batch: each gets its own room in the arena, correctly aligned. */
static void test_arena_sizes(void **state)
{
	static const uint16_t sizes[] = { 14, 15, 2048, 4095, 4096, 4097, 8192, 8193, 12289 };
	const unsigned n = sizeof(sizes) / sizeof(sizes[0]);
	uint32_t gref = 0;
	(void)state;

	fixture_tx_engine(NULL);
	for (unsigned p = 0; p < n; p++) {
		uint16_t own[4];
		unsigned slots = 0;
		size_t left = sizes[p];

		while (left) {
			own[slots] = (uint16_t)(left > 4096 ? 4096 : left);
			left -= own[slots++];
		}
		rand_frame(sizes[p], 100 + p);
		fixture_tx_packet(frame, own, slots, gref, 0, 0, (uint16_t)p, NULL, 0);
		gref += slots;
	}
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), (int)gref);
	assert_int_equal(fx->txb->nr_pkts, n);
	for (unsigned p = 0; p < n; p++) {
		const struct engine_tx_pkt *a = pkt(p);

		rand_frame(sizes[p], 100 + p);
		assert_int_equal(a->len, sizes[p]);
		assert_memory_equal(a->data, frame, sizes[p]);
		assert_int_equal((uintptr_t)(a->data - fx->arena) % ENGINE_TX_ARENA_ALIGN, 0);
		assert_true(a->data >= fx->arena);
		assert_true(a->data + a->len <= fx->arena + ENGINE_TX_ARENA_SIZE);
		if (p > 0)
			assert_true(pkt(p - 1)->data + pkt(p - 1)->len <= a->data);
	}
}

/* A whole ring of full-page packets fits the arena in one batch. */
static void test_arena_full_ring(void **state)
{
	const uint16_t own[1] = { 4096 };
	(void)state;

	fixture_tx_engine(NULL);
	for (uint32_t p = 0; p < ENGINE_TX_RING_SIZE; p++) {
		rand_frame(4096, p);
		fixture_tx_packet(frame, own, 1, p, 0, 0, (uint16_t)p, NULL, 0);
	}
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(100000), ENGINE_TX_RING_SIZE);
	assert_int_equal(fx->txb->nr_pkts, ENGINE_TX_RING_SIZE);
	for (uint32_t p = 0; p < ENGINE_TX_RING_SIZE; p++) {
		rand_frame(4096, p);
		assert_memory_equal(pkt(p)->data, frame, 4096);
	}
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_rsp_prod(), ENGINE_TX_RING_SIZE);
	expect_rsp(ENGINE_TX_RING_SIZE - 1, ENGINE_TX_RING_SIZE - 1, NETIF_RSP_OKAY);
}

/*
 * The smallest arena: batches stop when the next packet would not fit, and
 * the rest waits on the ring for the next call (the arena is an exact-size
 * allocation, so an overrun trips ASan).
 */
static void test_arena_min_splits_batches(void **state)
{
	uint8_t *small = malloc(ENGINE_TX_ARENA_MIN);
	uint16_t own[10];
	int total = 0, calls = 0;
	(void)state;

	assert_non_null(small);
	fixture_tx_engine(NULL);
	engine_tx_batch_init(fx->txb, small, ENGINE_TX_ARENA_MIN);
	for (int k = 0; k < 10; k++)
		own[k] = 4000;
	for (uint32_t p = 0; p < 4; p++) {
		rand_frame(40000, 500 + p);
		fixture_tx_packet(frame, own, 10, 10 * p, 0, 0, (uint16_t)(100 * p), NULL, 0);
	}
	fixture_tx_publish();
	while (total < 40) {
		int n = fixture_tx_run(256);

		assert_true(n > 0);
		assert_true(fx->txb->arena_used <= ENGINE_TX_ARENA_MIN);
		for (unsigned p = 0; p < fx->txb->nr_pkts; p++) {
			/* which packet this is: its first id is 100 x its number */
			unsigned which = fx->txb->rsps[pkt(p)->rsp_first].id / 100u;

			assert_int_equal(pkt(p)->len, 40000);
			rand_frame(40000, 500 + which);
			assert_memory_equal(pkt(p)->data, frame, 40000);
			assert_true(pkt(p)->data >= small);
			assert_true(pkt(p)->data + 40000 <= small + ENGINE_TX_ARENA_MIN);
		}
		engine_tx_respond(&fx->txq, fx->txb);
		total += n;
		calls++;
		assert_true(calls <= 4);
	}
	assert_int_equal(total, 40);
	assert_true(calls >= 2);    /* 4 x 40000 bytes cannot fit 65599 at once */
	assert_int_equal(fx->txq.stats.packets, 4);
	expect_rsp(39, 309, NETIF_RSP_OKAY);
	fixture_tx_engine(NULL);   /* detach the small arena before freeing it */
	free(small);
}

static void test_budget(void **state)
{
	const uint16_t own[1] = { 64 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(64, 17);
	for (uint16_t p = 0; p < 10; p++)
		fixture_tx_packet(frame, own, 1, p, 0, 0, p, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(4), 4);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_run(4), 4);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_run(4), 2);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fixture_tx_run(4), 0);
	assert_int_equal(fixture_tx_rsp_prod(), 10);
	for (RING_IDX i = 0; i < 10; i++)
		expect_rsp(i, (uint16_t)i, NETIF_RSP_OKAY);
}

/* ---- drops ---- */

/*
 * Runts (total under an Ethernet header) are answered ERROR on every slot;
 * this is also our form of FreeBSD's "error flag set: ERROR" case.
 */
static void test_runt(void **state)
{
	const uint16_t own13[1] = { 13 };
	const uint16_t own14[1] = { 14 };
	const uint16_t split[2] = { 8, 5 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(14, 18);
	fixture_tx_packet(frame, own13, 1, 1, 0, 0, 1, NULL, 0);
	fixture_tx_packet(frame, own14, 1, 2, 0, 0, 2, NULL, 0);
	fixture_tx_packet(frame, split, 2, 3, 0, 0, 3, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 4);
	assert_int_equal(fx->txb->nr_pkts, 3);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_RUNT);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(1)->len, 14);
	assert_memory_equal(pkt(1)->data, frame, 14);
	assert_int_equal(pkt(2)->drop, ENGINE_TX_DROP_RUNT);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_ERROR);
	expect_rsp(1, 2, NETIF_RSP_OKAY);
	expect_rsp(2, 3, NETIF_RSP_ERROR);
	expect_rsp(3, 4, NETIF_RSP_ERROR);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_RUNT], 2);
}

static void test_size_underflow(void **state)
{
	const uint16_t good[1] = { 60 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(200, 19);
	/* 100 (more) + 120: the fragment exceeds the total */
	fixture_tx_push(1, 0, 100, NETTXF_more_data, 1);
	fixture_tx_push(2, 0, 120, 0, 2);
	/* 100 (more) + 60 (more) + 50: the third exceeds the 40 left */
	fixture_tx_push(3, 0, 100, NETTXF_more_data, 3);
	fixture_tx_push(4, 0, 60, NETTXF_more_data, 4);
	fixture_tx_push(5, 0, 50, 0, 5);
	fixture_tx_packet(frame, good, 1, 6, 0, 0, 6, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 6);
	assert_int_equal(fx->txb->nr_pkts, 3);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_SIZE_UNDERFLOW);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_SIZE_UNDERFLOW);
	assert_int_equal(pkt(2)->drop, ENGINE_TX_DROP_NONE);
	assert_memory_equal(pkt(2)->data, frame, 60);
	engine_tx_respond(&fx->txq, fx->txb);
	for (RING_IDX i = 0; i < 5; i++)
		expect_rsp(i, (uint16_t)(i + 1), NETIF_RSP_ERROR);
	expect_rsp(5, 6, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_SIZE_UNDERFLOW], 2);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
}

/* A fragment exactly equal to what remains is legal: the first slot then holds none of its own. */
static void test_fragment_equal_to_rest(void **state)
{
	const uint16_t own[2] = { 0, 100 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(100, 20);
	fixture_tx_packet(frame, own, 2, 1, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->len, 100);
	assert_memory_equal(pkt(0)->data, frame, 100);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_OKAY);
	expect_rsp(1, 2, NETIF_RSP_OKAY);
}

/* Zero-length non-first fragments are legal and get no copy segment. */
static void test_zero_length_fragments(void **state)
{
	const uint16_t own[5] = { 40, 0, 20, 0, 0 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(60, 21);
	fixture_tx_packet(frame, own, 5, 1, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 5);
	assert_int_equal(fx->txb->nr_segs, 2);
	for (unsigned k = 0; k < fx->txb->nr_segs; k++)
		assert_true(fx->txb->segs[k].len > 0);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->len, 60);
	assert_memory_equal(pkt(0)->data, frame, 60);
	engine_tx_respond(&fx->txq, fx->txb);
	for (RING_IDX i = 0; i < 5; i++)
		expect_rsp(i, (uint16_t)(i + 1), NETIF_RSP_OKAY);
}

/* Write @len frame bytes from @from into page @gref at @offset. */
static void put_bytes(uint32_t gref, uint16_t offset, size_t from, size_t len)
{
	memcpy(fixture_page(gref) + offset, frame + from, len);
}

/* No copy segment of @from..@to crosses a page of the arena. */
static void expect_no_straddle(unsigned from, unsigned to)
{
	for (unsigned k = from; k < to; k++) {
		const struct engine_copy_seg *sg = &fx->txb->segs[k];
		size_t at = (size_t)((uint8_t *)sg->dest.virt - fx->arena);

		assert_true(at % ENGINE_PAGE_SIZE + sg->len <= ENGINE_PAGE_SIZE);
	}
}

/*
 * Data slots do not straddle two arena pages (each would cost the platform
 * a second copy operation): a multi-slot packet is placed so that its
 * second slot lands at its guest offset, so the full-page slots behind it
 * land on pages, whether the first slot fills the rest of its page or holds
 * the headers alone; a one-slot packet that would straddle starts on the
 * next page.
 */
static void test_arena_placement_follows_pages(void **state)
{
	const size_t b_len = 3096 + 4096 + 100, d_len = 66 + 1000 + 4096 + 50;
	size_t b_pos, c_pos, d_pos, d_at = 3000 + b_len + 4000;
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(d_at + d_len, 31);
	/* A: one slot of 3000 bytes */
	put_bytes(1, 0, 0, 3000);
	fixture_tx_push(1, 0, 3000, 0, 1);
	/* B: three slots, the first ending where its guest page ends */
	put_bytes(2, 1000, 3000, 3096);
	put_bytes(3, 0, 3000 + 3096, 4096);
	put_bytes(4, 0, 3000 + 3096 + 4096, 100);
	fixture_tx_push(2, 1000, (uint16_t)b_len, NETTXF_more_data, 2);
	fixture_tx_push(3, 0, 4096, NETTXF_more_data, 3);
	fixture_tx_push(4, 0, 100, 0, 4);
	/* C: one slot of 4000 bytes, which would straddle after B */
	put_bytes(5, 0, 3000 + b_len, 4000);
	fixture_tx_push(5, 0, 4000, 0, 5);
	/* D: Linux's shape: 66 bytes of headers, then a fragment from offset 3096 */
	put_bytes(6, 200, d_at, 66);
	put_bytes(7, 3096, d_at + 66, 1000);
	put_bytes(8, 0, d_at + 66 + 1000, 4096);
	put_bytes(9, 0, d_at + 66 + 1000 + 4096, 50);
	fixture_tx_push(6, 200, (uint16_t)d_len, NETTXF_more_data, 6);
	fixture_tx_push(7, 3096, 1000, NETTXF_more_data, 7);
	fixture_tx_push(8, 0, 4096, NETTXF_more_data, 8);
	fixture_tx_push(9, 0, 50, 0, 9);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 9);
	assert_int_equal(fx->txb->nr_pkts, 4);

	assert_ptr_equal(pkt(0)->data, fx->arena);
	b_pos = (size_t)(pkt(1)->data - fx->arena);
	assert_true(b_pos >= 3000);
	assert_int_equal(b_pos % ENGINE_PAGE_SIZE, 1000);
	c_pos = (size_t)(pkt(2)->data - fx->arena);
	assert_true(c_pos >= b_pos + b_len);
	assert_int_equal(c_pos % ENGINE_PAGE_SIZE, 0);
	d_pos = (size_t)(pkt(3)->data - fx->arena);
	assert_true(d_pos >= c_pos + 4000);
	assert_int_equal((d_pos + 66) % ENGINE_PAGE_SIZE, 3096);
	assert_true(d_pos + d_len <= ENGINE_TX_ARENA_SIZE);
	/* every segment of A, B and C; D's data slots (its headers may straddle) */
	expect_no_straddle(0, pkt(3)->seg_first);
	expect_no_straddle(pkt(3)->seg_first + 1u, fx->txb->nr_segs);
	assert_memory_equal(pkt(0)->data, frame, 3000);
	assert_memory_equal(pkt(1)->data, frame + 3000, b_len);
	assert_memory_equal(pkt(2)->data, frame + 3000 + b_len, 4000);
	assert_memory_equal(pkt(3)->data, frame + d_at, d_len);
}

/* A packet of @n data slots, 10 bytes each; then a one-slot packet. */
static void push_n_slot_packet(unsigned n, uint16_t id0)
{
	uint16_t own[32];

	for (unsigned k = 0; k < n; k++)
		own[k] = 10;
	rand_frame(10 * n, n);
	fixture_tx_packet(frame, own, n, 0, 0, 0, id0, NULL, 0);
}

static void check_slot_count(unsigned n, uint8_t expect_drop)
{
	const uint16_t good[1] = { 90 };

	fixture_tx_engine(NULL);
	push_n_slot_packet(n, 1000);
	rand_frame(90, 777);
	fixture_tx_packet(frame, good, 1, 100, 0, 0, 7, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(256), (int)n + 1);
	assert_int_equal(fx->txb->nr_pkts, 2);
	assert_int_equal(pkt(0)->drop, expect_drop);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_NONE);
	assert_memory_equal(pkt(1)->data, frame, 90);
	/* a dropped packet is never copied */
	assert_int_equal(fx->txb->nr_segs, expect_drop ? 1u : n + 1);
	engine_tx_respond(&fx->txq, fx->txb);
	for (RING_IDX i = 0; i < n; i++)
		expect_rsp(i, (uint16_t)(1000 + i),
			   expect_drop ? NETIF_RSP_ERROR : NETIF_RSP_OKAY);
	expect_rsp(n, 7, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
}

static void test_slots_18_accepted(void **state)
{
	(void)state;
	check_slot_count(XEN_NETIF_NR_SLOTS_MIN, ENGINE_TX_DROP_NONE);
	assert_int_equal(fx->txq.stats.packets, 2);
}

static void test_slots_19_dropped(void **state)
{
	(void)state;
	check_slot_count(XEN_NETIF_NR_SLOTS_MIN + 1, ENGINE_TX_DROP_SLOTS_OVER);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_SLOTS_OVER], 1);
}

static void test_slots_20_dropped(void **state)
{
	(void)state;
	check_slot_count(ENGINE_TX_FATAL_SLOTS, ENGINE_TX_DROP_SLOTS_OVER);
}

/* ---- extras: GSO, multicast, hash ---- */

static void check_bad_gso(const struct engine_tx_config *cfg, int ipver, uint8_t proto,
			  uint16_t mss, uint8_t type)
{
	uint16_t own[2];
	netif_extra_info_t ex = gso_extra(mss, type);
	size_t len = ip_frame(ipver, proto, 2000, 3);

	fixture_tx_engine(cfg);
	own[0] = (uint16_t)(len - 1000);
	own[1] = 1000;
	fixture_tx_packet(frame, own, 2, 10, 0, NETTXF_csum_blank, 40, &ex, 1);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_BAD_GSO);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 40, NETIF_RSP_ERROR);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	expect_rsp(2, 41, NETIF_RSP_ERROR);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_BAD_GSO], 1);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
}

static void test_gso_size_zero(void **state)
{
	(void)state;
	check_bad_gso(NULL, 4, IPPROTO_TCP, 0, XEN_NETIF_GSO_TYPE_TCPV4);
}

static void test_gso_unknown_type(void **state)
{
	(void)state;
	check_bad_gso(NULL, 4, IPPROTO_TCP, 1448, 3);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	check_bad_gso(NULL, 4, IPPROTO_TCP, 1448, XEN_NETIF_GSO_TYPE_NONE);
}

static void test_gso_not_advertised(void **state)
{
	struct engine_tx_config c = fixture_tx_default_cfg();
	(void)state;

	c.gso_tcpv6 = false;
	check_bad_gso(&c, 6, IPPROTO_TCP, 1428, XEN_NETIF_GSO_TYPE_TCPV6);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	c = fixture_tx_default_cfg();
	c.gso_tcpv4 = false;
	check_bad_gso(&c, 4, IPPROTO_TCP, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
}

/* GSO whose headers do not match its type (UDP, or IPv6 under TCPv4). */
static void test_gso_bad_headers(void **state)
{
	(void)state;
	check_bad_gso(NULL, 4, IPPROTO_UDP, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	check_bad_gso(NULL, 6, IPPROTO_TCP, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
}

static void test_gso_tcpv6(void **state)
{
	uint16_t own[3] = { 0, 3000, 3000 };
	netif_extra_info_t ex = gso_extra(1428, XEN_NETIF_GSO_TYPE_TCPV6);
	struct frame_spec s = { .ipver = 6, .proto = IPPROTO_TCP, .v6_ext = 1,
				.tcp_opt_len = 12, .payload = 8000, .seed = 22 };
	size_t len = fixture_build_frame(frame, &s, &fi);
	(void)state;

	own[0] = (uint16_t)(len - 6000);
	fixture_tx_engine(NULL);
	fixture_tx_packet(frame, own, 3, 10, 0, NETTXF_csum_blank | NETTXF_data_validated,
			  1, &ex, 1);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 4);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->len, len);
	assert_int_equal(pkt(0)->meta.gso_type, XEN_NETIF_GSO_TYPE_TCPV6);
	assert_int_equal(pkt(0)->meta.gso_size, 1428);
	assert_int_equal(pkt(0)->meta.hdr_len, 14 + 40 + 8 + 32);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_PARTIAL);
	assert_int_equal(pkt(0)->meta.csum_start, fi.l4_off);
	assert_int_equal(pkt(0)->meta.csum_offset, 16);
	assert_memory_equal(pkt(0)->data, frame, len);
}

/*
 * GSO without csum_blank: the engine turns it into PARTIAL and seeds the
 * field with the pseudo-header sum, so a consumer completing from
 * csum_start gets the right checksum (even with complete_csum: a GSO frame
 * is segmented later, so its checksum stays partial).
 */
static void test_gso_without_csum_blank(void **state)
{
	struct engine_tx_config c = fixture_tx_default_cfg();
	uint16_t own[2] = { 0, 1500 };
	netif_extra_info_t ex = gso_extra(1448, XEN_NETIF_GSO_TYPE_TCPV4);
	size_t len = ip_frame(4, IPPROTO_TCP, 3000, 23);
	struct engine_tx_pkt *p;
	uint16_t csum;
	(void)state;

	c.complete_csum = true;
	own[0] = (uint16_t)(len - 1500);
	fixture_tx_engine(&c);
	fixture_tx_packet(frame, own, 2, 10, 0, 0, 1, &ex, 1);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	p = &fx->txb->pkts[0];
	assert_int_equal(p->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(p->meta.csum, ENGINE_CSUM_PARTIAL);
	assert_int_equal(p->meta.csum_start, 34);
	assert_int_equal(p->meta.csum_offset, 16);
	assert_int_equal(fx->txq.stats.gso_csum_fixup, 1);
	csum = ref_fold(ref_sum(p->data + p->meta.csum_start, p->len - p->meta.csum_start, 0));
	wr16(p->data + p->meta.csum_start + p->meta.csum_offset, csum);
	assert_int_equal(rd16(p->data + fi.csum_off), ref_l4_csum(p->data, &fi));
}

static void test_mcast_with_control(void **state)
{
	struct engine_tx_config c = fixture_tx_default_cfg();
	static const uint8_t addr[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0x05 };
	const uint16_t own[1] = { 64 };
	netif_extra_info_t ex;
	(void)state;

	c.multicast_control = true;
	fixture_tx_engine(&c);
	memset(&ex, 0, sizeof(ex));
	ex.type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
	memcpy(ex.u.mcast.addr, addr, 6);
	fixture_tx_push(0, 0, 0, NETTXF_extra_info, 11);
	fixture_tx_push_extra(&ex);
	ex.type = XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	ex.u.mcast.addr[5] = 0x06;
	fixture_tx_push(0, 0, 0, NETTXF_extra_info, 12);
	fixture_tx_push_extra(&ex);
	rand_frame(64, 24);
	fixture_tx_packet(frame, own, 1, 5, 0, 0, 13, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 5);
	assert_int_equal(fx->txb->nr_pkts, 3);
	assert_int_equal(fx->txb->nr_segs, 1);   /* only the real frame is copied */
	assert_int_equal(pkt(0)->kind, ENGINE_TX_MCAST_ADD);
	assert_memory_equal(pkt(0)->mcast_addr, addr, 6);
	assert_int_equal(pkt(1)->kind, ENGINE_TX_MCAST_DEL);
	assert_int_equal(pkt(1)->mcast_addr[5], 0x06);
	assert_int_equal(pkt(2)->kind, ENGINE_TX_PACKET);
	assert_memory_equal(pkt(2)->data, frame, 64);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 11, NETIF_RSP_OKAY);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	expect_rsp(2, 12, NETIF_RSP_OKAY);
	expect_rsp(3, 0, NETIF_RSP_NULL);
	expect_rsp(4, 13, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.mcast_ops, 2);
	assert_int_equal(fx->txq.stats.packets, 1);
}

static void test_mcast_without_control(void **state)
{
	netif_extra_info_t ex;
	(void)state;

	fixture_tx_engine(NULL);
	memset(&ex, 0, sizeof(ex));
	ex.type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
	ex.u.mcast.addr[0] = 0x01;
	fixture_tx_push(0, 0, 0, NETTXF_extra_info, 11);
	fixture_tx_push_extra(&ex);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_BAD_EXTRA);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 11, NETIF_RSP_ERROR);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	assert_int_equal(fx->txq.stats.mcast_ops, 0);
}

/* GSO and hash extras chained with FLAG_MORE: both apply; one NULL per extra slot. */
static void test_chained_extras(void **state)
{
	netif_extra_info_t ex[2];
	uint16_t own[2] = { 0, 1000 };
	size_t len = ip_frame(4, IPPROTO_TCP, 2000, 25);
	(void)state;

	ex[0] = hash_extra(_XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0x89abcdef);
	ex[1] = gso_extra(1448, XEN_NETIF_GSO_TYPE_TCPV4);
	own[0] = (uint16_t)(len - 1000);
	fixture_tx_engine(NULL);
	fixture_tx_packet(frame, own, 2, 10, 0, NETTXF_csum_blank, 20, ex, 2);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 4);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->meta.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(pkt(0)->meta.gso_size, 1448);
	assert_true(pkt(0)->meta.has_hash);
	assert_int_equal(pkt(0)->meta.hash, 0x89abcdefu);
	assert_int_equal(fx->txb->segs[1].source.foreign.ref, 11);
	assert_memory_equal(pkt(0)->data, frame, len);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 20, NETIF_RSP_OKAY);
	expect_rsp(1, 0, NETIF_RSP_NULL);
	expect_rsp(2, 0, NETIF_RSP_NULL);
	expect_rsp(3, 21, NETIF_RSP_OKAY);
}

/* ---- checksums ---- */

static void check_csum_blank(bool complete, int ipver, uint8_t proto)
{
	struct engine_tx_config c = fixture_tx_default_cfg();
	uint16_t own[2] = { 0, 100 };
	size_t len = ip_frame(ipver, proto, 777, (uint32_t)(ipver * 100 + proto));
	const struct engine_tx_pkt *p;

	c.complete_csum = complete;
	own[0] = (uint16_t)(len - 100);
	fixture_tx_engine(&c);
	fixture_tx_packet(frame, own, 2, 10, 0, NETTXF_csum_blank | NETTXF_data_validated,
			  1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	p = pkt(0);
	assert_int_equal(p->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(p->len, len);
	if (complete) {
		assert_int_equal(p->meta.csum, ENGINE_CSUM_VALIDATED);
		assert_int_equal(rd16(p->data + fi.csum_off), ref_l4_csum(p->data, &fi));
		assert_true(ref_frame_csum_ok(p->data, &fi));
		assert_int_equal(fx->txq.stats.csum_completed, 1);
	} else {
		assert_int_equal(p->meta.csum, ENGINE_CSUM_PARTIAL);
		assert_int_equal(p->meta.csum_start, fi.l4_off);
		assert_int_equal(p->meta.csum_offset, proto == IPPROTO_TCP ? 16 : 6);
		assert_int_equal(fx->txq.stats.csum_partial, 1);
	}
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_OKAY);
}

static void test_csum_complete_tcp4(void **state)
{
	(void)state;
	check_csum_blank(true, 4, IPPROTO_TCP);
}

static void test_csum_complete_udp4(void **state)
{
	(void)state;
	check_csum_blank(true, 4, IPPROTO_UDP);
}

static void test_csum_complete_tcp6(void **state)
{
	(void)state;
	check_csum_blank(true, 6, IPPROTO_TCP);
}

static void test_csum_complete_udp6(void **state)
{
	(void)state;
	check_csum_blank(true, 6, IPPROTO_UDP);
}

static void test_csum_partial_all(void **state)
{
	(void)state;
	check_csum_blank(false, 4, IPPROTO_TCP);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	check_csum_blank(false, 4, IPPROTO_UDP);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	check_csum_blank(false, 6, IPPROTO_TCP);
	fixture_teardown(NULL);
	fixture_setup(NULL);
	check_csum_blank(false, 6, IPPROTO_UDP);
}

static void test_csum_data_validated(void **state)
{
	const uint16_t own[1] = { 80 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(80, 26);
	fixture_tx_packet(frame, own, 1, 1, 0, NETTXF_data_validated, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 1);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_VALIDATED);
	assert_memory_equal(pkt(0)->data, frame, 80);
}

/* No offload flags: deliberately wrong checksums are left alone. */
static void test_csum_untouched_without_flags(void **state)
{
	struct engine_tx_config c = fixture_tx_default_cfg();
	uint16_t own[1];
	size_t len = ip_frame(4, IPPROTO_TCP, 300, 27);
	(void)state;

	c.complete_csum = true;
	own[0] = (uint16_t)len;
	fixture_tx_engine(&c);
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 1);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_NONE);
	assert_memory_equal(pkt(0)->data, frame, len);
	assert_false(ref_frame_csum_ok(pkt(0)->data, &fi));
}

/* csum_blank on a frame that has no L4 checksum (ARP): delivered unchanged, as FreeBSD does. */
static void test_csum_blank_arp_unchanged(void **state)
{
	struct engine_tx_config c = fixture_tx_default_cfg();
	struct frame_spec arp = { .ipver = 0 };
	uint16_t own[1];
	size_t len = fixture_build_frame(frame, &arp, &fi);
	(void)state;

	c.complete_csum = true;
	own[0] = (uint16_t)len;
	fixture_tx_engine(&c);
	fixture_tx_packet(frame, own, 1, 1, 0, NETTXF_csum_blank, 1, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 1);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(0)->meta.csum, ENGINE_CSUM_NONE);
	assert_memory_equal(pkt(0)->data, frame, len);
}

/* csum_blank on headers that cannot be checksummed (truncated, fragment): bad checksum drop. */
static void test_csum_blank_bad_headers(void **state)
{
	uint16_t own[1];
	size_t len;
	(void)state;

	fixture_tx_engine(NULL);
	len = ip_frame(4, IPPROTO_TCP, 0, 28);
	own[0] = (uint16_t)(fi.l4_off + 8);   /* TCP header cut short; IP length says more */
	fixture_tx_packet(frame, own, 1, 1, 0, NETTXF_csum_blank, 1, NULL, 0);
	len = ip_frame(4, IPPROTO_UDP, 100, 29);
	wr16(frame + fi.l3_off + 6, 0x2000);  /* MF: a fragment */
	own[0] = (uint16_t)len;
	fixture_tx_packet(frame, own, 1, 2, 0, NETTXF_csum_blank, 2, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 2);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_BAD_CSUM);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_BAD_CSUM);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_ERROR);
	expect_rsp(1, 2, NETIF_RSP_ERROR);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_BAD_CSUM], 2);
}

/* ---- copy failures ---- */

static void test_copy_failure_one_packet(void **state)
{
	const uint16_t own[2] = { 50, 50 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(100, 30);
	fixture_tx_packet(frame, own, 2, 10, 0, 0, 1, NULL, 0);
	fixture_tx_packet(frame, own, 2, 12, 0, 0, 3, NULL, 0);
	fixture_tx_packet(frame, own, 2, 14, 0, 0, 5, NULL, 0);
	fixture_fail_ref(13);   /* the second slot of the middle packet */
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 6);
	assert_int_equal(pkt(0)->drop, ENGINE_TX_DROP_NONE);
	assert_int_equal(pkt(1)->drop, ENGINE_TX_DROP_COPY);
	assert_int_equal(pkt(2)->drop, ENGINE_TX_DROP_NONE);
	assert_memory_equal(pkt(2)->data, frame, 100);
	engine_tx_respond(&fx->txq, fx->txb);
	expect_rsp(0, 1, NETIF_RSP_OKAY);
	expect_rsp(1, 2, NETIF_RSP_OKAY);
	expect_rsp(2, 3, NETIF_RSP_ERROR);
	expect_rsp(3, 4, NETIF_RSP_ERROR);
	expect_rsp(4, 5, NETIF_RSP_OKAY);
	expect_rsp(5, 6, NETIF_RSP_OKAY);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_COPY], 1);
	assert_int_equal(fx->txq.stats.packets, 2);
	assert_int_equal(fx->txq.fault, ENGINE_FAULT_NONE);
}

/* ---- notifications ---- */

static void test_notify_when_asked(void **state)
{
	const uint16_t own[1] = { 64 };
	bool more;
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(64, 31);
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	/* the frontend waits for the next response, as RING_FINAL_CHECK_FOR_RESPONSES leaves it */
	RING_FINAL_CHECK_FOR_RESPONSES(&fx->txf, more);
	assert_false(more);
	assert_int_equal(fx->txs->rsp_event, 1);
	assert_int_equal(fixture_tx_run(64), 1);
	assert_true(engine_tx_respond(&fx->txq, fx->txb));

	/* the frontend now asks to hear only after 100 more: no notification */
	fx->txs->rsp_event = fx->txs->rsp_prod + 100;
	fixture_tx_packet(frame, own, 1, 2, 0, 0, 2, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 1);
	assert_false(engine_tx_respond(&fx->txq, fx->txb));
	assert_int_equal(fixture_tx_rsp_prod(), 2);

	/* an event index inside the newly published range notifies */
	fx->txs->rsp_event = fx->txs->rsp_prod + 2;
	for (uint16_t k = 0; k < 3; k++)
		fixture_tx_packet(frame, own, 1, 3 + k, 0, 0, 3, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 3);
	assert_true(engine_tx_respond(&fx->txq, fx->txb));
}

static void test_tx_more(void **state)
{
	const uint16_t own[1] = { 64 };
	(void)state;

	fixture_tx_engine(NULL);
	fx->txs->req_event = 12345;
	assert_false(engine_tx_more(&fx->txq));
	assert_int_equal(fx->txs->req_event, fx->txq.ring.req_cons + 1);
	rand_frame(64, 32);
	fixture_tx_packet(frame, own, 1, 1, 0, 0, 1, NULL, 0);
	fixture_tx_publish();
	assert_true(engine_tx_more(&fx->txq));
	assert_int_equal(fixture_tx_run(64), 1);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_false(engine_tx_more(&fx->txq));
	assert_int_equal(fx->txs->req_event, 2);
	/* a frontend pushing with RING_PUSH_REQUESTS_AND_CHECK_NOTIFY is told to notify */
	{
		bool notify;

		fixture_tx_packet(frame, own, 1, 1, 0, 0, 2, NULL, 0);
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fx->txf, notify);
		assert_true(notify);
	}
	assert_true(engine_tx_more(&fx->txq));
}

static void test_stats_mixed_batch(void **state)
{
	const uint16_t own[2] = { 30, 30 };
	const uint16_t runt[1] = { 10 };
	(void)state;

	fixture_tx_engine(NULL);
	rand_frame(60, 33);
	fixture_tx_packet(frame, own, 2, 1, 0, 0, 1, NULL, 0);
	fixture_tx_packet(frame, runt, 1, 3, 0, 0, 3, NULL, 0);
	fixture_tx_packet(frame, own, 2, 4, 0, 0, 4, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(fixture_tx_run(64), 5);
	engine_tx_respond(&fx->txq, fx->txb);
	assert_int_equal(fx->txq.stats.requests, 5);
	assert_int_equal(fx->txq.stats.packets, 2);
	assert_int_equal(fx->txq.stats.bytes, 120);
	assert_int_equal(fx->txq.stats.dropped, 1);
	assert_int_equal(fx->txq.stats.drop[ENGINE_TX_DROP_RUNT], 1);
	assert_int_equal(fx->txq.stats.batches, 1);
	assert_int_equal(fx->segs_bad_flags, 0);
}

/*
 * Random layouts: 1..18 slots, random sizes (zero-length fragments
 * included) at random offsets that stay inside their pages, several
 * packets per batch. Every delivered packet is the frame, byte for byte,
 * with one segment per non-empty slot.
 */
static void test_random_layouts(void **state)
{
	uint8_t rnd[64];
	(void)state;

	fixture_tx_engine(NULL);
	for (uint32_t round = 0; round < 60; round++) {
		uint16_t own[XEN_NETIF_NR_SLOTS_MIN], off[4];
		unsigned nslots[4], nonempty[4];
		size_t lens[4];
		uint32_t gref = 0;
		int total = 0;

		for (unsigned p = 0; p < 4; p++) {
			size_t len = 0;
			uint16_t offset;

			fixture_fill_random(rnd, sizeof(rnd), round * 4 + p);
			nslots[p] = 1 + rnd[0] % XEN_NETIF_NR_SLOTS_MIN;
			offset = (uint16_t)((rnd[1] | rnd[2] << 8) % 2048);
			nonempty[p] = 0;
			for (unsigned k = 0; k < nslots[p]; k++) {
				unsigned r = rnd[3 + k] | (unsigned)rnd[30 + k] << 8;

				own[k] = (uint16_t)((rnd[3 + k] & 7) == 0 ? 0 : r % (FIX_PAGE - offset + 1));
				if (k == 0 && own[0] < 14)
					own[0] = 14;
				if (len + own[k] > XEN_NETIF_MAX_TX_SIZE)
					own[k] = 0;   /* the total must fit the 16-bit size field */
				len += own[k];
				nonempty[p] += own[k] != 0;
			}
			off[p] = offset;
			lens[p] = len;
			rand_frame(len, 1000 + round * 4 + p);
			fixture_tx_packet(frame, own, nslots[p], gref, offset, 0, (uint16_t)gref, NULL, 0);
			gref += nslots[p];
			total += (int)nslots[p];
		}
		fixture_tx_publish();
		assert_int_equal(fixture_tx_run(256), total);
		assert_int_equal(fx->txb->nr_pkts, 4);
		for (unsigned p = 0; p < 4; p++) {
			assert_int_equal(pkt(p)->drop, ENGINE_TX_DROP_NONE);
			assert_int_equal(pkt(p)->len, lens[p]);
			assert_int_equal(pkt(p)->seg_count, nonempty[p]);
			for (unsigned sg = pkt(p)->seg_first; sg < pkt(p)->seg_first + pkt(p)->seg_count; sg++)
				assert_int_equal(fx->txb->segs[sg].source.foreign.offset, off[p]);
			rand_frame(lens[p], 1000 + round * 4 + p);
			assert_memory_equal(pkt(p)->data, frame, lens[p]);
		}
		engine_tx_respond(&fx->txq, fx->txb);
		for (RING_IDX i = fx->txs->rsp_prod - (RING_IDX)total; i != fx->txs->rsp_prod; i++)
			assert_int_equal(fixture_tx_rsp(i)->status, NETIF_RSP_OKAY);
	}
	assert_int_equal(fx->txq.stats.packets, 240);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty_ring),
		T(test_one_request),
		T(test_two_requests),
		T(test_three_requests),
		T(test_extra_info_gso),
		T(test_partial_packet_waits),
		T(test_partial_after_complete),
		T(test_extra_not_yet_published),
		T(test_ring_wraps),
		T(test_index_wraps_32bit),
		T(test_rsp_data_plus_extra),
		T(test_rsp_three_data_one_extra),
		T(test_rsp_invalid_extra_ff),
		T(test_rsp_invalid_extra_none),
		T(test_rsp_invalid_extra_max),
		T(test_rsp_host_dropped),
		T(test_host_refused_after_respond),
		T(test_rsp_wraps),
		T(test_copy_1900_500),
		T(test_copy_one_segment_per_slot),
		T(test_copy_max_size_packet),
		T(test_arena_sizes),
		T(test_arena_full_ring),
		T(test_arena_min_splits_batches),
		T(test_budget),
		T(test_runt),
		T(test_size_underflow),
		T(test_fragment_equal_to_rest),
		T(test_zero_length_fragments),
		T(test_arena_placement_follows_pages),
		T(test_slots_18_accepted),
		T(test_slots_19_dropped),
		T(test_slots_20_dropped),
		T(test_gso_size_zero),
		T(test_gso_unknown_type),
		T(test_gso_not_advertised),
		T(test_gso_bad_headers),
		T(test_gso_tcpv6),
		T(test_gso_without_csum_blank),
		T(test_mcast_with_control),
		T(test_mcast_without_control),
		T(test_chained_extras),
		T(test_csum_complete_tcp4),
		T(test_csum_complete_udp4),
		T(test_csum_complete_tcp6),
		T(test_csum_complete_udp6),
		T(test_csum_partial_all),
		T(test_csum_data_validated),
		T(test_csum_untouched_without_flags),
		T(test_csum_blank_arp_unchanged),
		T(test_csum_blank_bad_headers),
		T(test_copy_failure_one_packet),
		T(test_notify_when_asked),
		T(test_tx_more),
		T(test_stats_mixed_batch),
		T(test_random_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
