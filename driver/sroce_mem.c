// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data path's access to registered memory: finding an MR by key,
 * checking a request against it, and reading, writing or atomically
 * updating its bytes in place.
 *
 * A user MR's pages are pinned (sroce_umem.c) or faulted in on demand
 * (sroce_umem_odp.c), and reached through kmap_local_page(): the CPU
 * touches the very pages the process maps, so
 * what a peer reads or writes is coherent with the process by
 * construction.  Atomics are the CPU's own atomic instructions on the
 * user's word, so they are atomic with respect to the process's atomics
 * too.  A DMA MR (kernel users) covers the kernel's address space:
 * addresses are kernel virtual addresses, as ib_dma_map_*() gives them to
 * a device without a DMA device.  A fast-registration MR (kernel users)
 * has a page list of such addresses, from the consumer's scatterlist.
 */
#include <linux/highmem.h>
#include <linux/atomic.h>

#include "sroce.h"
#include "sroce_umem.h"

/*
 * The MR at the index @key carries, whatever its tag and state, with a
 * reference (sroce_mr_drop()), or NULL.
 */
struct sroce_mr *sroce_mr_hold(struct sroce_dev *sdev, u32 key)
{
	struct sroce_mr *mr;

	xa_lock_bh(&sdev->mr_xa);
	mr = xa_load(&sdev->mr_xa, key >> SROCE_MR_KEY_TAG_BITS);
	if (mr && !refcount_inc_not_zero(&mr->ref))
		mr = NULL;
	xa_unlock_bh(&sdev->mr_xa);
	return mr;
}

/*
 * The MR @key names, with a reference, or NULL.  A fast-registration MR
 * is found only while VALID under that very key, and its registration
 * stays as it is until sroce_mr_put() (struct sroce_mr).
 */
struct sroce_mr *sroce_mr_get(struct sroce_dev *sdev, u32 key)
{
	struct sroce_mr *mr = sroce_mr_hold(sdev, key);

	if (!mr)
		return NULL;
	if (mr->type == SROCE_MR_FAST) {
		read_lock_bh(&mr->reg_lock);
		if (mr->valid && mr->key == key)
			return mr;
		read_unlock_bh(&mr->reg_lock);
	} else if (mr->key == key) {
		return mr;
	}
	sroce_mr_drop(mr);
	return NULL;
}

/* Release what sroce_mr_get() took. */
void sroce_mr_put(struct sroce_mr *mr)
{
	if (mr->type == SROCE_MR_FAST)
		read_unlock_bh(&mr->reg_lock);
	sroce_mr_drop(mr);
}

/* Drop a reference to @mr, taken without the registration held. */
void sroce_mr_drop(struct sroce_mr *mr)
{
	if (refcount_dec_and_test(&mr->ref))
		complete(&mr->released);
}

/*
 * May @len bytes at @va of @mr be accessed with @access (IB_ACCESS_*, or 0
 * for a local read) through a QP of @pd?  0 or -EACCES.
 */
int sroce_mr_check(struct sroce_mr *mr, struct ib_pd *pd, int access,
		   u64 va, u64 len)
{
	u64 end;

	if (mr->ibmr.pd != pd || (mr->access & access) != access)
		return -EACCES;
	if (mr->type == SROCE_MR_DMA)
		return 0;
	if (check_add_overflow(va, len, &end) || va < mr->iova ||
	    end > mr->iova + mr->length)
		return -EACCES;
	return 0;
}

/*
 * May @qp's owner touch @mr's pages now?  On-demand pages are looked up
 * under a mutex, which a context that cannot sleep must not take: such
 * an owner leaves the access to the worker (sroce_sched.c), and the QP
 * executes the same packet again there.
 */
bool sroce_mr_reachable(struct sroce_qp *qp, struct sroce_mr *mr)
{
	if (qp->may_sleep || !mr->umem || !mr->umem->odp)
		return true;
	qp->stalled = true;
	return false;
}

/*
 * Page @idx of @mr's umem for @qp, or an ERR_PTR.  An on-demand page that
 * is not present asks for a fault job for it and @ahead pages after it
 * and returns -EWOULDBLOCK: the QP executes the packet again once the job
 * is done, and then a page the job could not fault in gives the job's
 * error.
 */
static struct page *sroce_mr_page(struct sroce_qp *qp, struct sroce_mr *mr,
				  unsigned long idx, unsigned long ahead,
				  bool write)
{
	struct page *page = sroce_umem_page(mr->umem, idx, write);
	int err;

	if (PTR_ERR_OR_ZERO(page) != -EAGAIN)
		return page;
	err = sroce_fault_failed(qp, mr, idx);
	if (err)
		return ERR_PTR(err);
	sroce_fault_want(qp, mr, idx, ahead, write);
	return ERR_PTR(-EWOULDBLOCK);
}

/*
 * The kernel address of byte @va of fast MR @mr's registration, and how
 * many bytes follow it in its page (*@room).
 */
static u8 *sroce_mr_fast_addr(struct sroce_mr *mr, u64 va, u32 *room)
{
	const struct sroce_mr_map *m = &mr->live;
	u64 page_mask = BIT_ULL(m->page_shift) - 1;
	/* Counted from the start of the first page. */
	u64 pos = m->offset + (va - m->iova);

	*room = BIT_ULL(m->page_shift) - (pos & page_mask);
	return ib_virt_dma_to_ptr(m->pages[pos >> m->page_shift] +
				  (pos & page_mask));
}

/* Copy between @buf and the checked range at @va of fast MR @mr. */
static void sroce_mr_fast_copy(struct sroce_mr *mr, u64 va, void *buf,
			       u32 len, bool to_mr)
{
	while (len) {
		u32 room;
		u8 *p = sroce_mr_fast_addr(mr, va, &room);
		u32 n = min(len, room);

		if (to_mr)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		buf += n;
		va += n;
		len -= n;
	}
}

/*
 * Copy between @buf and the checked range at @va of @mr, for @qp.  0;
 * -EWOULDBLOCK when an on-demand page must be faulted in first (nothing
 * need be undone: the copy is done again, whole, later); or another
 * negative errno when an on-demand page cannot be had.
 */
int sroce_mr_copy(struct sroce_qp *qp, struct sroce_mr *mr, u64 va,
		  void *buf, u32 len, bool to_mr)
{
	struct sroce_umem *umem = mr->umem;
	u64 pos, end;

	if (!len)
		return 0;
	if (mr->type == SROCE_MR_DMA) {
		if (to_mr)
			memcpy((void *)(uintptr_t)va, buf, len);
		else
			memcpy(buf, (void *)(uintptr_t)va, len);
		return 0;
	}
	if (mr->type == SROCE_MR_FAST) {
		sroce_mr_fast_copy(mr, va, buf, len, to_mr);
		return 0;
	}

	/* Byte positions in the umem's pages, counted from the first one. */
	pos = offset_in_page(umem->start) + (va - mr->ibmr.iova);
	end = pos + len;
	while (pos < end) {
		unsigned long idx = pos >> PAGE_SHIFT;
		unsigned int off = offset_in_page(pos);
		unsigned int n = min_t(u64, end - pos, PAGE_SIZE - off);
		struct page *page;
		u8 *p;

		page = sroce_mr_page(qp, mr, idx,
				     ((end - 1) >> PAGE_SHIFT) - idx + 1, to_mr);
		if (IS_ERR(page))
			return PTR_ERR(page);
		p = kmap_local_page(page);
		if (to_mr)
			memcpy(p + off, buf, n);
		else
			memcpy(buf, p + off, n);
		kunmap_local(p);
		sroce_umem_page_done(umem);
		buf += n;
		pos += n;
	}
	return 0;
}

/*
 * Are the on-demand pages of [@va, @va + @len) of @mr, a checked range,
 * all there for @qp?  0 (also for memory that is not on demand);
 * -EWOULDBLOCK when one must be faulted in first, with a fault job asked
 * for it and the rest of the range; or the error of a fault that failed.
 * The caller has checked that it may reach them (sroce_mr_reachable()).
 */
int sroce_mr_fault_in(struct sroce_qp *qp, struct sroce_mr *mr, u64 va,
		      u64 len)
{
	struct sroce_umem *umem = mr->umem;
	unsigned long idx, last;
	struct page *page;
	u64 pos;

	if (!len || !umem || !umem->odp)
		return 0;
	pos = offset_in_page(umem->start) + (va - mr->ibmr.iova);
	last = (pos + len - 1) >> PAGE_SHIFT;
	for (idx = pos >> PAGE_SHIFT; idx <= last; idx++) {
		page = sroce_mr_page(qp, mr, idx, last - idx + 1, false);
		if (IS_ERR(page))
			return PTR_ERR(page);
		sroce_umem_page_done(umem);
	}
	return 0;
}

/*
 * Execute a remote ATOMIC on the 8-byte word at @va, with the CPU's own
 * atomic instruction; *@orig gets the word's value before.  -EINVAL when
 * the word, in the process's address space, is not 8-byte aligned;
 * -EWOULDBLOCK or another negative errno as for sroce_mr_copy().
 */
int sroce_mr_atomic(struct sroce_qp *qp, struct sroce_mr *mr, u64 va,
		    u8 opcode, u64 compare, u64 swap_add, u64 *orig)
{
	struct sroce_umem *umem = mr->umem;
	struct page *page;
	atomic64_t *word;
	void *p = NULL;
	u64 pos;

	if (mr->type == SROCE_MR_DMA) {
		if (va & 7)
			return -EINVAL;
		word = (atomic64_t *)(uintptr_t)va;
	} else if (mr->type == SROCE_MR_FAST) {
		u32 room;

		word = (atomic64_t *)sroce_mr_fast_addr(mr, va, &room);
		if ((uintptr_t)word & 7)
			return -EINVAL;
	} else {
		pos = offset_in_page(umem->start) + (va - mr->ibmr.iova);
		if (pos & 7)
			return -EINVAL;
		page = sroce_mr_page(qp, mr, pos >> PAGE_SHIFT, 1, true);
		if (IS_ERR(page))
			return PTR_ERR(page);
		p = kmap_local_page(page);
		word = p + offset_in_page(pos);
	}

	if (opcode == SROCE_RC_COMPARE_SWAP) {
		*orig = atomic64_cmpxchg(word, compare, swap_add);
	} else if (opcode == SROCE_RC_ATOMIC_WRITE) {
		/* One aligned 8-byte store: never torn, as the CPU's own. */
		atomic64_set(word, swap_add);
		*orig = 0;
	} else {
		*orig = atomic64_fetch_add(swap_add, word);
	}

	if (p) {
		kunmap_local(p);
		sroce_umem_page_done(umem);
	}
	return 0;
}

/*
 * Copy between @buf and the bytes at @offset of the message that the
 * local SGEs @sge describe (to them with @to_sge, which needs local write
 * access).  Returns 0 or the work completion status: IB_WC_LOC_LEN_ERR when
 * the SGEs are too short, IB_WC_LOC_PROT_ERR for a bad lkey or range; or
 * -EWOULDBLOCK when an SGE is on-demand memory that this context cannot
 * reach (sroce_mr_reachable()) or that must be faulted in first
 * (sroce_mr_page()): the caller does it again, from scratch, later.
 */
int sroce_sge_copy(struct sroce_qp *qp, const struct sroce_sge *sge,
		   unsigned int num_sge, u32 offset, void *buf, u32 len,
		   bool to_sge)
{
	int access = to_sge ? IB_ACCESS_LOCAL_WRITE : 0;
	unsigned int i;

	for (i = 0; i < num_sge && len; i++) {
		struct sroce_mr *mr;
		u32 n;
		int err;

		if (offset >= sge[i].length) {
			offset -= sge[i].length;
			continue;
		}
		n = min(len, sge[i].length - offset);
		mr = sroce_mr_get(qp->sdev, sge[i].lkey);
		if (!mr)
			return IB_WC_LOC_PROT_ERR;
		err = sroce_mr_check(mr, sroce_qp_pd(qp), access,
				     sge[i].addr + offset, n);
		if (!err && !sroce_mr_reachable(qp, mr)) {
			sroce_mr_put(mr);
			return -EWOULDBLOCK;
		}
		if (!err)
			err = sroce_mr_copy(qp, mr, sge[i].addr + offset, buf,
					    n, to_sge);
		sroce_mr_put(mr);
		if (err == -EWOULDBLOCK)
			return err;
		if (err)
			return IB_WC_LOC_PROT_ERR;
		buf += n;
		len -= n;
		offset = 0;
	}
	return len ? IB_WC_LOC_LEN_ERR : 0;
}
