/* SPDX-License-Identifier: MIT */
/*
 * vif.c - a vif's resources and its data path.
 *
 * Guest TX (tx_work): the engine parses what the frontend posted, one
 * grant-copy call moves the whole batch into the arena, each good packet
 * goes to the TAP with one writev (virtio-net header + frame), the
 * responses go back with one notification if the frontend asked for it.
 *
 * Guest RX (rx_work): frames are read from the queue's TAP fd into a
 * queue bounded by packets (VIF_RXQ_LEN) and by bytes (VIF_RXQ_BYTES, as
 * Linux bounds its per-queue RX queue); the engine places as many as the
 * frontend has buffers for, one grant-copy call per batch, one
 * notification. When the queue is full the TAP is no longer polled, so the
 * back-pressure goes to the host stack (whose queue is bounded and
 * counted), never into our memory (XSA-392). Packets left waiting longer
 * than VIF_RX_DRAIN_MS for guest buffers are dropped and counted, and the
 * queue's memory is given back.
 *
 * Hashing. Once the frontend has turned hashing on over its control ring
 * (vif_ctrl.c), each host frame is hashed as it is read (engine_hash_packet,
 * under the vif's hash_lock, shared) and goes to the guest with a
 * XEN_NETIF_EXTRA_TYPE_HASH extra, on the queue the frontend's mapping
 * table names, as Linux's xenvif_select_queue does. The kernel has already
 * picked the TAP queue fd it arrived on (its own flow steering), so a frame
 * the table gives to another queue is steered: its buffer goes into that
 * queue's inbox (vif.h) in exchange for a free one, and the other thread
 * is woken; it moves the frame into its own queue the same way. When the
 * inbox is full the frame stays here (rx_hash_misqueued): steering never
 * drops a frame. Frames of one flow may be reordered when the kernel moves
 * the flow from one TAP queue to another, as with any queue change.
 *
 * Each queue runs in its thread (queue_thread.c) with the thread's lock
 * held; each wake-up does a bounded amount of work (a ring's worth per
 * direction, a few rounds); leftovers are flagged and the thread comes
 * back before sleeping, so one busy queue cannot starve the others. A
 * protocol fault found here is handed to the main thread (vif_check_faults),
 * which owns the handshake and disconnects the vif.
 */
#include "vif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "journal.h"
#include "xsvalue.h"
#include "xenbus.h"
#include "worker.h"

_Static_assert(TAP_BATCH_MAX >= ENGINE_TX_RING_SIZE, "a TX batch fits one TAP batch");

/* Rounds of a ring's worth of work per wake-up and direction. */
#define VIF_WORK_ROUNDS 4

/*
 * TAP reads per submission (one io_uring_enter): doubled while every read
 * finds a frame, otherwise twice what the last submission found. A read
 * that finds nothing costs the kernel little; a system call costs a PV dom0
 * a trip through Xen.
 */
#define VIF_READ_BATCH_MIN 4
#define VIF_READ_BATCH_MAX 64
_Static_assert(VIF_READ_BATCH_MAX <= TAP_BATCH_MAX, "a read batch is one TAP submission");

static bool is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

static bool is_broadcast(const uint8_t *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

/* The frontend broke the protocol on @q's @ring: stop serving it, tell the main thread. */
static void queue_fault(struct vif_queue *q, const char *ring, const char *reason)
{
	if (q->fault[0])
		return;
	snprintf(q->fault, sizeof(q->fault), "%s", reason);
	q->fault_ring = ring;
	worker_notice(q->vif->d);
}

/*
 * A TAP read failing with anything but "nothing now" means the fd is no
 * good any more: the host deleted the device (EBADFD; poll then keeps
 * saying EPOLLERR), or worse. A write fails for one frame (EINVAL for what
 * the host refuses, EIO while the TAP is down) unless the device is gone.
 */
static bool tap_read_fatal(long err)
{
	return err != -EAGAIN && err != -EINTR && err != -EOPNOTSUPP;
}

static bool tap_write_fatal(int err)
{
	return err == -EBADFD || err == -ENXIO || err == -ENODEV;
}

/*
 * @q's TAP is unusable (-@err): out of the epoll set for good, and the main
 * thread told, which says so once and asks the supervisor for a new TAP.
 * Guest TX goes on being answered and is dropped (deliver).
 */
static void queue_tap_lost(struct vif_queue *q, int err)
{
	q->tap_readable = false;
	if (q->tap_error)
		return;
	q->tap_error = err;
	worker_tap_forget(q);
	worker_notice(q->vif->d);
}

static void queue_free(struct vif_queue *q)
{
	free(q->txb);
	free(q->rxb);
	free(q->rxq);
	free(q->rxq_free);
	q->rxq_free = NULL;
	if (q->tx_arena)
		munmap(q->tx_arena, ENGINE_TX_ARENA_SIZE);
	q->txb = NULL;
	q->rxb = NULL;
	q->rxq = NULL;
	q->tx_arena = NULL;
}

/* Buffers per queue in the vif's RX mapping: its queue's, then its inbox's. */
#define VIF_QUEUE_BUFS (VIF_RXQ_LEN + VIF_INBOX_LEN)

/*
 * @q's share of the vif's buffers (from @bufs on), all free, the first on
 * top (the order pages get committed in).
 */
static void queue_give_buffers(struct vif_queue *q, uint8_t *bufs)
{
	struct vif_inbox *in = &q->inbox;

	q->rxq_nfree = 0;
	for (unsigned i = VIF_RXQ_LEN; i-- > 0;)
		q->rxq_free[q->rxq_nfree++] = bufs + (size_t)i * VIF_RXQ_BUF;
	q->rxq_head = q->rxq_count = 0;
	q->rxq_bytes = 0;
	bufs += (size_t)VIF_RXQ_LEN * VIF_RXQ_BUF;
	pthread_mutex_lock(&in->lock);
	in->nfree = 0;
	for (unsigned i = VIF_INBOX_LEN; i-- > 0;)
		in->free[in->nfree++] = bufs + (size_t)i * VIF_RXQ_BUF;
	in->head = in->bytes = 0;
	__atomic_store_n(&in->count, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&in->lock);
}

/*
 * Drop what @q's inbox holds (open: whether frames may come again), with
 * @q's thread's lock held; the frames count as @q's queue drops.
 */
static void inbox_clear(struct vif_queue *q, bool open)
{
	struct vif_inbox *in = &q->inbox;

	pthread_mutex_lock(&in->lock);
	in->open = open;
	q->stats.rx_queue_drops += in->count;
	while (in->count) {
		in->free[in->nfree++] = in->slot[in->head].buf;
		in->slot[in->head].buf = NULL;
		in->head = (in->head + 1) % VIF_INBOX_LEN;
		__atomic_store_n(&in->count, in->count - 1, __ATOMIC_RELAXED);
	}
	in->bytes = 0;
	pthread_mutex_unlock(&in->lock);
}

/* Buffers are mapped (by vif_connect), not touched: pages are only committed as traffic uses them. */
static int queue_alloc(struct vif_queue *q, uint8_t *bufs)
{
	q->txb = malloc(sizeof(*q->txb));
	q->rxb = malloc(sizeof(*q->rxb));
	q->rxq = calloc(VIF_RXQ_LEN, sizeof(*q->rxq));
	q->rxq_free = calloc(VIF_RXQ_LEN, sizeof(*q->rxq_free));
	q->tx_arena = mmap(NULL, ENGINE_TX_ARENA_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (q->tx_arena == MAP_FAILED)
		q->tx_arena = NULL;
	if (!q->txb || !q->rxb || !q->rxq || !q->rxq_free || !q->tx_arena) {
		queue_free(q);
		return -ENOMEM;
	}
	queue_give_buffers(q, bufs);
	engine_tx_batch_init(q->txb, q->tx_arena, ENGINE_TX_ARENA_SIZE);
	engine_rx_batch_reset(q->rxb);
	q->rxq_bytes = 0;
	q->tap_readable = true; /* frames may wait from before we polled */
	q->read_batch = VIF_READ_BATCH_MIN;
	return 0;
}

struct vif *vif_create(struct worker *d, unsigned domid, unsigned devid)
{
	struct vif *v = calloc(1, sizeof(*v));
	struct tap taps[VIF_MAX_QUEUES];
	unsigned ntaps = 0;
	int rc;

	if (!v)
		return NULL;
	v->d = d;
	v->domid = domid;
	v->devid = devid;
	v->mtu = TAP_MTU_DEFAULT;
	v->rate_bytes = XSVALUE_RATE_UNLIMITED;
	v->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	snprintf(v->be_path, sizeof(v->be_path), "%s/%u/%u", d->backend_root, domid, devid);
	snprintf(v->watch_token, sizeof(v->watch_token), "fe:%u:%u", domid, devid);
	v->nr_queues = 1;
	v->ctrl.port = -1;
	for (unsigned i = 0; i < VIF_MAX_QUEUES; i++) {
		struct vif_queue *q = &v->queues[i];

		q->vif = v;
		q->t = &d->threads[i];
		q->index = i;
		q->tap.fd = -1;
		q->port_tx = q->port_rx = -1;
		q->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
		pthread_mutex_init(&q->inbox.lock, NULL);
	}
	rc = worker_take_tap(d, devid, taps, &ntaps, &v->journal);
	if (rc) {
		for (unsigned i = 0; i < VIF_MAX_QUEUES; i++)
			pthread_mutex_destroy(&v->queues[i].inbox.lock);
		free(v);
		errno = -rc;
		return NULL;
	}
	for (unsigned i = 0; i < ntaps; i++)
		v->queues[i].tap = taps[i];
	/* Offer what both the threads and the TAP's queue fds allow. */
	v->max_queues = ntaps < d->max_queues ? ntaps : d->max_queues;
	snprintf(v->ifname, sizeof(v->ifname), "%s", taps[0].name);
	pthread_mutex_init(&v->mcast_lock, NULL);
	pthread_rwlock_init(&v->hash_lock, NULL);
	engine_hash_init(&v->ctrl.eng.hash, 1);
	return v;
}

void vif_destroy(struct vif *v)
{
	vif_disconnect(v);
	for (unsigned i = 0; i < VIF_MAX_QUEUES; i++) {
		if (v->queues[i].tap.fd >= 0)
			tap_close(&v->queues[i].tap);
		pthread_mutex_destroy(&v->queues[i].inbox.lock);
	}
	journal_unmap(v->journal);
	pthread_mutex_destroy(&v->mcast_lock);
	pthread_rwlock_destroy(&v->hash_lock);
	free(v);
}

/* Out of its thread's care (under its lock), then unbound and unmapped. */
static void queue_disconnect(struct vif *v, struct vif_queue *q)
{
	struct worker *d = v->d;
	struct worker_thread *t = q->t;

	worker_thread_lock(t);
	inbox_clear(q, false); /* other threads steer nothing more to it */
	worker_queue_detach(t, q);
	if (q->port_tx >= 0)
		d->ops->evtchn_unbind(t->evt, (uint32_t)q->port_tx);
	if (q->port_rx >= 0 && q->port_rx != q->port_tx)
		d->ops->evtchn_unbind(t->evt, (uint32_t)q->port_rx);
	q->port_tx = q->port_rx = -1;
	worker_thread_unlock(t);
	if (q->tx_ring)
		d->ops->gnttab_unmap(d->gnt, q->tx_ring);
	if (q->rx_ring)
		d->ops->gnttab_unmap(d->gnt, q->rx_ring);
	q->tx_ring = q->rx_ring = NULL;
	q->rxq_head = q->rxq_count = 0;
	q->rx_waiting = q->tx_pending = q->rx_pending = false;
	q->fault[0] = '\0';
	queue_free(q);
}

void vif_detach(struct vif *v)
{
	if (!v->connected)
		return;
	vif_ctrl_disconnect(v);
	for (unsigned i = 0; i < v->nr_queues; i++)
		queue_disconnect(v, &v->queues[i]);
	/* Every queue is out of its thread's care: no buffer is in use. */
	if (v->rx_mem)
		munmap(v->rx_mem, v->rx_mem_size);
	v->rx_mem = NULL;
	v->connected = false;
}

/*
 * Main thread: @v's TAP is unusable (@err): said once, and the supervisor
 * told (it holds the TAPs: it makes the device again and has a new worker
 * take it). The guest stays Connected; its traffic is dropped meanwhile.
 */
static void vif_tap_lost(struct vif *v, int err)
{
	v->tap_lost = err;
	if (err == EBADFD || err == ENXIO || err == ENODEV)
		log_err("vif%u.%u: TAP removed by the host; guest traffic dropped", v->domid,
			v->devid);
	else
		log_err("vif%u.%u: TAP %s unusable (%s); guest traffic dropped", v->domid, v->devid,
			v->ifname, strerror(err));
	worker_tap_lost(v->d, v);
}

void vif_check_notices(struct worker *d)
{
	for (struct vif *v = d->vifs, *next; v; v = next) {
		char reason[sizeof(v->queues[0].fault)] = "";
		char where[sizeof(v->broken_where)] = "";
		bool stalled = false;
		int tap_error = 0;

		next = v->next; /* vif_mark_broken may remove v */
		for (unsigned i = 0; i < v->nr_queues && v->connected; i++) {
			struct vif_queue *q = &v->queues[i];

			worker_thread_lock(q->t);
			if (q->fault[0] && !reason[0]) {
				snprintf(reason, sizeof(reason), "%s", q->fault);
				snprintf(where, sizeof(where), "queue %u's %s ring", i,
					 q->fault_ring ? q->fault_ring : "data");
			}
			/* The control ring is thread 0's, as queue 0 is. */
			if (i == 0 && v->ctrl.fault[0] && !reason[0])
				snprintf(reason, sizeof(reason), "%s", v->ctrl.fault);
			stalled |= q->stalled;
			if (q->tap_error && !tap_error)
				tap_error = q->tap_error;
			worker_thread_unlock(q->t);
		}
		if (tap_error && !v->tap_lost)
			vif_tap_lost(v, tap_error);
		if (reason[0]) {
			vif_mark_broken(v, reason, where);
		} else if (v->connected && !v->tap_lost && v->carrier == stalled) {
			/* As Linux: one stalled queue takes the carrier, all back bring it back. */
			v->carrier = !stalled;
			worker_link(d, v, v->carrier, 0);
			log_limited(&v->rl, LOG_LVL_INFO, "vif%u.%u: %s", v->domid, v->devid,
				    stalled ? "guest posts too few RX buffers: carrier off"
					    : "guest RX buffers again: carrier on");
		}
	}
}

void vif_disconnect(struct vif *v)
{
	if (!v->connected)
		return;
	vif_detach(v);
	v->carrier = false;
	worker_link(v->d, v, false, 0);
	/* A guest cycling its state drives these: rate-limited, per vif. */
	log_limited(&v->rl, LOG_LVL_INFO, "vif%u.%u: disconnected", v->domid, v->devid);
}

void vif_mark_broken(struct vif *v, const char *reason, const char *where)
{
	if (v->broken[0])
		return;
	snprintf(v->broken, sizeof(v->broken), "%s", reason);
	snprintf(v->broken_where, sizeof(v->broken_where), "%s", where);
	log_limited(&v->rl, LOG_LVL_ERR, "vif%u.%u: frontend broke the protocol%s%s, disconnecting: %s",
		    v->domid, v->devid, where[0] ? " on " : "", where, reason);
	vif_disconnect(v);
	xenbus_vif_broken(v);
}

/* On the queue's thread's handle, routed to @q; the thread's lock is held. */
static int bind_port(struct vif *v, struct vif_queue *q, uint32_t remote)
{
	struct worker *d = v->d;
	int port = d->ops->evtchn_bind_interdomain(q->t->evt, (uint16_t)v->domid, remote);

	if (port < 0)
		return port;
	if (worker_port_route(q->t, port, q) != 0) {
		d->ops->evtchn_unbind(q->t->evt, (uint32_t)port);
		return -ENOMEM;
	}
	return port;
}

/*
 * Bind @q's ports, finish what a dead predecessor was publishing, attach
 * the engine at the rings' indices and put the queue in its thread's care:
 * all under the thread's lock, so the thread sees the queue whole or not
 * at all. 0 or -errno with @why.
 */
static int queue_start(struct vif *v, struct vif_queue *q, uint32_t tx_ref, uint32_t rx_ref,
		       uint32_t evtchn_tx, uint32_t evtchn_rx, bool resume,
		       const struct engine_tx_config *tcfg, const struct engine_rx_config *rcfg,
		       char *why, size_t why_len)
{
	int rc = 0;

	q->port_tx = bind_port(v, q, evtchn_tx);
	if (q->port_tx < 0) {
		rc = q->port_tx;
		snprintf(why, why_len, "binding event channel %u failed: %s", evtchn_tx,
			 strerror(-rc));
		return rc;
	}
	if (evtchn_rx != evtchn_tx) {
		q->port_rx = bind_port(v, q, evtchn_rx);
		if (q->port_rx < 0) {
			rc = q->port_rx;
			snprintf(why, why_len, "binding event channel %u failed: %s", evtchn_rx,
				 strerror(-rc));
			return rc;
		}
	} else {
		q->port_rx = q->port_tx;
	}
	/* A predecessor that died publishing: finish it, then attach after it. */
	if (resume) {
		unsigned replayed = journal_replay(v->journal, q->index, tx_ref, rx_ref, q->tx_ring,
						   q->rx_ring);

		if (replayed)
			log_info("vif%u.%u: queue %u: %u responses the last worker recorded but "
				 "did not publish: published", v->domid, v->devid, q->index, replayed);
	} else {
		journal_reset(v->journal, q->index, tx_ref, rx_ref);
	}
	engine_tx_init(&q->tx, q->tx_ring, tcfg);
	engine_credit_init(&q->credit, v->rate_bytes, v->rate_usec, worker_now_us());
	q->tx.credit = engine_credit_unlimited(&q->credit) ? NULL : &q->credit;
	engine_rx_init(&q->rx, q->rx_ring, rcfg);
	q->rx_prod_seen = engine_ring_read_idx(&q->rx.ring.sring->req_prod);
	q->spurious_streak[0] = q->spurious_streak[1] = 0;
	q->fault[0] = '\0';
	q->stalled = false;
	q->stall_need = 0;
	q->last_rx_ms = worker_now_ms();
	if (q->tx.ring.sring->req_prod - q->tx.ring.req_cons > ENGINE_TX_RING_SIZE ||
	    q->rx.ring.sring->req_prod - q->rx.ring.req_cons > ENGINE_RX_RING_SIZE) {
		snprintf(why, why_len, "rings of queue %u handed over with impossible indices",
			 q->index);
		return -EINVAL;
	}
	if (v->tap_lost && !q->tap_error)
		q->tap_error = v->tap_lost; /* found before: nothing to poll */
	rc = worker_queue_attach(q->t, q);
	if (rc) {
		snprintf(why, why_len, "cannot poll the TAP: %s", strerror(-rc));
		return rc;
	}
	inbox_clear(q, true); /* other queues may steer frames to it now */
	return 0;
}

int vif_connect(struct vif *v, const uint32_t *tx_ref, const uint32_t *rx_ref,
		const uint32_t *evtchn_tx, const uint32_t *evtchn_rx, bool resume, char *why,
		size_t why_len)
{
	struct worker *d = v->d;
	struct vnet_offloads off = { .csum = v->fe.csum, .tso4 = v->fe.gso_tcpv4 && v->fe.csum,
				     .tso6 = v->fe.gso_tcpv6 && v->fe.csum && v->fe.ipv6_csum };
	struct engine_tx_config tcfg = {
		.peer_domid = (uint16_t)v->domid,
		.complete_csum = false, /* the TAP takes partial checksums */
		.gso_tcpv4 = true,
		.gso_tcpv6 = true,
		/* We advertise feature-multicast-control: the list may be amended
		 * even while filtering is off (netif.h), as Linux takes it. */
		.multicast_control = true,
	};
	struct engine_rx_config rcfg = {
		.peer_domid = (uint16_t)v->domid,
		.sg = v->fe.sg,
		.gso_tcpv4 = v->fe.gso_tcpv4,
		.gso_tcpv6 = v->fe.gso_tcpv6,
		.csum_blank = v->fe.csum,
		.ipv6_csum_blank = v->fe.ipv6_csum,
	};
	bool lost;
	int rc;

	if (v->nr_queues < 1 || v->nr_queues > v->max_queues) {
		snprintf(why, why_len, "%u queues asked for, %u offered", v->nr_queues, v->max_queues);
		return -EINVAL;
	}
	v->broken[0] = v->broken_where[0] = '\0';
	/* The subscriptions the guest made: it will not send them again. */
	pthread_mutex_lock(&v->mcast_lock);
	if (resume)
		v->nr_mcast = journal_mcast_load(v->journal, v->mcast, VIF_MCAST_MAX);
	else
		journal_mcast_save(v->journal, NULL, 0);
	pthread_mutex_unlock(&v->mcast_lock);
	/* Queues past the frontend's count take no frames from the kernel. */
	for (unsigned i = 0; i < VIF_MAX_QUEUES; i++) {
		if (v->queues[i].tap.fd < 0)
			continue;
		/* A TAP deleted before the guest came answers EINVAL here, which is
		 * no error: TUNSETOFFLOAD below finds it gone (EBADFD). */
		rc = tap_set_queue_enabled(&v->queues[i].tap, i < v->nr_queues);
		if (rc) {
			snprintf(why, why_len, "%s: cannot %s queue %u: %s", v->ifname,
				 i < v->nr_queues ? "attach" : "detach", i, strerror(-rc));
			return rc;
		}
	}
	v->connected = true; /* from here, detach releases what was taken */
	v->rx_mem_size = (size_t)v->nr_queues * VIF_QUEUE_BUFS * VIF_RXQ_BUF;
	v->rx_mem = mmap(NULL, v->rx_mem_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->rx_mem == MAP_FAILED) {
		v->rx_mem = NULL;
		rc = -ENOMEM;
		snprintf(why, why_len, "out of memory for RX buffers");
		goto fail;
	}
	for (unsigned i = 0; i < v->nr_queues; i++) {
		struct vif_queue *q = &v->queues[i];
		int16_t st = 0;

		rc = queue_alloc(q, v->rx_mem + (size_t)i * VIF_QUEUE_BUFS * VIF_RXQ_BUF);
		if (rc) {
			snprintf(why, why_len, "out of memory for queue %u", i);
			goto fail;
		}
		q->tx_ring = d->ops->gnttab_map(d->gnt, (uint16_t)v->domid, tx_ref[i], true, &st);
		if (!q->tx_ring) {
			rc = -errno;
			snprintf(why, why_len, "mapping tx-ring-ref %u failed (status %d)", tx_ref[i], st);
			goto fail;
		}
		q->rx_ring = d->ops->gnttab_map(d->gnt, (uint16_t)v->domid, rx_ref[i], true, &st);
		if (!q->rx_ring) {
			rc = -errno;
			snprintf(why, why_len, "mapping rx-ring-ref %u failed (status %d)", rx_ref[i], st);
			goto fail;
		}
		worker_thread_lock(q->t);
		rc = queue_start(v, q, tx_ref[i], rx_ref[i], evtchn_tx[i], evtchn_rx[i], resume,
				 &tcfg, &rcfg, why, why_len);
		worker_thread_unlock(q->t);
		if (rc)
			goto fail;
	}
	if (v->ctrl.wanted) {
		rc = vif_ctrl_connect(v, resume, why, why_len);
		if (rc)
			goto fail;
	}
	rc = v->tap_lost ? 0 : tap_set_offloads(&v->queues[0].tap, &off);
	lost = v->tap_lost || tap_write_fatal(rc);
	if (tap_write_fatal(rc)) {
		/* Deleted before the guest came: connect it all the same, drop its
		 * frames, and have the TAP made again (the notice does the rest). */
		for (unsigned i = 0; i < v->nr_queues; i++) {
			worker_thread_lock(v->queues[i].t);
			queue_tap_lost(&v->queues[i], -rc);
			worker_thread_unlock(v->queues[i].t);
		}
		rc = 0;
	}
	if (rc) {
		snprintf(why, why_len, "configuring %s failed: %s", v->ifname, strerror(-rc));
		goto fail;
	}
	/* A resumed vif keeps the MTU it has: the administrator may have set it. */
	v->carrier = true;
	if (!lost) /* no device to raise: the next worker's TAP will be */
		worker_link(d, v, true, resume ? 0 : v->mtu);
	log_limited(&v->rl, LOG_LVL_INFO, "vif%u.%u: %s (%u queue%s, sg %d, gso4 %d, gso6 %d, "
		    "csum %d, mtu %u, %s event channel%s%s)",
		    v->domid, v->devid, resume ? "resumed from the rings' shared indices" : "connected",
		    v->nr_queues, v->nr_queues == 1 ? "" : "s", v->fe.sg, v->fe.gso_tcpv4,
		    v->fe.gso_tcpv6, v->fe.csum, v->mtu,
		    v->queues[0].port_tx == v->queues[0].port_rx ? "one" : "split",
		    v->queues[0].port_tx == v->queues[0].port_rx ? "" : "s",
		    v->ctrl.wanted ? ", control ring" : "");
	return 0;

fail:
	vif_detach(v);
	return rc ? rc : -EINVAL;
}

/* ---- guest TX ---------------------------------------------------------- */

/* Apply one filter update; false when the table is full (Linux: -ENOSPC, an error response). */
static bool mcast_update(struct vif *v, const struct engine_tx_pkt *p)
{
	bool ok = true;
	unsigned i;

	pthread_mutex_lock(&v->mcast_lock);
	for (i = 0; i < v->nr_mcast; i++)
		if (memcmp(v->mcast[i], p->mcast_addr, 6) == 0)
			break;
	if (p->kind == ENGINE_TX_MCAST_ADD && i == v->nr_mcast) {
		if (v->nr_mcast == VIF_MCAST_MAX) {
			ok = false;
			goto out;
		}
		memcpy(v->mcast[v->nr_mcast++], p->mcast_addr, 6);
	} else if (p->kind == ENGINE_TX_MCAST_DEL && i < v->nr_mcast) {
		memmove(v->mcast[i], v->mcast[i + 1], (size_t)(v->nr_mcast - i - 1) * 6);
		v->nr_mcast--;
	} else {
		goto out;
	}
	journal_mcast_save(v->journal, (const uint8_t (*)[6])v->mcast, v->nr_mcast);
out:
	pthread_mutex_unlock(&v->mcast_lock);
	return ok;
}

/* Filter updates are applied before the answers are settled: a full table answers ERROR. */
static void apply_mcast(struct vif_queue *q, struct engine_tx_batch *b)
{
	for (unsigned i = 0; i < b->nr_pkts; i++) {
		struct engine_tx_pkt *p = &b->pkts[i];

		if (!p->drop && p->kind != ENGINE_TX_PACKET && !mcast_update(q->vif, p)) {
			p->drop = ENGINE_TX_DROP_MCAST_FULL;
			log_limited(&q->rl, LOG_LVL_WARN, "vif%u.%u: multicast filter full (%u "
				    "addresses): subscription refused", q->vif->domid, q->vif->devid,
				    VIF_MCAST_MAX);
		}
	}
}

static void run_copy(struct vif_queue *q, struct engine_copy_seg *segs, unsigned n)
{
	struct worker *d = q->vif->d;

	if (n == 0)
		return;
	q->stats.copy_batches++;
	/* A refused batch leaves every status failed: each packet fails alone. */
	if (d->ops->gnttab_copy(q->t->gnt, segs, n) != 0)
		q->stats.copy_errors++;
}

static void notify(struct vif_queue *q, int port, uint64_t *counter)
{
	struct worker *d = q->vif->d;

	d->ops->evtchn_notify(q->t->evt, (uint32_t)port);
	(*counter)++;
}

/*
 * Hand the batch's good packets to the TAP: one io_uring submission for all
 * of them where available (see tap.h), else one writev() each. The guest has
 * had its answer already (see tx_work); a packet the host refuses is counted
 * as a host drop.
 */
static void deliver(struct vif_queue *q, struct engine_tx_batch *b)
{
	uint16_t idx[TAP_BATCH_MAX];
	int results[TAP_BATCH_MAX];
	unsigned n = 0;

	for (unsigned i = 0; i < b->nr_pkts; i++) {
		struct engine_tx_pkt *p = &b->pkts[i];

		if (p->drop || p->kind != ENGINE_TX_PACKET)
			continue; /* filter updates were applied before the answers */
		if (q->tap_error) {
			engine_tx_host_refused(&q->tx, p); /* no TAP to take it */
		} else if (!q->tap.batch) {
			int rc = tap_send(&q->tap, &p->meta, p->data, p->len);

			if (rc != 0)
				engine_tx_host_refused(&q->tx, p);
			if (tap_write_fatal(rc))
				queue_tap_lost(q, -rc);
		} else {
			tap_batch_add(&q->tap, &p->meta, p->data, p->len);
			idx[n++] = (uint16_t)i;
		}
	}
	if (n && tap_batch_flush(&q->tap, results)) {
		for (unsigned k = 0; k < n; k++) {
			if (results[k])
				engine_tx_host_refused(&q->tx, &b->pkts[idx[k]]);
			if (tap_write_fatal(results[k]))
				queue_tap_lost(q, -results[k]);
		}
	}
}

static void tx_work(struct vif_queue *q)
{
	struct vif *v = q->vif;

	q->tx_pending = false;
	for (int round = 0; round < VIF_WORK_ROUNDS; round++) {
		struct engine_tx_batch *b = q->txb;
		int n;

		if (q->tx.credit)
			q->tx.now_us = worker_now_us();
		n = engine_tx_parse(&q->tx, b, ENGINE_TX_RING_SIZE);

		if (n < 0) {
			queue_fault(q, "TX", engine_fault_str(q->tx.fault));
			return;
		}
		if (n > 0) {
			run_copy(q, b->segs, b->nr_segs);
			engine_tx_finish(&q->tx, b);
			apply_mcast(q, b);
			/* The bytes are ours now: answer first. Guest TCP holds its
			 * next frames until netfront frees these on our answer (TCP
			 * Small Queues), and the TAP write below runs dom0's whole
			 * receive path; answering after it serialises the two. */
			engine_tx_settle(&q->tx, b);
			journal_tx_begin(v->journal, q->index, &q->tx, b);
			if (engine_tx_publish(&q->tx, b))
				notify(q, q->port_tx, &q->stats.notify_tx);
			journal_end(v->journal, q->index);
			deliver(q, b);
		}
		if (q->tx.rate_limited) {
			worker_rate_wait(q); /* the rest waits on the ring for credit */
			return;
		}
		if (!engine_tx_more(&q->tx))
			return;
	}
	q->tx_pending = true;
	q->t->work_pending = true;
}

/* ---- guest RX ---------------------------------------------------------- */

static bool mcast_filtered(struct vif *v, const uint8_t *frame, long len)
{
	bool filtered = true;

	if (!__atomic_load_n(&v->fe.mcast_control, __ATOMIC_RELAXED) || len < 6 ||
	    !is_multicast(frame) || is_broadcast(frame))
		return false;
	pthread_mutex_lock(&v->mcast_lock);
	for (unsigned i = 0; i < v->nr_mcast && filtered; i++)
		if (memcmp(v->mcast[i], frame, 6) == 0)
			filtered = false;
	pthread_mutex_unlock(&v->mcast_lock);
	return filtered;
}

/*
 * Hand frame @f, read on @from, to queue @to's inbox: true if taken, and
 * @f->buf is then a free buffer of the inbox's in exchange. Never blocks
 * on the other thread: the inbox's own lock only.
 */
static bool steer(struct vif_queue *from, unsigned to, struct tap_rx_frame *f,
		  const struct engine_pkt_meta *meta, uint64_t now)
{
	struct vif *v = from->vif;
	struct vif_inbox *in;
	bool taken;

	if (to >= v->nr_queues)
		return false;
	in = &v->queues[to].inbox;
	pthread_mutex_lock(&in->lock);
	taken = in->open && in->count < VIF_INBOX_LEN && in->nfree &&
		in->bytes + (uint32_t)f->len <= VIF_INBOX_BYTES;
	if (taken) {
		struct vif_rxq_slot *s = &in->slot[(in->head + in->count) % VIF_INBOX_LEN];

		s->buf = f->buf;
		s->len = (uint32_t)f->len;
		s->meta = *meta;
		s->queued_ms = now;
		in->bytes += s->len;
		__atomic_store_n(&in->count, in->count + 1, __ATOMIC_RELAXED);
		f->buf = in->free[--in->nfree];
	}
	pthread_mutex_unlock(&in->lock);
	return taken;
}

/* Move what other queues steered to @q into its queue, while it has room. */
static void inbox_take(struct vif_queue *q)
{
	struct vif_inbox *in = &q->inbox;

	if (!__atomic_load_n(&in->count, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&in->lock);
	while (in->count && q->rxq_count < VIF_RXQ_LEN && q->rxq_bytes < VIF_RXQ_BYTES) {
		struct vif_rxq_slot *from = &in->slot[in->head];
		struct vif_rxq_slot *s = &q->rxq[(q->rxq_head + q->rxq_count) % VIF_RXQ_LEN];

		*s = *from;
		/* rxq_nfree + rxq_count == VIF_RXQ_LEN, and the queue has room. */
		in->free[in->nfree++] = q->rxq_free[--q->rxq_nfree];
		from->buf = NULL;
		in->head = (in->head + 1) % VIF_INBOX_LEN;
		in->bytes -= s->len;
		__atomic_store_n(&in->count, in->count - 1, __ATOMIC_RELAXED);
		q->rxq_count++;
		q->rxq_bytes += s->len;
	}
	pthread_mutex_unlock(&in->lock);
}

/*
 * Read what the host has queued for the guest into the queue's free slots,
 * a batch of reads per system call, after what other queues steered here.
 * Reads land in consecutive slots; a frame kept after one that was not
 * (filtered, unsupported, steered) moves down by swapping buffers, so the
 * queue stays dense and in arrival order.
 */
static void rxq_fill(struct vif_queue *q)
{
	struct vif *v = q->vif;
	struct tap_rx_frame f[VIF_READ_BATCH_MAX];
	uint64_t now = worker_now_ms();
	unsigned budget = VIF_RXQ_LEN; /* reads per call, even if all are filtered out */
	unsigned wake = 0;             /* threads of the queues we steered frames to */
	bool hashing;

	inbox_take(q);
	while (q->tap_readable && q->rxq_count < VIF_RXQ_LEN && q->rxq_bytes < VIF_RXQ_BYTES &&
	       budget) {
		unsigned want = VIF_RXQ_LEN - q->rxq_count, got, frames = 0;
		bool kept[VIF_READ_BATCH_MAX] = { false };

		if (want > q->read_batch)
			want = q->read_batch;
		if (want > budget)
			want = budget;
		budget -= want;
		/* The buffers freed last (the top of the stack): their pages are in. */
		for (unsigned i = 0; i < want; i++) {
			f[i].buf = q->rxq_free[--q->rxq_nfree];
			f[i].size = VIF_RXQ_BUF;
		}
		got = tap_recv_batch(&q->tap, f, want);
		/* The state is held for the batch: one lock round per system call. */
		hashing = __atomic_load_n(&v->hash_on, __ATOMIC_ACQUIRE) && got;
		if (hashing)
			pthread_rwlock_rdlock(&v->hash_lock);
		for (unsigned i = 0; i < got; i++) {
			struct vif_rxq_slot *s;
			long n = f[i].len;

			if (n == -EAGAIN) {
				q->tap_readable = false;
				continue;
			}
			frames++;
			if (n == -EOPNOTSUPP) {
				q->stats.rx_host_unsupported++;
				continue;
			}
			if (n < 0) {
				if (tap_read_fatal(n))
					queue_tap_lost(q, (int)-n);
				q->tap_readable = false; /* epoll tells us when to try again */
				continue;
			}
			if (mcast_filtered(v, f[i].buf, n)) {
				q->stats.rx_mcast_filtered++;
				continue;
			}
			if (hashing) {
				/* -EOPNOTSUPP if turned off since: no hash, stays here. */
				int to = engine_hash_packet(&v->ctrl.eng.hash, f[i].buf, (uint32_t)n,
							    &f[i].meta);

				if (to >= 0 && (unsigned)to != q->index) {
					if (steer(q, (unsigned)to, &f[i], &f[i].meta, now)) {
						q->stats.rx_hash_steered++;
						wake |= 1u << v->queues[to].t->index;
						continue; /* f[i].buf: the free buffer we got */
					}
					q->stats.rx_hash_misqueued++;
				}
			}
			s = &q->rxq[(q->rxq_head + q->rxq_count) % VIF_RXQ_LEN];
			kept[i] = true;
			s->buf = f[i].buf;
			s->len = (uint32_t)n;
			s->meta = f[i].meta;
			s->queued_ms = now;
			q->rxq_count++;
			q->rxq_bytes += (uint32_t)n;
		}
		if (hashing)
			pthread_rwlock_unlock(&v->hash_lock);
		/* The buffers no frame kept go back, the first read on top. */
		for (unsigned i = want; i-- > 0;)
			if (!kept[i])
				q->rxq_free[q->rxq_nfree++] = f[i].buf;
		if (got < want)
			q->tap_readable = false; /* the one-by-one fallback stopped at -EAGAIN */
		q->read_batch = frames == want ? q->read_batch * 2 : frames * 2;
		if (q->read_batch > VIF_READ_BATCH_MAX)
			q->read_batch = VIF_READ_BATCH_MAX;
		if (q->read_batch < VIF_READ_BATCH_MIN)
			q->read_batch = VIF_READ_BATCH_MIN;
	}
	for (unsigned i = 0; wake; i++, wake >>= 1)
		if (wake & 1)
			worker_steer_wake(&v->d->threads[i]);
}

static void rx_flush(struct vif_queue *q)
{
	if (q->rxb->nr_pkts == 0 && q->rxb->nr_slots == 0)
		return;
	run_copy(q, q->rxb->segs, q->rxb->nr_segs);
	if (q->rxb->nr_slots)
		q->last_rx_ms = worker_now_ms();
	engine_rx_settle(&q->rx, q->rxb);
	journal_rx_begin(q->vif->journal, q->index, &q->rx, q->rxb);
	if (engine_rx_publish(&q->rx, q->rxb))
		notify(q, q->port_rx, &q->stats.notify_rx);
	journal_end(q->vif->journal, q->index);
	engine_rx_batch_reset(q->rxb);
}

/*
 * The head slot is done with. Its buffer goes on top of the free stack, so
 * the next read uses it again: reads reuse the few buffers already touched
 * and the queue's memory stays near what it holds, not what it could.
 * (The buffer's bytes may still await the batch's copy: rx_work flushes
 * before it reads again.)
 */
static void rxq_pop(struct vif_queue *q)
{
	struct vif_rxq_slot *head = &q->rxq[q->rxq_head];

	q->rxq_bytes -= head->len;
	q->rxq_free[q->rxq_nfree++] = head->buf;
	head->buf = NULL;
	q->rxq_head = (q->rxq_head + 1) % VIF_RXQ_LEN;
	q->rxq_count--;
}

static void rx_work(struct vif_queue *q)
{
	unsigned placed = 0, races = 0;

	q->rx_pending = false;
	/*
	 * Hash extras while the frontend has hashing on: a frame queued before
	 * it was turned on has no hash, one queued before it was turned off
	 * goes without its extra. Set between batches, under our lock.
	 */
	q->rx.cfg.hash_extra = __atomic_load_n(&q->vif->hash_on, __ATOMIC_RELAXED);
	rxq_fill(q);
	engine_rx_batch_reset(q->rxb);
	while (q->rxq_count) {
		struct vif_rxq_slot *s = &q->rxq[q->rxq_head];
		struct engine_rx_pkt pkt = { .data = s->buf, .len = s->len, .meta = s->meta };
		int rc = engine_rx_add(&q->rx, q->rxb, &pkt);

		if (rc == -ENOSPC) {
			rx_flush(q);
			continue;
		}
		if (rc == -EAGAIN) {
			enum engine_rx_drop why;
			unsigned need = engine_rx_slots(&q->rx, &pkt, &why);

			rx_flush(q);
			/* Buffers raced in: go on, but not forever (the guest moves req_prod). */
			if (engine_rx_wait(&q->rx, need) && ++races < VIF_WORK_ROUNDS)
				continue;
			if (!q->rx_waiting) {
				q->stats.rx_stalls++;
				/*
				 * The stall clock starts now: a queue idle for
				 * minutes has an old last_rx_ms, and its guest
				 * gets rx_stall_timeout to post for this burst.
				 */
				q->last_rx_ms = worker_now_ms();
			}
			q->rx_waiting = true;
			break;
		}
		if (rc == -EPROTO) {
			queue_fault(q, "RX", engine_fault_str(q->rx.fault));
			return;
		}
		/* Placed, or refused for good (counted by the engine): next. */
		q->rx_waiting = false;
		rxq_pop(q);
		if (++placed == ENGINE_RX_RING_SIZE * VIF_WORK_ROUNDS) {
			q->rx_pending = true;
			q->t->work_pending = true;
			break;
		}
		if (q->rxq_count == 0) {
			/* Placed packets' bytes live in queue slots until copied:
			 * copy them out before the slots are read into again. */
			rx_flush(q);
			rxq_fill(q);
		}
	}
	rx_flush(q);
	/* Host-side back-pressure: stop reading while our queue is full. */
	worker_tap_poll(q, q->rxq_count < VIF_RXQ_LEN && q->rxq_bytes < VIF_RXQ_BYTES);
}

void vif_queue_rate_due(struct vif_queue *q, uint64_t now_us)
{
	if (!q->connected || q->fault[0] || !q->tx.rate_limited)
		return;
	if (now_us < q->tx.rate_wait_until_us) {
		worker_rate_wait(q);
		return;
	}
	tx_work(q);
}

void vif_set_rate(struct vif *v, uint64_t bytes, uint32_t usec)
{
	if (bytes == v->rate_bytes && usec == v->rate_usec)
		return;
	v->rate_bytes = bytes;
	v->rate_usec = usec;
	for (unsigned i = 0; i < v->nr_queues && v->connected; i++) {
		struct vif_queue *q = &v->queues[i];

		worker_thread_lock(q->t);
		if (q->connected) {
			bool run = engine_credit_set(&q->credit, bytes, usec, worker_now_us());

			q->tx.credit = engine_credit_unlimited(&q->credit) ? NULL : &q->credit;
			/* A wait it ended (or a limit lifted) leaves requests on the ring. */
			if (run || (q->tx.rate_limited && !q->tx.credit))
				worker_kick(q->t);
		}
		worker_thread_unlock(q->t);
	}
}

void vif_set_mcast_control(struct vif *v, bool on)
{
	/* Filtering only: the queues take filter updates either way. */
	__atomic_store_n(&v->fe.mcast_control, on, __ATOMIC_RELAXED);
}

/* RX requests the guest has posted and we have not taken; 0 if it claims more than a ring. */
static RING_IDX rx_posted(const struct vif_queue *q)
{
	RING_IDX posted = engine_ring_read_idx(&q->rx.ring.sring->req_prod) - q->rx.ring.req_cons;

	return posted <= ENGINE_RX_RING_SIZE ? posted : 0;
}

/*
 * Ring slots the frame at the head of @q's queue needs, 0 when nothing
 * waits (or it can never go, and the next rx_work drops it). Linux's
 * rx_slots_needed: since XSA-392, a guest that keeps one buffer posted
 * while the next frame needs more is as stalled as one that posts none.
 */
static unsigned rx_head_need(const struct vif_queue *q)
{
	const struct vif_rxq_slot *s = &q->rxq[q->rxq_head];
	struct engine_rx_pkt pkt;
	enum engine_rx_drop why;

	if (!q->rxq_count)
		return 0;
	pkt = (struct engine_rx_pkt){ .data = s->buf, .len = s->len, .meta = s->meta };
	return engine_rx_slots(&q->rx, &pkt, &why);
}

/*
 * A stalled queue is ready again once the guest posted what the frame that
 * stalled it needed (at least one): a buffer at a time is not enough, or
 * the carrier would flap each time the guest teases with one.
 */
static bool rx_ready(const struct vif_queue *q)
{
	RING_IDX posted = rx_posted(q);

	return posted >= 1 && posted >= q->stall_need;
}

/* The guest posts buffers again: carrier back (via the main thread). */
static void unstall(struct vif_queue *q)
{
	q->stalled = false;
	q->last_rx_ms = worker_now_ms();
	worker_notice(q->vif->d);
}

bool vif_queue_event(struct vif_queue *q)
{
	RING_IDX tx_before, rx_before, rx_prod;
	bool spurious, posted;

	if (!q->connected || q->fault[0])
		return false;
	q->stats.events++;
	tx_before = q->tx.ring.req_cons;
	rx_before = q->rx.ring.req_cons;
	tx_work(q);
	if (q->fault[0])
		return false;
	rx_work(q);
	if (q->fault[0])
		return false;
	/*
	 * Spurious: no request taken on either ring and no RX buffer posted
	 * since the last event (a guest waiting for RX space posts buffers
	 * and notifies; one that notifies without posting brings nothing).
	 */
	/* Only a producer that moved forward counts (a guest flipping it back
	 * and forth to dodge the throttle posts nothing). */
	rx_prod = engine_ring_read_idx(&q->rx.ring.sring->req_prod);
	posted = rx_prod - q->rx_prod_seen - 1 < ENGINE_RX_RING_SIZE;
	if (posted)
		q->rx_prod_seen = rx_prod;
	spurious = q->tx.ring.req_cons == tx_before && q->rx.ring.req_cons == rx_before && !posted;
	if (posted && q->stalled && rx_ready(q))
		unstall(q);
	if (spurious)
		q->stats.spurious_events++;
	return spurious;
}

void vif_queue_tap_readable(struct vif_queue *q)
{
	q->tap_readable = true;
	if (q->connected && !q->fault[0])
		rx_work(q);
}

void vif_queue_inbox(struct vif_queue *q)
{
	if (q->connected && !q->fault[0] && __atomic_load_n(&q->inbox.count, __ATOMIC_RELAXED))
		rx_work(q);
}

void vif_queue_run_pending(struct vif_queue *q)
{
	if (q->connected && !q->fault[0] && q->tx_pending)
		tx_work(q);
	if (q->connected && !q->fault[0] && q->rx_pending)
		rx_work(q);
}

/*
 * Drop what waits for the guest (queue and inbox), and give the free
 * buffers' pages back until traffic needs them. Buffers move between a
 * vif's queues (steering), so each is given back on its own.
 */
static void drain(struct vif_queue *q)
{
	struct vif_inbox *in = &q->inbox;

	q->stats.rx_queue_drops += q->rxq_count;
	while (q->rxq_count)
		rxq_pop(q);
	q->rxq_head = 0;
	inbox_clear(q, true);
	for (unsigned i = 0; i < q->rxq_nfree; i++)
		madvise(q->rxq_free[i], VIF_RXQ_BUF, MADV_DONTNEED);
	pthread_mutex_lock(&in->lock);
	for (unsigned i = 0; i < in->nfree; i++)
		madvise(in->free[i], VIF_RXQ_BUF, MADV_DONTNEED);
	pthread_mutex_unlock(&in->lock);
	worker_tap_poll(q, true);
}

void vif_queue_tick(struct vif_queue *q, uint64_t now_ms)
{
	unsigned need;

	if (!q->connected || q->fault[0])
		return;
	/*
	 * Linux's rx_stall_timeout: a frame waits, the guest has posted fewer
	 * buffers than it needs, and nothing was taken for that long (or,
	 * after an idle spell, since the first frame had to wait): the
	 * guest is stalled: carrier off (the main thread asks the supervisor),
	 * queue drained. Posting what that frame needed ends it.
	 */
	inbox_take(q);
	if (q->rxq_count && !q->rx_waiting) {
		/* Frames taken from the inbox here, before the steering wake-up
		 * ran: not tried yet, so placed (or waited for) before we sleep. */
		q->rx_pending = true;
		q->t->work_pending = true;
	}
	need = rx_head_need(q);
	if (!q->stalled && need && q->rx_waiting && rx_posted(q) < need &&
	    now_ms - q->last_rx_ms >= q->vif->d->rx_stall_ms) {
		q->stalled = true;
		q->stall_need = need;
		q->stats.rx_stall_carrier_off++;
		drain(q);
		worker_notice(q->vif->d);
	} else if (q->stalled && rx_ready(q)) {
		unstall(q);
	}
	if (!q->rx_waiting || q->rxq_count == 0 ||
	    now_ms - q->rxq[q->rxq_head].queued_ms < VIF_RX_DRAIN_MS)
		return;
	/* The guest has posted no buffers for a long time: drain (XSA-392). */
	drain(q);
	log_limited(&q->rl, LOG_LVL_WARN, "vif%u.%u: queue %u: guest RX stalled, queue drained",
		    q->vif->domid, q->vif->devid, q->index);
}
