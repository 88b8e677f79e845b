/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - the confinement a per-domain xnbd worker enters once it is set
 * up: its fds (XenStore, grant/event-channel devices or the simulator's
 * socket, TAP fds from the supervisor, epoll, signalfd, timerfd, io_uring
 * rings) are open, so from then on it needs no new kernel objects, no
 * privilege and no file system.
 *
 * sandbox_enter() in order:
 *  1. resource limits: RLIMIT_NOFILE (max_fds), RLIMIT_DATA (max_data_bytes,
 *     unless 0), RLIMIT_CORE 0. RLIMIT_NPROC is left alone: it counts the
 *     threads of every process of the uid, and the worker starts its queue
 *     threads after this.
 *  2. identity: as root, drop the capability bounding set (while
 *     CAP_SETPCAP is still held), clear the ambient set, then setgroups(0),
 *     setresgid(gid), setresuid(uid) and clear what is left (inheritable).
 *     A non-root caller must already run as uid/gid; nothing is changed.
 *  3. check with capget() that the effective, permitted and inheritable sets
 *     are empty (so is the ambient set, a subset of them), and, when we
 *     were root, the bounding set too; fail otherwise.
 *  4. PR_SET_DUMPABLE 0 (no core, no ptrace by the uid), PR_SET_NO_NEW_PRIVS 1.
 *  5. with @seccomp: a seccomp filter, default action kill the process, that
 *     allows only what the data path needs (the table in sandbox.c). Other
 *     architectures' system calls (i386 int $0x80, x32) kill the process.
 *
 * Call it while the process has a single thread (-EBUSY otherwise): the
 * credentials, capabilities and no_new_privs are per thread. Threads
 * created afterwards (the queue threads) inherit all of it.
 *
 * Sanitizer builds (ASan): the runtime's exit-time leak check stops the
 * world with clone() and ptrace() and reads /proc, and its reports run a
 * symbolizer; none of that can be allowed without defeating the filter, so
 * there step 5 is skipped with a log line (sandbox_seccomp_supported() says
 * false). Everything else is applied.
 */
#ifndef XNB_BACKEND_WORKER_SANDBOX_H
#define XNB_BACKEND_WORKER_SANDBOX_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

struct sandbox_config {
	uid_t uid;
	gid_t gid;
	rlim_t max_fds;        /* RLIMIT_NOFILE (soft and hard); 0: unchanged */
	rlim_t max_data_bytes; /* RLIMIT_DATA; 0: unchanged */
	bool seccomp;          /* install the system-call filter */
	int parent_death_signal; /* kept across the change of uid (0: none) ... */
	pid_t parent;          /* ... and -ESRCH if @parent is no longer our parent */
};

/* sandbox_user_lookup() - @name's uid and primary gid (getpwnam_r).
 * Returns 0, -ENOENT if there is no such user, or -errno. */
int sandbox_user_lookup(const char *name, uid_t *uid, gid_t *gid);

/* sandbox_enter() - confine the calling process as described above.
 * Returns 0 or -errno; irreversible, and on failure the process may be half
 * confined: the caller must exit. */
int sandbox_enter(const struct sandbox_config *c);

/* sandbox_seccomp_supported() - false in sanitizer builds, where
 * sandbox_enter() skips the filter. */
bool sandbox_seccomp_supported(void);

#endif
