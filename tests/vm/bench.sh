#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark (make bench): perftest on one host over sroce0, then over
# rdma_rxe's rxe0 in the same VM, and each figure as a ratio sroce/rxe.
# Bandwidths are BW average in MB/s, latencies t_avg in usec.  Not a test:
# it fails only when a tool fails.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

runs=(
	"ib_write_bw -n 2000 -s 65536"
	"ib_read_bw -n 2000 -s 65536"
	"ib_send_bw -n 2000 -s 65536"
	"ib_write_bw -n 2000 -s 4096"
	"ib_atomic_bw -n 2000"
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
	case ${run[0]} in
	*_lat) awk -F': ' '{ split($2, f, " "); print f[6] }' <<<"$line" ;;
	*) awk -F': ' '{ split($2, f, " "); print f[4] }' <<<"$line" ;;
	esac
}

declare -A sroce
for r in "${runs[@]}"; do
	sroce[$r]=$(figure sroce0 "$r")
done
use_rxe || fail "cannot switch to rdma_rxe"
echo "kernel $SROCE_KVER, one VM, 2 vCPUs under TCG"
printf '%-32s %12s %12s %8s\n' run sroce0 rxe0 sroce/rxe
for r in "${runs[@]}"; do
	rxe=$(figure rxe0 "$r")
	printf '%-32s %12s %12s %8s\n' "$r" "${sroce[$r]}" "$rxe" \
		"$(awk -v a="${sroce[$r]}" -v b="$rxe" 'BEGIN { printf "%.2f", a / b }')"
done
echo "(bandwidth: MB/s, higher is better; latency: t_avg usec, lower is better)"
