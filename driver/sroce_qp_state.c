// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The QP state machine (IBTA 10.3), for RC, UC, UD and GSI QPs: modify
 * with its attribute checks (which attributes a type takes in which
 * transition is the core's table), the moves to RESET and ERR,
 * asynchronous events, and the completions every transport path posts
 * through.  Runs as the QP's owner
 * (sroce_sched.c).
 */
#include <rdma/uverbs_ioctl.h>

#include "sroce.h"

void sroce_qp_event(struct sroce_qp *qp, enum ib_event_type type)
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
 * Move @qp to the error state (if it is not there) and let its owner
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
	if (sroce_qp_has_rq(qp))
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
	timer_delete(&qp->hold_timer);
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

/* Forget all work and transport state, as the RESET state demands. */
static void sroce_qp_reset(struct sroce_qp *qp)
{
	timer_delete(&qp->retrans_timer);
	timer_delete(&qp->rnr_timer);
	timer_delete(&qp->hold_timer);
	sroce_rxq_purge(qp, &qp->req_rxq);
	sroce_rxq_purge(qp, &qp->resp_rxq);
	qp->events = 0;
	sroce_req_reset(qp);
	sroce_resp_reset(qp);
	WRITE_ONCE(qp->sq.hdr->kstate, 0);
	if (sroce_qp_has_rq(qp))
		WRITE_ONCE(qp->rq.hdr->kstate, 0);
}

#define SROCE_QP_ATTR_SUPPORTED (IB_QP_STATE | IB_QP_CUR_STATE | \
	IB_QP_EN_SQD_ASYNC_NOTIFY | IB_QP_ACCESS_FLAGS | IB_QP_PKEY_INDEX | \
	IB_QP_PORT | IB_QP_AV | IB_QP_PATH_MTU | IB_QP_TIMEOUT | \
	IB_QP_RETRY_CNT | IB_QP_RNR_RETRY | IB_QP_RQ_PSN | \
	IB_QP_MAX_QP_RD_ATOMIC | IB_QP_MIN_RNR_TIMER | IB_QP_SQ_PSN | \
	IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_PATH_MIG_STATE | IB_QP_DEST_QPN | \
	IB_QP_QKEY)

#define SROCE_QP_ACCESS	(IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ | \
			 IB_ACCESS_REMOTE_ATOMIC)
/*
 * Accepted and without effect: LOCAL_WRITE and ON_DEMAND mean nothing on a
 * QP (ODP is the MR's business), and a FLUSH is allowed or not by the MR's
 * access alone, as rdma_rxe does (rdma-core's tests ask for these on QPs).
 */
#define SROCE_QP_ACCESS_IGNORED	(IB_ACCESS_LOCAL_WRITE | \
				 IB_ACCESS_ON_DEMAND | \
				 SROCE_QP_ACCESS_FLUSH)

/*
 * Does @path_mtu fit the path to the destination of @av?  Both ends of a
 * connection use one path MTU (a responder refuses a SEND or WRITE
 * packet short of it), so a larger one than the route carries cannot be
 * clamped at send time: it is refused here rather than lost on the wire.
 * A destination without a route now says nothing yet, and passes.
 */
static bool sroce_qp_path_mtu_ok(struct sroce_qp *qp, const struct sroce_av *av,
				 enum ib_mtu path_mtu)
{
	int fits;

	if (!av->family)
		return true;		/* no address yet */
	fits = sroce_route_ib_mtu(qp->sdev, av);
	return fits < 0 || path_mtu <= max_t(int, fits, IB_MTU_256);
}

/* Check every attribute in @mask before any of them takes effect. */
static int sroce_qp_check_attr(struct sroce_qp *qp, const struct ib_qp_attr *a,
			       int mask, const struct sroce_av *av)
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
	if ((mask & (IB_QP_PATH_MTU | IB_QP_AV)) &&
	    !sroce_qp_path_mtu_ok(qp, av, mask & IB_QP_PATH_MTU ?
				  a->path_mtu : qp->path_mtu))
		return -EINVAL;
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
		sroce_req_rd_init(qp);
	}
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		qp->max_rd_atomic = a->max_rd_atomic;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC) {
		qp->max_dest_rd_atomic = a->max_dest_rd_atomic;
		/*
		 * Executed READs and ATOMICs are remembered past the
		 * max_dest_rd_atomic the requester may have outstanding: a
		 * READ whose request was lost in part executes in parts,
		 * each taking a slot, and a READ or ATOMIC whose slot was
		 * reused could never be answered again (its requester would
		 * end in RETRY_EXC_ERR).
		 */
		qp->rd_res.size = SROCE_MAX_RD_ATOMIC;
		qp->rd_res.next = 0;
		memset(qp->rd_res.slot, 0,
		       SROCE_MAX_RD_ATOMIC * sizeof(*qp->rd_res.slot));
	}
	if (mask & IB_QP_DEST_QPN)
		qp->dest_qpn = a->dest_qp_num;
	if (mask & IB_QP_QKEY)
		qp->qkey = a->qkey;
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
	/* The route and neighbour lookups may sleep: before owning the QP. */
	if (mask & IB_QP_AV) {
		err = sroce_av_from_attr(&av, &attr->ah_attr);
		if (err)
			return err;
	}

	sroce_qp_own(qp);
	cur = qp->state;
	if ((mask & IB_QP_CUR_STATE) && attr->cur_qp_state != cur) {
		err = -EINVAL;
		goto unlock;
	}
	new = mask & IB_QP_STATE ? attr->qp_state : cur;
	/*
	 * Which attributes each transition takes is the core's table, for
	 * each type; a Q_Key with the high bit set is the core's to refuse
	 * to the unprivileged (rdma system set privileged-qkey).
	 */
	if (!ib_modify_qp_is_ok(cur, new, qp->ibqp.qp_type, mask)) {
		err = -EINVAL;
		goto unlock;
	}
	err = sroce_qp_check_attr(qp, attr, mask,
				  mask & IB_QP_AV ? &av : &qp->av);
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
	sroce_qp_release(qp);
	return err;
}

