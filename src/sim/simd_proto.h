/* SPDX-License-Identifier: MIT */
/* simd_proto.h - wire protocol between the sim platform (src/platform/sim.c) and xnb-simd. */
/*
 * Theory of operation
 * -------------------
 * xnb-simd simulates the parts of Xen that are not plain shared memory: the
 * domain registry, event channels and XenStore. Grant copy and map are done by
 * the asking domain's own platform layer on memory it gets from simd, the way
 * the hypervisor does them on the domain's behalf.
 *
 * Files in the run directory (XNB_SIM_DIR, default /run/xnb-sim):
 *   simd.sock   SOCK_SEQPACKET control socket, one connection per domain
 *   xenstored   the privileged XenStore socket (xs_wire), dom0 tools
 *   simd.pid    pid file, flock()ed by the running simd
 *
 * Messages. Every request and every reply is one struct simd_msg (32 bytes,
 * host byte order) in one SEQPACKET datagram, with up to SIMD_MAX_FDS file
 * descriptors as SCM_RIGHTS. A reply carries op | SIMD_REPLY and rc = 0 or
 * -errno; every request is answered, in order. A malformed request (wrong
 * size, unknown op, op before REGISTER, bad fds) is answered with rc
 * -EBADMSG / -EINVAL / -EPROTO and does not affect anyone else.
 *
 * A connection is one process of a domain. A guest domain is exactly one
 * connection, and closing it is domain death. Domain 0 may be several
 * connections at once (REGISTER of domid 0 while it lives attaches to it:
 * reply arg[1] = 1, same generation, the memfds passed are closed unused, so
 * such a process cannot grant pages of its own); dom0 dies with its last
 * connection. Event-channel handles belong to the connection that opened
 * them: another connection naming one gets -EBADF, and closing a connection
 * closes its handles and so their ports, as EVTCHNOP_close does.
 *
 *   op                   request arg[]              reply arg[] / fds
 *   REGISTER             0 want domid or SIMD_ANY   0 domid, 1 attached (1 =
 *                        fds: memory memfd,         another process of a live
 *                             grant table memfd     dom0)
 *                                                   fds: domain table memfd
 *   PEER                 0 domid                    0 generation, 1 pages,
 *                                                   2 grant entries
 *                                                   fds: grant table, memory
 *   XS_CONNECT           -                          fds: a connected XenStore
 *                                                   socket (guests only;
 *                                                   dom0 uses ./xenstored)
 *   EVTCHN_OPEN          -                          0 handle
 *                                                   fds: the handle's epoll
 *                                                   instance, its event
 *                                                   socket, its shared page
 *                                                   (below)
 *   EVTCHN_CLOSE         0 handle                   -
 *   EVTCHN_ALLOC_UNBOUND 0 handle, 1 remote domid   0 port, 1 incarnation
 *   EVTCHN_BIND          0 handle, 1 remote domid,  0 port, 1 incarnation,
 *                        2 remote port              2 end id
 *                                                   fds: the port's end of
 *                                                   the new channel
 *   EVTCHN_UNBIND        0 handle, 1 port           -
 *   EVTCHN_STATUS        0 port                     0 EVTCHNSTAT_*, 1 remote
 *                                                   domid, 2 remote port
 *   EVTCHN_FLUSH         0 handle                   0 ends still kept
 *
 * Notifications do not go through simd. Each bound pair of ports is a
 * channel: a SOCK_DGRAM socketpair that simd makes at EVTCHN_BIND, one end
 * for each port's owner. A notification is one datagram sent on our end;
 * the peer's port is pending while datagrams are queued at its end, and the
 * owner takes them all at once (they coalesce, as Xen's pending bit does).
 * The ends' send buffers are the minimum, so a few datagrams fill a queue
 * and more sends fail with EAGAIN: already pending. simd sends one datagram
 * toward the binder before handing the ends out (the new port starts
 * pending, as in Xen). It keeps its own copy of both ends while the channel
 * lives and, when either port is closed or its owner goes, shuts both down
 * for writing (SHUT_WR): every later send on either end fails (EPIPE),
 * while what was queued stays readable, and a datagram socket shows no end
 * of file, so the revocation makes neither end readable. No datagram can
 * cross from one socketpair to another, so a port bound again never sees
 * what was sent on its earlier channel.
 *
 * The handle's epoll instance is made by simd, which keeps a copy: the
 * owner of the port that was bound to (the unbound side) must hear of its
 * end as soon as the peer notifies, before it has read it from the event
 * socket. simd registers that end in the handle's epoll instance itself
 * (EPOLLIN | EPOLLONESHOT, data SIMD_EVT_DATA(end id, port) | SIMD_EVT_FIRST)
 * and sends it on the handle's event socket, a SOCK_SEQPACKET socketpair
 * made at EVTCHN_OPEN (simd's end is shut for reading: the client cannot
 * write to it). Both happen before simd answers the binder:
 *   EVTCHN_CHANNEL       0 port, 1 incarnation,     fds: the port's end
 *                        2 end id
 * The event socket is not in the epoll instance: the first report of the
 * end is what tells the owner to read it, so the epoll instance is readable
 * only when a port has something pending. The incarnation is the one
 * returned when the handle allocated or bound the port: a message with an
 * older one (the port was closed, its number maybe reused) is stale and its
 * end must be closed unused. End ids are per handle and unique, and name
 * the end in every report. When the event socket is full (its owner does
 * not read it), simd keeps the end and sends it when the socket drains; a
 * later bind of the same port replaces a kept end, carrying its unread
 * notifications over as one datagram on the new channel (Xen's pending bit
 * outlives a channel). How many ends simd keeps for a handle is the first
 * uint32_t of the handle's shared page (a sealed memfd the client can only
 * map read-only): a client that has emptied its event socket and still
 * sees a count asks for them with EVTCHN_FLUSH, so it never acts on a port
 * whose newest end simd still holds.
 *
 * Shared memory:
 *  - memory memfd: the domain's grantable pages (frame n at offset n * 4096),
 *    created by the domain, sealed against shrink/grow (simd checks), mapped
 *    by peers that copy or map its grants.
 *  - grant table memfd: an array of struct grant_entry_v1, filled by the
 *    domain as a guest kernel does; peers set GTF_reading / GTF_writing with
 *    compare-and-swap on the first 32-bit word (flags, domid) while a copy or
 *    map is in flight, as Xen does. Sealed like the memory.
 *  - domain table memfd (simd's, read-only for domains): uint32_t
 *    generation[SIMD_MAX_DOMS]; odd = the domid is alive. simd increments it
 *    at registration and at death, so a cached peer is valid iff its
 *    generation equals the table's.
 *  - event-channel shared page (simd's, one per handle, read-only for its
 *    client): uint32_t kept, the number of ends simd holds back (above).
 */
#ifndef XNB_SIM_PROTO_H
#define XNB_SIM_PROTO_H

#include <stdint.h>

#define SIMD_DEFAULT_DIR  "/run/xnb-sim"
#define SIMD_SOCK_NAME    "simd.sock"
#define SIMD_XS_SOCK_NAME "xenstored"
#define SIMD_PID_NAME     "simd.pid"

#define SIMD_MAX_DOMS   1024u  /* domids 0 .. SIMD_MAX_DOMS - 1 */
#define SIMD_MAX_PORTS  1024u  /* event-channel ports 1 .. SIMD_MAX_PORTS - 1 */
#define SIMD_MAX_FDS    4u
#define SIMD_MAX_EVTCHN_HANDLES 64u  /* per connection (process) */
#define SIMD_ANY        0xffffffffu  /* REGISTER: any free guest domid */
#define SIMD_PAGE_SIZE  4096u
#define SIMD_MAX_PAGES  (1u << 20)   /* per domain memory: 4 GiB */
#define SIMD_MAX_GRANTS (1u << 16)   /* grant entries per domain */

#define SIMD_REPLY 0x80000000u

enum simd_op {
	SIMD_OP_REGISTER = 1,
	SIMD_OP_PEER,
	SIMD_OP_XS_CONNECT,
	SIMD_OP_EVTCHN_OPEN,
	SIMD_OP_EVTCHN_CLOSE,
	SIMD_OP_EVTCHN_ALLOC_UNBOUND,
	SIMD_OP_EVTCHN_BIND,
	SIMD_OP_EVTCHN_UNBIND,
	SIMD_OP_EVTCHN_STATUS,
	SIMD_OP_EVTCHN_CHANNEL,  /* simd -> handle's event socket only, never a request */
	SIMD_OP_EVTCHN_FLUSH,
	SIMD_OP_MAX
};

/* epoll data of an end simd registers in a handle's epoll instance: the
 * end's id, the port, and a flag telling the report apart from the owner's
 * own registrations of its ends (which use SIMD_EVT_DATA without it). */
#define SIMD_EVT_FIRST 0x80000000u
#define SIMD_EVT_DATA(id, port) ((uint64_t)(id) << 32 | (uint32_t)(port))

struct simd_msg {
	uint32_t op;
	int32_t rc;
	uint32_t arg[6];
};

_Static_assert(sizeof(struct simd_msg) == 32, "simd_msg is 32 bytes on the wire");

/**
 * simd_msg_send() - send one message with optional descriptors.
 * @fd:   connected SOCK_SEQPACKET socket
 * @m:    the message
 * @fds:  descriptors to pass (not closed), may be NULL when nfds is 0
 * @nfds: at most SIMD_MAX_FDS
 *
 * Return: 0, or -errno (-EPIPE when the peer is gone).
 */
int simd_msg_send(int fd, const struct simd_msg *m, const int *fds, unsigned nfds);

/**
 * simd_msg_recv() - receive one message and its descriptors.
 * @fd:   connected SOCK_SEQPACKET socket
 * @m:    receives the message
 * @fds:  receives up to SIMD_MAX_FDS descriptors (close-on-exec)
 * @nfds: receives how many
 *
 * Return: 0; -ECONNRESET at end of stream; -EBADMSG for a datagram of the
 * wrong size or truncated descriptors (any received descriptors closed);
 * -EAGAIN on a non-blocking socket with nothing queued; other -errno.
 */
int simd_msg_recv(int fd, struct simd_msg *m, int *fds, unsigned *nfds);

#endif
