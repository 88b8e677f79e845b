/* SPDX-License-Identifier: MIT */
/*
 * hash.h - Toeplitz hashing of host packets and the hash-to-queue mapping
 * a netif frontend configures over its control ring.
 *
 * Theory of operation. A frontend with several queues may ask the backend to
 * steer each packet it receives to a queue of its choosing (netif.h, "Hash
 * types" and "Control ring"). It picks an algorithm (only Toeplitz exists),
 * the header fields to hash (the XEN_NETIF_CTRL_HASH_TYPE_* flags), a key,
 * and a table mapping hash values to queues. struct engine_hash holds that
 * choice; ctrl.c fills it from control requests, and the RX path calls
 * engine_hash_packet() once per host packet to get the hash, its type (for
 * the XEN_NETIF_EXTRA_TYPE_HASH extra) and the queue.
 *
 * Which fields are hashed follows Linux netback (xenvif_set_skb_hash): the
 * TCP 4-tuple when the TCP type of that IP version is enabled and the packet
 * is TCP and not an IP fragment; otherwise the address pair when the plain
 * IP type is enabled; otherwise nothing. The input is laid out as netif.h
 * and Microsoft's RSS define it: source address, destination address,
 * source port, destination port, all in network byte order.
 *
 * Frames are untrusted bytes: the parser reads nothing it has not checked
 * against @len, walks at most two VLAN tags and a bounded number of IPv6
 * extension headers, and gives no hash to a frame whose headers are cut short.
 */
#ifndef XNB_ENGINE_HASH_H
#define XNB_ENGINE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"
#include "ring.h"

/* Linux's XEN_NETBK_MAX_HASH_KEY_SIZE: enough for the 36-byte IPv6 4-tuple. */
#define ENGINE_HASH_KEY_MAX 40u
/* Linux's XEN_NETBK_MAX_HASH_MAPPING_SIZE: what GET_HASH_MAPPING_SIZE answers. */
#define ENGINE_HASH_MAPPING_MAX 128u
/* The hash types we compute: all four netif.h defines. */
#define ENGINE_HASH_FLAGS_ALL \
	(XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | \
	 XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

/*
 * A frontend's hashing choice. Every field is valid at all times (ctrl.c
 * validates before it stores): alg is NONE or TOEPLITZ, flags is within
 * ENGINE_HASH_FLAGS_ALL, size <= ENGINE_HASH_MAPPING_MAX, every mapping
 * entry is below num_queues, and key bytes past the length the frontend set
 * are zero (netif.h: unspecified key octets are zero).
 */
struct engine_hash {
	uint32_t alg;         /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
	uint32_t flags;       /* XEN_NETIF_CTRL_HASH_TYPE_* */
	uint32_t size;        /* mapping entries in use; 0: hash % num_queues */
	uint32_t num_queues;  /* the vif's queues (multi-queue-num-queues), >= 1 */
	uint8_t key[ENGINE_HASH_KEY_MAX];
	uint32_t mapping[ENGINE_HASH_MAPPING_MAX];
};

/*
 * engine_hash_init() - hashing off (algorithm NONE, no flags, empty key,
 * no table) for a vif of @num_queues queues (0 counts as 1).
 */
void engine_hash_init(struct engine_hash *h, uint32_t num_queues);

/*
 * engine_toeplitz() - the Toeplitz hash of @n bytes at @in under the @keylen
 * bytes of @key (netif.h's algorithm; key bits past @keylen are zero).
 */
uint32_t engine_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *in, size_t n);

/*
 * engine_hash_frame() - hash the Ethernet frame @frame of @len bytes as the
 * enabled types @flags (XEN_NETIF_CTRL_HASH_TYPE_*) say, with the
 * ENGINE_HASH_KEY_MAX-byte @key. Returns 1 and sets *@hash and *@type (the
 * _XEN_NETIF_CTRL_HASH_TYPE_* bit number used), or 0 when no enabled type
 * applies to the frame (not IP, a type not enabled, headers cut short).
 */
int engine_hash_frame(const uint8_t key[ENGINE_HASH_KEY_MAX], uint32_t flags,
		      const uint8_t *frame, uint32_t len, uint32_t *hash, uint8_t *type);

/*
 * engine_hash_packet() - what the RX path calls per host packet: hash
 * @frame under @h, record the result in @m (has_hash, hash_type, hash) and
 * pick its queue: mapping[hash % size], or hash % num_queues without a
 * table. A frame no enabled type applies to gets no hash and the queue of
 * hash 0, as Linux does. Returns the queue index (< h->num_queues), or
 * -EOPNOTSUPP when the frontend has not turned hashing on (algorithm NONE,
 * or no flags): @m gets no hash and the caller steers as it likes (netif.h
 * leaves that to the backend).
 */
int engine_hash_packet(const struct engine_hash *h, const uint8_t *frame, uint32_t len,
		       struct engine_pkt_meta *m);

#endif
