// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce XRC: domains, the numbers of XRC SRQs, and opening a target
 * QP that another process created.  The kernel keeps all of it; the
 * provider only wraps the commands.  XRC SRQs are created in srq.c and
 * XRC QPs in qp.c: an initiator QP (IBV_QPT_XRC_SEND) has an SQ and no
 * RQ, a target QP (IBV_QPT_XRC_RECV) no ring at all.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "sroce.h"

struct ibv_xrcd *sroce_open_xrcd(struct ibv_context *context,
				 struct ibv_xrcd_init_attr *attr)
{
	struct ib_uverbs_open_xrcd_resp resp;
	struct ibv_open_xrcd cmd;
	struct verbs_xrcd *xrcd;
	int ret;

	xrcd = calloc(1, sizeof(*xrcd));
	if (!xrcd) {
		errno = ENOMEM;
		return NULL;
	}
	ret = ibv_cmd_open_xrcd(context, xrcd, sizeof(*xrcd), attr, &cmd,
				sizeof(cmd), &resp, sizeof(resp));
	if (ret) {
		free(xrcd);
		errno = ret;
		return NULL;
	}
	sroce_ctx_get(context);
	return &xrcd->xrcd;
}

int sroce_close_xrcd(struct ibv_xrcd *ibxrcd)
{
	struct verbs_xrcd *xrcd = container_of(ibxrcd, struct verbs_xrcd, xrcd);
	struct ibv_context *context = ibxrcd->context;
	int ret;

	ret = ibv_cmd_close_xrcd(xrcd);
	if (ret)
		return ret;
	free(xrcd);
	sroce_ctx_put(context);
	return 0;
}

/* The number a remote initiator names an XRC SRQ by (its XRCETH). */
int sroce_get_srq_num(struct ibv_srq *ibsrq, uint32_t *srq_num)
{
	struct sroce_srq *srq = to_ssrq(ibsrq);

	if (srq->vsrq.srq_type != IBV_SRQT_XRC)
		return EOPNOTSUPP;
	*srq_num = srq->vsrq.srq_num;
	return 0;
}

/*
 * Open a target QP of an XRC domain this process has open: a QP with no
 * rings, which ibv_modify_qp, ibv_query_qp and ibv_destroy_qp (closing
 * it) act on through the kernel.
 */
struct ibv_qp *sroce_open_qp(struct ibv_context *context,
			     struct ibv_qp_open_attr *attr)
{
	struct ib_uverbs_create_qp_resp resp;
	struct ibv_open_qp cmd;
	struct sroce_qp *qp;
	int ret;

	qp = calloc(1, sizeof(*qp));
	if (!qp) {
		errno = ENOMEM;
		return NULL;
	}
	ret = ibv_cmd_open_qp(context, &qp->vqp, sizeof(qp->vqp), attr, &cmd,
			      sizeof(cmd), &resp, sizeof(resp));
	if (ret) {
		free(qp);
		errno = ret;
		return NULL;
	}
	sroce_ctx_get(context);
	return &qp->vqp.qp;
}
