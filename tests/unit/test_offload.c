/* SPDX-License-Identifier: MIT */
/* test_offload.c - header parsing, checksum setup/completion and GSO checks on built frames. */
#include "ring_fixture.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"

/*
 * FreeBSD's hand-checked frames live in netback_unit_tests.c, which the seed
 * listing does not include; these tests build their own frames and check
 * every checksum against the fixture's independent byte-wise reference.
 */

static uint8_t frame[4096];
static struct frame_info fi;

static size_t build(int ipver, uint8_t proto, unsigned payload)
{
	struct frame_spec s;

	memset(&s, 0, sizeof(s));
	s.ipver = ipver;
	s.proto = proto;
	s.payload = payload;
	s.seed = payload * 3u + proto + (unsigned)ipver;
	return fixture_build_frame(frame, &s, &fi);
}

static size_t build_spec(const struct frame_spec *s)
{
	return fixture_build_frame(frame, s, &fi);
}

static void expect_hdrs(const uint8_t *f, size_t len, int ipver, uint8_t proto)
{
	struct engine_hdrs h;

	memset(&h, 0xee, sizeof(h));
	assert_int_equal(engine_hdrs_parse(f, (uint32_t)len, &h), 0);
	assert_int_equal(h.l3_off, fi.l3_off);
	assert_int_equal(h.l4_off, fi.l4_off);
	assert_int_equal(h.l4_len, fi.l4_len);
	assert_int_equal(h.l4_hdr_len, fi.l4_hdr_len);
	assert_int_equal(h.ip_version, ipver);
	assert_int_equal(h.l4_proto, proto);
}

/* ---- engine_hdrs_parse ---- */

static void test_parse_ipv4_tcp(void **state)
{
	(void)state;
	size_t len = build(4, IPPROTO_TCP, 100);

	expect_hdrs(frame, len, 4, IPPROTO_TCP);
	assert_int_equal(fi.l4_off, 34);
}

static void test_parse_ipv4_options_tcp_options(void **state)
{
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_TCP, .ip_opt_len = 12,
				.tcp_opt_len = 20, .payload = 33, .seed = 5 };
	(void)state;
	size_t len = build_spec(&s);

	expect_hdrs(frame, len, 4, IPPROTO_TCP);
	assert_int_equal(fi.l4_off, 14 + 32);
	assert_int_equal(fi.l4_hdr_len, 40);
}

static void test_parse_ipv4_udp(void **state)
{
	(void)state;
	size_t len = build(4, IPPROTO_UDP, 9);

	expect_hdrs(frame, len, 4, IPPROTO_UDP);
	assert_int_equal(fi.l4_hdr_len, 8);
}

static void test_parse_ipv6_tcp_udp(void **state)
{
	(void)state;
	size_t len = build(6, IPPROTO_TCP, 1000);

	expect_hdrs(frame, len, 6, IPPROTO_TCP);
	assert_int_equal(fi.l4_off, 54);
	len = build(6, IPPROTO_UDP, 0);
	expect_hdrs(frame, len, 6, IPPROTO_UDP);
}

static void test_parse_ipv6_extension_headers(void **state)
{
	(void)state;
	for (unsigned ext = 1; ext <= 2; ext++) {
		struct frame_spec s = { .ipver = 6, .proto = IPPROTO_TCP, .v6_ext = ext,
					.tcp_opt_len = 12, .payload = 77, .seed = ext };
		size_t len = build_spec(&s);

		expect_hdrs(frame, len, 6, IPPROTO_TCP);
		assert_int_equal(fi.l4_off, 54 + (ext == 1 ? 8 : 24));
		s.proto = IPPROTO_UDP;
		len = build_spec(&s);
		expect_hdrs(frame, len, 6, IPPROTO_UDP);
	}
}

static void test_parse_vlan(void **state)
{
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_TCP, .vlan_tags = 1,
				.payload = 60, .seed = 9 };
	(void)state;
	size_t len = build_spec(&s);

	expect_hdrs(frame, len, 4, IPPROTO_TCP);
	assert_int_equal(fi.l3_off, 18);
	s.ipver = 6;
	s.proto = IPPROTO_UDP;
	s.v6_ext = 1;
	len = build_spec(&s);
	expect_hdrs(frame, len, 6, IPPROTO_UDP);
	assert_int_equal(fi.l4_off, 18 + 40 + 8);
}

/* 802.1ad outer + 802.1Q inner tag; a third tag is not accepted. */
static void test_parse_qinq(void **state)
{
	struct frame_spec s = { .ipver = 6, .proto = IPPROTO_TCP, .vlan_tags = 2,
				.payload = 10, .seed = 19 };
	struct engine_hdrs h;
	uint8_t f3[4096];
	(void)state;
	size_t len = build_spec(&s);

	expect_hdrs(frame, len, 6, IPPROTO_TCP);
	assert_int_equal(fi.l3_off, 22);
	/* insert a third 802.1Q tag after the second */
	memcpy(f3, frame, 18);
	wr16(f3 + 18, 0x8100);
	wr16(f3 + 20, 0x0007);
	memcpy(f3 + 22, frame + 18, len - 18);
	assert_true(engine_hdrs_parse(f3, (uint32_t)len + 4, &h) < 0);
}

/*
 * Insert @n bytes of extension headers @ext (their own next-header bytes
 * already chained, the last pointing at the L4 protocol) between the IPv6
 * header and the L4 header of the frame in `frame`, and fix lengths.
 */
static size_t insert_v6_ext(size_t len, const uint8_t *ext, size_t n, uint8_t first)
{
	memmove(frame + 54 + n, frame + 54, len - 54);
	memcpy(frame + 54, ext, n);
	frame[14 + 6] = first;
	wr16(frame + 14 + 4, (uint16_t)(rd16(frame + 14 + 4) + n));
	fi.l4_off += n;
	fi.csum_off += n;
	fi.len += n;
	return len + n;
}

/* Routing header (segments left 0) and AH (length in 4-byte units): parsed and checksummed. */
static void test_parse_ipv6_routing_and_ah(void **state)
{
	uint8_t ext[8 + 24];
	struct engine_pkt_meta m;
	size_t len;
	(void)state;

	memset(ext, 0, sizeof(ext));
	/* routing header: next = AH, 8 bytes, type 0, segments left 0 */
	ext[0] = 51;
	ext[1] = 0;
	ext[2] = 0;
	ext[3] = 0;
	/* AH: next = TCP, payload length 4 -> (4 + 2) * 4 = 24 bytes, SPI, sequence, 12-byte ICV */
	ext[8] = IPPROTO_TCP;
	ext[9] = 4;
	wr16(ext + 12, 0x1000);
	wr16(ext + 18, 0x0001);
	len = build(6, IPPROTO_TCP, 99);
	len = insert_v6_ext(len, ext, sizeof(ext), 43);
	expect_hdrs(frame, len, 6, IPPROTO_TCP);
	assert_int_equal(fi.l4_off, 54 + 32);
	memset(&m, 0, sizeof(m));
	assert_int_equal(engine_csum_complete(frame, (uint32_t)len, &m), 0);
	assert_int_equal(rd16(frame + fi.csum_off), ref_l4_csum(frame, &fi));
}

static void test_parse_ipv6_bad_extensions(void **state)
{
	struct engine_hdrs h;
	uint8_t ext[8 * 10];
	size_t len;
	(void)state;

	/* an extension header claiming more bytes than the payload holds */
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_UDP;
	ext[1] = 200;
	len = build(6, IPPROTO_UDP, 20);
	len = insert_v6_ext(len, ext, 8, 60);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* ten destination-options headers in a row: an endless chain is refused */
	for (int k = 0; k < 10; k++) {
		ext[8 * k] = k < 9 ? 60 : IPPROTO_UDP;
		ext[8 * k + 1] = 0;
	}
	len = build(6, IPPROTO_UDP, 20);
	len = insert_v6_ext(len, ext, sizeof(ext), 60);
	assert_true(engine_hdrs_parse(frame, (uint32_t)len, &h) < 0);
	/* a jumbogram's payload length 0 cannot be checked against the frame */
	len = build(6, IPPROTO_TCP, 20);
	wr16(frame + 14 + 4, 0);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* "no next header" (59): nothing to checksum */
	len = build(6, IPPROTO_UDP, 20);
	frame[14 + 6] = 59;
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTONOSUPPORT);
}

/* Ethernet padding after a short IP packet is not part of the L4 length. */
static void test_parse_l2_padding(void **state)
{
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_UDP, .payload = 4, .l2_pad = 14 };
	(void)state;
	size_t len = build_spec(&s);

	assert_int_equal(len, 60);
	expect_hdrs(frame, len, 4, IPPROTO_UDP);
	assert_int_equal(fi.l4_len, 12);
}

/*
 * Every cut of a frame short of its full length is an error; once the
 * Ethertype is there it is -EPROTO (truncated). The cut copy lives in a
 * buffer of exactly that size, so any read past it trips ASan.
 */
static void check_every_cut(size_t full)
{
	struct engine_hdrs h;

	for (size_t cut = 0; cut < full; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);
		int r;

		assert_non_null(p);
		memcpy(p, frame, cut);
		r = engine_hdrs_parse(p, (uint32_t)cut, &h);
		if (cut >= 14)
			assert_int_equal(r, -EPROTO);
		else
			assert_true(r < 0);
		free(p);
	}
}

static void test_parse_truncated_v4(void **state)
{
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_TCP, .ip_opt_len = 8,
				.tcp_opt_len = 12, .payload = 16, .seed = 1 };
	(void)state;

	check_every_cut(build_spec(&s));
	s.proto = IPPROTO_UDP;
	check_every_cut(build_spec(&s));
}

static void test_parse_truncated_v6(void **state)
{
	struct frame_spec s = { .ipver = 6, .proto = IPPROTO_TCP, .v6_ext = 2,
				.tcp_opt_len = 8, .payload = 10, .seed = 2 };
	(void)state;

	check_every_cut(build_spec(&s));
	s.proto = IPPROTO_UDP;
	s.v6_ext = 0;
	check_every_cut(build_spec(&s));
}

static void test_parse_truncated_vlan(void **state)
{
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_UDP, .vlan_tags = 1,
				.payload = 3, .seed = 3 };
	(void)state;

	check_every_cut(build_spec(&s));
	s.ipver = 6;
	s.proto = IPPROTO_TCP;
	check_every_cut(build_spec(&s));
}

static void test_parse_ipv4_inconsistent(void **state)
{
	struct engine_hdrs h;
	size_t len;
	uint8_t *ip;
	(void)state;

	/* total length beyond the frame */
	len = build(4, IPPROTO_TCP, 40);
	ip = frame + fi.l3_off;
	wr16(ip + 2, (uint16_t)(rd16(ip + 2) + 1));
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* IHL below 5 */
	len = build(4, IPPROTO_TCP, 40);
	ip[0] = 0x44;
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* IHL past the total length */
	len = build(4, IPPROTO_UDP, 0);
	ip[0] = 0x4f;
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* Ethertype IPv4 but version 6 */
	len = build(4, IPPROTO_TCP, 40);
	ip[0] = 0x65;
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* total length shorter than the header */
	len = build(4, IPPROTO_TCP, 40);
	wr16(ip + 2, 19);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
}

static void test_parse_l4_inconsistent(void **state)
{
	struct engine_hdrs h;
	size_t len;
	(void)state;

	/* TCP data offset below 5 words */
	len = build(4, IPPROTO_TCP, 40);
	frame[fi.l4_off + 12] = 0x40;
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* TCP data offset past the L4 length (15 words = 60 > 20 + 4 bytes) */
	len = build(4, IPPROTO_TCP, 4);
	frame[fi.l4_off + 12] = 0xf0;
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* UDP with an IP length leaving fewer than 8 bytes */
	len = build(4, IPPROTO_UDP, 20);
	wr16(frame + fi.l3_off + 2, 20 + 6);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* IPv6 payload length beyond the frame */
	len = build(6, IPPROTO_TCP, 20);
	wr16(frame + fi.l3_off + 4, (uint16_t)(fi.l4_len + 1));
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
}

static void test_parse_ipv4_fragments(void **state)
{
	struct engine_hdrs h;
	size_t len;
	(void)state;

	/* first fragment: MF set */
	len = build(4, IPPROTO_UDP, 100);
	wr16(frame + fi.l3_off + 6, 0x2000);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* a later fragment: offset non-zero, MF clear */
	wr16(frame + fi.l3_off + 6, 0x00b9);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* TCP, middle fragment */
	len = build(4, IPPROTO_TCP, 100);
	wr16(frame + fi.l3_off + 6, 0x2010);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTO);
	/* DF alone is not a fragment */
	wr16(frame + fi.l3_off + 6, 0x4000);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), 0);
}

/* An IPv6 fragment header (44) in front of a UDP header, first fragment with M set. */
static void test_parse_ipv6_fragment(void **state)
{
	struct engine_hdrs h;
	uint8_t f[14 + 40 + 8 + 8 + 32];
	(void)state;

	build(6, IPPROTO_UDP, 32);
	memcpy(f, frame, 14 + 40);
	memcpy(f + 14 + 40 + 8, frame + 54, 8 + 32);
	f[14 + 6] = 44;
	wr16(f + 14 + 4, 8 + 8 + 32);
	f[54] = IPPROTO_UDP;
	f[55] = 0;
	wr16(f + 56, 0x0001); /* offset 0, M = 1 */
	f[58] = 0xde;
	f[59] = 0xad;
	f[60] = 0xbe;
	f[61] = 0xef;
	assert_int_equal(engine_hdrs_parse(f, sizeof(f), &h), -EPROTO);
	wr16(f + 56, 0x0100); /* offset 32, last */
	assert_int_equal(engine_hdrs_parse(f, sizeof(f), &h), -EPROTO);
}

static void test_parse_not_tcp_udp(void **state)
{
	struct engine_hdrs h;
	struct frame_spec arp = { .ipver = 0 };
	size_t len;
	(void)state;

	len = build_spec(&arp);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTONOSUPPORT);
	len = build(4, IPPROTO_ICMP, 56);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTONOSUPPORT);
	len = build(6, IPPROTO_ICMPV6, 56);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTONOSUPPORT);
	/* GRE over IPv4 */
	len = build(4, IPPROTO_UDP, 40);
	frame[fi.l3_off + 9] = 47;
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTONOSUPPORT);
	/* LLDP */
	len = build(4, IPPROTO_UDP, 40);
	wr16(frame + 12, 0x88cc);
	assert_int_equal(engine_hdrs_parse(frame, (uint32_t)len, &h), -EPROTONOSUPPORT);
}

/* ---- engine_csum_complete ---- */

static void complete_and_check(const struct frame_spec *s)
{
	struct engine_pkt_meta m;
	size_t len = build_spec(s);
	uint8_t before[4096];

	memcpy(before, frame, len);
	memset(&m, 0, sizeof(m));
	m.csum = ENGINE_CSUM_PARTIAL;
	assert_int_equal(engine_csum_complete(frame, (uint32_t)len, &m), 0);
	assert_int_equal(m.csum, ENGINE_CSUM_VALIDATED);
	assert_int_equal(rd16(frame + fi.csum_off), ref_l4_csum(frame, &fi));
	assert_true(ref_frame_csum_ok(frame, &fi));
	/* only the checksum fields may change */
	for (size_t i = 0; i < len; i++) {
		if (i == fi.csum_off || i == fi.csum_off + 1)
			continue;
		if (s->ipver == 4 && (i == fi.l3_off + 10 || i == fi.l3_off + 11))
			continue;
		assert_int_equal(frame[i], before[i]);
	}
}

static void test_complete_ipv4(void **state)
{
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_TCP, .payload = 1000,
				.ip_csum_garbage = true, .seed = 11 };
	(void)state;

	complete_and_check(&s);
	s.proto = IPPROTO_UDP;
	s.payload = 333;
	complete_and_check(&s);
	s.ip_opt_len = 8;
	s.tcp_opt_len = 12;
	s.proto = IPPROTO_TCP;
	complete_and_check(&s);
}

/*
 * Two frames whose checksums were worked out by hand, so that the engine and
 * this file's reference cannot share a mistake. UDP/IPv4 10.0.0.1:1234 ->
 * 10.0.0.2:80, "hi!": the IPv4 header's words sum to d933 (checksum 26cc);
 * the pseudo-header (0a00 0001 0a00 0002 0011 000b), the UDP header with a
 * zero checksum (04d2 0050 000b 0000) and the padded payload (6869 2100) sum
 * to a2b5, so the checksum is 5d4a. TCP/IPv6 fe80::1:1234 -> fe80::2:80, seq
 * 1, PSH|ACK, window ffff, "hi!": the pseudo-header (fe80 ... 0001, fe80 ...
 * 0002, length 0017, next header 0006) and the segment sum to 3dbc3, folded
 * dbc6, so the checksum is 2439.
 */
static void test_complete_hand_worked(void **state)
{
	static const uint8_t udp4[] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xaa, 0xaa,
		10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0x00, 0x50, 0x00, 0x0b, 0xbb, 0xbb, 'h', 'i', '!',
	};
	static const uint8_t tcp6[] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xdd,
		0x60, 0, 0, 0, 0x00, 0x17, 0x06, 0x40,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
		0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff,
		0xcc, 0xcc, 0x00, 0x00, 'h', 'i', '!',
	};
	struct engine_pkt_meta m;
	uint8_t f[sizeof(tcp6)];
	(void)state;

	memcpy(f, udp4, sizeof(udp4));
	memset(&m, 0, sizeof(m));
	m.csum = ENGINE_CSUM_PARTIAL;
	assert_int_equal(engine_csum_complete(f, sizeof(udp4), &m), 0);
	assert_int_equal(m.csum, ENGINE_CSUM_VALIDATED);
	assert_int_equal(rd16(f + 14 + 10), 0x26cc);
	assert_int_equal(rd16(f + 14 + 20 + 6), 0x5d4a);

	memcpy(f, tcp6, sizeof(tcp6));
	memset(&m, 0, sizeof(m));
	m.csum = ENGINE_CSUM_PARTIAL;
	assert_int_equal(engine_csum_complete(f, sizeof(tcp6), &m), 0);
	assert_int_equal(m.csum, ENGINE_CSUM_VALIDATED);
	assert_int_equal(rd16(f + 14 + 40 + 16), 0x2439);
}

static void test_complete_ipv6(void **state)
{
	struct frame_spec s = { .ipver = 6, .proto = IPPROTO_TCP, .payload = 1400, .seed = 12 };
	(void)state;

	complete_and_check(&s);
	s.proto = IPPROTO_UDP;
	s.payload = 1;
	complete_and_check(&s);
	s.v6_ext = 2;
	complete_and_check(&s);
	s.proto = IPPROTO_TCP;
	complete_and_check(&s);
}

static void test_complete_vlan_and_padding(void **state)
{
	struct frame_spec s = { .ipver = 4, .proto = IPPROTO_UDP, .vlan_tags = 1,
				.payload = 2, .l2_pad = 10, .seed = 13, .ip_csum_garbage = true };
	(void)state;

	complete_and_check(&s);
	s.ipver = 6;
	s.proto = IPPROTO_TCP;
	complete_and_check(&s);
}

/* Differential: many payload lengths, odd and even, for all four combinations. */
static void test_complete_many_lengths(void **state)
{
	(void)state;
	for (unsigned payload = 0; payload <= 1460; payload += 37) {
		for (int v = 4; v <= 6; v += 2) {
			struct frame_spec s = { .ipver = v, .proto = IPPROTO_TCP,
						.payload = payload, .seed = payload };

			complete_and_check(&s);
			s.proto = IPPROTO_UDP;
			s.payload = payload + 1;
			complete_and_check(&s);
		}
	}
}

/* A UDP datagram whose checksum computes to 0 must carry 0xffff (RFC 768; 0 means "none"). */
static void test_complete_udp_zero_becomes_ffff(void **state)
{
	struct engine_pkt_meta m;
	size_t len;
	uint16_t c;
	uint8_t *last;
	(void)state;

	for (int v = 4; v <= 6; v += 2) {
		struct frame_spec s = { .ipver = v, .proto = IPPROTO_UDP, .payload = 20, .seed = 21 };

		len = build_spec(&s);
		last = frame + fi.l4_off + fi.l4_len - 2;
		/* pick the last payload word so the ones-complement sum comes to 0xffff */
		wr16(last, 0);
		c = ref_l4_csum(frame, &fi);   /* = ~S with the word zero */
		wr16(last, c);                 /* S + ~S = 0xffff, checksum 0 */
		/* the reference itself now says: computed 0, sent as 0xffff */
		assert_int_equal(ref_l4_csum(frame, &fi), 0xffff);
		memset(&m, 0, sizeof(m));
		assert_int_equal(engine_csum_complete(frame, (uint32_t)len, &m), 0);
		assert_int_equal(rd16(frame + fi.csum_off), 0xffff);
		assert_true(ref_frame_csum_ok(frame, &fi));
	}
}

static void test_complete_unsupported_unchanged(void **state)
{
	struct engine_pkt_meta m;
	struct frame_spec arp = { .ipver = 0 };
	uint8_t before[4096];
	size_t len;
	(void)state;

	len = build_spec(&arp);
	memcpy(before, frame, len);
	memset(&m, 0, sizeof(m));
	assert_int_equal(engine_csum_complete(frame, (uint32_t)len, &m), -EPROTONOSUPPORT);
	assert_memory_equal(frame, before, len);
	assert_int_equal(m.csum, ENGINE_CSUM_NONE);

	len = build(4, IPPROTO_ICMP, 30);
	memcpy(before, frame, len);
	assert_int_equal(engine_csum_complete(frame, (uint32_t)len, &m), -EPROTONOSUPPORT);
	assert_memory_equal(frame, before, len);

	/* a fragment cannot be checksummed alone */
	len = build(4, IPPROTO_UDP, 30);
	wr16(frame + fi.l3_off + 6, 0x2000);
	memcpy(before, frame, len);
	assert_int_equal(engine_csum_complete(frame, (uint32_t)len, &m), -EPROTO);
	assert_memory_equal(frame, before, len);
	assert_int_equal(m.csum, ENGINE_CSUM_NONE);
}

/* ---- engine_csum_setup ---- */

static void test_setup_partial(void **state)
{
	struct engine_pkt_meta m;
	uint8_t before[4096];
	(void)state;

	for (int v = 4; v <= 6; v += 2) {
		for (int t = 0; t < 2; t++) {
			struct frame_spec s = { .ipver = v, .proto = t ? IPPROTO_UDP : IPPROTO_TCP,
						.vlan_tags = (unsigned)t, .payload = 200, .seed = 31 };
			size_t len = build_spec(&s);

			memcpy(before, frame, len);
			memset(&m, 0, sizeof(m));
			assert_int_equal(engine_csum_setup(frame, (uint32_t)len, &m, false), 0);
			assert_int_equal(m.csum, ENGINE_CSUM_PARTIAL);
			assert_int_equal(m.csum_start, fi.l4_off);
			assert_int_equal(m.csum_offset, t ? 6 : 16);
			/* without seeding, the frame is not touched */
			assert_memory_equal(frame, before, len);
		}
	}
}

/*
 * With seed_pseudo, a PARTIAL consumer (sum from csum_start to the end,
 * fold, complement, store at csum_start + csum_offset) gets the right checksum.
 */
static void test_setup_seed_pseudo(void **state)
{
	struct engine_pkt_meta m;
	(void)state;

	for (int v = 4; v <= 6; v += 2) {
		for (int t = 0; t < 2; t++) {
			struct frame_spec s = { .ipver = v, .proto = t ? IPPROTO_UDP : IPPROTO_TCP,
						.v6_ext = (unsigned)t, .tcp_opt_len = 12,
						.payload = 501, .seed = 41 };
			size_t len = build_spec(&s);
			uint16_t c;

			memset(&m, 0, sizeof(m));
			assert_int_equal(engine_csum_setup(frame, (uint32_t)len, &m, true), 0);
			assert_int_equal(m.csum, ENGINE_CSUM_PARTIAL);
			assert_int_equal(m.csum_start, fi.l4_off);
			c = ref_fold(ref_sum(frame + m.csum_start, fi.l4_len, 0));
			wr16(frame + m.csum_start + m.csum_offset, c);
			assert_int_equal(rd16(frame + fi.csum_off), ref_l4_csum(frame, &fi));
		}
	}
}

static void test_setup_errors(void **state)
{
	struct engine_pkt_meta m;
	struct frame_spec arp = { .ipver = 0 };
	size_t len;
	(void)state;

	memset(&m, 0, sizeof(m));
	len = build_spec(&arp);
	assert_int_equal(engine_csum_setup(frame, (uint32_t)len, &m, true), -EPROTONOSUPPORT);
	len = build(6, IPPROTO_ICMPV6, 8);
	assert_int_equal(engine_csum_setup(frame, (uint32_t)len, &m, true), -EPROTONOSUPPORT);
	len = build(4, IPPROTO_TCP, 8);
	assert_int_equal(engine_csum_setup(frame, (uint32_t)(fi.l4_off + 10), &m, true), -EPROTO);
	assert_int_not_equal(m.csum, ENGINE_CSUM_PARTIAL);
}

/* ---- engine_gso_check ---- */

static void test_gso_check_ok(void **state)
{
	struct engine_pkt_meta m;
	size_t len;
	(void)state;

	struct frame_spec s4 = { .ipver = 4, .proto = IPPROTO_TCP, .tcp_opt_len = 12,
				 .ip_opt_len = 4, .payload = 3000, .seed = 51 };
	len = build_spec(&s4);
	memset(&m, 0, sizeof(m));
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	m.gso_size = 1448;
	assert_int_equal(engine_gso_check(frame, (uint32_t)len, &m), 0);
	assert_int_equal(m.hdr_len, 14 + 24 + 32);

	struct frame_spec s6 = { .ipver = 6, .proto = IPPROTO_TCP, .v6_ext = 1,
				 .vlan_tags = 1, .payload = 3000, .seed = 52 };
	len = build_spec(&s6);
	memset(&m, 0, sizeof(m));
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	m.gso_size = 1428;
	assert_int_equal(engine_gso_check(frame, (uint32_t)len, &m), 0);
	assert_int_equal(m.hdr_len, 18 + 40 + 8 + 20);
}

static void test_gso_check_mismatch(void **state)
{
	struct engine_pkt_meta m;
	size_t len;
	(void)state;

	memset(&m, 0, sizeof(m));
	m.gso_size = 1000;
	/* TCPv4 type on an IPv6 frame and the reverse */
	len = build(6, IPPROTO_TCP, 2000);
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	assert_int_equal(engine_gso_check(frame, (uint32_t)len, &m), -EPROTO);
	len = build(4, IPPROTO_TCP, 2000);
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	assert_int_equal(engine_gso_check(frame, (uint32_t)len, &m), -EPROTO);
	/* UDP is not TCP */
	len = build(4, IPPROTO_UDP, 2000);
	m.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	assert_int_equal(engine_gso_check(frame, (uint32_t)len, &m), -EPROTO);
	/* ARP */
	struct frame_spec arp = { .ipver = 0 };
	len = build_spec(&arp);
	assert_int_equal(engine_gso_check(frame, (uint32_t)len, &m), -EPROTO);
	/* TCP header cut short */
	len = build(4, IPPROTO_TCP, 0);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);

		assert_non_null(p);
		memcpy(p, frame, cut);
		assert_int_equal(engine_gso_check(p, (uint32_t)cut, &m), -EPROTO);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_tcp),
		cmocka_unit_test(test_parse_ipv4_options_tcp_options),
		cmocka_unit_test(test_parse_ipv4_udp),
		cmocka_unit_test(test_parse_ipv6_tcp_udp),
		cmocka_unit_test(test_parse_ipv6_extension_headers),
		cmocka_unit_test(test_parse_vlan),
		cmocka_unit_test(test_parse_qinq),
		cmocka_unit_test(test_parse_ipv6_routing_and_ah),
		cmocka_unit_test(test_parse_ipv6_bad_extensions),
		cmocka_unit_test(test_parse_l2_padding),
		cmocka_unit_test(test_parse_truncated_v4),
		cmocka_unit_test(test_parse_truncated_v6),
		cmocka_unit_test(test_parse_truncated_vlan),
		cmocka_unit_test(test_parse_ipv4_inconsistent),
		cmocka_unit_test(test_parse_l4_inconsistent),
		cmocka_unit_test(test_parse_ipv4_fragments),
		cmocka_unit_test(test_parse_ipv6_fragment),
		cmocka_unit_test(test_parse_not_tcp_udp),
		cmocka_unit_test(test_complete_ipv4),
		cmocka_unit_test(test_complete_ipv6),
		cmocka_unit_test(test_complete_hand_worked),
		cmocka_unit_test(test_complete_vlan_and_padding),
		cmocka_unit_test(test_complete_many_lengths),
		cmocka_unit_test(test_complete_udp_zero_becomes_ffff),
		cmocka_unit_test(test_complete_unsupported_unchanged),
		cmocka_unit_test(test_setup_partial),
		cmocka_unit_test(test_setup_seed_pseudo),
		cmocka_unit_test(test_setup_errors),
		cmocka_unit_test(test_gso_check_ok),
		cmocka_unit_test(test_gso_check_mismatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
