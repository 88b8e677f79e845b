/* SPDX-License-Identifier: MIT */
/*
 * vnet.h - translating packet metadata to and from the virtio-net header
 * that a TAP device with IFF_VNET_HDR puts before every frame.
 *
 * Pure functions, so both directions are unit-tested without a TAP.
 */
#ifndef XNB_HOSTNET_VNET_H
#define XNB_HOSTNET_VNET_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include "meta.h"

/* What a frontend accepts, as TUNSETOFFLOAD flags for the TAP. */
struct vnet_offloads {
	bool csum;      /* partial checksums may be handed to it */
	bool tso4;
	bool tso6;
};

/* vnet_offload_flags() - the TUN_F_* set matching @o (TSO needs CSUM). */
unsigned vnet_offload_flags(const struct vnet_offloads *o);

/* vnet_hdr_from_meta() - the header to write before a frame headed for the host. */
void vnet_hdr_from_meta(const struct engine_pkt_meta *m, struct virtio_net_hdr *h);

/*
 * vnet_hdr_to_meta() - metadata of a frame the host handed us.
 * Returns 0, or -EOPNOTSUPP for what netif cannot carry (UDP fragmentation
 * offload, ECN-marked TSO, unknown GSO types) or offsets past @frame_len.
 */
int vnet_hdr_to_meta(const struct virtio_net_hdr *h, uint32_t frame_len,
		     struct engine_pkt_meta *m);

#endif
