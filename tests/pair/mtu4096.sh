#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Path MTU 4096 across the wire of "scripts/vm-run --pair": both VMs raise
# eth0 to 9000 bytes, the RDMA port must follow to an active MTU of 4096,
# and ibv_rc_pingpong moves checked data (--chk) at MTU 4096 in both
# directions, small and 1 MiB messages.  A capture on eth0 must show
# RoCEv2 frames that carry 4096-byte payloads, so the MTU was really used.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

ip link set eth0 mtu 9000
wait_for '[ "$(devinfo_field "$SROCE_DEV" active_mtu)" = 4096 ]' ||
	fail "$SROCE_DEV: active_mtu $(devinfo_field "$SROCE_DEV" active_mtu) with eth0 MTU 9000"
gid=$(roce_gid_index "$SROCE_DEV" 4) || fail "$SROCE_DEV has no IPv4 RoCE v2 GID"

tcpdump -i eth0 -U -s 128 -w /tmp/eth0.pcap udp port 4791 2>/tmp/tcpdump.err &
dump=$!
wait_for "grep -q listening /tmp/tcpdump.err" 20 || fail "tcpdump did not start"

for server in b a; do
	for size in 4095 1048576; do
		pair_run $server ibv_rc_pingpong -d "$SROCE_DEV" -g "$gid" -m 4096 \
			-s $size -n 20 --chk ||
			fail "ibv_rc_pingpong -m 4096 -s $size (serving: $server)"
		[ "$SROCE_ROLE" = $server ] && continue
		echo "REPORT mtu 4096 $SROCE_DEV -> peer, $size B:" \
			"$(grep 'iters in' /tmp/pair.out)"
	done
done
sleep 1
kill -INT $dump
wait $dump || true
# An IPv4 RoCEv2 frame with a full 4096-byte payload is at least
# 14 + 20 + 8 + 12 (BTH) + 4096 + 4 (ICRC) = 4154 bytes long.
big=$(tcpdump -r /tmp/eth0.pcap greater 4154 2>/dev/null | wc -l)
echo "REPORT mtu 4096 $SROCE_DEV: $big RoCEv2 frames of 4154 bytes or more on eth0"
[ "$big" -gt 0 ] || fail "no frame on eth0 carried a 4096-byte payload"
echo "mtu 4096 done on $SROCE_DEV ($SROCE_ROLE)"
