/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pure link-level rules of an sroce port: how the netdev's MTU, MAC and
 * carrier map onto IBTA port attributes.
 *
 * Nothing here calls into the kernel, so the host unit tests
 * (tests/unit/) compile this header as it is and check every rule.
 */
#ifndef SROCE_LINK_H
#define SROCE_LINK_H

#include <linux/types.h>

/*
 * Bytes a RoCEv2 packet spends around its payload, in the worst case:
 * IPv6 header (40), UDP (8), BTH (12), the largest extension headers that
 * travel with payload (RETH 16 + ImmDt 4) and the ICRC (4).  The Ethernet
 * header is not part of the netdev MTU.
 */
#define SROCE_ROCEV2_MAX_OVERHEAD	(40 + 8 + 12 + 16 + 4 + 4)

/* IBTA path MTU encodings (enum ib_mtu in the kernel). */
#define SROCE_IB_MTU_256	1
#define SROCE_IB_MTU_4096	5

static inline unsigned int sroce_ib_mtu_bytes(int ib_mtu)
{
	return 128U << ib_mtu;
}

/*
 * The largest IBTA MTU whose packets fit a netdev MTU of @ndev_mtu bytes,
 * or 0 when not even a 256-byte payload fits (the port cannot carry RoCEv2).
 */
static inline int sroce_ib_mtu_for_netdev(unsigned int ndev_mtu)
{
	int ib_mtu;

	if (ndev_mtu < SROCE_ROCEV2_MAX_OVERHEAD)
		return 0;
	for (ib_mtu = SROCE_IB_MTU_4096; ib_mtu >= SROCE_IB_MTU_256; ib_mtu--)
		if (sroce_ib_mtu_bytes(ib_mtu) <=
		    ndev_mtu - SROCE_ROCEV2_MAX_OVERHEAD)
			return ib_mtu;
	return 0;
}

/*
 * Modified EUI-64 from a 48-bit MAC (RFC 4291 appendix A): FF:FE goes in
 * the middle and the universal/local bit is inverted.  The result is in
 * network byte order, as node GUIDs are.
 */
static inline void sroce_guid_from_mac(__u8 guid[8], const __u8 mac[6])
{
	guid[0] = mac[0] ^ 0x02;
	guid[1] = mac[1];
	guid[2] = mac[2];
	guid[3] = 0xff;
	guid[4] = 0xfe;
	guid[5] = mac[3];
	guid[6] = mac[4];
	guid[7] = mac[5];
}

/* IBTA PortState and PortPhysicalState values (enum ib_port_state ...). */
#define SROCE_PORT_DOWN		1
#define SROCE_PORT_ACTIVE	4
#define SROCE_PHYS_POLLING	2
#define SROCE_PHYS_DISABLED	3
#define SROCE_PHYS_LINK_UP	5

/*
 * An Ethernet port is ACTIVE exactly when its netdev is up and has carrier.
 * Physically, an administratively down netdev is disabled and an up one
 * without carrier is still polling for a link.
 */
static inline int sroce_port_state(int netdev_up, int carrier)
{
	return netdev_up && carrier ? SROCE_PORT_ACTIVE : SROCE_PORT_DOWN;
}

static inline int sroce_port_phys_state(int netdev_up, int carrier)
{
	if (!netdev_up)
		return SROCE_PHYS_DISABLED;
	return carrier ? SROCE_PHYS_LINK_UP : SROCE_PHYS_POLLING;
}

#endif /* SROCE_LINK_H */
