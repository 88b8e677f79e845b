/* SPDX-License-Identifier: MIT */
/* platform.c - choosing a platform implementation by name. */
/*
 * Theory of operation: a static list of the ops tables built in; 'sim'
 * always, 'xen' when built over the Xen libraries (added later).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "platform.h"
#include "sim.h"

static const struct platform_ops *const platform_list[] = {
	&platform_sim_ops,
};

const struct platform_ops *platform_by_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(platform_list) / sizeof(platform_list[0]); i++)
		if (strcmp(platform_list[i]->name, name) == 0)
			return platform_list[i];
	errno = ENOENT;
	return NULL;
}
