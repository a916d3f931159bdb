// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Address handles, and the RoCEv2 address vector that both AHs and
 * connected QPs keep: source and destination IP addresses taken from the
 * GIDs, plus the IP header fields the GRH asks for.
 *
 * sroce leaves neighbour resolution to the IP stack when it transmits, so
 * the destination MAC the core resolved is kept only to report it back.
 * Every AH has a number, by which UD work requests name it.
 */
#include <net/ipv6.h>

#include "sroce.h"

int sroce_av_from_attr(struct sroce_av *av, const struct rdma_ah_attr *attr)
{
	const struct ib_global_route *grh;
	const struct ib_gid_attr *sgid_attr;

	if (attr->type != RDMA_AH_ATTR_TYPE_ROCE ||
	    !(rdma_ah_get_ah_flags(attr) & IB_AH_GRH))
		return -EINVAL;
	if (rdma_ah_get_port_num(attr) != SROCE_PORT)
		return -EINVAL;
	grh = rdma_ah_read_grh(attr);
	sgid_attr = grh->sgid_attr;
	if (!sgid_attr || sgid_attr->gid_type != IB_GID_TYPE_ROCE_UDP_ENCAP)
		return -EINVAL;

	memset(av, 0, sizeof(*av));
	memcpy(&av->saddr, sgid_attr->gid.raw, sizeof(av->saddr));
	memcpy(&av->daddr, grh->dgid.raw, sizeof(av->daddr));
	/* Both ends must be of one family. */
	if (ipv6_addr_v4mapped(&av->saddr) != ipv6_addr_v4mapped(&av->daddr))
		return -EINVAL;
	av->family = ipv6_addr_v4mapped(&av->saddr) ? AF_INET : AF_INET6;
	av->tclass = grh->traffic_class;
	av->hop_limit = grh->hop_limit ? grh->hop_limit : 64;
	av->flow_label = grh->flow_label;
	av->dgid = grh->dgid;
	av->sgid_index = grh->sgid_index;
	memcpy(av->dmac, attr->roce.dmac, ETH_ALEN);
	return 0;
}

void sroce_av_to_attr(const struct sroce_av *av, struct rdma_ah_attr *attr)
{
	union ib_gid dgid = av->dgid;

	memset(attr, 0, sizeof(*attr));
	attr->type = RDMA_AH_ATTR_TYPE_ROCE;
	rdma_ah_set_port_num(attr, SROCE_PORT);
	rdma_ah_set_grh(attr, &dgid, av->flow_label, av->sgid_index,
			av->hop_limit, av->tclass);
	memcpy(attr->roce.dmac, av->dmac, ETH_ALEN);
}

/*
 * The core allocates a kernel AH with GFP_ATOMIC unless the caller may
 * sleep (ib_cm creates one under a spinlock), and so does this: the
 * number too is allocated without sleeping then.
 */
int sroce_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init_attr,
		    struct ib_udata *udata)
{
	struct sroce_dev *sdev = to_sdev(ibah->device);
	struct sroce_ah *ah = to_sah(ibah);
	struct sroce_create_ah_resp resp = {};
	gfp_t gfp = init_attr->flags & RDMA_CREATE_AH_SLEEPABLE ?
		    GFP_KERNEL : GFP_ATOMIC;
	unsigned long flags;
	int err;

	if (udata && udata->outlen && udata->outlen < sizeof(resp))
		return -EINVAL;
	err = sroce_av_from_attr(&ah->av, init_attr->ah_attr);
	if (err)
		return err;

	/*
	 * Published before the response is copied: a UD WQE that names the
	 * number before create_ah returns can only come from a process that
	 * guessed it, and it reaches only an AH of its own PD.
	 */
	if (gfpflags_allow_blocking(gfp)) {
		err = xa_alloc_cyclic_irq(&sdev->ah_xa, &ah->num, ah,
					  XA_LIMIT(1, SROCE_MAX_AH),
					  &sdev->ah_next, gfp);
	} else {
		/* Irqs may be off: the allocation must not drop the lock. */
		xa_lock_irqsave(&sdev->ah_xa, flags);
		err = __xa_alloc_cyclic(&sdev->ah_xa, &ah->num, ah,
					XA_LIMIT(1, SROCE_MAX_AH),
					&sdev->ah_next, gfp);
		xa_unlock_irqrestore(&sdev->ah_xa, flags);
	}
	if (err < 0)
		return err == -EBUSY ? -ENOMEM : err;

	if (udata && udata->outlen) {
		resp.ah_num = ah->num;
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_erase;
	}
	return 0;

err_erase:
	xa_lock_irqsave(&sdev->ah_xa, flags);
	__xa_erase(&sdev->ah_xa, ah->num);
	xa_unlock_irqrestore(&sdev->ah_xa, flags);
	return err;
}

int sroce_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	sroce_av_to_attr(&to_sah(ibah)->av, attr);
	return 0;
}

int sroce_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	struct sroce_dev *sdev = to_sdev(ibah->device);
	unsigned long irqflags;

	xa_lock_irqsave(&sdev->ah_xa, irqflags);
	__xa_erase(&sdev->ah_xa, to_sah(ibah)->num);
	xa_unlock_irqrestore(&sdev->ah_xa, irqflags);
	return 0;
}

/*
 * Copy the address of AH @num into @av, if there is such an AH and it
 * belongs to @pd.  A UD WQE names its AH by number; the copy is taken as
 * the WQE is, so an AH destroyed afterwards changes nothing in flight.
 */
bool sroce_ah_av(struct sroce_dev *sdev, u32 num, struct ib_pd *pd,
		 struct sroce_av *av)
{
	struct sroce_ah *ah;
	unsigned long flags;
	bool found = false;

	xa_lock_irqsave(&sdev->ah_xa, flags);
	ah = xa_load(&sdev->ah_xa, num);
	if (ah && ah->ibah.pd == pd) {
		*av = ah->av;
		found = true;
	}
	xa_unlock_irqrestore(&sdev->ah_xa, flags);
	return found;
}
