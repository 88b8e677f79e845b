/* SPDX-License-Identifier: MIT */
/* journal.c - responses recorded before they reach a ring (journal.h). */
#include "journal.h"

#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define JOURNAL_MAGIC 0x786e626a /* "xnbj" */
#define JOURNAL_VERSION 3 /* 2: one record per queue; 3: the control ring's */

/* One ring's pending responses: 8 bytes a slot covers both rings' layouts. */
struct journal_ring {
	uint32_t valid;     /* 1 while [from, from + count) is being published */
	RING_IDX from;
	uint32_t count;
	uint32_t pad;
	uint8_t rsp[ENGINE_RX_RING_SIZE][8];
};

/* One queue's rings, named by their grant references. */
struct journal_queue {
	uint32_t tx_ref, rx_ref;
	struct journal_ring tx, rx;
};

/* The control ring: its hash state, and the batch being published. */
struct journal_ctrl {
	uint32_t in_use;            /* 1: what follows is about ring @ref */
	uint32_t ref;
	struct engine_hash settled; /* the state every published batch left */
	uint32_t valid;             /* 1 while [from, from + count) is being published */
	RING_IDX from;
	uint32_t count;
	uint32_t pad;
	struct engine_hash next;    /* the state that batch answers for */
	struct xen_netif_ctrl_response rsp[ENGINE_CTRL_RING_SIZE];
};

/*
 * Each queue's thread writes only its own record, the control ring's thread
 * only the control record; the multicast list is the vif's, written under
 * the caller's lock for it.
 */
struct vif_journal {
	uint32_t magic, version;
	uint32_t nr_mcast, pad;
	uint8_t mcast[JOURNAL_MCAST_MAX][6];
	struct journal_queue q[JOURNAL_MAX_QUEUES];
	struct journal_ctrl ctrl;
};

_Static_assert(sizeof(struct vif_journal) <= IPC_JOURNAL_BYTES, "the file holds a journal");
_Static_assert(ENGINE_TX_RING_SIZE <= ENGINE_RX_RING_SIZE, "a TX batch fits the record");
_Static_assert(sizeof(netif_tx_response_t) <= 8 && sizeof(netif_rx_response_t) == 8,
	       "a response fits a record slot");

struct vif_journal *journal_map(int fd)
{
	struct vif_journal *j = mmap(NULL, IPC_JOURNAL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
				     fd, 0);

	close(fd);
	if (j == MAP_FAILED)
		return NULL;
	/* New, or written by a build with another layout: nothing in it can be replayed. */
	if (j->magic != JOURNAL_MAGIC || j->version != JOURNAL_VERSION) {
		memset(j, 0, sizeof(*j));
		j->version = JOURNAL_VERSION;
		__atomic_store_n(&j->magic, JOURNAL_MAGIC, __ATOMIC_RELEASE);
	}
	return j;
}

void journal_unmap(struct vif_journal *j)
{
	if (j)
		munmap(j, IPC_JOURNAL_BYTES);
}

static struct journal_queue *queue_of(struct vif_journal *j, unsigned queue)
{
	return j && queue < JOURNAL_MAX_QUEUES ? &j->q[queue] : NULL;
}

void journal_reset(struct vif_journal *j, unsigned queue, uint32_t tx_ref, uint32_t rx_ref)
{
	struct journal_queue *jq = queue_of(j, queue);

	if (!jq)
		return;
	__atomic_store_n(&jq->tx.valid, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&jq->rx.valid, 0, __ATOMIC_RELEASE);
	jq->tx_ref = tx_ref;
	jq->rx_ref = rx_ref;
}

/* Mark valid only once entries and bounds are in: a death before leaves nothing. */
static void record(struct journal_ring *r, RING_IDX from, unsigned count)
{
	r->from = from;
	r->count = count;
	__atomic_store_n(&r->valid, 1, __ATOMIC_RELEASE);
}

void journal_tx_begin(struct vif_journal *j, unsigned queue, const struct engine_tx_queue *q,
		      const struct engine_tx_batch *b)
{
	struct journal_queue *jq = queue_of(j, queue);

	if (!jq || b->nr_rsps == 0)
		return;
	for (unsigned i = 0; i < b->nr_rsps; i++) {
		netif_tx_response_t rsp = { .id = b->rsps[i].id, .status = b->rsps[i].status };

		memset(jq->tx.rsp[i], 0, sizeof(jq->tx.rsp[i]));
		memcpy(jq->tx.rsp[i], &rsp, sizeof(rsp));
	}
	record(&jq->tx, q->rsp_published, b->nr_rsps);
}

void journal_rx_begin(struct vif_journal *j, unsigned queue, const struct engine_rx_queue *q,
		      const struct engine_rx_batch *b)
{
	struct journal_queue *jq = queue_of(j, queue);

	if (!jq || b->nr_slots == 0)
		return;
	memcpy(jq->rx.rsp, b->rsps, (size_t)b->nr_slots * sizeof(b->rsps[0]));
	record(&jq->rx, q->rsp_published, b->nr_slots);
}

void journal_end(struct vif_journal *j, unsigned queue)
{
	struct journal_queue *jq = queue_of(j, queue);

	if (!jq)
		return;
	__atomic_store_n(&jq->tx.valid, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&jq->rx.valid, 0, __ATOMIC_RELEASE);
}

/*
 * Finish one ring's recorded publish. The ring shows it done when its
 * rsp_prod reads the record's end; otherwise the slots still hold the
 * frontend's requests (it posts only behind responses it has seen), so
 * writing the recorded responses there is what the dead worker was doing.
 */
static unsigned replay_ring(struct journal_ring *r, void *ring_base, size_t slot_size,
			    size_t rsp_size, RING_IDX *shared_prod)
{
	unsigned count = r->count;
	RING_IDX from = r->from, prod = engine_ring_read_idx(shared_prod);

	if (!__atomic_load_n(&r->valid, __ATOMIC_ACQUIRE) || count == 0 ||
	    count > ENGINE_RX_RING_SIZE || prod == from + count)
		return 0;
	for (unsigned i = 0; i < count; i++) {
		uint8_t *slot = (uint8_t *)ring_base +
				((from + i) % ENGINE_RX_RING_SIZE) * slot_size;

		memcpy(slot, r->rsp[i], rsp_size);
	}
	xen_wmb(); /* responses before the producer that covers them */
	engine_ring_write_idx(shared_prod, from + count);
	__atomic_store_n(&r->valid, 0, __ATOMIC_RELEASE);
	return count;
}

unsigned journal_replay(struct vif_journal *j, unsigned queue, uint32_t tx_ref, uint32_t rx_ref,
			netif_tx_sring_t *tx, netif_rx_sring_t *rx)
{
	struct journal_queue *jq = queue_of(j, queue);
	unsigned n = 0;

	if (!jq || jq->tx_ref != tx_ref || jq->rx_ref != rx_ref)
		return 0;
	_Static_assert(ENGINE_TX_RING_SIZE == ENGINE_RX_RING_SIZE, "one modulus for both rings");
	n += replay_ring(&jq->tx, tx->ring, sizeof(tx->ring[0]), sizeof(netif_tx_response_t),
			 &tx->rsp_prod);
	n += replay_ring(&jq->rx, rx->ring, sizeof(rx->ring[0]), sizeof(netif_rx_response_t),
			 &rx->rsp_prod);
	return n;
}

void journal_mcast_save(struct vif_journal *j, const uint8_t (*addrs)[6], unsigned n)
{
	if (!j)
		return;
	if (n > JOURNAL_MCAST_MAX)
		n = JOURNAL_MCAST_MAX;
	if (n)
		memcpy(j->mcast, addrs, (size_t)n * 6);
	j->nr_mcast = n;
}

unsigned journal_mcast_load(const struct vif_journal *j, uint8_t (*addrs)[6], unsigned max)
{
	unsigned n;

	if (!j)
		return 0;
	n = j->nr_mcast; /* our own file, but bounded all the same */
	if (n > max)
		n = max;
	if (n > JOURNAL_MCAST_MAX)
		n = JOURNAL_MCAST_MAX;
	memcpy(addrs, j->mcast, (size_t)n * 6);
	return n;
}

void journal_ctrl_reset(struct vif_journal *j, uint32_t ref)
{
	if (!j)
		return;
	__atomic_store_n(&j->ctrl.valid, 0, __ATOMIC_RELEASE);
	engine_hash_init(&j->ctrl.settled, 1);
	j->ctrl.ref = ref;
	j->ctrl.in_use = 1;
}

void journal_ctrl_begin(struct vif_journal *j, const struct engine_ctrl *c,
			const struct engine_ctrl_batch *b)
{
	struct journal_ctrl *jc;

	if (!j || b->nr_rsps == 0 || b->nr_rsps > ENGINE_CTRL_RING_SIZE)
		return;
	jc = &j->ctrl;
	memcpy(jc->rsp, b->rsps, (size_t)b->nr_rsps * sizeof(b->rsps[0]));
	jc->next = c->hash;
	jc->from = c->rsp_published;
	jc->count = b->nr_rsps;
	__atomic_store_n(&jc->valid, 1, __ATOMIC_RELEASE);
}

void journal_ctrl_end(struct vif_journal *j)
{
	if (!j || !__atomic_load_n(&j->ctrl.valid, __ATOMIC_ACQUIRE))
		return;
	j->ctrl.settled = j->ctrl.next;
	__atomic_store_n(&j->ctrl.valid, 0, __ATOMIC_RELEASE);
}

/*
 * The ring shows the recorded batch published when rsp_prod reads its end,
 * not yet when it reads its start (the slots then still hold the requests:
 * the frontend posts only behind responses it has seen). Any other value
 * is not what we left: the batch's state is not taken on its word.
 */
int journal_ctrl_resume(struct vif_journal *j, uint32_t ref, xen_netif_ctrl_sring_t *sring,
			struct engine_hash *out, unsigned *replayed)
{
	struct journal_ctrl *jc;
	RING_IDX prod;

	*replayed = 0;
	if (!j)
		return 0;
	jc = &j->ctrl;
	if (!jc->in_use || jc->ref != ref) {
		journal_ctrl_reset(j, ref);
		return 0;
	}
	*out = jc->settled;
	if (__atomic_load_n(&jc->valid, __ATOMIC_ACQUIRE) && jc->count >= 1 &&
	    jc->count <= ENGINE_CTRL_RING_SIZE) {
		prod = engine_ring_read_idx(&sring->rsp_prod);
		if (prod == jc->from) {
			for (unsigned i = 0; i < jc->count; i++) {
				/* netif.h's ring[1]: the page's slots, reached by offset */
				uint8_t *slot = (uint8_t *)sring->ring +
						((jc->from + i) % ENGINE_CTRL_RING_SIZE) *
						sizeof(sring->ring[0]);

				memcpy(slot, &jc->rsp[i], sizeof(jc->rsp[i]));
			}
			xen_wmb(); /* responses before the producer that covers them */
			engine_ring_write_idx(&sring->rsp_prod, jc->from + jc->count);
			*replayed = jc->count;
		}
		if (prod == jc->from || prod == jc->from + jc->count)
			*out = jc->next;
	}
	jc->settled = *out;
	__atomic_store_n(&jc->valid, 0, __ATOMIC_RELEASE);
	return 1;
}
