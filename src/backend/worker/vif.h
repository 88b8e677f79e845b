/* SPDX-License-Identifier: MIT */
/*
 * vif.h - one guest network interface served by xnbd, and its queues.
 *
 * A vif is created when backend/vif/<domid>/<devid> appears and the
 * supervisor has handed over its TAP (made at once, so the toolstack's
 * hotplug script finds it at InitWait), connected when the frontend has
 * published its rings (or resumed, after a worker restart), and destroyed
 * when the toolstack takes it offline. The queue is the unit of data-path work: its
 * rings, event channel(s), batches and host-side RX queue belong to it, so
 * several queues (one per core) fit the same code; one is negotiated today.
 */
#ifndef XNB_BACKEND_VIF_H
#define XNB_BACKEND_VIF_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "platform.h"
#include "rx.h"
#include "tap.h"
#include "tx.h"

#define VIF_MAX_QUEUES 1
/* Host packets waiting for guest RX slots, per queue (XSA-392: bounded). */
#define VIF_RXQ_LEN 256
/* Largest frame a TAP hands us with GSO: 64 KiB of IP plus L2 headers, in
 * whole pages so that every buffer starts on a page: each guest RX page is
 * then filled from one of ours with one grant-copy operation, not two. */
#define VIF_RXQ_BUF (65536 + 4096)
/* Multicast addresses a frontend may subscribe (Linux: XEN_NETBK_MCAST_MAX). */
#define VIF_MCAST_MAX 64
/* Queued RX packets older than this, while the guest posts no buffers, are dropped. */
#define VIF_RX_DRAIN_MS 10000

struct worker;
struct vif;

/* Event-loop tag: epoll data points at one of these, first in its owner. */
enum worker_source { SRC_XS, SRC_EVTCHN, SRC_TAP, SRC_IPC, SRC_SIGNAL, SRC_TIMER, SRC_EOI };

struct vif_rxq_slot {
	uint32_t len;
	struct engine_pkt_meta meta;
	uint64_t queued_ms;
	uint8_t *buf;
};

struct vif_queue_stats {
	uint64_t rx_host_unsupported; /* TAP frames netif cannot carry */
	uint64_t rx_mcast_filtered;
	uint64_t rx_queue_drops;   /* dropped after the drain timeout */
	uint64_t rx_stalls;        /* times the queue waited for guest buffers */
	uint64_t events, spurious_events;
	uint64_t eoi_delayed;      /* unmasks held back after spurious events */
	uint64_t notify_tx, notify_rx;
	uint64_t copy_batches, copy_errors; /* grant-copy calls that failed whole */
};

struct vif_queue {
	enum worker_source tap_src; /* epoll tag for the TAP fd; first member */
	struct vif *vif;
	unsigned index;
	void *tx_ring, *rx_ring;  /* mapped frontend pages */
	int port_tx, port_rx;     /* local ports; equal unless split */
	struct engine_tx_queue tx;
	struct engine_rx_queue rx;
	struct engine_tx_batch *txb;
	uint8_t *tx_arena;
	struct engine_rx_batch *rxb;
	struct vif_rxq_slot *rxq;  /* VIF_RXQ_LEN slots */
	uint8_t *rxq_mem;
	unsigned rxq_head, rxq_count;
	bool rx_waiting;           /* waiting for guest RX buffers */
	bool tap_readable;         /* epoll said so, and no read has found it empty since */
	unsigned read_batch;       /* TAP reads per submission, adapted to the traffic */
	bool tap_registered;       /* TAP fd in the epoll set */
	bool tap_polled;           /* ... and polled for input */
	bool tx_pending, rx_pending; /* work left after the per-wake budget */
	RING_IDX rx_prod_seen;     /* the guest's RX req_prod at the last event */
	unsigned spurious_streak[2]; /* consecutive spurious events: tx port, rx port */
	struct vif_queue_stats stats;
};

struct vif_features {
	bool sg, gso_tcpv4, gso_tcpv6, csum, ipv6_csum, mcast_control;
};

struct vif_journal;

struct vif {
	struct worker *d;
	struct vif_journal *journal; /* responses on their way (journal.h); may be NULL */
	struct vif *next;
	unsigned domid, devid;
	char be_path[96];
	char fe_path[128];
	int state;                 /* our XenbusState */
	bool connected;
	bool online;
	bool evaluate_due;         /* a watch event named it in this wake-up */
	char broken[128];          /* why the guest's vif was disconnected */
	struct vif_features fe;    /* what the frontend asked for */
	unsigned mtu;
	struct tap tap;
	unsigned nr_queues;
	struct vif_queue queues[VIF_MAX_QUEUES];
	uint8_t mcast[VIF_MCAST_MAX][6];
	unsigned nr_mcast;
	char watch_token[32];      /* for the frontend state watch */
	struct log_ratelimit rl;   /* guest-triggered messages */
};

/*
 * vif_create() - a vif for backend/vif/<domid>/<devid>, with the TAP the
 * supervisor handed over for it. NULL + errno (ENOENT: no TAP yet).
 */
struct vif *vif_create(struct worker *d, unsigned domid, unsigned devid);
/* vif_destroy() - disconnect if needed, close the TAP, free. */
void vif_destroy(struct vif *v);

/*
 * vif_connect() - map the frontend's rings, bind its event channel(s),
 * configure the TAP for what it negotiated. Returns 0 or -errno with a
 * reason for the XenStore error node in @why.
 */
int vif_connect(struct vif *v, const uint32_t *tx_ref, const uint32_t *rx_ref,
		const uint32_t *evtchn_tx, const uint32_t *evtchn_rx, bool resume, char *why,
		size_t why_len);
/* vif_disconnect() - unbind, unmap, drop queued packets, link down; the TAP stays. */
void vif_disconnect(struct vif *v);
/*
 * vif_detach() - unbind and unmap only, for a worker that exits while the
 * guest stays Connected: the next worker resumes from the shared rings.
 */
void vif_detach(struct vif *v);

/* vif_mark_broken() - the frontend broke the protocol: disconnect, log once. */
void vif_mark_broken(struct vif *v, const char *reason);

/* Data path. */
/* The frontend notified us. Returns true if the event brought no work. */
bool vif_queue_event(struct vif_queue *q);
void vif_queue_tap_readable(struct vif_queue *q);
void vif_queue_run_pending(struct vif_queue *q);  /* finish work left by the budget */
void vif_queue_tick(struct vif_queue *q, uint64_t now_ms); /* stall / drain checks */

#endif
