/* SPDX-License-Identifier: MIT */
/*
 * netfront.h - the userspace netfront: one guest vif whose NIC is a TAP in
 * the guest's network namespace.
 *
 * handshake.c speaks XenBus from the guest side (device/vif/<devid>),
 * datapath.c moves frames between the TAP and the rings through the
 * frontend engine (src/engine/front.h), ctrl.c configures the backend's
 * hashing over the control ring (--hash), mcast.c keeps the backend's
 * multicast filter in step with the NIC (--mcast-control), main.c owns the
 * event loop.
 *
 * Threads. The main thread owns XenStore, the XenBus state machine, the
 * grant-sharing handle and everything in struct netfront outside the
 * queues. Each queue (struct nf_queue) has one thread moving its frames,
 * from nf_datapath_start() to nf_datapath_stop(): it alone touches the
 * queue's engine state, its event-channel handle and its TAP fd while it
 * runs; the main thread sets the queue up before the thread starts and
 * tears it down after the join, so pthread_create / pthread_join order the
 * two. While a thread runs, the main thread reads only its stats snapshot
 * (under nf_queue.lock) and its `broken` flag (atomic). The control ring
 * is the main thread's alone; the queue threads only read the hash types
 * it set (netfront.hash_flags, atomic) to check the hashes they receive.
 * The other thing the main thread hands a running thread is the NIC's
 * multicast list, to queue 0 (netfront.mcast_want under mcast_lock, and a
 * wake-up on mcast_fd).
 */
#ifndef XNB_FRONTEND_NETFRONT_H
#define XNB_FRONTEND_NETFRONT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "front.h"
#include "front_ctrl.h"
#include "log.h"
#include "platform.h"
#include "tap.h"

#define NF_TX_BUFS 256
#define NF_RX_BUFS 256
/* Linux's xen-netfront default (MAX_QUEUES_DEFAULT): at most 8 queues. */
#define NF_MAX_QUEUES 8u

/* What one queue counts: the engine's counters and ours around it. */
struct nf_queue_stats {
	struct engine_front_tx_stats tx;
	struct engine_front_rx_stats rx;
	uint64_t tx_host_unsupported; /* frames the TAP gave us that netif cannot carry */
	uint64_t tx_host_too_big;     /* refused by the engine (too long, bad offload) */
	uint64_t rx_host_errors;      /* frames the TAP would not take */
	uint64_t events;              /* wake-ups by the backend's notifications */
	uint64_t notify_errors;       /* evtchn_notify failed (backend's port unbound): ignored */
	uint64_t rx_hash_match;       /* hash extras equal to our own hash of the packet */
	uint64_t rx_hash_mismatch;    /* ... that differ from it (value or type) */
	uint64_t rx_hash_wrong_queue; /* ... on another queue than our mapping table names */
};

/*
 * Pages the backend still maps from earlier connections (grants.c) at
 * which the netfront starts no new connection: a few rings' worth.
 */
#define NF_DEFERRED_MAX 64u

/* --mcast-control: the NIC's multicast addresses we subscribe, at most. */
#define NF_MCAST_MAX 128u

/* A set of link-layer multicast addresses. */
struct nf_mcast_list {
	unsigned n;
	uint8_t addr[NF_MCAST_MAX][6];
};

/* One address as queue 0 knows it in the backend's filter (state: MC_* in mcast.c). */
struct nf_mcast_entry {
	uint8_t addr[6];
	uint8_t state;
};

/* What the backend's filter holds for this connection, as queue 0 asked for it. */
struct nf_mcast_sync {
	bool dirty;                /* compare again: an answer came, or a request had to wait */
	bool refused_logged;       /* a refusal was logged (once per connection) */
	unsigned n;
	struct nf_mcast_entry e[NF_MCAST_MAX];
};

struct netfront;
struct nf_deferred;

/* One queue pair: rings, buffers, event channel(s), TAP queue, thread. */
struct nf_queue {
	struct netfront *nf;
	unsigned id;

	/* Set up by the main thread before the thread starts. */
	struct platform_evtchn *evt; /* this queue's own handle: handles are not thread-safe */
	int port;                    /* unbound, then bound by the backend */
	int port_rx;                 /* the RX one when split, else -1 */
	void *tx_ring_page, *rx_ring_page;
	uint32_t tx_ring_ref, rx_ring_ref;
	uint8_t *tx_pages, *rx_pages;
	uint32_t tx_refs[NF_TX_BUFS], rx_refs[NF_RX_BUFS];
	struct engine_front_buf tx_bufs[NF_TX_BUFS], rx_bufs[NF_RX_BUFS];
	uint8_t *rx_arena;
	uint8_t *tx_frame;           /* one frame read from the TAP */
	struct tap own_tap;          /* queues 1..: our fd on the multi-queue TAP */
	struct tap *tap;             /* &nf->tap for queue 0, else &own_tap */
	int epfd;                    /* the thread's: stop, event channel, TAP */
	pthread_t thread;
	bool thread_started;

	/* The queue's thread only, while it runs. */
	struct engine_front_tx_queue tx;
	struct engine_front_rx_queue rx;
	struct engine_front_rx_batch rxb;
	bool tap_polled;
	bool work_pending;
	struct nf_queue_stats c;     /* c.tx / c.rx unused: the engine's are live */
	uint64_t rx_err_logged[ENGINE_FRONT_RX_ERR_MAX]; /* rx.stats.err[] when last logged */
	struct log_ratelimit rl;
	struct nf_mcast_sync mc;     /* queue 0, when netfront.mcast */

	/* Shared with the main thread. */
	pthread_mutex_t lock;        /* protects snap */
	bool lock_init;
	struct nf_queue_stats snap;  /* copied by the thread after each wake-up */
	char why[96];                /* written once, before broken is set */
	atomic_bool broken;          /* release by the thread, acquire by main */
	atomic_int tap_error;        /* the NIC's TAP fails (errno): the thread returned */
};

/* The control ring's configuration steps (ctrl.c). */
enum nf_ctrl_step {
	NF_CTRL_IDLE,     /* not started (or no ring) */
	NF_CTRL_QUERY,    /* algorithm set, flags and mapping size asked */
	NF_CTRL_CONFIG,   /* key, flags, mapping sent */
	NF_CTRL_DONE,     /* every answer in */
	NF_CTRL_FAILED,   /* a first-step answer refused: nothing configured */
};

/* The control ring of one connection: main thread only. */
struct nf_ctrl {
	bool on;                   /* set up: its keys are published */
	void *ring_page, *key_page, *map_page;
	uint32_t ring_ref, key_ref, map_ref;
	int port;                  /* on netfront.ctrl_evt, or -1 */
	struct engine_front_ctrl eng;
	enum nf_ctrl_step step;
	uint32_t offered_flags;    /* GET_HASH_FLAGS' answer */
	uint32_t max_mapping;      /* GET_HASH_MAPPING_SIZE's answer */
	unsigned refused;          /* requests the backend answered with anything but SUCCESS */
};

struct netfront {
	const struct platform_ops *ops;
	struct platform *plat;
	struct platform_gntshr *shr; /* main thread only: pages are shared at set-up */
	/* grants.c, main thread only. */
	unsigned shared_pages;     /* shared and not released: this connection's and deferred */
	struct nf_deferred *deferred; /* shares the backend still mapped when they were ended */
	unsigned deferred_pages;   /* their pages */
	uint64_t deferred_released; /* pages released by a later try, in all */
	bool connect_held;         /* NF_DEFERRED_MAX reached: waiting for the backend to unmap */
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
	bool be_multi_queue;       /* it publishes multi-queue-max-queues */
	unsigned mtu;

	bool want_split;           /* use split channels when the backend offers them */
	bool want_mcast;           /* --mcast-control: ask for multicast filtering */
	bool mcast;                /* this connection: request-multicast-control=1 written */
	bool no_reconnect;         /* --no-reconnect: Closed is final, as in Linux netfront */
	unsigned want_queues;      /* --queues: 1..NF_MAX_QUEUES */
	bool want_hash;            /* --hash: configure hashing if the backend has a control ring */
	unsigned hash_rotate;      /* --hash-rotate: table[i] = (i + this) % queues */
	bool be_ctrl;              /* it offers feature-ctrl-ring */
	struct platform_evtchn *ctrl_evt; /* --hash: the control ring's, main thread's */
	struct nf_ctrl ctrl;
	/*
	 * The hash types we asked for (0: none), set by the main thread before
	 * it asks, read by the queue threads to check each hash extra.
	 */
	atomic_uint hash_flags;
	atomic_uint hash_mapping_size; /* entries of the table we gave (table[i] = i % queues) */

	/* The connection's queues: nr_queues of them from set-up to tear-down. */
	struct nf_queue *queues;
	unsigned nr_queues;
	int stop_fd;               /* eventfd, readable: the queue threads return */
	int notify_fd;             /* eventfd: a queue thread has news for main (broken) */
	bool data_ran;             /* threads were started: tear-down reports the counters */

	struct tap tap;            /* the NIC; queue 0's fd, open for the process's life */
	uint8_t mac[6];

	/* --mcast-control (mcast.c): the NIC's multicast list, read by the main thread. */
	unsigned mcast_ifindex;
	int mcast_timer;           /* timerfd: read the list again */
	int mcast_fd;              /* eventfd: the list changed; queue 0's thread polls it */
	pthread_mutex_t mcast_lock; /* protects mcast_want */
	bool mcast_lock_init;
	struct nf_mcast_list mcast_want;
	bool mcast_overflow_logged, mcast_read_failed;
};

/* handshake.c */
int nf_handshake_start(struct netfront *nf);          /* read device nodes, watch */
void nf_handshake_event(struct netfront *nf);         /* a watch fired */
void nf_handshake_tick(struct netfront *nf);          /* retry deferred pages, resume */
void nf_handshake_close(struct netfront *nf);         /* orderly Closing -> Closed */
void nf_mark_broken(struct netfront *nf, const char *reason);

/*
 * grants.c, main thread. Every page granted to the backend is shared and
 * unshared through these, so that nf->shared_pages counts them.
 *
 * nf_share() - @count pages granted to the backend (gntshr_share): the
 * local mapping, or NULL + errno.
 * nf_unshare() - release what nf_share() gave at *@addr and clear it. If
 * the backend still maps a page (the platform refuses), the share goes on
 * the deferred list, counted in nf->deferred_pages, to be tried again;
 * @what names it in the log ("the TX ring").
 * nf_deferred_retry() - try the deferred shares again; log what was
 * released (once for all of them). Returns the pages released.
 * nf_deferred_full() - NF_DEFERRED_MAX pages or more still held: no new
 * connection.
 * nf_deferred_exit() - a last try, then forget the list (the platform's
 * close leaves still-mapped pages to it); logs what is left.
 */
void *nf_share(struct netfront *nf, unsigned count, uint32_t *refs, bool writable);
void nf_unshare(struct netfront *nf, void **addr, unsigned count, const char *what);
unsigned nf_deferred_retry(struct netfront *nf);
bool nf_deferred_full(const struct netfront *nf);
void nf_deferred_exit(struct netfront *nf);

/*
 * datapath.c, all called from the main thread.
 *
 * nf_datapath_setup() - nf->nr_queues queues: rings, buffers and their
 * grants, event channel(s), TAP queue fds; no thread yet. 0 or -errno (then
 * whatever was made is torn down). A queue after the first that cannot be
 * made lowers nf->nr_queues instead (Linux's xennet_create_queues).
 * nf_datapath_start() - one thread per queue starts moving frames. 0 or -errno.
 * nf_datapath_stop() - the threads return and are joined; idempotent.
 * nf_datapath_teardown() - stop, log the counters, unbind, unshare, close,
 * free the queues; idempotent.
 * nf_datapath_broken() - the reason of a queue that broke the protocol
 * (its thread has returned), or NULL; after nf->notify_fd fired.
 * nf_datapath_tap_lost() - the errno of a queue whose TAP fails (the host
 * deleted the NIC: EBADFD; its thread has returned), or 0.
 * nf_datapath_report() - log each queue's counters and, with several, the sum.
 */
/*
 * ctrl.c, main thread.
 *
 * nf_ctrl_setup() - with --hash and a backend offering feature-ctrl-ring:
 * the ring page, the key and mapping pages (granted read-only), an unbound
 * port; nf->ctrl.on says the keys are to be published. 0 or -errno (then
 * nothing is left).
 * nf_ctrl_start() - the backend is Connected: ask for Toeplitz, ask which
 * hash types and how big a mapping it takes; the rest follows the answers.
 * nf_ctrl_event() - nf->ctrl_evt fired: take the answers, go on.
 * nf_ctrl_teardown() - unbind, unshare; idempotent.
 * nf_hash_key - the key we set: Microsoft's RSS verification key.
 */
int nf_ctrl_setup(struct netfront *nf);
void nf_ctrl_start(struct netfront *nf);
void nf_ctrl_event(struct netfront *nf);
void nf_ctrl_teardown(struct netfront *nf);
extern const uint8_t nf_hash_key[ENGINE_HASH_KEY_MAX];

int nf_datapath_setup(struct netfront *nf);
int nf_datapath_start(struct netfront *nf);
void nf_datapath_stop(struct netfront *nf);
void nf_datapath_teardown(struct netfront *nf);
const char *nf_datapath_broken(struct netfront *nf);
int nf_datapath_tap_lost(struct netfront *nf);
void nf_datapath_report(struct netfront *nf, const char *when);

/*
 * mcast.c. nf_mcast_init() - main thread, with --mcast-control, once the
 * NIC exists: the timer (nf->mcast_timer, for the caller's loop), the
 * wake-up eventfd, and a first reading of the list. 0 or -errno; call
 * nf_mcast_close() either way.
 * nf_mcast_refresh() - main thread, when mcast_timer is readable: read the
 * NIC's list again; when it changed, publish it and wake queue 0.
 * nf_mcast_close() - close what init opened; idempotent.
 * nf_mcast_sync() - queue 0's thread, when nf->mcast, after each TX reap
 * and (@woken) when nf->mcast_fd is readable: take the backend's answers,
 * then write MCAST_DEL / MCAST_ADD requests until its filter is the NIC's
 * list (or the ring is full: the answers bring it back). True when
 * requests were written: the caller pushes and notifies.
 */
int nf_mcast_init(struct netfront *nf);
void nf_mcast_refresh(struct netfront *nf);
void nf_mcast_close(struct netfront *nf);
bool nf_mcast_sync(struct nf_queue *q, bool woken);

#endif
