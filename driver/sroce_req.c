// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The RC requester: it takes send WQEs from the ring, turns them into
 * request packets, and completes them as ACKs, READ responses and atomic
 * ACKs come back; it resends after a NAK or a timeout (go-back-N, IBTA
 * 9.7.6).  The decisions on ACKs, NAKs and timeouts are sroce_proto.c's;
 * this file keeps the state and acts on them.  Runs as the QP's owner
 * (sroce_sched.c); what needs on-demand pages in softirq is left to the
 * worker, undone: a packet is built again, a response executed again.
 *
 * Ring indices (free-running, in WQEs):
 *   sq.idx <= sq_send <= sq_sent_hi <= sq_fetched <= the provider's prod
 *   sq.idx      oldest WQE not completed; what the provider sees as cons
 *   sq_send     the WQE to transmit next, from its packet sq_send_pkt
 *   sq_sent_hi  one past the furthest WQE with a packet transmitted
 *               (the outstanding ones are sq.idx .. sq_sent_hi)
 *   sq_fetched  next ring slot to copy
 */
#include <linux/jiffies.h>

#include "sroce.h"

/* Request PSNs in flight beyond the last acknowledged one. */
#define SROCE_WINDOW		256
/* A long message asks for an ACK at least this often, to show progress. */
#define SROCE_ACK_EVERY		64
/* Packets sent per round (sroce_sched.c), so that one QP cannot hog a CPU. */
#define SROCE_SEND_BUDGET	64
/* Tail probes per local ACK timeout, at most (sroce_req_tail_probe()). */
#define SROCE_TAIL_PROBES	8
/* READ requests asking again for missing responses, at most, per round. */
#define SROCE_REREAD_MAX	64
/* Doublings, at most, of the wait after rounds that brought nothing. */
#define SROCE_REREAD_BACKOFF_MAX	5
/* Bounds of the smoothed time from asking again to the first answer. */
#define SROCE_RTT_INIT_US	1000
#define SROCE_RTT_MIN_US	20
#define SROCE_RTT_MAX_US	100000

static struct sroce_swqe *sroce_swqe_at(struct sroce_qp *qp, u32 idx)
{
	return &qp->swqe[idx & (qp->sq.num - 1)];
}

/* Index order in the free-running ring counters. */
static bool sroce_idx_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static bool sroce_wqe_is_read(const struct sroce_swqe *s)
{
	return s->wqe.opcode == IB_UVERBS_WR_RDMA_READ;
}

static bool sroce_wqe_is_atomic(const struct sroce_swqe *s)
{
	return s->wqe.opcode == IB_UVERBS_WR_ATOMIC_CMP_AND_SWP ||
	       s->wqe.opcode == IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD;
}

/*
 * ATOMIC WRITE and FLUSH (IBTA 1.5 memory placement): one request packet,
 * answered by a READ RESPONSE ONLY without data, holding a responder
 * resource as a READ does.
 */
static bool sroce_wqe_is_placement(const struct sroce_swqe *s)
{
	return s->wqe.opcode == IB_UVERBS_WR_ATOMIC_WRITE ||
	       s->wqe.opcode == IB_UVERBS_WR_FLUSH;
}

/* Has WQE @s a response of its own, which the responder keeps for it? */
static bool sroce_wqe_needs_response(const struct sroce_swqe *s)
{
	return sroce_wqe_is_read(s) || sroce_wqe_is_atomic(s) ||
	       sroce_wqe_is_placement(s);
}

/* A local operation: executed in order, no packet (sroce_req_local()). */
static bool sroce_wqe_is_local(const struct sroce_swqe *s)
{
	return s->wqe.opcode == IB_UVERBS_WR_LOCAL_INV ||
	       s->wqe.opcode == IB_UVERBS_WR_BIND_MW ||
	       s->wqe.opcode == SROCE_WR_REG_MR;
}

static u8 sroce_wc_opcode(u32 wr_opcode)
{
	switch (wr_opcode) {
	case IB_UVERBS_WR_LOCAL_INV:
		return SROCE_WC_LOCAL_INV;
	case SROCE_WR_REG_MR:
		return SROCE_WC_REG_MR;
	case IB_UVERBS_WR_BIND_MW:
		return SROCE_WC_BIND_MW;
	case IB_UVERBS_WR_RDMA_WRITE:
	case IB_UVERBS_WR_RDMA_WRITE_WITH_IMM:
		return SROCE_WC_RDMA_WRITE;
	case IB_UVERBS_WR_RDMA_READ:
		return SROCE_WC_RDMA_READ;
	case IB_UVERBS_WR_ATOMIC_CMP_AND_SWP:
		return SROCE_WC_COMP_SWAP;
	case IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD:
		return SROCE_WC_FETCH_ADD;
	case IB_UVERBS_WR_ATOMIC_WRITE:
		return SROCE_WC_ATOMIC_WRITE;
	case IB_UVERBS_WR_FLUSH:
		return SROCE_WC_FLUSH;
	default:
		return SROCE_WC_SEND;
	}
}

static void sroce_req_cqe(struct sroce_qp *qp, u64 wr_id, u32 wr_opcode,
			  u32 byte_len, u8 status)
{
	struct sroce_cqe cqe = {
		.wr_id = wr_id,
		.status = status,
		.opcode = sroce_wc_opcode(wr_opcode),
		.byte_len = byte_len,
	};

	sroce_qp_complete(qp, qp->scq, &cqe, false);
}

/* Complete the oldest WQE with @status and hand its slot back. */
void sroce_req_retire(struct sroce_qp *qp, u8 status)
{
	struct sroce_swqe *s = sroce_swqe_at(qp, qp->sq.idx);

	/*
	 * The slot is free before the completion says so: a consumer that
	 * polled the CQE may post into it at once.
	 */
	qp->sq.idx++;
	sroce_queue_publish_cons(&qp->sq);
	if (status || qp->sig_all || (s->wqe.flags & SROCE_WQE_SIGNALED))
		sroce_req_cqe(qp, s->wqe.wr_id, s->wqe.opcode, s->length,
			      status);
}

/* The data of WQE @s: its inline bytes, or its SGE list and length. */
static u8 sroce_req_take_sges(struct sroce_qp *qp, struct sroce_swqe *s,
			      const struct sroce_send_wqe *u)
{
	u64 length = 0;
	unsigned int i;

	if (s->wqe.flags & SROCE_WQE_INLINE) {
		if (s->wqe.inline_len > qp->max_inline)
			return IB_WC_LOC_QP_OP_ERR;
		memcpy(s->inline_data, u->sge, s->wqe.inline_len);
		s->length = s->wqe.inline_len;
		return 0;
	}
	if (s->wqe.num_sge > qp->max_send_sge)
		return IB_WC_LOC_QP_OP_ERR;
	memcpy(s->sge, u->sge, s->wqe.num_sge * sizeof(s->sge[0]));
	for (i = 0; i < s->wqe.num_sge; i++)
		length += s->sge[i].length;
	if (length > SROCE_MAX_MSG_SIZE)
		return IB_WC_LOC_LEN_ERR;
	if (sroce_wqe_is_atomic(s) && length != sizeof(u64))
		return IB_WC_LOC_LEN_ERR;
	s->length = length;
	return 0;
}

/*
 * A UD WQE: a SEND of at most the port's MTU to the address of an AH of
 * the QP's PD, copied now (IBTA 10.2.5: the message of a UD send fits one
 * packet).
 */
static u8 sroce_req_take_ud(struct sroce_qp *qp, struct sroce_swqe *s,
			    const struct sroce_send_wqe *u)
{
	u8 status;

	if (s->wqe.opcode != IB_UVERBS_WR_SEND &&
	    s->wqe.opcode != IB_UVERBS_WR_SEND_WITH_IMM)
		return IB_WC_LOC_QP_OP_ERR;
	if (!sroce_ah_av(qp->sdev, s->wqe.ah, qp->ibqp.pd, &s->ud_av))
		return IB_WC_LOC_QP_OP_ERR;
	status = sroce_req_take_sges(qp, s, u);
	if (!status && s->length > sroce_ud_mtu(qp))
		status = IB_WC_LOC_LEN_ERR;
	return status;
}

/*
 * An ATOMIC WRITE carries its 8 bytes in the WQE itself; a FLUSH names a
 * placement type, a selectivity level and a range of at most one RETH's
 * length.  Neither has local data.
 */
static u8 sroce_req_take_placement(struct sroce_qp *qp, struct sroce_swqe *s)
{
	u8 type = s->wqe.swap & 0xff, level = (s->wqe.swap >> 8) & 0xff;

	/* RC only: UC has no responses, XRC no opcodes for them. */
	if (!SROCE_PLACEMENT || sroce_qp_is_uc(qp) || sroce_qp_is_xrc(qp) ||
	    s->wqe.num_sge ||
	    (s->wqe.flags & SROCE_WQE_INLINE))
		return IB_WC_LOC_QP_OP_ERR;
	if (s->wqe.opcode == IB_UVERBS_WR_ATOMIC_WRITE) {
		s->length = SROCE_ATOMIC_WRITE_LEN;
		return 0;
	}
	if (!type || type & ~(IB_FLUSH_GLOBAL | IB_FLUSH_PERSISTENT) ||
	    level > IB_FLUSH_MR || s->wqe.swap >> 16 ||
	    s->wqe.compare_add > U32_MAX)
		return IB_WC_LOC_QP_OP_ERR;
	s->length = s->wqe.compare_add;
	return 0;
}

/* Which status a WQE fails with, if its fields make no sense. */
static u8 sroce_req_take(struct sroce_qp *qp, struct sroce_swqe *s,
			 const struct sroce_send_wqe *u)
{
	memcpy(&s->wqe, u, sizeof(s->wqe));	/* read the user's slot once */
	s->length = 0;
	if (sroce_qp_is_ud(qp))
		return sroce_req_take_ud(qp, s, u);
	switch (s->wqe.opcode) {
	case SROCE_WR_REG_MR:
		/* The kernel's own (sroce_kverbs.c), for RC QPs. */
		if (!qp->kernel)
			return IB_WC_LOC_QP_OP_ERR;
		fallthrough;
	case IB_UVERBS_WR_LOCAL_INV:
		return sroce_qp_is_uc(qp) ? IB_WC_LOC_QP_OP_ERR : 0;
	case IB_UVERBS_WR_BIND_MW:
		return sroce_qp_is_uc(qp) ? IB_WC_LOC_QP_OP_ERR : 0;
	case IB_UVERBS_WR_SEND_WITH_INV:
		if (sroce_qp_is_uc(qp))
			return IB_WC_LOC_QP_OP_ERR;
		break;
	case IB_UVERBS_WR_SEND:
	case IB_UVERBS_WR_SEND_WITH_IMM:
	case IB_UVERBS_WR_RDMA_WRITE:
	case IB_UVERBS_WR_RDMA_WRITE_WITH_IMM:
	case IB_UVERBS_WR_RDMA_READ:
	case IB_UVERBS_WR_ATOMIC_CMP_AND_SWP:
	case IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD:
		break;
	case IB_UVERBS_WR_ATOMIC_WRITE:
	case IB_UVERBS_WR_FLUSH:
		return sroce_req_take_placement(qp, s);
	default:
		return IB_WC_LOC_QP_OP_ERR;
	}
	/* UC has SENDs and WRITEs only (IBTA 9.8.3). */
	if (sroce_qp_is_uc(qp) && (sroce_wqe_is_read(s) ||
				   sroce_wqe_is_atomic(s)))
		return IB_WC_LOC_QP_OP_ERR;

	if ((s->wqe.flags & SROCE_WQE_INLINE) &&
	    (sroce_wqe_is_read(s) || sroce_wqe_is_atomic(s)))
		return IB_WC_LOC_QP_OP_ERR;
	return sroce_req_take_sges(qp, s, u);
}

/* Packets (for a READ: response packets) of the message of @s. */
static u32 sroce_req_npkts(struct sroce_qp *qp, const struct sroce_swqe *s)
{
	if (sroce_wqe_is_atomic(s) || sroce_wqe_is_placement(s) || !s->length)
		return 1;
	return DIV_ROUND_UP(s->length, qp->mtu);
}

/*
 * Copy the WQEs the provider posted.  Returns false if the ring's producer
 * index is impossible: the QP is then in error.
 */
bool sroce_req_fetch(struct sroce_qp *qp)
{
	u32 prod = sroce_queue_user_prod(&qp->sq);

	if (prod - qp->sq.idx > qp->sq.num ||
	    sroce_idx_before(prod, qp->sq_fetched)) {
		sroce_qp_error(qp, IB_EVENT_QP_FATAL);
		return false;
	}
	while (qp->sq_fetched != prod) {
		struct sroce_swqe *s = sroce_swqe_at(qp, qp->sq_fetched);

		memset(&s->tr, 0, sizeof(s->tr));
		s->status = sroce_req_take(qp, s,
					   sroce_queue_slot(&qp->sq,
							    qp->sq_fetched));
		qp->sq_fetched++;
	}
	return true;
}

/*
 * WQE @s goes on the wire for the first time: it takes its PSNs now, so
 * that the PSNs in flight are those of WQEs actually being sent, however
 * many are posted (IBTA 9.7.1: a requester has fewer than 2^23
 * outstanding).
 */
static void sroce_req_assign_psns(struct sroce_qp *qp, struct sroce_swqe *s)
{
	s->tr.first_psn = qp->req_psn;
	s->tr.last_psn = sroce_psn_add(qp->req_psn, sroce_req_npkts(qp, s) - 1);
	s->tr.needs_response = sroce_wqe_needs_response(s);
	s->resp_psn = qp->req_psn;
}

/*
 * A WQE that failed locally completes with its error once every WQE before
 * it has completed, and takes the QP to the error state.
 */
void sroce_req_check_failed(struct sroce_qp *qp)
{
	struct sroce_swqe *s;

	if (qp->sq.idx == qp->sq_fetched || qp->state == IB_QPS_ERR)
		return;
	s = sroce_swqe_at(qp, qp->sq.idx);
	if (!s->status)
		return;
	sroce_req_retire(qp, s->status);
	sroce_qp_error(qp, 0);
}

/*
 * The local ACK timeout, from now: the timer fires at retrans_due, and
 * every 1/8 of the timeout before it for a tail probe (when that is 2
 * jiffies or more, so that it outlasts a round trip and the responder's
 * reorder hold).
 */
static void sroce_req_arm_timer(struct sroce_qp *qp, bool restart)
{
	u64 ns = sroce_local_ack_timeout_ns(qp->timeout);
	unsigned long full;

	if (qp->sq.idx == qp->sq_sent_hi || !ns || qp->rnr_wait) {
		timer_delete(&qp->retrans_timer);
		return;
	}
	if (!restart && timer_pending(&qp->retrans_timer))
		return;
	full = nsecs_to_jiffies(ns) + 1;
	qp->retrans_due = jiffies + full;
	qp->retrans_tail = full / SROCE_TAIL_PROBES >= 2 ?
			   full / SROCE_TAIL_PROBES : full;
	mod_timer(&qp->retrans_timer, jiffies + qp->retrans_tail);
}

/*
 * Copy bytes [@pos, @pos + @len) of the message @s sends into a packet's
 * @payload: from its inline data or through its SGEs (sroce_sge_copy()'s
 * status).  Every transport's requester fills its packets with this.
 */
int sroce_swqe_payload(struct sroce_qp *qp, const struct sroce_swqe *s,
		       u32 pos, void *payload, u32 len)
{
	if (s->wqe.flags & SROCE_WQE_INLINE) {
		memcpy(payload, s->inline_data + pos, len);
		return 0;
	}
	if (!len)
		return 0;
	return sroce_sge_copy(qp, s->sge, s->wqe.num_sge, pos, payload, len,
			      false);
}

/* The RC opcode of a SEND or WRITE packet (sroce_uc.c makes it UC's). */
u8 sroce_send_opcode(const struct sroce_swqe *s, bool first, bool last)
{
	bool imm = s->wqe.opcode == IB_UVERBS_WR_SEND_WITH_IMM ||
		   s->wqe.opcode == IB_UVERBS_WR_RDMA_WRITE_WITH_IMM;

	if (s->wqe.opcode == IB_UVERBS_WR_SEND_WITH_INV) {
		if (first && last)
			return SROCE_RC_SEND_ONLY_INV;
		if (first)
			return SROCE_RC_SEND_FIRST;
		return last ? SROCE_RC_SEND_LAST_INV : SROCE_RC_SEND_MIDDLE;
	}
	if (s->wqe.opcode == IB_UVERBS_WR_SEND ||
	    s->wqe.opcode == IB_UVERBS_WR_SEND_WITH_IMM) {
		if (first && last)
			return imm ? SROCE_RC_SEND_ONLY_IMM : SROCE_RC_SEND_ONLY;
		if (first)
			return SROCE_RC_SEND_FIRST;
		if (last)
			return imm ? SROCE_RC_SEND_LAST_IMM : SROCE_RC_SEND_LAST;
		return SROCE_RC_SEND_MIDDLE;
	}
	if (first && last)
		return imm ? SROCE_RC_WRITE_ONLY_IMM : SROCE_RC_WRITE_ONLY;
	if (first)
		return SROCE_RC_WRITE_FIRST;
	if (last)
		return imm ? SROCE_RC_WRITE_LAST_IMM : SROCE_RC_WRITE_LAST;
	return SROCE_RC_WRITE_MIDDLE;
}

/* The request of an ATOMIC WRITE or FLUSH WQE (its data: the caller's). */
static void sroce_req_placement_pkt(const struct sroce_swqe *s,
				    struct sroce_pkt *pkt)
{
	pkt->reth.va = s->wqe.remote_addr;
	pkt->reth.rkey = s->wqe.rkey;
	pkt->reth.dma_len = s->length;
	if (s->wqe.opcode == IB_UVERBS_WR_ATOMIC_WRITE) {
		pkt->bth.opcode = SROCE_RC_ATOMIC_WRITE;
		pkt->payload_len = SROCE_ATOMIC_WRITE_LEN;
		return;
	}
	pkt->bth.opcode = SROCE_RC_FLUSH;
	pkt->feth.plt = s->wqe.swap & 0xff;
	pkt->feth.sel = (s->wqe.swap >> 8) & 0xff;
}

/*
 * Build and send packet sq_send_pkt of WQE @s.  Returns 0, the local
 * error status that fails the WQE, or -EWOULDBLOCK when only the worker
 * can build it (nothing has changed then).
 */
static int sroce_req_send_pkt(struct sroce_qp *qp, struct sroce_swqe *s)
{
	u32 k = qp->sq_send_pkt;
	u32 n = sroce_req_npkts(qp, s);
	u32 pos = k * qp->mtu;
	bool new_wqe = qp->sq_send == qp->sq_sent_hi && !k;
	struct sroce_pkt pkt = {};
	struct sk_buff *skb;
	bool last = k == n - 1;
	u32 next_psn;
	void *payload;
	int status = 0;

	if (new_wqe) {
		sroce_req_assign_psns(qp, s);
	} else if (sroce_wqe_is_read(s)) {
		/*
		 * A READ sent again asks only from the first response it
		 * lacks, and one that has them all is not sent again.
		 */
		if (s->tr.responded) {
			qp->sq_send++;
			qp->sq_send_pkt = 0;
			return 0;
		}
		k = max_t(u32, k, sroce_psn_diff(s->resp_psn,
						 s->tr.first_psn));
		pos = k * qp->mtu;
	}
	if (!new_wqe && sroce_psn_diff(sroce_psn_add(s->tr.first_psn, k),
				       qp->req_psn) < 0)
		sroce_stat_inc(qp->sdev, SROCE_STAT_TX_RETRANS);
	pkt.bth.pkey = 0xffff;
	pkt.bth.dqpn = qp->dest_qpn;
	pkt.bth.psn = sroce_psn_add(s->tr.first_psn, k);
	pkt.xrceth.srqn = s->wqe.xrc_srqn;
	pkt.bth.ack_req = last || k % SROCE_ACK_EVERY == SROCE_ACK_EVERY - 1 ||
			  qp->probe != SROCE_PROBE_NONE;

	if (sroce_wqe_is_placement(s)) {
		sroce_req_placement_pkt(s, &pkt);
	} else if (sroce_wqe_is_read(s)) {
		pkt.bth.opcode = SROCE_RC_READ_REQUEST;
		pkt.reth.va = s->wqe.remote_addr + pos;
		pkt.reth.rkey = s->wqe.rkey;
		pkt.reth.dma_len = s->length - pos;
		last = true;	/* the rest of its PSNs are the responses' */
	} else if (sroce_wqe_is_atomic(s)) {
		pkt.bth.opcode = s->wqe.opcode == IB_UVERBS_WR_ATOMIC_CMP_AND_SWP ?
				 SROCE_RC_COMPARE_SWAP : SROCE_RC_FETCH_ADD;
		pkt.atmeth.va = s->wqe.remote_addr;
		pkt.atmeth.rkey = s->wqe.rkey;
		pkt.atmeth.swap_add = s->wqe.opcode ==
			IB_UVERBS_WR_ATOMIC_CMP_AND_SWP ? s->wqe.swap :
							  s->wqe.compare_add;
		pkt.atmeth.compare = s->wqe.compare_add;
	} else {
		pkt.bth.opcode = sroce_send_opcode(s, k == 0, last);
		pkt.bth.se = last && (s->wqe.flags & SROCE_WQE_SOLICITED);
		pkt.payload_len = min(qp->mtu, s->length - pos);
		pkt.reth.va = s->wqe.remote_addr;
		pkt.reth.rkey = s->wqe.rkey;
		pkt.reth.dma_len = s->length;
		pkt.immdt = be32_to_cpu((__force __be32)s->wqe.imm_data);
		pkt.ieth = s->wqe.rkey;
	}

	skb = sroce_pkt_alloc(qp, &pkt, &payload);
	if (!skb)
		return 0;	/* as if lost: the timer recovers */
	if (pkt.bth.opcode == SROCE_RC_ATOMIC_WRITE)
		memcpy(payload, &s->wqe.compare_add, SROCE_ATOMIC_WRITE_LEN);
	else
		status = sroce_swqe_payload(qp, s, pos, payload,
					    pkt.payload_len);
	if (status) {
		kfree_skb(skb);
		return status;
	}
	sroce_pkt_send(qp, skb);
	if (qp->probe == SROCE_PROBE_DUE)
		qp->probe = SROCE_PROBE_OUT;

	/*
	 * req_psn stays one past the newest PSN sent; a READ request sends
	 * for all of its response PSNs at once.
	 */
	next_psn = sroce_wqe_is_read(s) ? sroce_psn_add(s->tr.last_psn, 1) :
		   sroce_psn_add(pkt.bth.psn, 1);
	if (sroce_psn_diff(next_psn, qp->req_psn) > 0)
		qp->req_psn = next_psn;

	/* From its first packet on, the WQE is outstanding. */
	if (!sroce_idx_before(qp->sq_send, qp->sq_sent_hi))
		qp->sq_sent_hi = qp->sq_send + 1;
	if (last) {
		qp->sq_send++;
		qp->sq_send_pkt = 0;
	} else {
		qp->sq_send_pkt++;
	}
	return 0;
}

/* READs and ATOMICs outstanding before WQE @idx. */
static unsigned int sroce_req_rd_atomic_before(struct sroce_qp *qp, u32 idx)
{
	unsigned int count = 0;
	u32 i;

	for (i = qp->sq.idx; i != idx && i != qp->sq_sent_hi; i++) {
		struct sroce_swqe *s = sroce_swqe_at(qp, i);

		if (s->tr.needs_response && !s->tr.responded)
			count++;
	}
	return count;
}

static unsigned int sroce_req_outstanding(struct sroce_qp *qp);

/* May WQE @s at sq_send go on the wire now? */
static bool sroce_req_may_send(struct sroce_qp *qp, struct sroce_swqe *s)
{
	bool new_wqe = qp->sq_send == qp->sq_sent_hi && !qp->sq_send_pkt;
	u32 psn = new_wqe ? qp->req_psn :
		  sroce_psn_add(s->tr.first_psn, qp->sq_send_pkt);

	if (s->status || qp->probe == SROCE_PROBE_OUT)
		return false;
	/*
	 * The window bounds new PSNs.  A PSN sent before was inside it then,
	 * and goes again whatever the window says now: a READ asked again
	 * from deep in its responses has a PSN far past the last one
	 * acknowledged.
	 */
	if (sroce_psn_diff(psn, qp->req_psn) >= 0 &&
	    sroce_psn_diff(psn, qp->acked_psn) > SROCE_WINDOW)
		return false;
	if (!new_wqe)
		return true;		/* a retransmission */
	if (qp->state == IB_QPS_SQD)
		return false;		/* draining: nothing new starts */
	if (sroce_wqe_needs_response(s) &&
	    sroce_req_rd_atomic_outstanding(qp->tr_tmp,
					    sroce_req_outstanding(qp)) >=
	    max_t(u32, qp->max_rd_atomic, 1))
		return false;
	if ((s->wqe.flags & SROCE_WQE_FENCE) &&
	    sroce_req_rd_atomic_before(qp, qp->sq_send))
		return false;
	return true;
}

/*
 * Execute local operation @s at sq_send once every WQE before it has
 * completed (stronger than the fence IBTA asks of a REG_MR or LOCAL_INV
 * after a READ, and what keeps completions in order: it completes at
 * once).  Returns 0 when done, -EAGAIN while it must wait, or the status
 * that fails it: IB_WC_MW_BIND_ERR (IBTA's memory management operation
 * error) for a key that names no fast MR or window of the QP's PD in the
 * right state, or a bind that is not valid.
 */
static int sroce_req_local(struct sroce_qp *qp, struct sroce_swqe *s)
{
	u8 status;

	if (qp->sq_send != qp->sq.idx || qp->state == IB_QPS_SQD)
		return -EAGAIN;
	if (s->wqe.opcode == SROCE_WR_REG_MR)
		status = sroce_mr_fast_reg(qp, s->wqe.rkey, s->wqe.compare_add);
	else if (s->wqe.opcode == IB_UVERBS_WR_BIND_MW)
		status = sroce_mw_bind(qp, &s->wqe);
	else
		status = sroce_mr_invalidate(qp, s->wqe.rkey, false) ?
			 IB_WC_MW_BIND_ERR : 0;
	if (status)
		return status;
	qp->sq_send++;
	qp->sq_sent_hi = qp->sq_send;
	sroce_req_retire(qp, IB_WC_SUCCESS);
	return 0;
}

/* Resend from @psn: back to the outstanding WQE that holds it, if any. */
static void sroce_req_rewind(struct sroce_qp *qp, u32 psn)
{
	u32 i;

	for (i = qp->sq.idx; i != qp->sq_sent_hi; i++) {
		struct sroce_swqe *s = sroce_swqe_at(qp, i);

		if (sroce_psn_diff(psn, s->tr.first_psn) >= 0 &&
		    sroce_psn_diff(psn, s->tr.last_psn) <= 0) {
			qp->sq_send = i;
			qp->sq_send_pkt = sroce_psn_diff(psn, s->tr.first_psn);
			if (sroce_wqe_is_read(s) &&
			    sroce_psn_diff(s->resp_psn, psn) > 0)
				qp->sq_send_pkt = sroce_psn_diff(s->resp_psn,
								 s->tr.first_psn);
			return;
		}
	}
	/*
	 * Every PSN the transport believes lies in an outstanding WQE; one
	 * that does not is ignored rather than skipping anything.
	 */
}

/* The outstanding WQEs' transport view, oldest first, for sroce_proto. */
static unsigned int sroce_req_outstanding(struct sroce_qp *qp)
{
	unsigned int n = qp->sq_sent_hi - qp->sq.idx;
	unsigned int i;

	for (i = 0; i < n; i++)
		qp->tr_tmp[i] = sroce_swqe_at(qp, qp->sq.idx + i)->tr;
	return n;
}

/*
 * Go-back-N resends from where it stands; an ACK that came meanwhile may
 * cover packets not resent yet: go on past them.
 */
static void sroce_req_skip_acked(struct sroce_qp *qp)
{
	struct sroce_req_window w = {
		.acked_psn = qp->acked_psn,
		.next_psn = qp->req_psn,
		.ack_hi = qp->ack_hi,
	};
	struct sroce_swqe *s;
	u32 psn, to;

	if (!sroce_idx_before(qp->sq_send, qp->sq_sent_hi))
		return;
	s = sroce_swqe_at(qp, qp->sq_send);
	psn = sroce_psn_add(s->tr.first_psn, qp->sq_send_pkt);
	to = sroce_req_resume_psn(&w, psn);
	if (to != psn && sroce_psn_diff(to, qp->req_psn) < 0)
		sroce_req_rewind(qp, to);
}

static void sroce_req_apply(struct sroce_qp *qp,
			    const struct sroce_req_verdict *v)
{
	unsigned int i;

	for (i = 0; i < v->completed; i++)
		sroce_req_retire(qp, IB_WC_SUCCESS);
	if (sroce_idx_before(qp->sq_send, qp->sq.idx)) {
		qp->sq_send = qp->sq.idx;
		qp->sq_send_pkt = 0;
	}

	switch (v->action) {
	case SROCE_REQ_RESEND:
		sroce_req_rewind(qp, v->resend_psn);
		break;
	case SROCE_REQ_RNR_WAIT:
		sroce_req_rewind(qp, v->resend_psn);
		qp->rnr_wait = true;
		mod_timer(&qp->rnr_timer,
			  jiffies + usecs_to_jiffies(v->wait_us) + 1);
		break;
	case SROCE_REQ_FAIL:
		sroce_req_retire(qp, v->status);
		sroce_qp_error(qp, 0);
		return;
	default:
		sroce_req_skip_acked(qp);
		break;
	}
	sroce_req_check_failed(qp);
	sroce_req_arm_timer(qp, v->completed || v->action != SROCE_REQ_NONE);
}

/*
 * @answer: the AETH of a READ response or an atomic ACK, which completes
 * its request even when an ACK has named its PSN before.
 */
static void sroce_req_ack(struct sroce_qp *qp, u8 syndrome, u32 psn,
			  bool answer)
{
	struct sroce_req_window w = {
		.acked_psn = qp->acked_psn,
		.next_psn = qp->req_psn,
		.ack_hi = answer ? qp->acked_psn : qp->ack_hi,
	};
	struct sroce_req_verdict v;
	unsigned int n;

	/*
	 * While an RNR NAK is being waited out, the packets that were in
	 * flight behind the refused one draw sequence NAKs from some
	 * responders: they say nothing new and cost no retry.
	 */
	if (qp->rnr_wait && syndrome == sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR))
		return;
	/*
	 * An ACK no newer than one already had (ack_hi) still completes what
	 * it covers, but asks for no READ again: sroce_req_on_ack().
	 */
	n = sroce_req_outstanding(qp);
	sroce_req_on_ack(&qp->retry, &w, qp->tr_tmp, n, syndrome, psn, &v);
	if (v.action == SROCE_REQ_DROP ||
	    (v.action == SROCE_REQ_NONE && !v.completed &&
	     v.acked_psn == qp->acked_psn)) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_RESP_DROPPED);
		return;
	}
	qp->probe = SROCE_PROBE_NONE;	/* the responder is there */
	if ((syndrome & SROCE_AETH_TYPE_MASK) == SROCE_AETH_ACK &&
	    sroce_psn_diff(psn, qp->ack_hi) > 0)
		qp->ack_hi = psn;
	if (v.acked_psn != qp->acked_psn) {
		qp->acked_psn = v.acked_psn;
		if (sroce_psn_diff(qp->acked_psn, qp->ack_hi) > 0)
			qp->ack_hi = qp->acked_psn;
		sroce_req_arm_timer(qp, true);
	}
	sroce_req_apply(qp, &v);
}

/*
 * Nothing was acknowledged for a while: send the newest packet sent again,
 * asking for an ACK.  When the tail of what was sent was lost, or the
 * ACKs or NAK that would have opened the window, the responder's answer
 * (an ACK of all it has, or a sequence NAK for the gap) comes a round
 * trip later instead of at the timeout.  It spends no retry, and what
 * the requester was about to send stays where it was.
 */
static void sroce_req_tail_probe(struct sroce_qp *qp)
{
	u32 send = qp->sq_send, send_pkt = qp->sq_send_pkt;
	enum sroce_probe probe = qp->probe;
	struct sroce_swqe *s;
	int status;

	sroce_req_rewind(qp, sroce_psn_add(qp->req_psn, SROCE_PSN_MASK));
	s = sroce_swqe_at(qp, qp->sq_send);
	/*
	 * Not a READ: it would ask for all of its answer again, and its
	 * missing responses are asked for by the rounds of
	 * sroce_req_hold_check().
	 */
	if (sroce_idx_before(qp->sq_send, qp->sq_sent_hi) &&
	    !sroce_wqe_is_read(s)) {
		qp->probe = SROCE_PROBE_TAIL;
		status = sroce_req_send_pkt(qp, s);
		if (status > 0)
			s->status = status;
	}
	qp->sq_send = send;
	qp->sq_send_pkt = send_pkt;
	qp->probe = probe;
	sroce_req_check_failed(qp);
}

static void sroce_req_reread_round(struct sroce_qp *qp, struct sroce_swqe *s,
				   u64 now);

static void sroce_req_timeout(struct sroce_qp *qp)
{
	struct sroce_req_verdict v;
	unsigned int n = sroce_req_outstanding(qp);
	struct sroce_swqe *s;
	u32 from;

	if (!n)
		return;
	if (time_before(jiffies, qp->retrans_due)) {
		sroce_req_tail_probe(qp);
		mod_timer(&qp->retrans_timer,
			  time_before(jiffies + qp->retrans_tail,
				      qp->retrans_due) ?
			  jiffies + qp->retrans_tail : qp->retrans_due);
		return;
	}
	sroce_stat_inc(qp->sdev, SROCE_STAT_RETRANS_TIMEOUT);
	/* Resend only what was not acknowledged or answered. */
	s = sroce_swqe_at(qp, qp->sq.idx);
	from = sroce_wqe_is_read(s) ? s->resp_psn :
	       sroce_psn_add(qp->acked_psn, 1);
	if (sroce_psn_diff(from, s->tr.first_psn) > 0 &&
	    sroce_psn_diff(from, s->tr.last_psn) <= 0)
		qp->tr_tmp[0].first_psn = from;
	sroce_req_on_timeout(&qp->retry, qp->tr_tmp, n, &v);
	/*
	 * A READ with responses past its first missing one was being
	 * answered: only the runs still missing (its tail among them) are
	 * asked for, each on its own, as in a round of
	 * sroce_req_hold_check().  A READ from the first missing response
	 * to the end would bring again all that came after it, and its
	 * copies, answering the round's request too, would pass for a
	 * reordering path.
	 */
	if (v.action == SROCE_REQ_RESEND && sroce_wqe_is_read(s) &&
	    sroce_psn_diff(qp->rd_seen_hi, s->resp_psn) > 0) {
		sroce_reorder_asked_again(&qp->rd_ro);
		sroce_req_reread_round(qp, s, sroce_now_us());
		sroce_req_arm_timer(qp, true);
		return;
	}
	/*
	 * A timeout means loss, or a path slower than the timeout: a queue
	 * somewhere holds what was sent, and the ACKs behind it.  Sending
	 * the window again would add to that queue each time (until the
	 * retries run out on a path that loses nothing), so only the
	 * oldest packet goes, asking for an ACK; the first response that
	 * comes tells how far to skip, and the rest follows.
	 */
	if (v.action == SROCE_REQ_RESEND)
		qp->probe = SROCE_PROBE_DUE;
	sroce_req_apply(qp, &v);
}

/* The oldest READ or ATOMIC still waiting for its response. */
static struct sroce_swqe *sroce_req_waiting(struct sroce_qp *qp)
{
	u32 i;

	for (i = qp->sq.idx; i != qp->sq_sent_hi; i++) {
		struct sroce_swqe *s = sroce_swqe_at(qp, i);

		if (s->tr.needs_response && !s->tr.responded)
			return s;
	}
	return NULL;
}

/* The outstanding WQE whose PSNs include @psn, if any. */
static struct sroce_swqe *sroce_req_find(struct sroce_qp *qp, u32 psn)
{
	u32 i;

	for (i = qp->sq.idx; i != qp->sq_sent_hi; i++) {
		struct sroce_swqe *s = sroce_swqe_at(qp, i);

		if (sroce_psn_diff(psn, s->tr.first_psn) >= 0 &&
		    sroce_psn_diff(psn, s->tr.last_psn) <= 0)
			return s;
	}
	return NULL;
}

/*
 * Bring the map of READ responses in step with the WQEs waiting for a
 * response.  Its base is the first response the oldest one lacks (that
 * READ's resp_psn, or that ATOMIC's PSN).  Each waiting READ's resp_psn
 * is its first response not received, whatever waits before it (an
 * ATOMIC whose answer was lost does not stop a later READ's responses
 * from counting), and a READ with all of them is answered.  Returns
 * whether a READ's resp_psn moved.
 */
static bool sroce_req_rd_sync(struct sroce_qp *qp)
{
	struct sroce_rd_map *m = &qp->rd_map;
	bool moved = false, oldest = true;
	u32 i;

	for (i = qp->sq.idx; i != qp->sq_sent_hi; i++) {
		struct sroce_swqe *s = sroce_swqe_at(qp, i);
		u32 end, at;

		if (!s->tr.needs_response || s->tr.responded)
			continue;
		if (!sroce_wqe_is_read(s)) {
			if (oldest)
				sroce_rd_map_move(m, s->tr.first_psn);
			oldest = false;
			continue;
		}
		end = sroce_psn_add(s->tr.last_psn, 1);
		if (oldest) {
			/* base <= resp_psn: what lies between was received. */
			sroce_rd_map_move(m, s->resp_psn);
			sroce_rd_map_advance(m);
		}
		/* PSNs before the base count as received. */
		for (at = s->resp_psn; at != end && sroce_rd_map_test(m, at);)
			at = sroce_psn_add(at, 1);
		if (at != s->resp_psn) {
			s->resp_psn = at;
			moved = true;
		}
		if (at == end)
			s->tr.responded = true;
		else
			oldest = false;
	}
	if (oldest)
		sroce_rd_map_move(m, qp->req_psn);
	return moved;
}

/*
 * A READ response or atomic ACK was taken.  Each one says the responder
 * executed every request before its own, so everything before the oldest
 * WQE still waiting for a response is acknowledged, and so is each
 * answered one up to it: the completions follow.
 */
static void sroce_req_answered(struct sroce_qp *qp)
{
	struct sroce_swqe *s;
	bool any = false;
	u32 i, psn = 0;

	if (sroce_req_rd_sync(qp)) {
		sroce_retry_progress(&qp->retry);
		sroce_reorder_filled(&qp->rd_ro);
		sroce_req_arm_timer(qp, true);
	}
	for (i = qp->sq.idx; i != qp->sq_sent_hi; i++) {
		s = sroce_swqe_at(qp, i);
		if (!s->tr.needs_response)
			continue;
		if (!s->tr.responded) {
			if (!any)
				psn = sroce_psn_add(s->tr.first_psn,
						    SROCE_PSN_MASK);
			any = true;
			break;
		}
		psn = s->tr.last_psn;
		any = true;
	}
	if (any && sroce_psn_diff(psn, qp->acked_psn) > 0)
		sroce_req_ack(qp, sroce_aeth_ack(SROCE_AETH_CREDITS_INVALID),
			      psn, true);
}

/* Ask READ @s again for @count responses from @psn. */
static void sroce_req_reread(struct sroce_qp *qp, struct sroce_swqe *s,
			     u32 psn, u32 count)
{
	u32 pos = sroce_psn_diff(psn, s->tr.first_psn) * qp->mtu;
	struct sroce_pkt pkt = {};
	struct sk_buff *skb;
	void *payload;

	pkt.bth.pkey = 0xffff;
	pkt.bth.dqpn = qp->dest_qpn;
	pkt.bth.psn = psn;
	pkt.bth.opcode = SROCE_RC_READ_REQUEST;
	pkt.xrceth.srqn = s->wqe.xrc_srqn;
	pkt.reth.va = s->wqe.remote_addr + pos;
	pkt.reth.rkey = s->wqe.rkey;
	pkt.reth.dma_len = min_t(u64, (u64)count * qp->mtu, s->length - pos);
	skb = sroce_pkt_alloc(qp, &pkt, &payload);
	if (!skb)
		return;		/* the next round asks again */
	sroce_stat_inc(qp->sdev, SROCE_STAT_TX_RETRANS);
	sroce_pkt_send(qp, skb);
}

/*
 * Ask for what the oldest waiting READ still lacks: up to rd_batch runs
 * of missing responses, each with a READ request of its own (the
 * responder answers them in turn).  A round whose first run did not come
 * back suggests a responder that answers only the newest of several
 * (rdma_rxe cuts one answer short for the next): fewer next time.
 */
static void sroce_req_reread_round(struct sroce_qp *qp, struct sroce_swqe *s,
				   u64 now)
{
	u32 from = s->resp_psn, start, count, n = 0;

	if (qp->rd_asked && s->resp_psn == qp->rd_asked_psn) {
		qp->rd_batch = max_t(u8, qp->rd_batch / 2, 1);
		if (qp->rd_backoff < SROCE_REREAD_BACKOFF_MAX)
			qp->rd_backoff++;
	} else {
		qp->rd_batch = min_t(u8, qp->rd_batch * 2, SROCE_REREAD_MAX);
		qp->rd_backoff = 0;
	}
	qp->rd_asked_psn = s->resp_psn;
	while (n < qp->rd_batch &&
	       sroce_rd_map_hole(&qp->rd_map, from, s->tr.last_psn, &start,
				 &count)) {
		sroce_req_reread(qp, s, start, count);
		n++;
		from = sroce_psn_add(start, count);
		if (sroce_psn_diff(from, s->tr.last_psn) > 0)
			break;
	}
	qp->rd_asked = true;
	qp->rd_timed = false;
	qp->rd_asked_us = now;
	qp->rd_last_us = now;
}

/*
 * A READ lacks responses past its resp_psn.  Ask for them again once the
 * responder has had time to finish (nothing came for a while: asked
 * sooner, a responder that starts over for a repeated READ would cut its
 * own answer short), and once the reorder hold says a gap is a loss.
 */
void sroce_req_hold_check(struct sroce_qp *qp)
{
	struct sroce_swqe *s = sroce_req_waiting(qp);
	u64 now = sroce_now_us();
	u32 quiet, idle, wait;

	if (!s || !sroce_wqe_is_read(s) ||
	    sroce_psn_diff(qp->rd_seen_hi, s->tr.first_psn) < 0) {
		/* No READ waits, or none of its responses has come yet. */
		sroce_reorder_filled(&qp->rd_ro);
		qp->rd_asked = false;
		return;
	}
	/*
	 * Each round that brought nothing doubles the wait for the next
	 * (a slow responder has a queue of rounds to answer, and each one
	 * it takes up starts its answer over).
	 */
	quiet = qp->rd_ro.hold_us + (2 * qp->rd_srtt_us << qp->rd_backoff);
	idle = min_t(u64, now - qp->rd_last_us, U32_MAX);
	if (idle < quiet) {
		sroce_hold_arm(qp, quiet - idle);
		return;
	}
	if (!qp->rd_asked &&
	    sroce_psn_diff(qp->rd_seen_hi, s->resp_psn) > 0) {
		/*
		 * Later responses came: a gap, and the hold decides.  One
		 * that opened as resp_psn moved has been open since the
		 * last response at least.
		 */
		if (!qp->rd_ro.open)
			sroce_reorder_ahead(&qp->rd_ro, s->resp_psn,
					    qp->rd_seen_hi, 0, qp->rd_last_us);
		if (!sroce_reorder_due(&qp->rd_ro, now, &wait)) {
			if (wait)
				sroce_hold_arm(qp, wait);
			return;
		}
	}
	sroce_req_reread_round(qp, s, now);
	sroce_hold_arm(qp, quiet);
}

/* A READ or atomic response for PSN @psn arrived now. */
static void sroce_req_heard(struct sroce_qp *qp, u32 psn)
{
	u64 now = sroce_now_us();

	qp->probe = SROCE_PROBE_NONE;
	if (sroce_psn_diff(psn, qp->rd_seen_hi) > 0)
		qp->rd_seen_hi = psn;
	/*
	 * Timed by the first response the round asked for: any other may
	 * belong to an answer that was on its way before the round.
	 */
	if (qp->rd_asked && !qp->rd_timed && psn == qp->rd_asked_psn) {
		u32 rtt = min_t(u64, now - qp->rd_asked_us, SROCE_RTT_MAX_US);

		/* Smoothed as TCP does (RFC 6298), by an eighth. */
		qp->rd_srtt_us = qp->rd_srtt_us - qp->rd_srtt_us / 8 + rtt / 8;
		qp->rd_srtt_us = max_t(u32, qp->rd_srtt_us, SROCE_RTT_MIN_US);
		qp->rd_timed = true;
	}
	qp->rd_last_us = now;
}

/*
 * READ response @psn arrived: it goes where its PSN says in its READ's
 * message, in whatever order it comes.
 */
static void sroce_req_read_resp(struct sroce_qp *qp, struct sroce_pkt *pkt,
				const void *payload)
{
	u32 psn = pkt->bth.psn;
	struct sroce_swqe *s;
	u32 k, n, pos;
	int status;

	sroce_req_rd_sync(qp);
	s = sroce_req_find(qp, psn);
	if (!s || !sroce_wqe_is_read(s))
		goto drop;
	if (s->tr.responded || sroce_psn_diff(psn, s->resp_psn) < 0 ||
	    sroce_rd_map_test(&qp->rd_map, psn)) {
		/*
		 * A copy: the network's, or an answer asked for twice.
		 * The responder is answering still: not quiet.
		 */
		sroce_reorder_duplicate(&qp->rd_ro, psn);
		qp->rd_last_us = sroce_now_us();
		goto drop;
	}
	if (!sroce_rd_map_covers(&qp->rd_map, psn))
		goto drop;	/* too far ahead: asked for again later */
	k = sroce_psn_diff(psn, s->tr.first_psn);
	n = sroce_req_npkts(qp, s);
	pos = k * qp->mtu;
	/*
	 * The payload must fill its place.  The opcode is checked only at
	 * the end: a response asked for again may begin (as FIRST) or end
	 * (as LAST) anywhere in the message, as responders differ.
	 */
	if (pkt->payload_len != min(qp->mtu, s->length - pos) ||
	    (k == n - 1 && !(pkt->op->flags & SROCE_OP_LAST)))
		goto drop;

	status = sroce_sge_copy(qp, s->sge, s->wqe.num_sge, pos,
				(void *)payload, pkt->payload_len, true);
	if (status < 0)
		return;		/* for the worker */
	if (status) {
		s->status = status;
		s->tr.responded = true;
		timer_delete(&qp->retrans_timer);
		sroce_req_check_failed(qp);
		return;
	}
	sroce_rd_map_set(&qp->rd_map, psn);
	if (psn != s->resp_psn) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_HELD);
		/* The hold of a gap in the oldest READ runs from now. */
		if (s == sroce_req_waiting(qp) && !qp->rd_ro.open)
			sroce_reorder_ahead(&qp->rd_ro, s->resp_psn, psn, 0,
					    sroce_now_us());
		/*
		 * The responder is answering: a long answer, with a gap
		 * that is asked for again only once it ends, may take
		 * longer than the timeout.  No retry is refilled (that
		 * takes the gap filled), but the next timeout spends none.
		 */
		sroce_retry_new_data(&qp->retry);
		sroce_req_arm_timer(qp, true);
	}
	sroce_req_heard(qp, psn);
	sroce_req_answered(qp);
	sroce_req_hold_check(qp);
	return;

drop:
	sroce_stat_inc(qp->sdev, SROCE_STAT_RX_RESP_DROPPED);
}

/* The atomic ACK of an ATOMIC, taken in whatever order it comes. */
static void sroce_req_atomic_ack(struct sroce_qp *qp, struct sroce_pkt *pkt)
{
	struct sroce_swqe *s = sroce_req_find(qp, pkt->bth.psn);
	u64 orig = pkt->atmack;
	int status;

	if (!s || !sroce_wqe_is_atomic(s) || s->tr.responded ||
	    (pkt->aeth.syndrome & SROCE_AETH_TYPE_MASK) != SROCE_AETH_ACK) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_RESP_DROPPED);
		return;
	}
	status = sroce_sge_copy(qp, s->sge, s->wqe.num_sge, 0, &orig,
				sizeof(orig), true);
	if (status < 0)
		return;		/* for the worker */
	s->tr.responded = true;
	if (status) {
		s->status = status;
		sroce_req_check_failed(qp);
		return;
	}
	sroce_req_heard(qp, pkt->bth.psn);
	sroce_req_answered(qp);
	sroce_req_hold_check(qp);
}

/*
 * The READ RESPONSE ONLY without data that answers an ATOMIC WRITE or a
 * FLUSH.  False if @pkt is not the answer to one: then it is a READ's.
 */
static bool sroce_req_placement_resp(struct sroce_qp *qp,
				     struct sroce_pkt *pkt)
{
	struct sroce_swqe *s = sroce_req_find(qp, pkt->bth.psn);

	if (!s || !sroce_wqe_is_placement(s))
		return false;
	if (s->tr.responded || pkt->payload_len ||
	    pkt->bth.opcode != SROCE_RC_READ_RESPONSE_ONLY ||
	    (pkt->aeth.syndrome & SROCE_AETH_TYPE_MASK) != SROCE_AETH_ACK) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_RESP_DROPPED);
		return true;
	}
	s->tr.responded = true;
	sroce_req_heard(qp, pkt->bth.psn);
	sroce_req_answered(qp);
	sroce_req_hold_check(qp);
	return true;
}

/* A response packet (ACK, NAK, READ response, atomic ACK) arrived. */
void sroce_req_rcv(struct sroce_qp *qp, struct sroce_pkt *pkt,
		   const void *payload, struct sk_buff *skb)
{
	if (qp->sq.idx == qp->sq_sent_hi) {
		/* Nothing outstanding: stale, or forged. */
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_RESP_DROPPED);
		return;
	}
	if (pkt->op->flags & SROCE_OP_READ) {
		if (!sroce_req_placement_resp(qp, pkt))
			sroce_req_read_resp(qp, pkt, payload);
	} else if (pkt->bth.opcode == SROCE_RC_ATOMIC_ACKNOWLEDGE) {
		sroce_req_atomic_ack(qp, pkt);
	} else {
		sroce_req_ack(qp, pkt->aeth.syndrome, pkt->bth.psn, false);
	}
	sroce_qp_kick(qp);	/* the window may have opened */
}

/* Send what the window and the QP's state allow. */
void sroce_req_run(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_SEND_BUDGET;

	if (test_and_clear_bit(SROCE_EV_TIMEOUT, &qp->events))
		sroce_req_timeout(qp);
	if (test_and_clear_bit(SROCE_EV_RNR_DONE, &qp->events)) {
		qp->rnr_wait = false;
		/*
		 * A receiver that was not ready may still not be: only the
		 * refused packet goes, asking for an ACK, and what follows
		 * it waits for the answer (an ACK, or another RNR NAK).
		 * Sending the window again each time would cost a slow
		 * receiver a window per RNR NAK, and the requester
		 * timeouts while it waded through them.
		 */
		qp->probe = SROCE_PROBE_DUE;
		sroce_req_arm_timer(qp, true);
	}
	if (qp->state == IB_QPS_ERR || qp->rnr_wait)
		return;
	if (qp->state == IB_QPS_RTS && !sroce_req_fetch(qp))
		return;
	sroce_req_check_failed(qp);

	while (qp->state != IB_QPS_ERR && qp->sq_send != qp->sq_fetched) {
		struct sroce_swqe *s = sroce_swqe_at(qp, qp->sq_send);
		int status;

		if (!budget) {
			sroce_qp_kick(qp);
			break;
		}
		if (sroce_wqe_is_local(s) && !s->status)
			status = sroce_req_local(qp, s);
		else if (sroce_req_may_send(qp, s))
			status = sroce_req_send_pkt(qp, s);
		else
			break;
		if (status < 0)
			break;	/* for the worker, or a local op waits */
		if (status) {
			s->status = status;
			sroce_req_check_failed(qp);
			break;
		}
		budget--;
	}
	sroce_req_arm_timer(qp, false);
}

/* The ERR state: every WQE not completed completes as flushed. */
void sroce_req_flush(struct sroce_qp *qp)
{
	u32 prod = sroce_queue_user_prod(&qp->sq);

	while (qp->sq.idx != qp->sq_fetched)
		sroce_req_retire(qp, IB_WC_WR_FLUSH_ERR);
	qp->sq_send = qp->sq.idx;
	qp->sq_sent_hi = qp->sq.idx;
	qp->sq_send_pkt = 0;

	/* Posted but never taken: flush straight from the ring. */
	if (prod - qp->sq.idx > qp->sq.num)
		return;		/* a broken producer index: nothing to trust */
	while (qp->sq.idx != prod) {
		const struct sroce_send_wqe *u = sroce_queue_slot(&qp->sq,
								  qp->sq.idx);

		u64 wr_id = READ_ONCE(u->wr_id);
		u32 opcode = READ_ONCE(u->opcode);

		qp->sq.idx++;
		sroce_queue_publish_cons(&qp->sq);
		sroce_req_cqe(qp, wr_id, opcode, 0, IB_WC_WR_FLUSH_ERR);
	}
	qp->sq_fetched = qp->sq.idx;
	qp->sq_send = qp->sq.idx;
	qp->sq_sent_hi = qp->sq.idx;
}

/* The READ-response state of a QP about to send from PSN req_psn. */
void sroce_req_rd_init(struct sroce_qp *qp)
{
	sroce_rd_map_reset(&qp->rd_map, qp->req_psn);
	sroce_reorder_init(&qp->rd_ro);
	qp->rd_seen_hi = sroce_psn_add(qp->req_psn, SROCE_PSN_MASK);
	qp->rd_srtt_us = SROCE_RTT_INIT_US;
	qp->rd_batch = SROCE_REREAD_MAX;
	qp->rd_backoff = 0;
	qp->rd_asked = false;
}

/* RESET: the posted WQEs are dropped without completions. */
void sroce_req_reset(struct sroce_qp *qp)
{
	u32 prod = READ_ONCE(qp->sq.hdr->prod);

	if (prod - qp->sq.idx <= qp->sq.num)
		qp->sq.idx = prod;
	sroce_queue_publish_cons(&qp->sq);
	qp->sq_fetched = qp->sq.idx;
	qp->sq_send = qp->sq.idx;
	qp->sq_sent_hi = qp->sq.idx;
	qp->sq_send_pkt = 0;
	qp->rnr_wait = false;
	qp->probe = SROCE_PROBE_NONE;
	sroce_req_rd_init(qp);
	qp->sq_draining = false;
}

void sroce_retrans_timer_fn(struct timer_list *t)
{
	struct sroce_qp *qp = timer_container_of(qp, t, retrans_timer);

	set_bit(SROCE_EV_TIMEOUT, &qp->events);
	sroce_qp_kick(qp);
}

void sroce_rnr_timer_fn(struct timer_list *t)
{
	struct sroce_qp *qp = timer_container_of(qp, t, rnr_timer);

	set_bit(SROCE_EV_RNR_DONE, &qp->events);
	sroce_qp_kick(qp);
}
