/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The provider's side of a ring shared with sroce.ko (layout and rules in
 * rdma/sroce-abi.h): the mapping, the provider's own index and the
 * acquire/release accesses to the indices the two sides exchange.
 */
#ifndef SROCE_RING_H
#define SROCE_RING_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <rdma/sroce-abi.h>

struct sroce_ring {
	void *map;
	size_t map_size;
	struct sroce_ring_hdr *hdr;	/* == map */
	uint32_t num;			/* slots, a power of two */
	uint32_t stride;
	/* Our index: prod of an SQ or RQ, cons of a CQ.  Under @lock. */
	uint32_t idx;
	/* @idx, and the mapping while a resize (CQ, SRQ) replaces it. */
	pthread_spinlock_t lock;
};

static inline void *sroce_ring_slot(struct sroce_ring *r, uint32_t idx)
{
	return (uint8_t *)r->map + SROCE_RING_SLOTS_OFFSET +
	       (size_t)(idx & (r->num - 1)) * r->stride;
}

/* The other side's index; what it covers is visible after this. */
static inline uint32_t sroce_ring_load(uint32_t *index)
{
	return __atomic_load_n(index, __ATOMIC_ACQUIRE);
}

/* Publish our index once the slots it covers are written or read. */
static inline void sroce_ring_store(uint32_t *index, uint32_t value)
{
	__atomic_store_n(index, value, __ATOMIC_RELEASE);
}

int sroce_ring_map(struct sroce_ring *r, int cmd_fd,
		   const struct sroce_queue_info *info);
int sroce_ring_remap(struct sroce_ring *r, int cmd_fd,
		     const struct sroce_queue_info *info);
void sroce_ring_unmap(struct sroce_ring *r);

#endif /* SROCE_RING_H */
