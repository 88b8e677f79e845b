/* SPDX-License-Identifier: MIT */
/*
 * fuzz_xenbus.c - the backend's XenBus state machine (worker/xenbus.c)
 * against arbitrary sequences of frontend and toolstack writes.
 *
 * It runs over the fake XenStore of the unit test (../unit/xenbus_fixture.c),
 * which checks as they happen that every backend state write is a
 * transition xenbus.h allows, that the backend writes nowhere but its own
 * dirs, unwatches only what it watched, and connects only as xenbus.c's
 * gating says. The input is a short header (the queues offered, an initial
 * layout) and then a sequence of steps, each an opcode byte and its
 * arguments:
 *   the frontend writes or removes one of its keys (state, ring refs, event
 *   channels, features, multi-queue and control ring keys, queue-N/...), a
 *   value from a dictionary of good and garbage numbers or raw bytes;
 *   the toolstack adds a vif (a devid neither its dir nor the backend
 *   holds, as libxl does), removes one (online 0, Closing), writes online /
 *   hotplug-status / hotplug-error / rate / mtu / frontend, removes a whole
 *   dir or a key of the backend's (not its state node alone);
 *   the platform fails the next XenStore calls (quota, conflict, I/O),
 *   refuses vif_create (no TAP) or vif_connect, says the domain died;
 *   the data path breaks a vif; time passes (xenbus_tick); the worker is
 *   replaced (detach, start) or stopped for good.
 * Unless the opcode's top bit asks to batch it with the next, the watch
 * events of a step are then handed over until none are left, and:
 *   - they must run out (the backend's own writes cannot keep it busy);
 *   - each vif is connected only in state Connected (and in Connected
 *     unless a state write of it failed), and its state is one the table
 *     can rest in;
 *   - a vif that went Closing while its frontend reads Initialised or
 *     Connected, the toolstack wants it online, the domain is alive and no
 *     call was failed on purpose, closed for bad values: an error node was
 *     written in that step.
 * At the end the worker stops (or detaches): no vif, no watch, no open
 * transaction left; every vif created was destroyed, and ASan/LSan see
 * every allocation freed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "xenbus_fixture.h" /* first: ring.h sets Xen's barriers up */
#include "xsvalue.h"

#include <xen/event_channel.h>
#include <xen/io/xenbus.h>

/* Steps per input: enough for several connect / close cycles. */
#define MAX_STEPS 96
/* Watch-event rounds per step before it counts as a livelock. */
#define SETTLE_ROUNDS 32
/* Vifs the sequences play with (of XBF_DEVS followed by the fixture). */
#define NR_DEVS 2

void xbf_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz_xenbus: fixture invariant: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fputs(xbf_log, stderr);
	abort();
}

static const char *const fe_keys[] = {
	"state", "tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx",
	"event-channel-rx", "request-rx-copy", "feature-rx-notify", "feature-sg",
	"feature-gso-tcpv4", "feature-gso-tcpv6", "feature-no-csum-offload",
	"feature-ipv6-csum-offload", "request-multicast-control", "feature-multicast-control",
	"multi-queue-num-queues", "ctrl-ring-ref", "event-channel-ctrl",
	"queue-0/tx-ring-ref", "queue-0/rx-ring-ref", "queue-0/event-channel",
	"queue-0/event-channel-tx", "queue-0/event-channel-rx", "queue-1/tx-ring-ref",
	"queue-1/rx-ring-ref", "queue-1/event-channel", "queue-1/event-channel-tx",
	"queue-1/event-channel-rx", "queue-2/tx-ring-ref", "queue-3/event-channel", "backend",
};

static const char *const be_keys[] = {
	"online", "state", "hotplug-status", "hotplug-error", "rate", "mtu", "frontend",
	"frontend-id", "handle", "multi-queue-max-queues", "feature-ctrl-ring",
};

static const char *const values[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "", "connected", "error", "1 ", " 1",
	"-1", "+1", "01", "0x10", "4294967295", "4294967296", "18446744073709551616", "12abc", "3x",
	"10", "11", "300", "4096", "62500,50000", "0,0", "18446744073709551615,1", "1,0",
	"garbage", FE, "/local/domain/7/device/vif/1", "/local/domain/8/device/vif/0", BE,
	"bridge xenbr0 does not exist", "68", "9000", "65536", "\xef\xbc\x91",
};

/*
 * Errors the platform may answer any XenStore call with. Not -ENOENT: the
 * store says that of a node that is not there, and the fixture's nodes are;
 * not -EINVAL either: it says that of a malformed request, and xs_util.h
 * takes it, as its own -EINVAL, for a garbage value.
 */
static const int errs[] = { -EIO, -EAGAIN, -ENOSPC, -EACCES, -E2BIG };

/* Some call of this input was failed on purpose. */
static bool faults_ever;

/* The next step's failures: calls in @mask, every @period-th of them, fail with @err. */
static struct {
	unsigned mask, period, count;
	int err;
	bool fired;
} faults;

static int inject(enum xbf_call call, const char *path)
{
	(void)path;
	if (!(faults.mask & (1u << call)) || ++faults.count % faults.period != 0)
		return 0;
	faults.fired = true;
	faults_ever = true;
	if (getenv("TEST_XENBUS_VERBOSE"))
		fprintf(stderr, "  call %u on %s failed with %d\n", call, path ? path : "-",
			faults.err);
	/* A conflict is what a commit mostly meets. */
	return call == XBF_CALL_TX_COMMIT && faults.err == -EIO ? -EAGAIN : faults.err;
}

static bool started;

static void take_value(struct fuzz_input *in, char *out, size_t *len)
{
	uint8_t v = fuzz_u8(in);

	if (v < 0xe0) {
		const char *s = values[v % (sizeof(values) / sizeof(values[0]))];

		*len = strlen(s);
		memcpy(out, s, *len);
	} else {
		*len = v & 0x1f;
		fuzz_take(in, out, *len);
	}
}

static struct vif *find_vif(unsigned devid)
{
	for (struct vif *v = xbf_worker.vifs; v; v = v->next)
		if (v->devid == devid)
			return v;
	return NULL;
}

static bool node_u32(const char *path, uint32_t *out)
{
	const char *s = xbf_node_val(path);

	return s && xsvalue_parse_u32(s, strlen(s), out) == 0;
}

static void start_worker(void)
{
	if (started)
		return;
	if (xenbus_start(&xbf_worker) == 0) {
		started = true;
		return;
	}
	/* The worker exits on it: its connection, and so its watches, go. */
	while (xbf_worker.vifs) {
		struct vif *v = xbf_worker.vifs;

		xbf_worker.vifs = v->next;
		vif_destroy(v);
	}
	xbf_drop_watches();
	xbf_drop_events();
}

/* The worker exits (for good, or to be replaced): nothing of it may be left. */
static void end_worker(bool stop)
{
	if (!started)
		return;
	if (stop)
		xenbus_stop(&xbf_worker);
	else
		xenbus_detach(&xbf_worker);
	started = false;
	FUZZ_CHECK(xbf_worker.vifs == NULL);
	FUZZ_CHECK(xbf_nr_watches() == 0);
	FUZZ_CHECK(xbf_stub.creates == xbf_stub.destroys);
	xbf_drop_events(); /* its connection's, undelivered */
}

/* What vif_mark_broken() does from the data path's side. */
static void break_vif(unsigned devid)
{
	struct vif *v = find_vif(devid);

	if (!v || !v->connected)
		return;
	snprintf(v->broken, sizeof(v->broken), "request producer ran past the ring size");
	vif_disconnect(v);
	xenbus_vif_broken(v);
}

/* The frontend's state node of @v reads Initialised or Connected. */
static bool frontend_ready(const struct vif *v)
{
	char path[sizeof(v->fe_path) + 8];
	uint32_t st;

	snprintf(path, sizeof(path), "%s/state", v->fe_path);
	return node_u32(path, &st) && (st == XenbusStateInitialised || st == XenbusStateConnected);
}

static void check_vifs(const unsigned *closes_before, unsigned errors_before, bool exempt)
{
	for (struct vif *v = xbf_worker.vifs; v; v = v->next) {
		char path[XBF_PATH];
		uint32_t online = 0;

		/* Initialising: probed, InitWait not written yet (its write failed). */
		FUZZ_CHECK(v->state == XenbusStateInitialising || v->state == XenbusStateInitWait ||
			   v->state == XenbusStateConnected || v->state == XenbusStateClosing ||
			   v->state == XenbusStateClosed);
		FUZZ_CHECK(!v->connected || v->state == XenbusStateConnected);
		/* Disconnected, but its Closing never written: only if a write failed. */
		FUZZ_CHECK(v->connected || v->state != XenbusStateConnected || faults_ever);
		if (exempt || v->devid >= NR_DEVS || xbf_be_closes[v->devid] == closes_before[v->devid])
			continue;
		xbf_be_path(path, sizeof(path), v->devid, "online");
		if (!node_u32(path, &online) || online != 1 || !frontend_ready(v))
			continue;
		if (xbf_error_writes == errors_before) {
			fprintf(stderr, "fuzz_xenbus: vif%u.%u closed, frontend ready, no error node\n%s",
				v->domid, v->devid, xbf_log);
			abort();
		}
	}
}

/* One step; false when the input has run out. */
static bool step(struct fuzz_input *in)
{
	char path[XBF_PATH], val[XBF_VAL];
	size_t len = 0;
	uint8_t op, arg;
	unsigned devid;
	bool exempt = false, batch;
	unsigned closes[NR_DEVS], errors = xbf_error_writes;

	if (in->left == 0)
		return false;
	memcpy(closes, xbf_be_closes, sizeof(closes));
	op = fuzz_u8(in);
	batch = op & 0x80;
	arg = fuzz_u8(in);
	devid = arg & 0x80 ? 1 : 0;
	switch (op & 0x1f) {
	case 0: /* the frontend writes a key */
		xbf_fe_path(path, sizeof(path), devid,
			    fe_keys[(arg & 0x7f) % (sizeof(fe_keys) / sizeof(fe_keys[0]))]);
		take_value(in, val, &len);
		xbf_node_set_len(path, val, len);
		break;
	case 1: /* ... removes one */
		xbf_fe_path(path, sizeof(path), devid,
			    fe_keys[(arg & 0x7f) % (sizeof(fe_keys) / sizeof(fe_keys[0]))]);
		xbf_node_rm(path);
		break;
	case 2: /* ... writes its state: the usual ones, or anything */
		xbf_fe_path(path, sizeof(path), devid, "state");
		snprintf(val, sizeof(val), "%u", (arg & 0x7f) < 100 ? (arg & 0x7f) % 9u : arg * 1000u);
		xbf_node_set(path, val);
		break;
	case 3: /* the toolstack writes a key of the backend dir */
		xbf_be_path(path, sizeof(path), devid,
			    be_keys[(arg & 0x7f) % (sizeof(be_keys) / sizeof(be_keys[0]))]);
		take_value(in, val, &len);
		xbf_node_set_len(path, val, len);
		break;
	case 4: { /* ... removes one (not our state node: a toolstack removes the dir) */
		const char *key = be_keys[(arg & 0x7f) % (sizeof(be_keys) / sizeof(be_keys[0]))];

		if (strcmp(key, "state") == 0)
			break;
		xbf_be_path(path, sizeof(path), devid, key);
		xbf_node_rm(path);
		break;
	}
	case 5: /* a vif added: as libxl does, only a devid nothing holds any more */
		xbf_be_path(path, sizeof(path), devid, "online");
		if (!find_vif(devid) && !xbf_node_val(path))
			xbf_toolstack_add(devid);
		break;
	case 6:
		xbf_toolstack_remove(devid);
		break;
	case 7: /* a whole dir gone */
		if (arg & 1)
			xbf_be_path(path, sizeof(path), devid, NULL);
		else
			xbf_fe_path(path, sizeof(path), devid, NULL);
		xbf_node_rm(path);
		break;
	case 8: { /* some domain died: ours, perhaps */
		static const int stat[] = { EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound,
					    EVTCHNSTAT_closed, -EOPNOTSUPP };

		xbf_evtchn_stat = stat[arg & 3];
		xbf_fire("@releaseDomain");
		exempt = true;
		break;
	}
	case 9:
		xbf_stub.no_tap = arg & 1;
		break;
	case 10:
		xbf_stub.connect_rc = arg & 1 ? -EINVAL : 0;
		xbf_stub.connect_why = arg & 2 ? "mapping tx-ring-ref 8 failed (status -1)" : "";
		break;
	case 11: /* the platform fails some of the calls of this step */
		faults.mask = arg & 0x3f;
		faults.period = 1 + (fuzz_u8(in) & 7);
		faults.err = errs[fuzz_u8(in) % (sizeof(errs) / sizeof(errs[0]))];
		faults.count = 0;
		return true; /* armed for the next step */
	case 12:
		break_vif(devid);
		exempt = true;
		break;
	case 13:
		xbf_stub.now_ms += (uint64_t)(arg & 0x7f) * 1000;
		if (started)
			xenbus_tick(&xbf_worker, xbf_stub.now_ms);
		break;
	case 14: /* the worker replaced: a new one resumes */
		end_worker(false);
		start_worker();
		exempt = true;
		break;
	case 15: /* a stop for good, and a new xnbd */
		end_worker(true);
		start_worker();
		exempt = true;
		break;
	case 16: { /* queue-N/ keys of @nq queues, and the count */
		unsigned nq = 1 + (arg & 3);

		for (unsigned q = 0; q < nq; q++) {
			static const char *const keys[] = { "tx-ring-ref", "rx-ring-ref",
							    "event-channel-tx", "event-channel-rx" };

			for (unsigned k = 0; k < 4; k++) {
				char key[40];

				snprintf(key, sizeof(key), "queue-%u/%s", q, keys[k]);
				xbf_fe_path(path, sizeof(path), devid, key);
				snprintf(val, sizeof(val), "%u", 100 + q * 4 + k);
				xbf_node_set(path, val);
			}
		}
		xbf_fe_path(path, sizeof(path), devid, "multi-queue-num-queues");
		snprintf(val, sizeof(val), "%u", nq);
		xbf_node_set(path, val);
		break;
	}
	case 17:
		xbf_frontend_keys(devid);
		break;
	case 18:
		xbf_fe_path(path, sizeof(path), devid, "ctrl-ring-ref");
		xbf_node_set(path, "20");
		xbf_fe_path(path, sizeof(path), devid, "event-channel-ctrl");
		xbf_node_set(path, "21");
		break;
	case 19: /* the frontend connects, with what it wrote */
		xbf_fe_path(path, sizeof(path), devid, "state");
		xbf_node_set(path, "4");
		break;
	case 20: /* the hotplug script's answer */
		xbf_be_path(path, sizeof(path), devid, "hotplug-status");
		xbf_node_set(path, arg & 1 ? "connected" : "error");
		break;
	case 21:
		start_worker();
		exempt = true;
		break;
	default: /* the events so far, handed over */
		break;
	}
	if (batch)
		return true;
	if (started) {
		if (!xbf_settle(SETTLE_ROUNDS)) {
			fprintf(stderr, "fuzz_xenbus: watch events still coming after %u rounds\n%s",
				SETTLE_ROUNDS, xbf_log);
			abort();
		}
	} else {
		xbf_drop_events(); /* nobody listens */
	}
	exempt |= faults.fired || xbf_evtchn_stat == EVTCHNSTAT_unbound ||
		  xbf_evtchn_stat == EVTCHNSTAT_closed;
	check_vifs(closes, errors, exempt);
	faults.mask = 0;
	faults.fired = false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t queues, layout;

	xbf_reset();
	memset(&faults, 0, sizeof(faults));
	faults.period = 1;
	xbf_inject = inject;
	started = false;
	faults_ever = false;

	queues = fuzz_u8(&in);
	layout = fuzz_u8(&in);
	xbf_worker.max_queues = queues % 5; /* 0: the stub's VIF_MAX_QUEUES */
	if (layout & 1)
		xbf_toolstack_add(0);
	if (layout & 2)
		xbf_frontend_keys(0);
	if (layout & 4) { /* a previous worker's connection, to resume */
		xbf_node_set(FE "/state", "4");
		xbf_node_set(BE "/state", "4");
	}
	if (layout & 8)
		xbf_node_set(BE "/hotplug-status", "connected");
	if (layout & 16)
		xbf_toolstack_add(1);
	if (!(layout & 32)) {
		start_worker();
		if (started && !xbf_settle(SETTLE_ROUNDS))
			abort();
	}
	for (unsigned i = 0; i < MAX_STEPS && step(&in); i++)
		;
	if (started && !xbf_settle(SETTLE_ROUNDS))
		abort();
	end_worker(layout & 64);
	FUZZ_CHECK(!xbf_tx_open());
	FUZZ_CHECK(xbf_stub.creates == xbf_stub.destroys);
	xbf_inject = NULL;
	return 0;
}
