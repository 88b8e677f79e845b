/* SPDX-License-Identifier: MIT */
/*
 * offload.h - finding a frame's L3/L4 headers, and the checksum and GSO
 * work that needs them.
 *
 * These run on the host's private copy of a frame (never on guest memory),
 * and treat every header field as hostile: each offset is checked against
 * the frame before it is used.
 */
#ifndef XNB_ENGINE_OFFLOAD_H
#define XNB_ENGINE_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "meta.h"

/* Where a frame's headers are, as far as checksum and GSO care. */
struct engine_hdrs {
	uint16_t l3_off;   /* IPv4/IPv6 header, after Ethernet and VLAN tags */
	uint16_t l3_hdr_len; /* IPv4 header with options; IPv6 fixed header + extensions */
	uint16_t l4_off;   /* TCP/UDP header */
	uint16_t l4_len;   /* L4 header + payload, from the IP header (no L2 padding) */
	uint16_t l4_hdr_len; /* TCP header with options, or 8 for UDP */
	uint8_t ip_version; /* 4 or 6 */
	uint8_t l4_proto;  /* IPPROTO_TCP or IPPROTO_UDP */
};

/*
 * engine_hdrs_parse() - locate the L3 and L4 headers of an Ethernet frame.
 * Returns 0; -EPROTONOSUPPORT when it is not TCP or UDP over IPv4/IPv6 (ARP,
 * ICMP, ...); -EPROTO when the headers are truncated, inconsistent, or an IP
 * fragment (whose L4 checksum cannot be computed from this frame alone).
 */
int engine_hdrs_parse(const uint8_t *frame, uint32_t len, struct engine_hdrs *h);

/*
 * engine_csum_setup() - turn a frame whose sender left the L4 checksum to us
 * (netif csum_blank) into @m's PARTIAL form: csum_start / csum_offset.
 * With @seed_pseudo the checksum field is rewritten with the pseudo-header
 * sum, which is what a PARTIAL consumer expects to find there (needed when a
 * peer sent GSO without csum_blank and the field holds anything).
 * Returns 0 or the error of engine_hdrs_parse().
 */
int engine_csum_setup(uint8_t *frame, uint32_t len, struct engine_pkt_meta *m,
		      bool seed_pseudo);

/*
 * engine_csum_complete() - compute the frame's L4 checksum in software from
 * scratch (pseudo-header included; whatever the field held is ignored), and
 * the IPv4 header checksum too. On success @m->csum becomes VALIDATED.
 * Returns 0 or the error of engine_hdrs_parse().
 */
int engine_csum_complete(uint8_t *frame, uint32_t len, struct engine_pkt_meta *m);

/*
 * engine_csum_finish_partial() - finish a PARTIAL checksum where @m says it
 * is (@m->csum_start, @m->csum_offset: the virtio-net header's), as the
 * sender meant it: the ones' complement sum from csum_start to the end of
 * the frame, the field holding the pseudo-header seed. For checksums a
 * receiver cannot place by walking the headers itself, e.g. the inner one
 * of a tunnelled (VXLAN, GRE) packet. On success @m->csum becomes
 * VALIDATED. Returns 0, or -EINVAL if the field is not inside the frame.
 */
int engine_csum_finish_partial(uint8_t *frame, uint32_t len, struct engine_pkt_meta *m);

/*
 * engine_csum_elsewhere() - true if a PARTIAL @m points past where a
 * receiver walking @frame's headers would look (after the first TCP/UDP
 * header of an IP frame, or into an IP frame with none, as under GRE): the
 * inner checksum of a tunnelled packet, which netif's csum_blank cannot
 * place. False for a checksum at the first TCP/UDP header, and for frames
 * it cannot judge (not IP, truncated, fragments).
 */
bool engine_csum_elsewhere(const uint8_t *frame, uint32_t len, const struct engine_pkt_meta *m);

/*
 * engine_gso_check() - check that a GSO frame is what its type says
 * (TCPv4 / TCPv6 with a TCP header inside the frame) and set @m->hdr_len.
 * Returns 0 or -EPROTO.
 */
int engine_gso_check(const uint8_t *frame, uint32_t len, struct engine_pkt_meta *m);

#endif
