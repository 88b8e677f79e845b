/* SPDX-License-Identifier: MIT */
/*
 * vif.h - one guest network interface served by xnbd, and its queues.
 *
 * A vif is created when backend/vif/<domid>/<devid> appears and the
 * supervisor has handed over its TAP (made at once, so the toolstack's
 * hotplug script finds it at InitWait), connected when the frontend has
 * published its rings (or resumed, after a worker restart), and destroyed
 * when the toolstack takes it offline. The queue is the unit of data-path
 * work: its rings, event channel(s), TAP queue fd, batches and host-side
 * RX queue belong to it, and queue i of every vif is served by the
 * worker's thread i (worker.h), under that thread's lock. The frontend
 * picks how many queues (multi-queue-num-queues, up to what we publish in
 * multi-queue-max-queues); the TAP has one fd per queue (IFF_MULTI_QUEUE),
 * the unused ones detached so the kernel steers nothing to them.
 *
 * A frontend may also connect a control ring (ctrl-ring-ref,
 * event-channel-ctrl) to configure hashing (vif_ctrl.c). It is served by
 * thread 0, under that thread's lock; the hash state it sets is read by
 * every queue's RX path, under the vif's hash_lock.
 *
 * Steering. With hashing on, the guest's mapping table picks each host
 * frame's queue, as in Linux. The kernel has already picked the TAP queue
 * fd the frame arrived on, so a frame the table gives to another queue is
 * handed to that queue's inbox and its thread woken. RX buffers belong to
 * the vif (one mapping for all its queues and inboxes) and a hand-over
 * swaps buffers, so no bytes are copied and every queue and inbox keeps
 * the number of buffers it started with.
 */
#ifndef XNB_BACKEND_VIF_H
#define XNB_BACKEND_VIF_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "platform.h"
#include "credit.h"
#include "ctrl.h"
#include "rx.h"
#include "tap.h"
#include "tx.h"

/* Queues a frontend may have: Linux netback's default cap (xenvif_max_queues
 * is the number of CPUs; we cap at 8 as the configuration does). */
#define VIF_MAX_QUEUES 8
/* Host packets waiting for guest RX slots, per queue (XSA-392: bounded). */
#define VIF_RXQ_LEN 256
/* ... and their bytes: half a ring of pages, Linux's XENVIF_RX_QUEUE_BYTES. */
#define VIF_RXQ_BYTES (ENGINE_RX_RING_SIZE / 2 * 4096u)
/* Largest frame a TAP hands us with GSO: 64 KiB of IP plus L2 headers, in
 * whole pages so that every buffer starts on a page: each guest RX page is
 * then filled from one of ours with one grant-copy operation, not two. */
#define VIF_RXQ_BUF (65536 + 4096)
/* Frames handed to a queue by other queues' threads, waiting for its thread. */
#define VIF_INBOX_LEN 32
#define VIF_INBOX_BYTES (VIF_RXQ_BYTES / 2)
/* Multicast addresses a frontend may subscribe (Linux: XEN_NETBK_MCAST_MAX). */
#define VIF_MCAST_MAX 64
/* Queued RX packets older than this, while the guest posts no buffers, are dropped. */
#define VIF_RX_DRAIN_MS 10000

struct worker;
struct worker_thread;
struct vif;

/* Event-loop tags: the main thread's sources, then a queue thread's. */
enum worker_source {
	SRC_XS, SRC_IPC, SRC_SIGNAL, SRC_TIMER, SRC_NOTICE,
	SRC_EVTCHN, SRC_TAP, SRC_EOI, SRC_WAKE, SRC_TICK, SRC_RATE,
};

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
	uint64_t rx_stall_carrier_off; /* ... for rx_stall_timeout: carrier dropped */
	uint64_t events, spurious_events;
	uint64_t eoi_delayed;      /* unmasks held back after spurious events */
	uint64_t notify_tx, notify_rx;
	uint64_t copy_batches, copy_errors; /* grant-copy calls that failed whole */
	/*
	 * Host frames read on this queue's TAP fd that the guest's mapping
	 * table gives to another queue: handed to it (steered), or, when its
	 * inbox was full or it was not connected, delivered here (misqueued).
	 */
	uint64_t rx_hash_steered;
	uint64_t rx_hash_misqueued;
};

/*
 * A queue's inbox: frames other queues' threads steered to it. Its lock is
 * a leaf (taken with a thread lock held, never the other way round): the
 * sender holds its own thread's lock, the owner its own. nfree + count is
 * always VIF_INBOX_LEN: a sender swaps its frame's buffer for a free one.
 */
struct vif_inbox {
	pthread_mutex_t lock;
	bool open;                 /* the queue is connected: frames may come */
	struct vif_rxq_slot slot[VIF_INBOX_LEN];
	unsigned head, count;      /* count: atomic loads may peek without the lock */
	uint32_t bytes;
	uint8_t *free[VIF_INBOX_LEN];
	unsigned nfree;
};

struct vif_queue {
	struct vif *vif;
	struct worker_thread *t;   /* the thread that serves it */
	unsigned index;
	struct tap tap;            /* this queue's fd of the vif's TAP */
	bool connected;            /* rings mapped, ports bound, in its thread's care */
	char fault[96];            /* the frontend broke the protocol here (thread -> main) */
	const char *fault_ring;    /* on which ring: "TX" or "RX" */
	struct log_ratelimit rl;   /* guest-triggered messages */
	void *tx_ring, *rx_ring;  /* mapped frontend pages */
	int port_tx, port_rx;     /* local ports; equal unless split */
	struct engine_tx_queue tx;
	struct engine_rx_queue rx;
	struct engine_credit credit; /* the `rate` limit of guest TX, per queue as Linux */
	struct engine_tx_batch *txb;
	uint8_t *tx_arena;
	struct engine_rx_batch *rxb;
	struct vif_rxq_slot *rxq;  /* VIF_RXQ_LEN slots */
	unsigned rxq_head, rxq_count;
	uint8_t **rxq_free;        /* buffers not queued: a stack, the last freed on top */
	unsigned rxq_nfree;        /* + rxq_count: always VIF_RXQ_LEN */
	struct vif_inbox inbox;
	uint32_t rxq_bytes;        /* frame bytes queued */
	bool rx_waiting;           /* waiting for guest RX buffers */
	bool stalled;              /* too few guest RX buffers for rx_stall_timeout: carrier off */
	unsigned stall_need;       /* slots the frame that stalled it needed: what unstalls */
	uint64_t last_rx_ms;       /* when the guest last took frames, or began to be waited on */
	bool tap_readable;         /* epoll said so, and no read has found it empty since */
	unsigned read_batch;       /* TAP reads per submission, adapted to the traffic */
	bool tap_registered;       /* TAP fd in the epoll set */
	bool tap_polled;           /* ... and polled for input */
	int tap_error;             /* a read or write found the TAP unusable (errno): the
				    * fd is out of the epoll set for good, guest TX is
				    * dropped (tx_drop_host) until a new worker takes a
				    * new TAP (thread -> main, as fault) */
	bool tx_pending, rx_pending; /* work left after the per-wake budget */
	RING_IDX rx_prod_seen;     /* the guest's RX req_prod at the last event */
	unsigned spurious_streak[2]; /* consecutive spurious events: tx port, rx port */
	struct vif_queue_stats stats;
};

struct vif_features {
	bool sg, gso_tcpv4, gso_tcpv6, csum, ipv6_csum, mcast_control;
};

struct vif_journal;

/*
 * The control ring. The keys are what the frontend wrote (set by the
 * handshake before vif_connect); the rest is thread 0's, under its lock,
 * from vif_ctrl_connect() to vif_ctrl_disconnect(), except eng.hash (see
 * struct vif's hash_lock).
 */
struct vif_ctrl {
	bool wanted;               /* the frontend wrote both keys */
	uint32_t ref, evtchn;      /* ctrl-ring-ref, event-channel-ctrl */
	bool connected;            /* mapped, bound, in thread 0's care */
	void *ring;                /* the mapped page */
	int port;                  /* local port on thread 0's handle, or -1 */
	struct engine_ctrl eng;
	struct engine_ctrl_batch *batch;
	bool pending;              /* requests left after the per-wake-up budget */
	char fault[96];            /* the frontend broke the ring (thread 0 -> main) */
	unsigned spurious_streak;
	uint64_t events, spurious_events, eoi_delayed;
};

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
	uint64_t initwait_ms;      /* when we wrote InitWait: the hotplug script's clock */
	bool hotplug_checked;      /* xenbus_tick() has looked for a silent script */
	char broken[128];          /* why the guest's vif was disconnected */
	char broken_where[40];     /* on which ring ("queue 1's RX ring"); cleared with broken */
	struct vif_features fe;    /* what the frontend asked for */
	unsigned mtu;
	uint64_t rate_bytes;       /* the `rate` node: bytes per rate_usec (or unlimited) */
	uint32_t rate_usec;
	bool carrier;              /* as last asked of the supervisor */
	int tap_lost;              /* a queue found its TAP unusable (errno): said once,
				    * and told the supervisor, which makes it again */
	char ifname[16];           /* the TAP's name */
	unsigned max_queues;       /* what we offer: threads, and TAP fds we hold */
	unsigned nr_queues;        /* what the frontend asked for */
	struct vif_queue queues[VIF_MAX_QUEUES];
	/* The RX buffers of every queue and inbox, from connect to disconnect. */
	uint8_t *rx_mem;
	size_t rx_mem_size;
	pthread_mutex_t mcast_lock; /* the list below: any queue's TX writes, every RX reads */
	uint8_t mcast[VIF_MCAST_MAX][6];
	unsigned nr_mcast;
	struct vif_ctrl ctrl;
	/*
	 * ctrl.eng.hash: written by thread 0 (engine_ctrl_commit) and by the
	 * main thread at connect and disconnect, exclusive; read by every
	 * queue thread's RX (engine_hash_packet), shared. hash_on (atomic)
	 * says whether hashing is on at all (Toeplitz and some flags): RX of a
	 * vif that never turned it on takes no lock.
	 */
	pthread_rwlock_t hash_lock;
	bool hash_on;
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
 * configure the TAP for what it negotiated, for v->nr_queues queues (the
 * arrays have one entry each), and hand each queue to its thread. Returns
 * 0 or -errno with a reason for the XenStore error node in @why.
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

/*
 * vif_mark_broken() - the frontend broke the protocol (@where: on which ring,
 * or ""): disconnect, log once. Main thread.
 */
void vif_mark_broken(struct vif *v, const char *reason, const char *where);

/*
 * vif_check_notices() - main thread: what the queue threads flagged.
 * Vifs with a protocol fault are disconnected; a vif whose TAP is gone
 * (deleted by the host) is logged once and reported to the supervisor,
 * the guest staying Connected; a vif's carrier follows its queues' stalls.
 */
void vif_check_notices(struct worker *d);

/*
 * vif_set_rate() - main thread: the `rate` node changed (or was read at
 * connect): apply @bytes per @usec to every queue, live (credit.h).
 */
void vif_set_rate(struct vif *v, uint64_t bytes, uint32_t usec);

/*
 * vif_set_mcast_control() - main thread: the frontend's
 * request-multicast-control changed: filter guest RX multicast by its
 * list, or not (Linux's xen_mcast_ctrl_changed). MCAST_ADD/DEL requests
 * amend the list either way, as netif.h allows; the list is kept.
 */
void vif_set_mcast_control(struct vif *v, bool on);

/*
 * vif_ctrl_connect() - main thread, from vif_connect(): map the control
 * ring of v->ctrl's keys, bind its event channel on thread 0 and put it in
 * that thread's care; on @resume, restore the hash state the journal kept
 * (and finish a publish the last worker left). 0, or -errno with @why.
 * vif_ctrl_disconnect() - main thread: out of thread 0's care, unbound,
 * unmapped, hashing off. Idempotent.
 */
int vif_ctrl_connect(struct vif *v, bool resume, char *why, size_t why_len);
void vif_ctrl_disconnect(struct vif *v);
/*
 * Thread 0, its lock held: the frontend notified on the control ring (or
 * we look unasked). Returns true if the event brought no work.
 */
bool vif_ctrl_event(struct vif *v);
void vif_ctrl_run_pending(struct vif *v);  /* finish work left by the budget */

/* Data path, in the queue's thread with its lock held. */
/* The frontend notified us. Returns true if the event brought no work. */
bool vif_queue_event(struct vif_queue *q);
void vif_queue_tap_readable(struct vif_queue *q);
void vif_queue_inbox(struct vif_queue *q);        /* other queues steered frames to it */
void vif_queue_run_pending(struct vif_queue *q);  /* finish work left by the budget */
void vif_queue_tick(struct vif_queue *q, uint64_t now_ms); /* stall / drain checks */
/* The queue's TX waits for credit: run it if @now_us has reached the wait's end. */
void vif_queue_rate_due(struct vif_queue *q, uint64_t now_us);

#endif
