/* SPDX-License-Identifier: MIT */
/*
 * tx.c - guest TX: turning frontend requests into host packets.
 *
 * See tx.h for the flow. The decisions taken on hostile input, and why:
 *
 *   req_prod more than a ring ahead      fatal: no honest frontend can do it
 *   more than 20 data slots              fatal: past Linux's fatal_skb_slots
 *   a slot's offset + size past its page fatal: Linux netback treats it so
 *   more than 4 extra-info slots         fatal: there are only 4 extra types
 *   19 or 20 data slots                  drop: over XEN_NETIF_NR_SLOTS_MIN
 *   a fragment bigger than what remains  drop: size underflow
 *   packet shorter than Ethernet header  drop: runt
 *   extra type 0 or unknown, mcast       drop: bad extra
 *     without multicast control
 *   GSO size 0 / type not advertised /   drop: bad GSO
 *     headers that do not match it
 *   csum_blank on truncated headers or   drop: bad checksum request
 *     an IP fragment
 *   a failed grant copy                  drop: copy (XSA-362/367)
 *   zero-length fragments                legal; no copy segment
 *   packet not yet complete              wait: nothing of it consumed
 *
 * Dropped packets are answered NETIF_RSP_ERROR on every data slot (the host
 * refusing one before the answer: NETIF_RSP_DROPPED), extra slots
 * NETIF_RSP_NULL, as netif.h asks; so the frontend always gets back every
 * request it posted.
 */
#include "tx.h"

#include <errno.h>
#include <string.h>

#include "offload.h"

/* Shortest frame a host stack accepts: an Ethernet header. */
#define ETH_HDR_LEN 14u
/* One slot per extra type at most. */
#define TX_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)

/* A data slot as parse keeps it: the validated copy, not the ring's. */
struct tx_frag {
	uint32_t gref;
	uint16_t offset;
	uint16_t size;
};

enum parse_result { PARSED, INCOMPLETE, BATCH_FULL, RATE_LIMITED, FATAL };

void engine_tx_init(struct engine_tx_queue *q, netif_tx_sring_t *sring,
		    const struct engine_tx_config *cfg)
{
	memset(q, 0, sizeof(*q));
	BACK_RING_INIT(&q->ring, sring, ENGINE_PAGE_SIZE);
	/* Attach where the ring stands (as Linux's BACK_RING_ATTACH does): a
	 * frontend that reconnects without re-initialising its ring resumes
	 * after the last response. A hostile value only shifts the origin;
	 * every later check is relative to it. */
	q->ring.req_cons = engine_ring_read_idx(&sring->rsp_prod);
	q->ring.rsp_prod_pvt = q->ring.req_cons;
	q->rsp_published = q->ring.req_cons;
	q->cfg = *cfg;
}

void engine_tx_batch_init(struct engine_tx_batch *b, uint8_t *arena, size_t size)
{
	b->arena = arena;
	b->arena_size = size;
	b->arena_used = 0;
	b->nr_pkts = b->nr_segs = b->nr_rsps = 0;
}

static void copy_slot(struct engine_tx_queue *q, RING_IDX idx, netif_tx_request_t *out)
{
	RING_COPY_REQUEST(&q->ring, idx, out);
}

static void plan_rsp(struct engine_tx_batch *b, uint16_t id, bool extra)
{
	struct engine_tx_rsp *r = &b->rsps[b->nr_rsps++];

	r->id = id;
	r->is_extra = extra;
	r->pkt = (uint16_t)b->nr_pkts;
	r->status = 0;
}

static void add_seg(struct engine_tx_queue *q, struct engine_tx_batch *b,
		    const struct tx_frag *f, uint8_t *dest)
{
	struct engine_copy_seg *s = &b->segs[b->nr_segs++];

	s->source.foreign.ref = f->gref;
	s->source.foreign.offset = f->offset;
	s->source.foreign.domid = q->cfg.peer_domid;
	s->dest.virt = dest;
	s->len = f->size;
	s->flags = GNTCOPY_source_gref;
	s->status = GNTST_general_error; /* until the platform says otherwise */
}

/*
 * Where a packet's bytes start in the arena. Grant copies work page by page
 * on both sides, so a slot whose bytes straddle two of our pages costs a
 * second copy operation (and page lookup). A packet of several slots is
 * placed so that its second slot lands at the offset in our page that it
 * has in the guest's: from there on, every slot that fills a guest page
 * fills exactly one of ours. (The first slot is usually the headers alone,
 * Linux's netfront puts the payload in the following page fragments; when
 * the first slot ends at its page end this is the same as aligning it.) A
 * one-slot packet that would straddle starts on the next page. Either way
 * less than ENGINE_TX_ARENA_SKIP_MAX bytes are skipped.
 */
static size_t arena_place(size_t used, const struct tx_frag *frags, unsigned nfrags)
{
	size_t pos = (used + ENGINE_TX_ARENA_ALIGN - 1) & ~(size_t)(ENGINE_TX_ARENA_ALIGN - 1);
	size_t in_page = pos % ENGINE_PAGE_SIZE;

	if (nfrags > 1) {
		/* where the packet must start in its page, given the second slot's offset */
		size_t want = ((size_t)frags[1].offset + ENGINE_PAGE_SIZE -
			       frags[0].size % ENGINE_PAGE_SIZE) % ENGINE_PAGE_SIZE;

		return pos - in_page + want + (want < in_page ? ENGINE_PAGE_SIZE : 0);
	}
	if (in_page + frags[0].size > ENGINE_PAGE_SIZE)
		return pos - in_page + ENGINE_PAGE_SIZE;
	return pos;
}

static bool gso_type_advertised(const struct engine_tx_config *cfg, uint8_t type)
{
	return (type == XEN_NETIF_GSO_TYPE_TCPV4 && cfg->gso_tcpv4) ||
	       (type == XEN_NETIF_GSO_TYPE_TCPV6 && cfg->gso_tcpv6);
}

/*
 * Parse the packet starting at req_cons, with @left requests published
 * behind it. On PARSED it is in @b (maybe marked dropped) and *used says
 * how many requests it took; otherwise @b is as it was.
 */
static enum parse_result parse_packet(struct engine_tx_queue *q, struct engine_tx_batch *b,
				      unsigned left, unsigned *used)
{
	const RING_IDX cons = q->ring.req_cons;
	struct netif_extra_info extras[TX_MAX_EXTRAS];
	bool have_extra[TX_MAX_EXTRAS] = { false };
	struct tx_frag frags[ENGINE_TX_FATAL_SLOTS];
	netif_tx_request_t first, req;
	struct engine_tx_pkt *pkt = &b->pkts[b->nr_pkts];
	const unsigned rsp_first = b->nr_rsps;
	uint8_t drop = ENGINE_TX_DROP_NONE;
	unsigned idx = 1, nfrags = 1, nextras = 0;
	uint16_t remaining, flags;

	copy_slot(q, cons, &first);
	/* Linux's tx_credit_exceeded: the whole packet's size, from our copy. */
	if (q->credit &&
	    !engine_credit_check(q->credit, q->now_us, first.size, &q->rate_wait_until_us))
		return RATE_LIMITED;
	plan_rsp(b, first.id, false);
	remaining = first.size;

	flags = first.flags;
	if (flags & NETTXF_extra_info) {
		bool more = true;

		while (more) {
			struct netif_extra_info ex;

			if (idx >= left)
				goto incomplete;
			if (nextras == TX_MAX_EXTRAS) {
				q->fault = ENGINE_FAULT_TOO_MANY_EXTRAS;
				goto fatal;
			}
			copy_slot(q, cons + idx, &req);
			memcpy(&ex, &req, sizeof(ex));
			plan_rsp(b, 0, true);
			idx++;
			nextras++;
			if (ex.type == XEN_NETIF_EXTRA_TYPE_NONE || ex.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
				drop = ENGINE_TX_DROP_BAD_EXTRA;
			} else {
				extras[ex.type - 1] = ex;
				have_extra[ex.type - 1] = true;
			}
			more = ex.flags & XEN_NETIF_EXTRA_FLAG_MORE;
		}
	}

	frags[0] = (struct tx_frag){ first.gref, first.offset, 0 };
	while (flags & NETTXF_more_data) {
		if (nfrags == ENGINE_TX_FATAL_SLOTS) {
			q->fault = ENGINE_FAULT_TOO_MANY_SLOTS;
			goto fatal;
		}
		if (idx >= left)
			goto incomplete;
		copy_slot(q, cons + idx, &req);
		plan_rsp(b, req.id, false);
		idx++;
		if ((uint32_t)req.offset + req.size > ENGINE_PAGE_SIZE) {
			q->fault = ENGINE_FAULT_CROSS_PAGE;
			goto fatal;
		}
		if (req.size > remaining) {
			if (!drop)
				drop = ENGINE_TX_DROP_SIZE_UNDERFLOW;
		} else {
			remaining -= req.size;
		}
		frags[nfrags++] = (struct tx_frag){ req.gref, req.offset, req.size };
		flags = req.flags;
	}
	/* The first slot carries whatever the other fragments left of the total. */
	frags[0].size = remaining;
	if ((uint32_t)first.offset + remaining > ENGINE_PAGE_SIZE) {
		q->fault = ENGINE_FAULT_CROSS_PAGE;
		goto fatal;
	}

	memset(pkt, 0, sizeof(*pkt));
	pkt->kind = ENGINE_TX_PACKET;
	pkt->txflags = first.flags;
	if (have_extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1] ||
	    have_extra[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1]) {
		/* A multicast filter update rides on a request of its own. */
		bool add = have_extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1];
		const struct netif_extra_info *ex =
			&extras[(add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD : XEN_NETIF_EXTRA_TYPE_MCAST_DEL) - 1];

		pkt->kind = add ? ENGINE_TX_MCAST_ADD : ENGINE_TX_MCAST_DEL;
		memcpy(pkt->mcast_addr, ex->u.mcast.addr, sizeof(pkt->mcast_addr));
		if (!q->cfg.multicast_control && !drop)
			drop = ENGINE_TX_DROP_BAD_EXTRA;
	} else if (!drop) {
		if (nfrags > ENGINE_TX_DROP_SLOTS)
			drop = ENGINE_TX_DROP_SLOTS_OVER;
		else if (first.size < ETH_HDR_LEN)
			drop = ENGINE_TX_DROP_RUNT;
	}
	if (!drop && pkt->kind == ENGINE_TX_PACKET && have_extra[XEN_NETIF_EXTRA_TYPE_GSO - 1]) {
		const struct netif_extra_info *ex = &extras[XEN_NETIF_EXTRA_TYPE_GSO - 1];

		if (ex->u.gso.size == 0 || !gso_type_advertised(&q->cfg, ex->u.gso.type)) {
			drop = ENGINE_TX_DROP_BAD_GSO;
		} else {
			pkt->meta.gso_type = ex->u.gso.type;
			pkt->meta.gso_size = ex->u.gso.size;
		}
	}
	if (have_extra[XEN_NETIF_EXTRA_TYPE_HASH - 1]) {
		const struct netif_extra_info *ex = &extras[XEN_NETIF_EXTRA_TYPE_HASH - 1];

		/* A hint only: an unknown type is ignored, never fatal. */
		if (ex->u.hash.type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
			pkt->meta.has_hash = 1;
			pkt->meta.hash_type = ex->u.hash.type;
			pkt->meta.hash = (uint32_t)ex->u.hash.value[0] |
					 (uint32_t)ex->u.hash.value[1] << 8 |
					 (uint32_t)ex->u.hash.value[2] << 16 |
					 (uint32_t)ex->u.hash.value[3] << 24;
		}
	}

	pkt->drop = drop;
	pkt->rsp_first = (uint16_t)rsp_first;
	pkt->rsp_count = (uint16_t)idx;
	pkt->seg_first = (uint16_t)b->nr_segs;
	if (!drop && pkt->kind == ENGINE_TX_PACKET) {
		size_t pos = arena_place(b->arena_used, frags, nfrags);
		uint8_t *dest;

		if (pos > b->arena_size || b->arena_size - pos < first.size) {
			b->nr_rsps = rsp_first;
			return BATCH_FULL;
		}
		dest = b->arena + pos;
		pkt->data = dest;
		pkt->len = first.size;
		for (unsigned i = 0; i < nfrags; i++) {
			if (frags[i].size == 0)
				continue;
			add_seg(q, b, &frags[i], dest);
			dest += frags[i].size;
		}
		b->arena_used = pos + first.size;
	}
	pkt->seg_count = (uint16_t)(b->nr_segs - pkt->seg_first);
	b->nr_pkts++;
	*used = idx;
	if (q->credit)
		engine_credit_charge(q->credit, first.size); /* taken, well-formed or not */
	return PARSED;

incomplete:
	b->nr_rsps = rsp_first;
	return INCOMPLETE;
fatal:
	b->nr_rsps = rsp_first;
	return FATAL;
}

int engine_tx_parse(struct engine_tx_queue *q, struct engine_tx_batch *b, unsigned budget)
{
	RING_IDX prod, avail;
	unsigned consumed = 0;

	b->nr_pkts = b->nr_segs = b->nr_rsps = 0;
	b->arena_used = 0;
	if (q->fault)
		return -EPROTO;
	if (budget > ENGINE_TX_RING_SIZE)
		budget = ENGINE_TX_RING_SIZE;

	prod = engine_ring_read_idx(&q->ring.sring->req_prod);
	xen_rmb(); /* read requests only after the producer that covers them */
	avail = prod - q->ring.req_cons;
	/* Requests may only occupy slots whose responses we have published. */
	if (avail > ENGINE_TX_RING_SIZE - (q->ring.req_cons - q->ring.rsp_prod_pvt)) {
		q->fault = ENGINE_FAULT_REQ_PROD;
		return -EPROTO;
	}

	q->incomplete = false;
	q->rate_limited = false;
	while (consumed < budget && consumed < avail) {
		unsigned used = 0;

		switch (parse_packet(q, b, avail - consumed, &used)) {
		case PARSED:
			q->ring.req_cons += used;
			consumed += used;
			break;
		case INCOMPLETE:
			q->incomplete = true;
			q->incomplete_prod = prod;
			goto out;
		case BATCH_FULL:
			goto out;
		case RATE_LIMITED:
			q->rate_limited = true;
			goto out;
		case FATAL:
			return -EPROTO;
		}
	}
out:
	q->stats.requests += consumed;
	return (int)consumed;
}

/* Settle checksum and GSO state on the private copy of one packet. */
static void finish_offloads(struct engine_tx_queue *q, struct engine_tx_pkt *p)
{
	bool gso = p->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE;
	bool blank = p->txflags & NETTXF_csum_blank;
	int rc;

	if (gso && engine_gso_check(p->data, p->len, &p->meta) != 0) {
		p->drop = ENGINE_TX_DROP_BAD_GSO;
		return;
	}
	if (gso && !blank) {
		/* GSO needs a partial checksum; some frontends forget the flag. */
		q->stats.gso_csum_fixup++;
	}
	if (blank && q->cfg.complete_csum && !gso) {
		rc = engine_csum_complete(p->data, p->len, &p->meta);
		if (rc == 0)
			q->stats.csum_completed++;
	} else if (blank || gso) {
		rc = engine_csum_setup(p->data, p->len, &p->meta, !blank);
		if (rc == 0)
			q->stats.csum_partial++;
	} else {
		if (p->txflags & NETTXF_data_validated)
			p->meta.csum = ENGINE_CSUM_VALIDATED;
		return;
	}
	/* Not TCP/UDP (ARP, ICMP, ...): nothing to offload, let it through as is. */
	if (rc == -EPROTONOSUPPORT)
		p->meta.csum = ENGINE_CSUM_NONE;
	else if (rc != 0)
		p->drop = ENGINE_TX_DROP_BAD_CSUM;
}

void engine_tx_finish(struct engine_tx_queue *q, struct engine_tx_batch *b)
{
	for (unsigned i = 0; i < b->nr_pkts; i++) {
		struct engine_tx_pkt *p = &b->pkts[i];

		if (p->drop || p->kind != ENGINE_TX_PACKET)
			continue;
		for (unsigned s = p->seg_first; s < p->seg_first + p->seg_count; s++) {
			if (b->segs[s].status != GNTST_okay) {
				p->drop = ENGINE_TX_DROP_COPY;
				break;
			}
		}
		if (!p->drop)
			finish_offloads(q, p);
	}
}

static int16_t pkt_status(const struct engine_tx_pkt *p)
{
	if (p->drop == ENGINE_TX_DROP_NONE)
		return NETIF_RSP_OKAY;
	return p->drop == ENGINE_TX_DROP_HOST ? NETIF_RSP_DROPPED : NETIF_RSP_ERROR;
}

void engine_tx_settle(struct engine_tx_queue *q, struct engine_tx_batch *b)
{
	for (unsigned i = 0; i < b->nr_pkts; i++) {
		const struct engine_tx_pkt *p = &b->pkts[i];

		b->pkts[i].status = pkt_status(p);
		if (p->drop) {
			q->stats.dropped++;
			q->stats.drop[p->drop < ENGINE_TX_DROP_MAX ? p->drop : ENGINE_TX_DROP_HOST]++;
		} else if (p->kind == ENGINE_TX_PACKET) {
			q->stats.packets++;
			q->stats.bytes += p->len;
			if (p->meta.gso_type)
				q->stats.gso_packets++;
		} else {
			q->stats.mcast_ops++;
		}
	}
	for (unsigned i = 0; i < b->nr_rsps; i++) {
		struct engine_tx_rsp *r = &b->rsps[i];

		r->status = r->is_extra ? NETIF_RSP_NULL : b->pkts[r->pkt].status;
	}
}

bool engine_tx_publish(struct engine_tx_queue *q, struct engine_tx_batch *b)
{
	for (unsigned i = 0; i < b->nr_rsps; i++) {
		netif_tx_response_t *rsp = RING_GET_RESPONSE(&q->ring, q->ring.rsp_prod_pvt);

		rsp->id = b->rsps[i].id;
		rsp->status = b->rsps[i].status;
		q->ring.rsp_prod_pvt++;
	}
	if (b->nr_rsps == 0)
		return false;
	q->stats.batches++;
	return engine_ring_publish(&q->ring.sring->rsp_prod, &q->ring.sring->rsp_event,
				   &q->rsp_published, q->ring.rsp_prod_pvt);
}

bool engine_tx_respond(struct engine_tx_queue *q, struct engine_tx_batch *b)
{
	engine_tx_settle(q, b);
	return engine_tx_publish(q, b);
}

void engine_tx_host_refused(struct engine_tx_queue *q, const struct engine_tx_pkt *p)
{
	if (p->drop || p->kind != ENGINE_TX_PACKET)
		return; /* counted as a drop, or never meant for the host */
	q->stats.packets--;
	q->stats.bytes -= p->len;
	if (p->meta.gso_type)
		q->stats.gso_packets--;
	q->stats.dropped++;
	q->stats.drop[ENGINE_TX_DROP_HOST]++;
}

bool engine_tx_more(struct engine_tx_queue *q)
{
	RING_IDX prod, seen;

	if (q->fault || q->rate_limited)
		return false;
	/* What is already published and seen: the start of a packet, or nothing. */
	seen = q->incomplete ? q->incomplete_prod : q->ring.req_cons;
	prod = engine_ring_read_idx(&q->ring.sring->req_prod);
	if (prod != seen)
		return true;
	prod = engine_ring_arm(&q->ring.sring->req_event, &q->ring.sring->req_prod, seen + 1);
	return prod != seen;
}
