// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A registration without write access sees what the process writes after
 * registering.
 *
 * Such a registration pins its pages read-only.  In a private mapping a
 * page read but never written is shared: the zero page, or a file's page
 * in the page cache.  The process's first write replaces it with a copy of
 * its own (copy-on-write); an MR that kept the old page would show stale
 * bytes from then on, zeros for fresh memory.  Each case below registers
 * first, writes its message second, then moves the message through the MR
 * and compares every byte:
 *
 *   anon-zero       anonymous memory read before registering (the zero
 *                   page is mapped), access 0, local source of a WRITE
 *   anon-fresh      anonymous memory never touched, REMOTE_READ, READ by
 *                   the peer QP
 *   file-private    MAP_PRIVATE of a file, read before registering, then
 *                   written: the page-cache page is copied; peer READ
 *   file-shared     MAP_SHARED PROT_READ of a file: nothing to copy, the
 *                   MR reads the page cache, so the file's new contents
 *                   (pwrite) reach the peer's READ
 *   odp-zero        anon-zero with IBV_ACCESS_ON_DEMAND
 *
 *   ro_pin DEV GID_INDEX
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "common.h"

#define LEN	(16u * 4096)	/* sixteen pages, several packets at MTU 1024 */

static struct ibv_pd *pd;
static struct ibv_cq *cq;
static struct ibv_qp *req, *resp;
static struct ibv_mr *sink_mr;
static uint8_t *sink;

static struct ibv_qp *make_qp(void)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(pd, &a);
}

/*
 * Move LEN bytes from @src (registered as @mr) into the sink with one
 * signaled request of @req: an RDMA WRITE when @mr is the local source,
 * an RDMA READ of @mr as the remote source otherwise.
 */
static int move(struct ibv_mr *mr, void *src, int remote_read)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(remote_read ? sink : src),
		.length = LEN,
		.lkey = remote_read ? sink_mr->lkey : mr->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = remote_read ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_wc wc;
	int n, tries;

	if (remote_read) {
		wr.wr.rdma.remote_addr = (uintptr_t)src;
		wr.wr.rdma.rkey = mr->rkey;
	} else {
		wr.wr.rdma.remote_addr = (uintptr_t)sink;
		wr.wr.rdma.rkey = sink_mr->rkey;
	}
	memset(sink, 0xee, LEN);
	if (ibv_post_send(req, &wr, &bad))
		return -1;
	for (tries = 0; tries < 10000; tries++) {
		n = ibv_poll_cq(cq, 1, &wc);
		if (n)
			break;
		usleep(1000);
	}
	if (n != 1 || wc.status != IBV_WC_SUCCESS) {
		printf("%s: %s\n", remote_read ? "READ" : "WRITE",
		       n == 1 ? ibv_wc_status_str(wc.status) : "no completion");
		return -1;
	}
	return 0;
}

/* Register @buf with @access, write message @seed into it, move it. */
static void run_case(const char *name, uint8_t *buf, int access,
		     int remote_read, int fd)
{
	unsigned int seed = access + remote_read * 7 + (fd >= 0) * 13 + 1;
	struct ibv_mr *mr;
	long at;

	mr = ibv_reg_mr(pd, buf, LEN, access);
	if (!mr) {
		check(0, "%s: ibv_reg_mr: %s", name, strerror(errno));
		return;
	}
	if (fd >= 0) {
		/* The shared mapping cannot be written: the file is. */
		uint8_t msg[LEN];

		msg_fill(msg, LEN, seed);
		if (pwrite(fd, msg, LEN, 0) != LEN) {
			check(0, "%s: pwrite: %s", name, strerror(errno));
			goto out;
		}
	} else {
		msg_fill(buf, LEN, seed);
	}
	if (move(mr, buf, remote_read)) {
		check(0, "%s: the transfer failed", name);
		goto out;
	}
	at = msg_differs(sink, LEN, seed);
	report(at < 0, "%s: the MR shows what was written after registering%s",
	       name, at < 0 ? "" : " (first difference below)");
	if (at >= 0)
		printf("  byte %ld of page %ld: 0x%02x, expected 0x%02x\n",
		       at, at / 4096, sink[at], msg_byte(seed, at));
out:
	ibv_dereg_mr(mr);
}

static uint8_t *map_anon(void)
{
	void *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* Read every page of @p, so that a shared page is mapped at each. */
static void touch(const uint8_t *p)
{
	const volatile uint8_t *v = p;
	unsigned int i;

	for (i = 0; i < LEN; i += 4096)
		(void)v[i];
}

/* A file of LEN bytes of 0x5a, opened for reading and writing. */
static int make_file(void)
{
	char path[] = "/tmp/ro_pin.XXXXXX";
	uint8_t old[LEN];
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	unlink(path);
	memset(old, 0x5a, LEN);
	if (write(fd, old, LEN) != LEN) {
		perror("write");
		exit(2);
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct ibv_device_attr_ex attr = {};
	struct ibv_context *ctx;
	union ibv_gid gid;
	uint8_t *buf;
	int gid_index, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEV GID_INDEX\n", argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid) ||
	    ibv_query_device_ex(ctx, NULL, &attr)) {
		printf("FAIL: cannot open %s or read GID %d\n", argv[1],
		       gid_index);
		return 2;
	}
	pd = ibv_alloc_pd(ctx);
	cq = pd ? ibv_create_cq(ctx, 8, NULL, NULL, 0) : NULL;
	req = cq ? make_qp() : NULL;
	resp = req ? make_qp() : NULL;
	sink = map_anon();
	sink_mr = ibv_reg_mr(pd, sink, LEN, IBV_ACCESS_LOCAL_WRITE |
			     IBV_ACCESS_REMOTE_WRITE);
	if (!resp || !sink_mr ||
	    rc_qp_connect(req, resp->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(resp, req->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7)) {
		printf("FAIL: cannot set up two connected QPs: %s\n",
		       strerror(errno));
		return 2;
	}

	buf = map_anon();
	touch(buf);
	run_case("anon-zero", buf, 0, 0, -1);
	munmap(buf, LEN);

	buf = map_anon();
	run_case("anon-fresh", buf, IBV_ACCESS_REMOTE_READ, 1, -1);
	munmap(buf, LEN);

	fd = make_file();
	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (buf == MAP_FAILED) {
		perror("mmap (private file)");
		return 2;
	}
	touch(buf);
	run_case("file-private", buf, IBV_ACCESS_REMOTE_READ, 1, -1);
	munmap(buf, LEN);

	buf = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	if (buf == MAP_FAILED) {
		perror("mmap (shared file)");
		return 2;
	}
	touch(buf);
	run_case("file-shared", buf, IBV_ACCESS_REMOTE_READ, 1, fd);
	munmap(buf, LEN);
	close(fd);

	if (attr.odp_caps.general_caps & IBV_ODP_SUPPORT) {
		buf = map_anon();
		touch(buf);
		run_case("odp-zero", buf, IBV_ACCESS_ON_DEMAND, 0, -1);
		munmap(buf, LEN);
	} else {
		check(0, "%s reports no ODP support", argv[1]);
	}

	ibv_destroy_qp(resp);
	ibv_destroy_qp(req);
	ibv_dereg_mr(sink_mr);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("ro_pin %s: %s\n", argv[1], failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
