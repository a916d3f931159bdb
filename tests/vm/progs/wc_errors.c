// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The IBTA completion error statuses of RC, each provoked on purpose
 * between two QPs of one device, with the status both ends must report and
 * the flush of what was queued behind the failure:
 *
 *   local length      a SEND larger than the posted receive
 *   local protection  a SEND from an unknown lkey
 *   remote access     a WRITE and a READ with an unknown rkey
 *   remote invalid    a misaligned ATOMIC
 *   RNR retry         a SEND with no receive posted, rnr_retry 0
 *   transport retry   a SEND to a QP number nobody has
 *
 *   wc_errors <device> <gid index>
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define BUF 65536

struct pair {
	struct ibv_pd *pd;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_qp *a, *b;
	struct ibv_mr *mr_a, *mr_b;
	uint8_t *buf_a, *buf_b;
};

static struct ibv_context *ctx;
static union ibv_gid gid;
static int gid_index;

/* The ibv_wr_* opcodes of the next pair's a, or 0: a plain QP. */
static uint64_t a_send_ops;

static struct ibv_qp *new_qp(struct ibv_pd *pd, struct ibv_cq *cq,
			     uint64_t send_ops)
{
	struct ibv_qp_init_attr_ex init = {
		.send_cq = cq, .recv_cq = cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = pd,
	};

	if (send_ops) {
		init.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		init.send_ops_flags = send_ops;
	}
	return ibv_create_qp_ex(ctx, &init);
}

/* A fresh pair; b's QP number replaced by @dest_b for a's peer if set. */
static int setup(struct pair *p, uint8_t rnr_retry, uint32_t dest_b)
{
	memset(p, 0, sizeof(*p));
	p->pd = ibv_alloc_pd(ctx);
	p->cq_a = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	p->cq_b = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	p->buf_a = aligned_alloc(4096, BUF);
	p->buf_b = aligned_alloc(4096, BUF);
	if (!p->pd || !p->cq_a || !p->cq_b || !p->buf_a || !p->buf_b)
		return -1;
	memset(p->buf_a, 0xa, BUF);
	memset(p->buf_b, 0xb, BUF);
	p->mr_a = ibv_reg_mr(p->pd, p->buf_a, BUF, IBV_ACCESS_LOCAL_WRITE |
			     IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			     IBV_ACCESS_REMOTE_ATOMIC);
	p->mr_b = ibv_reg_mr(p->pd, p->buf_b, BUF, IBV_ACCESS_LOCAL_WRITE |
			     IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			     IBV_ACCESS_REMOTE_ATOMIC);
	p->a = new_qp(p->pd, p->cq_a, a_send_ops);
	p->b = new_qp(p->pd, p->cq_b, 0);
	if (!p->mr_a || !p->mr_b || !p->a || !p->b)
		return -1;
	/* timeout 8 (about 1 ms), retry_cnt 2: a lost peer fails quickly */
	if (rc_qp_connect(p->a, dest_b ? dest_b : p->b->qp_num, gid_index,
			  &gid, IBV_MTU_1024, 8, 2, rnr_retry) ||
	    rc_qp_connect(p->b, p->a->qp_num, gid_index, &gid, IBV_MTU_1024,
			  8, 2, rnr_retry))
		return -1;
	return 0;
}

static void teardown(struct pair *p)
{
	ibv_destroy_qp(p->a);
	ibv_destroy_qp(p->b);
	ibv_dereg_mr(p->mr_a);
	ibv_dereg_mr(p->mr_b);
	ibv_destroy_cq(p->cq_a);
	ibv_destroy_cq(p->cq_b);
	ibv_dealloc_pd(p->pd);
	free(p->buf_a);
	free(p->buf_b);
}

/* The next completion on @cq, waiting up to 10 s; status -1 if none. */
static struct ibv_wc next_wc(struct ibv_cq *cq)
{
	struct ibv_wc wc = { .status = -1 };
	int i;

	for (i = 0; i < 1000000; i++) {
		if (ibv_poll_cq(cq, 1, &wc) == 1)
			return wc;
		usleep(10);
	}
	wc.status = -1;
	return wc;
}

static const char *status_str(int status)
{
	return status < 0 ? "no completion" : ibv_wc_status_str(status);
}

static void expect(struct ibv_cq *cq, uint64_t wr_id, enum ibv_wc_status want,
		   const char *what)
{
	struct ibv_wc wc = next_wc(cq);

	check((int)wc.status == (int)want && wc.wr_id == wr_id,
	      "%s: wr_id %llu %s, expected wr_id %llu %s", what,
	      (unsigned long long)wc.wr_id, status_str(wc.status),
	      (unsigned long long)wr_id, ibv_wc_status_str(want));
	if ((int)wc.status == (int)want && wc.wr_id == wr_id)
		printf("ok: %s: %s\n", what, ibv_wc_status_str(want));
}

static int post_recv(struct pair *p, uint32_t len, uint64_t wr_id)
{
	struct ibv_sge sge = { (uintptr_t)p->buf_b, len, p->mr_b->lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	return ibv_post_recv(p->b, &wr, &bad);
}

static int post(struct pair *p, uint64_t wr_id, enum ibv_wr_opcode op,
		uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = { (uintptr_t)p->buf_a, len, lkey };
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD) {
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = 1;
	} else {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	return ibv_post_send(p->a, &wr, &bad);
}

#define RUN(cond, what)							\
	do {								\
		if (!(cond)) {						\
			printf("FAIL: %s: %s\n", what, strerror(errno)); \
			return;						\
		}							\
	} while (0)

static void local_length(void)
{
	struct pair p;

	RUN(!setup(&p, 7, 0), "setup");
	RUN(!post_recv(&p, 100, 1), "post_recv");
	RUN(!post(&p, 2, IBV_WR_SEND, 4000, p.mr_a->lkey, 0, 0), "post_send");
	RUN(!post(&p, 3, IBV_WR_SEND, 10, p.mr_a->lkey, 0, 0), "post_send");
	expect(p.cq_b, 1, IBV_WC_LOC_LEN_ERR, "SEND beyond the receive, responder");
	expect(p.cq_a, 2, IBV_WC_REM_INV_REQ_ERR, "SEND beyond the receive, requester");
	expect(p.cq_a, 3, IBV_WC_WR_FLUSH_ERR, "the WR behind it");
	teardown(&p);
}

static void local_protection(void)
{
	struct pair p;

	RUN(!setup(&p, 7, 0), "setup");
	RUN(!post_recv(&p, 100, 1), "post_recv");
	RUN(!post(&p, 2, IBV_WR_SEND, 10, p.mr_a->lkey + 0x1000, 0, 0),
	    "post_send");
	expect(p.cq_a, 2, IBV_WC_LOC_PROT_ERR, "SEND from an unknown lkey");
	teardown(&p);
}

static void remote_access(enum ibv_wr_opcode op, const char *what)
{
	struct pair p;

	RUN(!setup(&p, 7, 0), "setup");
	RUN(!post(&p, 1, op, 64, p.mr_a->lkey, (uintptr_t)p.buf_b,
		  p.mr_b->rkey + 0x1000), "post_send");
	RUN(!post(&p, 2, op, 64, p.mr_a->lkey, (uintptr_t)p.buf_b,
		  p.mr_b->rkey), "post_send");
	expect(p.cq_a, 1, IBV_WC_REM_ACCESS_ERR, what);
	expect(p.cq_a, 2, IBV_WC_WR_FLUSH_ERR, "the WR behind it");
	teardown(&p);
}

static void remote_invalid(void)
{
	struct pair p;

	RUN(!setup(&p, 7, 0), "setup");
	RUN(!post(&p, 1, IBV_WR_ATOMIC_FETCH_AND_ADD, 8, p.mr_a->lkey,
		  (uintptr_t)p.buf_b + 4, p.mr_b->rkey), "post_send");
	expect(p.cq_a, 1, IBV_WC_REM_INV_REQ_ERR, "FETCH_ADD at a misaligned address");
	teardown(&p);
}

static void rnr_retry(void)
{
	struct pair p;

	RUN(!setup(&p, 0, 0), "setup");
	RUN(!post(&p, 1, IBV_WR_SEND, 10, p.mr_a->lkey, 0, 0), "post_send");
	expect(p.cq_a, 1, IBV_WC_RNR_RETRY_EXC_ERR, "SEND without a receive, rnr_retry 0");
	teardown(&p);
}

static void transport_retry(void)
{
	struct pair p;

	RUN(!setup(&p, 7, 0xfffffe), "setup");
	RUN(!post(&p, 1, IBV_WR_SEND, 10, p.mr_a->lkey, 0, 0), "post_send");
	RUN(!post(&p, 2, IBV_WR_SEND, 10, p.mr_a->lkey, 0, 0), "post_send");
	expect(p.cq_a, 1, IBV_WC_RETRY_EXC_ERR, "SEND to a QP nobody has, retry_cnt 2");
	expect(p.cq_a, 2, IBV_WC_WR_FLUSH_ERR, "the WR behind it");
	teardown(&p);
}

/*
 * A user MR may not be invalidated (only a kernel fast-registration MR
 * or a memory window may): LOCAL_INV of its key fails locally, and a
 * SEND with Invalidate naming it fails at the responder, whose receive
 * completes in error.
 */
static void invalidate_user_mr(void)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = {
		.sg_list = &sge, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_qp_ex *qpx;
	struct pair p;

	RUN(!setup(&p, 7, 0), "setup");
	wr.wr_id = 1;
	wr.opcode = IBV_WR_LOCAL_INV;
	wr.invalidate_rkey = p.mr_a->rkey;
	RUN(!ibv_post_send(p.a, &wr, &bad), "post LOCAL_INV");
	RUN(!post(&p, 2, IBV_WR_SEND, 10, p.mr_a->lkey, 0, 0), "post_send");
	expect(p.cq_a, 1, IBV_WC_MW_BIND_ERR, "LOCAL_INV of a user MR");
	expect(p.cq_a, 2, IBV_WC_WR_FLUSH_ERR, "the WR behind it");
	teardown(&p);

	RUN(!setup(&p, 7, 0), "setup");
	RUN(!post_recv(&p, 100, 1), "post_recv");
	sge = (struct ibv_sge){ (uintptr_t)p.buf_a, 10, p.mr_a->lkey };
	wr.wr_id = 2;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND_WITH_INV;
	wr.invalidate_rkey = p.mr_b->rkey;
	RUN(!ibv_post_send(p.a, &wr, &bad), "post SEND_WITH_INV");
	expect(p.cq_b, 1, IBV_WC_LOC_ACCESS_ERR,
	       "SEND_WITH_INV naming a user MR, responder");
	expect(p.cq_a, 2, IBV_WC_REM_ACCESS_ERR,
	       "SEND_WITH_INV naming a user MR, requester");
	teardown(&p);

	/* The same through ibv_wr_send_inv, and ibv_wr_local_inv. */
	a_send_ops = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_INV;
	RUN(!setup(&p, 7, 0), "setup with ibv_wr_send_inv");
	a_send_ops = 0;
	RUN(!post_recv(&p, 100, 1), "post_recv");
	qpx = ibv_qp_to_qp_ex(p.a);
	ibv_wr_start(qpx);
	qpx->wr_id = 3;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send_inv(qpx, p.mr_b->rkey);
	ibv_wr_set_sge(qpx, p.mr_a->lkey, (uintptr_t)p.buf_a, 10);
	RUN(!ibv_wr_complete(qpx), "ibv_wr_complete");
	expect(p.cq_b, 1, IBV_WC_LOC_ACCESS_ERR,
	       "ibv_wr_send_inv naming a user MR, responder");
	expect(p.cq_a, 3, IBV_WC_REM_ACCESS_ERR,
	       "ibv_wr_send_inv naming a user MR, requester");
	teardown(&p);

	a_send_ops = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_LOCAL_INV;
	RUN(!setup(&p, 7, 0), "setup with ibv_wr_local_inv");
	a_send_ops = 0;
	qpx = ibv_qp_to_qp_ex(p.a);
	ibv_wr_start(qpx);
	qpx->wr_id = 4;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_local_inv(qpx, p.mr_a->rkey);
	RUN(!ibv_wr_complete(qpx), "ibv_wr_complete");
	expect(p.cq_a, 4, IBV_WC_MW_BIND_ERR,
	       "ibv_wr_local_inv of a user MR");
	teardown(&p);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <device> <gid index>\n", argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		printf("FAIL: cannot open %s or read its GID %d\n", argv[1],
		       gid_index);
		return 1;
	}
	local_length();
	local_protection();
	remote_access(IBV_WR_RDMA_WRITE, "WRITE with an unknown rkey");
	remote_access(IBV_WR_RDMA_READ, "READ with an unknown rkey");
	remote_invalid();
	rnr_retry();
	transport_retry();
	invalidate_user_mr();
	ibv_close_device(ctx);
	printf("wc_errors on %s: %d failures\n", argv[1], failures);
	return failures ? 1 : 0;
}
