// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UD QPs and the GSI QP (IBTA 9.8.3, 10.2.5): every message is one
 * datagram, sent with a DETH to the address of its WR's AH and never
 * acknowledged, and taken by the QP it names when its Q_Key matches the
 * QP's.  There is no PSN sequence, no retransmission and no RNR NAK: a
 * datagram with the wrong Q_Key, one that finds no receive posted, and
 * one too long for the receive it finds, are dropped and counted, and
 * leave the receive queue as it was, so no sender can make a UD QP (QP1
 * above all) lose its receives or its state.
 *
 * The receive buffer of a datagram starts with 40 bytes of network
 * header, as the verbs lay out UD receives (the GRH of IB): for RoCEv2
 * the IPv6 header, or the IPv4 header in the last 20 of them.  From it
 * the consumer builds the address to answer to (ib_init_ah_attr_from_wc,
 * ibv_init_ah_from_wc).
 *
 * Runs as the QP's owner (sroce_sched.c), like the RC transport.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "sroce.h"
#include "sroce_link.h"

/* The network header in front of a UD receive's payload. */
#define SROCE_GRH_LEN		40
/* Datagrams received, and sent, per round. */
#define SROCE_UD_BUDGET		64

/* A UD QP's UDP source port: its own, whoever it sends to. */
u16 sroce_ud_src_port(u32 qpn)
{
	return rdma_get_udp_sport(0, qpn, 0);
}

/* The largest UD message: the port's active MTU, as query_port says. */
u32 sroce_ud_mtu(struct sroce_qp *qp)
{
	int ib_mtu = sroce_ib_mtu_for_netdev(READ_ONCE(qp->sdev->ndev->mtu));

	return ib_mtu_enum_to_int(ib_mtu ? ib_mtu : IB_MTU_256);
}

/*
 * Send WQE @s as one datagram.  Returns 0, the local error status that
 * fails it, or -EWOULDBLOCK when only the worker can read its data.
 */
static int sroce_ud_send_one(struct sroce_qp *qp, struct sroce_swqe *s)
{
	struct sroce_pkt pkt = {};
	struct sk_buff *skb;
	void *payload;
	int status = 0;

	pkt.bth.opcode = s->wqe.opcode == IB_UVERBS_WR_SEND_WITH_IMM ?
			 SROCE_UD_SEND_ONLY_IMM : SROCE_UD_SEND_ONLY;
	pkt.bth.se = s->wqe.flags & SROCE_WQE_SOLICITED;
	pkt.bth.pkey = 0xffff;
	pkt.bth.dqpn = s->wqe.ud.remote_qpn & SROCE_PSN_MASK;
	pkt.bth.psn = qp->req_psn;
	/* A Q_Key with the high bit set stands for the QP's own. */
	pkt.deth.qkey = s->wqe.ud.remote_qkey & BIT(31) ? qp->qkey :
			s->wqe.ud.remote_qkey;
	pkt.deth.sqpn = qp->ibqp.qp_num;
	pkt.immdt = be32_to_cpu((__force __be32)s->wqe.imm_data);
	pkt.payload_len = s->length;

	skb = sroce_pkt_alloc(qp, &pkt, &payload);
	if (!skb) {
		/* Lost before the wire: a datagram may be, and UD says so. */
		sroce_stat_inc(qp->sdev, SROCE_STAT_TX_ERR);
		return 0;
	}
	status = sroce_swqe_payload(qp, s, 0, payload, s->length);
	if (status) {
		kfree_skb(skb);
		return status;
	}
	sroce_pkt_send_to(qp, skb, &s->ud_av);
	qp->req_psn = sroce_psn_add(qp->req_psn, 1);
	return 0;
}

/* Send what is posted: each WQE completes once its datagram is out. */
static void sroce_ud_send(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_UD_BUDGET;

	if (qp->state != IB_QPS_RTS || !sroce_req_fetch(qp))
		return;
	while (qp->sq.idx != qp->sq_fetched) {
		struct sroce_swqe *s = &qp->swqe[qp->sq.idx & (qp->sq.num - 1)];
		int status = s->status;

		if (!budget--) {
			sroce_qp_kick(qp);
			break;
		}
		if (!status)
			status = sroce_ud_send_one(qp, s);
		if (status < 0)
			break;		/* for the worker */
		if (status) {
			s->status = status;
			sroce_req_check_failed(qp);
			break;
		}
		sroce_req_retire(qp, IB_WC_SUCCESS);
	}
	qp->sq_send = qp->sq.idx;
	qp->sq_sent_hi = qp->sq.idx;
}

/* The network header that @skb came with, laid out as a UD GRH. */
static void sroce_ud_grh(struct sk_buff *skb, u8 *grh, u16 *flags)
{
	memset(grh, 0, SROCE_GRH_LEN);
	if (ip_hdr(skb)->version == 4) {
		memcpy(grh + SROCE_GRH_LEN - sizeof(struct iphdr), ip_hdr(skb),
		       sizeof(struct iphdr));
		*flags |= SROCE_CQE_IPV4;
	} else {
		memcpy(grh, ipv6_hdr(skb), sizeof(struct ipv6hdr));
	}
}

/*
 * Datagram @pkt, received in @skb: its network header and payload go to
 * the next receive WQE, if its Q_Key is the QP's and it fits.
 */
static void sroce_ud_rcv(struct sroce_qp *qp, const struct sroce_pkt *pkt,
			 const void *payload, struct sk_buff *skb)
{
	struct sroce_cqe cqe = {
		.opcode = SROCE_WC_RECV,
		.src_qp = pkt->deth.sqpn,
		.flags = SROCE_CQE_GRH,
	};
	u8 grh[SROCE_GRH_LEN];
	int ret, status;

	if (pkt->deth.qkey != qp->qkey) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_QKEY_ERR);
		return;
	}
	ret = sroce_resp_take_rwqe(qp);
	if (ret < 0) {
		sroce_qp_error(qp, IB_EVENT_QP_FATAL);
		return;
	}
	if (!ret || qp->rwqe.length < SROCE_GRH_LEN ||
	    pkt->payload_len > qp->rwqe.length - SROCE_GRH_LEN) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_UD_DROPPED);
		return;
	}

	sroce_ud_grh(skb, grh, &cqe.flags);
	status = sroce_sge_copy(qp, qp->rwqe.sge, qp->rwqe.wqe.num_sge, 0, grh,
				SROCE_GRH_LEN, true);
	if (!status)
		status = sroce_sge_copy(qp, qp->rwqe.sge, qp->rwqe.wqe.num_sge,
					SROCE_GRH_LEN, (void *)payload,
					pkt->payload_len, true);
	if (status < 0)
		return;		/* for the worker, which takes it again */

	cqe.status = status;
	if (!status)
		cqe.byte_len = SROCE_GRH_LEN + pkt->payload_len;
	if (pkt->op->hdrs & SROCE_HDR_IMMDT) {
		cqe.flags |= SROCE_CQE_WITH_IMM;
		cqe.ex = (__force u32)cpu_to_be32(pkt->immdt);
	}
	sroce_resp_recv_done(qp, &cqe, pkt->bth.se);
	/* The receive's own memory is broken: the consumer's error. */
	if (status)
		sroce_qp_error(qp, 0);
}

static void sroce_ud_rx(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_UD_BUDGET;
	struct sroce_pkt pkt;
	struct sk_buff *skb;

	while (budget-- && qp->state >= IB_QPS_RTR && qp->state != IB_QPS_ERR &&
	       (skb = sroce_rxq_pop(qp, &qp->req_rxq))) {
		if (!sroce_parse(skb->data, skb->len, &pkt))
			sroce_ud_rcv(qp, &pkt, skb->data + pkt.payload_off, skb);
		if (qp->stalled) {
			sroce_rxq_push_back(qp, &qp->req_rxq, skb);
			return;
		}
		kfree_skb(skb);
	}
	if (!skb_queue_empty(&qp->req_rxq))
		sroce_qp_kick(qp);
}

/* One round of a UD QP: receive, send, or flush in the error state. */
void sroce_ud_round(struct sroce_qp *qp)
{
	sroce_ud_rx(qp);
	if (qp->stalled)
		return;
	if (qp->state == IB_QPS_ERR) {
		sroce_rxq_purge(qp, &qp->req_rxq);
		sroce_rxq_purge(qp, &qp->resp_rxq);
		sroce_req_flush(qp);
		sroce_resp_flush(qp);
		return;
	}
	sroce_ud_send(qp);
	/* A UD send is done once it is out: draining is over at once. */
	if (qp->sq_draining && qp->sq.idx == qp->sq_fetched) {
		qp->sq_draining = false;
		if (qp->sq_drained_notify)
			sroce_qp_event(qp, IB_EVENT_SQ_DRAINED);
	}
}
