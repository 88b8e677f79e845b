/* SPDX-License-Identifier: MIT */
/*
 * front.h - the frontend (netfront) side of the netif protocol engine.
 *
 * Theory of operation. The frontend owns the shared rings and a pool of
 * buffer pages per direction, each page granted to the backend by the
 * caller: for each buffer slot the caller hands over its grant reference and
 * a local pointer to the page (struct engine_front_buf). The engine never
 * grants, maps, notifies or allocates; it moves bytes between caller memory
 * and those pages and tells the caller what to do (notify or not, poll
 * again or not).
 *
 * TX (the guest sends). engine_front_tx_send() copies a packet into free TX
 * buffer pages, one slot per page, and writes its requests privately: data
 * slot 0 carries the whole packet size, then an optional GSO extra slot, then
 * the further data slots with their own sizes, chained by NETTXF_more_data.
 * Request ids are buffer indices. engine_front_tx_push() publishes everything
 * written so far and says whether the backend wants an event.
 * engine_front_tx_reap() consumes the backend's responses and frees their
 * buffers; a buffer is outstanding from send until the response carrying
 * its id, and never in two places at once.
 *
 * Multicast filter (request-multicast-control). engine_front_tx_mcast()
 * writes the "dummy transmit request" netif.h asks for: a data slot of
 * size 0 with NETTXF_extra_info, followed by one MCAST_ADD / MCAST_DEL
 * extra slot. Its id is a buffer's, taken like a packet's (no data goes in
 * it), so the response is checked as strictly as any other. The backend's
 * answer (OKAY, or ERROR when its table is full) comes back through
 * engine_front_tx_mcast_result(), one per request, in the order answered.
 *
 * RX (the guest receives). engine_front_rx_refill() posts every free RX
 * buffer into the ring (id = buffer index, gref = its page's grant).
 * engine_front_rx_poll() consumes whole packets from the responses: a first
 * data slot, its extra-info chain, further data slots. A response sits in
 * the slot of the request it answers, so the engine finds the buffer from
 * the slot (as Linux netfront does) and insists the echoed id is the one it
 * posted there. Good packets are copied out of the buffer pages into the
 * caller's batch arena with their metadata; bad ones are counted as errors.
 * Either way their buffers go back to the pool and are posted again.
 *
 * The backend is untrusted (conformance/xsa.md, last paragraph). Producer
 * indices are read once per round and bounded by what we published; each
 * response is copied out of the ring once and only the copy is used. A
 * backend that breaks the ring protocol (indices no honest backend can
 * produce, ids we never issued or already got back) gets the queue marked
 * with an engine_front_fault; the engine then refuses all work on it and
 * the caller disconnects. Malformed packets only cost an error counter.
 */
#ifndef XNB_ENGINE_FRONT_H
#define XNB_ENGINE_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta.h"
#include "ring.h"

/* One buffer per ring slot is all either direction can ever have in flight. */
#define ENGINE_FRONT_MAX_BUFS 256u
_Static_assert(ENGINE_TX_RING_SIZE == ENGINE_FRONT_MAX_BUFS &&
	       ENGINE_RX_RING_SIZE == ENGINE_FRONT_MAX_BUFS,
	       "buffer tables are sized by the ring");

/* XEN_NETIF_NR_SLOTS_MIN: the most data slots any backend must take per TX packet. */
#define ENGINE_FRONT_TX_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/*
 * The first TX slot's size field is 16 bits: XEN_NETIF_MAX_TX_SIZE. Filled
 * a whole page per slot, such a packet takes 16 slots, so today this limit
 * bites before the slot limit does; both are checked.
 */
#define ENGINE_FRONT_TX_MAX_LEN XEN_NETIF_MAX_TX_SIZE

/*
 * Data slots an RX packet may use: XEN_NETIF_NR_SLOTS_MIN, plus one for a
 * backend that puts a short head in a slot of its own (what Linux netfront
 * accepts at most).
 */
#define ENGINE_FRONT_RX_MAX_DATA_SLOTS (XEN_NETIF_NR_SLOTS_MIN + 1)
/* Extra-info slots per RX packet: one per type that exists. */
#define ENGINE_FRONT_RX_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)
/* The largest packet engine_front_rx_poll() delivers. */
#define ENGINE_FRONT_RX_PKT_MAX ((size_t)ENGINE_FRONT_RX_MAX_DATA_SLOTS * ENGINE_PAGE_SIZE)
/*
 * RX buffers needed so that every packet an honest backend may send fits in
 * the posted buffers at once (a smaller pool could wait forever on one).
 */
#define ENGINE_FRONT_RX_MIN_BUFS \
	(ENGINE_FRONT_RX_MAX_DATA_SLOTS + ENGINE_FRONT_RX_MAX_EXTRAS + 1)

/* Packets one engine_front_rx_poll() returns at most (a NAPI-like budget). */
#define ENGINE_FRONT_RX_BATCH 64u
/* Packets start on this alignment in the RX arena (a cache line). */
#define ENGINE_FRONT_RX_ALIGN 64u
/* The smallest RX arena that always makes progress: one maximal packet. */
#define ENGINE_FRONT_RX_ARENA_MIN (ENGINE_FRONT_RX_PKT_MAX + ENGINE_FRONT_RX_ALIGN)

/* Why a queue was declared broken (the frontend's counterpart of engine_fault). */
enum engine_front_fault {
	ENGINE_FRONT_FAULT_NONE = 0,
	ENGINE_FRONT_FAULT_TX_RSP_PROD, /* TX rsp_prod past the requests we published */
	ENGINE_FRONT_FAULT_TX_BAD_ID,   /* TX response id outside the buffer pool */
	ENGINE_FRONT_FAULT_TX_ID_FREE,  /* TX response for a buffer not outstanding (twice, or never sent) */
	ENGINE_FRONT_FAULT_TX_NULL,     /* NETIF_RSP_NULL with no extra slot left to answer */
	ENGINE_FRONT_FAULT_RX_RSP_PROD, /* RX rsp_prod past the requests we posted */
	ENGINE_FRONT_FAULT_RX_ID,       /* RX response id not the one posted in its slot */
	ENGINE_FRONT_FAULT_RX_STUCK,    /* an RX packet left open over every buffer we have */
	ENGINE_FRONT_FAULT_CTRL_RSP_PROD, /* control rsp_prod past the requests we published */
	ENGINE_FRONT_FAULT_CTRL_ID,     /* control response id not outstanding */
	ENGINE_FRONT_FAULT_CTRL_TYPE,   /* control response type not its request's */
};

/* engine_front_fault_str() - a short, log-ready description of @f. */
const char *engine_front_fault_str(enum engine_front_fault f);

/* One buffer page of the pool, granted to the backend by the caller. */
struct engine_front_buf {
	uint8_t *page;  /* ENGINE_PAGE_SIZE bytes, local mapping */
	uint32_t gref;  /* the grant the backend uses for it */
};

/* ---- TX ---- */

/* What the backend advertised in XenStore. */
struct engine_front_tx_config {
	bool sg;         /* feature-sg: packets may span several slots */
	bool gso_tcpv4;  /* feature-gso-tcpv4 */
	bool gso_tcpv6;  /* feature-gso-tcpv6 */
	bool multicast_control; /* feature-(dynamic-)multicast-control, and we asked for it */
};

/* Why a TX packet failed (refused by send, or answered badly by the backend). */
enum engine_front_tx_err {
	ENGINE_FRONT_TX_ERR_NONE = 0,
	ENGINE_FRONT_TX_ERR_RSP_ERROR,   /* backend answered NETIF_RSP_ERROR */
	ENGINE_FRONT_TX_ERR_RSP_DROPPED, /* backend answered NETIF_RSP_DROPPED */
	ENGINE_FRONT_TX_ERR_RSP_UNKNOWN, /* backend answered a status netif.h does not define */
	ENGINE_FRONT_TX_ERR_TOO_BIG,     /* send refused: -EMSGSIZE */
	ENGINE_FRONT_TX_ERR_OFFLOAD,     /* send refused: GSO the backend did not advertise */
	ENGINE_FRONT_TX_ERR_EMPTY,       /* send refused: zero-length packet */
	ENGINE_FRONT_TX_ERR_MAX
};

struct engine_front_tx_stats {
	uint64_t packets, bytes;   /* queued on the ring */
	uint64_t requests;         /* ring slots written, extras included */
	uint64_t responses;        /* ring slots consumed, NULLs included */
	uint64_t completed;        /* packets whose first slot was answered */
	uint64_t okay;             /* ... with NETIF_RSP_OKAY */
	uint64_t errors;           /* all failed packets, any reason */
	uint64_t err[ENGINE_FRONT_TX_ERR_MAX];
	uint64_t busy;             /* sends refused with -EAGAIN (not errors) */
	uint64_t gso_packets;
	uint64_t csum_blank;       /* sent with NETTXF_csum_blank */
	uint64_t csum_finished;    /* partial checksums finished here: the backend could not place them */
	uint64_t mcast_requests;   /* multicast filter requests written (2 slots each) */
	uint64_t mcast_okay;       /* ... answered NETIF_RSP_OKAY */
	uint64_t mcast_errors;     /* ... answered anything else (ERROR: the table is full) */
};

/*
 * Multicast filter requests in flight plus answers not yet collected, at
 * most: engine_front_tx_mcast() says -EAGAIN beyond. (Linux netback keeps
 * 64 addresses, XEN_NETBK_MCAST_MAX; a frontend has no reason to have
 * more requests than that outstanding.)
 */
#define ENGINE_FRONT_MCAST_PENDING 64u

/* The backend's answer to one multicast filter request. */
struct engine_front_mcast_result {
	uint8_t addr[6];
	bool add;        /* XEN_NETIF_EXTRA_TYPE_MCAST_ADD, else _DEL */
	int16_t status;  /* as the backend answered: NETIF_RSP_OKAY, NETIF_RSP_ERROR, ... */
};

struct engine_front_tx_queue {
	netif_tx_front_ring_t ring;     /* private req_prod_pvt / rsp_cons */
	RING_IDX req_published;         /* what we last wrote to sring->req_prod */
	struct engine_front_tx_config cfg;
	const struct engine_front_buf *bufs;
	unsigned nr_bufs, nr_free;
	uint32_t nulls_owed;            /* extra slots sent, NULL responses not yet seen */
	uint16_t free_list[ENGINE_FRONT_MAX_BUFS]; /* a stack of free buffer indices */
	uint8_t buf_state[ENGINE_FRONT_MAX_BUFS];  /* TX_BUF_* bits (front_tx.c) */
	uint8_t mcast_addr[ENGINE_FRONT_MAX_BUFS][6]; /* the address of a buffer's mcast request */
	unsigned mcast_out;             /* mcast requests sent, not yet answered */
	unsigned mcast_first, mcast_done; /* answers not yet collected: a FIFO in mcast_res */
	struct engine_front_mcast_result mcast_res[ENGINE_FRONT_MCAST_PENDING];
	struct engine_front_tx_stats stats;
	enum engine_front_fault fault;  /* set once; then the queue does nothing */
};

/*
 * engine_front_tx_init() - initialise the shared TX ring page @sring (we are
 * its owner: SHARED_RING_INIT) and attach @q to it with the @nr_bufs buffers
 * of @bufs (kept by pointer; they must outlive @q). All buffers start free.
 * Returns 0, or -EINVAL when @nr_bufs is 0 or above ENGINE_FRONT_MAX_BUFS.
 */
int engine_front_tx_init(struct engine_front_tx_queue *q, netif_tx_sring_t *sring,
			 const struct engine_front_tx_config *cfg,
			 const struct engine_front_buf *bufs, unsigned nr_bufs);

/*
 * engine_front_tx_slots() - data slots a packet of @len bytes takes (one
 * per page, 0 for an empty packet). Its ring footprint adds one slot for GSO.
 */
unsigned engine_front_tx_slots(uint32_t len);

/*
 * engine_front_tx_send() - copy the @len bytes at @data into free TX buffers
 * and write the requests for them (not yet published: see push). @meta may
 * be NULL (no offloads). Returns 0; -EAGAIN when free buffers or ring slots
 * are short (nothing consumed; reap and retry); -EMSGSIZE when the packet can
 * never go (over XEN_NETIF_MAX_TX_SIZE, over the slot limit, or several
 * slots without feature-sg); -EOPNOTSUPP for GSO of a type the backend did
 * not advertise (segment it first); -EINVAL for an empty packet; -EPROTO when
 * the queue is broken.
 */
int engine_front_tx_send(struct engine_front_tx_queue *q, const uint8_t *data, uint32_t len,
			 const struct engine_pkt_meta *meta);

/*
 * engine_front_tx_push() - publish the requests written so far.
 * Returns true when the backend asked to be notified of them.
 */
bool engine_front_tx_push(struct engine_front_tx_queue *q);

/*
 * engine_front_tx_reap() - consume up to @budget responses (capped at the
 * ring size), freeing their buffers, then re-arm rsp_event with the final
 * check. *@more is set when responses may be left (budget spent): call again
 * without waiting for an event. Returns the number of responses consumed, or
 * -EPROTO when the backend broke the protocol (@q->fault says how).
 */
int engine_front_tx_reap(struct engine_front_tx_queue *q, unsigned budget, bool *more);

/*
 * engine_front_tx_mcast() - write a request that adds (@add) or removes
 * @addr from the backend's multicast filter: a data slot of size 0 with
 * NETTXF_extra_info and the request's id (a buffer's), then the MCAST_ADD
 * or MCAST_DEL extra slot (flags 0). Not yet published: see push. Returns
 * 0; -EAGAIN when a buffer, two ring slots or room for the answer (see
 * ENGINE_FRONT_MCAST_PENDING) is short (collect answers, reap, retry);
 * -EOPNOTSUPP when cfg.multicast_control is off; -EINVAL when @addr is not
 * a multicast address; -EPROTO when the queue is broken.
 */
int engine_front_tx_mcast(struct engine_front_tx_queue *q, bool add, const uint8_t addr[6]);

/*
 * engine_front_tx_mcast_result() - the oldest answer to a multicast filter
 * request that reap has seen and nobody collected yet, into @out.
 * Returns true if there was one.
 */
bool engine_front_tx_mcast_result(struct engine_front_tx_queue *q,
				  struct engine_front_mcast_result *out);

/* engine_front_tx_free_bufs() - TX buffers free for sending. */
unsigned engine_front_tx_free_bufs(const struct engine_front_tx_queue *q);

/* engine_front_tx_free_slots() - TX ring slots free for requests. */
unsigned engine_front_tx_free_slots(const struct engine_front_tx_queue *q);

/* ---- RX ---- */

/* What we advertised to the backend. */
struct engine_front_rx_config {
	bool gso_tcpv4;  /* our feature-gso-tcpv4: GSO TCPv4 packets welcome */
	bool gso_tcpv6;  /* our feature-gso-tcpv6 */
};

/* Why an RX packet was discarded. */
enum engine_front_rx_err {
	ENGINE_FRONT_RX_ERR_NONE = 0,
	ENGINE_FRONT_RX_ERR_STATUS,  /* a slot with a negative status (NETIF_RSP_*) */
	ENGINE_FRONT_RX_ERR_PAGE,    /* a slot's offset + status past its page */
	ENGINE_FRONT_RX_ERR_SLOTS,   /* more than ENGINE_FRONT_RX_MAX_DATA_SLOTS data slots */
	ENGINE_FRONT_RX_ERR_EXTRAS,  /* more than ENGINE_FRONT_RX_MAX_EXTRAS extra slots */
	ENGINE_FRONT_RX_ERR_RUNT,    /* shorter than an Ethernet header */
	ENGINE_FRONT_RX_ERR_GSO,     /* GSO not advertised, size 0, or headers not matching */
	ENGINE_FRONT_RX_ERR_CSUM,    /* csum_blank on headers that cannot be located */
	ENGINE_FRONT_RX_ERR_MAX
};

/* engine_front_rx_err_str() - a short, log-ready description of @e. */
const char *engine_front_rx_err_str(enum engine_front_rx_err e);

struct engine_front_rx_stats {
	uint64_t packets, bytes;   /* delivered to the caller */
	uint64_t responses;        /* ring slots consumed, extras included */
	uint64_t requests;         /* buffers posted */
	uint64_t errors;           /* discarded packets, any reason */
	uint64_t err[ENGINE_FRONT_RX_ERR_MAX];
	uint64_t gso_packets;
	uint64_t csum_partial;     /* delivered as ENGINE_CSUM_PARTIAL */
	uint64_t csum_validated;   /* delivered as ENGINE_CSUM_VALIDATED */
	uint64_t extras_ignored;   /* extra slots of a type we do not use */
	uint64_t waits;            /* polls that found a packet not yet complete */
	uint64_t polls;
};

struct engine_front_rx_queue {
	netif_rx_front_ring_t ring;     /* private req_prod_pvt / rsp_cons */
	RING_IDX req_published;         /* what we last wrote to sring->req_prod */
	struct engine_front_rx_config cfg;
	const struct engine_front_buf *bufs;
	unsigned nr_bufs, nr_free;
	uint16_t free_list[ENGINE_FRONT_MAX_BUFS];
	uint8_t buf_state[ENGINE_FRONT_MAX_BUFS];  /* RX_BUF_* (front_rx.c) */
	uint16_t slot_buf[ENGINE_FRONT_MAX_BUFS];  /* buffer posted in each slot, or ENGINE_FRONT_NO_BUF */
	struct engine_front_rx_stats stats;
	enum engine_front_fault fault;
};

/* slot_buf[] value of a slot holding no posted buffer. */
#define ENGINE_FRONT_NO_BUF 0xffffu

/* A received packet, in the batch arena. */
struct engine_front_rx_pkt {
	uint8_t *data;
	uint32_t len;
	struct engine_pkt_meta meta;
};

struct engine_front_rx_batch {
	uint8_t *arena;                 /* caller's; ENGINE_FRONT_RX_ARENA_MIN at least */
	size_t arena_size, arena_used;
	unsigned nr_pkts;
	bool more;                      /* work may be left: poll again without waiting */
	bool notify;                    /* the refill wants the backend notified */
	struct engine_front_rx_pkt pkts[ENGINE_FRONT_RX_BATCH];
};

/*
 * engine_front_rx_init() - initialise the shared RX ring page @sring and
 * attach @q to it with the @nr_bufs buffers of @bufs (kept by pointer).
 * Nothing is posted yet: call engine_front_rx_refill().
 * Returns 0, or -EINVAL when @nr_bufs is below ENGINE_FRONT_RX_MIN_BUFS or
 * above ENGINE_FRONT_MAX_BUFS.
 */
int engine_front_rx_init(struct engine_front_rx_queue *q, netif_rx_sring_t *sring,
			 const struct engine_front_rx_config *cfg,
			 const struct engine_front_buf *bufs, unsigned nr_bufs);

/*
 * engine_front_rx_batch_init() - give @b its arena of @size bytes.
 * Returns 0, or -EINVAL when @size is below ENGINE_FRONT_RX_ARENA_MIN.
 */
int engine_front_rx_batch_init(struct engine_front_rx_batch *b, uint8_t *arena, size_t size);

/*
 * engine_front_rx_refill() - post every free buffer the ring has room for
 * and publish. Returns true when the backend asked to be notified.
 */
bool engine_front_rx_refill(struct engine_front_rx_queue *q);

/*
 * engine_front_rx_poll() - consume up to @budget packets (capped at
 * ENGINE_FRONT_RX_BATCH) into @b, which is reset first; then refill the ring
 * (@b->notify) and, when all published responses are dealt with, re-arm
 * rsp_event with the final check. A packet not yet complete at the end of
 * the published responses is left alone until it is. @b->more says to call
 * again without waiting for an event. Returns the number of packets in @b,
 * or -EPROTO when the backend broke the protocol (@q->fault says how).
 */
int engine_front_rx_poll(struct engine_front_rx_queue *q, struct engine_front_rx_batch *b,
			 unsigned budget);

/* engine_front_rx_posted() - buffers in the ring: posted, their responses not yet consumed. */
unsigned engine_front_rx_posted(const struct engine_front_rx_queue *q);

#endif
