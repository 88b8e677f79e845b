/* SPDX-License-Identifier: MIT */
/*
 * test_journal.c - a worker that dies while publishing a batch of
 * responses, and the next worker finishing it (src/backend/worker/journal.c).
 *
 * The "death" is the old engine queue simply abandoned between
 * journal_*_begin() and engine_*_publish(); the successor is a fresh engine
 * queue attached to the same rings after journal_replay(), as a resumed
 * worker does (vif.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc.h"
#include "journal.h"
#include "ring_fixture.h"

#define TX_REF 900
#define RX_REF 901

static uint8_t frame[3 * FIX_PAGE];

static struct vif_journal *new_journal(void)
{
	int fd = memfd_create("journal", MFD_CLOEXEC);
	struct vif_journal *j;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, IPC_JOURNAL_BYTES), 0);
	j = journal_map(fd);
	assert_non_null(j);
	return j;
}

static void place_rx(unsigned len, uint32_t seed)
{
	struct engine_rx_pkt p = { .data = frame, .len = len };

	fixture_fill_random(frame, len, seed);
	assert_int_equal(engine_rx_add(&fx->rxq, fx->rxb, &p), 0);
}

/* Died after recording, before the publish: the successor publishes it. */
static void test_rx_replay_unpublished(void **state)
{
	struct vif_journal *j = new_journal();
	RING_IDX end;

	(void)state;
	fixture_rx_engine(NULL);
	journal_reset(j, 0, TX_REF, RX_REF);
	fixture_rx_post(6, 10, 20);
	place_rx(200, 1);
	place_rx(FIX_PAGE + 300, 2); /* two slots */
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_settle(&fx->rxq, fx->rxb);
	journal_rx_begin(j, 0, &fx->rxq, fx->rxb);
	end = fx->rxq.ring.rsp_prod_pvt;
	assert_int_equal(end, 3);
	/* ... killed here: nothing in the ring yet, the requests intact. */
	assert_int_equal(fixture_rx_rsp_prod(), 0);
	assert_int_equal(RING_GET_REQUEST(&fx->rxf, 1)->gref, 21);

	assert_int_equal(journal_replay(j, 0, TX_REF, RX_REF, fx->txs, fx->rxs), 3);
	assert_int_equal(fixture_rx_rsp_prod(), 3);
	assert_int_equal(fixture_rx_rsp(0)->id, 10);
	assert_int_equal(fixture_rx_rsp(0)->status, 200);
	assert_int_equal(fixture_rx_rsp(1)->id, 11);
	assert_int_equal(fixture_rx_rsp(1)->flags & NETRXF_more_data, NETRXF_more_data);
	assert_int_equal(fixture_rx_rsp(2)->id, 12);
	assert_int_equal(fixture_rx_rsp(2)->status, 300);
	/* A successor attaches after them and takes the next request. */
	fixture_rx_engine(NULL);
	assert_int_equal(fx->rxq.ring.req_cons, 3);
	place_rx(100, 3);
	assert_int_equal(fx->rxb->segs[0].dest.foreign.ref, 23);
	/* Replayed once: a second successor finds nothing to do. */
	assert_int_equal(journal_replay(j, 0, TX_REF, RX_REF, fx->txs, fx->rxs), 0);
	journal_unmap(j);
}

/* Died after the publish, before clearing the record: nothing replayed. */
static void test_rx_published_not_replayed(void **state)
{
	struct vif_journal *j = new_journal();

	(void)state;
	fixture_rx_engine(NULL);
	journal_reset(j, 0, TX_REF, RX_REF);
	fixture_rx_post(4, 10, 20);
	place_rx(200, 4);
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_settle(&fx->rxq, fx->rxb);
	journal_rx_begin(j, 0, &fx->rxq, fx->rxb);
	engine_rx_publish(&fx->rxq, fx->rxb);
	/* The frontend saw the response and posted into that slot again. */
	fixture_rx_rsp(0);
	fx->rxf.rsp_cons = 1;
	fixture_rx_post(1, 30, 40);
	assert_int_equal(journal_replay(j, 0, TX_REF, RX_REF, fx->txs, fx->rxs), 0);
	assert_int_equal(fixture_rx_rsp_prod(), 1);
	journal_unmap(j);
}

/* A record of other rings (a new connection since) is never applied. */
static void test_other_rings_ignored(void **state)
{
	struct vif_journal *j = new_journal();

	(void)state;
	fixture_rx_engine(NULL);
	journal_reset(j, 0, TX_REF, RX_REF);
	fixture_rx_post(2, 10, 20);
	place_rx(200, 5);
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_settle(&fx->rxq, fx->rxb);
	journal_rx_begin(j, 0, &fx->rxq, fx->rxb);
	assert_int_equal(journal_replay(j, 0, TX_REF + 1, RX_REF, fx->txs, fx->rxs), 0);
	assert_int_equal(fixture_rx_rsp_prod(), 0);
	/* And a reset forgets what was pending. */
	journal_reset(j, 0, TX_REF, RX_REF);
	assert_int_equal(journal_replay(j, 0, TX_REF, RX_REF, fx->txs, fx->rxs), 0);
	journal_unmap(j);
}

/* TX: the same for guest transmits. */
static void test_tx_replay_unpublished(void **state)
{
	struct vif_journal *j = new_journal();
	uint16_t own[1] = { 600 };

	(void)state;
	fixture_tx_engine(NULL);
	journal_reset(j, 0, TX_REF, RX_REF);
	fixture_fill_random(frame, 600, 6);
	fixture_tx_packet(frame, own, 1, 50, 0, 0, 7, NULL, 0);
	fixture_tx_packet(frame, own, 1, 51, 0, 0, 8, NULL, 0);
	fixture_tx_publish();
	assert_int_equal(engine_tx_parse(&fx->txq, fx->txb, ENGINE_TX_RING_SIZE), 2);
	fixture_grant_copy(fx->txb->segs, fx->txb->nr_segs);
	engine_tx_finish(&fx->txq, fx->txb);
	engine_tx_settle(&fx->txq, fx->txb);
	journal_tx_begin(j, 0, &fx->txq, fx->txb);
	/* ... killed here. */
	assert_int_equal(fixture_tx_rsp_prod(), 0);
	assert_int_equal(journal_replay(j, 0, TX_REF, RX_REF, fx->txs, fx->rxs), 2);
	assert_int_equal(fixture_tx_rsp_prod(), 2);
	assert_int_equal(fixture_tx_rsp(0)->id, 7);
	assert_int_equal(fixture_tx_rsp(0)->status, NETIF_RSP_OKAY);
	assert_int_equal(fixture_tx_rsp(1)->id, 8);
	fixture_tx_engine(NULL);
	assert_int_equal(fx->txq.ring.req_cons, 2);
	journal_unmap(j);
}

/* The guest's multicast subscriptions outlive a worker, not a new connection. */
static void test_mcast_kept(void **state)
{
	struct vif_journal *j = new_journal();
	uint8_t in[3][6] = { { 0x33, 0x33, 0, 0, 0, 1 }, { 0x33, 0x33, 0xff, 1, 2, 3 },
			     { 0x01, 0, 0x5e, 0, 0, 0xfb } };
	uint8_t out[4][6];

	(void)state;
	journal_reset(j, 0, TX_REF, RX_REF);
	journal_mcast_save(j, (const uint8_t (*)[6])in, 3);
	memset(out, 0, sizeof(out));
	assert_int_equal(journal_mcast_load(j, out, 4), 3);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(journal_mcast_load(j, out, 2), 2); /* bounded by the caller */
	journal_reset(j, 1, TX_REF + 2, RX_REF + 2); /* another queue's: the vif's list stays */
	assert_int_equal(journal_mcast_load(j, out, 4), 3);
	journal_mcast_save(j, NULL, 0); /* a fresh connection */
	assert_int_equal(journal_mcast_load(j, out, 4), 0);
	journal_unmap(j);
}

/* Queues keep records of their own: one queue's replay is not another's. */
static void test_queues_apart(void **state)
{
	struct vif_journal *j = new_journal();

	(void)state;
	fixture_rx_engine(NULL);
	journal_reset(j, 0, TX_REF, RX_REF);
	journal_reset(j, 1, TX_REF + 2, RX_REF + 2);
	fixture_rx_post(2, 10, 20);
	place_rx(200, 5);
	fixture_grant_copy(fx->rxb->segs, fx->rxb->nr_segs);
	engine_rx_settle(&fx->rxq, fx->rxb);
	journal_rx_begin(j, 1, &fx->rxq, fx->rxb);
	/* Queue 0 has nothing pending; queue 1's record names other rings. */
	assert_int_equal(journal_replay(j, 0, TX_REF, RX_REF, fx->txs, fx->rxs), 0);
	assert_int_equal(journal_replay(j, 1, TX_REF, RX_REF, fx->txs, fx->rxs), 0);
	assert_int_equal(fixture_rx_rsp_prod(), 0);
	assert_int_equal(journal_replay(j, 1, TX_REF + 2, RX_REF + 2, fx->txs, fx->rxs), 1);
	assert_int_equal(fixture_rx_rsp_prod(), 1);
	/* Out-of-range queues are ignored, not written. */
	journal_reset(j, JOURNAL_MAX_QUEUES, TX_REF, RX_REF);
	assert_int_equal(journal_replay(j, JOURNAL_MAX_QUEUES, TX_REF, RX_REF, fx->txs, fx->rxs),
			 0);
	journal_unmap(j);
}

/* A file of a previous layout (1, 2: no control record) is cleared, never replayed. */
static void test_old_layout_cleared(void **state)
{
	(void)state;
	fixture_rx_engine(NULL);
	for (uint32_t version = 1; version <= 2; version++) {
		int fd = memfd_create("journal", MFD_CLOEXEC);
		uint32_t old[4] = { 0x786e626a, version, TX_REF, RX_REF };
		struct vif_journal *j;
		uint8_t out[4][6];

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, IPC_JOURNAL_BYTES), 0);
		memset(frame, 0xff, 4096);
		memcpy(frame, old, sizeof(old));
		assert_int_equal(pwrite(fd, frame, 4096, 0), 4096);
		j = journal_map(fd);
		assert_non_null(j);
		assert_int_equal(journal_mcast_load(j, out, 4), 0);
		assert_int_equal(journal_replay(j, 0, TX_REF, RX_REF, fx->txs, fx->rxs), 0);
		assert_int_equal(fixture_rx_rsp_prod(), 0);
		journal_unmap(j);
	}
}

/* ---- the control ring ---------------------------------------------------- */

#define CTRL_REF 902

static union { xen_netif_ctrl_sring_t s; uint8_t page[FIX_PAGE]; } ctrl_page
	__attribute__((aligned(4096)));
static xen_netif_ctrl_front_ring_t ctrl_front;

static void ctrl_post(uint16_t id, uint16_t type, uint32_t d0)
{
	struct xen_netif_ctrl_request *r = RING_GET_REQUEST(&ctrl_front, ctrl_front.req_prod_pvt++);

	r->id = id;
	r->type = type;
	r->data[0] = d0;
	r->data[1] = r->data[2] = 0;
	ctrl_page.s.req_prod = ctrl_front.req_prod_pvt;
}

/* A backend of 4 queues attached to the ring, a batch of three taken and committed. */
static void ctrl_batch(struct engine_ctrl *c, struct engine_ctrl_batch *b)
{
	struct engine_ctrl_config cfg = { .peer_domid = 7, .num_queues = 4 };

	assert_int_equal(engine_ctrl_init(c, &ctrl_page.s, &cfg), 0);
	ctrl_post(1, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	ctrl_post(2, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4);
	ctrl_post(3, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 4);
	assert_int_equal(engine_ctrl_process(c, b), 3);
	engine_ctrl_settle(c, b);
	engine_ctrl_commit(c, b);
}

static void ctrl_ring_new(void)
{
	memset(&ctrl_page, 0xa5, sizeof(ctrl_page));
	SHARED_RING_INIT(&ctrl_page.s);
	FRONT_RING_INIT(&ctrl_front, &ctrl_page.s, FIX_PAGE);
}

/* Died between recording a batch and publishing it: the successor publishes it. */
static void test_ctrl_replay_unpublished(void **state)
{
	struct vif_journal *j = new_journal();
	struct engine_ctrl *c = calloc(1, sizeof(*c)), *next = calloc(1, sizeof(*next));
	struct engine_ctrl_batch *b = calloc(1, sizeof(*b));
	struct engine_ctrl_config cfg = { .peer_domid = 7, .num_queues = 4 };
	struct engine_hash h;
	unsigned replayed;

	(void)state;
	assert_non_null(c);
	assert_non_null(next);
	assert_non_null(b);
	ctrl_ring_new();
	journal_ctrl_reset(j, CTRL_REF);
	ctrl_batch(c, b);
	journal_ctrl_begin(j, c, b);
	/* ... killed here: the ring still shows the requests. */
	assert_int_equal(ctrl_page.s.rsp_prod, 0);
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF, &ctrl_page.s, &h, &replayed), 1);
	assert_int_equal(replayed, 3);
	assert_int_equal(ctrl_page.s.rsp_prod, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(RING_GET_RESPONSE(&ctrl_front, i)->id, i + 1);
		assert_int_equal(RING_GET_RESPONSE(&ctrl_front, i)->status,
				 XEN_NETIF_CTRL_STATUS_SUCCESS);
	}
	assert_int_equal(h.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	assert_int_equal(h.flags, XEN_NETIF_CTRL_HASH_TYPE_IPV4);
	assert_int_equal(h.size, 4);
	/* The successor attaches after the answers, with the state they answered for. */
	assert_int_equal(engine_ctrl_init(next, &ctrl_page.s, &cfg), 0);
	assert_int_equal(engine_ctrl_restore(next, &h), 0);
	assert_int_equal(engine_ctrl_process(next, b), 0);
	/* Settled by the resume: a second successor finds the same, replays nothing. */
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF, &ctrl_page.s, &h, &replayed), 1);
	assert_int_equal(replayed, 0);
	assert_int_equal(h.size, 4);
	free(c);
	free(next);
	free(b);
	journal_unmap(j);
}

/* Died after the publish, before the end: nothing replayed, the state kept. */
static void test_ctrl_published_kept(void **state)
{
	struct vif_journal *j = new_journal();
	struct engine_ctrl *c = calloc(1, sizeof(*c));
	struct engine_ctrl_batch *b = calloc(1, sizeof(*b));
	struct engine_hash h;
	unsigned replayed;

	(void)state;
	assert_non_null(c);
	assert_non_null(b);
	ctrl_ring_new();
	journal_ctrl_reset(j, CTRL_REF);
	ctrl_batch(c, b);
	journal_ctrl_begin(j, c, b);
	engine_ctrl_publish(c, b);
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF, &ctrl_page.s, &h, &replayed), 1);
	assert_int_equal(replayed, 0);
	assert_int_equal(ctrl_page.s.rsp_prod, 3);
	assert_int_equal(h.flags, XEN_NETIF_CTRL_HASH_TYPE_IPV4);

	/* The usual way: begin, publish, end; then a fresh connection forgets it. */
	ctrl_ring_new();
	journal_ctrl_reset(j, CTRL_REF);
	ctrl_batch(c, b);
	journal_ctrl_begin(j, c, b);
	engine_ctrl_publish(c, b);
	journal_ctrl_end(j);
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF, &ctrl_page.s, &h, &replayed), 1);
	assert_int_equal(h.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	journal_ctrl_reset(j, CTRL_REF);
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF, &ctrl_page.s, &h, &replayed), 1);
	assert_int_equal(h.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
	free(c);
	free(b);
	journal_unmap(j);
}

/* Another ring's record, or a ring that moved elsewhere: nothing taken on its word. */
static void test_ctrl_other_ring(void **state)
{
	struct vif_journal *j = new_journal();
	struct engine_ctrl *c = calloc(1, sizeof(*c));
	struct engine_ctrl_batch *b = calloc(1, sizeof(*b));
	struct engine_hash h;
	unsigned replayed;

	(void)state;
	assert_non_null(c);
	assert_non_null(b);
	ctrl_ring_new();
	journal_ctrl_reset(j, CTRL_REF);
	ctrl_batch(c, b);
	journal_ctrl_begin(j, c, b);
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF + 1, &ctrl_page.s, &h, &replayed), 0);
	assert_int_equal(replayed, 0);
	assert_int_equal(ctrl_page.s.rsp_prod, 0);
	/* ... and the record is that ring's now: the old batch is gone. */
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF, &ctrl_page.s, &h, &replayed), 0);

	journal_ctrl_reset(j, CTRL_REF);
	ctrl_ring_new();
	ctrl_batch(c, b);
	journal_ctrl_begin(j, c, b);
	ctrl_page.s.rsp_prod = 77; /* neither the batch's start nor its end */
	assert_int_equal(journal_ctrl_resume(j, CTRL_REF, &ctrl_page.s, &h, &replayed), 1);
	assert_int_equal(replayed, 0);
	assert_int_equal(ctrl_page.s.rsp_prod, 77);
	assert_int_equal(h.alg, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
	free(c);
	free(b);
	journal_unmap(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rx_replay_unpublished, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rx_published_not_replayed, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_other_rings_ignored, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tx_replay_unpublished, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_mcast_kept),
		cmocka_unit_test_setup_teardown(test_queues_apart, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_old_layout_cleared, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_ctrl_replay_unpublished),
		cmocka_unit_test(test_ctrl_published_kept),
		cmocka_unit_test(test_ctrl_other_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
