/* SPDX-License-Identifier: MIT */
/* sim.h - the 'sim' platform's ops table and its test-only hooks. */
#ifndef XNB_PLATFORM_SIM_H
#define XNB_PLATFORM_SIM_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#include "platform.h"

/* The simulator's ops table (platform_by_name("sim")). */
extern const struct platform_ops platform_sim_ops;

/**
 * platform_sim_grant_table() - test hook: this session's own grant table.
 * @p: a 'sim' session
 * @n: receives the number of entries
 *
 * Lets tests forge entries (bad frames, foreign domids) and observe
 * GTF_reading / GTF_writing. Return: the shared array.
 */
struct grant_entry_v1 *platform_sim_grant_table(struct platform *p, unsigned *n);

/** platform_sim_pages() - test hook: number of pages of this domain's memory. */
unsigned platform_sim_pages(struct platform *p);

/**
 * platform_sim_peer_grants() - test hook: how many entries of @domid's grant
 * table grant access to this session's domain now (GTF_permit_access, our
 * domid), whether or not we map them: what that domain still shares with
 * us, as a backend sees it. A negative errno when @domid is not alive.
 */
int platform_sim_peer_grants(struct platform *p, uint16_t domid);

/** platform_sim_ctl_fd() - test hook: the control socket to xnb-simd. */
int platform_sim_ctl_fd(struct platform *p);

/** platform_sim_evtchn_handle() - test hook: simd's id of an event-channel handle. */
uint32_t platform_sim_evtchn_handle(struct platform_evtchn *e);

#endif
