/* SPDX-License-Identifier: MIT */
/*
 * worker.h - one guest's worker: its context, shared by its modules.
 *
 * A worker serves every vif of one guest domain: its own platform handles
 * (grant copy and map, event channels restricted to that guest, a XenStore
 * connection watching only that guest's nodes), the handshake (xenbus.c),
 * the data path (vif.c), and one epoll loop (main.c). The TAPs come from
 * the supervisor over the IPC channel (../ipc.h); so do control requests.
 * Nothing here outlives the process that matters to the guest: the rings
 * are the guest's pages, the TAPs are held by the supervisor, the state is
 * in XenStore, so a new worker carries on where a dead one stopped.
 */
#ifndef XNB_BACKEND_WORKER_H
#define XNB_BACKEND_WORKER_H

#include <stdbool.h>

#include "platform.h"
#include "vif.h"

/* Most ports whose unmask can be held back at once (spurious events). */
#define WORKER_DEFERRED_MAX 64

/* A port left masked until @due_ms: its guest kept notifying for nothing. */
struct worker_deferred_eoi {
	int port;
	uint64_t due_ms;
};

/* A TAP the supervisor handed over, until a vif takes it. */
struct worker_tap {
	struct worker_tap *next;
	unsigned devid;
	struct tap tap;
	struct vif_journal *journal; /* NULL until (unless) it comes */
};

struct worker {
	const struct platform_ops *ops;
	struct platform *plat;
	struct platform_gnttab *gnt;
	struct platform_evtchn *evt;
	struct platform_xs *xs;
	unsigned self_domid;
	unsigned guest_domid;      /* the one guest this worker serves */
	char backend_root[64];     /* /local/domain/<self>/backend/vif */
	char guest_dir[80];        /* backend_root/<guest> */
	int epfd;
	int ipc_fd;                /* to the supervisor */
	struct vif *vifs;
	struct worker_tap *taps;   /* handed over, not yet probed */
	struct vif_queue **port_map; /* local event-channel port -> queue */
	unsigned port_map_len;
	bool work_pending;         /* some queue has work left over */
	int eoi_timer_fd;          /* fires when a held-back unmask is due */
	struct worker_deferred_eoi deferred[WORKER_DEFERRED_MAX];
	unsigned nr_deferred;
	enum worker_source src_xs, src_evtchn, src_eoi;
};

/* worker_port_route() - route events of local @port to @q (NULL: unroute). 0 / -ENOMEM. */
int worker_port_route(struct worker *d, int port, struct vif_queue *q);

/* worker_port_forget() - drop a held-back unmask of @port (being unbound). */
void worker_port_forget(struct worker *d, int port);

/* worker_tap_poll() - watch @q's TAP for input, or stop (host-side back-pressure). */
void worker_tap_poll(struct worker *d, struct vif_queue *q, bool on);

/* worker_tap_add() / worker_tap_del() - register a queue's TAP with the loop. */
int worker_tap_add(struct worker *d, struct vif_queue *q);
void worker_tap_del(struct worker *d, struct vif_queue *q);

/*
 * worker_take_tap() - the TAP (and journal) handed over for @devid, moved
 * into @out and @journal. 0 / -ENOENT.
 */
int worker_take_tap(struct worker *d, unsigned devid, struct tap *out,
		    struct vif_journal **journal);

/*
 * worker_link() - ask the supervisor to bring @v's TAP up or down (and set
 * its MTU unless @mtu is 0): the worker holds no capability to do it.
 */
void worker_link(struct worker *d, const struct vif *v, bool up, unsigned mtu);

/* worker_vif_gone() - tell the supervisor the toolstack removed @v. */
void worker_vif_gone(struct worker *d, const struct vif *v);

/* Monotonic milliseconds. */
uint64_t worker_now_ms(void);

#endif
