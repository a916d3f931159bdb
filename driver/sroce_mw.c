// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory windows (IBTA 10.6.7): remote access to part of a user MR, under
 * an rkey of its own that can be granted and withdrawn without
 * re-registering the memory.
 *
 * A window is bound by a BIND_MW WQE, which the requester executes as a
 * local operation in send queue order (sroce_req.c): ibv_bind_mw posts
 * one for a type 1 window, the consumer posts one for a type 2 window.
 * A type 1 window stays usable by any QP of its PD until bound again (a
 * zero-length bind unbinds it); a type 2 window (sroce offers type 2B) is
 * usable only through the QP it was bound through, and until a LOCAL_INV
 * or a SEND with Invalidate of its rkey.
 *
 * Windows have keys of their own, SROCE_MW_KEY set, in mw_xa: an lkey of
 * theirs names no MR, and an rkey is a window's exactly when that bit is
 * set.  Windows bind to user MRs (kernel ULPs cannot bind windows: the
 * core has no work request for it), whose registration never changes.
 */
#include <linux/random.h>

#include "sroce.h"

/* What a window can grant. */
#define SROCE_MW_ACCESS		(IB_ACCESS_REMOTE_READ | \
				 IB_ACCESS_REMOTE_WRITE | \
				 IB_ACCESS_REMOTE_ATOMIC)

static u32 sroce_mw_index(u32 key)
{
	return (key & ~SROCE_MW_KEY) >> SROCE_MR_KEY_TAG_BITS;
}

int sroce_alloc_mw(struct ib_mw *ibmw, struct ib_udata *udata)
{
	struct sroce_dev *sdev = to_sdev(ibmw->device);
	struct sroce_mw *mw = to_smw(ibmw);
	u32 index;
	int err;

	if (ibmw->type != IB_MW_TYPE_1 && ibmw->type != IB_MW_TYPE_2)
		return -EINVAL;
	if (udata && !ib_is_udata_cleared(udata, 0, udata->inlen))
		return -EINVAL;
	spin_lock_init(&mw->lock);
	err = xa_alloc_cyclic_bh(&sdev->mw_xa, &index, mw,
				 XA_LIMIT(1, SROCE_MAX_MW), &sdev->mw_next,
				 GFP_KERNEL);
	if (err < 0)
		return err;
	mw->key = SROCE_MW_KEY | index << SROCE_MR_KEY_TAG_BITS |
		  (get_random_u32() & 0xff);
	ibmw->rkey = mw->key;
	return 0;
}

/* Release @mw's binding; under mw->lock. */
static void sroce_mw_unbind(struct sroce_mw *mw)
{
	struct sroce_mr *mr = mw->mr;

	if (!mw->bound)
		return;
	write_lock(&mr->reg_lock);
	mr->num_mw--;
	write_unlock(&mr->reg_lock);
	mw->bound = false;
	mw->mr = NULL;
}

int sroce_dealloc_mw(struct ib_mw *ibmw)
{
	struct sroce_dev *sdev = to_sdev(ibmw->device);
	struct sroce_mw *mw = to_smw(ibmw);

	xa_erase_bh(&sdev->mw_xa, sroce_mw_index(mw->key));
	/* Whoever found it before holds its lock: wait for them. */
	spin_lock_bh(&mw->lock);
	sroce_mw_unbind(mw);
	spin_unlock_bh(&mw->lock);
	return 0;
}

/*
 * The window @key names (whatever its tag), with its lock held and bottom
 * halves disabled, or NULL.  Release with spin_unlock_bh(&mw->lock).
 */
static struct sroce_mw *sroce_mw_lock(struct sroce_dev *sdev, u32 key)
{
	struct sroce_mw *mw;

	if (!sroce_key_is_mw(key))
		return NULL;
	xa_lock_bh(&sdev->mw_xa);
	mw = xa_load(&sdev->mw_xa, sroce_mw_index(key));
	if (mw)
		spin_lock(&mw->lock);
	/* Bottom halves stay disabled while the window's lock is held. */
	xa_unlock(&sdev->mw_xa);
	if (!mw)
		local_bh_enable();
	return mw;
}

/*
 * Take a binding on the user MR @lkey names for a window of @qp, which
 * grants @access: the MR must allow binding, be of the QP's PD, and allow
 * local writes if the window grants remote ones.  The MR, or NULL.
 */
static struct sroce_mr *sroce_mw_take_mr(struct sroce_qp *qp, u32 lkey,
					 int access)
{
	struct sroce_mr *mr = sroce_mr_hold(qp->sdev, lkey);
	bool ok;

	if (!mr)
		return NULL;
	write_lock_bh(&mr->reg_lock);
	ok = mr->type == SROCE_MR_USER && mr->key == lkey && !mr->dying &&
	     mr->ibmr.pd == qp->ibqp.pd && (mr->access & IB_ACCESS_MW_BIND);
	if (access & (IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_ATOMIC) &&
	    !(mr->access & IB_ACCESS_LOCAL_WRITE))
		ok = false;
	if (ok)
		mr->num_mw++;
	write_unlock_bh(&mr->reg_lock);
	/* The binding keeps the MR from deregistration. */
	sroce_mr_drop(mr);
	return ok ? mr : NULL;
}

/*
 * Execute the BIND_MW WQE @wqe for @qp (IBTA 10.6.7.2).  0, or
 * IB_WC_MW_BIND_ERR when the window, the MR, the range or the access
 * make the bind invalid; the window is then as it was.
 */
u8 sroce_mw_bind(struct sroce_qp *qp, const struct sroce_send_wqe *wqe)
{
	u32 key = wqe->rkey;
	u64 va = wqe->remote_addr;
	u64 len = wqe->compare_add;
	int access = wqe->swap;
	struct sroce_mr *mr = NULL;
	struct sroce_mw *mw;
	u64 end;
	u8 status = IB_WC_MW_BIND_ERR;

	/* Local write is the MR's business: consumers ask for it anyway. */
	access &= ~IB_ACCESS_LOCAL_WRITE;
	if (access & ~SROCE_MW_ACCESS || wqe->swap >> 32)
		return status;
	if (len) {
		mr = sroce_mw_take_mr(qp, wqe->mr_lkey, access);
		if (!mr)
			return status;
		/* The window lies inside the MR. */
		if (check_add_overflow(va, len, &end) || va < mr->iova ||
		    end > mr->iova + mr->length)
			goto err_mr;
	}

	mw = sroce_mw_lock(qp->sdev, key);
	if (!mw)
		goto err_mr;
	if (mw->ibmw.pd != qp->ibqp.pd)
		goto err_unlock;
	if (mw->ibmw.type == IB_MW_TYPE_2) {
		/* Only a free window, and never to nothing. */
		if (mw->bound || !len)
			goto err_unlock;
		mw->qpn = qp->ibqp.qp_num;
	} else {
		sroce_mw_unbind(mw);
	}
	mw->key = key;
	mw->access = access;
	mw->va = va;
	mw->length = len;
	mw->mr = mr;
	mw->bound = !!mr;
	spin_unlock_bh(&mw->lock);
	return 0;

err_unlock:
	spin_unlock_bh(&mw->lock);
err_mr:
	if (mr) {
		write_lock_bh(&mr->reg_lock);
		mr->num_mw--;
		write_unlock_bh(&mr->reg_lock);
	}
	return status;
}

/*
 * Invalidate the type 2 window @key names for @qp: bound under that very
 * key to a QP of @qp's PD, and, for a SEND with Invalidate (@remote), to
 * @qp itself (IBTA o10-37.2.43).  0 or -EINVAL.
 */
int sroce_mw_invalidate(struct sroce_qp *qp, u32 key, bool remote)
{
	struct sroce_mw *mw = sroce_mw_lock(qp->sdev, key);
	int err = -EINVAL;

	if (!mw)
		return err;
	if (mw->ibmw.type == IB_MW_TYPE_2 && mw->bound && mw->key == key &&
	    mw->ibmw.pd == qp->ibqp.pd &&
	    (!remote || mw->qpn == qp->ibqp.qp_num)) {
		sroce_mw_unbind(mw);
		err = 0;
	}
	spin_unlock_bh(&mw->lock);
	return err;
}

/*
 * The MR behind the window @rkey names, with a reference (sroce_mr_put()),
 * if the window grants @access to [@va, @va + @len) to a request that
 * @qp received; else NULL.  A type 1 window serves QPs of its PD, a type
 * 2 window only the QP it was bound through (by number: a window left
 * bound to a destroyed QP serves a later QP of that number only if it is
 * of the window's PD too).
 */
struct sroce_mr *sroce_mw_mr(struct sroce_qp *qp, u32 rkey, int access,
			     u64 va, u64 len)
{
	struct sroce_mw *mw = sroce_mw_lock(qp->sdev, rkey);
	struct sroce_mr *mr = NULL;
	u64 end;

	if (!mw)
		return NULL;
	if (!mw->bound || mw->key != rkey || (mw->access & access) != access)
		goto out;
	if (mw->ibmw.pd != qp->ibqp.pd ||
	    (mw->ibmw.type == IB_MW_TYPE_2 && mw->qpn != qp->ibqp.qp_num))
		goto out;
	if (check_add_overflow(va, len, &end) || va < mw->va ||
	    end > mw->va + mw->length)
		goto out;
	/* A bound window's MR is there: this reference cannot be the last. */
	mr = mw->mr;
	refcount_inc(&mr->ref);
out:
	spin_unlock_bh(&mw->lock);
	return mr;
}
