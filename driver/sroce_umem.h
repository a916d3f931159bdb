/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sroce's umem layer: user memory pinned for the device's whole use of it.
 *
 * sroce never copies registered memory into bounce buffers or maps it
 * incoherently: the data path reads and writes the pinned pages in place,
 * so remote operations see and change exactly what the process sees.
 */
#ifndef SROCE_UMEM_H
#define SROCE_UMEM_H

#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

/*
 * Allocations whose size a user chooses (a page array, on-demand page
 * state): charged to the memory cgroup, and at its limit -ENOMEM for the
 * caller rather than the OOM killer or a warning.
 */
#define SROCE_UMEM_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
			 __GFP_NOWARN)

/*
 * Registered user memory: pinned (sroce_umem.c) or, with
 * IB_ACCESS_ON_DEMAND, paged in on demand (sroce_umem_odp.c).  Page 0 is
 * the page that holds start.
 */
struct sroce_umem {
	struct mm_struct *mm;	/* grabbed */
	u64 start;		/* user address of the first registered byte */
	u64 length;
	unsigned long npages;
	bool writable;		/* the device may write the pages */
	bool odp;
	bool implicit;		/* on demand, all of the address space */

	/* Pinned memory: every page, pinned; dirtied on unpin if writable. */
	struct page **pages;

	/*
	 * On-demand paging: @notifier watches the range.  @odp_lock
	 * protects @pfn_xa, which records the pages faulted in so far, by
	 * index, and nothing else: its memory follows the pages the device
	 * reached, never the length of the range.  The data path holds it
	 * from reading a page's entry until it is done with the page, and
	 * the invalidation holds it while it clears entries, so no page is
	 * touched after its invalidation returned.
	 */
	struct mmu_interval_notifier notifier;
	struct mutex odp_lock;		/* see above */
	struct xarray pfn_xa;
};

struct sroce_umem *sroce_umem_alloc(u64 start, u64 length, bool writable);
struct sroce_umem *sroce_umem_pin(u64 start, u64 length, bool writable);
void sroce_umem_unpin(struct sroce_umem *umem);

struct sroce_umem *sroce_umem_odp_get(u64 start, u64 length, bool writable);
struct sroce_umem *sroce_umem_odp_implicit_get(bool writable);
void sroce_umem_odp_release(struct sroce_umem *umem);
int sroce_umem_odp_fault(struct sroce_umem *umem, unsigned long idx,
			 unsigned long n, bool write, bool fault);
struct page *sroce_umem_odp_page(struct sroce_umem *umem, unsigned long idx,
				 bool write);

/*
 * Page @idx of @umem, for a write with @write.  The page stays put until
 * sroce_umem_page_done().  An ERR_PTR for an on-demand page that is not
 * present (-EAGAIN: sroce_fault.c faults it in) or cannot be had.
 */
static inline struct page *sroce_umem_page(struct sroce_umem *umem,
					   unsigned long idx, bool write)
{
	if (umem->odp)
		return sroce_umem_odp_page(umem, idx, write);
	return umem->pages[idx];
}

static inline void sroce_umem_page_done(struct sroce_umem *umem)
{
	if (umem->odp)
		mutex_unlock(&umem->odp_lock);
}

/* Let go of @umem: unpin it, or stop watching it. */
static inline void sroce_umem_release(struct sroce_umem *umem)
{
	if (umem->odp)
		sroce_umem_odp_release(umem);
	else
		sroce_umem_unpin(umem);
}

#endif /* SROCE_UMEM_H */
