/* SPDX-License-Identifier: MIT */
/*
 * test_hash.c - Toeplitz against Microsoft's RSS verification data, the
 * header fields chosen per hash type, and queue selection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hash.h"

/*
 * "Verifying the RSS Hash Calculation" (Microsoft, Windows driver docs):
 * the key, then per row destination address:port, source address:port, the
 * IP-only hash and the hash with TCP ports. Microsoft publishes five IPv4
 * rows and three IPv6 rows; all of them are here.
 */
static const uint8_t ms_key[ENGINE_HASH_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

struct vec {
	const char *dst;
	uint16_t dport;
	const char *src;
	uint16_t sport;
	uint32_t ip_only, with_tcp;
};

static const struct vec v4[] = {
	{ "161.142.100.80", 1766, "66.9.149.187", 2794, 0x323e8fc2, 0x51ccc178 },
	{ "65.69.140.83", 4739, "199.92.111.2", 14230, 0xd718262a, 0xc626b0ea },
	{ "12.22.207.184", 38024, "24.19.198.95", 12898, 0xd2d0a5de, 0x5c2b394a },
	{ "209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xafc7327f },
	{ "202.188.127.2", 1303, "153.39.163.191", 44251, 0x5d1809c5, 0x10e828a2 },
};

static const struct vec v6[] = {
	{ "3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2cc18cd5, 0x40207d3d },
	{ "ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0f0c461c, 0xdde51bbf },
	{ "fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251,
	  0x4b61e985, 0x02d1feef },
};

#define NV4 (sizeof(v4) / sizeof(v4[0]))
#define NV6 (sizeof(v6) / sizeof(v6[0]))

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* src addr, dst addr, src port, dst port: Microsoft's and netif.h's order. Returns the length. */
static size_t tuple(uint8_t *in, const struct vec *v, int af, int ports)
{
	size_t a = af == AF_INET ? 4 : 16;

	assert_int_equal(inet_pton(af, v->src, in), 1);
	assert_int_equal(inet_pton(af, v->dst, in + a), 1);
	if (!ports)
		return 2 * a;
	put16(in + 2 * a, v->sport);
	put16(in + 2 * a + 2, v->dport);
	return 2 * a + 4;
}

static void test_toeplitz_ms_ipv4(void **state)
{
	uint8_t in[36];
	(void)state;

	for (unsigned i = 0; i < NV4; i++) {
		size_t n = tuple(in, &v4[i], AF_INET, 0);

		assert_int_equal(engine_toeplitz(ms_key, sizeof(ms_key), in, n), v4[i].ip_only);
		n = tuple(in, &v4[i], AF_INET, 1);
		assert_int_equal(engine_toeplitz(ms_key, sizeof(ms_key), in, n), v4[i].with_tcp);
	}
}

static void test_toeplitz_ms_ipv6(void **state)
{
	uint8_t in[36];
	(void)state;

	for (unsigned i = 0; i < NV6; i++) {
		size_t n = tuple(in, &v6[i], AF_INET6, 0);

		assert_int_equal(engine_toeplitz(ms_key, sizeof(ms_key), in, n), v6[i].ip_only);
		n = tuple(in, &v6[i], AF_INET6, 1);
		assert_int_equal(engine_toeplitz(ms_key, sizeof(ms_key), in, n), v6[i].with_tcp);
	}
}

/* Key bits past its length count as zero; an empty key hashes everything to 0. */
static void test_toeplitz_short_key(void **state)
{
	uint8_t in[36], padded[ENGINE_HASH_KEY_MAX] = { 0 };
	size_t n = tuple(in, &v6[0], AF_INET6, 1);
	(void)state;

	assert_int_equal(engine_toeplitz(ms_key, 0, in, n), 0);
	assert_int_equal(engine_toeplitz(NULL, 0, in, n), 0);
	memcpy(padded, ms_key, 13);
	assert_int_equal(engine_toeplitz(ms_key, 13, in, n),
			 engine_toeplitz(padded, sizeof(padded), in, n));
	/* a single bit picks out one 32-bit window of the key */
	memset(in, 0, sizeof(in));
	in[0] = 0x80;
	assert_int_equal(engine_toeplitz(ms_key, sizeof(ms_key), in, 1), 0x6d5a56da);
	in[0] = 0x01;
	assert_int_equal(engine_toeplitz(ms_key, sizeof(ms_key), in, 1), 0xad2b6d12);
}

/* Bit @i of @key (MSB of key[0] is bit 0), zero past @keylen bytes. */
static unsigned key_bit(const uint8_t *key, size_t keylen, size_t i)
{
	return i / 8 < keylen ? (key[i / 8] >> (7 - i % 8)) & 1u : 0;
}

/* netif.h's definition, literally: XOR the 32 key bits starting at each set input bit. */
static uint32_t ref_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *in, size_t n)
{
	uint32_t r = 0;

	for (size_t j = 0; j < 8 * n; j++) {
		uint32_t w = 0;

		if (!((in[j / 8] >> (7 - j % 8)) & 1u))
			continue;
		for (size_t b = 0; b < 32; b++)
			w = w << 1 | key_bit(key, keylen, j + b);
		r ^= w;
	}
	return r;
}

static void test_toeplitz_reference(void **state)
{
	uint8_t key[ENGINE_HASH_KEY_MAX], in[64];
	uint32_t x = 12345;
	(void)state;

	for (unsigned round = 0; round < 2000; round++) {
		size_t keylen = round % (ENGINE_HASH_KEY_MAX + 1), n = round % 37;

		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
		assert_int_equal(engine_toeplitz(key, keylen, in, n), ref_toeplitz(key, keylen, in, n));
	}
}

/* ---- frames ---- */

struct fspec {
	int af;
	const struct vec *v;
	uint8_t proto;       /* 6 TCP, 17 UDP, 1 ICMP */
	unsigned vlans;
	unsigned ip_opts;    /* IPv4 options bytes (multiple of 4) */
	int frag;            /* IPv4 MF flag / IPv6 fragment header */
	int hopopts;         /* IPv6 hop-by-hop header of 8 bytes first */
};

static uint8_t frame[256];

/* Returns the frame length; *l4 gets the L4 header offset. */
static uint32_t build(const struct fspec *s, uint32_t *l4)
{
	uint8_t *p = frame;
	uint32_t off;

	memset(frame, 0, sizeof(frame));
	memset(p, 0x02, 12);
	off = 12;
	for (unsigned t = 0; t < s->vlans; t++) {
		put16(p + off, t == 0 && s->vlans == 2 ? 0x88a8 : 0x8100);
		put16(p + off + 2, (uint16_t)(100 + t));
		off += 4;
	}
	if (s->af == AF_INET) {
		uint32_t ihl = 20 + s->ip_opts;

		put16(p + off, 0x0800);
		off += 2;
		p[off] = (uint8_t)(0x40 | ihl / 4);
		put16(p + off + 2, (uint16_t)(ihl + 20));
		if (s->frag)
			put16(p + off + 6, 0x2000); /* MF, offset 0: the first fragment */
		p[off + 8] = 64;
		p[off + 9] = s->proto;
		assert_int_equal(inet_pton(AF_INET, s->v->src, p + off + 12), 1);
		assert_int_equal(inet_pton(AF_INET, s->v->dst, p + off + 16), 1);
		off += ihl;
	} else {
		uint32_t ext = 0, ip;
		uint8_t *nh;

		put16(p + off, 0x86dd);
		off += 2;
		ip = off;
		nh = p + ip + 6;
		p[ip] = 0x60;
		p[ip + 7] = 64;
		assert_int_equal(inet_pton(AF_INET6, s->v->src, p + ip + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, s->v->dst, p + ip + 24), 1);
		off += 40;
		if (s->hopopts) {
			*nh = 0;
			nh = p + off;
			p[off + 1] = 0; /* 8 bytes */
			off += 8;
			ext += 8;
		}
		if (s->frag) {
			*nh = 44;
			nh = p + off;
			off += 8;
			ext += 8;
		}
		*nh = s->proto;
		put16(p + ip + 4, (uint16_t)(ext + 20));
	}
	*l4 = off;
	put16(p + off, s->v->sport);
	put16(p + off + 2, s->v->dport);
	if (s->proto == 6)
		p[off + 12] = 0x50;
	return off + 20;
}

static void expect_hash(const struct fspec *s, uint32_t flags, int want, uint32_t hash,
			uint8_t type)
{
	uint32_t l4, len = build(s, &l4), got = 0xdeadbeef;
	uint8_t t = 0xff;

	assert_int_equal(engine_hash_frame(ms_key, flags, frame, len, &got, &t), want);
	if (want) {
		assert_int_equal(got, hash);
		assert_int_equal(t, type);
	}
}

static void test_frame_ipv4(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NV4; i++) {
		struct fspec s = { .af = AF_INET, .v = &v4[i], .proto = 6 };

		expect_hash(&s, ENGINE_HASH_FLAGS_ALL, 1, v4[i].with_tcp,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
		expect_hash(&s, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 1, v4[i].with_tcp,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
		expect_hash(&s, XEN_NETIF_CTRL_HASH_TYPE_IPV4, 1, v4[i].ip_only,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
		/* IPv6 types do not apply to IPv4 */
		expect_hash(&s, XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP,
			    0, 0, 0);
		/* options are skipped to find the ports */
		s.ip_opts = 12;
		expect_hash(&s, ENGINE_HASH_FLAGS_ALL, 1, v4[i].with_tcp,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
		/* VLAN tags are looked through */
		s.vlans = 2;
		expect_hash(&s, ENGINE_HASH_FLAGS_ALL, 1, v4[i].with_tcp,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	}
}

static void test_frame_ipv6(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NV6; i++) {
		struct fspec s = { .af = AF_INET6, .v = &v6[i], .proto = 6 };

		expect_hash(&s, ENGINE_HASH_FLAGS_ALL, 1, v6[i].with_tcp,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
		expect_hash(&s, XEN_NETIF_CTRL_HASH_TYPE_IPV6, 1, v6[i].ip_only,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
		expect_hash(&s, XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP,
			    0, 0, 0);
		s.hopopts = 1;
		expect_hash(&s, ENGINE_HASH_FLAGS_ALL, 1, v6[i].with_tcp,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
		s.vlans = 1;
		expect_hash(&s, ENGINE_HASH_FLAGS_ALL, 1, v6[i].with_tcp,
			    _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
	}
}

/* Not TCP, or a fragment: the address pair if enabled, else nothing. */
static void test_frame_not_tcp(void **state)
{
	struct fspec s4 = { .af = AF_INET, .v = &v4[0], .proto = 17 };
	struct fspec s6 = { .af = AF_INET6, .v = &v6[0], .proto = 17 };
	(void)state;

	expect_hash(&s4, ENGINE_HASH_FLAGS_ALL, 1, v4[0].ip_only, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
	expect_hash(&s4, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0, 0);
	s4.proto = 1;
	expect_hash(&s4, ENGINE_HASH_FLAGS_ALL, 1, v4[0].ip_only, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
	s4.proto = 6;
	s4.frag = 1;
	expect_hash(&s4, ENGINE_HASH_FLAGS_ALL, 1, v4[0].ip_only, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
	expect_hash(&s4, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0, 0);

	expect_hash(&s6, ENGINE_HASH_FLAGS_ALL, 1, v6[0].ip_only, _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
	expect_hash(&s6, XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP, 0, 0, 0);
	s6.proto = 6;
	s6.frag = 1;
	expect_hash(&s6, ENGINE_HASH_FLAGS_ALL, 1, v6[0].ip_only, _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
	s6.hopopts = 1;
	expect_hash(&s6, ENGINE_HASH_FLAGS_ALL, 1, v6[0].ip_only, _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
}

/* ARP, three VLAN tags, a bad IP version: no hash. */
static void test_frame_not_ip(void **state)
{
	struct fspec s = { .af = AF_INET, .v = &v4[0], .proto = 6 };
	uint32_t l4, len, h;
	uint8_t t;
	(void)state;

	len = build(&s, &l4);
	put16(frame + 12, 0x0806);
	assert_int_equal(engine_hash_frame(ms_key, ENGINE_HASH_FLAGS_ALL, frame, len, &h, &t), 0);
	s.vlans = 2;
	len = build(&s, &l4);
	put16(frame + 20, 0x8100); /* a third tag where IPv4 was */
	assert_int_equal(engine_hash_frame(ms_key, ENGINE_HASH_FLAGS_ALL, frame, len, &h, &t), 0);
	s.vlans = 0;
	len = build(&s, &l4);
	frame[14] = 0x65; /* version 6 in an IPv4 ethertype */
	assert_int_equal(engine_hash_frame(ms_key, ENGINE_HASH_FLAGS_ALL, frame, len, &h, &t), 0);
	frame[14] = 0x44; /* IHL 4: shorter than a header */
	assert_int_equal(engine_hash_frame(ms_key, ENGINE_HASH_FLAGS_ALL, frame, len, &h, &t), 0);
	frame[14] = 0x4f; /* IHL 15: past the frame */
	assert_int_equal(engine_hash_frame(ms_key, ENGINE_HASH_FLAGS_ALL, frame, len, &h, &t), 0);
}

/* Every prefix of a frame: no hash until the headers the type needs are all there. */
static void test_frame_truncated(void **state)
{
	const struct fspec specs[] = {
		{ .af = AF_INET, .v = &v4[1], .proto = 6, .vlans = 1, .ip_opts = 8 },
		{ .af = AF_INET6, .v = &v6[1], .proto = 6, .vlans = 2, .hopopts = 1 },
		{ .af = AF_INET6, .v = &v6[2], .proto = 17, .hopopts = 1 },
	};
	(void)state;

	for (unsigned k = 0; k < 3; k++) {
		uint32_t l4, full = build(&specs[k], &l4);
		uint8_t copy[256];

		memcpy(copy, frame, full);
		for (uint32_t len = 0; len <= full; len++) {
			uint32_t h = 0;
			uint8_t t = 0;
			int r = engine_hash_frame(ms_key, ENGINE_HASH_FLAGS_ALL, copy, len, &h, &t);
			/* TCP needs its ports; UDP under IPv6 needs the extension header walked */
			uint32_t need = specs[k].proto == 6 ? l4 + 4 : l4;

			assert_int_equal(r, len >= need);
		}
	}
}

static void test_packet_queue(void **state)
{
	struct fspec s = { .af = AF_INET, .v = &v4[0], .proto = 6 };
	struct engine_hash h;
	struct engine_pkt_meta m;
	uint32_t l4, len = build(&s, &l4);
	(void)state;

	engine_hash_init(&h, 4);
	memcpy(h.key, ms_key, sizeof(ms_key));
	memset(&m, 0xff, sizeof(m));
	assert_int_equal(engine_hash_packet(&h, frame, len, &m), -EOPNOTSUPP);
	assert_int_equal(m.has_hash, 0);
	h.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	assert_int_equal(engine_hash_packet(&h, frame, len, &m), -EOPNOTSUPP);
	h.flags = ENGINE_HASH_FLAGS_ALL;
	/* no table: modular arithmetic */
	assert_int_equal(engine_hash_packet(&h, frame, len, &m), (int)(0x51ccc178u % 4));
	assert_int_equal(m.has_hash, 1);
	assert_int_equal(m.hash, 0x51ccc178);
	assert_int_equal(m.hash_type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	/* a table */
	h.size = 7;
	for (unsigned i = 0; i < 7; i++)
		h.mapping[i] = (i * 3) % 4;
	assert_int_equal(engine_hash_packet(&h, frame, len, &m), (int)h.mapping[0x51ccc178u % 7]);
	/* a frame no type applies to: no hash, the queue of hash 0 */
	put16(frame + 12, 0x0806);
	assert_int_equal(engine_hash_packet(&h, frame, len, &m), (int)h.mapping[0]);
	assert_int_equal(m.has_hash, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toeplitz_ms_ipv4),
		cmocka_unit_test(test_toeplitz_ms_ipv6),
		cmocka_unit_test(test_toeplitz_short_key),
		cmocka_unit_test(test_toeplitz_reference),
		cmocka_unit_test(test_frame_ipv4),
		cmocka_unit_test(test_frame_ipv6),
		cmocka_unit_test(test_frame_not_tcp),
		cmocka_unit_test(test_frame_not_ip),
		cmocka_unit_test(test_frame_truncated),
		cmocka_unit_test(test_packet_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
