// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RoCEv2 over UDP port 4791: one pair of kernel UDP tunnel sockets (IPv4
 * and IPv6) per network namespace with sroce devices, the receive hook
 * and transmission through the IP stack.
 *
 * Receive runs in softirq and does only what needs no QP state: it checks
 * the ICRC and the headers, counts and drops what is bad, and hands the
 * packet to its QP (sroce_qp_rcv), which runs it (sroce_sched.c).
 *
 * rdma_rxe binds the same port, so sroce and rxe cannot both run in one
 * namespace; whichever comes second fails to create its device.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/udp_tunnel.h>

#include "sroce.h"
#include "sroce_link.h"

/* The sockets of one network namespace. */
struct sroce_udp {
	struct list_head list;		/* in sroce_udps */
	struct net *net;		/* not referenced: devices pin it */
	unsigned int users;		/* sroce devices in @net */
	struct socket *sock4;
	struct socket *sock6;		/* NULL without IPv6 */
	/* Packets dropped before reaching a QP, by enum sroce_stat. */
	atomic64_t drops[SROCE_STAT_FIRST_DEV];
};

/* All sroce_udp, and their users counts, are protected by sroce_udp_lock. */
static LIST_HEAD(sroce_udps);
static DEFINE_MUTEX(sroce_udp_lock);

static int sroce_udp_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct sroce_udp *udp = rcu_dereference_sk_user_data(sk);
	enum sroce_stat why = SROCE_STAT_RX_BAD_HDR;
	struct sroce_skb_cb *cb = sroce_skb_cb(skb);
	unsigned int l3_len;
	struct sroce_pkt pkt;
	u8 *l3;

	if (skb_linearize(skb))
		goto drop;
	l3 = skb_network_header(skb);
	l3_len = skb_tail_pointer(skb) - l3;
	if (sroce_icrc_check(l3, l3_len)) {
		why = SROCE_STAT_RX_ICRC_ERR;
		goto drop;
	}
	if (ip_hdr(skb)->version == 4) {
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, &cb->saddr);
		ipv6_addr_set_v4mapped(ip_hdr(skb)->daddr, &cb->daddr);
	} else {
		cb->saddr = ipv6_hdr(skb)->saddr;
		cb->daddr = ipv6_hdr(skb)->daddr;
	}
	__skb_pull(skb, sizeof(struct udphdr));
	/*
	 * RC, UC, UD and XRC only, and the default partition: a P_Key matches
	 * 0xFFFF when its low 15 bits are all ones (either membership).
	 */
	if (sroce_parse(skb->data, skb->len, &pkt) ||
	    (sroce_opcode_transport(pkt.bth.opcode) != SROCE_TRANSPORT_RC &&
	     sroce_opcode_transport(pkt.bth.opcode) != SROCE_TRANSPORT_UC &&
	     sroce_opcode_transport(pkt.bth.opcode) != SROCE_TRANSPORT_UD &&
	     sroce_opcode_transport(pkt.bth.opcode) != SROCE_TRANSPORT_XRC) ||
	    (pkt.bth.pkey & 0x7fff) != 0x7fff)
		goto drop;

	if (sroce_qp_rcv(udp, &pkt, skb)) {
		why = SROCE_STAT_RX_NO_QP;
		goto drop;
	}
	return 0;

drop:
	if (udp)
		atomic64_inc(&udp->drops[why]);
	kfree_skb(skb);
	return 0;
}

static struct socket *sroce_udp_open(struct sroce_udp *udp, bool ipv6)
{
	struct udp_tunnel_sock_cfg tnl_cfg = {
		.sk_user_data = udp,
		.encap_type = 1,
		.encap_rcv = sroce_udp_rcv,
	};
	struct udp_port_cfg udp_cfg = {
		.family = ipv6 ? AF_INET6 : AF_INET,
		.ipv6_v6only = ipv6,
		.local_udp_port = htons(SROCE_ROCEV2_UDP_PORT),
	};
	struct socket *sock;
	int err;

	err = udp_sock_create(udp->net, &udp_cfg, &sock);
	if (err)
		return ERR_PTR(err);
	sroce_setup_udp_tunnel_sock(udp->net, sock, &tnl_cfg);
	/*
	 * A datagram sent to a multicast group reaches the QPs of this host
	 * attached to it too, as a NIC loops multicast back to its other
	 * QPs; the tunnel setup turns IPv4's loopback off (IPv6's stays).
	 */
	if (!ipv6)
		sroce_sk_set_mc_loop(sock->sk);
	return sock;
}

static void sroce_udp_close(struct sroce_udp *udp)
{
	if (udp->sock6)
		sroce_udp_sock_release(udp->sock6);
	sroce_udp_sock_release(udp->sock4);
	list_del(&udp->list);
	kfree(udp);
}

/* Open (or share) the sockets of @sdev's namespace. */
int sroce_udp_get(struct sroce_dev *sdev)
{
	struct net *net = dev_net(sdev->ndev);
	struct sroce_udp *udp;
	int err = 0;

	mutex_lock(&sroce_udp_lock);
	list_for_each_entry(udp, &sroce_udps, list) {
		if (udp->net == net) {
			udp->users++;
			goto out;
		}
	}
	udp = kzalloc_obj(*udp);
	if (!udp) {
		err = -ENOMEM;
		goto unlock;
	}
	udp->net = net;
	udp->users = 1;
	list_add(&udp->list, &sroce_udps);
	udp->sock4 = sroce_udp_open(udp, false);
	if (IS_ERR(udp->sock4)) {
		err = PTR_ERR(udp->sock4);
		goto err_sock4;
	}
	if (IS_ENABLED(CONFIG_IPV6)) {
		udp->sock6 = sroce_udp_open(udp, true);
		if (IS_ERR(udp->sock6)) {
			err = PTR_ERR(udp->sock6);
			udp->sock6 = NULL;
			if (err != -EAFNOSUPPORT)
				goto err_sock6;
			err = 0;	/* IPv6 disabled: IPv4 only */
		}
	}
out:
	sdev->udp = udp;
	goto unlock;

err_sock6:
	sroce_udp_sock_release(udp->sock4);
err_sock4:
	list_del(&udp->list);
	kfree(udp);
	if (err == -EADDRINUSE)
		pr_err("sroce: UDP port %u is in use (is rdma_rxe loaded?)\n",
		       SROCE_ROCEV2_UDP_PORT);
unlock:
	mutex_unlock(&sroce_udp_lock);
	return err;
}

void sroce_udp_put(struct sroce_dev *sdev)
{
	struct sroce_udp *udp = sdev->udp;

	if (!udp)
		return;
	mutex_lock(&sroce_udp_lock);
	if (!--udp->users)
		sroce_udp_close(udp);
	mutex_unlock(&sroce_udp_lock);
	sdev->udp = NULL;
}

void sroce_udp_read_stats(struct sroce_dev *sdev, u64 *value)
{
	int i;

	for (i = 0; i < SROCE_STAT_FIRST_DEV; i++)
		value[i] = atomic64_read(&sdev->udp->drops[i]);
}

/* Room for the link, IP and UDP headers in front of the BTH. */
#define SROCE_HEADROOM	(LL_MAX_HEADER + sizeof(struct ipv6hdr) + \
			 sizeof(struct udphdr))

/*
 * A packet of @qp with the headers of @pkt built and room for
 * pkt->payload_len bytes at *@payload (the pad is zeroed; the ICRC is
 * filled at send time).
 */
struct sk_buff *sroce_pkt_alloc(struct sroce_qp *qp, struct sroce_pkt *pkt,
				void **payload)
{
	unsigned int pad = sroce_pad_for(pkt->payload_len);
	const struct sroce_opcode_info *op;
	unsigned int hdr_len, len;
	struct sk_buff *skb;
	u8 *p;

	/* An XRC QP's packets are the XRC twins of the RC ones it builds. */
	if (sroce_qp_is_xrc(qp))
		pkt->bth.opcode = sroce_xrc_opcode(pkt->bth.opcode);
	op = sroce_opcode_info(pkt->bth.opcode);
	if (WARN_ON_ONCE(!op))
		return NULL;
	hdr_len = sroce_opcode_hdr_len(op);
	len = hdr_len + pkt->payload_len + pad + SROCE_ICRC_LEN;
	skb = alloc_skb(SROCE_HEADROOM + len,
			qp->may_sleep ? GFP_KERNEL : GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, SROCE_HEADROOM);
	p = skb_put(skb, len);
	if (sroce_build(p, len, pkt) < 0) {
		kfree_skb(skb);
		return NULL;
	}
	memset(p + hdr_len + pkt->payload_len, 0, pad + SROCE_ICRC_LEN);
	*payload = p + hdr_len;
	return skb;
}

static struct dst_entry *sroce_route4(struct net *net, int oif,
				      const struct sroce_av *av)
{
	struct flowi4 fl4 = {
		.flowi4_oif = oif,
		.flowi4_proto = IPPROTO_UDP,
		.saddr = av->saddr.s6_addr32[3],
		.daddr = av->daddr.s6_addr32[3],
	};
	struct rtable *rt;

	rt = ip_route_output_key(net, &fl4);
	return IS_ERR(rt) ? NULL : &rt->dst;
}

static struct dst_entry *sroce_route6(struct net *net, struct sock *sk,
				      int oif, const struct sroce_av *av)
{
	struct flowi6 fl6 = {
		.flowi6_oif = oif,
		.flowi6_proto = IPPROTO_UDP,
		.saddr = av->saddr,
		.daddr = av->daddr,
	};
	struct dst_entry *dst;

	if (!sk)
		return NULL;
	dst = ip6_dst_lookup_flow(net, sk, &fl6, NULL);
	if (IS_ERR(dst))
		return NULL;
	if (dst->error) {
		dst_release(dst);
		return NULL;
	}
	return dst;
}

/*
 * The largest IBTA MTU whose RoCEv2 packets fit the route from @sdev to
 * the destination of @av now (0 if none does), or -EHOSTUNREACH without
 * a route.  Process context.
 */
int sroce_route_ib_mtu(struct sroce_dev *sdev, const struct sroce_av *av)
{
	struct net_device *ndev = sdev->ndev;
	struct sroce_udp *udp = sdev->udp;
	struct dst_entry *dst;
	int ib_mtu;

	if (av->family == AF_INET)
		dst = sroce_route4(dev_net(ndev), ndev->ifindex, av);
	else
		dst = sroce_route6(dev_net(ndev),
				   udp->sock6 ? udp->sock6->sk : NULL,
				   ndev->ifindex, av);
	if (!dst)
		return -EHOSTUNREACH;
	ib_mtu = sroce_ib_mtu_for_netdev(dst_mtu(dst));
	dst_release(dst);
	return ib_mtu;
}

static void sroce_push_udp(struct sk_buff *skb, u16 sport)
{
	struct udphdr *uh;

	__skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh = udp_hdr(skb);
	uh->source = htons(sport);
	uh->dest = htons(SROCE_ROCEV2_UDP_PORT);
	uh->len = htons(skb->len);
	uh->check = 0;		/* RoCEv2: the ICRC covers the payload */
}

static void sroce_push_ip4(struct sk_buff *skb, struct dst_entry *dst,
			   const struct sroce_av *av)
{
	struct iphdr *iph;

	__skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) >> 2;
	iph->tos = av->tclass;
	iph->tot_len = htons(skb->len);
	iph->frag_off = htons(IP_DF);
	iph->ttl = av->hop_limit;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = av->saddr.s6_addr32[3];
	iph->daddr = av->daddr.s6_addr32[3];
	__ip_select_ident(dev_net(dst->dev), iph, 1);
	skb->protocol = htons(ETH_P_IP);
}

static void sroce_push_ip6(struct sk_buff *skb, const struct sroce_av *av)
{
	struct ipv6hdr *ip6h;

	__skb_push(skb, sizeof(*ip6h));
	skb_reset_network_header(skb);
	ip6h = ipv6_hdr(skb);
	ip6_flow_hdr(ip6h, av->tclass, htonl(av->flow_label));
	ip6h->payload_len = htons(skb->len - sizeof(*ip6h));
	ip6h->nexthdr = IPPROTO_UDP;
	ip6h->hop_limit = av->hop_limit;
	ip6h->saddr = av->saddr;
	ip6h->daddr = av->daddr;
	skb->protocol = htons(ETH_P_IPV6);
}

/*
 * Send a packet of @qp from sroce_pkt_alloc() to the address @av.
 * Consumes @skb.  Returns 0 or a negative errno; a packet lost on the way
 * is the transport's to recover, like any other loss.
 */
int sroce_pkt_send_to(struct sroce_qp *qp, struct sk_buff *skb,
		      const struct sroce_av *av)
{
	struct sroce_udp *udp = qp->sdev->udp;
	/*
	 * The core holds the device's netdev from ib_device_set_netdev()
	 * until unregistration has destroyed every QP (free_netdevs() comes
	 * after disable_device()), so a QP's owner may use it without a
	 * reference of its own.  ib_device_get_netdev() would also do, but
	 * its lock is not meant for softirq.
	 */
	struct net_device *ndev = qp->sdev->ndev;
	struct net *net = dev_net(ndev);
	/* The transport packet, BTH to ICRC, a multiple of 4 bytes. */
	u32 words = skb->len / 4;
	struct dst_entry *dst;
	int err;

	if (av->family == AF_INET)
		dst = sroce_route4(net, ndev->ifindex, av);
	else
		dst = sroce_route6(net, udp->sock6 ? udp->sock6->sk : NULL,
				   ndev->ifindex, av);
	if (!dst) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_TX_ERR);
		kfree_skb(skb);
		return -EHOSTUNREACH;
	}

	skb_dst_set(skb, dst);
	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	sroce_push_udp(skb, qp->src_port);
	if (av->family == AF_INET)
		sroce_push_ip4(skb, dst, av);
	else
		sroce_push_ip6(skb, av);
	sroce_icrc_fill(skb_network_header(skb), skb->len);

	if (av->family == AF_INET)
		err = ip_local_out(net, udp->sock4->sk, skb);
	else
		err = ip6_local_out(net, udp->sock6->sk, skb);
	err = net_xmit_eval(err);
	if (err) {
		sroce_stat_inc(qp->sdev, SROCE_STAT_TX_ERR);
		return err;
	}
	sroce_stat_inc(qp->sdev, SROCE_STAT_TX_PKTS);
	atomic64_add(words, sroce_stat(qp->sdev, SROCE_STAT_TX_WORDS));
	return 0;
}

/* Send a packet of a connected QP to its peer. */
int sroce_pkt_send(struct sroce_qp *qp, struct sk_buff *skb)
{
	return sroce_pkt_send_to(qp, skb, &qp->av);
}
