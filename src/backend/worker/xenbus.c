/* SPDX-License-Identifier: MIT */
/*
 * xenbus.c - probing, negotiating, connecting, resuming and closing vifs.
 *
 * A worker serves one guest: one watch covers that guest's backend dir
 * (backend/vif/<guest>): a change there re-scans its vifs and re-reads each
 * vif's `online` and `state` nodes (the toolstack writes both). One watch
 * per vif covers its frontend's `state`. Watch events are drained in bulk
 * and coalesced: each vif is evaluated once per wake-up, from the nodes'
 * current values, however many events a guest caused.
 *
 * Resuming: a vif whose backend `state` already reads Connected was
 * connected by a worker that died or was replaced. If the frontend is
 * still Connected, the new worker maps the same rings, binds the same
 * frontend ports again and carries on from the rings' shared indices
 * (engine_tx_init / engine_rx_init attach at rsp_prod), without writing
 * `state`: the guest sees a pause, never a disconnect. Every value the frontend
 * wrote is parsed strictly (xsvalue.h); a missing required key or a bad
 * value puts a message in error/<backend path>/error and closes the vif,
 * as Linux's xenbus_dev_fatal does. A control ring (feature-ctrl-ring, which
 * we offer) is optional: ctrl-ring-ref and event-channel-ctrl are read with
 * the queues' keys, both or neither, and vif_ctrl.c serves the ring.
 *
 * Hotplug: the toolstack (libxl) creates `hotplug-status` empty with the
 * backend dir, waits for our InitWait, then runs the hotplug script
 * (vif-bridge, vif-route) on the TAP, which writes "connected" there, or
 * "error" with a reason in `hotplug-error`. A frontend that is ready before
 * then waits in InitWait: only a TAP the host has plumbed gets Connected,
 * as Linux's netback defers its switch to Connected (backend_switch_state).
 * Unlike netback, which maps the rings first and holds back only the state
 * write, we do not read the frontend's keys or map anything until the
 * script has answered: a vif is then either fully connected or not at all,
 * and every other path (closing, a frontend starting over, a worker restart
 * in between, which would otherwise find rings in use behind an InitWait)
 * stays as it was. The node lives in the guest's backend dir, so its
 * changes come through the one watch on that dir; the guest cannot write
 * there. "error" refuses the vif until the toolstack removes it. A script
 * silent for XENBUS_HOTPLUG_WARN_MS gets a warning (xenbus_tick()); we keep
 * waiting, as netback does. A vif resumed Connected is past all this.
 */
#include "xenbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/event_channel.h>
#include <xen/io/xenbus.h>

#include "xs_util.h"
#include "xsvalue.h"

#define GUEST_TOKEN "backend-guest"
#define RELEASE_TOKEN "release-domain"

bool xenbus_state_allowed(int from, int to)
{
	switch (to) {
	case XenbusStateInitWait:
		return from == XenbusStateInitialising || from == XenbusStateClosed;
	case XenbusStateConnected:
		return from == XenbusStateInitWait;
	case XenbusStateClosing:
		return from == XenbusStateInitWait || from == XenbusStateConnected;
	case XenbusStateClosed:
		return from == XenbusStateClosing;
	default:
		return false;
	}
}

/*
 * A read that failed for the platform's reasons (I/O, permission, quota),
 * not because the node is absent (-ENOENT) or holds garbage (-EINVAL,
 * -ERANGE): it says nothing of the node, so nothing is decided on it.
 */
static bool read_failed(int rc)
{
	return rc != 0 && rc != -ENOENT && rc != -EINVAL && rc != -ERANGE;
}

static struct xs_util xsu(const struct worker *d)
{
	return (struct xs_util){ d->ops, d->xs };
}

static int xs_write_str(struct worker *d, const char *dir, const char *key, const char *val)
{
	struct xs_util u = xsu(d);

	return xs_util_write_str(&u, dir, key, val);
}

static int xs_read_u32(struct worker *d, const char *dir, const char *key, uint32_t *out)
{
	struct xs_util u = xsu(d);

	return xs_util_read_u32(&u, dir, key, out);
}

static int xs_read_flag(struct worker *d, const char *dir, const char *key, bool dflt, bool *out)
{
	struct xs_util u = xsu(d);

	return xs_util_read_flag(&u, dir, key, dflt, out);
}

/*
 * Write @to to @v's state node, unless the node is gone: a dir the toolstack
 * removed is being torn down, and a write would bring it back (Linux's
 * xenbus_switch_state checks the same, in the same transaction).
 */
static int write_state(struct vif *v, int to)
{
	const struct platform_ops *ops = v->d->ops;
	char path[128], val[4];
	int rc = -EAGAIN;

	snprintf(path, sizeof(path), "%s/state", v->be_path);
	snprintf(val, sizeof(val), "%d", to);
	for (int attempt = 0; attempt < 5 && rc == -EAGAIN; attempt++) {
		char *cur = NULL;
		size_t len;
		uint32_t tx;

		rc = ops->xs_transaction_start(v->d->xs, &tx);
		if (rc)
			return rc;
		rc = ops->xs_read(v->d->xs, tx, path, &cur, &len);
		free(cur);
		if (rc == 0)
			rc = ops->xs_write(v->d->xs, tx, path, val, strlen(val));
		if (rc) {
			ops->xs_transaction_end(v->d->xs, tx, false);
			return rc == -ENOENT ? 0 : rc;
		}
		rc = ops->xs_transaction_end(v->d->xs, tx, true);
	}
	return rc;
}

/*
 * Move @v to @to. Our state is what XenStore says, as with Linux's
 * xenbus_switch_state: a write that fails is no transition (the frontend
 * would otherwise see the next one jump from where the node still is),
 * and the next event tries again. Returns whether @v is in @to now.
 */
static bool set_state(struct vif *v, int to)
{
	if (v->state == to)
		return true;
	if (!xenbus_state_allowed(v->state, to)) {
		log_limited(&v->rl, LOG_LVL_WARN, "vif%u.%u: refusing state change %d -> %d", v->domid,
			    v->devid, v->state, to);
		return false;
	}
	if (write_state(v, to) != 0) {
		log_warn("vif%u.%u: cannot write state %d", v->domid, v->devid, to);
		return false;
	}
	if (to == XenbusStateInitWait) {
		/* libxl starts the hotplug script when it sees this: so does our clock. */
		v->initwait_ms = worker_now_ms();
		v->hotplug_checked = false;
	}
	v->state = to;
	return true;
}

/* Walk the table to @target through the states in between (a failed write stops the walk). */
static void go_state(struct vif *v, int target)
{
	bool moved = true;

	for (int step = 0; step < 4 && v->state != target && moved; step++) {
		switch (v->state) {
		case XenbusStateConnected:
			vif_disconnect(v);
			moved = set_state(v, XenbusStateClosing);
			break;
		case XenbusStateInitWait:
			moved = set_state(v, target == XenbusStateConnected ? target
									 : XenbusStateClosing);
			break;
		case XenbusStateClosing:
			vif_disconnect(v);
			moved = set_state(v, XenbusStateClosed);
			break;
		case XenbusStateClosed:
		case XenbusStateInitialising:
			/* A new connection gets a fresh start. */
			v->broken[0] = v->broken_where[0] = '\0';
			moved = set_state(v, XenbusStateInitWait);
			break;
		default:
			return;
		}
	}
}

static void fatal(struct vif *v, const char *msg)
{
	char path[256];
	struct worker *d = v->d;
	const char *rel = strstr(v->be_path, "/backend/");

	/* Where Linux's xenbus_dev_error puts it: error/<backend path>/error. */
	snprintf(path, sizeof(path), "/local/domain/%u/error%s", d->self_domid, rel ? rel : "");
	xs_write_str(d, path, "error", msg);
	log_limited(&v->rl, LOG_LVL_ERR, "vif%u.%u: %s", v->domid, v->devid, msg);
	go_state(v, XenbusStateClosed);
}

/*
 * @key of @v's backend dir into @out (@size bytes), cut to fit, anything
 * but printable ASCII made '?': for logs and the error node. Returns the
 * value's full length, or -errno (-ENOENT: no such node).
 */
static int read_text(struct vif *v, const char *key, char *out, size_t size)
{
	char path[160], *val = NULL;
	size_t len = 0, i;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", v->be_path, key);
	rc = v->d->ops->xs_read(v->d->xs, 0, path, &val, &len);
	if (rc)
		return rc;
	for (i = 0; i < len && i + 1 < size; i++)
		out[i] = val[i] >= 0x20 && val[i] < 0x7f ? val[i] : '?';
	out[i] = '\0';
	free(val);
	return len > INT32_MAX ? INT32_MAX : (int)len;
}

enum hotplug {
	HOTPLUG_NONE,  /* no hotplug-status node: no script to wait for */
	HOTPLUG_WAIT,  /* empty (libxl's placeholder) or anything unknown */
	HOTPLUG_READY, /* "connected" */
	HOTPLUG_ERROR, /* "error": the reason is in hotplug-error */
	HOTPLUG_UNREADABLE, /* the read failed (read_failed()): no answer either way */
};

/*
 * What the hotplug script said in hotplug-status; its value in @val.
 *
 * An absent node counts as no script at all, and we connect. libxl writes
 * the node empty in the transaction that creates the backend dir (so it is
 * there before our probe), and toolstacks that run no script write
 * "connected" there, because Linux's netback waits for the node to appear
 * and would otherwise never connect. We would rather not hang a toolstack
 * that writes neither (nothing would ever wake us); the price is that one
 * creating the node only after our InitWait is not waited for.
 */
static enum hotplug hotplug_status(struct vif *v, char *val, size_t size)
{
	int n = read_text(v, "hotplug-status", val, size);

	if (n == -ENOENT)
		return HOTPLUG_NONE;
	if (n < 0) {
		val[0] = '\0'; /* not readable now: the next change of the dir tells */
		return HOTPLUG_UNREADABLE;
	}
	if ((size_t)n == strlen("connected") && strcmp(val, "connected") == 0)
		return HOTPLUG_READY;
	else if ((size_t)n == strlen("error") && strcmp(val, "error") == 0)
		return HOTPLUG_ERROR;
	return HOTPLUG_WAIT;
}

/* The hotplug script failed: refuse the vif, with its reason if it gave one. */
static void hotplug_failed(struct vif *v)
{
	char why[128], msg[200];

	if (read_text(v, "hotplug-error", why, sizeof(why)) <= 0)
		snprintf(why, sizeof(why), "no reason given in hotplug-error");
	snprintf(msg, sizeof(msg), "hotplug script failed: %s", why);
	fatal(v, msg);
}

static int publish_features(struct vif *v)
{
	static const struct xs_util_kv features[] = {
		{ "feature-sg", "1" },
		{ "feature-gso-tcpv4", "1" },
		{ "feature-gso-tcpv6", "1" },
		{ "feature-ipv6-csum-offload", "1" },
		{ "feature-rx-copy", "1" },
		{ "feature-rx-flip", "0" },
		{ "feature-multicast-control", "1" },
		{ "feature-dynamic-multicast-control", "1" },
		{ "feature-split-event-channels", "1" },
		{ "feature-ctrl-ring", "1" },
	};
	struct xs_util u = xsu(v->d);
	char queues[12];
	int rc;

	rc = xs_util_write_keys(&u, v->be_path, features, sizeof(features) / sizeof(features[0]));
	snprintf(queues, sizeof(queues), "%u", v->max_queues);
	if (rc == 0)
		rc = xs_write_str(v->d, v->be_path, "multi-queue-max-queues", queues);
	return rc;
}

static struct vif *find_vif(struct worker *d, unsigned domid, unsigned devid)
{
	for (struct vif *v = d->vifs; v; v = v->next)
		if (v->domid == domid && v->devid == devid)
			return v;
	return NULL;
}

static void read_frontend_path(struct vif *v)
{
	struct xs_util u = xsu(v->d);

	if (xs_util_read_str(&u, v->be_path, "frontend", v->fe_path, sizeof(v->fe_path)) != 0)
		v->fe_path[0] = '\0';
}

static void try_connect(struct vif *v, bool resume);

/*
 * The frontend nodes we watch (token fe:<domid>:<devid>): its state, and
 * request-multicast-control, which Linux lets a frontend flip while connected.
 */
static const char *const fe_watched[] = { "state", "request-multicast-control" };

/* All of them or (0 / -errno) none: a watch left behind would refuse the next probe's (EEXIST). */
static int watch_frontend(struct vif *v, bool on)
{
	struct worker *d = v->d;
	unsigned n = on ? 0 : sizeof(fe_watched) / sizeof(fe_watched[0]);
	int rc = 0;

	for (; on && n < sizeof(fe_watched) / sizeof(fe_watched[0]) && rc == 0; n++) {
		char node[300];

		snprintf(node, sizeof(node), "%s/%s", v->fe_path, fe_watched[n]);
		rc = d->ops->xs_watch(d->xs, node, v->watch_token);
	}
	if (rc)
		n--; /* the one that failed */
	if (on && rc == 0)
		return 0;
	while (n--) {
		char node[300];

		snprintf(node, sizeof(node), "%s/%s", v->fe_path, fe_watched[n]);
		d->ops->xs_unwatch(d->xs, node, v->watch_token);
	}
	return rc;
}

/*
 * The toolstack's `rate` node ("<bytes>,<usec>", libxl's vif rate=...),
 * applied live. Absent is unlimited; a bad value is unlimited with a log
 * line, as Linux's xen_net_read_rate does.
 */
static void read_rate(struct vif *v)
{
	struct xsvalue_rate r = { XSVALUE_RATE_UNLIMITED, 0 };
	char path[160], *val = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/rate", v->be_path);
	rc = v->d->ops->xs_read(v->d->xs, 0, path, &val, &len);
	if (rc == 0 && xsvalue_parse_rate(val, len, &r) != 0)
		log_limited(&v->rl, LOG_LVL_WARN, "vif%u.%u: bad rate '%.40s': no limit", v->domid,
			    v->devid, val);
	free(val);
	if (r.bytes == v->rate_bytes && r.usec == v->rate_usec)
		return;
	if (r.bytes == XSVALUE_RATE_UNLIMITED)
		log_info("vif%u.%u: guest TX not rate-limited", v->domid, v->devid);
	else
		log_info("vif%u.%u: guest TX limited to %llu bytes per %u us (%.1f Mbit/s)",
			 v->domid, v->devid, (unsigned long long)r.bytes, r.usec,
			 (double)r.bytes * 8 / r.usec);
	vif_set_rate(v, r.bytes, r.usec);
}

static void probe(struct worker *d, unsigned domid, unsigned devid)
{
	char dir[128];
	struct vif *v;
	uint32_t mtu, online = 0, be_state = 0, fe_state = 0;
	int rc;

	/* Only a device the toolstack wants: a dir being torn down has online 0. */
	snprintf(dir, sizeof(dir), "%s/%u/%u", d->backend_root, domid, devid);
	if (xs_read_u32(d, dir, "online", &online) != 0 || online != 1)
		return;
	v = vif_create(d, domid, devid);
	if (!v)
		return; /* no TAP yet: the supervisor hands it over, then we come back */
	v->state = XenbusStateInitialising;
	v->online = true;
	read_frontend_path(v);
	if (!v->fe_path[0]) {
		/* The toolstack writes it with the backend dir; come back on the next event. */
		vif_destroy(v);
		return;
	}
	if (xs_read_u32(d, v->be_path, "mtu", &mtu) == 0 && mtu >= 68 && mtu <= TAP_MTU_MAX_SG)
		v->mtu = mtu;
	rc = xs_read_u32(d, v->be_path, "state", &be_state);
	if (rc == 0 && be_state == XenbusStateConnected)
		rc = xs_read_u32(d, v->fe_path, "state", &fe_state);
	if (read_failed(rc)) {
		/* Not readable now: whether to resume is not ours to guess (a fresh
		 * start would write InitWait over a live Connected). Next event. */
		vif_destroy(v);
		return;
	}
	if (rc == 0 && be_state == XenbusStateConnected && fe_state == XenbusStateConnected) {
		rc = watch_frontend(v, true);
		if (rc) {
			log_err("vif%u.%u: cannot watch %s: %s", domid, devid, v->fe_path, strerror(-rc));
			vif_destroy(v);
			return;
		}
		v->next = d->vifs;
		d->vifs = v;
		v->state = XenbusStateConnected; /* as XenStore says: nothing to write */
		try_connect(v, true);
		return;
	}
	/* Watch first: a probe that fails then has written nothing, whose event
	 * would bring us back here at once. */
	rc = watch_frontend(v, true);
	if (rc == 0) {
		rc = publish_features(v);
		if (rc)
			watch_frontend(v, false);
	}
	if (rc) {
		log_err("vif%u.%u: cannot watch the frontend or publish features: %s", domid, devid,
			strerror(-rc));
		vif_destroy(v);
		return;
	}
	v->next = d->vifs;
	d->vifs = v;
	set_state(v, XenbusStateInitWait);
	log_info("vif%u.%u: probed, %s created, waiting for the frontend at %s", domid, devid,
		 v->ifname, v->fe_path);
}

static void remove_vif(struct vif *v)
{
	struct worker *d = v->d;

	for (struct vif **pp = &d->vifs; *pp; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	}
	watch_frontend(v, false);
	log_info("vif%u.%u: removed", v->domid, v->devid);
	worker_vif_gone(d, v);
	vif_destroy(v);
}

/* ctrl-ring-ref and event-channel-ctrl into v->ctrl: 0, or -EINVAL with @why. */
static int read_ctrl_keys(struct vif *v, char *why, size_t why_len)
{
	struct worker *d = v->d;
	int rc_ref = xs_read_u32(d, v->fe_path, "ctrl-ring-ref", &v->ctrl.ref);
	int rc_ev = xs_read_u32(d, v->fe_path, "event-channel-ctrl", &v->ctrl.evtchn);

	v->ctrl.wanted = false;
	if (rc_ref == -ENOENT && rc_ev == -ENOENT)
		return 0;
	if (rc_ref == 0 && rc_ev == 0) {
		v->ctrl.wanted = true;
		return 0;
	}
	if (rc_ref != 0 && rc_ref != -ENOENT)
		snprintf(why, why_len, "bad ctrl-ring-ref");
	else if (rc_ev != 0 && rc_ev != -ENOENT)
		snprintf(why, why_len, "bad event-channel-ctrl");
	else if (rc_ref == 0)
		snprintf(why, why_len, "ctrl-ring-ref without event-channel-ctrl");
	else
		snprintf(why, why_len, "event-channel-ctrl without ctrl-ring-ref");
	return -EINVAL;
}

/*
 * Read the frontend's keys and connect; on bad data, say why and close.
 * @resume: the vif is Connected in XenStore already (a previous worker's).
 */
static void try_connect(struct vif *v, bool resume)
{
	struct worker *d = v->d;
	const char *fe = v->fe_path;
	uint32_t tx_ref[VIF_MAX_QUEUES], rx_ref[VIF_MAX_QUEUES], ev_tx[VIF_MAX_QUEUES],
		ev_rx[VIF_MAX_QUEUES], nq = 1, val;
	bool rx_copy, rx_notify, no_csum, req_mcast, feat_mcast;
	char why[160];
	int rc;

	/* Absent: one queue, its keys in the frontend's own directory. */
	rc = xs_read_u32(d, fe, "multi-queue-num-queues", &nq);
	if (rc == -ENOENT)
		nq = 1;
	else if (rc != 0)
		{ fatal(v, "bad multi-queue-num-queues"); return; }
	if (nq < 1 || nq > v->max_queues) {
		snprintf(why, sizeof(why), "guest requested %u queues, exceeding the maximum of %u",
			 nq, v->max_queues);
		fatal(v, why);
		return;
	}
	rc = xs_read_u32(d, fe, "request-rx-copy", &val);
	rx_copy = rc == 0 && val == 1;
	if (!rx_copy)
		{ fatal(v, "frontend does not request rx-copy (rx-flip is not offered)"); return; }
	if (xs_read_flag(d, fe, "feature-rx-notify", false, &rx_notify) != 0 || !rx_notify)
		{ fatal(v, "frontend lacks feature-rx-notify"); return; }
	for (unsigned i = 0; i < nq; i++) {
		char dir[160];

		/* Linux's layout: one queue flat (count written or not), else queue-N/. */
		if (nq > 1)
			snprintf(dir, sizeof(dir), "%s/queue-%u", fe, i);
		else
			snprintf(dir, sizeof(dir), "%s", fe);
		const char *bad = NULL;

		if (xs_read_u32(d, dir, "tx-ring-ref", &tx_ref[i]) != 0)
			bad = "tx-ring-ref";
		else if (xs_read_u32(d, dir, "rx-ring-ref", &rx_ref[i]) != 0)
			bad = "rx-ring-ref";
		else if (xs_read_u32(d, dir, "event-channel", &ev_tx[i]) == 0)
			ev_rx[i] = ev_tx[i];
		else if (xs_read_u32(d, dir, "event-channel-tx", &ev_tx[i]) != 0 ||
			 xs_read_u32(d, dir, "event-channel-rx", &ev_rx[i]) != 0)
			bad = "event-channel";
		if (bad) {
			if (nq > 1)
				snprintf(why, sizeof(why), "missing or bad queue-%u/%s", i, bad);
			else
				snprintf(why, sizeof(why), "missing or bad %s", bad);
			fatal(v, why);
			return;
		}
	}
	/*
	 * The control ring: both keys or neither. Linux ignores a lone
	 * event-channel-ctrl; we refuse it as well as a lone ring, since either
	 * says the frontend means to use a ring we could not serve.
	 */
	rc = read_ctrl_keys(v, why, sizeof(why));
	if (rc)
		{ fatal(v, why); return; }
	if (xs_read_flag(d, fe, "feature-sg", false, &v->fe.sg) ||
	    xs_read_flag(d, fe, "feature-gso-tcpv4", false, &v->fe.gso_tcpv4) ||
	    xs_read_flag(d, fe, "feature-gso-tcpv6", false, &v->fe.gso_tcpv6) ||
	    xs_read_flag(d, fe, "feature-no-csum-offload", false, &no_csum) ||
	    xs_read_flag(d, fe, "feature-ipv6-csum-offload", false, &v->fe.ipv6_csum) ||
	    xs_read_flag(d, fe, "request-multicast-control", false, &req_mcast) ||
	    xs_read_flag(d, fe, "feature-multicast-control", false, &feat_mcast))
		{ fatal(v, "bad feature value from the frontend"); return; }
	v->fe.csum = !no_csum;
	v->fe.mcast_control = req_mcast || feat_mcast;
	v->nr_mcast = 0;
	if (!v->fe.sg && v->mtu > TAP_MTU_DEFAULT)
		v->mtu = TAP_MTU_DEFAULT;

	v->nr_queues = nq;
	read_rate(v);
	rc = vif_connect(v, tx_ref, rx_ref, ev_tx, ev_rx, resume, why, sizeof(why));
	if (rc)
		{ fatal(v, why); return; }
	/* Not Connected after all: let go of the rings; the next event tries again. */
	if (!set_state(v, XenbusStateConnected))
		vif_disconnect(v);
}

/* Bring one vif in line with its frontend's and the toolstack's nodes. */
static void evaluate(struct vif *v)
{
	struct worker *d = v->d;
	uint32_t fe_state = XenbusStateUnknown, online = 1, own;
	enum hotplug hp = HOTPLUG_READY;
	int rc;

	rc = xs_read_u32(d, v->be_path, "online", &online);
	if (read_failed(rc))
		return; /* says nothing of it: as it is until the next event */
	if (rc)
		online = 0; /* gone or garbage: the toolstack is tearing down */
	v->online = online != 0;
	rc = xs_read_u32(d, v->fe_path, "state", &fe_state);
	if (read_failed(rc))
		return;
	if (rc)
		fe_state = XenbusStateUnknown;
	/*
	 * libxl asks for a close by writing our state node itself, and waits
	 * for Closed there: a vif Closed already answers it again.
	 */
	if (!v->online && xs_read_u32(d, v->be_path, "state", &own) == 0 &&
	    own == XenbusStateClosing) {
		if (v->state != XenbusStateClosed)
			go_state(v, XenbusStateClosed);
		else if (write_state(v, XenbusStateClosed) != 0)
			log_warn("vif%u.%u: cannot write state %d", v->domid, v->devid,
				 XenbusStateClosed);
	}
	/* Once Connected (or resumed so) the hotplug script is behind us. */
	if (v->state != XenbusStateConnected) {
		char val[32];

		hp = hotplug_status(v, val, sizeof(val));
		if (hp == HOTPLUG_UNREADABLE)
			return; /* an "error" there must not be forgotten: next event */
	}
	if (hp == HOTPLUG_ERROR) {
		/* Refused until the toolstack removes it: no frontend state brings it back. */
		if (v->state != XenbusStateClosed)
			hotplug_failed(v);
		if (!v->online && v->state == XenbusStateClosed)
			remove_vif(v);
		return;
	}

	if (v->connected) {
		bool req_mcast, feat_mcast;

		read_rate(v); /* a write of `rate` comes here through the guest-dir watch */
		/* Either name, as at connect (feature- is the older frontends'). */
		if (xs_read_flag(d, v->fe_path, "request-multicast-control", false, &req_mcast) == 0 &&
		    xs_read_flag(d, v->fe_path, "feature-multicast-control", false, &feat_mcast) == 0)
			vif_set_mcast_control(v, req_mcast || feat_mcast);
	}

	switch (fe_state) {
	case XenbusStateInitialising:
		/* A frontend starting over (reboot, restart) while we still hold
		 * its old rings: release them on the way back to InitWait. */
		if (v->state != XenbusStateInitWait && v->online)
			go_state(v, XenbusStateInitWait);
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (v->state == XenbusStateInitWait && !v->broken[0] && hp != HOTPLUG_WAIT)
			try_connect(v, false);
		break;
	case XenbusStateClosing:
		/* Closed is past Closing: walking back through InitWait would
		 * write a state, whose event brings us here again, forever. */
		if (v->state != XenbusStateClosed)
			go_state(v, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
	default:
		if (v->state != XenbusStateInitWait || !v->online)
			go_state(v, XenbusStateClosed);
		break;
	}
	if (!v->online && v->state == XenbusStateClosed)
		remove_vif(v);
}

void xenbus_vif_broken(struct vif *v)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "protocol error: %s%s%s%s", v->broken,
		 v->broken_where[0] ? " (on " : "", v->broken_where, v->broken_where[0] ? ")" : "");
	fatal(v, msg);
}

static void scan(struct worker *d)
{
	char **devs = NULL;
	unsigned ndevs = 0;

	if (d->ops->xs_directory(d->xs, 0, d->guest_dir, &devs, &ndevs) != 0)
		ndevs = 0;
	for (unsigned j = 0; j < ndevs; j++) {
		uint32_t devid;

		if (xsvalue_parse_u32(devs[j], strlen(devs[j]), &devid) != 0 || devid > 0xffff)
			continue;
		if (!find_vif(d, d->guest_domid, devid))
			probe(d, d->guest_domid, devid);
	}
	free(devs);

	/* Re-evaluate everyone: online/state may have changed, dirs may be gone. */
	for (struct vif *v = d->vifs, *next; v; v = next) {
		next = v->next;
		evaluate(v);
	}
}

/*
 * A domain died. If it was one of our frontends, its end of the event
 * channel is no longer connected to ours: close the vif, as a toolstack
 * would after `xl destroy`, without waiting for one.
 */
static void check_released(struct worker *d)
{
	for (struct vif *v = d->vifs, *next; v; v = next) {
		next = v->next;
		int st;

		if (!v->connected)
			continue;
		/* Unknown (no status query here) is not gone: the toolstack will tell. */
		worker_thread_lock(&d->threads[0]);
		st = d->ops->evtchn_status(d->threads[0].evt, (uint32_t)v->queues[0].port_tx, NULL,
					   NULL);
		worker_thread_unlock(&d->threads[0]);
		if (st >= 0 && st != EVTCHNSTAT_interdomain) {
			log_info("vif%u.%u: frontend domain %u is gone", v->domid, v->devid, v->domid);
			go_state(v, XenbusStateClosed);
			evaluate(v);
		}
	}
}

void xenbus_tick(struct worker *d, uint64_t now_ms)
{
	for (struct vif *v = d->vifs; v; v = v->next) {
		char val[32];
		enum hotplug hs;

		if (v->state != XenbusStateInitWait || v->hotplug_checked ||
		    now_ms - v->initwait_ms < XENBUS_HOTPLUG_WARN_MS)
			continue;
		hs = hotplug_status(v, val, sizeof(val));
		if (hs == HOTPLUG_UNREADABLE)
			continue; /* the next tick looks again */
		v->hotplug_checked = true; /* once per InitWait: the answer may still come */
		if (hs == HOTPLUG_WAIT)
			log_warn("vif%u.%u: no answer from the hotplug script in %u s: %s/hotplug-status "
				 "is \"%s\", not \"connected\"; the vif stays in InitWait until it is",
				 v->domid, v->devid, XENBUS_HOTPLUG_WARN_MS / 1000, v->be_path, val);
	}
}

int xenbus_start(struct worker *d)
{
	int rc = d->ops->xs_watch(d->xs, d->guest_dir, GUEST_TOKEN);

	if (rc == 0)
		rc = d->ops->xs_watch(d->xs, "@releaseDomain", RELEASE_TOKEN);
	if (rc == 0)
		scan(d);
	return rc;
}

void xenbus_watch_events(struct worker *d, struct xenbus_events *ev)
{
	if (ev->rescan) {
		scan(d); /* evaluates every vif */
	} else {
		for (struct vif *v = d->vifs, *next; v; v = next) {
			next = v->next;
			if (v->evaluate_due) {
				v->evaluate_due = false;
				evaluate(v);
			}
		}
	}
	if (ev->released)
		check_released(d);
	for (struct vif *v = d->vifs; v; v = v->next)
		v->evaluate_due = false;
	ev->rescan = ev->released = false;
}

void xenbus_note_event(struct worker *d, struct xenbus_events *ev, const char *token)
{
	unsigned domid, devid;

	if (strcmp(token, GUEST_TOKEN) == 0) {
		ev->rescan = true;
	} else if (strcmp(token, RELEASE_TOKEN) == 0) {
		ev->released = true;
	} else if (sscanf(token, "fe:%u:%u", &domid, &devid) == 2) {
		struct vif *v = find_vif(d, domid, devid);

		if (v)
			v->evaluate_due = true;
	}
}

void xenbus_detach(struct worker *d)
{
	while (d->vifs) {
		struct vif *v = d->vifs;

		d->vifs = v->next;
		watch_frontend(v, false);
		vif_detach(v);
		vif_destroy(v);
	}
	d->ops->xs_unwatch(d->xs, d->guest_dir, GUEST_TOKEN);
	d->ops->xs_unwatch(d->xs, "@releaseDomain", RELEASE_TOKEN);
}

void xenbus_stop(struct worker *d)
{
	while (d->vifs) {
		struct vif *v = d->vifs;

		go_state(v, XenbusStateClosed);
		remove_vif(v);
	}
	d->ops->xs_unwatch(d->xs, d->guest_dir, GUEST_TOKEN);
	d->ops->xs_unwatch(d->xs, "@releaseDomain", RELEASE_TOKEN);
}
