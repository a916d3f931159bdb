// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rings of the user fast path (see the layout in sroce-abi.h): their
 * memory, and mapping it into the process that owns the queue.
 *
 * A ring is zeroed vmalloc memory, charged to the memory cgroup of the
 * process that creates the queue (its size is the process's choice), and
 * allocated so that it fails with -ENOMEM at the cgroup's limit instead of
 * calling the OOM killer.  vmalloc_user() would charge nothing, and the
 * vmalloc variant that takes flags and marks the area for
 * remap_vmalloc_range() is not exported, so sroce_mmap() inserts the pages
 * itself, as remap_vmalloc_range() would.
 *
 * A user ring is published as an rdma mmap entry, which owns the memory
 * from then on: the memory is freed in mmap_free, once the queue is
 * destroyed, and the pages a mapping holds live until the process unmaps
 * them, so a process that keeps a stale mapping can only scribble on
 * memory nobody reads.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <rdma/uverbs_ioctl.h>

#include "sroce.h"

/* Memory a user sizes: charged, and at the cgroup's limit an error. */
#define SROCE_RING_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
			 __GFP_NOWARN | __GFP_ZERO)

static inline struct sroce_mmap_entry *
to_smmap(struct rdma_user_mmap_entry *entry)
{
	return container_of(entry, struct sroce_mmap_entry, rdma);
}

/*
 * Allocate a ring of @num slots (a power of two) of @stride bytes.  With
 * @udata it is published for mmap and @info tells the provider where.
 */
int sroce_queue_init(struct sroce_queue *q, u32 num, u32 stride,
		     struct ib_udata *udata, struct sroce_queue_info *info)
{
	struct sroce_ucontext *uctx;
	struct sroce_mmap_entry *entry;
	void *buf;
	int err;

	memset(q, 0, sizeof(*q));
	q->num = num;
	q->stride = stride;
	q->size = PAGE_ALIGN(SROCE_RING_SLOTS_OFFSET + (size_t)num * stride);
	buf = __vmalloc(q->size, SROCE_RING_GFP);
	if (!buf)
		return -ENOMEM;
	q->hdr = buf;
	if (!udata)
		return 0;

	entry = kzalloc_obj(*entry);
	if (!entry) {
		err = -ENOMEM;
		goto err_free;
	}
	entry->buf = buf;
	uctx = rdma_udata_to_drv_context(udata, struct sroce_ucontext, ibuc);
	err = rdma_user_mmap_entry_insert(&uctx->ibuc, &entry->rdma, q->size);
	if (err)
		goto err_free_entry;
	q->mmap = entry;

	info->mmap_offset = rdma_user_mmap_get_offset(&entry->rdma);
	info->mmap_size = q->size;
	info->num_slots = num;
	info->stride = stride;
	return 0;

err_free_entry:
	kfree(entry);
err_free:
	vfree(buf);
	q->hdr = NULL;
	return err;
}

/* The kernel is done with @q; a user mapping may keep its memory alive. */
void sroce_queue_destroy(struct sroce_queue *q)
{
	if (q->mmap)
		rdma_user_mmap_entry_remove(&q->mmap->rdma);
	else
		vfree(q->hdr);
	q->hdr = NULL;
	q->mmap = NULL;
}

/*
 * Map the ring of the entry @vma names, from its start.  Each page gets
 * a reference of the mapping's own (vm_insert_page), so it outlives
 * mmap_free until the process unmaps it.
 */
int sroce_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *rdma;
	unsigned long off;
	u8 *buf;
	int err = 0;

	rdma = rdma_user_mmap_entry_get(ibuc, vma);
	if (!rdma)
		return -EINVAL;
	if (vma->vm_end - vma->vm_start > rdma->npages << PAGE_SHIFT) {
		err = -EINVAL;
		goto out;
	}
	buf = to_smmap(rdma)->buf;
	for (off = 0; off < vma->vm_end - vma->vm_start && !err;
	     off += PAGE_SIZE)
		err = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page(buf + off));
	if (!err)
		vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
out:
	rdma_user_mmap_entry_put(rdma);
	return err;
}

void sroce_mmap_free(struct rdma_user_mmap_entry *rdma)
{
	struct sroce_mmap_entry *entry = to_smmap(rdma);

	vfree(entry->buf);
	kfree(entry);
}
