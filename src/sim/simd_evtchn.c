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
 *
 * simd keeps the states, and makes, hands out and revokes the channels; it
 * never sees a notification. A channel is a SOCK_DGRAM socketpair with one
 * end per port (simd_proto.h): send is a datagram on our end, "pending" is
 * datagrams queued at the peer's end, and the reading process does the
 * Linux evtchn device's masking itself (src/platform/sim.c). At bind, simd
 * sends one datagram toward the binder (the new port starts pending),
 * registers the remote end in its owner's epoll instance and sends it on
 * that handle's event socket, and only then answers the binder with the
 * other end: by the time the binder can tell anyone it is bound, the other
 * side hears of its first notification without asking simd. Closing either
 * port, however it happens (EVTCHNOP_close, the handle closed, the process
 * or the domain gone), shuts both ends down for writing (simd keeps a copy
 * of each for that): every later send fails, what was queued stays
 * readable, and, a datagram socket having no end of file, no end becomes
 * readable by it. No datagram can cross from one socketpair to another, so
 * a port's next channel never sees what was sent on its last one.
 *
 * An event socket whose owner does not read it fills up. simd then keeps
 * the end (at most one per port: a newer bind replaces it, carrying its
 * unread datagrams over as one on the new channel, since Xen's pending bit
 * outlives a channel) and sends it when epoll reports room again. A slow or
 * hostile reader thus never makes anyone's bind fail.
 *
 * Handles belong to processes: a domain may be several processes (dom0's
 * supervisor and workers), and like the Linux evtchn device, a handle (with
 * its ports and event socket) is usable only by the process that opened
 * it and is closed when that process goes, while the domain lives on. The
 * ports stay in the domain's one port space, as in Xen, so any process of
 * the domain may query a port's status, but only the owner of the handle
 * that bound it may close it, and only that process holds its end.
 *
 * The one case that needs simd after a bind: a handle that let its event
 * socket fill up. Its shared page shows how many ends simd keeps, and the
 * client asks for them (EVTCHN_FLUSH) when it has read everything else.
 *
 * Descriptors held: two per handle (its epoll instance and event socket),
 * one per interdomain port (its end), one per kept revoked end (at most one
 * per port).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#include "simd.h"

/* An event socket's send buffer (the kernel doubles it): about 170 CHANNEL
 * messages, each with a descriptor in flight, before ends are kept. */
#define EVENT_SOCKET_SNDBUF (1 << 16)

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

static void simd_evt_port_reset(struct simd_evt_port *pt)
{
	memset(pt, 0, sizeof(*pt));
	pt->end = -1;
}

void simd_evtchn_ports_init(struct simd_evt_port *ports)
{
	for (uint32_t p = 0; p < SIMD_MAX_PORTS; p++)
		simd_evt_port_reset(&ports[p]);
}

static int simd_evt_port_alloc(struct simd_dom *dom)
{
	for (uint32_t p = 1; p < SIMD_MAX_PORTS; p++)
		if (dom->ports[p].state == EVTCHNSTAT_closed)
			return (int)p;
	return -ENOSPC;
}

/* One empty datagram on end: a notification of the peer's port. */
static int simd_evt_ping(int end)
{
	return send(end, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) == 0 ? 0 : -errno;
}

/*
 * Send port's owner the port's end: 0, -EAGAIN when it must wait (the
 * socket is full, or the kernel's bound on descriptors in flight from us,
 * ETOOMANYREFS, is reached: both clear as the owner reads), other -errno
 * when the owner is gone.
 */
static int simd_evt_send_end(struct simd_evt_handle *h, uint32_t port)
{
	const struct simd_evt_port *pt = &h->dom->ports[port];
	struct simd_msg m = {
		.op = SIMD_OP_EVTCHN_CHANNEL, .arg = { port, pt->inc, pt->end_id },
	};
	int r = simd_msg_send(h->ev, &m, &pt->end, 1);

	return r == -ETOOMANYREFS ? -EAGAIN : r;
}

/* Have epoll report when h's owner reads its event socket (edge-triggered:
 * a read frees room and descriptors in flight alike). */
static int simd_evt_wait_room(struct simd_doms *d, struct simd_evt_handle *h)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.ptr = h };

	if (h->waiting)
		return 0;
	if (epoll_ctl(d->evt_ep, EPOLL_CTL_ADD, h->ev, &ev) < 0)
		return -errno;
	h->waiting = true;
	return 0;
}

/* Count one more or one fewer kept end of h, where its client sees it. */
static void simd_evt_kept_add(struct simd_evt_handle *h, int delta)
{
	h->kept = (unsigned)((int)h->kept + delta);
	__atomic_store_n(h->shared, h->kept, __ATOMIC_RELEASE);
}

/* Drop simd's copy of a port's end (a kept one goes unsent). */
static void simd_evt_end_close(struct simd_evt_port *pt)
{
	if (pt->end < 0)
		return;
	close(pt->end);
	pt->end = -1;
	if (pt->kept)
		simd_evt_kept_add(pt->h, -1);
	pt->kept = false;
}

/* EVTCHNOP_close of one port (any owner). */
static void simd_evt_port_close(struct simd_doms *d, struct simd_dom *dom, uint32_t port)
{
	struct simd_evt_port *pt = &dom->ports[port];

	if (pt->state == EVTCHNSTAT_interdomain) {
		/* A dying domain is already out of the registry, and a loopback
		 * channel's other port is in dom itself. */
		struct simd_dom *rd = pt->rdom == dom->domid ? dom : simd_dom_find(d, pt->rdom);
		struct simd_evt_port *rp = rd ? &rd->ports[pt->rport] : NULL;

		/* Revoke the channel: no send on either end succeeds from now
		 * on, and what was queued stays readable (Xen leaves a pending
		 * bit set when the remote closes). */
		if (pt->end >= 0)
			shutdown(pt->end, SHUT_WR);
		if (rp && rp->state == EVTCHNSTAT_interdomain && rp->rdom == dom->domid &&
		    rp->rport == port) {
			rp->state = EVTCHNSTAT_unbound;
			rp->rdom = dom->domid;
			rp->rport = 0;
			if (rp->end >= 0)
				shutdown(rp->end, SHUT_WR);
			if (!rp->kept)
				simd_evt_end_close(rp);  /* a kept one still goes to its owner */
		}
	}
	simd_evt_end_close(pt);
	simd_evt_port_reset(pt);
}

int simd_evtchn_open(struct simd_dom *dom, const struct simd_conn *owner, uint32_t *id,
		     int *ep, int *evs, int *shared)
{
	struct simd_evt_handle *h;
	int sv[2] = { -1, -1 }, size = EVENT_SOCKET_SNDBUF, mfd = -1, e;
	unsigned n = 0;

	for (h = dom->handles; h; h = h->next)
		n += h->owner == owner;
	if (n >= SIMD_MAX_EVTCHN_HANDLES)
		return -EMFILE;  /* bounded, so one process cannot exhaust simd's fds */
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->shared = MAP_FAILED;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->ep < 0)
		goto fail;
	/* The shared page: ours to write, the client's to read only. */
	mfd = memfd_create("xnb-simd-evtchn", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || ftruncate(mfd, SIMD_PAGE_SIZE) < 0)
		goto fail;
	h->shared = mmap(NULL, SIMD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (h->shared == MAP_FAILED ||
	    fcntl(mfd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	/* One way: the client can queue nothing (descriptors included) here. */
	shutdown(sv[0], SHUT_RD);
	/* Best effort: a smaller buffer only means ends are kept sooner. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	h->ev = sv[0];
	h->owner = owner;
	h->dom = dom;
	h->next_inc = 1;
	h->next_end = 1;
	/* Ids are per domain, not per process, so one process's id never names
	 * a handle of its own that another process opened. */
	h->id = dom->next_handle++;
	if (dom->next_handle == 0)
		dom->next_handle = 1;
	h->next = dom->handles;
	dom->handles = h;
	*id = h->id;
	*ep = h->ep;
	*evs = sv[1];
	*shared = mfd;
	return 0;
fail:
	e = -errno;
	if (h->shared != MAP_FAILED)
		munmap(h->shared, SIMD_PAGE_SIZE);
	if (mfd >= 0)
		close(mfd);
	if (h->ep >= 0)
		close(h->ep);
	free(h);
	return e;
}

static void simd_evt_handle_free(struct simd_doms *d, struct simd_dom *dom,
				 struct simd_evt_handle *h)
{
	for (uint32_t p = 1; p < SIMD_MAX_PORTS; p++)
		if (dom->ports[p].state != EVTCHNSTAT_closed && dom->ports[p].h == h)
			simd_evt_port_close(d, dom, p);
	if (h->waiting)
		epoll_ctl(d->evt_ep, EPOLL_CTL_DEL, h->ev, NULL);
	close(h->ev);
	close(h->ep);
	munmap(h->shared, SIMD_PAGE_SIZE);
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
			      uint32_t rdom, uint32_t *inc)
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
		.state = EVTCHNSTAT_unbound, .rdom = (uint16_t)rdom, .inc = h->next_inc++,
		.end = -1, .h = h,
	};
	*inc = dom->ports[port].inc;
	return port;
}

int simd_evtchn_bind(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		     uint32_t id, uint32_t rdom, uint32_t rport, uint32_t *inc, uint32_t *end_id,
		     int *end)
{
	struct simd_evt_handle *h, *rh;
	struct simd_dom *rd;
	struct simd_evt_port *rp, old;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
	int port = simd_evt_handle_find(dom, owner, id, &h);
	int sv[2], zero = 0, r;
	char c;

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
	rh = rp->h;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* sv[0] is the binder's end, sv[1] the remote owner's. The smallest
	 * send buffers: a few queued notifications are as good as many. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &zero, sizeof(zero));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &zero, sizeof(zero));
	/* The new port starts pending. */
	r = simd_evt_ping(sv[1]);
	if (r < 0)
		goto fail;
	/* A kept (never sent) end of the remote port's last channel: its
	 * unread notifications stay pending, as one on the new channel. */
	if (rp->kept && recv(rp->end, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0) {
		r = simd_evt_ping(sv[0]);
		if (r < 0)
			goto fail;
	}
	/* Until the owner has read its end from the event socket, this is
	 * what reports the peer's first notification. */
	ev.data.u64 = SIMD_EVT_DATA(rh->next_end, rport) | SIMD_EVT_FIRST;
	if (epoll_ctl(rh->ep, EPOLL_CTL_ADD, sv[1], &ev) < 0) {
		r = -errno;
		goto fail;
	}
	old = *rp;
	rp->end = sv[1];
	rp->end_id = rh->next_end;
	rp->kept = false;
	r = simd_evt_send_end(rh, rport);
	if (r == -EAGAIN) {
		r = simd_evt_wait_room(d, rh);
		if (r < 0) {
			*rp = old;
			goto fail;  /* closing sv[1] also ends its registration */
		}
		rp->kept = true;
		simd_evt_kept_add(rh, 1);
	}
	/* Committed. Any other failure to send: the owner is going (its handle
	 * closes next) and its end has nowhere to go. */
	rh->next_end++;
	if (old.end >= 0) {
		close(old.end);  /* kept and revoked: carried over above */
		if (old.kept)
			simd_evt_kept_add(rh, -1);
	}
	dom->ports[port] = (struct simd_evt_port){
		.state = EVTCHNSTAT_interdomain, .rdom = rd->domid, .rport = rport,
		.inc = h->next_inc++, .end_id = h->next_end++, .end = sv[0], .h = h,
	};
	rp->state = EVTCHNSTAT_interdomain;
	rp->rdom = dom->domid;
	rp->rport = (uint32_t)port;
	*inc = dom->ports[port].inc;
	*end_id = dom->ports[port].end_id;
	*end = sv[0];
	return port;
fail:
	close(sv[0]);
	close(sv[1]);
	return r;
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

/* Send h's kept ends while its event socket takes them. */
static void simd_evt_send_kept(struct simd_doms *d, struct simd_evt_handle *h)
{
	struct simd_evt_port *ports = h->dom->ports;

	for (uint32_t p = 1; p < SIMD_MAX_PORTS && h->kept; p++) {
		struct simd_evt_port *pt = &ports[p];

		if (pt->h != h || !pt->kept)
			continue;
		if (simd_evt_send_end(h, p) == -EAGAIN)
			break;
		/* Sent, or its owner is going. A live channel's end stays for
		 * revoking; a revoked one is done with. */
		pt->kept = false;
		simd_evt_kept_add(h, -1);
		if (pt->state != EVTCHNSTAT_interdomain) {
			close(pt->end);
			pt->end = -1;
		}
	}
	if (h->kept == 0 && h->waiting) {
		epoll_ctl(d->evt_ep, EPOLL_CTL_DEL, h->ev, NULL);
		h->waiting = false;
	}
}

void simd_evtchn_run(struct simd_doms *d)
{
	struct epoll_event evs[16];
	int n = epoll_wait(d->evt_ep, evs, 16, 0);

	for (int i = 0; i < n; i++)
		simd_evt_send_kept(d, evs[i].data.ptr);
}

int simd_evtchn_flush(struct simd_doms *d, struct simd_dom *dom, const struct simd_conn *owner,
		      uint32_t id)
{
	struct simd_evt_handle *h;
	int r = simd_evt_handle_find(dom, owner, id, &h);

	if (r < 0)
		return r;
	simd_evt_send_kept(d, h);
	return (int)h->kept;
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
