// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Shared receive queues: the verbs objects, the posts of kernel
 * consumers, and handing receive WQEs to the QPs that consume them.
 *
 * An SRQ's receive ring has the layout of a QP's RQ (sroce-abi.h): the
 * provider or a kernel poster produces, and any number of RC, UC and UD
 * QPs consume (for an XRC SRQ, the XRC target QPs of its domain, which
 * name it in each request: sroce_xrc.c).  A QP copies a WQE out of the
 * ring under the SRQ's lock and frees its slot at once; the copy is the
 * QP's own until the QP completes it (sroce_resp.c), so a QP that fails
 * flushes only what it took, and the WQEs still in the ring stay for the
 * other QPs.
 *
 * A user ring's producer index is not trusted: one that claims more WQEs
 * than the ring holds, or a WQE with more SGEs than the SRQ has, puts the
 * SRQ in error (IB_EVENT_SRQ_ERR, once), and every QP that takes from it
 * afterwards fails.
 */
#include <linux/log2.h>
#include <linux/uaccess.h>

#include "sroce.h"

static void sroce_srq_event(struct sroce_srq *srq, enum ib_event_type type)
{
	struct ib_event event = {
		.device = srq->ibsrq.device,
		.element.srq = &srq->ibsrq,
		.event = type,
	};

	if (srq->ibsrq.event_handler)
		srq->ibsrq.event_handler(&event, srq->ibsrq.srq_context);
}

static int sroce_srq_check_attr(const struct ib_srq_attr *attr)
{
	if (!attr->max_wr || attr->max_wr > SROCE_MAX_SRQ_WR ||
	    attr->max_sge > SROCE_MAX_SGE || attr->srq_limit > attr->max_wr)
		return -EINVAL;
	return 0;
}

int sroce_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		     struct ib_udata *udata)
{
	struct sroce_dev *sdev = to_sdev(ibsrq->device);
	struct sroce_srq *srq = to_ssrq(ibsrq);
	struct sroce_create_srq_resp resp = {};
	u32 stride;
	int err;

	if (init->srq_type != IB_SRQT_BASIC && init->srq_type != IB_SRQT_XRC)
		return -EOPNOTSUPP;
	err = sroce_srq_check_attr(&init->attr);
	if (err)
		return err;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (atomic_inc_return(&sdev->num_srqs) > SROCE_MAX_SRQ) {
		err = -ENOMEM;
		goto err_count;
	}

	srq->kernel = !udata;
	spin_lock_init(&srq->post_lock);
	spin_lock_init(&srq->lock);
	srq->max_sge = max(init->attr.max_sge, 1U);
	stride = sizeof(struct sroce_recv_wqe) +
		 srq->max_sge * sizeof(struct sroce_sge);
	err = sroce_queue_init(&srq->q, roundup_pow_of_two(init->attr.max_wr),
			       stride, udata, &resp.rq);
	if (err)
		goto err_count;
	if (udata) {
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_queue;
	}
	/* Target QPs find an XRC SRQ by its number (sroce_xrc.c). */
	if (init->srq_type == IB_SRQT_XRC) {
		err = sroce_xrc_srq_publish(srq);
		if (err)
			goto err_queue;
	}
	/* The limit is armed only by modify_srq (IBTA 10.2.9.2). */
	init->attr.max_wr = srq->q.num;
	init->attr.max_sge = srq->max_sge;
	init->attr.srq_limit = 0;
	return 0;

err_queue:
	sroce_queue_destroy(&srq->q);
err_count:
	atomic_dec(&sdev->num_srqs);
	return err;
}

/*
 * Give a user SRQ a ring of at least @max_wr slots.  The WQEs posted and
 * not yet taken move to the new ring at the same free-running indices, so
 * neither side's index changes; the QPs that take WQEs wait on srq->lock
 * while they move.  The provider holds its ring's lock across the call, so
 * it posts nothing to the old ring once the kernel has copied it, and maps
 * the new ring before it posts again.  Fewer slots than the WQEs waiting,
 * or than the armed limit, is EINVAL and leaves the SRQ as it was.
 *
 * A kernel SRQ is not resized (EOPNOTSUPP): its posters hold post_lock
 * with irqs saved, which srq->lock cannot nest inside.
 */
static int sroce_srq_resize(struct sroce_srq *srq, u32 max_wr,
			    struct ib_udata *udata)
{
	struct sroce_queue_info info = {};
	struct sroce_modify_srq_cmd cmd;
	struct sroce_queue q, old;
	u32 num, prod, i;
	int err;

	if (srq->kernel)
		return -EOPNOTSUPP;
	if (!max_wr || max_wr > SROCE_MAX_SRQ_WR)
		return -EINVAL;
	if (udata->inlen < sizeof(cmd))
		return -EINVAL;
	if (udata->inlen > sizeof(cmd) &&
	    !ib_is_udata_cleared(udata, sizeof(cmd),
				 udata->inlen - sizeof(cmd)))
		return -EOPNOTSUPP;
	err = ib_copy_from_udata(&cmd, udata, sizeof(cmd));
	if (err)
		return err;

	num = roundup_pow_of_two(max_wr);
	err = sroce_queue_init(&q, num, srq->q.stride, udata, &info);
	if (err)
		return err;
	/* Any address: copy_to_user() checks it.  A failure keeps the old. */
	if (copy_to_user(u64_to_user_ptr(cmd.ring_info_addr), &info,
			 sizeof(info))) {
		err = -EFAULT;
		goto err_queue;
	}

	spin_lock_bh(&srq->lock);
	prod = sroce_queue_user_prod(&srq->q);
	/* A prod past the ring is the user's error, as in sroce_srq_take(). */
	if (prod - srq->q.idx > min(num, srq->q.num) || srq->limit > num) {
		spin_unlock_bh(&srq->lock);
		err = -EINVAL;
		goto err_queue;
	}
	for (i = srq->q.idx; i != prod; i++)
		memcpy(sroce_queue_slot(&q, i), sroce_queue_slot(&srq->q, i),
		       q.stride);
	q.idx = srq->q.idx;
	q.hdr->prod = prod;
	q.hdr->cons = q.idx;
	old = srq->q;
	srq->q = q;
	spin_unlock_bh(&srq->lock);

	sroce_queue_destroy(&old);
	return 0;

err_queue:
	sroce_queue_destroy(&q);
	return err;
}

int sroce_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		     enum ib_srq_attr_mask mask, struct ib_udata *udata)
{
	struct sroce_srq *srq = to_ssrq(ibsrq);
	int err = 0;

	if (mask & ~(IB_SRQ_MAX_WR | IB_SRQ_LIMIT))
		return -EINVAL;
	if ((mask & IB_SRQ_MAX_WR) && (mask & IB_SRQ_LIMIT) &&
	    attr->srq_limit > attr->max_wr)
		return -EINVAL;
	if (mask & IB_SRQ_MAX_WR) {
		err = sroce_srq_resize(srq, attr->max_wr, udata);
		if (err)
			return err;
	}
	if (!(mask & IB_SRQ_LIMIT))
		return 0;
	spin_lock_bh(&srq->lock);
	if (attr->srq_limit > srq->q.num)
		err = -EINVAL;
	else
		srq->limit = attr->srq_limit;
	spin_unlock_bh(&srq->lock);
	return err;
}

int sroce_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct sroce_srq *srq = to_ssrq(ibsrq);

	attr->max_sge = srq->max_sge;
	spin_lock_bh(&srq->lock);
	attr->max_wr = srq->q.num;
	attr->srq_limit = srq->limit;
	spin_unlock_bh(&srq->lock);
	return 0;
}

/*
 * The core destroys an SRQ only once no QP uses it; an XRC SRQ, once no
 * target QP is handling a request for it.
 */
int sroce_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	struct sroce_srq *srq = to_ssrq(ibsrq);

	if (ibsrq->srq_type == IB_SRQT_XRC)
		sroce_xrc_srq_remove(srq);
	sroce_queue_destroy(&srq->q);
	atomic_dec(&to_sdev(ibsrq->device)->num_srqs);
	return 0;
}

/* A kernel SRQ's posts; a user SRQ's are ring writes, with no call. */
int sroce_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr)
{
	struct sroce_srq *srq = to_ssrq(ibsrq);
	unsigned long flags;
	int err;

	if (!srq->kernel) {
		*bad_wr = wr;
		return -EOPNOTSUPP;
	}
	spin_lock_irqsave(&srq->post_lock, flags);
	err = sroce_kpost_recv_ring(&srq->q, srq->max_sge, wr, bad_wr);
	spin_unlock_irqrestore(&srq->post_lock, flags);
	return err;
}

/*
 * Take the next WQE of @srq into @rwqe, for the QP that owns @rwqe.
 * Returns 1 when one was taken, 0 when the SRQ is empty, or -EIO when the
 * SRQ is in error.
 */
int sroce_srq_take(struct sroce_srq *srq, struct sroce_rwqe *rwqe)
{
	enum ib_event_type event = 0;
	const struct sroce_recv_wqe *u;
	u32 prod, left;
	int ret = -EIO;

	spin_lock_bh(&srq->lock);
	if (srq->error)
		goto out;
	prod = sroce_queue_user_prod(&srq->q);
	if (prod - srq->q.idx > srq->q.num)
		goto broken;
	ret = 0;
	if (prod == srq->q.idx)
		goto out;
	u = sroce_queue_slot(&srq->q, srq->q.idx);
	memcpy(&rwqe->wqe, u, sizeof(rwqe->wqe));
	if (rwqe->wqe.num_sge > srq->max_sge)
		goto broken;
	memcpy(rwqe->sge, u->sge, rwqe->wqe.num_sge * sizeof(rwqe->sge[0]));
	srq->q.idx++;
	sroce_queue_publish_cons(&srq->q);
	left = prod - srq->q.idx;
	if (srq->limit && left < srq->limit) {
		srq->limit = 0;		/* disarmed until armed again */
		event = IB_EVENT_SRQ_LIMIT_REACHED;
	}
	ret = 1;
	goto out;

broken:
	srq->error = true;
	event = IB_EVENT_SRQ_ERR;
	ret = -EIO;
out:
	spin_unlock_bh(&srq->lock);
	if (event)
		sroce_srq_event(srq, event);
	return ret;
}
