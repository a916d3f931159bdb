/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Command wrappers that pair each uverbs command with sroce's driver data,
 * as defined by the shared ABI header driver/include/uapi/rdma/sroce-abi.h.
 */
#ifndef SROCE_PROVIDER_ABI_H
#define SROCE_PROVIDER_ABI_H

#include <infiniband/kern-abi.h>
#include <rdma/sroce-abi.h>
#include <kernel-abi/sroce-abi.h>

DECLARE_DRV_CMD(usroce_alloc_pd, IB_USER_VERBS_CMD_ALLOC_PD,
		empty, sroce_alloc_pd_resp);
DECLARE_DRV_CMD(usroce_create_ah, IB_USER_VERBS_CMD_CREATE_AH,
		empty, sroce_create_ah_resp);
DECLARE_DRV_CMD(usroce_create_cq, IB_USER_VERBS_CMD_CREATE_CQ,
		empty, sroce_create_cq_resp);
DECLARE_DRV_CMD(usroce_create_cq_ex, IB_USER_VERBS_EX_CMD_CREATE_CQ,
		empty, sroce_create_cq_resp);
DECLARE_DRV_CMD(usroce_resize_cq, IB_USER_VERBS_CMD_RESIZE_CQ,
		empty, sroce_resize_cq_resp);
DECLARE_DRV_CMD(usroce_create_qp, IB_USER_VERBS_CMD_CREATE_QP,
		empty, sroce_create_qp_resp);
DECLARE_DRV_CMD(usroce_create_srq, IB_USER_VERBS_CMD_CREATE_SRQ,
		empty, sroce_create_srq_resp);
DECLARE_DRV_CMD(usroce_create_srq_ex, IB_USER_VERBS_CMD_CREATE_XSRQ,
		empty, sroce_create_srq_resp);
DECLARE_DRV_CMD(usroce_modify_srq, IB_USER_VERBS_CMD_MODIFY_SRQ,
		sroce_modify_srq_cmd, empty);

#endif /* SROCE_PROVIDER_ABI_H */
