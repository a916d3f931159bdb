#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark (make bench): perftest on one host over sroce0, then over
# rdma_rxe's rxe0 in the same VM, and each figure as a ratio sroce/rxe.
# Bandwidths are BW average in MB/s, UD message rates MsgRate in Mpps,
# latencies t_avg in usec; then rdma_cm's connection time (cmtime, 100
# connections: us per full connect).  Not a test: it fails only when a
# tool fails.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

runs=(
	"ib_write_bw -n 2000 -s 65536"
	"ib_read_bw -n 2000 -s 65536"
	"ib_send_bw -n 2000 -s 65536"
	"ib_write_bw -n 2000 -s 4096"
	"ib_atomic_bw -n 2000"
	"ib_send_bw -c UD -n 20000 -s 64"
	"ib_write_lat -n 1000"
	"ib_send_lat -n 1000"
	"ib_read_lat -n 1000"
)

# figure <dev> <tool and args>: BW average, or t_avg for a latency tool.
figure() {
	local dev=$1 gid line
	local -a run=($2)

	gid=$(roce_gid_index "$dev" 4) || fail "$dev has no IPv4 RoCE v2 GID"
	line=$(perftest_local "$dev" "${run[0]}" "$gid" "${run[@]:1}") ||
		fail "$2 on $dev"
	case "${run[0]} ${run[*]}" in
	*_lat*) awk -F': ' '{ split($2, f, " "); print f[6] }' <<<"$line" ;;
	*"-c UD"*) awk -F': ' '{ split($2, f, " "); print f[5] }' <<<"$line" ;;
	*) awk -F': ' '{ split($2, f, " "); print f[4] }' <<<"$line" ;;
	esac
}

# cm_time <dev>: rdma_cm's time for a full connect (resolve address and
# route, create the QP, connect), us per connection, of 100 on one host.
# cmtime's second phase (connections without QPs) is rejected on sroce and
# rxe alike and fails the tool, so its status says nothing: the figure is
# taken from the first phase's table, which must be there.
cm_time() {
	local addr=192.0.2.1 us

	run_server_client "cmtime -b $addr -c 100" 7471 \
		"cmtime -s $addr -c 100" > /tmp/cmtime.out 2>&1 || true
	us=$(awk '/^--- client/ { c = 1 }
		  c && /^full connect/ { print $3; exit }' /tmp/cmtime.out)
	[ -n "$us" ] && [ "$us" -gt 0 ] || {
		cat /tmp/cmtime.out
		fail "cmtime on $1"
	}
	echo "$us"
}

declare -A sroce
for r in "${runs[@]}"; do
	sroce[$r]=$(figure sroce0 "$r")
done
sroce_cm=$(cm_time sroce0)
use_rxe || fail "cannot switch to rdma_rxe"
echo "kernel $SROCE_KVER, one VM, 2 vCPUs under TCG"
printf '%-32s %12s %12s %8s\n' run sroce0 rxe0 sroce/rxe
for r in "${runs[@]}"; do
	rxe=$(figure rxe0 "$r")
	printf '%-32s %12s %12s %8s\n' "$r" "${sroce[$r]}" "$rxe" \
		"$(awk -v a="${sroce[$r]}" -v b="$rxe" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }')"
done
rxe_cm=$(cm_time rxe0)
printf '%-32s %12s %12s %8s\n' "cmtime full connect (us)" "$sroce_cm" \
	"$rxe_cm" "$(awk -v a="$sroce_cm" -v b="$rxe_cm" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }')"
echo "(bandwidth: MB/s and UD message rate: Mpps, higher is better;"
echo " latency: t_avg usec and connect: us per connection, lower is better)"
