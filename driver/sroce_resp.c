// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The RC responder: executes request packets in PSN order (IBTA 9.7.5),
 * answers them with ACKs, READ responses and atomic ACKs, and NAKs what it
 * cannot execute.  Duplicates are acknowledged again; duplicate READs and
 * ATOMICs are answered from the responder resources without executing
 * twice.  Runs as the QP's owner (sroce_sched.c), in softirq or in the
 * worker: a request that needs on-demand pages in softirq is left as it
 * was (every step before the memory access can be taken again) and is
 * executed again by the worker.
 *
 * A receive WQE being filled by a multi-packet SEND stays at rq.idx (the
 * provider's view of cons) until its completion, so a flush completes it.
 * A QP with an SRQ has no RQ: it takes its WQE out of the SRQ into rwqe,
 * where it stays (rwqe_held) until it is completed or flushed.
 */
#include "sroce.h"

/* READ response packets sent per round (sroce_sched.c). */
#define SROCE_READ_BUDGET	64

static void sroce_resp_send(struct sroce_qp *qp, u8 opcode, u8 syndrome,
			    u32 psn, u64 atmack)
{
	struct sroce_pkt pkt = {};
	struct sk_buff *skb;
	void *payload;

	pkt.bth.opcode = opcode;
	pkt.bth.pkey = 0xffff;
	pkt.bth.dqpn = qp->dest_qpn;
	pkt.bth.psn = psn;
	pkt.aeth.syndrome = syndrome;
	pkt.aeth.msn = qp->msn;
	pkt.atmack = atmack;
	skb = sroce_pkt_alloc(qp, &pkt, &payload);
	if (skb)
		sroce_pkt_send(qp, skb);
}

static void sroce_resp_ack(struct sroce_qp *qp, u32 psn)
{
	sroce_resp_send(qp, SROCE_RC_ACKNOWLEDGE,
			sroce_aeth_ack(SROCE_AETH_CREDITS_INVALID), psn, 0);
}

/*
 * A request that cannot be executed: NAK it and put the QP in the error
 * state (IBTA 9.7.5.2.4), telling its owner why.
 */
static void sroce_resp_fatal(struct sroce_qp *qp, u32 psn,
			     enum sroce_nak_code code)
{
	static const enum ib_event_type event[] = {
		[SROCE_NAK_INVALID_REQUEST] = IB_EVENT_QP_REQ_ERR,
		[SROCE_NAK_REMOTE_ACCESS] = IB_EVENT_QP_ACCESS_ERR,
		[SROCE_NAK_REMOTE_OP_ERROR] = IB_EVENT_QP_FATAL,
	};

	sroce_resp_send(qp, SROCE_RC_ACKNOWLEDGE, sroce_aeth_nak(code), psn, 0);
	sroce_qp_error(qp, event[code]);
}

static void sroce_resp_recv_cqe(struct sroce_qp *qp, u8 status, u8 opcode,
				u32 byte_len, const struct sroce_pkt *pkt)
{
	struct sroce_cqe cqe = {
		.wr_id = qp->rwqe.wqe.wr_id,
		.status = status,
		.opcode = opcode,
		.byte_len = byte_len,
		.src_qp = qp->dest_qpn,
	};

	if (pkt && (pkt->op->hdrs & SROCE_HDR_IMMDT)) {
		cqe.flags = SROCE_CQE_WITH_IMM;
		cqe.ex = (__force u32)cpu_to_be32(pkt->immdt);
	}
	if (pkt && (pkt->op->hdrs & SROCE_HDR_IETH)) {
		cqe.flags = SROCE_CQE_WITH_INV;
		cqe.ex = pkt->ieth;
	}
	sroce_resp_recv_done(qp, &cqe, pkt && pkt->bth.se);
}

/* Complete the receive WQE in progress (rwqe) with @cqe, which names it. */
void sroce_resp_recv_done(struct sroce_qp *qp, struct sroce_cqe *cqe,
			  bool solicited)
{
	cqe->wr_id = qp->rwqe.wqe.wr_id;
	if (!sroce_qp_has_rq(qp)) {
		qp->rwqe_held = false;
	} else {
		/* Free the slot first: whoever polls the CQE may reuse it. */
		qp->rq.idx++;
		sroce_queue_publish_cons(&qp->rq);
	}
	sroce_qp_complete(qp, sroce_qp_rcq(qp), cqe, solicited);
}

/* The RQ's WQE at rq.idx, copied into rwqe: as sroce_resp_take_rwqe. */
static int sroce_resp_copy_rwqe(struct sroce_qp *qp)
{
	u32 prod = sroce_queue_user_prod(&qp->rq);
	const struct sroce_recv_wqe *u;

	if (prod - qp->rq.idx > qp->rq.num)
		return -EINVAL;
	if (prod == qp->rq.idx)
		return 0;
	u = sroce_queue_slot(&qp->rq, qp->rq.idx);
	memcpy(&qp->rwqe.wqe, u, sizeof(qp->rwqe.wqe));
	if (qp->rwqe.wqe.num_sge > qp->max_recv_sge)
		return -EINVAL;
	memcpy(qp->rwqe.sge, u->sge,
	       qp->rwqe.wqe.num_sge * sizeof(qp->rwqe.sge[0]));
	return 1;
}

/*
 * Have the next receive WQE in rwqe: the one at rq.idx, or with an SRQ
 * the one held, else one taken from the SRQ.  Returns 1 when there is
 * one, 0 when the RQ or SRQ is empty (receiver not ready), or a negative
 * errno when the ring or the WQE is broken.
 */
int sroce_resp_take_rwqe(struct sroce_qp *qp)
{
	u64 length = 0;
	unsigned int i;
	int ret;

	if (!sroce_qp_has_rq(qp)) {
		if (qp->rwqe_held)
			return 1;
		ret = sroce_srq_take(sroce_qp_srq(qp), &qp->rwqe);
		qp->rwqe_held = ret > 0;
	} else {
		ret = sroce_resp_copy_rwqe(qp);
	}
	if (ret <= 0)
		return ret;
	for (i = 0; i < qp->rwqe.wqe.num_sge; i++)
		length += qp->rwqe.sge[i].length;
	qp->rwqe.length = min_t(u64, length, U32_MAX);
	return 1;
}

/*
 * Make sure a receive WQE is there for a packet that needs one.  Sends an
 * RNR NAK (and returns false) when the RQ is empty.
 */
static bool sroce_resp_need_rwqe(struct sroce_qp *qp, const struct sroce_pkt *pkt)
{
	int ret = sroce_resp_take_rwqe(qp);

	if (ret > 0)
		return true;
	if (ret < 0) {
		sroce_resp_send(qp, SROCE_RC_ACKNOWLEDGE,
				sroce_aeth_nak(SROCE_NAK_REMOTE_OP_ERROR),
				pkt->bth.psn, 0);
		sroce_qp_error(qp, IB_EVENT_QP_FATAL);
		return false;
	}
	sroce_stat_inc(qp->sdev, SROCE_STAT_RNR_NAK_SENT);
	sroce_resp_send(qp, SROCE_RC_ACKNOWLEDGE,
			sroce_aeth_rnr_nak(qp->min_rnr_timer), pkt->bth.psn, 0);
	/*
	 * The RNR NAK is this gap's NAK: the packets in flight behind the
	 * refused one get no sequence NAK, which would cost the requester a
	 * transport retry for a receiver that is merely slow.
	 */
	qp->nak_seq_sent = true;
	return false;
}

/*
 * The owner stalled on @pkt, just executed: when it is a new request
 * that waits for on-demand pages to be faulted in, answer it with an RNR
 * NAK instead, start the fault and let the QP go on (true: @pkt is done
 * with).  The requester sends it again after the QP's RNR timer, and gets
 * an RNR NAK again until the pages are there: a slow fault costs it RNR
 * retries, as with ODP hardware, not the transport retries it would spend
 * waiting for an answer.  What follows @pkt is held or dropped as behind
 * any RNR NAK.  A failed fault leaves its error for the copy that comes
 * next, which is then NAKed as the access deserves.  Returns false for a
 * stall that only needs the worker, or that is not a new request's.
 */
bool sroce_resp_fault_rnr(struct sroce_qp *qp, const struct sroce_pkt *pkt)
{
	if (!qp->fault_want.mr ||
	    !sroce_rsp_fault_rnr(qp->epsn, pkt->bth.psn, pkt->op->flags))
		return false;
	sroce_stat_inc(qp->sdev, SROCE_STAT_RNR_NAK_SENT);
	sroce_stat_inc(qp->sdev, SROCE_STAT_ODP_RNR_NAK_SENT);
	sroce_resp_send(qp, SROCE_RC_ACKNOWLEDGE,
			sroce_aeth_rnr_nak(qp->min_rnr_timer), pkt->bth.psn, 0);
	qp->nak_seq_sent = true;	/* as in sroce_resp_need_rwqe() */
	sroce_fault_start(qp);
	qp->stalled = false;
	return true;
}

/* Does @pkt fit where the message in progress (resp_op) stands? */
static bool sroce_resp_in_sequence(struct sroce_qp *qp,
				   const struct sroce_pkt *pkt)
{
	u16 flags = pkt->op->flags;

	if (!qp->resp_op)
		return flags & SROCE_OP_FIRST ||
		       flags & (SROCE_OP_READ | SROCE_OP_ATOMIC |
				SROCE_OP_PLACEMENT);
	if (flags & SROCE_OP_FIRST)
		return false;
	return (flags & (SROCE_OP_SEND | SROCE_OP_WRITE)) == qp->resp_op;
}

/* Returns false when the QP failed. */
static bool sroce_resp_send_op(struct sroce_qp *qp, const struct sroce_pkt *pkt,
			       const void *payload)
{
	u16 flags = pkt->op->flags;
	int status;

	if ((flags & SROCE_OP_FIRST) && !sroce_resp_need_rwqe(qp, pkt))
		return false;
	if (flags & SROCE_OP_FIRST)
		qp->recv_off = 0;
	if (pkt->payload_len > qp->rwqe.length - qp->recv_off) {
		sroce_resp_recv_cqe(qp, IB_WC_LOC_LEN_ERR, SROCE_WC_RECV, 0,
				    NULL);
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_INVALID_REQUEST);
		return false;
	}
	status = sroce_sge_copy(qp, qp->rwqe.sge, qp->rwqe.wqe.num_sge,
				qp->recv_off, (void *)payload,
				pkt->payload_len, true);
	if (status < 0)
		return false;	/* for the worker */
	if (status) {
		sroce_resp_recv_cqe(qp, status, SROCE_WC_RECV, 0, NULL);
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_REMOTE_OP_ERROR);
		return false;
	}
	/*
	 * A SEND with Invalidate invalidates its key once its data is in
	 * place: a fast MR of the QP's PD, VALID under that key.  A user or
	 * DMA MR may not be invalidated, nor a key that names nothing.
	 */
	if ((pkt->op->hdrs & SROCE_HDR_IETH) &&
	    sroce_mr_invalidate(qp, pkt->ieth, true)) {
		sroce_resp_recv_cqe(qp, IB_WC_LOC_ACCESS_ERR, SROCE_WC_RECV, 0,
				    NULL);
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_REMOTE_ACCESS);
		return false;
	}
	qp->recv_off += pkt->payload_len;
	qp->resp_op = SROCE_OP_SEND;
	if (flags & SROCE_OP_LAST) {
		sroce_resp_recv_cqe(qp, IB_WC_SUCCESS, SROCE_WC_RECV,
				    qp->recv_off, pkt);
		qp->msn = sroce_psn_add(qp->msn, 1);
		qp->resp_op = 0;
	}
	return true;
}

/*
 * The MR behind @rkey (or behind the window it names) if it allows
 * @access to [@va, @va + @len).
 */
struct sroce_mr *sroce_resp_mr(struct sroce_qp *qp, u32 rkey, int access,
			       u64 va, u64 len)
{
	struct sroce_mr *mr;

	if ((qp->access & access) != access)
		return NULL;
	if (sroce_key_is_mw(rkey))
		return sroce_mw_mr(qp, rkey, access, va, len);
	mr = sroce_mr_get(qp->sdev, rkey);
	if (mr && sroce_mr_check(mr, sroce_qp_pd(qp), access, va, len)) {
		sroce_mr_put(mr);
		mr = NULL;
	}
	return mr;
}

/*
 * May the RETH of @pkt touch what it names with @access?  A zero-length
 * transfer touches no memory, so it has no key to check.  NAKs and fails
 * the QP when not.
 */
static bool sroce_resp_reth_ok(struct sroce_qp *qp, const struct sroce_pkt *pkt,
			       int access)
{
	struct sroce_mr *mr;

	if (!pkt->reth.dma_len)
		return true;
	mr = sroce_resp_mr(qp, pkt->reth.rkey, access, pkt->reth.va,
			   pkt->reth.dma_len);
	if (!mr) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_REMOTE_ACCESS);
		return false;
	}
	sroce_mr_put(mr);
	return true;
}

static bool sroce_resp_write_op(struct sroce_qp *qp,
				const struct sroce_pkt *pkt,
				const void *payload)
{
	u16 flags = pkt->op->flags;
	struct sroce_mr *mr;
	int err;

	if ((pkt->op->hdrs & SROCE_HDR_IMMDT) && !sroce_resp_need_rwqe(qp, pkt))
		return false;
	if (flags & SROCE_OP_FIRST) {
		if (!sroce_resp_reth_ok(qp, pkt, IB_ACCESS_REMOTE_WRITE))
			return false;
		qp->write_rkey = pkt->reth.rkey;
		qp->write_va = pkt->reth.va;
		qp->write_left = pkt->reth.dma_len;
		qp->write_len = pkt->reth.dma_len;
	}
	if (pkt->payload_len > qp->write_left ||
	    ((flags & SROCE_OP_LAST) && pkt->payload_len != qp->write_left) ||
	    (!(flags & SROCE_OP_LAST) && pkt->payload_len != qp->mtu)) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_INVALID_REQUEST);
		return false;
	}
	if (pkt->payload_len) {
		/* Looked up again: the MR may be gone since the first packet. */
		mr = sroce_resp_mr(qp, qp->write_rkey, IB_ACCESS_REMOTE_WRITE,
				   qp->write_va, pkt->payload_len);
		if (!mr) {
			sroce_resp_fatal(qp, pkt->bth.psn,
					 SROCE_NAK_REMOTE_ACCESS);
			return false;
		}
		if (!sroce_mr_reachable(qp, mr)) {
			sroce_mr_put(mr);
			return false;	/* for the worker */
		}
		err = sroce_mr_copy(qp, mr, qp->write_va, (void *)payload,
				    pkt->payload_len, true);
		sroce_mr_put(mr);
		if (err == -EWOULDBLOCK)
			return false;	/* after the fault */
		if (err) {
			sroce_resp_fatal(qp, pkt->bth.psn,
					 SROCE_NAK_REMOTE_ACCESS);
			return false;
		}
	}
	qp->write_va += pkt->payload_len;
	qp->write_left -= pkt->payload_len;
	qp->resp_op = SROCE_OP_WRITE;
	if (flags & SROCE_OP_LAST) {
		if (pkt->op->hdrs & SROCE_HDR_IMMDT)
			sroce_resp_recv_cqe(qp, IB_WC_SUCCESS,
					    SROCE_WC_RECV_RDMA_WITH_IMM,
					    qp->write_len, pkt);
		qp->msn = sroce_psn_add(qp->msn, 1);
		qp->resp_op = 0;
	}
	return true;
}

static u32 sroce_resp_read_npkts(struct sroce_qp *qp,
				 const struct sroce_rd_res *res)
{
	return res->length ? DIV_ROUND_UP(res->length, qp->mtu) : 1;
}

/*
 * Send READ responses from rd_cur, a budget at a time.  Returns true while
 * responses remain, so that later requests wait their turn (and stop at
 * one that needs the worker).
 */
static bool sroce_resp_run_reads(struct sroce_qp *qp)
{
	const struct sroce_rd_res *res = qp->rd_cur;
	unsigned int budget = SROCE_READ_BUDGET;

	if (!res)
		return false;
	while (budget-- && qp->rd_next < qp->rd_end) {
		u32 k = qp->rd_next;
		u32 pos = k * qp->mtu;
		struct sroce_pkt pkt = {};
		struct sroce_mr *mr = NULL;
		struct sk_buff *skb;
		void *payload;
		int err = 0;

		pkt.bth.pkey = 0xffff;
		pkt.bth.dqpn = qp->dest_qpn;
		pkt.bth.psn = sroce_psn_add(res->first_psn, k);
		pkt.aeth.syndrome = sroce_aeth_ack(SROCE_AETH_CREDITS_INVALID);
		pkt.aeth.msn = qp->msn;
		pkt.payload_len = min(qp->mtu, res->length - pos);
		/*
		 * An answer to a repeated READ is a response of its own: it
		 * begins with FIRST wherever in the message it begins, as
		 * rdma_rxe's requester expects after asking again.
		 */
		if (qp->rd_end - qp->rd_first == 1)
			pkt.bth.opcode = SROCE_RC_READ_RESPONSE_ONLY;
		else if (k == qp->rd_first)
			pkt.bth.opcode = SROCE_RC_READ_RESPONSE_FIRST;
		else if (k == qp->rd_end - 1)
			pkt.bth.opcode = SROCE_RC_READ_RESPONSE_LAST;
		else
			pkt.bth.opcode = SROCE_RC_READ_RESPONSE_MIDDLE;

		if (pkt.payload_len) {
			mr = sroce_resp_mr(qp, res->rkey, IB_ACCESS_REMOTE_READ,
					   res->va + pos, pkt.payload_len);
			if (!mr) {
				qp->rd_cur = NULL;
				sroce_resp_fatal(qp, pkt.bth.psn,
						 SROCE_NAK_REMOTE_ACCESS);
				return false;
			}
			if (!sroce_mr_reachable(qp, mr)) {
				sroce_mr_put(mr);
				return true;	/* for the worker */
			}
		}
		skb = sroce_pkt_alloc(qp, &pkt, &payload);
		if (skb && mr)
			err = sroce_mr_copy(qp, mr, res->va + pos, payload,
					    pkt.payload_len, false);
		if (mr)
			sroce_mr_put(mr);
		if (err == -EWOULDBLOCK) {
			kfree_skb(skb);
			return true;	/* after the fault */
		}
		if (err) {
			/* An on-demand page the process has unmapped. */
			kfree_skb(skb);
			qp->rd_cur = NULL;
			sroce_resp_fatal(qp, pkt.bth.psn,
					 SROCE_NAK_REMOTE_ACCESS);
			return false;
		}
		if (skb)
			sroce_pkt_send(qp, skb);
		qp->rd_next++;
	}
	if (qp->rd_next < qp->rd_end) {
		sroce_qp_kick(qp);
		return true;
	}
	qp->rd_cur = NULL;
	return false;
}

bool sroce_resp_run(struct sroce_qp *qp)
{
	bool more;

	if (qp->ibqp.qp_type != IB_QPT_XRC_TGT || !qp->rd_cur)
		return sroce_resp_run_reads(qp);
	sroce_xrc_rd_begin(qp);
	more = sroce_resp_run_reads(qp);
	sroce_xrc_rd_end(qp);
	return more;
}

/*
 * Are all the pages a READ names there, before its first response goes?
 * A response cannot be RNR NAKed, so a fault in the middle of the answer
 * would stop it until the fault ends (and spend the requester's transport
 * retries); faulted in first, the request is RNR NAKed meanwhile
 * (sroce_resp_fault_rnr()).  0, -EWOULDBLOCK (the worker, or a fault),
 * or the error of a fault that failed.  Pages the process unmaps after
 * this are faulted in the middle of the answer after all.
 */
static int sroce_resp_read_ready(struct sroce_qp *qp,
				 const struct sroce_pkt *pkt)
{
	struct sroce_mr *mr;
	int err;

	if (!pkt->reth.dma_len)
		return 0;
	mr = sroce_resp_mr(qp, pkt->reth.rkey, IB_ACCESS_REMOTE_READ,
			   pkt->reth.va, pkt->reth.dma_len);
	if (!mr)
		return -EACCES;		/* checked just before: it went */
	err = sroce_mr_reachable(qp, mr) ?
	      sroce_mr_fault_in(qp, mr, pkt->reth.va, pkt->reth.dma_len) :
	      -EWOULDBLOCK;
	sroce_mr_put(mr);
	return err;
}

static bool sroce_resp_read_op(struct sroce_qp *qp, const struct sroce_pkt *pkt)
{
	struct sroce_rd_res *res;
	int err;

	if (pkt->reth.dma_len > SROCE_MAX_MSG_SIZE) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_INVALID_REQUEST);
		return false;
	}
	if (!sroce_resp_reth_ok(qp, pkt, IB_ACCESS_REMOTE_READ))
		return false;
	err = sroce_resp_read_ready(qp, pkt);
	if (err == -EWOULDBLOCK)
		return false;	/* for the worker, or after the fault */
	if (err) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_REMOTE_ACCESS);
		return false;
	}
	res = sroce_rd_res_next(&qp->rd_res);
	res->opcode = SROCE_RC_READ_REQUEST;
	res->first_psn = pkt->bth.psn;
	res->va = pkt->reth.va;
	res->rkey = pkt->reth.rkey;
	res->length = pkt->reth.dma_len;
	res->last_psn = sroce_psn_add(res->first_psn,
				      sroce_resp_read_npkts(qp, res) - 1);
	qp->msn = sroce_psn_add(qp->msn, 1);
	qp->epsn = sroce_psn_add(res->last_psn, 1);
	/* Its responses go out next (sroce_sched.c). */
	qp->rd_cur = res;
	qp->rd_first = 0;
	qp->rd_next = 0;
	qp->rd_end = sroce_resp_read_npkts(qp, res);
	return true;
}

static bool sroce_resp_atomic_op(struct sroce_qp *qp,
				 const struct sroce_pkt *pkt)
{
	const struct sroce_atmeth *a = &pkt->atmeth;
	struct sroce_rd_res *res;
	struct sroce_mr *mr;
	u64 orig;
	int err;

	if (a->va & 7) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_INVALID_REQUEST);
		return false;
	}
	mr = sroce_resp_mr(qp, a->rkey, IB_ACCESS_REMOTE_ATOMIC, a->va,
			   sizeof(u64));
	if (!mr) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_REMOTE_ACCESS);
		return false;
	}
	if (!sroce_mr_reachable(qp, mr)) {
		sroce_mr_put(mr);
		return false;	/* for the worker */
	}
	err = sroce_mr_atomic(qp, mr, a->va, pkt->bth.opcode, a->compare,
			      a->swap_add, &orig);
	sroce_mr_put(mr);
	if (err == -EWOULDBLOCK)
		return false;	/* after the fault */
	if (err) {
		/* Misaligned in the process's memory, or not there at all. */
		sroce_resp_fatal(qp, pkt->bth.psn,
				 err == -EINVAL ? SROCE_NAK_INVALID_REQUEST :
						  SROCE_NAK_REMOTE_ACCESS);
		return false;
	}
	res = sroce_rd_res_next(&qp->rd_res);
	res->opcode = pkt->bth.opcode;
	res->first_psn = pkt->bth.psn;
	res->last_psn = pkt->bth.psn;
	res->atomic_orig = orig;
	qp->msn = sroce_psn_add(qp->msn, 1);
	qp->epsn = sroce_psn_add(pkt->bth.psn, 1);
	sroce_resp_send(qp, SROCE_RC_ATOMIC_ACKNOWLEDGE,
			sroce_aeth_ack(SROCE_AETH_CREDITS_INVALID),
			pkt->bth.psn, orig);
	return true;
}

/*
 * ATOMIC WRITE (IBTA 1.5): its 8 bytes stored at a naturally aligned
 * address as one store, under the MR's remote write access.  The bytes go
 * to memory as they came: the word is loaded in the CPU's order and
 * stored back in it.
 */
static int sroce_resp_atomic_write(struct sroce_qp *qp,
				   const struct sroce_pkt *pkt,
				   const void *payload)
{
	const struct sroce_reth *r = &pkt->reth;
	struct sroce_mr *mr;
	u64 word, unused;
	int err;

	if (r->va & 7 || r->dma_len != SROCE_ATOMIC_WRITE_LEN ||
	    pkt->payload_len != SROCE_ATOMIC_WRITE_LEN)
		return SROCE_NAK_INVALID_REQUEST;
	mr = sroce_resp_mr(qp, r->rkey, IB_ACCESS_REMOTE_WRITE, r->va,
			   SROCE_ATOMIC_WRITE_LEN);
	if (!mr)
		return SROCE_NAK_REMOTE_ACCESS;
	if (!sroce_mr_reachable(qp, mr)) {
		sroce_mr_put(mr);
		return -EWOULDBLOCK;	/* for the worker */
	}
	memcpy(&word, payload, sizeof(word));
	err = sroce_mr_atomic(qp, mr, r->va, SROCE_RC_ATOMIC_WRITE, 0, word,
			      &unused);
	sroce_mr_put(mr);
	if (err == -EWOULDBLOCK)
		return err;	/* after the fault */
	if (err)
		return err == -EINVAL ? SROCE_NAK_INVALID_REQUEST :
					SROCE_NAK_REMOTE_ACCESS;
	return 0;
}

/*
 * FLUSH (IBTA 1.5) of a range, or of the whole MR, to a placement type the
 * MR allows.  Everything the QP accepted before it is already executed:
 * the responder executes requests in PSN order and only then moves epsn,
 * so the WRITEs that precede a FLUSH have been stored.  Those stores are
 * the CPU's, to the very pages the process maps, so they are globally
 * visible as any CPU store is: no cache or buffer of a device's stands in
 * between.  Persistence needs persistent memory, which sroce's MRs never
 * are: the device offers no IB_DEVICE_FLUSH_PERSISTENT, the core refuses
 * IB_ACCESS_FLUSH_PERSISTENT MRs, and a persistent FLUSH finds no MR
 * allowing it.
 */
static int sroce_resp_flush_req(struct sroce_qp *qp,
				const struct sroce_pkt *pkt)
{
	const struct sroce_reth *r = &pkt->reth;
	int access = 0, err;
	struct sroce_mr *mr;

	if (!pkt->feth.plt ||
	    pkt->feth.plt & ~(SROCE_FETH_PLT_GLOBAL | SROCE_FETH_PLT_PERSISTENT) ||
	    pkt->feth.sel > SROCE_FETH_SEL_MR)
		return SROCE_NAK_INVALID_REQUEST;
	if (pkt->feth.plt & SROCE_FETH_PLT_GLOBAL)
		access |= IB_ACCESS_FLUSH_GLOBAL;
	if (pkt->feth.plt & SROCE_FETH_PLT_PERSISTENT)
		access |= IB_ACCESS_FLUSH_PERSISTENT;
	mr = sroce_mr_get(qp->sdev, r->rkey);
	if (!mr)
		return SROCE_NAK_REMOTE_ACCESS;
	/* The whole MR has no range to check; a range must lie in it. */
	if (pkt->feth.sel == SROCE_FETH_SEL_MR)
		err = sroce_mr_check(mr, qp->ibqp.pd, access, mr->iova, 0);
	else
		err = sroce_mr_check(mr, qp->ibqp.pd, access, r->va,
				     r->dma_len);
	sroce_mr_put(mr);
	return err ? SROCE_NAK_REMOTE_ACCESS : 0;
}

/*
 * ATOMIC WRITE or FLUSH: executed, it takes a responder resource, so that
 * a duplicate is answered again without being executed again (an ATOMIC
 * WRITE done twice could undo a store made in between), and is answered
 * with a READ RESPONSE ONLY without data.
 */
static void sroce_resp_placement_op(struct sroce_qp *qp,
				    const struct sroce_pkt *pkt,
				    const void *payload)
{
	struct sroce_rd_res *res;
	int err;

	/* Not offered where the core lacks them (sroce_compat.h). */
	if (!SROCE_PLACEMENT)
		err = SROCE_NAK_INVALID_REQUEST;
	else if (pkt->bth.opcode == SROCE_RC_ATOMIC_WRITE)
		err = sroce_resp_atomic_write(qp, pkt, payload);
	else
		err = sroce_resp_flush_req(qp, pkt);
	if (err == -EWOULDBLOCK)
		return;
	if (err) {
		sroce_resp_fatal(qp, pkt->bth.psn, err);
		return;
	}
	res = sroce_rd_res_next(&qp->rd_res);
	res->opcode = pkt->bth.opcode;
	res->first_psn = pkt->bth.psn;
	res->last_psn = pkt->bth.psn;
	qp->msn = sroce_psn_add(qp->msn, 1);
	qp->epsn = sroce_psn_add(pkt->bth.psn, 1);
	sroce_resp_send(qp, SROCE_RC_READ_RESPONSE_ONLY,
			sroce_aeth_ack(SROCE_AETH_CREDITS_INVALID),
			pkt->bth.psn, 0);
}

/*
 * Is @pkt a request this QP can execute at all?  A SEND or WRITE packet
 * carries a full path MTU unless it is the last of its message, and never
 * more; READ and ATOMIC need responder resources (max_dest_rd_atomic).
 */
static bool sroce_resp_valid(struct sroce_qp *qp, const struct sroce_pkt *pkt)
{
	u16 flags = pkt->op->flags;

	if (flags & (SROCE_OP_READ | SROCE_OP_ATOMIC | SROCE_OP_PLACEMENT))
		return qp->max_dest_rd_atomic;
	if (pkt->payload_len > qp->mtu)
		return false;
	return (flags & SROCE_OP_LAST) || pkt->payload_len == qp->mtu;
}

static void sroce_resp_execute(struct sroce_qp *qp, struct sroce_pkt *pkt,
			       const void *payload)
{
	u16 flags = pkt->op->flags;
	bool ok;

	if (!sroce_resp_in_sequence(qp, pkt) || !sroce_resp_valid(qp, pkt)) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_INVALID_REQUEST);
		return;
	}
	if (flags & SROCE_OP_READ) {
		sroce_resp_read_op(qp, pkt);
		return;
	}
	if (flags & SROCE_OP_ATOMIC) {
		sroce_resp_atomic_op(qp, pkt);
		return;
	}
	if (flags & SROCE_OP_PLACEMENT) {
		sroce_resp_placement_op(qp, pkt, payload);
		return;
	}
	if (flags & SROCE_OP_SEND)
		ok = sroce_resp_send_op(qp, pkt, payload);
	else
		ok = sroce_resp_write_op(qp, pkt, payload);
	if (!ok)
		return;
	qp->epsn = sroce_psn_add(pkt->bth.psn, 1);
	if (pkt->bth.ack_req)
		sroce_resp_ack(qp, pkt->bth.psn);
}

static void sroce_resp_duplicate(struct sroce_qp *qp,
				 const struct sroce_pkt *pkt)
{
	const struct sroce_rd_res *res;
	u32 off;

	if (pkt->op->flags & (SROCE_OP_READ | SROCE_OP_ATOMIC |
			      SROCE_OP_PLACEMENT)) {
		res = sroce_rd_res_find(&qp->rd_res, pkt->bth.opcode,
					pkt->bth.psn);
		if (!res)
			return;		/* too old to answer again */
		if (pkt->op->flags & SROCE_OP_PLACEMENT) {
			sroce_resp_send(qp, SROCE_RC_READ_RESPONSE_ONLY,
					sroce_aeth_ack(SROCE_AETH_CREDITS_INVALID),
					res->first_psn, 0);
			return;
		}
		if (pkt->op->flags & SROCE_OP_ATOMIC) {
			sroce_resp_send(qp, SROCE_RC_ATOMIC_ACKNOWLEDGE,
					sroce_aeth_ack(SROCE_AETH_CREDITS_INVALID),
					res->first_psn, res->atomic_orig);
			return;
		}
		if (!sroce_rd_res_replay(res, pkt->bth.psn, qp->mtu, &off) ||
		    pkt->reth.va != res->va + off ||
		    pkt->reth.rkey != res->rkey ||
		    pkt->reth.dma_len > res->length - off)
			return;	/* not a part of that READ: ignored */
		/*
		 * A repeat of the one being answered, from where that answer
		 * began: its answer is under way, and starting it over for a
		 * copy of the request (a requester asks again while the first
		 * answer is still coming when the path is slow) would only
		 * cut it short, again and again.
		 */
		if (qp->rd_cur == res && qp->rd_first == off / qp->mtu &&
		    qp->rd_next < qp->rd_end)
			return;
		/* Just the part asked for, which may end before the READ. */
		qp->rd_cur = res;
		qp->rd_first = off / qp->mtu;
		qp->rd_next = qp->rd_first;
		qp->rd_end = min(sroce_resp_read_npkts(qp, res), qp->rd_next +
				 max(DIV_ROUND_UP(pkt->reth.dma_len, qp->mtu), 1U));
		return;
	}
	/*
	 * Everything before epsn arrived: say so, for the first duplicate
	 * after new requests (a requester going back to resend learns at
	 * once how far to skip) and for those that ask for an ACK.  One ACK
	 * per resent packet would only load both ends.
	 */
	if (qp->dup_acked && !pkt->bth.ack_req)
		return;
	qp->dup_acked = true;
	sroce_resp_ack(qp, sroce_psn_add(qp->epsn, SROCE_PSN_MASK));
}

static void sroce_resp_nak_seq(struct sroce_qp *qp)
{
	if (qp->nak_seq_sent)
		return;
	sroce_stat_inc(qp->sdev, SROCE_STAT_SEQ_NAK_SENT);
	sroce_resp_send(qp, SROCE_RC_ACKNOWLEDGE,
			sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR), qp->epsn, 0);
	qp->nak_seq_sent = true;
}

/* NAK the open gap once its hold is over; else look again then. */
void sroce_resp_hold_check(struct sroce_qp *qp)
{
	u32 wait;

	if (sroce_reorder_due(&qp->req_ro, sroce_now_us(), &wait))
		sroce_resp_nak_seq(qp);
	else if (wait)
		sroce_hold_arm(qp, wait);
}

/*
 * A request past the expected PSN: a packet before it was lost, or is
 * late.  Hold it (it executes in turn if the gap fills) and NAK the gap
 * only when sroce_proto's reorder rules say it counts as a loss.
 */
static void sroce_resp_ahead(struct sroce_qp *qp, const struct sroce_pkt *pkt,
			     struct sk_buff *skb)
{
	if (sroce_reorder_ahead(&qp->req_ro, qp->epsn, pkt->bth.psn,
				skb_queue_len(&qp->req_held), sroce_now_us()) &&
	    sroce_hold_add(qp, &qp->req_held, skb, pkt->bth.psn, qp->epsn))
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_HELD);
	/*
	 * A requester that asks for an ACK past a gap already NAKed (not
	 * one an RNR NAK stands for) may not have had the NAK (its tail
	 * probe, sroce_req.c): it gets it again.
	 */
	if (qp->nak_seq_sent && qp->req_ro.reported && pkt->bth.ack_req) {
		qp->nak_seq_sent = false;
		sroce_resp_nak_seq(qp);
	}
	sroce_resp_hold_check(qp);
}

/*
 * The next held request, once the gap before it has filled.  When held
 * requests remain past a new gap, that gap opens now.
 */
struct sk_buff *sroce_resp_take_held(struct sroce_qp *qp)
{
	struct sk_buff *skb = sroce_hold_take(qp, &qp->req_held, qp->epsn);
	u32 psn;

	if (!skb && !qp->req_ro.open &&
	    sroce_hold_first(&qp->req_held, &psn)) {
		sroce_reorder_ahead(&qp->req_ro, qp->epsn, psn,
				    skb_queue_len(&qp->req_held),
				    sroce_now_us());
		sroce_resp_hold_check(qp);
	}
	return skb;
}

static void sroce_resp_rcv_rc(struct sroce_qp *qp, struct sroce_pkt *pkt,
			      const void *payload, struct sk_buff *skb)
{
	switch (sroce_rsp_check_psn(qp->epsn, pkt->bth.psn)) {
	case SROCE_PSN_NEW:
		qp->nak_seq_sent = false;
		qp->dup_acked = false;
		sroce_reorder_filled(&qp->req_ro);
		sroce_resp_execute(qp, pkt, payload);
		break;
	case SROCE_PSN_DUPLICATE:
		sroce_reorder_duplicate(&qp->req_ro, pkt->bth.psn);
		sroce_resp_duplicate(qp, pkt);
		break;
	case SROCE_PSN_AHEAD:
		sroce_resp_ahead(qp, pkt, skb);
		break;
	}
}

/* An XRC target QP's requests are RC's, with an SRQ each (sroce_xrc.c). */
void sroce_resp_rcv(struct sroce_qp *qp, struct sroce_pkt *pkt,
		    const void *payload, struct sk_buff *skb)
{
	if (qp->ibqp.qp_type != IB_QPT_XRC_TGT) {
		sroce_resp_rcv_rc(qp, pkt, payload, skb);
		return;
	}
	if (!sroce_xrc_begin(qp, pkt)) {
		sroce_resp_fatal(qp, pkt->bth.psn, SROCE_NAK_INVALID_REQUEST);
		return;
	}
	sroce_resp_rcv_rc(qp, pkt, payload, skb);
	sroce_xrc_end(qp, pkt);
}

/*
 * The ERR state: every posted receive WQE completes as flushed.  With an
 * SRQ only the WQE this QP took does; the SRQ's stay for other QPs, and
 * the last WQE reached event says so, once (IBTA 11.6.3.2).
 */
void sroce_resp_flush(struct sroce_qp *qp)
{
	u32 prod;

	qp->resp_op = 0;
	qp->rd_cur = NULL;
	sroce_hold_purge(qp, &qp->req_held);
	if (sroce_qp_is_xrc(qp)) {
		sroce_xrc_flush(qp);
		return;
	}
	if (qp->ibqp.srq) {
		if (qp->rwqe_held)
			sroce_resp_recv_cqe(qp, IB_WC_WR_FLUSH_ERR,
					    SROCE_WC_RECV, 0, NULL);
		if (!qp->srq_last_wqe) {
			qp->srq_last_wqe = true;
			sroce_qp_event(qp, IB_EVENT_QP_LAST_WQE_REACHED);
		}
		return;
	}
	prod = sroce_queue_user_prod(&qp->rq);
	if (prod - qp->rq.idx > qp->rq.num)
		return;		/* a broken producer index: nothing to trust */
	while (qp->rq.idx != prod) {
		const struct sroce_recv_wqe *u = sroce_queue_slot(&qp->rq,
								  qp->rq.idx);

		qp->rwqe.wqe.wr_id = READ_ONCE(u->wr_id);
		sroce_resp_recv_cqe(qp, IB_WC_WR_FLUSH_ERR, SROCE_WC_RECV, 0,
				    NULL);
	}
}

/*
 * RESET: posted receives are dropped without completions; with an SRQ,
 * only the one this QP took.
 */
void sroce_resp_reset(struct sroce_qp *qp)
{
	u32 prod;

	if (!sroce_qp_has_rq(qp)) {
		qp->rwqe_held = false;
		qp->srq_last_wqe = false;
	} else {
		prod = READ_ONCE(qp->rq.hdr->prod);
		if (prod - qp->rq.idx <= qp->rq.num)
			qp->rq.idx = prod;
		sroce_queue_publish_cons(&qp->rq);
	}
	qp->msn = 0;
	qp->resp_op = 0;
	qp->nak_seq_sent = false;
	qp->dup_acked = false;
	sroce_hold_purge(qp, &qp->req_held);
	sroce_reorder_init(&qp->req_ro);
	qp->rd_cur = NULL;
	qp->rd_first = 0;
	qp->rd_next = 0;
	qp->rd_res.next = 0;
	memset(qp->rd_res.slot, 0,
	       SROCE_MAX_RD_ATOMIC * sizeof(*qp->rd_res.slot));
}
