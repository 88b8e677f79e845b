/* SPDX-License-Identifier: MIT */
/*
 * ctrl.c - the netif control ring, backend side: requests to statuses.
 *
 * See ctrl.h for the flow. What each request gets, following netif.h's
 * "Control messages" and, where netif.h leaves room, Linux's hash.c:
 *
 *   SET_HASH_ALGORITHM  NONE or TOEPLITZ: SUCCESS; else INVALID_PARAMETER
 *   GET_HASH_FLAGS      all four types; NOT_SUPPORTED while algorithm NONE
 *   SET_HASH_FLAGS      unknown bits: INVALID_PARAMETER; algorithm NONE:
 *                       NOT_SUPPORTED; 0 turns hashing off
 *   SET_HASH_KEY        size > ENGINE_HASH_KEY_MAX: BUFFER_OVERFLOW; 0
 *                       clears the key; else copied from offset 0 of the
 *                       grant; a failed copy: INVALID_PARAMETER. Octets
 *                       past the size are zero.
 *   GET_HASH_MAPPING_SIZE  ENGINE_HASH_MAPPING_MAX
 *   SET_HASH_MAPPING_SIZE  > ENGINE_HASH_MAPPING_MAX: INVALID_PARAMETER;
 *                       else the table is that size and all zero (0: no
 *                       table, hash % queues, which netif.h allows)
 *   SET_HASH_MAPPING    offset + size (computed without wrapping) past
 *                       ENGINE_HASH_MAPPING_MAX: BUFFER_OVERFLOW (more than
 *                       we support; it also bounds the copy inside one
 *                       page); past the size set: INVALID_PARAMETER; a
 *                       failed copy or an entry >= num_queues:
 *                       INVALID_PARAMETER and the table unchanged
 *   anything else       NOT_SUPPORTED: INVALID (0), the static grant
 *                       mapping types (we keep no grants mapped), types
 *                       newer than netif.h
 *
 * Linux answers INVALID_PARAMETER for a sub-table past the maximum too;
 * netif.h's BUFFER_OVERFLOW ("larger than the backend supports") fits it
 * better, and a frontend treats both as failure. Unused data words are
 * ignored, as Linux does.
 */
#include "ctrl.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

int engine_ctrl_init(struct engine_ctrl *c, xen_netif_ctrl_sring_t *sring,
		     const struct engine_ctrl_config *cfg)
{
	if (cfg->num_queues == 0)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	BACK_RING_INIT(&c->ring, sring, ENGINE_PAGE_SIZE);
	/* Attach after the last response, as tx.c explains. */
	c->ring.req_cons = engine_ring_read_idx(&sring->rsp_prod);
	c->ring.rsp_prod_pvt = c->ring.req_cons;
	c->rsp_published = c->ring.req_cons;
	c->cfg = *cfg;
	engine_hash_init(&c->hash, cfg->num_queues);
	return 0;
}

int engine_ctrl_restore(struct engine_ctrl *c, const struct engine_hash *h)
{
	struct engine_hash r;

	if ((h->alg != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
	     h->alg != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) ||
	    (h->flags & ~(uint32_t)ENGINE_HASH_FLAGS_ALL) || h->size > ENGINE_HASH_MAPPING_MAX ||
	    h->num_queues != c->cfg.num_queues)
		return -EINVAL;
	for (uint32_t i = 0; i < h->size; i++)
		if (h->mapping[i] >= c->cfg.num_queues)
			return -EINVAL;
	engine_hash_init(&r, c->cfg.num_queues);
	r.alg = h->alg;
	r.flags = h->flags;
	r.size = h->size;
	memcpy(r.key, h->key, sizeof(r.key));
	memcpy(r.mapping, h->mapping, (size_t)h->size * sizeof(r.mapping[0]));
	c->hash = r;
	return 0;
}

static void plan_copy(struct engine_ctrl *c, struct engine_ctrl_batch *b,
		      const struct xen_netif_ctrl_request *req, uint32_t gref, uint32_t len)
{
	struct engine_copy_seg *s = &b->segs[b->nr_segs++];

	s->source.foreign.ref = gref;
	s->source.foreign.offset = 0; /* netif.h: the data starts the grant */
	s->source.foreign.domid = c->cfg.peer_domid;
	s->dest.virt = b->staging;
	s->len = (uint16_t)len;
	s->flags = GNTCOPY_source_gref;
	s->status = GNTST_general_error; /* until the platform says otherwise */
	b->pending = *req;
	b->pending_rsp = b->nr_rsps - 1;
	c->stats.copies++;
}

static uint32_t set_mapping(struct engine_ctrl *c, struct engine_ctrl_batch *b,
			    const struct xen_netif_ctrl_request *req)
{
	uint32_t gref = req->data[0], len = req->data[1], off = req->data[2];
	uint64_t end = (uint64_t)off + len;

	if (end > ENGINE_HASH_MAPPING_MAX)
		return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
	if (end > b->next.size)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	if (len == 0)
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	plan_copy(c, b, req, gref, len * (uint32_t)sizeof(uint32_t));
	return XEN_NETIF_CTRL_STATUS_SUCCESS; /* provisional: settle decides */
}

/* Answer @req into a new response of @b, or plan its copy. */
static void handle(struct engine_ctrl *c, struct engine_ctrl_batch *b,
		   const struct xen_netif_ctrl_request *req)
{
	struct xen_netif_ctrl_response *r = &b->rsps[b->nr_rsps++];
	struct engine_hash *h = &b->next;
	uint32_t st = XEN_NETIF_CTRL_STATUS_SUCCESS;

	r->id = req->id;
	r->type = req->type;
	r->data = 0;
	switch (req->type) {
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
		if (req->data[0] == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE ||
		    req->data[0] == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
			h->alg = req->data[0];
		else
			st = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		break;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
		if (h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
			st = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
		else
			r->data = ENGINE_HASH_FLAGS_ALL;
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
		if (req->data[0] & ~(uint32_t)ENGINE_HASH_FLAGS_ALL)
			st = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		else if (h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
			st = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
		else
			h->flags = req->data[0];
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
		if (req->data[1] > ENGINE_HASH_KEY_MAX)
			st = XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
		else if (req->data[1] == 0)
			memset(h->key, 0, sizeof(h->key));
		else
			plan_copy(c, b, req, req->data[0], req->data[1]);
		break;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
		r->data = ENGINE_HASH_MAPPING_MAX;
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
		if (req->data[0] > ENGINE_HASH_MAPPING_MAX) {
			st = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		} else {
			h->size = req->data[0];
			memset(h->mapping, 0, sizeof(h->mapping));
		}
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
		st = set_mapping(c, b, req);
		break;
	default:
		st = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
		break;
	}
	r->status = st;
	if (b->nr_segs == 0) /* a copy's status is counted when it is settled */
		c->stats.status[st]++;
}

int engine_ctrl_process(struct engine_ctrl *c, struct engine_ctrl_batch *b)
{
	RING_IDX prod, cons = c->ring.req_cons;
	unsigned n = 0;

	b->nr_rsps = 0;
	b->nr_segs = 0;
	if (c->fault)
		return -EPROTO;
	/* Our caller's contract: the previous batch is published. */
	assert(c->rsp_published == c->ring.rsp_prod_pvt);
	b->next = c->hash;
	prod = engine_ring_read_idx(&c->ring.sring->req_prod);
	xen_rmb(); /* read requests only after the producer that covers them */
	/* Every earlier request is answered, so a frontend can post a ring's worth at most. */
	if (prod - cons > ENGINE_CTRL_RING_SIZE) {
		c->fault = ENGINE_FAULT_REQ_PROD;
		return -EPROTO;
	}
	while (cons != prod && b->nr_segs == 0) {
		struct xen_netif_ctrl_request req;

		RING_COPY_REQUEST(&c->ring, cons, &req);
		cons++;
		n++;
		handle(c, b, &req);
	}
	c->ring.req_cons = cons;
	c->ring.rsp_prod_pvt = cons;
	c->stats.requests += n;
	return (int)n;
}

/* Validate the staged mapping sub-table; only then copy it into @h. */
static uint32_t settle_mapping(struct engine_ctrl *c, struct engine_ctrl_batch *b)
{
	uint32_t len = b->pending.data[1], off = b->pending.data[2];
	uint32_t entry;

	for (uint32_t i = 0; i < len; i++) {
		memcpy(&entry, b->staging + (size_t)i * sizeof(entry), sizeof(entry));
		if (entry >= b->next.num_queues) {
			c->stats.bad_mapping++;
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		}
	}
	memcpy(&b->next.mapping[off], b->staging, (size_t)len * sizeof(uint32_t));
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

void engine_ctrl_settle(struct engine_ctrl *c, struct engine_ctrl_batch *b)
{
	struct xen_netif_ctrl_response *r;
	uint32_t st;

	if (b->nr_segs == 0)
		return;
	r = &b->rsps[b->pending_rsp];
	if (b->segs[0].status != GNTST_okay) {
		c->stats.copy_failed++;
		st = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	} else if (b->pending.type == XEN_NETIF_CTRL_TYPE_SET_HASH_KEY) {
		/* A new key replaces the old one whole: the octets it leaves out are zero. */
		memset(b->next.key, 0, sizeof(b->next.key));
		memcpy(b->next.key, b->staging, b->pending.data[1]);
		st = XEN_NETIF_CTRL_STATUS_SUCCESS;
	} else {
		st = settle_mapping(c, b);
	}
	r->status = st;
	c->stats.status[st]++;
	b->nr_segs = 0; /* settled once */
}

void engine_ctrl_commit(struct engine_ctrl *c, const struct engine_ctrl_batch *b)
{
	if (memcmp(&c->hash, &b->next, sizeof(c->hash)) == 0)
		return;
	c->hash = b->next;
	c->stats.commits++;
}

bool engine_ctrl_publish(struct engine_ctrl *c, struct engine_ctrl_batch *b)
{
	unsigned n = c->ring.rsp_prod_pvt - c->rsp_published;

	if (n == 0) /* nothing consumed, or published already */
		return false;
	assert(n == b->nr_rsps);
	for (unsigned i = 0; i < n; i++)
		memcpy(RING_GET_RESPONSE(&c->ring, c->rsp_published + i), &b->rsps[i],
		       sizeof(b->rsps[i]));
	c->stats.batches++;
	return engine_ring_publish(&c->ring.sring->rsp_prod, &c->ring.sring->rsp_event,
				   &c->rsp_published, c->ring.rsp_prod_pvt);
}

bool engine_ctrl_complete(struct engine_ctrl *c, struct engine_ctrl_batch *b)
{
	engine_ctrl_settle(c, b);
	engine_ctrl_commit(c, b);
	return engine_ctrl_publish(c, b);
}

bool engine_ctrl_more(struct engine_ctrl *c)
{
	RING_IDX prod;

	if (c->fault)
		return false;
	prod = engine_ring_arm(&c->ring.sring->req_event, &c->ring.sring->req_prod,
			       c->ring.req_cons + 1);
	return prod != c->ring.req_cons;
}
