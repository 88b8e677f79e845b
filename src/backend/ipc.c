/* SPDX-License-Identifier: MIT */
/* ipc.c - supervisor <-> worker messages over a SOCK_SEQPACKET pair (ipc.h). */
#include "ipc.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int ipc_send(int sock, const struct ipc_hdr *h, const void *payload, int fd)
{
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = sizeof(*h) },
		{ .iov_base = (void *)payload, .iov_len = h->len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = h->len ? 2 : 1 };

	if (h->len > IPC_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		ctl.c.cmsg_level = SOL_SOCKET;
		ctl.c.cmsg_type = SCM_RIGHTS;
		ctl.c.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int ipc_recv(int sock, struct ipc_msg *m)
{
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = &m->h, .iov_len = sizeof(m->h) },
		{ .iov_base = m->payload, .iov_len = IPC_PAYLOAD_MAX },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	bool bad;

	m->fd = -1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; (i + 1) * sizeof(int) <= c->cmsg_len - CMSG_LEN(0); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (m->fd < 0)
				m->fd = fd;
			else
				close(fd); /* one per message: extras are not ours to keep */
		}
	}
	bad = (size_t)n < sizeof(m->h) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	      m->h.len != (size_t)n - sizeof(m->h);
	if (bad) {
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		return -EBADMSG;
	}
	m->payload[m->h.len] = '\0';
	return 1;
}
