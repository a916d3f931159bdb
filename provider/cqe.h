/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How a CQE of a CQ ring reads as a work completion.  This is the one
 * place that maps struct sroce_cqe to the fields of a completion: field by
 * field for the ibv_cq_ex accessors (cq_ex.c), all at once into a struct
 * ibv_wc for ibv_poll_cq (cq.c).
 *
 * RoCE has no LIDs, SLs or P_Keys to report: slid, sl, dlid_path_bits and
 * pkey_index read 0.  A UD receive carries a GRH (RoCEv2: the IPv6 or IPv4
 * header, which ibv_init_ah_from_wc tells apart) in the first 40 bytes of
 * its buffer.  ex holds the immediate data or, for a SEND with
 * Invalidate, the rkey it invalidated.
 */
#ifndef SROCE_CQE_H
#define SROCE_CQE_H

#include <string.h>
#include <infiniband/verbs.h>
#include <rdma/sroce-abi.h>

static inline uint64_t sroce_cqe_wr_id(const struct sroce_cqe *cqe)
{
	return cqe->wr_id;
}

static inline enum ibv_wc_status sroce_cqe_status(const struct sroce_cqe *cqe)
{
	return cqe->status;
}

static inline enum ibv_wc_opcode sroce_cqe_opcode(const struct sroce_cqe *cqe)
{
	return cqe->opcode;
}

static inline uint32_t sroce_cqe_vendor_err(const struct sroce_cqe *cqe)
{
	return cqe->vendor_err;
}

static inline uint32_t sroce_cqe_byte_len(const struct sroce_cqe *cqe)
{
	return cqe->byte_len;
}

static inline uint32_t sroce_cqe_qp_num(const struct sroce_cqe *cqe)
{
	return cqe->qp_num;
}

static inline uint32_t sroce_cqe_src_qp(const struct sroce_cqe *cqe)
{
	return cqe->src_qp;
}

/* RoCE: no LIDs, no SL. */
static inline uint32_t sroce_cqe_slid(const struct sroce_cqe *cqe)
{
	return 0;
}

static inline uint8_t sroce_cqe_sl(const struct sroce_cqe *cqe)
{
	return 0;
}

static inline uint8_t sroce_cqe_dlid_path_bits(const struct sroce_cqe *cqe)
{
	return 0;
}

static inline unsigned int sroce_cqe_wc_flags(const struct sroce_cqe *cqe)
{
	unsigned int flags = 0;

	if (cqe->flags & SROCE_CQE_WITH_IMM)
		flags |= IBV_WC_WITH_IMM;
	if (cqe->flags & SROCE_CQE_GRH)
		flags |= IBV_WC_GRH;
	if (cqe->flags & SROCE_CQE_WITH_INV)
		flags |= IBV_WC_WITH_INV;
	return flags;
}

/*
 * Immediate data, in network order as the CQE holds it, or the rkey a SEND
 * with Invalidate invalidated (which shares its place in struct ibv_wc and
 * its reader in struct ibv_cq_ex); 0 without either.
 */
static inline __be32 sroce_cqe_imm_data(const struct sroce_cqe *cqe)
{
	return cqe->flags & (SROCE_CQE_WITH_IMM | SROCE_CQE_WITH_INV) ?
	       cqe->ex : 0;
}

static inline void sroce_cqe_to_wc(const struct sroce_cqe *cqe,
				   struct ibv_wc *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->wr_id = sroce_cqe_wr_id(cqe);
	wc->status = sroce_cqe_status(cqe);
	wc->opcode = sroce_cqe_opcode(cqe);
	wc->vendor_err = sroce_cqe_vendor_err(cqe);
	wc->byte_len = sroce_cqe_byte_len(cqe);
	wc->imm_data = sroce_cqe_imm_data(cqe);
	wc->qp_num = sroce_cqe_qp_num(cqe);
	wc->src_qp = sroce_cqe_src_qp(cqe);
	wc->wc_flags = sroce_cqe_wc_flags(cqe);
	wc->slid = sroce_cqe_slid(cqe);
	wc->sl = sroce_cqe_sl(cqe);
	wc->dlid_path_bits = sroce_cqe_dlid_path_bits(cqe);
}

#endif /* SROCE_CQE_H */
