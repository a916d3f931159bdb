// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Multicast (IBTA 10.5): UD QPs attach to multicast GIDs, and a datagram
 * sent to a group (destination QPN 0xFFFFFF, destination address the
 * group's IP multicast address) reaches every QP attached to it on the
 * device it arrives at.
 *
 * The first QP attached to a group of a device makes the device's netdev
 * join the IP group, and the last to leave makes it leave: IGMP or MLD
 * tell the network (switches that snoop forward the group's traffic),
 * the netdev's filter takes the group's MAC address, and the IP stack
 * accepts the group's packets for the UDP socket.
 */
#include <linux/igmp.h>
#include <linux/inetdevice.h>
#include <net/addrconf.h>

#include "sroce.h"

/* A group of one device, and the QPs attached to it. */
struct sroce_mcg {
	struct list_head entry;		/* in sroce_mcgs */
	struct sroce_dev *sdev;
	union ib_gid gid;
	unsigned int num_qps;
	struct sroce_qp *qps[SROCE_MAX_MCAST_QP_ATTACH];
};

/*
 * All devices' groups.  The list, and each group's QPs, are changed
 * under sroce_mcast_mutex (which attach and detach hold while the netdev
 * joins or leaves, and which serializes them) and sroce_mcast_lock
 * (taken with bottom halves disabled), and read by the receive path under
 * the lock alone, which takes its references to the QPs under it.
 */
static LIST_HEAD(sroce_mcgs);
static DEFINE_MUTEX(sroce_mcast_mutex);
static DEFINE_SPINLOCK(sroce_mcast_lock);

static struct sroce_mcg *sroce_mcg_find(struct sroce_dev *sdev,
					const union ib_gid *gid)
{
	struct sroce_mcg *mcg;

	list_for_each_entry(mcg, &sroce_mcgs, entry) {
		if (mcg->sdev == sdev && !memcmp(&mcg->gid, gid, sizeof(*gid)))
			return mcg;
	}
	return NULL;
}

static unsigned int sroce_mcg_count(struct sroce_dev *sdev)
{
	struct sroce_mcg *mcg;
	unsigned int n = 0;

	list_for_each_entry(mcg, &sroce_mcgs, entry)
		n += mcg->sdev == sdev;
	return n;
}

/* Make @sdev's netdev join (or leave) the IP group of @gid. */
static int sroce_mcg_ip(struct sroce_dev *sdev, const union ib_gid *gid,
			bool join)
{
	const struct in6_addr *addr = (const struct in6_addr *)gid->raw;
	struct net_device *ndev = sdev->ndev;
	struct in_device *in_dev;
	int err = 0;

	if (!ipv6_addr_v4mapped(addr) && !IS_ENABLED(CONFIG_IPV6))
		return -EAFNOSUPPORT;
	/* IPv4's group calls need the RTNL, and 6.1's IPv6 ones assert it. */
	rtnl_lock();
	if (!ipv6_addr_v4mapped(addr)) {
		err = join ? ipv6_dev_mc_inc(ndev, addr) :
			     ipv6_dev_mc_dec(ndev, addr);
		goto out;
	}
	in_dev = __in_dev_get_rtnl(ndev);
	if (!in_dev)
		err = -ENODEV;
	else if (join)
		ip_mc_inc_group(in_dev, addr->s6_addr32[3]);
	else
		ip_mc_dec_group(in_dev, addr->s6_addr32[3]);
out:
	rtnl_unlock();
	return err;
}

/* Is @gid an IP multicast address, as a RoCEv2 GID? */
static bool sroce_gid_is_mcast(const union ib_gid *gid)
{
	const struct in6_addr *addr = (const struct in6_addr *)gid->raw;

	if (ipv6_addr_v4mapped(addr))
		return ipv4_is_multicast(addr->s6_addr32[3]);
	return ipv6_addr_is_multicast(addr);
}

int sroce_attach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	struct sroce_dev *sdev = qp->sdev;
	struct sroce_mcg *mcg;
	unsigned int i;
	int err = 0;

	if (ibqp->qp_type != IB_QPT_UD || !sroce_gid_is_mcast(gid))
		return -EINVAL;

	mutex_lock(&sroce_mcast_mutex);
	mcg = sroce_mcg_find(sdev, gid);
	if (!mcg) {
		if (sroce_mcg_count(sdev) >= SROCE_MAX_MCAST_GRP) {
			err = -ENOMEM;
			goto unlock;
		}
		mcg = kzalloc_obj(*mcg, GFP_KERNEL_ACCOUNT);
		if (!mcg) {
			err = -ENOMEM;
			goto unlock;
		}
		mcg->sdev = sdev;
		mcg->gid = *gid;
		err = sroce_mcg_ip(sdev, gid, true);
		if (err) {
			kfree(mcg);
			goto unlock;
		}
		spin_lock_bh(&sroce_mcast_lock);
		list_add_tail(&mcg->entry, &sroce_mcgs);
		spin_unlock_bh(&sroce_mcast_lock);
	}
	for (i = 0; i < mcg->num_qps; i++) {
		if (mcg->qps[i] == qp)
			goto unlock;	/* attached already: nothing to do */
	}
	if (mcg->num_qps == SROCE_MAX_MCAST_QP_ATTACH) {
		err = -ENOMEM;
		goto unlock;
	}
	spin_lock_bh(&sroce_mcast_lock);
	mcg->qps[mcg->num_qps++] = qp;
	spin_unlock_bh(&sroce_mcast_lock);
unlock:
	mutex_unlock(&sroce_mcast_mutex);
	return err;
}

/* Under sroce_mcast_mutex: take @qp out of @mcg, and a group left empty away. */
static void sroce_mcg_remove(struct sroce_mcg *mcg, unsigned int i)
{
	bool empty;

	spin_lock_bh(&sroce_mcast_lock);
	mcg->qps[i] = mcg->qps[--mcg->num_qps];
	empty = !mcg->num_qps;
	if (empty)
		list_del(&mcg->entry);
	spin_unlock_bh(&sroce_mcast_lock);
	if (!empty)
		return;
	sroce_mcg_ip(mcg->sdev, &mcg->gid, false);
	kfree(mcg);
}

int sroce_detach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid)
{
	struct sroce_qp *qp = to_sqp(ibqp);
	struct sroce_mcg *mcg;
	int err = -EINVAL;
	unsigned int i;

	mutex_lock(&sroce_mcast_mutex);
	mcg = sroce_mcg_find(qp->sdev, gid);
	for (i = 0; mcg && i < mcg->num_qps; i++) {
		if (mcg->qps[i] == qp) {
			sroce_mcg_remove(mcg, i);
			err = 0;
			break;
		}
	}
	mutex_unlock(&sroce_mcast_mutex);
	return err;
}

/* A QP being destroyed leaves every group it is still attached to. */
void sroce_mcast_qp_destroy(struct sroce_qp *qp)
{
	struct sroce_mcg *mcg, *next;
	unsigned int i;

	if (qp->ibqp.qp_type != IB_QPT_UD)
		return;
	mutex_lock(&sroce_mcast_mutex);
	list_for_each_entry_safe(mcg, next, &sroce_mcgs, entry) {
		for (i = 0; i < mcg->num_qps; i++) {
			if (mcg->qps[i] == qp) {
				sroce_mcg_remove(mcg, i);
				break;
			}
		}
	}
	mutex_unlock(&sroce_mcast_mutex);
}

/*
 * Softirq: hand datagram @skb, sent to a group, to every QP attached to
 * the group on the device of the netdev it came in on.  Consumes @skb
 * unless it returns -ENOENT (no QP is attached there).
 */
int sroce_mcast_rcv(struct sroce_udp *udp, const struct sroce_pkt *pkt,
		    struct sk_buff *skb)
{
	struct sroce_qp *qps[SROCE_MAX_MCAST_QP_ATTACH];
	struct sroce_mcg *mcg;
	unsigned int i, n = 0;
	union ib_gid gid;

	memcpy(gid.raw, &sroce_skb_cb(skb)->daddr, sizeof(gid.raw));
	spin_lock(&sroce_mcast_lock);
	list_for_each_entry(mcg, &sroce_mcgs, entry) {
		if (mcg->sdev->udp != udp || mcg->sdev->ndev != skb->dev ||
		    memcmp(&mcg->gid, &gid, sizeof(gid)))
			continue;
		for (i = 0; i < mcg->num_qps; i++) {
			qps[n] = mcg->qps[i];
			refcount_inc(&qps[n++]->ref);
		}
		break;
	}
	spin_unlock(&sroce_mcast_lock);
	if (!n)
		return -ENOENT;

	for (i = 0; i < n; i++) {
		struct sk_buff *copy = i + 1 < n ? skb_clone(skb, GFP_ATOMIC) :
						   skb;

		if (copy)
			sroce_qp_deliver(qps[i], pkt, copy);
		else
			sroce_qp_put(qps[i]);
	}
	return 0;
}
