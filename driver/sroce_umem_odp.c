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
 * An implicit MR covers the whole address space, and its notifier watches
 * everything.
 *
 * What sroce keeps per page is bounded by what the device reached, not by
 * the MR's length (up to SROCE_MAX_MR_SIZE, or the whole address space):
 * every on-demand umem records its pages in an xarray, whose nodes (64
 * entries each) are allocated as pages are faulted in and freed as they
 * are invalidated, so registering a 1 TiB MR allocates nothing per page.
 * A recorded page is one the process maps, so the xarray is of the order
 * of the process's own page tables for those pages.  Its nodes are
 * charged to the memory cgroup of the process whose memory it is, also
 * when the fault runs in a worker (set_active_memcg), and fail at
 * that cgroup's limit.  A fault handles SROCE_ODP_FAULT_BATCH pages at a
 * time, so prefetching a large range needs no allocation sized by it, and
 * reserves slots only for the pages it found mapped, giving back those
 * that recorded nothing.
 *
 * Nothing is pinned, so nothing is charged to RLIMIT_MEMLOCK.  Dirty
 * tracking needs no help either: a page is faulted in writable, which
 * dirties its PTE, before the device writes it, and cleaning the PTE for
 * writeback invalidates the page here first.
 */
#include <linux/hmm.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "sroce_compat.h"
#include "sroce_umem.h"

/* A fault works on at most this many pages at once. */
#define SROCE_ODP_FAULT_BATCH	256UL

/* The user address of page @idx of @umem. */
static unsigned long sroce_odp_page_addr(struct sroce_umem *umem,
					 unsigned long idx)
{
	return (umem->start & PAGE_MASK) + (idx << PAGE_SHIFT);
}

/*
 * The recorded HMM pfn of page @idx (0: not known), kept as the xarray
 * value pfn << 1 | writable.  Under odp_lock.
 */
static unsigned long sroce_odp_pfn(struct sroce_umem *umem, unsigned long idx)
{
	void *entry = xa_load(&umem->pfn_xa, idx);

	if (!xa_is_value(entry))
		return 0;
	return HMM_PFN_VALID | (xa_to_value(entry) >> 1) |
	       (xa_to_value(entry) & 1 ? HMM_PFN_WRITE : 0);
}

/*
 * Record @hmm_pfn for page @idx, under odp_lock.  The slot was reserved
 * beforehand, so storing needs no allocation unless an invalidation
 * released it meanwhile: then -ENOMEM, and the fault again.  No reclaim
 * here: an invalidation from reclaim takes odp_lock.
 */
static int sroce_odp_set_pfn(struct sroce_umem *umem, unsigned long idx,
			     unsigned long hmm_pfn)
{
	unsigned long value;

	value = page_to_pfn(hmm_pfn_to_page(hmm_pfn)) << 1 |
		!!(hmm_pfn & HMM_PFN_WRITE);
	return xa_err(xa_store(&umem->pfn_xa, idx, xa_mk_value(value),
			       GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT));
}

/* Forget pages [@first, @last] of @umem, under odp_lock. */
static void sroce_odp_clear(struct sroce_umem *umem, unsigned long first,
			    unsigned long last)
{
	unsigned long idx;
	void *entry;

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

/*
 * Watch [@start, @start + @len) of the calling process for @umem, whose
 * pages are recorded from then on.
 */
static int sroce_odp_watch(struct sroce_umem *umem, unsigned long start,
			   unsigned long len)
{
	int err;

	umem->odp = true;
	mutex_init(&umem->odp_lock);
	xa_init(&umem->pfn_xa);
	umem->mm = current->mm;
	mmgrab(umem->mm);
	err = mmu_interval_notifier_insert(&umem->notifier, umem->mm, start,
					   len, &sroce_odp_ops);
	if (err) {
		mmdrop(umem->mm);
		mutex_destroy(&umem->odp_lock);
	}
	return err;
}

struct sroce_umem *sroce_umem_odp_get(u64 start, u64 length, bool writable)
{
	struct sroce_umem *umem;
	int err;

	umem = sroce_umem_alloc(start, length, writable);
	if (IS_ERR(umem))
		return umem;
	err = sroce_odp_watch(umem, sroce_odp_page_addr(umem, 0),
			      umem->npages << PAGE_SHIFT);
	if (err) {
		kfree(umem);
		return ERR_PTR(err);
	}
	return umem;
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
	umem->implicit = true;
	umem->npages = TASK_SIZE >> PAGE_SHIFT;
	err = sroce_odp_watch(umem, 0, TASK_SIZE);
	if (err) {
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
	mutex_destroy(&umem->odp_lock);
	kfree(umem);
}

/*
 * Give back the slots of the pages of [@idx, @idx + @n) that @pfns found,
 * where they recorded nothing; recorded pages are not touched.
 */
static void sroce_odp_unreserve(struct sroce_umem *umem, unsigned long idx,
				const unsigned long *pfns, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (pfns[i] & HMM_PFN_VALID)
			xa_release(&umem->pfn_xa, idx + i);
}

/*
 * Fault pages [@idx, @idx + @n) of @umem in, at most SROCE_ODP_FAULT_BATCH
 * of them, and record them; @pfns has room for the batch.  As for
 * sroce_umem_odp_fault().
 */
/*
 * Fault in the pages of @range (under the mmap lock, for reading) that a
 * look without faulting finds missing, or read-only for a @write, with
 * fixup_user_fault(): while a fault waits for its page (the I/O of a
 * file's mapping, a userfaultfd or FUSE daemon), it lets go of the mmap
 * lock, which hmm_range_fault() holds throughout.  A fault that never
 * ends then blocks this job, and not the process's munmap() (which a
 * QP's destroy does, in the provider).  Errors are left for
 * hmm_range_fault() to tell.
 */
static void sroce_odp_prefault(struct sroce_umem *umem,
			       const struct hmm_range *range, unsigned long n,
			       bool write)
{
	unsigned int flags = FAULT_FLAG_REMOTE | (write ? FAULT_FLAG_WRITE : 0);
	struct hmm_range look = *range;
	bool unlocked = false;
	unsigned long i;

	look.default_flags = 0;
	if (hmm_range_fault(&look))
		return;
	for (i = 0; i < n; i++) {
		unsigned long pfn = range->hmm_pfns[i];

		if ((pfn & HMM_PFN_VALID) && (!write || (pfn & HMM_PFN_WRITE)))
			continue;
		if (fixup_user_fault(umem->mm, range->start + i * PAGE_SIZE,
				     flags, &unlocked))
			return;
	}
}

static int sroce_odp_fault_batch(struct sroce_umem *umem, unsigned long idx,
				 unsigned long n, bool write, bool fault,
				 unsigned long *pfns)
{
	struct hmm_range range = {
		.notifier = &umem->notifier,
		.start = sroce_odp_page_addr(umem, idx),
		.end = sroce_odp_page_addr(umem, idx + n),
		.hmm_pfns = pfns,
		.default_flags = fault ? HMM_PFN_REQ_FAULT : 0,
	};
	unsigned long timeout, i;
	bool retry;
	int err;

	if (write && fault)
		range.default_flags |= HMM_PFN_REQ_WRITE;
	timeout = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	for (;;) {
		range.notifier_seq = mmu_interval_read_begin(&umem->notifier);
		mmap_read_lock(umem->mm);
		if (fault)
			sroce_odp_prefault(umem, &range, n, write);
		err = hmm_range_fault(&range);
		mmap_read_unlock(umem->mm);
		if (err == -EBUSY && time_before(jiffies, timeout))
			continue;
		if (err)
			return err;

		/*
		 * Slots for the pages found, and only those, allocated
		 * before odp_lock (an invalidation from reclaim takes it).
		 * The pages are not looked at until the sequence is checked
		 * under the lock.
		 */
		for (i = 0; i < n; i++) {
			if (!(pfns[i] & HMM_PFN_VALID))
				continue;
			err = xa_reserve(&umem->pfn_xa, idx + i,
					 SROCE_UMEM_GFP);
			if (err) {
				sroce_odp_unreserve(umem, idx, pfns, i);
				return err;
			}
		}

		mutex_lock(&umem->odp_lock);
		retry = mmu_interval_read_retry(&umem->notifier,
						range.notifier_seq);
		for (i = 0; i < n && !retry && !err; i++)
			if (pfns[i] & HMM_PFN_VALID)
				err = sroce_odp_set_pfn(umem, idx + i,
							pfns[i]);
		mutex_unlock(&umem->odp_lock);
		sroce_odp_unreserve(umem, idx, pfns, n);
		if (retry || (err == -ENOMEM && time_before(jiffies, timeout)))
			continue;
		return err;
	}
}

/*
 * Fault pages [@idx, @idx + @n) of @umem in, writable with @write, and
 * record them.  With @fault false, only record the pages that are mapped
 * already.  0, -EFAULT for an address the process does not map, -EPERM
 * for a write to a mapping it may not write, -ENOMEM when the memory
 * cgroup of the process has no room for the record, or -EINTR.
 *
 * The work goes batch by batch, and whatever it allocates (page tables,
 * the xarray's nodes) is charged to the memory cgroup of the process that
 * owns the memory, even when it runs in a worker.
 */
int sroce_umem_odp_fault(struct sroce_umem *umem, unsigned long idx,
			 unsigned long n, bool write, bool fault)
{
	struct mem_cgroup *memcg, *old_memcg;
	unsigned long *pfns;
	unsigned long done, batch;
	int err = 0;

	/* An implicit umem is asked for pages past the address space too. */
	if (idx >= umem->npages || n > umem->npages - idx)
		return -EFAULT;
	pfns = kcalloc(SROCE_ODP_FAULT_BATCH, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	/* The process may be exiting: then its memory is gone. */
	if (!mmget_not_zero(umem->mm)) {
		err = -EFAULT;
		goto out_free;
	}
	memcg = get_mem_cgroup_from_mm(umem->mm);
	old_memcg = set_active_memcg(memcg);
	for (done = 0; done < n && !err; done += batch) {
		batch = min(n - done, SROCE_ODP_FAULT_BATCH);
		if (done && fatal_signal_pending(current))
			err = -EINTR;
		else
			err = sroce_odp_fault_batch(umem, idx + done, batch,
						    write, fault, pfns);
	}
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
	mmput(umem->mm);
out_free:
	kfree(pfns);
	return err;
}

/*
 * The page @idx of @umem, for a write with @write, if it is known and
 * present; the data path never faults (sroce_fault.c does, away from the
 * QP).  Returns with @umem's odp_lock held, which keeps the page where it
 * is until sroce_umem_page_done(); or, unlocked, ERR_PTR(-EAGAIN) when
 * the page must be faulted in first, -EFAULT past an implicit umem's
 * reach, -EPERM for a write to a read-only umem.
 */
struct page *sroce_umem_odp_page(struct sroce_umem *umem, unsigned long idx,
				 bool write)
{
	unsigned long want = HMM_PFN_VALID | (write ? HMM_PFN_WRITE : 0);
	unsigned long pfn;

	/* An implicit umem reaches past the process's address space. */
	if (idx >= umem->npages)
		return ERR_PTR(-EFAULT);
	if (write && !umem->writable)
		return ERR_PTR(-EPERM);
	mutex_lock(&umem->odp_lock);
	pfn = sroce_odp_pfn(umem, idx);
	if ((pfn & want) == want)
		return hmm_pfn_to_page(pfn);
	mutex_unlock(&umem->odp_lock);
	return ERR_PTR(-EAGAIN);
}
