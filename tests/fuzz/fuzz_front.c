/* SPDX-License-Identifier: MIT */
/*
 * fuzz_front.c - the netfront engine against a backend that writes anything.
 *
 * The input is: start indices, pool sizes and config bits, then a script of
 * operations until the input runs out. The frontend side sends packets and
 * multicast filter requests, pushes, reaps (collecting the filter answers),
 * refills and polls; the backend side writes responses (with
 * ids and statuses from the input, or with the id of the request it
 * answers so that the deeper paths are reached), sets producer and event
 * indices to anything, and scribbles over any byte of the shared ring pages
 * and the buffer pages it was granted.
 *
 * Every buffer page, the arena and each sent packet are allocations of
 * their own, so ASan sees any access outside them. After each step:
 * either the queue is broken (and stays so), or its pool is consistent
 * (each buffer either free exactly once or outstanding / posted in exactly
 * one slot) and its counters agree with its indices.
 */
#include <errno.h>
#include <stdbool.h>

#include "front.h"
#include "fuzz_input.h"

#define NBUF ENGINE_FRONT_MAX_BUFS
#define ARENA_SIZE (2 * ENGINE_FRONT_RX_ARENA_MIN)
#define MAX_OPS 512

static union { netif_tx_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } txs;
static union { netif_rx_sring_t s; uint8_t page[ENGINE_PAGE_SIZE]; } rxs;
static struct engine_front_buf txb[NBUF], rxb[NBUF];
static struct engine_front_tx_queue txq;
static struct engine_front_rx_queue rxq;
static struct engine_front_rx_batch batch;
static uint8_t *arena;
static uint64_t mcast_collected; /* filter answers taken by the caller, this run */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void setup_once(void)
{
	if (arena)
		return;
	for (unsigned i = 0; i < NBUF; i++) {
		txb[i].page = malloc(ENGINE_PAGE_SIZE);
		rxb[i].page = malloc(ENGINE_PAGE_SIZE);
		FUZZ_CHECK(txb[i].page && rxb[i].page);
		txb[i].gref = 100 + i;
		rxb[i].gref = 1000 + i;
	}
	arena = malloc(ARENA_SIZE);
	FUZZ_CHECK(arena);
}

/* Shift an idle, freshly initialised ring to @at (to cross the 2^32 wrap). */
static void tx_start_at(RING_IDX at)
{
	txs.s.req_prod = txs.s.rsp_prod = at;
	txs.s.req_event = txs.s.rsp_event = at + 1;
	txq.ring.req_prod_pvt = txq.ring.rsp_cons = at;
	txq.req_published = at;
}

static void rx_start_at(RING_IDX at)
{
	rxs.s.req_prod = rxs.s.rsp_prod = at;
	rxs.s.req_event = rxs.s.rsp_event = at + 1;
	rxq.ring.req_prod_pvt = rxq.ring.rsp_cons = at;
	rxq.req_published = at;
}

static void check_tx(RING_IDX start)
{
	const struct engine_front_tx_stats *st = &txq.stats;
	bool is_free[NBUF] = { false };
	unsigned out = 0;
	uint64_t err_sum = 0;

	if (txq.fault)
		return;
	FUZZ_CHECK(txq.nr_free <= txq.nr_bufs);
	for (unsigned k = 0; k < txq.nr_free; k++) {
		uint16_t b = txq.free_list[k];

		FUZZ_CHECK(b < txq.nr_bufs && !is_free[b] && txq.buf_state[b] == 0);
		is_free[b] = true;
	}
	for (unsigned b = 0; b < txq.nr_bufs; b++) {
		FUZZ_CHECK(is_free[b] == (txq.buf_state[b] == 0));
		out += txq.buf_state[b] != 0;
	}
	FUZZ_CHECK(out + txq.nr_free == txq.nr_bufs);
	/* rsp_cons <= req_published <= req_prod_pvt <= rsp_cons + ring */
	FUZZ_CHECK(txq.req_published - txq.ring.rsp_cons <=
		   txq.ring.req_prod_pvt - txq.ring.rsp_cons);
	FUZZ_CHECK(txq.ring.req_prod_pvt - txq.ring.rsp_cons <= ENGINE_TX_RING_SIZE);
	/* every unanswered slot holds an outstanding buffer or an extra owed a NULL */
	FUZZ_CHECK(out + txq.nulls_owed == txq.ring.req_prod_pvt - txq.ring.rsp_cons);
	FUZZ_CHECK(st->requests == (RING_IDX)(txq.ring.req_prod_pvt - start));
	FUZZ_CHECK(st->responses == (RING_IDX)(txq.ring.rsp_cons - start));
	for (unsigned e = 0; e < ENGINE_FRONT_TX_ERR_MAX; e++)
		err_sum += st->err[e];
	FUZZ_CHECK(st->errors == err_sum && st->err[ENGINE_FRONT_TX_ERR_NONE] == 0);
	FUZZ_CHECK(st->completed == st->okay + st->err[ENGINE_FRONT_TX_ERR_RSP_ERROR] +
		   st->err[ENGINE_FRONT_TX_ERR_RSP_DROPPED] + st->err[ENGINE_FRONT_TX_ERR_RSP_UNKNOWN]);
	FUZZ_CHECK(st->completed <= st->packets);
	FUZZ_CHECK(engine_front_tx_free_slots(&txq) <= ENGINE_TX_RING_SIZE);
	/* each filter request is in flight, answered and waiting, or collected */
	FUZZ_CHECK(txq.mcast_out + txq.mcast_done <= ENGINE_FRONT_MCAST_PENDING);
	FUZZ_CHECK(st->mcast_okay + st->mcast_errors == mcast_collected + txq.mcast_done);
	FUZZ_CHECK(st->mcast_requests == st->mcast_okay + st->mcast_errors + txq.mcast_out);
}

static void check_rx(RING_IDX start)
{
	const struct engine_front_rx_stats *st = &rxq.stats;
	bool seen[NBUF] = { false };
	unsigned posted = 0;
	uint64_t err_sum = 0;

	if (rxq.fault)
		return;
	FUZZ_CHECK(rxq.nr_free <= rxq.nr_bufs);
	FUZZ_CHECK(rxq.ring.req_prod_pvt - rxq.ring.rsp_cons <= ENGINE_RX_RING_SIZE);
	FUZZ_CHECK(rxq.req_published == rxq.ring.req_prod_pvt); /* refill always publishes */
	for (unsigned s = 0; s < ENGINE_RX_RING_SIZE; s++) {
		bool live = (RING_IDX)(s - rxq.ring.rsp_cons) % ENGINE_RX_RING_SIZE <
			    rxq.ring.req_prod_pvt - rxq.ring.rsp_cons;
		uint16_t b = rxq.slot_buf[s];

		if (!live) {
			FUZZ_CHECK(b == ENGINE_FRONT_NO_BUF);
			continue;
		}
		FUZZ_CHECK(b < rxq.nr_bufs && !seen[b] && rxq.buf_state[b] != 0);
		seen[b] = true;
		posted++;
	}
	for (unsigned k = 0; k < rxq.nr_free; k++) {
		uint16_t b = rxq.free_list[k];

		FUZZ_CHECK(b < rxq.nr_bufs && !seen[b] && rxq.buf_state[b] == 0);
		seen[b] = true;
	}
	FUZZ_CHECK(posted + rxq.nr_free == rxq.nr_bufs);
	FUZZ_CHECK(st->requests == (RING_IDX)(rxq.ring.req_prod_pvt - start));
	FUZZ_CHECK(st->responses == (RING_IDX)(rxq.ring.rsp_cons - start));
	for (unsigned e = 0; e < ENGINE_FRONT_RX_ERR_MAX; e++)
		err_sum += st->err[e];
	FUZZ_CHECK(st->errors == err_sum && st->err[ENGINE_FRONT_RX_ERR_NONE] == 0);
	FUZZ_CHECK(st->packets + st->errors <= st->responses);
}

static void check_batch(int n)
{
	size_t prev_end = 0;

	if (n < 0) {
		FUZZ_CHECK(n == -EPROTO && rxq.fault != ENGINE_FRONT_FAULT_NONE);
		return;
	}
	FUZZ_CHECK((unsigned)n == batch.nr_pkts && batch.nr_pkts <= ENGINE_FRONT_RX_BATCH);
	for (unsigned i = 0; i < batch.nr_pkts; i++) {
		const struct engine_front_rx_pkt *p = &batch.pkts[i];
		size_t off = (size_t)(p->data - arena);

		FUZZ_CHECK(p->data >= arena && off >= prev_end && off + p->len <= ARENA_SIZE);
		FUZZ_CHECK(p->len >= 14 && p->len <= ENGINE_FRONT_RX_PKT_MAX);
		FUZZ_CHECK(p->meta.csum <= ENGINE_CSUM_VALIDATED);
		if (p->meta.csum == ENGINE_CSUM_PARTIAL)
			FUZZ_CHECK((uint32_t)p->meta.csum_start + p->meta.csum_offset + 2 <= p->len);
		if (p->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE)
			FUZZ_CHECK(p->meta.gso_size > 0 && p->meta.hdr_len <= p->len);
		prev_end = off + p->len;
	}
}

/* The backend answers TX slot @at: honestly-shaped (id of that request) or not. */
static void be_tx_response(struct fuzz_input *in, RING_IDX at)
{
	netif_tx_response_t *r = &txs.s.ring[at % ENGINE_TX_RING_SIZE].rsp;
	uint8_t how = fuzz_u8(in);
	uint16_t id = txs.s.ring[at % ENGINE_TX_RING_SIZE].req.id;
	int16_t status = (int16_t)(how >> 4) - 3; /* -3 .. 12: around the NETIF_RSP_* values */

	if (how & 1)
		id = fuzz_u16(in);
	if (how & 2)
		status = (int16_t)fuzz_u16(in);
	r->id = id;
	r->status = status;
}

/* The backend answers RX slot @at: the id posted there, or anything. */
static void be_rx_response(struct fuzz_input *in, RING_IDX at)
{
	netif_rx_response_t *r = &rxs.s.ring[at % ENGINE_RX_RING_SIZE].rsp;
	uint8_t how = fuzz_u8(in);
	uint16_t id = rxs.s.ring[at % ENGINE_RX_RING_SIZE].req.id;

	if (how & 1) {
		fuzz_take(in, r, sizeof(*r));
		return;
	}
	r->id = id;
	r->offset = (how & 2) ? fuzz_u16(in) : 0;
	r->flags = fuzz_u8(in) & 0x1f;
	r->status = (how & 4) ? (int16_t)fuzz_u16(in) : (int16_t)(fuzz_u16(in) % 4097);
}

/*
 * Put the headers of a TCP or UDP frame over IPv4 / IPv6 (lengths from the
 * input) at the start of the buffer posted in RX slot @at, so that the
 * checksum and GSO paths see frames worth parsing.
 */
static void be_rx_frame(struct fuzz_input *in, RING_IDX at)
{
	uint16_t id = rxs.s.ring[at % ENGINE_RX_RING_SIZE].req.id;
	uint8_t kind = fuzz_u8(in);
	uint16_t l4len = fuzz_u16(in);
	uint8_t *f, *ip, *l4;

	if (id >= rxq.nr_bufs)
		return;
	f = rxb[id].page;
	memset(f, 0, 128);
	ip = f + 14;
	if (kind & 1) {
		f[12] = 0x86;
		f[13] = 0xdd;
		ip[0] = 0x60;
		ip[4] = (uint8_t)(l4len >> 8);
		ip[5] = (uint8_t)l4len;
		ip[6] = (kind & 2) ? 17 : 6;
		l4 = ip + 40;
	} else {
		uint16_t tot = (uint16_t)(l4len + 20);

		f[12] = 0x08;
		ip[0] = 0x45;
		ip[2] = (uint8_t)(tot >> 8);
		ip[3] = (uint8_t)tot;
		ip[9] = (kind & 2) ? 17 : 6;
		l4 = ip + 20;
	}
	l4[12] = (uint8_t)((5 + (kind >> 4)) << 4); /* TCP data offset */
}

static void send_one(struct fuzz_input *in)
{
	struct engine_pkt_meta m = { 0 };
	uint32_t len = fuzz_u32(in) % 70000u;
	uint8_t bits = fuzz_u8(in);
	uint8_t *pkt;
	RING_IDX prod = txq.ring.req_prod_pvt;
	unsigned nfree = txq.nr_free;
	int rc;

	if (bits & 0x80)
		len %= 2000;
	m.csum = bits % 3;
	m.gso_type = (bits >> 2) % 4;
	m.gso_size = (bits & 0x40) ? fuzz_u16(in) : 1448;
	pkt = malloc(len ? len : 1);
	FUZZ_CHECK(pkt);
	fuzz_take(in, pkt, len < 64 ? len : 64);
	rc = engine_front_tx_send(&txq, pkt, len, &m);
	if (rc == 0) {
		unsigned n = engine_front_tx_slots(len);

		FUZZ_CHECK(txq.nr_free == nfree - n);
		FUZZ_CHECK(txq.ring.req_prod_pvt - prod == n + (m.gso_type != 0));
		/* the backend sees the bytes we were given */
		for (unsigned k = 0; k < n; k++) {
			RING_IDX at = prod + k + (k > 0 && m.gso_type != 0);
			const netif_tx_request_t *r = &txs.s.ring[at % ENGINE_TX_RING_SIZE].req;
			uint32_t off = k * ENGINE_PAGE_SIZE;
			uint32_t sz = len - off < ENGINE_PAGE_SIZE ? len - off : ENGINE_PAGE_SIZE;

			FUZZ_CHECK(r->id < txq.nr_bufs && r->gref == 100u + r->id && r->offset == 0);
			FUZZ_CHECK(memcmp(txb[r->id].page, pkt + off, sz) == 0);
		}
	} else {
		FUZZ_CHECK(rc == -EAGAIN || rc == -EMSGSIZE || rc == -EOPNOTSUPP || rc == -EINVAL ||
			   (rc == -EPROTO && txq.fault));
		FUZZ_CHECK(txq.ring.req_prod_pvt == prod && txq.nr_free == nfree);
	}
	free(pkt);
}

/* A multicast filter request: the two slots netif.h asks for, or nothing. */
static void mcast_one(struct fuzz_input *in)
{
	RING_IDX prod = txq.ring.req_prod_pvt;
	unsigned nfree = txq.nr_free;
	uint8_t addr[6], add = fuzz_u8(in) & 1;
	int rc;

	fuzz_take(in, addr, sizeof(addr));
	rc = engine_front_tx_mcast(&txq, add, addr);
	if (rc == 0) {
		const netif_tx_request_t *r = &txs.s.ring[prod % ENGINE_TX_RING_SIZE].req;
		const struct netif_extra_info *ex =
			(const void *)&txs.s.ring[(prod + 1) % ENGINE_TX_RING_SIZE].req;

		FUZZ_CHECK(txq.nr_free == nfree - 1 && txq.ring.req_prod_pvt - prod == 2);
		FUZZ_CHECK(r->id < txq.nr_bufs && r->size == 0 && r->flags == NETTXF_extra_info);
		FUZZ_CHECK(ex->type == (add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD
					    : XEN_NETIF_EXTRA_TYPE_MCAST_DEL));
		FUZZ_CHECK(ex->flags == 0 && memcmp(ex->u.mcast.addr, addr, 6) == 0);
	} else {
		FUZZ_CHECK(rc == -EAGAIN || rc == -EOPNOTSUPP || rc == -EINVAL ||
			   (rc == -EPROTO && txq.fault));
		FUZZ_CHECK(txq.ring.req_prod_pvt == prod && txq.nr_free == nfree);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct engine_front_tx_config tcfg;
	struct engine_front_rx_config rcfg;
	RING_IDX tx_start, rx_start, be_tx = 0, be_rx = 0;
	unsigned ntx, nrx;
	uint8_t bits;
	bool more;

	setup_once();
	tx_start = fuzz_u32(&in);
	rx_start = fuzz_u32(&in);
	ntx = 1 + fuzz_u8(&in) % NBUF;
	nrx = ENGINE_FRONT_RX_MIN_BUFS + fuzz_u8(&in) % (NBUF - ENGINE_FRONT_RX_MIN_BUFS + 1);
	bits = fuzz_u8(&in);
	tcfg = (struct engine_front_tx_config){ bits & 1, bits & 2, bits & 4, bits & 32 };
	mcast_collected = 0;
	rcfg = (struct engine_front_rx_config){ bits & 8, bits & 16 };

	memset(&txs, 0, sizeof(txs));
	memset(&rxs, 0, sizeof(rxs));
	FUZZ_CHECK(engine_front_tx_init(&txq, &txs.s, &tcfg, txb, ntx) == 0);
	FUZZ_CHECK(engine_front_rx_init(&rxq, &rxs.s, &rcfg, rxb, nrx) == 0);
	FUZZ_CHECK(engine_front_rx_batch_init(&batch, arena, ARENA_SIZE) == 0);
	tx_start_at(tx_start);
	rx_start_at(rx_start);
	be_tx = tx_start;
	be_rx = rx_start;
	engine_front_rx_refill(&rxq);

	for (unsigned op = 0; op < MAX_OPS && in.left; op++) {
		uint8_t code = fuzz_u8(&in);
		enum engine_front_fault txf = txq.fault, rxf = rxq.fault;
		int rc;

		switch (code % 10) {
		case 0:
			if (code & 0x80)
				mcast_one(&in);
			else
				send_one(&in);
			break;
		case 1:
			engine_front_tx_push(&txq);
			break;
		case 2: /* the backend answers some TX slots and publishes */
			for (unsigned n = fuzz_u8(&in) % 64; n; n--) {
				/* mostly only what was published, as an honest backend */
				if (!(code & 0x40) && be_tx == txq.req_published)
					break;
				be_tx_response(&in, be_tx++);
			}
			txs.s.rsp_prod = (code & 0x80) ? be_tx + (fuzz_u8(&in) % 8) - 4 : be_tx;
			break;
		case 3:
			rc = engine_front_tx_reap(&txq, fuzz_u16(&in) % 300, &more);
			FUZZ_CHECK(rc >= 0 || (rc == -EPROTO && txq.fault));
			/* the caller collects the filter answers now, or lets them pile up */
			for (struct engine_front_mcast_result r; !(code & 0x80) &&
			     engine_front_tx_mcast_result(&txq, &r);)
				mcast_collected++;
			break;
		case 4:
			engine_front_rx_refill(&rxq);
			break;
		case 5: /* the backend answers some RX slots and publishes */
			for (unsigned n = fuzz_u8(&in) % 64; n; n--) {
				if (!(code & 0x40) && be_rx == rxq.req_published)
					break;
				be_rx_response(&in, be_rx++);
			}
			rxs.s.rsp_prod = (code & 0x80) ? be_rx + (fuzz_u8(&in) % 8) - 4 : be_rx;
			break;
		case 6: /* an honest-looking GSO / hash extra in the next RX slot */
			{
				struct netif_extra_info *e =
					(struct netif_extra_info *)&rxs.s.ring[be_rx++ % ENGINE_RX_RING_SIZE].rsp;

				fuzz_take(&in, e, sizeof(*e));
				e->type = e->type % 6;
			}
			break;
		case 7:
			rc = engine_front_rx_poll(&rxq, &batch, fuzz_u8(&in) % 80);
			check_batch(rc);
			break;
		case 8: /* scribble anywhere on a shared ring page */
			{
				uint16_t off = fuzz_u16(&in);
				uint8_t *page = (off & 0x8000) ? rxs.page : txs.page;

				off &= ENGINE_PAGE_SIZE - 1;
				fuzz_take(&in, page + (off & ~7u), 8);
			}
			break;
		case 9: /* scribble on a granted RX buffer page */
			if (code & 0x80) {
				be_rx_frame(&in, be_rx);
				break;
			}
			{
				uint8_t b = fuzz_u8(&in);
				uint16_t off = fuzz_u16(&in) & (ENGINE_PAGE_SIZE - 1);

				fuzz_take(&in, rxb[b % NBUF].page + (off & ~63u), 64);
			}
			break;
		}
		/* a fault, once set, stays */
		FUZZ_CHECK(!txf || txq.fault == txf);
		FUZZ_CHECK(!rxf || rxq.fault == rxf);
		check_tx(tx_start);
		check_rx(rx_start);
	}
	return 0;
}
