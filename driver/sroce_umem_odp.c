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
		memset(&umem->pfns[(start - first) >> PAGE_SHIFT], 0,
		       ((end - start) >> PAGE_SHIFT) * sizeof(*umem->pfns));
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

void sroce_umem_odp_release(struct sroce_umem *umem)
{
	/* Waits for invalidations in progress; none come afterwards. */
	mmu_interval_notifier_remove(&umem->notifier);
	mmdrop(umem->mm);
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
	for (i = 0; i < n; i++)
		if (range.hmm_pfns[i] & HMM_PFN_VALID)
			umem->pfns[idx + i] = range.hmm_pfns[i];
	mutex_unlock(&umem->odp_lock);

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
	int err;

	for (;;) {
		mutex_lock(&umem->odp_lock);
		if ((umem->pfns[idx] & want) == want)
			return hmm_pfn_to_page(umem->pfns[idx]);
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
