/* SPDX-License-Identifier: MIT */
/*
 * handshake.c - XenBus from the guest side, as Linux netfront does it.
 *
 *   Initialising  read `backend` / `backend-id` written by the toolstack,
 *                 wait for the backend's InitWait
 *   -> Connected  backend features read, rings and buffers granted, the
 *                 event channel allocated, keys written in one transaction
 *   -> Closing    on our shutdown, or when the backend closes
 *   -> Closed     once the backend is Closed (or gone)
 *   -> Initialising again when a closed backend returns to InitWait (an
 *                 xnbd restart): new rings, new keys, reconnect.
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
 * (nf->notify_errors), never fatal.
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

/* Write what the backend needs, all or nothing. */
static int publish(struct netfront *nf)
{
	char tx[12], rx[12], port[12], port_rx[12];
	struct xs_util_kv keys[] = {
		{ "tx-ring-ref", tx },
		{ "rx-ring-ref", rx },
		{ "request-rx-copy", "1" },
		{ "feature-rx-notify", "1" },
		{ "feature-sg", "1" },
		{ "feature-gso-tcpv4", "1" },
		{ "feature-gso-tcpv6", "1" },
		{ "feature-ipv6-csum-offload", "1" },
		{ "event-channel", port },
		{ "event-channel-rx", port_rx }, /* only when split */
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	struct xs_util u = xsu(nf);

	snprintf(tx, sizeof(tx), "%u", nf->tx_ring_ref);
	snprintf(rx, sizeof(rx), "%u", nf->rx_ring_ref);
	snprintf(port, sizeof(port), "%d", nf->port);
	snprintf(port_rx, sizeof(port_rx), "%d", nf->port_rx);
	if (nf->port_rx >= 0)
		keys[n - 2].key = "event-channel-tx"; /* feature-split-event-channels */
	else
		n--;
	return xs_util_write_keys(&u, nf->fe_path, keys, n);
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

static void connect(struct netfront *nf)
{
	struct vnet_offloads off;
	int rc;

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
	rc = nf_datapath_setup(nf);
	if (rc == 0)
		rc = publish(nf);
	if (rc) {
		log_err("cannot set up the rings: %s", strerror(-rc));
		nf_datapath_teardown(nf);
		set_state(nf, XenbusStateClosing);
		return;
	}
	/* The guest's NIC takes what the backend can carry (TSO needs partial checksums). */
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
	log_info("%s: rings granted (tx %u, rx %u, port %d%s), waiting for the backend",
		 nf->tap.name, nf->tx_ring_ref, nf->rx_ring_ref, nf->port,
		 nf->port_rx >= 0 ? " + rx port" : "");
}

static void disconnect(struct netfront *nf)
{
	if (nf->connected)
		log_info("%s: disconnected", nf->tap.name);
	nf->connected = false;
	nf_tap_poll(nf, false);
	tap_set_up(&nf->tap, 0);
	nf_datapath_teardown(nf);
}

/* The backend is Connected: start moving frames if our side is ready. */
static void bring_up(struct netfront *nf)
{
	if (nf->state != XenbusStateConnected || nf->connected || nf->broken[0])
		return;
	nf->connected = true;
	tap_set_up(&nf->tap, 1);
	nf_tap_poll(nf, true);
	log_info("%s: connected to %s (sg %d, gso4 %d, gso6 %d, mtu %u)", nf->tap.name,
		 nf->be_path, nf->be_sg, nf->be_gso4, nf->be_gso6, nf->mtu);
	nf_datapath_event(nf); /* anything that arrived before */
}

void nf_mark_broken(struct netfront *nf, const char *reason)
{
	if (nf->broken[0])
		return;
	snprintf(nf->broken, sizeof(nf->broken), "%s", reason);
	log_err("%s: backend broke the protocol, closing: %s", nf->tap.name, reason);
	nf->connected = false;
	nf_tap_poll(nf, false);
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

void nf_handshake_close(struct netfront *nf)
{
	if (nf->state == XenbusStateConnected || nf->state == XenbusStateInitialising)
		set_state(nf, XenbusStateClosing);
	disconnect(nf);
	set_state(nf, XenbusStateClosed);
	nf->ops->xs_unwatch(nf->xs, nf->be_path, TOKEN_BE);
}
