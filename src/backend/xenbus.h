/* SPDX-License-Identifier: MIT */
/*
 * xenbus.h - the backend half of the XenBus handshake for vifs.
 *
 * The states and the transitions xnbd allows between them (anything else
 * is refused and logged, never taken):
 *
 *   (probe)      -> InitWait   features published, TAP created
 *   InitWait     -> Connected  frontend Initialised/Connected, rings mapped
 *   InitWait     -> Closing    frontend closing, or bad frontend data
 *   Connected    -> Closing    frontend closing, protocol broken, or toolstack
 *   Closing      -> Closed     resources released
 *   Closed       -> InitWait   frontend back to Initialising (guest reboot)
 *
 * A vif whose toolstack `online` node is 0 is removed once Closed.
 */
#ifndef XNB_BACKEND_XENBUS_H
#define XNB_BACKEND_XENBUS_H

#include <stdbool.h>

#include "vif.h"
#include "xnbd.h"

/* xenbus_state_allowed() - is @from -> @to in the table above? */
bool xenbus_state_allowed(int from, int to);

/* xenbus_start() - watch the backend root and take existing vifs. 0 or -errno. */
int xenbus_start(struct xnbd *d);

/* xenbus_watch_event() - a watch fired: re-scan or re-evaluate as @token says. */
void xenbus_watch_event(struct xnbd *d, const char *path, const char *token);

/* xenbus_vif_broken() - after vif_mark_broken(): error node, state Closing. */
void xenbus_vif_broken(struct vif *v);

/* xenbus_stop() - every vif to Closed, unwatched, destroyed (SIGTERM). */
void xenbus_stop(struct xnbd *d);

#endif
