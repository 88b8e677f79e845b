/* SPDX-License-Identifier: MIT */
/*
 * datapath.c - the userspace netfront's data path.
 *
 * Guest TX: frames the guest's stack sends on the TAP are handed to the
 * frontend engine, which copies them into granted TX buffers and writes
 * requests; one push (and at most one notification) per wake-up. When the
 * buffers or the ring run out the TAP is not read until responses free
 * some: back-pressure into the guest's qdisc, never unbounded buffering.
 *
 * Guest RX: the engine assembles whole packets out of the RX responses;
 * each goes to the TAP with its checksum / GSO state in the virtio-net
 * header; the buffers are posted again at once.
 */
#include "netfront.h"
#include "offload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Frames read from the TAP per wake-up; more goes to the next round. */
#define NF_TX_BUDGET 256
#define NF_FRAME_MAX 65600

static void *share(struct netfront *nf, unsigned count, uint32_t *refs, bool writable)
{
	return nf->ops->gntshr_share(nf->shr, (uint16_t)nf->backend_id, count, refs, writable);
}

int nf_datapath_setup(struct netfront *nf)
{
	struct engine_front_tx_config tcfg = { .sg = nf->be_sg, .gso_tcpv4 = nf->be_gso4,
					       .gso_tcpv6 = nf->be_gso6 };
	struct engine_front_rx_config rcfg = { .gso_tcpv4 = true, .gso_tcpv6 = true };
	int rc;

	nf->tx_ring_page = share(nf, 1, &nf->tx_ring_ref, true);
	nf->rx_ring_page = share(nf, 1, &nf->rx_ring_ref, true);
	/* The backend only reads what we transmit: TX buffers are granted read-only. */
	nf->tx_pages = share(nf, NF_TX_BUFS, nf->tx_refs, false);
	nf->rx_pages = share(nf, NF_RX_BUFS, nf->rx_refs, true);
	nf->rx_arena = malloc(ENGINE_FRONT_RX_ARENA_MIN * 4);
	nf->tx_frame = malloc(NF_FRAME_MAX);
	if (!nf->tx_ring_page || !nf->rx_ring_page || !nf->tx_pages || !nf->rx_pages ||
	    !nf->rx_arena || !nf->tx_frame) {
		nf_datapath_teardown(nf);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < NF_TX_BUFS; i++)
		nf->tx_bufs[i] = (struct engine_front_buf){ nf->tx_pages + (size_t)i * ENGINE_PAGE_SIZE,
							    nf->tx_refs[i] };
	for (unsigned i = 0; i < NF_RX_BUFS; i++)
		nf->rx_bufs[i] = (struct engine_front_buf){ nf->rx_pages + (size_t)i * ENGINE_PAGE_SIZE,
							    nf->rx_refs[i] };
	rc = engine_front_tx_init(&nf->tx, nf->tx_ring_page, &tcfg, nf->tx_bufs, NF_TX_BUFS);
	if (rc == 0)
		rc = engine_front_rx_init(&nf->rx, nf->rx_ring_page, &rcfg, nf->rx_bufs, NF_RX_BUFS);
	if (rc == 0)
		rc = engine_front_rx_batch_init(&nf->rxb, nf->rx_arena, ENGINE_FRONT_RX_ARENA_MIN * 4);
	if (rc) {
		nf_datapath_teardown(nf);
		return rc;
	}
	/* Buffers go on the ring before the backend connects, as Linux netfront does. */
	engine_front_rx_refill(&nf->rx);
	nf->port = nf->ops->evtchn_alloc_unbound(nf->evt, (uint16_t)nf->backend_id);
	if (nf->port >= 0 && nf->want_split && nf->be_split)
		nf->port_rx = nf->ops->evtchn_alloc_unbound(nf->evt, (uint16_t)nf->backend_id);
	if (nf->port < 0 || (nf->want_split && nf->be_split && nf->port_rx < 0)) {
		rc = nf->port < 0 ? nf->port : nf->port_rx;
		nf_datapath_teardown(nf);
		return rc;
	}
	return 0;
}

static void unshare(struct netfront *nf, void **addr, unsigned count)
{
	if (!*addr)
		return;
	/* Fails while the backend still maps it; the simulator then keeps it for us. */
	if (nf->ops->gntshr_unshare(nf->shr, *addr, count) != 0)
		log_warn("backend still holds %u shared page%s", count, count > 1 ? "s" : "");
	*addr = NULL;
}

void nf_datapath_teardown(struct netfront *nf)
{
	if (nf->port >= 0)
		nf->ops->evtchn_unbind(nf->evt, (uint32_t)nf->port);
	if (nf->port_rx >= 0)
		nf->ops->evtchn_unbind(nf->evt, (uint32_t)nf->port_rx);
	nf->port = nf->port_rx = -1;
	unshare(nf, &nf->tx_ring_page, 1);
	unshare(nf, &nf->rx_ring_page, 1);
	unshare(nf, (void **)&nf->tx_pages, NF_TX_BUFS);
	unshare(nf, (void **)&nf->rx_pages, NF_RX_BUFS);
	free(nf->rx_arena);
	free(nf->tx_frame);
	nf->rx_arena = NULL;
	nf->tx_frame = NULL;
}

/*
 * TX work goes on the main channel; RX refills on the RX one when split.
 * A failed notification is not a reason to disconnect: while the backend's
 * process restarts its end of the port is closed (Xen then drops the event
 * and returns 0, the evtchn device or the simulator may say -ENOTCONN), and
 * once it binds again it reads the shared producers anyway. Counted only.
 */
static void notify(struct netfront *nf, bool rx)
{
	int port = rx && nf->port_rx >= 0 ? nf->port_rx : nf->port;
	int rc = nf->ops->evtchn_notify(nf->evt, (uint32_t)port);

	if (rc < 0) {
		nf->notify_errors++;
		log_limited(&nf->rl, LOG_LVL_DEBUG, "%s: notify on port %d: %s (ignored)",
			    nf->tap.name, port, strerror(-rc));
	}
}

/* Take TX responses back; a bad one breaks the vif. Returns false if broken. */
static bool tx_reap(struct netfront *nf)
{
	bool more = true;

	for (int round = 0; round < 4 && more; round++) {
		if (engine_front_tx_reap(&nf->tx, ENGINE_TX_RING_SIZE, &more) < 0) {
			nf_mark_broken(nf, engine_front_fault_str(nf->tx.fault));
			return false;
		}
	}
	if (more)
		nf->work_pending = true;
	return true;
}

static void tx_from_tap(struct netfront *nf)
{
	bool sent = false;

	for (int i = 0; i < NF_TX_BUDGET; i++) {
		struct engine_pkt_meta m;
		long n;
		int rc;

		/* Room for a maximal packet first, so no frame is read and then lost. */
		if (engine_front_tx_free_bufs(&nf->tx) < ENGINE_FRONT_TX_MAX_SLOTS ||
		    engine_front_tx_free_slots(&nf->tx) < ENGINE_FRONT_TX_MAX_SLOTS + 1) {
			nf_tap_poll(nf, false);
			break;
		}
		n = tap_recv(&nf->tap, &m, nf->tx_frame, NF_FRAME_MAX);
		if (n == -EAGAIN)
			break;
		if (n == -EOPNOTSUPP) {
			nf->tx_host_unsupported++;
			continue;
		}
		if (n < 0)
			break;
		/* A backend without IPv6 checksum offload gets IPv6 checksums finished
		 * (VLAN-tagged frames included: the engine's header walk finds them). */
		if (m.csum == ENGINE_CSUM_PARTIAL && !nf->be_ipv6_csum && m.gso_type == 0) {
			struct engine_hdrs h;

			if (engine_hdrs_parse(nf->tx_frame, (uint32_t)n, &h) == 0 && h.ip_version == 6)
				engine_csum_complete(nf->tx_frame, (uint32_t)n, &m);
		}
		rc = engine_front_tx_send(&nf->tx, nf->tx_frame, (uint32_t)n, &m);
		if (rc == -EPROTO) {
			nf_mark_broken(nf, engine_front_fault_str(nf->tx.fault));
			return;
		}
		if (rc)
			nf->tx_host_too_big++;
		else
			sent = true;
		if (i == NF_TX_BUDGET - 1)
			nf->work_pending = true;
	}
	if (sent && engine_front_tx_push(&nf->tx))
		notify(nf, false);
}

static void rx_to_tap(struct netfront *nf)
{
	for (int round = 0; round < 4; round++) {
		int n = engine_front_rx_poll(&nf->rx, &nf->rxb, ENGINE_FRONT_RX_BATCH);

		if (n < 0) {
			nf_mark_broken(nf, engine_front_fault_str(nf->rx.fault));
			return;
		}
		for (int i = 0; i < n; i++) {
			const struct engine_front_rx_pkt *p = &nf->rxb.pkts[i];

			if (tap_send(&nf->tap, &p->meta, p->data, p->len) != 0)
				nf->rx_host_errors++;
		}
		if (nf->rxb.notify)
			notify(nf, true);
		if (!nf->rxb.more)
			return;
	}
	nf->work_pending = true;
}

void nf_datapath_event(struct netfront *nf)
{
	if (!nf->connected)
		return;
	nf->events++;
	if (!tx_reap(nf))
		return;
	rx_to_tap(nf);
	if (nf->connected && !nf->tap_polled &&
	    engine_front_tx_free_bufs(&nf->tx) >= ENGINE_FRONT_TX_MAX_SLOTS)
		nf_tap_poll(nf, true);
}

void nf_datapath_tap_readable(struct netfront *nf)
{
	if (nf->connected)
		tx_from_tap(nf);
}

void nf_datapath_run_pending(struct netfront *nf)
{
	nf->work_pending = false;
	nf_datapath_event(nf);
	if (nf->connected && nf->tap_polled)
		tx_from_tap(nf);
}
