/* SPDX-License-Identifier: MIT */
/*
 * xenbus_fixture.h - the backend's XenBus state machine (worker/xenbus.c)
 * without I/O, for its unit test (test_xenbus.c) and its fuzzer
 * (../fuzz/fuzz_xenbus.c).
 *
 * Theory of operation. An in-memory XenStore with watches and transactions
 * sits behind a fake platform ops table; the data path (vif_*), the
 * worker's glue (worker_*) and the log are stubbed. The caller plays the
 * toolstack and the frontend by writing nodes with xbf_node_set(): a write
 * queues the watch events a real XenStore would send (watches are
 * recursive, fire once when set, and see the backend's own writes too), and
 * xbf_settle() hands them to xenbus_note_event() / xenbus_watch_events() as
 * the worker's main loop does, until none are left.
 *
 * What the backend does through the ops table is checked as it happens;
 * a breach calls xbf_fail(), which the user provides (cmocka's failure in
 * the test, an abort in the fuzzer):
 *   - every state it writes to a vif's backend `state` node is a transition
 *     of the table written down in xbf_allowed_by_spec() (independently of
 *     the code's xenbus_state_allowed()) from its last write, starting from
 *     Initialising for a vif it probes, or Connected for one it resumes
 *     (xenbus.h) - or from what the toolstack wrote there since (libxl
 *     writes Closing to ask for a close);
 *   - it writes nothing outside the guest's backend dir and its error dir
 *     (never the frontend's nodes);
 *   - it never unwatches what it did not watch;
 *   - vif_connect() runs on a vif not connected already, for 1 .. max_queues
 *     queues, and unless resuming, only with the frontend Initialised or
 *     Connected and the hotplug script's answer in (xenbus.c's gating).
 *
 * Writes inside a transaction are buffered and applied at commit, all or
 * nothing, as xenstored does; xbf_inject, when set, can fail any call the
 * backend makes (a quota, a conflicting commit, a dead connection).
 */
#ifndef XNB_TESTS_XENBUS_FIXTURE_H
#define XNB_TESTS_XENBUS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenbus.h"

/* The guest, its vif 0 as the toolstack lays it out, and our error node for it. */
#define GUEST 7u
#define GUEST_DIR "/local/domain/0/backend/vif/7"
#define BE GUEST_DIR "/0"
#define FE "/local/domain/7/device/vif/0"
#define ERROR_NODE "/local/domain/0/error/backend/vif/7/0/error"
/* Where all error nodes of this guest's vifs go. */
#define ERROR_DIR "/local/domain/0/error/backend/vif/7"

/* Vifs (devids 0 .. XBF_DEVS - 1) whose backend state the fixture follows. */
#define XBF_DEVS 4
/* Capacity of the store: beyond it, writes fail as a quota would. */
#define XBF_NODES 192
#define XBF_PATH 160
#define XBF_VAL 256
#define XBF_WATCHES 32
#define XBF_EVENTS 1024
/* Backend state writes recorded for vif 0 (counted past it, not recorded). */
#define XBF_BE_WRITES 64

/*
 * xbf_fail() - the user's: an invariant the fixture checks broke. May
 * return (the fixture then carries on as if the call had succeeded).
 */
void xbf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The calls the backend makes through the ops table, for xbf_inject. */
enum xbf_call {
	XBF_CALL_READ,
	XBF_CALL_WRITE,
	XBF_CALL_DIRECTORY,
	XBF_CALL_WATCH,
	XBF_CALL_TX_START,
	XBF_CALL_TX_COMMIT,
};

/*
 * When set, asked before each such call with the path it names (NULL for
 * transactions): 0 lets it happen, -errno fails it with nothing changed.
 */
extern int (*xbf_inject)(enum xbf_call call, const char *path);

/* What the stubbed data path and glue were asked, and how they answer. */
struct xbf_stub {
	unsigned creates, destroys, connects, disconnects, detaches, gone;
	bool no_tap;            /* vif_create: the supervisor has not handed it over */
	int connect_rc;         /* vif_connect's answer */
	const char *connect_why;
	uint32_t tx_ref, rx_ref, ev_tx, ev_rx;  /* queue 0's, as vif_connect got them */
	unsigned nr_queues;
	bool resume;
	bool ctrl;              /* vif_connect saw control ring keys: */
	uint32_t ctrl_ref, ctrl_evtchn;
	uint64_t now_ms;
};
extern struct xbf_stub xbf_stub;

/* The worker whose vifs xenbus.c runs (ops: the fake; guest GUEST). */
extern struct worker xbf_worker;

/* What evtchn_status says of any bound port: the frontend's domain alive or not. */
extern int xbf_evtchn_stat;

/* Backend state writes: vif 0's, in order, and the state each vif's last one left. */
extern int xbf_be_writes[XBF_BE_WRITES];
extern unsigned xbf_nr_be_writes;
extern int xbf_be_from[XBF_DEVS];
/* Closing written by the backend, per vif; its writes under ERROR_DIR (error nodes), all vifs. */
extern unsigned xbf_be_closes[XBF_DEVS];
extern unsigned xbf_error_writes;

/* Every line the backend logged since the reset (cut when full). */
extern char xbf_log[8192];
/* xbf_log_count() - how often @needle occurs in xbf_log. */
unsigned xbf_log_count(const char *needle);

/* xbf_reset() - an empty store, no watch, no event, fresh stubs and worker. */
void xbf_reset(void);

/* xbf_allowed_by_spec() - the backend state table of xenbus.h, as the fixture reads it. */
bool xbf_allowed_by_spec(int from, int to);

/* ---- the store, as the toolstack and the frontend use it ---- */

/* xbf_node_val() - @path's value, or NULL when there is no such node. */
const char *xbf_node_val(const char *path);
/*
 * xbf_node_set() / xbf_node_set_len() - write @path (not as the backend:
 * nothing is checked) and queue its watch events. 0, or -ENOSPC when the
 * store is full, -E2BIG for a path or value too long for it.
 */
int xbf_node_set(const char *path, const char *val);
int xbf_node_set_len(const char *path, const void *val, size_t len);
/* xbf_node_rm() - remove @path and everything below it; its watches fire. */
void xbf_node_rm(const char *path);
/* xbf_fire() - queue the watch events of a change of @path (e.g. "@releaseDomain"). */
void xbf_fire(const char *path);

/* xbf_watched() - does the backend watch exactly @path? */
bool xbf_watched(const char *path);
/* xbf_nr_watches() - watches the backend holds. */
unsigned xbf_nr_watches(void);
/* xbf_drop_watches() - the backend's XenStore connection closed: its watches go. */
void xbf_drop_watches(void);
/* xbf_tx_open() - is a transaction of the backend's still open? */
bool xbf_tx_open(void);
/* xbf_nr_events() / xbf_drop_events() - watch events queued, not yet handed over. */
unsigned xbf_nr_events(void);
void xbf_drop_events(void);

/*
 * xbf_settle() - hand the queued watch events to xenbus.c, a batch per
 * round as the main loop would, until none are left. Returns true when
 * they ran out within @max_rounds, false when the backend's own writes kept
 * it busy.
 */
bool xbf_settle(unsigned max_rounds);

/* ---- the toolstack and the frontend, for vif @devid of GUEST ---- */

/*
 * Each of these writes its nodes (watch events queued, not settled) and
 * returns 0, or the first xbf_node_set() error (the rest still written).
 */
/* What libxl writes for vif = [ '...' ] (xnb-sim-vif add), hotplug-status empty. */
int xbf_toolstack_add(unsigned devid);
/* What xl destroy / network-detach writes: online 0, our state Closing. */
int xbf_toolstack_remove(unsigned devid);
/* A netfront's keys for one queue, split event channels, the usual features. */
int xbf_frontend_keys(unsigned devid);
/* The backend / frontend path of vif @devid into @buf, @key appended if not NULL. */
void xbf_be_path(char *buf, size_t len, unsigned devid, const char *key);
void xbf_fe_path(char *buf, size_t len, unsigned devid, const char *key);

#endif
