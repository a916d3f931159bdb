// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce: device matching, contexts, queries, protection domains and
 * memory regions.  Completion queues are in cq.c and cq_ex.c, QPs in qp.c
 * and qp_ex.c, shared receive queues in srq.c, address handles in ah.c.
 *
 * sroce is an out-of-tree driver, so the kernel reports RDMA_DRIVER_UNKNOWN
 * and the device may carry any name ("rdma link add <name> type sroce").
 * The provider therefore recognises its devices by the hca_type sysfs
 * attribute that sroce.ko publishes, not by driver id or name.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sroce.h"
#include "sroce-abi.h"

/*
 * libibverbs walks every provider's match table when it matches a device
 * by driver id, so the table must exist even though it never matches:
 * the decision is sroce_match_device's.
 */
static const struct verbs_match_ent sroce_match_table[] = {
	{},
};

static bool sroce_match_device(struct verbs_sysfs_dev *sysfs_dev)
{
	char hca_type[32];

	if (ibv_read_ibdev_sysfs_file(hca_type, sizeof(hca_type), sysfs_dev,
				      "hca_type") <= 0)
		return false;
	return strcmp(hca_type, SROCE_HCA_TYPE) == 0;
}

static int sroce_query_device(struct ibv_context *context,
			      const struct ibv_query_device_ex_input *input,
			      struct ibv_device_attr_ex *attr, size_t attr_size)
{
	struct ib_uverbs_ex_query_device_resp resp;
	size_t resp_size = sizeof(resp);
	uint64_t raw_fw_ver;
	int ret;

	ret = ibv_cmd_query_device_any(context, input, attr, attr_size, &resp,
				       &resp_size);
	if (ret)
		return ret;

	/* Same encoding as the kernel's get_dev_fw_str: major.minor.sub. */
	raw_fw_ver = resp.base.fw_ver;
	snprintf(attr->orig_attr.fw_ver, sizeof(attr->orig_attr.fw_ver),
		 "%u.%u.%u", (unsigned int)(raw_fw_ver >> 32),
		 (unsigned int)(raw_fw_ver >> 16) & 0xffff,
		 (unsigned int)raw_fw_ver & 0xffff);
	return 0;
}

static int sroce_query_port(struct ibv_context *context, uint8_t port,
			    struct ibv_port_attr *attr)
{
	struct ibv_query_port cmd;

	return ibv_cmd_query_port(context, port, attr, &cmd, sizeof(cmd));
}

static struct ibv_pd *sroce_alloc_pd(struct ibv_context *context)
{
	struct usroce_alloc_pd_resp resp = {};
	struct ibv_alloc_pd cmd;
	struct sroce_pd *pd;
	int ret;

	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return NULL;

	ret = ibv_cmd_alloc_pd(context, &pd->ibv_pd, &cmd, sizeof(cmd),
			       &resp.ibv_resp, sizeof(resp));
	if (ret) {
		free(pd);
		errno = ret;
		return NULL;
	}
	pd->pdn = resp.pdn;
	sroce_ctx_get(context);
	return &pd->ibv_pd;
}

static int sroce_dealloc_pd(struct ibv_pd *ibpd)
{
	struct ibv_context *context = ibpd->context;
	int ret;

	ret = ibv_cmd_dealloc_pd(ibpd);
	if (ret)
		return ret;
	free(to_spd(ibpd));
	sroce_ctx_put(context);
	return 0;
}

static struct ibv_mr *sroce_reg_mr(struct ibv_pd *pd, void *addr,
				   size_t length, uint64_t hca_va, int access)
{
	struct ib_uverbs_reg_mr_resp resp;
	struct ibv_reg_mr cmd;
	struct verbs_mr *vmr;
	int ret;

	vmr = calloc(1, sizeof(*vmr));
	if (!vmr)
		return NULL;

	ret = ibv_cmd_reg_mr(pd, addr, length, hca_va, access, vmr, &cmd,
			     sizeof(cmd), &resp, sizeof(resp));
	if (ret) {
		free(vmr);
		errno = ret;
		return NULL;
	}
	sroce_ctx_get(pd->context);
	return &vmr->ibv_mr;
}

/*
 * ibv_rereg_mr: the kernel puts a new MR, with the same keys, behind the
 * same handle.  Its errno (EBUSY with bound windows, EOPNOTSUPP for an
 * on-demand MR) is in errno.
 */
static int sroce_rereg_mr(struct verbs_mr *vmr, int flags, struct ibv_pd *pd,
			  void *addr, size_t length, int access)
{
	struct ib_uverbs_rereg_mr_resp resp;
	struct ibv_rereg_mr cmd;
	int ret;

	ret = ibv_cmd_rereg_mr(vmr, flags, addr, length, (uintptr_t)addr,
			       access, pd, &cmd, sizeof(cmd), &resp,
			       sizeof(resp));
	if (ret) {
		errno = ret;
		return IBV_REREG_MR_ERR_CMD;
	}
	return 0;
}

/* Prefetch of on-demand MRs: the kernel faults the pages in. */
static int sroce_advise_mr(struct ibv_pd *pd, enum ibv_advise_mr_advice advice,
			   uint32_t flags, struct ibv_sge *sg_list,
			   uint32_t num_sge)
{
	return ibv_cmd_advise_mr(pd, advice, flags, sg_list, num_sge);
}

static int sroce_dereg_mr(struct verbs_mr *vmr)
{
	struct ibv_context *context = vmr->ibv_mr.context;
	int ret;

	ret = ibv_cmd_dereg_mr(vmr);
	if (ret)
		return ret;
	free(vmr);
	sroce_ctx_put(context);
	return 0;
}

/* Drop a reference to the context (see struct sroce_context). */
void sroce_ctx_put(struct ibv_context *ibctx)
{
	struct sroce_context *ctx = to_sctx(ibctx);

	if (__atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL))
		return;
	verbs_uninit_context(&ctx->vctx);
	free(ctx);
}

/* ibv_close_device: the context goes once its last object has gone. */
static void sroce_free_context(struct ibv_context *ibctx)
{
	sroce_ctx_put(ibctx);
}

static const struct verbs_context_ops sroce_ctx_ops = {
	.advise_mr = sroce_advise_mr,
	.alloc_mw = sroce_alloc_mw,
	.alloc_pd = sroce_alloc_pd,
	/* The kernel keeps the groups: nothing of them is in user space. */
	.attach_mcast = ibv_cmd_attach_mcast,
	.bind_mw = sroce_bind_mw,
	.close_xrcd = sroce_close_xrcd,
	.create_ah = sroce_create_ah,
	.create_cq = sroce_create_cq,
	.create_cq_ex = sroce_create_cq_ex,
	.create_qp = sroce_create_qp,
	.create_qp_ex = sroce_create_qp_ex,
	.create_srq = sroce_create_srq,
	.create_srq_ex = sroce_create_srq_ex,
	.dealloc_mw = sroce_dealloc_mw,
	.dealloc_pd = sroce_dealloc_pd,
	.dereg_mr = sroce_dereg_mr,
	.destroy_ah = sroce_destroy_ah,
	.destroy_cq = sroce_destroy_cq,
	.destroy_qp = sroce_destroy_qp,
	.destroy_srq = sroce_destroy_srq,
	.detach_mcast = ibv_cmd_detach_mcast,
	.free_context = sroce_free_context,
	.get_srq_num = sroce_get_srq_num,
	.modify_qp = sroce_modify_qp,
	.modify_srq = sroce_modify_srq,
	.open_qp = sroce_open_qp,
	.open_xrcd = sroce_open_xrcd,
	.poll_cq = sroce_poll_cq,
	.post_recv = sroce_post_recv,
	.post_send = sroce_post_send,
	.post_srq_recv = sroce_post_srq_recv,
	.query_device_ex = sroce_query_device,
	.query_port = sroce_query_port,
	.query_qp = sroce_query_qp,
	.query_srq = sroce_query_srq,
	.reg_mr = sroce_reg_mr,
	.rereg_mr = sroce_rereg_mr,
	.req_notify_cq = sroce_req_notify_cq,
	.resize_cq = sroce_resize_cq,
};

/*
 * The placement opcodes (ATOMIC WRITE, FLUSH) come with the kernel: one
 * before 6.2 has none, and sroce's capability bits say so.
 */
static uint64_t sroce_unsupported_send_ops(struct ibv_context *context)
{
	struct ibv_device_attr_ex attr = {};
	uint64_t ops = 0;

	if (sroce_query_device(context, NULL, &attr, sizeof(attr)))
		attr.device_cap_flags_ex = 0;
	if (!(attr.device_cap_flags_ex & IB_UVERBS_DEVICE_ATOMIC_WRITE))
		ops |= IBV_QP_EX_WITH_ATOMIC_WRITE;
	if (!(attr.device_cap_flags_ex & IB_UVERBS_DEVICE_FLUSH_GLOBAL))
		ops |= SROCE_QP_EX_WITH_FLUSH;
	return ops;
}

static struct verbs_context *sroce_alloc_context(struct ibv_device *ibdev,
						 int cmd_fd,
						 void *private_data)
{
	struct ib_uverbs_get_context_resp resp;
	struct ibv_get_context cmd;
	struct sroce_context *ctx;

	ctx = verbs_init_and_alloc_context(ibdev, cmd_fd, ctx, vctx,
					   RDMA_DRIVER_UNKNOWN);
	if (!ctx)
		return NULL;

	if (sroce_cmd_get_context(&ctx->vctx, &cmd, sizeof(cmd), &resp,
				  sizeof(resp)))
		goto err_uninit;

	verbs_set_ops(&ctx->vctx, &sroce_ctx_ops);
	ctx->refs = 1;
	ctx->unsupported_send_ops =
		sroce_unsupported_send_ops(&ctx->vctx.context);
	return &ctx->vctx;

err_uninit:
	verbs_uninit_context(&ctx->vctx);
	free(ctx);
	return NULL;
}

static struct verbs_device *sroce_alloc_device(struct verbs_sysfs_dev *unused)
{
	struct sroce_device *dev;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	return &dev->vdev;
}

static void sroce_uninit_device(struct verbs_device *vdev)
{
	free(container_of(vdev, struct sroce_device, vdev));
}

static const struct verbs_device_ops sroce_dev_ops = {
	.name = "sroce",
	.match_min_abi_version = SROCE_UVERBS_ABI_VERSION,
	.match_max_abi_version = SROCE_UVERBS_ABI_VERSION,
	.match_table = sroce_match_table,
	.match_device = sroce_match_device,
	.alloc_device = sroce_alloc_device,
	.uninit_device = sroce_uninit_device,
	.alloc_context = sroce_alloc_context,
};
PROVIDER_DRIVER(sroce, sroce_dev_ops);
