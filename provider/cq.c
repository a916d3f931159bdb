// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce completion queues: the kernel writes CQEs into a mapped ring,
 * which ibv_poll_cq reads without entering the kernel.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sroce.h"
#include "sroce-abi.h"

int sroce_ring_map(struct sroce_ring *r, int cmd_fd,
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
	r->idx = 0;
	pthread_spin_init(&r->lock, PTHREAD_PROCESS_PRIVATE);
	return 0;
}

void sroce_ring_unmap(struct sroce_ring *r)
{
	if (!r->map)
		return;
	munmap(r->map, r->map_size);
	pthread_spin_destroy(&r->lock);
	r->map = NULL;
}

struct ibv_cq *sroce_create_cq(struct ibv_context *context, int cqe,
			       struct ibv_comp_channel *channel,
			       int comp_vector)
{
	struct usroce_create_cq_resp resp = {};
	struct ibv_create_cq cmd;
	struct sroce_cq *cq;
	int ret;

	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return NULL;
	ret = ibv_cmd_create_cq(context, cqe, channel, comp_vector,
				&cq->ibv_cq, &cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (ret)
		goto err_free;
	ret = sroce_ring_map(&cq->ring, context->cmd_fd, &resp.cq);
	if (ret)
		goto err_destroy;
	return &cq->ibv_cq;

err_destroy:
	ibv_cmd_destroy_cq(&cq->ibv_cq);
err_free:
	free(cq);
	errno = ret;
	return NULL;
}

int sroce_destroy_cq(struct ibv_cq *ibcq)
{
	struct sroce_cq *cq = to_scq(ibcq);
	int ret;

	ret = ibv_cmd_destroy_cq(ibcq);
	if (ret)
		return ret;
	sroce_ring_unmap(&cq->ring);
	free(cq);
	return 0;
}

/*
 * A UD receive carries a GRH (RoCEv2: the IPv6 or IPv4 header, which
 * ibv_init_ah_from_wc tells apart) in the first 40 bytes of the buffer.
 * RoCE has no LIDs, SLs or P_Keys to report: slid, sl, dlid_path_bits and
 * pkey_index stay 0.
 */
static void sroce_cqe_to_wc(const struct sroce_cqe *cqe, struct ibv_wc *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->wr_id = cqe->wr_id;
	wc->status = cqe->status;
	wc->opcode = cqe->opcode;
	wc->vendor_err = cqe->vendor_err;
	wc->byte_len = cqe->byte_len;
	wc->qp_num = cqe->qp_num;
	wc->src_qp = cqe->src_qp;
	if (cqe->flags & SROCE_CQE_WITH_IMM) {
		wc->imm_data = cqe->ex;
		wc->wc_flags |= IBV_WC_WITH_IMM;
	}
	if (cqe->flags & SROCE_CQE_GRH)
		wc->wc_flags |= IBV_WC_GRH;
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

int sroce_req_notify_cq(struct ibv_cq *ibcq, int solicited_only)
{
	return ibv_cmd_req_notify_cq(ibcq, solicited_only);
}
