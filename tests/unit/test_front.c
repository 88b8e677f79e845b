/* SPDX-License-Identifier: MIT */
/* test_front.c - the netfront engine against a simulated (honest, then hostile) backend. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csum.h"
#include "front.h"
#include "ring_fixture.h"

/*
 * The test plays the backend: it reads the frontend's requests straight off
 * the shared rings, finds the pages by grant reference (gref G_TX + i is TX
 * buffer i, G_RX + i RX buffer i) and writes responses as a backend would,
 * or as a hostile one would.
 */
#define NBUF ENGINE_FRONT_MAX_BUFS
#define G_TX 1000u
#define G_RX 5000u
#define PAGE ENGINE_PAGE_SIZE

struct ctx {
	union { netif_tx_sring_t s; uint8_t page[PAGE]; } *txs;
	union { netif_rx_sring_t s; uint8_t page[PAGE]; } *rxs;
	uint8_t *tx_pages, *rx_pages;
	struct engine_front_buf txb[NBUF], rxb[NBUF];
	struct engine_front_tx_queue txq;
	struct engine_front_rx_queue rxq;
	struct engine_front_rx_batch batch;
	uint8_t *arena;
	size_t arena_size;
	/* the simulated backend's private indices */
	RING_IDX be_tx_cons, be_tx_rsp;
	RING_IDX be_rx_rsp;
};

static struct ctx *c;

static int setup(void **state)
{
	(void)state;
	c = calloc(1, sizeof(*c));
	c->txs = aligned_alloc(PAGE, PAGE);
	c->rxs = aligned_alloc(PAGE, PAGE);
	c->tx_pages = aligned_alloc(PAGE, (size_t)NBUF * PAGE);
	c->rx_pages = aligned_alloc(PAGE, (size_t)NBUF * PAGE);
	c->arena_size = 4 * ENGINE_FRONT_RX_ARENA_MIN;
	c->arena = malloc(c->arena_size);
	if (!c->txs || !c->rxs || !c->tx_pages || !c->rx_pages || !c->arena)
		return -1;
	memset(c->txs, 0xa5, PAGE); /* the engine must initialise what it owns */
	memset(c->rxs, 0xa5, PAGE);
	memset(c->tx_pages, 0, (size_t)NBUF * PAGE);
	memset(c->rx_pages, 0, (size_t)NBUF * PAGE);
	for (unsigned i = 0; i < NBUF; i++) {
		c->txb[i] = (struct engine_front_buf){ c->tx_pages + (size_t)i * PAGE, G_TX + i };
		c->rxb[i] = (struct engine_front_buf){ c->rx_pages + (size_t)i * PAGE, G_RX + i };
	}
	return engine_front_rx_batch_init(&c->batch, c->arena, c->arena_size);
}

static int teardown(void **state)
{
	(void)state;
	free(c->txs);
	free(c->rxs);
	free(c->tx_pages);
	free(c->rx_pages);
	free(c->arena);
	free(c);
	c = NULL;
	return 0;
}

/* ---- frames ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Ethernet + IPv4 (or IPv6) + TCP (20 bytes) + @payload bytes; returns the length. */
static uint32_t build_tcp(uint8_t *f, int ipver, uint32_t payload)
{
	uint32_t l3 = 14, l4, len;

	memset(f, 0, 14);
	f[0] = 0x02;
	f[6] = 0x02;
	f[11] = 1;
	if (ipver == 4) {
		put16(f + 12, 0x0800);
		memset(f + l3, 0, 20);
		f[l3] = 0x45;
		put16(f + l3 + 2, (uint16_t)(20 + 20 + payload));
		f[l3 + 8] = 64;
		f[l3 + 9] = 6;
		f[l3 + 12] = 10;
		f[l3 + 15] = 1;
		f[l3 + 16] = 10;
		f[l3 + 19] = 2;
		l4 = l3 + 20;
	} else {
		put16(f + 12, 0x86dd);
		memset(f + l3, 0, 40);
		f[l3] = 0x60;
		put16(f + l3 + 4, (uint16_t)(20 + payload));
		f[l3 + 6] = 6;
		f[l3 + 7] = 64;
		f[l3 + 23] = 1;
		f[l3 + 39] = 2;
		l4 = l3 + 40;
	}
	memset(f + l4, 0, 20);
	put16(f + l4, 1234);
	put16(f + l4 + 2, 80);
	f[l4 + 12] = 5 << 4;
	len = l4 + 20 + payload;
	fill_pattern(f + l4 + 20, payload, payload);
	return len;
}

/* An ARP-like frame: no IP, so no checksum offload is possible on it. */
static uint32_t build_arp(uint8_t *f, uint32_t len)
{
	memset(f, 0, len);
	put16(f + 12, 0x0806);
	fill_pattern(f + 14, len - 14, 7);
	return len;
}

/* ---- the simulated backend, TX side ---- */

static void tx_init(unsigned nbufs, bool sg, bool gso4, bool gso6)
{
	struct engine_front_tx_config cfg = { .sg = sg, .gso_tcpv4 = gso4, .gso_tcpv6 = gso6 };

	assert_int_equal(engine_front_tx_init(&c->txq, &c->txs->s, &cfg, c->txb, nbufs), 0);
	c->be_tx_cons = c->be_tx_rsp = 0;
}

/* Move every TX index to @at (the ring is idle), to run across the 2^32 wrap. */
static void tx_start_at(RING_IDX at)
{
	c->txs->s.req_prod = c->txs->s.rsp_prod = at;
	c->txs->s.req_event = c->txs->s.rsp_event = at + 1;
	c->txq.ring.req_prod_pvt = c->txq.ring.rsp_cons = at;
	c->txq.req_published = at;
	c->be_tx_cons = c->be_tx_rsp = at;
}

static const netif_tx_request_t *be_tx_req(RING_IDX i)
{
	return &c->txs->s.ring[i & (NBUF - 1)].req;
}

static const struct netif_extra_info *be_tx_extra(RING_IDX i)
{
	return (const struct netif_extra_info *)&c->txs->s.ring[i & (NBUF - 1)].req;
}

static uint8_t *tx_page(uint32_t gref)
{
	assert_true(gref >= G_TX && gref < G_TX + NBUF);
	return c->tx_pages + (size_t)(gref - G_TX) * PAGE;
}

static void be_tx_rsp(uint16_t id, int16_t status)
{
	netif_tx_response_t *r = &c->txs->s.ring[c->be_tx_rsp & (NBUF - 1)].rsp;

	r->id = id;
	r->status = status;
	c->be_tx_rsp++;
}

static void be_tx_publish(void)
{
	c->txs->s.rsp_prod = c->be_tx_rsp;
}

/*
 * Consume one packet's requests as a backend would, reassemble it from the
 * pages, answer every slot (NULL for extras) with @status and publish.
 * Returns the packet length; @out gets the bytes, @gso the extra (if any).
 */
static uint32_t be_tx_packet(uint8_t *out, int16_t status, struct netif_extra_info *gso,
			     unsigned *nslots)
{
	RING_IDX i = c->be_tx_cons;
	netif_tx_request_t first = *be_tx_req(i);
	uint32_t total = first.size, done = 0, own;
	uint16_t flags = first.flags;
	unsigned n = 1;

	assert_true(i != c->txs->s.req_prod);
	be_tx_rsp(first.id, status);
	i++;
	if (flags & NETTXF_extra_info) {
		assert_true(gso != NULL);
		*gso = *be_tx_extra(i);
		be_tx_rsp(0xdead, NETIF_RSP_NULL);
		i++;
		n++;
	}
	/* the first slot's own bytes are what the others leave over */
	own = total;
	for (RING_IDX j = i; flags & NETTXF_more_data; j++) {
		flags = be_tx_req(j)->flags;
		own -= be_tx_req(j)->size;
	}
	assert_int_equal(first.offset, 0);
	memcpy(out, tx_page(first.gref), own);
	done = own;
	flags = first.flags;
	while (flags & NETTXF_more_data) {
		const netif_tx_request_t *r = be_tx_req(i++);

		assert_true((uint32_t)r->offset + r->size <= PAGE);
		memcpy(out + done, tx_page(r->gref) + r->offset, r->size);
		done += r->size;
		be_tx_rsp(r->id, status);
		flags = r->flags;
		n++;
	}
	assert_int_equal(done, total);
	c->be_tx_cons = i;
	be_tx_publish();
	if (nslots)
		*nslots = n;
	return total;
}

static int reap(unsigned budget, bool *more)
{
	bool m;

	return engine_front_tx_reap(&c->txq, budget, more ? more : &m);
}

/* ---- TX tests ---- */

/*
 * A tunnelled frame's inner checksum cannot travel as csum_blank (the
 * backend would find the outer UDP, or nothing under GRE): it is finished
 * here and sent data_validated, whether the field lies in the first page or
 * a later one; a checksum at the first TCP/UDP header still goes blank.
 */
static void test_tx_tunnelled_csum_finished(void **state)
{
	static uint8_t pkt[3 * 4096], out[3 * 4096];
	struct frame_info inner;
	struct engine_pkt_meta m;
	size_t outer;
	unsigned payloads[] = { 200, 4000, 8000 }; /* field in page 0; the inner TCP in 0, 0 */
	(void)state;

	tx_init(NBUF, true, false, false);
	for (unsigned i = 0; i < 3; i++) {
		for (int encap = FIXTURE_VXLAN; encap <= FIXTURE_GRE; encap++) {
			size_t len = fixture_build_tunnelled(pkt, (enum fixture_tunnel)encap, 4,
							     payloads[i], 50 + i, &inner, &outer, &m);

			assert_int_equal(engine_front_tx_send(&c->txq, pkt, (uint32_t)len, &m), 0);
			engine_front_tx_push(&c->txq);
			assert_int_equal(be_tx_req(c->be_tx_cons)->flags & (NETTXF_csum_blank |
									 NETTXF_data_validated),
					 NETTXF_data_validated);
			assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY, NULL, NULL), len);
			assert_true(ref_frame_csum_ok(out + outer, &inner));
			reap(NBUF, NULL);
		}
	}
	assert_int_equal(c->txq.stats.csum_finished, 6);
	assert_int_equal(c->txq.stats.csum_blank, 0);
}

/*
 * A checksum field straddling two pages (a GRE frame with csum_start set
 * so the field begins at byte 4095) is stored byte by byte across them: the
 * ones' complement sum from csum_start to the end, with the seed the field
 * held, then verifies.
 */
static void test_tx_tunnelled_csum_straddles_pages(void **state)
{
	static uint8_t pkt[3 * 4096], out[3 * 4096];
	struct frame_info inner;
	struct engine_pkt_meta m;
	size_t outer, len;
	(void)state;

	tx_init(NBUF, true, false, false);
	len = fixture_build_tunnelled(pkt, FIXTURE_GRE, 4, 7000, 3, &inner, &outer, &m);
	assert_true(len > 4097);
	m.csum_start = 3999; /* a checksum field is at an even offset from its start */
	m.csum_offset = 96;
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, (uint32_t)len, &m), 0);
	engine_front_tx_push(&c->txq);
	assert_int_equal(be_tx_req(c->be_tx_cons)->flags & NETTXF_csum_blank, 0);
	assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY, NULL, NULL), len);
	/* The field held the pseudo-header seed, which a receiver adds back. */
	assert_int_equal(csum_fold(csum_add_bytes(pkt + 4095, 2,
						  csum_add_bytes(out + 3999, len - 3999, 0))), 0);
	/* Everything else arrived as it was sent. */
	assert_memory_equal(out, pkt, 4095);
	assert_memory_equal(out + 4097, pkt + 4097, len - 4097);
}

static void test_tx_single_slot(void **state)
{
	uint8_t pkt[100], out[100];
	struct engine_pkt_meta m = { .csum = ENGINE_CSUM_PARTIAL };
	const netif_tx_request_t *r;
	(void)state;

	tx_init(NBUF, false, false, false);
	assert_int_equal(c->txs->s.req_prod, 0);
	assert_int_equal(c->txs->s.rsp_event, 1);
	fill_pattern(pkt, sizeof(pkt), 1);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), &m), 0);
	/* written, not yet published */
	assert_int_equal(c->txs->s.req_prod, 0);
	assert_true(engine_front_tx_push(&c->txq)); /* req_event starts at 1 */
	assert_int_equal(c->txs->s.req_prod, 1);
	r = be_tx_req(0);
	assert_int_equal(r->id, 0);
	assert_int_equal(r->gref, G_TX + 0);
	assert_int_equal(r->offset, 0);
	assert_int_equal(r->size, 100);
	assert_int_equal(r->flags, NETTXF_csum_blank | NETTXF_data_validated);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF - 1);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), NBUF - 1);

	assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY, NULL, NULL), 100);
	assert_memory_equal(out, pkt, 100);
	assert_int_equal(reap(64, NULL), 1);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), NBUF);
	assert_int_equal(c->txs->s.rsp_event, 2); /* re-armed for the next one */
	assert_int_equal(c->txq.stats.packets, 1);
	assert_int_equal(c->txq.stats.bytes, 100);
	assert_int_equal(c->txq.stats.completed, 1);
	assert_int_equal(c->txq.stats.okay, 1);
	assert_int_equal(c->txq.stats.errors, 0);
	assert_int_equal(c->txq.stats.csum_blank, 1);

	/* validated only */
	m.csum = ENGINE_CSUM_VALIDATED;
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 60, &m), 0);
	assert_int_equal(be_tx_req(1)->flags, NETTXF_data_validated);
	/* no meta at all */
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 60, NULL), 0);
	assert_int_equal(be_tx_req(2)->flags, 0);
	/* the buffer freed above is reused first */
	assert_int_equal(be_tx_req(1)->id, 0);
	assert_int_equal(be_tx_req(2)->id, 1);
}

static void test_tx_multi_slot(void **state)
{
	static uint8_t pkt[10000], out[10000];
	const netif_tx_request_t *r;
	unsigned n;
	(void)state;

	tx_init(NBUF, true, false, false);
	fill_pattern(pkt, sizeof(pkt), 2);
	assert_int_equal(engine_front_tx_slots(10000), 3);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	engine_front_tx_push(&c->txq);
	assert_int_equal(c->txs->s.req_prod, 3);
	r = be_tx_req(0);
	assert_int_equal(r->size, 10000);
	assert_int_equal(r->flags, NETTXF_more_data);
	assert_int_equal(be_tx_req(1)->size, 4096);
	assert_int_equal(be_tx_req(1)->flags, NETTXF_more_data);
	assert_int_equal(be_tx_req(2)->size, 10000 - 8192);
	assert_int_equal(be_tx_req(2)->flags, 0);
	/* ids are buffer indices, distinct */
	assert_int_equal(be_tx_req(0)->id, 0);
	assert_int_equal(be_tx_req(1)->id, 1);
	assert_int_equal(be_tx_req(2)->id, 2);
	assert_int_equal(be_tx_req(2)->gref, G_TX + 2);

	assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY, NULL, &n), 10000);
	assert_int_equal(n, 3);
	assert_memory_equal(out, pkt, sizeof(pkt));
	assert_int_equal(reap(64, NULL), 3);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF);
	assert_int_equal(c->txq.stats.okay, 1);
	assert_int_equal(c->txq.stats.completed, 1);

	/* an exact page multiple: two full slots */
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 8192, NULL), 0);
	assert_int_equal(be_tx_req(3)->size, 8192);
	assert_int_equal(be_tx_req(4)->size, 4096);
	assert_int_equal(be_tx_req(4)->flags, 0);
	assert_int_equal(c->txq.ring.req_prod_pvt, 5);
}

static void test_tx_no_sg_and_limits(void **state)
{
	static uint8_t pkt[70000];
	(void)state;

	tx_init(NBUF, false, false, false);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 4097, NULL), -EMSGSIZE);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 4096, NULL), 0);
	tx_init(NBUF, true, false, false);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 65536, NULL), -EMSGSIZE);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 0, NULL), -EINVAL);
	assert_int_equal(c->txq.ring.req_prod_pvt, 0);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF);
	assert_int_equal(c->txq.stats.err[ENGINE_FRONT_TX_ERR_TOO_BIG], 1);
	assert_int_equal(c->txq.stats.err[ENGINE_FRONT_TX_ERR_EMPTY], 1);
	/* the largest packet the size field can say: 16 slots */
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 65535, NULL), 0);
	assert_int_equal(c->txq.ring.req_prod_pvt, 16);
	assert_int_equal(be_tx_req(0)->size, 65535);
	assert_int_equal(be_tx_req(15)->size, 65535 - 15 * 4096);
}

static void test_tx_gso(void **state)
{
	static uint8_t pkt[9000], out[9000];
	struct engine_pkt_meta m = { .csum = ENGINE_CSUM_PARTIAL,
				     .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1448 };
	struct netif_extra_info ex;
	uint32_t len = build_tcp(pkt, 4, 9000 - 54);
	unsigned n;
	(void)state;

	tx_init(NBUF, true, true, false);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, len, &m), 0);
	engine_front_tx_push(&c->txq);
	/* 3 data slots + the extra, right after the first */
	assert_int_equal(c->txs->s.req_prod, 4);
	assert_int_equal(be_tx_req(0)->flags,
			 NETTXF_csum_blank | NETTXF_data_validated | NETTXF_extra_info |
			 NETTXF_more_data);
	assert_int_equal(be_tx_extra(1)->type, XEN_NETIF_EXTRA_TYPE_GSO);
	assert_int_equal(be_tx_extra(1)->flags, 0);
	assert_int_equal(be_tx_extra(1)->u.gso.size, 1448);
	assert_int_equal(be_tx_extra(1)->u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(be_tx_req(2)->id, 1);
	assert_int_equal(be_tx_req(3)->id, 2);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), NBUF - 4);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF - 3);

	assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY, &ex, &n), len);
	assert_int_equal(n, 4);
	assert_int_equal(ex.u.gso.size, 1448);
	assert_memory_equal(out, pkt, len);
	assert_int_equal(reap(64, NULL), 4);
	assert_int_equal(c->txq.fault, ENGINE_FRONT_FAULT_NONE);
	assert_int_equal(c->txq.nulls_owed, 0);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), NBUF);
	assert_int_equal(c->txq.stats.gso_packets, 1);
	assert_int_equal(c->txq.stats.okay, 1);

	/* a type the backend did not advertise: the caller must segment */
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, len, &m), -EOPNOTSUPP);
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	m.gso_size = 0;
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, len, &m), -EOPNOTSUPP);
	assert_int_equal(c->txq.stats.err[ENGINE_FRONT_TX_ERR_OFFLOAD], 2);
	assert_int_equal(c->txq.ring.req_prod_pvt, 4);
}

static void test_tx_eagain(void **state)
{
	uint8_t pkt[6000] = { 0 };
	struct engine_pkt_meta gso = { .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1000 };
	uint8_t out[6000];
	(void)state;

	/* out of buffers */
	tx_init(4, true, true, false);
	for (int i = 0; i < 4; i++)
		assert_int_equal(engine_front_tx_send(&c->txq, pkt, 60, NULL), 0);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 60, NULL), -EAGAIN);
	assert_int_equal(c->txq.ring.req_prod_pvt, 4);
	assert_int_equal(c->txq.stats.busy, 1);
	engine_front_tx_push(&c->txq);
	be_tx_packet(out, NETIF_RSP_OKAY, NULL, NULL);
	assert_int_equal(reap(64, NULL), 1);
	/* one free buffer: a two-slot packet still does not fit, nothing taken */
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 6000, NULL), -EAGAIN);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), 1);
	assert_int_equal(c->txq.ring.req_prod_pvt, 4);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 60, NULL), 0);

	/* out of ring slots: GSO packets take two slots and one buffer */
	tx_init(NBUF, true, true, false);
	for (unsigned i = 0; i < NBUF / 2; i++)
		assert_int_equal(engine_front_tx_send(&c->txq, pkt, 60, &gso), 0);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), 0);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF / 2);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, 60, NULL), -EAGAIN);
	assert_int_equal(c->txq.ring.req_prod_pvt, NBUF);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF / 2);
}

static void test_tx_statuses_counted(void **state)
{
	uint8_t pkt[60] = { 0 };
	(void)state;

	tx_init(NBUF, true, false, false);
	for (int i = 0; i < 4; i++)
		assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	engine_front_tx_push(&c->txq);
	be_tx_rsp(2, NETIF_RSP_ERROR);   /* out of order is fine */
	be_tx_rsp(0, NETIF_RSP_DROPPED);
	be_tx_rsp(1, 77);                /* a status netif.h does not define */
	be_tx_rsp(3, NETIF_RSP_OKAY);
	be_tx_publish();
	assert_int_equal(reap(64, NULL), 4);
	assert_int_equal(c->txq.fault, ENGINE_FRONT_FAULT_NONE);
	assert_int_equal(c->txq.stats.completed, 4);
	assert_int_equal(c->txq.stats.okay, 1);
	assert_int_equal(c->txq.stats.errors, 3);
	assert_int_equal(c->txq.stats.err[ENGINE_FRONT_TX_ERR_RSP_ERROR], 1);
	assert_int_equal(c->txq.stats.err[ENGINE_FRONT_TX_ERR_RSP_DROPPED], 1);
	assert_int_equal(c->txq.stats.err[ENGINE_FRONT_TX_ERR_RSP_UNKNOWN], 1);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF);
}

static void test_tx_reap_budget_and_notify(void **state)
{
	uint8_t pkt[60] = { 0 };
	bool more;
	(void)state;

	tx_init(NBUF, true, false, false);
	for (int i = 0; i < 10; i++)
		assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	/* the backend wants to hear only when req_prod passes 100 */
	c->txs->s.req_event = 100;
	assert_false(engine_front_tx_push(&c->txq));
	assert_false(engine_front_tx_push(&c->txq)); /* nothing new */
	for (uint16_t i = 0; i < 10; i++)
		be_tx_rsp(i, NETIF_RSP_OKAY);
	be_tx_publish();
	assert_int_equal(reap(4, &more), 4);
	assert_true(more);
	assert_int_equal(reap(4, &more), 4);
	assert_true(more);
	assert_int_equal(reap(4, &more), 2);
	assert_false(more);
	assert_int_equal(c->txs->s.rsp_event, 11);
	assert_int_equal(reap(4, &more), 0);
	assert_false(more);
	/* a push crossing req_event notifies */
	c->txs->s.req_event = 11;
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	assert_true(engine_front_tx_push(&c->txq));
}

static void test_tx_wraparound(void **state)
{
	static uint8_t pkt[9000], out[9000];
	unsigned sent = 0;
	(void)state;

	tx_init(NBUF, true, true, true);
	tx_start_at(0xffffff00u);
	for (unsigned round = 0; round < 50; round++) {
		for (unsigned k = 0; k < 7; k++) {
			uint32_t len = 60 + (round * 977 + k * 1311) % 8900;
			struct engine_pkt_meta m = { 0 };

			if (k == 3) {
				len = build_tcp(pkt, 6, 3000);
				m.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
				m.gso_size = 1400;
			} else {
				fill_pattern(pkt, len, round * 7 + k);
			}
			assert_int_equal(engine_front_tx_send(&c->txq, pkt, len, &m), 0);
			engine_front_tx_push(&c->txq);
			assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY,
						      &(struct netif_extra_info){ 0 }, NULL), len);
			assert_memory_equal(out, pkt, len);
			sent++;
		}
		assert_true(reap(NBUF, NULL) > 0);
		assert_int_equal(c->txq.fault, ENGINE_FRONT_FAULT_NONE);
		assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF);
	}
	assert_true(c->txq.ring.rsp_cons < 0x1000u); /* it did wrap */
	assert_int_equal(c->txq.stats.okay, sent);
}

/* Send @n single-slot packets and publish them. */
static void tx_sent(unsigned n)
{
	uint8_t pkt[60] = { 0 };

	for (unsigned i = 0; i < n; i++)
		assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	engine_front_tx_push(&c->txq);
}

static void expect_tx_fault(enum engine_front_fault f)
{
	uint8_t pkt[60] = { 0 };

	assert_int_equal(reap(64, NULL), -EPROTO);
	assert_int_equal(c->txq.fault, f);
	assert_string_not_equal(engine_front_fault_str(f), "unknown fault");
	/* a broken queue does nothing more */
	assert_int_equal(reap(64, NULL), -EPROTO);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), -EPROTO);
	assert_false(engine_front_tx_push(&c->txq));
}

static void test_tx_fault_unknown_id(void **state)
{
	(void)state;
	tx_init(16, true, false, false);
	tx_sent(1);
	be_tx_rsp(16, NETIF_RSP_OKAY); /* outside the pool */
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_BAD_ID);

	tx_init(16, true, false, false);
	tx_sent(1);
	be_tx_rsp(0xffff, NETIF_RSP_OKAY);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_BAD_ID);

	/* in the pool, but never sent */
	tx_init(16, true, false, false);
	tx_sent(1);
	be_tx_rsp(5, NETIF_RSP_OKAY);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_ID_FREE);
}

static void test_tx_fault_duplicate_id(void **state)
{
	(void)state;
	/* the same id twice in one batch */
	tx_init(16, true, false, false);
	tx_sent(2);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_ID_FREE);
	/* the first one was taken, once: the free list holds buffer 0 once */
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), 15);

	/* the same id again in a later batch */
	tx_init(16, true, false, false);
	tx_sent(2);
	be_tx_rsp(1, NETIF_RSP_OKAY);
	be_tx_publish();
	assert_int_equal(reap(64, NULL), 1);
	be_tx_rsp(1, NETIF_RSP_OKAY);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_ID_FREE);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), 15);
}

static void test_tx_fault_null(void **state)
{
	uint8_t pkt[60] = { 0 };
	struct engine_pkt_meta gso = { .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1000 };
	(void)state;

	/* NULL where no extra was sent */
	tx_init(16, true, true, false);
	tx_sent(2);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_rsp(0, NETIF_RSP_NULL);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_NULL);

	/* one extra sent, two NULLs back */
	tx_init(16, true, true, false);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), &gso), 0);
	tx_sent(1);
	be_tx_rsp(0xaaaa, NETIF_RSP_NULL);
	be_tx_rsp(0xaaaa, NETIF_RSP_NULL);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_NULL);
}

static void test_tx_fault_rsp_prod(void **state)
{
	uint8_t pkt[60] = { 0 };
	(void)state;

	/* one request published, two responses claimed */
	tx_init(16, true, false, false);
	tx_sent(1);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_rsp(1, NETIF_RSP_OKAY);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_RSP_PROD);
	assert_int_equal(c->txq.ring.rsp_cons, 0); /* nothing consumed on the way */

	/* a request written but not published cannot be answered yet */
	tx_init(16, true, false, false);
	tx_sent(1);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_rsp(1, NETIF_RSP_OKAY);
	be_tx_publish();
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_RSP_PROD);

	/* rsp_prod moved backwards */
	tx_init(16, true, false, false);
	tx_sent(1);
	c->txs->s.rsp_prod = (RING_IDX)-1;
	expect_tx_fault(ENGINE_FRONT_FAULT_TX_RSP_PROD);
}

/* ---- multicast filter requests ---- */

static void mcast_init(unsigned nbufs)
{
	struct engine_front_tx_config cfg = { .sg = true, .multicast_control = true };

	assert_int_equal(engine_front_tx_init(&c->txq, &c->txs->s, &cfg, c->txb, nbufs), 0);
	c->be_tx_cons = c->be_tx_rsp = 0;
}

/*
 * Consume one multicast filter request as Linux netback does: check its
 * shape (a 0-size data slot with extra_info, then the MCAST extra), answer
 * @status on the data slot and NULL on the extra, publish. Returns the id;
 * @ex gets the extra.
 */
static uint16_t be_tx_mcast(int16_t status, struct netif_extra_info *ex)
{
	netif_tx_request_t first = *be_tx_req(c->be_tx_cons);

	assert_int_equal(first.size, 0);
	assert_int_equal(first.offset, 0);
	assert_int_equal(first.gref, 0);
	assert_int_equal(first.flags, NETTXF_extra_info);
	*ex = *be_tx_extra(c->be_tx_cons + 1);
	assert_int_equal(ex->flags, 0); /* no XEN_NETIF_EXTRA_FLAG_MORE: one extra */
	c->be_tx_cons += 2;
	be_tx_rsp(first.id, status);
	be_tx_rsp(0xdead, NETIF_RSP_NULL);
	be_tx_publish();
	return first.id;
}

static const uint8_t MC_A[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x02 };
static const uint8_t MC_B[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };

static void test_tx_mcast_shape(void **state)
{
	struct netif_extra_info ex;
	struct engine_front_mcast_result r;
	(void)state;

	mcast_init(NBUF);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), 0);
	assert_int_equal(c->txs->s.req_prod, 0); /* written, not yet published */
	assert_true(engine_front_tx_push(&c->txq));
	assert_int_equal(c->txs->s.req_prod, 2);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), NBUF - 2);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF - 1);
	assert_int_equal(be_tx_mcast(NETIF_RSP_OKAY, &ex), 0);
	assert_int_equal(ex.type, XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
	assert_memory_equal(ex.u.mcast.addr, MC_A, 6);
	assert_false(engine_front_tx_mcast_result(&c->txq, &r)); /* not reaped yet */
	assert_int_equal(reap(64, NULL), 2);
	assert_int_equal(c->txq.fault, ENGINE_FRONT_FAULT_NONE);
	assert_true(engine_front_tx_mcast_result(&c->txq, &r));
	assert_true(r.add);
	assert_memory_equal(r.addr, MC_A, 6);
	assert_int_equal(r.status, NETIF_RSP_OKAY);
	assert_false(engine_front_tx_mcast_result(&c->txq, &r));
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), NBUF);
	assert_int_equal(c->txq.nulls_owed, 0);

	assert_int_equal(engine_front_tx_mcast(&c->txq, false, MC_A), 0);
	engine_front_tx_push(&c->txq);
	be_tx_mcast(NETIF_RSP_OKAY, &ex);
	assert_int_equal(ex.type, XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
	assert_memory_equal(ex.u.mcast.addr, MC_A, 6);
	assert_int_equal(reap(64, NULL), 2);
	assert_true(engine_front_tx_mcast_result(&c->txq, &r));
	assert_false(r.add);
	assert_int_equal(r.status, NETIF_RSP_OKAY);

	/* counted apart from packets */
	assert_int_equal(c->txq.stats.mcast_requests, 2);
	assert_int_equal(c->txq.stats.mcast_okay, 2);
	assert_int_equal(c->txq.stats.mcast_errors, 0);
	assert_int_equal(c->txq.stats.requests, 4);
	assert_int_equal(c->txq.stats.responses, 4);
	assert_int_equal(c->txq.stats.packets, 0);
	assert_int_equal(c->txq.stats.completed, 0);
}

/* Among packets; answered out of order; a full table's ERROR reaches the caller. */
static void test_tx_mcast_refused_among_packets(void **state)
{
	uint8_t pkt[100], out[100];
	struct netif_extra_info ex;
	struct engine_front_mcast_result r;
	uint16_t id_a, id_b;
	(void)state;

	mcast_init(NBUF);
	fill_pattern(pkt, sizeof(pkt), 9);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), 0);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_B), 0);
	assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	engine_front_tx_push(&c->txq);
	assert_int_equal(c->txs->s.req_prod, 6);

	assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY, NULL, NULL), sizeof(pkt));
	id_a = be_tx_mcast(NETIF_RSP_OKAY, &ex);
	assert_memory_equal(ex.u.mcast.addr, MC_A, 6);
	id_b = be_tx_mcast(NETIF_RSP_ERROR, &ex);
	assert_memory_equal(ex.u.mcast.addr, MC_B, 6);
	assert_int_not_equal(id_a, id_b);
	assert_int_equal(be_tx_packet(out, NETIF_RSP_OKAY, NULL, NULL), sizeof(pkt));
	assert_memory_equal(out, pkt, sizeof(pkt));
	assert_int_equal(reap(64, NULL), 6);
	assert_int_equal(c->txq.fault, ENGINE_FRONT_FAULT_NONE);

	assert_true(engine_front_tx_mcast_result(&c->txq, &r));
	assert_memory_equal(r.addr, MC_A, 6);
	assert_int_equal(r.status, NETIF_RSP_OKAY);
	assert_true(engine_front_tx_mcast_result(&c->txq, &r));
	assert_memory_equal(r.addr, MC_B, 6);
	assert_true(r.add);
	assert_int_equal(r.status, NETIF_RSP_ERROR);
	assert_false(engine_front_tx_mcast_result(&c->txq, &r));
	/* the packets' own counters do not see the refusal */
	assert_int_equal(c->txq.stats.okay, 2);
	assert_int_equal(c->txq.stats.errors, 0);
	assert_int_equal(c->txq.stats.mcast_okay, 1);
	assert_int_equal(c->txq.stats.mcast_errors, 1);
	assert_int_equal(engine_front_tx_free_bufs(&c->txq), NBUF);
}

static void test_tx_mcast_refused_calls(void **state)
{
	static const uint8_t unicast[6] = { 0x02, 0, 0, 0, 0, 1 };
	struct engine_front_tx_config plain = { .sg = true };
	struct engine_front_mcast_result r;
	struct netif_extra_info ex;
	uint8_t addr[6], pkt[60] = { 0 };
	(void)state;

	/* not negotiated */
	assert_int_equal(engine_front_tx_init(&c->txq, &c->txs->s, &plain, c->txb, NBUF), 0);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), -EOPNOTSUPP);
	/* not a multicast address */
	mcast_init(NBUF);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, unicast), -EINVAL);
	assert_int_equal(c->txq.ring.req_prod_pvt, 0);
	/* broadcast is multicast too: the engine does not judge it */
	assert_int_equal(engine_front_tx_mcast(&c->txq, true,
					       (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }),
			 0);

	/* out of buffers: one buffer, one request */
	mcast_init(1);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), 0);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_B), -EAGAIN);
	assert_int_equal(c->txq.ring.req_prod_pvt, 2);

	/* out of ring slots: one slot left is not two */
	mcast_init(NBUF);
	for (unsigned i = 0; i < NBUF - 1; i++)
		assert_int_equal(engine_front_tx_send(&c->txq, pkt, sizeof(pkt), NULL), 0);
	assert_int_equal(engine_front_tx_free_slots(&c->txq), 1);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), -EAGAIN);
	assert_int_equal(c->txq.ring.req_prod_pvt, NBUF - 1);

	/* answers are kept until collected: in flight + uncollected is bounded */
	mcast_init(NBUF);
	memcpy(addr, MC_B, 6);
	for (unsigned i = 0; i < ENGINE_FRONT_MCAST_PENDING; i++) {
		addr[5] = (uint8_t)i;
		assert_int_equal(engine_front_tx_mcast(&c->txq, true, addr), 0);
	}
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), -EAGAIN);
	engine_front_tx_push(&c->txq);
	for (unsigned i = 0; i < ENGINE_FRONT_MCAST_PENDING; i++)
		be_tx_mcast(NETIF_RSP_OKAY, &ex);
	assert_int_equal(reap(NBUF, NULL), 2 * ENGINE_FRONT_MCAST_PENDING);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), -EAGAIN);
	assert_true(engine_front_tx_mcast_result(&c->txq, &r));
	assert_int_equal(r.addr[5], 0);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), 0);
	for (unsigned i = 1; i < ENGINE_FRONT_MCAST_PENDING; i++) {
		assert_true(engine_front_tx_mcast_result(&c->txq, &r));
		assert_int_equal(r.addr[5], i); /* in the order answered */
	}
	assert_false(engine_front_tx_mcast_result(&c->txq, &r));
}

/* The answers to multicast requests are checked like any other. */
static void test_tx_mcast_faults(void **state)
{
	struct engine_front_mcast_result r;
	(void)state;

	/* the extra slot answered with the request's id instead of NULL */
	mcast_init(16);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), 0);
	engine_front_tx_push(&c->txq);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_rsp(0, NETIF_RSP_OKAY);
	be_tx_publish();
	assert_int_equal(reap(64, NULL), -EPROTO);
	assert_int_equal(c->txq.fault, ENGINE_FRONT_FAULT_TX_ID_FREE);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), -EPROTO);

	/* two NULLs for one extra */
	mcast_init(16);
	assert_int_equal(engine_front_tx_mcast(&c->txq, true, MC_A), 0);
	engine_front_tx_push(&c->txq);
	be_tx_rsp(0xaaaa, NETIF_RSP_NULL);
	be_tx_rsp(0xaaaa, NETIF_RSP_NULL);
	be_tx_publish();
	assert_int_equal(reap(64, NULL), -EPROTO);
	assert_int_equal(c->txq.fault, ENGINE_FRONT_FAULT_TX_NULL);

	/* an answer before the NULL is fine, an undefined status goes to the caller as is */
	mcast_init(16);
	assert_int_equal(engine_front_tx_mcast(&c->txq, false, MC_A), 0);
	engine_front_tx_push(&c->txq);
	be_tx_rsp(0xaaaa, NETIF_RSP_NULL);
	be_tx_rsp(0, 77);
	be_tx_publish();
	assert_int_equal(reap(64, NULL), 2);
	assert_true(engine_front_tx_mcast_result(&c->txq, &r));
	assert_int_equal(r.status, 77);
	assert_int_equal(c->txq.stats.mcast_errors, 1);
	assert_int_equal(c->txq.stats.errors, 0);
}

/* ---- the simulated backend, RX side ---- */

static void rx_init(unsigned nbufs, bool gso4, bool gso6)
{
	struct engine_front_rx_config cfg = { .gso_tcpv4 = gso4, .gso_tcpv6 = gso6 };

	assert_int_equal(engine_front_rx_init(&c->rxq, &c->rxs->s, &cfg, c->rxb, nbufs), 0);
	c->be_rx_rsp = 0;
}

static void rx_start_at(RING_IDX at)
{
	c->rxs->s.req_prod = c->rxs->s.rsp_prod = at;
	c->rxs->s.req_event = c->rxs->s.rsp_event = at + 1;
	c->rxq.ring.req_prod_pvt = c->rxq.ring.rsp_cons = at;
	c->rxq.req_published = at;
	c->be_rx_rsp = at;
}

static const netif_rx_request_t *be_rx_req(RING_IDX i)
{
	return &c->rxs->s.ring[i & (NBUF - 1)].req;
}

static uint8_t *rx_page(RING_IDX i)
{
	uint32_t gref = be_rx_req(i)->gref;

	assert_true(gref >= G_RX && gref < G_RX + NBUF);
	return c->rx_pages + (size_t)(gref - G_RX) * PAGE;
}

/* Write a data response in slot @i, answering the request posted there. */
static void be_rx_data(RING_IDX i, uint16_t offset, uint16_t flags, int16_t status)
{
	netif_rx_response_t *r = &c->rxs->s.ring[i & (NBUF - 1)].rsp;
	uint16_t id = be_rx_req(i)->id;

	r->id = id;
	r->offset = offset;
	r->flags = flags;
	r->status = status;
}

static void be_rx_extra(RING_IDX i, uint8_t type, uint8_t eflags, uint16_t gso_size,
			uint8_t gso_type)
{
	struct netif_extra_info *e = (struct netif_extra_info *)&c->rxs->s.ring[i & (NBUF - 1)].rsp;

	memset(e, 0, sizeof(*e));
	e->type = type;
	e->flags = eflags;
	e->u.gso.size = gso_size;
	e->u.gso.type = gso_type;
}

static void be_rx_publish(RING_IDX prod)
{
	c->rxs->s.rsp_prod = prod;
	c->be_rx_rsp = prod;
}

/*
 * Deliver @frame honestly at be_rx_rsp: slots of @chunk bytes (the first at
 * offset @off0), a GSO extra when @gso_type is set; publish.
 */
static unsigned be_rx_packet(const uint8_t *frame, uint32_t len, uint32_t chunk, uint16_t off0,
			     uint16_t flags0, uint8_t gso_type, uint16_t gso_size)
{
	RING_IDX i = c->be_rx_rsp;
	uint32_t done = 0;
	unsigned n = 0;

	while (done < len) {
		uint32_t room = (n == 0 ? PAGE - off0 : PAGE);
		uint32_t k = len - done < chunk ? len - done : chunk;
		uint16_t off = n == 0 ? off0 : 0;

		if (k > room)
			k = room;
		memcpy(rx_page(i) + off, frame + done, k);
		done += k;
		be_rx_data(i, off, (uint16_t)((n == 0 ? flags0 : 0) |
				(done < len ? NETRXF_more_data : 0) |
				(n == 0 && gso_type ? NETRXF_extra_info : 0)),
			   (int16_t)k);
		i++;
		n++;
		if (n == 1 && gso_type) {
			be_rx_extra(i, XEN_NETIF_EXTRA_TYPE_GSO, 0, gso_size, gso_type);
			i++;
			n++;
		}
	}
	be_rx_publish(i);
	return n;
}

static int poll_rx(unsigned budget)
{
	return engine_front_rx_poll(&c->rxq, &c->batch, budget);
}

/* Every posted slot holds a distinct buffer, and its request says so. */
static void check_rx_ring_consistent(void)
{
	bool seen[NBUF] = { false };
	unsigned posted = 0;

	for (RING_IDX i = c->rxq.ring.rsp_cons; i != c->rxq.ring.req_prod_pvt; i++) {
		uint16_t b = c->rxq.slot_buf[i & (NBUF - 1)];

		assert_true(b < c->rxq.nr_bufs);
		assert_false(seen[b]);
		seen[b] = true;
		assert_int_equal(be_rx_req(i)->id, b);
		assert_int_equal(be_rx_req(i)->gref, G_RX + b);
		posted++;
	}
	for (unsigned k = 0; k < c->rxq.nr_free; k++) {
		assert_false(seen[c->rxq.free_list[k]]);
		seen[c->rxq.free_list[k]] = true;
	}
	assert_int_equal(posted + c->rxq.nr_free, c->rxq.nr_bufs);
	assert_int_equal(c->rxs->s.req_prod, c->rxq.ring.req_prod_pvt);
}

/* ---- RX tests ---- */

static void test_rx_refill_initial(void **state)
{
	(void)state;
	assert_int_equal(engine_front_rx_init(&c->rxq, &c->rxs->s, NULL, c->rxb,
					      ENGINE_FRONT_RX_MIN_BUFS - 1), -EINVAL);
	assert_int_equal(engine_front_rx_init(&c->rxq, &c->rxs->s, NULL, c->rxb, NBUF + 1),
			 -EINVAL);
	assert_int_equal(engine_front_rx_batch_init(&c->batch, c->arena,
						    ENGINE_FRONT_RX_ARENA_MIN - 1), -EINVAL);
	rx_init(NBUF, false, false);
	assert_int_equal(c->rxs->s.req_prod, 0);
	assert_true(engine_front_rx_refill(&c->rxq));
	assert_int_equal(c->rxs->s.req_prod, NBUF);
	assert_int_equal(engine_front_rx_posted(&c->rxq), NBUF);
	assert_int_equal(be_rx_req(0)->id, 0);
	assert_int_equal(be_rx_req(0)->gref, G_RX);
	check_rx_ring_consistent();
	/* nothing more to post: no notify, no change */
	assert_false(engine_front_rx_refill(&c->rxq));
	assert_int_equal(c->rxs->s.req_prod, NBUF);
	assert_int_equal(c->rxq.stats.requests, NBUF);
}

static void test_rx_single_slot(void **state)
{
	uint8_t f[200];
	(void)state;

	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	fill_pattern(f, sizeof(f), 3);
	be_rx_packet(f, 200, PAGE, 0, NETRXF_data_validated, 0, 0);
	c->rxs->s.req_event = NBUF + 1; /* the backend wants to hear of the next post */
	assert_int_equal(poll_rx(64), 1);
	assert_int_equal(c->batch.pkts[0].len, 200);
	assert_memory_equal(c->batch.pkts[0].data, f, 200);
	assert_int_equal(c->batch.pkts[0].meta.csum, ENGINE_CSUM_VALIDATED);
	assert_int_equal(c->batch.pkts[0].meta.gso_type, XEN_NETIF_GSO_TYPE_NONE);
	assert_false(c->batch.more);
	/* the buffer was posted again right away, and the backend told */
	assert_true(c->batch.notify);
	assert_int_equal(c->rxs->s.req_prod, NBUF + 1);
	assert_int_equal(engine_front_rx_posted(&c->rxq), NBUF);
	assert_int_equal(be_rx_req(NBUF)->id, 0);
	check_rx_ring_consistent();
	assert_int_equal(c->rxs->s.rsp_event, 2);
	assert_int_equal(c->rxq.stats.packets, 1);
	assert_int_equal(c->rxq.stats.bytes, 200);
	assert_int_equal(c->rxq.stats.csum_validated, 1);

	/* the next one, no flags, at an offset */
	fill_pattern(f, sizeof(f), 4);
	be_rx_packet(f, 100, PAGE, 3000, 0, 0, 0);
	assert_int_equal(poll_rx(64), 1);
	assert_memory_equal(c->batch.pkts[0].data, f, 100);
	assert_int_equal(c->batch.pkts[0].meta.csum, ENGINE_CSUM_NONE);
	assert_false(c->batch.notify); /* req_event not crossed this time */

	/* nothing published: nothing to do */
	assert_int_equal(poll_rx(64), 0);
	assert_int_equal(c->rxq.ring.rsp_cons, 2);
}

static void test_rx_multi_slot(void **state)
{
	static uint8_t f[20000];
	(void)state;

	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	fill_pattern(f, sizeof(f), 5);
	/* 1000 at offset 100, then 4096-byte slots */
	assert_int_equal(be_rx_packet(f, 1000, 1000, 100, 0, 0, 0), 1);
	assert_int_equal(be_rx_packet(f, sizeof(f), PAGE, 2000, 0, 0, 0), 6);
	/* and one with odd slot sizes, including an empty one */
	/* (a backend reads the request before its response overwrites it) */
	memcpy(rx_page(7), f, 60);
	be_rx_data(7, 0, NETRXF_more_data, 60);
	be_rx_data(8, 500, NETRXF_more_data, 0);
	memcpy(rx_page(9) + 4000, f + 60, 96);
	be_rx_data(9, 4000, 0, 96);
	be_rx_publish(10);
	assert_int_equal(poll_rx(64), 3);
	assert_int_equal(c->batch.pkts[0].len, 1000);
	assert_memory_equal(c->batch.pkts[0].data, f, 1000);
	assert_int_equal(c->batch.pkts[1].len, sizeof(f));
	assert_memory_equal(c->batch.pkts[1].data, f, sizeof(f));
	assert_int_equal(c->batch.pkts[2].len, 156);
	assert_memory_equal(c->batch.pkts[2].data, f, 156);
	assert_int_equal(c->rxq.ring.rsp_cons, 10);
	assert_int_equal(c->rxq.stats.packets, 3);
	assert_int_equal(c->rxq.stats.errors, 0);
	check_rx_ring_consistent();
	assert_int_equal(engine_front_rx_posted(&c->rxq), NBUF);
}

static void test_rx_gso_and_csum(void **state)
{
	static uint8_t f[9000];
	uint32_t len = build_tcp(f, 4, 6000);
	struct engine_front_rx_pkt *p;
	(void)state;

	rx_init(NBUF, true, false);
	engine_front_rx_refill(&c->rxq);
	assert_int_equal(be_rx_packet(f, len, PAGE, 0, NETRXF_csum_blank | NETRXF_data_validated,
				      XEN_NETIF_GSO_TYPE_TCPV4, 1448), 3);
	assert_int_equal(poll_rx(64), 1);
	p = &c->batch.pkts[0];
	assert_int_equal(p->len, len);
	assert_memory_equal(p->data, f, len);
	assert_int_equal(p->meta.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(p->meta.gso_size, 1448);
	assert_int_equal(p->meta.hdr_len, 14 + 20 + 20);
	assert_int_equal(p->meta.csum, ENGINE_CSUM_PARTIAL);
	assert_int_equal(p->meta.csum_start, 34);
	assert_int_equal(p->meta.csum_offset, 16);
	assert_int_equal(c->rxq.stats.gso_packets, 1);
	assert_int_equal(c->rxq.stats.csum_partial, 1);

	/* IPv6 GSO, not advertised: an error packet, its three slots recycled */
	len = build_tcp(f, 6, 6000);
	be_rx_packet(f, len, PAGE, 0, NETRXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6, 1400);
	/* GSO TCPv4 claimed on an IPv6 frame: headers do not match */
	be_rx_packet(f, len, PAGE, 0, NETRXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 1400);
	/* GSO size 0 */
	len = build_tcp(f, 4, 3000);
	be_rx_packet(f, len, PAGE, 0, NETRXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 0);
	/* csum_blank on a frame without IP */
	len = build_arp(f, 60);
	be_rx_packet(f, len, PAGE, 0, NETRXF_csum_blank | NETRXF_data_validated, 0, 0);
	/* and a good plain TCP one with csum_blank */
	len = build_tcp(f, 6, 100);
	be_rx_packet(f, len, PAGE, 0, NETRXF_csum_blank, 0, 0);
	assert_int_equal(poll_rx(64), 1);
	p = &c->batch.pkts[0];
	assert_int_equal(p->meta.csum, ENGINE_CSUM_PARTIAL);
	assert_int_equal(p->meta.csum_start, 54);
	assert_int_equal(c->rxq.stats.err[ENGINE_FRONT_RX_ERR_GSO], 3);
	assert_int_equal(c->rxq.stats.err[ENGINE_FRONT_RX_ERR_CSUM], 1);
	assert_int_equal(c->rxq.stats.errors, 4);
	assert_int_equal(c->rxq.stats.packets, 2);
	assert_int_equal(c->rxq.ring.rsp_cons, c->be_rx_rsp);
	check_rx_ring_consistent();
}

static void test_rx_extras(void **state)
{
	uint8_t f[100];
	struct netif_extra_info *e;
	(void)state;

	fill_pattern(f, sizeof(f), 9);
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	/* an unknown type and a hash, chained: the unknown one is ignored */
	memcpy(rx_page(0), f, 100);
	be_rx_data(0, 0, NETRXF_extra_info, 100);
	be_rx_extra(1, 9, XEN_NETIF_EXTRA_FLAG_MORE, 0, 0);
	e = (struct netif_extra_info *)&c->rxs->s.ring[2].rsp;
	memset(e, 0, sizeof(*e));
	e->type = XEN_NETIF_EXTRA_TYPE_HASH;
	e->u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
	e->u.hash.value[0] = 0x78;
	e->u.hash.value[3] = 0x12;
	be_rx_publish(3);
	assert_int_equal(poll_rx(64), 1);
	assert_int_equal(c->batch.pkts[0].len, 100);
	assert_true(c->batch.pkts[0].meta.has_hash);
	assert_int_equal(c->batch.pkts[0].meta.hash, 0x12000078);
	assert_int_equal(c->rxq.stats.extras_ignored, 1);
	assert_int_equal(c->rxq.ring.rsp_cons, 3);

	/* five extras chained: more than there are types */
	memcpy(rx_page(3), f, 100);
	be_rx_data(3, 0, NETRXF_extra_info | NETRXF_more_data, 50);
	for (RING_IDX i = 4; i < 9; i++)
		be_rx_extra(i, XEN_NETIF_EXTRA_TYPE_HASH, i < 8 ? XEN_NETIF_EXTRA_FLAG_MORE : 0, 0, 0);
	be_rx_data(9, 0, 0, 50);
	be_rx_publish(10);
	assert_int_equal(poll_rx(64), 0);
	assert_int_equal(c->rxq.stats.err[ENGINE_FRONT_RX_ERR_EXTRAS], 1);
	assert_int_equal(c->rxq.ring.rsp_cons, 10);
	check_rx_ring_consistent();
}

static void test_rx_bad_status(void **state)
{
	uint8_t f[100];
	(void)state;

	fill_pattern(f, sizeof(f), 10);
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	be_rx_data(0, 0, 0, NETIF_RSP_ERROR);             /* negative status */
	be_rx_data(1, 0, NETRXF_more_data, 100);           /* ... in a later slot */
	be_rx_data(2, 0, 0, NETIF_RSP_DROPPED);
	be_rx_data(3, 0, 0, 5000);                         /* status past the page */
	be_rx_data(4, 4000, 0, 200);                       /* offset + status past it */
	be_rx_data(5, 0xffff, 0, 100);                     /* offset past the page */
	be_rx_data(6, 0, 0, 10);                           /* shorter than Ethernet */
	memcpy(rx_page(7), f, 100);
	be_rx_data(7, 0, 0, 100);                          /* and a good one */
	be_rx_publish(8);
	assert_int_equal(poll_rx(64), 1);
	assert_memory_equal(c->batch.pkts[0].data, f, 100);
	assert_int_equal(c->rxq.stats.err[ENGINE_FRONT_RX_ERR_STATUS], 2);
	assert_int_equal(c->rxq.stats.err[ENGINE_FRONT_RX_ERR_PAGE], 3);
	assert_int_equal(c->rxq.stats.err[ENGINE_FRONT_RX_ERR_RUNT], 1);
	assert_int_equal(c->rxq.stats.errors, 6);
	assert_int_equal(c->rxq.stats.packets, 1);
	assert_int_equal(c->rxq.stats.responses, 8);
	assert_int_equal(c->rxq.fault, ENGINE_FRONT_FAULT_NONE);
	/* every buffer went back and was posted again */
	assert_int_equal(engine_front_rx_posted(&c->rxq), NBUF);
	check_rx_ring_consistent();
}

static void test_rx_too_many_slots(void **state)
{
	static uint8_t f[19 * 100];
	RING_IDX i;
	(void)state;

	fill_pattern(f, sizeof(f), 11);
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	/* 19 slots: the most we accept */
	for (i = 0; i < 19; i++) {
		memcpy(rx_page(i), f + i * 100, 100);
		be_rx_data(i, 0, i < 18 ? NETRXF_more_data : 0, 100);
	}
	/* 20 slots: an error, consumed to its end */
	for (; i < 39; i++)
		be_rx_data(i, 0, i < 38 ? NETRXF_more_data : 0, 100);
	/* 60 slots: still walked to its end, bounded by the ring */
	for (; i < 99; i++)
		be_rx_data(i, 0, i < 98 ? NETRXF_more_data : 0, 100);
	be_rx_publish(i);
	assert_int_equal(poll_rx(64), 1);
	assert_int_equal(c->batch.pkts[0].len, sizeof(f));
	assert_memory_equal(c->batch.pkts[0].data, f, sizeof(f));
	assert_int_equal(c->rxq.stats.err[ENGINE_FRONT_RX_ERR_SLOTS], 2);
	assert_int_equal(c->rxq.ring.rsp_cons, 99);
	check_rx_ring_consistent();
}

/* Each reason an RX packet is dropped has a name of its own, for the netfront's log. */
static void test_rx_err_strings(void **state)
{
	(void)state;
	for (unsigned i = ENGINE_FRONT_RX_ERR_NONE + 1; i < ENGINE_FRONT_RX_ERR_MAX; i++) {
		const char *s = engine_front_rx_err_str((enum engine_front_rx_err)i);

		assert_string_not_equal(s, "unknown error");
		assert_string_not_equal(s, "no error");
		for (unsigned j = ENGINE_FRONT_RX_ERR_NONE + 1; j < i; j++)
			assert_string_not_equal(s, engine_front_rx_err_str((enum engine_front_rx_err)j));
	}
	assert_string_equal(engine_front_rx_err_str(ENGINE_FRONT_RX_ERR_MAX), "unknown error");
}

static void expect_rx_fault(enum engine_front_fault f)
{
	RING_IDX req_prod = c->rxs->s.req_prod;

	assert_int_equal(poll_rx(64), -EPROTO);
	assert_int_equal(c->rxq.fault, f);
	assert_string_not_equal(engine_front_fault_str(f), "unknown fault");
	assert_int_equal(poll_rx(64), -EPROTO);
	assert_false(engine_front_rx_refill(&c->rxq));
	assert_int_equal(c->rxs->s.req_prod, req_prod);
}

static void test_rx_fault_id_mismatch(void **state)
{
	(void)state;
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	be_rx_data(0, 0, 0, 100);
	c->rxs->s.ring[0].rsp.id = 1; /* buffer 1 is posted, but in slot 1 */
	be_rx_publish(1);
	expect_rx_fault(ENGINE_FRONT_FAULT_RX_ID);
	assert_int_equal(c->rxq.ring.rsp_cons, 0);

	/* in a later slot of a packet */
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	be_rx_data(0, 0, NETRXF_more_data, 100);
	be_rx_data(1, 0, NETRXF_more_data, 100);
	be_rx_data(2, 0, 0, 100);
	c->rxs->s.ring[2].rsp.id = 0xffff;
	be_rx_publish(3);
	expect_rx_fault(ENGINE_FRONT_FAULT_RX_ID);
}

static void test_rx_fault_rsp_prod(void **state)
{
	(void)state;
	/* a full ring and one more */
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	for (RING_IDX i = 0; i < NBUF; i++)
		be_rx_data(i, 0, 0, 100);
	be_rx_publish(NBUF + 1);
	expect_rx_fault(ENGINE_FRONT_FAULT_RX_RSP_PROD);

	/* a small pool: past what was posted, although within the ring */
	rx_init(32, false, false);
	engine_front_rx_refill(&c->rxq);
	assert_int_equal(c->rxs->s.req_prod, 32);
	be_rx_publish(33);
	expect_rx_fault(ENGINE_FRONT_FAULT_RX_RSP_PROD);

	/* backwards */
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	be_rx_publish((RING_IDX)-3);
	expect_rx_fault(ENGINE_FRONT_FAULT_RX_RSP_PROD);
}

static void test_rx_incomplete_waits(void **state)
{
	static uint8_t f[9000];
	(void)state;

	fill_pattern(f, sizeof(f), 12);
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	/* a good packet, then one whose second slot is not there yet */
	memcpy(rx_page(0), f, 100);
	be_rx_data(0, 0, 0, 100);
	memcpy(rx_page(1), f, 4096);
	be_rx_data(1, 0, NETRXF_more_data, 4096);
	be_rx_publish(2);
	assert_int_equal(poll_rx(64), 1);
	assert_int_equal(c->rxq.ring.rsp_cons, 1);
	assert_int_equal(c->rxq.stats.waits, 1);
	assert_int_equal(c->rxs->s.rsp_event, 3); /* woken by the next response */
	/* again: still waiting, nothing consumed */
	assert_int_equal(poll_rx(64), 0);
	assert_int_equal(c->rxq.ring.rsp_cons, 1);
	/* one more slot, still not the last */
	memcpy(rx_page(2), f + 4096, 4096);
	be_rx_data(2, 0, NETRXF_more_data, 4096);
	be_rx_publish(3);
	assert_int_equal(poll_rx(64), 0);
	assert_int_equal(c->rxq.ring.rsp_cons, 1);
	/* the rest arrives */
	memcpy(rx_page(3), f + 8192, 808);
	be_rx_data(3, 0, 0, 808);
	be_rx_publish(4);
	assert_int_equal(poll_rx(64), 1);
	assert_int_equal(c->batch.pkts[0].len, 9000);
	assert_memory_equal(c->batch.pkts[0].data, f, 9000);
	assert_int_equal(c->rxq.ring.rsp_cons, 4);

	/* open inside the extra-info chain */
	memcpy(rx_page(4), f, 100);
	be_rx_data(4, 0, NETRXF_extra_info, 100);
	be_rx_extra(5, 9, XEN_NETIF_EXTRA_FLAG_MORE, 0, 0);
	be_rx_publish(6);
	assert_int_equal(poll_rx(64), 0);
	assert_int_equal(c->rxq.ring.rsp_cons, 4);
	be_rx_extra(6, 9, 0, 0, 0);
	be_rx_publish(7);
	assert_int_equal(poll_rx(64), 1);
	assert_int_equal(c->rxq.ring.rsp_cons, 7);
	assert_int_equal(c->rxq.fault, ENGINE_FRONT_FAULT_NONE);
	check_rx_ring_consistent();
}

static void test_rx_fault_stuck(void **state)
{
	(void)state;
	/* every buffer answered, the packet still open: it can never end */
	rx_init(ENGINE_FRONT_RX_MIN_BUFS, false, false);
	engine_front_rx_refill(&c->rxq);
	for (RING_IDX i = 0; i < ENGINE_FRONT_RX_MIN_BUFS; i++)
		be_rx_data(i, 0, NETRXF_more_data, 100);
	be_rx_publish(ENGINE_FRONT_RX_MIN_BUFS);
	expect_rx_fault(ENGINE_FRONT_FAULT_RX_STUCK);

	/* the same over the whole ring */
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	for (RING_IDX i = 0; i < NBUF; i++)
		be_rx_data(i, 0, NETRXF_more_data, 100);
	be_rx_publish(NBUF - 1);
	assert_int_equal(poll_rx(64), 0); /* one buffer left: it may still end */
	be_rx_publish(NBUF);
	expect_rx_fault(ENGINE_FRONT_FAULT_RX_STUCK);
}

static void test_rx_budget_and_arena(void **state)
{
	static uint8_t f[40000];
	(void)state;

	fill_pattern(f, sizeof(f), 13);
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	for (int k = 0; k < 5; k++)
		be_rx_packet(f, 100 + k, PAGE, 0, 0, 0, 0);
	assert_int_equal(poll_rx(2), 2);
	assert_true(c->batch.more);
	assert_int_equal(c->batch.pkts[1].len, 101);
	/* packets start aligned in the arena */
	assert_int_equal((c->batch.pkts[1].data - c->arena) % ENGINE_FRONT_RX_ALIGN, 0);
	assert_int_equal(poll_rx(2), 2);
	assert_true(c->batch.more);
	assert_int_equal(poll_rx(2), 1);
	assert_false(c->batch.more);
	assert_int_equal(c->batch.pkts[0].len, 104);
	assert_int_equal(poll_rx(0), 0);

	/* an arena with room for one maximal packet takes one 40000-byte packet */
	assert_int_equal(engine_front_rx_batch_init(&c->batch, c->arena,
						    ENGINE_FRONT_RX_ARENA_MIN), 0);
	be_rx_packet(f, 40000, PAGE, 0, 0, 0, 0);
	be_rx_packet(f, 40000, PAGE, 0, 0, 0, 0);
	assert_int_equal(poll_rx(64), 1);
	assert_true(c->batch.more);
	assert_memory_equal(c->batch.pkts[0].data, f, 40000);
	assert_int_equal(poll_rx(64), 1);
	assert_false(c->batch.more);
	assert_memory_equal(c->batch.pkts[0].data, f, 40000);
	check_rx_ring_consistent();
}

static void test_rx_refill_keeps_ring_full(void **state)
{
	static uint8_t f[ENGINE_FRONT_RX_PKT_MAX];
	uint32_t seed = 1;
	uint64_t delivered = 0;
	(void)state;

	fill_pattern(f, sizeof(f), 14);
	rx_init(NBUF, false, false);
	engine_front_rx_refill(&c->rxq);
	for (unsigned round = 0; round < 400; round++) {
		unsigned room = NBUF - (c->be_rx_rsp - c->rxq.ring.rsp_cons);
		unsigned npk = 0;

		/* the backend answers a random number of packets of random size */
		while (npk < 8) {
			uint32_t len;

			seed = seed * 1103515245u + 12345u;
			len = 14 + (seed >> 8) % (18 * PAGE - 14);
			if (engine_front_tx_slots(len) > room)
				break;
			room -= be_rx_packet(f, len, PAGE, 0, 0, 0, 0);
			npk++;
		}
		/* the arena holds four maximal packets: may take more than one poll */
		for (unsigned got = 0, polls = 0; got < npk; polls++) {
			int n = poll_rx(64);

			assert_true(n > 0 && polls < npk);
			for (int k = 0; k < n; k++)
				assert_memory_equal(c->batch.pkts[k].data, f, c->batch.pkts[k].len);
			got += (unsigned)n;
			assert_int_equal(c->batch.more, got < npk);
		}
		delivered += npk;
		/* after every poll: full, and no buffer in two places */
		assert_int_equal(engine_front_rx_posted(&c->rxq), NBUF);
		assert_int_equal(c->rxq.nr_free, 0);
		check_rx_ring_consistent();
	}
	assert_int_equal(c->rxq.stats.packets, delivered);
	assert_int_equal(c->rxq.stats.errors, 0);
}

static void test_rx_wraparound(void **state)
{
	static uint8_t f[9000];
	(void)state;

	fill_pattern(f, sizeof(f), 15);
	rx_init(64, true, true);
	rx_start_at(0xfffffff0u);
	engine_front_rx_refill(&c->rxq);
	for (unsigned round = 0; round < 100; round++) {
		uint32_t len = 60 + (round * 1237) % 8900;

		be_rx_packet(f, len, PAGE, (uint16_t)(round % 2 ? 64 : 0), 0, 0, 0);
		assert_int_equal(poll_rx(64), 1);
		assert_int_equal(c->batch.pkts[0].len, len);
		assert_memory_equal(c->batch.pkts[0].data, f, len);
		check_rx_ring_consistent();
	}
	assert_true(c->rxq.ring.rsp_cons < 0x1000u);
	assert_int_equal(engine_front_rx_posted(&c->rxq), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_tunnelled_csum_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_tunnelled_csum_straddles_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_single_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_multi_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_no_sg_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_gso, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_eagain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_statuses_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_reap_budget_and_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_fault_unknown_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_fault_duplicate_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_fault_null, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_fault_rsp_prod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_mcast_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_mcast_refused_among_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_mcast_refused_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_mcast_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_refill_initial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_single_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_multi_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_gso_and_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_extras, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_bad_status, setup, teardown),
		cmocka_unit_test(test_rx_err_strings),
		cmocka_unit_test_setup_teardown(test_rx_too_many_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fault_id_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fault_rsp_prod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_incomplete_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fault_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_budget_and_arena, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_refill_keeps_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_wraparound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
