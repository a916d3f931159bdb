// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Host unit tests for driver/sroce_link.h: MTU, GUID and port-state rules.
 * Prints one "PASS"/"FAIL" line per check and exits non-zero on failure.
 */
#include <stdio.h>
#include <string.h>

#include "../../driver/sroce_link.h"
#include "unit.h"

static void test_mtu(void)
{
	static const struct { unsigned int ndev; int ib; } cases[] = {
		{ 0, 0 }, { 100, 0 }, { 84 + 255, 0 },
		{ 84 + 256, 1 }, { 576, 1 }, { 1100, 2 }, { 1500, 3 },
		{ 84 + 2047, 3 }, { 84 + 2048, 4 }, { 4000, 4 },
		{ 84 + 4096, 5 }, { 9000, 5 }, { 65535, 5 },
	};
	char what[64];
	size_t i;

	expect(SROCE_ROCEV2_MAX_OVERHEAD == 84, "RoCEv2 overhead is 84 bytes");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "netdev mtu %u -> ib mtu %d",
			 cases[i].ndev, cases[i].ib);
		expect(sroce_ib_mtu_for_netdev(cases[i].ndev) == cases[i].ib,
		       "%s", what);
	}
	expect(sroce_ib_mtu_bytes(1) == 256 && sroce_ib_mtu_bytes(5) == 4096,
	       "ib mtu enum to bytes");
}

static void test_guid(void)
{
	static const __u8 mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x01 };
	static const __u8 want[8] = { 0x50, 0x54, 0x00, 0xff,
				      0xfe, 0x12, 0x34, 0x01 };
	static const __u8 local_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	__u8 guid[8];

	sroce_guid_from_mac(guid, mac);
	expect(!memcmp(guid, want, 8), "EUI-64 of 52:54:00:12:34:01");
	sroce_guid_from_mac(guid, local_mac);
	expect(guid[0] == 0x00 && guid[3] == 0xff && guid[4] == 0xfe &&
	       guid[7] == 1, "U/L bit inverted for a local MAC");
}

static void test_port_state(void)
{
	expect(sroce_port_state(1, 1) == SROCE_PORT_ACTIVE, "up+carrier active");
	expect(sroce_port_state(1, 0) == SROCE_PORT_DOWN, "no carrier down");
	expect(sroce_port_state(0, 1) == SROCE_PORT_DOWN, "admin down");
	expect(sroce_port_phys_state(1, 1) == SROCE_PHYS_LINK_UP, "phys up");
	expect(sroce_port_phys_state(1, 0) == SROCE_PHYS_POLLING,
	       "phys polling without carrier");
	expect(sroce_port_phys_state(0, 0) == SROCE_PHYS_DISABLED,
	       "phys disabled when down");
}

int main(void)
{
	unit_suite = "link";
	test_mtu();
	test_guid();
	test_port_state();
	return unit_report();
}
