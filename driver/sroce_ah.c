// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Address handles, and the RoCEv2 address vector that both AHs and
 * connected QPs keep: source and destination IP addresses taken from the
 * GIDs, plus the IP header fields the GRH asks for.
 *
 * sroce leaves neighbour resolution to the IP stack when it transmits, so
 * the destination MAC the core resolved is kept only to report it back.
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

int sroce_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init_attr,
		    struct ib_udata *udata)
{
	return sroce_av_from_attr(&to_sah(ibah)->av, init_attr->ah_attr);
}

int sroce_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	sroce_av_to_attr(&to_sah(ibah)->av, attr);
	return 0;
}

int sroce_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	return 0;
}
