/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ctrl.c - both ends of the control ring against arbitrary peers.
 *
 * The first byte picks the side. Backend: a start index, a request producer
 * offset (which may run past the ring, to reach the fatal path), the number
 * of queues, the 128 request slots, the start of four granted pages, then
 * per round copy outcomes and bytes the frontend scribbles over the ring
 * while the copy runs; after each round the hash state must still be one a
 * packet can be steered by, and a frame from the input is hashed with it.
 * Frontend: some requests sent, then a hostile backend's producer and
 * response slots; answers must name requests we had outstanding.
 */
#include <errno.h>
#include <stdbool.h>

#include "ctrl.h"
#include "front_ctrl.h"
#include "fuzz_input.h"

#define GUEST_PAGES 4u
#define PEER_DOMID 7
#define RS ENGINE_CTRL_RING_SIZE

static union { xen_netif_ctrl_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } ring;
static uint8_t guest[GUEST_PAGES][ENGINE_PAGE_SIZE];
static struct engine_ctrl ctrl;
static struct engine_ctrl_batch batch;
static struct engine_front_ctrl fe;

static void check_hash(const struct engine_hash *h, uint32_t nq)
{
	FUZZ_CHECK(h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE ||
		   h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	FUZZ_CHECK((h->flags & ~(uint32_t)ENGINE_HASH_FLAGS_ALL) == 0);
	FUZZ_CHECK(h->size <= ENGINE_HASH_MAPPING_MAX);
	FUZZ_CHECK(h->num_queues == nq);
	for (unsigned i = 0; i < ENGINE_HASH_MAPPING_MAX; i++)
		FUZZ_CHECK(h->mapping[i] < nq);
}

static void sim_copy(struct engine_ctrl_batch *b, struct fuzz_input *in)
{
	FUZZ_CHECK(b->nr_segs <= 1);
	for (unsigned i = 0; i < b->nr_segs; i++) {
		struct engine_copy_seg *s = &b->segs[i];

		FUZZ_CHECK(s->flags == GNTCOPY_source_gref);
		FUZZ_CHECK(s->source.foreign.domid == PEER_DOMID);
		FUZZ_CHECK(s->source.foreign.offset == 0);
		FUZZ_CHECK(s->len > 0 && s->len <= sizeof(b->staging));
		FUZZ_CHECK(s->dest.virt == b->staging);
		if (s->source.foreign.ref >= GUEST_PAGES || (fuzz_u8(in) & 0xf) == 0) {
			s->status = GNTST_bad_gntref;
			continue;
		}
		memcpy(s->dest.virt, guest[s->source.foreign.ref], s->len);
		s->status = GNTST_okay;
	}
	/* The frontend rewrites some slots after we read them (XSA-155). */
	for (unsigned n = fuzz_u8(in) & 3; n; n--) {
		unsigned slot = fuzz_u8(in);
		fuzz_take(in, &ring.s.ring[slot % RS], sizeof(ring.s.ring[0]));
	}
}

static void fuzz_backend(struct fuzz_input *in)
{
	struct engine_ctrl_config cfg = { .peer_domid = PEER_DOMID };
	struct xen_netif_ctrl_request snap[RS];
	RING_IDX start = fuzz_u32(in);
	uint16_t prod_step = fuzz_u16(in);
	uint8_t frame[128];

	cfg.num_queues = (fuzz_u8(in) & 15u) + 1u;
	memset(&ring, 0, sizeof(ring));
	SHARED_RING_INIT(&ring.s);
	ring.s.req_prod = ring.s.rsp_prod = start;
	ring.s.rsp_event = start + 1;
	for (unsigned i = 0; i < RS; i++)
		fuzz_take(in, &ring.s.ring[i].req, sizeof(ring.s.ring[i].req));
	for (unsigned p = 0; p < GUEST_PAGES; p++) {
		fuzz_take(in, guest[p], 64);
		for (unsigned off = 64; off < ENGINE_PAGE_SIZE; off += 64)
			memcpy(guest[p] + off, guest[p], 64);
	}
	FUZZ_CHECK(engine_ctrl_init(&ctrl, &ring.s, &cfg) == 0);
	ring.s.req_prod = start + (prod_step % 300u);

	for (int round = 0; round < 8; round++) {
		RING_IDX cons = ctrl.ring.req_cons, published = ctrl.rsp_published;
		int n;

		for (unsigned i = 0; i < RS; i++)
			snap[i] = ring.s.ring[(cons + i) % RS].req;
		n = engine_ctrl_process(&ctrl, &batch);
		if (n < 0) {
			FUZZ_CHECK(n == -EPROTO && ctrl.fault != ENGINE_FAULT_NONE);
			FUZZ_CHECK(!engine_ctrl_complete(&ctrl, &batch));
			FUZZ_CHECK(engine_ctrl_process(&ctrl, &batch) == -EPROTO);
			FUZZ_CHECK(!engine_ctrl_more(&ctrl));
			break;
		}
		FUZZ_CHECK((unsigned)n == batch.nr_rsps && (unsigned)n <= RS);
		FUZZ_CHECK(ctrl.ring.req_cons - cons == (RING_IDX)n);
		sim_copy(&batch, in);
		engine_ctrl_complete(&ctrl, &batch);
		FUZZ_CHECK(ring.s.rsp_prod == published + (RING_IDX)n);
		for (int i = 0; i < n; i++) {
			const struct xen_netif_ctrl_response *r = &batch.rsps[i];

			FUZZ_CHECK(r->id == snap[i].id && r->type == snap[i].type);
			FUZZ_CHECK(r->status <= XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
			FUZZ_CHECK(r->data == 0 || r->status == XEN_NETIF_CTRL_STATUS_SUCCESS);
		}
		check_hash(&ctrl.hash, cfg.num_queues);
		fuzz_take(in, frame, sizeof(frame));
		{
			struct engine_pkt_meta m;
			int q = engine_hash_packet(&ctrl.hash, frame, fuzz_u8(in) % (sizeof(frame) + 1),
						   &m);

			FUZZ_CHECK(q == -EOPNOTSUPP || (q >= 0 && (uint32_t)q < cfg.num_queues));
			FUZZ_CHECK(!m.has_hash || m.hash_type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
		}
		(void)engine_ctrl_more(&ctrl);
		ring.s.req_prod += fuzz_u8(in) % 140u;
	}
}

static void fuzz_frontend(struct fuzz_input *in)
{
	uint8_t mine[RS] = { 0 };
	uint16_t type_of[RS] = { 0 };
	uint8_t answered[RS] = { 0 };
	unsigned nsend = fuzz_u8(in) % (RS + 8);
	struct engine_front_ctrl_rsp out[RS];

	memset(&ring, 0, sizeof(ring));
	engine_front_ctrl_init(&fe, &ring.s);
	for (unsigned i = 0; i < nsend; i++) {
		uint16_t type = fuzz_u8(in) % 12;
		int id = engine_front_ctrl_send(&fe, type, fuzz_u32(in), 0, 0);

		if (i >= RS) {
			FUZZ_CHECK(id == -EAGAIN);
			continue;
		}
		FUZZ_CHECK(id >= 0 && id < (int)RS && !mine[id]);
		mine[id] = 1;
		type_of[id] = type;
		if (fuzz_u8(in) & 1)
			engine_front_ctrl_push(&fe);
	}
	engine_front_ctrl_push(&fe);

	for (int round = 0; round < 4; round++) {
		unsigned max = (fuzz_u8(in) % 40u) + 1u;
		bool more;
		int n;

		uint8_t mode = fuzz_u8(in);

		if (mode & 1) {
			/* an honest backend answers some outstanding requests, in any order */
			for (unsigned k = fuzz_u8(in) % 8u; k; k--) {
				unsigned id = fuzz_u8(in) % RS;
				struct xen_netif_ctrl_response *r = &ring.s.ring[ring.s.rsp_prod % RS].rsp;

				if (!mine[id] || answered[id] || ring.s.rsp_prod == fe.req_published)
					continue;
				answered[id] = 1;
				r->id = (uint16_t)id;
				r->type = type_of[id];
				r->status = fuzz_u8(in) % 5u;
				r->data = fuzz_u32(in);
				ring.s.rsp_prod++;
			}
		} else {
			for (unsigned k = fuzz_u8(in) % 8u; k; k--) {
				unsigned slot = fuzz_u8(in);
				fuzz_take(in, &ring.s.ring[slot % RS].rsp, sizeof(ring.s.ring[0].rsp));
			}
			ring.s.rsp_prod += fuzz_u8(in) % 140u;
		}
		n = engine_front_ctrl_poll(&fe, out, max, &more);
		if (n < 0) {
			FUZZ_CHECK(n == -EPROTO && fe.fault != ENGINE_FRONT_FAULT_NONE);
			FUZZ_CHECK(engine_front_ctrl_get_flags(&fe) == -EPROTO);
			break;
		}
		FUZZ_CHECK((unsigned)n <= max);
		for (int i = 0; i < n; i++) {
			FUZZ_CHECK(out[i].id < RS && mine[out[i].id]);
			mine[out[i].id] = 0;
			answered[out[i].id] = 0;
		}
		FUZZ_CHECK(fe.ring.rsp_cons <= fe.req_published);
	}
	{
		unsigned left = 0;

		for (unsigned i = 0; i < RS; i++)
			left += mine[i];
		FUZZ_CHECK(fe.fault || left == engine_front_ctrl_pending(&fe));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };

	if (fuzz_u8(&in) & 1)
		fuzz_frontend(&in);
	else
		fuzz_backend(&in);
	return 0;
}
