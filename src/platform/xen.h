/* SPDX-License-Identifier: MIT */
/* xen.h - the 'xen' platform's ops table (built when the Xen libraries are found). */
#ifndef XNB_PLATFORM_XEN_H
#define XNB_PLATFORM_XEN_H

#include "platform.h"

extern const struct platform_ops platform_xen_ops;

#endif
