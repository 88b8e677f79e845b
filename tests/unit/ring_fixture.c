/* SPDX-License-Identifier: MIT */
/* ring_fixture.c - a simulated guest frontend and Xen grant copy for the engine's unit tests. */
#include "ring_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct fixture *fx;

int fixture_setup(void **state)
{
	fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	fx->txs = aligned_alloc(FIX_PAGE, FIX_PAGE);
	fx->rxs = aligned_alloc(FIX_PAGE, FIX_PAGE);
	fx->pages = malloc((size_t)FIX_NR_PAGES * FIX_PAGE);
	fx->txb = calloc(1, sizeof(*fx->txb));
	fx->arena = aligned_alloc(FIX_PAGE, ENGINE_TX_ARENA_SIZE); /* like the mmap in vif.c */
	fx->rxb = calloc(1, sizeof(*fx->rxb));
	if (!fx->txs || !fx->rxs || !fx->pages || !fx->txb || !fx->arena || !fx->rxb)
		return -1;
	/* Garbage everywhere a correct engine never looks. */
	memset(fx->txs, 0xA7, FIX_PAGE);
	memset(fx->rxs, 0xA7, FIX_PAGE);
	memset(fx->pages, 0x5A, (size_t)FIX_NR_PAGES * FIX_PAGE);
	memset(fx->arena, 0xC3, ENGINE_TX_ARENA_SIZE);
	SHARED_RING_INIT(fx->txs);
	SHARED_RING_INIT(fx->rxs);
	FRONT_RING_INIT(&fx->txf, fx->txs, FIX_PAGE);
	FRONT_RING_INIT(&fx->rxf, fx->rxs, FIX_PAGE);
	fx->peer_domid = FIX_PEER_DOMID;
	if (state)
		*state = fx;
	return 0;
}

int fixture_teardown(void **state)
{
	if (fx) {
		free(fx->txs);
		free(fx->rxs);
		free(fx->pages);
		free(fx->txb);
		free(fx->arena);
		free(fx->rxb);
		free(fx);
		fx = NULL;
	}
	if (state)
		*state = NULL;
	return 0;
}

void fixture_start_at(RING_IDX tx, RING_IDX rx)
{
	fx->txs->req_prod = fx->txs->rsp_prod = tx;
	fx->txs->req_event = fx->txs->rsp_event = tx + 1;
	FRONT_RING_ATTACH(&fx->txf, fx->txs, tx, FIX_PAGE);
	fx->rxs->req_prod = fx->rxs->rsp_prod = rx;
	fx->rxs->req_event = fx->rxs->rsp_event = rx + 1;
	FRONT_RING_ATTACH(&fx->rxf, fx->rxs, rx, FIX_PAGE);
}

uint8_t *fixture_page(uint32_t gref)
{
	assert_true(gref < FIX_NR_PAGES);
	return fx->pages + (size_t)gref * FIX_PAGE;
}

void fixture_fill_random(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;

	for (size_t i = 0; i < len; i++) {
		/* xorshift32 */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 11);
	}
}

/* ---- TX ring, frontend side ---- */

RING_IDX fixture_tx_push(uint32_t gref, uint16_t offset, uint16_t size, uint16_t flags, uint16_t id)
{
	RING_IDX i = fx->txf.req_prod_pvt++;
	netif_tx_request_t *r = RING_GET_REQUEST(&fx->txf, i);

	r->gref = gref;
	r->offset = offset;
	r->flags = flags;
	r->id = id;
	r->size = size;
	return i;
}

RING_IDX fixture_tx_push_extra(const netif_extra_info_t *e)
{
	RING_IDX i = fx->txf.req_prod_pvt++;
	netif_tx_request_t *r = RING_GET_REQUEST(&fx->txf, i);

	memset(r, 0, sizeof(*r));
	memcpy(r, e, sizeof(*e));
	return i;
}

RING_IDX fixture_tx_push_gso(uint16_t mss, uint8_t gso_type, uint8_t eflags)
{
	netif_extra_info_t e;

	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_GSO;
	e.flags = eflags;
	e.u.gso.size = mss;
	e.u.gso.type = gso_type;
	return fixture_tx_push_extra(&e);
}

void fixture_tx_publish(void)
{
	RING_PUSH_REQUESTS(&fx->txf);
}

netif_tx_request_t *fixture_tx_req(RING_IDX i)
{
	return RING_GET_REQUEST(&fx->txf, i);
}

const netif_tx_response_t *fixture_tx_rsp(RING_IDX i)
{
	return RING_GET_RESPONSE(&fx->txf, i);
}

RING_IDX fixture_tx_rsp_prod(void)
{
	return fx->txs->rsp_prod;
}

RING_IDX fixture_tx_packet(const uint8_t *frame, const uint16_t *own, unsigned n,
			   uint32_t gref0, uint16_t offset, uint16_t flags, uint16_t id0,
			   const netif_extra_info_t *ex, unsigned nex)
{
	uint32_t total = 0;
	size_t pos = 0;
	RING_IDX first = fx->txf.req_prod_pvt;

	for (unsigned k = 0; k < n; k++)
		total += own[k];
	for (unsigned k = 0; k < n; k++) {
		uint16_t f = 0;

		if (own[k]) {
			assert_true((size_t)offset + own[k] <= FIX_PAGE);
			memcpy(fixture_page(gref0 + k) + offset, frame + pos, own[k]);
		}
		pos += own[k];
		if (k + 1 < n)
			f |= NETTXF_more_data;
		if (k == 0) {
			f |= flags;
			if (nex)
				f |= NETTXF_extra_info;
			fixture_tx_push(gref0, offset, (uint16_t)total, f, id0);
			for (unsigned e = 0; e < nex; e++) {
				netif_extra_info_t x = ex[e];

				x.flags = (uint8_t)(x.flags & ~XEN_NETIF_EXTRA_FLAG_MORE);
				if (e + 1 < nex)
					x.flags |= XEN_NETIF_EXTRA_FLAG_MORE;
				fixture_tx_push_extra(&x);
			}
		} else {
			fixture_tx_push(gref0 + k, offset, own[k], f, (uint16_t)(id0 + k));
		}
	}
	return first;
}

/* ---- RX ring, frontend side ---- */

RING_IDX fixture_rx_push(uint16_t id, uint32_t gref)
{
	RING_IDX i = fx->rxf.req_prod_pvt++;
	netif_rx_request_t *r = RING_GET_REQUEST(&fx->rxf, i);

	r->id = id;
	r->pad = 0;
	r->gref = gref;
	return i;
}

void fixture_rx_publish(void)
{
	RING_PUSH_REQUESTS(&fx->rxf);
}

void fixture_rx_post(unsigned n, uint16_t id0, uint32_t gref0)
{
	for (unsigned k = 0; k < n; k++)
		fixture_rx_push((uint16_t)(id0 + k), gref0 + k);
	fixture_rx_publish();
}

const netif_rx_response_t *fixture_rx_rsp(RING_IDX i)
{
	return RING_GET_RESPONSE(&fx->rxf, i);
}

const netif_extra_info_t *fixture_rx_extra(RING_IDX i)
{
	return (const netif_extra_info_t *)(const void *)RING_GET_RESPONSE(&fx->rxf, i);
}

RING_IDX fixture_rx_rsp_prod(void)
{
	return fx->rxs->rsp_prod;
}

/* ---- Grant copy, as Xen would do it for the peer's grants ---- */

void fixture_fail_ref(uint32_t ref)
{
	assert_true(fx->nr_fail_refs < sizeof(fx->fail_refs) / sizeof(fx->fail_refs[0]));
	fx->fail_refs[fx->nr_fail_refs++] = ref;
}

void fixture_set_copy_hook(void (*fn)(void *arg), void *arg)
{
	fx->copy_hook = fn;
	fx->copy_hook_arg = arg;
}

static int16_t check_foreign(const union engine_copy_ptr *g, uint16_t len)
{
	if (g->foreign.domid != fx->peer_domid)
		return GNTST_permission_denied;
	if (g->foreign.ref >= FIX_NR_PAGES)
		return GNTST_bad_gntref;
	for (unsigned k = 0; k < fx->nr_fail_refs; k++)
		if (fx->fail_refs[k] == g->foreign.ref)
			return GNTST_general_error;
	if ((uint32_t)g->foreign.offset + len > FIX_PAGE)
		return GNTST_bad_copy_arg;
	return GNTST_okay;
}

void fixture_grant_copy(struct engine_copy_seg *segs, unsigned n)
{
	fx->copy_calls++;
	if (fx->copy_hook)
		fx->copy_hook(fx->copy_hook_arg);
	for (unsigned k = 0; k < n; k++) {
		struct engine_copy_seg *s = &segs[k];
		unsigned dir = s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref);
		int16_t st;

		if (dir == GNTCOPY_source_gref) {
			st = check_foreign(&s->source, s->len);
			if (st == GNTST_okay)
				memcpy(s->dest.virt, fixture_page(s->source.foreign.ref) +
				       s->source.foreign.offset, s->len);
		} else if (dir == GNTCOPY_dest_gref) {
			st = check_foreign(&s->dest, s->len);
			if (st == GNTST_okay)
				memcpy(fixture_page(s->dest.foreign.ref) + s->dest.foreign.offset,
				       s->source.virt, s->len);
		} else {
			/* The engine only ever copies between a grant and its own memory. */
			fx->segs_bad_flags++;
			st = GNTST_bad_copy_arg;
		}
		s->status = st;
		if (st == GNTST_okay)
			fx->segs_ok++;
		else
			fx->segs_failed++;
	}
}

/* ---- The engine ---- */

struct engine_tx_config fixture_tx_default_cfg(void)
{
	struct engine_tx_config c;

	memset(&c, 0, sizeof(c));
	c.peer_domid = FIX_PEER_DOMID;
	c.complete_csum = false;
	c.gso_tcpv4 = true;
	c.gso_tcpv6 = true;
	c.multicast_control = false;
	return c;
}

void fixture_tx_engine(const struct engine_tx_config *cfg)
{
	struct engine_tx_config c = cfg ? *cfg : fixture_tx_default_cfg();

	engine_tx_init(&fx->txq, fx->txs, &c);
	engine_tx_batch_init(fx->txb, fx->arena, ENGINE_TX_ARENA_SIZE);
}

int fixture_tx_run(unsigned budget)
{
	int n = engine_tx_parse(&fx->txq, fx->txb, budget);

	if (n > 0) {
		fixture_grant_copy(fx->txb->segs, fx->txb->nr_segs);
		engine_tx_finish(&fx->txq, fx->txb);
	}
	return n;
}

struct engine_rx_config fixture_rx_default_cfg(void)
{
	struct engine_rx_config c;

	memset(&c, 0, sizeof(c));
	c.peer_domid = FIX_PEER_DOMID;
	c.sg = true;
	c.gso_tcpv4 = true;
	c.gso_tcpv6 = true;
	c.csum_blank = true;
	c.ipv6_csum_blank = true;
	return c;
}

void fixture_rx_engine(const struct engine_rx_config *cfg)
{
	struct engine_rx_config c = cfg ? *cfg : fixture_rx_default_cfg();

	engine_rx_init(&fx->rxq, fx->rxs, &c);
	engine_rx_batch_reset(fx->rxb);
}

/* ---- Reference checksum, written for clarity, not speed ---- */

uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	uint64_t s = acc;

	for (size_t i = 0; i < n; i += 2) {
		unsigned hi = p[i];
		unsigned lo = (i + 1 < n) ? p[i + 1] : 0;

		s += (hi << 8) | lo;
	}
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t ref_fold(uint32_t sum)
{
	uint32_t s = sum;

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

uint16_t ref_csum(const uint8_t *p, size_t n)
{
	return ref_fold(ref_sum(p, n, 0));
}

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t mem_as_be16(uint16_t v)
{
	uint8_t b[2];

	memcpy(b, &v, 2);
	return rd16(b);
}

/* ---- Frames ---- */

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t fixture_build_frame(uint8_t *buf, const struct frame_spec *s, struct frame_info *fi)
{
	size_t o = 0;
	size_t l4_hdr;
	uint8_t addr[32];

	memset(fi, 0, sizeof(*fi));
	fixture_fill_random(addr, sizeof(addr), s->seed ^ 0xadd7u);

	/* Ethernet: locally administered unicast addresses. */
	static const uint8_t dst[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	static const uint8_t src[6] = { 0x02, 0x16, 0x3e, 0x00, 0x00, 0x07 };
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	o = 12;
	if (s->vlan_tags >= 2) {
		wr16(buf + o, 0x88a8);
		wr16(buf + o + 2, 0x0064);
		o += 4;
	}
	if (s->vlan_tags >= 1) {
		wr16(buf + o, 0x8100);
		wr16(buf + o + 2, 0x2005);
		o += 4;
	}
	if (s->ipver == 0) {
		/* ARP request, padded to the Ethernet minimum. */
		wr16(buf + o, 0x0806);
		o += 2;
		fi->l3_off = o;
		wr16(buf + o, 1);
		wr16(buf + o + 2, 0x0800);
		buf[o + 4] = 6;
		buf[o + 5] = 4;
		wr16(buf + o + 6, 1);
		memcpy(buf + o + 8, src, 6);
		memcpy(buf + o + 14, addr, 4);
		memset(buf + o + 18, 0, 6);
		memcpy(buf + o + 24, addr + 4, 4);
		o += 28;
		while (o < 60)
			buf[o++] = 0;
		fi->len = o;
		return o;
	}

	l4_hdr = s->proto == IPPROTO_TCP ? 20 + s->tcp_opt_len : 8;
	fi->l4_hdr_len = l4_hdr;
	fi->l4_len = l4_hdr + s->payload;

	if (s->ipver == 4) {
		size_t ihl = 20 + s->ip_opt_len;

		wr16(buf + o, 0x0800);
		o += 2;
		fi->l3_off = o;
		buf[o] = (uint8_t)(0x40 | (ihl / 4));
		buf[o + 1] = 0;
		wr16(buf + o + 2, (uint16_t)(ihl + fi->l4_len));
		wr16(buf + o + 4, 0x1234);
		wr16(buf + o + 6, 0x4000); /* DF, not a fragment */
		buf[o + 8] = 64;
		buf[o + 9] = s->proto;
		wr16(buf + o + 10, 0);
		buf[o + 12] = 10;
		buf[o + 13] = addr[0];
		buf[o + 14] = addr[1];
		buf[o + 15] = addr[2];
		buf[o + 16] = 10;
		buf[o + 17] = addr[3];
		buf[o + 18] = addr[4];
		buf[o + 19] = addr[5];
		memset(buf + o + 20, 0x01, s->ip_opt_len); /* NOP options */
		if (s->ip_csum_garbage)
			wr16(buf + o + 10, 0xbad1);
		else
			wr16(buf + o + 10, ref_csum(buf + o, ihl));
		o += ihl;
	} else {
		uint8_t *nh;
		size_t ext = 0;

		wr16(buf + o, 0x86dd);
		o += 2;
		fi->l3_off = o;
		wr32(buf + o, 0x60012345u);
		buf[o + 7] = 64;
		buf[o + 8] = 0xfd;
		memcpy(buf + o + 9, addr, 15);
		buf[o + 24] = 0xfd;
		memcpy(buf + o + 25, addr + 16, 15);
		nh = buf + o + 6;
		o += 40;
		if (s->v6_ext >= 1) {
			/* hop-by-hop options: PadN filling 8 bytes */
			*nh = 0;
			nh = buf + o;
			buf[o + 1] = 0;
			buf[o + 2] = 1;
			buf[o + 3] = 4;
			memset(buf + o + 4, 0, 4);
			o += 8;
			ext += 8;
		}
		if (s->v6_ext >= 2) {
			/* destination options, 16 bytes (length 1 in 8-byte units beyond the first) */
			*nh = 60;
			nh = buf + o;
			buf[o + 1] = 1;
			buf[o + 2] = 1;
			buf[o + 3] = 12;
			memset(buf + o + 4, 0, 12);
			o += 16;
			ext += 16;
		}
		*nh = s->proto;
		wr16(buf + fi->l3_off + 4, (uint16_t)(ext + fi->l4_len));
	}

	fi->l4_off = o;
	if (s->proto == IPPROTO_TCP) {
		wr16(buf + o, 40000);
		wr16(buf + o + 2, 80);
		wr32(buf + o + 4, 0x01020304u ^ s->seed);
		wr32(buf + o + 8, 0xa0b0c0d0u);
		buf[o + 12] = (uint8_t)((l4_hdr / 4) << 4);
		buf[o + 13] = 0x18;
		wr16(buf + o + 14, 65535);
		wr16(buf + o + 16, 0xdead);
		wr16(buf + o + 18, 0);
		memset(buf + o + 20, 0x01, s->tcp_opt_len);
		fi->csum_off = o + 16;
	} else if (s->proto == IPPROTO_UDP) {
		wr16(buf + o, 5353);
		wr16(buf + o + 2, 4789);
		wr16(buf + o + 4, (uint16_t)fi->l4_len);
		wr16(buf + o + 6, 0xdead);
		fi->csum_off = o + 6;
	} else {
		/* ICMP / ICMPv6 echo request */
		buf[o] = s->ipver == 4 ? 8 : 128;
		buf[o + 1] = 0;
		wr16(buf + o + 2, 0xdead);
		wr16(buf + o + 4, 0x0077);
		wr16(buf + o + 6, 1);
		fi->csum_off = o + 2;
	}
	o += l4_hdr;
	fixture_fill_random(buf + o, s->payload, s->seed);
	o += s->payload;
	memset(buf + o, 0, s->l2_pad);
	o += s->l2_pad;
	fi->len = o;
	return o;
}

static uint8_t l4_proto_of(const struct frame_info *fi)
{
	size_t rel = fi->csum_off - fi->l4_off;

	return rel == 16 ? IPPROTO_TCP : rel == 6 ? IPPROTO_UDP : IPPROTO_ICMP;
}

/* RFC 768/793 (IPv4) and RFC 8200 section 8.1 (IPv6) pseudo-header; ICMPv4 has none. */
static uint32_t full_pseudo_sum(const uint8_t *frame, const struct frame_info *fi)
{
	const uint8_t *ip = frame + fi->l3_off;
	uint8_t tail[8];
	uint8_t proto = l4_proto_of(fi);
	uint32_t s;

	if ((ip[0] >> 4) == 4) {
		if (proto == IPPROTO_ICMP)
			return 0;
		s = ref_sum(ip + 12, 8, 0);
		tail[0] = 0;
		tail[1] = proto;
		wr16(tail + 2, (uint16_t)fi->l4_len);
		return ref_sum(tail, 4, s);
	}
	if (proto == IPPROTO_ICMP)
		proto = IPPROTO_ICMPV6;
	s = ref_sum(ip + 8, 32, 0);
	wr32(tail, (uint32_t)fi->l4_len);
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = proto;
	return ref_sum(tail, 8, s);
}

uint16_t ref_l4_csum(const uint8_t *frame, const struct frame_info *fi)
{
	size_t rel = fi->csum_off - fi->l4_off;
	const uint8_t *l4 = frame + fi->l4_off;
	uint32_t s = full_pseudo_sum(frame, fi);
	uint16_t c;

	s = ref_sum(l4, rel, s);
	s = ref_sum(l4 + rel + 2, fi->l4_len - rel - 2, s);
	c = ref_fold(s);
	if (c == 0 && l4_proto_of(fi) == IPPROTO_UDP)
		c = 0xffff;
	return c;
}

uint16_t ref_ipv4_hdr_csum(const uint8_t *frame, const struct frame_info *fi)
{
	const uint8_t *ip = frame + fi->l3_off;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	uint32_t s = ref_sum(ip, 10, 0);

	return ref_fold(ref_sum(ip + 12, ihl - 12, s));
}

uint16_t ref_pseudo_folded(const uint8_t *frame, const struct frame_info *fi)
{
	return (uint16_t)~ref_fold(full_pseudo_sum(frame, fi));
}

bool ref_frame_csum_ok(const uint8_t *frame, const struct frame_info *fi)
{
	const uint8_t *ip = frame + fi->l3_off;

	if ((ip[0] >> 4) == 4 &&
	    rd16(ip + 10) != ref_ipv4_hdr_csum(frame, fi))
		return false;
	return rd16(frame + fi->csum_off) == ref_l4_csum(frame, fi);
}

size_t fixture_build_tunnelled(uint8_t *buf, enum fixture_tunnel encap, int ipver, unsigned payload,
			       uint32_t seed, struct frame_info *inner_fi, size_t *outer_len,
			       struct engine_pkt_meta *m)
{
	static uint8_t inner[8192];
	struct frame_spec s;
	size_t o, n, ip;

	memset(&s, 0, sizeof(s));
	s.ipver = ipver;
	s.proto = IPPROTO_TCP;
	s.payload = payload;
	s.seed = seed;
	n = fixture_build_frame(inner, &s, inner_fi);
	wr16(inner + inner_fi->csum_off, ref_pseudo_folded(inner, inner_fi));

	memset(buf, 0, 64);
	memcpy(buf, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
	o = 14;
	ip = o;
	buf[ip] = 0x45;
	buf[ip + 8] = 64;
	buf[ip + 9] = encap == FIXTURE_VXLAN ? IPPROTO_UDP : 47;
	memcpy(buf + ip + 12, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	o += 20;
	if (encap == FIXTURE_VXLAN) {
		wr16(buf + o, 49152);
		wr16(buf + o + 2, 4789);
		wr16(buf + o + 4, (uint16_t)(8 + 8 + n));
		wr16(buf + o + 6, 0); /* no outer UDP checksum, as VXLAN usually sends */
		o += 8;
		buf[o] = 0x08; /* VXLAN: the VNI is valid */
		o += 8;
	} else {
		wr16(buf + o + 2, 0x6558); /* GRE: Ethernet inside */
		o += 4;
	}
	wr16(buf + ip + 2, (uint16_t)(o - ip + n));
	memcpy(buf + o, inner, n);
	*outer_len = o;
	memset(m, 0, sizeof(*m));
	m->csum = ENGINE_CSUM_PARTIAL;
	m->csum_start = (uint16_t)(o + inner_fi->l4_off);
	m->csum_offset = (uint16_t)(inner_fi->csum_off - inner_fi->l4_off);
	return o + n;
}
