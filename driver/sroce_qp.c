// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Queue pairs (RC, UC, UD, XRC and the GSI QP) as verbs objects: create,
 * query, destroy, and the post verbs (the doorbells of user QPs).  The
 * state machine is in sroce_qp_state.c, the QP number table in
 * sroce_qpn.c, and who runs a QP's transport, and where, in sroce_sched.c;
 * UD's transport is in sroce_ud.c, UC's in sroce_uc.c.
 */
#include <linux/log2.h>
#include <linux/slab.h>

#include "sroce.h"
#include "sroce_umem.h"

int sroce_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		    struct ib_udata *udata)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	struct sroce_create_qp_resp resp = {};
	struct ib_qp_cap *cap = &init->cap;
	bool has_rq = !init->srq;
	u32 room, sq_stride, rq_stride;
	u32 qpn;
	int err;

	switch (init->qp_type) {
	case IB_QPT_RC:
	case IB_QPT_UC:
	case IB_QPT_UD:
		break;
	case IB_QPT_XRC_INI:
		/* A requester only; kernel ULPs have no XRC. */
		if (!udata)
			return -EOPNOTSUPP;
		has_rq = false;
		break;
	case IB_QPT_XRC_TGT:
		/* A responder only, which the core creates with no udata. */
		if (!init->xrcd)
			return -EINVAL;
		has_rq = false;
		memset(cap, 0, sizeof(*cap));
		break;
	case IB_QPT_GSI:
		/* The MAD layer's, one per port. */
		if (udata || init->port_num != SROCE_PORT)
			return -EINVAL;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (init->create_flags)
		return -EOPNOTSUPP;
	/* An SRQ serves RC, UC and UD QPs (not the GSI QP); its WRs size it. */
	if (init->srq && (init->qp_type == IB_QPT_GSI ||
			  init->srq->srq_type != IB_SRQT_BASIC))
		return -EOPNOTSUPP;
	if (!has_rq) {
		cap->max_recv_wr = 0;
		cap->max_recv_sge = 0;
	}
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (cap->max_send_wr > SROCE_MAX_QP_WR ||
	    cap->max_recv_wr > SROCE_MAX_QP_WR ||
	    cap->max_send_sge > SROCE_MAX_SGE ||
	    cap->max_recv_sge > SROCE_MAX_SGE ||
	    cap->max_inline_data > SROCE_MAX_INLINE)
		return -EINVAL;

	qp->sdev = to_sdev(ibqp->device);
	qp->kernel = !udata;
	spin_lock_init(&qp->sq_post_lock);
	spin_lock_init(&qp->rq_post_lock);
	qp->scq = to_scq(init->send_cq);
	qp->rcq = to_scq(init->recv_cq);
	qp->xrcd = init->xrcd;
	qp->sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	sroce_qp_set_state(qp, IB_QPS_RESET);
	qp->path_mtu = IB_MTU_1024;
	qp->mtu = 1024;
	refcount_set(&qp->ref, 1);
	init_completion(&qp->released);
	sroce_sched_init(qp);
	skb_queue_head_init(&qp->req_rxq);
	skb_queue_head_init(&qp->resp_rxq);
	__skb_queue_head_init(&qp->req_held);
	timer_setup(&qp->retrans_timer, sroce_retrans_timer_fn, 0);
	timer_setup(&qp->rnr_timer, sroce_rnr_timer_fn, 0);
	timer_setup(&qp->hold_timer, sroce_hold_timer_fn, 0);
	sroce_reorder_init(&qp->req_ro);
	sroce_req_rd_init(qp);

	/* A send slot holds the larger of the SGE list and the inline data. */
	room = max_t(u32, max(cap->max_send_sge, 1U) * sizeof(struct sroce_sge),
		     cap->max_inline_data);
	room = ALIGN(room, sizeof(struct sroce_sge));
	sq_stride = sizeof(struct sroce_send_wqe) + room;
	qp->max_send_sge = min_t(u32, room / sizeof(struct sroce_sge),
				 SROCE_MAX_SGE);
	qp->max_inline = min_t(u32, room, SROCE_MAX_INLINE);
	qp->max_recv_sge = has_rq ? max(cap->max_recv_sge, 1U) : 0;
	rq_stride = sizeof(struct sroce_recv_wqe) +
		    qp->max_recv_sge * sizeof(struct sroce_sge);

	err = sroce_queue_init(&qp->sq,
			       roundup_pow_of_two(max(cap->max_send_wr, 1U)),
			       sq_stride, udata, &resp.sq);
	if (err)
		return err;
	/*
	 * With an SRQ, and for XRC, rq stays empty (no ring) and nothing
	 * reads it.  A target QP's SQ is an empty kernel ring of one slot.
	 */
	if (has_rq) {
		err = sroce_queue_init(&qp->rq,
				       roundup_pow_of_two(max(cap->max_recv_wr,
							      1U)),
				       rq_stride, udata, &resp.rq);
		if (err)
			goto err_sq;
	}

	err = -ENOMEM;
	qp->swqe = kvcalloc(qp->sq.num, sizeof(*qp->swqe), SROCE_UMEM_GFP);
	if (!qp->swqe)
		goto err_rq;
	qp->tr_tmp = kvcalloc(qp->sq.num, sizeof(*qp->tr_tmp), SROCE_UMEM_GFP);
	if (!qp->tr_tmp)
		goto err_swqe;
	qp->rd_res.slot = kcalloc(SROCE_MAX_RD_ATOMIC,
				  sizeof(*qp->rd_res.slot), SROCE_UMEM_GFP);
	if (!qp->rd_res.slot)
		goto err_tr;
	qp->rd_res.size = 1;

	cap->max_send_wr = qp->sq.num;
	cap->max_recv_wr = has_rq ? qp->rq.num : 0;
	cap->max_send_sge = qp->max_send_sge;
	cap->max_recv_sge = qp->max_recv_sge;
	cap->max_inline_data = qp->max_inline;
	if (init->qp_type == IB_QPT_XRC_TGT)
		memset(cap, 0, sizeof(*cap));

	/*
	 * Reserve the number, and publish the QP to the receive path only
	 * when nothing can fail any more: until then no packet, and so no
	 * reference or work, can reach it.  The GSI QP is QP1 of its device,
	 * found by device rather than by number.
	 */
	if (init->qp_type == IB_QPT_GSI) {
		ibqp->qp_num = SROCE_GSI_QPN;
		qp->src_port = sroce_ud_src_port(SROCE_GSI_QPN);
		err = sroce_gsi_publish(qp);
		if (err)
			goto err_rd_res;
		return 0;
	}
	err = sroce_qpn_reserve(&qpn);
	if (err)
		goto err_rd_res;
	ibqp->qp_num = qpn;
	if (init->qp_type == IB_QPT_UD)
		qp->src_port = sroce_ud_src_port(qpn);

	if (udata) {
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_xa;
	}
	sroce_qpn_publish(qp);
	return 0;

err_xa:
	sroce_qpn_remove(qpn);
err_rd_res:
	kfree(qp->rd_res.slot);
err_tr:
	kvfree(qp->tr_tmp);
err_swqe:
	kvfree(qp->swqe);
err_rq:
	if (has_rq)
		sroce_queue_destroy(&qp->rq);
err_sq:
	sroce_queue_destroy(&qp->sq);
	return err;
}

int sroce_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_qp_init_attr *init)
{
	struct sroce_qp *qp = to_sqp(ibqp);

	memset(attr, 0, sizeof(*attr));
	memset(init, 0, sizeof(*init));
	sroce_qp_own(qp);
	attr->qp_state = qp->state;
	attr->cur_qp_state = qp->state;
	attr->path_mtu = qp->path_mtu;
	attr->path_mig_state = IB_MIG_MIGRATED;
	attr->rq_psn = qp->epsn;
	attr->sq_psn = qp->req_psn;
	attr->dest_qp_num = qp->dest_qpn;
	attr->qp_access_flags = qp->access;
	attr->cap.max_send_wr = qp->sq.num;
	attr->cap.max_recv_wr = sroce_qp_has_rq(qp) ? qp->rq.num : 0;
	attr->cap.max_send_sge = qp->max_send_sge;
	attr->cap.max_recv_sge = qp->max_recv_sge;
	attr->cap.max_inline_data = qp->max_inline;
	sroce_av_to_attr(&qp->av, &attr->ah_attr);
	attr->sq_draining = qp->sq_draining;
	attr->en_sqd_async_notify = qp->sq_drained_notify;
	attr->max_rd_atomic = qp->max_rd_atomic;
	attr->max_dest_rd_atomic = qp->max_dest_rd_atomic;
	attr->min_rnr_timer = qp->min_rnr_timer;
	attr->port_num = SROCE_PORT;
	attr->timeout = qp->timeout;
	attr->retry_cnt = qp->retry.retry_cnt;
	attr->rnr_retry = qp->retry.rnr_retry;
	attr->qkey = qp->qkey;
	sroce_qp_release(qp);

	init->qp_type = qp->ibqp.qp_type;
	init->send_cq = qp->ibqp.send_cq;
	init->recv_cq = qp->ibqp.recv_cq;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sig_all ? IB_SIGNAL_ALL_WR : IB_SIGNAL_REQ_WR;
	init->srq = qp->ibqp.srq;
	return 0;
}

int sroce_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct sroce_qp *qp = to_sqp(ibqp);

	/* No run from here on, nor a fault job's kick ... */
	sroce_sched_stop(qp);
	sroce_fault_detach(qp);
	/* ... no new packets once the receive path's references are gone ... */
	if (ibqp->qp_type == IB_QPT_GSI)
		sroce_gsi_remove(qp);
	else
		sroce_qpn_remove(ibqp->qp_num);
	sroce_mcast_qp_destroy(qp);
	sroce_qp_put(qp);
	wait_for_completion(&qp->released);
	/* ... and no timer. */
	timer_shutdown_sync(&qp->retrans_timer);
	timer_shutdown_sync(&qp->rnr_timer);
	timer_shutdown_sync(&qp->hold_timer);
	sroce_rxq_purge(qp, &qp->req_rxq);
	sroce_rxq_purge(qp, &qp->resp_rxq);
	sroce_hold_purge(qp, &qp->req_held);
	sroce_fault_release(qp);

	kfree(qp->rd_res.slot);
	kvfree(qp->tr_tmp);
	kvfree(qp->swqe);
	if (sroce_qp_has_rq(qp))
		sroce_queue_destroy(&qp->rq);
	sroce_queue_destroy(&qp->sq);
	return 0;
}

/*
 * Kernel QPs post their WRs through this (sroce_kverbs.c).  For a user QP
 * it is the doorbell: the provider has written the ring and calls it with
 * no WRs.
 */
int sroce_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		    const struct ib_send_wr **bad_wr)
{
	struct sroce_qp *qp = to_sqp(ibqp);

	if (qp->kernel)
		return sroce_kpost_send(qp, wr, bad_wr);
	if (wr) {
		*bad_wr = wr;
		return -EOPNOTSUPP;
	}
	sroce_qp_kick(qp);
	return 0;
}

/*
 * As sroce_post_send; the receive doorbell of a user QP is needed only to
 * flush receives posted in error.
 */
int sroce_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		    const struct ib_recv_wr **bad_wr)
{
	struct sroce_qp *qp = to_sqp(ibqp);

	if (qp->kernel)
		return sroce_kpost_recv(qp, wr, bad_wr);
	if (wr) {
		*bad_wr = wr;
		return -EOPNOTSUPP;
	}
	sroce_qp_kick(qp);
	return 0;
}
