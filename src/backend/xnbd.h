/* SPDX-License-Identifier: MIT */
/*
 * xnbd.h - the backend daemon's shared context: platform handles, the
 * epoll loop's registrations, the list of vifs, the port -> queue map.
 */
#ifndef XNB_BACKEND_XNBD_H
#define XNB_BACKEND_XNBD_H

#include <stdbool.h>

#include "platform.h"
#include "vif.h"

struct xnbd {
	const struct platform_ops *ops;
	struct platform *plat;
	struct platform_gnttab *gnt;
	struct platform_evtchn *evt;
	struct platform_xs *xs;
	unsigned self_domid;
	char backend_root[64];     /* /local/domain/<self>/backend/vif */
	int epfd;
	struct vif *vifs;
	struct vif_queue **port_map; /* local event-channel port -> queue */
	unsigned port_map_len;
	bool stopping;
	bool work_pending;         /* some queue has work left over */
	enum xnbd_source src_xs, src_evtchn;
};

/* xnbd_port_bind() - route events of local @port to @q (NULL: unroute). 0 / -ENOMEM. */
int xnbd_port_route(struct xnbd *d, int port, struct vif_queue *q);

/* xnbd_tap_poll() - watch @q's TAP for input, or stop (host-side back-pressure). */
void xnbd_tap_poll(struct xnbd *d, struct vif_queue *q, bool on);

/* xnbd_tap_add() / xnbd_tap_del() - register a queue's TAP with the loop. */
int xnbd_tap_add(struct xnbd *d, struct vif_queue *q);
void xnbd_tap_del(struct xnbd *d, struct vif_queue *q);

/* Monotonic milliseconds. */
uint64_t xnbd_now_ms(void);

#endif
