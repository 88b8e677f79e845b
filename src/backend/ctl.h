/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - xnbd's control socket: `list`, `stats`, `dump-rings`, each with an
 * optional `json` and vif name, one request per connection, answered as
 * text or one JSON document, then closed. Used by xnbctl.
 */
#ifndef XNB_BACKEND_CTL_H
#define XNB_BACKEND_CTL_H

#include <stdio.h>

#include "xnbd.h"

/* ctl_listen() - a UNIX stream socket at @path (replacing a stale one). fd or -errno. */
int ctl_listen(const char *path);

/* ctl_serve() - read one request from @fd, answer it, close @fd. */
void ctl_serve(struct xnbd *d, int fd);

/* ctl_format() - the answer to @request, into @out (also used by tests). */
void ctl_format(struct xnbd *d, const char *request, FILE *out);

#endif
