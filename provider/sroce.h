/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libsroce: the rdma-core provider for sroce devices.
 */
#ifndef SROCE_PROVIDER_H
#define SROCE_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>
#include <infiniband/driver.h>

#include "ring.h"

/*
 * FLUSH is in verbs.h from rdma-core 45 on; 44 (Debian 12) has ATOMIC
 * WRITE but no IBV_WR_FLUSH, IBV_QP_EX_WITH_FLUSH or wr_flush, so
 * against it the provider offers no FLUSH (HAVE_IBV_WR_FLUSH: config.h,
 * probed by the Makefile).
 */
#if HAVE_IBV_WR_FLUSH
#define SROCE_QP_EX_WITH_FLUSH IBV_QP_EX_WITH_FLUSH
#else
#define SROCE_QP_EX_WITH_FLUSH 0
#endif

/*
 * rdma-core 65 added arguments that the provider leaves NULL: the file
 * descriptors of ibv_cmd_get_context() and the CQ buffer of
 * ibv_cmd_create_cq_ex() (HAVE_CMD_GET_CONTEXT_FD_ARR and
 * HAVE_CMD_CREATE_CQ_PROV_ATTR: config.h, probed by the Makefile).
 */
static inline int sroce_cmd_get_context(struct verbs_context *vctx,
					struct ibv_get_context *cmd,
					size_t cmd_size,
					struct ib_uverbs_get_context_resp *resp,
					size_t resp_size)
{
#if HAVE_CMD_GET_CONTEXT_FD_ARR
	return ibv_cmd_get_context(vctx, cmd, cmd_size, NULL, resp, resp_size);
#else
	return ibv_cmd_get_context(vctx, cmd, cmd_size, resp, resp_size);
#endif
}

static inline int
sroce_cmd_create_cq_ex(struct ibv_context *context,
		       const struct ibv_cq_init_attr_ex *attr,
		       struct verbs_cq *vcq, struct ibv_create_cq_ex *cmd,
		       size_t cmd_size, struct ib_uverbs_ex_create_cq_resp *resp,
		       size_t resp_size, uint32_t cmd_flags)
{
#if HAVE_CMD_CREATE_CQ_PROV_ATTR
	return ibv_cmd_create_cq_ex(context, attr, NULL, vcq, cmd, cmd_size,
				    resp, resp_size, cmd_flags);
#else
	return ibv_cmd_create_cq_ex(context, attr, vcq, cmd, cmd_size,
				    resp, resp_size, cmd_flags);
#endif
}

static inline bool sroce_wr_is_flush(enum ibv_wr_opcode opcode)
{
#if HAVE_IBV_WR_FLUSH
	return opcode == IBV_WR_FLUSH;
#else
	return false;
#endif
}

/*
 * ATOMIC WRITE and FLUSH: placement requests, RC only (XRC has no
 * opcodes for them), without local data.
 */
static inline bool sroce_wr_is_placement(enum ibv_wr_opcode opcode)
{
	return opcode == IBV_WR_ATOMIC_WRITE || sroce_wr_is_flush(opcode);
}

struct sroce_device {
	struct verbs_device vdev;
};

struct sroce_context {
	struct verbs_context vctx;
	/*
	 * References to the context, so that it outlives ibv_close_device
	 * while objects of it live (libibverbs' destroy verbs find the ops
	 * through obj->context, and the kernel destroys through its cmd_fd):
	 * one is the context's own, from alloc_context until free_context
	 * (the close), and each PD, MR, CQ (plain or extended), QP, SRQ and AH
	 * holds one from the moment its create succeeded until its destroy
	 * succeeds (a destroy the kernel refuses keeps it).  Whoever drops
	 * the last one, the close or a destroy after it, uninitialises and
	 * frees the context: sroce_ctx_get() and sroce_ctx_put().
	 */
	unsigned int refs;
	/*
	 * The ibv_wr_* opcodes that the device does not execute although the
	 * provider has them (IBV_QP_EX_WITH_*): ATOMIC WRITE and FLUSH on a
	 * kernel without them (before 6.2).  Set once at alloc_context.
	 */
	uint64_t unsupported_send_ops;
};

struct sroce_pd {
	struct ibv_pd ibv_pd;
	uint32_t pdn;
};

/* What a UD WQE names the AH by: the number the kernel gave it. */
struct sroce_ah {
	struct ibv_ah ibv_ah;
	uint32_t ah_num;
};

struct sroce_cq {
	struct verbs_cq vcq;		/* vcq.cq, or vcq.cq_ex for the ex API */
	struct sroce_ring ring;		/* the kernel produces */
	/*
	 * The CQE an ibv_cq_ex batch is at (ring.idx's slot, not yet
	 * consumed), from start_poll to end_poll, which hold ring.lock;
	 * NULL once the batch ran out of CQEs.
	 */
	const struct sroce_cqe *cur;
};

struct sroce_qp {
	struct verbs_qp vqp;		/* vqp.qp_ex with send_ops_flags */
	/* Unmapped: an XRC target QP's SQ; the RQ with an SRQ, or XRC. */
	struct sroce_ring sq;		/* we produce, the kernel consumes */
	struct sroce_ring rq;
	uint32_t max_send_sge;
	uint32_t max_recv_sge;
	uint32_t max_inline;
	bool sig_all;
	/*
	 * The ibv_wr_* batch between wr_start and wr_complete/wr_abort, which
	 * holds sq.lock: where it began in the SQ, the WQE that set_* calls
	 * fill (NULL before the first ibv_wr_<opcode>) and its first error.
	 */
	uint32_t wr_batch_start;
	struct sroce_send_wqe *wr_cur;
	int wr_err;
};

/* A shared receive queue: its ring, which many QPs consume. */
struct sroce_srq {
	struct verbs_srq vsrq;
	struct sroce_ring rq;		/* we produce, the kernel consumes */
	uint32_t max_sge;
};

static inline struct sroce_srq *to_ssrq(struct ibv_srq *ibsrq)
{
	return container_of(ibsrq, struct sroce_srq, vsrq.srq);
}

static inline struct sroce_ah *to_sah(struct ibv_ah *ibah)
{
	return container_of(ibah, struct sroce_ah, ibv_ah);
}

static inline struct sroce_cq *to_scq(struct ibv_cq *ibcq)
{
	return container_of(ibcq, struct sroce_cq, vcq.cq);
}

static inline struct sroce_qp *to_sqp(struct ibv_qp *ibqp)
{
	return container_of(ibqp, struct sroce_qp, vqp.qp);
}

/* ah.c */
struct ibv_ah *sroce_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr);
int sroce_destroy_ah(struct ibv_ah *ibah);

/* cq.c */
struct ibv_cq *sroce_create_cq(struct ibv_context *context, int cqe,
			       struct ibv_comp_channel *channel,
			       int comp_vector);
int sroce_destroy_cq(struct ibv_cq *ibcq);
int sroce_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc);
int sroce_resize_cq(struct ibv_cq *ibcq, int cqe);
void sroce_cq_clean(struct ibv_cq *ibcq, uint32_t qp_num, bool keep_recv);
int sroce_req_notify_cq(struct ibv_cq *ibcq, int solicited_only);
struct ibv_cq_ex *sroce_create_cq_ex(struct ibv_context *context,
				     struct ibv_cq_init_attr_ex *attr);

/* cq_ex.c */
void sroce_cq_ex_init(struct sroce_cq *cq, uint64_t wc_flags);

/* mw.c */
struct ibv_mw *sroce_alloc_mw(struct ibv_pd *pd, enum ibv_mw_type type);
int sroce_dealloc_mw(struct ibv_mw *mw);
int sroce_wqe_bind_mw(struct sroce_send_wqe *wqe, struct ibv_mw *mw,
		      uint32_t rkey, const struct ibv_mw_bind_info *info);
int sroce_bind_mw(struct ibv_qp *qp, struct ibv_mw *mw,
		  struct ibv_mw_bind *mw_bind);

/* qp.c */
struct ibv_qp *sroce_create_qp(struct ibv_pd *pd,
			       struct ibv_qp_init_attr *attr);
int sroce_query_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		   int attr_mask, struct ibv_qp_init_attr *init_attr);
int sroce_modify_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		    int attr_mask);
struct ibv_qp *sroce_create_qp_ex(struct ibv_context *context,
				  struct ibv_qp_init_attr_ex *attr);
int sroce_destroy_qp(struct ibv_qp *ibqp);
uint32_t sroce_wqe_flags(const struct sroce_qp *qp, unsigned int send_flags);
int sroce_sq_doorbell(struct sroce_qp *qp);
int sroce_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
		    struct ibv_send_wr **bad_wr);
int sroce_ring_post_recv(struct sroce_ring *rq, uint32_t max_sge,
			 struct ibv_recv_wr **wr, bool *posted);
int sroce_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		    struct ibv_recv_wr **bad_wr);

/* srq.c */
struct ibv_srq *sroce_create_srq(struct ibv_pd *pd,
				 struct ibv_srq_init_attr *attr);
struct ibv_srq *sroce_create_srq_ex(struct ibv_context *context,
				    struct ibv_srq_init_attr_ex *attr);
int sroce_modify_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr,
		     int attr_mask);
int sroce_query_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr);
int sroce_destroy_srq(struct ibv_srq *ibsrq);
int sroce_post_srq_recv(struct ibv_srq *ibsrq, struct ibv_recv_wr *wr,
			struct ibv_recv_wr **bad_wr);

/* xrc.c */
struct ibv_xrcd *sroce_open_xrcd(struct ibv_context *context,
				 struct ibv_xrcd_init_attr *attr);
int sroce_close_xrcd(struct ibv_xrcd *ibxrcd);
int sroce_get_srq_num(struct ibv_srq *ibsrq, uint32_t *srq_num);
struct ibv_qp *sroce_open_qp(struct ibv_context *context,
			     struct ibv_qp_open_attr *attr);

/* qp_ex.c */
int sroce_qp_ex_init(struct sroce_qp *qp, uint64_t send_ops_flags);

static inline struct sroce_context *to_sctx(struct ibv_context *ibctx)
{
	return container_of(ibctx, struct sroce_context, vctx.context);
}

/* A reference to the context for a new object of it (struct sroce_context). */
static inline void sroce_ctx_get(struct ibv_context *ibctx)
{
	__atomic_fetch_add(&to_sctx(ibctx)->refs, 1, __ATOMIC_RELAXED);
}

/* sroce.c */
void sroce_ctx_put(struct ibv_context *ibctx);

static inline struct sroce_pd *to_spd(struct ibv_pd *ibpd)
{
	return container_of(ibpd, struct sroce_pd, ibv_pd);
}

/*
 * A QP sends from RTS on (IBTA 10.8.2.1: posting to the send queue in
 * RESET, INIT or RTR is an immediate error); in SQD the WRs wait, in the
 * error states they are flushed.
 */
static inline bool sroce_qp_sq_ready(struct ibv_qp *ibqp)
{
	return ibqp->state != IBV_QPS_RESET && ibqp->state != IBV_QPS_INIT &&
	       ibqp->state != IBV_QPS_RTR;
}

#endif /* SROCE_PROVIDER_H */
