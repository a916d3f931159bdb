// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Completion queues.  The kernel produces CQEs into a ring that the
 * provider polls without system calls; arming (req_notify_cq) and the
 * completion event go through the core as usual.  A kernel consumer's CQ
 * has the same ring, polled by sroce_poll_cq (sroce_kverbs.c).
 *
 * The provider owns the ring's cons.  The kernel reads it only to know
 * whether there is room, and a value that makes no sense (more entries
 * than slots) counts as a full ring: a process can only lose its own
 * completions.
 */
#include <linux/log2.h>
#include <linux/slab.h>
#include <rdma/uverbs_ioctl.h>

#include "sroce.h"

int sroce_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		    SROCE_CREATE_CQ_ARG_TYPE *arg)
{
	struct ib_udata *udata = sroce_create_cq_udata(arg);
	struct sroce_cq *cq = to_scq(ibcq);
	struct sroce_create_cq_resp resp = {};
	u32 num;
	int err;

	if (attr->flags)
		return -EOPNOTSUPP;
	if (!attr->cqe || attr->cqe > SROCE_MAX_CQE ||
	    attr->comp_vector >= ibcq->device->num_comp_vectors)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;

	num = roundup_pow_of_two(attr->cqe);
	spin_lock_init(&cq->lock);
	err = sroce_queue_init(&cq->q, num, sizeof(struct sroce_cqe), udata,
			       &resp.cq);
	if (err)
		return err;
	ibcq->cqe = num;
	if (!udata) {
		/* Sized by the consumer, charged like the ring. */
		cq->slot_qp = kvcalloc(num, sizeof(*cq->slot_qp),
				       GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL |
				       __GFP_NOWARN);
		if (!cq->slot_qp) {
			err = -ENOMEM;
			goto err_queue;
		}
		return 0;
	}

	err = ib_copy_to_udata(udata, &resp, sizeof(resp));
	if (err)
		goto err_queue;
	return 0;

err_queue:
	sroce_queue_destroy(&cq->q);
	return err;
}

int sroce_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	/* The core refuses while QPs use the CQ, so nobody posts any more. */
	kvfree(to_scq(ibcq)->slot_qp);
	sroce_queue_destroy(&to_scq(ibcq)->q);
	return 0;
}

/*
 * Give @ibcq a ring of at least @cqe slots.  The CQEs not yet polled move
 * to the new ring at the same free-running indices, so neither side's
 * index changes; QPs that complete work wait on cq->lock meanwhile.  The
 * provider holds its own lock on the CQ across the call, so nothing is
 * polled from the old ring once the kernel has copied it, and maps the new
 * ring before it polls again.  A size below the number of CQEs waiting is
 * EINVAL, as the Resize CQ verb says, and leaves the CQ as it was.
 */
int sroce_resize_cq(struct ib_cq *ibcq, SROCE_CQ_SIZE_TYPE cqe,
		    struct ib_udata *udata)
{
	struct sroce_cq *cq = to_scq(ibcq);
	struct sroce_resize_cq_resp resp = {};
	struct ib_qp **slot_qp = NULL;
	struct sroce_queue q, old;
	unsigned long irqflags;
	u32 num = cqe, cons, i;	/* a negative size is too large */
	int err;

	if (!num || num > SROCE_MAX_CQE)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;

	num = roundup_pow_of_two(num);
	err = sroce_queue_init(&q, num, sizeof(struct sroce_cqe), udata,
			       &resp.cq);
	if (err)
		return err;
	if (udata) {
		/* Before the switch: a failed copy leaves the old ring. */
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_queue;
	} else {
		slot_qp = kvcalloc(num, sizeof(*slot_qp),
				   GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL |
				   __GFP_NOWARN);
		if (!slot_qp) {
			err = -ENOMEM;
			goto err_queue;
		}
	}

	spin_lock_irqsave(&cq->lock, irqflags);
	cons = READ_ONCE(cq->q.hdr->cons);
	/* A cons that makes no sense (see the top) is the user's error. */
	if (cq->q.idx - cons > min(num, cq->q.num)) {
		spin_unlock_irqrestore(&cq->lock, irqflags);
		err = -EINVAL;
		goto err_slot_qp;
	}
	for (i = cons; i != cq->q.idx; i++) {
		memcpy(sroce_queue_slot(&q, i), sroce_queue_slot(&cq->q, i),
		       sizeof(struct sroce_cqe));
		if (slot_qp)
			slot_qp[i & (num - 1)] =
				cq->slot_qp[i & (cq->q.num - 1)];
	}
	q.idx = cq->q.idx;
	q.hdr->cons = cons;
	q.hdr->prod = q.idx;
	old = cq->q;
	cq->q = q;
	swap(cq->slot_qp, slot_qp);
	ibcq->cqe = num;
	spin_unlock_irqrestore(&cq->lock, irqflags);

	/* The old ring's, now. */
	kvfree(slot_qp);
	sroce_queue_destroy(&old);
	return 0;

err_slot_qp:
	kvfree(slot_qp);
err_queue:
	sroce_queue_destroy(&q);
	return err;
}

int sroce_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	struct sroce_cq *cq = to_scq(ibcq);
	unsigned long irqflags;
	int missed = 0;

	spin_lock_irqsave(&cq->lock, irqflags);
	/* A request for any completion overrides one for solicited only. */
	if (cq->notify != IB_CQ_NEXT_COMP)
		cq->notify = flags & IB_CQ_SOLICITED_MASK;
	if ((flags & IB_CQ_REPORT_MISSED_EVENTS) &&
	    READ_ONCE(cq->q.hdr->cons) != cq->q.idx)
		missed = 1;
	spin_unlock_irqrestore(&cq->lock, irqflags);
	return missed;
}

/*
 * Add @cqe to @cq and raise the completion event if the CQ is armed for it.
 * A full CQ is an overrun: the CQE is lost, the CQ's owner gets one
 * IB_EVENT_CQ_ERR, and -EOVERFLOW tells the caller to fail its QP.
 */
int sroce_cq_post(struct sroce_cq *cq, struct ib_qp *qp,
		  const struct sroce_cqe *cqe, bool solicited)
{
	struct ib_event event = {
		.device = cq->ibcq.device,
		.element.cq = &cq->ibcq,
		.event = IB_EVENT_CQ_ERR,
	};
	unsigned long irqflags;
	bool notify = false;
	bool overflow = false;
	bool full;
	u32 cons;

	spin_lock_irqsave(&cq->lock, irqflags);
	cons = READ_ONCE(cq->q.hdr->cons);
	full = cq->q.idx - cons >= cq->q.num;
	if (full) {
		overflow = !cq->overflow;
		cq->overflow = true;
	} else {
		memcpy(sroce_queue_slot(&cq->q, cq->q.idx), cqe, sizeof(*cqe));
		if (cq->slot_qp)
			cq->slot_qp[cq->q.idx & (cq->q.num - 1)] = qp;
		cq->q.idx++;
		sroce_queue_publish_prod(&cq->q);
		if (cq->notify == IB_CQ_NEXT_COMP ||
		    (cq->notify == IB_CQ_SOLICITED && solicited)) {
			cq->notify = 0;
			notify = true;
		}
	}
	spin_unlock_irqrestore(&cq->lock, irqflags);

	if (overflow && cq->ibcq.event_handler)
		cq->ibcq.event_handler(&event, cq->ibcq.cq_context);
	if (notify && cq->ibcq.comp_handler)
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
	return full ? -EOVERFLOW : 0;
}
