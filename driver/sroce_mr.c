// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory regions: user MRs over pinned user memory (sroce_umem) and DMA
 * MRs for kernel users.
 *
 * Every MR is published in its device's mr_xa under the index its keys
 * carry, so that the data path can find it from an lkey or rkey.  The low
 * byte of a key is a random tag: a stale key whose index has been reused
 * by a later registration does not match it.
 */
#include <linux/random.h>
#include <linux/slab.h>

#include "sroce.h"
#include "sroce_umem.h"

/* Access flags sroce implements; anything else is refused. */
#define SROCE_MR_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC)

/* Access that needs the pages pinned writable. */
#define SROCE_MR_WRITE_ACCESS	(IB_ACCESS_LOCAL_WRITE | \
				 IB_ACCESS_REMOTE_WRITE | \
				 IB_ACCESS_REMOTE_ATOMIC)

static int sroce_mr_publish(struct sroce_dev *sdev, struct sroce_mr *mr)
{
	u32 index;
	u32 key;
	int err;

	err = xa_alloc_cyclic(&sdev->mr_xa, &index, mr,
			      XA_LIMIT(1, SROCE_MAX_MR), &sdev->mr_next,
			      GFP_KERNEL);
	if (err < 0)
		return err;
	key = index << SROCE_MR_KEY_TAG_BITS | (get_random_u32() & 0xff);
	mr->ibmr.lkey = key;
	mr->ibmr.rkey = key;
	return 0;
}

static void sroce_mr_init(struct sroce_mr *mr, int access)
{
	mr->access = access;
	refcount_set(&mr->ref, 1);
	init_completion(&mr->released);
}

static void sroce_mr_unpublish(struct sroce_dev *sdev, struct sroce_mr *mr)
{
	xa_erase(&sdev->mr_xa, mr->ibmr.lkey >> SROCE_MR_KEY_TAG_BITS);
}

struct ib_mr *sroce_get_dma_mr(struct ib_pd *ibpd, int access)
{
	struct sroce_dev *sdev = to_sdev(ibpd->device);
	struct sroce_mr *mr;
	int err;

	if (access & ~SROCE_MR_ACCESS)
		return ERR_PTR(-EOPNOTSUPP);
	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	sroce_mr_init(mr, access);
	mr->ibmr.length = U64_MAX;
	err = sroce_mr_publish(sdev, mr);
	if (err) {
		kfree(mr);
		return ERR_PTR(err);
	}
	return &mr->ibmr;
}

struct ib_mr *sroce_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
				u64 iova, int access,
				SROCE_REG_USER_MR_DMAH_ARG
				struct ib_udata *udata)
{
	struct sroce_dev *sdev = to_sdev(ibpd->device);
	struct sroce_umem *umem;
	struct sroce_mr *mr;
	int err;

	access &= ~IB_ACCESS_OPTIONAL;	/* hints sroce may ignore */
	if (access & ~SROCE_MR_ACCESS)
		return ERR_PTR(-EOPNOTSUPP);
	if (length > SROCE_MAX_MR_SIZE)
		return ERR_PTR(-EINVAL);

	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);

	umem = sroce_umem_pin(start, length, access & SROCE_MR_WRITE_ACCESS);
	if (IS_ERR(umem)) {
		err = PTR_ERR(umem);
		goto err_free;
	}
	mr->umem = umem;
	sroce_mr_init(mr, access);
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;

	err = sroce_mr_publish(sdev, mr);
	if (err)
		goto err_unpin;
	return &mr->ibmr;

err_unpin:
	sroce_umem_unpin(umem);
err_free:
	kfree(mr);
	return ERR_PTR(err);
}

int sroce_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct sroce_mr *mr = to_smr(ibmr);

	sroce_mr_unpublish(to_sdev(ibmr->device), mr);
	/* Wait for the data path users that found it before. */
	sroce_mr_put(mr);
	wait_for_completion(&mr->released);
	if (mr->umem)
		sroce_umem_unpin(mr->umem);
	kfree(mr);
	return 0;
}
