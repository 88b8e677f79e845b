/* SPDX-License-Identifier: MIT */
/*
 * worker.h - one guest's worker: its context, shared by its modules.
 *
 * A worker serves every vif of one guest domain: its own platform handles
 * (grant copy and map, event channels restricted to that guest, a XenStore
 * connection watching only that guest's nodes), the handshake (xenbus.c),
 * the data path (vif.c) in one thread per queue (queue_thread.c), and the
 * main thread's epoll loop (main.c). The TAPs come from
 * the supervisor over the IPC channel (../ipc.h); so do control requests.
 * Nothing here outlives the process that matters to the guest: the rings
 * are the guest's pages, the TAPs are held by the supervisor, the state is
 * in XenStore, so a new worker carries on where a dead one stopped.
 */
#ifndef XNB_BACKEND_WORKER_H
#define XNB_BACKEND_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "platform.h"
#include "vif.h"

/* Most ports whose unmask one thread can hold back at once (spurious events). */
#define WORKER_DEFERRED_MAX 64
/* Vifs one guest may have (the supervisor's bound), so queues one thread serves. */
#define WORKER_VIFS_MAX 64

/* A port left masked until @due_ms: its guest kept notifying for nothing. */
struct worker_deferred_eoi {
	int port;
	uint64_t due_ms;
};

/* Where a local port's events go: a queue's rings, or a vif's control ring. */
struct worker_route {
	struct vif_queue *q;
	struct vif *ctrl;
};

/* A TAP the supervisor handed over, until a vif takes it. */
struct worker_tap {
	struct worker_tap *next;
	unsigned devid;
	unsigned nr_queues;        /* queue fds handed over (1 for a single-queue TAP) */
	struct tap tap[VIF_MAX_QUEUES];
	struct vif_journal *journal; /* NULL until (unless) it comes */
};

/*
 * A data-path thread: it serves queue @index of each of the guest's vifs
 * (with one vif, the usual case, one thread is one queue). It has its own
 * epoll set, its own event-channel handle (the ports of its queues only,
 * so no thread reads another's events) and grant-copy handle, because
 * platform handles are not thread-safe.
 *
 * @lock is held by the thread whenever it works and dropped only while it
 * sleeps in epoll_wait. The main thread takes it to change what the thread
 * serves (connect, disconnect: bind and unbind ports on @evt, register
 * fds), to read or reset its queues' counters, and to tell it to stop;
 * so everything below, and the vif_queue fields the data path uses, are
 * only touched under it.
 */
struct worker_thread {
	struct worker *d;
	unsigned index;
	pthread_t tid;
	bool started;
	pthread_mutex_t lock;
	int epfd;
	int wake_fd;               /* eventfd: stop, or look at every queue */
	int eoi_timer_fd;          /* a held-back unmask is due */
	int tick_fd;               /* 1 s: stall and drain checks */
	int rate_timer_fd;         /* a rate-limited queue's credit is due */
	uint64_t rate_due_us;      /* when it is armed for (0: not) */
	struct platform_gnttab *gnt;
	struct platform_evtchn *evt;
	bool stop;
	bool kicked;               /* look at every queue: work may wait unannounced */
	bool steered;              /* atomic: frames wait in its queues' inboxes */
	bool work_pending;         /* some queue has work left over */
	struct vif_queue *queues[WORKER_VIFS_MAX]; /* the queues it serves */
	unsigned nr_queues;
	struct vif *ctrls[WORKER_VIFS_MAX]; /* the control rings it serves (thread 0) */
	unsigned nr_ctrls;
	struct worker_route *port_map; /* local port -> queue or control ring */
	unsigned port_map_len;
	struct vif_queue **fd_map;   /* TAP fd -> queue */
	unsigned fd_map_len;
	struct worker_deferred_eoi deferred[WORKER_DEFERRED_MAX];
	unsigned nr_deferred;
};

struct worker {
	const struct platform_ops *ops;
	struct platform *plat;
	struct platform_gnttab *gnt; /* ring maps (main thread) */
	struct platform_xs *xs;
	unsigned self_domid;
	unsigned guest_domid;      /* the one guest this worker serves */
	unsigned max_queues;       /* offered to frontends: the number of threads */
	unsigned rx_stall_ms;      /* guest RX without buffers this long: carrier off */
	char backend_root[64];     /* /local/domain/<self>/backend/vif */
	char guest_dir[80];        /* backend_root/<guest> */
	int epfd;
	int ipc_fd;                /* to the supervisor */
	int notice_fd;             /* eventfd: a queue thread found a vif broken */
	struct vif *vifs;
	struct worker_tap *taps;   /* handed over, not yet probed */
	struct worker_thread threads[VIF_MAX_QUEUES];
	enum worker_source src_xs, src_notice;
};

/*
 * worker_queue_attach() - put a connected @q in its thread's care: its
 * ports routed, its TAP polled, and a look at its rings (work may wait).
 * Caller holds the thread's lock. 0 / -errno.
 */
int worker_queue_attach(struct worker_thread *t, struct vif_queue *q);
/* worker_queue_detach() - and out again (ports unrouted, TAP unpolled). Lock held. */
void worker_queue_detach(struct worker_thread *t, struct vif_queue *q);

/* worker_port_route() - route events of local @port to @q (NULL: unroute). Lock held. */
int worker_port_route(struct worker_thread *t, int port, struct vif_queue *q);
/* worker_port_route_ctrl() - ... to @v's control ring (NULL: unroute). Lock held. */
int worker_port_route_ctrl(struct worker_thread *t, int port, struct vif *v);

/*
 * worker_ctrl_attach() - put @v's connected control ring (port routed) in
 * @t's care, and have @t look at it (requests may wait). Lock held.
 * 0 / -ENOSPC.
 * worker_ctrl_detach() - and out again, its port unrouted. Lock held.
 */
int worker_ctrl_attach(struct worker_thread *t, struct vif *v);
void worker_ctrl_detach(struct worker_thread *t, struct vif *v);

/* worker_tap_poll() - watch @q's TAP for input, or stop (host-side back-pressure). */
void worker_tap_poll(struct vif_queue *q, bool on);
/*
 * worker_tap_forget() - @q's TAP fd out of its thread's epoll set for good:
 * a TAP the host deleted stays readable (EPOLLERR, which no event mask
 * turns off) while every read fails. Lock held.
 */
void worker_tap_forget(struct vif_queue *q);

/*
 * worker_rate_wait() - @q's TX is out of credit until q->tx.rate_wait_until_us:
 * have its thread come back then. Lock held.
 */
void worker_rate_wait(struct vif_queue *q);

/* worker_kick() - have @t look at every queue it serves (lock held or not). */
void worker_kick(struct worker_thread *t);
/*
 * worker_steer_wake() - another thread steered frames to queues @t serves:
 * have it take them from their inboxes. Called without @t's lock.
 */
void worker_steer_wake(struct worker_thread *t);

/* Monotonic microseconds (the precise clock: only rate limits read it). */
uint64_t worker_now_us(void);

/* worker_thread_lock() / unlock() - see struct worker_thread. */
void worker_thread_lock(struct worker_thread *t);
void worker_thread_unlock(struct worker_thread *t);

/*
 * worker_threads_open() - each thread's handles (event channels confined
 * to the guest), epoll set and timers, before the sandbox: 0 / -errno.
 * worker_threads_start() - the threads themselves, after it.
 * worker_threads_close() - stop and join them, close what they had.
 */
int worker_threads_open(struct worker *d);
int worker_threads_start(struct worker *d);
void worker_threads_close(struct worker *d);

/* worker_notice() - from a queue thread: a vif needs the main thread (broken). */
void worker_notice(struct worker *d);

/*
 * worker_take_tap() - the TAP queue fds (and journal) handed over for
 * @devid, moved into @out[VIF_MAX_QUEUES], @nr_queues and @journal.
 * 0 / -ENOENT.
 */
int worker_take_tap(struct worker *d, unsigned devid, struct tap *out, unsigned *nr_queues,
		    struct vif_journal **journal);

/*
 * worker_link() - ask the supervisor to bring @v's TAP up or down (and set
 * its MTU unless @mtu is 0): the worker holds no capability to do it.
 */
void worker_link(struct worker *d, const struct vif *v, bool up, unsigned mtu);

/* worker_vif_gone() - tell the supervisor the toolstack removed @v. */
void worker_vif_gone(struct worker *d, const struct vif *v);

/* worker_tap_lost() - tell the supervisor @v's TAP is unusable (v->tap_lost: errno). */
void worker_tap_lost(struct worker *d, const struct vif *v);

/* Monotonic milliseconds. */
uint64_t worker_now_ms(void);

#endif
