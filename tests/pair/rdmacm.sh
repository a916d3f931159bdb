#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# rdma_cm across the wire of "scripts/vm-run --pair" (with --peer-rxe:
# between sroce and rdma_rxe, the interop test).  Connections are set up
# by the CM's MADs on both GSI QPs (QP1), then move data: rping with its
# data validated (RC: SEND, READ, WRITE), ucmatose (RC connections and
# SENDs) and udaddy (UD datagrams to an address rdma_cm resolved), over
# IPv4 and IPv6, each side serving each tool once (rping over both
# families, ucmatose and udaddy over one each).  The wire is captured on eth0:
# tshark must decode every packet as RoCEv2, find the CM's REQ, REP, RTU
# and DREQ, SIDR REQ and REP, and udaddy's UD datagrams (SEND ONLY with
# immediate) with their DETH, and every RoCEv2 packet must have a good
# ICRC (progs/icrc_check.py, an implementation of its own).  Run by both
# VMs.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

[ "$SROCE_ROLE" = a ] && self4=192.0.2.1 self6=2001:db8::1 ||
	self4=192.0.2.2 self6=2001:db8::2

tcpdump -i eth0 -U -s 0 -w /tmp/cm.pcap udp port 4791 2>/tmp/tcpdump.err &
dump=$!
wait_for "grep -q listening /tmp/tcpdump.err" 20 || fail "tcpdump did not start"

# What a failed case leaves to read: the CM's state and the kernel log.
cm_diagnose() {
	echo "--- $SROCE_DEV: rdma res show cm_id, the port's counters, dmesg"
	rdma res show cm_id || true
	rdma statistic show link "$SROCE_DEV"/1 || true
	dmesg | tail -n 20
}

# cm_case <serving role> <label> <server command> <client command>: the
# server side runs its command once, for up to 120 s; the client side runs
# its own until it connects (the server may not listen yet), each try for
# up to 60 s, for 100 s in all.  Commands are strings, with @SELF@ and
# @PEER@ for this VM's and the peer's address.  A failure shows the first
# try's output and the last one's (line-buffered: a command that a timeout
# kills keeps what it said).
cm_case() {
	local server=$1 label=$2 cmd try deadline

	if [ "$SROCE_ROLE" = "$server" ]; then
		cmd=${3//@SELF@/$self}
		timeout 120 stdbuf -oL -eL $cmd > /tmp/cm.out 2>&1 && return 0
		echo "--- the server's output (status $?):"
		cat /tmp/cm.out
		cm_diagnose
		fail "$label: the server ($cmd) failed"
	fi
	cmd=${4//@PEER@/$peer}
	deadline=$((SECONDS + 100))
	try=0
	rm -f /tmp/cm.first
	while [ $SECONDS -lt $deadline ]; do
		try=$((try + 1))
		if timeout 60 stdbuf -oL -eL $cmd > /tmp/cm.out 2>&1; then
			echo "REPORT rdmacm $SROCE_DEV -> peer: $label (try $try)"
			return 0
		fi
		[ -f /tmp/cm.first ] || cp /tmp/cm.out /tmp/cm.first
		sleep 1
	done
	echo "--- the client's first try:"
	cat /tmp/cm.first
	echo "--- its last try (of $try):"
	cat /tmp/cm.out
	cm_diagnose
	fail "$label: $cmd did not connect and finish in 100 s"
}

for server in b a; do
	for family in 4 6; do
		if [ $family = 4 ]; then
			self=$self4 peer=$SROCE_PEER_IP4
		else
			self=$self6 peer=$SROCE_PEER_IP6
		fi
		cm_case $server "rping -V IPv$family" \
			"rping -s -a @SELF@ -C 50 -S 4000 -V" \
			"rping -c -a @PEER@ -C 50 -S 4000 -V"
		# ucmatose and udaddy take one family per serving side (b
		# over IPv4, a over IPv6), for make test's time: each side
		# serves each tool once, and each family carries each tool.
		[ "$server$family" = b4 ] || [ "$server$family" = a6 ] || continue
		cm_case $server "ucmatose IPv$family" \
			"ucmatose -b @SELF@ -c 2 -C 20 -S 1000" \
			"ucmatose -s @PEER@ -c 2 -C 20 -S 1000"
		cm_case $server "udaddy IPv$family" \
			"udaddy -b @SELF@ -c 2 -C 20 -S 500" \
			"udaddy -s @PEER@ -c 2 -C 20 -S 500"
	done
done

sleep 1
kill -INT $dump
wait $dump || true
total=$(tshark -r /tmp/cm.pcap 2>/dev/null | wc -l)
decoded=$(tshark -r /tmp/cm.pcap -Y infiniband.bth 2>/dev/null | wc -l)
echo "REPORT rdmacm $SROCE_DEV: $decoded of $total packets on eth0 decode as RoCEv2"
[ "$total" -gt 0 ] && [ "$decoded" -eq "$total" ] ||
	fail "tshark decodes $decoded of $total packets as InfiniBand"
# The CM's MADs (management class 7): REQ (0x10), REP (0x13), RTU (0x14),
# DREQ (0x15) of the RC connections, SIDR REQ (0x17) and SIDR REP (0x18)
# of udaddy's; DREP (0x16) is counted (a DREQ both ends send at once is
# answered by neither).
for attr in 0x0010 0x0013 0x0014 0x0015 0x0016 0x0017 0x0018; do
	n=$(tshark -r /tmp/cm.pcap -Y \
		"infiniband.mad.mgmtclass == 0x07 && infiniband.mad.attributeid == $attr" \
		2>/dev/null | wc -l)
	echo "REPORT rdmacm $SROCE_DEV: $n CM MADs of attribute $attr on eth0"
	[ "$n" -gt 0 ] || [ $attr = 0x0016 ] ||
		fail "tshark found no CM MAD of attribute $attr"
done
# udaddy's datagrams: UD SEND ONLY with immediate (opcode 101) with a
# DETH, between QPs other than QP1.
n=$(tshark -r /tmp/cm.pcap -Y \
	"infiniband.bth.opcode == 101 && infiniband.deth.srcqp != 1 && infiniband.bth.destqp != 1" \
	2>/dev/null | wc -l)
echo "REPORT rdmacm $SROCE_DEV: $n UD datagrams (DETH decoded) between QPs other than QP1 on eth0"
[ "$n" -gt 0 ] || fail "tshark found no UD SEND with immediate and a DETH outside QP1"
icrc=$(python3 "$SROCE_REPO/tests/vm/progs/icrc_check.py" /tmp/cm.pcap) ||
	fail "ICRCs on eth0: $icrc"
echo "REPORT rdmacm $SROCE_DEV: ICRCs on eth0: $icrc"
echo "rdmacm done on $SROCE_DEV ($SROCE_ROLE)"
