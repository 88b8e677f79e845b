/* SPDX-License-Identifier: MIT */
/*
 * handshake.c - XenBus from the guest side, as Linux netfront does it.
 *
 *   Initialising  read `backend` / `backend-id` written by the toolstack,
 *                 wait for the backend's InitWait
 *   -> Connected  backend features read, the number of queues chosen, each
 *                 queue's rings and buffers granted and event channel(s)
 *                 allocated, keys written in one transaction
 *   -> Closing    on our shutdown, or when the backend closes
 *   -> Closed     once the backend is Closed (or gone)
 *   -> Initialising again when a closed backend returns to InitWait (an
 *                 xnbd restart): new rings, new keys, reconnect; unless
 *                 the backend still maps NF_DEFERRED_MAX pages of earlier
 *                 connections (grants.c): then we wait in Initialising
 *                 until it unmaps them (in both modes).
 *
 * With --no-reconnect (nf->no_reconnect) the last step is gone and the
 * backend's states are handled exactly as Linux's xen-netfront does in
 * netback_changed(), so that tests see what a real guest would:
 *
 *   backend InitWait      connect only if we are Initialising; otherwise
 *                         ignored (a restarted backend finds us as we are)
 *   backend Connected     bring the NIC up if our rings are published
 *   backend Closing       -> Closed (xenbus_frontend_closed), from any state
 *   backend Closed        -> Closed unless already Closed ("missed the
 *                         backend's Closing"), or Initialising: a new
 *                         instance waits for the backend's InitWait
 *                         (where Linux's races, see event_no_reconnect)
 *   Initialising, Initialised, Reconfiguring, Reconfigured, Unknown (the
 *                         node gone or unreadable): ignored
 *
 * Closed is then final: nothing starts a new connection, the process keeps
 * running with its state node at 6 until it is stopped (Linux connects
 * again only after the driver is reloaded or the guest reboots). In both
 * modes a backend that stays Connected while its process restarts (port
 * closed and bound again, same ring pages) is simply carried on with:
 * nothing here times out, and a notification to an unbound port is counted
 * (per queue: "notify errors"), never fatal.
 *
 * Queues, as Linux's talk_to_netback(): min(--queues, the backend's
 * multi-queue-max-queues), one when the backend does not publish it. The
 * keys of one queue go flat in our directory, those of several under
 * queue-<i>/ with multi-queue-num-queues; the features are at the top
 * either way:
 *
 *   one queue                        several queues (N)
 *   [multi-queue-num-queues = 1]     multi-queue-num-queues = N
 *   tx-ring-ref, rx-ring-ref         queue-<i>/tx-ring-ref, rx-ring-ref
 *   event-channel, or                queue-<i>/event-channel, or
 *   event-channel-tx + -rx (split)   queue-<i>/event-channel-tx + -rx
 *   request-rx-copy, feature-rx-notify, feature-sg, feature-gso-tcpv4,
 *   feature-gso-tcpv6, feature-ipv6-csum-offload   (top level, always)
 *   request-multicast-control = 1  (top level, with --mcast-control when the
 *                                   backend offers feature-(dynamic-)
 *                                   multicast-control; removed otherwise)
 *
 * ([...]: only when the backend publishes multi-queue-max-queues.) With
 * --hash and a backend offering feature-ctrl-ring, ctrl-ring-ref and
 * event-channel-ctrl go at the top too, in the same transaction, and the
 * control ring is driven once the backend is Connected (ctrl.c). The
 * transaction first removes whatever queue and control keys an earlier
 * connection left.
 *
 * The backend's values are untrusted like everything else it writes:
 * parsed strictly, and a backend that breaks the ring protocol gets the
 * vif closed with the reason logged.
 */
#include "netfront.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "xs_util.h"

#define TOKEN_FE "fe"
#define TOKEN_BE "be"

static struct xs_util xsu(const struct netfront *nf)
{
	return (struct xs_util){ nf->ops, nf->xs };
}

static int read_str(struct netfront *nf, const char *dir, const char *key, char *out, size_t size)
{
	struct xs_util u = xsu(nf);

	return xs_util_read_str(&u, dir, key, out, size);
}

static int read_u32(struct netfront *nf, const char *dir, const char *key, uint32_t *out)
{
	struct xs_util u = xsu(nf);

	return xs_util_read_u32(&u, dir, key, out);
}

static bool read_flag(struct netfront *nf, const char *key)
{
	uint32_t v = 0;

	return read_u32(nf, nf->be_path, key, &v) == 0 && v != 0;
}

static void set_state(struct netfront *nf, int state)
{
	char path[160], val[4];

	nf->state = state;
	snprintf(path, sizeof(path), "%s/state", nf->fe_path);
	snprintf(val, sizeof(val), "%d", state);
	nf->ops->xs_write(nf->xs, 0, path, val, strlen(val));
}

/* Conflicting commits of the connection's keys are retried this often. */
#define PUBLISH_ATTEMPTS 5

static int tx_write(struct netfront *nf, uint32_t tx, const char *dir, const char *key,
		    const char *val)
{
	char path[256];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -ENAMETOOLONG;
	return nf->ops->xs_write(nf->xs, tx, path, val, strlen(val));
}

static int tx_rm(struct netfront *nf, uint32_t tx, const char *key)
{
	char path[256];
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", nf->fe_path, key) >= sizeof(path))
		return -ENAMETOOLONG;
	rc = nf->ops->xs_rm(nf->xs, tx, path);
	return rc == -ENOENT ? 0 : rc;
}

/*
 * What an earlier connection may have left: the backend must not read a
 * queue-1/ of ours after we came back with one queue, nor an
 * event-channel-tx after it stopped offering split channels.
 */
static int remove_queue_keys(struct netfront *nf, uint32_t tx)
{
	static const char *const flat[] = {
		"multi-queue-num-queues", "tx-ring-ref", "rx-ring-ref",
		"event-channel", "event-channel-tx", "event-channel-rx",
		"ctrl-ring-ref", "event-channel-ctrl",
	};
	int rc = 0;

	for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]) && rc == 0; i++)
		rc = tx_rm(nf, tx, flat[i]);
	for (unsigned i = 0; i < NF_MAX_QUEUES && rc == 0; i++) {
		char dir[16];

		snprintf(dir, sizeof(dir), "queue-%u", i);
		rc = tx_rm(nf, tx, dir);
	}
	return rc;
}

/* One queue's rings and channel(s), under @dir (Linux's write_queue_xenstore_keys). */
static int write_queue_keys(struct netfront *nf, uint32_t tx, const struct nf_queue *q,
			    const char *dir)
{
	char val[12];
	int rc;

	snprintf(val, sizeof(val), "%u", q->tx_ring_ref);
	rc = tx_write(nf, tx, dir, "tx-ring-ref", val);
	snprintf(val, sizeof(val), "%u", q->rx_ring_ref);
	if (rc == 0)
		rc = tx_write(nf, tx, dir, "rx-ring-ref", val);
	snprintf(val, sizeof(val), "%d", q->port);
	if (rc == 0 && q->port_rx < 0)
		return tx_write(nf, tx, dir, "event-channel", val);
	/* feature-split-event-channels */
	if (rc == 0)
		rc = tx_write(nf, tx, dir, "event-channel-tx", val);
	snprintf(val, sizeof(val), "%d", q->port_rx);
	if (rc == 0)
		rc = tx_write(nf, tx, dir, "event-channel-rx", val);
	return rc;
}

/*
 * Everything the backend needs for this connection, in one transaction, as
 * Linux's talk_to_netback() writes it: multi-queue-num-queues whenever the
 * backend publishes multi-queue-max-queues (1 included), the queue keys
 * flat with one queue and under queue-<i>/ with several, the rest at the
 * top whatever the number of queues.
 */
static int publish_once(struct netfront *nf, uint32_t tx)
{
	static const struct xs_util_kv features[] = {
		{ "request-rx-copy", "1" },
		{ "feature-rx-notify", "1" },
		{ "feature-sg", "1" },
		{ "feature-gso-tcpv4", "1" },
		{ "feature-gso-tcpv6", "1" },
		{ "feature-ipv6-csum-offload", "1" },
	};
	char val[12];
	int rc = remove_queue_keys(nf, tx);

	if (rc == 0 && nf->be_multi_queue) {
		snprintf(val, sizeof(val), "%u", nf->nr_queues);
		rc = tx_write(nf, tx, nf->fe_path, "multi-queue-num-queues", val);
	}
	if (rc == 0 && nf->nr_queues == 1)
		rc = write_queue_keys(nf, tx, &nf->queues[0], nf->fe_path);
	for (unsigned i = 0; rc == 0 && nf->nr_queues > 1 && i < nf->nr_queues; i++) {
		char dir[sizeof(nf->fe_path) + 24]; /* "/queue-" and a u32 */

		snprintf(dir, sizeof(dir), "%s/queue-%u", nf->fe_path, i);
		rc = write_queue_keys(nf, tx, &nf->queues[i], dir);
	}
	if (rc == 0 && nf->ctrl.on) {
		snprintf(val, sizeof(val), "%u", nf->ctrl.ring_ref);
		rc = tx_write(nf, tx, nf->fe_path, "ctrl-ring-ref", val);
		snprintf(val, sizeof(val), "%d", nf->ctrl.port);
		if (rc == 0)
			rc = tx_write(nf, tx, nf->fe_path, "event-channel-ctrl", val);
	}
	for (size_t i = 0; rc == 0 && i < sizeof(features) / sizeof(features[0]); i++)
		rc = tx_write(nf, tx, nf->fe_path, features[i].key, features[i].val);
	/* Before Connected, so that a backend without the dynamic variant samples it
	 * too; an earlier run's 1 must not outlive --mcast-control (mcast.c). */
	if (rc == 0 && nf->mcast)
		rc = tx_write(nf, tx, nf->fe_path, "request-multicast-control", "1");
	else if (rc == 0)
		rc = tx_rm(nf, tx, "request-multicast-control");
	return rc;
}

static int publish(struct netfront *nf)
{
	int rc = -EAGAIN;

	for (int attempt = 0; attempt < PUBLISH_ATTEMPTS && rc == -EAGAIN; attempt++) {
		uint32_t tx;

		rc = nf->ops->xs_transaction_start(nf->xs, &tx);
		if (rc)
			return rc;
		rc = publish_once(nf, tx);
		if (rc) {
			nf->ops->xs_transaction_end(nf->xs, tx, false);
			return rc;
		}
		rc = nf->ops->xs_transaction_end(nf->xs, tx, true);
	}
	return rc;
}

/*
 * How many queues: ours (--queues, by default Linux's xennet_max_queues)
 * capped by the backend's multi-queue-max-queues. A backend without it
 * gets one queue and no multi-queue key; nonsense is clamped to 1..8.
 */
static unsigned pick_queues(struct netfront *nf)
{
	uint32_t max = 1;
	int rc = read_u32(nf, nf->be_path, "multi-queue-max-queues", &max);

	nf->be_multi_queue = rc != -ENOENT;
	if (rc == -ENOENT) {
		max = 1;
	} else if (rc) {
		log_warn("%s: backend's multi-queue-max-queues is unreadable (%s): one queue",
			 nf->tap.name, strerror(-rc));
		max = 1;
	} else if (max < 1) {
		log_warn("%s: backend offers multi-queue-max-queues 0: one queue", nf->tap.name);
		max = 1;
	} else if (max > NF_MAX_QUEUES) {
		log_warn("%s: backend offers multi-queue-max-queues %u: clamped to %u",
			 nf->tap.name, max, NF_MAX_QUEUES);
		max = NF_MAX_QUEUES;
	}
	return nf->want_queues < max ? nf->want_queues : max;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/*
 * Pages of earlier connections the backend still maps (grants.c): tried
 * again first; while NF_DEFERRED_MAX or more are held no new connection
 * starts, so that a backend cycling through InitWait with its old rings
 * mapped cannot make us grant without end. We stay Initialising (the
 * backend waits in InitWait) and nf_handshake_tick() connects once it lets
 * go. True when the connection may go ahead.
 */
static bool deferred_allow(struct netfront *nf)
{
	nf_deferred_retry(nf);
	if (nf_deferred_full(nf)) {
		if (!nf->connect_held)
			log_warn("%s: backend domain %u still maps %u pages of our earlier "
				 "connections (limit %u): not connecting until it unmaps them",
				 nf->tap.name, nf->backend_id, nf->deferred_pages,
				 NF_DEFERRED_MAX);
		nf->connect_held = true;
		return false;
	}
	if (nf->connect_held)
		log_info("%s: backend unmapped the pages of earlier connections (deferred "
			 "pages %u): connecting", nf->tap.name, nf->deferred_pages);
	nf->connect_held = false;
	return true;
}

static void connect(struct netfront *nf)
{
	struct vnet_offloads off;
	int rc;

	if (!deferred_allow(nf))
		return;
	if (!read_flag(nf, "feature-rx-copy")) {
		log_err("backend %s does not offer feature-rx-copy", nf->be_path);
		set_state(nf, XenbusStateClosing);
		return;
	}
	nf->be_sg = read_flag(nf, "feature-sg");
	nf->be_gso4 = read_flag(nf, "feature-gso-tcpv4");
	nf->be_gso6 = read_flag(nf, "feature-gso-tcpv6");
	nf->be_ipv6_csum = read_flag(nf, "feature-ipv6-csum-offload");
	nf->be_split = read_flag(nf, "feature-split-event-channels");
	nf->be_ctrl = read_flag(nf, "feature-ctrl-ring");
	nf->mcast = nf->want_mcast && (read_flag(nf, "feature-dynamic-multicast-control") ||
				       read_flag(nf, "feature-multicast-control"));
	if (nf->want_mcast && !nf->mcast)
		log_info("%s: backend offers no multicast control: it floods multicast to us",
			 nf->tap.name);
	nf->nr_queues = pick_queues(nf);
	rc = nf_datapath_setup(nf);
	if (rc == 0 && nf->want_hash && !nf->be_ctrl)
		log_info("%s: --hash: the backend offers no control ring: no hashing", nf->tap.name);
	if (rc == 0 && nf->want_hash && nf->be_ctrl) {
		int crc = nf_ctrl_setup(nf);

		/* Hashing is a nicety: connect without it rather than not at all. */
		if (crc)
			log_warn("%s: no control ring (%s): no hashing", nf->tap.name,
				 strerror(-crc));
	}
	if (rc == 0)
		rc = publish(nf);
	if (rc) {
		log_err("cannot set up the rings: %s", strerror(-rc));
		nf_datapath_teardown(nf);
		nf_ctrl_teardown(nf);
		set_state(nf, XenbusStateClosing);
		return;
	}
	/* The guest's NIC takes what the backend can carry (TSO needs partial checksums);
	 * set once every queue's fd is attached (attaching one resets them). */
	off = (struct vnet_offloads){ .csum = true, .tso4 = nf->be_gso4,
				      .tso6 = nf->be_gso6 && nf->be_ipv6_csum };
	if (!nf->be_sg && nf->mtu > TAP_MTU_DEFAULT)
		nf->mtu = TAP_MTU_DEFAULT;
	if (!nf->be_sg)
		off.tso4 = off.tso6 = false;
	tap_set_offloads(&nf->tap, &off);
	tap_set_mtu(&nf->tap, nf->mtu);
	nf->broken[0] = '\0';
	set_state(nf, XenbusStateConnected);
	log_info("%s: %u queue%s (we want %u, backend %s), rings granted (queue 0: tx %u, rx %u, "
		 "port %d%s), waiting for the backend", nf->tap.name, nf->nr_queues,
		 nf->nr_queues > 1 ? "s" : "", nf->want_queues,
		 nf->be_multi_queue ? "multi-queue" : "single-queue", nf->queues[0].tx_ring_ref,
		 nf->queues[0].rx_ring_ref, nf->queues[0].port,
		 nf->queues[0].port_rx >= 0 ? " + rx port" : "");
}

static void disconnect(struct netfront *nf)
{
	bool had_rings = nf->queues != NULL;

	if (nf->connected)
		log_info("%s: disconnected", nf->tap.name);
	nf->connected = false;
	tap_set_up(&nf->tap, 0);
	nf_datapath_teardown(nf); /* threads joined first */
	nf_ctrl_teardown(nf);
	if (had_rings)
		log_info("%s: rings ended; shared pages %u, deferred pages %u", nf->tap.name,
			 nf->shared_pages, nf->deferred_pages);
}

/* The backend is Connected: start moving frames if our side is ready. */
static void bring_up(struct netfront *nf)
{
	int rc;

	if (nf->state != XenbusStateConnected || nf->connected || nf->broken[0])
		return;
	rc = nf_datapath_start(nf); /* each thread looks at what arrived before */
	if (rc) {
		log_err("%s: cannot start the queue threads: %s", nf->tap.name, strerror(-rc));
		set_state(nf, XenbusStateClosing);
		return;
	}
	nf->connected = true;
	tap_set_up(&nf->tap, 1);
	log_info("%s: connected to %s (%u queue%s, sg %d, gso4 %d, gso6 %d, mtu %u%s)",
		 nf->tap.name, nf->be_path, nf->nr_queues, nf->nr_queues > 1 ? "s" : "",
		 nf->be_sg, nf->be_gso4, nf->be_gso6, nf->mtu,
		 nf->ctrl.on ? ", control ring" : "");
	nf_ctrl_start(nf); /* the backend has bound its end: it hears us */
}

void nf_mark_broken(struct netfront *nf, const char *reason)
{
	if (nf->broken[0])
		return;
	snprintf(nf->broken, sizeof(nf->broken), "%s", reason);
	log_err("%s: backend broke the protocol, closing: %s", nf->tap.name, reason);
	nf->connected = false;
	nf_datapath_stop(nf); /* every queue stops moving; tear-down when the backend closes */
	set_state(nf, XenbusStateClosing);
}

int nf_handshake_start(struct netfront *nf)
{
	char mac[32];
	uint32_t id;
	int rc;

	rc = read_str(nf, nf->fe_path, "backend", nf->be_path, sizeof(nf->be_path));
	if (rc)
		return rc;
	rc = read_u32(nf, nf->fe_path, "backend-id", &id);
	if (rc)
		return rc;
	nf->backend_id = id;
	if (read_str(nf, nf->fe_path, "mac", mac, sizeof(mac)) == 0 && parse_mac(mac, nf->mac) == 0)
		tap_set_mac(&nf->tap, nf->mac);
	set_state(nf, XenbusStateInitialising);
	rc = nf->ops->xs_watch(nf->xs, nf->be_path, TOKEN_BE);
	if (rc)
		return rc;
	nf_handshake_event(nf);
	return 0;
}

/* The backend closed on us (Linux: xenbus_frontend_closed): Closed for good. */
static void closed_for_good(struct netfront *nf)
{
	bool was_connected = nf->state == XenbusStateConnected;

	disconnect(nf);
	if (nf->state == XenbusStateClosed)
		return;
	set_state(nf, XenbusStateClosed);
	if (was_connected)
		log_info("%s: backend closed the connection; --no-reconnect: staying Closed "
			 "(as Linux's netfront does)", nf->tap.name);
	else
		log_info("%s: backend closed before we connected; --no-reconnect: staying Closed "
			 "(as Linux's netfront does)", nf->tap.name);
}

/* netback_changed() of Linux's xen-netfront, state by state. */
static void event_no_reconnect(struct netfront *nf, uint32_t be)
{
	switch (be) {
	case XenbusStateInitWait:
		if (nf->state == XenbusStateInitialising)
			connect(nf);
		else
			log_debug("%s: backend in InitWait while we are %d: ignored",
				  nf->tap.name, nf->state);
		break;
	case XenbusStateConnected:
		bring_up(nf);
		break;
	case XenbusStateClosed:
		/*
		 * A new instance (a driver reload, or our tests' guest "reboot"
		 * in the same domain) finds the backend still Closed from its
		 * predecessor, which comes back to InitWait once it sees our
		 * Initialising. Linux's netfront races there (its first watch
		 * event may close it); we wait, so that tests are deterministic.
		 */
		if (nf->state == XenbusStateClosed || nf->state == XenbusStateInitialising)
			break;
		/* We missed the backend's Closing. */
		__attribute__((fallthrough));
	case XenbusStateClosing:
		closed_for_good(nf);
		break;
	default: /* Initialising, Initialised, Reconfiguring, Reconfigured, Unknown */
		break;
	}
}

void nf_handshake_event(struct netfront *nf)
{
	uint32_t be = XenbusStateUnknown;

	if (read_u32(nf, nf->be_path, "state", &be) != 0)
		be = XenbusStateUnknown;
	/* Act on changes only: the watch also fires for the backend's other nodes. */
	if ((int)be == nf->backend_state)
		return;
	nf->backend_state = (int)be;

	if (nf->no_reconnect) {
		event_no_reconnect(nf, be);
		return;
	}
	switch (be) {
	case XenbusStateInitWait:
		if (nf->state == XenbusStateConnected || nf->state == XenbusStateClosed ||
		    nf->state == XenbusStateClosing) {
			/* The backend came back (restarted): start over with fresh rings. */
			disconnect(nf);
			set_state(nf, XenbusStateInitialising);
		}
		if (nf->state == XenbusStateInitialising)
			connect(nf);
		break;
	case XenbusStateConnected:
		bring_up(nf);
		break;
	case XenbusStateClosing:
		/* As Linux netfront does: the backend waits for us to be Closed. */
		disconnect(nf);
		if (nf->state != XenbusStateClosed)
			set_state(nf, XenbusStateClosed);
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
	default:
		disconnect(nf);
		if (nf->state != XenbusStateInitialising)
			set_state(nf, XenbusStateClosed);
		break;
	}
}

/*
 * The timer's (main.c), every second while pages are deferred: try them
 * again, and start the connection they held back once few enough are left
 * (the backend still in InitWait, we still Initialising).
 */
void nf_handshake_tick(struct netfront *nf)
{
	nf_deferred_retry(nf);
	if (nf->connect_held && !nf_deferred_full(nf) && nf->state == XenbusStateInitialising &&
	    nf->backend_state == XenbusStateInitWait)
		connect(nf);
}

void nf_handshake_close(struct netfront *nf)
{
	if (nf->state == XenbusStateConnected || nf->state == XenbusStateInitialising)
		set_state(nf, XenbusStateClosing);
	disconnect(nf);
	set_state(nf, XenbusStateClosed);
	nf->ops->xs_unwatch(nf->xs, nf->be_path, TOKEN_BE);
}
