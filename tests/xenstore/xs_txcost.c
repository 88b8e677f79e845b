/* SPDX-License-Identifier: MIT */
/*
 * xs_txcost.c - what XS_TRANSACTION_START costs the server over a big tree.
 *
 * Usage: xs_txcost [MB] [STARTS]
 * Runs xs_server in a thread of this process, fills /big with MB megabytes
 * (2 KiB values, one per node) as dom0 over a socketpair, then times STARTS
 * transaction starts (default 16 MB, 10 starts) and reports the heap they
 * added (mallinfo2: bytes in use) and their total round-trip time, then one
 * write in each transaction and its abort. Not a test: numbers for people.
 */
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xs_client.h"
#include "xs_server.h"

static struct xs_server *srv;
static int stop_pipe[2];

static void *serve(void *arg)
{
	struct pollfd p[2] = {
		{ .fd = xs_server_fd(srv), .events = POLLIN },
		{ .fd = stop_pipe[0], .events = POLLIN },
	};

	(void)arg;
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			return NULL;
		xs_server_run(srv);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	unsigned mb = argc > 1 ? (unsigned)atoi(argv[1]) : 16;
	unsigned starts = argc > 2 ? (unsigned)atoi(argv[2]) : 10;
	unsigned nodes = mb * 512;  /* 2 KiB each */
	struct xs_client *c;
	pthread_t th;
	char val[2048], path[64];
	uint32_t *tx = calloc(starts ? starts : 1, sizeof(*tx));
	size_t before, after;
	double t0, t1;
	int sv[2];

	if (!tx || pipe(stop_pipe) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 1;
	srv = xs_server_new();
	if (!srv || xs_server_add_conn(srv, sv[0], 0))
		return 1;
	c = xs_client_open_fd(sv[1]);
	if (!c || pthread_create(&th, NULL, serve, NULL))
		return 1;
	memset(val, 'v', sizeof(val));
	for (unsigned i = 0; i < nodes; i++) {
		snprintf(path, sizeof(path), "/big/%u/%u", i / 256, i % 256);
		if (xs_client_write(c, 0, path, val, sizeof(val)))
			return 1;
	}
	malloc_trim(0);
	before = mallinfo2().uordblks;
	t0 = now_ms();
	for (unsigned i = 0; i < starts; i++)
		if (xs_client_transaction_start(c, &tx[i]))
			return 1;
	t1 = now_ms();
	after = mallinfo2().uordblks;
	printf("tree: %u nodes, %u MB of values\n", nodes, mb);
	printf("%u transaction starts: %+.1f KiB heap, %.2f ms\n", starts,
	       ((double)after - (double)before) / 1024.0, t1 - t0);
	t0 = now_ms();
	for (unsigned i = 0; i < starts; i++) {
		snprintf(path, sizeof(path), "/big/%u/0", i);
		if (xs_client_write(c, tx[i], path, "w", 1))
			return 1;
	}
	after = mallinfo2().uordblks;
	t1 = now_ms();
	printf("one write in each: %+.1f KiB heap since the starts, %.2f ms\n",
	       ((double)after - (double)before) / 1024.0, t1 - t0);
	t0 = now_ms();
	for (unsigned i = 0; i < starts; i++)
		if (xs_client_transaction_end(c, tx[i], false))
			return 1;
	printf("%u aborts: %.2f ms\n", starts, now_ms() - t0);
	if (write(stop_pipe[1], "", 1) != 1)
		return 1;
	pthread_join(th, NULL);
	xs_client_close(c);
	xs_server_free(srv);
	free(tx);
	return 0;
}
