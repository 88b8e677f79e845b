/* SPDX-License-Identifier: MIT */
/*
 * test_xenbus.c - the backend's XenBus state machine (worker/xenbus.c)
 * driven without I/O: an in-memory XenStore with watches behind a fake ops
 * table, the data path (vif_*) and the worker's glue (worker_*) stubbed.
 *
 * Each test plays the toolstack (backend dir, online, hotplug-status) and
 * the frontend (its keys and state) by writing nodes; a write queues the
 * watch events a real XenStore would send (recursive watches, one event at
 * registration too, the backend's own writes included), and settle() hands
 * them to xenbus_note_event() / xenbus_watch_events() as main.c does, until
 * none are left. Every state the backend writes is checked against the
 * transition table written down here, independently of the code's.
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

#include <xen/event_channel.h>
#include <xen/io/xenbus.h>

#include "xenbus.h"

#define GUEST 7u
#define GUEST_DIR "/local/domain/0/backend/vif/7"
#define BE GUEST_DIR "/0"
#define FE "/local/domain/7/device/vif/0"
#define ERROR_NODE "/local/domain/0/error/backend/vif/7/0/error"

/* --- an in-memory XenStore with watches ------------------------------------ */

#define MAX_NODES 128
#define MAX_WATCHES 16
#define MAX_EVENTS 256

static struct node {
	char path[160];
	char val[256];
	bool used;
} nodes[MAX_NODES];

static struct watch {
	char path[160];
	char token[32];
} watches[MAX_WATCHES];
static unsigned nr_watches;

static struct event {
	char token[32];
} events[MAX_EVENTS];
static unsigned nr_events;

static struct node *node_find(const char *path)
{
	for (int i = 0; i < MAX_NODES; i++)
		if (nodes[i].used && strcmp(nodes[i].path, path) == 0)
			return &nodes[i];
	return NULL;
}

static const char *node_val(const char *path)
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
	assert_true(nr_events < MAX_EVENTS);
	snprintf(events[nr_events++].token, sizeof(events[0].token), "%s", token);
}

/* What a change of @path makes XenStore send. */
static void fire(const char *path)
{
	for (unsigned i = 0; i < nr_watches; i++)
		if (path_under(path, watches[i].path) || strcmp(path, watches[i].path) == 0)
			queue_event(watches[i].token);
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
	fire(path);
}

/* Remove @path and everything below it. */
static void node_rm(const char *path)
{
	for (int i = 0; i < MAX_NODES; i++)
		if (nodes[i].used && path_under(nodes[i].path, path))
			nodes[i].used = false;
	fire(path);
}

/* The backend's writes of its state node: each a transition of the table below. */
static int be_from;           /* the backend's last state, as it wrote it */
static int be_writes[32];
static unsigned nr_be_writes;

static bool allowed_by_spec(int from, int to);

static void note_backend_state(const char *val)
{
	int to = atoi(val);

	assert_true(nr_be_writes < sizeof(be_writes) / sizeof(be_writes[0]));
	be_writes[nr_be_writes++] = to;
	if (to != be_from && !allowed_by_spec(be_from, to))
		fail_msg("backend wrote state %d -> %d", be_from, to);
	be_from = to;
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
	char buf[256];

	(void)x;
	(void)txid;
	assert_true(len < sizeof(buf));
	memcpy(buf, val, len);
	buf[len] = '\0';
	if (strcmp(path, BE "/state") == 0)
		note_backend_state(buf);
	node_set(path, buf);
	return 0;
}

/* The names of @path's children, in one allocation as the platform hands them over. */
static int fake_xs_directory(struct platform_xs *x, uint32_t txid, const char *path, char ***names,
			     unsigned *n)
{
	char kids[MAX_NODES][160];
	unsigned nk = 0;
	size_t pl = strlen(path), bytes = 0;
	char **out, *s;

	(void)x;
	(void)txid;
	for (int i = 0; i < MAX_NODES; i++) {
		const char *p = nodes[i].path, *end;
		bool seen = false;

		if (!nodes[i].used || strncmp(p, path, pl) != 0 || p[pl] != '/')
			continue;
		p += pl + 1;
		end = strchr(p, '/');
		if (!end)
			end = p + strlen(p);
		for (unsigned k = 0; k < nk && !seen; k++)
			seen = strlen(kids[k]) == (size_t)(end - p) && strncmp(kids[k], p, (size_t)(end - p)) == 0;
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
	(void)x;
	assert_true(nr_watches < MAX_WATCHES);
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
	fail_msg("unwatch of %s (%s), never watched", path, token);
	return -ENOENT;
}

static bool watched(const char *path)
{
	for (unsigned i = 0; i < nr_watches; i++)
		if (strcmp(watches[i].path, path) == 0)
			return true;
	return false;
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

/* What evtchn_status says of a bound port: the frontend's domain alive or not. */
static int evtchn_stat = EVTCHNSTAT_interdomain;

static int fake_evtchn_status(struct platform_evtchn *e, uint32_t port, uint16_t *remote_domid,
			      uint32_t *remote_port)
{
	(void)e;
	(void)port;
	(void)remote_domid;
	(void)remote_port;
	return evtchn_stat;
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

/* --- stubs: the data path, the worker's glue, the log ---------------------- */

static struct {
	unsigned creates, destroys, connects, disconnects, detaches, gone;
	bool no_tap;            /* vif_create: the supervisor has not handed it over */
	int connect_rc;         /* vif_connect's answer */
	const char *connect_why;
	uint32_t tx_ref, rx_ref, ev_tx, ev_rx;
	bool resume;
	bool ctrl;              /* vif_connect saw control ring keys: */
	uint32_t ctrl_ref, ctrl_evtchn;
	uint64_t now_ms;
} stub;

struct vif *vif_create(struct worker *d, unsigned domid, unsigned devid)
{
	struct vif *v;

	if (stub.no_tap) {
		errno = ENOENT;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	assert_non_null(v);
	stub.creates++;
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
	return v;
}

void vif_disconnect(struct vif *v)
{
	if (!v->connected)
		return;
	stub.disconnects++;
	v->connected = false;
}

void vif_detach(struct vif *v)
{
	if (!v->connected)
		return;
	stub.detaches++;
	v->connected = false;
}

void vif_destroy(struct vif *v)
{
	stub.destroys++;
	vif_disconnect(v);
	free(v);
}

int vif_connect(struct vif *v, const uint32_t *tx_ref, const uint32_t *rx_ref,
		const uint32_t *evtchn_tx, const uint32_t *evtchn_rx, bool resume, char *why,
		size_t why_len)
{
	stub.connects++;
	stub.tx_ref = tx_ref[0];
	stub.rx_ref = rx_ref[0];
	stub.ev_tx = evtchn_tx[0];
	stub.ev_rx = evtchn_rx[0];
	stub.resume = resume;
	stub.ctrl = v->ctrl.wanted;
	stub.ctrl_ref = v->ctrl.ref;
	stub.ctrl_evtchn = v->ctrl.evtchn;
	if (stub.connect_rc) {
		snprintf(why, why_len, "%s", stub.connect_why);
		return stub.connect_rc;
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
	stub.gone++;
}

uint64_t worker_now_ms(void)
{
	return stub.now_ms;
}

/* Every line logged in this test, for the warnings it must (not) give. */
static char logbuf[8192];

void log_init(const char *prog, enum log_level max_level)
{
	(void)prog;
	(void)max_level;
}

__attribute__((format(printf, 2, 0)))
static void log_append(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	size_t first = strlen(logbuf), used = first;

	if (used + 1 >= sizeof(logbuf))
		return;
	used += (size_t)snprintf(logbuf + used, sizeof(logbuf) - used, "%s: ", names[lvl]);
	if (used + 1 >= sizeof(logbuf))
		return;
	used += (size_t)vsnprintf(logbuf + used, sizeof(logbuf) - used, fmt, ap);
	if (used + 1 < sizeof(logbuf))
		strcat(logbuf, "\n");
	if (getenv("TEST_XENBUS_VERBOSE"))
		fputs(logbuf + first, stderr);
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

static unsigned log_count(const char *needle)
{
	unsigned n = 0;

	for (const char *p = logbuf; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* --- the transitions xenbus.h writes down, as this test reads them --------- */

static bool allowed_by_spec(int from, int to)
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

/* --- the worker, the toolstack and the frontend ------------------------------ */

static struct worker d;

/* Hand the queued watch events to xenbus.c, as main.c's loop would, until none are left. */
static void settle(void)
{
	for (int round = 0; round < 8 && nr_events; round++) {
		struct xenbus_events ev = { 0 };
		struct event batch[MAX_EVENTS];
		unsigned n = nr_events;

		memcpy(batch, events, n * sizeof(batch[0]));
		nr_events = 0;
		for (unsigned i = 0; i < n; i++)
			xenbus_note_event(&d, &ev, batch[i].token);
		xenbus_watch_events(&d, &ev);
	}
	/* The backend's own writes must not keep it busy. */
	assert_int_equal(nr_events, 0);
}

static int be_state(void)
{
	const char *v = node_val(BE "/state");

	assert_non_null(v);
	return atoi(v);
}

static struct vif *the_vif(void)
{
	assert_non_null(d.vifs);
	assert_null(d.vifs->next);
	return d.vifs;
}

/* What libxl writes for vif = [ '...' ] (xnb-sim-vif add), hotplug-status empty. */
static void toolstack_add(void)
{
	node_set(FE "/backend", BE);
	node_set(FE "/backend-id", "0");
	node_set(FE "/state", "1");
	node_set(FE "/handle", "0");
	node_set(FE "/mac", "00:16:3e:00:07:00");
	node_set(BE "/frontend", FE);
	node_set(BE "/frontend-id", "7");
	node_set(BE "/online", "1");
	node_set(BE "/state", "1");
	node_set(BE "/handle", "0");
	node_set(BE "/mac", "00:16:3e:00:07:00");
	node_set(BE "/mtu", "1500");
	node_set(BE "/type", "vif");
	node_set(BE "/hotplug-status", "");
}

/* What xl destroy / network-detach does: online 0, our state Closing. */
static void toolstack_remove(void)
{
	node_set(BE "/online", "0");
	node_set(BE "/state", "5");
	settle();
}

static void hotplug(const char *status)
{
	node_set(BE "/hotplug-status", status);
	settle();
}

/* A netfront's keys for one queue, split event channels, the usual features. */
static void frontend_keys(void)
{
	node_set(FE "/tx-ring-ref", "8");
	node_set(FE "/rx-ring-ref", "9");
	node_set(FE "/event-channel-tx", "10");
	node_set(FE "/event-channel-rx", "11");
	node_set(FE "/request-rx-copy", "1");
	node_set(FE "/feature-rx-notify", "1");
	node_set(FE "/feature-sg", "1");
	node_set(FE "/feature-gso-tcpv4", "1");
	node_set(FE "/feature-gso-tcpv6", "1");
	node_set(FE "/feature-ipv6-csum-offload", "1");
	node_set(FE "/feature-multicast-control", "1");
}

static void frontend(int state)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", state);
	node_set(FE "/state", v);
	settle();
}

static void reset(void)
{
	memset(nodes, 0, sizeof(nodes));
	nr_watches = nr_events = 0;
	memset(&stub, 0, sizeof(stub));
	stub.now_ms = 1000000;
	evtchn_stat = EVTCHNSTAT_interdomain;
	logbuf[0] = '\0';
	be_from = XenbusStateInitialising;
	nr_be_writes = 0;
	memset(&d, 0, sizeof(d));
	d.ops = &fake_ops;
	d.self_domid = 0;
	d.guest_domid = GUEST;
	snprintf(d.backend_root, sizeof(d.backend_root), "/local/domain/0/backend/vif");
	snprintf(d.guest_dir, sizeof(d.guest_dir), "%s/%u", d.backend_root, GUEST);
}

static void start(void)
{
	assert_int_equal(xenbus_start(&d), 0);
	settle();
}

/* A vif added, probed, and InitWait. */
static void start_initwait(void)
{
	toolstack_add();
	start();
	assert_int_equal(be_state(), XenbusStateInitWait);
}

/* ... and Connected: frontend keys and state, the hotplug script's answer. */
static void start_connected(void)
{
	start_initwait();
	frontend_keys();
	frontend(XenbusStateConnected);
	hotplug("connected");
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_true(the_vif()->connected);
}

static int setup(void **st)
{
	(void)st;
	reset();
	return 0;
}

/* Whatever a test leaves: released without a word to XenStore (unless stopped already). */
static int teardown(void **st)
{
	(void)st;
	if (watched(GUEST_DIR))
		xenbus_detach(&d);
	assert_null(d.vifs);
	assert_int_equal(stub.destroys, stub.creates);
	return 0;
}

static void assert_writes(const int *want, unsigned n)
{
	for (unsigned i = 0; i < n && i < nr_be_writes; i++)
		if (be_writes[i] != want[i])
			fail_msg("backend state write %u: %d, expected %d", i, be_writes[i], want[i]);
	assert_int_equal(nr_be_writes, n);
}

#define ASSERT_WRITES(...)                                                       \
	do {                                                                     \
		static const int want_[] = { __VA_ARGS__ };                      \
		assert_writes(want_, sizeof(want_) / sizeof(want_[0]));          \
	} while (0)

/* --- the table ----------------------------------------------------------------- */

static void state_table_is_the_documented_one(void **st)
{
	(void)st;
	for (int from = XenbusStateUnknown; from <= XenbusStateReconfigured; from++)
		for (int to = XenbusStateUnknown; to <= XenbusStateReconfigured; to++)
			if (xenbus_state_allowed(from, to) != allowed_by_spec(from, to))
				fail_msg("xenbus_state_allowed(%d, %d) = %d", from, to,
					 xenbus_state_allowed(from, to));
}

/* --- probe, connect, hotplug --------------------------------------------------- */

static void probe_publishes_features_and_waits(void **st)
{
	(void)st;
	start_initwait();
	ASSERT_WRITES(XenbusStateInitWait);
	assert_string_equal(node_val(BE "/feature-rx-copy"), "1");
	assert_string_equal(node_val(BE "/feature-sg"), "1");
	assert_string_equal(node_val(BE "/feature-split-event-channels"), "1");
	assert_string_equal(node_val(BE "/feature-ctrl-ring"), "1");
	assert_true(watched(GUEST_DIR));
	assert_true(watched(FE "/state"));
	assert_int_equal(stub.connects, 0);
	/* A frontend still Initialising: nothing more. */
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(stub.connects, 0);
}

static void probe_waits_for_the_tap(void **st)
{
	(void)st;
	stub.no_tap = true;
	toolstack_add();
	start();
	assert_string_equal(node_val(BE "/state"), "1");
	assert_null(d.vifs);
	/* The TAP is there at the next change of the dir. */
	stub.no_tap = false;
	node_set(BE "/mtu", "1500");
	settle();
	assert_int_equal(be_state(), XenbusStateInitWait);
}

static void probe_ignores_offline_and_vif_without_frontend(void **st)
{
	(void)st;
	toolstack_add();
	node_set(BE "/online", "0");
	node_rm(GUEST_DIR "/1");
	node_set(GUEST_DIR "/1/online", "1"); /* no frontend node yet */
	node_set(GUEST_DIR "/garbage/online", "1");
	start();
	assert_null(d.vifs);
	assert_string_equal(node_val(BE "/state"), "1");
	assert_null(node_val(GUEST_DIR "/1/state"));
}

/* The frontend first, the hotplug script last: Connected only then. */
static void connected_after_frontend_and_hotplug(void **st)
{
	(void)st;
	start_initwait();
	frontend_keys();
	frontend(XenbusStateInitialised);
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(stub.connects, 0);
	hotplug(""); /* rewritten, still empty */
	assert_int_equal(be_state(), XenbusStateInitWait);
	hotplug("connected");
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(stub.connects, 1);
	assert_false(stub.resume);
	assert_int_equal(stub.tx_ref, 8);
	assert_int_equal(stub.rx_ref, 9);
	assert_int_equal(stub.ev_tx, 10);
	assert_int_equal(stub.ev_rx, 11);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateConnected);
	assert_null(node_val(ERROR_NODE));
	/* The frontend's Connected after its Initialised changes nothing. */
	frontend(XenbusStateConnected);
	assert_int_equal(stub.connects, 1);
}

/* The hotplug script first, the frontend last. */
static void connected_after_hotplug_and_frontend(void **st)
{
	(void)st;
	start_initwait();
	hotplug("connected");
	assert_int_equal(be_state(), XenbusStateInitWait); /* no frontend yet */
	frontend_keys();
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(stub.connects, 1);
}

/* No hotplug-status node at all: no script to wait for. */
static void no_hotplug_node_connects(void **st)
{
	(void)st;
	toolstack_add();
	node_rm(BE "/hotplug-status");
	start();
	frontend_keys();
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
}

/* Anything but "connected" (or "error") is not an answer yet. */
static void hotplug_unknown_value_waits(void **st)
{
	(void)st;
	start_initwait();
	frontend_keys();
	frontend(XenbusStateConnected);
	hotplug("connecting");
	assert_int_equal(be_state(), XenbusStateInitWait);
	hotplug("connected\n");
	assert_int_equal(be_state(), XenbusStateInitWait);
	hotplug("Connected");
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(stub.connects, 0);
	hotplug("connected");
	assert_int_equal(be_state(), XenbusStateConnected);
}

static void hotplug_error_refuses_with_reason(void **st)
{
	(void)st;
	start_initwait();
	frontend_keys();
	frontend(XenbusStateConnected);
	node_set(BE "/hotplug-error", "bridge xenbr9 does not exist");
	hotplug("error");
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE), "hotplug script failed: bridge xenbr9 does not exist");
	assert_int_equal(stub.connects, 0);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateClosing, XenbusStateClosed);
	/* Refused for good: a frontend starting over does not bring it back. */
	frontend(XenbusStateInitialising);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(stub.connects, 0);
	/* The toolstack removes it. */
	toolstack_remove();
	assert_null(d.vifs);
	assert_int_equal(stub.gone, 1);
	assert_false(watched(FE "/state"));
}

static void hotplug_error_before_the_frontend(void **st)
{
	(void)st;
	start_initwait();
	node_set(BE "/hotplug-error", "vif-route:\tno\x01 route");
	hotplug("error");
	assert_int_equal(be_state(), XenbusStateClosed);
	/* Control characters do not reach the error node or the log. */
	assert_string_equal(node_val(ERROR_NODE), "hotplug script failed: vif-route:?no? route");
	frontend_keys();
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(stub.connects, 0);
}

static void hotplug_error_without_reason(void **st)
{
	(void)st;
	start_initwait();
	hotplug("error");
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE),
			    "hotplug script failed: no reason given in hotplug-error");
}

/* A Connected vif is past its hotplug script: a late "error" changes nothing. */
static void hotplug_error_after_connect_ignored(void **st)
{
	(void)st;
	start_connected();
	hotplug("error");
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_true(the_vif()->connected);
}

static void hotplug_silence_warned_once(void **st)
{
	(void)st;
	start_initwait();
	frontend_keys();
	frontend(XenbusStateConnected);
	stub.now_ms += XENBUS_HOTPLUG_WARN_MS - 1;
	xenbus_tick(&d, stub.now_ms);
	assert_int_equal(log_count("hotplug script"), 0);
	stub.now_ms += 1;
	xenbus_tick(&d, stub.now_ms);
	assert_int_equal(log_count("warning: vif7.0: no answer from the hotplug script"), 1);
	assert_int_equal(log_count(BE "/hotplug-status is \"\""), 1);
	stub.now_ms += 10 * XENBUS_HOTPLUG_WARN_MS;
	xenbus_tick(&d, stub.now_ms);
	assert_int_equal(log_count("no answer from the hotplug script"), 1);
	/* Still waiting, and a late answer still connects. */
	assert_int_equal(be_state(), XenbusStateInitWait);
	hotplug("connected");
	assert_int_equal(be_state(), XenbusStateConnected);
}

static void hotplug_answer_in_time_no_warning(void **st)
{
	(void)st;
	start_initwait();
	stub.now_ms += 1000;
	hotplug("connected");
	stub.now_ms += 2 * XENBUS_HOTPLUG_WARN_MS;
	xenbus_tick(&d, stub.now_ms);
	/* No node at all: no script to wait for either. */
	node_rm(BE "/hotplug-status");
	settle();
	xenbus_tick(&d, stub.now_ms);
	assert_int_equal(log_count("hotplug script"), 0);
}

/* --- the frontend going away and coming back ------------------------------------- */

static void frontend_closing_then_closed(void **st)
{
	(void)st;
	start_connected();
	frontend(XenbusStateClosing);
	assert_int_equal(be_state(), XenbusStateClosing);
	assert_int_equal(stub.disconnects, 1);
	assert_false(the_vif()->connected);
	frontend(XenbusStateClosed);
	assert_int_equal(be_state(), XenbusStateClosed);
	/* A reboot: the frontend starts over, and the script has answered already. */
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(stub.connects, 2);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateConnected, XenbusStateClosing,
		      XenbusStateClosed, XenbusStateInitWait, XenbusStateConnected);
	assert_null(node_val(ERROR_NODE));
}

/* Back to Initialising while Connected (a frontend restarted without closing). */
static void frontend_starts_over_while_connected(void **st)
{
	(void)st;
	start_connected();
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(stub.disconnects, 1);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateConnected, XenbusStateClosing,
		      XenbusStateClosed, XenbusStateInitWait);
	frontend(XenbusStateInitialised);
	assert_int_equal(be_state(), XenbusStateConnected);
}

static void frontend_state_gone(void **st)
{
	(void)st;
	start_connected();
	node_rm(FE "/state");
	settle();
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(stub.disconnects, 1);
}

/* A frontend closing before it ever connected. */
static void frontend_closing_from_initwait(void **st)
{
	(void)st;
	start_initwait();
	frontend(XenbusStateClosing);
	assert_int_equal(be_state(), XenbusStateClosing);
	frontend(XenbusStateClosed);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(stub.connects, 0);
}

/* --- the toolstack taking the vif away ---------------------------------------------- */

static void offline_connected_vif_removed(void **st)
{
	(void)st;
	start_connected();
	toolstack_remove();
	assert_string_equal(node_val(BE "/state"), "6");
	assert_null(d.vifs);
	assert_int_equal(stub.disconnects, 1);
	assert_int_equal(stub.gone, 1);
	assert_int_equal(stub.destroys, 1);
	assert_false(watched(FE "/state"));
	assert_true(watched(GUEST_DIR));
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateConnected, XenbusStateClosing,
		      XenbusStateClosed);
}

static void offline_initwait_vif_removed(void **st)
{
	(void)st;
	start_initwait();
	toolstack_remove();
	assert_null(d.vifs);
	assert_int_equal(stub.gone, 1);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateClosing, XenbusStateClosed);
}

/* The whole dir removed at once (online unreadable: the toolstack is tearing down). */
static void backend_dir_removed(void **st)
{
	(void)st;
	start_connected();
	node_rm(BE);
	node_rm(FE);
	settle();
	assert_null(d.vifs);
	assert_int_equal(stub.gone, 1);
	assert_int_equal(stub.disconnects, 1);
	/* Not brought back by our state writes on the way to Closed. */
	assert_null(node_val(BE "/state"));
	assert_int_equal(nr_be_writes, 2);
}

/* --- a worker restart: resume --------------------------------------------------------- */

static void resume_connected_vif_without_writing_state(void **st)
{
	(void)st;
	toolstack_add();
	frontend_keys();
	node_set(FE "/state", "4");
	node_set(BE "/state", "4");
	node_set(BE "/hotplug-status", ""); /* whatever the script says: not asked again */
	be_from = XenbusStateConnected;
	start();
	assert_int_equal(stub.connects, 1);
	assert_true(stub.resume);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(nr_be_writes, 0);
	assert_true(watched(FE "/state"));
	stub.now_ms += 2 * XENBUS_HOTPLUG_WARN_MS;
	xenbus_tick(&d, stub.now_ms);
	assert_int_equal(log_count("hotplug"), 0);
	/* And it closes as any other. */
	frontend(XenbusStateClosing);
	assert_int_equal(be_state(), XenbusStateClosing);
}

/* Connected in XenStore, but the frontend is not: a fresh start, not a resume. */
static void no_resume_unless_frontend_connected(void **st)
{
	(void)st;
	toolstack_add();
	node_set(BE "/state", "4");
	be_from = XenbusStateInitialising; /* what probe starts from */
	start();
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(stub.connects, 0);
}

/* A resume the rings refuse: closed with the reason, as any connect. */
static void resume_refused(void **st)
{
	(void)st;
	toolstack_add();
	frontend_keys();
	node_set(FE "/state", "4");
	node_set(BE "/state", "4");
	be_from = XenbusStateConnected;
	stub.connect_rc = -EINVAL;
	stub.connect_why = "cannot map tx ring 8";
	start();
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE), "cannot map tx ring 8");
}

static void detach_leaves_xenstore_alone(void **st)
{
	(void)st;
	start_connected();
	nr_be_writes = 0;
	xenbus_detach(&d);
	assert_null(d.vifs);
	assert_int_equal(stub.detaches, 1);
	assert_int_equal(stub.disconnects, 0);
	assert_int_equal(nr_be_writes, 0);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(nr_watches, 0);
	assert_int_equal(stub.gone, 0);
}

static void stop_closes_every_vif(void **st)
{
	(void)st;
	start_connected();
	xenbus_stop(&d);
	assert_null(d.vifs);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(stub.disconnects, 1);
	assert_int_equal(stub.gone, 1);
	assert_int_equal(nr_watches, 0);
	nr_events = 0;
}

/* --- the frontend's domain dying, a broken protocol -------------------------------------- */

static void released_domain_closes(void **st)
{
	(void)st;
	start_connected();
	/* Some other domain died: our port is still connected. */
	node_set("@releaseDomain", "");
	settle();
	assert_int_equal(be_state(), XenbusStateConnected);
	/* Unknown (no status query under restriction) is not gone either. */
	evtchn_stat = -EOPNOTSUPP;
	node_set("@releaseDomain", "");
	settle();
	assert_int_equal(be_state(), XenbusStateConnected);
	evtchn_stat = EVTCHNSTAT_unbound;
	node_set("@releaseDomain", "");
	settle();
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(stub.disconnects, 1);
}

static void broken_vif_closes_with_reason(void **st)
{
	struct vif *v;

	(void)st;
	start_connected();
	v = the_vif();
	snprintf(v->broken, sizeof(v->broken), "request producer 300 ahead of 0");
	v->connected = false; /* vif_mark_broken() disconnects first */
	xenbus_vif_broken(v);
	settle();
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE), "protocol error: request producer 300 ahead of 0");
	/* Not reconnected on the frontend's word alone... */
	frontend(XenbusStateConnected);
	assert_int_equal(stub.connects, 1);
	/* ... only once it starts over. */
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(stub.connects, 2);
}

/* --- refusals of what the frontend wrote ----------------------------------------------- */

/* The most queues the backend takes: what it publishes, else its compile-time limit. */
static unsigned max_queues(void)
{
	const char *v = node_val(BE "/multi-queue-max-queues");

	return v ? (unsigned)strtoul(v, NULL, 10) : VIF_MAX_QUEUES;
}

/* One queue's keys where netif.h puts them: flat for one queue, queue-N/ for more. */
static void frontend_queue_keys(unsigned nq)
{
	char path[128];

	if (nq == 1)
		return; /* frontend_keys() wrote them */
	for (unsigned q = 0; q < nq; q++) {
		static const char *const keys[] = { "tx-ring-ref", "rx-ring-ref", "event-channel-tx",
						    "event-channel-rx" };

		for (unsigned k = 0; k < 4; k++) {
			char val[16];

			snprintf(path, sizeof(path), FE "/queue-%u/%s", q, keys[k]);
			snprintf(val, sizeof(val), "%u", 100 + q * 4 + k);
			node_set(path, val);
		}
	}
}

struct refusal {
	const char *what;
	const char *key, *val; /* val NULL: the key removed */
	const char *key2, *val2;
	const char *error;     /* in the error node */
};

static const struct refusal refusals[] = {
	{ "no request-rx-copy", "request-rx-copy", NULL, NULL, NULL, "rx-copy" },
	{ "request-rx-copy 0", "request-rx-copy", "0", NULL, NULL, "rx-copy" },
	{ "request-rx-copy garbage", "request-rx-copy", "yes", NULL, NULL, "rx-copy" },
	{ "no feature-rx-notify", "feature-rx-notify", NULL, NULL, NULL, "feature-rx-notify" },
	{ "feature-rx-notify 0", "feature-rx-notify", "0", NULL, NULL, "feature-rx-notify" },
	{ "no queues", "multi-queue-num-queues", "0", NULL, NULL, "queues" },
	{ "no tx-ring-ref", "tx-ring-ref", NULL, NULL, NULL, "tx-ring-ref" },
	{ "tx-ring-ref not a number", "tx-ring-ref", "12abc", NULL, NULL, "tx-ring-ref" },
	{ "tx-ring-ref negative", "tx-ring-ref", "-8", NULL, NULL, "tx-ring-ref" },
	{ "tx-ring-ref over 32 bits", "tx-ring-ref", "4294967296", NULL, NULL, "tx-ring-ref" },
	{ "tx-ring-ref empty", "tx-ring-ref", "", NULL, NULL, "tx-ring-ref" },
	{ "no rx-ring-ref", "rx-ring-ref", NULL, NULL, NULL, "rx-ring-ref" },
	{ "rx-ring-ref hex", "rx-ring-ref", "0x9", NULL, NULL, "rx-ring-ref" },
	{ "no event channel", "event-channel-tx", NULL, "event-channel-rx", NULL, "event-channel" },
	{ "tx event channel only", "event-channel-rx", NULL, NULL, NULL, "event-channel" },
	{ "rx event channel only", "event-channel-tx", NULL, NULL, NULL, "event-channel" },
	{ "event-channel-rx garbage", "event-channel-rx", "eleven", NULL, NULL, "event-channel" },
	{ "event-channel garbage, no split", "event-channel-tx", NULL, "event-channel", "3x",
	  "event-channel" },
	{ "feature-sg garbage", "feature-sg", "yes", NULL, NULL, "bad feature value" },
	{ "feature-gso-tcpv4 empty", "feature-gso-tcpv4", "", NULL, NULL, "bad feature value" },
	{ "feature-gso-tcpv6 negative", "feature-gso-tcpv6", "-1", NULL, NULL, "bad feature value" },
	{ "feature-no-csum-offload garbage", "feature-no-csum-offload", "1 ", NULL, NULL,
	  "bad feature value" },
	{ "feature-ipv6-csum-offload garbage", "feature-ipv6-csum-offload", "on", NULL, NULL,
	  "bad feature value" },
	{ "request-multicast-control garbage", "request-multicast-control", "x", NULL, NULL,
	  "bad feature value" },
	{ "feature-multicast-control garbage", "feature-multicast-control", "true", NULL, NULL,
	  "bad feature value" },
	{ "ctrl-ring-ref alone", "ctrl-ring-ref", "20", NULL, NULL,
	  "ctrl-ring-ref without event-channel-ctrl" },
	{ "event-channel-ctrl alone", "event-channel-ctrl", "21", NULL, NULL,
	  "event-channel-ctrl without ctrl-ring-ref" },
	{ "ctrl-ring-ref garbage", "ctrl-ring-ref", "20x", "event-channel-ctrl", "21",
	  "bad ctrl-ring-ref" },
	{ "ctrl-ring-ref garbage, no channel", "ctrl-ring-ref", "-20", NULL, NULL,
	  "bad ctrl-ring-ref" },
	{ "event-channel-ctrl garbage", "ctrl-ring-ref", "20", "event-channel-ctrl", "0x15",
	  "bad event-channel-ctrl" },
};

static void set_or_rm(const char *key, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), FE "/%s", key);
	if (val)
		node_set(path, val);
	else
		node_rm(path);
}

/* The frontend's Connected with @r applied: refused with its reason, nothing mapped. */
static void refused(const struct refusal *r)
{
	const char *err;

	reset();
	start_initwait();
	hotplug("connected");
	frontend_keys();
	set_or_rm(r->key, r->val);
	if (r->key2)
		set_or_rm(r->key2, r->val2);
	frontend(XenbusStateConnected);
	err = node_val(ERROR_NODE);
	if (be_state() != XenbusStateClosed || !err || !strstr(err, r->error) || stub.connects)
		fail_msg("%s: state %d, error \"%s\" (want \"%s\"), %u connects", r->what, be_state(),
			 err ? err : "(none)", r->error, stub.connects);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateClosing, XenbusStateClosed);
	assert_false(the_vif()->connected);
	teardown(NULL);
}

static void frontend_values_refused(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		refused(&refusals[i]);
	reset();
}

static void too_many_queues_refused(void **st)
{
	char nq[16];
	struct refusal r = { "one queue more than the maximum", "multi-queue-num-queues", nq,
			     NULL, NULL, "queues" };

	(void)st;
	start_initwait(); /* to see what is published */
	snprintf(nq, sizeof(nq), "%u", max_queues() + 1);
	teardown(NULL);
	refused(&r);
	snprintf(nq, sizeof(nq), "%u", 4096u);
	refused(&r);
}

/* From one queue to the maximum (what the backend publishes, or VIF_MAX_QUEUES). */
static void queues_up_to_the_maximum_accepted(void **st)
{
	unsigned max;

	(void)st;
	start_initwait();
	max = max_queues();
	teardown(NULL);
	assert_true(max >= 1);
	for (unsigned nq = 1; nq <= max; nq++) {
		char val[16];

		reset();
		start_initwait();
		hotplug("connected");
		frontend_keys();
		frontend_queue_keys(nq);
		snprintf(val, sizeof(val), "%u", nq);
		node_set(FE "/multi-queue-num-queues", val);
		frontend(XenbusStateConnected);
		if (be_state() != XenbusStateConnected)
			fail_msg("%u queues of %u: state %d, error \"%s\"", nq, max, be_state(),
				 node_val(ERROR_NODE) ? node_val(ERROR_NODE) : "(none)");
		teardown(NULL);
	}
	reset();
}

/* No multi-queue-num-queues at all: one queue, as from a frontend that knows none. */
static void no_queue_count_is_one_queue(void **st)
{
	(void)st;
	start_connected();
	assert_int_equal(stub.connects, 1);
	assert_null(node_val(FE "/multi-queue-num-queues"));
}

/* A single event-channel key serves both directions. */
static void single_event_channel(void **st)
{
	(void)st;
	start_initwait();
	hotplug("connected");
	frontend_keys();
	node_rm(FE "/event-channel-tx");
	node_rm(FE "/event-channel-rx");
	node_set(FE "/event-channel", "12");
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(stub.ev_tx, 12);
	assert_int_equal(stub.ev_rx, 12);
}

/*
 * The control ring's keys reach vif_connect with the others; a frontend
 * coming back without them connects without one; a resumed vif finds
 * them again.
 */
static void ctrl_ring_keys(void **st)
{
	(void)st;
	start_initwait();
	hotplug("connected");
	frontend_keys();
	node_set(FE "/ctrl-ring-ref", "20");
	node_set(FE "/event-channel-ctrl", "21");
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_true(stub.ctrl);
	assert_int_equal(stub.ctrl_ref, 20);
	assert_int_equal(stub.ctrl_evtchn, 21);

	frontend(XenbusStateInitialising);
	node_rm(FE "/ctrl-ring-ref");
	node_rm(FE "/event-channel-ctrl");
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(stub.connects, 2);
	assert_false(stub.ctrl);
	assert_null(node_val(ERROR_NODE));

	/* A new worker finds the vif Connected: the ring's keys are read again. */
	node_set(FE "/ctrl-ring-ref", "30");
	node_set(FE "/event-channel-ctrl", "31");
	xenbus_detach(&d);
	assert_int_equal(stub.detaches, 1);
	be_from = XenbusStateConnected;
	start();
	assert_int_equal(stub.connects, 3);
	assert_true(stub.resume);
	assert_true(stub.ctrl);
	assert_int_equal(stub.ctrl_ref, 30);
	assert_int_equal(stub.ctrl_evtchn, 31);
	assert_int_equal(be_state(), XenbusStateConnected);
}

static void connect_failure_closes_with_reason(void **st)
{
	(void)st;
	start_initwait();
	hotplug("connected");
	frontend_keys();
	stub.connect_rc = -EINVAL;
	stub.connect_why = "cannot map tx ring 8 of domain 7";
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE), "cannot map tx ring 8 of domain 7");
	assert_int_equal(stub.connects, 1);
	/* Not retried until the frontend starts over. */
	frontend(XenbusStateConnected);
	assert_int_equal(stub.connects, 1);
	stub.connect_rc = 0;
	frontend(XenbusStateInitialising);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(state_table_is_the_documented_one),
		T(probe_publishes_features_and_waits),
		T(probe_waits_for_the_tap),
		T(probe_ignores_offline_and_vif_without_frontend),
		T(connected_after_frontend_and_hotplug),
		T(connected_after_hotplug_and_frontend),
		T(no_hotplug_node_connects),
		T(hotplug_unknown_value_waits),
		T(hotplug_error_refuses_with_reason),
		T(hotplug_error_before_the_frontend),
		T(hotplug_error_without_reason),
		T(hotplug_error_after_connect_ignored),
		T(hotplug_silence_warned_once),
		T(hotplug_answer_in_time_no_warning),
		T(frontend_closing_then_closed),
		T(frontend_starts_over_while_connected),
		T(frontend_state_gone),
		T(frontend_closing_from_initwait),
		T(offline_connected_vif_removed),
		T(offline_initwait_vif_removed),
		T(backend_dir_removed),
		T(resume_connected_vif_without_writing_state),
		T(no_resume_unless_frontend_connected),
		T(resume_refused),
		T(detach_leaves_xenstore_alone),
		T(stop_closes_every_vif),
		T(released_domain_closes),
		T(broken_vif_closes_with_reason),
		T(frontend_values_refused),
		T(too_many_queues_refused),
		T(queues_up_to_the_maximum_accepted),
		T(no_queue_count_is_one_queue),
		T(single_event_channel),
		T(connect_failure_closes_with_reason),
		T(ctrl_ring_keys),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
