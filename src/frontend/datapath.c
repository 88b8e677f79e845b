/* SPDX-License-Identifier: MIT */
/*
 * datapath.c - the userspace netfront's data path, one thread per queue.
 *
 * Queues. As Linux's xen-netfront, a connection has 1..NF_MAX_QUEUES
 * queues, each with its own TX and RX rings, buffer pages, grants and
 * event channel(s). On the host side each queue owns one fd of the TAP:
 * with several queues the TAP is IFF_MULTI_QUEUE and queue i > 0 attaches
 * its own fd (TUNSETIFF with the NIC's name), so the kernel spreads the
 * guest's flows over the fds by its flow hash, and what queue i receives
 * is written to fd i. Queue 0's fd is the NIC's own and lives as long as
 * the process (closing the last fd would remove the device); queues 1..
 * attach at set-up and detach at tear-down.
 *
 * Guest TX: frames the guest's stack sends on the queue's TAP fd are
 * handed to the frontend engine, which copies them into granted TX
 * buffers and writes requests; one push (and at most one notification)
 * per wake-up. When the buffers or the ring run out the fd is not read
 * until responses free some: back-pressure into the guest's qdisc, never
 * unbounded buffering.
 *
 * Multicast filter (--mcast-control, see mcast.c): queue 0's thread also
 * writes the backend's filter requests on its TX ring, when the main
 * thread signals a new list (mcast_fd) and when answers come back.
 *
 * Guest RX: the engine assembles whole packets out of the RX responses;
 * each goes to the queue's TAP fd with its checksum / GSO state in the
 * virtio-net header; the buffers are posted again at once. A packet that
 * came with a hash extra (--hash, ctrl.c) is hashed here too, with the key
 * and types we set, and the two compared: counted, never acted on (the
 * TAP has no use for the hash; the check is what --hash is for).
 *
 * Threads. Each queue's thread waits on its own epoll set: the shared
 * stop eventfd, its event-channel handle's fd (one handle per queue: a
 * platform handle is not thread-safe) and its TAP fd. A queue whose
 * backend breaks the protocol records why, tells the main thread through
 * nf->notify_fd and returns; the main thread closes the vif. The grants
 * are only made and ended by the main thread, before a thread starts and
 * after it is joined (the backend does the grant copies; we only share).
 */
#include "netfront.h"
#include "offload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Frames read from the TAP per wake-up; more goes to the next round. */
#define NF_TX_BUDGET 256
#define NF_FRAME_MAX 65600
/* Ports read from the event-channel handle per wake-up. */
#define NF_EVTCHN_BUDGET 64

enum q_source { Q_SRC_STOP = 1, Q_SRC_EVTCHN, Q_SRC_TAP, Q_SRC_MCAST };

/* ---- set-up and tear-down (main thread) ---------------------------------- */

static int queue_setup(struct netfront *nf, struct nf_queue *q)
{
	struct engine_front_tx_config tcfg = { .sg = nf->be_sg, .gso_tcpv4 = nf->be_gso4,
					       .gso_tcpv6 = nf->be_gso6,
					       .multicast_control = nf->mcast && q->id == 0 };
	struct engine_front_rx_config rcfg = { .gso_tcpv4 = true, .gso_tcpv6 = true };
	bool split = nf->want_split && nf->be_split;
	int rc;

	errno = 0;
	if (pthread_mutex_init(&q->lock, NULL) != 0)
		return -ENOMEM;
	q->lock_init = true;
	q->tx_ring_page = nf_share(nf, 1, &q->tx_ring_ref, true);
	q->rx_ring_page = nf_share(nf, 1, &q->rx_ring_ref, true);
	/* The backend only reads what we transmit: TX buffers are granted read-only. */
	q->tx_pages = nf_share(nf, NF_TX_BUFS, q->tx_refs, false);
	q->rx_pages = nf_share(nf, NF_RX_BUFS, q->rx_refs, true);
	if (!q->tx_ring_page || !q->rx_ring_page || !q->tx_pages || !q->rx_pages)
		return errno ? -errno : -ENOMEM; /* ENOSPC: out of grants or granted memory */
	q->rx_arena = malloc(ENGINE_FRONT_RX_ARENA_MIN * 4);
	q->tx_frame = malloc(NF_FRAME_MAX);
	if (!q->rx_arena || !q->tx_frame)
		return -ENOMEM;
	for (unsigned i = 0; i < NF_TX_BUFS; i++)
		q->tx_bufs[i] = (struct engine_front_buf){ q->tx_pages + (size_t)i * ENGINE_PAGE_SIZE,
							   q->tx_refs[i] };
	for (unsigned i = 0; i < NF_RX_BUFS; i++)
		q->rx_bufs[i] = (struct engine_front_buf){ q->rx_pages + (size_t)i * ENGINE_PAGE_SIZE,
							   q->rx_refs[i] };
	rc = engine_front_tx_init(&q->tx, q->tx_ring_page, &tcfg, q->tx_bufs, NF_TX_BUFS);
	if (rc == 0)
		rc = engine_front_rx_init(&q->rx, q->rx_ring_page, &rcfg, q->rx_bufs, NF_RX_BUFS);
	if (rc == 0)
		rc = engine_front_rx_batch_init(&q->rxb, q->rx_arena, ENGINE_FRONT_RX_ARENA_MIN * 4);
	if (rc)
		return rc;
	/* Buffers go on the ring before the backend connects, as Linux netfront does. */
	engine_front_rx_refill(&q->rx);

	q->evt = nf->ops->evtchn_open(nf->plat);
	if (!q->evt)
		return -errno;
	q->port = nf->ops->evtchn_alloc_unbound(q->evt, (uint16_t)nf->backend_id);
	if (q->port < 0)
		return q->port;
	if (split) {
		q->port_rx = nf->ops->evtchn_alloc_unbound(q->evt, (uint16_t)nf->backend_id);
		if (q->port_rx < 0)
			return q->port_rx;
	}

	if (q->id == 0) {
		q->tap = &nf->tap;
	} else {
		/* Attaches one more queue to the multi-queue NIC (and resets its
		 * offloads: the handshake sets them once every queue is there). */
		rc = tap_open(&q->own_tap, nf->tap.name, 1);
		if (rc)
			return rc;
		q->tap = &q->own_tap;
	}
	return 0;
}

static void queue_teardown(struct netfront *nf, struct nf_queue *q)
{
	if (q->evt) {
		if (q->port >= 0)
			nf->ops->evtchn_unbind(q->evt, (uint32_t)q->port);
		if (q->port_rx >= 0)
			nf->ops->evtchn_unbind(q->evt, (uint32_t)q->port_rx);
		nf->ops->evtchn_close(q->evt);
		q->evt = NULL;
	}
	q->port = q->port_rx = -1;
	/* What the backend still maps is kept and tried again (grants.c). */
	nf_unshare(nf, &q->tx_ring_page, 1, "a TX ring");
	nf_unshare(nf, &q->rx_ring_page, 1, "an RX ring");
	nf_unshare(nf, (void **)&q->tx_pages, NF_TX_BUFS, "TX buffers");
	nf_unshare(nf, (void **)&q->rx_pages, NF_RX_BUFS, "RX buffers");
	free(q->rx_arena);
	free(q->tx_frame);
	q->rx_arena = NULL;
	q->tx_frame = NULL;
	tap_close(&q->own_tap); /* queue 0 never opened one: fd -1 */
	q->tap = NULL;
	if (q->lock_init)
		pthread_mutex_destroy(&q->lock);
	q->lock_init = false;
}

int nf_datapath_setup(struct netfront *nf)
{
	unsigned n = nf->nr_queues;
	int rc = 0;

	if (n < 1 || n > NF_MAX_QUEUES || (n > 1 && nf->want_queues < n))
		return -EINVAL; /* the TAP is multi-queue only when we asked for several */
	nf->queues = calloc(n, sizeof(*nf->queues));
	if (!nf->queues)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct nf_queue *q = &nf->queues[i];

		q->nf = nf;
		q->id = i;
		q->port = q->port_rx = -1;
		q->own_tap.fd = -1;
		q->epfd = -1;
		q->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
		atomic_init(&q->broken, false);
	}
	rc = queue_setup(nf, &nf->queues[0]);
	if (rc) {
		nf->nr_queues = 1;
		nf_datapath_teardown(nf);
		return rc;
	}
	/*
	 * As Linux's xennet_create_queues(): fewer queues rather than none when
	 * the later ones cannot be had (each takes 514 grants, and gntalloc's
	 * default limit is 1024). The handshake publishes nf->nr_queues.
	 */
	for (unsigned i = 1; i < n; i++) {
		rc = queue_setup(nf, &nf->queues[i]);
		if (rc) {
			log_warn("%s: only %u of %u queues: %s", nf->tap.name, i, n, strerror(-rc));
			queue_teardown(nf, &nf->queues[i]);
			nf->nr_queues = i;
			break;
		}
	}
	return 0;
}

void nf_datapath_teardown(struct netfront *nf)
{
	if (!nf->queues)
		return;
	nf_datapath_stop(nf);
	if (nf->data_ran)
		nf_datapath_report(nf, "connection ended");
	nf->data_ran = false;
	for (unsigned i = 0; i < nf->nr_queues; i++)
		queue_teardown(nf, &nf->queues[i]);
	free(nf->queues);
	nf->queues = NULL;
}

/* ---- the queue's thread ---------------------------------------------------- */

/* The backend broke the protocol on this queue: tell main, stop moving. */
static void queue_broken(struct nf_queue *q, const char *why)
{
	uint64_t one = 1;
	ssize_t r;

	snprintf(q->why, sizeof(q->why), "queue %u: %s", q->id, why);
	atomic_store_explicit(&q->broken, true, memory_order_release);
	r = write(q->nf->notify_fd, &one, sizeof(one)); /* fails only when saturated */
	(void)r;
}

/*
 * The NIC's TAP fails for good (the host deleted it: every read and write
 * is EBADFD, and epoll reports the fd for ever): the thread returns, so
 * nothing spins, and the main thread, told, exits.
 */
static void tap_lost(struct nf_queue *q, int err)
{
	uint64_t one = 1;
	ssize_t r;

	atomic_store_explicit(&q->tap_error, err, memory_order_release);
	r = write(q->nf->notify_fd, &one, sizeof(one)); /* fails only when saturated */
	(void)r;
}

static void publish_stats(struct nf_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->snap = q->c;
	q->snap.tx = q->tx.stats;
	q->snap.rx = q->rx.stats;
	pthread_mutex_unlock(&q->lock);
}

static void tap_poll(struct nf_queue *q, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = Q_SRC_TAP };

	if (q->tap_polled != on && epoll_ctl(q->epfd, EPOLL_CTL_MOD, q->tap->fd, &ev) == 0)
		q->tap_polled = on;
}

/*
 * TX work goes on the main channel; RX refills on the RX one when split.
 * A failed notification is not a reason to disconnect: while the backend's
 * process restarts its end of the port is closed (Xen then drops the event
 * and returns 0, the evtchn device or the simulator may say -ENOTCONN), and
 * once it binds again it reads the shared producers anyway. Counted only.
 */
static void notify(struct nf_queue *q, bool rx)
{
	int port = rx && q->port_rx >= 0 ? q->port_rx : q->port;
	int rc = q->nf->ops->evtchn_notify(q->evt, (uint32_t)port);

	if (rc < 0) {
		q->c.notify_errors++;
		log_limited(&q->rl, LOG_LVL_DEBUG, "%s queue %u: notify on port %d: %s (ignored)",
			    q->tap->name, q->id, port, strerror(-rc));
	}
}

/* Take TX responses back; a bad one breaks the queue. Returns false if broken. */
static bool tx_reap(struct nf_queue *q)
{
	bool more = true;

	for (int round = 0; round < 4 && more; round++) {
		if (engine_front_tx_reap(&q->tx, ENGINE_TX_RING_SIZE, &more) < 0) {
			queue_broken(q, engine_front_fault_str(q->tx.fault));
			return false;
		}
	}
	if (more)
		q->work_pending = true;
	return true;
}

/* Returns false if the queue broke. */
static bool tx_from_tap(struct nf_queue *q)
{
	bool sent = false;

	for (int i = 0; i < NF_TX_BUDGET; i++) {
		struct engine_pkt_meta m;
		long n;
		int rc;

		/* Room for a maximal packet first, so no frame is read and then lost. */
		if (engine_front_tx_free_bufs(&q->tx) < ENGINE_FRONT_TX_MAX_SLOTS ||
		    engine_front_tx_free_slots(&q->tx) < ENGINE_FRONT_TX_MAX_SLOTS + 1) {
			tap_poll(q, false);
			break;
		}
		n = tap_recv(q->tap, &m, q->tx_frame, NF_FRAME_MAX);
		if (n == -EAGAIN)
			break;
		if (n == -EOPNOTSUPP) {
			q->c.tx_host_unsupported++;
			continue;
		}
		if (n == -EINTR)
			break;
		if (n < 0) {
			tap_lost(q, (int)-n);
			return false;
		}
		/* A backend without IPv6 checksum offload gets IPv6 checksums finished
		 * (VLAN-tagged frames included: the engine's header walk finds them). */
		if (m.csum == ENGINE_CSUM_PARTIAL && !q->nf->be_ipv6_csum && m.gso_type == 0) {
			struct engine_hdrs h;

			if (engine_hdrs_parse(q->tx_frame, (uint32_t)n, &h) == 0 && h.ip_version == 6)
				engine_csum_complete(q->tx_frame, (uint32_t)n, &m);
		}
		rc = engine_front_tx_send(&q->tx, q->tx_frame, (uint32_t)n, &m);
		if (rc == -EPROTO) {
			queue_broken(q, engine_front_fault_str(q->tx.fault));
			return false;
		}
		if (rc)
			q->c.tx_host_too_big++;
		else
			sent = true;
		if (i == NF_TX_BUDGET - 1)
			q->work_pending = true;
	}
	if (sent && engine_front_tx_push(&q->tx))
		notify(q, false);
	return true;
}

/*
 * The backend's hash of @p against ours (see ctrl.c for the key and types),
 * and the queue it came on against the one our mapping table names (a
 * backend that honours the table steers by it).
 */
static void check_hash(struct nf_queue *q, const struct engine_front_rx_pkt *p)
{
	uint32_t flags = atomic_load_explicit(&q->nf->hash_flags, memory_order_acquire);
	uint32_t size = atomic_load_explicit(&q->nf->hash_mapping_size, memory_order_relaxed);
	uint32_t hash = 0;
	uint8_t type = 0;

	if (engine_hash_frame(nf_hash_key, flags, p->data, p->len, &hash, &type) &&
	    hash == p->meta.hash && type == p->meta.hash_type) {
		q->c.rx_hash_match++;
		if (size && (hash % size + q->nf->hash_rotate) % q->nf->nr_queues != q->id)
			q->c.rx_hash_wrong_queue++;
		return;
	}
	q->c.rx_hash_mismatch++;
	log_limited(&q->rl, LOG_LVL_WARN, "%s queue %u: hash extra %#x (type %u) for a %u-byte "
		    "packet; ours %#x (type %u)", q->tap->name, q->id, p->meta.hash,
		    p->meta.hash_type, p->len, hash, type);
}

/*
 * Malformed packets from the backend are dropped by the engine and counted
 * per reason; say so, naming the reason, as Linux's netfront warns
 * "rx->offset: %u, size: %d" (rate-limited: the backend can send them
 * without end). The counters alone would not tell what the backend did.
 */
static void rx_errors_log(struct nf_queue *q)
{
	const struct engine_front_rx_stats *s = &q->rx.stats;

	for (unsigned e = ENGINE_FRONT_RX_ERR_NONE + 1; e < ENGINE_FRONT_RX_ERR_MAX; e++) {
		uint64_t n = s->err[e] - q->rx_err_logged[e];

		if (!n)
			continue;
		q->rx_err_logged[e] = s->err[e];
		log_limited(&q->rl, LOG_LVL_WARN, "%s queue %u: dropped %" PRIu64 " RX packet%s "
			    "from the backend: %s (%" PRIu64 " in all)", q->tap->name, q->id, n,
			    n > 1 ? "s" : "", engine_front_rx_err_str((enum engine_front_rx_err)e),
			    s->err[e]);
	}
}

static bool rx_to_tap(struct nf_queue *q)
{
	for (int round = 0; round < 4; round++) {
		uint64_t errors = q->rx.stats.errors;
		int n = engine_front_rx_poll(&q->rx, &q->rxb, ENGINE_FRONT_RX_BATCH);

		if (n < 0) {
			queue_broken(q, engine_front_fault_str(q->rx.fault));
			return false;
		}
		if (q->rx.stats.errors != errors)
			rx_errors_log(q);
		for (int i = 0; i < n; i++) {
			const struct engine_front_rx_pkt *p = &q->rxb.pkts[i];
			int rc;

			if (p->meta.has_hash)
				check_hash(q, p);
			rc = tap_send(q->tap, &p->meta, p->data, p->len);
			if (rc != 0)
				q->c.rx_host_errors++;
			/* EINVAL, EIO (the NIC is down): this frame; EBADFD: the NIC is gone. */
			if (rc == -EBADFD || rc == -ENXIO || rc == -ENODEV) {
				tap_lost(q, -rc);
				return false;
			}
		}
		if (q->rxb.notify)
			notify(q, true);
		if (!q->rxb.more)
			return true;
	}
	q->work_pending = true;
	return true;
}

/* Queue 0: bring the backend's multicast filter in line with the NIC's list. */
static void mcast_work(struct nf_queue *q, bool woken)
{
	if (q->id != 0 || !q->nf->mcast)
		return;
	if (nf_mcast_sync(q, woken) && engine_front_tx_push(&q->tx))
		notify(q, false);
}

/* The backend notified us (or we start): responses in, TAP polling back on. */
static bool backend_work(struct nf_queue *q)
{
	if (!tx_reap(q) || !rx_to_tap(q))
		return false;
	mcast_work(q, false); /* after the reap: the filter's answers are in */
	if (!q->tap_polled && engine_front_tx_free_bufs(&q->tx) >= ENGINE_FRONT_TX_MAX_SLOTS)
		tap_poll(q, true);
	return true;
}

static bool evtchn_ready(struct nf_queue *q)
{
	bool ours = false;

	for (int i = 0; i < NF_EVTCHN_BUDGET; i++) {
		int port = q->nf->ops->evtchn_pending(q->evt);

		if (port < 0)
			break;
		q->nf->ops->evtchn_unmask(q->evt, (uint32_t)port);
		if (port == q->port || port == q->port_rx)
			ours = true;
	}
	if (!ours)
		return true;
	q->c.events++;
	return backend_work(q);
}

static void *queue_main(void *arg)
{
	struct nf_queue *q = arg;
	bool ok;

	tap_poll(q, true);
	ok = backend_work(q); /* anything that arrived before */
	while (ok) {
		struct epoll_event ev[8];
		int n = epoll_wait(q->epfd, ev, 8, q->work_pending ? 0 : -1);

		if (n < 0 && errno != EINTR) {
			queue_broken(q, "epoll_wait failed");
			break;
		}
		for (int i = 0; ok && i < n; i++) {
			switch (ev[i].data.u32) {
			case Q_SRC_STOP:
				publish_stats(q);
				return NULL;
			case Q_SRC_EVTCHN:
				ok = evtchn_ready(q);
				break;
			case Q_SRC_TAP:
				ok = tx_from_tap(q);
				break;
			case Q_SRC_MCAST:
				mcast_work(q, true);
				break;
			}
		}
		if (ok && q->work_pending) {
			q->work_pending = false;
			ok = backend_work(q);
			if (ok && q->tap_polled)
				ok = tx_from_tap(q);
		}
		publish_stats(q);
	}
	publish_stats(q);
	return NULL;
}

/* ---- start and stop (main thread) ------------------------------------------ */

static int epoll_add(int epfd, int fd, uint32_t events, enum q_source src)
{
	struct epoll_event ev = { .events = events, .data.u32 = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int queue_start(struct netfront *nf, struct nf_queue *q)
{
	int rc;

	q->tap_polled = false;
	q->work_pending = false;
	q->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (q->epfd < 0)
		return -errno;
	rc = epoll_add(q->epfd, nf->stop_fd, EPOLLIN, Q_SRC_STOP);
	if (rc == 0)
		rc = epoll_add(q->epfd, nf->ops->evtchn_fd(q->evt), EPOLLIN, Q_SRC_EVTCHN);
	if (rc == 0)
		rc = epoll_add(q->epfd, q->tap->fd, 0, Q_SRC_TAP);
	if (rc == 0 && q->id == 0 && nf->mcast) {
		q->mc.dirty = true; /* the whole list, to a filter that starts empty */
		rc = epoll_add(q->epfd, nf->mcast_fd, EPOLLIN, Q_SRC_MCAST);
	}
	if (rc)
		return rc;
	rc = pthread_create(&q->thread, NULL, queue_main, q);
	if (rc)
		return -rc;
	q->thread_started = true;
	return 0;
}

int nf_datapath_start(struct netfront *nf)
{
	int rc = 0;

	if (!nf->queues)
		return -EINVAL;
	if (nf->stop_fd >= 0)
		return 0;
	nf->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nf->stop_fd < 0)
		return -errno;
	nf->data_ran = true;
	for (unsigned i = 0; i < nf->nr_queues && rc == 0; i++)
		rc = queue_start(nf, &nf->queues[i]);
	if (rc)
		nf_datapath_stop(nf);
	return rc;
}

void nf_datapath_stop(struct netfront *nf)
{
	uint64_t one = 1;

	if (nf->stop_fd < 0)
		return;
	/* Never read: it stays readable for every thread's epoll (level-triggered). */
	if (write(nf->stop_fd, &one, sizeof(one)) < 0)
		log_err("cannot stop the queue threads: %s", strerror(errno));
	for (unsigned i = 0; nf->queues && i < nf->nr_queues; i++) {
		struct nf_queue *q = &nf->queues[i];

		if (q->thread_started)
			pthread_join(q->thread, NULL);
		q->thread_started = false;
		if (q->epfd >= 0)
			close(q->epfd);
		q->epfd = -1;
	}
	close(nf->stop_fd);
	nf->stop_fd = -1;
}

const char *nf_datapath_broken(struct netfront *nf)
{
	for (unsigned i = 0; nf->queues && i < nf->nr_queues; i++)
		if (atomic_load_explicit(&nf->queues[i].broken, memory_order_acquire))
			return nf->queues[i].why;
	return NULL;
}

int nf_datapath_tap_lost(struct netfront *nf)
{
	for (unsigned i = 0; nf->queues && i < nf->nr_queues; i++) {
		int err = atomic_load_explicit(&nf->queues[i].tap_error, memory_order_acquire);

		if (err)
			return err;
	}
	return 0;
}

/* ---- counters ---------------------------------------------------------------- */

static void add_stats(struct nf_queue_stats *sum, const struct nf_queue_stats *s)
{
	sum->tx.packets += s->tx.packets;
	sum->tx.bytes += s->tx.bytes;
	sum->tx.errors += s->tx.errors;
	sum->tx.busy += s->tx.busy;
	sum->tx.gso_packets += s->tx.gso_packets;
	sum->tx.csum_blank += s->tx.csum_blank;
	sum->tx.csum_finished += s->tx.csum_finished;
	sum->rx.packets += s->rx.packets;
	sum->rx.bytes += s->rx.bytes;
	sum->rx.errors += s->rx.errors;
	sum->rx.gso_packets += s->rx.gso_packets;
	sum->tx_host_unsupported += s->tx_host_unsupported;
	sum->tx_host_too_big += s->tx_host_too_big;
	sum->rx_host_errors += s->rx_host_errors;
	sum->events += s->events;
	sum->notify_errors += s->notify_errors;
	sum->rx_hash_match += s->rx_hash_match;
	sum->rx_hash_mismatch += s->rx_hash_mismatch;
	sum->rx_hash_wrong_queue += s->rx_hash_wrong_queue;
}

static void log_stats(const char *name, const char *what, const struct nf_queue_stats *s)
{
	log_info("%s %s: tx %" PRIu64 " pkts %" PRIu64 " B (gso %" PRIu64 ", csum blank %" PRIu64
		 ", csum finished %" PRIu64 ", errors %" PRIu64
		 ", busy %" PRIu64 ", unsupported %" PRIu64 ", too big %" PRIu64 "), rx %" PRIu64
		 " pkts %" PRIu64 " B (gso %" PRIu64 ", errors %" PRIu64 ", tap errors %" PRIu64
		 ", hash match %" PRIu64 ", hash mismatch %" PRIu64 ", hash wrong queue %" PRIu64
		 "), events %" PRIu64
		 ", notify errors %" PRIu64,
		 name, what, s->tx.packets, s->tx.bytes, s->tx.gso_packets, s->tx.csum_blank,
		 s->tx.csum_finished, s->tx.errors, s->tx.busy,
		 s->tx_host_unsupported, s->tx_host_too_big, s->rx.packets, s->rx.bytes,
		 s->rx.gso_packets, s->rx.errors, s->rx_host_errors, s->rx_hash_match,
		 s->rx_hash_mismatch, s->rx_hash_wrong_queue, s->events, s->notify_errors);
}

void nf_datapath_report(struct netfront *nf, const char *when)
{
	struct nf_queue_stats sum = { 0 };

	if (!nf->queues) {
		log_info("%s: %s: not connected; shared pages %u, deferred pages %u (released "
			 "later %" PRIu64 ")", nf->tap.name, when, nf->shared_pages,
			 nf->deferred_pages, nf->deferred_released);
		return;
	}
	log_info("%s: %s: %u queue%s; shared pages %u, deferred pages %u (released later %"
		 PRIu64 ")", nf->tap.name, when, nf->nr_queues, nf->nr_queues > 1 ? "s" : "",
		 nf->shared_pages, nf->deferred_pages, nf->deferred_released);
	for (unsigned i = 0; i < nf->nr_queues; i++) {
		struct nf_queue *q = &nf->queues[i];
		struct nf_queue_stats s;
		char what[24];

		if (!q->lock_init)
			continue; /* set-up failed before this queue */
		pthread_mutex_lock(&q->lock);
		s = q->snap;
		pthread_mutex_unlock(&q->lock);
		snprintf(what, sizeof(what), "queue %u", i);
		log_stats(nf->tap.name, what, &s);
		add_stats(&sum, &s);
	}
	if (nf->nr_queues > 1)
		log_stats(nf->tap.name, "all queues", &sum);
	if (nf->mcast && nf->queues[0].lock_init) {
		struct engine_front_tx_stats t;

		pthread_mutex_lock(&nf->queues[0].lock);
		t = nf->queues[0].snap.tx;
		pthread_mutex_unlock(&nf->queues[0].lock);
		log_info("%s multicast filter: %" PRIu64 " requests, %" PRIu64 " okay, %" PRIu64
			 " refused", nf->tap.name, t.mcast_requests, t.mcast_okay, t.mcast_errors);
	}
}
