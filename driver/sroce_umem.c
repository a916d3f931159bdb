// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Long-term pinning of user memory, with RLIMIT_MEMLOCK accounting.
 *
 * Pages are pinned with FOLL_LONGTERM, so the kernel first migrates them
 * out of movable zones and CMA, and nothing moves them while the device
 * uses them.  They are pinned writable only when the registration needs
 * writes, so read-only mappings can be registered for reading, and they are
 * marked dirty when unpinned, so the device's writes are never lost.  A
 * read-only pin still sees the process's later writes: GUP breaks
 * copy-on-write before it pins (see SROCE_RO_PIN_UNSHARE for old kernels).
 *
 * sroce does not DMA-map these pages: the CPU reaches them directly, which
 * is coherent by construction and never involves SWIOTLB.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "sroce_compat.h"
#include "sroce_umem.h"

/* Pin at most this many pages per call, to bound the time between checks. */
#define SROCE_PIN_BATCH	512UL

/*
 * Account @npages against the caller's RLIMIT_MEMLOCK.  Without
 * CAP_IPC_LOCK, going over the limit fails with -ENOMEM, as every RDMA
 * driver does.  This comes before any allocation whose size the caller
 * chose (the page array), so a registration over the limit costs nothing.
 */
static int sroce_umem_account(struct mm_struct *mm, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	u64 pinned;

	pinned = atomic64_add_return(npages, &mm->pinned_vm);
	if (pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(npages, &mm->pinned_vm);
		return -ENOMEM;
	}
	return 0;
}

/*
 * A new umem for @length bytes at user address @start of the calling
 * process, with its pages counted but nothing pinned or watched yet.
 */
struct sroce_umem *sroce_umem_alloc(u64 start, u64 length, bool writable)
{
	struct sroce_umem *umem;
	u64 end;

	if (!length || check_add_overflow(start, length, &end) ||
	    end > TASK_SIZE || PAGE_ALIGN(end) < end)
		return ERR_PTR(-EINVAL);
	if (!current->mm)
		return ERR_PTR(-EINVAL);

	umem = kzalloc_obj(*umem);
	if (!umem)
		return ERR_PTR(-ENOMEM);
	umem->start = start;
	umem->length = length;
	umem->writable = writable;
	umem->npages = (PAGE_ALIGN(end) - (start & PAGE_MASK)) >> PAGE_SHIFT;
	return umem;
}

struct sroce_umem *sroce_umem_pin(u64 start, u64 length, bool writable)
{
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	unsigned int unshare = writable ? 0 : SROCE_RO_PIN_UNSHARE;
	struct sroce_umem *umem;
	unsigned long done = 0;
	u64 first = start & PAGE_MASK;
	int err;

	umem = sroce_umem_alloc(start, length, writable);
	if (IS_ERR(umem))
		return umem;
	umem->mm = current->mm;
	mmgrab(umem->mm);
	err = sroce_umem_account(umem->mm, umem->npages);
	if (err)
		goto err_drop_mm;

	/*
	 * Within the limit, or CAP_IPC_LOCK: the array (8 bytes a page) is
	 * charged to the caller's memory cgroup and fails at its limit.
	 */
	umem->pages = kvmalloc_array(umem->npages, sizeof(*umem->pages),
				     SROCE_UMEM_GFP);
	if (!umem->pages) {
		err = -ENOMEM;
		goto err_unaccount;
	}

	while (done < umem->npages) {
		unsigned long batch = min(umem->npages - done, SROCE_PIN_BATCH);
		unsigned long addr;
		int pinned;

		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto err_unpin;
		}
		addr = first + (done << PAGE_SHIFT);
		pinned = pin_user_pages_fast(addr, batch, gup_flags | unshare,
					     umem->pages + done);
		/*
		 * A shared mapping that cannot be written refuses even a
		 * forced write, and has no copy-on-write to break: its next
		 * page is pinned as it is.
		 */
		if (pinned == -EFAULT && unshare)
			pinned = pin_user_pages_fast(addr, 1, gup_flags,
						     umem->pages + done);
		if (pinned <= 0) {
			err = pinned ? pinned : -EFAULT;
			goto err_unpin;
		}
		done += pinned;
	}
	return umem;

err_unpin:
	unpin_user_pages(umem->pages, done);
	kvfree(umem->pages);
err_unaccount:
	atomic64_sub(umem->npages, &umem->mm->pinned_vm);
err_drop_mm:
	mmdrop(umem->mm);
	kfree(umem);
	return ERR_PTR(err);
}

void sroce_umem_unpin(struct sroce_umem *umem)
{
	unpin_user_pages_dirty_lock(umem->pages, umem->npages, umem->writable);
	atomic64_sub(umem->npages, &umem->mm->pinned_vm);
	mmdrop(umem->mm);
	kvfree(umem->pages);
	kfree(umem);
}
