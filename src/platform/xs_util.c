/* SPDX-License-Identifier: MIT */
/* xs_util.c - strict XenStore reads and transactional writes for the daemons. */
#include "xs_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsvalue.h"

/* Conflicting commits are retried this often before giving up. */
#define XS_UTIL_TX_ATTEMPTS 5

static int read_raw(const struct xs_util *u, const char *dir, const char *key, char **val,
		    size_t *len)
{
	char path[256];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -ENAMETOOLONG;
	return u->ops->xs_read(u->xs, 0, path, val, len);
}

int xs_util_read_u32(const struct xs_util *u, const char *dir, const char *key, uint32_t *out)
{
	char *val = NULL;
	size_t len = 0;
	int rc = read_raw(u, dir, key, &val, &len);

	if (rc)
		return rc;
	rc = xsvalue_parse_u32(val, len, out);
	free(val);
	return rc;
}

int xs_util_read_flag(const struct xs_util *u, const char *dir, const char *key, bool dflt,
		      bool *out)
{
	char *val = NULL;
	size_t len = 0;
	int rc = read_raw(u, dir, key, &val, &len);

	if (rc == -ENOENT) {
		*out = dflt;
		return 0;
	}
	if (rc)
		return rc;
	rc = xsvalue_parse_flag(val, len, out);
	free(val);
	return rc;
}

int xs_util_read_str(const struct xs_util *u, const char *dir, const char *key, char *out,
		     size_t size)
{
	char *val = NULL;
	size_t len = 0;
	int rc = read_raw(u, dir, key, &val, &len);

	if (rc)
		return rc;
	if (len == 0 || len >= size || memchr(val, '\0', len)) {
		free(val);
		return -EINVAL;
	}
	memcpy(out, val, len);
	out[len] = '\0';
	free(val);
	return 0;
}

int xs_util_write_str(const struct xs_util *u, const char *dir, const char *key, const char *val)
{
	char path[256];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -ENAMETOOLONG;
	return u->ops->xs_write(u->xs, 0, path, val, strlen(val));
}

int xs_util_write_keys(const struct xs_util *u, const char *dir, const struct xs_util_kv *kv,
		       size_t n)
{
	int rc = -EAGAIN;

	for (int attempt = 0; attempt < XS_UTIL_TX_ATTEMPTS && rc == -EAGAIN; attempt++) {
		uint32_t tx;

		rc = u->ops->xs_transaction_start(u->xs, &tx);
		if (rc)
			return rc;
		for (size_t i = 0; i < n && rc == 0; i++) {
			char path[256];

			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, kv[i].key) >= sizeof(path))
				rc = -ENAMETOOLONG;
			else
				rc = u->ops->xs_write(u->xs, tx, path, kv[i].val, strlen(kv[i].val));
		}
		if (rc) {
			u->ops->xs_transaction_end(u->xs, tx, false);
			return rc;
		}
		rc = u->ops->xs_transaction_end(u->xs, tx, true);
	}
	return rc;
}
