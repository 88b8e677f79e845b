/* SPDX-License-Identifier: MIT */
/*
 * test_report.c - the worker's control answers (report.c) over vifs made
 * here: every counter has a row, each format shows it, totals sum the
 * queues, reset zeroes them, `show` shows what the vif negotiated.
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

#include "ipc.h"
#include "report.h"
#include "xsvalue.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define VIF_MAX_QUEUES_STR STR(VIF_MAX_QUEUES)

static struct vif *make_vif(unsigned domid, unsigned devid)
{
	struct vif *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	v->domid = domid;
	v->devid = devid;
	v->state = XenbusStateConnected;
	v->nr_queues = VIF_MAX_QUEUES;
	snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", domid, devid);
	v->rate_bytes = XSVALUE_RATE_UNLIMITED;
	snprintf(v->fe_path, sizeof(v->fe_path), "/local/domain/%u/device/vif/%u", domid, devid);
	snprintf(v->be_path, sizeof(v->be_path), "/local/domain/0/backend/vif/%u/%u", domid,
		 devid);
	return v;
}

/* Counter k of queue i: distinct everywhere, so a mix-up shows. */
static uint64_t value(unsigned vif, unsigned queue, unsigned k)
{
	return 1000000u * (vif + 1) + 1000u * (queue + 1) + k;
}

static void fill(struct vif *v, unsigned nr)
{
	for (unsigned i = 0; i < v->nr_queues; i++) {
		struct vif_queue *q = &v->queues[i];
		uint64_t *tx = (uint64_t *)&q->tx.stats, *rx = (uint64_t *)&q->rx.stats;
		uint64_t *qs = (uint64_t *)&q->stats;
		unsigned k = 0;

		for (size_t j = 0; j < sizeof(q->tx.stats) / 8; j++)
			tx[j] = value(nr, i, k++);
		for (size_t j = 0; j < sizeof(q->rx.stats) / 8; j++)
			rx[j] = value(nr, i, k++);
		for (size_t j = 0; j < sizeof(q->stats) / 8; j++)
			qs[j] = value(nr, i, k++);
		for (size_t j = 0; j < sizeof(q->credit.stats) / 8; j++)
			((uint64_t *)&q->credit.stats)[j] = value(nr, i, k++);
		/* tx_errors = dropped - host drops must not wrap */
		q->tx.stats.drop[ENGINE_TX_DROP_HOST] = 7;
	}
}

static struct worker *make_worker(void)
{
	struct worker *d = calloc(1, sizeof(*d));
	struct vif *a, *b;

	assert_non_null(d);
	a = make_vif(7, 0);
	b = make_vif(7, 1);
	fill(a, 0);
	fill(b, 1);
	a->next = b;
	d->vifs = a;
	return d;
}

static void free_worker(struct worker *d)
{
	while (d->vifs) {
		struct vif *v = d->vifs;

		d->vifs = v->next;
		free(v);
	}
	free(d);
}

/*
 * The answer to @request, NUL-terminated; the caller frees it. Printed on
 * stderr when TEST_REPORT_PRINT is set. (Not inlined: GCC 12 then takes the
 * result for a pointer to the local it was stored in.)
 */
__attribute__((noinline)) static char *ask(struct worker *d, const char *request)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	report_format(d, request, out);
	fclose(out);
	if (getenv("TEST_REPORT_PRINT"))
		fprintf(stderr, "--- %s\n%s\n", request, buf);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every 8 bytes of the three stats structs are a row, except the NONE drop slots. */
static void test_every_counter_has_a_row(void **state)
{
	size_t words = offsetof(struct report_sample, tx_errors) / 8 + 1;
	unsigned *rows = calloc(words, sizeof(*rows));

	(void)state;
	assert_non_null(rows);
	for (unsigned k = 0; k < report_nr_counters; k++) {
		const struct report_counter *c = &report_counters[k];

		assert_int_equal(c->off % 8, 0);
		assert_true(c->off / 8 < words);
		if (!c->alias)
			rows[c->off / 8]++;
		for (const char *p = c->name; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
		for (unsigned j = 0; j < k; j++)
			assert_string_not_equal(c->name, report_counters[j].name);
		assert_non_null(c->help);
		assert_null(strchr(c->help, '\n'));
		assert_null(strchr(c->help, '\\'));
	}
	for (size_t w = 0; w < words; w++) {
		size_t off = w * 8;
		bool none = off == offsetof(struct report_sample, tx.drop[ENGINE_TX_DROP_NONE]) ||
			    off == offsetof(struct report_sample, rx.drop[ENGINE_RX_DROP_NONE]);

		if (none)
			assert_int_equal(rows[w], 0);
		else if (rows[w] != 1)
			fail_msg("struct report_sample offset %zu: %u rows", off, rows[w]);
	}
	free(rows);
}

static void test_stats_json(void **state)
{
	struct worker *d = make_worker();
	char *s = ask(d, "stats json"), *sep, key[64];
	struct report_sample r;

	(void)state;
	sep = strchr(s, IPC_CTL_RUN_SEP);
	assert_non_null(sep);
	*sep = '\0';
	/* Queues first (each vif's), then totals: one object each. */
	assert_int_equal(count(s, "\"queue\":"), 2 * VIF_MAX_QUEUES);
	assert_int_equal(count(sep + 1, "\"queues\":"), 2);
	assert_non_null(strstr(s, "{\"name\":\"vif7.0\",\"domid\":7,\"devid\":0,\"queue\":0,"));
	assert_non_null(strstr(sep + 1, "{\"name\":\"vif7.1\",\"domid\":7,\"devid\":1,\"queues\":"));
	for (unsigned k = 0; k < report_nr_counters; k++) {
		snprintf(key, sizeof(key), "\"%s\":", report_counters[k].name);
		assert_int_equal(count(s, key), 2 * VIF_MAX_QUEUES);
		assert_int_equal(count(sep + 1, key), 2);
	}
	/* The totals of vif7.1: its queues summed. */
	{
		uint64_t sum = 0;
		char want[64], *tot = strstr(sep + 1, "\"name\":\"vif7.1\"");

		for (unsigned i = 0; i < VIF_MAX_QUEUES; i++) {
			report_sample_queue(&d->vifs->next->queues[i], &r);
			sum += r.tx.gso_csum_fixup;
		}
		snprintf(want, sizeof(want), "\"tx_gso_csum_fixup\":%llu,", (unsigned long long)sum);
		assert_non_null(tot);
		assert_non_null(strstr(tot, want));
	}
	/* Old names, old meanings. */
	report_sample_queue(&d->vifs->queues[0], &r);
	snprintf(key, sizeof(key), "\"tx_errors\":%llu,",
		 (unsigned long long)(r.tx.dropped - r.tx.drop[ENGINE_TX_DROP_HOST]));
	assert_non_null(strstr(s, key));
	snprintf(key, sizeof(key), "\"rx_copy_errors\":%llu,",
		 (unsigned long long)r.rx.drop[ENGINE_RX_DROP_COPY]);
	assert_non_null(strstr(s, key));
	free(s);
	/* One vif only. */
	s = ask(d, "stats vif7.1 json");
	assert_null(strstr(s, "vif7.0"));
	assert_non_null(strstr(s, "vif7.1"));
	free(s);
	free_worker(d);
}

static void test_stats_text(void **state)
{
	struct worker *d = make_worker();
	char *s = ask(d, "stats vif7.0");
	char want[64];

	(void)state;
	assert_non_null(strstr(s, "vif7.0 queue 0 (Connected)\n"));
	assert_non_null(strstr(s, "vif7.0 total ("));
	assert_null(strstr(s, "vif7.1"));
	/* gso_csum_fixup, copy_errors, the CSUM and EMPTY drops: collected, now shown. */
	snprintf(want, sizeof(want), " gso_csum_fixup %llu",
		 (unsigned long long)d->vifs->queues[0].tx.stats.gso_csum_fixup);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), " copy_errors %llu",
		 (unsigned long long)d->vifs->queues[0].stats.copy_errors);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), " csum %llu",
		 (unsigned long long)d->vifs->queues[0].rx.stats.drop[ENGINE_RX_DROP_CSUM]);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), " empty %llu",
		 (unsigned long long)d->vifs->queues[0].rx.stats.drop[ENGINE_RX_DROP_EMPTY]);
	assert_non_null(strstr(s, want));
	/* The alias is JSON only. */
	assert_int_equal(count(s, "rx_copy_errors"), 0);
	free(s);
	free_worker(d);
}

static void test_prometheus(void **state)
{
	struct worker *d = make_worker();
	char *s = ask(d, "stats prometheus");
	unsigned shown = 0;
	char want[160];

	(void)state;
	for (unsigned k = 0; k < report_nr_counters; k++)
		shown += !report_counters[k].alias;
	assert_int_equal(count(s, "# HELP xnb_"), shown);
	assert_int_equal(count(s, "# TYPE xnb_"), shown);
	assert_int_equal(count(s, " counter\n"), shown);
	assert_int_equal(count(s, "\nxnb_"), shown * 2 * VIF_MAX_QUEUES);
	snprintf(want, sizeof(want),
		 "xnb_rx_drop_csum_total{vif=\"vif7.1\",domid=\"7\",devid=\"1\",queue=\"0\"} %llu\n",
		 (unsigned long long)d->vifs->next->queues[0].rx.stats.drop[ENGINE_RX_DROP_CSUM]);
	assert_non_null(strstr(s, want));
	assert_null(strstr(s, "rx_copy_errors"));
	free(s);
	free_worker(d);
}

static bool all_zero(const struct vif *v)
{
	for (unsigned i = 0; i < v->nr_queues; i++) {
		struct report_sample r;
		const unsigned char *p = (const unsigned char *)&r;

		report_sample_queue(&v->queues[i], &r);
		for (size_t j = 0; j < sizeof(r); j++)
			if (p[j])
				return false;
	}
	return true;
}

static void test_reset(void **state)
{
	struct worker *d = make_worker();
	char *s, want[64];

	(void)state;
	s = ask(d, "reset vif7.1");
	snprintf(want, sizeof(want), "vif7.1: counters of %u queue%s reset\n", VIF_MAX_QUEUES,
		 VIF_MAX_QUEUES == 1 ? "" : "s");
	assert_string_equal(s, want);
	free(s);
	assert_false(all_zero(d->vifs));
	assert_true(all_zero(d->vifs->next));
	/* Read and clear: the answer has the values from before. */
	s = ask(d, "stats reset json");
	assert_non_null(strstr(s, "\"tx_packets\":1001000,"));
	free(s);
	assert_true(all_zero(d->vifs));
	assert_int_equal(report_reset(d, NULL), 2);
	assert_int_equal(report_reset(d, "vif9.0"), 0);
	free_worker(d);
}

static void test_show(void **state)
{
	struct worker *d = make_worker();
	struct vif *v = d->vifs;
	char *s;

	(void)state;
	v->mtu = 9000;
	v->max_queues = 8;
	v->rate_bytes = 62500;
	v->rate_usec = 50000;
	v->carrier = true;
	v->connected = true;
	v->fe.sg = v->fe.gso_tcpv4 = v->fe.csum = v->fe.mcast_control = true;
	v->queues[0].port_tx = 5;
	v->queues[0].port_rx = 6;
	memcpy(v->mcast[0], "\x01\x00\x5e\x00\x00\xfb", 6);
	memcpy(v->mcast[1], "\x33\x33\x00\x00\x00\x01", 6);
	v->nr_mcast = 2;
	snprintf(v->broken, sizeof(v->broken), "a \"quoted\"\treason");
	snprintf(v->broken_where, sizeof(v->broken_where), "queue 1's RX ring");
	/* A control ring, and what the frontend set over it. */
	v->ctrl.connected = true;
	v->ctrl.eng.hash.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	v->ctrl.eng.hash.flags = XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
	v->ctrl.eng.hash.size = 4;
	v->ctrl.eng.stats.requests = 9;
	v->ctrl.eng.stats.status[XEN_NETIF_CTRL_STATUS_SUCCESS] = 7;
	v->ctrl.events = 5;
	v->ctrl.spurious_events = 1;

	s = ask(d, "show vif7.0 json");
	assert_non_null(strstr(s, "{\"name\":\"vif7.0\",\"domid\":7,\"devid\":0,"
				  "\"state\":\"Connected\",\"connected\":true,"
				  "\"broken\":\"a \\\"quoted\\\"\\u0009reason\","
				  "\"broken_on\":\"queue 1's RX ring\",\"tap\":\"vif7.0\","));
	assert_non_null(strstr(s, "\"mtu\":9000,\"queues\":" VIF_MAX_QUEUES_STR ",\"max_queues\":8,"
				  "\"rate\":\"62500,50000\",\"carrier\":true,\"features\":{\"sg\":true,"
				  "\"gso_tcpv4\":true,\"gso_tcpv6\":false,\"csum\":true,"
				  "\"ipv6_csum\":false,\"mcast_control\":true},"
				  "\"split_event_channels\":true,"
				  "\"multicast\":[\"01:00:5e:00:00:fb\",\"33:33:00:00:00:01\"],"));
	assert_non_null(strstr(s, "\"ctrl_ring\":{\"connected\":true,\"requests\":9,"
				  "\"refused\":2,\"events\":5,\"spurious_events\":1,"
				  "\"eoi_delayed\":0},\"hash\":{\"algorithm\":\"toeplitz\","
				  "\"flags\":[\"ipv4\",\"ipv6_tcp\"],\"mapping_size\":4}}"));
	assert_null(strstr(s, "vif7.1"));
	free(s);

	s = ask(d, "show vif7.0");
	assert_non_null(strstr(s, "name:                 vif7.0\n"));
	assert_non_null(strstr(s, "mtu:                  9000\n"));
	assert_non_null(strstr(s, "broken_on:            queue 1's RX ring\n"));
	assert_non_null(strstr(s, "features:\n  sg:                 yes\n"));
	assert_non_null(strstr(s, "split_event_channels: yes\n"));
	assert_non_null(strstr(s, "multicast:            01:00:5e:00:00:fb 33:33:00:00:00:01\n"));
	assert_non_null(strstr(s, "ctrl_ring:\n  connected:          yes\n  requests:           9\n"));
	assert_non_null(strstr(s, "hash:\n  algorithm:          toeplitz\n"
				  "  flags:              ipv4 ipv6_tcp\n  mapping_size:       4\n"));
	free(s);

	s = ask(d, "show json");
	assert_non_null(strstr(s, "},{\"name\":\"vif7.1\""));
	assert_non_null(strstr(s, "\"split_event_channels\":false,\"multicast\":[],"
				  "\"ctrl_ring\":{\"connected\":false,\"requests\":0,\"refused\":0,"
				  "\"events\":0,\"spurious_events\":0,\"eoi_delayed\":0},"
				  "\"hash\":{\"algorithm\":\"none\",\"flags\":[],\"mapping_size\":0}}"));
	free(s);
	s = ask(d, "show vif7.1");
	assert_non_null(strstr(s, "multicast:            none\n"));
	assert_non_null(strstr(s, "  flags:              none\n"));
	free(s);
	free_worker(d);
}

/* A broken vif's reason and ring in list; a ring-less reason (the control ring's) alone. */
static void test_broken_list(void **state)
{
	struct worker *d = make_worker();
	struct vif *v = d->vifs->next;
	char *s;

	(void)state;
	snprintf(v->broken, sizeof(v->broken), "request crosses its page boundary");
	snprintf(v->broken_where, sizeof(v->broken_where), "queue 0's TX ring");
	s = ask(d, "list json");
	assert_non_null(strstr(s, "\"broken\":\"request crosses its page boundary\","
				  "\"broken_on\":\"queue 0's TX ring\"}"));
	assert_non_null(strstr(s, "\"broken\":\"\",\"broken_on\":\"\"}"));
	free(s);
	s = ask(d, "list");
	assert_non_null(strstr(s, "  broken: request crosses its page boundary (on queue 0's TX ring)\n"));
	free(s);
	snprintf(v->broken, sizeof(v->broken), "control ring: bad producer");
	v->broken_where[0] = '\0';
	s = ask(d, "list");
	assert_non_null(strstr(s, "  broken: control ring: bad producer\n"));
	free(s);
	free_worker(d);
}

/* A vif whose TAP the host deleted says so in show and list; the others show "". */
static void test_tap_lost(void **state)
{
	struct worker *d = make_worker();
	char *s;

	(void)state;
	d->vifs->next->tap_lost = EBADFD;
	s = ask(d, "show json");
	assert_non_null(strstr(s, "\"tap\":\"vif7.0\",\"tap_lost\":\"\","));
	assert_non_null(strstr(s, "\"tap\":\"vif7.1\",\"tap_lost\":\"removed by the host\","));
	free(s);
	s = ask(d, "show vif7.1");
	assert_non_null(strstr(s, "tap_lost:             removed by the host\n"));
	free(s);
	s = ask(d, "list json");
	assert_non_null(strstr(s, "\"tap\":\"vif7.1\",\"tap_lost\":\"removed by the host\","));
	free(s);
	s = ask(d, "list");
	assert_non_null(strstr(s, "  TAP lost: removed by the host"));
	assert_null(strstr(strstr(s, "TAP lost") + 1, "TAP lost")); /* vif7.1's line only */
	free(s);
	d->vifs->next->tap_lost = EIO;
	s = ask(d, "show vif7.1 json");
	assert_non_null(strstr(s, "\"tap_lost\":\"Input/output error\""));
	free(s);
	free_worker(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_counter_has_a_row),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_stats_text),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_tap_lost),
		cmocka_unit_test(test_broken_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
