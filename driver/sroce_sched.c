// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Who runs a QP's transport, and where (the rule is at sroce_qp.sched_lock).
 *
 * The common path runs to completion where the event happens: a received
 * packet is executed, answered and completed in the softirq that brought
 * it, a doorbell sends from the system call that rang it, and a timer
 * retransmits from its own softirq.  The worker (one work item per QP on
 * an unbound workqueue) takes over only for what needs sleeping, an
 * access to on-demand pages, or when a kick leaves more work than a
 * softirq should do at once.
 */
#include <linux/interrupt.h>

#include "sroce.h"

struct workqueue_struct *sroce_wq;

/* Packets of received requests or responses handled per round. */
#define SROCE_RX_BUDGET		64
/* Rounds an owner that cannot sleep runs before handing over. */
#define SROCE_ATOMIC_ROUNDS	4
/* Rounds the worker runs before it queues itself again. */
#define SROCE_WORKER_ROUNDS	16
/* Requests looked at for a repeated READ while an answer goes out. */
#define SROCE_REREAD_SCAN	64

/*
 * Is @pkt, received in @skb, from and to the addresses @qp is connected
 * with?  Parses the packet again: the receive path kept only the skb.
 */
bool sroce_sched_parse(struct sroce_qp *qp, struct sk_buff *skb,
		       struct sroce_pkt *pkt)
{
	struct sroce_skb_cb *cb = sroce_skb_cb(skb);

	if (sroce_parse(skb->data, skb->len, pkt))
		return false;
	sroce_pkt_xrc_to_rc(pkt);
	return ipv6_addr_equal(&cb->saddr, &qp->av.daddr) &&
	       ipv6_addr_equal(&cb->daddr, &qp->av.saddr);
}

/*
 * Requests and responses wait in queues of their own, so that ACKs and
 * READ responses never wait behind a long READ being answered, nor
 * requests behind a requester's backlog.  A packet whose execution needs
 * sleeping goes back to the head of its queue for the worker.
 */
static void sroce_sched_rx_responses(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_RX_BUDGET;
	struct sroce_pkt pkt;
	struct sk_buff *skb;

	while (budget-- && qp->state >= IB_QPS_RTS && qp->state != IB_QPS_ERR &&
	       (skb = sroce_rxq_pop(qp, &qp->resp_rxq))) {
		if (sroce_sched_parse(qp, skb, &pkt))
			sroce_req_rcv(qp, &pkt, skb->data + pkt.payload_off,
				      skb);
		if (qp->stalled) {
			sroce_rxq_push_back(qp, &qp->resp_rxq, skb);
			return;
		}
		kfree_skb(skb);
	}
	if (!skb_queue_empty(&qp->resp_rxq))
		sroce_qp_kick(qp);
}

/*
 * While a READ is being answered, the requests behind it wait for its
 * responses to go out, except two kinds of repeated request.  A repeated
 * ATOMIC, whose answer was lost: it is answered from the saved result at
 * once, and its requester completes nothing until it has that answer.  A
 * repeated READ asking for responses already sent: its requester lost
 * part of the answer and asks again from there (rdma_rxe and others ask
 * for all the rest, and drop what follows a gap), and waiting for the
 * rest of the old answer would only cost it timeouts.  A repeated READ
 * for responses not sent yet waits its turn: sroce's requester asks for
 * several missing parts at once, in order.  Take the first such repeated
 * request out of the queue, if there is one.
 */
static bool sroce_sched_is_repeat(struct sroce_qp *qp,
				  const struct sroce_pkt *pkt, u32 sent)
{
	if (sroce_rsp_check_psn(qp->epsn, pkt->bth.psn) !=
	    SROCE_PSN_DUPLICATE)
		return false;
	if (pkt->op->flags & SROCE_OP_ATOMIC)
		return true;
	return pkt->bth.opcode == SROCE_RC_READ_REQUEST &&
	       sroce_psn_diff(pkt->bth.psn, sent) < 0;
}

static struct sk_buff *sroce_sched_take_repeat(struct sroce_qp *qp)
{
	struct sk_buff_head *q = &qp->req_rxq;
	unsigned int scan = SROCE_REREAD_SCAN;
	struct sk_buff *skb, *found = NULL;
	struct sroce_pkt pkt;
	unsigned long flags;
	u32 sent;

	/* The PSN of the next response of the READ being answered. */
	sent = sroce_psn_add(qp->rd_cur->first_psn, qp->rd_next);
	spin_lock_irqsave(&q->lock, flags);
	skb_queue_walk(q, skb) {
		if (!scan--)
			break;
		if (sroce_parse(skb->data, skb->len, &pkt))
			continue;
		sroce_pkt_xrc_to_rc(&pkt);
		if (sroce_sched_is_repeat(qp, &pkt, sent)) {
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

static void sroce_sched_rx_requests(struct sroce_qp *qp)
{
	unsigned int budget = SROCE_RX_BUDGET;
	struct sroce_pkt pkt;
	struct sk_buff *skb;

	while (budget-- && qp->state >= IB_QPS_RTR && qp->state != IB_QPS_ERR) {
		/*
		 * A READ being answered goes out before what was asked after
		 * it; sroce_resp_run() kicks the QP again while it lasts.
		 */
		if (qp->rd_cur && sroce_resp_run(qp))
			skb = qp->stalled ? NULL :
			      sroce_sched_take_repeat(qp);
		else
			skb = sroce_resp_take_held(qp) ?:
			      sroce_rxq_pop(qp, &qp->req_rxq);
		if (!skb)
			return;
		if (sroce_sched_parse(qp, skb, &pkt))
			sroce_resp_rcv(qp, &pkt, skb->data + pkt.payload_off,
				       skb);
		/* A new request that waits for a fault is RNR NAKed. */
		if (qp->stalled && !sroce_resp_fault_rnr(qp, &pkt)) {
			sroce_rxq_push_back(qp, &qp->req_rxq, skb);
			return;
		}
		kfree_skb(skb);
	}
	/* The budget ran out: requests wait, or a READ's answer does. */
	if (!skb_queue_empty(&qp->req_rxq) || qp->rd_cur)
		sroce_qp_kick(qp);
}

/* One round of the QP's transport: receive, execute, send, complete. */
static void sroce_sched_round(struct sroce_qp *qp)
{
	qp->stalled = false;
	if (sroce_fault_stops(qp))
		return;		/* the job kicks the QP when it is done */
	if (sroce_qp_is_ud(qp)) {
		sroce_ud_round(qp);
		return;
	}
	if (sroce_qp_is_uc(qp)) {
		sroce_uc_round(qp);
		return;
	}
	/* A hold past a gap is over: report the gap, or look again later. */
	if (test_and_clear_bit(SROCE_EV_HOLD, &qp->events) &&
	    qp->state >= IB_QPS_RTR && qp->state != IB_QPS_ERR) {
		sroce_resp_hold_check(qp);
		sroce_req_hold_check(qp);
	}
	sroce_sched_rx_responses(qp);
	if (qp->stalled)
		return;
	sroce_sched_rx_requests(qp);
	if (qp->stalled)
		return;
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
}

/* Under sched_lock: let the worker own the QP next. */
static void sroce_sched_to_worker(struct sroce_qp *qp)
{
	qp->sched_worker = true;
	queue_work(sroce_wq, &qp->work);
}

/*
 * Run the QP that this context owns until no kick is left, then let it
 * go; an owner that cannot sleep hands over to the worker when the QP
 * needs sleeping or has run its rounds.  Returns true when the caller, an
 * owner that may sleep, should queue the worker to go on.
 */
static bool sroce_sched_run(struct sroce_qp *qp, unsigned int rounds)
{
	unsigned long flags;
	bool more = false;

	for (;;) {
		sroce_sched_round(qp);
		/* A fault job started kicks the QP when it is done. */
		if (qp->stalled && sroce_fault_submit(qp))
			qp->stalled = false;
		spin_lock_irqsave(&qp->sched_lock, flags);
		if (qp->stalled) {
			/* Needs sleeping, or memory for the job: the worker. */
			if (!qp->may_sleep)
				sroce_sched_to_worker(qp);
			else
				more = true;
			break;
		}
		if (!qp->sched_again || qp->destroyed)
			break;
		qp->sched_again = false;
		if (!--rounds) {
			if (qp->may_sleep)
				more = true;
			else
				sroce_sched_to_worker(qp);
			break;
		}
		spin_unlock_irqrestore(&qp->sched_lock, flags);
	}
	qp->sched_owned = false;
	spin_unlock_irqrestore(&qp->sched_lock, flags);
	return more;
}

/*
 * Make @qp run: at once in this context if nobody owns it and this
 * context may run it, else by its owner or its worker.  Any context.
 */
void sroce_qp_kick(struct sroce_qp *qp)
{
	bool here = !in_hardirq() && !in_nmi() && !irqs_disabled();
	unsigned long flags;

	spin_lock_irqsave(&qp->sched_lock, flags);
	if (qp->destroyed) {
		spin_unlock_irqrestore(&qp->sched_lock, flags);
		return;
	}
	if (qp->sched_owned || qp->sched_worker || qp->sched_wanted) {
		qp->sched_again = true;
		spin_unlock_irqrestore(&qp->sched_lock, flags);
		return;
	}
	if (!here) {
		sroce_sched_to_worker(qp);
		spin_unlock_irqrestore(&qp->sched_lock, flags);
		return;
	}
	qp->sched_owned = true;
	spin_unlock_irqrestore(&qp->sched_lock, flags);

	local_bh_disable();
	qp->may_sleep = false;
	sroce_sched_run(qp, SROCE_ATOMIC_ROUNDS);
	local_bh_enable();
}

/*
 * Own @qp from process context (modify, query, destroy), waiting for the
 * owner that cannot sleep, if any, to let it go: it runs a bounded number
 * of rounds and never waits itself, and no other such owner starts
 * meanwhile (sched_wanted), however fast packets come.
 */
void sroce_qp_own(struct sroce_qp *qp)
{
	mutex_lock(&qp->owner_mutex);
	spin_lock_irq(&qp->sched_lock);
	qp->sched_wanted = true;
	while (qp->sched_owned) {
		spin_unlock_irq(&qp->sched_lock);
		cpu_relax();
		spin_lock_irq(&qp->sched_lock);
	}
	qp->sched_wanted = false;
	qp->sched_owned = true;
	spin_unlock_irq(&qp->sched_lock);
	qp->may_sleep = true;
}

/* Let go of @qp after sroce_qp_own(), running it if it was kicked. */
void sroce_qp_release(struct sroce_qp *qp)
{
	bool again;

	spin_lock_irq(&qp->sched_lock);
	qp->sched_owned = false;
	again = qp->sched_again && !qp->destroyed;
	qp->sched_again = false;
	spin_unlock_irq(&qp->sched_lock);
	mutex_unlock(&qp->owner_mutex);
	if (again)
		sroce_qp_kick(qp);
}

static void sroce_sched_work(struct work_struct *work)
{
	struct sroce_qp *qp = container_of(work, struct sroce_qp, work);
	bool more;

	mutex_lock(&qp->owner_mutex);
	spin_lock_irq(&qp->sched_lock);
	while (qp->sched_owned) {
		spin_unlock_irq(&qp->sched_lock);
		cpu_relax();
		spin_lock_irq(&qp->sched_lock);
	}
	qp->sched_worker = false;
	if (qp->destroyed) {
		spin_unlock_irq(&qp->sched_lock);
		mutex_unlock(&qp->owner_mutex);
		return;
	}
	qp->sched_owned = true;
	qp->sched_again = false;
	spin_unlock_irq(&qp->sched_lock);
	qp->may_sleep = true;
	more = sroce_sched_run(qp, SROCE_WORKER_ROUNDS);
	mutex_unlock(&qp->owner_mutex);
	if (more) {
		spin_lock_irq(&qp->sched_lock);
		if (!qp->destroyed)
			sroce_sched_to_worker(qp);
		spin_unlock_irq(&qp->sched_lock);
	}
}

void sroce_sched_init(struct sroce_qp *qp)
{
	spin_lock_init(&qp->sched_lock);
	mutex_init(&qp->owner_mutex);
	INIT_WORK(&qp->work, sroce_sched_work);
}

/*
 * Destroy: no run starts after this returns, and none is in progress.
 * Timers may still kick; they find the QP destroyed.
 */
void sroce_sched_stop(struct sroce_qp *qp)
{
	sroce_qp_own(qp);
	spin_lock_irq(&qp->sched_lock);
	qp->destroyed = true;
	spin_unlock_irq(&qp->sched_lock);
	sroce_qp_release(qp);
	cancel_work_sync(&qp->work);
}
