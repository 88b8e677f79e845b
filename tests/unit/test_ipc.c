/* SPDX-License-Identifier: MIT */
/*
 * test_ipc.c - the supervisor <-> worker channel (src/backend/ipc.c).
 *
 * The supervisor does not trust a worker: whatever a worker sends must come
 * out of ipc_recv() either whole and checked, or refused with every fd it
 * carried closed. These tests send well-formed and malformed packets over a
 * real SOCK_SEQPACKET pair.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc.h"

static int pair[2];

static int setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

static int teardown(void **state)
{
	(void)state;
	close(pair[0]);
	close(pair[1]);
	return 0;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_roundtrip_with_fd(void **state)
{
	static struct ipc_msg m;
	struct ipc_hdr h = { .type = IPC_VIF_TAP, .devid = 3, .len = 7 }; /* "vif7.3" and its NUL */
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ipc_send(pair[0], &h, "vif7.3", p[0]), 0);
	assert_int_equal(ipc_recv(pair[1], &m), 1);
	assert_int_equal(m.h.type, IPC_VIF_TAP);
	assert_int_equal(m.h.devid, 3);
	assert_int_equal(m.h.len, 7);
	assert_string_equal(m.payload, "vif7.3");
	assert_true(m.fd >= 0 && m.fd != p[0]);
	/* The received fd is the same pipe. */
	assert_int_equal(write(p[1], "x", 1), 1);
	{
		char c;

		assert_int_equal(read(m.fd, &c, 1), 1);
		assert_int_equal(c, 'x');
	}
	close(m.fd);
	close(p[0]);
	close(p[1]);
	/* Nothing more waiting. */
	assert_int_equal(ipc_recv(pair[1], &m), 0);
}

static void test_payload_nul_terminated(void **state)
{
	static struct ipc_msg m;
	struct ipc_hdr h = { .type = IPC_CTL_REPLY, .id = 9, .len = 4 };

	(void)state;
	memset(m.payload, 'z', sizeof(m.payload));
	assert_int_equal(ipc_send(pair[0], &h, "abcd", -1), 0);
	assert_int_equal(ipc_recv(pair[1], &m), 1);
	assert_int_equal(m.h.len, 4);
	assert_int_equal(m.payload[4], '\0');
	assert_int_equal(m.fd, -1);
}

static void test_refuses_oversized_send(void **state)
{
	static char big[IPC_PAYLOAD_MAX + 1];
	struct ipc_hdr h = { .type = IPC_CTL_REPLY, .len = IPC_PAYLOAD_MAX + 1 };

	(void)state;
	assert_int_equal(ipc_send(pair[0], &h, big, -1), -EMSGSIZE);
}

/* A header whose len does not match what came: refused, fd closed. */
static void test_lying_length(void **state)
{
	static struct ipc_msg m;
	struct ipc_hdr h = { .type = IPC_LINK, .len = 100 };
	char buf[sizeof(h) + 10] = { 0 };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	int p[2], before;

	(void)state;
	assert_int_equal(pipe(p), 0);
	memcpy(buf, &h, sizeof(h));
	memset(&ctl, 0, sizeof(ctl));
	ctl.c.cmsg_level = SOL_SOCKET;
	ctl.c.cmsg_type = SCM_RIGHTS;
	ctl.c.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&ctl.c), &p[0], sizeof(int));
	assert_true(sendmsg(pair[0], &mh, 0) > 0);
	/* The fd the receiver would get is the lowest free one: find it first. */
	before = dup(0);
	close(before);
	assert_int_equal(ipc_recv(pair[1], &m), -EBADMSG);
	assert_int_equal(m.fd, -1);
	assert_false(fd_open(before));
	close(p[0]);
	close(p[1]);
}

/* Shorter than a header: refused. */
static void test_runt(void **state)
{
	static struct ipc_msg m;

	(void)state;
	assert_int_equal(send(pair[0], "abc", 3, 0), 3);
	assert_int_equal(ipc_recv(pair[1], &m), -EBADMSG);
}

/* Several fds in one message: the first is kept, the others closed. */
static void test_extra_fds_closed(void **state)
{
	static struct ipc_msg m;
	struct ipc_hdr h = { .type = IPC_VIF_GONE };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(3 * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	int fds[3], p[2], open_before = 0, open_after = 0;

	(void)state;
	for (int fd = 3; fd < 64; fd++)
		open_before += fd_open(fd);
	assert_int_equal(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = p[1];
	fds[2] = p[0];
	memset(&ctl, 0, sizeof(ctl));
	ctl.c.cmsg_level = SOL_SOCKET;
	ctl.c.cmsg_type = SCM_RIGHTS;
	ctl.c.cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(&ctl.c), fds, sizeof(fds));
	assert_true(sendmsg(pair[0], &mh, 0) > 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ipc_recv(pair[1], &m), 1);
	assert_true(m.fd >= 0);
	for (int fd = 3; fd < 64; fd++)
		open_after += fd_open(fd);
	assert_int_equal(open_after, open_before + 1); /* m.fd only */
	close(m.fd);
}

static void test_peer_gone(void **state)
{
	static struct ipc_msg m;

	(void)state;
	close(pair[0]);
	assert_int_equal(ipc_recv(pair[1], &m), -EPIPE);
	pair[0] = open("/dev/null", O_RDONLY | O_CLOEXEC); /* for teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_with_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_nul_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_oversized_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lying_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extra_fds_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
