// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Messages up to the device's max_msg_sz (2 GiB): one RDMA WRITE, one RDMA
 * READ and one SEND of LEN bytes between two RC QPs of one device.
 *
 *   big_msg DEV GID_INDEX MTU LEN [write]
 *
 * LEN is above 2 chunks (2 MiB and more); "write" does the WRITE alone.
 *
 * A guest has far less memory than 2 GiB per buffer, so every buffer is a
 * window of LEN bytes onto a few small memfds mapped over and over: the
 * source repeats one chunk of random bytes, and each target is a head
 * chunk, a middle chunk mapped again and again, and a tail.  The chunk is
 * 257 pages, so a byte that lands at the wrong offset lands on a
 * different byte of the pattern.  After each operation the head, the
 * middle and the tail must all hold the pattern: the message's first
 * bytes, its body and its last bytes arrived where they belong.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define CHUNK	(257 * 4096UL)

/* A target: LEN bytes over a head, a repeated middle and a tail memfd. */
struct target {
	uint8_t *base;
	uint8_t *part[3];	/* head, middle, tail */
	size_t part_len[3];
	struct ibv_mr *mr;
};

static uint8_t *pattern;	/* the source's chunk */

static int new_memfd(const char *name, size_t len)
{
	int fd = memfd_create(name, 0);

	if (fd < 0 || ftruncate(fd, len)) {
		perror("memfd");
		exit(2);
	}
	return fd;
}

/* Map @fd's first @len bytes at @addr, replacing what is there. */
static void *map_at(uint8_t *addr, size_t len, int fd)
{
	void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (addr ? MAP_FIXED : 0), fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* Reserve @len bytes of address space and fill it with windows on @fds. */
static uint8_t *map_window(size_t len, const int fds[3])
{
	uint8_t *base = mmap(NULL, len, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t off;

	if (base == MAP_FAILED) {
		perror("mmap reserve");
		exit(2);
	}
	for (off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		int fd = off == 0 ? fds[0] : off + n == len ? fds[2] : fds[1];

		map_at(base + off, (n + 4095) & ~4095UL, fd);
	}
	return base;
}

static void target_init(struct target *t, struct ibv_pd *pd, size_t len,
			const char *name)
{
	size_t tail = len - (len - 1) / CHUNK * CHUNK;
	int fds[3], i;

	for (i = 0; i < 3; i++) {
		fds[i] = new_memfd(name, CHUNK);
		t->part[i] = map_at(NULL, CHUNK, fds[i]);
		t->part_len[i] = CHUNK;
	}
	t->part_len[2] = tail;
	t->base = map_window(len, fds);
	t->mr = ibv_reg_mr(pd, t->base, len, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!t->mr) {
		perror("ibv_reg_mr (target)");
		exit(2);
	}
	for (i = 0; i < 3; i++)
		close(fds[i]);
}

static void target_clear(struct target *t)
{
	int i;

	for (i = 0; i < 3; i++)
		memset(t->part[i], 0, CHUNK);
}

/* Did all of the message reach @t, each byte where it belongs? */
static void target_check(struct target *t, const char *what)
{
	static const char *const name[3] = { "first", "middle", "last" };
	int i;

	for (i = 0; i < 3; i++)
		check(!memcmp(t->part[i], pattern, t->part_len[i]),
		      "%s: the message's %s bytes differ", what, name[i]);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for one completion on @cq and check it. */
static void wait_wc(struct ibv_cq *cq, enum ibv_wc_opcode opcode,
		    uint32_t byte_len, const char *what)
{
	struct ibv_wc wc;
	double deadline = now() + 600;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, &wc);
	} while (n == 0 && now() < deadline);
	if (n != 1) {
		check(0, "%s: no completion", what);
		exit(1);
	}
	check(wc.status == IBV_WC_SUCCESS && wc.opcode == opcode,
	      "%s: status %s opcode %d", what, ibv_wc_status_str(wc.status),
	      wc.opcode);
	if (opcode & IBV_WC_RECV)
		check(wc.byte_len == byte_len, "%s: byte_len %u, sent %u",
		      what, wc.byte_len, byte_len);
}

static void post_send(struct ibv_qp *qp, enum ibv_wr_opcode opcode,
		      struct ibv_sge *sge, struct target *remote)
{
	struct ibv_send_wr wr = {
		.sg_list = sge,
		.num_sge = 1,
		.opcode = opcode,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (remote) {
		wr.wr.rdma.remote_addr = (uintptr_t)remote->base;
		wr.wr.rdma.rkey = remote->mr->rkey;
	}
	if (ibv_post_send(qp, &wr, &bad)) {
		perror("ibv_post_send");
		exit(2);
	}
}

static void report_rate(const char *op, uint32_t len, int mtu, double secs)
{
	printf("big_msg: %s of %" PRIu32 " bytes at MTU %d: %.1f s, %.1f MB/s\n",
	       op, len, mtu, secs, len / secs / 1e6);
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *scq, *rcq;
	struct ibv_qp *a, *b;
	struct ibv_mr *src_mr;
	struct target dst, back;
	union ibv_gid gid;
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_recv_wr rwr = { .num_sge = 1 }, *rbad;
	struct ibv_sge sge;
	uint8_t *src;
	uint32_t len;
	int gid_index, mtu, fds[3], i;
	bool do_read, do_send;
	double t0;

	if (argc != 5 && argc != 6) {
		fprintf(stderr,
			"usage: big_msg DEV GID_INDEX MTU LEN [write[,read][,send]]\n");
		return 2;
	}
	/* The WRITE always runs: it fills what the READ reads back. */
	do_read = argc == 5 || strstr(argv[5], "read");
	do_send = argc == 5 || strstr(argv[5], "send");
	gid_index = atoi(argv[2]);
	mtu = atoi(argv[3]);
	len = strtoul(argv[4], NULL, 0);
	if (!mtu_from_bytes(mtu) || len <= 2 * CHUNK) {
		fprintf(stderr, "bad MTU %d, or LEN not above %lu\n", mtu,
			2 * CHUNK);
		return 2;
	}
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		fprintf(stderr, "cannot open %s or its GID %d\n", argv[1],
			gid_index);
		return 2;
	}
	pd = ibv_alloc_pd(ctx);
	scq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	rcq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	if (!pd || !scq || !rcq)
		return 2;
	init.send_cq = scq;
	init.recv_cq = rcq;
	a = ibv_create_qp(pd, &init);
	b = ibv_create_qp(pd, &init);
	if (!a || !b ||
	    rc_qp_connect(a, b->qp_num, gid_index, &gid, mtu_from_bytes(mtu),
			  14, 7, 7) ||
	    rc_qp_connect(b, a->qp_num, gid_index, &gid, mtu_from_bytes(mtu),
			  14, 7, 7)) {
		perror("QP setup");
		return 2;
	}

	/* The source: the pattern chunk, mapped over all of its window. */
	fds[0] = fds[1] = fds[2] = new_memfd("pattern", CHUNK);
	pattern = map_at(NULL, CHUNK, fds[0]);
	srandom(getpid());
	for (i = 0; i < (int)CHUNK; i++)
		pattern[i] = random();
	src = map_window(len, fds);
	close(fds[0]);
	src_mr = ibv_reg_mr(pd, src, len, IBV_ACCESS_LOCAL_WRITE);
	if (!src_mr) {
		perror("ibv_reg_mr (source)");
		return 2;
	}
	target_init(&dst, pd, len, "dst");
	target_init(&back, pd, len, "back");

	target_clear(&dst);
	sge = (struct ibv_sge){ (uintptr_t)src, len, src_mr->lkey };
	t0 = now();
	post_send(a, IBV_WR_RDMA_WRITE, &sge, &dst);
	wait_wc(scq, IBV_WC_RDMA_WRITE, 0, "WRITE");
	report_rate("WRITE", len, mtu, now() - t0);
	target_check(&dst, "WRITE");
	if (!do_read)
		goto send;

	target_clear(&back);
	sge = (struct ibv_sge){ (uintptr_t)back.base, len, back.mr->lkey };
	t0 = now();
	post_send(a, IBV_WR_RDMA_READ, &sge, &dst);
	wait_wc(scq, IBV_WC_RDMA_READ, 0, "READ");
	report_rate("READ", len, mtu, now() - t0);
	target_check(&back, "READ");

send:
	if (!do_send)
		goto out;
	target_clear(&dst);
	sge = (struct ibv_sge){ (uintptr_t)dst.base, len, dst.mr->lkey };
	rwr.sg_list = &sge;
	if (ibv_post_recv(b, &rwr, &rbad)) {
		perror("ibv_post_recv");
		return 2;
	}
	sge = (struct ibv_sge){ (uintptr_t)src, len, src_mr->lkey };
	t0 = now();
	post_send(a, IBV_WR_SEND, &sge, NULL);
	wait_wc(scq, IBV_WC_SEND, 0, "SEND");
	wait_wc(rcq, IBV_WC_RECV, len, "SEND's receive");
	report_rate("SEND", len, mtu, now() - t0);
	target_check(&dst, "SEND");

out:
	ibv_destroy_qp(a);
	ibv_destroy_qp(b);
	ibv_dereg_mr(src_mr);
	ibv_dereg_mr(dst.mr);
	ibv_dereg_mr(back.mr);
	ibv_destroy_cq(scq);
	ibv_destroy_cq(rcq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("big_msg: %d failures\n", failures);
	return failures ? 1 : 0;
}
