/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rx.c - guest RX placement against arbitrary posted requests and
 * arbitrary host packets (sizes, checksum, GSO and hash metadata, contents).
 *
 * The input is: indices, config bits, then packets (length, metadata,
 * bytes) until the input runs out. Request slots hold ids and grant refs
 * derived from the start index: only their number and position matter to
 * the engine, the hypervisor judges the refs. Copy outcomes come
 * from the input too. Invariants: every consumed request is answered in its
 * own slot, statuses never exceed a page, a delivered packet's statuses add
 * up to its length, and a failed one is all errors.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz_input.h"
#include "rx.h"

#define PEER_DOMID 9
#define MAX_PKT (ENGINE_RX_MAX_DATA_SLOTS * ENGINE_PAGE_SIZE + 100)

static union { netif_rx_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } ring;
static struct engine_rx_batch batch;
static uint8_t pkts[8][MAX_PKT];
static uint32_t lens[8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct engine_rx_config cfg = { .peer_domid = PEER_DOMID };
	struct engine_rx_queue q;
	RING_IDX start = fuzz_u32(&in);
	uint16_t posted = fuzz_u16(&in);
	uint8_t bits = fuzz_u8(&in);
	unsigned npkts = 0;

	cfg.sg = bits & 1;
	cfg.gso_tcpv4 = bits & 2;
	cfg.gso_tcpv6 = bits & 4;
	cfg.csum_blank = bits & 8;
	cfg.ipv6_csum_blank = bits & 16;
	cfg.hash_extra = bits & 32;

	memset(&ring, 0, sizeof(ring));
	SHARED_RING_INIT(&ring.s);
	ring.s.req_prod = ring.s.rsp_prod = start;
	for (unsigned i = 0; i < ENGINE_RX_RING_SIZE; i++) {
		ring.s.ring[i].req.id = (uint16_t)(start + i);
		ring.s.ring[i].req.gref = start ^ i;
	}
	engine_rx_init(&q, &ring.s, &cfg);
	ring.s.req_prod = start + (posted % 300u);
	ring.s.rsp_event = start + 1;
	engine_rx_batch_reset(&batch);

	while (in.left && npkts < 8) {
		struct engine_rx_pkt p = { .data = pkts[npkts] };
		RING_IDX cons = q.ring.req_cons;
		int rc;

		p.len = (fuzz_u32(&in) % MAX_PKT);
		if (bits & 0x80)
			p.len %= 3000; /* mostly single-slot packets */
		p.meta.csum = fuzz_u8(&in) % 3;
		p.meta.gso_type = fuzz_u8(&in) % 4;
		p.meta.gso_size = fuzz_u16(&in);
		if (bits & 32) { /* hash metadata only then, so other inputs keep their layout */
			uint8_t hb = fuzz_u8(&in);

			p.meta.has_hash = hb & 1;
			p.meta.hash_type = (uint8_t)((hb >> 1) % 6);
			p.meta.hash = fuzz_u32(&in);
		}
		fuzz_take(&in, p.data, p.len < 256 ? p.len : 256);
		rc = engine_rx_add(&q, &batch, &p);
		if (rc == -EPROTO) {
			FUZZ_CHECK(q.fault == ENGINE_FAULT_REQ_PROD);
			return 0;
		}
		if (rc) {
			FUZZ_CHECK(q.ring.req_cons == cons);
			continue;
		}
		lens[npkts++] = p.len;
	}

	for (unsigned i = 0; i < batch.nr_segs; i++) {
		struct engine_copy_seg *s = &batch.segs[i];

		FUZZ_CHECK(s->flags == GNTCOPY_dest_gref && s->dest.foreign.offset == 0);
		FUZZ_CHECK(s->len > 0 && s->len <= ENGINE_PAGE_SIZE);
		FUZZ_CHECK(s->dest.foreign.domid == PEER_DOMID);
		s->status = (fuzz_u8(&in) & 0xf) ? GNTST_okay : GNTST_bad_gntref;
	}
	engine_rx_complete(&q, &batch);
	FUZZ_CHECK(q.ring.rsp_prod_pvt == q.ring.req_cons);
	FUZZ_CHECK(ring.s.rsp_prod == q.ring.rsp_prod_pvt);

	for (unsigned i = 0; i < batch.nr_pkts; i++) {
		const struct engine_rx_placed *pl = &batch.pkts[i];
		bool failed = false;
		uint32_t sum = 0;

		FUZZ_CHECK(pl->len == lens[i]);
		for (unsigned s = pl->seg_first; s < pl->seg_first + pl->seg_count; s++)
			failed |= batch.segs[s].status != GNTST_okay;
		for (unsigned slot = 0; slot < pl->nr_slots; slot++) {
			const netif_rx_response_t *r = RING_GET_RESPONSE(&q.ring, pl->first + slot);

			if (slot >= 1 && slot <= pl->nr_extras) {
				const struct netif_extra_info *ex = (const void *)r;

				FUZZ_CHECK(ex->type == XEN_NETIF_EXTRA_TYPE_GSO ||
					   ex->type == XEN_NETIF_EXTRA_TYPE_HASH);
				FUZZ_CHECK(!!(ex->flags & XEN_NETIF_EXTRA_FLAG_MORE) ==
					   (slot < pl->nr_extras));
				continue;
			}
			if (slot == 0)
				FUZZ_CHECK(!!(r->flags & NETRXF_extra_info) == (pl->nr_extras > 0));
			FUZZ_CHECK(r->status <= (int)ENGINE_PAGE_SIZE);
			if (failed)
				FUZZ_CHECK(r->status == NETIF_RSP_ERROR);
			else
				sum += (uint32_t)r->status;
		}
		if (!failed)
			FUZZ_CHECK(sum == pl->len);
	}
	return 0;
}
