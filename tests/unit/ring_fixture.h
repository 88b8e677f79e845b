/* SPDX-License-Identifier: MIT */
/* ring_fixture.h - a simulated guest (rings, granted pages, grant copy) for the engine's unit tests. */
#ifndef XNB_TESTS_RING_FIXTURE_H
#define XNB_TESTS_RING_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "ring.h"
#include "copy.h"
#include "tx.h"
#include "rx.h"

/* The frontend's domain: deliberately neither 0 (dom0) nor DOMID_SELF. */
#define FIX_PEER_DOMID 7u
/* Guest pages available as grants: gref g is page g. */
#define FIX_NR_PAGES 640u
#define FIX_PAGE ENGINE_PAGE_SIZE

struct fixture {
	netif_tx_sring_t *txs;
	netif_rx_sring_t *rxs;
	netif_tx_front_ring_t txf;   /* the frontend's view of the TX ring */
	netif_rx_front_ring_t rxf;   /* the frontend's view of the RX ring */
	uint8_t *pages;              /* FIX_NR_PAGES guest pages */
	uint16_t peer_domid;

	/* Grant copy simulation. */
	uint32_t fail_refs[16];
	unsigned nr_fail_refs;
	void (*copy_hook)(void *arg); /* runs once at the start of each copy call */
	void *copy_hook_arg;
	unsigned copy_calls;
	unsigned segs_ok, segs_failed;
	unsigned segs_bad_flags;     /* segments with neither or both gref flags */

	/* The engine under test (tests that use it call fixture_tx_engine/rx_engine). */
	struct engine_tx_queue txq;
	struct engine_tx_batch *txb;
	uint8_t *arena;
	struct engine_rx_queue rxq;
	struct engine_rx_batch *rxb;
};

extern struct fixture *fx;

/* cmocka setup / teardown: fresh rings, pages and engine state for every test. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

/* Move all indices of both rings (shared and front) to @tx / @rx before the engine attaches. */
void fixture_start_at(RING_IDX tx, RING_IDX rx);

/* Guest pages. */
uint8_t *fixture_page(uint32_t gref);
void fixture_fill_random(void *buf, size_t len, uint32_t seed);

/* The frontend side of the TX ring. Push writes at req_prod_pvt; publish makes it visible. */
RING_IDX fixture_tx_push(uint32_t gref, uint16_t offset, uint16_t size, uint16_t flags, uint16_t id);
RING_IDX fixture_tx_push_extra(const netif_extra_info_t *e);
RING_IDX fixture_tx_push_gso(uint16_t mss, uint8_t gso_type, uint8_t eflags);
void fixture_tx_publish(void);
netif_tx_request_t *fixture_tx_req(RING_IDX i);
const netif_tx_response_t *fixture_tx_rsp(RING_IDX i);
RING_IDX fixture_tx_rsp_prod(void);

/*
 * Lay @frame out over @n data slots: own[k] bytes in slot k, slot k in page
 * @gref0 + k at @offset; the first request carries the total length, @flags,
 * more_data when n > 1 and extra_info when @nex > 0; the @nex extras follow
 * it (chained with XEN_NETIF_EXTRA_FLAG_MORE). Ids are @id0, @id0 + 1, ...
 * per data slot. The frame bytes are written into the pages. Returns the
 * ring index of the first request; pushes n + nex slots (not published).
 */
RING_IDX fixture_tx_packet(const uint8_t *frame, const uint16_t *own, unsigned n,
			   uint32_t gref0, uint16_t offset, uint16_t flags, uint16_t id0,
			   const netif_extra_info_t *ex, unsigned nex);

/* The frontend side of the RX ring. */
RING_IDX fixture_rx_push(uint16_t id, uint32_t gref);
void fixture_rx_post(unsigned n, uint16_t id0, uint32_t gref0);  /* push n and publish */
void fixture_rx_publish(void);
const netif_rx_response_t *fixture_rx_rsp(RING_IDX i);
const netif_extra_info_t *fixture_rx_extra(RING_IDX i);
RING_IDX fixture_rx_rsp_prod(void);

/* Simulated GNTTABOP_copy. */
void fixture_grant_copy(struct engine_copy_seg *segs, unsigned n);
void fixture_fail_ref(uint32_t ref);
void fixture_set_copy_hook(void (*fn)(void *arg), void *arg);

/* The engine under test, with its batch and arena. A NULL cfg means the defaults. */
void fixture_tx_engine(const struct engine_tx_config *cfg);
struct engine_tx_config fixture_tx_default_cfg(void);
/* parse + grant copy + finish; returns what parse returned (copy and finish only if > 0). */
int fixture_tx_run(unsigned budget);
void fixture_rx_engine(const struct engine_rx_config *cfg);
struct engine_rx_config fixture_rx_default_cfg(void);

/* ---- Frames and an independent reference checksum ---- */

/* Big-endian 16-bit word sum (RFC 1071), byte at a time, unfolded. */
uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t acc);
/* Fold to 16 bits and complement. */
uint16_t ref_fold(uint32_t sum);
/* The checksum of @n bytes, as a number (the value to store big-endian). */
uint16_t ref_csum(const uint8_t *p, size_t n);
/* Read the two bytes at @p as a big-endian number. */
uint16_t rd16(const uint8_t *p);
void wr16(uint8_t *p, uint16_t v);
/* The two bytes a 16-bit value occupies in memory, read as a big-endian number. */
uint16_t mem_as_be16(uint16_t v);

struct frame_spec {
	int ipver;              /* 4 or 6; 0: ARP */
	uint8_t proto;          /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP(V6) */
	unsigned vlan_tags;     /* 0, 1 or 2 (802.1ad outer + 802.1Q inner) */
	unsigned ip_opt_len;    /* IPv4 options, a multiple of 4 (<= 40) */
	unsigned tcp_opt_len;   /* TCP options, a multiple of 4 (<= 40) */
	unsigned v6_ext;        /* IPv6: 0..2 extension headers (hop-by-hop 8 B, dest opts 16 B) */
	unsigned payload;       /* L4 payload bytes */
	unsigned l2_pad;        /* bytes after the IP packet (Ethernet padding) */
	uint32_t seed;          /* payload / address pattern */
	bool ip_csum_garbage;   /* leave a wrong IPv4 header checksum */
};

struct frame_info {
	size_t len;             /* whole frame, padding included */
	size_t l3_off, l4_off;
	size_t l4_len;          /* L4 header + payload */
	size_t l4_hdr_len;
	size_t csum_off;        /* absolute offset of the L4 checksum field */
};

/* Build a frame into @buf (big enough); the L4 checksum field holds garbage. */
size_t fixture_build_frame(uint8_t *buf, const struct frame_spec *s, struct frame_info *fi);
/* The correct L4 checksum of a frame built as @fi says (field treated as zero; UDP 0 -> 0xffff). */
uint16_t ref_l4_csum(const uint8_t *frame, const struct frame_info *fi);
/* The correct IPv4 header checksum (field treated as zero). */
uint16_t ref_ipv4_hdr_csum(const uint8_t *frame, const struct frame_info *fi);
/* The pseudo-header sum, folded but not complemented (what a PARTIAL field holds). */
uint16_t ref_pseudo_folded(const uint8_t *frame, const struct frame_info *fi);
/* True when the frame's L4 checksum (and IPv4 header checksum) verify. */
bool ref_frame_csum_ok(const uint8_t *frame, const struct frame_info *fi);

/*
 * A tunnelled frame: an inner Ethernet/IP/TCP frame (its checksum PARTIAL,
 * the pseudo-header seed in the field) behind outer Ethernet + IPv4 +
 * VXLAN (UDP 4789) or GRE (IP protocol 47, Ethernet inside). @m gets the
 * host's csum_start/csum_offset, at the inner TCP header; @inner_fi
 * describes the inner frame, which starts at *@outer_len. Returns the length.
 */
enum fixture_tunnel { FIXTURE_VXLAN, FIXTURE_GRE };
size_t fixture_build_tunnelled(uint8_t *buf, enum fixture_tunnel encap, int ipver, unsigned payload,
			       uint32_t seed, struct frame_info *inner_fi, size_t *outer_len,
			       struct engine_pkt_meta *m);

#endif
