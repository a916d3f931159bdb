// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XRC (eXtended Reliable Connected transport, IBTA annex A14): XRC
 * domains, the numbers of XRC SRQs, and what sets XRC QPs apart from RC
 * ones.
 *
 * An XRC initiator QP (XRC_INI) is an RC requester with no receive side:
 * each request names, in its XRCETH, the SRQ its SENDs go to.  An XRC
 * target QP (XRC_TGT) is an RC responder with no queues of its own: a
 * request's XRCETH names an XRC SRQ of the QP's XRC domain, whose WQEs
 * the SENDs fill, whose CQ gets the completions, and whose PD governs the
 * RDMA and atomic accesses.  Both run the RC engine (sroce_req.c,
 * sroce_resp.c) on the RC packets their XRC packets mirror (sroce_wire.c).
 *
 * The core shares XRC domains between processes (ibv_open_xrcd on a
 * file) and target QPs too (ibv_open_qp); a domain is nothing to sroce
 * but the identity its SRQs and target QPs compare.
 *
 * XRC SRQs are numbered in sroce_xrc_srqs, for every device: the target
 * QP's owner finds the SRQ of each request there, holds a reference
 * (srq->xrc_ref) while it handles that one request, and drops it; between
 * requests it keeps only numbers (xrc_recv_srqn, xrc_rd_srqn), so an SRQ
 * can be destroyed at any time.  Destroy unpublishes the number and waits
 * for the references to go.
 */
#include <linux/xarray.h>

#include "sroce.h"

/* 24-bit SRQ numbers, from 1; the lock is taken with bottom halves off. */
#define SROCE_MAX_XRC_SRQN	0xffffff
static DEFINE_XARRAY_FLAGS(sroce_xrc_srqs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);

int sroce_alloc_xrcd(struct ib_xrcd *ibxrcd, struct ib_udata *udata)
{
	return 0;
}

/* The core deallocates a domain only once no SRQ or QP of it is left. */
int sroce_dealloc_xrcd(struct ib_xrcd *ibxrcd, struct ib_udata *udata)
{
	return 0;
}

/*
 * Number the new XRC SRQ @srq and publish it to the target QPs; it must
 * be ready for them.  Sets the number the core reports (ext.xrc.srq_num).
 */
int sroce_xrc_srq_publish(struct sroce_srq *srq)
{
	u32 srqn;
	int err;

	refcount_set(&srq->xrc_ref, 1);
	init_completion(&srq->xrc_released);
	err = xa_alloc_bh(&sroce_xrc_srqs, &srqn, srq,
			  XA_LIMIT(1, SROCE_MAX_XRC_SRQN), GFP_KERNEL);
	if (err)
		return err == -EBUSY ? -ENOMEM : err;
	srq->ibsrq.ext.xrc.srq_num = srqn;
	return 0;
}

/* Unpublish @srq and wait until no target QP uses it. */
void sroce_xrc_srq_remove(struct sroce_srq *srq)
{
	xa_erase_bh(&sroce_xrc_srqs, srq->ibsrq.ext.xrc.srq_num);
	sroce_xrc_srq_put(srq);
	wait_for_completion(&srq->xrc_released);
}

/*
 * The XRC SRQ number @srqn, with a reference, if it belongs to the XRC
 * domain of the target QP @qp; else NULL.
 */
struct sroce_srq *sroce_xrc_srq_get(struct sroce_qp *qp, u32 srqn)
{
	struct sroce_srq *srq;

	xa_lock_bh(&sroce_xrc_srqs);
	srq = xa_load(&sroce_xrc_srqs, srqn);
	if (srq && (srq->ibsrq.ext.xrc.xrcd != qp->xrcd ||
		    !refcount_inc_not_zero(&srq->xrc_ref)))
		srq = NULL;
	xa_unlock_bh(&sroce_xrc_srqs);
	return srq;
}

void sroce_xrc_srq_put(struct sroce_srq *srq)
{
	if (refcount_dec_and_test(&srq->xrc_ref))
		complete(&srq->xrc_released);
}

/*
 * Softirq: may @qp take @pkt?  XRC requests go to target QPs only, XRC
 * responses to initiator QPs only, and other packets to neither.
 */
bool sroce_xrc_deliverable(const struct sroce_qp *qp,
			   const struct sroce_pkt *pkt)
{
	bool xrc = sroce_opcode_transport(pkt->bth.opcode) ==
		   SROCE_TRANSPORT_XRC;
	bool request = pkt->op->flags & SROCE_OP_REQUEST;

	switch (qp->ibqp.qp_type) {
	case IB_QPT_XRC_INI:
		return xrc && !request;
	case IB_QPT_XRC_TGT:
		return xrc && request;
	default:
		return !xrc;
	}
}

/*
 * The target QP @qp's owner is about to handle the request @pkt (an XRC
 * packet made RC's): find the SRQ its XRCETH names, which serves the
 * whole request (qp->xrc_srq, until sroce_xrc_end()).  A new request
 * that names no SRQ of the QP's domain, or a SEND's later packet that
 * names another SRQ than its first did, is an invalid request: returns
 * false.  A duplicate or a request ahead of a gap needs no SRQ to be
 * acknowledged or held.
 */
bool sroce_xrc_begin(struct sroce_qp *qp, const struct sroce_pkt *pkt)
{
	u32 srqn = pkt->xrceth.srqn;

	qp->xrc_srq = sroce_xrc_srq_get(qp, srqn);
	if (sroce_rsp_check_psn(qp->epsn, pkt->bth.psn) != SROCE_PSN_NEW)
		return true;
	if (!qp->xrc_srq)
		return false;
	if (qp->rwqe_held && (pkt->op->flags & SROCE_OP_SEND) &&
	    srqn != qp->xrc_recv_srqn) {
		sroce_xrc_end(qp, pkt);
		return false;
	}
	return true;
}

/* The request @pkt is handled: note what outlives it, drop its SRQ. */
void sroce_xrc_end(struct sroce_qp *qp, const struct sroce_pkt *pkt)
{
	if (qp->rwqe_held)
		qp->xrc_recv_srqn = pkt->xrceth.srqn;
	if (pkt->op->flags & SROCE_OP_READ)
		qp->xrc_rd_srqn = pkt->xrceth.srqn;
	if (qp->xrc_srq)
		sroce_xrc_srq_put(qp->xrc_srq);
	qp->xrc_srq = NULL;
}

/*
 * READ responses go out over several rounds, each of which checks the
 * MR against the PD of the READ's SRQ: hold it for the round.  Returns
 * false (and the READ fails on its MR check) if that SRQ is gone.
 */
bool sroce_xrc_rd_begin(struct sroce_qp *qp)
{
	qp->xrc_srq = sroce_xrc_srq_get(qp, qp->xrc_rd_srqn);
	return qp->xrc_srq;
}

void sroce_xrc_rd_end(struct sroce_qp *qp)
{
	if (qp->xrc_srq)
		sroce_xrc_srq_put(qp->xrc_srq);
	qp->xrc_srq = NULL;
}

/*
 * The XRC QP @qp is in error: an initiator has nothing to flush on its
 * receive side; for a target, the receive WQE a SEND was filling, if
 * any, completes as flushed on its SRQ's CQ (the rest of the SRQ's WQEs
 * stay for other QPs).  If the SRQ is gone, so is its WQE.
 */
void sroce_xrc_flush(struct sroce_qp *qp)
{
	struct sroce_cqe cqe = {
		.wr_id = qp->rwqe.wqe.wr_id,
		.status = IB_WC_WR_FLUSH_ERR,
		.opcode = SROCE_WC_RECV,
		.src_qp = qp->dest_qpn,
	};
	struct sroce_srq *srq;

	if (!qp->rwqe_held)
		return;
	qp->rwqe_held = false;
	srq = sroce_xrc_srq_get(qp, qp->xrc_recv_srqn);
	if (!srq)
		return;
	sroce_qp_complete(qp, to_scq(srq->ibsrq.ext.cq), &cqe, false);
	sroce_xrc_srq_put(srq);
}
