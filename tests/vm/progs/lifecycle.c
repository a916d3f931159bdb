// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * MR lifecycle against the data path, between two RC QPs of one device:
 *
 *   lifecycle DEV GID_INDEX checks   deregistration while operations are
 *                                    in flight, and a peer's access with
 *                                    the key of a deregistered MR
 *   lifecycle DEV GID_INDEX flood    WRITE and READ in a loop until killed
 *                                    (prints "flooding" once started)
 *
 * Every operation must end with a completion: success when it finished
 * before the deregistration, otherwise the error the IBTA gives (remote
 * access for the peer's MR, local protection for one's own).  New QPs are
 * connected for each case, since an error leaves a QP in the error state.
 * Only the first WR of a case is posted, so there is nothing to flush.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define LEN	(8UL << 20)	/* long enough to be in flight for a while */

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static struct ibv_cq *cq;
static union ibv_gid gid;
static int gid_index;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* A connected pair of RC QPs: a is the requester, b the responder. */
static void qp_pair(struct ibv_qp **a, struct ibv_qp **b)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 64, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	*a = ibv_create_qp(pd, &init);
	*b = ibv_create_qp(pd, &init);
	if (!*a || !*b ||
	    rc_qp_connect(*a, (*b)->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(*b, (*a)->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7))
		die("QP pair");
}

static struct ibv_mr *reg(void **buf)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	struct ibv_mr *mr;

	/* Page aligned, so that it pins exactly LEN / 4096 pages. */
	*buf = aligned_alloc(4096, LEN);
	if (!*buf)
		die("aligned_alloc");
	memset(*buf, 0, LEN);
	mr = ibv_reg_mr(pd, *buf, LEN, access);
	if (!mr)
		die("ibv_reg_mr");
	return mr;
}

static void post(struct ibv_qp *qp, enum ibv_wr_opcode op,
		 struct ibv_mr *lmr, uint64_t raddr, uint32_t rkey,
		 uint64_t wr_id)
{
	struct ibv_sge sge = { (uintptr_t)lmr->addr, LEN, lmr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = wr_id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	}, *bad;

	if (ibv_post_send(qp, &wr, &bad))
		die("ibv_post_send");
}

/* The next completion, within 60 s; exits when none comes. */
static struct ibv_wc next_wc(const char *what)
{
	struct ibv_wc wc;
	int i, n = 0;

	for (i = 0; i < 60000 && !(n = ibv_poll_cq(cq, 1, &wc)); i++)
		usleep(1000);
	if (n != 1) {
		printf("FAIL: %s: no completion\n", what);
		exit(1);
	}
	return wc;
}

/*
 * Post @op of LEN bytes from a, then deregister the peer's MR (@peer
 * true) or a's own (@peer false) right away.  The completion must be a
 * success or the IBTA error for a vanished MR.
 */
static void dereg_in_flight(enum ibv_wr_opcode op, bool peer)
{
	const char *what = op == IBV_WR_RDMA_WRITE ? "WRITE" : "READ";
	enum ibv_wc_status want = peer ? IBV_WC_REM_ACCESS_ERR :
					 IBV_WC_LOC_PROT_ERR;
	struct ibv_mr *lmr, *rmr;
	struct ibv_qp *a, *b;
	struct ibv_wc wc;
	void *lbuf, *rbuf;
	int before = failures;

	qp_pair(&a, &b);
	lmr = reg(&lbuf);
	rmr = reg(&rbuf);
	post(a, op, lmr, (uintptr_t)rbuf, rmr->rkey, 1);
	check(!ibv_dereg_mr(peer ? rmr : lmr), "%s: dereg in flight", what);
	wc = next_wc(what);
	check(wc.wr_id == 1 &&
	      (wc.status == IBV_WC_SUCCESS || wc.status == want),
	      "%s with the %s MR deregistered in flight: status %s", what,
	      peer ? "peer's" : "local", ibv_wc_status_str(wc.status));
	if (failures == before)
		printf("ok: %s of %lu MiB, the %s MR deregistered in flight: %s\n",
		       what, LEN >> 20, peer ? "peer's" : "local",
		       ibv_wc_status_str(wc.status));
	ibv_destroy_qp(a);
	ibv_destroy_qp(b);
	check(!ibv_dereg_mr(peer ? lmr : rmr), "%s: dereg the other MR", what);
	free(lbuf);
	free(rbuf);
}

/* A peer's WRITE with the rkey of an MR deregistered before. */
static void access_after_dereg(void)
{
	struct ibv_mr *lmr, *rmr;
	struct ibv_qp *a, *b;
	struct ibv_wc wc;
	void *lbuf, *rbuf;
	uint32_t rkey;
	int before = failures;

	qp_pair(&a, &b);
	lmr = reg(&lbuf);
	rmr = reg(&rbuf);
	rkey = rmr->rkey;
	check(!ibv_dereg_mr(rmr), "dereg");
	post(a, IBV_WR_RDMA_WRITE, lmr, (uintptr_t)rbuf, rkey, 2);
	wc = next_wc("WRITE after dereg");
	check(wc.status == IBV_WC_REM_ACCESS_ERR,
	      "WRITE with a deregistered MR's rkey: status %s",
	      ibv_wc_status_str(wc.status));
	if (failures == before)
		printf("ok: a WRITE with a deregistered MR's rkey fails with %s\n",
		       ibv_wc_status_str(wc.status));
	ibv_destroy_qp(a);
	ibv_destroy_qp(b);
	ibv_dereg_mr(lmr);
	free(lbuf);
	free(rbuf);
}

/* WRITEs and READs between two QPs until killed. */
static void flood(void)
{
	struct ibv_mr *lmr, *rmr;
	struct ibv_qp *a, *b;
	void *lbuf, *rbuf;
	uint64_t n = 0;
	int i;

	qp_pair(&a, &b);
	lmr = reg(&lbuf);
	rmr = reg(&rbuf);
	for (i = 0; i < 8; i++, n++)
		post(a, n % 2 ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE, lmr,
		     (uintptr_t)rbuf, rmr->rkey, n);
	printf("flooding\n");
	fflush(stdout);
	for (;; n++) {
		struct ibv_wc wc = next_wc("flood");

		if (wc.status != IBV_WC_SUCCESS) {
			printf("FAIL: flood: status %s\n",
			       ibv_wc_status_str(wc.status));
			exit(1);
		}
		post(a, n % 2 ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE, lmr,
		     (uintptr_t)rbuf, rmr->rkey, n);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: lifecycle DEV GID_INDEX checks|flood\n");
		return 2;
	}
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid))
		die("device or GID");
	pd = ibv_alloc_pd(ctx);
	cq = ibv_create_cq(ctx, 128, NULL, NULL, 0);
	if (!pd || !cq)
		die("PD and CQ");

	if (!strcmp(argv[3], "flood"))
		flood();

	dereg_in_flight(IBV_WR_RDMA_WRITE, true);
	dereg_in_flight(IBV_WR_RDMA_READ, true);
	dereg_in_flight(IBV_WR_RDMA_WRITE, false);
	dereg_in_flight(IBV_WR_RDMA_READ, false);
	access_after_dereg();

	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("lifecycle: %d failures\n", failures);
	return failures ? 1 : 0;
}
