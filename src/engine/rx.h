/* SPDX-License-Identifier: MIT */
/*
 * rx.h - guest RX: packets from the host in, filled frontend buffers out.
 *
 * Theory of operation. The frontend posts RX requests, each a whole granted
 * page. For each host packet engine_rx_add() consumes the requests it needs
 * (data slots filled page by page from offset 0, plus one slot per extra:
 * GSO, and the hash when the frontend takes hashes and the packet has one), plans one grant-copy segment per data slot, and writes each
 * response into the ring slot of the request it answers, as netif.h requires
 * (Linux netfront finds responses by slot, not by id). Responses stay
 * private until engine_rx_complete(), which the caller runs after its one
 * grant-copy call for the batch: a failed segment turns that packet's
 * responses into errors, nothing else changes, and the responses are
 * published with a notification only if the frontend asked for one.
 *
 * When the next packet needs more requests than are posted, engine_rx_add()
 * consumes nothing and returns -EAGAIN; engine_rx_wait() then sets req_event
 * at the point where enough would be posted, so the frontend's next post
 * that gets there wakes us (and re-checks for a post that raced in).
 */
#ifndef XNB_ENGINE_RX_H
#define XNB_ENGINE_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy.h"
#include "fault.h"
#include "meta.h"
#include "ring.h"

/* Data slots one packet may use: what a Linux netfront accepts (XEN_NETIF_NR_SLOTS_MIN). */
#define ENGINE_RX_MAX_DATA_SLOTS XEN_NETIF_NR_SLOTS_MIN

struct engine_rx_config {
	uint16_t peer_domid;   /* the frontend's domain, destination of every copy */
	bool sg;               /* feature-sg: packets may span several slots */
	bool gso_tcpv4;        /* frontend's feature-gso-tcpv4 */
	bool gso_tcpv6;        /* frontend's feature-gso-tcpv6 */
	bool csum_blank;       /* frontend accepts partial checksums (no
				* feature-no-csum-offload; IPv6 needs
				* feature-ipv6-csum-offload too) */
	bool ipv6_csum_blank;
	bool hash_extra;       /* the frontend uses hashing (it connected a
				* control ring): send XEN_NETIF_EXTRA_TYPE_HASH
				* for packets whose meta has_hash */
};

enum engine_rx_drop {
	ENGINE_RX_DROP_NONE = 0,
	ENGINE_RX_DROP_EMPTY,       /* zero-length packet */
	ENGINE_RX_DROP_TOO_BIG,     /* needs more slots than allowed or negotiated */
	ENGINE_RX_DROP_GSO,         /* GSO of a type the frontend did not ask for */
	ENGINE_RX_DROP_CSUM,        /* partial checksum the frontend cannot take and we cannot finish */
	ENGINE_RX_DROP_COPY,        /* a grant copy failed (error responses sent) */
	ENGINE_RX_DROP_MAX
};

struct engine_rx_stats {
	uint64_t packets, bytes;    /* delivered into the frontend */
	uint64_t responses;
	uint64_t dropped;
	uint64_t drop[ENGINE_RX_DROP_MAX];
	uint64_t gso_packets;
	uint64_t hash_extras;       /* packets sent with a hash extra */
	uint64_t csum_completed;    /* finished here for a frontend without csum offload */
	uint64_t batches;
};

struct engine_rx_queue {
	netif_rx_back_ring_t ring;
	RING_IDX rsp_published;       /* what we last wrote to sring->rsp_prod */
	struct engine_rx_config cfg;
	struct engine_rx_stats stats;
	enum engine_fault fault;
};

/* A packet from the host. The engine may rewrite the checksum in data. */
struct engine_rx_pkt {
	uint8_t *data;
	uint32_t len;
	struct engine_pkt_meta meta;
};

/* Where one packet landed in the ring, for completion. */
struct engine_rx_placed {
	RING_IDX first;             /* ring index of its first slot */
	uint16_t nr_slots;          /* data slots + extra slots */
	uint8_t nr_extras;          /* slots first + 1 .. first + nr_extras hold extras */
	uint16_t seg_first, seg_count;
	uint32_t len;
};

/* One slot's response as it will be written into the ring (8 bytes either way). */
union engine_rx_slot_rsp {
	netif_rx_response_t rsp;
	struct netif_extra_info extra;
};

/*
 * A batch's responses stay here, private, until engine_rx_publish() writes
 * them into the ring: slots the frontend posted keep their requests until
 * then, so a backend process that dies mid-batch leaves only requests (or
 * published responses) behind, never a half-written mix a successor would
 * read as requests (its grant refs would be response bytes).
 */
struct engine_rx_batch {
	unsigned nr_pkts, nr_segs, nr_slots;
	struct engine_rx_placed pkts[ENGINE_RX_RING_SIZE];
	struct engine_copy_seg segs[ENGINE_RX_RING_SIZE];
	union engine_rx_slot_rsp rsps[ENGINE_RX_RING_SIZE]; /* slot rsp_published + i */
};

void engine_rx_init(struct engine_rx_queue *q, netif_rx_sring_t *sring,
		    const struct engine_rx_config *cfg);

/* engine_rx_batch_reset() - empty @b before the first engine_rx_add() of a batch. */
void engine_rx_batch_reset(struct engine_rx_batch *b);

/*
 * engine_rx_slots() - ring slots @p needs on this queue, or 0 when it can
 * never be delivered to this frontend (*why says why).
 */
unsigned engine_rx_slots(const struct engine_rx_queue *q, const struct engine_rx_pkt *p,
			 enum engine_rx_drop *why);

/*
 * engine_rx_add() - place @p in the ring and plan its copies into @b.
 * Returns 0; -EAGAIN when fewer requests are posted than it needs (nothing
 * consumed); -ENOSPC when @b is full (complete it first); -EMSGSIZE,
 * -EOPNOTSUPP or -EINVAL when @p can never go to this frontend (counted as a
 * drop; nothing consumed); -EPROTO when the frontend broke the ring.
 */
int engine_rx_add(struct engine_rx_queue *q, struct engine_rx_batch *b, struct engine_rx_pkt *p);

/*
 * engine_rx_complete() - after the caller ran @b->segs through grant copy:
 * error responses for packets with a failed segment, publish all responses.
 * Returns true when the frontend asked to be notified. It is
 * engine_rx_settle() then engine_rx_publish(), for a caller that records
 * the responses (b->rsps, b->nr_slots of them from q->rsp_published) in
 * between, so that a successor can finish a publish it died in.
 */
bool engine_rx_complete(struct engine_rx_queue *q, struct engine_rx_batch *b);
/* engine_rx_settle() - final statuses and counters, in @b only. */
void engine_rx_settle(struct engine_rx_queue *q, struct engine_rx_batch *b);
/* engine_rx_publish() - write @b's responses into the ring and publish them. */
bool engine_rx_publish(struct engine_rx_queue *q, struct engine_rx_batch *b);

/*
 * engine_rx_wait() - ask the frontend to notify us once @needed requests are
 * posted. Returns true if they already are (a post raced in): go on now.
 */
bool engine_rx_wait(struct engine_rx_queue *q, unsigned needed);

/* engine_rx_posted() - requests posted and not yet consumed (bounded by the ring). */
unsigned engine_rx_posted(const struct engine_rx_queue *q);

#endif
