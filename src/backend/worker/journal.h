/* SPDX-License-Identifier: MIT */
/*
 * journal.h - a record of responses on their way into a guest's rings, so
 * that a worker that dies in the middle of publishing them can be finished
 * by the next one.
 *
 * Theory of operation: before a batch's responses are written into a ring
 * (engine_tx_publish / engine_rx_publish) they are written here first, with
 * the ring index of the first one, and marked valid; after the publish the
 * mark is cleared. The journal is a file in the supervisor's runtime
 * directory, one per vif, made by the supervisor and handed to each worker
 * with the TAP: it outlives every process. It holds one record per queue,
 * each written only by its queue's thread, and the vif's multicast list. A new worker that resumes a
 * Connected vif replays a valid record whose responses the ring does not
 * show as published (journal_replay), then attaches after them. Without
 * this, slots the dead worker had half-answered would be read back as
 * requests, with response bytes as grant references.
 *
 * The guest never sees the journal. Only the worker writes it (it is also
 * the only reader, after a restart); a record describes rings by their
 * grant references and is reset on every fresh connection.
 *
 * The control ring has a record of its own, with one more job: the hash
 * state the frontend set through it lives only in the backend (the
 * frontend sets it once, after connecting), so the journal keeps it too.
 * A batch's responses are recorded together with the state they answer
 * for; once published, that state becomes the settled one. A successor
 * that finds a recorded batch finishes its publish if the ring does not
 * show it, and takes the batch's state either way.
 */
#ifndef XNB_BACKEND_JOURNAL_H
#define XNB_BACKEND_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ctrl.h"
#include "ring.h"
#include "rx.h"
#include "tx.h"

/* Queues one journal records (worker's VIF_MAX_QUEUES at most). */
#define JOURNAL_MAX_QUEUES 8

struct vif_journal;

/*
 * journal_map() - map the journal file @fd (taken); a file that is new or
 * of another layout is cleared. NULL + errno.
 */
struct vif_journal *journal_map(int fd);
/* journal_unmap() - the mapping goes; the file stays with the supervisor. */
void journal_unmap(struct vif_journal *j);

/* journal_reset() - @queue's fresh connection to rings @tx_ref / @rx_ref: nothing pending. */
void journal_reset(struct vif_journal *j, unsigned queue, uint32_t tx_ref, uint32_t rx_ref);

/*
 * journal_replay() - on resuming rings @tx_ref / @rx_ref: write and publish
 * any responses a dead worker recorded but the ring does not show. Returns
 * how many it wrote.
 */
unsigned journal_replay(struct vif_journal *j, unsigned queue, uint32_t tx_ref, uint32_t rx_ref,
			netif_tx_sring_t *tx, netif_rx_sring_t *rx);

/* Around engine_tx_publish() on @queue: record @b's responses, then (after) clear them. */
void journal_tx_begin(struct vif_journal *j, unsigned queue, const struct engine_tx_queue *q,
		      const struct engine_tx_batch *b);
/* Around engine_rx_publish(). */
void journal_rx_begin(struct vif_journal *j, unsigned queue, const struct engine_rx_queue *q,
		      const struct engine_rx_batch *b);
/* The publish is done: nothing pending on either of @queue's rings. */
void journal_end(struct vif_journal *j, unsigned queue);

/*
 * The multicast addresses the frontend subscribed (its state in the
 * backend, which it will not send again): saved on every change, loaded
 * on resume, cleared (n = 0) on a fresh connection. journal_mcast_load()
 * returns how many it put in @addrs.
 */
#define JOURNAL_MCAST_MAX 64
void journal_mcast_save(struct vif_journal *j, const uint8_t (*addrs)[6], unsigned n);
unsigned journal_mcast_load(const struct vif_journal *j, uint8_t (*addrs)[6], unsigned max);

/*
 * The control ring (ctrl-ring-ref @ref), written by the thread serving it.
 * journal_ctrl_reset() - a fresh connection of ring @ref: hashing off, nothing pending.
 * journal_ctrl_begin() - before engine_ctrl_publish(): @b's responses (from
 *   @c's rsp_published) and @c->hash, committed, which they answer for.
 * journal_ctrl_end() - after it: that state is the settled one.
 * journal_ctrl_resume() - on resuming ring @ref at @sring: publish a
 *   recorded batch the ring does not show (*@replayed: responses written),
 *   then put in @out the state to restore. Returns 1 with @out filled, 0
 *   when the journal holds nothing for @ref.
 */
void journal_ctrl_reset(struct vif_journal *j, uint32_t ref);
void journal_ctrl_begin(struct vif_journal *j, const struct engine_ctrl *c,
			const struct engine_ctrl_batch *b);
void journal_ctrl_end(struct vif_journal *j);
int journal_ctrl_resume(struct vif_journal *j, uint32_t ref, xen_netif_ctrl_sring_t *sring,
			struct engine_hash *out, unsigned *replayed);

#endif
