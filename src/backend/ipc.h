/* SPDX-License-Identifier: MIT */
/*
 * ipc.h - the channel between xnbd's supervisor and a guest's worker.
 *
 * Theory of operation: each worker gets one end of a SOCK_SEQPACKET
 * socketpair as its fd 3. Every message is one packet: a fixed header, an
 * optional payload (text, at most IPC_PAYLOAD_MAX bytes) and at most one
 * file descriptor (SCM_RIGHTS). Both ends are non-blocking; a message that
 * does not fit the socket's buffer is dropped by the sender with -EAGAIN,
 * never waited for, so neither process can stall the other.
 *
 * The supervisor is trusted by the worker; the worker (which meets guest
 * data) is not trusted by the supervisor: every message from a worker is
 * checked (type, devid, length) before use.
 *
 *   supervisor -> worker
 *     IPC_VIF_TAP      devid, arg = queue index, fd = that queue's fd of the
 *                      vif's TAP (queue 0 first), payload = its name
 *     IPC_VIF_JOURNAL  devid, fd = the vif's response journal (worker/journal.h)
 *     IPC_START        every TAP is handed over: sandbox, then serve
 *     IPC_CTL          id, payload = a control request ("stats vif3.0 json")
 *     IPC_DISCONNECT   close every vif (Closed in XenStore), then exit 0
 *   worker -> supervisor
 *     IPC_VIF_GONE     devid: the toolstack removed it; the TAP may go
 *     IPC_LINK         devid, arg = 1 carrier on (admin up) / 0 carrier off,
 *                      arg2 = MTU (0: keep)
 *     IPC_CTL_REPLY    id, payload = this worker's part of the answer
 *     IPC_TAP_LOST     devid, arg = errno: the vif's TAP fds fail (the host
 *                      deleted the device); the supervisor checks its own
 *                      fd, makes the TAP again and replaces the worker
 */
#ifndef XNB_BACKEND_IPC_H
#define XNB_BACKEND_IPC_H

#include <stddef.h>
#include <stdint.h>

/* The worker's end of the channel, as the supervisor hands it over. */
#define IPC_WORKER_FD 3
/* One control answer of one worker; the rest is cut (a worker serves one guest). */
#define IPC_PAYLOAD_MAX (60 * 1024)
/* The longest control request (IPC_CTL payload), as xnbctl sends it. */
#define IPC_CTL_REQUEST_MAX 128
/*
 * A JSON answer with several arrays (`stats`: "vifs" and "totals") comes in
 * one IPC_CTL_REPLY as their runs of objects in that order, separated by
 * this byte (ASCII record separator: never in JSON text).
 */
#define IPC_CTL_RUN_SEP '\x1e'

enum ipc_type {
	IPC_VIF_TAP = 1,
	IPC_START,
	IPC_VIF_JOURNAL,
	IPC_CTL,
	IPC_DISCONNECT,
	IPC_VIF_GONE = 64,
	IPC_LINK,
	IPC_CTL_REPLY,
	IPC_TAP_LOST,
};

/* How a worker ends, for the supervisor's restart policy. */
#define WORKER_EXIT_OK 0       /* asked to (SIGTERM, IPC_DISCONNECT): no restart */
#define WORKER_EXIT_FAILED 1   /* restart with back-off */
#define WORKER_EXIT_USAGE 2    /* bad arguments: restarting will not help */

/* Guest RX without buffers this long: carrier off (Linux's rx_stall_timeout). */
#define WORKER_RX_STALL_MS 60000

/* TAP queues (so data-path threads) one vif may have: a worker's most. */
#define IPC_MAX_QUEUES 8

/* Size of a vif's journal file (worker/journal.h). */
#define IPC_JOURNAL_BYTES (40 * 1024)

/* The user workers run as unless told otherwise (make install creates it). */
#define WORKER_DEFAULT_USER "xnb"
/* Workers' rlimits: descriptors, and private memory (RLIMIT_DATA) in MiB. */
#define WORKER_MAX_FDS 256
#define WORKER_MAX_DATA_MB 1024

struct ipc_hdr {
	uint32_t type;
	uint32_t devid;
	uint32_t id;     /* IPC_CTL / IPC_CTL_REPLY: request id */
	uint32_t arg, arg2;
	uint32_t len;    /* payload bytes that follow */
};

struct ipc_msg {
	struct ipc_hdr h;
	char payload[IPC_PAYLOAD_MAX + 1]; /* NUL-terminated on receive */
	int fd;                            /* -1 if none came */
};

/* ipc_send() - one message, with @fd (or -1) attached. 0 or -errno (-EAGAIN: full). */
int ipc_send(int sock, const struct ipc_hdr *h, const void *payload, int fd);

/*
 * ipc_recv() - the next message into @m. 1 when one came, 0 when none is
 * waiting, -EPIPE when the peer is gone, -EBADMSG for a malformed packet
 * (any fd that came with it is closed).
 */
int ipc_recv(int sock, struct ipc_msg *m);

#endif
