/* SPDX-License-Identifier: MIT */
/*
 * front_ctrl.c - frontend control ring: writing requests, checking answers.
 *
 * See front_ctrl.h. What the backend may do, and what we do about it:
 *
 *   rsp_prod past the requests we published   fatal: no honest backend can
 *   an id not outstanding (never sent, or     fatal: it answers a request
 *     answered already)                         we did not make
 *   a type other than the request's           fatal: netif.h says echo it
 *   a status netif.h does not define          passed on, counted
 */
#include "front_ctrl.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

/* Consume-and-recheck rounds per poll (bounded work per wake-up). */
#define CTRL_POLL_ROUNDS 4u

void engine_front_ctrl_init(struct engine_front_ctrl *q, xen_netif_ctrl_sring_t *sring)
{
	memset(q, 0, sizeof(*q));
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&q->ring, sring, ENGINE_PAGE_SIZE);
	for (unsigned i = 0; i < ENGINE_CTRL_RING_SIZE; i++)
		q->free_ids[i] = (uint16_t)(ENGINE_CTRL_RING_SIZE - 1 - i);
	q->nr_free = ENGINE_CTRL_RING_SIZE;
}

unsigned engine_front_ctrl_pending(const struct engine_front_ctrl *q)
{
	return ENGINE_CTRL_RING_SIZE - q->nr_free;
}

int engine_front_ctrl_send(struct engine_front_ctrl *q, uint16_t type, uint32_t d0, uint32_t d1,
			   uint32_t d2)
{
	struct xen_netif_ctrl_request *req;
	uint16_t id;

	if (q->fault)
		return -EPROTO;
	if (q->nr_free == 0 || q->ring.req_prod_pvt - q->ring.rsp_cons >= ENGINE_CTRL_RING_SIZE) {
		q->stats.busy++;
		return -EAGAIN;
	}
	id = q->free_ids[--q->nr_free];
	assert(id < ENGINE_CTRL_RING_SIZE && !q->outstanding[id]);
	q->outstanding[id] = 1;
	q->type[id] = type;
	req = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);
	req->id = id;
	req->type = type;
	req->data[0] = d0;
	req->data[1] = d1;
	req->data[2] = d2;
	q->ring.req_prod_pvt++;
	q->stats.requests++;
	return id;
}

bool engine_front_ctrl_push(struct engine_front_ctrl *q)
{
	if (q->fault || q->ring.req_prod_pvt == q->req_published)
		return false;
	return engine_ring_publish(&q->ring.sring->req_prod, &q->ring.sring->req_event,
				   &q->req_published, q->ring.req_prod_pvt);
}

static int broken(struct engine_front_ctrl *q, enum engine_front_fault f)
{
	q->fault = f;
	return -EPROTO;
}

/* Check the copy @r; on success free its id and fill @out. */
static int take_rsp(struct engine_front_ctrl *q, const struct xen_netif_ctrl_response *r,
		    struct engine_front_ctrl_rsp *out)
{
	if (r->id >= ENGINE_CTRL_RING_SIZE || !q->outstanding[r->id])
		return broken(q, ENGINE_FRONT_FAULT_CTRL_ID);
	if (r->type != q->type[r->id])
		return broken(q, ENGINE_FRONT_FAULT_CTRL_TYPE);
	q->outstanding[r->id] = 0;
	q->free_ids[q->nr_free++] = r->id;
	out->id = r->id;
	out->type = r->type;
	out->status = r->status;
	out->data = r->data;
	if (r->status <= XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW)
		q->stats.status[r->status]++;
	else
		q->stats.unknown_status++;
	return 0;
}

int engine_front_ctrl_poll(struct engine_front_ctrl *q, struct engine_front_ctrl_rsp *out,
			   unsigned max, bool *more)
{
	unsigned done = 0;

	*more = false;
	if (q->fault)
		return -EPROTO;
	if (max > ENGINE_CTRL_RING_SIZE)
		max = ENGINE_CTRL_RING_SIZE;

	for (unsigned round = 0;; round++) {
		RING_IDX prod = engine_ring_read_idx(&q->ring.sring->rsp_prod);
		RING_IDX avail;

		xen_rmb(); /* read responses only after the producer that covers them */
		avail = prod - q->ring.rsp_cons;
		/* Every response answers a request we published, and only one. */
		if (avail > q->req_published - q->ring.rsp_cons)
			return broken(q, ENGINE_FRONT_FAULT_CTRL_RSP_PROD);
		for (; avail > 0 && done < max; avail--, done++) {
			struct xen_netif_ctrl_response rsp;

			RING_COPY_RESPONSE(&q->ring, q->ring.rsp_cons, &rsp);
			if (take_rsp(q, &rsp, &out[done]) != 0)
				return -EPROTO;
			q->ring.rsp_cons++;
			q->stats.responses++;
		}
		if (avail > 0) {
			*more = true; /* out of room: the caller comes back */
			break;
		}
		/* All taken: ask for an event at the next one, and re-check. */
		prod = engine_ring_arm(&q->ring.sring->rsp_event, &q->ring.sring->rsp_prod,
				       q->ring.rsp_cons + 1);
		if (prod == q->ring.rsp_cons)
			break;
		if (done == max || round + 1 == CTRL_POLL_ROUNDS) {
			*more = true;
			break;
		}
	}
	return (int)done;
}
