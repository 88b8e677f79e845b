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

/* A file of the previous layout is cleared, never replayed. */
static void test_old_layout_cleared(void **state)
{
	int fd = memfd_create("journal", MFD_CLOEXEC);
	uint32_t old[4] = { 0x786e626a, 1, TX_REF, RX_REF };
	struct vif_journal *j;
	uint8_t out[4][6];

	(void)state;
	fixture_rx_engine(NULL);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
