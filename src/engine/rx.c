/* SPDX-License-Identifier: MIT */
/*
 * rx.c - guest RX: placing host packets into the frontend's posted buffers.
 *
 * See rx.h for the flow. Slot layout of one packet, in ring order:
 *   data slot 0 (flags: more_data, extra_info, checksum state)
 *   GSO extra-info slot, when the packet is GSO
 *   hash extra-info slot, when the frontend takes hashes and there is one
 *   data slots 1..n-1 (more_data on all but the last)
 * The extras go after the first data slot and in type order, each but the
 * last with XEN_NETIF_EXTRA_FLAG_MORE, as Linux netback writes them.
 * Each data slot is a whole page filled from offset 0. The requests it
 * consumes are copied out of the ring once; their grant references are
 * handed to grant copy unchecked, since the hypervisor validates them and
 * a bad one fails only its own packet.
 */
#include "rx.h"

#include <errno.h>
#include <string.h>

#include "offload.h"

/* Extra slots the engine may add: GSO and hash. */
#define RX_MAX_EXTRAS 2u
#define RX_MAX_SLOTS (ENGINE_RX_MAX_DATA_SLOTS + RX_MAX_EXTRAS)

void engine_rx_init(struct engine_rx_queue *q, netif_rx_sring_t *sring,
		    const struct engine_rx_config *cfg)
{
	memset(q, 0, sizeof(*q));
	BACK_RING_INIT(&q->ring, sring, ENGINE_PAGE_SIZE);
	/* Attach where the ring stands, as tx.c explains. */
	q->ring.req_cons = engine_ring_read_idx(&sring->rsp_prod);
	q->ring.rsp_prod_pvt = q->ring.req_cons;
	q->rsp_published = q->ring.req_cons;
	q->cfg = *cfg;
}

void engine_rx_batch_reset(struct engine_rx_batch *b)
{
	b->nr_pkts = b->nr_segs = b->nr_slots = 0;
}

/* Whether @p goes with a hash extra: the frontend takes them and the hash is one netif.h names. */
static bool hash_extra(const struct engine_rx_queue *q, const struct engine_rx_pkt *p)
{
	return q->cfg.hash_extra && p->meta.has_hash &&
	       p->meta.hash_type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
}

unsigned engine_rx_slots(const struct engine_rx_queue *q, const struct engine_rx_pkt *p,
			 enum engine_rx_drop *why)
{
	unsigned data;
	bool gso_ok;

	*why = ENGINE_RX_DROP_NONE;
	if (p->len == 0) {
		*why = ENGINE_RX_DROP_EMPTY;
		return 0;
	}
	data = (unsigned)((p->len + (uint64_t)ENGINE_PAGE_SIZE - 1) / ENGINE_PAGE_SIZE);
	if (data > ENGINE_RX_MAX_DATA_SLOTS || (data > 1 && !q->cfg.sg)) {
		*why = ENGINE_RX_DROP_TOO_BIG;
		return 0;
	}
	data += hash_extra(q, p);
	if (p->meta.gso_type == XEN_NETIF_GSO_TYPE_NONE)
		return data;
	gso_ok = (p->meta.gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && q->cfg.gso_tcpv4) ||
		 (p->meta.gso_type == XEN_NETIF_GSO_TYPE_TCPV6 && q->cfg.gso_tcpv6);
	if (!gso_ok || p->meta.gso_size == 0) {
		*why = ENGINE_RX_DROP_GSO;
		return 0;
	}
	return data + 1;
}

unsigned engine_rx_posted(const struct engine_rx_queue *q)
{
	RING_IDX posted = engine_ring_read_idx(&q->ring.sring->req_prod) - q->ring.req_cons;

	return posted > ENGINE_RX_RING_SIZE ? ENGINE_RX_RING_SIZE : posted;
}

static int drop(struct engine_rx_queue *q, enum engine_rx_drop why, int err)
{
	q->stats.dropped++;
	q->stats.drop[why]++;
	return err;
}

/*
 * A frontend without checksum offload (for this IP version) must get a
 * finished checksum. Returns 0, or -EINVAL if the frame cannot be finished.
 */
static int settle_csum(struct engine_rx_queue *q, struct engine_rx_pkt *p)
{
	struct engine_hdrs h;
	bool can_take;
	int rc;

	if (p->meta.csum != ENGINE_CSUM_PARTIAL || p->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE)
		return 0;
	/*
	 * netif's csum_blank carries no offsets: the frontend finds the
	 * checksum by walking the headers. One it would not find there (the
	 * inner checksum of a tunnelled packet) is finished here, where the
	 * host said it is.
	 */
	rc = engine_hdrs_parse(p->data, p->len, &h);
	if (engine_csum_elsewhere(p->data, p->len, &p->meta)) {
		/* Not at the first TCP/UDP header (GRE has none): only the host knows where. */
		if (engine_csum_finish_partial(p->data, p->len, &p->meta) != 0)
			return -EINVAL;
		q->stats.csum_completed++;
		return 0;
	}
	can_take = q->cfg.csum_blank;
	if (can_take && !q->cfg.ipv6_csum_blank)
		can_take = rc == 0 && h.ip_version == 4;
	if (can_take)
		return 0;
	rc = engine_csum_complete(p->data, p->len, &p->meta);
	if (rc == -EPROTONOSUPPORT) {
		p->meta.csum = ENGINE_CSUM_NONE;
		return 0;
	}
	if (rc)
		return -EINVAL;
	q->stats.csum_completed++;
	return 0;
}

/* The @n extras of @p, in the order they go into the ring. Returns @n. */
static unsigned build_extras(const struct engine_rx_queue *q, const struct engine_rx_pkt *p,
			     struct netif_extra_info ex[RX_MAX_EXTRAS])
{
	unsigned n = 0;

	if (p->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE) {
		memset(&ex[n], 0, sizeof(ex[n]));
		ex[n].type = XEN_NETIF_EXTRA_TYPE_GSO;
		ex[n].u.gso.size = p->meta.gso_size;
		ex[n].u.gso.type = p->meta.gso_type;
		n++;
	}
	if (hash_extra(q, p)) {
		memset(&ex[n], 0, sizeof(ex[n]));
		ex[n].type = XEN_NETIF_EXTRA_TYPE_HASH;
		ex[n].u.hash.type = p->meta.hash_type;
		ex[n].u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
		/* netif.h: value is little-endian, whatever our byte order */
		for (unsigned i = 0; i < 4; i++)
			ex[n].u.hash.value[i] = (uint8_t)(p->meta.hash >> (8 * i));
		n++;
	}
	for (unsigned i = 0; i + 1 < n; i++)
		ex[i].flags |= XEN_NETIF_EXTRA_FLAG_MORE;
	return n;
}

static uint16_t first_flags(const struct engine_rx_pkt *p, unsigned data, bool extra)
{
	uint16_t f = 0;

	if (data > 1)
		f |= NETRXF_more_data;
	if (extra)
		f |= NETRXF_extra_info;
	if (p->meta.csum == ENGINE_CSUM_PARTIAL)
		f |= NETRXF_csum_blank | NETRXF_data_validated;
	else if (p->meta.csum == ENGINE_CSUM_VALIDATED)
		f |= NETRXF_data_validated;
	return f;
}

int engine_rx_add(struct engine_rx_queue *q, struct engine_rx_batch *b, struct engine_rx_pkt *p)
{
	netif_rx_request_t reqs[RX_MAX_SLOTS];
	struct netif_extra_info extras[RX_MAX_EXTRAS];
	enum engine_rx_drop why;
	struct engine_rx_placed *placed;
	RING_IDX prod, cons = q->ring.req_cons;
	unsigned need, data, nextras, done = 0;

	if (q->fault)
		return -EPROTO;
	need = engine_rx_slots(q, p, &why);
	if (need == 0)
		return drop(q, why, why == ENGINE_RX_DROP_EMPTY ? -EINVAL :
				   why == ENGINE_RX_DROP_GSO   ? -EOPNOTSUPP : -EMSGSIZE);
	nextras = build_extras(q, p, extras);
	data = need - nextras;
	if (b->nr_pkts == ENGINE_RX_RING_SIZE || b->nr_segs + data > ENGINE_RX_RING_SIZE)
		return -ENOSPC;

	prod = engine_ring_read_idx(&q->ring.sring->req_prod);
	xen_rmb(); /* read requests only after the producer that covers them */
	/* The frontend may post only into slots whose responses it has seen. */
	if (prod - q->ring.rsp_prod_pvt > ENGINE_RX_RING_SIZE) {
		q->fault = ENGINE_FAULT_REQ_PROD;
		return -EPROTO;
	}
	if (prod - cons < need)
		return -EAGAIN;
	if (settle_csum(q, p) != 0)
		return drop(q, ENGINE_RX_DROP_CSUM, -EINVAL);

	for (unsigned i = 0; i < need; i++)
		RING_COPY_REQUEST(&q->ring, cons + i, &reqs[i]);

	placed = &b->pkts[b->nr_pkts++];
	placed->first = cons;
	placed->nr_slots = (uint16_t)need;
	placed->nr_extras = (uint8_t)nextras;
	placed->seg_first = (uint16_t)b->nr_segs;
	placed->seg_count = (uint16_t)data;
	placed->len = p->len;

	for (unsigned slot = 0; slot < need; slot++) {
		union engine_rx_slot_rsp *out = &b->rsps[b->nr_slots + slot];
		netif_rx_response_t *rsp = &out->rsp;
		struct engine_copy_seg *s;
		uint32_t len;

		if (slot >= 1 && slot <= nextras) {
			out->extra = extras[slot - 1];
			continue;
		}
		len = p->len - done;
		if (len > ENGINE_PAGE_SIZE)
			len = ENGINE_PAGE_SIZE;

		s = &b->segs[b->nr_segs++];
		s->source.virt = p->data + done;
		s->dest.foreign.ref = reqs[slot].gref;
		s->dest.foreign.offset = 0;
		s->dest.foreign.domid = q->cfg.peer_domid;
		s->len = (uint16_t)len;
		s->flags = GNTCOPY_dest_gref;
		s->status = GNTST_general_error;

		rsp->id = reqs[slot].id;
		rsp->offset = 0;
		rsp->status = (int16_t)len;
		rsp->flags = slot == 0 ? first_flags(p, data, nextras > 0)
				       : (done + len < p->len ? NETRXF_more_data : 0);
		done += len;
	}
	q->ring.req_cons = cons + need;
	q->ring.rsp_prod_pvt = cons + need;
	b->nr_slots += need;
	if (p->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE)
		q->stats.gso_packets++;
	if (hash_extra(q, p))
		q->stats.hash_extras++;
	return 0;
}

_Static_assert(sizeof(union engine_rx_slot_rsp) == sizeof(netif_rx_response_t),
	       "a response, GSO extra or not, fills one RX ring slot");

void engine_rx_settle(struct engine_rx_queue *q, struct engine_rx_batch *b)
{
	for (unsigned i = 0; i < b->nr_pkts; i++) {
		const struct engine_rx_placed *pl = &b->pkts[i];
		unsigned base = pl->first - q->rsp_published; /* its first slot in b->rsps */
		bool failed = false;

		for (unsigned s = pl->seg_first; s < pl->seg_first + pl->seg_count; s++)
			failed |= b->segs[s].status != GNTST_okay;
		if (!failed) {
			q->stats.packets++;
			q->stats.bytes += pl->len;
			continue;
		}
		/* Keep the flags, so the frontend still finds the packet's end. */
		for (unsigned slot = 0; slot < pl->nr_slots; slot++) {
			if (slot >= 1 && slot <= pl->nr_extras)
				continue;
			b->rsps[base + slot].rsp.status = NETIF_RSP_ERROR;
		}
		drop(q, ENGINE_RX_DROP_COPY, 0);
	}
}

bool engine_rx_publish(struct engine_rx_queue *q, struct engine_rx_batch *b)
{
	if (b->nr_slots == 0)
		return false;
	for (unsigned i = 0; i < b->nr_slots; i++)
		memcpy(RING_GET_RESPONSE(&q->ring, q->rsp_published + i), &b->rsps[i],
		       sizeof(b->rsps[i]));
	q->stats.responses += b->nr_slots;
	q->stats.batches++;
	return engine_ring_publish(&q->ring.sring->rsp_prod, &q->ring.sring->rsp_event,
				   &q->rsp_published, q->ring.rsp_prod_pvt);
}

bool engine_rx_complete(struct engine_rx_queue *q, struct engine_rx_batch *b)
{
	engine_rx_settle(q, b);
	return engine_rx_publish(q, b);
}

bool engine_rx_wait(struct engine_rx_queue *q, unsigned needed)
{
	RING_IDX prod;

	if (q->fault)
		return false;
	prod = engine_ring_arm(&q->ring.sring->req_event, &q->ring.sring->req_prod,
			       q->ring.req_cons + needed);
	return prod - q->ring.req_cons >= needed;
}
