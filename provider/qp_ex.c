// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce's extended send API (ibv_wr_*): a batch opened by ibv_wr_start
 * builds WQEs directly in the SQ ring, one per ibv_wr_<opcode> call, each
 * given its data by an ibv_wr_set_sge* or ibv_wr_set_inline_data* call
 * (none: a zero-length message) and, on a UD QP, its destination by
 * ibv_wr_set_ud_addr.
 * ibv_wr_complete publishes the batch with one doorbell, ibv_wr_abort
 * drops it.  The first error of a batch (a full SQ, too many SGEs, too
 * much inline data, a UD WQE without a destination, a READ, an atomic, an
 * ATOMIC WRITE or a FLUSH on a UC QP) is kept and returned by
 * ibv_wr_complete, which then publishes nothing, as the verbs API asks.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "sroce.h"

static struct sroce_qp *qpx_to_sqp(struct ibv_qp_ex *qpx)
{
	return container_of(qpx, struct sroce_qp, vqp.qp_ex);
}

/*
 * Done with the WQE being built: a UD one that ibv_wr_set_ud_addr never
 * gave an AH (ah_num 0, which no AH has) fails the batch.
 */
static void wr_end(struct sroce_qp *qp)
{
	if (qp->wr_cur && !qp->wr_err && !qp->wr_cur->ah &&
	    qp->vqp.qp.qp_type == IBV_QPT_UD)
		qp->wr_err = EINVAL;
	qp->wr_cur = NULL;
}

/* Open the next WQE of the batch for @opcode; NULL once the batch failed. */
static struct sroce_send_wqe *wr_begin(struct ibv_qp_ex *qpx, uint32_t opcode)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);
	struct sroce_ring *sq = &qp->sq;
	struct sroce_send_wqe *wqe;

	wr_end(qp);
	if (qp->wr_err)
		return NULL;
	/*
	 * UC has SENDs and RDMA WRITEs only: no SEND with Invalidate,
	 * LOCAL_INV or BIND_MW.
	 */
	if (qp->vqp.qp.qp_type == IBV_QPT_UC &&
	    (opcode == IBV_WR_RDMA_READ || opcode == IBV_WR_SEND_WITH_INV ||
	     opcode == IBV_WR_LOCAL_INV || opcode == IBV_WR_BIND_MW ||
	     opcode == IBV_WR_ATOMIC_CMP_AND_SWP ||
	     opcode == IBV_WR_ATOMIC_FETCH_AND_ADD ||
	     sroce_wr_is_placement(opcode))) {
		qp->wr_err = EINVAL;
		return NULL;
	}
	/* XRC has no opcodes for ATOMIC WRITE and FLUSH. */
	if (qp->vqp.qp.qp_type == IBV_QPT_XRC_SEND &&
	    sroce_wr_is_placement(opcode)) {
		qp->wr_err = EINVAL;
		return NULL;
	}
	if (sq->idx - sroce_ring_load(&sq->hdr->cons) >= sq->num) {
		qp->wr_err = ENOMEM;
		return NULL;
	}
	wqe = sroce_ring_slot(sq, sq->idx++);
	memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = qpx->wr_id;
	wqe->opcode = opcode;
	wqe->flags = sroce_wqe_flags(qp, qpx->wr_flags);
	qp->wr_cur = wqe;
	return wqe;
}

static void wr_send(struct ibv_qp_ex *qpx)
{
	wr_begin(qpx, IBV_WR_SEND);
}

static void wr_send_imm(struct ibv_qp_ex *qpx, __be32 imm_data)
{
	struct sroce_send_wqe *wqe = wr_begin(qpx, IBV_WR_SEND_WITH_IMM);

	if (wqe)
		wqe->imm_data = (__force uint32_t)imm_data;
}

static void wr_send_inv(struct ibv_qp_ex *qpx, uint32_t invalidate_rkey)
{
	struct sroce_send_wqe *wqe = wr_begin(qpx, IBV_WR_SEND_WITH_INV);

	if (wqe)
		wqe->rkey = invalidate_rkey;
}

static void wr_local_inv(struct ibv_qp_ex *qpx, uint32_t invalidate_rkey)
{
	struct sroce_send_wqe *wqe = wr_begin(qpx, IBV_WR_LOCAL_INV);

	if (wqe)
		wqe->rkey = invalidate_rkey;
}

static void wr_bind_mw(struct ibv_qp_ex *qpx, struct ibv_mw *mw,
		       uint32_t rkey, const struct ibv_mw_bind_info *info)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);
	struct sroce_send_wqe *wqe = wr_begin(qpx, IBV_WR_BIND_MW);

	if (wqe && sroce_wqe_bind_mw(wqe, mw, rkey, info))
		qp->wr_err = EINVAL;
}

static void wr_rdma(struct ibv_qp_ex *qpx, uint32_t opcode, uint32_t rkey,
		    uint64_t remote_addr, __be32 imm_data)
{
	struct sroce_send_wqe *wqe = wr_begin(qpx, opcode);

	if (!wqe)
		return;
	wqe->rkey = rkey;
	wqe->remote_addr = remote_addr;
	wqe->imm_data = (__force uint32_t)imm_data;
}

static void wr_rdma_write(struct ibv_qp_ex *qpx, uint32_t rkey,
			  uint64_t remote_addr)
{
	wr_rdma(qpx, IBV_WR_RDMA_WRITE, rkey, remote_addr, 0);
}

static void wr_rdma_write_imm(struct ibv_qp_ex *qpx, uint32_t rkey,
			      uint64_t remote_addr, __be32 imm_data)
{
	wr_rdma(qpx, IBV_WR_RDMA_WRITE_WITH_IMM, rkey, remote_addr, imm_data);
}

static void wr_rdma_read(struct ibv_qp_ex *qpx, uint32_t rkey,
			 uint64_t remote_addr)
{
	wr_rdma(qpx, IBV_WR_RDMA_READ, rkey, remote_addr, 0);
}

static void wr_atomic(struct ibv_qp_ex *qpx, uint32_t opcode, uint32_t rkey,
		      uint64_t remote_addr, uint64_t compare_add,
		      uint64_t swap)
{
	struct sroce_send_wqe *wqe = wr_begin(qpx, opcode);

	if (!wqe)
		return;
	wqe->rkey = rkey;
	wqe->remote_addr = remote_addr;
	wqe->compare_add = compare_add;
	wqe->swap = swap;
}

static void wr_atomic_cmp_swp(struct ibv_qp_ex *qpx, uint32_t rkey,
			      uint64_t remote_addr, uint64_t compare,
			      uint64_t swap)
{
	wr_atomic(qpx, IBV_WR_ATOMIC_CMP_AND_SWP, rkey, remote_addr, compare,
		  swap);
}

static void wr_atomic_fetch_add(struct ibv_qp_ex *qpx, uint32_t rkey,
				uint64_t remote_addr, uint64_t add)
{
	wr_atomic(qpx, IBV_WR_ATOMIC_FETCH_AND_ADD, rkey, remote_addr, add, 0);
}

/* ATOMIC WRITE: @atomic_wr's 8 bytes, stored as they are in memory. */
static void wr_atomic_write(struct ibv_qp_ex *qpx, uint32_t rkey,
			    uint64_t remote_addr, const void *atomic_wr)
{
	struct sroce_send_wqe *wqe = wr_begin(qpx, IBV_WR_ATOMIC_WRITE);

	if (!wqe)
		return;
	wqe->rkey = rkey;
	wqe->remote_addr = remote_addr;
	memcpy(&wqe->compare_add, atomic_wr, sizeof(wqe->compare_add));
}

#if HAVE_IBV_WR_FLUSH
/* FLUSH of @len bytes (IBV_FLUSH_RANGE) or of the MR (IBV_FLUSH_MR). */
static void wr_flush(struct ibv_qp_ex *qpx, uint32_t rkey,
		     uint64_t remote_addr, size_t len, uint8_t type,
		     uint8_t level)
{
	struct sroce_send_wqe *wqe = wr_begin(qpx, IBV_WR_FLUSH);

	if (!wqe)
		return;
	/* A RETH's length field has 32 bits. */
	if (len > UINT32_MAX) {
		qpx_to_sqp(qpx)->wr_err = EINVAL;
		return;
	}
	wqe->rkey = rkey;
	wqe->remote_addr = remote_addr;
	wqe->compare_add = len;
	wqe->swap = type | (uint32_t)level << 8;
}
#endif

/* The WQE that a set_* call completes, or NULL (recording EINVAL). */
static struct sroce_send_wqe *wr_current(struct sroce_qp *qp)
{
	if (!qp->wr_cur && !qp->wr_err)
		qp->wr_err = EINVAL;	/* no ibv_wr_<opcode> before it */
	return qp->wr_err ? NULL : qp->wr_cur;
}

/* UD: where the current SEND goes. */
static void wr_set_ud_addr(struct ibv_qp_ex *qpx, struct ibv_ah *ah,
			   uint32_t remote_qpn, uint32_t remote_qkey)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);
	struct sroce_send_wqe *wqe = wr_current(qp);

	if (!wqe)
		return;
	if (!ah) {
		qp->wr_err = EINVAL;
		return;
	}
	wqe->ah = to_sah(ah)->ah_num;
	wqe->ud.remote_qpn = remote_qpn;
	wqe->ud.remote_qkey = remote_qkey;
}

/* XRC: the remote SRQ the current WQE's SENDs go to. */
static void wr_set_xrc_srqn(struct ibv_qp_ex *qpx, uint32_t remote_srqn)
{
	struct sroce_send_wqe *wqe = wr_current(qpx_to_sqp(qpx));

	if (wqe)
		wqe->xrc_srqn = remote_srqn;
}

static void wr_set_sge_list(struct ibv_qp_ex *qpx, size_t num_sge,
			    const struct ibv_sge *sg_list)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);
	struct sroce_send_wqe *wqe = wr_current(qp);
	size_t i;

	if (!wqe)
		return;
	/* ATOMIC WRITE and FLUSH have no local data. */
	if (num_sge > qp->max_send_sge || sroce_wr_is_placement(wqe->opcode)) {
		qp->wr_err = EINVAL;
		return;
	}
	wqe->num_sge = num_sge;
	for (i = 0; i < num_sge; i++) {
		wqe->sge[i].addr = sg_list[i].addr;
		wqe->sge[i].length = sg_list[i].length;
		wqe->sge[i].lkey = sg_list[i].lkey;
	}
}

static void wr_set_sge(struct ibv_qp_ex *qpx, uint32_t lkey, uint64_t addr,
		       uint32_t length)
{
	struct ibv_sge sge = { .addr = addr, .length = length, .lkey = lkey };

	wr_set_sge_list(qpx, 1, &sge);
}

static void wr_set_inline_data_list(struct ibv_qp_ex *qpx, size_t num_buf,
				    const struct ibv_data_buf *buf_list)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);
	struct sroce_send_wqe *wqe = wr_current(qp);
	uint8_t *dst;
	size_t len = 0, i;

	if (!wqe)
		return;
	/* Inline data carries what SEND and WRITE take from memory. */
	if (wqe->opcode == IBV_WR_RDMA_READ ||
	    wqe->opcode == IBV_WR_ATOMIC_CMP_AND_SWP ||
	    wqe->opcode == IBV_WR_ATOMIC_FETCH_AND_ADD ||
	    sroce_wr_is_placement(wqe->opcode)) {
		qp->wr_err = EINVAL;
		return;
	}
	dst = (uint8_t *)wqe->sge;
	for (i = 0; i < num_buf; i++) {
		if (buf_list[i].length > qp->max_inline - len) {
			qp->wr_err = EINVAL;
			return;
		}
		memcpy(dst + len, buf_list[i].addr, buf_list[i].length);
		len += buf_list[i].length;
	}
	wqe->flags |= SROCE_WQE_INLINE;
	wqe->inline_len = len;
}

static void wr_set_inline_data(struct ibv_qp_ex *qpx, void *addr,
			       size_t length)
{
	struct ibv_data_buf buf = { .addr = addr, .length = length };

	wr_set_inline_data_list(qpx, 1, &buf);
}

static void wr_start(struct ibv_qp_ex *qpx)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);

	pthread_spin_lock(&qp->sq.lock);
	qp->wr_batch_start = qp->sq.idx;
	qp->wr_cur = NULL;
	qp->wr_err = sroce_qp_sq_ready(&qpx->qp_base) ? 0 : EINVAL;
}

static int wr_complete(struct ibv_qp_ex *qpx)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);
	struct sroce_ring *sq = &qp->sq;
	bool posted;
	int err;

	wr_end(qp);
	err = qp->wr_err;
	if (err)
		sq->idx = qp->wr_batch_start;
	posted = sq->idx != qp->wr_batch_start;
	if (posted)
		sroce_ring_store(&sq->hdr->prod, sq->idx);
	pthread_spin_unlock(&sq->lock);
	if (posted)
		err = sroce_sq_doorbell(qp);
	return err;
}

static void wr_abort(struct ibv_qp_ex *qpx)
{
	struct sroce_qp *qp = qpx_to_sqp(qpx);

	qp->sq.idx = qp->wr_batch_start;
	pthread_spin_unlock(&qp->sq.lock);
}

/*
 * Offer the ibv_wr_* calls of the opcodes in @send_ops_flags (which
 * sroce_create_qp_ex checked against the QP's type).
 */
int sroce_qp_ex_init(struct sroce_qp *qp, uint64_t send_ops_flags)
{
	struct ibv_qp_ex *qpx = &qp->vqp.qp_ex;

	if (send_ops_flags & IBV_QP_EX_WITH_SEND)
		qpx->wr_send = wr_send;
	if (send_ops_flags & IBV_QP_EX_WITH_SEND_WITH_IMM)
		qpx->wr_send_imm = wr_send_imm;
	if (send_ops_flags & IBV_QP_EX_WITH_SEND_WITH_INV)
		qpx->wr_send_inv = wr_send_inv;
	if (send_ops_flags & IBV_QP_EX_WITH_LOCAL_INV)
		qpx->wr_local_inv = wr_local_inv;
	if (send_ops_flags & IBV_QP_EX_WITH_BIND_MW)
		qpx->wr_bind_mw = wr_bind_mw;
	if (send_ops_flags & IBV_QP_EX_WITH_RDMA_WRITE)
		qpx->wr_rdma_write = wr_rdma_write;
	if (send_ops_flags & IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM)
		qpx->wr_rdma_write_imm = wr_rdma_write_imm;
	if (send_ops_flags & IBV_QP_EX_WITH_RDMA_READ)
		qpx->wr_rdma_read = wr_rdma_read;
	if (send_ops_flags & IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP)
		qpx->wr_atomic_cmp_swp = wr_atomic_cmp_swp;
	if (send_ops_flags & IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD)
		qpx->wr_atomic_fetch_add = wr_atomic_fetch_add;
	if (send_ops_flags & IBV_QP_EX_WITH_ATOMIC_WRITE)
		qpx->wr_atomic_write = wr_atomic_write;
#if HAVE_IBV_WR_FLUSH
	if (send_ops_flags & IBV_QP_EX_WITH_FLUSH)
		qpx->wr_flush = wr_flush;
#endif
	if (qp->vqp.qp.qp_type == IBV_QPT_UD)
		qpx->wr_set_ud_addr = wr_set_ud_addr;
	if (qp->vqp.qp.qp_type == IBV_QPT_XRC_SEND)
		qpx->wr_set_xrc_srqn = wr_set_xrc_srqn;
	qpx->wr_set_sge = wr_set_sge;
	qpx->wr_set_sge_list = wr_set_sge_list;
	qpx->wr_set_inline_data = wr_set_inline_data;
	qpx->wr_set_inline_data_list = wr_set_inline_data_list;
	qpx->wr_start = wr_start;
	qpx->wr_complete = wr_complete;
	qpx->wr_abort = wr_abort;
	qp->vqp.comp_mask |= VERBS_QP_EX;
	return 0;
}
