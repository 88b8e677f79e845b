/* SPDX-License-Identifier: MIT */
/*
 * fuzz_xs_server.c - the simulated xenstored against arbitrary clients.
 *
 * One server per input, in this process, with connections over socketpairs:
 * two of dom0 and one each for guest domains 1, 2 and 3 (domain 3 also
 * tries a second connection, which must be refused). The input is a
 * sequence of steps, each naming a connection (low 3 bits) and an action:
 *
 *   0-15   raw bytes: a length byte, then that many bytes sent as they are
 *          (guests only: dom0 is trusted to speak the protocol)
 *   16-23  a message: type, transaction id, request id, length, payload;
 *          the harness writes the header (dom0's are kept from creating or
 *          handing over nodes owned by guests, see below)
 *   24     release the connection's guest domain (as its death would)
 *   25     introduce it again, and connect it again
 *   26     close the client's end and connect again
 *   27     read everything queued for this connection
 *   28     toggle whether this connection's client reads (a sleeping reader
 *          lets replies and events pile up in the server)
 *   29-31  dom0 sets a target (guest 3 acts for guest 1), or runs the server
 *
 * After every step the server runs until it is idle and the readers read.
 * Invariants: nothing crashes or leaks (ASan, LeakSanitizer), each guest
 * holds at most its quotas (nodes, watches, transactions, outstanding
 * requests), the number of nodes stays proportional to the input, and a
 * guest never has two connections.
 *
 * The node quota is a guest's own: dom0 is exempt and may create nodes that
 * a guest owns (below its home, or by SET_PERMS), which would make a guest's
 * count no check at all. So dom0's messages never write or make nodes below
 * /local/domain/ (nor relative ones, which lie there), and its SET_PERMS
 * always names dom0 as the owner.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/socket.h>
#include <xen/io/xs_wire.h>

#include "fuzz_input.h"
#include "xs_server.h"
#include "xs_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONNS 6
#define HDR sizeof(struct xsd_sockmsg)

static const unsigned conn_dom[NCONNS] = { 0, 0, 1, 2, 3, 3 };

struct fconn {
	int fd;          /* the client's end, -1 if none */
	bool asleep;     /* the client does not read */
};

struct rig {
	struct xs_server *s;
	struct fconn c[NCONNS];
};

static void conn_open(struct rig *r, int i)
{
	int sv[2], err;

	r->c[i].fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	err = xs_server_add_conn(r->s, sv[0], conn_dom[i]);
	if (err) {
		/* only a guest's second connection may be refused */
		FUZZ_CHECK(err == -EEXIST && conn_dom[i] != 0);
		close(sv[1]);
		return;
	}
	r->c[i].fd = sv[1];
}

static void conn_close(struct rig *r, int i)
{
	if (r->c[i].fd >= 0)
		close(r->c[i].fd);
	r->c[i].fd = -1;
}

/* Discard what the server sent to connection @i. */
static void conn_drain(struct rig *r, int i)
{
	char buf[4096];

	if (r->c[i].fd < 0)
		return;
	while (read(r->c[i].fd, buf, sizeof(buf)) > 0)
		;
}

/* Send @len bytes as client @i, if its socket takes them (a full one drops them). */
static void conn_send(struct rig *r, int i, const void *buf, size_t len)
{
	if (r->c[i].fd >= 0 && send(r->c[i].fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* EAGAIN: a sleeping reader's server end is full; EPIPE: released */
	}
}

static void settle(struct rig *r)
{
	for (int round = 0; round < 4; round++) {
		FUZZ_CHECK(xs_server_run(r->s) == 0);
		for (int i = 0; i < NCONNS; i++)
			if (!r->c[i].asleep)
				conn_drain(r, i);
	}
}

static void check(struct rig *r, size_t input)
{
	struct xs_server_usage u;
	struct xs_server_domain_usage d;

	xs_server_usage(r->s, &u);
	FUZZ_CHECK(u.nodes <= 2 * input + 64);
	FUZZ_CHECK(u.out_bytes <= NCONNS * (XS_SERVER_MAX_OUT_BYTES + 64 * 4200));
	for (unsigned dom = 1; dom <= 3; dom++) {
		xs_server_domain_usage(r->s, dom, &d);
		FUZZ_CHECK(d.nodes <= XS_STORE_QUOTA_NODES);
		FUZZ_CHECK(d.watches <= XS_SERVER_QUOTA_WATCHES);
		FUZZ_CHECK(d.transactions <= XS_SERVER_QUOTA_TRANSACTIONS);
		FUZZ_CHECK(d.outstanding <= XS_SERVER_QUOTA_OUTSTANDING);
		/* a guest's transactions hold what they touched, at most */
		FUZZ_CHECK(d.tx_bytes <= (size_t)XS_SERVER_QUOTA_TRANSACTIONS *
			   (XS_STORE_QUOTA_TX_NODES * (256 + 2 * XENSTORE_ABS_PATH_MAX + 2048) + 65536));
	}
}

/* Whether dom0 may send this (see the top of the file). */
static bool dom0_allowed(uint32_t type, const char *p, size_t len)
{
	size_t pl = strnlen(p, len);

	if (type != XS_WRITE && type != XS_MKDIR && type != XS_SET_PERMS)
		return true;
	if (pl == len || p[0] != '/' || strncmp(p, "/local/domain", 13) == 0)
		return false;
	if (type == XS_SET_PERMS) {
		/* the owner entry: one letter, then exactly "0" */
		const char *o = p + pl + 1;
		size_t ol = strnlen(o, len - pl - 1);

		return ol == 2 && o[1] == '0';
	}
	return true;
}

static void step_message(struct rig *r, int i, struct fuzz_input *in)
{
	struct xsd_sockmsg h;
	char msg[HDR + 256];
	uint8_t len;

	h.type = fuzz_u8(in) % (XS_TYPE_COUNT + 1);
	h.tx_id = fuzz_u8(in) % 4;
	h.req_id = fuzz_u8(in);
	len = fuzz_u8(in);
	h.len = len;
	fuzz_take(in, msg + HDR, len);
	if (conn_dom[i] == 0 && !dom0_allowed(h.type, msg + HDR, len))
		return;
	memcpy(msg, &h, HDR);
	conn_send(r, i, msg, HDR + len);
}

static void step_raw(struct rig *r, int i, struct fuzz_input *in)
{
	uint8_t buf[256];
	uint8_t len = fuzz_u8(in);

	fuzz_take(in, buf, len);
	if (conn_dom[i] != 0)
		conn_send(r, i, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct rig r;

	if (size > 16384)
		return 0;
	memset(&r, 0, sizeof(r));
	r.s = xs_server_new();
	if (!r.s)
		abort();
	for (unsigned dom = 1; dom <= 3; dom++)
		FUZZ_CHECK(xs_server_introduce_domain(r.s, dom) == 0);
	for (int i = 0; i < NCONNS; i++)
		conn_open(&r, i);
	FUZZ_CHECK(r.c[5].fd < 0);  /* guest 3 has one already */
	while (in.left) {
		uint8_t op = fuzz_u8(&in);
		int i = op & 7, action = op >> 3;

		if (i >= NCONNS)
			i -= NCONNS;
		if (action < 16) {
			if (r.c[i].fd >= 0)
				step_raw(&r, i, &in);
			else
				fuzz_u8(&in);
		} else if (action < 24) {
			if (r.c[i].fd >= 0)
				step_message(&r, i, &in);
		} else if (action == 24) {
			if (conn_dom[i])
				xs_server_release_domain(r.s, conn_dom[i]);
		} else if (action == 25) {
			if (conn_dom[i]) {
				FUZZ_CHECK(xs_server_introduce_domain(r.s, conn_dom[i]) == 0);
				conn_close(&r, i);
				conn_open(&r, i);
			}
		} else if (action == 26) {
			conn_close(&r, i);
			conn_open(&r, i);
		} else if (action == 27) {
			conn_drain(&r, i);
		} else if (action == 28) {
			r.c[i].asleep = !r.c[i].asleep;
		} else if (action == 29) {
			static const char arg[] = "3\0" "1";
			struct xsd_sockmsg h = { XS_SET_TARGET, 0, 0, sizeof(arg) };
			char msg[HDR + sizeof(arg)];

			memcpy(msg, &h, HDR);
			memcpy(msg + HDR, arg, sizeof(arg));
			conn_send(&r, 0, msg, sizeof(msg));
		}
		settle(&r);
		check(&r, size);
	}
	for (int i = 0; i < NCONNS; i++)
		r.c[i].asleep = false;
	settle(&r);
	check(&r, size);
	for (int i = 0; i < NCONNS; i++)
		conn_close(&r, i);
	xs_server_free(r.s);
	return 0;
}
