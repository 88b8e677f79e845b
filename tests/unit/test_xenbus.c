/* SPDX-License-Identifier: MIT */
/*
 * test_xenbus.c - the backend's XenBus state machine (worker/xenbus.c)
 * driven without I/O, over xenbus_fixture.c: an in-memory XenStore with
 * watches, the data path (vif_*) and the worker's glue (worker_*) stubbed.
 *
 * Each test plays the toolstack (backend dir, online, hotplug-status) and
 * the frontend (its keys and state) by writing nodes; a write queues the
 * watch events a real XenStore would send (recursive watches, one event at
 * registration too, the backend's own writes included), and settle() hands
 * them to xenbus_note_event() / xenbus_watch_events() as main.c does, until
 * none are left. Every state the backend writes is checked by the fixture
 * against the transition table it writes down, independently of the code's.
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

#include "xenbus_fixture.h"

void xbf_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail_msg("%s", msg);
}

/* --- the store, as the tests write it ------------------------------------------ */

static const char *node_val(const char *path)
{
	return xbf_node_val(path);
}

static void node_set(const char *path, const char *val)
{
	assert_int_equal(xbf_node_set(path, val), 0);
}

static void node_rm(const char *path)
{
	xbf_node_rm(path);
}

static bool watched(const char *path)
{
	return xbf_watched(path);
}

/* --- the worker, the toolstack and the frontend ------------------------------ */

/* Hand the queued watch events to xenbus.c, as main.c's loop would, until none are left. */
static void settle(void)
{
	/* The backend's own writes must not keep it busy. */
	assert_true(xbf_settle(8));
}

static int be_state(void)
{
	const char *v = node_val(BE "/state");

	assert_non_null(v);
	return atoi(v);
}

static struct vif *the_vif(void)
{
	assert_non_null(xbf_worker.vifs);
	assert_null(xbf_worker.vifs->next);
	return xbf_worker.vifs;
}

static void toolstack_add(void)
{
	assert_int_equal(xbf_toolstack_add(0), 0);
}

static void toolstack_remove(void)
{
	assert_int_equal(xbf_toolstack_remove(0), 0);
	settle();
}

static void hotplug(const char *status)
{
	node_set(BE "/hotplug-status", status);
	settle();
}

static void frontend_keys(void)
{
	assert_int_equal(xbf_frontend_keys(0), 0);
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
	xbf_reset();
}

static void start(void)
{
	assert_int_equal(xenbus_start(&xbf_worker), 0);
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
		xenbus_detach(&xbf_worker);
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.destroys, xbf_stub.creates);
	return 0;
}

static void assert_writes(const int *want, unsigned n)
{
	for (unsigned i = 0; i < n && i < xbf_nr_be_writes; i++)
		if (xbf_be_writes[i] != want[i])
			fail_msg("backend state write %u: %d, expected %d", i, xbf_be_writes[i], want[i]);
	assert_int_equal(xbf_nr_be_writes, n);
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
			if (xenbus_state_allowed(from, to) != xbf_allowed_by_spec(from, to))
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
	assert_int_equal(xbf_stub.connects, 0);
	/* A frontend still Initialising: nothing more. */
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(xbf_stub.connects, 0);
}

static void probe_waits_for_the_tap(void **st)
{
	(void)st;
	xbf_stub.no_tap = true;
	toolstack_add();
	start();
	assert_string_equal(node_val(BE "/state"), "1");
	assert_null(xbf_worker.vifs);
	/* The TAP is there at the next change of the dir. */
	xbf_stub.no_tap = false;
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
	assert_null(xbf_worker.vifs);
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
	assert_int_equal(xbf_stub.connects, 0);
	hotplug(""); /* rewritten, still empty */
	assert_int_equal(be_state(), XenbusStateInitWait);
	hotplug("connected");
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 1);
	assert_false(xbf_stub.resume);
	assert_int_equal(xbf_stub.tx_ref, 8);
	assert_int_equal(xbf_stub.rx_ref, 9);
	assert_int_equal(xbf_stub.ev_tx, 10);
	assert_int_equal(xbf_stub.ev_rx, 11);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateConnected);
	assert_null(node_val(ERROR_NODE));
	/* The frontend's Connected after its Initialised changes nothing. */
	frontend(XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 1);
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
	assert_int_equal(xbf_stub.connects, 1);
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
	assert_int_equal(xbf_stub.connects, 0);
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
	assert_int_equal(xbf_stub.connects, 0);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateClosing, XenbusStateClosed);
	/* Refused for good: a frontend starting over does not bring it back. */
	frontend(XenbusStateInitialising);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(xbf_stub.connects, 0);
	/* The toolstack removes it. */
	toolstack_remove();
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.gone, 1);
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
	assert_int_equal(xbf_stub.connects, 0);
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
	xbf_stub.now_ms += XENBUS_HOTPLUG_WARN_MS - 1;
	xenbus_tick(&xbf_worker, xbf_stub.now_ms);
	assert_int_equal(xbf_log_count("hotplug script"), 0);
	xbf_stub.now_ms += 1;
	xenbus_tick(&xbf_worker, xbf_stub.now_ms);
	assert_int_equal(xbf_log_count("warning: vif7.0: no answer from the hotplug script"), 1);
	assert_int_equal(xbf_log_count(BE "/hotplug-status is \"\""), 1);
	xbf_stub.now_ms += 10 * XENBUS_HOTPLUG_WARN_MS;
	xenbus_tick(&xbf_worker, xbf_stub.now_ms);
	assert_int_equal(xbf_log_count("no answer from the hotplug script"), 1);
	/* Still waiting, and a late answer still connects. */
	assert_int_equal(be_state(), XenbusStateInitWait);
	hotplug("connected");
	assert_int_equal(be_state(), XenbusStateConnected);
}

static void hotplug_answer_in_time_no_warning(void **st)
{
	(void)st;
	start_initwait();
	xbf_stub.now_ms += 1000;
	hotplug("connected");
	xbf_stub.now_ms += 2 * XENBUS_HOTPLUG_WARN_MS;
	xenbus_tick(&xbf_worker, xbf_stub.now_ms);
	/* No node at all: no script to wait for either. */
	node_rm(BE "/hotplug-status");
	settle();
	xenbus_tick(&xbf_worker, xbf_stub.now_ms);
	assert_int_equal(xbf_log_count("hotplug script"), 0);
}

/* --- the frontend going away and coming back ------------------------------------- */

static void frontend_closing_then_closed(void **st)
{
	(void)st;
	start_connected();
	frontend(XenbusStateClosing);
	assert_int_equal(be_state(), XenbusStateClosing);
	assert_int_equal(xbf_stub.disconnects, 1);
	assert_false(the_vif()->connected);
	frontend(XenbusStateClosed);
	assert_int_equal(be_state(), XenbusStateClosed);
	/* A reboot: the frontend starts over, and the script has answered already. */
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 2);
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
	assert_int_equal(xbf_stub.disconnects, 1);
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
	assert_int_equal(xbf_stub.disconnects, 1);
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
	assert_int_equal(xbf_stub.connects, 0);
}

/* --- the toolstack taking the vif away ---------------------------------------------- */

static void offline_connected_vif_removed(void **st)
{
	(void)st;
	start_connected();
	toolstack_remove();
	assert_string_equal(node_val(BE "/state"), "6");
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.disconnects, 1);
	assert_int_equal(xbf_stub.gone, 1);
	assert_int_equal(xbf_stub.destroys, 1);
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
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.gone, 1);
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
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.gone, 1);
	assert_int_equal(xbf_stub.disconnects, 1);
	/* Not brought back by our state writes on the way to Closed. */
	assert_null(node_val(BE "/state"));
	assert_int_equal(xbf_nr_be_writes, 2);
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
	start();
	assert_int_equal(xbf_stub.connects, 1);
	assert_true(xbf_stub.resume);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_nr_be_writes, 0);
	assert_true(watched(FE "/state"));
	xbf_stub.now_ms += 2 * XENBUS_HOTPLUG_WARN_MS;
	xenbus_tick(&xbf_worker, xbf_stub.now_ms);
	assert_int_equal(xbf_log_count("hotplug"), 0);
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
	start();
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(xbf_stub.connects, 0);
}

/* A resume the rings refuse: closed with the reason, as any connect. */
static void resume_refused(void **st)
{
	(void)st;
	toolstack_add();
	frontend_keys();
	node_set(FE "/state", "4");
	node_set(BE "/state", "4");
	xbf_stub.connect_rc = -EINVAL;
	xbf_stub.connect_why = "cannot map tx ring 8";
	start();
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE), "cannot map tx ring 8");
}

static void detach_leaves_xenstore_alone(void **st)
{
	(void)st;
	start_connected();
	xbf_nr_be_writes = 0;
	xenbus_detach(&xbf_worker);
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.detaches, 1);
	assert_int_equal(xbf_stub.disconnects, 0);
	assert_int_equal(xbf_nr_be_writes, 0);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_nr_watches(), 0);
	assert_int_equal(xbf_stub.gone, 0);
}

static void stop_closes_every_vif(void **st)
{
	(void)st;
	start_connected();
	xenbus_stop(&xbf_worker);
	assert_null(xbf_worker.vifs);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(xbf_stub.disconnects, 1);
	assert_int_equal(xbf_stub.gone, 1);
	assert_int_equal(xbf_nr_watches(), 0);
	xbf_drop_events();
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
	xbf_evtchn_stat = -EOPNOTSUPP;
	node_set("@releaseDomain", "");
	settle();
	assert_int_equal(be_state(), XenbusStateConnected);
	xbf_evtchn_stat = EVTCHNSTAT_unbound;
	node_set("@releaseDomain", "");
	settle();
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(xbf_stub.disconnects, 1);
}

static void broken_vif_closes_with_reason(void **st)
{
	struct vif *v;

	(void)st;
	start_connected();
	v = the_vif();
	snprintf(v->broken, sizeof(v->broken), "request producer 300 ahead of 0");
	snprintf(v->broken_where, sizeof(v->broken_where), "queue 1's RX ring");
	v->connected = false; /* vif_mark_broken() disconnects first */
	xenbus_vif_broken(v);
	settle();
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE),
			    "protocol error: request producer 300 ahead of 0 (on queue 1's RX ring)");
	/* Not reconnected on the frontend's word alone... */
	frontend(XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 1);
	/* ... only once it starts over. */
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 2);
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
	if (be_state() != XenbusStateClosed || !err || !strstr(err, r->error) || xbf_stub.connects)
		fail_msg("%s: state %d, error \"%s\" (want \"%s\"), %u connects", r->what, be_state(),
			 err ? err : "(none)", r->error, xbf_stub.connects);
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
	assert_int_equal(xbf_stub.connects, 1);
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
	assert_int_equal(xbf_stub.ev_tx, 12);
	assert_int_equal(xbf_stub.ev_rx, 12);
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
	assert_true(xbf_stub.ctrl);
	assert_int_equal(xbf_stub.ctrl_ref, 20);
	assert_int_equal(xbf_stub.ctrl_evtchn, 21);

	frontend(XenbusStateInitialising);
	node_rm(FE "/ctrl-ring-ref");
	node_rm(FE "/event-channel-ctrl");
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 2);
	assert_false(xbf_stub.ctrl);
	assert_null(node_val(ERROR_NODE));

	/* A new worker finds the vif Connected: the ring's keys are read again. */
	node_set(FE "/ctrl-ring-ref", "30");
	node_set(FE "/event-channel-ctrl", "31");
	xenbus_detach(&xbf_worker);
	assert_int_equal(xbf_stub.detaches, 1);
	start();
	assert_int_equal(xbf_stub.connects, 3);
	assert_true(xbf_stub.resume);
	assert_true(xbf_stub.ctrl);
	assert_int_equal(xbf_stub.ctrl_ref, 30);
	assert_int_equal(xbf_stub.ctrl_evtchn, 31);
	assert_int_equal(be_state(), XenbusStateConnected);
}

static void connect_failure_closes_with_reason(void **st)
{
	(void)st;
	start_initwait();
	hotplug("connected");
	frontend_keys();
	xbf_stub.connect_rc = -EINVAL;
	xbf_stub.connect_why = "cannot map tx ring 8 of domain 7";
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_string_equal(node_val(ERROR_NODE), "cannot map tx ring 8 of domain 7");
	assert_int_equal(xbf_stub.connects, 1);
	/* Not retried until the frontend starts over. */
	frontend(XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 1);
	xbf_stub.connect_rc = 0;
	frontend(XenbusStateInitialising);
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
}

/* The backend's writes of its state node fail while set (a quota, say). */
static int state_writes_fail;

static int fail_state_writes(enum xbf_call call, const char *path)
{
	return call == XBF_CALL_WRITE && state_writes_fail && strcmp(path, BE "/state") == 0
		       ? -ENOSPC : 0;
}

/*
 * A state write that fails is no transition: the node keeps its value,
 * our state too, and the next event writes it (a frontend never sees the
 * node jump). Connected not written: the rings are let go, then taken again.
 */
static void state_write_failure_is_no_transition(void **st)
{
	(void)st;
	xbf_inject = fail_state_writes;
	state_writes_fail = 1;
	toolstack_add();
	start();
	assert_string_equal(node_val(BE "/state"), "1");
	assert_int_equal(the_vif()->state, XenbusStateInitialising);
	assert_true(xbf_log_count("cannot write state 2") >= 1);
	state_writes_fail = 0;
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateInitWait);

	hotplug("connected");
	frontend_keys();
	state_writes_fail = 1;
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_int_equal(xbf_stub.connects, 1);
	assert_false(the_vif()->connected);
	state_writes_fail = 0;
	frontend(XenbusStateConnected);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 2);
	assert_true(the_vif()->connected);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateConnected);
}

/*
 * The toolstack removes the vif while its frontend is still Closing (xl
 * destroy of a guest shutting its netfront down): Closed and gone, the
 * frontend's Closing taking nothing back through InitWait.
 */
static void removed_while_frontend_closing(void **st)
{
	(void)st;
	start_connected();
	frontend(XenbusStateClosing);
	assert_int_equal(be_state(), XenbusStateClosing);
	toolstack_remove();
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.gone, 1);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateConnected, XenbusStateClosing,
		      XenbusStateClosed);
}

/*
 * libxl removes a vif by writing online 0 and Closing into our state node,
 * then waits for Closed there (10 s, then it gives up on the device): a vif
 * Closed already (broken, refused, its frontend gone) must answer too.
 */
static void removal_of_a_closed_vif_answered(void **st)
{
	struct vif *v;

	(void)st;
	start_connected();
	v = the_vif();
	snprintf(v->broken, sizeof(v->broken), "request producer ran past the ring size");
	v->connected = false;
	xenbus_vif_broken(v);
	settle();
	assert_int_equal(be_state(), XenbusStateClosed);
	toolstack_remove();
	assert_string_equal(node_val(BE "/state"), "6");
	assert_null(xbf_worker.vifs);
	assert_int_equal(xbf_stub.gone, 1);
}

/* Reads of the frontend's state fail while set (a XenStore hiccup at a worker's start). */
static int fe_state_reads_fail;

static int fail_fe_state_reads(enum xbf_call call, const char *path)
{
	return call == XBF_CALL_READ && fe_state_reads_fail && strcmp(path, FE "/state") == 0
		       ? -EIO : 0;
}

/*
 * A new worker that cannot read whether the frontend is Connected does not
 * guess: it writes nothing over the Connected its predecessor left (a
 * frontend would see Connected -> InitWait), and resumes once it can read.
 */
static void resume_not_guessed_on_a_read_error(void **st)
{
	(void)st;
	toolstack_add();
	frontend_keys();
	node_set(FE "/state", "4");
	node_set(BE "/state", "4");
	xbf_inject = fail_fe_state_reads;
	fe_state_reads_fail = 1;
	start();
	assert_int_equal(xbf_nr_be_writes, 0);
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_int_equal(xbf_stub.connects, 0);
	fe_state_reads_fail = 0;
	node_set(BE "/mtu", "1500"); /* the next event in the guest's dir */
	settle();
	assert_int_equal(xbf_stub.connects, 1);
	assert_true(xbf_stub.resume);
	assert_int_equal(xbf_nr_be_writes, 0);
	assert_int_equal(be_state(), XenbusStateConnected);
}

/* Watches of the frontend's nodes fail while set: always (2), or the multicast one (1). */
static int fe_watches_fail;

static int fail_fe_watches(enum xbf_call call, const char *path)
{
	if (call != XBF_CALL_WATCH || strncmp(path, FE "/", strlen(FE "/")) != 0)
		return 0;
	if (fe_watches_fail == 2 ||
	    (fe_watches_fail == 1 && strcmp(path, FE "/request-multicast-control") == 0))
		return -ENOSPC; /* xenstored's watch quota */
	return 0;
}

/*
 * A probe that cannot watch the frontend leaves nothing behind: no watch
 * half set up (the next probe's would be refused as a duplicate, forever),
 * and no write of its own (whose event would probe again at once, in a
 * loop while the failure lasts). The next event in the dir tries again.
 */
static void probe_watch_failure_leaves_nothing(void **st)
{
	(void)st;
	xbf_inject = fail_fe_watches;
	fe_watches_fail = 2;
	toolstack_add();
	start();
	assert_null(xbf_worker.vifs);
	assert_false(watched(FE "/state"));
	assert_int_equal(xbf_nr_be_writes, 0);
	fe_watches_fail = 1;
	node_set(BE "/mtu", "1500");
	settle();
	assert_null(xbf_worker.vifs);
	assert_false(watched(FE "/state"));
	fe_watches_fail = 0;
	node_set(BE "/mtu", "1500");
	settle();
	assert_int_equal(be_state(), XenbusStateInitWait);
	assert_true(watched(FE "/state"));
	assert_true(watched(FE "/request-multicast-control"));
}

/* Reads of this node fail with -EIO (a XenStore hiccup) while set. */
static const char *read_fails_at;

static int fail_reads_at(enum xbf_call call, const char *path)
{
	return call == XBF_CALL_READ && read_fails_at && strcmp(path, read_fails_at) == 0 ? -EIO
											   : 0;
}

/*
 * A read of online or of the frontend's state that fails says nothing of
 * them: the vif is left as it is until the next event, not taken for
 * offline (removed) or for a frontend gone (closed).
 */
static void read_error_is_no_answer(void **st)
{
	(void)st;
	start_connected();
	xbf_inject = fail_reads_at;
	read_fails_at = BE "/online";
	node_set(BE "/mtu", "1500");
	settle();
	read_fails_at = FE "/state";
	node_set(FE "/state", "4");
	settle();
	assert_int_equal(be_state(), XenbusStateConnected);
	assert_true(the_vif()->connected);
	assert_int_equal(xbf_stub.disconnects, 0);
	read_fails_at = NULL;
	frontend(XenbusStateClosing);
	assert_int_equal(be_state(), XenbusStateClosing);
}

/* Nor does a failed read of hotplug-status lift the refusal of its "error". */
static void hotplug_read_error_keeps_the_refusal(void **st)
{
	(void)st;
	start_initwait();
	hotplug("error");
	assert_int_equal(be_state(), XenbusStateClosed);
	xbf_inject = fail_reads_at;
	read_fails_at = BE "/hotplug-status";
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateClosed);
	read_fails_at = NULL;
	frontend(XenbusStateInitialising);
	assert_int_equal(be_state(), XenbusStateClosed);
	assert_int_equal(xbf_stub.connects, 0);
	ASSERT_WRITES(XenbusStateInitWait, XenbusStateClosing, XenbusStateClosed);
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
		T(state_write_failure_is_no_transition),
		T(removed_while_frontend_closing),
		T(removal_of_a_closed_vif_answered),
		T(resume_not_guessed_on_a_read_error),
		T(probe_watch_failure_leaves_nothing),
		T(read_error_is_no_answer),
		T(hotplug_read_error_keeps_the_refusal),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
