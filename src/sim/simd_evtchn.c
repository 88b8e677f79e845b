/* SPDX-License-Identifier: MIT */
/* simd_evtchn.c - xnb-simd's event channels, with Xen's semantics. */
/*
 * Theory of operation
 * -------------------
 * Each domain has SIMD_MAX_PORTS ports (port 0 is never allocated, as in
 * Xen) in one of three states: closed, unbound (waiting for rdom), and
 * interdomain (connected to rdom:rport). The rules are Xen's
 * (xen/common/event_channel.c):
 *   alloc_unbound(rdom)   lowest free port, state unbound for rdom
 *                         (rdom need not exist; DOMID_SELF = self)
 *   bind(rdom, rport)     -ESRCH if rdom is not alive; -EINVAL unless
 *                         rdom:rport is unbound for us; -ENOSPC when full.
 *                         Both ends become interdomain, and the new local
 *                         port is set pending (Xen does so in case the
 *                         remote notified before the bind)
 *   send(port)            interdomain: set the peer's port pending;
 *                         unbound: silently dropped
 *   close(port)           interdomain: the peer's end reverts to unbound
 *                         (remote = us), as it does on domain death
 * Delivery follows the Linux evtchn device the domain reads through: a port
 * that fires is masked and queued (its bit set in the owning handle's
 * pending bitmap, the handle's eventfd written); a notification while masked
 * only sets pending; unmask redelivers a pending port.
 *
 * Handles belong to processes: a domain may be several processes (dom0's
 * supervisor and workers), and like the Linux evtchn device, a handle (with
 * its ports and pending bitmap) is usable only by the process that opened
 * it and is closed when that process goes, while the domain lives on. The
 * ports stay in the domain's one port space, as in Xen, so any process of
 * the domain may query a port's status, but only the owner of the handle
 * that bound it may send, unmask or close it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#include "simd.h"

#define BITS_BYTES (SIMD_MAX_PORTS / 8)

/* The handle id of owner in dom: 0, -EINVAL unknown, -EBADF another process's. */
static int simd_evt_handle_find(struct simd_dom *dom, const struct simd_conn *owner, uint32_t id,
				struct simd_evt_handle **out)
{
	for (struct simd_evt_handle *h = dom->handles; h; h = h->next) {
		if (h->id != id)
			continue;
		if (h->owner != owner)
			return -EBADF;
		*out = h;
		return 0;
	}
	return -EINVAL;
}

/* Whether the port is bound by a handle that owner opened with this id. */
static bool simd_evt_port_mine(const struct simd_evt_port *pt, const struct simd_conn *owner,
			       uint32_t id)
{
	return pt->state != EVTCHNSTAT_closed && pt->h && pt->h->id == id && pt->h->owner == owner;
}

static void simd_evt_deliver(struct simd_dom *dom, uint32_t port)
{
	struct simd_evt_port *pt = &dom->ports[port];
	uint64_t one = 1;

	if (pt->state != EVTCHNSTAT_interdomain || !pt->h)
		return;
	if (pt->masked) {
		pt->pending = true;
		return;
	}
	pt->masked = true;
	pt->pending = false;
	__atomic_fetch_or(&pt->h->bits[port / 32], 1u << (port % 32), __ATOMIC_RELEASE);
	/* Non-blocking: the counter saturating is harmless, the bit is set. */
	if (write(pt->h->efd, &one, sizeof(one)) < 0) {
		/* nothing to do: the domain polls the bitmap on its next wake-up */
	}
}

static int simd_evt_port_alloc(struct simd_dom *dom)
{
	for (uint32_t p = 1; p < SIMD_MAX_PORTS; p++)
		if (dom->ports[p].state == EVTCHNSTAT_closed)
			return (int)p;
	return -ENOSPC;
}

/* EVTCHNOP_close of one port (any owner). */
static void simd_evt_port_close(struct simd_doms *d, struct simd_dom *dom, uint32_t port)
{
	struct simd_evt_port *pt = &dom->ports[port];

	if (pt->state == EVTCHNSTAT_interdomain) {
		struct simd_dom *rd = simd_dom_find(d, pt->rdom);

		if (rd && rd->ports[pt->rport].state == EVTCHNSTAT_interdomain &&
		    rd->ports[pt->rport].rdom == dom->domid && rd->ports[pt->rport].rport == port) {
			rd->ports[pt->rport].state = EVTCHNSTAT_unbound;
			rd->ports[pt->rport].rdom = dom->domid;
			rd->ports[pt->rport].rport = 0;
		}
	}
	if (pt->h)
		__atomic_fetch_and(&pt->h->bits[port / 32], ~(1u << (port % 32)), __ATOMIC_RELEASE);
	memset(pt, 0, sizeof(*pt));
}

int simd_evtchn_open(struct simd_dom *dom, const struct simd_conn *owner, uint32_t *id,
		     int *efd, int *bits_fd)
{
	struct simd_evt_handle *h;
	unsigned n = 0;
	int e;

	for (h = dom->handles; h; h = h->next)
		n += h->owner == owner;
	if (n >= SIMD_MAX_EVTCHN_HANDLES)
		return -EMFILE;  /* bounded, so one process cannot exhaust simd's fds */
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->bits_fd = memfd_create("xnb-simd-evtchn", MFD_CLOEXEC);
	if (h->efd < 0 || h->bits_fd < 0 || ftruncate(h->bits_fd, SIMD_PAGE_SIZE) < 0)
		goto fail;
	h->bits = mmap(NULL, BITS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, h->bits_fd, 0);
	if (h->bits == MAP_FAILED)
		goto fail;
	h->owner = owner;
	/* Ids are per domain, not per process, so one process's id never names
	 * a handle of its own that another process opened. */
	h->id = dom->next_handle++;
	if (dom->next_handle == 0)
		dom->next_handle = 1;
	h->next = dom->handles;
	dom->handles = h;
	*id = h->id;
	*efd = h->efd;
	*bits_fd = h->bits_fd;
	return 0;
fail:
	e = -errno;
	if (h->efd >= 0)
		close(h->efd);
	if (h->bits_fd >= 0)
		close(h->bits_fd);
	free(h);
	return e;
}

static void simd_evt_handle_free(struct simd_doms *d, struct simd_dom *dom,
				 struct simd_evt_handle *h)
{
	for (uint32_t p = 1; p < SIMD_MAX_PORTS; p++)
		if (dom->ports[p].state != EVTCHNSTAT_closed && dom->ports[p].h == h)
			simd_evt_port_close(d, dom, p);
	munmap(h->bits, BITS_BYTES);
	close(h->efd);
	close(h->bits_fd);
	free(h);
}

int simd_evtchn_close(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		      uint32_t id)
{
	struct simd_evt_handle **pp, *h;
	int r = simd_evt_handle_find(dom, owner, id, &h);

	if (r < 0)
		return r;
	for (pp = &dom->handles; *pp != h; pp = &(*pp)->next)
		;
	*pp = h->next;
	simd_evt_handle_free(d, dom, h);
	return 0;
}

int simd_evtchn_alloc_unbound(struct simd_dom *dom, const struct simd_conn *owner, uint32_t id,
			      uint32_t rdom)
{
	struct simd_evt_handle *h;
	int port = simd_evt_handle_find(dom, owner, id, &h);

	if (port < 0)
		return port;
	if (rdom == DOMID_SELF)
		rdom = dom->domid;
	if (rdom > UINT16_MAX)
		return -EINVAL;
	port = simd_evt_port_alloc(dom);
	if (port < 0)
		return port;
	dom->ports[port] = (struct simd_evt_port){
		.state = EVTCHNSTAT_unbound, .rdom = (uint16_t)rdom, .h = h,
	};
	return port;
}

int simd_evtchn_bind(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		     uint32_t id, uint32_t rdom, uint32_t rport)
{
	struct simd_evt_handle *h;
	struct simd_dom *rd;
	struct simd_evt_port *rp;
	int port = simd_evt_handle_find(dom, owner, id, &h);

	if (port < 0)
		return port;
	if (rdom == DOMID_SELF)
		rdom = dom->domid;
	rd = simd_dom_find(d, rdom);
	if (!rd)
		return -ESRCH;
	if (rport == 0 || rport >= SIMD_MAX_PORTS)
		return -EINVAL;
	rp = &rd->ports[rport];
	if (rp->state != EVTCHNSTAT_unbound || rp->rdom != dom->domid)
		return -EINVAL;
	port = simd_evt_port_alloc(dom);
	if (port < 0)
		return port;
	dom->ports[port] = (struct simd_evt_port){
		.state = EVTCHNSTAT_interdomain, .rdom = rd->domid, .rport = rport, .h = h,
	};
	rp->state = EVTCHNSTAT_interdomain;
	rp->rdom = dom->domid;
	rp->rport = (uint32_t)port;
	simd_evt_deliver(dom, (uint32_t)port);
	return port;
}

int simd_evtchn_unbind(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		       uint32_t id, uint32_t port)
{
	struct simd_evt_handle *h;
	int r = simd_evt_handle_find(dom, owner, id, &h);

	if (r < 0)
		return r;
	if (port == 0 || port >= SIMD_MAX_PORTS)
		return -EINVAL;
	if (dom->ports[port].state == EVTCHNSTAT_closed || dom->ports[port].h != h)
		return -ENOTCONN;
	simd_evt_port_close(d, dom, port);
	return 0;
}

int simd_evtchn_status(struct simd_dom *dom, uint32_t port, uint32_t out[3])
{
	const struct simd_evt_port *pt;

	if (port >= SIMD_MAX_PORTS)
		return -EINVAL;
	pt = &dom->ports[port];
	out[0] = pt->state;
	out[1] = pt->state == EVTCHNSTAT_closed ? 0 : pt->rdom;
	out[2] = pt->state == EVTCHNSTAT_interdomain ? pt->rport : 0;
	return 0;
}

void simd_evtchn_notify(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
			uint32_t id, uint32_t port)
{
	struct simd_evt_port *pt;
	struct simd_dom *rd;

	if (port == 0 || port >= SIMD_MAX_PORTS)
		return;
	pt = &dom->ports[port];
	if (pt->state != EVTCHNSTAT_interdomain || !simd_evt_port_mine(pt, owner, id))
		return;
	rd = simd_dom_find(d, pt->rdom);
	if (rd)
		simd_evt_deliver(rd, pt->rport);
}

void simd_evtchn_unmask(struct simd_dom *dom, const struct simd_conn *owner, uint32_t id,
			uint32_t port)
{
	struct simd_evt_port *pt;

	if (port == 0 || port >= SIMD_MAX_PORTS)
		return;
	pt = &dom->ports[port];
	if (!simd_evt_port_mine(pt, owner, id))
		return;
	pt->masked = false;
	if (pt->pending)
		simd_evt_deliver(dom, port);
}

void simd_evtchn_owner_fini(struct simd_doms *d, struct simd_dom *dom,
			    const struct simd_conn *owner)
{
	struct simd_evt_handle **pp = &dom->handles, *h;

	while ((h = *pp)) {
		if (h->owner != owner) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		simd_evt_handle_free(d, dom, h);  /* closes its ports as EVTCHNOP_close */
	}
}

void simd_evtchn_dom_fini(struct simd_doms *d, struct simd_dom *dom)
{
	for (uint32_t p = 1; p < SIMD_MAX_PORTS; p++)
		if (dom->ports[p].state != EVTCHNSTAT_closed)
			simd_evt_port_close(d, dom, p);
	while (dom->handles) {
		struct simd_evt_handle *h = dom->handles;

		dom->handles = h->next;
		simd_evt_handle_free(d, dom, h);
	}
}
