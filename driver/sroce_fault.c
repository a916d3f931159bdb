// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * On-demand page faults, away from the QP.
 *
 * The data path never faults: an access to an on-demand page that is not
 * present stops the QP's round where it is (the packet is executed again
 * later; see sroce_mr_page()) and asks for a fault job.  The job faults
 * the pages in on its own workqueue, holding a reference to the MR (so
 * its umem stays) but none to the QP, which runs no round until the job
 * is done; nothing of the job stays after it.  A fault may never end: a
 * FUSE mapping whose daemon does not answer, say.  Then the job holds its
 * worker and the MR, and nothing else: other QPs go on, and destroying
 * the QP detaches it from the job instead of waiting for it.
 * Deregistering the MR waits for the job.  The job waits for a missing
 * page without the process's mmap lock (sroce_odp_prefault()), so the
 * process's munmap, and with it the provider's destroy of a QP, does not
 * wait for the fault; the mapping's owner ends it (for FUSE, by aborting
 * the connection).  tests/vm/t-odp-hung.sh shows all of this.
 *
 * A new request that the responder cannot execute until its pages are
 * faulted in does not stop the QP: the responder RNR NAKs it, and every
 * copy the requester sends again while the job runs, so that the
 * requester waits on its RNR retries (rnr_retry 7: for ever), not on its
 * transport retries, which a fault longer than its local ACK timeouts
 * would spend (sroce_resp_fault_rnr(), tests/vm/t-odp-slow.sh).
 */
#include <linux/slab.h>

#include "sroce.h"
#include "sroce_umem.h"

/* Fault at most this many pages at once, ahead of the access. */
#define SROCE_FAULT_BATCH	256UL

struct sroce_fault {
	struct work_struct work;
	struct sroce_qp *qp;		/* NULL once detached */
	struct sroce_fault_req req;
};

/*
 * Protects sroce_fault.qp and sroce_qp.fault: the link between a QP and
 * its job, which either side may cut.  Taken with irqs saved; nothing
 * nests inside it.
 */
static DEFINE_SPINLOCK(sroce_fault_lock);

struct workqueue_struct *sroce_fault_wq;

/*
 * The owner of @qp stalls on pages [@idx, @idx + @n) of @mr's umem: note
 * them for sroce_fault_submit(), at the end of the round.
 */
void sroce_fault_want(struct sroce_qp *qp, struct sroce_mr *mr,
		      unsigned long idx, unsigned long n, bool write)
{
	struct sroce_fault_req *want = &qp->fault_want;

	qp->stalled = true;
	if (want->mr)
		return;			/* one at a time */
	refcount_inc(&mr->ref);		/* the caller holds one */
	want->mr = mr;
	want->idx = idx;
	want->n = min(n, SROCE_FAULT_BATCH);
	want->write = write;
}

/*
 * The error of the job that last faulted page @idx of @mr in for @qp, if
 * it failed: then the access that asked for it fails now, instead of
 * asking again.  Taken once.
 */
int sroce_fault_failed(struct sroce_qp *qp, struct sroce_mr *mr,
		       unsigned long idx)
{
	struct sroce_fault_result *done = &qp->fault_done;
	int err;

	/* A job that lets the QP run is not done yet: no outcome to read. */
	if (sroce_fault_pending(qp))
		return 0;
	err = done->err;
	if (!err || done->lkey != mr->ibmr.lkey || done->idx != idx)
		return 0;
	memset(done, 0, sizeof(*done));
	return err;
}

static void sroce_fault_work(struct work_struct *work)
{
	struct sroce_fault *f = container_of(work, struct sroce_fault, work);
	struct sroce_fault_req *req = &f->req;
	struct sroce_qp *qp;
	unsigned long flags;
	int err;

	err = sroce_umem_odp_fault(req->mr->umem, req->idx, req->n,
				   req->write, true);

	/*
	 * The outcome is the owner's once qp->fault reads NULL: the release
	 * pairs with the acquire in sroce_fault_pending(), and no round
	 * looks at fault_done while the job is pending.
	 */
	spin_lock_irqsave(&sroce_fault_lock, flags);
	qp = f->qp;
	if (qp) {
		qp->fault_done.lkey = req->mr->ibmr.lkey;
		qp->fault_done.idx = req->idx;
		qp->fault_done.err = err;
		/* Destroy waits for this reference: the kick below is safe. */
		refcount_inc(&qp->ref);
		/* Pairs with the acquire in sroce_fault_pending(). */
		smp_store_release(&qp->fault, NULL);
	}
	spin_unlock_irqrestore(&sroce_fault_lock, flags);

	sroce_mr_drop(req->mr);
	if (qp) {
		sroce_qp_kick(qp);
		sroce_qp_put(qp);
	}
	kfree(f);
}

static bool sroce_fault_queue(struct sroce_qp *qp, bool stops)
{
	struct sroce_fault *f;
	unsigned long flags;

	if (!qp->fault_want.mr)
		return false;
	/*
	 * One job at a time: a round that stalls while a job it need not
	 * wait for runs goes on when that job kicks the QP.
	 */
	if (sroce_fault_pending(qp)) {
		sroce_fault_release(qp);
		return true;
	}
	f = kzalloc_obj(*f, qp->may_sleep ? GFP_KERNEL : GFP_ATOMIC);
	if (!f)
		return false;
	INIT_WORK(&f->work, sroce_fault_work);
	f->qp = qp;
	f->req = qp->fault_want;
	memset(&qp->fault_want, 0, sizeof(qp->fault_want));
	qp->fault_stops = stops;
	spin_lock_irqsave(&sroce_fault_lock, flags);
	qp->fault = f;
	spin_unlock_irqrestore(&sroce_fault_lock, flags);
	queue_work(sroce_fault_wq, &f->work);
	return true;
}

/*
 * End of a stalled round: start the job that the round asked for; the
 * QP runs no round until it ends.  Returns false when there is none, or
 * it could not start in this context (no memory): the worker tries again.
 */
bool sroce_fault_submit(struct sroce_qp *qp)
{
	return sroce_fault_queue(qp, true);
}

/*
 * The responder RNR NAKed the request that asked for the job
 * (sroce_resp_fault_rnr()): start it, and let the QP run meanwhile.
 * Without memory for it, the request's next copy asks again.
 */
void sroce_fault_start(struct sroce_qp *qp)
{
	if (!sroce_fault_queue(qp, false))
		sroce_fault_release(qp);
}

/* Does @qp run no round until its job ends? */
bool sroce_fault_stops(struct sroce_qp *qp)
{
	return sroce_fault_pending(qp) && qp->fault_stops;
}

/* Has @qp a fault job that has not ended? */
bool sroce_fault_pending(struct sroce_qp *qp)
{
	/* Pairs with the job's release: its outcome is visible after. */
	return smp_load_acquire(&qp->fault);
}

/*
 * Destroy, once no round runs (sroce_sched_stop()): cut @qp from its job,
 * if any, which lets go of the MR when it ends, however late.
 */
void sroce_fault_detach(struct sroce_qp *qp)
{
	unsigned long flags;

	spin_lock_irqsave(&sroce_fault_lock, flags);
	if (qp->fault) {
		qp->fault->qp = NULL;
		qp->fault = NULL;
	}
	spin_unlock_irqrestore(&sroce_fault_lock, flags);
}

/*
 * Destroy, once nothing else can reach @qp: drop the MR a stalled round
 * kept for a job that never started.
 */
void sroce_fault_release(struct sroce_qp *qp)
{
	if (qp->fault_want.mr)
		sroce_mr_drop(qp->fault_want.mr);
	memset(&qp->fault_want, 0, sizeof(qp->fault_want));
}
