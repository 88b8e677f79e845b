/* SPDX-License-Identifier: MIT */
/* test_vnet.c - virtio-net header <-> engine metadata, both directions. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if_tun.h>

#include "vnet.h"
#include "ring.h"

static void test_partial_csum_to_host(void **state)
{
	struct engine_pkt_meta m = { .csum = ENGINE_CSUM_PARTIAL, .csum_start = 34,
				     .csum_offset = 16 };
	struct virtio_net_hdr h;

	(void)state;
	vnet_hdr_from_meta(&m, &h);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(le16toh(h.csum_start), 34);
	assert_int_equal(le16toh(h.csum_offset), 16);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
}

static void test_validated_to_host(void **state)
{
	struct engine_pkt_meta m = { .csum = ENGINE_CSUM_VALIDATED };
	struct virtio_net_hdr h;

	(void)state;
	vnet_hdr_from_meta(&m, &h);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(h.csum_start, 0);
}

static void test_gso_to_host(void **state)
{
	struct engine_pkt_meta m = { .csum = ENGINE_CSUM_PARTIAL, .csum_start = 54,
				     .csum_offset = 16, .gso_type = XEN_NETIF_GSO_TYPE_TCPV6,
				     .gso_size = 1440, .hdr_len = 74 };
	struct virtio_net_hdr h;

	(void)state;
	vnet_hdr_from_meta(&m, &h);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(le16toh(h.gso_size), 1440);
	assert_int_equal(le16toh(h.hdr_len), 74);
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	vnet_hdr_from_meta(&m, &h);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
}

static void test_from_host_roundtrip(void **state)
{
	struct virtio_net_hdr h = { 0 };
	struct engine_pkt_meta m;

	(void)state;
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = htole16(34);
	h.csum_offset = htole16(6);
	assert_int_equal(vnet_hdr_to_meta(&h, 100, &m), 0);
	assert_int_equal(m.csum, ENGINE_CSUM_PARTIAL);
	assert_int_equal(m.csum_start, 34);
	assert_int_equal(m.csum_offset, 6);
	assert_int_equal(m.gso_type, XEN_NETIF_GSO_TYPE_NONE);

	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = htole16(1448);
	h.hdr_len = htole16(66);
	assert_int_equal(vnet_hdr_to_meta(&h, 30000, &m), 0);
	assert_int_equal(m.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(m.gso_size, 1448);
	assert_int_equal(m.hdr_len, 66);

	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	assert_int_equal(vnet_hdr_to_meta(&h, 60, &m), 0);
	assert_int_equal(m.csum, ENGINE_CSUM_VALIDATED);
}

static void test_from_host_refusals(void **state)
{
	struct virtio_net_hdr h = { 0 };
	struct engine_pkt_meta m;

	(void)state;
	/* Checksum field past the frame. */
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = htole16(90);
	h.csum_offset = htole16(16);
	assert_int_equal(vnet_hdr_to_meta(&h, 100, &m), -EOPNOTSUPP);
	/* Segmentation netif cannot describe. */
	h.csum_start = htole16(34);
	h.csum_offset = htole16(6);
	h.gso_size = htole16(1400);
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(vnet_hdr_to_meta(&h, 9000, &m), -EOPNOTSUPP);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(vnet_hdr_to_meta(&h, 9000, &m), -EOPNOTSUPP);
	/* GSO without a segment size, or without a partial checksum. */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	assert_int_equal(vnet_hdr_to_meta(&h, 9000, &m), -EOPNOTSUPP);
	h.gso_size = htole16(1400);
	h.flags = 0;
	assert_int_equal(vnet_hdr_to_meta(&h, 9000, &m), -EOPNOTSUPP);
}

static void test_offload_flags(void **state)
{
	struct vnet_offloads o = { .csum = true, .tso4 = true, .tso6 = false };

	(void)state;
	assert_int_equal(vnet_offload_flags(&o), TUN_F_CSUM | TUN_F_TSO4);
	o.tso6 = true;
	assert_int_equal(vnet_offload_flags(&o), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	/* TSO without checksum offload is meaningless: the kernel refuses it. */
	o.csum = false;
	assert_int_equal(vnet_offload_flags(&o), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_csum_to_host),
		cmocka_unit_test(test_validated_to_host),
		cmocka_unit_test(test_gso_to_host),
		cmocka_unit_test(test_from_host_roundtrip),
		cmocka_unit_test(test_from_host_refusals),
		cmocka_unit_test(test_offload_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
