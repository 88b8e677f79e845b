/* SPDX-License-Identifier: MIT */
/*
 * report.h - a worker's answers to control requests, relayed by the
 * supervisor's control socket: `list`, `stats`, `show`, `dump-rings` and
 * `reset`, each with an optional vif name; flags `json`, and for `stats`
 * `prometheus` and `reset` (read, then zero).
 */
#ifndef XNB_BACKEND_REPORT_H
#define XNB_BACKEND_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "worker.h"

/* Everything counted on one queue, and what is derived from it. */
struct report_sample {
	struct engine_tx_stats tx;
	struct engine_rx_stats rx;
	struct vif_queue_stats q;
	struct engine_credit_stats credit;
	uint64_t tx_errors;        /* tx drops the guest caused: all but the host's */
};

/* The line a counter is on in the text format. */
enum report_group {
	REPORT_GUEST_TX, REPORT_TX_DROPS, REPORT_GUEST_RX, REPORT_RX_DROPS,
	REPORT_HOST_RX, REPORT_EVENTS,
};

/* One counter as the formats show it. */
struct report_counter {
	const char *name;          /* stable: JSON key; Prometheus xnb_<name>_total */
	size_t off;                /* of its uint64_t in struct report_sample */
	enum report_group group;
	const char *help;          /* one sentence: Prometheus HELP */
	bool alias;                /* an older JSON name of another row: JSON only */
};

/* Every counter, in the order the formats show them. */
extern const struct report_counter report_counters[];
extern const unsigned report_nr_counters;

/* report_sample_queue() - @q's counters into @s. */
void report_sample_queue(const struct vif_queue *q, struct report_sample *s);

/*
 * report_format() - this worker's part of the answer to @request, into
 * @out: text lines, JSON objects separated by commas (no brackets; `stats`
 * has two such runs, separated by IPC_CTL_RUN_SEP), or Prometheus text.
 * Unknown requests produce nothing (the supervisor answers those).
 */
void report_format(struct worker *d, const char *request, FILE *out);

/*
 * report_reset() - zero the counters of every queue of the vif named @only
 * (every vif if @only is NULL or empty). The queues' data paths must not be
 * counting meanwhile: with queue threads, this is where each queue's stats
 * lock is taken. Returns the number of vifs reset.
 */
unsigned report_reset(struct worker *d, const char *only);

#endif
