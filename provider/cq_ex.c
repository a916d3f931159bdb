// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce's extended CQ poll API (ibv_start_poll, ibv_next_poll,
 * ibv_end_poll and the ibv_wc_read_* accessors).  A batch holds the CQ
 * ring's lock from start_poll to end_poll, as ibv_poll_cq holds it for
 * one call, and reads each CQE in place in the ring: the kernel never
 * writes a slot the provider has not given back through cons.  A CQE is
 * given back once the batch moves past it (next_poll) or ends on it
 * (end_poll), so a long batch does not leave the kernel a full ring.
 * The accessors read the CQE through cqe.h, as ibv_poll_cq does.
 */
#include <config.h>

#include <errno.h>

#include "cqe.h"
#include "sroce.h"

static struct sroce_cq *cqx_to_scq(struct ibv_cq_ex *cqx)
{
	return container_of(cqx, struct sroce_cq, vcq.cq_ex);
}

static const struct sroce_cqe *cqx_cur(struct ibv_cq_ex *cqx)
{
	return cqx_to_scq(cqx)->cur;
}

/*
 * Make ring.idx's slot the batch's current CQE if the kernel has produced
 * it; under ring.lock.
 */
static int cq_ex_load(struct sroce_cq *cq)
{
	struct sroce_ring *r = &cq->ring;
	const struct sroce_cqe *cqe;

	if (r->idx == sroce_ring_load(&r->hdr->prod)) {
		cq->cur = NULL;
		return ENOENT;
	}
	cqe = sroce_ring_slot(r, r->idx);
	cq->cur = cqe;
	cq->vcq.cq_ex.wr_id = sroce_cqe_wr_id(cqe);
	cq->vcq.cq_ex.status = sroce_cqe_status(cqe);
	return 0;
}

/* The batch is done with its current CQE: hand the slot back. */
static void cq_ex_consume(struct sroce_cq *cq)
{
	struct sroce_ring *r = &cq->ring;

	if (!cq->cur)
		return;
	cq->cur = NULL;
	r->idx++;
	sroce_ring_store(&r->hdr->cons, r->idx);
}

static int cq_ex_start_poll(struct ibv_cq_ex *cqx, struct ibv_poll_cq_attr *attr)
{
	struct sroce_cq *cq = cqx_to_scq(cqx);
	int ret;

	/* No attributes are defined. */
	if (attr->comp_mask)
		return EINVAL;
	pthread_spin_lock(&cq->ring.lock);
	ret = cq_ex_load(cq);
	if (ret)
		pthread_spin_unlock(&cq->ring.lock);
	return ret;
}

static int cq_ex_next_poll(struct ibv_cq_ex *cqx)
{
	struct sroce_cq *cq = cqx_to_scq(cqx);

	/* Past the end already: stay there until end_poll. */
	if (!cq->cur)
		return ENOENT;
	cq_ex_consume(cq);
	return cq_ex_load(cq);
}

static void cq_ex_end_poll(struct ibv_cq_ex *cqx)
{
	struct sroce_cq *cq = cqx_to_scq(cqx);

	cq_ex_consume(cq);
	pthread_spin_unlock(&cq->ring.lock);
}

static enum ibv_wc_opcode cq_ex_read_opcode(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_opcode(cqx_cur(cqx));
}

static uint32_t cq_ex_read_vendor_err(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_vendor_err(cqx_cur(cqx));
}

static unsigned int cq_ex_read_wc_flags(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_wc_flags(cqx_cur(cqx));
}

static uint32_t cq_ex_read_byte_len(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_byte_len(cqx_cur(cqx));
}

static __be32 cq_ex_read_imm_data(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_imm_data(cqx_cur(cqx));
}

static uint32_t cq_ex_read_qp_num(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_qp_num(cqx_cur(cqx));
}

static uint32_t cq_ex_read_src_qp(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_src_qp(cqx_cur(cqx));
}

static uint32_t cq_ex_read_slid(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_slid(cqx_cur(cqx));
}

static uint8_t cq_ex_read_sl(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_sl(cqx_cur(cqx));
}

static uint8_t cq_ex_read_dlid_path_bits(struct ibv_cq_ex *cqx)
{
	return sroce_cqe_dlid_path_bits(cqx_cur(cqx));
}

/*
 * The poll functions and the accessors of what the user asked for in
 * @wc_flags (sroce_create_cq_ex refused anything else); as the verbs API
 * says, the others may not be called and stay NULL.
 */
void sroce_cq_ex_init(struct sroce_cq *cq, uint64_t wc_flags)
{
	struct ibv_cq_ex *cqx = &cq->vcq.cq_ex;

	cqx->start_poll = cq_ex_start_poll;
	cqx->next_poll = cq_ex_next_poll;
	cqx->end_poll = cq_ex_end_poll;
	cqx->read_opcode = cq_ex_read_opcode;
	cqx->read_vendor_err = cq_ex_read_vendor_err;
	cqx->read_wc_flags = cq_ex_read_wc_flags;
	if (wc_flags & IBV_WC_EX_WITH_BYTE_LEN)
		cqx->read_byte_len = cq_ex_read_byte_len;
	if (wc_flags & IBV_WC_EX_WITH_IMM)
		cqx->read_imm_data = cq_ex_read_imm_data;
	if (wc_flags & IBV_WC_EX_WITH_QP_NUM)
		cqx->read_qp_num = cq_ex_read_qp_num;
	if (wc_flags & IBV_WC_EX_WITH_SRC_QP)
		cqx->read_src_qp = cq_ex_read_src_qp;
	if (wc_flags & IBV_WC_EX_WITH_SLID)
		cqx->read_slid = cq_ex_read_slid;
	if (wc_flags & IBV_WC_EX_WITH_SL)
		cqx->read_sl = cq_ex_read_sl;
	if (wc_flags & IBV_WC_EX_WITH_DLID_PATH_BITS)
		cqx->read_dlid_path_bits = cq_ex_read_dlid_path_bits;
}
