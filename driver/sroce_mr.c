// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory regions: user MRs over pinned or on-demand user memory
 * (sroce_umem), DMA MRs for kernel users, and prefetching for on-demand
 * MRs (ibv_advise_mr).
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

	err = xa_alloc_cyclic_bh(&sdev->mr_xa, &index, mr,
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
	xa_erase_bh(&sdev->mr_xa, mr->ibmr.lkey >> SROCE_MR_KEY_TAG_BITS);
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
	bool implicit;
	int err;

	/* Hints sroce may ignore; HUGETLB says the memory is hugetlbfs. */
	access &= ~(IB_ACCESS_OPTIONAL | IB_ACCESS_HUGETLB);
	if (access & ~(SROCE_MR_ACCESS | IB_ACCESS_ON_DEMAND))
		return ERR_PTR(-EOPNOTSUPP);
	/* Implicit ODP: all of the address space, iova 0 (iova = start). */
	implicit = (access & IB_ACCESS_ON_DEMAND) && !start && !iova &&
		   length == U64_MAX;
	if (length > SROCE_MAX_MR_SIZE && !implicit)
		return ERR_PTR(-EINVAL);

	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);

	if (implicit)
		umem = sroce_umem_odp_implicit_get(access &
						   SROCE_MR_WRITE_ACCESS);
	else if (access & IB_ACCESS_ON_DEMAND)
		umem = sroce_umem_odp_get(start, length,
					  access & SROCE_MR_WRITE_ACCESS);
	else
		umem = sroce_umem_pin(start, length,
				      access & SROCE_MR_WRITE_ACCESS);
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
	if (!umem->odp)
		atomic64_add(umem->npages,
			     sroce_stat(sdev, SROCE_STAT_PINNED_PAGES));
	return &mr->ibmr;

err_unpin:
	sroce_umem_release(umem);
err_free:
	kfree(mr);
	return ERR_PTR(err);
}

int sroce_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct sroce_dev *sdev = to_sdev(ibmr->device);
	struct sroce_mr *mr = to_smr(ibmr);

	sroce_mr_unpublish(sdev, mr);
	/* Wait for the data path users that found it before. */
	sroce_mr_put(mr);
	wait_for_completion(&mr->released);
	if (mr->umem && !mr->umem->odp)
		atomic64_sub(mr->umem->npages,
			     sroce_stat(sdev, SROCE_STAT_PINNED_PAGES));
	if (mr->umem)
		sroce_umem_release(mr->umem);
	kfree(mr);
	return 0;
}

/*
 * Prefetch (ibv_advise_mr): fault in the ranges the SGEs name, of
 * on-demand MRs of @ibpd, now.  The work is done before returning, so
 * IB_UVERBS_ADVISE_MR_FLAG_FLUSH holds either way.  PREFETCH_NO_FAULT
 * records only the pages that the process has mapped already.
 */
int sroce_advise_mr(struct ib_pd *ibpd, enum ib_uverbs_advise_mr_advice advice,
		    u32 flags, struct ib_sge *sg_list, u32 num_sge,
		    struct uverbs_attr_bundle *attrs)
{
	struct sroce_dev *sdev = to_sdev(ibpd->device);
	bool write = advice == IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE;
	bool fault = advice != IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT;
	int access = write ? IB_ACCESS_LOCAL_WRITE : 0;
	u32 i;
	int err = 0;

	if (advice > IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT ||
	    flags & ~IB_UVERBS_ADVISE_MR_FLAG_FLUSH)
		return -EOPNOTSUPP;

	for (i = 0; i < num_sge && !err; i++) {
		struct sroce_mr *mr = sroce_mr_get(sdev, sg_list[i].lkey);
		struct sroce_umem *umem;
		u64 first, last;

		if (!mr)
			return -ENOENT;
		umem = mr->umem;
		err = sroce_mr_check(mr, ibpd, access, sg_list[i].addr,
				     sg_list[i].length) ? -EINVAL : 0;
		if (!err && (!umem || !umem->odp))
			err = -EINVAL;
		if (!err && sg_list[i].length) {
			/* Pages of the umem, counted from its first one. */
			first = (offset_in_page(umem->start) +
				 sg_list[i].addr - mr->ibmr.iova) >> PAGE_SHIFT;
			last = (offset_in_page(umem->start) + sg_list[i].addr +
				sg_list[i].length - 1 - mr->ibmr.iova) >>
			       PAGE_SHIFT;
			err = sroce_umem_odp_fault(umem, first,
						   last - first + 1, write,
						   fault);
		}
		sroce_mr_put(mr);
	}
	return err;
}
