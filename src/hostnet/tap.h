/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the host side of a vif: a TAP device with virtio-net headers.
 *
 * Named vif<domid>.<devid> like the kernel netback's interfaces, so Xen's
 * hotplug scripts (vif-bridge, vif-route) handle it unchanged. xnbd's
 * supervisor makes its vifs' TAPs persistent, so that the device, its
 * bridge port and its addresses outlive any process (a worker's restart,
 * the supervisor's own), and removes them when the toolstack removes the
 * vif; the netfront's TAP is not persistent: closing its fd removes it.
 */
#ifndef XNB_HOSTNET_TAP_H
#define XNB_HOSTNET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vnet.h"

/* The MAC Linux netback gives its vifs: guests' MACs never collide with it. */
#define TAP_VIF_MAC { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff }
/* Largest MTU a scatter-gather frontend can take (Linux netback's bound). */
#define TAP_MTU_MAX_SG (65535 - 18)
#define TAP_MTU_DEFAULT 1500

/* Frames one tap_batch_flush() writes with a single system call at most. */
#define TAP_BATCH_MAX 256

struct tap_batch;

struct tap {
	int fd;
	char name[16]; /* IFNAMSIZ */
	struct tap_batch *batch; /* io_uring state for batched writes, or NULL */
};

/*
 * tap_open() - create TAP @name (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, plus
 * IFF_MULTI_QUEUE when @multi_queue), non-blocking, with a plain 10-byte
 * virtio-net header, the vif MAC, and no offloads yet.
 * Returns 0 or -errno.
 */
int tap_open(struct tap *t, const char *name, int multi_queue);

/*
 * tap_attach_fd() - build @t around @fd, a TAP fd opened by tap_open() in
 * another process (the supervisor) and received over a socket: no
 * TUNSETIFF, the fd's flags (O_NONBLOCK) kept, the batch and its io_uring
 * ring created here, so the worker calls it before entering its sandbox.
 * @name (NULL: the kernel's name for it) is what logs call it; tap_set_mtu/
 * mac/up need a socket and are for the supervisor. @fd must be a TAP with
 * IFF_NO_PI and IFF_VNET_HDR (-EINVAL otherwise). On success @t owns @fd
 * (tap_close() closes it); on failure the caller still does.
 * Returns 0 or -errno.
 */
int tap_attach_fd(struct tap *t, int fd, const char *name);

/* tap_close() - close the fd; the kernel removes a non-persistent device with it. */
void tap_close(struct tap *t);

/*
 * tap_open_persistent() - tap_open() a device that outlives its fds
 * (TUNSETPERSIST), or attach to it again if it exists already (its MAC is
 * then left alone). For a holder that never moves frames: no batch state.
 * Returns 0 or -errno.
 */
int tap_open_persistent(struct tap *t, const char *name);

/*
 * tap_open_persistent_queues() - a persistent multi-queue TAP (IFF_MULTI_QUEUE)
 * with up to @max queue fds in @queues[0..]: the holder of a vif that may
 * be served by several threads. A device an older build made single-queue
 * is kept, with its one fd. Returns how many fds it opened (>= 1), or -errno.
 */
int tap_open_persistent_queues(struct tap *queues, unsigned max, const char *name);

/*
 * tap_set_queue_enabled() - attach or detach this queue fd of a multi-queue
 * TAP (TUNSETQUEUE): the kernel steers frames only to attached queues, so
 * a vif detaches the queues its frontend does not use. Asking for the state
 * it has already (or on a single-queue TAP) is no error. 0 or -errno.
 */
int tap_set_queue_enabled(struct tap *t, bool enabled);

/* tap_remove() - end persistence and close: the device goes with the last fd. */
void tap_remove(struct tap *t);

/* tap_remove_by_name() - remove a persistent TAP left behind. 0 or -errno. */
int tap_remove_by_name(const char *name);

/*
 * tap_detached() - @t's fd no longer reaches a device: the host deleted it
 * (ip link del), and every read, write and poll of the fd fails (EBADFD).
 */
bool tap_detached(const struct tap *t);

/* tap_join_bridge() - make @t a port of Linux bridge @bridge (SIOCBRADDIF). 0 or -errno. */
int tap_join_bridge(const struct tap *t, const char *bridge);

/* tap_set_offloads() - what the kernel may hand us (TUNSETOFFLOAD). */
int tap_set_offloads(struct tap *t, const struct vnet_offloads *o);

/*
 * tap_set_carrier() - the link's carrier (TUNSETCARRIER), not its admin state:
 * a vif whose guest is gone or stalled has no carrier but keeps its
 * addresses and routes (ip link set down would drop IPv6 addresses and
 * vif-route's routes). 0 or -errno.
 */
int tap_set_carrier(const struct tap *t, bool on);

/* tap_get_mtu() - the device's MTU now, or -errno. */
int tap_get_mtu(const struct tap *t);

/* tap_set_mtu() / tap_set_up() / tap_set_mac() - interface settings via an ioctl socket. */
int tap_set_mtu(const struct tap *t, unsigned mtu);
int tap_set_mac(const struct tap *t, const uint8_t mac[6]);
int tap_set_up(const struct tap *t, int up);

/*
 * tap_send() - write one frame with its metadata (one writev: header + data).
 * Returns 0, -EAGAIN when the TAP's queue is full, or -errno.
 */
int tap_send(struct tap *t, const struct engine_pkt_meta *m, const void *frame, size_t len);

/*
 * Batched writes: a vif's guest-TX batch reaches the TAP with one
 * io_uring_enter() instead of one writev() per frame, where io_uring is
 * available (in a PV dom0 every system call is a trip through Xen).
 * Without it, flush falls back to one writev() per frame.
 *
 * tap_batch_add() queues a frame (its bytes must stay put until the flush),
 * tap_batch_flush() writes all queued frames and stores each one's result
 * (0 or -errno) in @results, in the order they were added. Returns the
 * number of frames that failed. A full batch is flushed by the caller.
 */
void tap_batch_add(struct tap *t, const struct engine_pkt_meta *m, const void *frame, size_t len);
unsigned tap_batch_count(const struct tap *t);
unsigned tap_batch_flush(struct tap *t, int *results);

/*
 * tap_recv() - read one frame into @buf (@size bytes) and its metadata.
 * Returns the frame length, -EAGAIN when nothing is queued, -EOPNOTSUPP for
 * a frame whose offloads netif cannot carry (read and discarded), or -errno.
 */
long tap_recv(struct tap *t, struct engine_pkt_meta *m, void *buf, size_t size);

/*
 * Batched reads: one io_uring_enter() reads up to TAP_BATCH_MAX frames, each
 * as a non-blocking read (RWF_NOWAIT), so every read either returns a frame
 * or -EAGAIN before the call returns and none is left pending. Without
 * io_uring (or if the kernel refuses RWF_NOWAIT on a TAP) it is a loop of
 * tap_recv() that stops at the first -EAGAIN.
 *
 * tap_recv_batch() fills frames[i].len for i < @n with what tap_recv() would
 * have returned for that read, in the order the frames were queued. Returns
 * how many entries it filled (the loop stops early at -EAGAIN; io_uring
 * fills all @n).
 */
struct tap_rx_frame {
	void *buf;
	size_t size;
	struct engine_pkt_meta meta;
	long len;
};
unsigned tap_recv_batch(struct tap *t, struct tap_rx_frame *frames, unsigned n);

#ifdef XNB_HAVE_URING
/*
 * For tests only: the TAP's io_uring ring, or NULL without one. It is
 * restricted (readv/writev on fixed file 0, the TAP; no register operations):
 * tests check that it refuses anything else.
 */
struct io_uring;
struct io_uring *tap_test_ring(struct tap *t);
#endif

#endif
