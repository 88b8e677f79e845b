/* SPDX-License-Identifier: MIT */
/*
 * bench_engine.c - the protocol engine's throughput, in one process.
 *
 * A simulated frontend keeps the TX (or RX) ring full; the engine runs as
 * the backend would, with a simulated grant copy that memcpy()s between a
 * pool of 'guest' pages and the host buffers, checking each segment as the
 * hypervisor would. Both sides' work is on the clock, so the numbers are a
 * floor for what the backend alone can do. The baseline, measured in the
 * same run on the same buffers, is plain memcpy() of the same segments:
 * ratio_to_memcpy says what the protocol costs on top of moving the bytes.
 *
 * Output: one JSON line per (path, frame size).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offload.h"
#include "rx.h"
#include "tx.h"

#define PEER_DOMID 1
#define POOL_PAGES 1024u
#define BENCH_SECONDS 0.6

static uint8_t (*pool)[ENGINE_PAGE_SIZE];
static uint8_t *host_buf;     /* TX arena / RX source packets */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The hypervisor's side of a batched copy, with its bounds checks. */
static void sim_grant_copy(struct engine_copy_seg *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct engine_copy_seg *s = &segs[i];

		if (s->flags & GNTCOPY_source_gref) {
			if (s->source.foreign.ref >= POOL_PAGES ||
			    s->source.foreign.offset + s->len > ENGINE_PAGE_SIZE) {
				s->status = GNTST_bad_copy_arg;
				continue;
			}
			memcpy(s->dest.virt, pool[s->source.foreign.ref] + s->source.foreign.offset,
			       s->len);
		} else {
			if (s->dest.foreign.ref >= POOL_PAGES ||
			    s->dest.foreign.offset + s->len > ENGINE_PAGE_SIZE) {
				s->status = GNTST_bad_copy_arg;
				continue;
			}
			memcpy(pool[s->dest.foreign.ref] + s->dest.foreign.offset, s->source.virt,
			       s->len);
		}
		s->status = GNTST_okay;
	}
}

/* An Ethernet/IPv4/TCP frame of @len bytes (headers valid for GSO). */
static void make_frame(uint8_t *f, uint32_t len)
{
	uint32_t ip_len = len - 14;

	memset(f, 0x5a, len);
	memset(f, 0xff, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[15] = 0;
	f[16] = (uint8_t)(ip_len > 0xffff ? 0xff : ip_len >> 8);
	f[17] = (uint8_t)(ip_len > 0xffff ? 0xff : ip_len);
	f[20] = 0x40; /* DF */
	f[21] = 0;
	f[22] = 64;
	f[23] = 6;
	f[46] = 0x50; /* TCP data offset 5 */
}

struct result {
	double pps, bps;
};

/* ---- guest TX ---------------------------------------------------------- */

struct tx_bench {
	union { netif_tx_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } *ring;
	netif_tx_front_ring_t front;
	struct engine_tx_queue q;
	struct engine_tx_batch *b;
	uint32_t frame;
	unsigned slots;  /* data slots per packet */
	bool gso;
	unsigned next_page;
};

static unsigned tx_slots_per_pkt(const struct tx_bench *t)
{
	return t->slots + (t->gso ? 1 : 0);
}

/* The frontend: fill the free slots with whole packets. */
static void tx_front_fill(struct tx_bench *t)
{
	unsigned per = tx_slots_per_pkt(t);

	while (RING_FREE_REQUESTS(&t->front) >= per) {
		uint32_t left = t->frame;

		for (unsigned s = 0; s < t->slots; s++) {
			netif_tx_request_t *r = RING_GET_REQUEST(&t->front, t->front.req_prod_pvt++);
			uint32_t chunk = left > ENGINE_PAGE_SIZE ? ENGINE_PAGE_SIZE : left;

			r->gref = t->next_page;
			t->next_page = (t->next_page + 1) % POOL_PAGES;
			r->offset = 0;
			r->id = (uint16_t)(t->front.req_prod_pvt & 0xffff);
			r->size = (uint16_t)(s == 0 ? t->frame : chunk);
			r->flags = s + 1 < t->slots ? NETTXF_more_data : 0;
			if (s == 0 && t->gso) {
				struct netif_extra_info *ex;

				r->flags |= NETTXF_extra_info | NETTXF_csum_blank;
				ex = (struct netif_extra_info *)RING_GET_REQUEST(&t->front,
										  t->front.req_prod_pvt++);
				memset(ex, 0, sizeof(*ex));
				ex->type = XEN_NETIF_EXTRA_TYPE_GSO;
				ex->u.gso.size = 1448;
				ex->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
			}
			left -= chunk;
		}
	}
	RING_PUSH_REQUESTS(&t->front);
}

static void tx_front_reap(struct tx_bench *t)
{
	RING_IDX prod = t->ring->s.rsp_prod;

	t->front.rsp_cons = prod;
}

static struct result bench_tx(uint32_t frame, unsigned *segs_per_pkt)
{
	struct tx_bench t = { .frame = frame };
	uint64_t pkts = 0, bytes = 0;
	struct engine_tx_config cfg = { .peer_domid = PEER_DOMID, .gso_tcpv4 = true };
	double t0, t1;

	t.gso = frame > 9000;
	t.slots = (frame + ENGINE_PAGE_SIZE - 1) / ENGINE_PAGE_SIZE;
	*segs_per_pkt = t.slots;
	t.ring = aligned_alloc(ENGINE_PAGE_SIZE, sizeof(*t.ring));
	t.b = malloc(sizeof(*t.b));
	SHARED_RING_INIT(&t.ring->s);
	FRONT_RING_INIT(&t.front, &t.ring->s, ENGINE_PAGE_SIZE);
	engine_tx_init(&t.q, &t.ring->s, &cfg);
	engine_tx_batch_init(t.b, host_buf, ENGINE_TX_ARENA_SIZE);
	for (unsigned p = 0; p < POOL_PAGES; p++)
		make_frame(pool[p], ENGINE_PAGE_SIZE);

	t0 = now();
	do {
		for (int iter = 0; iter < 64; iter++) {
			int n;

			tx_front_fill(&t);
			n = engine_tx_parse(&t.q, t.b, ENGINE_TX_RING_SIZE);
			if (n <= 0) {
				fprintf(stderr, "bench: parse returned %d (%s)\n", n,
					engine_fault_str(t.q.fault));
				exit(1);
			}
			sim_grant_copy(t.b->segs, t.b->nr_segs);
			engine_tx_finish(&t.q, t.b);
			for (unsigned i = 0; i < t.b->nr_pkts; i++) {
				if (t.b->pkts[i].drop) {
					fprintf(stderr, "bench: packet dropped (%u)\n", t.b->pkts[i].drop);
					exit(1);
				}
				bytes += t.b->pkts[i].len;
			}
			pkts += t.b->nr_pkts;
			engine_tx_respond(&t.q, t.b);
			tx_front_reap(&t);
		}
		t1 = now();
	} while (t1 - t0 < BENCH_SECONDS);

	free(t.b);
	free(t.ring);
	return (struct result){ pkts / (t1 - t0), bytes * 8.0 / (t1 - t0) };
}

/* ---- guest RX ---------------------------------------------------------- */

static struct result bench_rx(uint32_t frame)
{
	union { netif_rx_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } *ring;
	struct engine_rx_config cfg = { .peer_domid = PEER_DOMID, .sg = true,
					.gso_tcpv4 = true, .csum_blank = true };
	netif_rx_front_ring_t front;
	struct engine_rx_queue q;
	struct engine_rx_batch *b = malloc(sizeof(*b));
	struct engine_rx_pkt pkt = { .data = host_buf, .len = frame };
	uint64_t pkts = 0, bytes = 0;
	unsigned next_page = 0;
	double t0, t1;

	if (frame > 9000) {
		pkt.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
		pkt.meta.gso_size = 1448;
		pkt.meta.csum = ENGINE_CSUM_PARTIAL;
	}
	make_frame(host_buf, frame);
	ring = aligned_alloc(ENGINE_PAGE_SIZE, sizeof(*ring));
	SHARED_RING_INIT(&ring->s);
	FRONT_RING_INIT(&front, &ring->s, ENGINE_PAGE_SIZE);
	engine_rx_init(&q, &ring->s, &cfg);

	t0 = now();
	do {
		for (int iter = 0; iter < 64; iter++) {
			/* The frontend reaps responses and reposts every free slot. */
			front.rsp_cons = ring->s.rsp_prod;
			while (RING_FREE_REQUESTS(&front)) {
				netif_rx_request_t *r = RING_GET_REQUEST(&front, front.req_prod_pvt);

				r->id = (uint16_t)(front.req_prod_pvt & 0xff);
				r->gref = next_page;
				next_page = (next_page + 1) % POOL_PAGES;
				front.req_prod_pvt++;
			}
			RING_PUSH_REQUESTS(&front);

			engine_rx_batch_reset(b);
			for (;;) {
				int rc = engine_rx_add(&q, b, &pkt);

				if (rc == -EAGAIN || rc == -ENOSPC)
					break;
				if (rc) {
					fprintf(stderr, "bench: rx_add returned %d\n", rc);
					exit(1);
				}
				pkts++;
				bytes += frame;
			}
			sim_grant_copy(b->segs, b->nr_segs);
			engine_rx_complete(&q, b);
		}
		t1 = now();
	} while (t1 - t0 < BENCH_SECONDS);

	free(b);
	free(ring);
	return (struct result){ pkts / (t1 - t0), bytes * 8.0 / (t1 - t0) };
}

/* ---- baseline ---------------------------------------------------------- */

/* memcpy of the same bytes, in the same segment pattern, page by page. */
static double bench_memcpy(uint32_t frame, bool to_guest)
{
	uint64_t bytes = 0;
	unsigned page = 0;
	double t0, t1;

	t0 = now();
	do {
		for (int iter = 0; iter < 4096; iter++) {
			uint32_t left = frame, off = 0;
			uint8_t *pkt = host_buf + (size_t)(iter % 16) * 65600;

			while (left) {
				uint32_t chunk = left > ENGINE_PAGE_SIZE ? ENGINE_PAGE_SIZE : left;

				if (to_guest)
					memcpy(pool[page], pkt + off, chunk);
				else
					memcpy(pkt + off, pool[page], chunk);
				page = (page + 1) % POOL_PAGES;
				off += chunk;
				left -= chunk;
			}
			bytes += frame;
		}
		__asm__ __volatile__("" ::: "memory");
		t1 = now();
	} while (t1 - t0 < BENCH_SECONDS);
	return bytes * 8.0 / (t1 - t0);
}

static void report(const char *path, uint32_t frame, struct result r, double memcpy_bps)
{
	printf("{\"bench\":\"engine\",\"path\":\"%s\",\"frame_bytes\":%u,\"mpps\":%.3f,"
	       "\"gbps\":%.3f,\"memcpy_gbps\":%.3f,\"ratio_to_memcpy\":%.3f}\n",
	       path, frame, r.pps / 1e6, r.bps / 1e9, memcpy_bps / 1e9, r.bps / memcpy_bps);
	fflush(stdout);
}

int main(void)
{
	static const uint32_t frames[] = { 64, 1514, 9000, 65535 };

	pool = aligned_alloc(ENGINE_PAGE_SIZE, (size_t)POOL_PAGES * ENGINE_PAGE_SIZE);
	host_buf = aligned_alloc(ENGINE_PAGE_SIZE, ENGINE_TX_ARENA_SIZE);
	if (!pool || !host_buf)
		return 1;
	memset(pool, 0, (size_t)POOL_PAGES * ENGINE_PAGE_SIZE);
	memset(host_buf, 0, ENGINE_TX_ARENA_SIZE);

	for (unsigned i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		unsigned segs;
		struct result r = bench_tx(frames[i], &segs);

		report("tx", frames[i], r, bench_memcpy(frames[i], false));
	}
	for (unsigned i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct result r = bench_rx(frames[i]);

		report("rx", frames[i], r, bench_memcpy(frames[i], true));
	}
	free(pool);
	free(host_buf);
	return 0;
}
