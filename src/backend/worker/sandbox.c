/* SPDX-License-Identifier: MIT */
/* sandbox.c - what a per-domain worker gives up before it touches guest data. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <seccomp.h>

#include "log.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer) || __has_feature(leak_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

/* The Xen device ioctls, from libxen-dev's copies of the Linux uapi headers. */
#if __has_include(<xen/sys/gntdev.h>) && __has_include(<xen/sys/evtchn.h>)
#include <stdint.h>
#include <sys/ioctl.h>
#include <xen/xen.h> /* domid_t */
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>
#define SANDBOX_HAVE_XEN_IOCTLS 1
#else
#define SANDBOX_HAVE_XEN_IOCTLS 0
#endif
#include <linux/if_tun.h>

#if !defined(__x86_64__)
#error "sandbox.c: the system-call table is written for x86_64 only"
#endif

int sandbox_user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);

	if (rc != 0)
		return -rc;
	if (!res)
		return -ENOENT;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

bool sandbox_seccomp_supported(void)
{
	return !SANDBOX_SANITIZER;
}

/* ---- step 1: resource limits ---- */

static int set_limit(int res, rlim_t v)
{
	struct rlimit rl = { .rlim_cur = v, .rlim_max = v };

	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static int apply_limits(const struct sandbox_config *c)
{
	int rc = 0;

	if (c->max_fds)
		rc = set_limit(RLIMIT_NOFILE, c->max_fds);
	/* Sanitizer runtimes reserve terabytes of shadow memory: no data limit there. */
	if (!rc && c->max_data_bytes && !SANDBOX_SANITIZER)
		rc = set_limit(RLIMIT_DATA, c->max_data_bytes);
	if (!rc)
		rc = set_limit(RLIMIT_CORE, 0);
	/* No RLIMIT_NPROC: threads count against it per uid, across every
	 * worker running as that uid, and fork/clone without CLONE_THREAD is
	 * refused by the filter anyway. */
	return rc;
}

/* ---- steps 2 and 3: identity and capabilities ---- */

/* The kernel's capability sets, two 32-bit words each (v3). */
struct caps {
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &h, c->d) < 0 ? -errno : 0;
}

static int caps_clear(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct caps none;

	memset(&none, 0, sizeof(none));
	return syscall(SYS_capset, &h, none.d) < 0 ? -errno : 0;
}

/* One past the highest capability the kernel knows (PR_CAPBSET_READ says
 * EINVAL beyond it). */
static int cap_count(void)
{
	int n = 0;

	while (n < 64 && prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0)
		n++;
	return n;
}

static int bounding_drop_all(void)
{
	int n = cap_count();

	for (int cap = 0; cap < n; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	return 0;
}

static int ambient_clear(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno; /* EINVAL: a kernel without ambient capabilities */
	return 0;
}

/* 0 if no capability is left in the sets we could empty, -EPERM otherwise. */
static int caps_verify(bool bounding_too)
{
	struct caps c;
	int rc = caps_get(&c), n;

	if (rc)
		return rc;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		if (c.d[i].effective || c.d[i].permitted || c.d[i].inheritable) {
			log_err("sandbox: capabilities left (word %d: eff %#x perm %#x inh %#x)", i,
				c.d[i].effective, c.d[i].permitted, c.d[i].inheritable);
			return -EPERM;
		}
	}
	n = cap_count();
	for (int cap = 0; cap < n; cap++) {
		int amb = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (amb > 0 || (bounding_too && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0)) {
			log_err("sandbox: capability %d left in the %s set", cap,
				amb > 0 ? "ambient" : "bounding");
			return -EPERM;
		}
	}
	return 0;
}

static int become(const struct sandbox_config *c)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	bool root;
	int rc;

	if (c->uid == 0)
		return -EINVAL; /* a sandbox as root is no sandbox */
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return -errno;
	root = euid == 0;
	if (!root) {
		/* Unprivileged already: it must be the identity asked for. */
		if (ruid != c->uid || euid != c->uid || suid != c->uid ||
		    rgid != c->gid || egid != c->gid || sgid != c->gid)
			return -EPERM;
		/* Whatever file capabilities gave us goes too (the bounding set
		 * needs CAP_SETPCAP: dropped only if we have it). */
		(void)bounding_drop_all();
		rc = ambient_clear();
		if (!rc)
			rc = caps_clear();
		return rc ? rc : caps_verify(false);
	}

	/* Root: the bounding set first, while CAP_SETPCAP is held. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	rc = bounding_drop_all();
	if (!rc)
		rc = ambient_clear();
	if (rc)
		return rc;
	if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
	    setresuid(c->uid, c->uid, c->uid) < 0)
		return -errno;
	/* setresuid() to non-zero ids emptied permitted and effective; the
	 * inheritable set survives it. */
	rc = caps_clear();
	if (rc)
		return rc;
	if (getresuid(&ruid, &euid, &suid) < 0 || ruid != c->uid || euid != c->uid ||
	    suid != c->uid || getresgid(&rgid, &egid, &sgid) < 0 || rgid != c->gid ||
	    egid != c->gid || sgid != c->gid || getgroups(0, NULL) != 0)
		return -EPERM;
	return caps_verify(true);
}

/* Threads listed in /proc/self/status, or 0 if it cannot be read. */
static int thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* ---- step 5: the system-call filter ---- */

/*
 * Allowed without conditions, grouped by the code that needs them. Anything
 * not listed (and not in the conditional rules below) kills the process:
 * among them open/openat/openat2, socket, socketpair, connect, bind, listen,
 * accept, execve/execveat, fork/vfork, ptrace, mount, the set*id family,
 * kill, memfd_create, process_vm_readv/writev, bpf, keyctl, pipe2,
 * eventfd2, timerfd_create, signalfd4, epoll_create1, dup*.
 */
static const int allow_always[] = {
	/* Event loop (the worker's epoll over XenStore, event channels, TAPs,
	 * the supervisor's socket, its signalfd and timerfd). */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
	SCMP_SYS(epoll_ctl), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),

	/* Data path: TAP frames (tap.c: readv/writev and the io_uring rings
	 * created before the sandbox), signalfd/timerfd/evtchn reads, evtchn
	 * unmask writes, XenStore traffic (xs_client), log lines. */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(io_uring_enter), SCMP_SYS(close),

	/* Fd passing and messages: TAP fds and control messages from the
	 * supervisor, the simulator's memfds (sim.c, SCM_RIGHTS), send()/recv()
	 * on connected sockets. */
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(fstat),

	/* Threads (the queue threads): glibc's pthread_create/exit; clone
	 * itself is conditional below. */
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(futex),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), /* malloc's arena count */
	SCMP_SYS(gettid), SCMP_SYS(getpid),

	/* Memory: malloc, thread stacks, grant mappings (gntdev) and the
	 * simulator's shared pages; mmap/mprotect are conditional below. */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),

	/* Signals: blocked for the signalfd, masks set by pthread_create, the
	 * handler reset and return of abort(). */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),

	/* Time (the vDSO normally answers; these are its fallbacks) and sleeps. */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),

	/* Read-only self inspection (logs, the sandbox tests). */
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(capget), SCMP_SYS(getrandom),

	/* Exit. */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* ioctl requests: TUN offloads (renegotiated with the frontend), attaching
 * and detaching a multi-queue TAP's queues (as many as the frontend uses),
 * and the grant and event-channel devices behind libxengnttab and
 * libxenevtchn. */
static const unsigned long allow_ioctl[] = {
	TUNSETOFFLOAD, TUNSETQUEUE,
#if SANDBOX_HAVE_XEN_IOCTLS
	IOCTL_GNTDEV_MAP_GRANT_REF, IOCTL_GNTDEV_UNMAP_GRANT_REF,
	IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR, /* xengnttab_unmap() looks up the mapping */
	IOCTL_GNTDEV_SET_UNMAP_NOTIFY, IOCTL_GNTDEV_GRANT_COPY,
	IOCTL_EVTCHN_BIND_INTERDOMAIN, IOCTL_EVTCHN_UNBIND, IOCTL_EVTCHN_NOTIFY,
	IOCTL_EVTCHN_RESET, IOCTL_EVTCHN_RESTRICT_DOMID,
#endif
};

/* fcntl commands: O_NONBLOCK and FD_CLOEXEC on received fds. */
/* F_GET_SEALS: the 'sim' platform checks a peer's memory memfd is sealed
 * against shrinking before it maps it (sim.c). */
static const int allow_fcntl[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_GET_SEALS };

/* prctl options: read-only queries (the sandbox tests check them). */
static const int allow_prctl[] = { PR_GET_NO_NEW_PRIVS, PR_CAPBSET_READ, PR_GET_DUMPABLE };

static int add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned nargs,
	       const struct scmp_arg_cmp *args)
{
	int rc = seccomp_rule_add_array(ctx, action, nr, nargs, args);

	if (rc < 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		log_err("sandbox: seccomp rule for %s: %s", name ? name : "?", strerror(-rc));
		free(name);
	}
	return rc;
}

static int build_filter(scmp_filter_ctx ctx)
{
	const uint32_t allow = SCMP_ACT_ALLOW;
	struct scmp_arg_cmp a;
	int rc = 0;

	/* Native x86_64 only: seccomp_init() put just the native arch in the
	 * filter, so i386 (int $0x80) and x32 (nr | __X32_SYSCALL_BIT) calls
	 * take the bad-arch action: kill, like everything else. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		return rc;

	for (size_t i = 0; i < sizeof(allow_always) / sizeof(allow_always[0]) && !rc; i++)
		rc = add(ctx, allow, allow_always[i], 0, NULL);

	/* ioctl: only the requests listed. The kernel takes the request as a
	 * 32-bit int, so only the low 32 bits are compared. */
	for (size_t i = 0; i < sizeof(allow_ioctl) / sizeof(allow_ioctl[0]) && !rc; i++) {
		a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, allow_ioctl[i]);
		rc = add(ctx, allow, SCMP_SYS(ioctl), 1, &a);
	}
	for (size_t i = 0; i < sizeof(allow_fcntl) / sizeof(allow_fcntl[0]) && !rc; i++) {
		a = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)allow_fcntl[i]);
		rc = add(ctx, allow, SCMP_SYS(fcntl), 1, &a);
	}
	for (size_t i = 0; i < sizeof(allow_prctl) / sizeof(allow_prctl[0]) && !rc; i++) {
		a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)allow_prctl[i]);
		rc = add(ctx, allow, SCMP_SYS(prctl), 1, &a);
	}
	if (rc)
		return rc;

	/* Threads, not processes: clone only with CLONE_THREAD (x86_64 passes
	 * the flags first). clone3 passes them in memory, out of the filter's
	 * reach: it says ENOSYS, and glibc falls back to clone. */
	a = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	rc = add(ctx, allow, SCMP_SYS(clone), 1, &a);
	if (!rc)
		rc = add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);

	/* Signals to ourselves only (abort(), raise(), glibc's set*id
	 * broadcast): tgkill with our own thread group; the pid never changes
	 * since nothing can fork. */
	if (!rc) {
		a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
		rc = add(ctx, allow, SCMP_SYS(tgkill), 1, &a);
	}

	/* Memory, never executable: malloc, thread stacks and their guard
	 * pages, grant and simulator mappings. */
	if (!rc) {
		a = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
		rc = add(ctx, allow, SCMP_SYS(mmap), 1, &a);
	}
	if (!rc)
		rc = add(ctx, allow, SCMP_SYS(mprotect), 1, &a);

	/* fstat() of stdio (glibc's buffering) is newfstatat(fd, "", AT_EMPTY_PATH). */
	if (!rc) {
		a = SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);
		rc = add(ctx, allow, SCMP_SYS(newfstatat), 1, &a);
	}

	/* tap.c's ring_reset() recreates a ring after a failed submission; in
	 * the sandbox that fails (EPERM) and the TAP falls back to readv/writev
	 * instead of killing the worker. io_uring_register is allowed: the only
	 * rings are tap.c's, created before the sandbox and restricted to
	 * IORING_UNREGISTER_FILES (which ring_exit() uses); everything else is
	 * refused by the ring itself (EACCES). */
	if (!rc)
		rc = add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0, NULL);
	if (!rc)
		rc = add(ctx, allow, SCMP_SYS(io_uring_register), 0, NULL);
	return rc;
}

static int install_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = build_filter(ctx);
	if (!rc)
		rc = seccomp_load(ctx);
	if (rc)
		log_err("sandbox: seccomp filter: %s", strerror(-rc));
	seccomp_release(ctx);
	return rc;
}

int sandbox_enter(const struct sandbox_config *c)
{
	int rc;

	if (thread_count() > 1)
		return -EBUSY;
	rc = apply_limits(c);
	if (rc) {
		log_err("sandbox: resource limits: %s", strerror(-rc));
		return rc;
	}
	rc = become(c);
	if (rc) {
		log_err("sandbox: switching to uid %u gid %u without capabilities: %s",
			(unsigned)c->uid, (unsigned)c->gid, strerror(-rc));
		return rc;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rc = -errno;
		log_err("sandbox: prctl: %s", strerror(-rc));
		return rc;
	}
	/* The change of uid cleared the parent-death signal: set it again, and
	 * make sure the parent did not die in between. */
	if (c->parent_death_signal) {
		if (prctl(PR_SET_PDEATHSIG, c->parent_death_signal, 0, 0, 0) < 0)
			return -errno;
		if (getppid() != c->parent)
			return -ESRCH;
	}
	if (!c->seccomp)
		return 0;
	if (SANDBOX_SANITIZER) {
		log_warn("sandbox: sanitizer build: seccomp filter skipped (the runtime's "
			 "leak check and reports need clone, ptrace and open)");
		return 0;
	}
	return install_filter();
}
