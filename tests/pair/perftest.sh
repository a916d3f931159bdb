#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The perftest set between the two VMs of "scripts/vm-run --pair": run by
# both, it serves from b and connects from a, then the other way round, so
# that each side is requester and responder once.  With --peer-rxe this is
# the interop test: sroce against rdma_rxe, both directions.  Prints one
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

for server in b a; do
	for tool in $tools; do
		serve_or_connect $server $tool
	done
done
echo "perftest set done on $SROCE_DEV ($SROCE_ROLE)"
