/* SPDX-License-Identifier: MIT */
/* sandbox.h - PLACEHOLDER until the sandbox module lands. */
#ifndef XNB_BACKEND_SANDBOX_H
#define XNB_BACKEND_SANDBOX_H
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>
struct sandbox_config { uid_t uid; gid_t gid; rlim_t max_fds; rlim_t max_data_bytes; bool seccomp; };
int sandbox_user_lookup(const char *name, uid_t *uid, gid_t *gid);
int sandbox_enter(const struct sandbox_config *c);
#endif
