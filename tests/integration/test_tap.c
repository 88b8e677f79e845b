/* SPDX-License-Identifier: MIT */
/*
 * test_tap.c - the TAP host side against the real kernel, in a private
 * network namespace: frames we write with virtio-net metadata reach a
 * socket (a bad checksum does not), frames the kernel sends reach us with
 * checksums we can finish, MTU and offloads are applied, and closing the
 * fd removes the device. Needs root (CAP_NET_ADMIN); skipped (77) otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#ifdef XNB_HAVE_URING
#include <liburing.h>
#endif

#include "offload.h"
#include "tap.h"

#define HOST_IP "10.77.0.1"
#define GUEST_IP "10.77.0.2"

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x05 };
static const uint8_t vif_mac[6] = TAP_VIF_MAC;
static struct tap tap;

static void set_addr(const char *ifname)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(s >= 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, HOST_IP, &sin->sin_addr);
	assert_int_equal(ioctl(s, SIOCSIFADDR, &ifr), 0);
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	assert_int_equal(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
	close(s);
}

static int get_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0), mtu;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	mtu = ioctl(s, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : -1;
	close(s);
	return mtu;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(tap_open(&tap, "vif5.0", 0), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tap_close(&tap);
	return 0;
}

/* A UDP/IPv4 frame guest -> host, IP header checksum filled in. */
static uint32_t build_udp(uint8_t *f, uint16_t dport, const char *payload)
{
	uint32_t plen = (uint32_t)strlen(payload), ip_len = 20 + 8 + plen;
	struct engine_pkt_meta m = { 0 };

	memset(f, 0, 14 + ip_len);
	memcpy(f, vif_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[22] = 64;
	f[23] = 17;
	inet_pton(AF_INET, GUEST_IP, f + 26);
	inet_pton(AF_INET, HOST_IP, f + 30);
	f[34] = 0x30;
	f[35] = 0x39;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	f[38] = (uint8_t)((8 + plen) >> 8);
	f[39] = (uint8_t)(8 + plen);
	memcpy(f + 42, payload, plen);
	/* Full checksums first (fixes the IP header); callers undo what they test. */
	assert_int_equal(engine_csum_complete(f, 14 + ip_len, &m), 0);
	return 14 + ip_len;
}

static int udp_socket(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, HOST_IP, &a.sin_addr);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

static long recv_wait(int s, void *buf, size_t size)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	if (poll(&p, 1, 1000) != 1)
		return -1;
	return recv(s, buf, size, 0);
}

static void test_guest_to_host_partial_csum(void **state)
{
	uint8_t f[256], buf[64];
	struct engine_pkt_meta m = { 0 };
	int s;
	uint32_t len;

	(void)state;
	set_addr(tap.name);
	assert_int_equal(tap_set_up(&tap, 1), 0);
	s = udp_socket(5000);

	/* Partial: the field holds only the pseudo-header sum, the host finishes it. */
	len = build_udp(f, 5000, "partial");
	assert_int_equal(engine_csum_setup(f, len, &m, true), 0);
	assert_int_equal(tap_send(&tap, &m, f, len), 0);
	assert_int_equal(recv_wait(s, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "partial", 7);

	/* No metadata and a broken checksum: the host must drop it. */
	len = build_udp(f, 5000, "broken!");
	f[40] ^= 0x55;
	memset(&m, 0, sizeof(m));
	assert_int_equal(tap_send(&tap, &m, f, len), 0);
	assert_int_equal(recv_wait(s, buf, sizeof(buf)), -1);

	/* A correct frame with no metadata at all goes through. */
	len = build_udp(f, 5000, "checked");
	assert_int_equal(tap_send(&tap, &m, f, len), 0);
	assert_int_equal(recv_wait(s, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "checked", 7);
	close(s);
}

static void test_host_to_guest_with_offloads(void **state)
{
	struct vnet_offloads o = { .csum = true, .tso4 = true };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(6000) };
	uint8_t frame[2048];
	struct engine_pkt_meta m;
	struct pollfd p = { .fd = tap.fd, .events = POLLIN };
	int s, got_udp = 0;

	(void)state;
	assert_int_equal(tap_set_offloads(&tap, &o), 0);
	set_addr(tap.name);
	assert_int_equal(tap_set_up(&tap, 1), 0);
	s = udp_socket(6001);
	inet_pton(AF_INET, GUEST_IP, &dst.sin_addr);
	assert_int_equal(sendto(s, "to-guest", 8, 0, (struct sockaddr *)&dst, sizeof(dst)), 8);

	for (int i = 0; i < 20 && !got_udp; i++) {
		long n;

		if (poll(&p, 1, 1000) != 1)
			break;
		n = tap_recv(&tap, &m, frame, sizeof(frame));
		if (n == -EAGAIN)
			continue;
		assert_true(n >= 14);
		if (frame[12] == 0x08 && frame[13] == 0x06) {
			/* ARP who-has GUEST_IP: answer it as the guest would. */
			uint8_t reply[42];

			assert_true(n >= 42);
			memcpy(reply, frame + 6, 6);
			memcpy(reply + 6, guest_mac, 6);
			memcpy(reply + 12, frame + 12, 8);
			reply[20] = 0;
			reply[21] = 2; /* reply */
			memcpy(reply + 22, guest_mac, 6);
			memcpy(reply + 28, frame + 38, 4);
			memcpy(reply + 32, frame + 22, 10);
			memset(&m, 0, sizeof(m));
			assert_int_equal(tap_send(&tap, &m, reply, sizeof(reply)), 0);
		} else if (frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 17) {
			struct engine_hdrs h;

			assert_int_equal(engine_hdrs_parse(frame, (uint32_t)n, &h), 0);
			assert_memory_equal(frame + h.l4_off + 8, "to-guest", 8);
			/* With TUN_F_CSUM the kernel leaves the checksum to us. */
			assert_int_equal(m.csum, ENGINE_CSUM_PARTIAL);
			assert_int_equal(m.csum_start, h.l4_off);
			assert_int_equal(m.csum_offset, 6);
			got_udp = 1;
		}
	}
	assert_true(got_udp);
	close(s);
}

static void test_batched_writes(void **state)
{
	static uint8_t frames[3][256], runt[5];
	struct engine_pkt_meta m = { 0 };
	uint32_t len[3];
	int results[4], s;
	char buf[64];

	(void)state;
	set_addr(tap.name);
	assert_int_equal(tap_set_up(&tap, 1), 0);
	s = udp_socket(7000);
	len[0] = build_udp(frames[0], 7000, "first");
	len[1] = build_udp(frames[1], 7000, "second");
	len[2] = build_udp(frames[2], 7000, "third");

	tap_batch_add(&tap, &m, frames[0], len[0]);
	tap_batch_add(&tap, &m, runt, sizeof(runt)); /* shorter than Ethernet: refused */
	tap_batch_add(&tap, &m, frames[1], len[1]);
	tap_batch_add(&tap, &m, frames[2], len[2]);
	if (tap_batch_count(&tap) == 0) {
		skip(); /* no batch state: tap_send() is used instead */
		return;
	}
	assert_int_equal(tap_batch_count(&tap), 4);
	assert_int_equal(tap_batch_flush(&tap, results), 1);
	assert_int_equal(tap_batch_count(&tap), 0);
	assert_int_equal(results[0], 0);
	assert_true(results[1] < 0);
	assert_int_equal(results[2], 0);
	assert_int_equal(results[3], 0);
	/* In order, all three good ones delivered. */
	assert_int_equal(recv_wait(s, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "first", 5);
	assert_int_equal(recv_wait(s, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "second", 6);
	assert_int_equal(recv_wait(s, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "third", 5);
	close(s);
}

/* The guest's MAC for GUEST_IP, so the kernel sends without asking (ARP). */
static void set_guest_neighbour(const char *ifname)
{
	struct arpreq r = { 0 };
	struct sockaddr_in *pa = (struct sockaddr_in *)&r.arp_pa;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	pa->sin_family = AF_INET;
	inet_pton(AF_INET, GUEST_IP, &pa->sin_addr);
	r.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(r.arp_ha.sa_data, guest_mac, 6);
	r.arp_flags = ATF_PERM | ATF_COM;
	snprintf(r.arp_dev, sizeof(r.arp_dev), "%s", ifname);
	assert_int_equal(ioctl(s, SIOCSARP, &r), 0);
	close(s);
}

/* Ten datagrams queued by the host come out of one batched read, in order. */
static void test_batched_reads(void **state)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(6100) };
	static uint8_t bufs[32][2048]; /* room for IPv6 hellos besides ours */
	struct tap_rx_frame f[32];
	struct pollfd p = { .fd = tap.fd, .events = POLLIN };
	unsigned got, next = 0, eagain = 0;
	int s;

	(void)state;
	set_addr(tap.name);
	assert_int_equal(tap_set_up(&tap, 1), 0);
	set_guest_neighbour(tap.name);
	s = udp_socket(6101);
	inet_pton(AF_INET, GUEST_IP, &dst.sin_addr);
	for (int i = 0; i < 10; i++) {
		char msg[8];

		snprintf(msg, sizeof(msg), "dgram%d", i);
		assert_int_equal(sendto(s, msg, 6, 0, (struct sockaddr *)&dst, sizeof(dst)), 6);
	}
	assert_int_equal(poll(&p, 1, 1000), 1);
	for (int i = 0; i < 32; i++) {
		f[i].buf = bufs[i];
		f[i].size = sizeof(bufs[i]);
	}
	got = tap_recv_batch(&tap, f, 32);
	/* io_uring fills every entry; the fallback stops after the first -EAGAIN. */
	assert_true(got == 32 || (got >= 11 && f[got - 1].len == -EAGAIN));
	for (unsigned i = 0; i < got; i++) {
		const uint8_t *fr = f[i].buf;

		if (f[i].len == -EAGAIN) {
			eagain++;
			continue;
		}
		assert_true(f[i].len >= 14);
		/* Only our datagrams count (the interface may also say IPv6 hellos). */
		if (fr[12] != 0x08 || fr[13] != 0x00 || fr[23] != 17 || f[i].len < 48)
			continue;
		assert_int_equal(fr[36] << 8 | fr[37], 6100);
		assert_memory_equal(fr + 42, "dgram", 5);
		assert_int_equal(fr[47], '0' + next);
		next++;
	}
	assert_int_equal(next, 10);
	assert_true(eagain >= 1);
	close(s);
}

/* One frame through @t's batch (its io_uring ring where there is one). */
static void batch_one(struct tap *t, uint16_t port, const char *payload)
{
	static uint8_t frame[256];
	struct engine_pkt_meta m = { 0 };
	size_t plen = strlen(payload);
	uint32_t len = build_udp(frame, port, payload);
	int result = -1, s = udp_socket(port);
	char buf[64];

	tap_batch_add(t, &m, frame, len);
	assert_int_equal(tap_batch_count(t), 1);
	assert_int_equal(tap_batch_flush(t, &result), 0);
	assert_int_equal(result, 0);
	assert_int_equal(recv_wait(s, buf, sizeof(buf)), (long)plen);
	assert_memory_equal(buf, payload, plen);
	close(s);
}

#ifdef XNB_HAVE_URING
/* Submit what is prepared, return the one completion's result. */
static int ring_result(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	assert_int_equal(io_uring_submit_and_wait(ring, 1), 1);
	assert_int_equal(io_uring_peek_cqe(ring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}
#endif

/* The ring does readv/writev on its fixed TAP file and nothing else. */
static void test_ring_restricted(void **state)
{
#ifdef XNB_HAVE_URING
	struct io_uring *ring = tap_test_ring(&tap);
	struct io_uring_sqe *sqe;
	struct iovec iov;
	char buf[64];
	int fd;

	(void)state;
	if (!ring) {
		skip(); /* a kernel without io_uring restrictions: readv/writev */
		return;
	}
	/* Another operation, even on the fixed file: refused. */
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	assert_int_equal(ring_result(ring), -EACCES);
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	assert_int_equal(ring_result(ring), -EACCES);

	/* An allowed operation on an fd that is not the ring's fixed file. */
	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	iov = (struct iovec){ buf, sizeof(buf) };
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_readv(sqe, fd, &iov, 1, 0);
	assert_int_equal(ring_result(ring), -EACCES);

	/* No register operation once enabled: no new files, no buffers. */
	assert_int_equal(io_uring_register_files_update(ring, 0, &fd, 1), -EACCES);
	assert_int_equal(io_uring_register_buffers(ring, &iov, 1), -EACCES);
	close(fd);

	/* What it is for still works, through the same ring. */
	set_addr(tap.name);
	assert_int_equal(tap_set_up(&tap, 1), 0);
	batch_one(&tap, 7100, "allowed");
#else
	(void)state;
	skip();
#endif
}

/* The worker's side: a TAP fd received from the supervisor. */
static void test_attach_fd(void **state)
{
	struct tap t2 = { .fd = -1 };
	int fd = dup(tap.fd), p[2];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(tap_attach_fd(&t2, fd, NULL), 0);
	assert_string_equal(t2.name, tap.name);
	assert_int_equal(t2.fd, fd);
	assert_true(fcntl(t2.fd, F_GETFL) & O_NONBLOCK); /* the fd's flags kept */
	assert_non_null(t2.batch);
#ifdef XNB_HAVE_URING
	assert_non_null(tap_test_ring(&t2));
#endif
	set_addr(tap.name);
	assert_int_equal(tap_set_up(&tap, 1), 0);
	batch_one(&t2, 7200, "attached");
	tap_close(&t2);
	/* The device stays while the supervisor's fd is open. */
	assert_true(if_nametoindex(tap.name) != 0);

	/* A name of our own choosing, and fds that are no TAP. */
	fd = dup(tap.fd);
	assert_int_equal(tap_attach_fd(&t2, fd, "worker-vif"), 0);
	assert_string_equal(t2.name, "worker-vif");
	tap_close(&t2);
	assert_int_equal(pipe(p), 0);
	assert_true(tap_attach_fd(&t2, p[0], NULL) < 0);
	close(p[0]);
	close(p[1]);
}

static void test_mtu_and_removal(void **state)
{
	char name[16];

	(void)state;
	assert_int_equal(tap_set_mtu(&tap, 9000), 0);
	assert_int_equal(get_mtu(tap.name), 9000);
	snprintf(name, sizeof(name), "%s", tap.name);
	assert_true(if_nametoindex(name) != 0);
	tap_close(&tap);
	assert_int_equal(if_nametoindex(name), 0);
	assert_int_equal(tap_open(&tap, "vif5.0", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_to_host_partial_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_to_guest_with_offloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batched_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batched_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_restricted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mtu_and_removal, setup, teardown),
	};

	if (unshare(CLONE_NEWNET) != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		fprintf(stderr, "test_tap: needs root and /dev/net/tun: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
