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
	local server=$1 tool=$2 args="-d $SROCE_DEV -x $gid -F -n 200" try

	if [ "$SROCE_ROLE" = "$server" ]; then
		timeout 120 $tool $args > /tmp/perf.out 2>&1 ||
			{ cat /tmp/perf.out; fail "$tool serving on $SROCE_DEV"; }
		return 0
	fi
	# The peer's server may not listen yet: retry until a connection
	# (which prints the addresses) has been made.
	for try in $(seq 150); do
		if timeout 120 $tool $args "$SROCE_PEER_IP4" > /tmp/perf.out 2>&1; then
			awk -v d="$SROCE_DEV" -v t="$tool" '
				/^ *[0-9]+ +[0-9]+ / {
					print "REPORT " t " " d " -> peer: " $0; exit }
			' /tmp/perf.out | tr -s ' \t' ' '
			return 0
		fi
		grep -q "local address" /tmp/perf.out && break
		sleep 0.2
	done
	cat /tmp/perf.out
	fail "$tool from $SROCE_DEV to $SROCE_PEER_IP4"
}

for server in b a; do
	for tool in $tools; do
		serve_or_connect $server $tool
	done
done
echo "perftest set done on $SROCE_DEV ($SROCE_ROLE)"
