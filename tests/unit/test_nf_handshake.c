/* SPDX-License-Identifier: MIT */
/*
 * test_nf_handshake.c - the netfront's XenBus state machine (handshake.c)
 * driven without I/O: an in-memory XenStore behind a fake ops table, the
 * data path and the TAP stubbed out. The backend's state is written by hand
 * and the watch "fires" by calling nf_handshake_event(), as main.c does.
 *
 * Checks that --no-reconnect follows Linux's netback_changed() (Closed is
 * final, InitWait only acted on while Initialising, Unknown ignored) and
 * that the default mode still reconnects after a backend restart; and the
 * multi-queue layout Linux's talk_to_netback() writes: queue-<i>/ keys and
 * multi-queue-num-queues with several queues, flat keys with one, the
 * number capped by (and clamped from) the backend's multi-queue-max-queues,
 * stale keys of an earlier connection removed, queues torn down; and the
 * control ring's keys (--hash), written with the others when the backend
 * offers feature-ctrl-ring, gone when it no longer does. And the pages a
 * backend keeps mapping after their connection ended (grants.c, issue 13):
 * the stubbed queues share their two ring pages through a fake gntshr that
 * refuses to unshare what the "backend" maps; those are deferred, retried,
 * and no new connection starts while NF_DEFERRED_MAX pages are held.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xen/io/xenbus.h>

#include "netfront.h"

#define FE "/local/domain/7/device/vif/0"
#define BE "/local/domain/0/backend/vif/7/0"

/* --- an in-memory XenStore ---------------------------------------------- */

#define MAX_NODES 128

static struct node {
	char path[160];
	char val[64];
	bool used;
} nodes[MAX_NODES];

static struct node *node_find(const char *path)
{
	for (int i = 0; i < MAX_NODES; i++)
		if (nodes[i].used && strcmp(nodes[i].path, path) == 0)
			return &nodes[i];
	return NULL;
}

static void node_set(const char *path, const char *val)
{
	struct node *n = node_find(path);

	for (int i = 0; !n && i < MAX_NODES; i++)
		if (!nodes[i].used)
			n = &nodes[i];
	assert_non_null(n);
	n->used = true;
	snprintf(n->path, sizeof(n->path), "%s", path);
	snprintf(n->val, sizeof(n->val), "%s", val);
}

static void node_rm(const char *path)
{
	struct node *n = node_find(path);

	if (n)
		n->used = false;
}

static int fake_xs_read(struct platform_xs *x, uint32_t txid, const char *path, char **val,
			size_t *len)
{
	struct node *n = node_find(path);

	(void)x;
	(void)txid;
	if (!n)
		return -ENOENT;
	*val = strdup(n->val);
	*len = strlen(n->val);
	return *val ? 0 : -ENOMEM;
}

static int fake_xs_write(struct platform_xs *x, uint32_t txid, const char *path, const void *val,
			 size_t len)
{
	char buf[64];

	(void)x;
	(void)txid;
	assert_true(len < sizeof(buf));
	memcpy(buf, val, len);
	buf[len] = '\0';
	node_set(path, buf);
	return 0;
}

/* Recursive, as XenStore's rm: the node and everything under it. */
static int fake_xs_rm(struct platform_xs *x, uint32_t txid, const char *path)
{
	size_t len = strlen(path);
	bool found = false;

	(void)x;
	(void)txid;
	for (int i = 0; i < MAX_NODES; i++) {
		if (nodes[i].used && strncmp(nodes[i].path, path, len) == 0 &&
		    (nodes[i].path[len] == '\0' || nodes[i].path[len] == '/')) {
			nodes[i].used = false;
			found = true;
		}
	}
	return found ? 0 : -ENOENT;
}

static int fake_xs_watch(struct platform_xs *x, const char *path, const char *token)
{
	(void)x;
	(void)path;
	(void)token;
	return 0;
}

static int fake_xs_tx_start(struct platform_xs *x, uint32_t *txid)
{
	(void)x;
	*txid = 1;
	return 0;
}

static int fake_xs_tx_end(struct platform_xs *x, uint32_t txid, bool commit)
{
	(void)x;
	(void)txid;
	(void)commit;
	return 0;
}

/* --- grants: fake pages, never touched; the backend "maps" some of them ---- */

#define MAX_MAPPED 128

static uintptr_t next_page;
static void *mapped[MAX_MAPPED]; /* what the backend maps: unshare says -EBUSY */
static unsigned nmapped, unshare_calls;

static void *fake_gntshr_share(struct platform_gntshr *s, uint16_t domid, unsigned count,
			       uint32_t *refs, bool writable)
{
	void *addr = (void *)next_page;

	(void)s;
	(void)domid;
	(void)writable;
	for (unsigned i = 0; i < count; i++)
		refs[i] = (uint32_t)(next_page / 4096 + i);
	next_page += (uintptr_t)count * 4096;
	return addr;
}

static int fake_gntshr_unshare(struct platform_gntshr *s, void *addr, unsigned count)
{
	(void)s;
	(void)count;
	unshare_calls++;
	for (unsigned i = 0; i < nmapped; i++)
		if (mapped[i] == addr)
			return -EBUSY;
	return 0;
}

/* The backend maps (keeps) a page of ours. */
static void backend_map(void *addr)
{
	assert_non_null(addr);
	assert_true(nmapped < MAX_MAPPED);
	mapped[nmapped++] = addr;
}

/* The backend unmaps the first @n pages it maps. */
static void backend_unmap(unsigned n)
{
	assert_true(n <= nmapped);
	/* A loop, not memmove: valgrind takes the fortified memmove for a memcpy. */
	for (unsigned i = n; i < nmapped; i++)
		mapped[i - n] = mapped[i];
	nmapped -= n;
}

static const struct platform_ops fake_ops = {
	.name = "fake",
	.gntshr_share = fake_gntshr_share,
	.gntshr_unshare = fake_gntshr_unshare,
	.xs_read = fake_xs_read,
	.xs_write = fake_xs_write,
	.xs_rm = fake_xs_rm,
	.xs_watch = fake_xs_watch,
	.xs_unwatch = fake_xs_watch,
	.xs_transaction_start = fake_xs_tx_start,
	.xs_transaction_end = fake_xs_tx_end,
};

/* --- stubs for the data path and the TAP --------------------------------- */

static int setups, teardowns, starts, stops;
static const char *fake_broken;
static unsigned fake_queue_limit; /* queues the "grants" allow, 0: no limit */

/* Queue i of connection n: tx-ring-ref 100 + 2n + 10i, rx one more; port 10 + n + 20i. */
int nf_datapath_setup(struct netfront *nf)
{
	setups++;
	assert_null(nf->queues);
	assert_true(nf->nr_queues >= 1 && nf->nr_queues <= NF_MAX_QUEUES);
	assert_true(nf->nr_queues <= nf->want_queues);
	nf->queues = calloc(nf->nr_queues, sizeof(*nf->queues));
	assert_non_null(nf->queues);
	if (fake_queue_limit && nf->nr_queues > fake_queue_limit)
		nf->nr_queues = fake_queue_limit; /* as datapath.c: fewer rather than none */
	for (unsigned i = 0; i < nf->nr_queues; i++) {
		struct nf_queue *q = &nf->queues[i];
		uint32_t ref;

		/* The ring pages, as datapath.c shares them (the refs below are the test's). */
		q->tx_ring_page = nf_share(nf, 1, &ref, true);
		q->rx_ring_page = nf_share(nf, 1, &ref, true);
		q->id = i;
		q->tx_ring_ref = (uint32_t)(100 + setups * 2 + (int)i * 10);
		q->rx_ring_ref = q->tx_ring_ref + 1;
		q->port = 10 + setups + (int)i * 20;
		q->port_rx = nf->want_split && nf->be_split ? q->port + 1 : -1;
	}
	return 0;
}

int nf_datapath_start(struct netfront *nf)
{
	assert_non_null(nf->queues);
	starts++;
	return 0;
}

void nf_datapath_stop(struct netfront *nf)
{
	(void)nf;
	stops++;
}

void nf_datapath_teardown(struct netfront *nf)
{
	if (!nf->queues)
		return;
	nf_datapath_stop(nf);
	teardowns++;
	for (unsigned i = 0; i < nf->nr_queues; i++) {
		nf_unshare(nf, &nf->queues[i].tx_ring_page, 1, "a TX ring");
		nf_unshare(nf, &nf->queues[i].rx_ring_page, 1, "an RX ring");
	}
	free(nf->queues);
	nf->queues = NULL;
}

const char *nf_datapath_broken(struct netfront *nf)
{
	(void)nf;
	return fake_broken;
}

void nf_datapath_report(struct netfront *nf, const char *when)
{
	(void)nf;
	(void)when;
}

/* The control ring (ctrl.c): ring ref 700 + n, port 50 + n for set-up n. */
static int ctrl_setups, ctrl_starts, ctrl_teardowns;
static int fake_ctrl_error; /* nf_ctrl_setup fails with it */

int nf_ctrl_setup(struct netfront *nf)
{
	assert_true(nf->want_hash && nf->be_ctrl);
	assert_false(nf->ctrl.on);
	if (fake_ctrl_error)
		return fake_ctrl_error;
	ctrl_setups++;
	nf->ctrl.on = true;
	nf->ctrl.ring_ref = (uint32_t)(700 + ctrl_setups);
	nf->ctrl.port = 50 + ctrl_setups;
	return 0;
}

void nf_ctrl_start(struct netfront *nf)
{
	if (nf->ctrl.on)
		ctrl_starts++;
}

void nf_ctrl_teardown(struct netfront *nf)
{
	if (nf->ctrl.on)
		ctrl_teardowns++;
	nf->ctrl.on = false;
	nf->ctrl.port = -1;
}

int tap_set_offloads(struct tap *t, const struct vnet_offloads *o)
{
	(void)t;
	(void)o;
	return 0;
}

int tap_set_mtu(const struct tap *t, unsigned mtu)
{
	(void)t;
	(void)mtu;
	return 0;
}

int tap_set_mac(const struct tap *t, const uint8_t mac[6])
{
	(void)t;
	(void)mac;
	return 0;
}

int tap_set_up(const struct tap *t, int up)
{
	(void)t;
	(void)up;
	return 0;
}

/* --- helpers --------------------------------------------------------------- */

static struct netfront nf;

static int fe_state(void)
{
	struct node *n = node_find(FE "/state");

	assert_non_null(n);
	return atoi(n->val);
}

/* The backend writes its state; the watch fires (maybe more than once). */
static void backend(int state)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", state);
	node_set(BE "/state", v);
	nf_handshake_event(&nf);
	nf_handshake_event(&nf);
}

static void backend_gone(void)
{
	node_rm(BE "/state");
	nf_handshake_event(&nf);
}

static const char *val(const char *path)
{
	struct node *n = node_find(path);

	return n ? n->val : NULL;
}

static void start_queues(bool no_reconnect, unsigned want_queues)
{
	free(nf.queues);
	nf.queues = NULL;
	nf.ops = &fake_ops;
	nf_deferred_exit(&nf); /* an earlier test's list */
	next_page = 0x100000;
	nmapped = unshare_calls = 0;
	memset(nodes, 0, sizeof(nodes));
	memset(&nf, 0, sizeof(nf));
	setups = teardowns = starts = stops = 0;
	ctrl_setups = ctrl_starts = ctrl_teardowns = fake_ctrl_error = 0;
	fake_broken = NULL;
	fake_queue_limit = 0;
	nf.ops = &fake_ops;
	nf.mtu = 1500;
	nf.tap.fd = -1;
	nf.stop_fd = nf.notify_fd = -1;
	nf.backend_state = -1;
	nf.no_reconnect = no_reconnect;
	nf.want_queues = want_queues;
	nf.want_split = true;
	snprintf(nf.fe_path, sizeof(nf.fe_path), "%s", FE);
	snprintf(nf.tap.name, sizeof(nf.tap.name), "eth0");
	node_set(FE "/backend", BE);
	node_set(FE "/backend-id", "0");
	node_set(BE "/state", "1");
	node_set(BE "/feature-rx-copy", "1");
	node_set(BE "/feature-sg", "1");
	assert_int_equal(nf_handshake_start(&nf), 0);
	assert_int_equal(fe_state(), XenbusStateInitialising);
}

/* As before multi-queue: --queues 1, a backend that publishes no multi-queue. */
static void start(bool no_reconnect)
{
	start_queues(no_reconnect, 1);
}

/* Start, backend InitWait then Connected: both sides Connected. */
static void start_connected(bool no_reconnect)
{
	start(no_reconnect);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_string_equal(node_find(FE "/tx-ring-ref")->val, "102");
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	assert_int_equal(setups, 1);
}

/* --- tests ----------------------------------------------------------------- */

/* The brief's sequence: backend 5, 6, then back to 2 (an xnbd restart). */
static void no_reconnect_stays_closed(void **st)
{
	(void)st;
	start_connected(true);
	backend(XenbusStateClosing);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_false(nf.connected);
	assert_int_equal(teardowns, 1);
	backend(XenbusStateClosed);
	assert_int_equal(fe_state(), XenbusStateClosed);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateClosed);
	backend(XenbusStateConnected);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_false(nf.connected);
	/* Round and round: still nothing. */
	for (int i = 0; i < 3; i++) {
		backend(XenbusStateClosed);
		backend(XenbusStateInitWait);
		backend_gone();
		backend(XenbusStateInitialising);
		backend(XenbusStateInitWait);
		assert_int_equal(fe_state(), XenbusStateClosed);
	}
	assert_int_equal(setups, 1);
	assert_false(nf.connected);
	assert_null(nf.queues);
}

/* Backend straight to Closed ("missed the backend's Closing" in Linux). */
static void no_reconnect_closed_without_closing(void **st)
{
	(void)st;
	start_connected(true);
	backend(XenbusStateClosed);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_false(nf.connected);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_int_equal(setups, 1);
}

/*
 * Linux ignores InitWait unless Initialising, and Unknown (node gone),
 * Initialising, Initialised, Reconfiguring, Reconfigured: the frontend stays
 * Connected on the same rings, as a real guest would through a backend
 * restart that does not close the device.
 */
static void no_reconnect_ignores_what_linux_ignores(void **st)
{
	(void)st;
	start_connected(true);
	backend(XenbusStateInitWait);
	backend_gone();
	backend(XenbusStateInitialising);
	backend(XenbusStateInitialised);
	backend(XenbusStateReconfiguring);
	backend(XenbusStateReconfigured);
	backend(XenbusStateConnected);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_true(nf.connected);
	assert_int_equal(setups, 1);
	assert_int_equal(teardowns, 0);
	assert_int_equal(nf.queues[0].port, 11);
}

/* Closing before we ever connected: Closed, and InitWait no longer connects. */
static void no_reconnect_closing_while_initialising(void **st)
{
	(void)st;
	start(true);
	backend(XenbusStateClosing);
	assert_int_equal(fe_state(), XenbusStateClosed);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_int_equal(setups, 0);
}

/* Without the option: unchanged, a closed backend back in InitWait gets new rings. */
static void default_reconnects(void **st)
{
	(void)st;
	start_connected(false);
	backend(XenbusStateClosing);
	assert_int_equal(fe_state(), XenbusStateClosed);
	backend(XenbusStateClosed);
	assert_int_equal(fe_state(), XenbusStateClosed);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(setups, 2);
	assert_string_equal(node_find(FE "/tx-ring-ref")->val, "104");
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	/* And a restart without Closing first: InitWait while Connected. */
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(setups, 3);
}

/* --- pages the backend keeps mapping (issue 13) ------------------------------ */

/*
 * A backend that goes Closing -> Closed -> InitWait with both rings of every
 * connection still mapped: each tear-down defers the two pages (nothing is
 * abandoned), and once NF_DEFERRED_MAX are held the netfront stays
 * Initialising however often the backend cycles. The timer's tick releases
 * what the backend unmapped and connects when few enough are left.
 */
static void deferred_capped(void **st)
{
	unsigned cycles = NF_DEFERRED_MAX / 2;

	(void)st;
	start_connected(false);
	assert_int_equal(nf.shared_pages, 2);
	for (unsigned i = 1; i <= cycles; i++) {
		backend_map(nf.queues[0].tx_ring_page);
		backend_map(nf.queues[0].rx_ring_page);
		backend(XenbusStateClosing);
		assert_int_equal(fe_state(), XenbusStateClosed);
		assert_null(nf.queues);
		assert_int_equal(nf.deferred_pages, 2 * i);
		assert_int_equal(nf.shared_pages, 2 * i);
		backend(XenbusStateClosed);
		backend(XenbusStateInitWait);
		if (i < cycles) {
			assert_int_equal(fe_state(), XenbusStateConnected);
			assert_int_equal(setups, (int)i + 1);
			assert_int_equal(nf.shared_pages, 2 * i + 2);
			backend(XenbusStateConnected);
			assert_true(nf.connected);
		}
	}
	/* At the cap: held in Initialising, nothing shared, however often it cycles. */
	assert_int_equal(nf.deferred_pages, NF_DEFERRED_MAX);
	assert_true(nf.connect_held);
	assert_int_equal(fe_state(), XenbusStateInitialising);
	assert_int_equal(setups, (int)cycles);
	for (int i = 0; i < 5; i++) {
		backend(XenbusStateClosing);
		backend(XenbusStateClosed);
		backend(XenbusStateInitWait);
		nf_handshake_tick(&nf);
	}
	assert_int_equal(fe_state(), XenbusStateInitialising);
	assert_int_equal(setups, (int)cycles);
	assert_int_equal(nf.deferred_pages, NF_DEFERRED_MAX);
	assert_int_equal(nf.shared_pages, NF_DEFERRED_MAX);
	assert_null(nf.queues);

	/* It lets go of two pages: one under the cap, the tick connects. */
	backend_unmap(2);
	nf_handshake_tick(&nf);
	assert_int_equal(nf.deferred_pages, NF_DEFERRED_MAX - 2);
	assert_int_equal(nf.deferred_released, 2);
	assert_false(nf.connect_held);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(setups, (int)cycles + 1);
	backend(XenbusStateConnected);
	assert_true(nf.connected);

	/* And of everything: the next tick releases the rest; nothing deferred. */
	backend_unmap(nmapped);
	nf_handshake_tick(&nf);
	assert_int_equal(nf.deferred_pages, 0);
	assert_null(nf.deferred);
	assert_int_equal(nf.deferred_released, NF_DEFERRED_MAX);
	assert_int_equal(nf.shared_pages, 2);
	/* An honest cycle from there: nothing deferred, the same pages shared. */
	backend(XenbusStateClosing);
	backend(XenbusStateClosed);
	assert_int_equal(nf.shared_pages, 0);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(nf.deferred_pages, 0);
	assert_int_equal(nf.shared_pages, 2);
}

/* Released before the next connection even without a tick; the rest at exit is let go. */
static void deferred_retried_before_connecting(void **st)
{
	(void)st;
	start_connected(false);
	backend_map(nf.queues[0].rx_ring_page);
	backend(XenbusStateClosing);
	assert_int_equal(nf.deferred_pages, 1);
	assert_int_equal(nf.shared_pages, 1);
	backend_unmap(1);
	unshare_calls = 0;
	backend(XenbusStateClosed);
	backend(XenbusStateInitWait);
	assert_true(unshare_calls >= 1);
	assert_int_equal(nf.deferred_pages, 0);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(nf.shared_pages, 2);
	/* Still mapped at exit: forgotten (the platform keeps it), the list freed. */
	backend_map(nf.queues[0].tx_ring_page);
	nf_handshake_close(&nf);
	assert_int_equal(nf.deferred_pages, 1);
	nf_deferred_exit(&nf);
	assert_null(nf.deferred);
	assert_int_equal(nf.deferred_pages, 0);
}

/* --- multi-queue ----------------------------------------------------------- */

/* The queue keys of the flat layout, none of which may be written with several queues. */
static const char *const flat_keys[] = {
	FE "/tx-ring-ref", FE "/rx-ring-ref", FE "/event-channel",
	FE "/event-channel-tx", FE "/event-channel-rx",
};

static void assert_features_at_top(void)
{
	static const char *const features[] = {
		"request-rx-copy", "feature-rx-notify", "feature-sg", "feature-gso-tcpv4",
		"feature-gso-tcpv6", "feature-ipv6-csum-offload",
	};

	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		char path[160];

		snprintf(path, sizeof(path), FE "/%s", features[i]);
		assert_string_equal(val(path), "1");
		for (unsigned q = 0; q < NF_MAX_QUEUES; q++) {
			snprintf(path, sizeof(path), FE "/queue-%u/%s", q, features[i]);
			assert_null(val(path));
		}
	}
}

/* Queue @q's keys under queue-<q>/, split or not; and nothing else there. */
static void assert_queue_keys(unsigned q, bool split)
{
	char path[160], want[16];
	const struct nf_queue *nq = &nf.queues[q];

	snprintf(path, sizeof(path), FE "/queue-%u/tx-ring-ref", q);
	snprintf(want, sizeof(want), "%u", nq->tx_ring_ref);
	assert_string_equal(val(path), want);
	snprintf(path, sizeof(path), FE "/queue-%u/rx-ring-ref", q);
	snprintf(want, sizeof(want), "%u", nq->rx_ring_ref);
	assert_string_equal(val(path), want);
	snprintf(want, sizeof(want), "%d", nq->port);
	snprintf(path, sizeof(path), FE "/queue-%u/event-channel", q);
	if (split) {
		assert_null(val(path));
		snprintf(path, sizeof(path), FE "/queue-%u/event-channel-tx", q);
		assert_string_equal(val(path), want);
		snprintf(path, sizeof(path), FE "/queue-%u/event-channel-rx", q);
		snprintf(want, sizeof(want), "%d", nq->port_rx);
		assert_string_equal(val(path), want);
	} else {
		assert_string_equal(val(path), want);
		snprintf(path, sizeof(path), FE "/queue-%u/event-channel-tx", q);
		assert_null(val(path));
		snprintf(path, sizeof(path), FE "/queue-%u/event-channel-rx", q);
		assert_null(val(path));
	}
}

static void assert_no_queue_dir(unsigned q)
{
	char prefix[64];
	size_t len;

	len = (size_t)snprintf(prefix, sizeof(prefix), FE "/queue-%u", q);
	for (int i = 0; i < MAX_NODES; i++)
		if (nodes[i].used && strncmp(nodes[i].path, prefix, len) == 0)
			fail_msg("%s should not exist", nodes[i].path);
}

/* The flat layout of one queue: distinct queue values, no queue-<i>/ at all. */
static void assert_flat(bool split)
{
	char want[16];

	snprintf(want, sizeof(want), "%u", nf.queues[0].tx_ring_ref);
	assert_string_equal(val(FE "/tx-ring-ref"), want);
	snprintf(want, sizeof(want), "%u", nf.queues[0].rx_ring_ref);
	assert_string_equal(val(FE "/rx-ring-ref"), want);
	snprintf(want, sizeof(want), "%d", nf.queues[0].port);
	assert_string_equal(val(split ? FE "/event-channel-tx" : FE "/event-channel"), want);
	if (split)
		assert_null(val(FE "/event-channel"));
	else
		assert_null(val(FE "/event-channel-rx"));
	for (unsigned q = 0; q < NF_MAX_QUEUES; q++)
		assert_no_queue_dir(q);
	assert_features_at_top();
}

/* Want @want queues of a backend offering @max ("" for none); InitWait, Connected. */
static void connect_mq(unsigned want, const char *max, bool split)
{
	start_queues(false, want);
	if (max)
		node_set(BE "/multi-queue-max-queues", max);
	if (split)
		node_set(BE "/feature-split-event-channels", "1");
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	assert_int_equal(starts, 1);
}

static void mq_two_queues(void **st)
{
	(void)st;
	connect_mq(2, "4", false);
	assert_int_equal(nf.nr_queues, 2);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "2");
	assert_queue_keys(0, false);
	assert_queue_keys(1, false);
	assert_string_not_equal(val(FE "/queue-0/tx-ring-ref"), val(FE "/queue-1/tx-ring-ref"));
	assert_no_queue_dir(2);
	for (size_t i = 0; i < sizeof(flat_keys) / sizeof(flat_keys[0]); i++)
		assert_null(val(flat_keys[i]));
	assert_features_at_top();
}

static void mq_two_queues_split(void **st)
{
	(void)st;
	connect_mq(2, "2", true);
	assert_int_equal(nf.nr_queues, 2);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "2");
	assert_queue_keys(0, true);
	assert_queue_keys(1, true);
	assert_no_queue_dir(2);
	for (size_t i = 0; i < sizeof(flat_keys) / sizeof(flat_keys[0]); i++)
		assert_null(val(flat_keys[i]));
	assert_features_at_top();

	/* --single-evtchn: split offered, not taken. */
	start_queues(false, 2);
	nf.want_split = false;
	node_set(BE "/multi-queue-max-queues", "2");
	node_set(BE "/feature-split-event-channels", "1");
	backend(XenbusStateInitWait);
	assert_queue_keys(0, false);
	assert_queue_keys(1, false);
}

/* min(ours, the backend's): fewer when it offers fewer. */
static void mq_capped_by_backend(void **st)
{
	(void)st;
	connect_mq(8, "3", false);
	assert_int_equal(nf.nr_queues, 3);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "3");
	for (unsigned q = 0; q < 3; q++)
		assert_queue_keys(q, false);
	assert_no_queue_dir(3);

	/* Fewer when we want fewer. */
	connect_mq(2, "8", false);
	assert_int_equal(nf.nr_queues, 2);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "2");
	assert_no_queue_dir(2);
}

/* Only two queues could be set up (out of grants): the keys say two. */
static void mq_fewer_queues_set_up(void **st)
{
	(void)st;
	start_queues(false, 4);
	fake_queue_limit = 2;
	node_set(BE "/multi-queue-max-queues", "4");
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(nf.nr_queues, 2);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "2");
	assert_queue_keys(0, false);
	assert_queue_keys(1, false);
	assert_no_queue_dir(2);

	/* Down to one: the flat layout, num-queues 1. */
	start_queues(false, 4);
	fake_queue_limit = 1;
	node_set(BE "/multi-queue-max-queues", "4");
	backend(XenbusStateInitWait);
	assert_int_equal(nf.nr_queues, 1);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "1");
	assert_flat(false);
}

/* No multi-queue-max-queues: one queue, today's layout, no multi-queue key. */
static void mq_backend_without_multi_queue(void **st)
{
	(void)st;
	connect_mq(4, NULL, false);
	assert_int_equal(nf.nr_queues, 1);
	assert_null(val(FE "/multi-queue-num-queues"));
	assert_flat(false);

	connect_mq(4, NULL, true);
	assert_int_equal(nf.nr_queues, 1);
	assert_null(val(FE "/multi-queue-num-queues"));
	assert_flat(true);
}

/* One queue of a multi-queue backend: flat keys, and num-queues 1 as Linux writes. */
static void mq_one_queue_of_multi_queue_backend(void **st)
{
	(void)st;
	connect_mq(1, "4", false);
	assert_int_equal(nf.nr_queues, 1);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "1");
	assert_flat(false);
}

/* Nonsense from the backend: 0 and garbage give one queue, huge is clamped to 8. */
static void mq_backend_nonsense(void **st)
{
	(void)st;
	connect_mq(8, "0", false);
	assert_int_equal(nf.nr_queues, 1);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "1");
	assert_flat(false);

	connect_mq(8, "4294967295", false);
	assert_int_equal(nf.nr_queues, NF_MAX_QUEUES);
	assert_string_equal(val(FE "/multi-queue-num-queues"), "8");
	for (unsigned q = 0; q < NF_MAX_QUEUES; q++)
		assert_queue_keys(q, false);

	connect_mq(8, "99999999999", false); /* out of range: unreadable */
	assert_int_equal(nf.nr_queues, 1);
	assert_flat(false);

	connect_mq(8, "two", false);
	assert_int_equal(nf.nr_queues, 1);
	assert_flat(false);
}

/*
 * Tear-down and a reconnect to a backend that changed: two queues, the
 * backend restarts without multi-queue and split channels, we come back
 * with one queue and no key of the old layout left; then the other way.
 */
static void mq_teardown_and_relayout(void **st)
{
	(void)st;
	connect_mq(4, "2", true);
	assert_int_equal(nf.nr_queues, 2);
	backend(XenbusStateClosing);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_false(nf.connected);
	assert_null(nf.queues);
	assert_int_equal(teardowns, 1);
	assert_true(stops >= 1);

	node_rm(BE "/multi-queue-max-queues");
	node_rm(BE "/feature-split-event-channels");
	backend(XenbusStateClosed);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(setups, 2);
	assert_int_equal(nf.nr_queues, 1);
	assert_null(val(FE "/multi-queue-num-queues"));
	assert_flat(false);

	/* And back to three queues: the flat keys go. */
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	node_set(BE "/multi-queue-max-queues", "3");
	backend(XenbusStateInitWait); /* restarted while we were Connected */
	assert_int_equal(setups, 3);
	assert_int_equal(teardowns, 2);
	assert_int_equal(nf.nr_queues, 3);
	for (size_t i = 0; i < sizeof(flat_keys) / sizeof(flat_keys[0]); i++)
		assert_null(val(flat_keys[i]));
	for (unsigned q = 0; q < 3; q++)
		assert_queue_keys(q, false);

	/* Our own shutdown: threads stopped, queues gone. */
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	nf_handshake_close(&nf);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_null(nf.queues);
	assert_int_equal(teardowns, 3);
}

/* --no-reconnect with several queues: closed for good, torn down once. */
static void mq_no_reconnect(void **st)
{
	(void)st;
	start_queues(true, 4);
	node_set(BE "/multi-queue-max-queues", "4");
	backend(XenbusStateInitWait);
	backend(XenbusStateConnected);
	assert_int_equal(nf.nr_queues, 4);
	backend(XenbusStateClosing);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_null(nf.queues);
	assert_int_equal(teardowns, 1);
	backend(XenbusStateClosed);
	backend(XenbusStateInitWait);
	backend(XenbusStateConnected);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_int_equal(setups, 1);
	assert_false(nf.connected);
}

/* A queue thread reports a broken backend: all queues stop, we close. */
static void mq_queue_broken(void **st)
{
	(void)st;
	connect_mq(2, "2", false);
	fake_broken = "queue 1: bad response id";
	nf_mark_broken(&nf, nf_datapath_broken(&nf));
	assert_false(nf.connected);
	assert_int_equal(stops, 1);
	assert_int_equal(fe_state(), XenbusStateClosing);
	assert_string_equal(nf.broken, "queue 1: bad response id");
	backend(XenbusStateClosing);
	assert_int_equal(fe_state(), XenbusStateClosed);
	assert_null(nf.queues);
}

/* --- the control ring (--hash) ------------------------------------------- */

static void assert_no_ctrl_keys(void)
{
	assert_null(val(FE "/ctrl-ring-ref"));
	assert_null(val(FE "/event-channel-ctrl"));
}

/* --hash and a backend that offers it: the keys at the top, driven once Connected. */
static void hash_ctrl_keys(void **st)
{
	(void)st;
	start_queues(false, 2);
	nf.want_hash = true;
	node_set(BE "/multi-queue-max-queues", "2");
	node_set(BE "/feature-ctrl-ring", "1");
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_int_equal(ctrl_setups, 1);
	assert_string_equal(val(FE "/ctrl-ring-ref"), "701");
	assert_string_equal(val(FE "/event-channel-ctrl"), "51");
	assert_null(val(FE "/queue-0/ctrl-ring-ref"));
	assert_queue_keys(0, false);
	assert_queue_keys(1, false);
	assert_int_equal(ctrl_starts, 0); /* not before the backend has bound its end */
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	assert_int_equal(ctrl_starts, 1);

	/* The backend restarts without a control ring: released, its keys gone. */
	node_rm(BE "/feature-ctrl-ring");
	backend(XenbusStateInitWait);
	assert_int_equal(ctrl_teardowns, 1);
	assert_int_equal(setups, 2);
	assert_int_equal(ctrl_setups, 1);
	assert_no_ctrl_keys();
	assert_queue_keys(0, false);

	/* And with one again; then our own shutdown releases it. */
	node_set(BE "/feature-ctrl-ring", "1");
	backend(XenbusStateConnected);
	backend(XenbusStateInitWait);
	assert_int_equal(ctrl_setups, 2);
	assert_string_equal(val(FE "/ctrl-ring-ref"), "702");
	nf_handshake_close(&nf);
	assert_int_equal(ctrl_teardowns, 2);
	assert_false(nf.ctrl.on);
}

/* No --hash (Linux's netfront), or no feature-ctrl-ring: no control ring. */
static void hash_not_used(void **st)
{
	(void)st;
	start(false);
	node_set(BE "/feature-ctrl-ring", "1");
	backend(XenbusStateInitWait);
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	assert_int_equal(ctrl_setups, 0);
	assert_no_ctrl_keys();

	start(false);
	nf.want_hash = true;
	backend(XenbusStateInitWait);
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	assert_int_equal(ctrl_setups, 0);
	assert_int_equal(ctrl_starts, 0);
	assert_no_ctrl_keys();
}

/* A control ring that cannot be had: we connect without it. */
static void hash_setup_fails(void **st)
{
	(void)st;
	start(false);
	nf.want_hash = true;
	fake_ctrl_error = -ENOSPC;
	node_set(BE "/feature-ctrl-ring", "1");
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_flat(false);
	assert_no_ctrl_keys();
	backend(XenbusStateConnected);
	assert_true(nf.connected);
	assert_int_equal(ctrl_starts, 0);
}

/* Reconnect as after an xnbd restart: the backend goes Closing, then back to InitWait. */
static void backend_restarts(void)
{
	backend(XenbusStateClosing);
	assert_int_equal(fe_state(), XenbusStateClosed);
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
}

/*
 * --mcast-control: request-multicast-control=1 with the other keys, before
 * Connected, when the backend offers either name; removed when a later
 * connection has no multicast control, so that no filter outlives it.
 */
static void mcast_control_requested(void **st)
{
	(void)st;
	start(false);
	nf.want_mcast = true;
	node_set(BE "/feature-dynamic-multicast-control", "1");
	node_set(BE "/feature-multicast-control", "1");
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_true(nf.mcast);
	assert_string_equal(val(FE "/request-multicast-control"), "1");
	assert_features_at_top();

	/* the static variant alone (sampled at connect: hence before Connected) */
	node_rm(BE "/feature-dynamic-multicast-control");
	backend_restarts();
	assert_true(nf.mcast);
	assert_string_equal(val(FE "/request-multicast-control"), "1");

	/* the dynamic one alone */
	node_rm(BE "/feature-multicast-control");
	node_set(BE "/feature-dynamic-multicast-control", "1");
	backend_restarts();
	assert_true(nf.mcast);

	/* neither, or "0": no request, the earlier one removed */
	node_set(BE "/feature-dynamic-multicast-control", "0");
	backend_restarts();
	assert_false(nf.mcast);
	assert_null(val(FE "/request-multicast-control"));
}

/* Without --mcast-control nothing is requested, and an earlier run's 1 goes. */
static void mcast_control_not_wanted(void **st)
{
	(void)st;
	start(false);
	node_set(BE "/feature-dynamic-multicast-control", "1");
	node_set(FE "/request-multicast-control", "1");
	backend(XenbusStateInitWait);
	assert_int_equal(fe_state(), XenbusStateConnected);
	assert_false(nf.mcast);
	assert_null(val(FE "/request-multicast-control"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_reconnect_stays_closed),
		cmocka_unit_test(no_reconnect_closed_without_closing),
		cmocka_unit_test(no_reconnect_ignores_what_linux_ignores),
		cmocka_unit_test(no_reconnect_closing_while_initialising),
		cmocka_unit_test(default_reconnects),
		cmocka_unit_test(deferred_capped),
		cmocka_unit_test(deferred_retried_before_connecting),
		cmocka_unit_test(mq_two_queues),
		cmocka_unit_test(mq_two_queues_split),
		cmocka_unit_test(mq_capped_by_backend),
		cmocka_unit_test(mq_fewer_queues_set_up),
		cmocka_unit_test(mq_backend_without_multi_queue),
		cmocka_unit_test(mq_one_queue_of_multi_queue_backend),
		cmocka_unit_test(mq_backend_nonsense),
		cmocka_unit_test(mq_teardown_and_relayout),
		cmocka_unit_test(mq_no_reconnect),
		cmocka_unit_test(mq_queue_broken),
		cmocka_unit_test(hash_ctrl_keys),
		cmocka_unit_test(hash_not_used),
		cmocka_unit_test(hash_setup_fails),
		cmocka_unit_test(mcast_control_requested),
		cmocka_unit_test(mcast_control_not_wanted),
	};

	log_init("test_nf_handshake", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
