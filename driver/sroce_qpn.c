// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The QP table: QP numbers, and the receive path's way from a packet to
 * the queue of its QP.
 */
#include <rdma/ib_cache.h>

#include "sroce.h"

/*
 * QPs by number, for the receive path.  QP numbers are unique across all
 * sroce devices, so a packet needs no device lookup.  The xarray's lock is
 * taken with bottom halves disabled; a reference taken under it keeps the
 * QP alive (see sroce_qp.ref).  A number is reserved (NULL) while its QP
 * is being created and holds the QP only once nothing can fail.
 */
static DEFINE_XARRAY_FLAGS(sroce_qps, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_BH);
static u32 sroce_qp_next;

/*
 * Every device's GSI QP (QP1) is number 1, so the receive path finds it
 * by device, on this list (of sroce_qp.gsi_entry; one QP per device at
 * most).  The list is protected by sroce_qps' lock, which is also the one
 * that the receive path takes a reference under.
 */
static LIST_HEAD(sroce_gsi_qps);

int sroce_qpn_reserve(u32 *qpn)
{
	int err;

	err = xa_alloc_cyclic_bh(&sroce_qps, qpn, NULL,
				 XA_LIMIT(SROCE_FIRST_QPN,
					  SROCE_FIRST_QPN + SROCE_MAX_QP - 1),
				 &sroce_qp_next, GFP_KERNEL);
	return err < 0 ? err : 0;
}

/* The number is reserved: storing into its slot allocates nothing. */
void sroce_qpn_publish(struct sroce_qp *qp)
{
	xa_store_bh(&sroce_qps, qp->ibqp.qp_num, qp, GFP_KERNEL);
}

void sroce_qpn_remove(u32 qpn)
{
	xa_erase_bh(&sroce_qps, qpn);
}

/* Make @qp its device's QP1; -EBUSY if the device has one. */
int sroce_gsi_publish(struct sroce_qp *qp)
{
	struct sroce_qp *other;
	int err = 0;

	xa_lock_bh(&sroce_qps);
	list_for_each_entry(other, &sroce_gsi_qps, gsi_entry) {
		if (other->sdev == qp->sdev)
			err = -EBUSY;
	}
	if (!err)
		list_add_tail(&qp->gsi_entry, &sroce_gsi_qps);
	xa_unlock_bh(&sroce_qps);
	return err;
}

void sroce_gsi_remove(struct sroce_qp *qp)
{
	xa_lock_bh(&sroce_qps);
	list_del(&qp->gsi_entry);
	xa_unlock_bh(&sroce_qps);
}

void sroce_qp_put(struct sroce_qp *qp)
{
	if (refcount_dec_and_test(&qp->ref))
		complete(&qp->released);
}

struct sk_buff *sroce_rxq_pop(struct sroce_qp *qp, struct sk_buff_head *q)
{
	struct sk_buff *skb = skb_dequeue(q);

	if (skb)
		atomic_dec(&qp->sdev->rx_queued);
	return skb;
}

/* Put back a packet just popped, for the worker to execute first. */
void sroce_rxq_push_back(struct sroce_qp *qp, struct sk_buff_head *q,
			 struct sk_buff *skb)
{
	atomic_inc(&qp->sdev->rx_queued);
	skb_queue_head(q, skb);
}

void sroce_rxq_purge(struct sroce_qp *qp, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = sroce_rxq_pop(qp, q)))
		kfree_skb(skb);
}

/*
 * May QP @qp take a packet that arrived on @ndev through the sockets @udp?
 * Only packets of its own device's netdev (or looped back from a local
 * address) and namespace reach it, so one container cannot inject into
 * another's QPs, however their addresses are set.
 */
static bool sroce_qp_rx_allowed(struct sroce_qp *qp, struct sroce_udp *udp,
				struct net_device *ndev)
{
	return qp->sdev->udp == udp &&
	       (ndev == qp->sdev->ndev || (ndev->flags & IFF_LOOPBACK));
}

/*
 * Is the destination address of @skb, which came in through loopback, a
 * GID of @sdev?  Then @sdev is the device it was sent to.
 */
static bool sroce_dev_has_daddr(struct sroce_dev *sdev, struct sk_buff *skb)
{
	const struct ib_gid_attr *attr;
	union ib_gid gid;

	memcpy(gid.raw, &sroce_skb_cb(skb)->daddr, sizeof(gid.raw));
	attr = rdma_find_gid_by_port(&sdev->ibdev, &gid,
				     IB_GID_TYPE_ROCE_UDP_ENCAP, SROCE_PORT,
				     NULL);
	if (IS_ERR(attr))
		return false;
	rdma_put_gid_attr(attr);
	return true;
}

/*
 * The QP1 that @skb is for: that of the device on the netdev it came in
 * on, or for a packet looped back from a local address, of the device
 * whose GID it was sent to.  Under sroce_qps' lock.
 */
static struct sroce_qp *sroce_gsi_find(struct sroce_udp *udp,
				       struct sk_buff *skb)
{
	bool loopback = skb->dev->flags & IFF_LOOPBACK;
	struct sroce_qp *qp;

	list_for_each_entry(qp, &sroce_gsi_qps, gsi_entry) {
		if (qp->sdev->udp != udp)
			continue;
		if (loopback ? sroce_dev_has_daddr(qp->sdev, skb) :
			       skb->dev == qp->sdev->ndev)
			return qp;
	}
	return NULL;
}

/*
 * Softirq: queue @skb, which carries @pkt, to @qp (a reference the caller
 * took, which this drops) for its responder if a request, for its
 * requester if a response, and run the QP.  A QP that cannot take it now
 * (its state, or full queues) drops it here, and counts that, and so
 * does a QP of another transport (RC, UC or UD).  Consumes @skb.
 */
void sroce_qp_deliver(struct sroce_qp *qp, const struct sroce_pkt *pkt,
		      struct sk_buff *skb)
{
	bool request = pkt->op->flags & SROCE_OP_REQUEST;
	bool ud = pkt->op->hdrs & SROCE_HDR_DETH;
	bool uc = sroce_opcode_transport(pkt->bth.opcode) == SROCE_TRANSPORT_UC;
	struct sk_buff_head *q;
	enum ib_qp_state state;

	if (ud != sroce_qp_is_ud(qp)) {
		sroce_stat_inc(qp->sdev, ud ? SROCE_STAT_RX_UD_DROPPED :
					      SROCE_STAT_RX_QP_NOT_READY);
		goto drop;
	}
	if (uc != sroce_qp_is_uc(qp)) {
		sroce_stat_inc(qp->sdev, uc ? SROCE_STAT_RX_UC_DROPPED :
					      SROCE_STAT_RX_QP_NOT_READY);
		goto drop;
	}
	if (!sroce_xrc_deliverable(qp, pkt)) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_QP_NOT_READY);
		goto drop;
	}
	/* The owner checks again; this only sheds load. */
	state = READ_ONCE(qp->state);
	if (state < IB_QPS_RTR || state == IB_QPS_ERR ||
	    (!request && state == IB_QPS_RTR)) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_RX_QP_NOT_READY);
		goto drop;
	}
	q = request ? &qp->req_rxq : &qp->resp_rxq;
	if (skb_queue_len(q) >= SROCE_RXQ_MAX)
		goto full;
	if (atomic_inc_return(&qp->sdev->rx_queued) > SROCE_DEV_RXQ_MAX) {
		atomic_dec(&qp->sdev->rx_queued);
		goto full;
	}
	sroce_stat_inc(qp->sdev, SROCE_STAT_RX_PKTS);
	atomic64_add(skb->len / 4, sroce_stat(qp->sdev, SROCE_STAT_RX_WORDS));
	skb_queue_tail(q, skb);
	sroce_qp_kick(qp);
	sroce_qp_put(qp);
	return;

full:
	sroce_stat_inc(qp->sdev, SROCE_STAT_RX_QUEUE_FULL);
drop:
	kfree_skb(skb);
	sroce_qp_put(qp);
}

/*
 * Softirq: hand a packet that passed the stateless checks to the QP it
 * names (or to the QPs of the multicast group it was sent to).  Returns
 * -ENOENT, leaving the packet to the caller, if there is no such QP on
 * this device.
 */
int sroce_qp_rcv(struct sroce_udp *udp, const struct sroce_pkt *pkt,
		 struct sk_buff *skb)
{
	struct sroce_qp *qp;

	if (pkt->bth.dqpn == SROCE_MCAST_QPN)
		return sroce_mcast_rcv(udp, pkt, skb);

	xa_lock(&sroce_qps);
	if (pkt->bth.dqpn == SROCE_GSI_QPN)
		qp = sroce_gsi_find(udp, skb);
	else
		qp = xa_load(&sroce_qps, pkt->bth.dqpn);
	if (qp && sroce_qp_rx_allowed(qp, udp, skb->dev))
		refcount_inc(&qp->ref);
	else
		qp = NULL;
	xa_unlock(&sroce_qps);
	if (!qp)
		return -ENOENT;
	sroce_qp_deliver(qp, pkt, skb);
	return 0;
}
