/* SPDX-License-Identifier: MIT */
/* platform.c - choosing a platform implementation by name. */
/*
 * Theory of operation: a static list of the ops tables built in; 'sim'
 * always, 'xen' when built over the Xen libraries. The default is 'xen'
 * when this machine runs on Xen (/dev/xen/gntdev exists), else 'sim'.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <unistd.h>

#include "platform.h"
#include "sim.h"
#ifdef XNB_HAVE_XEN
#include "xen.h"
#endif

static const struct platform_ops *const platform_list[] = {
	&platform_sim_ops,
#ifdef XNB_HAVE_XEN
	&platform_xen_ops,
#endif
};

const char *platform_default_name(void)
{
#ifdef XNB_HAVE_XEN
	if (access("/dev/xen/gntdev", F_OK) == 0 || access("/dev/xen/gntalloc", F_OK) == 0)
		return "xen";
#endif
	return "sim";
}

const struct platform_ops *platform_by_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(platform_list) / sizeof(platform_list[0]); i++)
		if (strcmp(platform_list[i]->name, name) == 0)
			return platform_list[i];
	errno = ENOENT;
	return NULL;
}
