/* SPDX-License-Identifier: MIT */
/* tap.c - TAP devices with virtio-net headers for the host side of a vif. */
#include "tap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_arp.h>
#include <linux/sockios.h>
#include <linux/if_tun.h>

#ifdef XNB_HAVE_URING
#include <liburing.h>
#endif

/* Queued frames: headers and iovecs live here until the flush. */
struct tap_batch {
#ifdef XNB_HAVE_URING
	struct io_uring ring;
	bool ring_ok;
#endif
	bool read_nowait_ok; /* the kernel takes RWF_NOWAIT reads on a TAP */
	unsigned n;
	struct virtio_net_hdr hdr[TAP_BATCH_MAX];
	struct iovec iov[TAP_BATCH_MAX][2];
	struct virtio_net_hdr rx_hdr[TAP_BATCH_MAX];
	struct iovec rx_iov[TAP_BATCH_MAX][2];
};

#ifdef XNB_HAVE_URING
/*
 * A ring that can do nothing but read and write @fd: seccomp never sees
 * io_uring's operations, so the ring carries its own allow-list. It starts
 * disabled, gets @fd as its only fixed file, then restrictions (readv and
 * writev only, every entry must name a fixed file, no register operation
 * once enabled but the unregistering of files), and only then is enabled. Kernels without
 * restrictions (before 5.10) refuse a step: no ring, readv/writev instead.
 */
static bool ring_init(struct io_uring *ring, int fd)
{
	struct io_uring_params p = { .flags = IORING_SETUP_R_DISABLED };
	struct io_uring_restriction r[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED, .sqe_flags = IOSQE_FIXED_FILE },
		{ .opcode = IORING_RESTRICTION_REGISTER_OP, .register_op = IORING_UNREGISTER_FILES },
	};

	if (io_uring_queue_init_params(TAP_BATCH_MAX, ring, &p) != 0)
		return false;
	if (io_uring_register_files(ring, &fd, 1) != 0 ||
	    io_uring_register_restrictions(ring, r, sizeof(r) / sizeof(r[0])) != 0 ||
	    io_uring_enable_rings(ring) != 0) {
		(void)io_uring_unregister_files(ring); /* see ring_exit() */
		io_uring_queue_exit(ring);
		return false;
	}
	return true;
}

/* Entries name the TAP as fixed file 0, the ring's only one. */
#define TAP_RING_FILE 0

/*
 * The ring's registered file holds a reference to the TAP, and a ring is
 * torn down asynchronously after its fd is closed: unregister first, so
 * that closing the TAP fd still removes the device at once.
 */
static void ring_exit(struct io_uring *ring)
{
	(void)io_uring_unregister_files(ring);
	io_uring_queue_exit(ring);
}
#endif

static struct tap_batch *batch_new(int fd)
{
	struct tap_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
#ifdef XNB_HAVE_URING
	b->ring_ok = ring_init(&b->ring, fd);
	b->read_nowait_ok = true;
#else
	(void)fd;
#endif
	return b;
}

#ifdef XNB_HAVE_URING
/* Entries prepared but never submitted must not go out with the next
 * submission: start over with an empty ring, restricted like the first.
 * (In the worker's sandbox io_uring_setup is refused: readv/writev then.) */
static void ring_reset(struct tap_batch *b, int fd)
{
	ring_exit(&b->ring);
	b->ring_ok = ring_init(&b->ring, fd);
}
#endif

static void batch_free(struct tap_batch *b)
{
	if (!b)
		return;
#ifdef XNB_HAVE_URING
	if (b->ring_ok)
		ring_exit(&b->ring);
#endif
	free(b);
}

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, req, ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

int tap_open(struct tap *t, const char *name, int multi_queue)
{
	static const uint8_t mac[6] = TAP_VIF_MAC;
	struct ifreq ifr;
	int hdr_len = sizeof(struct virtio_net_hdr), rc;
	bool existed;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	existed = if_nametoindex(name) != 0;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi_queue ? IFF_MULTI_QUEUE : 0);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_len) < 0 ||
	    ioctl(t->fd, TUNSETOFFLOAD, 0) < 0) {
		rc = -errno;
		close(t->fd);
		t->fd = -1;
		return rc;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	t->batch = batch_new(t->fd); /* NULL: frames go one writev() at a time */

	/* A persistent device we attached to again keeps its address (and its
	 * bridge port's view of it). */
	rc = existed ? 0 : tap_set_mac(t, mac);
	if (rc) {
		tap_close(t);
		return rc;
	}
	return 0;
}

static int tap_open_persistent_flags(struct tap *t, const char *name, int multi_queue)
{
	int rc = tap_open(t, name, multi_queue);

	if (rc)
		return rc;
	batch_free(t->batch); /* the holder of a TAP never moves frames */
	t->batch = NULL;
	if (ioctl(t->fd, TUNSETPERSIST, 1) < 0) {
		rc = -errno;
		tap_close(t);
		return rc;
	}
	return 0;
}

int tap_open_persistent(struct tap *t, const char *name)
{
	return tap_open_persistent_flags(t, name, 0);
}

void tap_remove(struct tap *t)
{
	if (t->fd >= 0)
		ioctl(t->fd, TUNSETPERSIST, 0);
	tap_close(t);
}

int tap_open_persistent_queues(struct tap *queues, unsigned max, const char *name)
{
	unsigned n;
	int rc;

	if (max == 0)
		return -EINVAL;
	rc = tap_open_persistent_flags(&queues[0], name, 1);
	if (rc == -EINVAL && if_nametoindex(name) != 0) {
		/* Made single-queue by an older build: keep it, with one queue. */
		rc = tap_open_persistent_flags(&queues[0], name, 0);
		return rc ? rc : 1;
	}
	if (rc)
		return rc;
	for (n = 1; n < max; n++) {
		if (tap_open(&queues[n], name, 1) != 0)
			break; /* fewer queues is still a working vif */
		batch_free(queues[n].batch);
		queues[n].batch = NULL;
	}
	return (int)n;
}

int tap_set_queue_enabled(struct tap *t, bool enabled)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(t->fd, TUNSETQUEUE, &ifr) == 0)
		return 0;
	/* EINVAL: attached already, detached already, or a single-queue TAP. */
	return errno == EINVAL ? 0 : -errno;
}

int tap_remove_by_name(const char *name)
{
	struct tap t = { .fd = -1 };
	int rc = tap_open(&t, name, 1);

	if (rc == -EINVAL)
		rc = tap_open(&t, name, 0); /* a single-queue one */
	if (rc)
		return rc;
	tap_remove(&t);
	return 0;
}

int tap_attach_fd(struct tap *t, int fd, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EBADFD ? -EINVAL : -errno; /* EBADFD: not attached */
	if ((ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)) !=
	    (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
		return -EINVAL;
	if (name && strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	t->fd = fd;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : ifr.ifr_name);
	t->batch = batch_new(fd); /* NULL: frames go one writev() at a time */
	return 0;
}

#ifdef XNB_HAVE_URING
struct io_uring *tap_test_ring(struct tap *t)
{
	return t->batch && t->batch->ring_ok ? &t->batch->ring : NULL;
}
#endif

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	batch_free(t->batch);
	t->batch = NULL;
}

bool tap_detached(const struct tap *t)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	return t->fd >= 0 && ioctl(t->fd, TUNGETIFF, &ifr) < 0 && errno == EBADFD;
}

int tap_join_bridge(const struct tap *t, const char *bridge)
{
	struct ifreq ifr;
	unsigned index = if_nametoindex(t->name);

	if (!index)
		return -errno;
	if (strlen(bridge) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)index;
	return ifreq_ioctl(bridge, SIOCBRADDIF, &ifr);
}

int tap_set_offloads(struct tap *t, const struct vnet_offloads *o)
{
	return ioctl(t->fd, TUNSETOFFLOAD, vnet_offload_flags(o)) < 0 ? -errno : 0;
}

int tap_set_carrier(const struct tap *t, bool on)
{
	int carrier = on;

	return ioctl(t->fd, TUNSETCARRIER, &carrier) < 0 ? -errno : 0;
}

int tap_get_mtu(const struct tap *t)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	rc = ifreq_ioctl(t->name, SIOCGIFMTU, &ifr);
	return rc ? rc : ifr.ifr_mtu;
}

int tap_set_mtu(const struct tap *t, unsigned mtu)
{
	struct ifreq ifr = { .ifr_mtu = (int)mtu };

	return ifreq_ioctl(t->name, SIOCSIFMTU, &ifr);
}

int tap_set_mac(const struct tap *t, const uint8_t mac[6])
{
	struct ifreq ifr = { 0 };

	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return ifreq_ioctl(t->name, SIOCSIFHWADDR, &ifr);
}

int tap_set_up(const struct tap *t, int up)
{
	struct ifreq ifr = { 0 };
	int rc = ifreq_ioctl(t->name, SIOCGIFFLAGS, &ifr);

	if (rc)
		return rc;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return ifreq_ioctl(t->name, SIOCSIFFLAGS, &ifr);
}

int tap_send(struct tap *t, const struct engine_pkt_meta *m, const void *frame, size_t len)
{
	struct virtio_net_hdr h;
	struct iovec iov[2] = {
		{ &h, sizeof(h) },
		{ (void *)frame, len },
	};
	ssize_t n;

	vnet_hdr_from_meta(m, &h);
	n = writev(t->fd, iov, 2);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(h) + len ? 0 : -EIO;
}

void tap_batch_add(struct tap *t, const struct engine_pkt_meta *m, const void *frame, size_t len)
{
	struct tap_batch *b = t->batch;
	unsigned i;

	if (!b || b->n == TAP_BATCH_MAX)
		return;
	i = b->n++;
	vnet_hdr_from_meta(m, &b->hdr[i]);
	b->iov[i][0] = (struct iovec){ &b->hdr[i], sizeof(b->hdr[i]) };
	b->iov[i][1] = (struct iovec){ (void *)frame, len };
}

unsigned tap_batch_count(const struct tap *t)
{
	return t->batch ? t->batch->n : 0;
}

/* A result slot not (yet) filled by io_uring: writev() takes that frame. */
#define TAP_NOT_WRITTEN INT32_MIN

static int result_of(ssize_t n, const struct iovec *iov)
{
	if (n < 0)
		return (int)n;
	return (size_t)n == iov[0].iov_len + iov[1].iov_len ? 0 : -EIO;
}

unsigned tap_batch_flush(struct tap *t, int *results)
{
	struct tap_batch *b = t->batch;
	unsigned failed = 0, n;

	if (!b || b->n == 0)
		return 0;
	n = b->n;
	b->n = 0;
#ifdef XNB_HAVE_URING
	if (b->ring_ok) {
		unsigned done = 0, submitted;
		int rc;

		for (unsigned i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

			io_uring_prep_writev(sqe, TAP_RING_FILE, b->iov[i], 2, 0);
			io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
			io_uring_sqe_set_data64(sqe, i);
			results[i] = TAP_NOT_WRITTEN;
		}
		rc = io_uring_submit_and_wait(&b->ring, n);
		submitted = rc > 0 ? (unsigned)rc : 0;
		/* Wait only for what was submitted; the rest goes by writev() below. */
		while (done < submitted) {
			struct io_uring_cqe *cqe;

			if (io_uring_wait_cqe(&b->ring, &cqe) != 0)
				break;
			if (cqe->user_data < n)
				results[cqe->user_data] = result_of(cqe->res, b->iov[cqe->user_data]);
			io_uring_cqe_seen(&b->ring, cqe);
			done++;
		}
		if (submitted < n)
			ring_reset(b, t->fd); /* the rest goes by writev() below */
	} else {
		for (unsigned i = 0; i < n; i++)
			results[i] = TAP_NOT_WRITTEN;
	}
#else
	for (unsigned i = 0; i < n; i++)
		results[i] = TAP_NOT_WRITTEN;
#endif
	for (unsigned i = 0; i < n; i++) {
		if (results[i] == TAP_NOT_WRITTEN) {
			ssize_t w = writev(t->fd, b->iov[i], 2);

			results[i] = result_of(w < 0 ? -errno : w, b->iov[i]);
		}
		failed += results[i] != 0;
	}
	return failed;
}

/* What a read of @n bytes (or -errno) into header + frame means. */
static long recv_result(ssize_t n, const struct virtio_net_hdr *h, struct engine_pkt_meta *m)
{
	if (n < 0)
		return (long)n;
	if ((size_t)n < sizeof(*h))
		return -EIO;
	n -= (ssize_t)sizeof(*h);
	if (vnet_hdr_to_meta(h, (uint32_t)n, m) != 0)
		return -EOPNOTSUPP;
	return n;
}

long tap_recv(struct tap *t, struct engine_pkt_meta *m, void *buf, size_t size)
{
	struct virtio_net_hdr h;
	struct iovec iov[2] = {
		{ &h, sizeof(h) },
		{ buf, size },
	};
	ssize_t n = readv(t->fd, iov, 2);

	return recv_result(n < 0 ? -errno : n, &h, m);
}

#ifdef XNB_HAVE_URING
/* One submission of @n RWF_NOWAIT reads; false if io_uring could not do it. */
static bool recv_batch_uring(struct tap *t, struct tap_rx_frame *f, unsigned n)
{
	struct tap_batch *b = t->batch;
	unsigned done = 0, submitted, frames = 0;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

		if (!sqe) { /* cannot happen: flushes and reads leave the ring empty */
			ring_reset(b, t->fd);
			return false;
		}
		b->rx_iov[i][0] = (struct iovec){ &b->rx_hdr[i], sizeof(b->rx_hdr[i]) };
		b->rx_iov[i][1] = (struct iovec){ f[i].buf, f[i].size };
		io_uring_prep_readv(sqe, TAP_RING_FILE, b->rx_iov[i], 2, 0);
		io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
		sqe->rw_flags = RWF_NOWAIT;
		io_uring_sqe_set_data64(sqe, i);
		f[i].len = -EAGAIN;
	}
	/* RWF_NOWAIT: every submitted read completes (frame or -EAGAIN) in the call. */
	rc = io_uring_submit_and_wait(&b->ring, n);
	submitted = rc > 0 ? (unsigned)rc : 0;
	while (done < submitted) {
		struct io_uring_cqe *cqe;
		uint64_t i;

		if (io_uring_wait_cqe(&b->ring, &cqe) != 0)
			break;
		i = cqe->user_data;
		if (i < n) {
			ssize_t res = cqe->res;

			if (res == -EOPNOTSUPP) {
				/* RWF_NOWAIT refused (a TAP without FMODE_NOWAIT): nothing
				 * was read; from now on, one readv() at a time. */
				b->read_nowait_ok = false;
				res = -EAGAIN;
			}
			frames += res >= 0;
			f[i].len = recv_result(res, &b->rx_hdr[i], &f[i].meta);
		}
		io_uring_cqe_seen(&b->ring, cqe);
		done++;
	}
	if (submitted < n)
		ring_reset(b, t->fd); /* unsubmitted reads did not happen: their entries say -EAGAIN */
	/* Frames taken from the TAP must reach the caller, whatever else happened. */
	return frames > 0 || (submitted > 0 && b->read_nowait_ok);
}
#endif

unsigned tap_recv_batch(struct tap *t, struct tap_rx_frame *f, unsigned n)
{
	unsigned i;

	if (n > TAP_BATCH_MAX)
		n = TAP_BATCH_MAX;
#ifdef XNB_HAVE_URING
	if (n > 1 && t->batch && t->batch->ring_ok && t->batch->read_nowait_ok &&
	    recv_batch_uring(t, f, n))
		return n;
#endif
	for (i = 0; i < n; i++) {
		f[i].len = tap_recv(t, &f[i].meta, f[i].buf, f[i].size);
		if (f[i].len == -EAGAIN) {
			i++;
			break;
		}
	}
	return i;
}
