/* SPDX-License-Identifier: MIT */
/*
 * fault.h - why a queue was declared broken.
 *
 * Guest-caused trouble comes in two tiers. A malformed packet is dropped with
 * an error response and a counter; the vif goes on. A peer that breaks the
 * ring protocol itself (indices no honest peer can produce, a packet no
 * honest peer can send) gets its queue marked broken with one of these
 * reasons; the engine then refuses all work on it and the daemon disconnects
 * the vif. The engine never logs: the reason is data for its caller.
 */
#ifndef XNB_ENGINE_FAULT_H
#define XNB_ENGINE_FAULT_H

enum engine_fault {
	ENGINE_FAULT_NONE = 0,
	ENGINE_FAULT_REQ_PROD,        /* req_prod ran further ahead than the ring holds */
	ENGINE_FAULT_TOO_MANY_SLOTS,  /* a TX packet past the fatal slot threshold */
	ENGINE_FAULT_CROSS_PAGE,      /* a TX slot's offset + size past its page */
	ENGINE_FAULT_TOO_MANY_EXTRAS, /* an extra-info chain longer than there are types */
};

/* engine_fault_str() - a short, log-ready description of @f. */
const char *engine_fault_str(enum engine_fault f);

#endif
