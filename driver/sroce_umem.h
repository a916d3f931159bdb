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

#include <linux/mm_types.h>
#include <linux/types.h>

struct sroce_umem {
	struct mm_struct *mm;	/* grabbed, for the pinned_vm accounting */
	u64 start;		/* user address of the first registered byte */
	u64 length;
	unsigned long npages;
	struct page **pages;	/* pages[0] holds start */
	bool writable;		/* pinned for writing, dirtied on unpin */
};

struct sroce_umem *sroce_umem_pin(u64 start, u64 length, bool writable);
void sroce_umem_unpin(struct sroce_umem *umem);

#endif /* SROCE_UMEM_H */
