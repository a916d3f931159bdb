// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A slow on-demand page fault at the responder does not kill the
 * requester's QP.
 *
 *   odp_slow DEV GID_INDEX
 *
 * The process serves a FUSE file system of its own (fuse_file.h) with
 * one 64 KiB file whose every FUSE_READ is answered, with the file's
 * known contents, only after DELAY_MS: far longer than the eight local
 * ACK timeouts of the requester (timeout 14, 67 ms; retry_cnt 7;
 * rnr_retry 7).  The file is mapped privately, writable, and registered
 * on demand as B's MR; A then, one at a time, each on pages of its own:
 *  - WRITEs 4 KiB across pages 0 and 1 (four packets, two faults);
 *  - READs 8 KiB of pages 2 and 3;
 *  - compares and swaps a word of page 4, fetches and adds one of page 5;
 *  - SENDs 3000 bytes into a receive of B's on page 6.
 * Each must complete successfully, the bytes (and the atomics' original
 * values) must be right to the byte, and B's device must have counted
 * RNR NAKs for the faults (odp_rnr_naks_sent): B answers a request that
 * waits for a fault with an RNR NAK, which costs A RNR retries rather
 * than transport retries.  A responder that leaves A without an answer
 * for the fault's time fails A's QP with IBV_WC_RETRY_EXC_ERR instead.
 *
 * Each check prints "ok: ..." or "FAIL: ...".  The last line, "figures:
 * ...", is for the report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "fuse_file.h"

#define PAGE		4096UL
#define FILE_LEN	(64 * 1024UL)	/* the FUSE file */
#define FILE_SEED	77		/* its contents: msg_byte(FILE_SEED, off) */
#define DELAY_MS	1500		/* each FUSE_READ's answer waits this */
#define OP_BOUND	20.0		/* seconds for one op to complete */
#define SEND_LEN	3000

/* The FUSE file, whose reads are answered slowly. */
static struct fuse_file ff = {
	.name = "sroce-slow",
	.size = FILE_LEN,
	.seed = FILE_SEED,
	.delay_ms = DELAY_MS,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	printf("FAIL: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	fuse_file_abort(&ff);	/* so that nothing waits for the daemon */
	exit(2);
}

/* Port counter @name of @dev from sysfs, or -1. */
static long long counter(const char *dev, const char *name)
{
	char path[160];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * Post @wr on @qp and wait for its completion on @cq.  Returns the status,
 * or -1 when none came within OP_BOUND; *@took gets the seconds.
 */
static int run_op(struct ibv_qp *qp, struct ibv_cq *cq,
		  struct ibv_send_wr *wr, double *took)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	double t0 = now();
	int n = 0;

	wr->send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(qp, wr, &bad))
		die("ibv_post_send");
	while (now() - t0 < OP_BOUND && (n = ibv_poll_cq(cq, 1, &wc)) == 0)
		usleep(1000);
	*took = now() - t0;
	if (n < 0)
		die("ibv_poll_cq");
	return n ? (int)wc.status : -1;
}

static const char *status_str(int status)
{
	return status < 0 ? "no completion" :
	       ibv_wc_status_str((enum ibv_wc_status)status);
}

static struct ibv_qp *rc_qp(struct ibv_pd *pd, struct ibv_cq *cq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &init);

	if (!qp)
		die("ibv_create_qp");
	return qp;
}

/* A and B, connected afresh for each op: one op's failure is its own. */
static struct ibv_qp *qa, *qb;

static void new_pair(struct ibv_pd *pd, struct ibv_cq *cq_a,
		     struct ibv_cq *cq_b, int gid_index, union ibv_gid *gid)
{
	struct ibv_wc wc;

	if (qa && (ibv_destroy_qp(qa) || ibv_destroy_qp(qb)))
		die("ibv_destroy_qp");
	while (ibv_poll_cq(cq_a, 1, &wc) > 0 || ibv_poll_cq(cq_b, 1, &wc) > 0)
		;
	qa = rc_qp(pd, cq_a);
	qb = rc_qp(pd, cq_b);
	/* A: 67 ms local ACK timeout, 7 retries, RNR retries for ever. */
	if (rc_qp_connect(qa, qb->qp_num, gid_index, gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(qb, qa->qp_num, gid_index, gid, IBV_MTU_1024,
			  14, 7, 7))
		die("connecting the QPs");
}

/* The file's 8 bytes at @off, as a word in memory. */
static uint64_t file_word(uint64_t off)
{
	uint8_t b[8];
	uint64_t w;
	int i;

	for (i = 0; i < 8; i++)
		b[i] = msg_byte(FILE_SEED, off + i);
	memcpy(&w, b, 8);
	return w;
}

int main(int argc, char **argv)
{
	struct ibv_device_attr_ex dattr;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_mr *a_mr, *odp_mr;
	union ibv_gid gid;
	const char *what;
	uint8_t *map, *abuf;
	double t_write, t_read, t_cas, t_faa, t_send, t_all, t_end;
	double t_setup = now();
	long long rnr0, rnr1, retrans0, retrans1;
	int gid_index, fd, status, reads0;
	uint64_t off, w0, w;
	long d;

	if (argc != 3) {
		fprintf(stderr, "usage: odp_slow DEV GID_INDEX\n");
		return 2;
	}
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid))
		die("device or GID");
	if (ibv_query_device_ex(ctx, NULL, &dattr))
		die("ibv_query_device_ex");
	if (!(dattr.odp_caps.general_caps & IBV_ODP_SUPPORT)) {
		printf("FAIL: %s offers no ODP\n", argv[1]);
		return 1;
	}

	/* The FUSE file system: mount, then serve. */
	what = fuse_file_mount(&ff);
	if (what)
		die(what);
	fd = open(ff.path, O_RDONLY);
	if (fd < 0)
		die("open the FUSE file");
	/* Private and writable: a write fault reads the page, then copies. */
	map = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		die("mmap of the FUSE file");

	pd = ibv_alloc_pd(ctx);
	cq_a = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	cq_b = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!pd || !cq_a || !cq_b)
		die("pd/cq");
	abuf = aligned_alloc(PAGE, 4 * PAGE);
	if (!abuf)
		die("aligned_alloc");
	memset(abuf, 0, 4 * PAGE);
	a_mr = ibv_reg_mr(pd, abuf, 4 * PAGE, IBV_ACCESS_LOCAL_WRITE);
	odp_mr = ibv_reg_mr(pd, map, FILE_LEN,
			    IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE |
			    IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_ATOMIC);
	if (!a_mr || !odp_mr)
		die("ibv_reg_mr");
	report(fuse_file_reads(&ff) == 0,
	       "B's ODP MR maps a FUSE file whose every read is answered after %d ms; registering read nothing",
	       DELAY_MS);
	t_setup = now() - t_setup;
	rnr0 = counter(argv[1], "odp_rnr_naks_sent");
	retrans0 = counter(argv[1], "retransmit_timeouts");
	t_all = now();

	/* WRITE 4 KiB across pages 0 and 1. */
	new_pair(pd, cq_a, cq_b, gid_index, &gid);
	{
		struct ibv_sge sge = { (uintptr_t)abuf, PAGE, a_mr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
		};

		off = PAGE / 2;
		msg_fill(abuf, PAGE, 1);
		wr.wr.rdma.remote_addr = (uintptr_t)map + off;
		wr.wr.rdma.rkey = odp_mr->rkey;
		reads0 = fuse_file_answered(&ff);
		status = run_op(qa, cq_a, &wr, &t_write);
		d = msg_differs(map + off, PAGE, 1);
		report(status == IBV_WC_SUCCESS && d < 0 &&
		       map[off - 1] == msg_byte(FILE_SEED, off - 1) &&
		       map[off + PAGE] == msg_byte(FILE_SEED, off + PAGE),
		       "WRITE of 4 KiB across two slow pages: %s in %.0f ms after %d FUSE_READs, bytes %s",
		       status_str(status), t_write * 1e3,
		       fuse_file_answered(&ff) - reads0,
		       d < 0 ? "right, and their neighbours the file's" :
			       "differ");
	}

	/* READ 8 KiB of pages 2 and 3. */
	new_pair(pd, cq_a, cq_b, gid_index, &gid);
	{
		struct ibv_sge sge = { (uintptr_t)abuf, 2 * PAGE, a_mr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_RDMA_READ,
		};
		long bad = -1;
		uint64_t i;

		off = 2 * PAGE;
		memset(abuf, 0, 2 * PAGE);
		wr.wr.rdma.remote_addr = (uintptr_t)map + off;
		wr.wr.rdma.rkey = odp_mr->rkey;
		reads0 = fuse_file_answered(&ff);
		status = run_op(qa, cq_a, &wr, &t_read);
		for (i = 0; i < 2 * PAGE && bad < 0; i++)
			if (abuf[i] != msg_byte(FILE_SEED, off + i))
				bad = (long)i;
		report(status == IBV_WC_SUCCESS && bad < 0,
		       "READ of 8 KiB of two slow pages: %s in %.0f ms after %d FUSE_READs, bytes %s (first bad %ld)",
		       status_str(status), t_read * 1e3,
		       fuse_file_answered(&ff) - reads0,
		       bad < 0 ? "the file's" : "differ", bad);
	}

	/* Compare and swap a word of page 4. */
	new_pair(pd, cq_a, cq_b, gid_index, &gid);
	{
		struct ibv_sge sge = { (uintptr_t)abuf, 8, a_mr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_ATOMIC_CMP_AND_SWP,
		};

		off = 4 * PAGE + 8;
		w0 = file_word(off);
		memset(abuf, 0, 8);
		wr.wr.atomic.remote_addr = (uintptr_t)map + off;
		wr.wr.atomic.rkey = odp_mr->rkey;
		wr.wr.atomic.compare_add = w0;
		wr.wr.atomic.swap = 0x1122334455667788ULL;
		status = run_op(qa, cq_a, &wr, &t_cas);
		memcpy(&w, abuf, 8);
		report(status == IBV_WC_SUCCESS && w == w0 &&
		       *(uint64_t *)(map + off) == 0x1122334455667788ULL,
		       "compare and swap on a slow page: %s in %.0f ms, original %#llx (file's %#llx), now %#llx",
		       status_str(status), t_cas * 1e3, (unsigned long long)w,
		       (unsigned long long)w0,
		       (unsigned long long)*(uint64_t *)(map + off));
	}

	/* Fetch and add on a word of page 5. */
	new_pair(pd, cq_a, cq_b, gid_index, &gid);
	{
		struct ibv_sge sge = { (uintptr_t)abuf, 8, a_mr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD,
		};

		off = 5 * PAGE + 16;
		w0 = file_word(off);
		memset(abuf, 0, 8);
		wr.wr.atomic.remote_addr = (uintptr_t)map + off;
		wr.wr.atomic.rkey = odp_mr->rkey;
		wr.wr.atomic.compare_add = 0x0101010101010101ULL;
		status = run_op(qa, cq_a, &wr, &t_faa);
		memcpy(&w, abuf, 8);
		report(status == IBV_WC_SUCCESS && w == w0 &&
		       *(uint64_t *)(map + off) == w0 + 0x0101010101010101ULL,
		       "fetch and add on a slow page: %s in %.0f ms, original %#llx (file's %#llx), now %#llx",
		       status_str(status), t_faa * 1e3, (unsigned long long)w,
		       (unsigned long long)w0,
		       (unsigned long long)*(uint64_t *)(map + off));
	}

	/* SEND 3000 bytes into B's receive on page 6. */
	new_pair(pd, cq_a, cq_b, gid_index, &gid);
	{
		struct ibv_sge rsge = { (uintptr_t)map + 6 * PAGE, PAGE,
					odp_mr->lkey };
		struct ibv_recv_wr rwr = { .wr_id = 6, .sg_list = &rsge,
					   .num_sge = 1 }, *rbad;
		struct ibv_sge sge = { (uintptr_t)abuf, SEND_LEN, a_mr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND,
		};
		struct ibv_wc wc;
		double t0;
		int n = 0;

		off = 6 * PAGE;
		if (ibv_post_recv(qb, &rwr, &rbad))
			die("ibv_post_recv");
		msg_fill(abuf, SEND_LEN, 3);
		status = run_op(qa, cq_a, &wr, &t_send);
		t0 = now();
		while (now() - t0 < OP_BOUND &&
		       (n = ibv_poll_cq(cq_b, 1, &wc)) == 0)
			usleep(1000);
		d = msg_differs(map + off, SEND_LEN, 3);
		report(status == IBV_WC_SUCCESS && n == 1 &&
		       wc.status == IBV_WC_SUCCESS && wc.wr_id == 6 &&
		       wc.byte_len == SEND_LEN && d < 0 &&
		       map[off + SEND_LEN] == msg_byte(FILE_SEED, off + SEND_LEN),
		       "SEND of %d bytes into a receive on a slow page: %s in %.0f ms; receive %s, %u bytes, %s",
		       SEND_LEN, status_str(status), t_send * 1e3,
		       n == 1 ? ibv_wc_status_str(wc.status) : "missing",
		       n == 1 ? wc.byte_len : 0,
		       d < 0 ? "right" : "differ");
	}
	t_all = now() - t_all;

	rnr1 = counter(argv[1], "odp_rnr_naks_sent");
	retrans1 = counter(argv[1], "retransmit_timeouts");
	report(rnr0 >= 0 && rnr1 > rnr0,
	       "B sent %lld RNR NAKs while its pages faulted (odp_rnr_naks_sent %lld -> %lld)",
	       rnr1 - rnr0, rnr0, rnr1);
	report(fuse_file_answered(&ff) >= 7,
	       "the daemon answered %d FUSE_READs, each after %d ms",
	       fuse_file_answered(&ff), DELAY_MS);

	t_end = now();
	check(!ibv_destroy_qp(qa) && !ibv_destroy_qp(qb), "ibv_destroy_qp");
	check(!ibv_dereg_mr(odp_mr) && !ibv_dereg_mr(a_mr), "ibv_dereg_mr");
	check(!ibv_destroy_cq(cq_a) && !ibv_destroy_cq(cq_b) &&
	      !ibv_dealloc_pd(pd), "teardown");
	check(!munmap(map, FILE_LEN) && !close(fd), "munmap and close");
	check(!fuse_file_unmount(&ff), "unmounting the FUSE file system: %s",
	      strerror(errno));
	check(!ibv_close_device(ctx), "ibv_close_device");
	t_end = now() - t_end;

	printf("figures: WRITE %.0f ms, READ %.0f ms, CAS %.0f ms, FAA %.0f ms, SEND %.0f ms (FUSE_READ delay %d ms, %d reads, %.1f s in all, setup %.1f s, teardown %.1f s); %lld RNR NAKs for faults, %lld retransmit timeouts\n",
	       t_write * 1e3, t_read * 1e3, t_cas * 1e3, t_faa * 1e3,
	       t_send * 1e3, DELAY_MS, fuse_file_answered(&ff), t_all,
	       t_setup, t_end, rnr1 - rnr0, retrans1 - retrans0);
	printf("odp_slow: %d failures\n", failures);
	return failures ? 1 : 0;
}
