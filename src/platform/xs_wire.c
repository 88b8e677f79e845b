/* SPDX-License-Identifier: MIT */
/* xs_wire.c - ACLs between the platform's entries and xs_client's (xs_wire.h). */
#include "xs_wire.h"

#include <errno.h>
#include <stdlib.h>

#include "xs_client.h"

int xs_wire_get_perms(struct xs_client *c, uint32_t txid, const char *path,
		      struct platform_xs_perm **perms, unsigned *n)
{
	struct xs_client_perm *cp = NULL;
	unsigned cn = 0;
	int r = xs_client_get_perms(c, txid, path, &cp, &cn);

	if (r < 0)
		return r;
	*perms = calloc(cn ? cn : 1, sizeof(**perms));
	if (!*perms) {
		free(cp);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cn; i++) {
		(*perms)[i].domid = cp[i].domid;
		(*perms)[i].perm = cp[i].perm;
	}
	*n = cn;
	free(cp);
	return 0;
}

int xs_wire_set_perms(struct xs_client *c, uint32_t txid, const char *path,
		      const struct platform_xs_perm *perms, unsigned n)
{
	struct xs_client_perm *cp;
	int r;

	if (n == 0)
		return -EINVAL;
	cp = calloc(n, sizeof(*cp));
	if (!cp)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		cp[i].domid = perms[i].domid;
		cp[i].perm = perms[i].perm;
	}
	r = xs_client_set_perms(c, txid, path, cp, n);
	free(cp);
	return r;
}
