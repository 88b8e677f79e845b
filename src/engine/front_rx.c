/* SPDX-License-Identifier: MIT */
/*
 * front_rx.c - frontend RX: posting buffer pages, turning the backend's
 * responses into packets.
 *
 * See front.h for the flow. Slot layout of one packet, in ring order, as
 * netif.h and Linux netback write it:
 *   data slot 0      (flags: more_data, extra_info, csum_blank, data_validated)
 *   extra-info slots (while the previous one has XEN_NETIF_EXTRA_FLAG_MORE)
 *   data slots 1..n-1 (more_data on all but the last)
 * A data slot's status is its byte count (negative: a NETIF_RSP_* error) at
 * its offset in the page of the buffer posted in that slot.
 *
 * A packet is first walked: each response copied out of the ring once into
 * a private record, checked, and the packet's end found. Only a packet that
 * is complete within the published responses is consumed; one still open is
 * walked again from scratch once more responses arrive. What the backend may
 * do, and what we do about it:
 *
 *   rsp_prod past the requests we posted  fatal: no honest backend can
 *   a data slot's id is not the buffer    fatal: it answers a request we
 *     we posted in that slot                did not make there
 *   a packet open over every buffer       fatal: it can never end, since no
 *                                           buffer is left to post
 *   status < 0                            error packet
 *   offset + status past the page         error packet
 *   more data slots than the limit        error packet
 *   more extra slots than types exist     error packet
 *   extra of a type we do not use         ignored (counted)
 *   shorter than an Ethernet header       error packet
 *   GSO not advertised / not matching     error packet
 *   csum_blank on unreadable headers      error packet
 *
 * An error packet is walked to its end like any other (the walk is bounded
 * by the published responses, hence by the ring), its buffers recycled.
 */
#include "front.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "offload.h"

/* buf_state: posted in a ring slot (0: free, in the free list). */
#define RX_BUF_POSTED 1u
/* Shortest frame a stack accepts: an Ethernet header. */
#define ETH_HDR_LEN 14u
/* Consume-and-recheck rounds per poll (bounded work per wake-up). */
#define RX_POLL_ROUNDS 4u

_Static_assert(sizeof(struct netif_extra_info) == sizeof(netif_rx_response_t),
	       "an extra-info record fills one RX response slot");

/* One packet as the walk found it: private copies only. */
struct rx_walk {
	unsigned nslots;          /* ring slots, extras included */
	unsigned ndata;           /* data slots (may exceed the limit: then err) */
	unsigned ignored;         /* extras of types we do not use */
	uint32_t len;             /* sum of the data slots' statuses */
	uint16_t flags;           /* of data slot 0 */
	uint8_t err;              /* enum engine_front_rx_err: the first found */
	bool has_gso, has_hash;
	struct netif_extra_info gso, hash;
	netif_rx_response_t data[ENGINE_FRONT_RX_MAX_DATA_SLOTS];
	uint16_t buf[ENGINE_FRONT_RX_MAX_DATA_SLOTS];
};

enum walk_result { WALK_DONE, WALK_OPEN, WALK_FATAL };

int engine_front_rx_init(struct engine_front_rx_queue *q, netif_rx_sring_t *sring,
			 const struct engine_front_rx_config *cfg,
			 const struct engine_front_buf *bufs, unsigned nr_bufs)
{
	if (nr_bufs < ENGINE_FRONT_RX_MIN_BUFS || nr_bufs > ENGINE_FRONT_MAX_BUFS)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&q->ring, sring, ENGINE_PAGE_SIZE);
	if (cfg)
		q->cfg = *cfg;
	q->bufs = bufs;
	q->nr_bufs = nr_bufs;
	for (unsigned i = 0; i < nr_bufs; i++)
		q->free_list[i] = (uint16_t)(nr_bufs - 1 - i);
	q->nr_free = nr_bufs;
	for (unsigned i = 0; i < ENGINE_FRONT_MAX_BUFS; i++)
		q->slot_buf[i] = ENGINE_FRONT_NO_BUF;
	return 0;
}

int engine_front_rx_batch_init(struct engine_front_rx_batch *b, uint8_t *arena, size_t size)
{
	if (size < ENGINE_FRONT_RX_ARENA_MIN)
		return -EINVAL;
	b->arena = arena;
	b->arena_size = size;
	b->arena_used = 0;
	b->nr_pkts = 0;
	b->more = b->notify = false;
	return 0;
}

unsigned engine_front_rx_posted(const struct engine_front_rx_queue *q)
{
	return q->ring.req_prod_pvt - q->ring.rsp_cons;
}

static int broken(struct engine_front_rx_queue *q, enum engine_front_fault f)
{
	q->fault = f;
	return -EPROTO;
}

bool engine_front_rx_refill(struct engine_front_rx_queue *q)
{
	RING_IDX prod = q->ring.req_prod_pvt;

	if (q->fault)
		return false;
	while (q->nr_free > 0 && prod - q->ring.rsp_cons < ENGINE_RX_RING_SIZE) {
		uint16_t b = q->free_list[--q->nr_free];
		unsigned slot = prod & (ENGINE_RX_RING_SIZE - 1);
		netif_rx_request_t *req = RING_GET_REQUEST(&q->ring, prod);

		/* Our invariants: a free buffer is in no slot, a slot holds one buffer. */
		assert(b < q->nr_bufs && q->buf_state[b] == 0);
		assert(q->slot_buf[slot] == ENGINE_FRONT_NO_BUF);
		q->buf_state[b] = RX_BUF_POSTED;
		q->slot_buf[slot] = b;
		req->id = b;
		req->gref = q->bufs[b].gref;
		prod++;
		q->stats.requests++;
	}
	q->ring.req_prod_pvt = prod;
	if (prod == q->req_published)
		return false;
	return engine_ring_publish(&q->ring.sring->req_prod, &q->ring.sring->req_event,
				   &q->req_published, prod);
}

static void note_err(struct rx_walk *w, enum engine_front_rx_err e)
{
	if (w->err == ENGINE_FRONT_RX_ERR_NONE)
		w->err = (uint8_t)e;
}

/* Check the copy @r of the data slot at ring index @idx. Returns false on a fault. */
static bool take_data(struct engine_front_rx_queue *q, struct rx_walk *w, RING_IDX idx,
		      const netif_rx_response_t *r)
{
	uint16_t b = q->slot_buf[idx & (ENGINE_RX_RING_SIZE - 1)];

	if (r->id != b) {
		q->fault = ENGINE_FRONT_FAULT_RX_ID;
		return false;
	}
	if (w->ndata >= ENGINE_FRONT_RX_MAX_DATA_SLOTS) {
		note_err(w, ENGINE_FRONT_RX_ERR_SLOTS);
	} else {
		w->data[w->ndata] = *r;
		w->buf[w->ndata] = b;
	}
	w->ndata++;
	if (r->status < 0)
		note_err(w, ENGINE_FRONT_RX_ERR_STATUS);
	else if ((uint32_t)r->offset + (uint32_t)r->status > ENGINE_PAGE_SIZE)
		note_err(w, ENGINE_FRONT_RX_ERR_PAGE);
	else
		w->len += (uint32_t)r->status;
	return true;
}

static void take_extra(struct rx_walk *w, const struct netif_extra_info *ex)
{
	switch (ex->type) {
	case XEN_NETIF_EXTRA_TYPE_GSO:
		w->gso = *ex;
		w->has_gso = true;
		break;
	case XEN_NETIF_EXTRA_TYPE_HASH:
		w->hash = *ex;
		w->has_hash = true;
		break;
	default:
		/* MCAST_* belong to TX; anything else is newer than us. */
		w->ignored++;
		break;
	}
}

/*
 * Walk the packet at rsp_cons through the @avail published responses.
 * DONE: @w holds it whole (maybe with err set). OPEN: it goes on past
 * @avail. FATAL: q->fault is set.
 */
static enum walk_result walk(struct engine_front_rx_queue *q, RING_IDX avail, struct rx_walk *w)
{
	const RING_IDX cons = q->ring.rsp_cons;
	netif_rx_response_t r;
	unsigned i, nextras = 0;
	bool more;

	w->ndata = w->ignored = 0;
	w->len = 0;
	w->err = ENGINE_FRONT_RX_ERR_NONE;
	w->has_gso = w->has_hash = false;

	RING_COPY_RESPONSE(&q->ring, cons, &r);
	if (!take_data(q, w, cons, &r))
		return WALK_FATAL;
	w->flags = r.flags;
	i = 1;

	more = w->flags & NETRXF_extra_info;
	while (more) {
		struct netif_extra_info ex;

		if (i >= avail)
			return WALK_OPEN;
		RING_COPY_RESPONSE(&q->ring, cons + i, &r);
		memcpy(&ex, &r, sizeof(ex));
		i++;
		if (++nextras > ENGINE_FRONT_RX_MAX_EXTRAS)
			note_err(w, ENGINE_FRONT_RX_ERR_EXTRAS);
		else
			take_extra(w, &ex);
		more = ex.flags & XEN_NETIF_EXTRA_FLAG_MORE;
	}

	more = w->flags & NETRXF_more_data;
	while (more) {
		if (i >= avail)
			return WALK_OPEN;
		RING_COPY_RESPONSE(&q->ring, cons + i, &r);
		if (!take_data(q, w, cons + i, &r))
			return WALK_FATAL;
		i++;
		more = r.flags & NETRXF_more_data;
	}
	w->nslots = i;
	return WALK_DONE;
}

static bool gso_advertised(const struct engine_front_rx_config *cfg, uint8_t type)
{
	return (type == XEN_NETIF_GSO_TYPE_TCPV4 && cfg->gso_tcpv4) ||
	       (type == XEN_NETIF_GSO_TYPE_TCPV6 && cfg->gso_tcpv6);
}

static size_t arena_pos(const struct engine_front_rx_batch *b)
{
	return (b->arena_used + ENGINE_FRONT_RX_ALIGN - 1) & ~(size_t)(ENGINE_FRONT_RX_ALIGN - 1);
}

static bool arena_fits(const struct engine_front_rx_batch *b, uint32_t len)
{
	size_t pos = arena_pos(b);

	return pos <= b->arena_size && b->arena_size - pos >= len;
}

/*
 * Copy a checked packet out of its buffer pages into the arena (which has
 * room: arena_fits) and settle its metadata on that private copy.
 * Returns ENGINE_FRONT_RX_ERR_NONE, the packet then being in @b, or why not.
 */
static enum engine_front_rx_err deliver(struct engine_front_rx_queue *q,
					struct engine_front_rx_batch *b, const struct rx_walk *w)
{
	size_t pos = arena_pos(b);
	struct engine_front_rx_pkt *p = &b->pkts[b->nr_pkts];
	uint8_t *dst = b->arena + pos;

	for (unsigned k = 0; k < w->ndata; k++) {
		const netif_rx_response_t *r = &w->data[k];

		/* take_data() checked offset + status against the page */
		memcpy(dst, q->bufs[w->buf[k]].page + r->offset, (size_t)r->status);
		dst += r->status;
	}
	memset(p, 0, sizeof(*p));
	p->data = b->arena + pos;
	p->len = w->len;

	if (w->has_gso) {
		if (!gso_advertised(&q->cfg, w->gso.u.gso.type))
			return ENGINE_FRONT_RX_ERR_GSO;
		p->meta.gso_type = w->gso.u.gso.type;
		p->meta.gso_size = w->gso.u.gso.size;
		if (engine_gso_check(p->data, p->len, &p->meta) != 0)
			return ENGINE_FRONT_RX_ERR_GSO;
	}
	if (w->flags & NETRXF_csum_blank) {
		if (engine_csum_setup(p->data, p->len, &p->meta, false) != 0)
			return ENGINE_FRONT_RX_ERR_CSUM;
	} else if (w->flags & NETRXF_data_validated) {
		p->meta.csum = ENGINE_CSUM_VALIDATED;
	}
	if (w->has_hash && w->hash.u.hash.type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
		/* A hint only: an unknown type is ignored. */
		p->meta.has_hash = 1;
		p->meta.hash_type = w->hash.u.hash.type;
		p->meta.hash = (uint32_t)w->hash.u.hash.value[0] |
			       (uint32_t)w->hash.u.hash.value[1] << 8 |
			       (uint32_t)w->hash.u.hash.value[2] << 16 |
			       (uint32_t)w->hash.u.hash.value[3] << 24;
	}
	b->arena_used = pos + w->len;
	b->nr_pkts++;
	return ENGINE_FRONT_RX_ERR_NONE;
}

/* Give the buffers of the @nslots slots at rsp_cons back to the pool, consume them. */
static void recycle(struct engine_front_rx_queue *q, unsigned nslots)
{
	for (unsigned k = 0; k < nslots; k++) {
		unsigned slot = (q->ring.rsp_cons + k) & (ENGINE_RX_RING_SIZE - 1);
		uint16_t b = q->slot_buf[slot];

		/* Every slot below req_published holds the buffer posted there. */
		assert(b < q->nr_bufs && q->buf_state[b] == RX_BUF_POSTED);
		assert(q->nr_free < q->nr_bufs);
		q->slot_buf[slot] = ENGINE_FRONT_NO_BUF;
		q->buf_state[b] = 0;
		q->free_list[q->nr_free++] = b;
	}
	q->ring.rsp_cons += nslots;
	q->stats.responses += nslots;
}

static void count_packet(struct engine_front_rx_queue *q, const struct engine_front_rx_batch *b,
			 const struct rx_walk *w)
{
	const struct engine_front_rx_pkt *p;

	q->stats.extras_ignored += w->ignored;
	if (w->err != ENGINE_FRONT_RX_ERR_NONE) {
		q->stats.errors++;
		q->stats.err[w->err]++;
		return;
	}
	p = &b->pkts[b->nr_pkts - 1];
	q->stats.packets++;
	q->stats.bytes += p->len;
	if (p->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE)
		q->stats.gso_packets++;
	if (p->meta.csum == ENGINE_CSUM_PARTIAL)
		q->stats.csum_partial++;
	else if (p->meta.csum == ENGINE_CSUM_VALIDATED)
		q->stats.csum_validated++;
}

int engine_front_rx_poll(struct engine_front_rx_queue *q, struct engine_front_rx_batch *b,
			 unsigned budget)
{
	b->nr_pkts = 0;
	b->arena_used = 0;
	b->more = b->notify = false;
	if (q->fault)
		return -EPROTO;
	if (budget > ENGINE_FRONT_RX_BATCH)
		budget = ENGINE_FRONT_RX_BATCH;
	q->stats.polls++;

	for (unsigned round = 0;; round++) {
		RING_IDX prod = engine_ring_read_idx(&q->ring.sring->rsp_prod);
		RING_IDX avail;

		xen_rmb(); /* read responses only after the producer that covers them */
		avail = prod - q->ring.rsp_cons;
		/* Responses answer posted requests, one each. */
		if (avail > q->req_published - q->ring.rsp_cons)
			return broken(q, ENGINE_FRONT_FAULT_RX_RSP_PROD);

		while (avail > 0) {
			struct rx_walk w;

			if (b->nr_pkts == budget) {
				b->more = true;
				goto out;
			}
			switch (walk(q, avail, &w)) {
			case WALK_FATAL:
				return -EPROTO;
			case WALK_OPEN:
				/* Holding every buffer, it can never be finished. */
				if (avail == q->nr_bufs)
					return broken(q, ENGINE_FRONT_FAULT_RX_STUCK);
				q->stats.waits++;
				goto arm;
			case WALK_DONE:
				break;
			}
			if (w.err == ENGINE_FRONT_RX_ERR_NONE && w.len < ETH_HDR_LEN)
				w.err = ENGINE_FRONT_RX_ERR_RUNT;
			if (w.err == ENGINE_FRONT_RX_ERR_NONE) {
				if (!arena_fits(b, w.len)) {
					b->more = true;
					goto out;
				}
				w.err = (uint8_t)deliver(q, b, &w);
			}
			count_packet(q, b, &w);
			recycle(q, w.nslots);
			avail -= w.nslots;
		}
arm:
		/* Ask for an event at the next response past what we saw; re-check. */
		if (engine_ring_arm(&q->ring.sring->rsp_event, &q->ring.sring->rsp_prod,
				    prod + 1) == prod)
			break;
		if (round + 1 == RX_POLL_ROUNDS) {
			b->more = true;
			break;
		}
	}
out:
	b->notify = engine_front_rx_refill(q);
	return (int)b->nr_pkts;
}
