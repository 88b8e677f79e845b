/* SPDX-License-Identifier: MIT */
/*
 * offload.c - header walking for checksum offload and GSO.
 *
 * A frame is Ethernet, up to two VLAN tags (802.1Q / 802.1ad), then IPv4
 * or IPv6 (with hop-by-hop, routing, destination-options and AH extension
 * headers), then TCP or UDP. Every length field is checked against both the
 * frame and the enclosing header before use; the L4 length comes from the
 * IP header, so Ethernet padding never enters a checksum.
 */
#include "offload.h"

#include <errno.h>
#include <string.h>

#include "csum.h"
#include "ring.h"

#define ETH_HDR_LEN 14u
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define VLAN_TAG_LEN 4u
#define VLAN_MAX_TAGS 2

#define IPV4_MIN_HDR 20u
#define IPV4_FRAG_MASK 0x3fff /* MF flag + fragment offset */
#define IPV6_HDR_LEN 40u
/* Bound on extension headers walked; real stacks send two or three at most. */
#define IPV6_MAX_EXT 8

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_DSTOPTS 60

#define TCP_MIN_HDR 20u
#define UDP_HDR 8u
#define TCP_CSUM_OFF 16u
#define UDP_CSUM_OFF 6u
#define IPV4_CSUM_OFF 10u

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int parse_ipv4(const uint8_t *f, uint32_t len, uint32_t off, struct engine_hdrs *h)
{
	uint32_t ihl, tot;

	if (len - off < IPV4_MIN_HDR || (f[off] >> 4) != 4)
		return -EPROTO;
	ihl = (f[off] & 0xfu) * 4u;
	tot = rd16(f + off + 2);
	if (ihl < IPV4_MIN_HDR || tot < ihl || tot > len - off)
		return -EPROTO;
	if (f[off + 9] != PROTO_TCP && f[off + 9] != PROTO_UDP)
		return -EPROTONOSUPPORT;
	if (rd16(f + off + 6) & IPV4_FRAG_MASK)
		return -EPROTO;
	h->ip_version = 4;
	h->l3_hdr_len = (uint16_t)ihl;
	h->l4_proto = f[off + 9];
	h->l4_off = (uint16_t)(off + ihl);
	h->l4_len = (uint16_t)(tot - ihl);
	return 0;
}

static int parse_ipv6(const uint8_t *f, uint32_t len, uint32_t off, struct engine_hdrs *h)
{
	uint32_t end, p;
	uint8_t nh;

	if (len - off < IPV6_HDR_LEN || (f[off] >> 4) != 6)
		return -EPROTO;
	end = off + IPV6_HDR_LEN + rd16(f + off + 4);
	if (end > len) /* jumbograms (payload length 0) end up here too */
		return -EPROTO;
	nh = f[off + 6];
	p = off + IPV6_HDR_LEN;
	for (int i = 0; i <= IPV6_MAX_EXT; i++) {
		uint32_t ext;

		switch (nh) {
		case PROTO_TCP:
		case PROTO_UDP:
			h->ip_version = 6;
			h->l3_hdr_len = (uint16_t)(p - off);
			h->l4_proto = nh;
			h->l4_off = (uint16_t)p;
			h->l4_len = (uint16_t)(end - p);
			return 0;
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (end - p < 8)
				return -EPROTO;
			ext = (f[p + 1] + 1u) * 8u;
			break;
		case PROTO_AH:
			if (end - p < 8)
				return -EPROTO;
			ext = (f[p + 1] + 2u) * 4u;
			break;
		case PROTO_FRAGMENT:
			return -EPROTO;
		default:
			return -EPROTONOSUPPORT;
		}
		if (ext > end - p)
			return -EPROTO;
		nh = f[p];
		p += ext;
	}
	return -EPROTO;
}

int engine_hdrs_parse(const uint8_t *f, uint32_t len, struct engine_hdrs *h)
{
	uint32_t off = ETH_HDR_LEN;
	uint16_t proto;
	int tags = 0, rc;

	memset(h, 0, sizeof(*h));
	if (len < ETH_HDR_LEN)
		return -EPROTO;
	proto = rd16(f + 12);
	while (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		if (++tags > VLAN_MAX_TAGS)
			return -EPROTONOSUPPORT;
		if (len - off < VLAN_TAG_LEN)
			return -EPROTO;
		proto = rd16(f + off + 2);
		off += VLAN_TAG_LEN;
	}
	h->l3_off = (uint16_t)off;
	if (proto == ETH_P_IPV4)
		rc = parse_ipv4(f, len, off, h);
	else if (proto == ETH_P_IPV6)
		rc = parse_ipv6(f, len, off, h);
	else
		return -EPROTONOSUPPORT;
	if (rc)
		return rc;

	if (h->l4_proto == PROTO_TCP) {
		uint32_t doff;

		if (h->l4_len < TCP_MIN_HDR)
			return -EPROTO;
		doff = (f[h->l4_off + 12] >> 4) * 4u;
		if (doff < TCP_MIN_HDR || doff > h->l4_len)
			return -EPROTO;
		h->l4_hdr_len = (uint16_t)doff;
	} else {
		if (h->l4_len < UDP_HDR)
			return -EPROTO;
		h->l4_hdr_len = UDP_HDR;
	}
	return 0;
}

/* The pseudo-header sum of RFC 793 / RFC 8200 section 8.1, unfolded. */
static uint32_t pseudo_sum(const uint8_t *f, const struct engine_hdrs *h)
{
	uint32_t sum;

	if (h->ip_version == 4) {
		uint8_t tail[4] = { 0, h->l4_proto, (uint8_t)(h->l4_len >> 8),
				    (uint8_t)h->l4_len };

		sum = csum_add_bytes(f + h->l3_off + 12, 8, 0);
		return csum_add_bytes(tail, sizeof(tail), sum);
	} else {
		uint8_t tail[8] = { 0, 0, (uint8_t)(h->l4_len >> 8), (uint8_t)h->l4_len,
				    0, 0, 0, h->l4_proto };

		sum = csum_add_bytes(f + h->l3_off + 8, 32, 0);
		return csum_add_bytes(tail, sizeof(tail), sum);
	}
}

static void store16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

int engine_csum_setup(uint8_t *frame, uint32_t len, struct engine_pkt_meta *m,
		      bool seed_pseudo)
{
	struct engine_hdrs h;
	int rc = engine_hdrs_parse(frame, len, &h);

	if (rc)
		return rc;
	m->csum = ENGINE_CSUM_PARTIAL;
	m->csum_start = h.l4_off;
	m->csum_offset = h.l4_proto == PROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	if (seed_pseudo) {
		/* A PARTIAL field holds the folded, uncomplemented pseudo sum. */
		store16(frame + m->csum_start + m->csum_offset,
			(uint16_t)~csum_fold(pseudo_sum(frame, &h)));
	}
	return 0;
}

int engine_csum_complete(uint8_t *frame, uint32_t len, struct engine_pkt_meta *m)
{
	struct engine_hdrs h;
	uint8_t *field;
	uint16_t c;
	int rc = engine_hdrs_parse(frame, len, &h);

	if (rc)
		return rc;
	field = frame + h.l4_off + (h.l4_proto == PROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);
	store16(field, 0);
	c = csum_fold(csum_add_bytes(frame + h.l4_off, h.l4_len, pseudo_sum(frame, &h)));
	if (c == 0 && h.l4_proto == PROTO_UDP)
		c = 0xffff; /* RFC 768: 0 means 'no checksum' */
	store16(field, c);

	if (h.ip_version == 4) {
		uint8_t *ip = frame + h.l3_off;

		store16(ip + IPV4_CSUM_OFF, 0);
		store16(ip + IPV4_CSUM_OFF, csum_fold(csum_add_bytes(ip, h.l3_hdr_len, 0)));
	}
	m->csum = ENGINE_CSUM_VALIDATED;
	return 0;
}

int engine_csum_finish_partial(uint8_t *frame, uint32_t len, struct engine_pkt_meta *m)
{
	uint32_t start = m->csum_start, field = start + m->csum_offset;
	uint16_t c;

	if (start >= len || field + 2 > len || field < start)
		return -EINVAL;
	c = csum_fold(csum_add_bytes(frame + start, len - start, 0));
	/* 0 and 0xffff are the same sum; UDP reads 0 as 'no checksum'. */
	store16(frame + field, c ? c : 0xffff);
	m->csum = ENGINE_CSUM_VALIDATED;
	return 0;
}

/* An untagged IPv4 or IPv6 frame (tunnels do not ride VLANs in practice). */
static bool frame_is_ip(const uint8_t *f, uint32_t len)
{
	uint16_t proto;

	if (len < ETH_HDR_LEN)
		return false;
	proto = rd16(f + 12);
	return proto == ETH_P_IPV4 || proto == ETH_P_IPV6;
}

bool engine_csum_elsewhere(const uint8_t *frame, uint32_t len, const struct engine_pkt_meta *m)
{
	struct engine_hdrs h;
	int rc;

	if (m->csum != ENGINE_CSUM_PARTIAL)
		return false;
	rc = engine_hdrs_parse(frame, len, &h);
	if (rc == 0)
		return m->csum_start > h.l4_off; /* past the first TCP/UDP header: an inner one */
	/* IP with no TCP/UDP first (GRE, IP in IP): past Ethernet and a minimal IP header. */
	return rc == -EPROTONOSUPPORT && m->csum_start >= 14 + 20 && frame_is_ip(frame, len);
}

int engine_gso_check(const uint8_t *frame, uint32_t len, struct engine_pkt_meta *m)
{
	struct engine_hdrs h;

	if (m->gso_size == 0 || engine_hdrs_parse(frame, len, &h) != 0 ||
	    h.l4_proto != PROTO_TCP)
		return -EPROTO;
	if ((m->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && h.ip_version != 4) ||
	    (m->gso_type == XEN_NETIF_GSO_TYPE_TCPV6 && h.ip_version != 6) ||
	    (m->gso_type != XEN_NETIF_GSO_TYPE_TCPV4 && m->gso_type != XEN_NETIF_GSO_TYPE_TCPV6))
		return -EPROTO;
	m->hdr_len = (uint16_t)(h.l4_off + h.l4_hdr_len);
	return 0;
}
