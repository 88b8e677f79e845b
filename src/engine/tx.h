/* SPDX-License-Identifier: MIT */
/*
 * tx.h - guest TX: frontend requests in, packets for the host out.
 *
 * Theory of operation. One call to engine_tx_parse() takes a bounded number
 * of requests off the ring and turns them into a batch: packets laid out back
 * to back in a caller-provided arena, one grant-copy segment per data slot
 * (a slot never crosses its guest page, and the arena is contiguous, so a
 * segment never needs splitting), and a response plan in request order. The
 * caller runs all segments in one grant-copy call, then engine_tx_finish()
 * settles each packet (copy failures, checksum and GSO metadata), then
 * engine_tx_respond() writes the responses and says whether to notify, and
 * the caller delivers the good packets to the host, in either order: before
 * responding it may mark refused ones DROPPED; after it, it reports them with
 * engine_tx_host_refused() (the bytes are in the arena, not the guest's).
 * engine_tx_more() finally re-arms req_event and reports requests that raced
 * in, so the caller knows whether to go round again before sleeping.
 *
 * Every request is copied out of the shared ring exactly once, and only the
 * copy is looked at (XSA-155). Per packet the walk is bounded by the fatal
 * slot threshold; per call by the ring size.
 */
#ifndef XNB_ENGINE_TX_H
#define XNB_ENGINE_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy.h"
#include "credit.h"
#include "fault.h"
#include "meta.h"
#include "ring.h"

/* XEN_NETIF_NR_SLOTS_MIN: the most slots every backend must accept per packet. */
#define ENGINE_TX_DROP_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* Past this many slots a packet is no honest frontend's: Linux's fatal_skb_slots default. */
#define ENGINE_TX_FATAL_SLOTS 20u

/* One-slot packets start on this alignment in the arena (a cache line);
 * multi-slot ones at their first slot's offset in its page. */
#define ENGINE_TX_ARENA_ALIGN 64u
/* A packet skips less than this before its start, so that no slot straddles
 * two of our pages (grant copies work page by page: see arena_place()). */
#define ENGINE_TX_ARENA_SKIP_MAX (ENGINE_PAGE_SIZE + ENGINE_TX_ARENA_ALIGN)
/* An arena of this size always holds a full ring's worth of data. */
#define ENGINE_TX_ARENA_SIZE \
	((size_t)ENGINE_TX_RING_SIZE * (ENGINE_PAGE_SIZE + ENGINE_TX_ARENA_SKIP_MAX))

enum engine_tx_kind {
	ENGINE_TX_PACKET = 0,  /* a frame for the host */
	ENGINE_TX_MCAST_ADD,   /* a multicast filter request (no frame) */
	ENGINE_TX_MCAST_DEL,
};

/* Why a packet was dropped; counts into engine_tx_stats.drop[]. */
enum engine_tx_drop {
	ENGINE_TX_DROP_NONE = 0,
	ENGINE_TX_DROP_SLOTS_OVER,   /* more than XEN_NETIF_NR_SLOTS_MIN slots */
	ENGINE_TX_DROP_SIZE_UNDERFLOW, /* fragments bigger than the first slot's total */
	ENGINE_TX_DROP_RUNT,         /* first slot shorter than an Ethernet header */
	ENGINE_TX_DROP_BAD_EXTRA,    /* extra type unknown, none, or not negotiated */
	ENGINE_TX_DROP_BAD_GSO,      /* GSO size 0, unknown or not advertised type, bad headers */
	ENGINE_TX_DROP_BAD_CSUM,     /* csum_blank on headers we cannot checksum */
	ENGINE_TX_DROP_COPY,         /* a grant copy of the packet failed */
	ENGINE_TX_DROP_HOST,         /* the host side refused it */
	ENGINE_TX_DROP_MCAST_FULL,   /* MCAST_ADD to a full filter table (the caller's) */
	ENGINE_TX_DROP_MAX
};

struct engine_tx_config {
	uint16_t peer_domid;      /* the frontend's domain, source of every copy */
	bool complete_csum;       /* finish csum_blank checksums here rather than
				   * hand csum_start/csum_offset to the host */
	bool gso_tcpv4;           /* feature-gso-tcpv4 we advertised */
	bool gso_tcpv6;           /* feature-gso-tcpv6 we advertised */
	bool multicast_control;   /* feature-multicast-control negotiated */
};

struct engine_tx_stats {
	uint64_t packets, bytes;      /* handed to the host */
	uint64_t requests;            /* ring slots consumed */
	uint64_t dropped;             /* all drops, any reason */
	uint64_t drop[ENGINE_TX_DROP_MAX];
	uint64_t csum_completed;      /* checksums finished in software */
	uint64_t csum_partial;        /* checksums handed over as PARTIAL */
	uint64_t gso_packets;
	uint64_t gso_csum_fixup;      /* GSO sent without csum_blank, fixed up */
	uint64_t mcast_ops;
	uint64_t batches;
};

struct engine_tx_queue {
	netif_tx_back_ring_t ring;    /* private req_cons / rsp_prod_pvt */
	RING_IDX rsp_published;       /* what we last wrote to sring->rsp_prod */
	RING_IDX incomplete_prod;     /* req_prod when parse last stopped at an
				       * incomplete packet (see incomplete) */
	bool incomplete;              /* requests are waiting for the rest of a packet */
	/*
	 * Rate limit (credit.h): NULL for none. The caller sets @now_us before
	 * each parse; a packet that does not fit the credit stops the parse
	 * with @rate_limited set, left on the ring until @rate_wait_until_us,
	 * and engine_tx_more() then says no (req_event untouched, as Linux:
	 * the guest's notifications could only wake us for nothing).
	 */
	struct engine_credit *credit;
	uint64_t now_us;
	bool rate_limited;
	uint64_t rate_wait_until_us;
	struct engine_tx_config cfg;
	struct engine_tx_stats stats;
	enum engine_fault fault;      /* set once; then the queue does nothing */
};

struct engine_tx_pkt {
	uint8_t *data;                /* in the batch arena */
	uint32_t len;
	uint8_t kind;                 /* enum engine_tx_kind */
	uint8_t drop;                 /* enum engine_tx_drop; NONE: deliver */
	int16_t status;               /* NETIF_RSP_* it will be answered with */
	uint16_t txflags;             /* NETTXF_* of its first slot */
	uint8_t mcast_addr[6];        /* MCAST_ADD / MCAST_DEL */
	uint16_t seg_first, seg_count;
	uint16_t rsp_first, rsp_count;
	struct engine_pkt_meta meta;
};

/* One planned response: the id to echo, or NULL for an extra-info slot. */
struct engine_tx_rsp {
	uint16_t id;
	int16_t status;
	uint8_t is_extra;
	uint8_t pad;
	uint16_t pkt;                 /* index of the packet it belongs to */
};

struct engine_tx_batch {
	uint8_t *arena;               /* caller's; ENGINE_TX_ARENA_SIZE is always enough */
	size_t arena_size;
	size_t arena_used;
	unsigned nr_pkts, nr_segs, nr_rsps;
	struct engine_tx_pkt pkts[ENGINE_TX_RING_SIZE];
	struct engine_copy_seg segs[ENGINE_TX_RING_SIZE];
	struct engine_tx_rsp rsps[ENGINE_TX_RING_SIZE];
};

/*
 * engine_tx_init() - attach @q to a TX shared ring page the frontend granted.
 * @sring: the mapped page (PAGE_SIZE bytes). Shared indices are not reset:
 * the frontend initialised them; we attach after its last response
 * (rsp_prod), as Linux's BACK_RING_ATTACH does.
 */
void engine_tx_init(struct engine_tx_queue *q, netif_tx_sring_t *sring,
		    const struct engine_tx_config *cfg);

/* The smallest arena that always makes progress: one maximal packet. */
#define ENGINE_TX_ARENA_MIN ((size_t)XEN_NETIF_MAX_TX_SIZE + ENGINE_TX_ARENA_SKIP_MAX)

/* engine_tx_batch_init() - give @b its arena (ENGINE_TX_ARENA_MIN bytes at least). */
void engine_tx_batch_init(struct engine_tx_batch *b, uint8_t *arena, size_t size);

/*
 * engine_tx_parse() - consume requests into @b, which is reset first,
 * starting packets while fewer than @budget (capped at the ring size) have
 * been consumed: the last packet may take the total past @budget by at most
 * ENGINE_TX_FATAL_SLOTS + 4 extra slots. A packet still incomplete at the end
 * of the published requests is left on the ring, to wait for the rest.
 * Returns the number of requests consumed (0: nothing to do), or -EPROTO if
 * the frontend broke the protocol: @q->fault says how, and the queue is dead.
 */
int engine_tx_parse(struct engine_tx_queue *q, struct engine_tx_batch *b, unsigned budget);

/*
 * engine_tx_finish() - after the caller ran @b->segs through grant copy,
 * fail packets with a failed segment, and settle checksum and GSO metadata
 * on the copied (private) bytes. Packets with drop == NONE are then the
 * caller's to deliver; it may set drop = ENGINE_TX_DROP_HOST on any of them.
 */
void engine_tx_finish(struct engine_tx_queue *q, struct engine_tx_batch *b);

/*
 * engine_tx_respond() - write the batch's responses in request order, one
 * per consumed slot, publish them, and count the batch.
 * Returns true when the frontend asked to be notified of them.
 */
bool engine_tx_respond(struct engine_tx_queue *q, struct engine_tx_batch *b);
/*
 * engine_tx_respond() is these two, for a caller that records the settled
 * responses (b->rsps[i].id and .status, b->nr_rsps of them from
 * q->rsp_published) before they reach the ring, so that a successor can
 * finish a publish it died in:
 */
void engine_tx_settle(struct engine_tx_queue *q, struct engine_tx_batch *b);
bool engine_tx_publish(struct engine_tx_queue *q, struct engine_tx_batch *b);

/*
 * engine_tx_host_refused() - for a caller that answers before it delivers:
 * the host refused @p, which went out as NETIF_RSP_OKAY; move it from the
 * delivered counters to the host drops.
 */
void engine_tx_host_refused(struct engine_tx_queue *q, const struct engine_tx_pkt *p);

/*
 * engine_tx_more() - true when requests are waiting that parse can use;
 * otherwise sets req_event so the frontend notifies its next publication,
 * and re-checks for one that raced with that (the final check of the ring
 * protocol). Requests of a packet still incomplete do not count until more
 * are published: a frontend cannot keep us busy with half a packet (XSA-332).
 */
bool engine_tx_more(struct engine_tx_queue *q);

#endif
