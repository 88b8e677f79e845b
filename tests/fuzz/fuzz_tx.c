/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tx.c - the guest TX parser against arbitrary ring contents.
 *
 * The input is: a start index, a request producer offset (which may be past
 * the ring, to reach the fatal path), config bits, the 256 ring slots, then
 * per-segment copy outcomes and bytes a hostile guest scribbles over the
 * ring while the copy runs (XSA-155). Three rounds run, the producer moving
 * on between them. Invariants are checked after each step.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz_input.h"
#include "tx.h"

#define GUEST_PAGES 8u
#define PEER_DOMID 7

static uint8_t guest[GUEST_PAGES][ENGINE_PAGE_SIZE];
static union { netif_tx_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } ring;
static struct engine_tx_batch batch;
static uint8_t arena[ENGINE_TX_ARENA_SIZE];

static void sim_copy(struct engine_tx_batch *b, struct fuzz_input *in)
{
	for (unsigned i = 0; i < b->nr_segs; i++) {
		struct engine_copy_seg *s = &b->segs[i];
		uint8_t *dst = s->dest.virt;

		FUZZ_CHECK(s->flags == GNTCOPY_source_gref);
		FUZZ_CHECK(s->source.foreign.domid == PEER_DOMID);
		FUZZ_CHECK(s->len > 0);
		FUZZ_CHECK((uint32_t)s->source.foreign.offset + s->len <= ENGINE_PAGE_SIZE);
		FUZZ_CHECK(dst >= arena && dst + s->len <= arena + sizeof(arena));
		if (s->source.foreign.ref >= GUEST_PAGES || (fuzz_u8(in) & 0xf) == 0) {
			s->status = GNTST_bad_gntref;
			continue;
		}
		memcpy(dst, guest[s->source.foreign.ref] + s->source.foreign.offset, s->len);
		s->status = GNTST_okay;
	}
	/* The guest rewrites some slots after we read them. */
	for (unsigned n = fuzz_u8(in) & 7; n; n--) {
		unsigned slot = fuzz_u8(in);
		fuzz_take(in, &ring.s.ring[slot % ENGINE_TX_RING_SIZE], sizeof(ring.s.ring[0]));
	}
}

static void check_batch(const struct engine_tx_batch *b, int consumed)
{
	unsigned rsps = 0;

	FUZZ_CHECK(b->nr_rsps == (unsigned)consumed);
	for (unsigned i = 0; i < b->nr_pkts; i++) {
		const struct engine_tx_pkt *p = &b->pkts[i];
		uint32_t sum = 0;

		FUZZ_CHECK(p->rsp_first == rsps);
		rsps += p->rsp_count;
		for (unsigned s = p->seg_first; s < p->seg_first + p->seg_count; s++)
			sum += b->segs[s].len;
		if (p->drop == ENGINE_TX_DROP_NONE && p->kind == ENGINE_TX_PACKET) {
			FUZZ_CHECK(p->len >= 14 && p->len == sum);
			FUZZ_CHECK(p->data >= arena && p->data + p->len <= arena + sizeof(arena));
			FUZZ_CHECK(p->rsp_count <= ENGINE_TX_FATAL_SLOTS + XEN_NETIF_EXTRA_TYPE_MAX);
		} else {
			FUZZ_CHECK(p->seg_count == 0);
		}
	}
	FUZZ_CHECK(rsps == b->nr_rsps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct engine_tx_config cfg = { .peer_domid = PEER_DOMID };
	struct engine_tx_queue q;
	RING_IDX start = fuzz_u32(&in);
	uint16_t prod_step = fuzz_u16(&in);
	uint8_t bits = fuzz_u8(&in);

	cfg.complete_csum = bits & 1;
	cfg.gso_tcpv4 = bits & 2;
	cfg.gso_tcpv6 = bits & 4;
	cfg.multicast_control = bits & 8;

	memset(&ring, 0, sizeof(ring));
	SHARED_RING_INIT(&ring.s);
	ring.s.req_prod = ring.s.rsp_prod = start;
	ring.s.rsp_event = start + 1;
	fuzz_take(&in, ring.s.ring, sizeof(ring.s.ring[0]) * ENGINE_TX_RING_SIZE);
	for (unsigned p = 0; p < GUEST_PAGES; p++)
		memset(guest[p], (int)(p * 37 + 11), ENGINE_PAGE_SIZE);

	engine_tx_init(&q, &ring.s, &cfg);
	engine_tx_batch_init(&batch, arena, sizeof(arena));
	ring.s.req_prod = start + (prod_step % 300u);

	for (int round = 0; round < 3; round++) {
		RING_IDX cons_before = q.ring.req_cons;
		int n = engine_tx_parse(&q, &batch, fuzz_u8(&in) | 1u);

		if (n < 0) {
			FUZZ_CHECK(n == -EPROTO && q.fault != ENGINE_FAULT_NONE);
			FUZZ_CHECK(engine_tx_parse(&q, &batch, 256) == -EPROTO);
			break;
		}
		FUZZ_CHECK(q.ring.req_cons - cons_before == (RING_IDX)n);
		check_batch(&batch, n);
		sim_copy(&batch, &in);
		engine_tx_finish(&q, &batch);
		for (unsigned i = 0; i < batch.nr_pkts; i++)
			if (batch.pkts[i].drop == ENGINE_TX_DROP_NONE && (fuzz_u8(&in) & 0x1f) == 0)
				batch.pkts[i].drop = ENGINE_TX_DROP_HOST;
		engine_tx_respond(&q, &batch);
		FUZZ_CHECK(q.ring.rsp_prod_pvt == q.ring.req_cons);
		FUZZ_CHECK(ring.s.rsp_prod == q.ring.rsp_prod_pvt);
		(void)engine_tx_more(&q);
		ring.s.req_prod += fuzz_u8(&in) % 40u;
	}
	return 0;
}
