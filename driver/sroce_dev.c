// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An sroce ib_device: creation on a netdev, its port and its attributes.
 *
 * Port state, speed and MTU are read from the netdev each time they are
 * queried, so they can never go stale.  GIDs are not handled here: the RDMA
 * core's RoCE GID management fills the GID table from the netdev's IP
 * addresses because the port advertises RoCEv2 (UDP encapsulation).
 */
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <rdma/ib_mad.h>
#include <rdma/sroce-abi.h>

#include "sroce.h"
#include "sroce_link.h"

static int sroce_query_device(struct ib_device *ibdev,
			      struct ib_device_attr *attr,
			      struct ib_udata *udata)
{
	/* The core queries with no udata at registration. */
	if (udata && (udata->inlen || udata->outlen))
		return -EINVAL;

	memset(attr, 0, sizeof(*attr));
	attr->fw_ver = SROCE_FW_VERSION;
	attr->vendor_id = SROCE_VENDOR_ID;
	attr->sys_image_guid = ibdev->node_guid;
	attr->page_size_cap = PAGE_SIZE;
	attr->device_cap_flags = IB_DEVICE_PORT_ACTIVE_EVENT |
				 IB_DEVICE_SYS_IMAGE_GUID |
				 IB_DEVICE_RC_RNR_NAK_GEN |
				 IB_DEVICE_MEM_MGT_EXTENSIONS |
				 IB_DEVICE_XRC |
				 IB_DEVICE_SRQ_RESIZE |
				 SROCE_DEVICE_PLACEMENT_CAPS |
				 IB_DEVICE_MEM_WINDOW |
				 IB_DEVICE_MEM_WINDOW_TYPE_2B;
	attr->kernel_cap_flags = IBK_ALLOW_USER_UNREG | IBK_ON_DEMAND_PAGING;
	/*
	 * On-demand MRs, explicit and implicit: for every RC operation, UD
	 * SENDs and receives, and XRC SENDs into XRC SRQs (a fault on any
	 * of them defers the packet to the QP's worker).
	 */
	attr->odp_caps.general_caps = IB_ODP_SUPPORT | IB_ODP_SUPPORT_IMPLICIT;
	attr->odp_caps.per_transport_caps.rc_odp_caps =
		IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_RECV |
		IB_ODP_SUPPORT_WRITE | IB_ODP_SUPPORT_READ |
		IB_ODP_SUPPORT_ATOMIC | IB_ODP_SUPPORT_SRQ_RECV;
	attr->odp_caps.per_transport_caps.ud_odp_caps =
		IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_RECV;
	attr->odp_caps.per_transport_caps.xrc_odp_caps =
		IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_SRQ_RECV;
	attr->max_pd = SROCE_MAX_PD;
	attr->max_mr = SROCE_MAX_MR;
	attr->max_mr_size = SROCE_MAX_MR_SIZE;
	attr->max_mw = SROCE_MAX_MW;
	attr->max_fast_reg_page_list_len = SROCE_MAX_FAST_REG_PAGES;
	attr->max_pkeys = 1;
	attr->max_qp = SROCE_MAX_QP;
	attr->max_qp_wr = SROCE_MAX_QP_WR;
	attr->max_send_sge = SROCE_MAX_SGE;
	attr->max_recv_sge = SROCE_MAX_SGE;
	attr->max_sge_rd = SROCE_MAX_SGE;
	attr->max_cq = SROCE_MAX_CQ;
	attr->max_cqe = SROCE_MAX_CQE;
	attr->max_qp_rd_atom = SROCE_MAX_RD_ATOMIC;
	attr->max_qp_init_rd_atom = SROCE_MAX_RD_ATOMIC;
	attr->max_res_rd_atom = SROCE_MAX_QP * SROCE_MAX_RD_ATOMIC;
	attr->max_ah = SROCE_MAX_AH;
	attr->max_srq = SROCE_MAX_SRQ;
	attr->max_srq_wr = SROCE_MAX_SRQ_WR;
	attr->max_srq_sge = SROCE_MAX_SGE;
	attr->max_mcast_grp = SROCE_MAX_MCAST_GRP;
	attr->max_mcast_qp_attach = SROCE_MAX_MCAST_QP_ATTACH;
	attr->max_total_mcast_qp_attach = SROCE_MAX_MCAST_GRP *
					  SROCE_MAX_MCAST_QP_ATTACH;
	/* Remote atomics are the CPU's atomics on the same memory. */
	attr->atomic_cap = IB_ATOMIC_GLOB;
	return 0;
}

static void sroce_read_link(struct ib_device *ibdev, bool *up, bool *carrier,
			    unsigned int *mtu)
{
	struct net_device *ndev = sroce_get_netdev(ibdev, SROCE_PORT,
						   to_sdev(ibdev)->ndev);

	*up = false;
	*carrier = false;
	*mtu = 0;
	if (!ndev)
		return;
	*up = netif_running(ndev);
	*carrier = netif_carrier_ok(ndev);
	*mtu = READ_ONCE(ndev->mtu);
	dev_put(ndev);
}

static int sroce_query_port(struct ib_device *ibdev, u32 port,
			    struct ib_port_attr *attr)
{
	struct sroce_dev *sdev = to_sdev(ibdev);
	bool up, carrier;
	u64 qkey_viol;
	unsigned int ndev_mtu;
	int ib_mtu;

	sroce_read_link(ibdev, &up, &carrier, &ndev_mtu);

	/* The core has zeroed *attr. */
	attr->state = sroce_port_state(up, carrier);
	attr->phys_state = sroce_port_phys_state(up, carrier);
	/* Any MTU fits with a large enough netdev MTU; the active one fits now. */
	attr->max_mtu = IB_MTU_4096;
	ib_mtu = sroce_ib_mtu_for_netdev(ndev_mtu);
	attr->active_mtu = ib_mtu ? ib_mtu : IB_MTU_256;
	attr->gid_tbl_len = SROCE_GID_TABLE_LEN;
	attr->pkey_tbl_len = 1;
	attr->max_msg_sz = SROCE_MAX_MSG_SIZE;
	attr->ip_gids = true;
	spin_lock(&sdev->port_lock);
	attr->port_cap_flags = sdev->port_cap_flags;
	spin_unlock(&sdev->port_lock);
	qkey_viol = atomic64_read(sroce_stat(sdev, SROCE_STAT_RX_QKEY_ERR));
	attr->qkey_viol_cntr = min_t(u64, qkey_viol, U16_MAX);

	/* A netdev on its way out has no speed; the port is down anyway. */
	if (ib_get_eth_speed(ibdev, port, &attr->active_speed,
			     &attr->active_width)) {
		attr->active_speed = IB_SPEED_SDR;
		attr->active_width = IB_WIDTH_1X;
	}
	return 0;
}

/*
 * The port's capability mask is what its users set: ib_cm sets
 * IB_PORT_CM_SUP while it serves the port.  Nothing else a port can be
 * asked to do means anything on Ethernet.
 */
static int sroce_modify_port(struct ib_device *ibdev, u32 port, int mask,
			     struct ib_port_modify *props)
{
	struct sroce_dev *sdev = to_sdev(ibdev);

	if (mask & ~IB_PORT_RESET_QKEY_CNTR)
		return -EOPNOTSUPP;
	spin_lock(&sdev->port_lock);
	sdev->port_cap_flags |= props->set_port_cap_mask;
	sdev->port_cap_flags &= ~props->clr_port_cap_mask;
	spin_unlock(&sdev->port_lock);
	if (mask & IB_PORT_RESET_QKEY_CNTR)
		atomic64_set(sroce_stat(sdev, SROCE_STAT_RX_QKEY_ERR), 0);
	return 0;
}

static int sroce_get_port_immutable(struct ib_device *ibdev, u32 port,
				    struct ib_port_immutable *immutable)
{
	immutable->core_cap_flags = RDMA_CORE_PORT_IBA_ROCE_UDP_ENCAP;
	immutable->pkey_tbl_len = 1;
	immutable->gid_tbl_len = SROCE_GID_TABLE_LEN;
	/*
	 * RoCEv2 ports carry MADs (the MAD layer opens QP1 on them) and the
	 * connection manager's traffic.
	 */
	immutable->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

/* An IB node type would otherwise make the core assume an IB link layer. */
static enum rdma_link_layer sroce_get_link_layer(struct ib_device *ibdev,
						 u32 port)
{
	return IB_LINK_LAYER_ETHERNET;
}

static int sroce_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			    u16 *pkey)
{
	if (index > 0)
		return -EINVAL;
	*pkey = IB_DEFAULT_PKEY_FULL;
	return 0;
}

static void sroce_get_dev_fw_str(struct ib_device *ibdev, char *str)
{
	snprintf(str, IB_FW_VERSION_NAME_MAX, "%u.%u.%u",
		 (u32)(SROCE_FW_VERSION >> 32),
		 (u32)(SROCE_FW_VERSION >> 16) & 0xffff,
		 (u32)SROCE_FW_VERSION & 0xffff);
}

static ssize_t hca_type_show(struct device *device,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", SROCE_HCA_TYPE);
}
static DEVICE_ATTR_RO(hca_type);

static ssize_t parent_show(struct device *device,
			   struct device_attribute *attr, char *buf)
{
	struct sroce_dev *sdev =
		rdma_device_to_drv_device(device, struct sroce_dev, ibdev);
	struct net_device *ndev;
	ssize_t len;

	ndev = sroce_get_netdev(&sdev->ibdev, SROCE_PORT, sdev->ndev);
	if (!ndev)
		return -ENODEV;
	len = sysfs_emit(buf, "%s\n", netdev_name(ndev));
	dev_put(ndev);
	return len;
}
static DEVICE_ATTR_RO(parent);

static struct attribute *sroce_dev_attrs[] = {
	&dev_attr_hca_type.attr,
	&dev_attr_parent.attr,
	NULL,
};

static const struct attribute_group sroce_dev_attr_group = {
	.attrs = sroce_dev_attrs,
};

/* Called by the core once the device is unregistered, before it is freed. */
static void sroce_dealloc_driver(struct ib_device *ibdev)
{
	struct sroce_dev *sdev = to_sdev(ibdev);

	sroce_devs_remove(sdev);
	sroce_udp_put(sdev);
	xa_destroy(&sdev->mr_xa);
	xa_destroy(&sdev->mw_xa);
	xa_destroy(&sdev->ah_xa);
}

static const struct ib_device_ops sroce_dev_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_UNKNOWN,
	.uverbs_abi_ver = SROCE_UVERBS_ABI_VERSION,

	.alloc_hw_port_stats = sroce_alloc_hw_port_stats,
	.advise_mr = sroce_advise_mr,
	.alloc_pd = sroce_alloc_pd,
	.alloc_mr = sroce_alloc_mr,
	.alloc_mw = sroce_alloc_mw,
	.alloc_ucontext = sroce_alloc_ucontext,
	.alloc_xrcd = sroce_alloc_xrcd,
	.attach_mcast = sroce_attach_mcast,
	.create_ah = sroce_create_ah,
	.create_cq = sroce_create_cq,
	.create_qp = sroce_create_qp,
	.create_srq = sroce_create_srq,
	.create_user_ah = sroce_create_ah,
	.dealloc_driver = sroce_dealloc_driver,
	.dealloc_mw = sroce_dealloc_mw,
	.dealloc_pd = sroce_dealloc_pd,
	.dealloc_ucontext = sroce_dealloc_ucontext,
	.dealloc_xrcd = sroce_dealloc_xrcd,
	.dereg_mr = sroce_dereg_mr,
	.disassociate_ucontext = sroce_disassociate_ucontext,
	.destroy_ah = sroce_destroy_ah,
	.destroy_cq = sroce_destroy_cq,
	.destroy_qp = sroce_destroy_qp,
	.destroy_srq = sroce_destroy_srq,
	.detach_mcast = sroce_detach_mcast,
	.device_group = &sroce_dev_attr_group,
	.get_dev_fw_str = sroce_get_dev_fw_str,
	.get_dma_mr = sroce_get_dma_mr,
	.get_hw_stats = sroce_get_hw_stats,
	.get_link_layer = sroce_get_link_layer,
	.get_port_immutable = sroce_get_port_immutable,
	.map_mr_sg = sroce_map_mr_sg,
	.mmap = sroce_mmap,
	.mmap_free = sroce_mmap_free,
	.modify_port = sroce_modify_port,
	.modify_qp = sroce_modify_qp,
	.modify_srq = sroce_modify_srq,
	.poll_cq = sroce_poll_cq,
	.post_recv = sroce_post_recv,
	.post_send = sroce_post_send,
	.post_srq_recv = sroce_post_srq_recv,
	.query_ah = sroce_query_ah,
	.query_device = sroce_query_device,
	.query_pkey = sroce_query_pkey,
	.query_port = sroce_query_port,
	.query_qp = sroce_query_qp,
	.query_srq = sroce_query_srq,
	.reg_user_mr = sroce_reg_user_mr,
	.rereg_user_mr = sroce_rereg_user_mr,
	.req_notify_cq = sroce_req_notify_cq,
	.SROCE_RESIZE_CQ_OP = sroce_resize_cq,

	INIT_RDMA_OBJ_SIZE(ib_ah, sroce_ah, ibah),
	INIT_RDMA_OBJ_SIZE(ib_cq, sroce_cq, ibcq),
	INIT_RDMA_OBJ_SIZE(ib_mw, sroce_mw, ibmw),
	INIT_RDMA_OBJ_SIZE(ib_pd, sroce_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, sroce_qp, ibqp),
	INIT_RDMA_OBJ_SIZE(ib_srq, sroce_srq, ibsrq),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, sroce_ucontext, ibuc),
	INIT_RDMA_OBJ_SIZE(ib_xrcd, sroce_xrcd, ibxrcd),
};

/*
 * Report a port state change as an IB event, once per change.  Called from
 * the netdev notifier (under RTNL), so it reads the netdev directly instead
 * of going through query_port, which takes RTNL for the link speed.
 */
void sroce_port_event(struct sroce_dev *sdev)
{
	struct ib_event event = {
		.device = &sdev->ibdev,
		.element.port_num = SROCE_PORT,
	};
	enum ib_port_state state;

	state = sroce_port_state(netif_running(sdev->ndev),
				 netif_carrier_ok(sdev->ndev));
	if (state == sdev->reported_state)
		return;
	sdev->reported_state = state;
	event.event = state == IB_PORT_ACTIVE ? IB_EVENT_PORT_ACTIVE :
						IB_EVENT_PORT_ERR;
	ib_dispatch_event(&event);
}

int sroce_dev_add(const char *name, struct net_device *ndev)
{
	struct sroce_dev *sdev;
	struct ib_device *ibdev;
	int err;

	if (!ndev->dev_addr || ndev->addr_len != ETH_ALEN ||
	    ndev->type != ARPHRD_ETHER)
		return -EOPNOTSUPP;

	sdev = sroce_alloc_dev(ndev);
	if (!sdev)
		return -ENOMEM;
	ibdev = &sdev->ibdev;
	sdev->ndev = ndev;
	INIT_LIST_HEAD(&sdev->list);
	xa_init_flags(&sdev->mr_xa, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_BH);
	xa_init_flags(&sdev->mw_xa, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_BH);
	xa_init_flags(&sdev->ah_xa, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_IRQ);
	spin_lock_init(&sdev->port_lock);
	sdev->reported_state = sroce_port_state(netif_running(ndev),
						netif_carrier_ok(ndev));

	ibdev->node_type = RDMA_NODE_IB_CA;
	ibdev->phys_port_cnt = 1;
	ibdev->num_comp_vectors = 1;
	sroce_guid_from_mac((u8 *)&ibdev->node_guid, ndev->dev_addr);
	strscpy(ibdev->node_desc, "sroce", sizeof(ibdev->node_desc));
	/* The doorbells and CQ arming are system calls (see sroce_qp.c). */
	ibdev->uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND) |
				  BIT_ULL(IB_USER_VERBS_CMD_POST_RECV) |
				  BIT_ULL(IB_USER_VERBS_CMD_REQ_NOTIFY_CQ);
	ib_set_device_ops(ibdev, &sroce_dev_ops);

	err = ib_device_set_netdev(ibdev, ndev, SROCE_PORT);
	if (err)
		goto err_dealloc;
	err = sroce_udp_get(sdev);
	if (err)
		goto err_dealloc;

	/*
	 * Once registered, the device can be unregistered and freed by a
	 * concurrent "rdma link delete" at any moment; this reference keeps
	 * its memory valid until it is on the device list.
	 */
	get_device(&ibdev->dev);
	err = ib_register_device(ibdev, name, NULL);
	if (err)
		goto err_put;
	sroce_devs_add(sdev);
	put_device(&ibdev->dev);
	return 0;

err_put:
	put_device(&ibdev->dev);
err_dealloc:
	/* Also releases the netdev and calls sroce_dealloc_driver. */
	ib_dealloc_device(ibdev);
	return err;
}
