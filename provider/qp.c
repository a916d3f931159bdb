// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce queue pairs and address handles.  Send and receive WQEs go
 * straight into rings the kernel maps for the QP; ibv_post_send ends a
 * batch with one doorbell system call, ibv_post_recv needs none.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sroce.h"
#include "sroce-abi.h"

struct ibv_qp *sroce_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	struct usroce_create_qp_resp resp = {};
	struct ibv_create_qp cmd;
	struct sroce_qp *qp;
	int ret;

	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return NULL;
	ret = ibv_cmd_create_qp(pd, &qp->ibv_qp, attr, &cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (ret)
		goto err_free;
	ret = sroce_ring_map(&qp->sq, pd->context->cmd_fd, &resp.sq);
	if (ret)
		goto err_destroy;
	ret = sroce_ring_map(&qp->rq, pd->context->cmd_fd, &resp.rq);
	if (ret)
		goto err_unmap_sq;
	/* ibv_cmd_create_qp wrote back what the kernel gave. */
	qp->max_send_sge = attr->cap.max_send_sge;
	qp->max_recv_sge = attr->cap.max_recv_sge;
	qp->max_inline = attr->cap.max_inline_data;
	qp->sig_all = attr->sq_sig_all;
	return &qp->ibv_qp;

err_unmap_sq:
	sroce_ring_unmap(&qp->sq);
err_destroy:
	ibv_cmd_destroy_qp(&qp->ibv_qp);
err_free:
	free(qp);
	errno = ret;
	return NULL;
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

	return ibv_cmd_modify_qp(ibqp, attr, attr_mask, &cmd, sizeof(cmd));
}

int sroce_destroy_qp(struct ibv_qp *ibqp)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	int ret;

	ret = ibv_cmd_destroy_qp(ibqp);
	if (ret)
		return ret;
	sroce_ring_unmap(&qp->rq);
	sroce_ring_unmap(&qp->sq);
	free(qp);
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

/* Fill the send slot @wqe from @wr; 0 or an errno for ibv_post_send. */
static int sroce_wqe_from_wr(struct sroce_qp *qp, struct sroce_send_wqe *wqe,
			     const struct ibv_send_wr *wr)
{
	int i;

	memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	wqe->opcode = wr->opcode;
	if (qp->sig_all || (wr->send_flags & IBV_SEND_SIGNALED))
		wqe->flags |= SROCE_WQE_SIGNALED;
	if (wr->send_flags & IBV_SEND_SOLICITED)
		wqe->flags |= SROCE_WQE_SOLICITED;
	if (wr->send_flags & IBV_SEND_FENCE)
		wqe->flags |= SROCE_WQE_FENCE;

	switch (wr->opcode) {
	case IBV_WR_SEND_WITH_IMM:
		wqe->imm_data = wr->imm_data;
		break;
	case IBV_WR_SEND:
		break;
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		wqe->imm_data = wr->imm_data;
		SWITCH_FALLTHROUGH;
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_READ:
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

	if (wr->num_sge < 0)
		return EINVAL;
	if ((wr->send_flags & IBV_SEND_INLINE) &&
	    (wr->opcode == IBV_WR_SEND || wr->opcode == IBV_WR_SEND_WITH_IMM ||
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
	struct ibv_send_wr *bad;
	uint32_t start;
	int ret = 0;

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
	if (sq->idx != start)
		sroce_ring_store(&sq->hdr->prod, sq->idx);
	pthread_spin_unlock(&sq->lock);

	if (ret)
		*bad_wr = wr;
	/* The doorbell: a post_send command without WRs. */
	if (sq->idx != start)
		ibv_cmd_post_send(ibqp, NULL, &bad);
	return ret;
}

int sroce_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		    struct ibv_recv_wr **bad_wr)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	struct sroce_ring *rq = &qp->rq;
	struct ibv_recv_wr *bad;
	bool posted = false;
	int ret = 0;
	int i;

	pthread_spin_lock(&rq->lock);
	for (; wr; wr = wr->next) {
		struct sroce_recv_wqe *wqe;

		if (rq->idx - sroce_ring_load(&rq->hdr->cons) >= rq->num) {
			ret = ENOMEM;
			break;
		}
		if (wr->num_sge < 0 || (uint32_t)wr->num_sge > qp->max_recv_sge) {
			ret = EINVAL;
			break;
		}
		wqe = sroce_ring_slot(rq, rq->idx);
		wqe->wr_id = wr->wr_id;
		wqe->num_sge = wr->num_sge;
		wqe->reserved = 0;
		for (i = 0; i < wr->num_sge; i++) {
			wqe->sge[i].addr = wr->sg_list[i].addr;
			wqe->sge[i].length = wr->sg_list[i].length;
			wqe->sge[i].lkey = wr->sg_list[i].lkey;
		}
		rq->idx++;
		posted = true;
	}
	if (posted)
		sroce_ring_store(&rq->hdr->prod, rq->idx);
	pthread_spin_unlock(&rq->lock);

	if (ret)
		*bad_wr = wr;
	/* In the error state the kernel flushes them, once told to. */
	if (posted && (sroce_ring_load(&rq->hdr->kstate) & SROCE_KSTATE_QP_ERR))
		ibv_cmd_post_recv(ibqp, NULL, &bad);
	return ret;
}

struct ibv_ah *sroce_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct ib_uverbs_create_ah_resp resp;
	struct ibv_ah *ah;
	int ret;

	ah = calloc(1, sizeof(*ah));
	if (!ah)
		return NULL;
	ret = ibv_cmd_create_ah(pd, ah, attr, &resp, sizeof(resp));
	if (ret) {
		free(ah);
		errno = ret;
		return NULL;
	}
	return ah;
}

int sroce_destroy_ah(struct ibv_ah *ah)
{
	int ret;

	ret = ibv_cmd_destroy_ah(ah);
	if (ret)
		return ret;
	free(ah);
	return 0;
}
