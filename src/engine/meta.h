/* SPDX-License-Identifier: MIT */
/*
 * meta.h - what travels beside a packet's bytes: checksum state, GSO, hash.
 *
 * It is the common ground between the netif flags/extras on the ring side and
 * the virtio-net header on the host side: the engine translates the ring side
 * into this, the host side (TAP) translates this into a virtio_net_hdr.
 */
#ifndef XNB_ENGINE_META_H
#define XNB_ENGINE_META_H

#include <stdint.h>

enum engine_csum {
	ENGINE_CSUM_NONE = 0,  /* nothing known: the receiver verifies */
	ENGINE_CSUM_PARTIAL,   /* L4 checksum still to be completed from csum_start */
	ENGINE_CSUM_VALIDATED, /* already verified (or generated) upstream */
};

struct engine_pkt_meta {
	uint8_t csum;         /* enum engine_csum */
	uint8_t gso_type;     /* XEN_NETIF_GSO_TYPE_* (NONE: not a GSO packet) */
	uint16_t gso_size;    /* segment payload size (MSS) */
	uint16_t csum_start;  /* PARTIAL: offset of the L4 header in the frame */
	uint16_t csum_offset; /* PARTIAL: offset of the checksum field from csum_start */
	uint16_t hdr_len;     /* GSO: bytes of L2..L4 headers */
	uint8_t has_hash;     /* hash/hash_type are valid */
	uint8_t hash_type;    /* _XEN_NETIF_CTRL_HASH_TYPE_* bit number */
	uint32_t hash;
};

#endif
