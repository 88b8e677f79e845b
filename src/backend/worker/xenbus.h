/* SPDX-License-Identifier: MIT */
/*
 * xenbus.h - the backend half of the XenBus handshake for vifs.
 *
 * The states and the transitions xnbd allows between them (anything else
 * is refused and logged, never taken):
 *
 *   (probe)      -> InitWait   features published (the supervisor made the TAP)
 *   (probe)      =  Connected  resumed: XenStore and the frontend say Connected
 *   InitWait     -> Connected  frontend Initialised/Connected, hotplug-status
 *                              "connected" (or absent), rings mapped
 *   InitWait     -> Closing    frontend closing, bad frontend data, or
 *                              hotplug-status "error"
 *   Connected    -> Closing    frontend closing, protocol broken, or toolstack
 *   Closing      -> Closed     resources released
 *   Closed       -> InitWait   frontend back to Initialising (guest reboot)
 *
 * A vif whose toolstack `online` node is 0 is removed once Closed.
 */
#ifndef XNB_BACKEND_XENBUS_H
#define XNB_BACKEND_XENBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "vif.h"
#include "worker.h"

/*
 * How long a vif waits in InitWait for the hotplug script before a warning
 * names it (the wait goes on). Under libxl's own LIBXL_HOTPLUG_TIMEOUT
 * (40 s), after which libxl gives up on the script and removes the device,
 * so that our log says what was stuck first; far above what vif-bridge or
 * vif-route take on a loaded dom0 (well under a second to a few seconds).
 */
#define XENBUS_HOTPLUG_WARN_MS 30000u

/* xenbus_state_allowed() - is @from -> @to in the table above? */
bool xenbus_state_allowed(int from, int to);

/*
 * xenbus_start() - watch the guest's backend dir and take its vifs (new
 * ones to InitWait, Connected ones resumed). 0 or -errno.
 */
int xenbus_start(struct worker *d);

/* Watch events of one wake-up, coalesced: what is due, not how often. */
struct xenbus_events {
	bool rescan;    /* the guest's backend dir changed */
	bool released;  /* some domain died */
};

/* xenbus_note_event() - record a watch event (@token) in @ev; no XenStore access. */
void xenbus_note_event(struct worker *d, struct xenbus_events *ev, const char *token);

/* xenbus_watch_events() - act on what @ev recorded (each vif at most once), then clear it. */
void xenbus_watch_events(struct worker *d, struct xenbus_events *ev);

/*
 * xenbus_tick() - periodic checks (main.c's 1 s timer): warn once about a
 * vif whose hotplug script has not answered in XENBUS_HOTPLUG_WARN_MS.
 */
void xenbus_tick(struct worker *d, uint64_t now_ms);

/* xenbus_vif_broken() - after vif_mark_broken(): error node, state Closing. */
void xenbus_vif_broken(struct vif *v);

/* xenbus_stop() - every vif to Closed, unwatched, destroyed (a stop for good). */
void xenbus_stop(struct worker *d);

/*
 * xenbus_detach() - release every vif without a word to XenStore: states
 * stay as they are (Connected), for the next worker to resume.
 */
void xenbus_detach(struct worker *d);

#endif
