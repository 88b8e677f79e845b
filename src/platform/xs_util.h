/* SPDX-License-Identifier: MIT */
/*
 * xs_util.h - XenStore chores both daemons share, over any platform:
 * reading a peer's number or flag strictly (xsvalue.h), and writing a set
 * of keys all or nothing in one transaction, retried on conflict.
 */
#ifndef XNB_PLATFORM_XS_UTIL_H
#define XNB_PLATFORM_XS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

struct xs_util {
	const struct platform_ops *ops;
	struct platform_xs *xs;
};

struct xs_util_kv {
	const char *key;
	const char *val;
};

/* @dir/@key as a decimal: 0, -ENOENT when absent, -EINVAL/-ERANGE when bad. */
int xs_util_read_u32(const struct xs_util *u, const char *dir, const char *key, uint32_t *out);

/* A feature flag: absent gives @dflt; garbage is -EINVAL. */
int xs_util_read_flag(const struct xs_util *u, const char *dir, const char *key, bool dflt,
		      bool *out);

/* A string value into @out (@size bytes, NUL added); embedded NULs are -EINVAL. */
int xs_util_read_str(const struct xs_util *u, const char *dir, const char *key, char *out,
		     size_t size);

int xs_util_write_str(const struct xs_util *u, const char *dir, const char *key, const char *val);

/* Write @n keys under @dir in one transaction (retried on -EAGAIN a few times). */
int xs_util_write_keys(const struct xs_util *u, const char *dir, const struct xs_util_kv *kv,
		       size_t n);

#endif
