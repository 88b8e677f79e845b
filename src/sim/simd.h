/* SPDX-License-Identifier: MIT */
/* simd.h - xnb-simd's internal modules: the domain registry and event channels. */
/*
 * Theory of operation: simd.c owns the event loop and the connections; a
 * registered connection is one process of a struct simd_dom in the registry
 * (simd_dom.c), which also owns the shared domain table of generations. A
 * guest is exactly one connection. Domain 0 may be several processes at once
 * (a backend supervisor and its workers, as many dom0 processes each open
 * the Xen devices on real Xen): the first REGISTER for domid 0 creates it,
 * later ones attach to it, and it dies when its last process goes. Event
 * channels (simd_evtchn.c) are per-domain port arrays with Xen's states, each
 * port owned by the event-channel handle that bound it, and each handle owned
 * by the connection that opened it: only that process may use it, and its
 * handles (so its ports) are closed when that process goes, as the Linux
 * evtchn device does when a process closes it. simd does not deliver
 * notifications: a bound pair of ports is a socketpair between the two
 * owners (simd_proto.h), which simd makes, hands out and revokes.
 */
#ifndef XNB_SIM_SIMD_H
#define XNB_SIM_SIMD_H

#include <stdbool.h>
#include <stdint.h>

#include "simd_proto.h"

struct simd_evt_handle;
struct simd_conn;  /* simd.c's connection: only compared, never dereferenced here */

/* One event-channel port, in its domain's port array. */
struct simd_evt_port {
	uint8_t state;     /* EVTCHNSTAT_closed / _unbound / _interdomain */
	uint16_t rdom;     /* unbound: allowed remote; interdomain: peer */
	uint32_t rport;    /* interdomain: peer's port */
	uint32_t inc;      /* incarnation, from the handle, at alloc / bind */
	uint32_t end_id;   /* the handle's id of the port's end */
	int end;           /* simd's copy of the port's end of its channel (to
	                    * revoke it), or of a revoked one still kept; or -1 */
	bool kept;         /* end not sent to the owner yet: no room */
	struct simd_evt_handle *h;  /* the handle that bound it */
};

struct simd_evt_handle {
	struct simd_evt_handle *next;
	uint32_t id;
	const struct simd_conn *owner;  /* the process that opened it */
	struct simd_dom *dom;
	int ep;            /* simd's copy of the handle's epoll instance */
	int ev;            /* simd's end of the event socket (send only) */
	uint32_t *shared;  /* its page the client maps read-only: the kept count */
	uint32_t next_inc; /* incarnation of its next port */
	uint32_t next_end; /* id of its next end */
	unsigned kept;     /* its ports with a kept end */
	bool waiting;      /* ev is in the domains' evt_ep for EPOLLOUT */
};

struct simd_dom {
	uint16_t domid;
	int mem_fd, gt_fd;
	unsigned pages, grants;       /* of the first registrant's memfds */
	unsigned procs;               /* connections (processes) attached */
	struct simd_evt_port *ports;  /* SIMD_MAX_PORTS entries */
	struct simd_evt_handle *handles;
	uint32_t next_handle;
};

struct simd_doms {
	struct simd_dom *dom[SIMD_MAX_DOMS];
	uint32_t *gen;     /* the shared domain table */
	int gen_fd;
	int evt_ep;        /* epoll: event sockets with kept ends, for EPOLLOUT */
	unsigned rover;    /* next fresh guest domid to try */
};

/** simd_doms_init() - empty registry and its domain table memfd. 0 or -errno. */
int simd_doms_init(struct simd_doms *d);

/** simd_doms_fini() - release every domain and the table. */
void simd_doms_fini(struct simd_doms *d);

/**
 * simd_dom_register() - add a domain, or one more process of a live dom0.
 * @want:     domid wanted (0 = dom0) or SIMD_ANY for a fresh guest id
 * @mem_fd:   its memory memfd (sealed); owned by the registry on success
 * @gt_fd:    its grant table memfd (sealed); likewise
 * @attached: set to true when @want is 0 and dom0 was already alive: the
 *            caller is now another process of it (same generation) and both
 *            memfds have been closed, since dom0's memory and grant table
 *            stay the first registrant's
 *
 * Every successful call must be matched by one simd_dom_detach().
 * Return: the domain, or NULL + errno (EEXIST guest domid taken, ENOSPC
 * none free, EINVAL bad domid or memfds).
 */
struct simd_dom *simd_dom_register(struct simd_doms *d, uint32_t want, int mem_fd, int gt_fd,
				   bool *attached);

/**
 * simd_dom_detach() - a process of dom goes: close the event-channel handles
 * it opened (peers' ends of their ports revert to unbound), and release the
 * domain if it was the last one.
 * Return: true if the domain died (and dom is freed).
 */
bool simd_dom_detach(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner);

/** simd_dom_find() - the live domain with that domid, or NULL. */
struct simd_dom *simd_dom_find(struct simd_doms *d, uint32_t domid);

/**
 * simd_dom_release() - domain death: mark it dead in the domain table, close
 * its event channels (peers' ends revert to unbound), free everything.
 */
void simd_dom_release(struct simd_doms *d, struct simd_dom *dom);

/*
 * Handle-based operations take the asking process (@owner) and the handle
 * id; a handle id that exists but was opened by another process of the same
 * domain gives -EBADF (one-way ops drop the request), an unknown one -EINVAL.
 */

/**
 * simd_evtchn_open() - a new event-channel handle of dom, owned by @owner.
 * @id:     receives its id
 * @ep:     receives its epoll instance, to pass on (simd keeps it)
 * @evs:    receives the client's end of its event socket, to pass on
 * @shared: receives the memfd of its shared page, to pass on
 * The caller closes @evs and @shared after sending.
 * Return: 0, -EMFILE (owner has SIMD_MAX_EVTCHN_HANDLES), or -errno.
 */
int simd_evtchn_open(struct simd_dom *dom, const struct simd_conn *owner, uint32_t *id,
		     int *ep, int *evs, int *shared);

/** simd_evtchn_close() - unbind all of a handle's ports and free it. 0 or -errno. */
int simd_evtchn_close(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		      uint32_t id);

/**
 * simd_evtchn_alloc_unbound() - EVTCHNOP_alloc_unbound.
 * @inc: receives the port's incarnation
 * Return: the port, or -errno.
 */
int simd_evtchn_alloc_unbound(struct simd_dom *dom, const struct simd_conn *owner, uint32_t id,
			      uint32_t rdom, uint32_t *inc);

/**
 * simd_evtchn_bind() - EVTCHNOP_bind_interdomain: make the channel, send the
 * remote port's owner its end (or keep it), and set the new port pending.
 * @inc:    receives the new port's incarnation
 * @end_id: receives the id of the new port's end
 * @end:    receives the new port's end of the channel, to pass on (simd
 *          keeps it)
 * Return: the local port, or -errno.
 */
int simd_evtchn_bind(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		     uint32_t id, uint32_t rdom, uint32_t rport, uint32_t *inc, uint32_t *end_id,
		     int *end);

/** simd_evtchn_unbind() - EVTCHNOP_close of a port this handle bound. 0 or -errno. */
int simd_evtchn_unbind(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		       uint32_t id, uint32_t port);

/** simd_evtchn_status() - EVTCHNOP_status: out[0] state, out[1] rdom, out[2] rport. */
int simd_evtchn_status(struct simd_dom *dom, uint32_t port, uint32_t out[3]);

/**
 * simd_evtchn_run() - evt_ep is readable: send kept ends to the event
 * sockets that have room again.
 */
void simd_evtchn_run(struct simd_doms *d);

/**
 * simd_evtchn_flush() - the handle's owner has emptied its event socket and
 * wants its kept ends now. Return: how many are still kept, or -errno.
 */
int simd_evtchn_flush(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		      uint32_t id);

/** simd_evtchn_ports_init() - a new domain's port array: every port closed. */
void simd_evtchn_ports_init(struct simd_evt_port *ports);

/** simd_evtchn_owner_fini() - close every handle (and so port) that owner opened in dom. */
void simd_evtchn_owner_fini(struct simd_doms *d, struct simd_dom *dom,
			    const struct simd_conn *owner);

/** simd_evtchn_dom_fini() - close all of dom's ports and handles. */
void simd_evtchn_dom_fini(struct simd_doms *d, struct simd_dom *dom);

#endif
