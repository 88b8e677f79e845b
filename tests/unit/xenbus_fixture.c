/* SPDX-License-Identifier: MIT */
/* xenbus_fixture.c - worker/xenbus.c over an in-memory XenStore, with stubs (see the header). */
#include "xenbus_fixture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/event_channel.h>
#include <xen/io/xenbus.h>

#include "xsvalue.h"

int (*xbf_inject)(enum xbf_call call, const char *path);
struct xbf_stub xbf_stub;
struct worker xbf_worker;
int xbf_evtchn_stat = EVTCHNSTAT_interdomain;
int xbf_be_writes[XBF_BE_WRITES];
unsigned xbf_nr_be_writes;
int xbf_be_from[XBF_DEVS];
unsigned xbf_be_closes[XBF_DEVS];
unsigned xbf_error_writes;
char xbf_log[8192];

/* ---- the store ------------------------------------------------------------ */

static struct node {
	char path[XBF_PATH];
	char val[XBF_VAL + 1]; /* NUL-terminated, for readers; len says how much is the value */
	size_t len;
	bool used;
} nodes[XBF_NODES];

static struct watch {
	char path[XBF_PATH];
	char token[32];
} watches[XBF_WATCHES];
static unsigned nr_watches;

static char events[XBF_EVENTS][32];
static unsigned nr_events;

/* One open transaction at most (xenbus.c never nests them): its writes, unapplied. */
#define TX_WRITES 32
static struct {
	bool open;
	uint32_t id;
	unsigned n;
	struct node w[TX_WRITES];
} tx;
static uint32_t next_txid = 1;

static struct node *node_find(const char *path)
{
	for (int i = 0; i < XBF_NODES; i++)
		if (nodes[i].used && strcmp(nodes[i].path, path) == 0)
			return &nodes[i];
	return NULL;
}

const char *xbf_node_val(const char *path)
{
	struct node *n = node_find(path);

	return n ? n->val : NULL;
}

/* Is @path @under itself or below it (XenStore watches are recursive)? */
static bool path_under(const char *path, const char *under)
{
	size_t l = strlen(under);

	return strncmp(path, under, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

static void queue_event(const char *token)
{
	if (nr_events == XBF_EVENTS) {
		xbf_fail("more than %u watch events queued", XBF_EVENTS);
		return;
	}
	snprintf(events[nr_events++], sizeof(events[0]), "%s", token);
}

void xbf_fire(const char *path)
{
	for (unsigned i = 0; i < nr_watches; i++)
		if (path_under(path, watches[i].path))
			queue_event(watches[i].token);
}

/* Store @val at @path, without watches. 0, -E2BIG, -ENOSPC. */
static int store(const char *path, const void *val, size_t len)
{
	struct node *n = node_find(path);

	if (strlen(path) >= XBF_PATH || len > XBF_VAL)
		return -E2BIG;
	for (int i = 0; !n && i < XBF_NODES; i++)
		if (!nodes[i].used)
			n = &nodes[i];
	if (!n)
		return -ENOSPC;
	n->used = true;
	snprintf(n->path, sizeof(n->path), "%s", path);
	memcpy(n->val, val, len);
	n->val[len] = '\0';
	n->len = len;
	return 0;
}

static void toolstack_wrote(const char *path, const char *val, size_t len);

int xbf_node_set_len(const char *path, const void *val, size_t len)
{
	int rc = store(path, val, len);

	if (getenv("TEST_XENBUS_VERBOSE") && rc == 0)
		fprintf(stderr, "  caller wrote %s = \"%.*s\"\n", path, (int)len, (const char *)val);
	if (rc == 0) {
		toolstack_wrote(path, val, len);
		xbf_fire(path);
	}
	return rc;
}

int xbf_node_set(const char *path, const char *val)
{
	return xbf_node_set_len(path, val, strlen(val));
}

void xbf_node_rm(const char *path)
{
	if (getenv("TEST_XENBUS_VERBOSE"))
		fprintf(stderr, "  caller removed %s\n", path);
	for (int i = 0; i < XBF_NODES; i++) {
		if (nodes[i].used && path_under(nodes[i].path, path)) {
			toolstack_wrote(nodes[i].path, NULL, 0);
			nodes[i].used = false;
		}
	}
	xbf_fire(path);
}

bool xbf_watched(const char *path)
{
	for (unsigned i = 0; i < nr_watches; i++)
		if (strcmp(watches[i].path, path) == 0)
			return true;
	return false;
}

unsigned xbf_nr_watches(void)
{
	return nr_watches;
}

void xbf_drop_watches(void)
{
	nr_watches = 0;
}

bool xbf_tx_open(void)
{
	return tx.open;
}

unsigned xbf_nr_events(void)
{
	return nr_events;
}

void xbf_drop_events(void)
{
	nr_events = 0;
}

bool xbf_settle(unsigned max_rounds)
{
	static char batch[XBF_EVENTS][32];

	for (unsigned round = 0; round < max_rounds && nr_events; round++) {
		struct xenbus_events ev = { 0 };
		unsigned n = nr_events;

		memcpy(batch, events, n * sizeof(batch[0]));
		nr_events = 0;
		for (unsigned i = 0; i < n; i++) {
			if (getenv("TEST_XENBUS_VERBOSE"))
				fprintf(stderr, "  event %s (round %u)\n", batch[i], round);
			xenbus_note_event(&xbf_worker, &ev, batch[i]);
		}
		xenbus_watch_events(&xbf_worker, &ev);
	}
	return nr_events == 0;
}

/* ---- backend state, as the spec allows it ---------------------------------- */

bool xbf_allowed_by_spec(int from, int to)
{
	static const int allowed[][2] = {
		{ XenbusStateInitialising, XenbusStateInitWait }, /* probe */
		{ XenbusStateClosed, XenbusStateInitWait },       /* frontend starts over */
		{ XenbusStateInitWait, XenbusStateConnected },
		{ XenbusStateInitWait, XenbusStateClosing },
		{ XenbusStateConnected, XenbusStateClosing },
		{ XenbusStateClosing, XenbusStateClosed },
	};

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i][0] == from && allowed[i][1] == to)
			return true;
	return false;
}

void xbf_be_path(char *buf, size_t len, unsigned devid, const char *key)
{
	snprintf(buf, len, GUEST_DIR "/%u%s%s", devid, key ? "/" : "", key ? key : "");
}

void xbf_fe_path(char *buf, size_t len, unsigned devid, const char *key)
{
	snprintf(buf, len, "/local/domain/%u/device/vif/%u%s%s", GUEST, devid, key ? "/" : "",
		 key ? key : "");
}

/*
 * What the toolstack (the caller) last wrote to vif @devid's backend state
 * node since the backend's own last write: a state, or -1 (none, removed,
 * or not a number).
 */
static int toolstack_state[XBF_DEVS];
/*
 * The caller removed vif @devid's backend state node since the backend's
 * last write. The backend then moves on without writing (write_state()
 * skips a node that is gone, as Linux's xenbus_switch_state does), so once
 * the caller writes there again (garbage, or a state), the state the
 * backend moves from is known to nobody, and its next write is not checked.
 */
static bool state_removed[XBF_DEVS];

/* The devid of a backend state node @path, or -1 when it is not one we follow. */
static int state_node_devid(const char *path)
{
	const char *p = path + strlen(GUEST_DIR "/");
	char *end;
	unsigned long devid;

	if (strncmp(path, GUEST_DIR "/", strlen(GUEST_DIR "/")) != 0 || *p < '0' || *p > '9')
		return -1;
	devid = strtoul(p, &end, 10);
	if (strcmp(end, "/state") != 0 || devid >= XBF_DEVS)
		return -1;
	return (int)devid;
}

/* The caller wrote @val (@len bytes; NULL: removed) to @path: note it if a state node. */
static void toolstack_wrote(const char *path, const char *val, size_t len)
{
	int devid = state_node_devid(path);
	uint32_t st;

	if (devid < 0)
		return;
	toolstack_state[devid] = val && xsvalue_parse_u32(val, len, &st) == 0 && st <= 8 ? (int)st
											: -1;
	if (!val)
		state_removed[devid] = true;
}

/* The backend wrote @val to @path (applied now): check where, and the state table. */
static void backend_wrote(const char *path, const char *val)
{
	int devid = state_node_devid(path);
	int to = atoi(val), ts;

	if (getenv("TEST_XENBUS_VERBOSE"))
		fprintf(stderr, "  backend wrote %s = \"%s\"\n", path, val);

	if (!path_under(path, GUEST_DIR) && !path_under(path, ERROR_DIR))
		xbf_fail("backend wrote %s (\"%s\"): outside its dirs", path, val);
	if (path_under(path, ERROR_DIR))
		xbf_error_writes++;
	if (devid < 0)
		return;
	if (devid == 0) {
		if (xbf_nr_be_writes < XBF_BE_WRITES)
			xbf_be_writes[xbf_nr_be_writes] = to;
		xbf_nr_be_writes++;
	}
	/* From our last write, or from what the toolstack wrote over it since (or the same). */
	ts = toolstack_state[devid];
	if (state_removed[devid]) {
		/* Removed, then written again: the next write is not checked (above). */
		xbf_be_from[devid] = ts = to;
	}
	if (to != xbf_be_from[devid] && to != ts && !xbf_allowed_by_spec(xbf_be_from[devid], to) &&
	    (ts < 0 || !xbf_allowed_by_spec(ts, to)))
		xbf_fail("vif%u.%d: backend wrote state %d -> %d", GUEST, devid, xbf_be_from[devid],
			 to);
	if (to != xbf_be_from[devid] && to != ts && !xenbus_state_allowed(xbf_be_from[devid], to) &&
	    (ts < 0 || !xenbus_state_allowed(ts, to)))
		xbf_fail("vif%u.%d: backend wrote state %d -> %d, refused by its own table", GUEST,
			 devid, xbf_be_from[devid], to);
	xbf_be_from[devid] = to;
	toolstack_state[devid] = -1;
	state_removed[devid] = false;
	if (to == XenbusStateClosing)
		xbf_be_closes[devid]++;
}

/* ---- the fake ops table (what the backend calls) ---------------------------- */

static int inject(enum xbf_call call, const char *path)
{
	return xbf_inject ? xbf_inject(call, path) : 0;
}

static int fake_xs_read(struct platform_xs *x, uint32_t txid, const char *path, char **val,
			size_t *len)
{
	struct node *n = NULL;
	int rc = inject(XBF_CALL_READ, path);

	(void)x;
	if (rc)
		return rc;
	/* A transaction reads its own writes first. */
	for (unsigned i = 0; tx.open && txid == tx.id && i < tx.n && !n; i++)
		if (strcmp(tx.w[tx.n - 1 - i].path, path) == 0)
			n = &tx.w[tx.n - 1 - i];
	if (!n)
		n = node_find(path);
	if (!n)
		return -ENOENT;
	*val = malloc(n->len + 1);
	if (!*val)
		return -ENOMEM;
	memcpy(*val, n->val, n->len + 1);
	*len = n->len;
	return 0;
}

static int fake_xs_write(struct platform_xs *x, uint32_t txid, const char *path, const void *val,
			 size_t len)
{
	int rc = inject(XBF_CALL_WRITE, path);

	(void)x;
	if (rc)
		return rc;
	if (strlen(path) >= XBF_PATH || len > XBF_VAL)
		return -E2BIG;
	if (txid) {
		struct node *w;

		if (!tx.open || txid != tx.id)
			return -ESRCH;
		if (tx.n == TX_WRITES)
			return -ENOSPC;
		w = &tx.w[tx.n++];
		snprintf(w->path, sizeof(w->path), "%s", path);
		memcpy(w->val, val, len);
		w->val[len] = '\0';
		w->len = len;
		return 0;
	}
	rc = store(path, val, len);
	if (rc)
		return rc;
	backend_wrote(path, node_find(path)->val);
	xbf_fire(path);
	return 0;
}

/* The names of @path's children, in one allocation as the platform hands them over. */
static int fake_xs_directory(struct platform_xs *x, uint32_t txid, const char *path, char ***names,
			     unsigned *n)
{
	static char kids[XBF_NODES][XBF_PATH];
	unsigned nk = 0;
	size_t pl = strlen(path), bytes = 0;
	char **out, *s;
	int rc = inject(XBF_CALL_DIRECTORY, path);

	(void)x;
	(void)txid;
	if (rc)
		return rc;
	for (int i = 0; i < XBF_NODES; i++) {
		const char *p = nodes[i].path, *end;
		bool seen = false;

		if (!nodes[i].used || strncmp(p, path, pl) != 0 || p[pl] != '/')
			continue;
		p += pl + 1;
		end = strchr(p, '/');
		if (!end)
			end = p + strlen(p);
		for (unsigned k = 0; k < nk && !seen; k++)
			seen = strlen(kids[k]) == (size_t)(end - p) &&
			       strncmp(kids[k], p, (size_t)(end - p)) == 0;
		if (seen)
			continue;
		snprintf(kids[nk], sizeof(kids[nk]), "%.*s", (int)(end - p), p);
		bytes += strlen(kids[nk]) + 1;
		nk++;
	}
	if (nk == 0 && !node_find(path))
		return -ENOENT;
	out = malloc(nk * sizeof(*out) + bytes + 1);
	if (!out)
		return -ENOMEM;
	s = (char *)(out + nk);
	for (unsigned k = 0; k < nk; k++) {
		out[k] = s;
		s = stpcpy(s, kids[k]) + 1;
	}
	*names = out;
	*n = nk;
	return 0;
}

static int fake_xs_watch(struct platform_xs *x, const char *path, const char *token)
{
	int rc = inject(XBF_CALL_WATCH, path);

	(void)x;
	if (rc)
		return rc;
	for (unsigned i = 0; i < nr_watches; i++)
		if (strcmp(watches[i].path, path) == 0 && strcmp(watches[i].token, token) == 0)
			return -EEXIST; /* as xenstored answers the same watch twice */
	if (nr_watches == XBF_WATCHES || strlen(path) >= XBF_PATH)
		return -E2BIG;
	snprintf(watches[nr_watches].path, sizeof(watches[0].path), "%s", path);
	snprintf(watches[nr_watches].token, sizeof(watches[0].token), "%s", token);
	nr_watches++;
	queue_event(token); /* xenstored fires a new watch once */
	return 0;
}

static int fake_xs_unwatch(struct platform_xs *x, const char *path, const char *token)
{
	(void)x;
	for (unsigned i = 0; i < nr_watches; i++) {
		if (strcmp(watches[i].path, path) == 0 && strcmp(watches[i].token, token) == 0) {
			watches[i] = watches[--nr_watches];
			return 0;
		}
	}
	xbf_fail("unwatch of %s (%s), never watched", path, token);
	return -ENOENT;
}

static unsigned nodes_free(void)
{
	unsigned n = 0;

	for (int i = 0; i < XBF_NODES; i++)
		n += !nodes[i].used;
	return n;
}

/* Nodes the open transaction's writes would create (each path once). */
static unsigned tx_new_nodes(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tx.n; i++) {
		bool again = node_find(tx.w[i].path) != NULL;

		for (unsigned k = 0; k < i && !again; k++)
			again = strcmp(tx.w[k].path, tx.w[i].path) == 0;
		n += !again;
	}
	return n;
}

static int fake_xs_tx_start(struct platform_xs *x, uint32_t *txid)
{
	int rc = inject(XBF_CALL_TX_START, NULL);

	(void)x;
	if (rc)
		return rc;
	if (tx.open) {
		xbf_fail("a transaction started inside another");
		return -EBUSY;
	}
	tx.open = true;
	tx.id = next_txid++;
	tx.n = 0;
	*txid = tx.id;
	return 0;
}

static int fake_xs_tx_end(struct platform_xs *x, uint32_t txid, bool commit)
{
	int rc;

	(void)x;
	if (!tx.open || txid != tx.id) {
		xbf_fail("end of transaction %u, not open", txid);
		return -ESRCH;
	}
	tx.open = false;
	if (!commit)
		return 0;
	rc = inject(XBF_CALL_TX_COMMIT, NULL);
	if (rc)
		return rc; /* -EAGAIN: a conflict, nothing applied */
	if (nodes_free() < tx_new_nodes())
		return -ENOSPC; /* all or nothing, as a quota refuses a commit */
	for (unsigned i = 0; i < tx.n; i++) {
		store(tx.w[i].path, tx.w[i].val, tx.w[i].len); /* fits: counted above */
		backend_wrote(tx.w[i].path, tx.w[i].val);
		xbf_fire(tx.w[i].path);
	}
	return 0;
}

static int fake_evtchn_status(struct platform_evtchn *e, uint32_t port, uint16_t *remote_domid,
			      uint32_t *remote_port)
{
	(void)e;
	(void)port;
	(void)remote_domid;
	(void)remote_port;
	return xbf_evtchn_stat;
}

static const struct platform_ops fake_ops = {
	.name = "fake",
	.xs_read = fake_xs_read,
	.xs_write = fake_xs_write,
	.xs_directory = fake_xs_directory,
	.xs_watch = fake_xs_watch,
	.xs_unwatch = fake_xs_unwatch,
	.xs_transaction_start = fake_xs_tx_start,
	.xs_transaction_end = fake_xs_tx_end,
	.evtchn_status = fake_evtchn_status,
};

/* ---- stubs: the data path, the worker's glue, the log ----------------------- */

/* A strict u32 of @path, as the backend reads it; false if absent or bad. */
static bool node_u32(const char *path, uint32_t *out)
{
	struct node *n = node_find(path);

	return n && xsvalue_parse_u32(n->val, n->len, out) == 0;
}

/*
 * The state a vif's writes start from: probe resumes one that XenStore and
 * its frontend both say is Connected (xenbus.h), else starts it from
 * Initialising. Read from the nodes, as probe reads them.
 */
static int probe_state(unsigned devid)
{
	char path[XBF_VAL + sizeof("/state")];
	struct node *fe;
	uint32_t be_st, fe_st;

	xbf_be_path(path, sizeof(path), devid, "state");
	if (!node_u32(path, &be_st) || be_st != XenbusStateConnected)
		return XenbusStateInitialising;
	xbf_be_path(path, sizeof(path), devid, "frontend");
	fe = node_find(path);
	if (!fe || fe->len == 0 || fe->len + sizeof("/state") > XBF_PATH ||
	    memchr(fe->val, '\0', fe->len))
		return XenbusStateInitialising;
	snprintf(path, sizeof(path), "%s/state", fe->val);
	if (!node_u32(path, &fe_st) || fe_st != XenbusStateConnected)
		return XenbusStateInitialising;
	return XenbusStateConnected;
}

struct vif *vif_create(struct worker *d, unsigned domid, unsigned devid)
{
	struct vif *v;

	if (xbf_stub.no_tap) {
		errno = ENOENT;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	xbf_stub.creates++;
	v->d = d;
	v->domid = domid;
	v->devid = devid;
	v->mtu = TAP_MTU_DEFAULT;
	v->nr_queues = 1;
	v->max_queues = d->max_queues ? d->max_queues : VIF_MAX_QUEUES;
	v->rate_bytes = UINT64_MAX;
	snprintf(v->be_path, sizeof(v->be_path), "%s/%u/%u", d->backend_root, domid, devid);
	snprintf(v->watch_token, sizeof(v->watch_token), "fe:%u:%u", domid, devid);
	snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", domid, devid);
	v->queues[0].port_tx = v->queues[0].port_rx = -1;
	if (domid == GUEST && devid < XBF_DEVS)
		xbf_be_from[devid] = probe_state(devid);
	return v;
}

void vif_disconnect(struct vif *v)
{
	if (!v->connected)
		return;
	xbf_stub.disconnects++;
	v->connected = false;
}

void vif_detach(struct vif *v)
{
	if (!v->connected)
		return;
	xbf_stub.detaches++;
	v->connected = false;
}

void vif_destroy(struct vif *v)
{
	xbf_stub.destroys++;
	vif_disconnect(v);
	free(v);
}

/* The hotplug script has answered (or there is none), as xenbus.c waits for. */
static bool hotplug_answered(const struct vif *v)
{
	char path[XBF_PATH];
	const char *val;

	snprintf(path, sizeof(path), "%s/hotplug-status", v->be_path);
	val = xbf_node_val(path);
	return !val || strcmp(val, "connected") == 0;
}

int vif_connect(struct vif *v, const uint32_t *tx_ref, const uint32_t *rx_ref,
		const uint32_t *evtchn_tx, const uint32_t *evtchn_rx, bool resume, char *why,
		size_t why_len)
{
	char path[XBF_PATH];
	uint32_t fe_st = XenbusStateUnknown;

	xbf_stub.connects++;
	if (v->connected)
		xbf_fail("vif%u.%u: connected twice", v->domid, v->devid);
	if (v->nr_queues < 1 || v->nr_queues > v->max_queues)
		xbf_fail("vif%u.%u: connected with %u queues of %u", v->domid, v->devid,
			 v->nr_queues, v->max_queues);
	snprintf(path, sizeof(path), "%s/state", v->fe_path);
	if (!resume && (!node_u32(path, &fe_st) || (fe_st != XenbusStateInitialised &&
						     fe_st != XenbusStateConnected)))
		xbf_fail("vif%u.%u: connected with the frontend in state %u", v->domid, v->devid,
			 fe_st);
	if (!resume && !hotplug_answered(v))
		xbf_fail("vif%u.%u: connected before the hotplug script answered", v->domid,
			 v->devid);
	xbf_stub.tx_ref = tx_ref[0];
	xbf_stub.rx_ref = rx_ref[0];
	xbf_stub.ev_tx = evtchn_tx[0];
	xbf_stub.ev_rx = evtchn_rx[0];
	xbf_stub.nr_queues = v->nr_queues;
	xbf_stub.resume = resume;
	xbf_stub.ctrl = v->ctrl.wanted;
	xbf_stub.ctrl_ref = v->ctrl.ref;
	xbf_stub.ctrl_evtchn = v->ctrl.evtchn;
	if (xbf_stub.connect_rc) {
		snprintf(why, why_len, "%s", xbf_stub.connect_why ? xbf_stub.connect_why : "");
		return xbf_stub.connect_rc;
	}
	v->connected = true;
	v->queues[0].port_tx = v->queues[0].port_rx = 40;
	return 0;
}

void vif_set_rate(struct vif *v, uint64_t bytes, uint32_t usec)
{
	v->rate_bytes = bytes;
	v->rate_usec = usec;
}

void vif_set_mcast_control(struct vif *v, bool on)
{
	v->fe.mcast_control = on;
}

void worker_thread_lock(struct worker_thread *t)
{
	(void)t;
}

void worker_thread_unlock(struct worker_thread *t)
{
	(void)t;
}

void worker_vif_gone(struct worker *d, const struct vif *v)
{
	(void)d;
	(void)v;
	xbf_stub.gone++;
}

uint64_t worker_now_ms(void)
{
	return xbf_stub.now_ms;
}

void log_init(const char *prog, enum log_level max_level)
{
	(void)prog;
	(void)max_level;
}

__attribute__((format(printf, 2, 0)))
static void log_append(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	size_t first = strlen(xbf_log), used = first;

	if (used + 1 >= sizeof(xbf_log))
		return;
	used += (size_t)snprintf(xbf_log + used, sizeof(xbf_log) - used, "%s: ",
				 lvl <= LOG_LVL_DEBUG ? names[lvl] : "?");
	if (used + 1 >= sizeof(xbf_log))
		return;
	used += (size_t)vsnprintf(xbf_log + used, sizeof(xbf_log) - used, fmt, ap);
	if (used + 1 < sizeof(xbf_log))
		strcat(xbf_log, "\n");
	if (getenv("TEST_XENBUS_VERBOSE"))
		fputs(xbf_log + first, stderr);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_append(lvl, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_ratelimit *rl, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	(void)rl;
	va_start(ap, fmt);
	log_append(lvl, fmt, ap);
	va_end(ap);
}

unsigned xbf_log_count(const char *needle)
{
	unsigned n = 0;

	for (const char *p = xbf_log; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- the toolstack and the frontend ----------------------------------------- */

/* Write @key of vif @devid's backend (@be) or frontend dir; keep the first error in *@rc. */
static void set_key(int *rc, bool be, unsigned devid, const char *key, const char *val)
{
	char path[XBF_PATH];
	int r;

	if (be)
		xbf_be_path(path, sizeof(path), devid, key);
	else
		xbf_fe_path(path, sizeof(path), devid, key);
	r = xbf_node_set(path, val);
	if (*rc == 0)
		*rc = r;
}

int xbf_toolstack_add(unsigned devid)
{
	char be[XBF_PATH], fe[XBF_PATH], id[12], mac[24];
	int rc = 0;

	xbf_be_path(be, sizeof(be), devid, NULL);
	xbf_fe_path(fe, sizeof(fe), devid, NULL);
	snprintf(id, sizeof(id), "%u", devid);
	snprintf(mac, sizeof(mac), "00:16:3e:00:%02x:%02x", GUEST, devid);
	set_key(&rc, false, devid, "backend", be);
	set_key(&rc, false, devid, "backend-id", "0");
	set_key(&rc, false, devid, "state", "1");
	set_key(&rc, false, devid, "handle", id);
	set_key(&rc, false, devid, "mac", mac);
	set_key(&rc, true, devid, "frontend", fe);
	set_key(&rc, true, devid, "frontend-id", "7");
	set_key(&rc, true, devid, "online", "1");
	set_key(&rc, true, devid, "state", "1");
	set_key(&rc, true, devid, "handle", id);
	set_key(&rc, true, devid, "mac", mac);
	set_key(&rc, true, devid, "mtu", "1500");
	set_key(&rc, true, devid, "type", "vif");
	set_key(&rc, true, devid, "hotplug-status", "");
	return rc;
}

int xbf_toolstack_remove(unsigned devid)
{
	int rc = 0;

	set_key(&rc, true, devid, "online", "0");
	set_key(&rc, true, devid, "state", "5");
	return rc;
}

int xbf_frontend_keys(unsigned devid)
{
	int rc = 0;

	set_key(&rc, false, devid, "tx-ring-ref", "8");
	set_key(&rc, false, devid, "rx-ring-ref", "9");
	set_key(&rc, false, devid, "event-channel-tx", "10");
	set_key(&rc, false, devid, "event-channel-rx", "11");
	set_key(&rc, false, devid, "request-rx-copy", "1");
	set_key(&rc, false, devid, "feature-rx-notify", "1");
	set_key(&rc, false, devid, "feature-sg", "1");
	set_key(&rc, false, devid, "feature-gso-tcpv4", "1");
	set_key(&rc, false, devid, "feature-gso-tcpv6", "1");
	set_key(&rc, false, devid, "feature-ipv6-csum-offload", "1");
	set_key(&rc, false, devid, "feature-multicast-control", "1");
	return rc;
}

void xbf_reset(void)
{
	memset(nodes, 0, sizeof(nodes));
	nr_watches = nr_events = 0;
	memset(&tx, 0, sizeof(tx));
	xbf_inject = NULL;
	memset(&xbf_stub, 0, sizeof(xbf_stub));
	xbf_stub.now_ms = 1000000;
	xbf_evtchn_stat = EVTCHNSTAT_interdomain;
	xbf_log[0] = '\0';
	for (unsigned i = 0; i < XBF_DEVS; i++) {
		xbf_be_from[i] = XenbusStateInitialising;
		toolstack_state[i] = -1;
		state_removed[i] = false;
	}
	xbf_nr_be_writes = 0;
	memset(xbf_be_closes, 0, sizeof(xbf_be_closes));
	xbf_error_writes = 0;
	memset(&xbf_worker, 0, sizeof(xbf_worker));
	xbf_worker.ops = &fake_ops;
	xbf_worker.self_domid = 0;
	xbf_worker.guest_domid = GUEST;
	snprintf(xbf_worker.backend_root, sizeof(xbf_worker.backend_root),
		 "/local/domain/0/backend/vif");
	snprintf(xbf_worker.guest_dir, sizeof(xbf_worker.guest_dir), "%s/%u",
		 xbf_worker.backend_root, GUEST);
}
