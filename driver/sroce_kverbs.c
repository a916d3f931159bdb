// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data path verbs of kernel consumers (ULPs): ib_post_send,
 * ib_post_recv and ib_post_srq_recv (sroce_srq.c) write WQEs into a kernel
 * QP's or SRQ's rings exactly as the provider does for a user QP, and
 * ib_poll_cq reads CQEs from a kernel CQ's ring.
 * From the rings on, kernel and user QPs share one transport.
 *
 * Kernel consumers address memory through DMA MRs and fast-registration
 * MRs: sroce registers its devices without a DMA device, so ib_dma_map_*()
 * hands out kernel virtual addresses, which the data path uses as they
 * are.  A REG_MR WQE carries the MR's new key, whose index finds the MR
 * again when the requester executes it: no pointer goes through the ring.
 */
#include <rdma/ib_verbs.h>

#include "sroce.h"

/* The slot for the next WQE of a kernel ring, or NULL when it is full. */
static void *sroce_kring_next(struct sroce_queue *q)
{
	u32 prod = q->hdr->prod;	/* the poster's own index */

	/* Pairs with the transport's release store of cons. */
	if (prod - smp_load_acquire(&q->hdr->cons) >= q->num)
		return NULL;
	return sroce_queue_slot(q, prod);
}

/* Publish a WQE that sroce_kring_next() handed out. */
static void sroce_kring_push(struct sroce_queue *q)
{
	/* Pairs with the transport's acquire load of prod. */
	smp_store_release(&q->hdr->prod, q->hdr->prod + 1);
}

static int sroce_kwqe_inline(struct sroce_qp *qp, struct sroce_send_wqe *wqe,
			     const struct ib_send_wr *wr)
{
	u8 *dst = (u8 *)wqe->sge;
	u32 len = 0;
	int i;

	for (i = 0; i < wr->num_sge; i++) {
		if (wr->sg_list[i].length > qp->max_inline - len)
			return -EINVAL;
		memcpy(dst + len, (void *)(uintptr_t)wr->sg_list[i].addr,
		       wr->sg_list[i].length);
		len += wr->sg_list[i].length;
	}
	wqe->flags |= SROCE_WQE_INLINE;
	wqe->inline_len = len;
	return 0;
}

/*
 * The RC-only WRs that carry no data of their own: a local operation
 * (REG_MR, LOCAL_INV) or a SEND with Invalidate's key.  Returns true when
 * @wr is a local operation, which is then filled in.
 */
static bool sroce_kwqe_rc(struct sroce_send_wqe *wqe,
			  const struct ib_send_wr *wr)
{
	switch (wr->opcode) {
	case IB_WR_REG_MR:
		/* The MR is found again by the key's index when executed. */
		wqe->opcode = SROCE_WR_REG_MR;
		wqe->rkey = reg_wr(wr)->key;
		wqe->compare_add = reg_wr(wr)->access;
		return true;
	case IB_WR_LOCAL_INV:
		wqe->rkey = wr->ex.invalidate_rkey;
		return true;
	case IB_WR_SEND_WITH_INV:
		wqe->rkey = wr->ex.invalidate_rkey;
		return false;
	default:
		return false;
	}
}

/*
 * Fill @wqe from @wr.  The kernel's IB_WR_* values of these opcodes are
 * the uverbs ones that a WQE carries.
 */
static int sroce_kwqe_from_wr(struct sroce_qp *qp, struct sroce_send_wqe *wqe,
			      const struct ib_send_wr *wr)
{
	int i;

	memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	wqe->opcode = wr->opcode;
	if (qp->sig_all || (wr->send_flags & IB_SEND_SIGNALED))
		wqe->flags |= SROCE_WQE_SIGNALED;
	if (wr->send_flags & IB_SEND_SOLICITED)
		wqe->flags |= SROCE_WQE_SOLICITED;
	if (wr->send_flags & IB_SEND_FENCE)
		wqe->flags |= SROCE_WQE_FENCE;

	if (sroce_qp_is_ud(qp)) {
		if ((wr->opcode != IB_WR_SEND &&
		     wr->opcode != IB_WR_SEND_WITH_IMM) || !ud_wr(wr)->ah)
			return -EINVAL;
		wqe->ah = to_sah(ud_wr(wr)->ah)->num;
		wqe->ud.remote_qpn = ud_wr(wr)->remote_qpn;
		wqe->ud.remote_qkey = ud_wr(wr)->remote_qkey;
	}
	if (!sroce_qp_is_ud(qp) && !sroce_qp_is_uc(qp) && sroce_kwqe_rc(wqe, wr))
		return 0;
	if (sroce_qp_is_uc(qp) && wr->opcode != IB_WR_SEND &&
	    wr->opcode != IB_WR_SEND_WITH_IMM && wr->opcode != IB_WR_RDMA_WRITE &&
	    wr->opcode != IB_WR_RDMA_WRITE_WITH_IMM)
		return -EINVAL;
	switch (wr->opcode) {
	case IB_WR_SEND_WITH_IMM:
		wqe->imm_data = (__force u32)wr->ex.imm_data;
		break;
	case IB_WR_SEND:
		break;
	case IB_WR_SEND_WITH_INV:
		if (sroce_qp_is_uc(qp))
			return -EINVAL;
		break;
	case IB_WR_RDMA_WRITE_WITH_IMM:
		wqe->imm_data = (__force u32)wr->ex.imm_data;
		fallthrough;
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_READ:
		wqe->remote_addr = rdma_wr(wr)->remote_addr;
		wqe->rkey = rdma_wr(wr)->rkey;
		break;
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		wqe->remote_addr = atomic_wr(wr)->remote_addr;
		wqe->rkey = atomic_wr(wr)->rkey;
		wqe->compare_add = atomic_wr(wr)->compare_add;
		wqe->swap = atomic_wr(wr)->swap;
		break;
	default:
		/*
		 * Among them IB_WR_ATOMIC_WRITE and IB_WR_FLUSH: no kernel WR
		 * carries an ATOMIC WRITE's value or a FLUSH's placement
		 * type and level.
		 */
		return -EINVAL;
	}

	if (wr->num_sge < 0)
		return -EINVAL;
	if ((wr->send_flags & IB_SEND_INLINE) &&
	    (wr->opcode == IB_WR_SEND || wr->opcode == IB_WR_SEND_WITH_IMM ||
	     wr->opcode == IB_WR_SEND_WITH_INV ||
	     wr->opcode == IB_WR_RDMA_WRITE ||
	     wr->opcode == IB_WR_RDMA_WRITE_WITH_IMM))
		return sroce_kwqe_inline(qp, wqe, wr);
	if (wr->num_sge > qp->max_send_sge)
		return -EINVAL;
	wqe->num_sge = wr->num_sge;
	for (i = 0; i < wr->num_sge; i++) {
		wqe->sge[i].addr = wr->sg_list[i].addr;
		wqe->sge[i].length = wr->sg_list[i].length;
		wqe->sge[i].lkey = wr->sg_list[i].lkey;
	}
	return 0;
}

int sroce_kpost_send(struct sroce_qp *qp, const struct ib_send_wr *wr,
		     const struct ib_send_wr **bad_wr)
{
	enum ib_qp_state state = READ_ONCE(qp->state);
	unsigned long flags;
	bool posted = false;
	int err = 0;

	/* Before RTS there is nothing to send with; in error, WRs flush. */
	if (state < IB_QPS_RTS) {
		*bad_wr = wr;
		return -EINVAL;
	}
	spin_lock_irqsave(&qp->sq_post_lock, flags);
	for (; wr; wr = wr->next) {
		struct sroce_send_wqe *wqe = sroce_kring_next(&qp->sq);

		if (!wqe) {
			err = -ENOMEM;
			break;
		}
		err = sroce_kwqe_from_wr(qp, wqe, wr);
		if (err)
			break;
		sroce_kring_push(&qp->sq);
		posted = true;
	}
	spin_unlock_irqrestore(&qp->sq_post_lock, flags);

	if (err)
		*bad_wr = wr;
	if (posted)
		sroce_qp_kick(qp);
	return err;
}

/*
 * Write @wr's receive WQEs into the kernel ring @q, whose poster the
 * caller serializes.  Returns 0, or an errno with *@bad_wr the WR that
 * failed: -ENOMEM when the ring is full, -EINVAL for a bad SGE count.
 */
int sroce_kpost_recv_ring(struct sroce_queue *q, u32 max_sge,
			  const struct ib_recv_wr *wr,
			  const struct ib_recv_wr **bad_wr)
{
	int i;

	for (; wr; wr = wr->next) {
		struct sroce_recv_wqe *wqe = sroce_kring_next(q);

		if (!wqe) {
			*bad_wr = wr;
			return -ENOMEM;
		}
		if (wr->num_sge < 0 || wr->num_sge > max_sge) {
			*bad_wr = wr;
			return -EINVAL;
		}
		wqe->wr_id = wr->wr_id;
		wqe->num_sge = wr->num_sge;
		wqe->reserved = 0;
		for (i = 0; i < wr->num_sge; i++) {
			wqe->sge[i].addr = wr->sg_list[i].addr;
			wqe->sge[i].length = wr->sg_list[i].length;
			wqe->sge[i].lkey = wr->sg_list[i].lkey;
		}
		sroce_kring_push(q);
	}
	return 0;
}

int sroce_kpost_recv(struct sroce_qp *qp, const struct ib_recv_wr *wr,
		     const struct ib_recv_wr **bad_wr)
{
	unsigned long flags;
	bool posted;
	u32 prod;
	int err;

	/* A QP with an SRQ has no RQ: its receives go to the SRQ. */
	if (!sroce_qp_has_rq(qp) || READ_ONCE(qp->state) == IB_QPS_RESET) {
		*bad_wr = wr;
		return -EINVAL;
	}
	spin_lock_irqsave(&qp->rq_post_lock, flags);
	prod = qp->rq.hdr->prod;
	err = sroce_kpost_recv_ring(&qp->rq, qp->max_recv_sge, wr, bad_wr);
	posted = qp->rq.hdr->prod != prod;
	spin_unlock_irqrestore(&qp->rq_post_lock, flags);

	/*
	 * Receives wait for packets; only in error must they be flushed.
	 * The barrier orders the push of prod before the read of the state
	 * (pairs with the one in sroce_qp_error()).
	 */
	smp_mb();
	if (posted && READ_ONCE(qp->state) == IB_QPS_ERR)
		sroce_qp_kick(qp);
	return err;
}

static void sroce_cqe_to_wc(const struct sroce_cqe *cqe, struct ib_qp *qp,
			    struct ib_wc *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->wr_id = cqe->wr_id;
	wc->status = cqe->status;
	/*
	 * The ring's opcodes are uverbs' numbers; IB_WC_REG_MR has none
	 * there, and its value moved when ATOMIC WRITE arrived (after 6.1).
	 */
	wc->opcode = cqe->opcode == SROCE_WC_REG_MR ? IB_WC_REG_MR :
						      cqe->opcode;
	wc->vendor_err = cqe->vendor_err;
	wc->byte_len = cqe->byte_len;
	wc->qp = qp;
	wc->src_qp = cqe->src_qp;
	wc->port_num = SROCE_PORT;
	if (cqe->flags & SROCE_CQE_WITH_IMM) {
		wc->ex.imm_data = (__force __be32)cqe->ex;
		wc->wc_flags |= IB_WC_WITH_IMM;
	}
	if (cqe->flags & SROCE_CQE_WITH_INV) {
		wc->ex.invalidate_rkey = cqe->ex;
		wc->wc_flags |= IB_WC_WITH_INVALIDATE;
	}
	/* What ib_init_ah_attr_from_wc() needs to answer a datagram. */
	if (cqe->flags & SROCE_CQE_GRH) {
		wc->wc_flags |= IB_WC_GRH | IB_WC_WITH_NETWORK_HDR_TYPE;
		wc->network_hdr_type = cqe->flags & SROCE_CQE_IPV4 ?
				       RDMA_NETWORK_IPV4 : RDMA_NETWORK_IPV6;
	}
}

/* Kernel CQs only: a user CQ's ring belongs to its process. */
int sroce_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc)
{
	struct sroce_cq *cq = to_scq(ibcq);
	struct sroce_queue *q = &cq->q;
	unsigned long flags;
	int n = 0;

	if (q->mmap)
		return -EOPNOTSUPP;
	spin_lock_irqsave(&cq->lock, flags);
	while (n < num && q->hdr->cons != q->idx) {
		u32 slot = q->hdr->cons & (q->num - 1);

		sroce_cqe_to_wc(sroce_queue_slot(q, slot), cq->slot_qp[slot],
				&wc[n++]);
		q->hdr->cons++;
	}
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}
