// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RC queue pairs: create, modify (the IBTA state machine and its attribute
 * checks), query and destroy; the global QP number table through which
 * received packets find their QP; and the per-QP work item that runs the
 * transport.
 *
 * Concurrency in one rule: all of a QP's state belongs to qp->mutex.  The
 * receive path (softirq) only queues packets to qp->rxq; timers and
 * doorbells only set event bits and queue the work item; the work item
 * runs the requester (sroce_req.c), responder (sroce_resp.c) and
 * completions under the mutex, one run at a time.
 */
#include <linux/log2.h>
#include <linux/slab.h>
#include <rdma/uverbs_ioctl.h>

#include "sroce.h"

struct workqueue_struct *sroce_wq;

/*
 * QPs by number, for the receive path.  QP numbers are unique across all
 * sroce devices, so a packet needs no device lookup.  The xarray's lock is
 * taken with bottom halves disabled; a reference taken under it keeps the
 * QP alive (see sroce_qp.ref).
 */
static DEFINE_XARRAY_FLAGS(sroce_qps, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_BH);
static u32 sroce_qp_next;

/*
 * Received packets waiting for a QP's work item: at most SROCE_RXQ_MAX in
 * each of its two queues, and SROCE_DEV_RXQ_MAX for the whole device, so a
 * flood at one QP or many cannot pin unbounded memory.
 */
#define SROCE_RXQ_MAX		512
#define SROCE_DEV_RXQ_MAX	16384

/* Packets of received requests or responses handled per work item run. */
#define SROCE_RX_BUDGET		64

static void sroce_qp_put(struct sroce_qp *qp)
{
	if (refcount_dec_and_test(&qp->ref))
		complete(&qp->released);
}

void sroce_qp_kick(struct sroce_qp *qp)
{
	queue_work(sroce_wq, &qp->work);
}

static struct sk_buff *sroce_rxq_pop(struct sroce_qp *qp,
				     struct sk_buff_head *q)
{
	struct sk_buff *skb = skb_dequeue(q);

	if (skb)
		atomic_dec(&qp->sdev->rx_queued);
	return skb;
}

static void sroce_rxq_purge(struct sroce_qp *qp, struct sk_buff_head *q)
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
 * Softirq: hand a packet that passed the stateless checks to QP @qpn, a
 * request (for its responder) or a response (for its requester).  A QP
 * that cannot take it now (its state, or full queues) drops it here, and
 * counts that.  Returns -ENOENT, leaving the packet to the caller, if
 * there is no such QP on this device.
 */
int sroce_qp_rcv(struct sroce_udp *udp, u32 qpn, bool request,
		 struct sk_buff *skb)
{
	struct sk_buff_head *q;
	enum ib_qp_state state;
	struct sroce_qp *qp;

	xa_lock(&sroce_qps);
	qp = xa_load(&sroce_qps, qpn);
	if (qp && sroce_qp_rx_allowed(qp, udp, skb->dev))
		refcount_inc(&qp->ref);
	else
		qp = NULL;
	xa_unlock(&sroce_qps);
	if (!qp)
		return -ENOENT;

	/* The work item checks again under the mutex; this only sheds load. */
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
	skb_queue_tail(q, skb);
	sroce_qp_kick(qp);
	sroce_qp_put(qp);
	return 0;

full:
	sroce_stat_inc(qp->sdev, SROCE_STAT_RX_QUEUE_FULL);
drop:
	kfree_skb(skb);
	sroce_qp_put(qp);
	return 0;
}

static void sroce_qp_event(struct sroce_qp *qp, enum ib_event_type type)
{
	struct ib_event event = {
		.device = qp->ibqp.device,
		.element.qp = &qp->ibqp,
		.event = type,
	};

	if (qp->ibqp.event_handler)
		qp->ibqp.event_handler(&event, qp->ibqp.qp_context);
}

/*
 * Move @qp to the error state (if it is not there) and let the work item
 * flush its queues; @event tells the QP's owner why.  0 (IB_EVENT_CQ_ERR,
 * never a QP event) means no event: the owner asked for the state or will
 * learn from a completion.
 */
void sroce_qp_error(struct sroce_qp *qp, enum ib_event_type event)
{
	if (qp->state == IB_QPS_ERR)
		return;
	sroce_qp_set_state(qp, IB_QPS_ERR);
	WRITE_ONCE(qp->sq.hdr->kstate, SROCE_KSTATE_QP_ERR);
	WRITE_ONCE(qp->rq.hdr->kstate, SROCE_KSTATE_QP_ERR);
	/*
	 * A poster publishes prod and then reads kstate; the flush writes
	 * kstate and then reads prod.  Each side needs a full barrier
	 * between its store and its load (pairs with the provider's fence in
	 * post_recv), or a receive posted now is neither flushed here nor
	 * doorbelled there.
	 */
	smp_mb();
	timer_delete(&qp->retrans_timer);
	timer_delete(&qp->rnr_timer);
	if (event)
		sroce_qp_event(qp, event);
	sroce_qp_kick(qp);
}

/*
 * Post a completion of @qp's work, filling in what every CQE shares.  An
 * error completion raises the event even on a CQ armed for solicited
 * completions only (IBTA 11.4.2.2).  A CQ that overflows is in error, and
 * so is every QP that completes on it.
 */
void sroce_qp_complete(struct sroce_qp *qp, struct sroce_cq *cq,
		       struct sroce_cqe *cqe, bool solicited)
{
	cqe->qp_num = qp->ibqp.qp_num;
	if (sroce_cq_post(cq, &qp->ibqp, cqe, solicited || cqe->status))
		sroce_qp_error(qp, IB_EVENT_QP_FATAL);
}

/* Is a received packet from and to the addresses @qp is connected with? */
static bool sroce_qp_addr_ok(struct sroce_qp *qp, struct sk_buff *skb)
{
	struct sroce_skb_cb *cb = sroce_skb_cb(skb);

	return ipv6_addr_equal(&cb->saddr, &qp->av.daddr) &&
	       ipv6_addr_equal(&cb->daddr, &qp->av.saddr);
}

/* Parse a received packet again, for its QP's work. */
static bool sroce_qp_parse(struct sroce_qp *qp, struct sk_buff *skb,
			   struct sroce_pkt *pkt)
{
	return !sroce_parse(skb->data, skb->len, pkt) &&
	       sroce_qp_addr_ok(qp, skb);
}

/*
 * Requests and responses wait in queues of their own, so that ACKs and
 * READ responses never wait behind a long READ being answered, nor
 * requests behind a requester's backlog.
 */
static void sroce_qp_rx_responses(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_RX_BUDGET;
	struct sroce_pkt pkt;
	struct sk_buff *skb;

	while (budget-- && qp->state >= IB_QPS_RTS && qp->state != IB_QPS_ERR &&
	       (skb = sroce_rxq_pop(qp, &qp->resp_rxq))) {
		if (sroce_qp_parse(qp, skb, &pkt))
			sroce_req_rcv(qp, &pkt, skb->data + pkt.payload_off);
		kfree_skb(skb);
	}
}

/* Requests looked at for a repeated READ while an answer goes out. */
#define SROCE_REREAD_SCAN	64

/*
 * While a READ is being answered, the requests behind it wait for its
 * responses to go out, except a repeated READ: its requester lost part
 * of an answer and asks again from there, and waiting for the rest of the
 * old answer (which it drops) would only cost it timeouts.  Take the
 * first repeated READ out of the queue, if there is one.
 */
static struct sk_buff *sroce_qp_take_reread(struct sroce_qp *qp)
{
	struct sk_buff_head *q = &qp->req_rxq;
	unsigned int scan = SROCE_REREAD_SCAN;
	struct sk_buff *skb, *found = NULL;
	struct sroce_pkt pkt;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	skb_queue_walk(q, skb) {
		if (!scan--)
			break;
		if (!sroce_parse(skb->data, skb->len, &pkt) &&
		    pkt.bth.opcode == SROCE_RC_READ_REQUEST &&
		    sroce_rsp_check_psn(qp->epsn, pkt.bth.psn) ==
		    SROCE_PSN_DUPLICATE) {
			__skb_unlink(skb, q);
			found = skb;
			break;
		}
	}
	spin_unlock_irqrestore(&q->lock, flags);
	if (found)
		atomic_dec(&qp->sdev->rx_queued);
	return found;
}

static void sroce_qp_rx_requests(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_RX_BUDGET;
	struct sroce_pkt pkt;
	struct sk_buff *skb;

	while (budget-- && qp->state >= IB_QPS_RTR && qp->state != IB_QPS_ERR) {
		/*
		 * A READ being answered goes out before what was asked after
		 * it; sroce_resp_run() queues the work again while it lasts.
		 */
		if (qp->rd_cur && sroce_resp_run(qp))
			skb = sroce_qp_take_reread(qp);
		else
			skb = sroce_rxq_pop(qp, &qp->req_rxq);
		if (!skb)
			break;
		if (sroce_qp_parse(qp, skb, &pkt))
			sroce_resp_rcv(qp, &pkt, skb->data + pkt.payload_off);
		kfree_skb(skb);
	}
}

static void sroce_qp_work(struct work_struct *work)
{
	struct sroce_qp *qp = container_of(work, struct sroce_qp, work);

	mutex_lock(&qp->mutex);
	if (qp->destroyed)
		goto unlock;
	sroce_qp_rx_responses(qp);
	sroce_qp_rx_requests(qp);
	if (qp->state == IB_QPS_ERR) {
		sroce_rxq_purge(qp, &qp->req_rxq);
		sroce_rxq_purge(qp, &qp->resp_rxq);
		sroce_req_flush(qp);
		sroce_resp_flush(qp);
	} else if (qp->state >= IB_QPS_RTS) {
		sroce_req_run(qp);
		if (qp->sq_draining && qp->sq.idx == qp->sq_sent_hi) {
			qp->sq_draining = false;
			if (qp->sq_drained_notify)
				sroce_qp_event(qp, IB_EVENT_SQ_DRAINED);
		}
	}
	if (!skb_queue_empty(&qp->resp_rxq) ||
	    (!skb_queue_empty(&qp->req_rxq) && !qp->rd_cur))
		sroce_qp_kick(qp);
unlock:
	mutex_unlock(&qp->mutex);
}

int sroce_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		    struct ib_udata *udata)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	struct sroce_create_qp_resp resp = {};
	struct ib_qp_cap *cap = &init->cap;
	u32 room, sq_stride, rq_stride;
	u32 qpn;
	int err;

	if (init->qp_type != IB_QPT_RC || init->srq || init->create_flags)
		return -EOPNOTSUPP;
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
	qp->sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	sroce_qp_set_state(qp, IB_QPS_RESET);
	qp->path_mtu = IB_MTU_1024;
	qp->mtu = 1024;
	refcount_set(&qp->ref, 1);
	init_completion(&qp->released);
	mutex_init(&qp->mutex);
	skb_queue_head_init(&qp->req_rxq);
	skb_queue_head_init(&qp->resp_rxq);
	INIT_WORK(&qp->work, sroce_qp_work);
	timer_setup(&qp->retrans_timer, sroce_retrans_timer_fn, 0);
	timer_setup(&qp->rnr_timer, sroce_rnr_timer_fn, 0);

	/* A send slot holds the larger of the SGE list and the inline data. */
	room = max_t(u32, max(cap->max_send_sge, 1U) * sizeof(struct sroce_sge),
		     cap->max_inline_data);
	room = ALIGN(room, sizeof(struct sroce_sge));
	sq_stride = sizeof(struct sroce_send_wqe) + room;
	qp->max_send_sge = min_t(u32, room / sizeof(struct sroce_sge),
				 SROCE_MAX_SGE);
	qp->max_inline = min_t(u32, room, SROCE_MAX_INLINE);
	qp->max_recv_sge = max(cap->max_recv_sge, 1U);
	rq_stride = sizeof(struct sroce_recv_wqe) +
		    qp->max_recv_sge * sizeof(struct sroce_sge);

	err = sroce_queue_init(&qp->sq,
			       roundup_pow_of_two(max(cap->max_send_wr, 1U)),
			       sq_stride, udata, &resp.sq);
	if (err)
		return err;
	err = sroce_queue_init(&qp->rq,
			       roundup_pow_of_two(max(cap->max_recv_wr, 1U)),
			       rq_stride, udata, &resp.rq);
	if (err)
		goto err_sq;

	err = -ENOMEM;
	qp->swqe = kvcalloc(qp->sq.num, sizeof(*qp->swqe), GFP_KERNEL);
	if (!qp->swqe)
		goto err_rq;
	qp->tr_tmp = kvcalloc(qp->sq.num, sizeof(*qp->tr_tmp), GFP_KERNEL);
	if (!qp->tr_tmp)
		goto err_swqe;
	qp->rd_res.slot = kcalloc(SROCE_MAX_RD_ATOMIC,
				  sizeof(*qp->rd_res.slot), GFP_KERNEL);
	if (!qp->rd_res.slot)
		goto err_tr;
	qp->rd_res.size = 1;

	cap->max_send_wr = qp->sq.num;
	cap->max_recv_wr = qp->rq.num;
	cap->max_send_sge = qp->max_send_sge;
	cap->max_recv_sge = qp->max_recv_sge;
	cap->max_inline_data = qp->max_inline;

	/*
	 * Reserve the number, and publish the QP to the receive path only
	 * when nothing can fail any more: until then no packet, and so no
	 * reference or work, can reach it.
	 */
	err = xa_alloc_cyclic_bh(&sroce_qps, &qpn, NULL,
				 XA_LIMIT(SROCE_FIRST_QPN,
					  SROCE_FIRST_QPN + SROCE_MAX_QP - 1),
				 &sroce_qp_next, GFP_KERNEL);
	if (err < 0)
		goto err_rd_res;
	ibqp->qp_num = qpn;

	if (udata) {
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_xa;
	}
	/* The slot is reserved: storing into it allocates nothing. */
	xa_store_bh(&sroce_qps, qpn, qp, GFP_KERNEL);
	return 0;

err_xa:
	xa_erase_bh(&sroce_qps, qpn);
err_rd_res:
	kfree(qp->rd_res.slot);
err_tr:
	kvfree(qp->tr_tmp);
err_swqe:
	kvfree(qp->swqe);
err_rq:
	sroce_queue_destroy(&qp->rq);
err_sq:
	sroce_queue_destroy(&qp->sq);
	return err;
}

/* Forget all work and transport state, as the RESET state demands. */
static void sroce_qp_reset(struct sroce_qp *qp)
{
	timer_delete(&qp->retrans_timer);
	timer_delete(&qp->rnr_timer);
	sroce_rxq_purge(qp, &qp->req_rxq);
	sroce_rxq_purge(qp, &qp->resp_rxq);
	qp->events = 0;
	sroce_req_reset(qp);
	sroce_resp_reset(qp);
	WRITE_ONCE(qp->sq.hdr->kstate, 0);
	WRITE_ONCE(qp->rq.hdr->kstate, 0);
}

#define SROCE_QP_ATTR_SUPPORTED (IB_QP_STATE | IB_QP_CUR_STATE | \
	IB_QP_EN_SQD_ASYNC_NOTIFY | IB_QP_ACCESS_FLAGS | IB_QP_PKEY_INDEX | \
	IB_QP_PORT | IB_QP_AV | IB_QP_PATH_MTU | IB_QP_TIMEOUT | \
	IB_QP_RETRY_CNT | IB_QP_RNR_RETRY | IB_QP_RQ_PSN | \
	IB_QP_MAX_QP_RD_ATOMIC | IB_QP_MIN_RNR_TIMER | IB_QP_SQ_PSN | \
	IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_PATH_MIG_STATE | IB_QP_DEST_QPN)

#define SROCE_QP_ACCESS	(IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ | \
			 IB_ACCESS_REMOTE_ATOMIC)
/*
 * Accepted and without effect: LOCAL_WRITE and ON_DEMAND mean nothing on a
 * QP (ODP is the MR's business), and sroce offers no FLUSH, so a FLUSH
 * request gets an invalid request NAK whatever the QP allows (rdma-core's
 * tests ask for these on QPs).
 */
#define SROCE_QP_ACCESS_IGNORED	(IB_ACCESS_LOCAL_WRITE | \
				 IB_ACCESS_ON_DEMAND | \
				 IB_ACCESS_FLUSH_GLOBAL | \
				 IB_ACCESS_FLUSH_PERSISTENT)

/* Check every attribute in @mask before any of them takes effect. */
static int sroce_qp_check_attr(struct sroce_qp *qp, const struct ib_qp_attr *a,
			       int mask, struct sroce_av *av)
{
	if (mask & ~SROCE_QP_ATTR_SUPPORTED)
		return -EOPNOTSUPP;
	if ((mask & IB_QP_ACCESS_FLAGS) &&
	    (a->qp_access_flags & ~(SROCE_QP_ACCESS | SROCE_QP_ACCESS_IGNORED)))
		return -EINVAL;
	if ((mask & IB_QP_PKEY_INDEX) && a->pkey_index)
		return -EINVAL;
	if ((mask & IB_QP_PORT) && a->port_num != SROCE_PORT)
		return -EINVAL;
	if ((mask & IB_QP_PATH_MTU) &&
	    (a->path_mtu < IB_MTU_256 || a->path_mtu > IB_MTU_4096))
		return -EINVAL;
	if ((mask & IB_QP_TIMEOUT) && a->timeout > 31)
		return -EINVAL;
	if ((mask & IB_QP_RETRY_CNT) && a->retry_cnt > 7)
		return -EINVAL;
	if ((mask & IB_QP_RNR_RETRY) && a->rnr_retry > 7)
		return -EINVAL;
	if ((mask & IB_QP_MIN_RNR_TIMER) && a->min_rnr_timer > 31)
		return -EINVAL;
	if ((mask & IB_QP_MAX_QP_RD_ATOMIC) &&
	    a->max_rd_atomic > SROCE_MAX_RD_ATOMIC)
		return -EINVAL;
	if ((mask & IB_QP_MAX_DEST_RD_ATOMIC) &&
	    a->max_dest_rd_atomic > SROCE_MAX_RD_ATOMIC)
		return -EINVAL;
	if ((mask & IB_QP_DEST_QPN) && a->dest_qp_num > SROCE_PSN_MASK)
		return -EINVAL;
	if ((mask & IB_QP_PATH_MIG_STATE) &&
	    a->path_mig_state != IB_MIG_MIGRATED)
		return -EINVAL;
	if (mask & IB_QP_AV)
		return sroce_av_from_attr(av, &a->ah_attr);
	return 0;
}

static void sroce_qp_apply_attr(struct sroce_qp *qp, const struct ib_qp_attr *a,
				int mask, const struct sroce_av *av)
{
	if (mask & IB_QP_ACCESS_FLAGS)
		qp->access = a->qp_access_flags & SROCE_QP_ACCESS;
	if (mask & IB_QP_EN_SQD_ASYNC_NOTIFY)
		qp->sq_drained_notify = a->en_sqd_async_notify;
	if (mask & IB_QP_AV)
		qp->av = *av;
	if (mask & IB_QP_PATH_MTU) {
		qp->path_mtu = a->path_mtu;
		qp->mtu = ib_mtu_enum_to_int(a->path_mtu);
	}
	if (mask & IB_QP_TIMEOUT)
		qp->timeout = a->timeout;
	if (mask & IB_QP_RETRY_CNT)
		qp->retry.retry_cnt = a->retry_cnt;
	if (mask & IB_QP_RNR_RETRY)
		qp->retry.rnr_retry = a->rnr_retry;
	if (mask & (IB_QP_RETRY_CNT | IB_QP_RNR_RETRY))
		sroce_retry_init(&qp->retry, qp->retry.retry_cnt,
				 qp->retry.rnr_retry);
	if (mask & IB_QP_MIN_RNR_TIMER)
		qp->min_rnr_timer = a->min_rnr_timer;
	if (mask & IB_QP_RQ_PSN)
		qp->epsn = a->rq_psn & SROCE_PSN_MASK;
	if (mask & IB_QP_SQ_PSN) {
		qp->req_psn = a->sq_psn & SROCE_PSN_MASK;
		qp->acked_psn = sroce_psn_add(qp->req_psn, SROCE_PSN_MASK);
		qp->ack_hi = qp->acked_psn;
	}
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		qp->max_rd_atomic = a->max_rd_atomic;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC) {
		qp->max_dest_rd_atomic = a->max_dest_rd_atomic;
		qp->rd_res.size = max_t(u32, a->max_dest_rd_atomic, 1);
		qp->rd_res.next = 0;
		memset(qp->rd_res.slot, 0,
		       SROCE_MAX_RD_ATOMIC * sizeof(*qp->rd_res.slot));
	}
	if (mask & IB_QP_DEST_QPN)
		qp->dest_qpn = a->dest_qp_num;
	if (mask & (IB_QP_AV | IB_QP_DEST_QPN))
		qp->src_port = rdma_get_udp_sport(qp->av.flow_label,
						  qp->ibqp.qp_num,
						  qp->dest_qpn);
}

int sroce_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		    struct ib_udata *udata)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	enum ib_qp_state cur, new;
	struct sroce_av av;
	int err;

	if (udata && !ib_is_udata_cleared(udata, 0, udata->inlen))
		return -EINVAL;

	mutex_lock(&qp->mutex);
	cur = qp->state;
	if ((mask & IB_QP_CUR_STATE) && attr->cur_qp_state != cur) {
		err = -EINVAL;
		goto unlock;
	}
	new = mask & IB_QP_STATE ? attr->qp_state : cur;
	if (!ib_modify_qp_is_ok(cur, new, IB_QPT_RC, mask)) {
		err = -EINVAL;
		goto unlock;
	}
	err = sroce_qp_check_attr(qp, attr, mask, &av);
	if (err)
		goto unlock;
	sroce_qp_apply_attr(qp, attr, mask, &av);

	if (new == cur)
		goto unlock;
	switch (new) {
	case IB_QPS_RESET:
		sroce_qp_set_state(qp, IB_QPS_RESET);
		sroce_qp_reset(qp);
		break;
	case IB_QPS_ERR:
		sroce_qp_error(qp, 0);
		break;
	case IB_QPS_SQD:
		sroce_qp_set_state(qp, IB_QPS_SQD);
		qp->sq_draining = true;
		sroce_qp_kick(qp);
		break;
	default:
		sroce_qp_set_state(qp, new);
		qp->sq_draining = false;
		sroce_qp_kick(qp);
		break;
	}
unlock:
	mutex_unlock(&qp->mutex);
	return err;
}

int sroce_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_qp_init_attr *init)
{
	struct sroce_qp *qp = to_sqp(ibqp);

	memset(attr, 0, sizeof(*attr));
	memset(init, 0, sizeof(*init));
	mutex_lock(&qp->mutex);
	attr->qp_state = qp->state;
	attr->cur_qp_state = qp->state;
	attr->path_mtu = qp->path_mtu;
	attr->path_mig_state = IB_MIG_MIGRATED;
	attr->rq_psn = qp->epsn;
	attr->sq_psn = qp->req_psn;
	attr->dest_qp_num = qp->dest_qpn;
	attr->qp_access_flags = qp->access;
	attr->cap.max_send_wr = qp->sq.num;
	attr->cap.max_recv_wr = qp->rq.num;
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
	mutex_unlock(&qp->mutex);

	init->qp_type = IB_QPT_RC;
	init->send_cq = qp->ibqp.send_cq;
	init->recv_cq = qp->ibqp.recv_cq;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sig_all ? IB_SIGNAL_ALL_WR : IB_SIGNAL_REQ_WR;
	return 0;
}

int sroce_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct sroce_qp *qp = to_sqp(ibqp);

	/* No new timers or work from here on ... */
	mutex_lock(&qp->mutex);
	qp->destroyed = true;
	mutex_unlock(&qp->mutex);
	/* ... no new packets once the receive path's references are gone ... */
	xa_erase_bh(&sroce_qps, ibqp->qp_num);
	sroce_qp_put(qp);
	wait_for_completion(&qp->released);
	/* ... and nothing running. */
	timer_shutdown_sync(&qp->retrans_timer);
	timer_shutdown_sync(&qp->rnr_timer);
	cancel_work_sync(&qp->work);
	sroce_rxq_purge(qp, &qp->req_rxq);
	sroce_rxq_purge(qp, &qp->resp_rxq);

	kfree(qp->rd_res.slot);
	kvfree(qp->tr_tmp);
	kvfree(qp->swqe);
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
