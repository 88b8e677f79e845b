/* SPDX-License-Identifier: MIT */
/* sim_fixture.h - test helpers: a private xnb-simd per test, and small utilities. */
#ifndef XNB_TESTS_SIM_FIXTURE_H
#define XNB_TESTS_SIM_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include "platform.h"

struct simd_proc {
	pid_t pid;
	char dir[64];
};

/**
 * fixture_simd_start() - run $XNB_SIMD --foreground --dir <fresh temp dir>,
 * wait until its control socket accepts, and point XNB_SIM_DIR at it.
 * Return: 0 or -errno.
 */
int fixture_simd_start(struct simd_proc *s);

/**
 * fixture_simd_stop() - SIGTERM, wait, remove the directory.
 * Return: simd's exit status (0 = clean), or -1 if it died of a signal.
 */
int fixture_simd_stop(struct simd_proc *s);

/** fixture_fd_count() - number of open descriptors of process pid, or -1. */
int fixture_fd_count(pid_t pid);

/** fixture_wait_fd() - poll fd for readability up to ms; true if readable. */
bool fixture_wait_fd(int fd, int ms);

/** fixture_sim() - the 'sim' ops table. */
const struct platform_ops *fixture_sim(void);

/** fixture_fd_settled() - pid's descriptor count once it stops changing (100 ms). */
int fixture_fd_settled(pid_t pid);

/** fixture_wait_fds() - wait up to ms for pid's fd count to equal want; the last count. */
int fixture_wait_fds(pid_t pid, int want, int ms);

#endif
