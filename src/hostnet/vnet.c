/* SPDX-License-Identifier: MIT */
/*
 * vnet.c - virtio-net header <-> engine metadata.
 *
 * The header is little-endian (the TAP's default on the little-endian hosts
 * Xen runs on; TUNSETVNETLE would be needed elsewhere). The netif protocol
 * knows TCPv4 and TCPv6 segmentation only, so the TAP is never told to
 * accept anything else, and anything else arriving is refused.
 */
#include "vnet.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/if_tun.h>

#include "ring.h"

unsigned vnet_offload_flags(const struct vnet_offloads *o)
{
	unsigned f = 0;

	if (!o->csum)
		return 0; /* the kernel requires TUN_F_CSUM for any TSO */
	f |= TUN_F_CSUM;
	if (o->tso4)
		f |= TUN_F_TSO4;
	if (o->tso6)
		f |= TUN_F_TSO6;
	return f;
}

void vnet_hdr_from_meta(const struct engine_pkt_meta *m, struct virtio_net_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (m->csum == ENGINE_CSUM_PARTIAL) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = htole16(m->csum_start);
		h->csum_offset = htole16(m->csum_offset);
	} else if (m->csum == ENGINE_CSUM_VALIDATED) {
		h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	switch (m->gso_type) {
	case XEN_NETIF_GSO_TYPE_TCPV4:
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		break;
	case XEN_NETIF_GSO_TYPE_TCPV6:
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
		break;
	default:
		return;
	}
	h->gso_size = htole16(m->gso_size);
	h->hdr_len = htole16(m->hdr_len);
}

int vnet_hdr_to_meta(const struct virtio_net_hdr *h, uint32_t frame_len,
		     struct engine_pkt_meta *m)
{
	memset(m, 0, sizeof(*m));
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

		if (start + off + 2 > frame_len)
			return -EOPNOTSUPP;
		m->csum = ENGINE_CSUM_PARTIAL;
		m->csum_start = (uint16_t)start;
		m->csum_offset = (uint16_t)off;
	} else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		m->csum = ENGINE_CSUM_VALIDATED;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		m->gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		m->gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
		break;
	default:
		return -EOPNOTSUPP;
	}
	m->gso_size = le16toh(h->gso_size);
	m->hdr_len = le16toh(h->hdr_len);
	if (m->gso_size == 0 || m->csum != ENGINE_CSUM_PARTIAL)
		return -EOPNOTSUPP;
	return 0;
}
