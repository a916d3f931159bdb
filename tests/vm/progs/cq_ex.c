// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The extended CQ (ibv_create_cq_ex and its poll API) against ibv_poll_cq.
 * Two RC QPs of one device, a and b, connected to each other, each with a
 * CQ of its own, do the same work three times:
 *
 *   poll      CQs from ibv_create_cq, polled with ibv_poll_cq
 *   ex        CQs from ibv_create_cq_ex (the standard wc_flags), polled
 *             with ibv_start_poll/ibv_next_poll/ibv_end_poll, every
 *             ibv_wc_read_* accessor read for every completion
 *   ex-poll   CQs from ibv_create_cq_ex, polled with ibv_poll_cq
 *
 * The work: SEND, SEND with immediate, RDMA WRITE with immediate, RDMA
 * READ and RDMA WRITE in one batch, rounds of four SENDs that go round
 * the 8-entry CQs several times, and the flush of a receive and of a
 * send once both QPs are in the error state.  Each completion must be
 * what the work asks for, and each run's completions must equal the poll
 * run's, field by field (QP numbers taken as "a", "b" or other).  Then:
 * ENOENT from start_poll on an empty CQ and from next_poll past the last
 * CQE, and the refusals: a completion timestamp, an unknown comp_mask,
 * an unknown create flag and IGNORE_OVERRUN (EOPNOTSUPP), a poll
 * attribute (EINVAL); SINGLE_THREADED is accepted.
 *
 *   cq_ex <device> <gid index>
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define BUF		65536
#define CQ_SIZE		8
#define MAX_RECS	128
#define WRAP_ROUNDS	10
#define WRAP_BATCH	4
#define IMM_SEND	0x11223344
#define IMM_WRITE	0x55667788

enum api { API_POLL, API_EX, API_EX_POLL_CQ, API_NUM };

static const char *const api_name[API_NUM] = { "poll", "ex", "ex-poll" };

/* A completion as one API reported it; qp_num and src_qp symbolic. */
struct rec {
	uint64_t wr_id;
	int status;
	int opcode;
	uint32_t vendor_err;
	uint32_t byte_len;
	uint32_t imm_data;	/* network order */
	uint32_t qp_num;
	uint32_t src_qp;
	unsigned int wc_flags;
	uint32_t slid;
	uint8_t sl;
	uint8_t dlid_path_bits;
	char cq;		/* 'a' or 'b' */
};

#define SYM_A	0x1000000u	/* above any 24-bit QP number */
#define SYM_B	0x1000001u

struct run {
	enum api api;
	struct ibv_pd *pd;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_cq_ex *cqx_a, *cqx_b;	/* the ex CQs, or NULL */
	struct ibv_qp *a, *b;
	struct ibv_mr *mr_a, *mr_b;
	uint8_t *buf_a, *buf_b;
	struct rec recs[MAX_RECS];
	int n;
};

static struct ibv_context *ctx;
static union ibv_gid gid;
static int gid_index;
static struct run runs[API_NUM];

static struct ibv_cq_ex *new_cq_ex(uint64_t wc_flags)
{
	struct ibv_cq_init_attr_ex attr = {
		.cqe = CQ_SIZE,
		.wc_flags = wc_flags,
	};

	return ibv_create_cq_ex(ctx, &attr);
}

static struct ibv_qp *new_qp(struct ibv_pd *pd, struct ibv_cq *cq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq, .recv_cq = cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(pd, &init);
}

static int setup(struct run *r)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;

	r->pd = ibv_alloc_pd(ctx);
	if (r->api == API_POLL) {
		r->cq_a = ibv_create_cq(ctx, CQ_SIZE, NULL, NULL, 0);
		r->cq_b = ibv_create_cq(ctx, CQ_SIZE, NULL, NULL, 0);
	} else {
		r->cqx_a = new_cq_ex(IBV_WC_STANDARD_FLAGS);
		r->cqx_b = new_cq_ex(IBV_WC_STANDARD_FLAGS);
		if (r->cqx_a)
			r->cq_a = ibv_cq_ex_to_cq(r->cqx_a);
		if (r->cqx_b)
			r->cq_b = ibv_cq_ex_to_cq(r->cqx_b);
	}
	r->buf_a = aligned_alloc(4096, BUF);
	r->buf_b = aligned_alloc(4096, BUF);
	if (!r->pd || !r->cq_a || !r->cq_b || !r->buf_a || !r->buf_b)
		return -1;
	memset(r->buf_a, 0xa, BUF);
	memset(r->buf_b, 0xb, BUF);
	r->mr_a = ibv_reg_mr(r->pd, r->buf_a, BUF, access);
	r->mr_b = ibv_reg_mr(r->pd, r->buf_b, BUF, access);
	r->a = new_qp(r->pd, r->cq_a);
	r->b = new_qp(r->pd, r->cq_b);
	if (!r->mr_a || !r->mr_b || !r->a || !r->b)
		return -1;
	if (rc_qp_connect(r->a, r->b->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(r->b, r->a->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7))
		return -1;
	return 0;
}

static void teardown(struct run *r)
{
	if (r->a)
		ibv_destroy_qp(r->a);
	if (r->b)
		ibv_destroy_qp(r->b);
	if (r->mr_a)
		ibv_dereg_mr(r->mr_a);
	if (r->mr_b)
		ibv_dereg_mr(r->mr_b);
	if (r->cq_a)
		ibv_destroy_cq(r->cq_a);
	if (r->cq_b)
		ibv_destroy_cq(r->cq_b);
	if (r->pd)
		ibv_dealloc_pd(r->pd);
	free(r->buf_a);
	free(r->buf_b);
}

static uint32_t sym_qpn(const struct run *r, uint32_t qpn)
{
	if (qpn == r->a->qp_num)
		return SYM_A;
	if (qpn == r->b->qp_num)
		return SYM_B;
	return qpn;
}

static void rec_from_wc(const struct run *r, const struct ibv_wc *wc,
			struct rec *rec)
{
	rec->wr_id = wc->wr_id;
	rec->status = wc->status;
	rec->opcode = wc->opcode;
	rec->vendor_err = wc->vendor_err;
	rec->byte_len = wc->byte_len;
	rec->imm_data = wc->imm_data;
	rec->qp_num = sym_qpn(r, wc->qp_num);
	rec->src_qp = sym_qpn(r, wc->src_qp);
	rec->wc_flags = wc->wc_flags;
	rec->slid = wc->slid;
	rec->sl = wc->sl;
	rec->dlid_path_bits = wc->dlid_path_bits;
}

/* The current completion of an ex batch, through every accessor. */
static void rec_from_cq_ex(const struct run *r, struct ibv_cq_ex *cqx,
			   struct rec *rec)
{
	rec->wr_id = cqx->wr_id;
	rec->status = cqx->status;
	rec->opcode = ibv_wc_read_opcode(cqx);
	rec->vendor_err = ibv_wc_read_vendor_err(cqx);
	rec->byte_len = ibv_wc_read_byte_len(cqx);
	rec->imm_data = ibv_wc_read_imm_data(cqx);
	rec->qp_num = sym_qpn(r, ibv_wc_read_qp_num(cqx));
	rec->src_qp = sym_qpn(r, ibv_wc_read_src_qp(cqx));
	rec->wc_flags = ibv_wc_read_wc_flags(cqx);
	rec->slid = ibv_wc_read_slid(cqx);
	rec->sl = ibv_wc_read_sl(cqx);
	rec->dlid_path_bits = ibv_wc_read_dlid_path_bits(cqx);
}

/*
 * Collect @n completions of CQ @which ('a' or 'b') into the run's records,
 * waiting up to 10 s.  The ex API reads them in batches: start_poll, then
 * next_poll until ENOENT or enough; anything else from them is a failure.
 */
static int collect(struct run *r, char which, int n)
{
	struct ibv_cq_ex *cqx = which == 'a' ? r->cqx_a : r->cqx_b;
	struct ibv_cq *cq = which == 'a' ? r->cq_a : r->cq_b;
	struct ibv_poll_cq_attr attr = {};
	int got = 0, waited = 0, ret;
	struct ibv_wc wc;
	bool started;

	if (r->n + n > MAX_RECS) {
		printf("FAIL: %s: more than %d completions\n",
		       api_name[r->api], MAX_RECS);
		failures++;
		return -1;
	}
	while (got < n) {
		if (r->api != API_EX) {
			ret = ibv_poll_cq(cq, 1, &wc);
			if (ret < 0) {
				printf("FAIL: %s: ibv_poll_cq: %d\n",
				       api_name[r->api], ret);
				failures++;
				return -1;
			}
			if (ret == 1) {
				rec_from_wc(r, &wc, &r->recs[r->n]);
				r->recs[r->n++].cq = which;
				got++;
				continue;
			}
		} else {
			ret = ibv_start_poll(cqx, &attr);
			started = !ret;
			while (!ret) {
				rec_from_cq_ex(r, cqx, &r->recs[r->n]);
				r->recs[r->n++].cq = which;
				if (++got == n)
					break;
				ret = ibv_next_poll(cqx);
			}
			/* After next_poll's ENOENT too, not after start_poll's */
			if (started)
				ibv_end_poll(cqx);
			if (ret && ret != ENOENT) {
				printf("FAIL: ex: start_poll/next_poll: %s\n",
				       strerror(ret));
				failures++;
				return -1;
			}
			if (got == n)
				break;
		}
		if (++waited > 100000) {
			printf("FAIL: %s: CQ %c: %d of %d completions in 10 s\n",
			       api_name[r->api], which, got, n);
			failures++;
			return -1;
		}
		usleep(100);
	}
	return 0;
}

static int post_recv(struct run *r, uint64_t wr_id, uint32_t len)
{
	struct ibv_sge sge = { (uintptr_t)r->buf_b, len, r->mr_b->lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	return ibv_post_recv(r->b, &wr, &bad);
}

static int post_send(struct run *r, uint64_t wr_id, enum ibv_wr_opcode op,
		     uint32_t len, uint32_t imm)
{
	struct ibv_sge sge = { (uintptr_t)r->buf_a, len, r->mr_a->lkey };
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED, .imm_data = htonl(imm),
		.wr.rdma = { (uintptr_t)r->buf_b + 4096, r->mr_b->rkey },
	}, *bad;

	return ibv_post_send(r->a, &wr, &bad);
}

static int to_error(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE);
}

#define DO(cond, what)							\
	do {								\
		if (!(cond)) {						\
			printf("FAIL: %s: %s: %s\n", api_name[r->api],	\
			       what, strerror(errno));			\
			failures++;					\
			return -1;					\
		}							\
	} while (0)

/* The work, the same for every API; completions land in r->recs. */
static int work(struct run *r)
{
	int i, j;

	DO(!post_recv(r, 101, 4096), "post_recv");
	DO(!post_send(r, 1, IBV_WR_SEND, 100, 0), "SEND");
	DO(!collect(r, 'a', 1) && !collect(r, 'b', 1), "SEND completions");

	DO(!post_recv(r, 102, 4096), "post_recv");
	DO(!post_send(r, 2, IBV_WR_SEND_WITH_IMM, 200, IMM_SEND),
	   "SEND_WITH_IMM");
	DO(!collect(r, 'a', 1) && !collect(r, 'b', 1),
	   "SEND_WITH_IMM completions");

	DO(!post_recv(r, 103, 4096), "post_recv");
	DO(!post_send(r, 3, IBV_WR_RDMA_WRITE_WITH_IMM, 300, IMM_WRITE),
	   "RDMA_WRITE_WITH_IMM");
	DO(!collect(r, 'a', 1) && !collect(r, 'b', 1),
	   "RDMA_WRITE_WITH_IMM completions");

	/* Two at once: the ex API reads them in one batch. */
	DO(!post_send(r, 4, IBV_WR_RDMA_READ, 400, 0), "RDMA_READ");
	DO(!post_send(r, 5, IBV_WR_RDMA_WRITE, 500, 0), "RDMA_WRITE");
	DO(!collect(r, 'a', 2), "READ and WRITE completions");

	/* Round and round the 8-entry CQs, four CQEs at a time. */
	for (i = 0; i < WRAP_ROUNDS; i++) {
		for (j = 0; j < WRAP_BATCH; j++) {
			DO(!post_recv(r, 200 + i * WRAP_BATCH + j, 64),
			   "post_recv");
			DO(!post_send(r, 20 + i * WRAP_BATCH + j, IBV_WR_SEND,
				      8, 0), "SEND");
		}
		DO(!collect(r, 'a', WRAP_BATCH) &&
		   !collect(r, 'b', WRAP_BATCH), "SEND round completions");
	}

	/* Flushes: a receive queued at b, a send posted at a, both in ERR. */
	DO(!post_recv(r, 106, 4096), "post_recv");
	DO(!to_error(r->b), "b to ERR");
	DO(!collect(r, 'b', 1), "flushed receive");
	DO(!to_error(r->a), "a to ERR");
	DO(!post_send(r, 6, IBV_WR_SEND, 10, 0), "SEND in ERR");
	DO(!collect(r, 'a', 1), "flushed send");
	return 0;
}

/*
 * What the work must give, in order; -1: whatever the device says.  The
 * immediate flag is defined for receives only (rdma_rxe sets it on the
 * sender's completion too).
 */
struct want {
	char cq;
	uint64_t wr_id;
	int status;
	int opcode;
	int byte_len;
	unsigned int wc_flags;	/* of IBV_WC_WITH_IMM */
	uint32_t imm;		/* host order, with IBV_WC_WITH_IMM */
};

static int expected(struct want *w)
{
	static const struct want head[] = {
		{ 'a', 1, IBV_WC_SUCCESS, IBV_WC_SEND, -1, 0, 0 },
		{ 'b', 101, IBV_WC_SUCCESS, IBV_WC_RECV, 100, 0, 0 },
		{ 'a', 2, IBV_WC_SUCCESS, IBV_WC_SEND, -1, 0, 0 },
		{ 'b', 102, IBV_WC_SUCCESS, IBV_WC_RECV, 200, IBV_WC_WITH_IMM,
		  IMM_SEND },
		{ 'a', 3, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE, -1, 0, 0 },
		{ 'b', 103, IBV_WC_SUCCESS, IBV_WC_RECV_RDMA_WITH_IMM, 300,
		  IBV_WC_WITH_IMM, IMM_WRITE },
		{ 'a', 4, IBV_WC_SUCCESS, IBV_WC_RDMA_READ, 400, 0, 0 },
		{ 'a', 5, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE, -1, 0, 0 },
	};
	int n = 0, i, j;

	for (i = 0; i < (int)(sizeof(head) / sizeof(head[0])); i++)
		w[n++] = head[i];
	for (i = 0; i < WRAP_ROUNDS; i++) {
		for (j = 0; j < WRAP_BATCH; j++)
			w[n++] = (struct want){ 'a', 20 + i * WRAP_BATCH + j,
				IBV_WC_SUCCESS, IBV_WC_SEND, -1, 0, 0 };
		for (j = 0; j < WRAP_BATCH; j++)
			w[n++] = (struct want){ 'b', 200 + i * WRAP_BATCH + j,
				IBV_WC_SUCCESS, IBV_WC_RECV, 8, 0, 0 };
	}
	w[n++] = (struct want){ 'b', 106, IBV_WC_WR_FLUSH_ERR, -1, -1, 0, 0 };
	w[n++] = (struct want){ 'a', 6, IBV_WC_WR_FLUSH_ERR, -1, -1, 0, 0 };
	return n;
}

/* Each completion of @r against what the work must give, as far as it got. */
static void check_wants(const struct run *r)
{
	struct want w[MAX_RECS];
	int n = expected(w), i, bad = 0;

	if (r->n != n) {
		printf("FAIL: %s: %d completions, expected %d\n",
		       api_name[r->api], r->n, n);
		failures++;
		bad++;
	}
	for (i = 0; i < n && i < r->n; i++) {
		const struct rec *c = &r->recs[i];
		uint32_t qpn = w[i].cq == 'a' ? SYM_A : SYM_B;
		int ok = c->cq == w[i].cq && c->wr_id == w[i].wr_id &&
			 c->status == w[i].status && c->qp_num == qpn;

		if (c->status == IBV_WC_SUCCESS)
			ok = ok && (w[i].opcode < 0 || c->opcode == w[i].opcode) &&
			     (w[i].byte_len < 0 ||
			      c->byte_len == (uint32_t)w[i].byte_len) &&
			     (!(w[i].opcode & IBV_WC_RECV) ||
			      (c->wc_flags & IBV_WC_WITH_IMM) == w[i].wc_flags) &&
			     (!w[i].wc_flags || c->imm_data == htonl(w[i].imm)) &&
			     !c->slid && !c->sl && !c->dlid_path_bits;
		if (!ok) {
			printf("FAIL: %s: completion %d: CQ %c wr_id %llu %s opcode %d byte_len %u wc_flags %#x imm %#x qp %#x; expected CQ %c wr_id %llu %s opcode %d byte_len %d wc_flags %#x imm %#x\n",
			       api_name[r->api], i, c->cq,
			       (unsigned long long)c->wr_id,
			       ibv_wc_status_str(c->status), c->opcode,
			       c->byte_len, c->wc_flags, ntohl(c->imm_data),
			       c->qp_num, w[i].cq,
			       (unsigned long long)w[i].wr_id,
			       ibv_wc_status_str(w[i].status), w[i].opcode,
			       w[i].byte_len, w[i].wc_flags, w[i].imm);
			failures++;
			bad++;
		}
	}
	if (!bad)
		printf("ok: %s: %d completions as the work asks (SEND, SEND_WITH_IMM, RDMA_WRITE_WITH_IMM, RDMA_READ, RDMA_WRITE, %d SENDs round the CQ, 2 flushes)\n",
		       api_name[r->api], n, WRAP_ROUNDS * WRAP_BATCH);
}

/* Run @r's completions field by field against the ibv_poll_cq run's. */
static void check_same(const struct run *r, const struct run *ref)
{
	int i, bad = r->n != ref->n;	/* check_wants said so */

	/* As far as both got */
	for (i = 0; i < r->n && i < ref->n; i++) {
		const struct rec *c = &r->recs[i], *p = &ref->recs[i];

#define SAME(f)								\
		do {							\
			if (c->f != p->f) {				\
				printf("FAIL: %s: completion %d (wr_id %llu): " #f " %#llx, ibv_poll_cq says %#llx\n", \
				       api_name[r->api], i,		\
				       (unsigned long long)c->wr_id,	\
				       (unsigned long long)c->f,	\
				       (unsigned long long)p->f);	\
				failures++;				\
				bad++;					\
			}						\
		} while (0)
		SAME(cq);
		SAME(wr_id);
		SAME(status);
		SAME(opcode);
		SAME(vendor_err);
		SAME(byte_len);
		SAME(imm_data);
		SAME(qp_num);
		SAME(src_qp);
		SAME(wc_flags);
		SAME(slid);
		SAME(sl);
		SAME(dlid_path_bits);
#undef SAME
	}
	if (!bad)
		printf("ok: %s: every field of %d completions (wr_id, status, opcode, vendor_err, byte_len, imm_data, qp_num, src_qp, wc_flags, slid, sl, dlid_path_bits) equals ibv_poll_cq's\n",
		       api_name[r->api], r->n);
}

static void one_run(struct run *r)
{
	struct ibv_poll_cq_attr attr = {};
	struct ibv_wc wc;
	int ret;

	if (setup(r)) {
		printf("FAIL: %s: setup: %s\n", api_name[r->api],
		       strerror(errno));
		failures++;
		return;
	}
	if (work(r))
		return;
	/* Everything was read: the CQs are empty now, for either API. */
	if (r->api == API_EX) {
		ret = ibv_start_poll(r->cqx_a, &attr);
		if (!ret)
			ibv_end_poll(r->cqx_a);
		report(ret == ENOENT,
		       "ex: start_poll on the drained CQ: ENOENT (got %d)", ret);
	} else {
		ret = ibv_poll_cq(r->cq_a, 1, &wc);
		report(ret == 0, "%s: ibv_poll_cq on the drained CQ: 0 (got %d)",
		       api_name[r->api], ret);
	}
}

/* ENOENT from start_poll and next_poll; a poll attribute is refused. */
static void empty_cq(void)
{
	struct ibv_poll_cq_attr attr = {};
	struct ibv_cq_ex *cqx;
	int ret;

	cqx = new_cq_ex(IBV_WC_STANDARD_FLAGS);
	if (!cqx) {
		printf("FAIL: ibv_create_cq_ex: %s\n", strerror(errno));
		failures++;
		return;
	}
	ret = ibv_start_poll(cqx, &attr);
	if (!ret)
		ibv_end_poll(cqx);
	report(ret == ENOENT, "start_poll on a new CQ: ENOENT (got %d)", ret);
	/* Once more: a failed start_poll left the CQ usable. */
	ret = ibv_start_poll(cqx, &attr);
	if (!ret)
		ibv_end_poll(cqx);
	report(ret == ENOENT, "start_poll again: ENOENT (got %d)", ret);
	attr.comp_mask = 1;
	ret = ibv_start_poll(cqx, &attr);
	if (!ret)
		ibv_end_poll(cqx);
	report(ret == EINVAL, "start_poll with poll attribute comp_mask 1: EINVAL (got %d)",
	       ret);
	report(!ibv_destroy_cq(ibv_cq_ex_to_cq(cqx)), "destroy the ex CQ");
}

/*
 * next_poll past the last CQE: ENOENT; end_poll still ends the batch and
 * gives back the CQE it read.
 */
static void next_past_end(struct run *r)
{
	struct ibv_poll_cq_attr attr = {};
	int ret, ret2 = -1;

	r->n = 0;
	if (setup(r)) {
		printf("FAIL: next_poll: setup: %s\n", strerror(errno));
		failures++;
		return;
	}
	if (post_recv(r, 1, 64) || post_send(r, 2, IBV_WR_SEND, 8, 0) ||
	    collect(r, 'b', 1)) {
		printf("FAIL: next_poll: a SEND\n");
		failures++;
		return;
	}
	/* Wait for the sender's completion without taking it. */
	for (ret = 0; ret < 100000; ret++) {
		ret2 = ibv_start_poll(r->cqx_a, &attr);
		if (!ret2)
			break;
		usleep(100);
	}
	if (!ret2) {
		ret2 = ibv_next_poll(r->cqx_a);
		ibv_end_poll(r->cqx_a);
	}
	report(ret2 == ENOENT, "next_poll past the only CQE: ENOENT (got %d)",
	       ret2);
	ret = ibv_start_poll(r->cqx_a, &attr);
	if (!ret)
		ibv_end_poll(r->cqx_a);
	report(ret == ENOENT, "the CQE read by that batch is gone: ENOENT (got %d)",
	       ret);
	teardown(r);
}

static void refused(const char *what, uint64_t wc_flags, uint32_t comp_mask,
		    uint32_t flags, int want)
{
	struct ibv_cq_init_attr_ex attr = {
		.cqe = CQ_SIZE,
		.wc_flags = wc_flags,
		.comp_mask = comp_mask,
		.flags = flags,
	};
	struct ibv_cq_ex *cqx;
	int err;

	errno = 0;
	cqx = ibv_create_cq_ex(ctx, &attr);
	err = errno;
	if (cqx)
		ibv_destroy_cq(ibv_cq_ex_to_cq(cqx));
	report(!cqx && err == want, "create_cq_ex with %s: %s (got %s)", what,
	       strerror(want), cqx ? "a CQ" : strerror(err));
}

static void accepted(const char *what, uint64_t wc_flags, uint32_t comp_mask,
		     uint32_t flags)
{
	struct ibv_cq_init_attr_ex attr = {
		.cqe = CQ_SIZE,
		.wc_flags = wc_flags,
		.comp_mask = comp_mask,
		.flags = flags,
	};
	struct ibv_poll_cq_attr pattr = {};
	struct ibv_cq_ex *cqx;
	int ret = -1;

	cqx = ibv_create_cq_ex(ctx, &attr);
	if (cqx) {
		ret = ibv_start_poll(cqx, &pattr);
		if (!ret)
			ibv_end_poll(cqx);
		ibv_destroy_cq(ibv_cq_ex_to_cq(cqx));
	}
	report(cqx && ret == ENOENT, "create_cq_ex with %s: a CQ that polls empty (%s)",
	       what, cqx ? "created" : strerror(errno));
}

int main(int argc, char **argv)
{
	struct run extra = { .api = API_EX };
	int i;

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
	for (i = 0; i < API_NUM; i++) {
		runs[i].api = i;
		one_run(&runs[i]);
		check_wants(&runs[i]);
	}
	check_same(&runs[API_EX], &runs[API_POLL]);
	check_same(&runs[API_EX_POLL_CQ], &runs[API_POLL]);
	for (i = 0; i < API_NUM; i++)
		teardown(&runs[i]);

	empty_cq();
	next_past_end(&extra);

	refused("wc_flags COMPLETION_TIMESTAMP",
		IBV_WC_EX_WITH_COMPLETION_TIMESTAMP, 0, 0, EOPNOTSUPP);
	refused("wc_flags COMPLETION_TIMESTAMP_WALLCLOCK",
		IBV_WC_EX_WITH_COMPLETION_TIMESTAMP_WALLCLOCK, 0, 0,
		EOPNOTSUPP);
	refused("wc_flags CVLAN", IBV_WC_EX_WITH_CVLAN, 0, 0, EOPNOTSUPP);
	refused("wc_flags FLOW_TAG", IBV_WC_EX_WITH_FLOW_TAG, 0, 0,
		EOPNOTSUPP);
	refused("wc_flags TM_INFO", IBV_WC_EX_WITH_TM_INFO, 0, 0, EOPNOTSUPP);
	refused("an unknown comp_mask bit", 0, 1u << 7, 0, EOPNOTSUPP);
	refused("create flag IGNORE_OVERRUN", 0, IBV_CQ_INIT_ATTR_MASK_FLAGS,
		IBV_CREATE_CQ_ATTR_IGNORE_OVERRUN, EOPNOTSUPP);
	refused("an unknown create flag", 0, IBV_CQ_INIT_ATTR_MASK_FLAGS,
		1u << 7, EOPNOTSUPP);
	accepted("no wc_flags", 0, 0, 0);
	accepted("create flag SINGLE_THREADED", IBV_WC_STANDARD_FLAGS,
		 IBV_CQ_INIT_ATTR_MASK_FLAGS,
		 IBV_CREATE_CQ_ATTR_SINGLE_THREADED);

	ibv_close_device(ctx);
	printf("cq_ex on %s: %d failures\n", argv[1], failures);
	return failures ? 1 : 0;
}
