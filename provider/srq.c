// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce shared receive queues.  An SRQ's receive ring is laid out as a
 * QP's RQ and is mapped the same way; ibv_post_srq_recv writes WQEs into
 * it and publishes them with a release store of prod, with no system call.
 * The kernel hands them to the QPs that use the SRQ, or for an XRC SRQ
 * (which names its XRC domain and CQ) to the XRC target QPs of its
 * domain.  There is no tag matching.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sroce.h"
#include "sroce-abi.h"

/* Map the ring the create response names, or destroy the new SRQ. */
static struct ibv_srq *sroce_srq_ready(struct ibv_context *context,
				       struct sroce_srq *srq,
				       const struct sroce_queue_info *info,
				       uint32_t max_sge)
{
	int ret;

	ret = sroce_ring_map(&srq->rq, context->cmd_fd, info);
	if (ret) {
		ibv_cmd_destroy_srq(&srq->vsrq.srq);
		free(srq);
		errno = ret;
		return NULL;
	}
	srq->max_sge = max_sge;
	sroce_ctx_get(context);
	return &srq->vsrq.srq;
}

struct ibv_srq *sroce_create_srq(struct ibv_pd *pd,
				 struct ibv_srq_init_attr *attr)
{
	struct usroce_create_srq_resp resp = {};
	struct ibv_create_srq cmd;
	struct sroce_srq *srq;
	int ret;

	srq = calloc(1, sizeof(*srq));
	if (!srq) {
		errno = ENOMEM;
		return NULL;
	}
	ret = ibv_cmd_create_srq(pd, &srq->vsrq.srq, attr, &cmd, sizeof(cmd),
				 &resp.ibv_resp, sizeof(resp));
	if (ret) {
		free(srq);
		errno = ret;
		return NULL;
	}
	return sroce_srq_ready(pd->context, srq, &resp.rq, attr->attr.max_sge);
}

struct ibv_srq *sroce_create_srq_ex(struct ibv_context *context,
				    struct ibv_srq_init_attr_ex *attr)
{
	struct usroce_create_srq_ex_resp resp = {};
	struct ibv_create_xsrq cmd;
	struct sroce_srq *srq;
	int ret;

	if (attr->comp_mask & ~(IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD |
				IBV_SRQ_INIT_ATTR_XRCD | IBV_SRQ_INIT_ATTR_CQ) ||
	    ((attr->comp_mask & IBV_SRQ_INIT_ATTR_TYPE) &&
	     attr->srq_type != IBV_SRQT_BASIC &&
	     attr->srq_type != IBV_SRQT_XRC)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (!(attr->comp_mask & IBV_SRQ_INIT_ATTR_PD) || !attr->pd) {
		errno = EINVAL;
		return NULL;
	}
	srq = calloc(1, sizeof(*srq));
	if (!srq) {
		errno = ENOMEM;
		return NULL;
	}
	ret = ibv_cmd_create_srq_ex(context, &srq->vsrq, attr, &cmd,
				    sizeof(cmd), &resp.ibv_resp, sizeof(resp));
	if (ret) {
		free(srq);
		errno = ret;
		return NULL;
	}
	return sroce_srq_ready(context, srq, &resp.rq, attr->attr.max_sge);
}

/*
 * With IBV_SRQ_MAX_WR the kernel copies the WQEs not yet taken into a new
 * ring at the same indices and writes where it is into @info (the command
 * has no response).  The ring's lock is held across the call so that
 * nothing is posted to the old ring after the kernel has copied it.  If
 * the new ring cannot be mapped, WQEs posted afterwards go to the old
 * ring, which the kernel no longer reads; the error says so.
 */
int sroce_modify_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr,
		     int attr_mask)
{
	struct sroce_srq *srq = to_ssrq(ibsrq);
	struct sroce_queue_info info = {};
	struct usroce_modify_srq cmd = {};
	struct sroce_ring *r = &srq->rq;
	int ret;

	if (!(attr_mask & IBV_SRQ_MAX_WR))
		return ibv_cmd_modify_srq(ibsrq, attr, attr_mask, &cmd.ibv_cmd,
					  sizeof(cmd.ibv_cmd));

	cmd.ring_info_addr = (uintptr_t)&info;
	pthread_spin_lock(&r->lock);
	ret = ibv_cmd_modify_srq(ibsrq, attr, attr_mask, &cmd.ibv_cmd,
				 sizeof(cmd));
	if (!ret)
		ret = sroce_ring_remap(r, ibsrq->context->cmd_fd, &info);
	pthread_spin_unlock(&r->lock);
	return ret;
}

int sroce_query_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr)
{
	struct ibv_query_srq cmd;

	return ibv_cmd_query_srq(ibsrq, attr, &cmd, sizeof(cmd));
}

int sroce_destroy_srq(struct ibv_srq *ibsrq)
{
	struct ibv_context *context = ibsrq->context;
	struct sroce_srq *srq = to_ssrq(ibsrq);
	int ret;

	ret = ibv_cmd_destroy_srq(ibsrq);
	if (ret)
		return ret;
	sroce_ring_unmap(&srq->rq);
	free(srq);
	sroce_ctx_put(context);
	return 0;
}

/*
 * Write @wr's WQEs into the ring: ENOMEM when it is full, EINVAL for a WR
 * with more SGEs than the SRQ takes; *bad_wr is then the WR that failed,
 * and those before it are posted.
 */
int sroce_post_srq_recv(struct ibv_srq *ibsrq, struct ibv_recv_wr *wr,
			struct ibv_recv_wr **bad_wr)
{
	struct sroce_srq *srq = to_ssrq(ibsrq);
	bool posted;
	int ret;

	ret = sroce_ring_post_recv(&srq->rq, srq->max_sge, &wr, &posted);
	if (ret)
		*bad_wr = wr;
	return ret;
}
