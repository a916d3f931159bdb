// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory regions: user MRs over pinned or on-demand user memory
 * (sroce_umem), DMA MRs and fast-registration MRs for kernel users, and
 * prefetching for on-demand MRs (ibv_advise_mr).
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
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC | \
			 IB_ACCESS_FLUSH_GLOBAL)

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
	mr->key = key;
	mr->ibmr.lkey = key;
	mr->ibmr.rkey = key;
	return 0;
}

static void sroce_mr_init(struct sroce_mr *mr, enum sroce_mr_type type,
			  int access)
{
	mr->type = type;
	mr->access = access;
	rwlock_init(&mr->reg_lock);
	refcount_set(&mr->ref, 1);
	init_completion(&mr->released);
}

/* Unless a rereg gave its index to the MR that replaced it. */
static void sroce_mr_unpublish(struct sroce_dev *sdev, struct sroce_mr *mr)
{
	xa_cmpxchg_bh(&sdev->mr_xa, mr->key >> SROCE_MR_KEY_TAG_BITS, mr, NULL,
		      0);
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
	sroce_mr_init(mr, SROCE_MR_DMA, access);
	mr->ibmr.length = U64_MAX;
	mr->length = U64_MAX;
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
	if (access & ~(SROCE_MR_ACCESS | IB_ACCESS_ON_DEMAND |
		       IB_ACCESS_MW_BIND))
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
	sroce_mr_init(mr, SROCE_MR_USER, access);
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	mr->iova = iova;
	mr->length = length;

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

	/*
	 * Not while memory windows are bound to it (IBTA 10.6.7.2.6); the
	 * core keeps the MR, and closing the process deallocates the
	 * windows and tries again.
	 */
	write_lock_bh(&mr->reg_lock);
	mr->dying = !mr->num_mw;
	write_unlock_bh(&mr->reg_lock);
	if (!mr->dying)
		return -EBUSY;
	sroce_mr_unpublish(sdev, mr);
	/* Wait for the data path users that found it before. */
	sroce_mr_drop(mr);
	wait_for_completion(&mr->released);
	if (mr->umem && !mr->umem->odp)
		atomic64_sub(mr->umem->npages,
			     sroce_stat(sdev, SROCE_STAT_PINNED_PAGES));
	if (mr->umem)
		sroce_umem_release(mr->umem);
	kfree(mr->live.pages);
	kfree(mr->stage.pages);
	kfree(mr);
	return 0;
}

/*
 * @new, just registered, takes @old's keys and index; @old's key finds
 * @new from now on, and @new's own index is free again.
 */
static void sroce_mr_take_keys(struct sroce_dev *sdev, struct sroce_mr *new,
			       struct sroce_mr *old)
{
	u32 index = new->key >> SROCE_MR_KEY_TAG_BITS;

	new->key = old->key;
	new->ibmr.lkey = old->key;
	new->ibmr.rkey = old->key;
	xa_lock_bh(&sdev->mr_xa);
	__xa_store(&sdev->mr_xa, old->key >> SROCE_MR_KEY_TAG_BITS, new, 0);
	__xa_erase(&sdev->mr_xa, index);
	xa_unlock_bh(&sdev->mr_xa);
}

/*
 * ibv_rereg_mr: a new MR for the translation, PD and access @flags ask
 * for and the old MR's others, which takes the old MR's keys and its
 * place in mr_xa; the core swaps it in for the old one, which it then
 * deregisters.  Accesses that found the old MR finish with it (its
 * deregistration waits for them), later ones find the new one.  Keeping
 * the MR and changing it in place
 * would need every data path user of a user MR to take reg_lock.  An MR
 * with bound windows is refused (EBUSY), and none may bind from then on;
 * so is an on-demand MR (EOPNOTSUPP): its umem's notifier would have to
 * be moved as well.
 */
struct ib_mr *sroce_rereg_user_mr(struct ib_mr *ibmr, int flags, u64 start,
				  u64 length, u64 iova, int access,
				  struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct sroce_mr *mr = to_smr(ibmr);
	struct ib_mr *new;

	if (flags & ~IB_MR_REREG_SUPPORTED)
		return ERR_PTR(-EOPNOTSUPP);
	if (mr->type != SROCE_MR_USER || mr->umem->odp)
		return ERR_PTR(-EOPNOTSUPP);
	if (!(flags & IB_MR_REREG_TRANS)) {
		start = mr->umem->start;
		length = mr->length;
		iova = mr->iova;
	}
	if (!(flags & IB_MR_REREG_ACCESS))
		access = mr->access;
	if (!(flags & IB_MR_REREG_PD))
		ibpd = ibmr->pd;

	write_lock_bh(&mr->reg_lock);
	mr->dying = !mr->num_mw;
	write_unlock_bh(&mr->reg_lock);
	if (!mr->dying)
		return ERR_PTR(-EBUSY);
	new = sroce_reg_user_mr(ibpd, start, length, iova, access,
				SROCE_REG_USER_MR_NO_DMAH udata);
	if (IS_ERR(new)) {
		/* The old MR stays as it was, windows may bind again. */
		write_lock_bh(&mr->reg_lock);
		mr->dying = false;
		write_unlock_bh(&mr->reg_lock);
		return new;
	}
	sroce_mr_take_keys(to_sdev(ibmr->device), to_smr(new), mr);
	return new;
}

/*
 * A fast-registration MR (IB_MR_TYPE_MEM_REG) of up to @max_num_sg pages,
 * FREE until an IB_WR_REG_MR registers it.  Its two page lists are
 * allocated here, once.
 */
struct ib_mr *sroce_alloc_mr(struct ib_pd *ibpd, enum ib_mr_type type,
			     u32 max_num_sg)
{
	struct sroce_dev *sdev = to_sdev(ibpd->device);
	struct sroce_mr *mr;
	int err;

	if (type != IB_MR_TYPE_MEM_REG)
		return ERR_PTR(-EOPNOTSUPP);
	if (!max_num_sg || max_num_sg > SROCE_MAX_FAST_REG_PAGES)
		return ERR_PTR(-EINVAL);
	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	sroce_mr_init(mr, SROCE_MR_FAST, 0);
	mr->max_pages = max_num_sg;
	err = -ENOMEM;
	mr->live.pages = kcalloc(max_num_sg, sizeof(u64), GFP_KERNEL);
	if (!mr->live.pages)
		goto err_free;
	mr->stage.pages = kcalloc(max_num_sg, sizeof(u64), GFP_KERNEL);
	if (!mr->stage.pages)
		goto err_free;
	err = sroce_mr_publish(sdev, mr);
	if (err)
		goto err_free;
	return &mr->ibmr;

err_free:
	kfree(mr->stage.pages);
	kfree(mr->live.pages);
	kfree(mr);
	return ERR_PTR(err);
}

static int sroce_mr_set_page(struct ib_mr *ibmr, u64 addr)
{
	struct sroce_mr *mr = to_smr(ibmr);

	if (mr->stage.npages == mr->max_pages)
		return -ENOMEM;
	mr->stage.pages[mr->stage.npages++] = addr;
	return 0;
}

/*
 * Map a DMA-mapped scatterlist into the page list that the next
 * IB_WR_REG_MR of @ibmr registers.  The core's ib_sg_to_pages() sets the
 * MR's iova and length, and stops at the page that does not fit.
 */
int sroce_map_mr_sg(struct ib_mr *ibmr, struct scatterlist *sg, int sg_nents,
		    unsigned int *sg_offset)
{
	struct sroce_mr *mr = to_smr(ibmr);
	int n;

	/* Any power of two that holds an aligned 8-byte word whole. */
	if (!is_power_of_2(ibmr->page_size) || ibmr->page_size < sizeof(u64))
		return -EINVAL;
	mr->stage.npages = 0;
	n = ib_sg_to_pages(ibmr, sg, sg_nents, sg_offset, sroce_mr_set_page);
	mr->stage.page_shift = ilog2(ibmr->page_size);
	mr->stage.offset = ibmr->iova & (ibmr->page_size - 1);
	mr->stage.length = ibmr->length;
	return n;
}

/*
 * Execute IB_WR_REG_MR for @qp: the fast MR @key names (by its index)
 * takes @key, @access and the page list last mapped, and becomes VALID.
 * Its first byte is at the MR's iova as the ULP left it when it posted
 * the registration, which need not be where ib_sg_to_pages() put it
 * (xprtrdma puts an RPC's XID in the upper half); the byte's place in
 * the first page is the one mapped.  Returns 0 or the work completion
 * status.
 */
u8 sroce_mr_fast_reg(struct sroce_qp *qp, u32 key, int access)
{
	struct sroce_mr_map old, *m;
	struct sroce_mr *mr;
	u8 status = 0;

	mr = sroce_mr_hold(qp->sdev, key);
	if (!mr)
		return IB_WC_MW_BIND_ERR;

	access &= ~IB_ACCESS_OPTIONAL;
	write_lock_bh(&mr->reg_lock);
	m = &mr->stage;
	/* The pages mapped must hold [iova, iova + length). */
	if (mr->type != SROCE_MR_FAST || mr->ibmr.pd != qp->ibqp.pd ||
	    mr->valid || (access & ~SROCE_MR_ACCESS) ||
	    m->offset + m->length > (u64)m->npages << m->page_shift) {
		status = IB_WC_MW_BIND_ERR;
		goto out;
	}
	old = mr->live;
	mr->live = mr->stage;
	mr->stage = old;
	mr->live.iova = READ_ONCE(mr->ibmr.iova);
	mr->key = key;
	mr->access = access;
	mr->iova = mr->live.iova;
	mr->length = mr->live.length;
	mr->valid = true;
out:
	write_unlock_bh(&mr->reg_lock);
	sroce_mr_drop(mr);
	return status;
}

/*
 * Invalidate the fast MR that @key names for a QP of @pd: it must be
 * VALID under that very key; or the type 2 window it names, for a LOCAL_INV
 * or, @remote, a SEND with Invalidate (sroce_mw_invalidate()).  0, or
 * -EINVAL when @key names no such MR (a user or DMA MR, one of another PD,
 * a stale key) or window.
 */
int sroce_mr_invalidate(struct sroce_qp *qp, u32 key, bool remote)
{
	struct sroce_mr *mr;
	int err = 0;

	if (sroce_key_is_mw(key))
		return sroce_mw_invalidate(qp, key, remote);
	mr = sroce_mr_hold(qp->sdev, key);
	if (!mr)
		return -EINVAL;

	write_lock_bh(&mr->reg_lock);
	if (mr->type == SROCE_MR_FAST && mr->ibmr.pd == qp->ibqp.pd &&
	    mr->valid && mr->key == key)
		mr->valid = false;
	else
		err = -EINVAL;
	write_unlock_bh(&mr->reg_lock);
	sroce_mr_drop(mr);
	return err;
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
