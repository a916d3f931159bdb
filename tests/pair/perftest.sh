#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The perftest set between the two VMs of "scripts/vm-run --pair": run by
# both, it serves from b and connects from a, then the other way round, so
# that each side is requester and responder once, and UC the same way
# (ibv_uc_pingpong, ib_write_bw -c UC).  With --peer-rxe this is the
# interop test: sroce against rdma_rxe, both directions.  Prints one
# REPORT line per run, from the client's side.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

gid=$(roce_gid_index "$SROCE_DEV" 4) || fail "$SROCE_DEV has no IPv4 RoCE v2 GID"
tools="ib_send_bw ib_write_bw ib_read_bw ib_atomic_bw
       ib_send_lat ib_write_lat ib_read_lat ib_atomic_lat"

# serve_or_connect <serving role> <tool>
serve_or_connect() {
	pair_run "$1" "$2" -d "$SROCE_DEV" -x "$gid" -F -n 200 ||
		fail "$2 between $SROCE_DEV and $SROCE_PEER_IP4 (serving: $1)"
	[ "$SROCE_ROLE" = "$1" ] && return 0
	awk -v d="$SROCE_DEV" -v t="$2" '
		/^ *[0-9]+ +[0-9]+ / { print "REPORT " t " " d " -> peer: " $0; exit }
	' /tmp/pair.out | tr -s ' \t' ' '
}

# UC between the two: rdma-core's ibv_uc_pingpong (4096-byte messages of
# 4 packets at its path MTU of 1024, and one-packet ones; --chk checks
# the data) and ib_write_bw over UC QPs.
uc_runs() {
	pair_run "$1" ibv_uc_pingpong -d "$SROCE_DEV" -g "$gid" -c -n 500 ||
		fail "ibv_uc_pingpong between $SROCE_DEV and $SROCE_PEER_IP4 (serving: $1)"
	! grep -q "invalid data" /tmp/pair.out ||
		fail "ibv_uc_pingpong (serving: $1): invalid data"
	[ "$SROCE_ROLE" = "$1" ] ||
		echo "REPORT ibv_uc_pingpong $SROCE_DEV -> peer: $(grep ' iters in ' /tmp/pair.out)"
	pair_run "$1" ibv_uc_pingpong -d "$SROCE_DEV" -g "$gid" -c -s 100 -n 500 ||
		fail "ibv_uc_pingpong -s 100 between $SROCE_DEV and $SROCE_PEER_IP4 (serving: $1)"
	! grep -q "invalid data" /tmp/pair.out ||
		fail "ibv_uc_pingpong -s 100 (serving: $1): invalid data"
	pair_run "$1" ib_write_bw -c UC -d "$SROCE_DEV" -x "$gid" -F -n 200 ||
		fail "ib_write_bw -c UC between $SROCE_DEV and $SROCE_PEER_IP4 (serving: $1)"
	[ "$SROCE_ROLE" = "$1" ] && return 0
	awk -v d="$SROCE_DEV" '
		/^ *[0-9]+ +[0-9]+ / { print "REPORT ib_write_bw -c UC " d " -> peer: " $0; exit }
	' /tmp/pair.out | tr -s ' \t' ' '
}

for server in b a; do
	for tool in $tools; do
		serve_or_connect $server $tool
	done
	uc_runs $server
done
echo "perftest set done on $SROCE_DEV ($SROCE_ROLE)"
