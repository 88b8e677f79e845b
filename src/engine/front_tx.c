/* SPDX-License-Identifier: MIT */
/*
 * front_tx.c - frontend TX: packets into granted buffer pages, requests out,
 * responses back.
 *
 * See front.h for the flow. Slot layout of one packet, in ring order:
 *   data slot 0  (size: the whole packet; csum flags; extra_info for GSO)
 *   GSO extra    (when the packet is GSO)
 *   data slots 1..n-1 (size: their own bytes; more_data on all but the last)
 * Each data slot is a whole buffer page filled from offset 0, and its
 * request id is the buffer's index in the pool. A multicast filter request
 * (engine_front_tx_mcast) is two slots:
 *   data slot    (gref 0, offset 0, size 0, NETTXF_extra_info; id: a buffer's)
 *   MCAST extra  (XEN_NETIF_EXTRA_TYPE_MCAST_ADD or _DEL, flags 0, the address)
 * the shape illumos' xnf and the Windows PV drivers send and Linux netback
 * takes; the buffer lends only its id, the backend copies nothing.
 *
 * What a response from the backend may do, and what we do about it:
 *
 *   rsp_prod past the requests we published  fatal: no honest backend can
 *   id outside the pool                      fatal: we never issued it
 *   id of a buffer not outstanding           fatal: answered twice, or never sent
 *   NETIF_RSP_NULL with no extra slot owed   fatal: it answers nothing we sent
 *   status ERROR / DROPPED / undefined       counted per packet; buffer freed
 *   any status to a multicast request        handed to the caller as it is
 *
 * Backends answer a packet's extra slots with NULL right after its first
 * slot (Linux netback and tx.c both do), but nothing in netif.h promises
 * the order, so NULLs are only counted against the extra slots sent.
 */
#include "front.h"
#include "csum.h"
#include "offload.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

/* buf_state bits. */
#define TX_BUF_OUT  1u  /* sent, its response not yet seen */
#define TX_BUF_HEAD 2u  /* holds the first data slot of its packet */
#define TX_BUF_MCAST 4u /* lends its id to a multicast filter request */
#define TX_BUF_ADD  8u  /* ... an MCAST_ADD (else an MCAST_DEL) */

/*
 * Consume-and-recheck rounds per reap: a backend that keeps moving rsp_prod
 * (forwards and back) cannot hold us in the final-check loop.
 */
#define TX_REAP_ROUNDS 4u

int engine_front_tx_init(struct engine_front_tx_queue *q, netif_tx_sring_t *sring,
			 const struct engine_front_tx_config *cfg,
			 const struct engine_front_buf *bufs, unsigned nr_bufs)
{
	if (nr_bufs == 0 || nr_bufs > ENGINE_FRONT_MAX_BUFS)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&q->ring, sring, ENGINE_PAGE_SIZE);
	if (cfg)
		q->cfg = *cfg;
	q->bufs = bufs;
	q->nr_bufs = nr_bufs;
	/* Buffer 0 on top of the stack: the first packet takes buffers 0, 1, ... */
	for (unsigned i = 0; i < nr_bufs; i++)
		q->free_list[i] = (uint16_t)(nr_bufs - 1 - i);
	q->nr_free = nr_bufs;
	return 0;
}

unsigned engine_front_tx_slots(uint32_t len)
{
	return (unsigned)(((uint64_t)len + ENGINE_PAGE_SIZE - 1) / ENGINE_PAGE_SIZE);
}

unsigned engine_front_tx_free_bufs(const struct engine_front_tx_queue *q)
{
	return q->nr_free;
}

unsigned engine_front_tx_free_slots(const struct engine_front_tx_queue *q)
{
	/* rsp_cons <= req_prod_pvt <= rsp_cons + ring size, by construction */
	return ENGINE_TX_RING_SIZE - (q->ring.req_prod_pvt - q->ring.rsp_cons);
}

static int refuse(struct engine_front_tx_queue *q, enum engine_front_tx_err why, int err)
{
	q->stats.errors++;
	q->stats.err[why]++;
	return err;
}

static bool gso_advertised(const struct engine_front_tx_config *cfg, uint8_t type)
{
	return (type == XEN_NETIF_GSO_TYPE_TCPV4 && cfg->gso_tcpv4) ||
	       (type == XEN_NETIF_GSO_TYPE_TCPV6 && cfg->gso_tcpv6);
}

static uint16_t buf_get(struct engine_front_tx_queue *q)
{
	uint16_t b;

	assert(q->nr_free > 0);
	b = q->free_list[--q->nr_free];
	assert(b < q->nr_bufs && q->buf_state[b] == 0);
	return b;
}

static void buf_put(struct engine_front_tx_queue *q, uint16_t b)
{
	assert(q->nr_free < q->nr_bufs);
	q->buf_state[b] = 0;
	q->free_list[q->nr_free++] = b;
}

static uint16_t first_flags(const struct engine_pkt_meta *m, unsigned nslots, bool gso)
{
	uint16_t f = 0;

	if (m->csum == ENGINE_CSUM_PARTIAL)
		f |= NETTXF_csum_blank | NETTXF_data_validated;
	else if (m->csum == ENGINE_CSUM_VALIDATED)
		f |= NETTXF_data_validated;
	if (gso)
		f |= NETTXF_extra_info;
	if (nslots > 1)
		f |= NETTXF_more_data;
	return f;
}

static void write_gso_extra(struct engine_front_tx_queue *q, RING_IDX at,
			    const struct engine_pkt_meta *m)
{
	netif_tx_request_t *slot = RING_GET_REQUEST(&q->ring, at);
	struct netif_extra_info ex;

	memset(&ex, 0, sizeof(ex));
	ex.type = XEN_NETIF_EXTRA_TYPE_GSO;
	ex.u.gso.size = m->gso_size;
	ex.u.gso.type = m->gso_type;
	memset(slot, 0, sizeof(*slot));
	memcpy(slot, &ex, sizeof(ex));
}

/*
 * netif's csum_blank carries no offsets: the backend finds the checksum by
 * walking the headers. A partial checksum elsewhere (the inner one of a
 * tunnelled packet) is finished here, from the whole frame, and the packet
 * goes as checked. Returns true and the value to store at @field.
 */
static bool finish_unplaceable_csum(const uint8_t *data, uint32_t len,
				    const struct engine_pkt_meta *m, uint32_t *field, uint16_t *value)
{
	uint32_t start = m->csum_start;
	uint16_t c;

	if (m->gso_type != XEN_NETIF_GSO_TYPE_NONE || !engine_csum_elsewhere(data, len, m))
		return false;
	*field = start + m->csum_offset;
	if (start >= len || *field + 2 > len || *field < start)
		return false; /* nonsense from our own host: sent as it is */
	c = csum_fold(csum_add_bytes(data + start, len - start, 0));
	*value = c ? c : 0xffff;
	return true;
}

/* Store @v (native order, as the checksum was summed) at @off of the packet in @q's pages. */
static void store_at(struct engine_front_tx_queue *q, RING_IDX first, uint32_t off, uint16_t v)
{
	uint8_t b[2];

	memcpy(b, &v, sizeof(b));
	for (unsigned k = 0; k < 2; k++) {
		uint32_t o = off + k;
		/* Data slots: the first, then (after a GSO extra, never here) the rest. */
		const netif_tx_request_t *req = RING_GET_REQUEST(&q->ring, first + o / ENGINE_PAGE_SIZE);

		q->bufs[req->id].page[o % ENGINE_PAGE_SIZE] = b[k];
	}
}

int engine_front_tx_send(struct engine_front_tx_queue *q, const uint8_t *data, uint32_t len,
			 const struct engine_pkt_meta *meta)
{
	static const struct engine_pkt_meta no_meta;
	struct engine_pkt_meta finished;
	RING_IDX prod, first;
	unsigned nslots, need;
	uint32_t csum_field = 0;
	uint16_t flags, csum_value = 0;
	bool gso, csum_fix;

	if (q->fault)
		return -EPROTO;
	if (!meta)
		meta = &no_meta;
	if (len == 0)
		return refuse(q, ENGINE_FRONT_TX_ERR_EMPTY, -EINVAL);
	nslots = engine_front_tx_slots(len);
	if (len > ENGINE_FRONT_TX_MAX_LEN || nslots > ENGINE_FRONT_TX_MAX_SLOTS ||
	    (nslots > 1 && !q->cfg.sg))
		return refuse(q, ENGINE_FRONT_TX_ERR_TOO_BIG, -EMSGSIZE);
	gso = meta->gso_type != XEN_NETIF_GSO_TYPE_NONE;
	if (gso && (meta->gso_size == 0 || !gso_advertised(&q->cfg, meta->gso_type)))
		return refuse(q, ENGINE_FRONT_TX_ERR_OFFLOAD, -EOPNOTSUPP);
	need = nslots + gso;
	if (nslots > q->nr_free || need > engine_front_tx_free_slots(q)) {
		q->stats.busy++;
		return -EAGAIN;
	}
	csum_fix = finish_unplaceable_csum(data, len, meta, &csum_field, &csum_value);
	if (csum_fix) {
		finished = *meta;
		finished.csum = ENGINE_CSUM_VALIDATED;
		meta = &finished;
		q->stats.csum_finished++;
	}

	flags = first_flags(meta, nslots, gso);
	prod = first = q->ring.req_prod_pvt;
	for (unsigned i = 0; i < nslots; i++) {
		uint32_t off = i * ENGINE_PAGE_SIZE;
		uint32_t size = len - off < ENGINE_PAGE_SIZE ? len - off : ENGINE_PAGE_SIZE;
		uint16_t b = buf_get(q);
		netif_tx_request_t *req = RING_GET_REQUEST(&q->ring, prod);

		memcpy(q->bufs[b].page, data + off, size);
		q->buf_state[b] = TX_BUF_OUT | (i == 0 ? TX_BUF_HEAD : 0);
		req->gref = q->bufs[b].gref;
		req->offset = 0;
		req->id = b;
		/* The first slot says how big the whole packet is. */
		req->size = (uint16_t)(i == 0 ? len : size);
		req->flags = i == 0 ? flags : (i + 1 < nslots ? NETTXF_more_data : 0);
		prod++;
		if (i == 0 && gso)
			write_gso_extra(q, prod++, meta);
	}
	if (csum_fix)
		store_at(q, first, csum_field, csum_value);
	q->ring.req_prod_pvt = prod;
	q->nulls_owed += gso;
	q->stats.packets++;
	q->stats.bytes += len;
	q->stats.requests += need;
	if (gso)
		q->stats.gso_packets++;
	if (flags & NETTXF_csum_blank)
		q->stats.csum_blank++;
	return 0;
}

int engine_front_tx_mcast(struct engine_front_tx_queue *q, bool add, const uint8_t addr[6])
{
	RING_IDX prod = q->ring.req_prod_pvt;
	netif_tx_request_t *req;
	struct netif_extra_info ex;
	uint16_t b;

	if (q->fault)
		return -EPROTO;
	if (!q->cfg.multicast_control)
		return -EOPNOTSUPP;
	if (!(addr[0] & 1))
		return -EINVAL; /* the I/G bit: a unicast address has no place in the filter */
	if (q->nr_free == 0 || engine_front_tx_free_slots(q) < 2 ||
	    q->mcast_out + q->mcast_done >= ENGINE_FRONT_MCAST_PENDING) {
		q->stats.busy++;
		return -EAGAIN;
	}
	b = buf_get(q);
	q->buf_state[b] = TX_BUF_OUT | TX_BUF_MCAST | (add ? TX_BUF_ADD : 0);
	memcpy(q->mcast_addr[b], addr, 6);
	req = RING_GET_REQUEST(&q->ring, prod);
	req->gref = 0;
	req->offset = 0;
	req->flags = NETTXF_extra_info;
	req->id = b;
	req->size = 0;
	memset(&ex, 0, sizeof(ex));
	ex.type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD : XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	memcpy(ex.u.mcast.addr, addr, 6);
	req = RING_GET_REQUEST(&q->ring, prod + 1);
	memset(req, 0, sizeof(*req));
	memcpy(req, &ex, sizeof(ex));
	q->ring.req_prod_pvt = prod + 2;
	q->nulls_owed++;
	q->mcast_out++;
	q->stats.requests += 2;
	q->stats.mcast_requests++;
	return 0;
}

bool engine_front_tx_mcast_result(struct engine_front_tx_queue *q,
				  struct engine_front_mcast_result *out)
{
	if (q->mcast_done == 0)
		return false;
	*out = q->mcast_res[q->mcast_first];
	q->mcast_first = (q->mcast_first + 1) % ENGINE_FRONT_MCAST_PENDING;
	q->mcast_done--;
	return true;
}

/* The answer to buffer @b's multicast request: queued for the caller. */
static void mcast_answered(struct engine_front_tx_queue *q, uint16_t b, int16_t status)
{
	/* Room is certain: mcast_out + mcast_done never exceeds the FIFO (tx_mcast). */
	unsigned at = (q->mcast_first + q->mcast_done) % ENGINE_FRONT_MCAST_PENDING;
	struct engine_front_mcast_result *r = &q->mcast_res[at];

	assert(q->mcast_out > 0 && q->mcast_done < ENGINE_FRONT_MCAST_PENDING);
	memcpy(r->addr, q->mcast_addr[b], 6);
	r->add = (q->buf_state[b] & TX_BUF_ADD) != 0;
	r->status = status;
	q->mcast_out--;
	q->mcast_done++;
	if (status == NETIF_RSP_OKAY)
		q->stats.mcast_okay++;
	else
		q->stats.mcast_errors++;
}

bool engine_front_tx_push(struct engine_front_tx_queue *q)
{
	if (q->fault || q->ring.req_prod_pvt == q->req_published)
		return false;
	return engine_ring_publish(&q->ring.sring->req_prod, &q->ring.sring->req_event,
				   &q->req_published, q->ring.req_prod_pvt);
}

static int broken(struct engine_front_tx_queue *q, enum engine_front_fault f)
{
	q->fault = f;
	return -EPROTO;
}

static void count_status(struct engine_front_tx_queue *q, int16_t status)
{
	enum engine_front_tx_err why;

	q->stats.completed++;
	switch (status) {
	case NETIF_RSP_OKAY:
		q->stats.okay++;
		return;
	case NETIF_RSP_ERROR:
		why = ENGINE_FRONT_TX_ERR_RSP_ERROR;
		break;
	case NETIF_RSP_DROPPED:
		why = ENGINE_FRONT_TX_ERR_RSP_DROPPED;
		break;
	default:
		why = ENGINE_FRONT_TX_ERR_RSP_UNKNOWN;
		break;
	}
	q->stats.errors++;
	q->stats.err[why]++;
}

/* Settle one response (our private copy). Returns 0 or -EPROTO. */
static int take_rsp(struct engine_front_tx_queue *q, const netif_tx_response_t *r)
{
	uint8_t st;

	if (r->status == NETIF_RSP_NULL) {
		if (q->nulls_owed == 0)
			return broken(q, ENGINE_FRONT_FAULT_TX_NULL);
		q->nulls_owed--;
		return 0;
	}
	if (r->id >= q->nr_bufs)
		return broken(q, ENGINE_FRONT_FAULT_TX_BAD_ID);
	st = q->buf_state[r->id];
	if (!(st & TX_BUF_OUT))
		return broken(q, ENGINE_FRONT_FAULT_TX_ID_FREE);
	if (st & TX_BUF_HEAD)
		count_status(q, r->status);
	else if (st & TX_BUF_MCAST)
		mcast_answered(q, r->id, r->status);
	buf_put(q, r->id);
	return 0;
}

int engine_front_tx_reap(struct engine_front_tx_queue *q, unsigned budget, bool *more)
{
	unsigned done = 0;

	*more = false;
	if (q->fault)
		return -EPROTO;
	if (budget > ENGINE_TX_RING_SIZE)
		budget = ENGINE_TX_RING_SIZE;

	for (unsigned round = 0;; round++) {
		RING_IDX prod = engine_ring_read_idx(&q->ring.sring->rsp_prod);
		RING_IDX avail;

		xen_rmb(); /* read responses only after the producer that covers them */
		avail = prod - q->ring.rsp_cons;
		/* Every response answers a request we published, and only one. */
		if (avail > q->req_published - q->ring.rsp_cons)
			return broken(q, ENGINE_FRONT_FAULT_TX_RSP_PROD);
		for (; avail > 0 && done < budget; avail--, done++) {
			netif_tx_response_t rsp;

			RING_COPY_RESPONSE(&q->ring, q->ring.rsp_cons, &rsp);
			if (take_rsp(q, &rsp) != 0)
				return -EPROTO;
			q->ring.rsp_cons++;
			q->stats.responses++;
		}
		if (avail > 0) {
			/* Out of budget: the caller comes back. */
			*more = true;
			break;
		}
		/* All consumed: ask for an event at the next one, and re-check. */
		prod = engine_ring_arm(&q->ring.sring->rsp_event, &q->ring.sring->rsp_prod,
				       q->ring.rsp_cons + 1);
		if (prod == q->ring.rsp_cons)
			break;
		if (done == budget || round + 1 == TX_REAP_ROUNDS) {
			*more = true;
			break;
		}
	}
	return (int)done;
}
