/* SPDX-License-Identifier: MIT */
/*
 * report.c - this worker's part of xnbctl's answers: vif list, counters,
 * a vif's configuration, ring dump, and the counters' reset.
 *
 * Theory of operation. The supervisor asks every worker and joins the parts
 * (../supervisor/ctl.c). A text part is lines; a JSON part is a
 * comma-separated run of objects that the supervisor wraps in an array
 * (for `stats`, two runs separated by IPC_CTL_RUN_SEP: per-queue objects for
 * "vifs", per-vif sums for "totals"); a Prometheus part is a valid exposition
 * of this worker's queues, which the supervisor regroups by metric family.
 *
 * Every counter the data path keeps is in report_counters[], once: its
 * stable name (JSON key, text label, Prometheus xnb_<name>_total), where it
 * lives, and what it counts. The three formats, the per-vif totals and
 * the reset all walk that table, so a counter added to it shows everywhere;
 * a counter added to a stats struct and not to the table fails the build
 * (the static assertions below). `show` works the same way over
 * show_fields[].
 *
 * The ring dump shows what the seed's dump_rings shows: each ring's shared
 * indices (as the frontend left them: untrusted, shown as they are) and our
 * private ones.
 */
#include "report.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "ipc.h"
#include "xsvalue.h"

/* ---- the counters ------------------------------------------------------ */

/* A field added here or there needs its row in report_counters[] below. */
_Static_assert(sizeof(struct engine_tx_stats) == (10 + ENGINE_TX_DROP_MAX) * sizeof(uint64_t),
	       "engine_tx_stats changed: show the new counter in report_counters[]");
_Static_assert(sizeof(struct engine_rx_stats) == (8 + ENGINE_RX_DROP_MAX) * sizeof(uint64_t),
	       "engine_rx_stats changed: show the new counter in report_counters[]");
_Static_assert(sizeof(struct vif_queue_stats) == 14 * sizeof(uint64_t),
	       "vif_queue_stats changed: show the new counter in report_counters[]");
_Static_assert(sizeof(struct engine_credit_stats) == 3 * sizeof(uint64_t),
	       "engine_credit_stats changed: show the new counter in report_counters[]");
_Static_assert(ENGINE_TX_DROP_MAX == 10 && ENGINE_RX_DROP_MAX == 6,
	       "a new drop reason needs its row in report_counters[]");

#define C(group, name, field, help) \
	{ name, offsetof(struct report_sample, field), group, help, false }
/* Kept because readers of the JSON use it; the same value under another name. */
#define ALIAS(group, name, field, help) \
	{ name, offsetof(struct report_sample, field), group, help, true }

const struct report_counter report_counters[] = {
	C(REPORT_GUEST_TX, "tx_packets", tx.packets, "Packets the guest sent, handed to the host."),
	C(REPORT_GUEST_TX, "tx_bytes", tx.bytes,
	  "Bytes of the packets the guest sent, handed to the host."),
	C(REPORT_GUEST_TX, "tx_requests", tx.requests, "TX ring requests consumed."),
	C(REPORT_GUEST_TX, "tx_batches", tx.batches, "TX batches answered."),
	C(REPORT_GUEST_TX, "tx_dropped", tx.dropped,
	  "Packets the guest sent that were dropped, any reason."),
	C(REPORT_GUEST_TX, "tx_errors", tx_errors,
	  "Packets the guest sent that were dropped for its own fault (every drop but the host's)."),
	C(REPORT_GUEST_TX, "tx_csum_completed", tx.csum_completed,
	  "Checksums the guest left blank, finished here."),
	C(REPORT_GUEST_TX, "tx_csum_partial", tx.csum_partial,
	  "Checksums the guest left blank, handed to the host as partial."),
	C(REPORT_GUEST_TX, "tx_gso", tx.gso_packets, "GSO packets the guest sent."),
	C(REPORT_GUEST_TX, "tx_gso_csum_fixup", tx.gso_csum_fixup,
	  "GSO packets the guest sent without a blank checksum, fixed up."),
	C(REPORT_GUEST_TX, "tx_mcast_ops", tx.mcast_ops,
	  "Multicast filter requests (add or remove) from the guest."),
	C(REPORT_TX_DROPS, "tx_drop_slots_over", tx.drop[ENGINE_TX_DROP_SLOTS_OVER],
	  "Guest packets dropped: more slots than XEN_NETIF_NR_SLOTS_MIN."),
	C(REPORT_TX_DROPS, "tx_drop_size_underflow", tx.drop[ENGINE_TX_DROP_SIZE_UNDERFLOW],
	  "Guest packets dropped: fragments longer than the packet."),
	C(REPORT_TX_DROPS, "tx_drop_runt", tx.drop[ENGINE_TX_DROP_RUNT],
	  "Guest packets dropped: first slot shorter than an Ethernet header."),
	C(REPORT_TX_DROPS, "tx_drop_bad_extra", tx.drop[ENGINE_TX_DROP_BAD_EXTRA],
	  "Guest packets dropped: extra info unknown or not negotiated."),
	C(REPORT_TX_DROPS, "tx_drop_bad_gso", tx.drop[ENGINE_TX_DROP_BAD_GSO],
	  "Guest packets dropped: bad GSO type, size or headers."),
	C(REPORT_TX_DROPS, "tx_drop_bad_csum", tx.drop[ENGINE_TX_DROP_BAD_CSUM],
	  "Guest packets dropped: blank checksum on headers that cannot be checksummed."),
	C(REPORT_TX_DROPS, "tx_drop_copy", tx.drop[ENGINE_TX_DROP_COPY],
	  "Guest packets dropped: a grant copy failed."),
	C(REPORT_TX_DROPS, "tx_drop_host", tx.drop[ENGINE_TX_DROP_HOST],
	  "Guest packets dropped: the host side refused them."),
	C(REPORT_TX_DROPS, "tx_drop_mcast_full", tx.drop[ENGINE_TX_DROP_MCAST_FULL],
	  "Guest multicast subscriptions refused: the filter table is full."),
	C(REPORT_GUEST_TX, "tx_rate_deferrals", credit.deferrals,
	  "Times guest TX waited for credit under the vif's rate limit."),
	C(REPORT_GUEST_TX, "tx_rate_early_checks", credit.early_checks,
	  "Rate-limit checks made while still waiting for credit."),
	C(REPORT_GUEST_TX, "tx_rate_clock_backsteps", credit.clock_backsteps,
	  "Times the rate limiter saw the clock go back."),
	C(REPORT_GUEST_RX, "rx_packets", rx.packets, "Packets delivered into the guest."),
	C(REPORT_GUEST_RX, "rx_bytes", rx.bytes, "Bytes of the packets delivered into the guest."),
	C(REPORT_GUEST_RX, "rx_responses", rx.responses, "RX ring responses written."),
	C(REPORT_GUEST_RX, "rx_batches", rx.batches, "RX batches published."),
	C(REPORT_GUEST_RX, "rx_dropped", rx.dropped,
	  "Packets for the guest that were dropped on the ring, any reason."),
	C(REPORT_GUEST_RX, "rx_csum_completed", rx.csum_completed,
	  "Partial checksums finished here for a guest that cannot take them."),
	C(REPORT_GUEST_RX, "rx_gso", rx.gso_packets, "GSO packets delivered into the guest."),
	C(REPORT_GUEST_RX, "rx_hash_extras", rx.hash_extras,
	  "Packets delivered into the guest with their hash (XEN_NETIF_EXTRA_TYPE_HASH)."),
	C(REPORT_RX_DROPS, "rx_drop_empty", rx.drop[ENGINE_RX_DROP_EMPTY],
	  "Packets for the guest dropped: zero length."),
	C(REPORT_RX_DROPS, "rx_drop_too_big", rx.drop[ENGINE_RX_DROP_TOO_BIG],
	  "Packets for the guest dropped: more slots than allowed or negotiated."),
	C(REPORT_RX_DROPS, "rx_drop_gso", rx.drop[ENGINE_RX_DROP_GSO],
	  "Packets for the guest dropped: a GSO type it did not ask for."),
	C(REPORT_RX_DROPS, "rx_drop_csum", rx.drop[ENGINE_RX_DROP_CSUM],
	  "Packets for the guest dropped: a partial checksum it cannot take, not finished here."),
	C(REPORT_RX_DROPS, "rx_drop_copy", rx.drop[ENGINE_RX_DROP_COPY],
	  "Packets for the guest dropped: a grant copy failed."),
	ALIAS(REPORT_RX_DROPS, "rx_copy_errors", rx.drop[ENGINE_RX_DROP_COPY],
	  "Same as rx_drop_copy."),
	C(REPORT_HOST_RX, "rx_host_unsupported", q.rx_host_unsupported,
	  "Host frames the netif protocol cannot carry, dropped."),
	C(REPORT_HOST_RX, "rx_mcast_filtered", q.rx_mcast_filtered,
	  "Host multicast frames the guest did not subscribe to, dropped."),
	C(REPORT_HOST_RX, "rx_queue_drops", q.rx_queue_drops,
	  "Host frames dropped from the queue after the guest posted no buffers for too long."),
	C(REPORT_HOST_RX, "rx_stalls", q.rx_stalls,
	  "Times host frames waited for guest RX buffers."),
	C(REPORT_HOST_RX, "rx_stall_carrier_off", q.rx_stall_carrier_off,
	  "Times the guest posted no RX buffers for rx_stall_timeout: carrier dropped."),
	/* Counted on the queue whose TAP fd the frame was read from (vif.c). */
	C(REPORT_HOST_RX, "rx_hash_steered", q.rx_hash_steered,
	  "Host frames read on this queue that the guest's hash mapping gives to another "
	  "queue: handed to it."),
	C(REPORT_HOST_RX, "rx_hash_misqueued", q.rx_hash_misqueued,
	  "Host frames the guest's hash mapping gives to another queue that were delivered "
	  "on this one instead (that queue's inbox was full)."),
	C(REPORT_EVENTS, "events", q.events, "Event channel notifications from the guest."),
	C(REPORT_EVENTS, "spurious_events", q.spurious_events,
	  "Notifications from the guest that brought no work."),
	C(REPORT_EVENTS, "eoi_delayed", q.eoi_delayed,
	  "Event channel unmasks held back after spurious notifications."),
	C(REPORT_EVENTS, "notify_tx", q.notify_tx,
	  "Notifications sent to the guest for TX responses."),
	C(REPORT_EVENTS, "notify_rx", q.notify_rx,
	  "Notifications sent to the guest for RX responses."),
	C(REPORT_EVENTS, "copy_batches", q.copy_batches, "Grant copy calls."),
	C(REPORT_EVENTS, "copy_errors", q.copy_errors, "Grant copy calls that failed as a whole."),
};
const unsigned report_nr_counters = sizeof(report_counters) / sizeof(report_counters[0]);

#define NR_COUNTERS (sizeof(report_counters) / sizeof(report_counters[0]))

/* Text lines, one per group: a title, and the prefix its names share. */
static const struct {
	const char *title, *prefix;
} groups[] = {
	[REPORT_GUEST_TX] = { "guest tx:", "tx_" },
	[REPORT_TX_DROPS] = { "tx drops:", "tx_drop_" },
	[REPORT_GUEST_RX] = { "guest rx:", "rx_" },
	[REPORT_RX_DROPS] = { "rx drops:", "rx_drop_" },
	[REPORT_HOST_RX] = { "host rx:", "rx_" },
	[REPORT_EVENTS] = { "events:", "" },
};

void report_sample_queue(const struct vif_queue *q, struct report_sample *s)
{
	s->tx = q->tx.stats;
	s->rx = q->rx.stats;
	s->q = q->stats;
	s->credit = q->credit.stats;
	s->tx_errors = s->tx.dropped - s->tx.drop[ENGINE_TX_DROP_HOST];
}

/* The counters of @q, in report_counters[] order. */
static void queue_values(const struct vif_queue *q, uint64_t *val)
{
	struct report_sample s;

	report_sample_queue(q, &s);
	for (unsigned i = 0; i < NR_COUNTERS; i++)
		memcpy(&val[i], (const char *)&s + report_counters[i].off, sizeof(val[i]));
}

/* ---- small writers ----------------------------------------------------- */

static const char *state_name(int s)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
		"Closing", "Closed", "Reconfiguring", "Reconfigured",
	};
	return s >= 0 && s <= XenbusStateReconfigured ? names[s] : "?";
}

/* @s as a JSON string: names and paths come from XenStore, reasons may quote them. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void vif_name(const struct vif *v, char *buf, size_t len)
{
	snprintf(buf, len, "vif%u.%u", v->domid, v->devid);
}

static bool wanted(const struct vif *v, const char *only)
{
	char name[32];

	if (!only || !*only)
		return true;
	vif_name(v, name, sizeof(name));
	return strcmp(name, only) == 0;
}

#define U(x) ((unsigned long long)(x))

/* ---- list -------------------------------------------------------------- */

/* Why the vif's TAP is unusable ("" while it is fine): the guest's frames are dropped. */
static void tap_lost_str(const struct vif *v, char *buf, size_t len)
{
	if (!v->tap_lost)
		buf[0] = '\0';
	else if (v->tap_lost == EBADFD || v->tap_lost == ENXIO || v->tap_lost == ENODEV)
		snprintf(buf, len, "removed by the host");
	else
		snprintf(buf, len, "%s", strerror(v->tap_lost));
}

static void fmt_list(struct worker *d, const char *only, bool json, FILE *out)
{
	bool first = true;

	for (struct vif *v = d->vifs; v; v = v->next) {
		char lost[64];

		if (!wanted(v, only))
			continue;
		tap_lost_str(v, lost, sizeof(lost));
		if (json) {
			fprintf(out, "%s{\"name\":\"vif%u.%u\",\"domid\":%u,\"devid\":%u,\"state\":\"%s\","
				"\"tap\":", first ? "" : ",", v->domid, v->devid, v->domid, v->devid,
				state_name(v->state));
			json_str(out, v->ifname);
			fputs(",\"tap_lost\":", out);
			json_str(out, lost);
			fputs(",\"frontend\":", out);
			json_str(out, v->fe_path);
			fputs(",\"broken\":", out);
			json_str(out, v->broken);
			fputs(",\"broken_on\":", out);
			json_str(out, v->broken_where);
			fputc('}', out);
		} else {
			bool on = v->broken_where[0];

			fprintf(out, "vif%u.%u  %-10s tap %-12s frontend %s%s%s%s%s%s%s%s\n", v->domid,
				v->devid, state_name(v->state), v->ifname, v->fe_path,
				lost[0] ? "  TAP lost: " : "", lost,
				v->broken[0] ? "  broken: " : "", v->broken, on ? " (on " : "",
				on ? v->broken_where : "", on ? ")" : "");
		}
		first = false;
	}
}

/* ---- stats ------------------------------------------------------------- */

/* One block of text: a line per group, "name value" pairs, wrapped. */
static void text_counters(const uint64_t *val, FILE *out)
{
	for (unsigned g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		size_t pre = strlen(groups[g].prefix);
		int col = fprintf(out, "  %-10s", groups[g].title);

		for (unsigned i = 0; i < NR_COUNTERS; i++) {
			const struct report_counter *c = &report_counters[i];
			const char *label = c->name;

			if (c->group != g || c->alias)
				continue;
			if (strncmp(label, groups[g].prefix, pre) == 0)
				label += pre;
			if (col > 80)
				col = fprintf(out, "\n  %-10s", "") - 1;
			col += fprintf(out, " %s %llu", label, U(val[i]));
		}
		fputc('\n', out);
	}
}

static void json_counters(const uint64_t *val, FILE *out)
{
	for (unsigned i = 0; i < NR_COUNTERS; i++)
		fprintf(out, ",\"%s\":%llu", report_counters[i].name, U(val[i]));
}

/*
 * Text: a block per queue, then the vif's total. JSON: one object per queue,
 * then IPC_CTL_RUN_SEP and one object per vif with the sums ("totals").
 */
static void fmt_stats(struct worker *d, const char *only, bool json, FILE *out)
{
	uint64_t val[NR_COUNTERS], sum[NR_COUNTERS];
	char *totals = NULL;
	size_t totals_len = 0;
	FILE *tot = json ? open_memstream(&totals, &totals_len) : out;
	bool first = true, first_total = true;

	if (!tot)
		return;
	for (struct vif *v = d->vifs; v; v = v->next) {
		char name[32];

		if (!wanted(v, only))
			continue;
		vif_name(v, name, sizeof(name));
		memset(sum, 0, sizeof(sum));
		for (unsigned i = 0; i < v->nr_queues; i++) {
			queue_values(&v->queues[i], val);
			for (unsigned k = 0; k < NR_COUNTERS; k++)
				sum[k] += val[k];
			if (json) {
				fprintf(out, "%s{\"name\":\"%s\",\"domid\":%u,\"devid\":%u,\"queue\":%u,"
					"\"state\":\"%s\",\"broken\":", first ? "" : ",", name, v->domid,
					v->devid, i, state_name(v->state));
				json_str(out, v->broken);
				json_counters(val, out);
				fputc('}', out);
			} else {
				fprintf(out, "%s queue %u (%s)%s%s\n", name, i, state_name(v->state),
					v->broken[0] ? " broken: " : "", v->broken);
				text_counters(val, out);
			}
			first = false;
		}
		if (json) {
			fprintf(tot, "%s{\"name\":\"%s\",\"domid\":%u,\"devid\":%u,\"queues\":%u",
				first_total ? "" : ",", name, v->domid, v->devid,
				v->nr_queues);
			json_counters(sum, tot);
			fputc('}', tot);
			first_total = false;
		} else {
			fprintf(out, "%s total (%u queue%s)\n", name, v->nr_queues,
				v->nr_queues == 1 ? "" : "s");
			text_counters(sum, out);
		}
	}
	if (json) {
		fclose(tot);
		fputc(IPC_CTL_RUN_SEP, out);
		fwrite(totals, 1, totals_len, out);
		free(totals);
	}
}

/*
 * Prometheus text format 0.0.4: per family its HELP, TYPE and a sample per
 * queue. Queues only, no totals: `sum without (queue)` makes them, and a
 * total series beside the queues would be counted twice by any sum. This
 * part covers one guest; the supervisor regroups the families of all.
 */
static void fmt_prometheus(struct worker *d, const char *only, FILE *out)
{
	for (unsigned k = 0; k < NR_COUNTERS; k++) {
		const struct report_counter *c = &report_counters[k];

		if (c->alias)
			continue;
		fprintf(out, "# HELP xnb_%s_total %s\n# TYPE xnb_%s_total counter\n", c->name, c->help,
			c->name);
		for (struct vif *v = d->vifs; v; v = v->next) {
			if (!wanted(v, only))
				continue;
			for (unsigned i = 0; i < v->nr_queues; i++) {
				uint64_t val[NR_COUNTERS];

				queue_values(&v->queues[i], val);
				fprintf(out, "xnb_%s_total{vif=\"vif%u.%u\",domid=\"%u\",devid=\"%u\","
					"queue=\"%u\"} %llu\n", c->name, v->domid, v->devid, v->domid,
					v->devid, i, U(val[k]));
			}
		}
	}
}

/* ---- reset ------------------------------------------------------------- */

/*
 * Zero @q's counters. The caller holds whatever protects them from the
 * queue's data path: today the worker's one thread runs both, so nothing;
 * with a thread per queue, the queue's stats lock (taken in report_reset()).
 */
static void reset_queue(struct vif_queue *q)
{
	memset(&q->tx.stats, 0, sizeof(q->tx.stats));
	memset(&q->rx.stats, 0, sizeof(q->rx.stats));
	memset(&q->stats, 0, sizeof(q->stats));
	memset(&q->credit.stats, 0, sizeof(q->credit.stats));
}

unsigned report_reset(struct worker *d, const char *only)
{
	unsigned n = 0;

	for (struct vif *v = d->vifs; v; v = v->next) {
		if (!wanted(v, only))
			continue;
		for (unsigned i = 0; i < v->nr_queues; i++)
			reset_queue(&v->queues[i]); /* queue threads: lock q's stats around this */
		n++;
	}
	return n;
}

static void fmt_reset(struct worker *d, const char *only, bool json, FILE *out)
{
	bool first = true;

	for (struct vif *v = d->vifs; v; v = v->next) {
		if (!wanted(v, only))
			continue;
		if (json)
			fprintf(out, "%s{\"name\":\"vif%u.%u\",\"queues\":%u}", first ? "" : ",",
				v->domid, v->devid, v->nr_queues);
		else
			fprintf(out, "vif%u.%u: counters of %u queue%s reset\n", v->domid, v->devid,
				v->nr_queues, v->nr_queues == 1 ? "" : "s");
		first = false;
	}
	report_reset(d, only);
}

/* ---- show -------------------------------------------------------------- */

/*
 * A writer of nested fields for both formats. JSON: {"key":value,...};
 * text: "key: value" lines indented by depth, a list's items on its line.
 */
#define EMIT_DEPTH 4
struct emit {
	FILE *out;
	bool json;
	unsigned depth;
	char kind[EMIT_DEPTH];      /* '{' or '[' at each open level */
	unsigned count[EMIT_DEPTH]; /* members written at each level */
};

/* Text: "key:" padded to this width, so that values line up one space after. */
#define EMIT_TEXT_COLUMN 21

static void emit_member(struct emit *e, const char *key, bool pad)
{
	unsigned n = e->count[e->depth]++;
	int indent = 2 * (int)(e->depth - 1);

	/* An item has no key (callers pass NULL; saying so lets -O3 see it). */
	if (e->kind[e->depth] == '[' || !key) {
		if (e->json && n)
			fputc(',', e->out);
		return; /* an item: its value follows */
	}
	if (e->json) {
		fprintf(e->out, "%s\"%s\":", n ? "," : "", key);
		return;
	}
	pad = pad && indent + (int)strlen(key) + 1 < EMIT_TEXT_COLUMN;
	fprintf(e->out, "%*s%s:%*s", indent, "", key,
		pad ? EMIT_TEXT_COLUMN - indent - (int)strlen(key) - 1 : 0, "");
}

/* A scalar: @text, quoted in JSON if @quote. */
static void emit_value(struct emit *e, const char *key, const char *text, bool quote)
{
	emit_member(e, key, true);
	if (e->json && quote)
		json_str(e->out, text);
	else
		fprintf(e->out, e->json ? "%s" : " %s", text);
	if (!e->json && e->kind[e->depth] != '[')
		fputc('\n', e->out);
}

static void emit_uint(struct emit *e, const char *key, unsigned long long x)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", x);
	emit_value(e, key, buf, false);
}

static void emit_bool(struct emit *e, const char *key, bool b)
{
	emit_value(e, key, e->json ? (b ? "true" : "false") : (b ? "yes" : "no"), false);
}

/* Open an object ('{') or a list ('['); @key NULL for the outermost. */
static void emit_open(struct emit *e, const char *key, char kind)
{
	if (key)
		emit_member(e, key, kind == '[');
	if (e->json)
		fputc(kind, e->out);
	else if (key && kind == '{')
		fputc('\n', e->out);
	if (e->depth + 1 < EMIT_DEPTH) {
		e->depth++;
		e->kind[e->depth] = kind;
		e->count[e->depth] = 0;
	}
}

static void emit_close(struct emit *e)
{
	char kind = e->kind[e->depth];

	if (e->json)
		fputc(kind == '{' ? '}' : ']', e->out);
	else if (kind == '[')
		fputs(e->count[e->depth] ? "\n" : " none\n", e->out);
	if (e->depth)
		e->depth--;
}

static void show_name(struct emit *e, const char *key, const struct vif *v)
{
	char name[32];

	vif_name(v, name, sizeof(name));
	emit_value(e, key, name, true);
}

static void show_domid(struct emit *e, const char *key, const struct vif *v)
{
	emit_uint(e, key, v->domid);
}

static void show_devid(struct emit *e, const char *key, const struct vif *v)
{
	emit_uint(e, key, v->devid);
}

static void show_state(struct emit *e, const char *key, const struct vif *v)
{
	emit_value(e, key, state_name(v->state), true);
}

static void show_connected(struct emit *e, const char *key, const struct vif *v)
{
	emit_bool(e, key, v->connected);
}

static void show_broken(struct emit *e, const char *key, const struct vif *v)
{
	emit_value(e, key, v->broken, true);
}

static void show_broken_on(struct emit *e, const char *key, const struct vif *v)
{
	emit_value(e, key, v->broken_where, true);
}

static void show_tap(struct emit *e, const char *key, const struct vif *v)
{
	emit_value(e, key, v->ifname, true);
}

static void show_tap_lost(struct emit *e, const char *key, const struct vif *v)
{
	char why[64];

	tap_lost_str(v, why, sizeof(why));
	emit_value(e, key, why, true);
}

static void show_frontend(struct emit *e, const char *key, const struct vif *v)
{
	emit_value(e, key, v->fe_path, true);
}

static void show_backend(struct emit *e, const char *key, const struct vif *v)
{
	emit_value(e, key, v->be_path, true);
}

static void show_mtu(struct emit *e, const char *key, const struct vif *v)
{
	emit_uint(e, key, v->mtu);
}

static void show_queues(struct emit *e, const char *key, const struct vif *v)
{
	emit_uint(e, key, v->nr_queues);
}

static void show_max_queues(struct emit *e, const char *key, const struct vif *v)
{
	emit_uint(e, key, v->max_queues);
}

/* The `rate` node as applied: "unlimited", or "<bytes>,<usec>" as libxl writes it. */
static void show_rate(struct emit *e, const char *key, const struct vif *v)
{
	char r[48] = "unlimited";

	if (v->rate_bytes != XSVALUE_RATE_UNLIMITED && v->rate_usec)
		snprintf(r, sizeof(r), "%llu,%u", (unsigned long long)v->rate_bytes, v->rate_usec);
	emit_value(e, key, r, true);
}

static void show_carrier(struct emit *e, const char *key, const struct vif *v)
{
	emit_bool(e, key, v->carrier);
}

/* What the frontend asked for; xnbd offers every one of them (xenbus.c). */
static void show_features(struct emit *e, const char *key, const struct vif *v)
{
	static const struct {
		const char *name;
		size_t off;
	} feat[] = {
		{ "sg", offsetof(struct vif_features, sg) },
		{ "gso_tcpv4", offsetof(struct vif_features, gso_tcpv4) },
		{ "gso_tcpv6", offsetof(struct vif_features, gso_tcpv6) },
		{ "csum", offsetof(struct vif_features, csum) },
		{ "ipv6_csum", offsetof(struct vif_features, ipv6_csum) },
		{ "mcast_control", offsetof(struct vif_features, mcast_control) },
	};

	emit_open(e, key, '{');
	for (unsigned i = 0; i < sizeof(feat) / sizeof(feat[0]); i++)
		emit_bool(e, feat[i].name, *(const bool *)((const char *)&v->fe + feat[i].off));
	emit_close(e);
}

/* Split: a port each for TX and RX (only known while connected). */
static void show_split(struct emit *e, const char *key, const struct vif *v)
{
	bool split = false;

	for (unsigned i = 0; v->connected && i < v->nr_queues; i++)
		split |= v->queues[i].port_tx != v->queues[i].port_rx;
	emit_bool(e, key, split);
}

static void show_mcast(struct emit *e, const char *key, const struct vif *v)
{
	emit_open(e, key, '[');
	for (unsigned i = 0; i < v->nr_mcast && i < VIF_MCAST_MAX; i++) {
		const uint8_t *a = v->mcast[i];
		char mac[18];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3],
			 a[4], a[5]);
		emit_value(e, NULL, mac, true);
	}
	emit_close(e);
}

/*
 * The control ring: whether the frontend connected one, how many requests
 * it made and how many were refused (any status but SUCCESS), and its
 * event channel's notifications (spurious: bringing no request).
 */
static void show_ctrl_ring(struct emit *e, const char *key, const struct vif *v)
{
	const struct vif_ctrl *c = &v->ctrl;
	const struct engine_ctrl_stats *st = &c->eng.stats;

	emit_open(e, key, '{');
	emit_bool(e, "connected", v->connected && c->connected);
	emit_uint(e, "requests", st->requests);
	emit_uint(e, "refused", st->requests - st->status[XEN_NETIF_CTRL_STATUS_SUCCESS]);
	emit_uint(e, "events", c->events);
	emit_uint(e, "spurious_events", c->spurious_events);
	emit_uint(e, "eoi_delayed", c->eoi_delayed);
	emit_close(e);
}

/* What the frontend set over its control ring: algorithm none without one. */
static void show_hash(struct emit *e, const char *key, const struct vif *v)
{
	static const char *const types[] = {
		[_XEN_NETIF_CTRL_HASH_TYPE_IPV4] = "ipv4",
		[_XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP] = "ipv4_tcp",
		[_XEN_NETIF_CTRL_HASH_TYPE_IPV6] = "ipv6",
		[_XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP] = "ipv6_tcp",
	};
	const struct engine_hash *h = &v->ctrl.eng.hash;

	emit_open(e, key, '{');
	emit_value(e, "algorithm",
		   h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ? "toeplitz" : "none", true);
	emit_open(e, "flags", '[');
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (h->flags & (1u << i))
			emit_value(e, NULL, types[i], true);
	emit_close(e);
	emit_uint(e, "mapping_size", h->size);
	emit_close(e);
}

/* `show`'s fields, in order: a new one is a row here and a function above. */
static const struct {
	const char *name;
	void (*put)(struct emit *e, const char *key, const struct vif *v);
} show_fields[] = {
	{ "name", show_name },
	{ "domid", show_domid },
	{ "devid", show_devid },
	{ "state", show_state },
	{ "connected", show_connected },
	{ "broken", show_broken },
	{ "broken_on", show_broken_on },
	{ "tap", show_tap },
	{ "tap_lost", show_tap_lost },
	{ "frontend", show_frontend },
	{ "backend", show_backend },
	{ "mtu", show_mtu },
	{ "queues", show_queues },
	{ "max_queues", show_max_queues },
	{ "rate", show_rate },
	{ "carrier", show_carrier },
	{ "features", show_features },
	{ "split_event_channels", show_split },
	{ "multicast", show_mcast },
	{ "ctrl_ring", show_ctrl_ring },
	{ "hash", show_hash },
};

static void fmt_show(struct worker *d, const char *only, bool json, FILE *out)
{
	bool first = true;

	for (struct vif *v = d->vifs; v; v = v->next) {
		struct emit e = { .out = out, .json = json, .kind = { '{' } };

		if (!wanted(v, only))
			continue;
		if (json && !first)
			fputc(',', out);
		emit_open(&e, NULL, '{');
		for (unsigned i = 0; i < sizeof(show_fields) / sizeof(show_fields[0]); i++)
			show_fields[i].put(&e, show_fields[i].name, v);
		emit_close(&e);
		fputs(json ? "" : "\n", out);
		first = false;
	}
}

/* ---- dump-rings -------------------------------------------------------- */

static void fmt_rings(struct worker *d, const char *only, bool json, FILE *out)
{
	bool first = true;

	for (struct vif *v = d->vifs; v; v = v->next) {
		if (!wanted(v, only))
			continue;
		for (unsigned i = 0; i < v->nr_queues && v->connected; i++) {
			const struct vif_queue *q = &v->queues[i];
			const netif_tx_sring_t *ts = q->tx.ring.sring;
			const netif_rx_sring_t *rs = q->rx.ring.sring;
			unsigned tv[6] = { ts->req_prod, ts->req_event, ts->rsp_prod, ts->rsp_event,
					   q->tx.ring.req_cons, q->tx.ring.rsp_prod_pvt };
			unsigned rv[6] = { rs->req_prod, rs->req_event, rs->rsp_prod, rs->rsp_event,
					   q->rx.ring.req_cons, q->rx.ring.rsp_prod_pvt };

			if (json) {
				fprintf(out, "%s{\"name\":\"vif%u.%u\",\"queue\":%u,"
					"\"tx\":{\"req_prod\":%u,\"req_event\":%u,\"rsp_prod\":%u,"
					"\"rsp_event\":%u,\"req_cons\":%u,\"rsp_prod_pvt\":%u},"
					"\"rx\":{\"req_prod\":%u,\"req_event\":%u,\"rsp_prod\":%u,"
					"\"rsp_event\":%u,\"req_cons\":%u,\"rsp_prod_pvt\":%u,"
					"\"host_queue\":%u}}",
					first ? "" : ",", v->domid, v->devid, i, tv[0], tv[1], tv[2], tv[3],
					tv[4], tv[5], rv[0], rv[1], rv[2], rv[3], rv[4], rv[5], q->rxq_count);
			} else {
				fprintf(out, "vif%u.%u queue %u\n", v->domid, v->devid, i);
				fprintf(out, "  tx: req_prod %u req_event %u rsp_prod %u rsp_event %u | "
					"req_cons %u rsp_prod_pvt %u\n", tv[0], tv[1], tv[2], tv[3], tv[4], tv[5]);
				fprintf(out, "  rx: req_prod %u req_event %u rsp_prod %u rsp_event %u | "
					"req_cons %u rsp_prod_pvt %u, host queue %u\n",
					rv[0], rv[1], rv[2], rv[3], rv[4], rv[5], q->rxq_count);
			}
			first = false;
		}
	}
}

/* ---- requests ---------------------------------------------------------- */

/* A request's words: a command, flags, and at most one vif name. */
struct request {
	char cmd[32];
	char vif[32];
	bool json, prometheus, reset;
};

static void parse(const char *text, struct request *r)
{
	char buf[IPC_CTL_REQUEST_MAX + 1], *save = NULL;

	memset(r, 0, sizeof(*r));
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (!r->cmd[0])
			snprintf(r->cmd, sizeof(r->cmd), "%s", w);
		else if (strcmp(w, "json") == 0)
			r->json = true;
		else if (strcmp(w, "prometheus") == 0)
			r->prometheus = true;
		else if (strcmp(w, "reset") == 0)
			r->reset = true;
		else
			snprintf(r->vif, sizeof(r->vif), "%s", w);
	}
}

void report_format(struct worker *d, const char *text, FILE *out)
{
	struct request r;

	parse(text, &r);
	if (strcmp(r.cmd, "list") == 0) {
		fmt_list(d, r.vif, r.json, out);
	} else if (strcmp(r.cmd, "stats") == 0) {
		if (r.prometheus)
			fmt_prometheus(d, r.vif, out);
		else
			fmt_stats(d, r.vif, r.json, out);
		/* Read and clear in one step: nothing counted in between is lost. */
		if (r.reset)
			report_reset(d, r.vif);
	} else if (strcmp(r.cmd, "reset") == 0) {
		fmt_reset(d, r.vif, r.json, out);
	} else if (strcmp(r.cmd, "show") == 0) {
		fmt_show(d, r.vif, r.json, out);
	} else if (strcmp(r.cmd, "dump-rings") == 0) {
		fmt_rings(d, r.vif, r.json, out);
	}
}
