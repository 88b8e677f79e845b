/* SPDX-License-Identifier: MIT */
/*
 * ctrl.h - the netif control ring, backend side: hash configuration
 * requests in, responses out, the resulting struct engine_hash for RX.
 *
 * Theory of operation. The frontend grants one page holding a
 * xen_netif_ctrl ring (ctrl-ring-ref, event-channel-ctrl); the caller maps
 * it and hands it to engine_ctrl_init(). Each wake-up then runs
 *
 *   n = engine_ctrl_process(c, b)   requests off the ring, answered in b
 *   run b->segs[0 .. b->nr_segs)    the caller's grant copy (0 or 1 segment)
 *   engine_ctrl_complete(c, b)      settle, commit, publish; true: notify
 *   engine_ctrl_more(c)             re-arm; true: go round again
 *
 * Requests are taken in ring order, each copied out of the ring once and
 * only the copy looked at. Most are answered at once, against a working
 * copy of the hash state (b->next). SET_HASH_KEY and SET_HASH_MAPPING carry
 * a grant: for those the engine plans one grant-copy segment from the
 * frontend's page into b->staging and stops the batch there, so that the
 * requests after it see its outcome. engine_ctrl_settle() then checks the
 * staged bytes (every mapping entry below num_queues) and only then puts them
 * into b->next: copy, validate, publish, as Linux does since XSA-270. A
 * copy that fails, or a table with one bad entry, changes nothing and is
 * answered INVALID_PARAMETER.
 *
 * Hostile input: a req_prod more than a ring ahead of what we consumed is a
 * fault (ENGINE_FAULT_REQ_PROD): the engine refuses all further work and the
 * caller disconnects the vif. Everything else a frontend can write is a
 * request with a status answer; the statuses are netif.h's (see ctrl.c).
 * Work per process() call is bounded by the ring size.
 *
 * Concurrency. c->hash is the published state the RX path reads through
 * engine_hash_packet(); engine_ctrl_commit() (part of complete) is the only
 * place that writes it, as one struct assignment of b->next; process and
 * settle only read it. A caller running RX on the control ring's thread
 * needs nothing more. A caller whose RX threads run concurrently holds a
 * lock (a pthread rwlock, say): shared around each engine_hash_packet() on
 * c->hash, exclusive around engine_ctrl_commit() - or around
 * engine_ctrl_complete(), which is commit plus a few hundred bytes of
 * checking and the response writes. We chose the lock over two copies and
 * a flipped index because the flip needs a grace period before the old copy
 * may be rewritten, which the engine cannot provide without the platform.
 */
#ifndef XNB_ENGINE_CTRL_H
#define XNB_ENGINE_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy.h"
#include "fault.h"
#include "hash.h"
#include "ring.h"

/* Entries in a one-page control ring (128 with 16-byte requests). */
#define ENGINE_CTRL_RING_SIZE __CONST_RING_SIZE(xen_netif_ctrl, ENGINE_PAGE_SIZE)

/* Staging for one grant copy: the largest mapping sub-table we accept. */
#define ENGINE_CTRL_STAGING (ENGINE_HASH_MAPPING_MAX * sizeof(uint32_t))
_Static_assert(ENGINE_CTRL_STAGING >= ENGINE_HASH_KEY_MAX, "a key fits the staging buffer");

struct engine_ctrl_config {
	uint16_t peer_domid;  /* the frontend's domain, source of every copy */
	uint32_t num_queues;  /* the vif's queues: mapping entries must be below it */
};

struct engine_ctrl_stats {
	uint64_t requests;          /* consumed = responses written */
	uint64_t status[4];         /* responses per XEN_NETIF_CTRL_STATUS_* */
	uint64_t copies;            /* grant copies planned */
	uint64_t copy_failed;       /* ... that failed (answered INVALID_PARAMETER) */
	uint64_t bad_mapping;       /* tables refused for an entry >= num_queues */
	uint64_t commits;           /* batches that changed the published state */
	uint64_t batches;
};

struct engine_ctrl {
	xen_netif_ctrl_back_ring_t ring;  /* private req_cons / rsp_prod_pvt */
	RING_IDX rsp_published;           /* what we last wrote to sring->rsp_prod */
	struct engine_ctrl_config cfg;
	struct engine_hash hash;          /* published: what RX reads (see above) */
	struct engine_ctrl_stats stats;
	enum engine_fault fault;          /* set once; then the ring does nothing */
};

struct engine_ctrl_batch {
	unsigned nr_rsps;
	struct xen_netif_ctrl_response rsps[ENGINE_CTRL_RING_SIZE]; /* slot rsp_published + i */
	unsigned nr_segs;                 /* 0, or 1: the copy for @pending */
	struct engine_copy_seg segs[1];
	struct xen_netif_ctrl_request pending; /* the request waiting for its copy */
	unsigned pending_rsp;             /* its response in rsps[] */
	struct engine_hash next;          /* the state after this batch */
	_Alignas(uint32_t) uint8_t staging[ENGINE_CTRL_STAGING];
};

/*
 * engine_ctrl_init() - attach @c to the control ring page @sring the
 * frontend granted (already mapped by the caller), where it stands (after
 * its last response, as tx.c does), with hashing off.
 * Returns 0, or -EINVAL when @cfg->num_queues is 0.
 */
int engine_ctrl_init(struct engine_ctrl *c, xen_netif_ctrl_sring_t *sring,
		     const struct engine_ctrl_config *cfg);

/*
 * engine_ctrl_restore() - right after engine_ctrl_init(), before the ring
 * is served: publish @h, the state a previous backend process had committed
 * for this same ring (the frontend will not set it again). It is checked as
 * requests are: algorithm NONE or TOEPLITZ, known flags, size within
 * ENGINE_HASH_MAPPING_MAX, every entry in use below this ring's num_queues,
 * which @h->num_queues must equal (another number of queues is another
 * connection). Entries past the size are taken as zero, as
 * SET_HASH_MAPPING_SIZE leaves them. Returns 0, or -EINVAL changing
 * nothing (after init: hashing stays off).
 */
int engine_ctrl_restore(struct engine_ctrl *c, const struct engine_hash *h);

/*
 * engine_ctrl_process() - consume the requests posted, up to and including
 * the first that needs a grant copy, into @b (reset first). Call it only
 * after the previous batch was completed. Returns the number consumed (0:
 * nothing to do), or -EPROTO when the frontend broke the ring (@c->fault).
 */
int engine_ctrl_process(struct engine_ctrl *c, struct engine_ctrl_batch *b);

/*
 * engine_ctrl_complete() - after the caller ran @b->segs through grant
 * copy: engine_ctrl_settle(), engine_ctrl_commit(), engine_ctrl_publish().
 * Returns true when the frontend asked to be notified.
 */
bool engine_ctrl_complete(struct engine_ctrl *c, struct engine_ctrl_batch *b);
/* engine_ctrl_settle() - check the staged copy, fold it into @b->next, answer it. */
void engine_ctrl_settle(struct engine_ctrl *c, struct engine_ctrl_batch *b);
/* engine_ctrl_commit() - make @b->next the published @c->hash (the only writer of it). */
void engine_ctrl_commit(struct engine_ctrl *c, const struct engine_ctrl_batch *b);
/* engine_ctrl_publish() - write @b's responses into the ring; true: notify. */
bool engine_ctrl_publish(struct engine_ctrl *c, struct engine_ctrl_batch *b);

/*
 * engine_ctrl_more() - true when requests are waiting; otherwise sets
 * req_event so the frontend's next request notifies us, and re-checks for
 * one that raced with that.
 */
bool engine_ctrl_more(struct engine_ctrl *c);

#endif
