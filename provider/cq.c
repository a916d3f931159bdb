// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce completion queues: the kernel writes CQEs into a mapped ring,
 * which ibv_poll_cq reads without entering the kernel.  Every CQ is
 * created as an extended one; the ibv_cq_ex poll API is in cq_ex.c.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cqe.h"
#include "sroce.h"
#include "sroce-abi.h"

/* Map the ring @info describes into @r, keeping @r's index and lock. */
static int ring_mmap(struct sroce_ring *r, int cmd_fd,
		     const struct sroce_queue_info *info)
{
	void *map;

	if (!info->num_slots || (info->num_slots & (info->num_slots - 1)))
		return EINVAL;
	map = mmap(NULL, info->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   cmd_fd, info->mmap_offset);
	if (map == MAP_FAILED)
		return errno;
	r->map = map;
	r->map_size = info->mmap_size;
	r->hdr = map;
	r->num = info->num_slots;
	r->stride = info->stride;
	return 0;
}

int sroce_ring_map(struct sroce_ring *r, int cmd_fd,
		   const struct sroce_queue_info *info)
{
	int ret;

	ret = ring_mmap(r, cmd_fd, info);
	if (ret)
		return ret;
	r->idx = 0;
	pthread_spin_init(&r->lock, PTHREAD_PROCESS_PRIVATE);
	return 0;
}

/*
 * Move @r to the new ring @info describes, keeping its index and lock
 * (held by the caller).  The old mapping is dropped only once the new one
 * is in place; on failure @r keeps the old one.
 */
int sroce_ring_remap(struct sroce_ring *r, int cmd_fd,
		     const struct sroce_queue_info *info)
{
	void *old_map = r->map;
	size_t old_size = r->map_size;
	int ret;

	ret = ring_mmap(r, cmd_fd, info);
	if (!ret)
		munmap(old_map, old_size);
	return ret;
}

void sroce_ring_unmap(struct sroce_ring *r)
{
	if (!r->map)
		return;
	munmap(r->map, r->map_size);
	pthread_spin_destroy(&r->lock);
	r->map = NULL;
}

/*
 * What an extended CQ offers: the standard completion fields (LIDs and SL
 * read 0 on RoCE), no timestamps (sroce's CQE carries none), and of the
 * create flags only SINGLE_THREADED, a hint that the CQ needs no locking,
 * which it may ignore.  IGNORE_OVERRUN is refused: a full sroce CQ loses
 * the CQE and fails the QP.  sroce has no parent domains
 * (IBV_CQ_INIT_ATTR_MASK_PD).
 */
#define SROCE_CQ_WC_FLAGS	IBV_WC_STANDARD_FLAGS
#define SROCE_CQ_CREATE_FLAGS	IBV_CREATE_CQ_ATTR_SINGLE_THREADED

struct ibv_cq_ex *sroce_create_cq_ex(struct ibv_context *context,
				     struct ibv_cq_init_attr_ex *attr)
{
	struct usroce_create_cq_ex_resp resp = {};
	struct sroce_cq *cq;
	int ret;

	if ((attr->comp_mask & ~IBV_CQ_INIT_ATTR_MASK_FLAGS) ||
	    (attr->wc_flags & ~(uint64_t)SROCE_CQ_WC_FLAGS) ||
	    ((attr->comp_mask & IBV_CQ_INIT_ATTR_MASK_FLAGS) &&
	     (attr->flags & ~SROCE_CQ_CREATE_FLAGS))) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	cq = calloc(1, sizeof(*cq));
	if (!cq) {
		errno = ENOMEM;
		return NULL;
	}
	ret = sroce_cmd_create_cq_ex(context, attr, &cq->vcq, NULL, 0,
				     &resp.ibv_resp, sizeof(resp), 0);
	if (ret)
		goto err_free;
	ret = sroce_ring_map(&cq->ring, context->cmd_fd, &resp.cq);
	if (ret)
		goto err_destroy;
	sroce_cq_ex_init(cq, attr->wc_flags);
	sroce_ctx_get(context);
	return &cq->vcq.cq_ex;

err_destroy:
	ibv_cmd_destroy_cq(&cq->vcq.cq);
err_free:
	free(cq);
	errno = ret;
	return NULL;
}

/* A plain CQ is an extended one that nobody polls with the ex API. */
struct ibv_cq *sroce_create_cq(struct ibv_context *context, int cqe,
			       struct ibv_comp_channel *channel,
			       int comp_vector)
{
	struct ibv_cq_init_attr_ex attr = {
		.cqe = cqe,
		.channel = channel,
		.comp_vector = comp_vector,
	};
	struct ibv_cq_ex *cqx;

	cqx = sroce_create_cq_ex(context, &attr);
	return cqx ? ibv_cq_ex_to_cq(cqx) : NULL;
}

int sroce_destroy_cq(struct ibv_cq *ibcq)
{
	struct ibv_context *context = ibcq->context;
	struct sroce_cq *cq = to_scq(ibcq);
	int ret;

	ret = ibv_cmd_destroy_cq(ibcq);
	if (ret)
		return ret;
	sroce_ring_unmap(&cq->ring);
	free(cq);
	sroce_ctx_put(context);
	return 0;
}

/*
 * The kernel copies the CQEs not yet polled into a new ring at the same
 * indices.  The ring's lock is held across the call so that nothing is
 * polled from the old ring after the kernel has copied it; the old
 * mapping stays valid until it is unmapped here.  If the new ring cannot
 * be mapped the CQ can complete nothing more, which the error says.
 */
int sroce_resize_cq(struct ibv_cq *ibcq, int cqe)
{
	struct sroce_cq *cq = to_scq(ibcq);
	struct usroce_resize_cq_resp resp = {};
	struct ibv_resize_cq cmd = {};
	struct sroce_ring *r = &cq->ring;
	int ret;

	pthread_spin_lock(&r->lock);
	ret = ibv_cmd_resize_cq(ibcq, cqe, &cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (!ret)
		ret = sroce_ring_remap(r, ibcq->context->cmd_fd, &resp.cq);
	pthread_spin_unlock(&r->lock);
	return ret;
}

int sroce_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc)
{
	struct sroce_ring *r = &to_scq(ibcq)->ring;
	uint32_t prod;
	int n = 0;

	pthread_spin_lock(&r->lock);
	prod = sroce_ring_load(&r->hdr->prod);
	for (; n < ne && r->idx != prod; n++, r->idx++)
		sroce_cqe_to_wc(sroce_ring_slot(r, r->idx), &wc[n]);
	if (n)
		sroce_ring_store(&r->hdr->cons, r->idx);
	pthread_spin_unlock(&r->lock);
	return n;
}

/*
 * Drop the CQEs of QP @qp_num from @cq, for the QP's move to RESET: its
 * completions go with its work, as they do on hardware, so that a QP
 * taken from ERR through RESET back to RTS does not hand its old flush
 * errors to the next poll (rdma-core's tests expect this).  Receive
 * completions of a QP with an SRQ stay: each one holds a buffer that
 * only its CQE gives back to the application.
 *
 * The kernel adds no CQE for a QP in RESET and writes only past the
 * producer index read here, so the CQEs kept move up, over the ones
 * dropped, towards that index, and the consumer index skips the slots
 * this frees.  Under ring.lock, which also keeps an ibv_cq_ex batch out.
 */
void sroce_cq_clean(struct ibv_cq *ibcq, uint32_t qp_num, bool keep_recv)
{
	struct sroce_ring *r = &to_scq(ibcq)->ring;
	uint32_t prod, i, dropped = 0;
	struct sroce_cqe *cqe;

	pthread_spin_lock(&r->lock);
	prod = sroce_ring_load(&r->hdr->prod);
	for (i = prod; i != r->idx;) {
		cqe = sroce_ring_slot(r, --i);
		if (cqe->qp_num == qp_num &&
		    !(keep_recv && (cqe->opcode & SROCE_WC_RECV)))
			dropped++;
		else if (dropped)
			memcpy(sroce_ring_slot(r, i + dropped), cqe, r->stride);
	}
	if (dropped) {
		r->idx += dropped;
		sroce_ring_store(&r->hdr->cons, r->idx);
	}
	pthread_spin_unlock(&r->lock);
}

int sroce_req_notify_cq(struct ibv_cq *ibcq, int solicited_only)
{
	return ibv_cmd_req_notify_cq(ibcq, solicited_only);
}
