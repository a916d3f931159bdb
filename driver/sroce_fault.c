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
	int err = done->err;

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

/*
 * End of a stalled round: start the job that the round asked for.  Returns
 * false when there is none, or it could not start in this context (no
 * memory): the worker tries again.
 */
bool sroce_fault_submit(struct sroce_qp *qp)
{
	struct sroce_fault *f;
	unsigned long flags;

	if (!qp->fault_want.mr)
		return false;
	f = kzalloc_obj(*f, qp->may_sleep ? GFP_KERNEL : GFP_ATOMIC);
	if (!f)
		return false;
	INIT_WORK(&f->work, sroce_fault_work);
	f->qp = qp;
	f->req = qp->fault_want;
	memset(&qp->fault_want, 0, sizeof(qp->fault_want));
	spin_lock_irqsave(&sroce_fault_lock, flags);
	qp->fault = f;
	spin_unlock_irqrestore(&sroce_fault_lock, flags);
	queue_work(sroce_fault_wq, &f->work);
	return true;
}

/* Is @qp waiting for a fault job?  Its rounds do nothing until it ends. */
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
