/* SPDX-License-Identifier: MIT */
/*
 * ctrl.c - the netfront's control ring (--hash): the backend told how to
 * hash what it sends us, and its answers checked.
 *
 * Linux's xen-netfront has no control ring; Windows' PV drivers use one
 * for RSS. We use it to have the backend hash each packet it sends us,
 * with a key we know, so that every hash it hands over can be checked
 * against our own (datapath.c): the backend's Toeplitz, header walk and
 * hash extras, end to end.
 *
 * Set-up, with the queues (before the keys are published): the ring page
 * (ctrl-ring-ref), an unbound port on the main thread's own event-channel
 * handle (event-channel-ctrl), and two pages granted read-only for the key
 * and the mapping table. Once the backend is Connected, two steps:
 *
 *   1. SET_HASH_ALGORITHM Toeplitz, GET_HASH_FLAGS, GET_HASH_MAPPING_SIZE
 *   2. SET_HASH_KEY (the 40-byte key), SET_HASH_FLAGS (IPv4 and IPv6, with
 *      and without TCP, as far as the backend offers them),
 *      SET_HASH_MAPPING_SIZE (one entry per queue, as far as it allows) and
 *      SET_HASH_MAPPING (entry i: queue i)
 *
 * In that order the key is in place before any hash type is on, so every
 * hash extra we receive was made with our key. Every answer is checked; a
 * refusal is logged; a refusal in step 1 ends the configuration there. The
 * hash types are published for the queue threads (nf->hash_flags) before
 * step 2 is sent. A backend that breaks the ring gets the vif closed.
 */
#include "netfront.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What we ask for: every type netif.h defines. */
#define NF_HASH_FLAGS \
	(XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | \
	 XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

/* Microsoft's RSS verification key ("Verifying the RSS Hash Calculation"). */
const uint8_t nf_hash_key[ENGINE_HASH_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static const char *type_name(uint16_t type)
{
	switch (type) {
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM: return "SET_HASH_ALGORITHM";
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS: return "GET_HASH_FLAGS";
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS: return "SET_HASH_FLAGS";
	case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY: return "SET_HASH_KEY";
	case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE: return "GET_HASH_MAPPING_SIZE";
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE: return "SET_HASH_MAPPING_SIZE";
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING: return "SET_HASH_MAPPING";
	default: return "?";
	}
}

void nf_ctrl_teardown(struct netfront *nf)
{
	struct nf_ctrl *c = &nf->ctrl;

	atomic_store_explicit(&nf->hash_flags, 0, memory_order_relaxed);
	atomic_store_explicit(&nf->hash_mapping_size, 0, memory_order_relaxed);
	if (c->port >= 0 && nf->ctrl_evt)
		nf->ops->evtchn_unbind(nf->ctrl_evt, (uint32_t)c->port);
	c->port = -1;
	/* What the backend still maps is kept and tried again (grants.c). */
	nf_unshare(nf, &c->ring_page, 1, "the control ring");
	nf_unshare(nf, &c->key_page, 1, "the hash key's page");
	nf_unshare(nf, &c->map_page, 1, "the hash mapping's page");
	c->on = false;
	c->step = NF_CTRL_IDLE;
}

int nf_ctrl_setup(struct netfront *nf)
{
	struct nf_ctrl *c = &nf->ctrl;
	uint16_t be = (uint16_t)nf->backend_id;
	int rc;

	memset(c, 0, sizeof(*c));
	c->port = -1;
	if (!nf->ctrl_evt)
		return -EINVAL;
	errno = 0;
	c->ring_page = nf_share(nf, 1, &c->ring_ref, true);
	/* The backend only reads the key and the table: read-only grants. */
	c->key_page = nf_share(nf, 1, &c->key_ref, false);
	c->map_page = nf_share(nf, 1, &c->map_ref, false);
	if (!c->ring_page || !c->key_page || !c->map_page) {
		rc = errno ? -errno : -ENOMEM;
		nf_ctrl_teardown(nf);
		return rc;
	}
	rc = nf->ops->evtchn_alloc_unbound(nf->ctrl_evt, be);
	if (rc < 0) {
		nf_ctrl_teardown(nf);
		return rc;
	}
	c->port = rc;
	engine_front_ctrl_init(&c->eng, c->ring_page);
	c->on = true;
	return 0;
}

static void push(struct netfront *nf)
{
	struct nf_ctrl *c = &nf->ctrl;

	if (engine_front_ctrl_push(&c->eng) &&
	    nf->ops->evtchn_notify(nf->ctrl_evt, (uint32_t)c->port) < 0)
		log_debug("%s: control ring: notify failed (ignored)", nf->tap.name);
}

/* Sent in a step with room to spare (the ring takes 128): a failure is a bug. */
static void send(struct netfront *nf, int id)
{
	if (id < 0)
		log_err("%s: control ring: cannot send a request: %s", nf->tap.name, strerror(-id));
}

void nf_ctrl_start(struct netfront *nf)
{
	struct nf_ctrl *c = &nf->ctrl;

	if (!c->on || c->step != NF_CTRL_IDLE)
		return;
	send(nf, engine_front_ctrl_set_algorithm(&c->eng, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ));
	send(nf, engine_front_ctrl_get_flags(&c->eng));
	send(nf, engine_front_ctrl_get_mapping_size(&c->eng));
	c->step = NF_CTRL_QUERY;
	push(nf);
}

/* Step 2, once step 1 is answered in full. */
static void configure(struct netfront *nf)
{
	struct nf_ctrl *c = &nf->ctrl;
	uint32_t flags = NF_HASH_FLAGS & c->offered_flags;
	uint32_t size = nf->nr_queues < c->max_mapping ? nf->nr_queues : c->max_mapping;
	uint32_t *table = c->map_page;

	if (flags != NF_HASH_FLAGS)
		log_info("%s: backend hashes types %#x only (we want %#x)", nf->tap.name,
			 c->offered_flags, NF_HASH_FLAGS);
	memcpy(c->key_page, nf_hash_key, sizeof(nf_hash_key));
	for (uint32_t i = 0; i < size; i++)
		table[i] = (i + nf->hash_rotate) % nf->nr_queues;
	/* Before the backend can use them: a hash extra is checked against these. */
	atomic_store_explicit(&nf->hash_mapping_size, size, memory_order_relaxed);
	atomic_store_explicit(&nf->hash_flags, flags, memory_order_release);
	send(nf, engine_front_ctrl_set_key(&c->eng, c->key_ref, sizeof(nf_hash_key)));
	send(nf, engine_front_ctrl_set_flags(&c->eng, flags));
	send(nf, engine_front_ctrl_set_mapping_size(&c->eng, size));
	if (size)
		send(nf, engine_front_ctrl_set_mapping(&c->eng, c->map_ref, size, 0));
	c->step = NF_CTRL_CONFIG;
	push(nf);
}

/* One answer: refused ones are logged; step 1's answers are kept. */
static void answer(struct netfront *nf, const struct engine_front_ctrl_rsp *r)
{
	struct nf_ctrl *c = &nf->ctrl;

	if (r->status != XEN_NETIF_CTRL_STATUS_SUCCESS) {
		c->refused++;
		log_warn("%s: control ring: backend refused %s (status %u)", nf->tap.name,
			 type_name(r->type), r->status);
		if (c->step == NF_CTRL_QUERY)
			c->step = NF_CTRL_FAILED;
		return;
	}
	if (r->type == XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS)
		c->offered_flags = r->data;
	else if (r->type == XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE)
		c->max_mapping = r->data;
}

void nf_ctrl_event(struct netfront *nf)
{
	struct nf_ctrl *c = &nf->ctrl;
	struct engine_front_ctrl_rsp rsp[16];
	bool more = true, ours = false;

	if (!nf->ctrl_evt)
		return;
	for (int i = 0; i < 64; i++) {
		int port = nf->ops->evtchn_pending(nf->ctrl_evt);

		if (port < 0)
			break;
		nf->ops->evtchn_unmask(nf->ctrl_evt, (uint32_t)port);
		ours |= port == c->port;
	}
	if (!ours || !c->on)
		return;
	while (more) {
		int n = engine_front_ctrl_poll(&c->eng, rsp, 16, &more);

		if (n < 0) {
			char why[96];

			snprintf(why, sizeof(why), "control ring: %s",
				 engine_front_fault_str(c->eng.fault));
			nf_mark_broken(nf, why);
			return;
		}
		for (int i = 0; i < n; i++)
			answer(nf, &rsp[i]);
	}
	if (engine_front_ctrl_pending(&c->eng))
		return;
	if (c->step == NF_CTRL_QUERY) {
		configure(nf);
	} else if (c->step == NF_CTRL_CONFIG) {
		c->step = NF_CTRL_DONE;
		log_info("%s: hashing configured: Toeplitz, types %#x, %u-entry mapping over %u "
			 "queue%s%s", nf->tap.name,
			 atomic_load_explicit(&nf->hash_flags, memory_order_relaxed),
			 nf->nr_queues < c->max_mapping ? nf->nr_queues : c->max_mapping,
			 nf->nr_queues, nf->nr_queues > 1 ? "s" : "",
			 c->refused ? " (some requests refused: see above)" : "");
	} else if (c->step == NF_CTRL_FAILED) {
		log_warn("%s: hashing not configured", nf->tap.name);
		c->step = NF_CTRL_DONE;
	}
}
