/* SPDX-License-Identifier: MIT */
/*
 * test_nf_handshake.c - the netfront's XenBus state machine (handshake.c)
 * driven without I/O: an in-memory XenStore behind a fake ops table, the
 * data path and the TAP stubbed out. The backend's state is written by hand
 * and the watch "fires" by calling nf_handshake_event(), as main.c does.
 *
 * Checks that --no-reconnect follows Linux's netback_changed() (Closed is
 * final, InitWait only acted on while Initialising, Unknown ignored) and
 * that the default mode still reconnects after a backend restart.
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

static const struct platform_ops fake_ops = {
	.name = "fake",
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

static void start_queues(bool no_reconnect, unsigned want_queues)
{
	free(nf.queues);
	memset(nodes, 0, sizeof(nodes));
	memset(&nf, 0, sizeof(nf));
	setups = teardowns = starts = stops = 0;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_reconnect_stays_closed),
		cmocka_unit_test(no_reconnect_closed_without_closing),
		cmocka_unit_test(no_reconnect_ignores_what_linux_ignores),
		cmocka_unit_test(no_reconnect_closing_while_initialising),
		cmocka_unit_test(default_reconnects),
	};

	log_init("test_nf_handshake", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
