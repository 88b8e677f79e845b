/* SPDX-License-Identifier: MIT */
/*
 * netfront.h - the userspace netfront: one guest vif whose NIC is a TAP in
 * the guest's network namespace.
 *
 * handshake.c speaks XenBus from the guest side (device/vif/<devid>),
 * datapath.c moves frames between the TAP and the rings through the
 * frontend engine (src/engine/front.h), main.c owns the event loop.
 */
#ifndef XNB_FRONTEND_NETFRONT_H
#define XNB_FRONTEND_NETFRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "front.h"
#include "log.h"
#include "platform.h"
#include "tap.h"

#define NF_TX_BUFS 256
#define NF_RX_BUFS 256

struct netfront {
	const struct platform_ops *ops;
	struct platform *plat;
	struct platform_gntshr *shr;
	struct platform_evtchn *evt;
	struct platform_xs *xs;
	unsigned self_domid, devid;
	unsigned backend_id;
	char fe_path[96];          /* /local/domain/<self>/device/vif/<devid> */
	char be_path[128];         /* from the toolstack's `backend` node */
	int state;                 /* our XenbusState */
	int backend_state;
	bool connected;
	char broken[128];

	/* What the backend offers. */
	bool be_sg, be_gso4, be_gso6, be_ipv6_csum, be_split;
	unsigned mtu;

	/* Shared memory, all granted to the backend. */
	void *tx_ring_page, *rx_ring_page;
	uint32_t tx_ring_ref, rx_ring_ref;
	uint8_t *tx_pages, *rx_pages;
	uint32_t tx_refs[NF_TX_BUFS], rx_refs[NF_RX_BUFS];
	struct engine_front_buf tx_bufs[NF_TX_BUFS], rx_bufs[NF_RX_BUFS];
	int port;                  /* our event channel (unbound, then bound by the backend) */
	int port_rx;               /* the RX one when split (feature-split-event-channels), else -1 */
	bool want_split;           /* use split channels when the backend offers them */
	bool no_reconnect;         /* --no-reconnect: Closed is final, as in Linux netfront */

	struct engine_front_tx_queue tx;
	struct engine_front_rx_queue rx;
	struct engine_front_rx_batch rxb;
	uint8_t *rx_arena;
	uint8_t *tx_frame;         /* one frame read from the TAP */

	struct tap tap;
	char tap_name[16];
	uint8_t mac[6];
	bool tap_polled;
	int epfd;
	bool work_pending;
	struct log_ratelimit rl;

	uint64_t tx_host_unsupported, tx_host_too_big, rx_host_errors, events;
	uint64_t notify_errors;    /* evtchn_notify failed (backend's port unbound): ignored */
};

/* handshake.c */
int nf_handshake_start(struct netfront *nf);          /* read device nodes, watch */
void nf_handshake_event(struct netfront *nf);         /* a watch fired */
void nf_handshake_close(struct netfront *nf);         /* orderly Closing -> Closed */
void nf_mark_broken(struct netfront *nf, const char *reason);

/* datapath.c */
int nf_datapath_setup(struct netfront *nf);           /* rings, buffers, engine */
void nf_datapath_teardown(struct netfront *nf);
void nf_datapath_event(struct netfront *nf);          /* backend notified us */
void nf_datapath_tap_readable(struct netfront *nf);
void nf_datapath_run_pending(struct netfront *nf);

/* main.c */
void nf_tap_poll(struct netfront *nf, bool on);

#endif
