// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UC QPs (IBTA 9.8.3): connected as RC QPs are, with RC's SEND and WRITE
 * messages in the UC opcodes, but never acknowledged.  The requester sends
 * each message once, PSN after PSN, and a WQE is complete when its last
 * packet has been handed to the network; there is no READ, no ATOMIC, no
 * retransmission and no RNR.
 *
 * The responder executes what comes in sequence, and sroce_proto.c's UC
 * rules say what does not: a lost packet abandons the message it belongs
 * to, whose receive WQE stays posted (it is not consumed and gets no
 * completion) and whose WRITE keeps what it wrote.  Nothing is ever
 * answered: a SEND that finds no receive posted, or one too small for it
 * (as rdma_rxe does for UC), and a WRITE that its R_Key, its length or
 * the QP's access flags do not allow, are dropped as a whole message.
 * Every packet dropped is counted in rx_uc_dropped, and every message cut
 * short by a packet out of sequence in rx_uc_abandoned.
 *
 * Runs as the QP's owner (sroce_sched.c), like the RC and UD transports;
 * what needs on-demand pages is left, unchanged, to the worker.
 */
#include "sroce.h"

/* Packets received, and sent, per round. */
#define SROCE_UC_BUDGET		64

/* What executing one received packet came to. */
enum sroce_uc_exec {
	SROCE_UC_DROPPED,	/* dropped, with its message */
	SROCE_UC_DONE,		/* executed */
	SROCE_UC_LATER,		/* for the worker, or the QP failed */
};

/*
 * Send packet sq_send_pkt of WQE @s.  Returns 0, the local error status
 * that fails the WQE, or a negative errno when only the worker can read
 * its data (nothing has changed then).  sq_send_pkt is 0 again once the
 * last packet is out.
 */
static int sroce_uc_send_pkt(struct sroce_qp *qp, struct sroce_swqe *s)
{
	u32 k = qp->sq_send_pkt;
	u32 n = s->length ? DIV_ROUND_UP(s->length, qp->mtu) : 1;
	u32 pos = k * qp->mtu;
	bool last = k == n - 1;
	struct sroce_pkt pkt = {};
	struct sk_buff *skb;
	void *payload;
	int status = 0;

	pkt.bth.opcode = sroce_uc_opcode(sroce_send_opcode(s, !k, last));
	pkt.bth.se = last && (s->wqe.flags & SROCE_WQE_SOLICITED);
	pkt.bth.pkey = 0xffff;
	pkt.bth.dqpn = qp->dest_qpn;
	pkt.bth.psn = qp->req_psn;
	pkt.payload_len = min(qp->mtu, s->length - pos);
	pkt.reth.va = s->wqe.remote_addr;
	pkt.reth.rkey = s->wqe.rkey;
	pkt.reth.dma_len = s->length;
	pkt.immdt = be32_to_cpu((__force __be32)s->wqe.imm_data);

	skb = sroce_pkt_alloc(qp, &pkt, &payload);
	if (skb) {
		status = sroce_swqe_payload(qp, s, pos, payload,
					    pkt.payload_len);
		if (status) {
			kfree_skb(skb);
			return status;
		}
		sroce_pkt_send(qp, skb);
	} else {
		/* Lost before the wire: UC may lose packets, and says so. */
		sroce_stat_inc(qp->sdev, SROCE_STAT_TX_ERR);
	}
	qp->req_psn = sroce_psn_add(qp->req_psn, 1);
	qp->sq_send_pkt = last ? 0 : k + 1;
	return 0;
}

/*
 * Send what is posted, in order: each WQE completes once its last packet
 * is out.  In SQD, a message begun is finished and no other begins.
 */
static void sroce_uc_send(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_UC_BUDGET;

	if (qp->state == IB_QPS_RTS && !sroce_req_fetch(qp))
		return;
	sroce_req_check_failed(qp);
	while (qp->state != IB_QPS_ERR && qp->sq.idx != qp->sq_fetched) {
		struct sroce_swqe *s = &qp->swqe[qp->sq.idx & (qp->sq.num - 1)];
		int status;

		if (qp->state == IB_QPS_SQD && !qp->sq_send_pkt)
			break;
		if (!budget--) {
			sroce_qp_kick(qp);
			break;
		}
		status = s->status;
		if (!status)
			status = sroce_uc_send_pkt(qp, s);
		if (status < 0)
			break;		/* for the worker */
		if (status) {
			s->status = status;
			sroce_req_check_failed(qp);
			break;
		}
		if (!qp->sq_send_pkt)
			sroce_req_retire(qp, IB_WC_SUCCESS);
	}
	qp->sq_send = qp->sq.idx;
	qp->sq_sent_hi = qp->sq.idx;
}

/* Complete the receive WQE in progress for the message that @pkt ends. */
static void sroce_uc_recv_cqe(struct sroce_qp *qp, u8 status, u8 opcode,
			      u32 byte_len, const struct sroce_pkt *pkt)
{
	struct sroce_cqe cqe = {
		.status = status,
		.opcode = opcode,
		.byte_len = byte_len,
		.src_qp = qp->dest_qpn,
	};

	if (pkt->op->hdrs & SROCE_HDR_IMMDT) {
		cqe.flags = SROCE_CQE_WITH_IMM;
		cqe.ex = (__force u32)cpu_to_be32(pkt->immdt);
	}
	sroce_resp_recv_done(qp, &cqe, pkt->bth.se);
}

/*
 * The next receive WQE (the RQ's or the SRQ's), for a SEND or a WRITE
 * with immediate: SROCE_UC_DONE when there is one, SROCE_UC_DROPPED when
 * none is posted, SROCE_UC_LATER when the ring is broken (the QP has
 * failed).
 */
static enum sroce_uc_exec sroce_uc_take_rwqe(struct sroce_qp *qp)
{
	int ret = sroce_resp_take_rwqe(qp);

	if (ret < 0) {
		sroce_qp_error(qp, IB_EVENT_QP_FATAL);
		return SROCE_UC_LATER;
	}
	return ret ? SROCE_UC_DONE : SROCE_UC_DROPPED;
}

static enum sroce_uc_exec sroce_uc_send_op(struct sroce_qp *qp,
					   const struct sroce_pkt *pkt,
					   const void *payload)
{
	u16 flags = pkt->op->flags;
	enum sroce_uc_exec ret;
	int status;

	if (flags & SROCE_OP_FIRST) {
		ret = sroce_uc_take_rwqe(qp);
		if (ret != SROCE_UC_DONE)
			return ret;
		qp->recv_off = 0;
	}
	/* Too long for its receive: the message goes, the receive stays. */
	if (pkt->payload_len > qp->rwqe.length - qp->recv_off)
		return SROCE_UC_DROPPED;
	status = sroce_sge_copy(qp, qp->rwqe.sge, qp->rwqe.wqe.num_sge,
				qp->recv_off, (void *)payload,
				pkt->payload_len, true);
	if (status < 0)
		return SROCE_UC_LATER;
	if (status) {
		/* The receive's own memory is broken: the consumer's error. */
		sroce_uc_recv_cqe(qp, status, SROCE_WC_RECV, 0, pkt);
		sroce_qp_error(qp, 0);
		return SROCE_UC_LATER;
	}
	qp->recv_off += pkt->payload_len;
	if (flags & SROCE_OP_LAST)
		sroce_uc_recv_cqe(qp, IB_WC_SUCCESS, SROCE_WC_RECV,
				  qp->recv_off, pkt);
	return SROCE_UC_DONE;
}

static enum sroce_uc_exec sroce_uc_write_op(struct sroce_qp *qp,
					    const struct sroce_pkt *pkt,
					    const void *payload)
{
	u16 flags = pkt->op->flags;
	enum sroce_uc_exec ret;
	struct sroce_mr *mr;
	int err;

	if (flags & SROCE_OP_FIRST) {
		/* A zero-length WRITE touches no memory: no key to check. */
		if (pkt->reth.dma_len > SROCE_MAX_MSG_SIZE)
			return SROCE_UC_DROPPED;
		if (pkt->reth.dma_len) {
			mr = sroce_resp_mr(qp, pkt->reth.rkey,
					   IB_ACCESS_REMOTE_WRITE,
					   pkt->reth.va, pkt->reth.dma_len);
			if (!mr)
				return SROCE_UC_DROPPED;
			sroce_mr_put(mr);
		}
		qp->write_rkey = pkt->reth.rkey;
		qp->write_va = pkt->reth.va;
		qp->write_left = pkt->reth.dma_len;
		qp->write_len = pkt->reth.dma_len;
	}
	if (pkt->payload_len > qp->write_left ||
	    ((flags & SROCE_OP_LAST) && pkt->payload_len != qp->write_left))
		return SROCE_UC_DROPPED;
	/* The immediate takes a receive, before the last data lands. */
	if (pkt->op->hdrs & SROCE_HDR_IMMDT) {
		ret = sroce_uc_take_rwqe(qp);
		if (ret != SROCE_UC_DONE)
			return ret;
	}
	if (pkt->payload_len) {
		/* Looked up again: the MR may be gone since the first packet. */
		mr = sroce_resp_mr(qp, qp->write_rkey, IB_ACCESS_REMOTE_WRITE,
				   qp->write_va, pkt->payload_len);
		if (!mr)
			return SROCE_UC_DROPPED;
		if (!sroce_mr_reachable(qp, mr)) {
			sroce_mr_put(mr);
			return SROCE_UC_LATER;
		}
		err = sroce_mr_copy(qp, mr, qp->write_va, (void *)payload,
				    pkt->payload_len, true);
		sroce_mr_put(mr);
		if (err == -EWOULDBLOCK)
			return SROCE_UC_LATER;
		if (err)
			return SROCE_UC_DROPPED;
	}
	qp->write_va += pkt->payload_len;
	qp->write_left -= pkt->payload_len;
	if ((flags & SROCE_OP_LAST) && (pkt->op->hdrs & SROCE_HDR_IMMDT))
		sroce_uc_recv_cqe(qp, IB_WC_SUCCESS,
				  SROCE_WC_RECV_RDMA_WITH_IMM, qp->write_len,
				  pkt);
	return SROCE_UC_DONE;
}

/*
 * A SEND or WRITE packet carries a full path MTU unless it is the last of
 * its message, and never more.
 */
static bool sroce_uc_valid(struct sroce_qp *qp, const struct sroce_pkt *pkt)
{
	if (pkt->payload_len > qp->mtu)
		return false;
	return (pkt->op->flags & SROCE_OP_LAST) || pkt->payload_len == qp->mtu;
}

static void sroce_uc_rcv(struct sroce_qp *qp, const struct sroce_pkt *pkt,
			 const void *payload)
{
	struct sroce_uc_rx rx = { .epsn = qp->epsn, .msg = qp->resp_op };
	u16 flags = pkt->op->flags;
	enum sroce_uc_verdict verdict;
	enum sroce_uc_exec ret;

	verdict = sroce_uc_check(&rx, flags, pkt->bth.psn);
	if (verdict != SROCE_UC_NEXT && sroce_uc_abandon(&rx))
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_UC_ABANDONED);
	qp->resp_op = rx.msg;
	if (verdict == SROCE_UC_DROP || !sroce_uc_valid(qp, pkt))
		ret = SROCE_UC_DROPPED;
	else if (flags & SROCE_OP_SEND)
		ret = sroce_uc_send_op(qp, pkt, payload);
	else
		ret = sroce_uc_write_op(qp, pkt, payload);
	if (ret == SROCE_UC_LATER)
		return;
	if (ret == SROCE_UC_DONE) {
		sroce_uc_done(&rx, flags, pkt->bth.psn);
	} else {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_UC_DROPPED);
		sroce_uc_abandon(&rx);
	}
	qp->epsn = rx.epsn;
	qp->resp_op = rx.msg;
}

static void sroce_uc_rx(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_UC_BUDGET;
	struct sroce_pkt pkt;
	struct sk_buff *skb;

	while (budget-- && qp->state >= IB_QPS_RTR && qp->state != IB_QPS_ERR &&
	       (skb = sroce_rxq_pop(qp, &qp->req_rxq))) {
		if (sroce_sched_parse(qp, skb, &pkt))
			sroce_uc_rcv(qp, &pkt, skb->data + pkt.payload_off);
		else
			/* Not from the address the QP is connected to. */
			sroce_stat_inc(qp->sdev, SROCE_STAT_RX_UC_DROPPED);
		if (qp->stalled) {
			sroce_rxq_push_back(qp, &qp->req_rxq, skb);
			return;
		}
		kfree_skb(skb);
	}
	if (!skb_queue_empty(&qp->req_rxq))
		sroce_qp_kick(qp);
}

/* One round of a UC QP: receive, send, or flush in the error state. */
void sroce_uc_round(struct sroce_qp *qp)
{
	sroce_uc_rx(qp);
	if (qp->stalled)
		return;
	if (qp->state == IB_QPS_ERR) {
		sroce_rxq_purge(qp, &qp->req_rxq);
		sroce_rxq_purge(qp, &qp->resp_rxq);
		sroce_req_flush(qp);
		sroce_resp_flush(qp);
		return;
	}
	if (qp->state < IB_QPS_RTS)
		return;
	sroce_uc_send(qp);
	/* Drained once no message is half sent. */
	if (qp->sq_draining && !qp->sq_send_pkt) {
		qp->sq_draining = false;
		if (qp->sq_drained_notify)
			sroce_qp_event(qp, IB_EVENT_SQ_DRAINED);
	}
}
