// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * On-demand paging: user memory registered without pinning
 * (IB_ACCESS_ON_DEMAND).  The data path asks for each page as it reaches
 * it; a page it does not know yet is faulted in with hmm_range_fault(),
 * like a CPU access by the process would.  An mmu interval notifier over
 * the registered range tells sroce when the process's mapping changes
 * (munmap, madvise(MADV_DONTNEED), migration, fork's write protection,
 * exit): the pages in the range are forgotten before the change goes on,
 * so the device never touches a page the process no longer maps there.
 *
 * An implicit MR covers the whole address space: its pages are recorded in
 * an xarray instead of an array, and its notifier watches everything.
 *
 * Nothing is pinned, so nothing is charged to RLIMIT_MEMLOCK.  Dirty
 * tracking needs no help either: a page is faulted in writable, which
 * dirties its PTE, before the device writes it, and cleaning the PTE for
 * writeback invalidates the page here first.
 */
#include <linux/hmm.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "sroce_compat.h"
#include "sroce_umem.h"

/* Fault at most this many pages at once, ahead of the access. */
#define SROCE_ODP_FAULT_BATCH	256UL

/* The user address of page @idx of @umem. */
static unsigned long sroce_odp_page_addr(struct sroce_umem *umem,
					 unsigned long idx)
{
	return (umem->start & PAGE_MASK) + (idx << PAGE_SHIFT);
}

/*
 * The recorded HMM pfn of page @idx (0: not known).  An implicit umem
 * keeps pfn << 1 | writable as an xarray value.  Under odp_lock.
 */
static unsigned long sroce_odp_pfn(struct sroce_umem *umem, unsigned long idx)
{
	void *entry;

	if (!umem->implicit)
		return umem->pfns[idx];
	entry = xa_load(&umem->pfn_xa, idx);
	if (!xa_is_value(entry))
		return 0;
	return HMM_PFN_VALID | (xa_to_value(entry) >> 1) |
	       (xa_to_value(entry) & 1 ? HMM_PFN_WRITE : 0);
}

/*
 * Record @hmm_pfn for page @idx, under odp_lock.  An implicit umem's slot
 * was reserved beforehand, so storing needs no allocation unless an
 * invalidation released it meanwhile: then -ENOMEM, and the fault again.
 */
static int sroce_odp_set_pfn(struct sroce_umem *umem, unsigned long idx,
			     unsigned long hmm_pfn)
{
	unsigned long value;

	if (!umem->implicit) {
		umem->pfns[idx] = hmm_pfn;
		return 0;
	}
	value = page_to_pfn(hmm_pfn_to_page(hmm_pfn)) << 1 |
		!!(hmm_pfn & HMM_PFN_WRITE);
	return xa_err(xa_store(&umem->pfn_xa, idx, xa_mk_value(value),
			       GFP_NOWAIT | __GFP_NOWARN));
}

/* Forget pages [@first, @last] of @umem, under odp_lock. */
static void sroce_odp_clear(struct sroce_umem *umem, unsigned long first,
			    unsigned long last)
{
	unsigned long idx;
	void *entry;

	if (!umem->implicit) {
		memset(&umem->pfns[first], 0,
		       (last - first + 1) * sizeof(*umem->pfns));
		return;
	}
	xa_for_each_range(&umem->pfn_xa, idx, entry, first, last)
		xa_erase(&umem->pfn_xa, idx);
}

static bool sroce_odp_invalidate(struct mmu_interval_notifier *mni,
				 const struct mmu_notifier_range *range,
				 unsigned long cur_seq)
{
	struct sroce_umem *umem = container_of(mni, struct sroce_umem,
					       notifier);
	unsigned long first = sroce_odp_page_addr(umem, 0);
	unsigned long start, end;

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&umem->odp_lock);
	else if (!mutex_trylock(&umem->odp_lock))
		return false;
	mmu_interval_set_seq(mni, cur_seq);
	start = max(range->start, first);
	end = min(range->end, first + (umem->npages << PAGE_SHIFT));
	if (start < end)
		sroce_odp_clear(umem, (start - first) >> PAGE_SHIFT,
				(end - 1 - first) >> PAGE_SHIFT);
	mutex_unlock(&umem->odp_lock);
	return true;
}

static const struct mmu_interval_notifier_ops sroce_odp_ops = {
	.invalidate = sroce_odp_invalidate,
};

struct sroce_umem *sroce_umem_odp_get(u64 start, u64 length, bool writable)
{
	struct sroce_umem *umem;
	int err;

	umem = sroce_umem_alloc(start, length, writable);
	if (IS_ERR(umem))
		return umem;
	umem->odp = true;
	mutex_init(&umem->odp_lock);
	umem->pfns = kvcalloc(umem->npages, sizeof(*umem->pfns), GFP_KERNEL);
	if (!umem->pfns) {
		err = -ENOMEM;
		goto err_free;
	}
	umem->mm = current->mm;
	mmgrab(umem->mm);
	err = mmu_interval_notifier_insert(&umem->notifier, umem->mm,
					   sroce_odp_page_addr(umem, 0),
					   umem->npages << PAGE_SHIFT,
					   &sroce_odp_ops);
	if (err)
		goto err_drop_mm;
	return umem;

err_drop_mm:
	mmdrop(umem->mm);
	kvfree(umem->pfns);
err_free:
	mutex_destroy(&umem->odp_lock);
	kfree(umem);
	return ERR_PTR(err);
}

/*
 * An implicit umem: all of the calling process's address space, at iova 0
 * (ibv_reg_mr(pd, NULL, SIZE_MAX, IBV_ACCESS_ON_DEMAND | ...)).
 */
struct sroce_umem *sroce_umem_odp_implicit_get(bool writable)
{
	struct sroce_umem *umem;
	int err;

	if (!current->mm)
		return ERR_PTR(-EINVAL);
	umem = kzalloc_obj(*umem);
	if (!umem)
		return ERR_PTR(-ENOMEM);
	umem->length = U64_MAX;
	umem->writable = writable;
	umem->odp = true;
	umem->implicit = true;
	umem->npages = TASK_SIZE >> PAGE_SHIFT;
	mutex_init(&umem->odp_lock);
	xa_init(&umem->pfn_xa);
	umem->mm = current->mm;
	mmgrab(umem->mm);
	err = mmu_interval_notifier_insert(&umem->notifier, umem->mm, 0,
					   TASK_SIZE, &sroce_odp_ops);
	if (err) {
		mmdrop(umem->mm);
		mutex_destroy(&umem->odp_lock);
		kfree(umem);
		return ERR_PTR(err);
	}
	return umem;
}

void sroce_umem_odp_release(struct sroce_umem *umem)
{
	/* Waits for invalidations in progress; none come afterwards. */
	mmu_interval_notifier_remove(&umem->notifier);
	mmdrop(umem->mm);
	xa_destroy(&umem->pfn_xa);
	kvfree(umem->pfns);
	mutex_destroy(&umem->odp_lock);
	kfree(umem);
}

/*
 * Fault pages [@idx, @idx + @n) of @umem in, writable with @write, and
 * record them.  With @fault false, only record the pages that are mapped
 * already.  0, -EFAULT for an address the process does not map, or -EPERM
 * for a write to a mapping it may not write.
 */
int sroce_umem_odp_fault(struct sroce_umem *umem, unsigned long idx,
			 unsigned long n, bool write, bool fault)
{
	struct hmm_range range = {
		.notifier = &umem->notifier,
		.start = sroce_odp_page_addr(umem, idx),
		.end = sroce_odp_page_addr(umem, idx + n),
		.default_flags = fault ? HMM_PFN_REQ_FAULT : 0,
	};
	unsigned long timeout, i;
	int err;

	if (write && fault)
		range.default_flags |= HMM_PFN_REQ_WRITE;
	range.hmm_pfns = kvcalloc(n, sizeof(*range.hmm_pfns), GFP_KERNEL);
	if (!range.hmm_pfns)
		return -ENOMEM;
	/* The process may be exiting: then its memory is gone. */
	if (!mmget_not_zero(umem->mm)) {
		err = -EFAULT;
		goto out_free;
	}

	timeout = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
again:
	/* Slots to record the pages in, allocated before odp_lock. */
	for (i = 0; umem->implicit && i < n; i++) {
		err = xa_reserve(&umem->pfn_xa, idx + i, GFP_KERNEL);
		if (err)
			goto out_put;
	}
	range.notifier_seq = mmu_interval_read_begin(&umem->notifier);
	mmap_read_lock(umem->mm);
	err = hmm_range_fault(&range);
	mmap_read_unlock(umem->mm);
	if (err == -EBUSY && time_before(jiffies, timeout))
		goto again;
	if (err)
		goto out_put;

	mutex_lock(&umem->odp_lock);
	if (mmu_interval_read_retry(&umem->notifier, range.notifier_seq)) {
		mutex_unlock(&umem->odp_lock);
		goto again;
	}
	for (i = 0; i < n && !err; i++)
		if (range.hmm_pfns[i] & HMM_PFN_VALID)
			err = sroce_odp_set_pfn(umem, idx + i,
						range.hmm_pfns[i]);
	mutex_unlock(&umem->odp_lock);
	if (err == -ENOMEM && time_before(jiffies, timeout))
		goto again;

out_put:
	mmput(umem->mm);
out_free:
	kvfree(range.hmm_pfns);
	return err;
}

/*
 * The page @idx of @umem, for a write with @write, faulted in if need be.
 * Returns with @umem's odp_lock held, which keeps the page where it is
 * until sroce_umem_page_done(); or an ERR_PTR, unlocked.
 */
struct page *sroce_umem_odp_page(struct sroce_umem *umem, unsigned long idx,
				 unsigned long ahead, bool write)
{
	unsigned long want = HMM_PFN_VALID | (write ? HMM_PFN_WRITE : 0);
	unsigned long pfn;
	int err;

	/* An implicit umem reaches past the process's address space. */
	if (idx >= umem->npages)
		return ERR_PTR(-EFAULT);
	ahead = min(ahead, umem->npages - idx);
	for (;;) {
		mutex_lock(&umem->odp_lock);
		pfn = sroce_odp_pfn(umem, idx);
		if ((pfn & want) == want)
			return hmm_pfn_to_page(pfn);
		mutex_unlock(&umem->odp_lock);

		if (write && !umem->writable)
			return ERR_PTR(-EPERM);
		err = sroce_umem_odp_fault(umem, idx,
					   min(ahead, SROCE_ODP_FAULT_BATCH),
					   write, true);
		if (err)
			return ERR_PTR(err);
	}
}
