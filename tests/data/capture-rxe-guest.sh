#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Guest side of capture-rxe.sh.  VM a serves perftest on rxe0 and captures
# eth0; VM b runs the clients.  The runs cover SEND (one packet with pad,
# and several packets), WRITE, READ, FETCH_ADD and CMP_SWAP, over IPv4
# (GID index 1) and IPv6 (GID index 2) GIDs.
set -euo pipefail

runs=(
	"ib_send_bw 1 -s 3"
	"ib_send_bw 2 -s 2500"
	"ib_write_bw 1 -s 2500"
	"ib_read_bw 2 -s 2500"
	"ib_atomic_bw 1"
	"ib_atomic_bw 2 -A CMP_AND_SWAP"
)

run() {		# run <tool> <gid index> [args...] [server address]
	local tool=$1 gid=$2

	shift 2
	"$tool" -d rxe0 -x "$gid" -n 5 -m 1024 "$@" > /dev/null
}

if [ "$SROCE_ROLE" = a ]; then
	tcpdump -i eth0 -s 0 -U -w /tmp/rxe.pcap udp port 4791 2> /dev/null &
	dump=$!
	for r in "${runs[@]}"; do
		# shellcheck disable=SC2086
		run $r
	done
	sleep 1
	kill "$dump"
	wait "$dump" || true
	cp /tmp/rxe.pcap tests/data/rxe-rocev2.pcap
	tshark -r tests/data/rxe-rocev2.pcap -T fields -e infiniband.bth.opcode 2> /dev/null |
		sort | uniq -c
else
	for r in "${runs[@]}"; do
		for _ in $(seq 20); do
			sleep 1
			# shellcheck disable=SC2086
			run $r "$SROCE_PEER_IP4" && break
		done
	done
fi
