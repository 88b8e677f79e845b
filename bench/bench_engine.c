/* SPDX-License-Identifier: MIT */
/*
 * bench_engine.c - the protocol engine's throughput, in one process.
 *
 * A simulated frontend keeps the TX (or RX) ring full; the engine runs as
 * the backend would, with a simulated grant copy that memcpy()s between a
 * pool of 'guest' pages and the host buffers, checking each segment as the
 * hypervisor would. Both sides' work is on the clock, so the numbers are a
 * floor for what the backend alone can do. The baseline is plain memcpy()
 * of exactly those segments: after the timed engine run, the same engine
 * keeps going, untimed, and the segment lists of its batches are recorded
 * (resolved to plain source and destination pointers, as the simulated
 * grant copy resolves them) until they repeat; bench_memcpy() then replays
 * them batch by batch, same addresses, lengths and order, with nothing else
 * on the clock. ratio_to_memcpy says what the protocol costs on top of
 * moving the bytes; it cannot honestly exceed 1.0 beyond run-to-run noise.
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
/* Batches recorded after a timed run; the replay keeps their shortest period. */
#define REC_BATCHES 2048u
#define REC_MAX_SEGS 256u /* per batch: ENGINE_TX_RING_SIZE, ENGINE_RX_RING_SIZE */

_Static_assert(ENGINE_TX_RING_SIZE <= REC_MAX_SEGS && ENGINE_RX_RING_SIZE <= REC_MAX_SEGS,
	       "a batch's segments must fit a recorded batch");

static uint8_t (*pool)[ENGINE_PAGE_SIZE];
static uint8_t *host_buf;     /* TX arena / RX source packets */

/* One grant-copy segment, resolved to the pointers the simulated copy used. */
struct copy_op {
	uint8_t *dst;
	const uint8_t *src;
	size_t len;
};

/* The segments of consecutive engine batches, for the memcpy baseline. */
struct recording {
	struct copy_op *ops;          /* REC_BATCHES * REC_MAX_SEGS */
	unsigned *first;              /* batch i: ops[first[i] .. first[i + 1]) */
	uint64_t *bytes;              /* packet bytes the engine counted for batch i */
	unsigned nr_batches, nr_ops;
};

static struct recording rec;

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

static void rec_reset(void)
{
	rec.nr_batches = rec.nr_ops = 0;
	rec.first[0] = 0;
}

/*
 * Record one batch after sim_grant_copy() ran it: each segment's source and
 * destination as sim_grant_copy() resolved them. @pkt_bytes is what the
 * engine run counted for the batch; the segments must cover exactly that.
 */
static void rec_batch(const struct engine_copy_seg *segs, unsigned n, uint64_t pkt_bytes)
{
	uint64_t copied = 0;

	if (rec.nr_batches == REC_BATCHES || n > REC_MAX_SEGS) {
		fprintf(stderr, "bench: recording overflow\n");
		exit(1);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct engine_copy_seg *s = &segs[i];
		struct copy_op *op = &rec.ops[rec.nr_ops++];

		if (s->status != GNTST_okay) {
			fprintf(stderr, "bench: segment failed (%d)\n", s->status);
			exit(1);
		}
		if (s->flags & GNTCOPY_source_gref) {
			op->src = pool[s->source.foreign.ref] + s->source.foreign.offset;
			op->dst = s->dest.virt;
		} else {
			op->src = s->source.virt;
			op->dst = pool[s->dest.foreign.ref] + s->dest.foreign.offset;
		}
		op->len = s->len;
		copied += s->len;
	}
	if (copied != pkt_bytes) {
		fprintf(stderr, "bench: batch copies %llu bytes for %llu packet bytes\n",
			(unsigned long long)copied, (unsigned long long)pkt_bytes);
		exit(1);
	}
	rec.bytes[rec.nr_batches] = pkt_bytes;
	rec.first[++rec.nr_batches] = rec.nr_ops;
}

static bool rec_same_batch(unsigned a, unsigned b)
{
	unsigned n = rec.first[a + 1] - rec.first[a];

	if (n != rec.first[b + 1] - rec.first[b] || rec.bytes[a] != rec.bytes[b])
		return false;
	for (unsigned i = 0; i < n; i++) {
		const struct copy_op *x = &rec.ops[rec.first[a] + i], *y = &rec.ops[rec.first[b] + i];

		if (x->dst != y->dst || x->src != y->src || x->len != y->len)
			return false;
	}
	return true;
}

/*
 * Cut the recording to its shortest period, so that replaying it over and
 * over copies what the engine copied batch after batch, without a larger
 * footprint of segment lists than the pattern needs. Without a period in
 * the recording, all of it is replayed.
 */
static void rec_trim(void)
{
	for (unsigned p = 1; p <= rec.nr_batches / 2; p++) {
		bool periodic = true;

		for (unsigned i = 0; periodic && i + p < rec.nr_batches; i++)
			periodic = rec_same_batch(i, i + p);
		if (periodic) {
			rec.nr_batches = p;
			rec.nr_ops = rec.first[p];
			return;
		}
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

/*
 * One batch, as the backend runs it: parse, grant copy, finish, respond.
 * Inlined, so that the timed loop runs the batch in line as before.
 */
static inline __attribute__((always_inline))
unsigned tx_step(struct tx_bench *t, uint64_t *bytes)
{
	int n;

	tx_front_fill(t);
	n = engine_tx_parse(&t->q, t->b, ENGINE_TX_RING_SIZE);
	if (n <= 0) {
		fprintf(stderr, "bench: parse returned %d (%s)\n", n,
			engine_fault_str(t->q.fault));
		exit(1);
	}
	sim_grant_copy(t->b->segs, t->b->nr_segs);
	engine_tx_finish(&t->q, t->b);
	for (unsigned i = 0; i < t->b->nr_pkts; i++) {
		if (t->b->pkts[i].drop) {
			fprintf(stderr, "bench: packet dropped (%u)\n", t->b->pkts[i].drop);
			exit(1);
		}
		*bytes += t->b->pkts[i].len;
	}
	engine_tx_respond(&t->q, t->b);
	tx_front_reap(t);
	return t->b->nr_pkts;
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
		for (int iter = 0; iter < 64; iter++)
			pkts += tx_step(&t, &bytes);
		t1 = now();
	} while (t1 - t0 < BENCH_SECONDS);

	/* Untimed: the same engine goes on; record what its batches copy. */
	rec_reset();
	for (unsigned i = 0; i < REC_BATCHES; i++) {
		uint64_t batch_bytes = 0;

		tx_step(&t, &batch_bytes);
		rec_batch(t.b->segs, t.b->nr_segs, batch_bytes);
	}
	rec_trim();

	free(t.b);
	free(t.ring);
	return (struct result){ pkts / (t1 - t0), bytes * 8.0 / (t1 - t0) };
}

/* ---- guest RX ---------------------------------------------------------- */

struct rx_bench {
	union { netif_rx_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } *ring;
	netif_rx_front_ring_t front;
	struct engine_rx_queue q;
	struct engine_rx_batch *b;
	struct engine_rx_pkt pkt;
	unsigned next_page;
};

/* One batch: the frontend reposts, the engine places packets, grant copy, complete. */
static inline __attribute__((always_inline))
unsigned rx_step(struct rx_bench *r, uint64_t *bytes)
{
	unsigned pkts = 0;

	/* The frontend reaps responses and reposts every free slot. */
	r->front.rsp_cons = r->ring->s.rsp_prod;
	while (RING_FREE_REQUESTS(&r->front)) {
		netif_rx_request_t *req = RING_GET_REQUEST(&r->front, r->front.req_prod_pvt);

		req->id = (uint16_t)(r->front.req_prod_pvt & 0xff);
		req->gref = r->next_page;
		r->next_page = (r->next_page + 1) % POOL_PAGES;
		r->front.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&r->front);

	engine_rx_batch_reset(r->b);
	for (;;) {
		int rc = engine_rx_add(&r->q, r->b, &r->pkt);

		if (rc == -EAGAIN || rc == -ENOSPC)
			break;
		if (rc) {
			fprintf(stderr, "bench: rx_add returned %d\n", rc);
			exit(1);
		}
		pkts++;
		*bytes += r->pkt.len;
	}
	sim_grant_copy(r->b->segs, r->b->nr_segs);
	engine_rx_complete(&r->q, r->b);
	return pkts;
}

static struct result bench_rx(uint32_t frame)
{
	struct engine_rx_config cfg = { .peer_domid = PEER_DOMID, .sg = true,
					.gso_tcpv4 = true, .csum_blank = true };
	struct rx_bench r = { .pkt = { .data = host_buf, .len = frame } };
	uint64_t pkts = 0, bytes = 0;
	double t0, t1;

	if (frame > 9000) {
		r.pkt.meta.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
		r.pkt.meta.gso_size = 1448;
		r.pkt.meta.csum = ENGINE_CSUM_PARTIAL;
	}
	make_frame(host_buf, frame);
	r.b = malloc(sizeof(*r.b));
	r.ring = aligned_alloc(ENGINE_PAGE_SIZE, sizeof(*r.ring));
	SHARED_RING_INIT(&r.ring->s);
	FRONT_RING_INIT(&r.front, &r.ring->s, ENGINE_PAGE_SIZE);
	engine_rx_init(&r.q, &r.ring->s, &cfg);

	t0 = now();
	do {
		for (int iter = 0; iter < 64; iter++)
			pkts += rx_step(&r, &bytes);
		t1 = now();
	} while (t1 - t0 < BENCH_SECONDS);

	/* Untimed: the same engine goes on; record what its batches copy. */
	rec_reset();
	for (unsigned i = 0; i < REC_BATCHES; i++) {
		uint64_t batch_bytes = 0;

		rx_step(&r, &batch_bytes);
		rec_batch(r.b->segs, r.b->nr_segs, batch_bytes);
	}
	rec_trim();

	free(r.b);
	free(r.ring);
	return (struct result){ pkts / (t1 - t0), bytes * 8.0 / (t1 - t0) };
}

/* ---- baseline ---------------------------------------------------------- */

/*
 * Plain memcpy() of the recorded segments: the same source and destination
 * addresses and lengths, in the same order, batch after batch, as the engine
 * run's grant copies. Bytes count as the engine run counted them (the
 * recording checked that the segments cover exactly those).
 */
static double bench_memcpy(void)
{
	uint64_t bytes = 0;
	unsigned batch = 0;
	double t0, t1;

	if (rec.nr_batches == 0) {
		fprintf(stderr, "bench: nothing recorded\n");
		exit(1);
	}
	t0 = now();
	do {
		for (int iter = 0; iter < 64; iter++) {
			for (unsigned i = rec.first[batch]; i < rec.first[batch + 1]; i++)
				memcpy(rec.ops[i].dst, rec.ops[i].src, rec.ops[i].len);
			bytes += rec.bytes[batch];
			if (++batch == rec.nr_batches)
				batch = 0;
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
	rec.ops = malloc((size_t)REC_BATCHES * REC_MAX_SEGS * sizeof(*rec.ops));
	rec.first = malloc((REC_BATCHES + 1) * sizeof(*rec.first));
	rec.bytes = malloc(REC_BATCHES * sizeof(*rec.bytes));
	if (!pool || !host_buf || !rec.ops || !rec.first || !rec.bytes)
		return 1;
	memset(pool, 0, (size_t)POOL_PAGES * ENGINE_PAGE_SIZE);
	memset(host_buf, 0, ENGINE_TX_ARENA_SIZE);

	for (unsigned i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		unsigned segs;
		struct result r = bench_tx(frames[i], &segs);

		report("tx", frames[i], r, bench_memcpy());
	}
	for (unsigned i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct result r = bench_rx(frames[i]);

		report("rx", frames[i], r, bench_memcpy());
	}
	free(rec.ops);
	free(rec.first);
	free(rec.bytes);
	free(pool);
	free(host_buf);
	return 0;
}
