/* SPDX-License-Identifier: MIT */
/*
 * xnb-engine-demo - the protocol engine at work, shown step by step.
 *
 * A simulated guest (ring pages and a pool of granted pages in this
 * process) sends a handful of packets on its TX ring, good and bad; the
 * engine parses them, a simulated hypervisor runs the grant copies, and the
 * demo prints what reached the host and what the guest was told. Then the
 * host sends packets the other way into the guest's posted RX buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "offload.h"
#include "rx.h"
#include "tx.h"

#define GUEST_DOMID 3
#define GUEST_PAGES 64u

static uint8_t guest_pages[GUEST_PAGES][ENGINE_PAGE_SIZE];
static union { netif_tx_sring_t s; uint8_t p[ENGINE_PAGE_SIZE]; } tx_page;
static union { netif_rx_sring_t s; uint8_t p[ENGINE_PAGE_SIZE]; } rx_page;
static netif_tx_front_ring_t tx_front;
static netif_rx_front_ring_t rx_front;
static unsigned next_gref = 1;

/* The hypervisor's part: copy between granted pages and host memory. */
static void hypervisor_copy(struct engine_copy_seg *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct engine_copy_seg *s = &segs[i];
		const union engine_copy_ptr *g = s->flags & GNTCOPY_source_gref ? &s->source : &s->dest;

		if (g->foreign.domid != GUEST_DOMID || g->foreign.ref >= GUEST_PAGES ||
		    g->foreign.ref == 0) {
			s->status = GNTST_bad_gntref;
			continue;
		}
		if (s->flags & GNTCOPY_source_gref)
			memcpy(s->dest.virt, guest_pages[g->foreign.ref] + g->foreign.offset, s->len);
		else
			memcpy(guest_pages[g->foreign.ref] + g->foreign.offset, s->source.virt, s->len);
		s->status = GNTST_okay;
	}
}

/* Ethernet + IPv4 + (TCP|UDP|ICMP) frame of @len bytes, checksums blank. */
static void build_frame(uint8_t *f, uint32_t len, uint8_t proto)
{
	static const uint8_t hdr[] = {
		0x00, 0x16, 0x3e, 0x00, 0x00, 0x01, 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02, 0x08, 0x00,
		0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 0, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
	};
	uint32_t ip_len = len - 14;

	memset(f, 0, len);
	memcpy(f, hdr, sizeof(hdr));
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[23] = proto;
	for (uint32_t i = 34; i < len; i++)
		f[i] = (uint8_t)('a' + i % 26);
	if (proto == 6) {
		memset(f + 34, 0, 20);
		f[35] = 80;
		f[37] = 0xc0;
		f[46] = 0x50;
		f[47] = 0x18;
	} else if (proto == 17) {
		memset(f + 34, 0, 8);
		f[35] = 53;
		f[37] = 0x35;
		f[38] = (uint8_t)((ip_len - 20) >> 8);
		f[39] = (uint8_t)(ip_len - 20);
	} else {
		f[34] = 8; /* ICMP echo request */
		f[35] = 0;
	}
}

/* Put @frame into guest pages and post it on the TX ring, @chunk bytes a slot. */
static void guest_send(const char *what, const uint8_t *frame, uint32_t len, uint32_t chunk,
		       uint16_t flags, const struct netif_extra_info *extra)
{
	uint32_t off = 0;
	unsigned slot = 0;

	printf("  guest posts %-34s %5u bytes\n", what, len);
	do {
		uint32_t n = len - off < chunk ? len - off : chunk;
		netif_tx_request_t *r = RING_GET_REQUEST(&tx_front, tx_front.req_prod_pvt++);
		unsigned gref = next_gref++ % GUEST_PAGES;

		memcpy(guest_pages[gref], frame + off, n);
		r->gref = gref;
		r->offset = 0;
		r->id = (uint16_t)tx_front.req_prod_pvt;
		r->size = (uint16_t)(slot == 0 ? len : n);
		r->flags = (off + n < len ? NETTXF_more_data : 0) | (slot == 0 ? flags : 0);
		if (slot == 0 && extra) {
			r->flags |= NETTXF_extra_info;
			memcpy(RING_GET_REQUEST(&tx_front, tx_front.req_prod_pvt++), extra, sizeof(*extra));
		}
		off += n;
		slot++;
	} while (off < len);
}

static const char *drop_name(uint8_t d)
{
	static const char *const names[ENGINE_TX_DROP_MAX] = {
		"delivered", "dropped: too many slots", "dropped: size underflow",
		"dropped: runt", "dropped: bad extra", "dropped: bad GSO",
		"dropped: bad checksum request", "dropped: copy failed", "dropped by host",
		"refused: multicast table full",
	};
	return d < ENGINE_TX_DROP_MAX ? names[d] : "?";
}

static const char *csum_name(uint8_t c)
{
	return c == ENGINE_CSUM_PARTIAL ? "partial (handed over)" :
	       c == ENGINE_CSUM_VALIDATED ? "complete/validated" : "none";
}

static void demo_tx(void)
{
	struct engine_tx_config cfg = { .peer_domid = GUEST_DOMID, .gso_tcpv4 = true,
					.complete_csum = true };
	struct engine_tx_queue q;
	static struct engine_tx_batch b;
	static uint8_t arena[ENGINE_TX_ARENA_SIZE], frame[65536];
	struct netif_extra_info gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
	int n;

	printf("== Guest TX: frontend -> host ==\n");
	engine_tx_init(&q, &tx_page.s, &cfg);
	engine_tx_batch_init(&b, arena, sizeof(arena));

	build_frame(frame, 98, 1);
	guest_send("ICMP echo request", frame, 98, 4096, 0, NULL);
	build_frame(frame, 300, 17);
	guest_send("UDP, csum_blank, split 200+100", frame, 300, 200, NETTXF_csum_blank, NULL);
	build_frame(frame, 20000, 6);
	gso.u.gso.size = 1448;
	gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	guest_send("TCP GSO (mss 1448) over 5 slots", frame, 20000, 4096, NETTXF_csum_blank, &gso);
	build_frame(frame, 60, 1);
	guest_send("runt (10 bytes: hostile)", frame, 10, 4096, 0, NULL);
	gso.u.gso.size = 0;
	build_frame(frame, 2000, 6);
	guest_send("GSO with size 0 (hostile)", frame, 2000, 4096, NETTXF_csum_blank, &gso);
	RING_PUSH_REQUESTS(&tx_front);

	n = engine_tx_parse(&q, &b, ENGINE_TX_RING_SIZE);
	printf("  engine consumed %d requests: %u packets, %u copy segments in one batch\n",
	       n, b.nr_pkts, b.nr_segs);
	hypervisor_copy(b.segs, b.nr_segs);
	engine_tx_finish(&q, &b);
	for (unsigned i = 0; i < b.nr_pkts; i++) {
		const struct engine_tx_pkt *p = &b.pkts[i];

		printf("  packet %u: %u slots, %5u bytes copied, %-26s", i, p->rsp_count, p->len,
		       drop_name(p->drop));
		if (!p->drop)
			printf(" csum %s%s", csum_name(p->meta.csum),
			       p->meta.gso_type ? ", GSO TCPv4" : "");
		printf("\n");
	}
	engine_tx_respond(&q, &b);
	printf("  responses the guest reads:");
	for (RING_IDX i = tx_front.rsp_cons; i != tx_page.s.rsp_prod; i++) {
		int16_t st = RING_GET_RESPONSE(&tx_front, i)->status;

		printf(" %s", st == NETIF_RSP_OKAY ? "OKAY" : st == NETIF_RSP_NULL ? "NULL" :
			      st == NETIF_RSP_ERROR ? "ERROR" : "DROPPED");
	}
	tx_front.rsp_cons = tx_page.s.rsp_prod;
	printf("\n  counters: %llu packets, %llu bytes, %llu dropped, %llu checksums completed\n\n",
	       (unsigned long long)q.stats.packets, (unsigned long long)q.stats.bytes,
	       (unsigned long long)q.stats.dropped, (unsigned long long)q.stats.csum_completed);
}

static void demo_rx(void)
{
	struct engine_rx_config cfg = { .peer_domid = GUEST_DOMID, .sg = true,
					.gso_tcpv4 = true, .csum_blank = true };
	struct engine_rx_queue q;
	static struct engine_rx_batch b;
	static uint8_t frames[3][30000];
	struct engine_rx_pkt pkts[3] = {
		{ frames[0], 98, { 0 } },
		{ frames[1], 9000, { .csum = ENGINE_CSUM_VALIDATED } },
		{ frames[2], 30000, { .csum = ENGINE_CSUM_PARTIAL,
				      .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1448 } },
	};
	const char *names[3] = { "ICMP echo reply", "jumbo UDP, validated", "TCP GSO, partial csum" };

	printf("== Guest RX: host -> frontend ==\n");
	engine_rx_init(&q, &rx_page.s, &cfg);
	for (unsigned i = 0; i < 12; i++) {
		netif_rx_request_t *r = RING_GET_REQUEST(&rx_front, rx_front.req_prod_pvt++);

		r->id = (uint16_t)(100 + i);
		r->gref = 40 + i;
	}
	RING_PUSH_REQUESTS(&rx_front);
	printf("  guest posts 12 RX buffers (one granted page each)\n");
	build_frame(frames[0], 98, 1);
	build_frame(frames[1], 9000, 17);
	build_frame(frames[2], 30000, 6);
	engine_rx_batch_reset(&b);
	for (unsigned i = 0; i < 3; i++) {
		int rc = engine_rx_add(&q, &b, &pkts[i]);

		printf("  host sends %-24s %5u bytes: %s\n", names[i], pkts[i].len,
		       rc == 0 ? "placed" : rc == -EAGAIN ? "waits: not enough buffers posted (EAGAIN)"
							  : "dropped");
	}
	hypervisor_copy(b.segs, b.nr_segs);
	engine_rx_complete(&q, &b);
	printf("  responses the guest reads (slot: id status flags):\n");
	for (RING_IDX i = rx_front.rsp_cons; i != rx_page.s.rsp_prod; i++) {
		const netif_rx_response_t *r = RING_GET_RESPONSE(&rx_front, i);

		if (i > 0 && (RING_GET_RESPONSE(&rx_front, i - 1)->flags & NETRXF_extra_info)) {
			const struct netif_extra_info *ex = (const void *)r;

			printf("    slot %2u: GSO extra, mss %u\n", i, ex->u.gso.size);
			continue;
		}
		printf("    slot %2u: id %u, %4d bytes%s%s%s%s\n", i, r->id, r->status,
		       r->flags & NETRXF_more_data ? " more_data" : "",
		       r->flags & NETRXF_extra_info ? " extra_info" : "",
		       r->flags & NETRXF_csum_blank ? " csum_blank" : "",
		       r->flags & NETRXF_data_validated ? " data_validated" : "");
	}
	rx_front.rsp_cons = rx_page.s.rsp_prod;
	printf("  counters: %llu packets, %llu bytes\n", (unsigned long long)q.stats.packets,
	       (unsigned long long)q.stats.bytes);
}

int main(void)
{
	SHARED_RING_INIT(&tx_page.s);
	FRONT_RING_INIT(&tx_front, &tx_page.s, ENGINE_PAGE_SIZE);
	SHARED_RING_INIT(&rx_page.s);
	FRONT_RING_INIT(&rx_front, &rx_page.s, ENGINE_PAGE_SIZE);
	printf("xnb engine demo: a simulated guest (domid %d) and the netif protocol engine\n\n",
	       GUEST_DOMID);
	demo_tx();
	demo_rx();
	return 0;
}
