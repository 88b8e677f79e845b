/* SPDX-License-Identifier: MIT */
/*
 * report.h - a worker's answers to control requests (`list`, `stats`,
 * `dump-rings`, each with an optional vif name and `json`), relayed by the
 * supervisor's control socket.
 */
#ifndef XNB_BACKEND_REPORT_H
#define XNB_BACKEND_REPORT_H

#include <stdio.h>

#include "worker.h"

/*
 * report_format() - this worker's part of the answer to @request, into
 * @out: text lines, or JSON objects separated by commas (no brackets).
 * Unknown requests produce nothing (the supervisor answers those).
 */
void report_format(struct worker *d, const char *request, FILE *out);

#endif
