/* SPDX-License-Identifier: MIT */
/*
 * hash.c - Toeplitz hash, the header fields it covers, and queue selection.
 *
 * See hash.h. The frame walk is separate from offload.c's on purpose: that
 * one wants a checksummable TCP/UDP frame and refuses the rest, while a hash
 * is due to any IP packet (ICMP, a fragment, SCTP) under the IP-only types.
 */
#include "hash.h"

#include <errno.h>
#include <string.h>

#define ETH_HDR_LEN 14u
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define VLAN_TAG_LEN 4u
/* 802.1ad outer + 802.1Q inner: what offload.c accepts too. */
#define VLAN_MAX_TAGS 2u

#define IPV4_MIN_HDR 20u
#define IPV4_FRAG_MASK 0x3fff /* MF + fragment offset: any fragment */
#define IPV6_HDR_LEN 40u
/* Extension headers walked before giving up on finding TCP. */
#define IPV6_MAX_EXT 8u

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_DSTOPTS 60

/* Hash input: two addresses and two ports at most (netif.h: 36 bytes for IPv6 TCP). */
#define HASH_IN_MAX 36u

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void engine_hash_init(struct engine_hash *h, uint32_t num_queues)
{
	memset(h, 0, sizeof(*h));
	h->alg = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
	h->num_queues = num_queues ? num_queues : 1;
}

uint32_t engine_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *in, size_t n)
{
	uint32_t result = 0, window = 0;
	size_t k;

	/* window: the 32 key bits lined up with the input bit being looked at */
	for (k = 0; k < 4; k++)
		window = window << 8 | (k < keylen ? key[k] : 0);
	for (size_t i = 0; i < n; i++, k++) {
		uint8_t next = k < keylen ? key[k] : 0; /* key bits that slide in during this byte */

		for (int bit = 7; bit >= 0; bit--) {
			if (in[i] & (1u << bit))
				result ^= window;
			window = window << 1 | ((next >> bit) & 1u);
		}
	}
	return result;
}

/* What the walk found: where the addresses are, and the TCP ports if usable. */
struct flow {
	const uint8_t *addrs;  /* source then destination address */
	unsigned addr_len;     /* of both together: 8 or 32 */
	const uint8_t *ports;  /* source then destination port, or NULL */
	int ipv6;
};

/* Returns 0 and fills @f, or -1 when the IPv4 header is not all there. */
static int walk_ipv4(const uint8_t *fr, uint32_t len, uint32_t off, struct flow *f)
{
	uint32_t ihl;

	if (len - off < IPV4_MIN_HDR || (fr[off] >> 4) != 4)
		return -1;
	ihl = (fr[off] & 0xfu) * 4u;
	if (ihl < IPV4_MIN_HDR || ihl > len - off)
		return -1;
	f->addrs = fr + off + 12;
	f->addr_len = 8;
	f->ipv6 = 0;
	if (fr[off + 9] != PROTO_TCP || (rd16(fr + off + 6) & IPV4_FRAG_MASK))
		return 0;
	if (len - off - ihl < 4)
		return -1; /* TCP, but its ports are cut off: a broken frame */
	f->ports = fr + off + ihl;
	return 0;
}

/*
 * The extension headers Linux's flow dissector walks too (hop-by-hop,
 * routing, destination options, fragment); any fragment header means no
 * ports, as for IPv4.
 */
static int walk_ipv6(const uint8_t *fr, uint32_t len, uint32_t off, struct flow *f)
{
	uint32_t p = off + IPV6_HDR_LEN;
	uint8_t nh;

	if (len - off < IPV6_HDR_LEN || (fr[off] >> 4) != 6)
		return -1;
	f->addrs = fr + off + 8;
	f->addr_len = 32;
	f->ipv6 = 1;
	nh = fr[off + 6];
	for (unsigned i = 0; i <= IPV6_MAX_EXT; i++) {
		switch (nh) {
		case PROTO_TCP:
			if (len - p < 4)
				return -1;
			f->ports = fr + p;
			return 0;
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (len - p < 8)
				return -1;
			nh = fr[p];
			p += ((uint32_t)fr[p + 1] + 1u) * 8u;
			if (p > len)
				return -1;
			break;
		case PROTO_FRAGMENT:
			return 0;
		default:
			return 0; /* not TCP (UDP, ICMPv6, AH, ...): addresses only */
		}
	}
	return 0; /* too many extension headers to look further: addresses only */
}

int engine_hash_frame(const uint8_t key[ENGINE_HASH_KEY_MAX], uint32_t flags,
		      const uint8_t *frame, uint32_t len, uint32_t *hash, uint8_t *type)
{
	uint8_t in[HASH_IN_MAX];
	struct flow f = { 0 };
	uint32_t off = ETH_HDR_LEN, tcp_flag, ip_flag;
	uint16_t proto;
	unsigned n;
	int rc;

	if (len < ETH_HDR_LEN)
		return 0;
	proto = rd16(frame + 12);
	for (unsigned tags = 0; (proto == ETH_P_8021Q || proto == ETH_P_8021AD) &&
				tags < VLAN_MAX_TAGS; tags++) {
		if (len - off < VLAN_TAG_LEN)
			return 0;
		proto = rd16(frame + off + 2);
		off += VLAN_TAG_LEN;
	}
	if (proto == ETH_P_IPV4)
		rc = walk_ipv4(frame, len, off, &f);
	else if (proto == ETH_P_IPV6)
		rc = walk_ipv6(frame, len, off, &f);
	else
		return 0;
	if (rc)
		return 0;

	tcp_flag = f.ipv6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP : _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
	ip_flag = f.ipv6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6 : _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
	memcpy(in, f.addrs, f.addr_len);
	n = f.addr_len;
	/* The 'maximal' type wins (netif.h, SET_HASH_FLAGS). */
	if (f.ports && (flags & (1u << tcp_flag))) {
		memcpy(in + n, f.ports, 4);
		n += 4;
		*type = (uint8_t)tcp_flag;
	} else if (flags & (1u << ip_flag)) {
		*type = (uint8_t)ip_flag;
	} else {
		return 0;
	}
	*hash = engine_toeplitz(key, ENGINE_HASH_KEY_MAX, in, n);
	return 1;
}

int engine_hash_packet(const struct engine_hash *h, const uint8_t *frame, uint32_t len,
		       struct engine_pkt_meta *m)
{
	uint32_t hash = 0, nq = h->num_queues ? h->num_queues : 1;
	uint8_t type = 0;

	m->has_hash = 0;
	m->hash_type = 0;
	m->hash = 0;
	if (h->alg != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ || h->flags == 0)
		return -EOPNOTSUPP;
	if (engine_hash_frame(h->key, h->flags, frame, len, &hash, &type)) {
		m->has_hash = 1;
		m->hash_type = type;
		m->hash = hash;
	}
	if (h->size == 0)
		return (int)(hash % nq);
	/* The table is validated against num_queues; the min() only guards a caller's bug. */
	return (int)(h->mapping[hash % (h->size <= ENGINE_HASH_MAPPING_MAX ? h->size :
					ENGINE_HASH_MAPPING_MAX)] % nq);
}
