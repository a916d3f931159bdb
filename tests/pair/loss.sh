#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# RC loss recovery across the wire of "scripts/vm-run --pair": run by both
# VMs, it runs tests/vm/progs/lossy.c (a random mix of WRITE, READ, SEND,
# FETCH_ADD and CMP_SWAP of 0 to 2 MiB, every byte and atomic checked)
# with one VM as the requester and the other as the responder, first
# lossless, then with netem on eth0 of both VMs delaying by 1 ms,
# duplicating 2 %, reordering 10 %, corrupting 1 % and losing 5 % of the
# frames; then the same the other way round.  Any error completion or
# mismatch, on either side, fails.  The requester prints a REPORT line
# with the goodput and its ratio to the lossless run (and to the run with
# the same impairments at 0 % loss, when LOSS has 0).  LOSS=<percents>
# (a list, "0 1 5 10" for make check-long's table; default 5) and
# SECS=<seconds> change the losses and each run's length, TIMEOUT= the
# local ACK timeout exponent (default 14).  The lossless run without
# netem always comes first: it is the ratios' base.  Run on rdma_rxe
# (vm-run --pair --rxe) it gives the same lines for rxe0.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

secs=${SECS:-8}
loss=${LOSS:-5}
seed=$(printf '%#x' "${SEED:-$(( $(date +%s) ^ $$ ))}")
port=18520
timeout=${TIMEOUT:-14}	# local ACK timeout, 4.096 us * 2^14 = 67 ms

trap 'tc qdisc del dev eth0 root 2>/dev/null || true' EXIT

install_prog lossy
modprobe sch_netem || fail "no sch_netem module"
gid=$(roce_gid_index "$SROCE_DEV" 4) || fail "$SROCE_DEV has no IPv4 RoCE v2 GID"

# The port counters of $SROCE_DEV as "name value" lines.
counters() {
	port_counters "$SROCE_DEV" 2>/dev/null
}

# phase <serving role> <loss %>: one lossy run; the server listens on a
# port of its own per phase, and the requester retries until it answers.
# A failed phase still ends on both sides, so the next one starts in step.
base=0 ibase=""
failed=""
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
phase() {
	local server=$1 pct=$2 out=/tmp/loss-pair.out label rc=0 g

	port=$((port + 1))
	tc qdisc del dev eth0 root 2>/dev/null || true
	label="loss-$pct%-served-by-$server"
	if [ "$pct" = none ]; then
		label="lossless-served-by-$server"
	else
		tc qdisc add dev eth0 root netem delay 1ms loss "$pct%" \
			duplicate 2% reorder 10% corrupt 1%
	fi
	counters > /tmp/loss-cnt.before
	if [ "$SROCE_ROLE" = "$server" ]; then
		timeout $((secs + 300)) /tmp/lossy -d "$SROCE_DEV" -g "$gid" \
			-m 1024 -T "$timeout" -S $port > $out 2>&1 || rc=$?
	else
		timeout $((secs + 300)) /tmp/lossy -d "$SROCE_DEV" -g "$gid" \
			-m 1024 -T "$timeout" -q 8 -t "$secs" -s "$seed" -l "$label" \
			-c "$SROCE_PEER_IP4" -p $port > $out 2>&1 || rc=$?
	fi
	cat $out
	counters > /tmp/loss-cnt.after
	echo "REPORT loss pair $SROCE_DEV ($SROCE_ROLE) $label counters:" \
		"$(awk 'NR == FNR { v[$1] = $2; next }
			$2 - v[$1] != 0 && $1 != "pinned_pages" { printf " %s +%d", $1, $2 - v[$1] }' \
			/tmp/loss-cnt.before /tmp/loss-cnt.after)," \
		"eth0 since boot: $(ip -s link show eth0 |
			awk '/RX:/ { getline; print "rx " $2 " packets, " $4 " dropped, " $5 " missed"; exit }')"
	echo "REPORT loss pair $SROCE_DEV ($SROCE_ROLE) eth0 netem: $(tc -s qdisc show dev eth0 | awk '/Sent/ { print; exit }')"
	if [ "$SROCE_ROLE" != "$server" ]; then
		g=$(sed -n 's/^REPORT lossy .* goodput \([0-9.]*\) MiB\/s.*/\1/p' $out)
		g=${g:-0}
		[ "$pct" != none ] || base=$g
		[ "$pct" != 0 ] || ibase=$g
		echo "REPORT loss pair $SROCE_DEV -> peer, $label: goodput $g MiB/s," \
			"$(ratio "$g" "$base") x lossless$(
			[ "$pct" = none ] || [ "$pct" = 0 ] || [ -z "$ibase" ] ||
				echo ", $(ratio "$g" "$ibase") x the same impairments at 0 % loss")"
	fi
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: lossy $label on $SROCE_DEV ($SROCE_ROLE): status $rc"
		failed="$failed $label"
	fi
}

for server in b a; do
	phase "$server" none
	for pct in $loss; do
		phase "$server" "$pct"
	done
done
tc qdisc del dev eth0 root 2>/dev/null || true
[ -z "$failed" ] || fail "$SROCE_DEV ($SROCE_ROLE):$failed (seed $seed)"
echo "loss recovery done on $SROCE_DEV ($SROCE_ROLE)"
