/* SPDX-License-Identifier: MIT */
/* simd.h - xnb-simd's internal modules: the domain registry and event channels. */
/*
 * Theory of operation: simd.c owns the event loop and the connections; every
 * registered connection is one struct simd_dom in the registry (simd_dom.c),
 * which also owns the shared domain table of generations. Event channels
 * (simd_evtchn.c) are per-domain port arrays with Xen's states, each port
 * owned by the event-channel handle that bound it; delivering a port sets
 * its bit in the handle's pending bitmap and writes the handle's eventfd.
 */
#ifndef XNB_SIM_SIMD_H
#define XNB_SIM_SIMD_H

#include <stdbool.h>
#include <stdint.h>

#include "simd_proto.h"

struct simd_evt_handle;

/* One event-channel port, in its domain's port array. */
struct simd_evt_port {
	uint8_t state;     /* EVTCHNSTAT_closed / _unbound / _interdomain */
	bool masked;       /* fired and not yet unmasked */
	bool pending;      /* notified while masked */
	uint16_t rdom;     /* unbound: allowed remote; interdomain: peer */
	uint32_t rport;    /* interdomain: peer's port */
	struct simd_evt_handle *h;  /* the handle that bound it */
};

struct simd_evt_handle {
	struct simd_evt_handle *next;
	uint32_t id;
	int efd;           /* eventfd, also held by the domain */
	int bits_fd;       /* pending bitmap memfd */
	uint32_t *bits;
};

struct simd_dom {
	uint16_t domid;
	int mem_fd, gt_fd;
	unsigned pages, grants;
	struct simd_evt_port *ports;  /* SIMD_MAX_PORTS entries */
	struct simd_evt_handle *handles;
	uint32_t next_handle;
};

struct simd_doms {
	struct simd_dom *dom[SIMD_MAX_DOMS];
	uint32_t *gen;     /* the shared domain table */
	int gen_fd;
	unsigned rover;    /* next fresh guest domid to try */
};

/** simd_doms_init() - empty registry and its domain table memfd. 0 or -errno. */
int simd_doms_init(struct simd_doms *d);

/** simd_doms_fini() - release every domain and the table. */
void simd_doms_fini(struct simd_doms *d);

/**
 * simd_dom_register() - add a domain.
 * @want:   domid wanted (0 = dom0) or SIMD_ANY for a fresh guest id
 * @mem_fd: its memory memfd (sealed); owned by the registry on success
 * @gt_fd:  its grant table memfd (sealed); likewise
 *
 * Return: the domain, or NULL + errno (EEXIST domid taken, ENOSPC none
 * free, EINVAL bad domid or memfds).
 */
struct simd_dom *simd_dom_register(struct simd_doms *d, uint32_t want, int mem_fd, int gt_fd);

/** simd_dom_find() - the live domain with that domid, or NULL. */
struct simd_dom *simd_dom_find(struct simd_doms *d, uint32_t domid);

/**
 * simd_dom_release() - domain death: mark it dead in the domain table, close
 * its event channels (peers' ends revert to unbound), free everything.
 */
void simd_dom_release(struct simd_doms *d, struct simd_dom *dom);

/**
 * simd_evtchn_open() - a new event-channel handle for dom.
 * @id, @efd, @bits_fd: receive its id and the descriptors to pass on (still
 * owned by simd).
 * Return: 0 or -errno.
 */
int simd_evtchn_open(struct simd_dom *dom, uint32_t *id, int *efd, int *bits_fd);

/** simd_evtchn_close() - unbind all of a handle's ports and free it. 0, -EINVAL. */
int simd_evtchn_close(struct simd_doms *d, struct simd_dom *dom, uint32_t id);

/** simd_evtchn_alloc_unbound() - EVTCHNOP_alloc_unbound: a port, or -errno. */
int simd_evtchn_alloc_unbound(struct simd_dom *dom, uint32_t id, uint32_t rdom);

/** simd_evtchn_bind() - EVTCHNOP_bind_interdomain: the local port, or -errno. */
int simd_evtchn_bind(struct simd_doms *d, struct simd_dom *dom, uint32_t id, uint32_t rdom,
		     uint32_t rport);

/** simd_evtchn_unbind() - EVTCHNOP_close of a port this handle bound. 0 or -errno. */
int simd_evtchn_unbind(struct simd_doms *d, struct simd_dom *dom, uint32_t id, uint32_t port);

/** simd_evtchn_status() - EVTCHNOP_status: out[0] state, out[1] rdom, out[2] rport. */
int simd_evtchn_status(struct simd_dom *dom, uint32_t port, uint32_t out[3]);

/** simd_evtchn_notify() - EVTCHNOP_send; invalid requests are dropped. */
void simd_evtchn_notify(struct simd_doms *d, struct simd_dom *dom, uint32_t id, uint32_t port);

/** simd_evtchn_unmask() - unmask a port, redelivering it if it is pending. */
void simd_evtchn_unmask(struct simd_dom *dom, uint32_t id, uint32_t port);

/** simd_evtchn_dom_fini() - close all of dom's ports and handles. */
void simd_evtchn_dom_fini(struct simd_doms *d, struct simd_dom *dom);

#endif
