/* SPDX-License-Identifier: MIT */
/*
 * report.c - this worker's part of xnbctl's answers: vif list, counters,
 * ring dump. The supervisor asks every worker and joins the parts; in JSON
 * each part is a comma-separated run of objects that the supervisor wraps.
 *
 * The ring dump shows what the seed's dump_rings shows: each ring's shared
 * indices (as the frontend left them: untrusted, shown as they are) and our
 * private ones.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>


static const char *state_name(int s)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
		"Closing", "Closed", "Reconfiguring", "Reconfigured",
	};
	return s >= 0 && s <= XenbusStateReconfigured ? names[s] : "?";
}

static bool wanted(const struct vif *v, const char *only)
{
	char name[32];

	if (!only || !*only)
		return true;
	snprintf(name, sizeof(name), "vif%u.%u", v->domid, v->devid);
	return strcmp(name, only) == 0;
}

#define U(x) ((unsigned long long)(x))

static void fmt_list(struct worker *d, const char *only, bool json, FILE *out)
{
	bool first = true;

	for (struct vif *v = d->vifs; v; v = v->next) {
		if (!wanted(v, only))
			continue;
		if (json)
			fprintf(out, "%s{\"name\":\"vif%u.%u\",\"domid\":%u,\"devid\":%u,\"state\":\"%s\","
				"\"tap\":\"%s\",\"frontend\":\"%s\",\"broken\":\"%s\"}",
				first ? "" : ",", v->domid, v->devid, v->domid, v->devid,
				state_name(v->state), v->ifname, v->fe_path, v->broken);
		else
			fprintf(out, "vif%u.%u  %-10s tap %-12s frontend %s%s%s\n", v->domid, v->devid,
				state_name(v->state), v->ifname, v->fe_path,
				v->broken[0] ? "  broken: " : "", v->broken);
		first = false;
	}
}

static void fmt_stats(struct worker *d, const char *only, bool json, FILE *out)
{
	bool first = true;

	for (struct vif *v = d->vifs; v; v = v->next) {
		if (!wanted(v, only))
			continue;
		for (unsigned i = 0; i < v->nr_queues; i++) {
			const struct vif_queue *q = &v->queues[i];
			const struct engine_tx_stats *t = &q->tx.stats;
			const struct engine_rx_stats *r = &q->rx.stats;
			const struct vif_queue_stats *s = &q->stats;

			if (json) {
				fprintf(out, "%s{\"name\":\"vif%u.%u\",\"queue\":%u,\"state\":\"%s\","
					"\"broken\":\"%s\",\"tx_packets\":%llu,\"tx_bytes\":%llu,"
					"\"tx_dropped\":%llu,\"tx_errors\":%llu,\"tx_csum_partial\":%llu,"
					"\"tx_gso\":%llu,\"rx_packets\":%llu,\"rx_bytes\":%llu,"
					"\"rx_dropped\":%llu,\"rx_copy_errors\":%llu,\"rx_gso\":%llu,"
					"\"rx_queue_drops\":%llu,\"rx_stalls\":%llu,\"rx_mcast_filtered\":%llu,"
					"\"events\":%llu,\"spurious_events\":%llu,\"eoi_delayed\":%llu,\"notify_tx\":%llu,"
					"\"notify_rx\":%llu,\"copy_batches\":%llu}",
					first ? "" : ",", v->domid, v->devid, i, state_name(v->state),
					v->broken, U(t->packets), U(t->bytes), U(t->dropped),
					U(t->dropped - t->drop[ENGINE_TX_DROP_HOST]),
					U(t->csum_partial), U(t->gso_packets), U(r->packets), U(r->bytes),
					U(r->dropped), U(r->drop[ENGINE_RX_DROP_COPY]), U(r->gso_packets),
					U(s->rx_queue_drops), U(s->rx_stalls), U(s->rx_mcast_filtered),
					U(s->events), U(s->spurious_events), U(s->eoi_delayed),
					U(s->notify_tx),
					U(s->notify_rx), U(s->copy_batches));
			} else {
				fprintf(out, "vif%u.%u queue %u (%s)%s%s\n", v->domid, v->devid, i,
					state_name(v->state), v->broken[0] ? " broken: " : "", v->broken);
				fprintf(out, "  guest tx: %llu packets, %llu bytes, %llu dropped "
					"(slots %llu, underflow %llu, runt %llu, extra %llu, gso %llu, "
					"csum %llu, copy %llu, host %llu)\n",
					U(t->packets), U(t->bytes), U(t->dropped),
					U(t->drop[ENGINE_TX_DROP_SLOTS_OVER]),
					U(t->drop[ENGINE_TX_DROP_SIZE_UNDERFLOW]),
					U(t->drop[ENGINE_TX_DROP_RUNT]), U(t->drop[ENGINE_TX_DROP_BAD_EXTRA]),
					U(t->drop[ENGINE_TX_DROP_BAD_GSO]), U(t->drop[ENGINE_TX_DROP_BAD_CSUM]),
					U(t->drop[ENGINE_TX_DROP_COPY]), U(t->drop[ENGINE_TX_DROP_HOST]));
				fprintf(out, "  guest rx: %llu packets, %llu bytes, %llu dropped "
					"(too big %llu, gso %llu, copy %llu), %llu drained, %llu stalls\n",
					U(r->packets), U(r->bytes), U(r->dropped),
					U(r->drop[ENGINE_RX_DROP_TOO_BIG]), U(r->drop[ENGINE_RX_DROP_GSO]),
					U(r->drop[ENGINE_RX_DROP_COPY]), U(s->rx_queue_drops),
					U(s->rx_stalls));
				fprintf(out, "  events %llu (spurious %llu, unmask held back %llu), "
					"notifications tx %llu rx %llu, copy batches %llu\n",
					U(s->events), U(s->spurious_events), U(s->eoi_delayed),
					U(s->notify_tx), U(s->notify_rx), U(s->copy_batches));
			}
			first = false;
		}
	}
}

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

void report_format(struct worker *d, const char *request, FILE *out)
{
	char cmd[32] = "", a1[32] = "", a2[32] = "";
	const char *only;
	bool json;

	sscanf(request, "%31s %31s %31s", cmd, a1, a2);
	json = strcmp(a1, "json") == 0 || strcmp(a2, "json") == 0;
	only = strcmp(a1, "json") == 0 ? a2 : a1;
	if (strcmp(cmd, "list") == 0)
		fmt_list(d, only, json, out);
	else if (strcmp(cmd, "stats") == 0)
		fmt_stats(d, only, json, out);
	else if (strcmp(cmd, "dump-rings") == 0)
		fmt_rings(d, only, json, out);

}
