// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rings of the user fast path (see the layout in sroce-abi.h): their
 * memory, and mapping it into the process that owns the queue.
 *
 * A ring is vmalloc_user() memory: zeroed, page aligned, and mappable with
 * remap_vmalloc_range().  A user ring is published as an rdma mmap entry,
 * which owns the memory from then on: the memory is freed in mmap_free,
 * once the queue is destroyed and the process has unmapped it, so a process
 * that keeps a stale mapping can only scribble on memory nobody reads.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <rdma/uverbs_ioctl.h>

#include "sroce.h"

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
	buf = vmalloc_user(q->size);
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

int sroce_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *rdma;
	int err;

	rdma = rdma_user_mmap_entry_get(ibuc, vma);
	if (!rdma)
		return -EINVAL;
	if (vma->vm_end - vma->vm_start > rdma->npages << PAGE_SHIFT) {
		err = -EINVAL;
		goto out;
	}
	err = remap_vmalloc_range(vma, to_smmap(rdma)->buf, 0);
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
