// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce queue pairs.  Send and receive WQEs go straight into rings the
 * kernel maps for the QP; ibv_post_send ends a batch with one doorbell
 * system call, ibv_post_recv needs none.  An XRC initiator QP has an SQ
 * only, an XRC target QP (xrc.c) no ring.  Which QP types exist is the
 * kernel's decision; the provider only knows how RC, UC and UD WQEs
 * differ.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sroce.h"
#include "sroce-abi.h"

/*
 * The ibv_wr_* opcodes sroce offers, on a UD QP and on the others; asking
 * for others, or for those the device does not execute (ATOMIC WRITE and
 * FLUSH on a kernel without them), is EOPNOTSUPP.  A UC QP has the calls
 * of an RC QP, but a READ, an atomic, a SEND with Invalidate, a LOCAL_INV
 * or a BIND_MW posted on it fails its batch (qp_ex.c), as ibv_post_send
 * refuses them.
 * LOCAL_INV invalidates type 2 memory windows (a user MR may not be
 * invalidated: that completes with IBV_WC_MW_BIND_ERR); BIND_MW binds
 * windows (mw.c).
 */
#define SROCE_UD_SEND_OPS (IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM)
#define SROCE_SEND_OPS (SROCE_UD_SEND_OPS | \
	IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | \
	IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP | \
	IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD | IBV_QP_EX_WITH_SEND_WITH_INV | \
	IBV_QP_EX_WITH_ATOMIC_WRITE | SROCE_QP_EX_WITH_FLUSH | \
	IBV_QP_EX_WITH_LOCAL_INV | IBV_QP_EX_WITH_BIND_MW)

static uint64_t sroce_send_ops(struct ibv_context *context,
			       enum ibv_qp_type qp_type)
{
	struct sroce_context *ctx = to_sctx(context);

	if (qp_type == IBV_QPT_UD)
		return SROCE_UD_SEND_OPS;
	return SROCE_SEND_OPS & ~ctx->unsupported_send_ops;
}

struct ibv_qp *sroce_create_qp_ex(struct ibv_context *context,
				  struct ibv_qp_init_attr_ex *attr)
{
	struct usroce_create_qp_resp resp = {};
	uint32_t comp_mask = attr->comp_mask;
	struct ibv_create_qp cmd;
	struct sroce_qp *qp;
	int ret;

	/* No create flags are offered; asking for none is fine. */
	if (comp_mask & ~(IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_CREATE_FLAGS |
			  IBV_QP_INIT_ATTR_SEND_OPS_FLAGS |
			  IBV_QP_INIT_ATTR_XRCD) ||
	    ((comp_mask & IBV_QP_INIT_ATTR_CREATE_FLAGS) && attr->create_flags)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if ((attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS) &&
	    (attr->send_ops_flags &
	     ~sroce_send_ops(context, attr->qp_type))) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	qp = calloc(1, sizeof(*qp));
	if (!qp) {
		errno = ENOMEM;
		return NULL;
	}
	/* The command takes no create flags, not even zero ones. */
	attr->comp_mask &= ~IBV_QP_INIT_ATTR_CREATE_FLAGS;
	ret = ibv_cmd_create_qp_ex(context, &qp->vqp, attr, &cmd, sizeof(cmd),
				   &resp.ibv_resp, sizeof(resp));
	attr->comp_mask = comp_mask;
	if (ret)
		goto err_free;
	/* An XRC target QP has no rings: the kernel's XRC SRQs feed it. */
	if (attr->qp_type == IBV_QPT_XRC_RECV)
		goto done;
	ret = sroce_ring_map(&qp->sq, context->cmd_fd, &resp.sq);
	if (ret)
		goto err_destroy;
	/* A QP with an SRQ, or an XRC initiator, has no RQ of its own. */
	if (!attr->srq && attr->qp_type != IBV_QPT_XRC_SEND) {
		ret = sroce_ring_map(&qp->rq, context->cmd_fd, &resp.rq);
		if (ret)
			goto err_unmap_sq;
	}
	/* The create command wrote back what the kernel gave. */
	qp->max_send_sge = attr->cap.max_send_sge;
	qp->max_recv_sge = attr->cap.max_recv_sge;
	qp->max_inline = attr->cap.max_inline_data;
	qp->sig_all = attr->sq_sig_all;
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS)
		sroce_qp_ex_init(qp, attr->send_ops_flags);
done:
	sroce_ctx_get(context);
	return &qp->vqp.qp;

err_unmap_sq:
	sroce_ring_unmap(&qp->sq);
err_destroy:
	ibv_cmd_destroy_qp(&qp->vqp.qp);
err_free:
	free(qp);
	errno = ret;
	return NULL;
}

struct ibv_qp *sroce_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	struct ibv_qp_init_attr_ex attr_ex = {
		.qp_context = attr->qp_context,
		.send_cq = attr->send_cq,
		.recv_cq = attr->recv_cq,
		.srq = attr->srq,
		.cap = attr->cap,
		.qp_type = attr->qp_type,
		.sq_sig_all = attr->sq_sig_all,
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = pd,
	};
	struct ibv_qp *qp;

	qp = sroce_create_qp_ex(pd->context, &attr_ex);
	if (qp)
		attr->cap = attr_ex.cap;
	return qp;
}

int sroce_query_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		   int attr_mask, struct ibv_qp_init_attr *init_attr)
{
	struct ibv_query_qp cmd;

	return ibv_cmd_query_qp(ibqp, attr, attr_mask, init_attr, &cmd,
				sizeof(cmd));
}

int sroce_modify_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		    int attr_mask)
{
	struct ibv_modify_qp cmd;
	bool srq = ibqp->srq || ibqp->qp_type == IBV_QPT_XRC_RECV;
	int ret;

	ret = ibv_cmd_modify_qp(ibqp, attr, attr_mask, &cmd, sizeof(cmd));
	if (ret || !(attr_mask & IBV_QP_STATE) ||
	    attr->qp_state != IBV_QPS_RESET)
		return ret;
	if (ibqp->recv_cq)
		sroce_cq_clean(ibqp->recv_cq, ibqp->qp_num, srq);
	if (ibqp->send_cq && ibqp->send_cq != ibqp->recv_cq)
		sroce_cq_clean(ibqp->send_cq, ibqp->qp_num, srq);
	return 0;
}

int sroce_destroy_qp(struct ibv_qp *ibqp)
{
	struct ibv_context *context = ibqp->context;
	struct sroce_qp *qp = to_sqp(ibqp);
	int ret;

	ret = ibv_cmd_destroy_qp(ibqp);
	if (ret)
		return ret;
	sroce_ring_unmap(&qp->rq);
	sroce_ring_unmap(&qp->sq);
	free(qp);
	sroce_ctx_put(context);
	return 0;
}

static int sroce_wqe_inline(struct sroce_qp *qp, struct sroce_send_wqe *wqe,
			    const struct ibv_send_wr *wr)
{
	uint8_t *dst = (uint8_t *)wqe->sge;
	uint32_t len = 0;
	int i;

	for (i = 0; i < wr->num_sge; i++) {
		if (wr->sg_list[i].length > qp->max_inline - len)
			return EINVAL;
		memcpy(dst + len, (void *)(uintptr_t)wr->sg_list[i].addr,
		       wr->sg_list[i].length);
		len += wr->sg_list[i].length;
	}
	wqe->flags |= SROCE_WQE_INLINE;
	wqe->inline_len = len;
	return 0;
}

/* SROCE_WQE_* for a WR with ibv_send_flags @send_flags. */
uint32_t sroce_wqe_flags(const struct sroce_qp *qp, unsigned int send_flags)
{
	uint32_t flags = 0;

	if (qp->sig_all || (send_flags & IBV_SEND_SIGNALED))
		flags |= SROCE_WQE_SIGNALED;
	if (send_flags & IBV_SEND_SOLICITED)
		flags |= SROCE_WQE_SOLICITED;
	if (send_flags & IBV_SEND_FENCE)
		flags |= SROCE_WQE_FENCE;
	return flags;
}

/*
 * Tell the kernel that the SQ has new WQEs: a post_send without WRs.  It
 * fails (EIO) only once the device is gone from under the context.
 */
int sroce_sq_doorbell(struct sroce_qp *qp)
{
	struct ibv_send_wr *bad;

	return ibv_cmd_post_send(&qp->vqp.qp, NULL, &bad);
}

/*
 * The part of a UD WQE that depends on its opcode: only SENDs, each to the
 * address handle, QP and Q_Key of wr->wr.ud.
 */
static int sroce_wqe_ud(struct sroce_send_wqe *wqe,
			const struct ibv_send_wr *wr)
{
	switch (wr->opcode) {
	case IBV_WR_SEND_WITH_IMM:
		wqe->imm_data = wr->imm_data;
		break;
	case IBV_WR_SEND:
		break;
	default:
		return EINVAL;
	}
	if (!wr->wr.ud.ah)
		return EINVAL;
	wqe->ah = to_sah(wr->wr.ud.ah)->ah_num;
	wqe->ud.remote_qpn = wr->wr.ud.remote_qpn;
	wqe->ud.remote_qkey = wr->wr.ud.remote_qkey;
	return 0;
}

/*
 * The same for an RC WQE: SENDs, and RDMA and atomics at the remote memory
 * of wr->wr.rdma or wr->wr.atomic.
 */
static int sroce_wqe_rc(struct sroce_send_wqe *wqe,
			const struct ibv_send_wr *wr)
{
	switch (wr->opcode) {
	case IBV_WR_BIND_MW:
		return sroce_wqe_bind_mw(wqe, wr->bind_mw.mw, wr->bind_mw.rkey,
					 &wr->bind_mw.bind_info);
	case IBV_WR_SEND_WITH_IMM:
		wqe->imm_data = wr->imm_data;
		break;
	case IBV_WR_SEND:
		break;
	case IBV_WR_SEND_WITH_INV:
	case IBV_WR_LOCAL_INV:
		wqe->rkey = wr->invalidate_rkey;
		break;
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		wqe->imm_data = wr->imm_data;
		SWITCH_FALLTHROUGH;
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_READ:
	case IBV_WR_ATOMIC_WRITE:
		wqe->remote_addr = wr->wr.rdma.remote_addr;
		wqe->rkey = wr->wr.rdma.rkey;
		break;
	case IBV_WR_ATOMIC_CMP_AND_SWP:
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		wqe->remote_addr = wr->wr.atomic.remote_addr;
		wqe->rkey = wr->wr.atomic.rkey;
		wqe->compare_add = wr->wr.atomic.compare_add;
		wqe->swap = wr->wr.atomic.swap;
		break;
	default:
		return EINVAL;
	}
	return 0;
}

/*
 * ATOMIC WRITE through ibv_post_send: its 8 bytes are the message of the
 * SGE list (or inline data), exactly 8 bytes, taken into the WQE now.
 * (FLUSH has no place in struct ibv_send_wr for its placement type and
 * level: ibv_wr_flush() only.)
 */
static int sroce_wqe_atomic_write(struct sroce_send_wqe *wqe,
				  const struct ibv_send_wr *wr)
{
	uint8_t *dst = (uint8_t *)&wqe->compare_add;
	size_t len = 0;
	int i;

	for (i = 0; i < wr->num_sge; i++) {
		if (wr->sg_list[i].length > sizeof(wqe->compare_add) - len)
			return EINVAL;
		memcpy(dst + len, (void *)(uintptr_t)wr->sg_list[i].addr,
		       wr->sg_list[i].length);
		len += wr->sg_list[i].length;
	}
	return len == sizeof(wqe->compare_add) ? 0 : EINVAL;
}

/* A UC WQE: an RC one of the opcodes UC has, SENDs and RDMA WRITEs. */
static int sroce_wqe_uc(struct sroce_send_wqe *wqe,
			const struct ibv_send_wr *wr)
{
	switch (wr->opcode) {
	case IBV_WR_SEND:
	case IBV_WR_SEND_WITH_IMM:
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		return sroce_wqe_rc(wqe, wr);
	default:
		return EINVAL;
	}
}

/* Fill the send slot @wqe from @wr; 0 or an errno for ibv_post_send. */
static int sroce_wqe_from_wr(struct sroce_qp *qp, struct sroce_send_wqe *wqe,
			     const struct ibv_send_wr *wr)
{
	int ret, i;

	memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	wqe->opcode = wr->opcode;
	wqe->flags = sroce_wqe_flags(qp, wr->send_flags);

	if (qp->vqp.qp.qp_type == IBV_QPT_UD)
		ret = sroce_wqe_ud(wqe, wr);
	else if (qp->vqp.qp.qp_type == IBV_QPT_UC)
		ret = sroce_wqe_uc(wqe, wr);
	else
		ret = sroce_wqe_rc(wqe, wr);
	/* XRC: the SRQ of the target's XRC domain that SENDs go to. */
	if (qp->vqp.qp.qp_type == IBV_QPT_XRC_SEND)
		wqe->xrc_srqn = wr->qp_type.xrc.remote_srqn;
	if (ret)
		return ret;

	if (wr->num_sge < 0)
		return EINVAL;
	if (wr->opcode == IBV_WR_ATOMIC_WRITE)
		return sroce_wqe_atomic_write(wqe, wr);
	if ((wr->send_flags & IBV_SEND_INLINE) &&
	    (wr->opcode == IBV_WR_SEND || wr->opcode == IBV_WR_SEND_WITH_IMM ||
	     wr->opcode == IBV_WR_SEND_WITH_INV ||
	     wr->opcode == IBV_WR_RDMA_WRITE ||
	     wr->opcode == IBV_WR_RDMA_WRITE_WITH_IMM))
		return sroce_wqe_inline(qp, wqe, wr);
	if ((uint32_t)wr->num_sge > qp->max_send_sge)
		return EINVAL;
	wqe->num_sge = wr->num_sge;
	for (i = 0; i < wr->num_sge; i++) {
		wqe->sge[i].addr = wr->sg_list[i].addr;
		wqe->sge[i].length = wr->sg_list[i].length;
		wqe->sge[i].lkey = wr->sg_list[i].lkey;
	}
	return 0;
}

int sroce_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
		    struct ibv_send_wr **bad_wr)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	struct sroce_ring *sq = &qp->sq;
	struct ibv_send_wr *first = wr;
	bool posted;
	uint32_t start;
	int ret = 0;
	int db;

	if (!sq->map || !sroce_qp_sq_ready(ibqp)) {
		*bad_wr = wr;
		return EINVAL;
	}
	pthread_spin_lock(&sq->lock);
	start = sq->idx;
	for (; wr; wr = wr->next) {
		if (sq->idx - sroce_ring_load(&sq->hdr->cons) >= sq->num) {
			ret = ENOMEM;
			break;
		}
		ret = sroce_wqe_from_wr(qp, sroce_ring_slot(sq, sq->idx), wr);
		if (ret)
			break;
		sq->idx++;
	}
	posted = sq->idx != start;
	if (posted)
		sroce_ring_store(&sq->hdr->prod, sq->idx);
	pthread_spin_unlock(&sq->lock);

	if (ret)
		*bad_wr = wr;
	if (posted) {
		db = sroce_sq_doorbell(qp);
		if (db && !ret) {
			*bad_wr = first;
			ret = db;
		}
	}
	return ret;
}

/*
 * Write the receive WRs from *@wr on into @rq, a QP's RQ or an SRQ (they
 * share one slot format), and publish them.  Stops at the first WR that
 * does not fit, left in *@wr, with its errno: ENOMEM when the ring is
 * full, EINVAL for more than @max_sge SGEs; 0 when all are in.  *@posted
 * says whether any was published.
 */
int sroce_ring_post_recv(struct sroce_ring *rq, uint32_t max_sge,
			 struct ibv_recv_wr **wr, bool *posted)
{
	uint32_t start;
	int ret = 0;
	int i;

	pthread_spin_lock(&rq->lock);
	start = rq->idx;
	for (; *wr; *wr = (*wr)->next) {
		struct ibv_recv_wr *w = *wr;
		struct sroce_recv_wqe *wqe;

		if (rq->idx - sroce_ring_load(&rq->hdr->cons) >= rq->num) {
			ret = ENOMEM;
			break;
		}
		if (w->num_sge < 0 || (uint32_t)w->num_sge > max_sge) {
			ret = EINVAL;
			break;
		}
		wqe = sroce_ring_slot(rq, rq->idx);
		wqe->wr_id = w->wr_id;
		wqe->num_sge = w->num_sge;
		wqe->reserved = 0;
		for (i = 0; i < w->num_sge; i++) {
			wqe->sge[i].addr = w->sg_list[i].addr;
			wqe->sge[i].length = w->sg_list[i].length;
			wqe->sge[i].lkey = w->sg_list[i].lkey;
		}
		rq->idx++;
	}
	*posted = rq->idx != start;
	if (*posted)
		sroce_ring_store(&rq->hdr->prod, rq->idx);
	pthread_spin_unlock(&rq->lock);
	return ret;
}

int sroce_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		    struct ibv_recv_wr **bad_wr)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	struct sroce_ring *rq = &qp->rq;
	struct ibv_recv_wr *bad;
	bool posted;
	int ret;

	/*
	 * A QP takes receives from INIT on (IBTA 10.8.2.1); one with an SRQ
	 * takes them from there only, and an XRC QP has no RQ.
	 */
	if (ibqp->state == IBV_QPS_RESET || !rq->map) {
		*bad_wr = wr;
		return EINVAL;
	}
	ret = sroce_ring_post_recv(rq, qp->max_recv_sge, &wr, &posted);
	if (ret)
		*bad_wr = wr;
	/*
	 * In the error state the kernel flushes them, once told to.  The
	 * kernel writes kstate and then reads prod; we wrote prod and now
	 * read kstate: only a full fence on both sides makes sure that one
	 * of us sees the other's store.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (posted && (sroce_ring_load(&rq->hdr->kstate) & SROCE_KSTATE_QP_ERR))
		ibv_cmd_post_recv(ibqp, NULL, &bad);
	return ret;
}
