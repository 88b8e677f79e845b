/* SPDX-License-Identifier: MIT */
/*
 * front_ctrl.h - the netif control ring, frontend side: hash configuration
 * requests out, the backend's answers in.
 *
 * Theory of operation. The frontend owns the control ring page: the caller
 * allocates and grants it (ctrl-ring-ref), binds an event channel
 * (event-channel-ctrl), and hands the page to engine_front_ctrl_init(),
 * which initialises it. Each request gets an id the engine picks from a
 * table of ENGINE_CTRL_RING_SIZE (so an id is outstanding at most once);
 * engine_front_ctrl_send() writes one privately, engine_front_ctrl_push()
 * publishes what was written, engine_front_ctrl_poll() hands back answers
 * by id, in whatever order the backend gives them (netif.h allows any).
 *
 * SET_HASH_KEY and SET_HASH_MAPPING name a page by grant: the caller puts
 * the key (bytes) or the table (uint32_t queue numbers, our byte order) at
 * the start of a page, grants it (read-only is enough) and keeps the grant
 * until that request's answer is polled.
 *
 * The backend is untrusted: rsp_prod is bounded by what we published, each
 * response is copied out of the ring once, and its id must be one we have
 * outstanding with the same type. A backend that breaks that gets the ring
 * marked with an engine_front_fault and every later call refuses work. A
 * status netif.h does not define is passed on (and counted): the caller
 * treats anything but SUCCESS as failure.
 */
#ifndef XNB_ENGINE_FRONT_CTRL_H
#define XNB_ENGINE_FRONT_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "ctrl.h"
#include "front.h"

/* One answer, as the backend gave it (the copy, not the ring's bytes). */
struct engine_front_ctrl_rsp {
	uint16_t id;
	uint16_t type;     /* XEN_NETIF_CTRL_TYPE_* of the request */
	uint32_t status;   /* XEN_NETIF_CTRL_STATUS_*, or a value netif.h lacks */
	uint32_t data;
};

struct engine_front_ctrl_stats {
	uint64_t requests, responses;
	uint64_t status[4];        /* per XEN_NETIF_CTRL_STATUS_* */
	uint64_t unknown_status;   /* statuses netif.h does not define */
	uint64_t busy;             /* sends refused with -EAGAIN */
};

struct engine_front_ctrl {
	xen_netif_ctrl_front_ring_t ring;  /* private req_prod_pvt / rsp_cons */
	RING_IDX req_published;            /* what we last wrote to sring->req_prod */
	unsigned nr_free;
	uint16_t free_ids[ENGINE_CTRL_RING_SIZE];  /* a stack of free ids */
	uint16_t type[ENGINE_CTRL_RING_SIZE];      /* type sent under each outstanding id */
	uint8_t outstanding[ENGINE_CTRL_RING_SIZE];
	struct engine_front_ctrl_stats stats;
	enum engine_front_fault fault;     /* set once; then the ring does nothing */
};

/* engine_front_ctrl_init() - initialise the shared page @sring (ours) and attach @q to it. */
void engine_front_ctrl_init(struct engine_front_ctrl *q, xen_netif_ctrl_sring_t *sring);

/*
 * engine_front_ctrl_send() - write a request of @type with @d0..@d2
 * (netif.h's data[]) into the ring, unpublished. Returns its id (>= 0),
 * -EAGAIN when the ring is full of requests not yet answered (poll first),
 * or -EPROTO when the ring is broken.
 */
int engine_front_ctrl_send(struct engine_front_ctrl *q, uint16_t type, uint32_t d0, uint32_t d1,
			   uint32_t d2);

/* engine_front_ctrl_push() - publish the requests written; true: notify the backend. */
bool engine_front_ctrl_push(struct engine_front_ctrl *q);

/*
 * engine_front_ctrl_poll() - take up to @max answers (capped at the ring
 * size) into @out, freeing their ids; when all are taken, re-arm rsp_event
 * with the final check. *@more says to poll again without waiting for an
 * event. Returns the number in @out, or -EPROTO when the backend broke the
 * protocol (@q->fault says how).
 */
int engine_front_ctrl_poll(struct engine_front_ctrl *q, struct engine_front_ctrl_rsp *out,
			   unsigned max, bool *more);

/* engine_front_ctrl_pending() - requests sent and not yet answered. */
unsigned engine_front_ctrl_pending(const struct engine_front_ctrl *q);

/* The requests a netfront makes, by name (netif.h "Control messages"). */
static inline int engine_front_ctrl_set_algorithm(struct engine_front_ctrl *q, uint32_t alg)
{
	return engine_front_ctrl_send(q, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, alg, 0, 0);
}

static inline int engine_front_ctrl_get_flags(struct engine_front_ctrl *q)
{
	return engine_front_ctrl_send(q, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
}

static inline int engine_front_ctrl_set_flags(struct engine_front_ctrl *q, uint32_t flags)
{
	return engine_front_ctrl_send(q, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, flags, 0, 0);
}

/* @gref: a page holding the @len key octets from offset 0. */
static inline int engine_front_ctrl_set_key(struct engine_front_ctrl *q, uint32_t gref,
					    uint32_t len)
{
	return engine_front_ctrl_send(q, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, gref, len, 0);
}

static inline int engine_front_ctrl_get_mapping_size(struct engine_front_ctrl *q)
{
	return engine_front_ctrl_send(q, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0);
}

static inline int engine_front_ctrl_set_mapping_size(struct engine_front_ctrl *q, uint32_t size)
{
	return engine_front_ctrl_send(q, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, size, 0, 0);
}

/* @gref: a page holding @len uint32_t queue numbers from offset 0, for entries @off... */
static inline int engine_front_ctrl_set_mapping(struct engine_front_ctrl *q, uint32_t gref,
						uint32_t len, uint32_t off)
{
	return engine_front_ctrl_send(q, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, gref, len, off);
}

#endif
