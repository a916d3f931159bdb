#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# RC loss recovery on sroce0, on one host: tests/vm/progs/lossy.c drives a
# random mix of WRITE, READ, SEND, FETCH_ADD and CMP_SWAP (0 to 2 MiB,
# depth 8, path MTU 1024, timeout 14, retry_cnt and rnr_retry 7) between
# two QPs and checks every byte, every atomic and every completion, first
# lossless, then with netem on lo (where local RoCE traffic goes) delaying
# by 1 ms, duplicating 2 %, reordering 10 % and corrupting 1 % of the
# packets (the ICRC drops those) and losing 1 %, 5 % and 10 %.  Any error
# completion (RETRY_EXC_ERR, ...) or mismatch fails the test.  Also
# ibv_rc_pingpong with 64 KiB messages under 5 % loss must finish.  Ratios
# are given against both baselines: no netem at all, and netem's 1 ms delay
# alone (the same path without impairments), and the same impairments
# at 0 % loss (the like-for-like one: only the loss differs).
# REPORT lines give each run's goodput and its ratios.  LONG=1 runs longer; SEED=
# replays a seed; TIMEOUT= sets the local ACK timeout (default 14).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

if [ "${LONG:-0}" = 1 ]; then
	secs=60 pp_iters=500 pp_limit=600
else
	secs=10 pp_iters=50 pp_limit=120
fi
seed=$(printf '%#x' "${SEED:-$(( $(date +%s) ^ $$ ))}")
impair="delay 1ms duplicate 2% reorder 10% corrupt 1%"
port=18517
timeout=${TIMEOUT:-14}	# local ACK timeout, 4.096 us * 2^14 = 67 ms

netem_off() {
	tc qdisc del dev lo root 2>/dev/null || true
}
trap netem_off EXIT

# netem_on <loss %>: the impairments above and that much loss on lo;
# "delay" for the 1 ms delay alone.
netem_on() {
	netem_off
	if [ "$1" = delay ]; then
		tc qdisc add dev lo root netem delay 1ms
		return
	fi
	tc qdisc add dev lo root netem delay 1ms loss "$1%" duplicate 2% \
		reorder 10% corrupt 1%
}

# "<packets> <dropped>" that lo's root qdisc saw.
netem_counts() {
	tc -s qdisc show dev lo | awk '/Sent/ { gsub(",", ""); print $4, $7; exit }'
}

# The value of sroce0's port counter $1.
sroce_stat() {
	port_counter sroce0 "$1"
}

# The goodput (MiB/s) in lossy's REPORT line in file $1.
goodput() {
	sed -n 's/^REPORT lossy .* goodput \([0-9.]*\) MiB\/s.*/\1/p' "$1"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# lossy_run <dev> <gid> <seconds> <label>: one run of lossy; its output
# stays in /tmp/lossy-<dev>-<label>.out.  Returns lossy's status.
lossy_run() {
	local out=/tmp/lossy-$1-$4.out rc=0

	timeout $(( $3 + 150 )) /tmp/lossy -d "$1" -g "$2" -m 1024 -T "$timeout" -q 8 \
		-t "$3" -s "$seed" -l "$4" > "$out" 2>&1 || rc=$?
	cat "$out"
	[ "$rc" -ne 124 ] || echo "FAIL: lossy on $1 ($4) timed out"
	return "$rc"
}

install_prog lossy
modprobe sch_netem || fail "no sch_netem module"
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
# Both QPs use 192.0.2.1: the kernel sends that through lo, so netem on lo
# is what the RoCE packets meet.
route=$(ip -o route get 192.0.2.1)
echo "REPORT loss: route to 192.0.2.1: $route"
case $route in *" dev lo "*) ;; *) fail "192.0.2.1 is not routed through lo" ;; esac

failed=""
base=0 dbase=0 ibase=0
for loss in none delay 0 1 5 10; do
	label="loss-$loss%"
	if [ "$loss" = none ]; then
		label=lossless
		netem_off
	elif [ "$loss" = delay ]; then
		label=lossless-delay
		netem_on delay
	else
		netem_on "$loss"
	fi
	tx0=$(sroce_stat tx_packets) nak0=$(sroce_stat seq_naks_sent)
	to0=$(sroce_stat retransmit_timeouts) icrc0=$(sroce_stat rx_icrc_errors)
	rt0=$(sroce_stat tx_retransmits)
	st=ok
	lossy_run sroce0 "$gid" "$secs" "$label" || st=FAIL
	[ "$st" = ok ] || failed="$failed $label"
	g=$(goodput "/tmp/lossy-sroce0-$label.out")
	g=${g:-0}
	[ "$loss" != none ] || base=$g
	[ "$loss" != delay ] || dbase=$g
	[ "$loss" != 0 ] || ibase=$g
	what=$label extra=""
	if [ "$loss" != none ] && [ "$loss" != delay ]; then
		extra=", $(ratio "$g" "$dbase") x lossless with the 1 ms delay"
		[ "$loss" = 0 ] ||
			extra="$extra, $(ratio "$g" "$ibase") x the same impairments at 0 % loss"
		what="$label ($impair)"
		read -r pkts dropped <<< "$(netem_counts)"
		extra="$extra, netem on lo: $pkts packets, $dropped dropped"
		# The RoCE packets must have gone through netem.
		sent=$(( $(sroce_stat tx_packets) - tx0 ))
		if { [ "$loss" != 0 ] && [ "${dropped:-0}" -eq 0 ]; } ||
			[ "${pkts:-0}" -lt $(( sent / 2 )) ]; then
			echo "FAIL: netem on lo saw ${pkts:-0} packets (dropped ${dropped:-0}) of $sent sroce sent"
			failed="$failed netem-$label"
		fi
	fi
	echo "REPORT loss sroce0 $what: $st, goodput $g MiB/s, $(ratio "$g" "$base") x lossless$extra;" \
		"sroce0 sent $(( $(sroce_stat tx_packets) - tx0 )) packets," \
		"$(( $(sroce_stat seq_naks_sent) - nak0 )) sequence NAKs," \
		"$(( $(sroce_stat retransmit_timeouts) - to0 )) retransmit timeouts," \
		"$(( $(sroce_stat tx_retransmits) - rt0 )) packets resent," \
		"$(( $(sroce_stat rx_icrc_errors) - icrc0 )) ICRC errors"
done

# ibv_rc_pingpong, checked 64 KiB messages, at 5 % loss: it must finish.
netem_on 5
pp="ibv_rc_pingpong -d sroce0 -g $gid -p $port -c -s 65536 -n $pp_iters"
if run_server_client "$pp" $port "$pp 127.0.0.1" $pp_limit > /tmp/loss-pp.out 2>&1; then
	echo "REPORT loss sroce0 ibv_rc_pingpong -s 65536 -n $pp_iters at 5% loss:" \
		"$(awk '/^--- client/ { c = 1 } c && /iters in/' /tmp/loss-pp.out)"
else
	cat /tmp/loss-pp.out
	echo "FAIL: ibv_rc_pingpong -s 65536 -n $pp_iters at 5% loss"
	failed="$failed pingpong-5%"
fi
netem_off

# No rdma_rxe here: it hands packets for a local address straight to its
# own receive path, past lo, so netem on lo never sees them.  The sroce
# and rxe loss table comes from tests/pair/loss.sh across a wire (make
# check-long).

[ -z "$failed" ] || fail "sroce0 under loss:$failed (seed $seed)"
echo "ok: sroce0 recovered from loss up to 10% (seed $seed)"
