# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A hostile wire (progs/inject.c): RoCEv2 packets with valid ICRCs, built
# with the driver's own wire layer and sent from a raw socket at real QPs
# of sroce0: every opcode, truncations, bad pads, forged RETHs, forged
# ACKs/NAKs/READ responses/atomic ACKs against work in flight, packets to
# QPs in every state; and campaign f at UD QPs and QP1: every opcode,
# truncations, wrong pads and Q_Keys, oversized datagrams, RC and UD
# packets at the wrong transport, UD QPs in every state, multicast, and
# garbage MADs at QP1 with the CM's Q_Key.  Nothing outside remotely
# writable memory and the receives' own bytes may change, no work request
# may complete successfully without its effect, every datagram that must
# land does, as sent and in order, and no other, and a fresh QP pair must
# work afterwards.  Then rping (rdma_cm, whose connection setup goes
# through QP1 and the kernel's MAD layer) must still connect and move
# checked data.  The port counters' growth is reported.  INJECT_ARGS
# (e.g. "--long") goes to the program.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog inject
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
addr=$(ip -4 -o addr show dev eth0 | awk '{ sub("/.*", "", $4); print $4; exit }')
[ -n "$addr" ] || fail "eth0 has no IPv4 address"

# "name value" lines of the port counters
counters() {
	port_counters sroce0
}

counters > /tmp/inject.before || fail "cannot read the port counters"
dmesg_lines=$(dmesg | wc -l)
status=0
# shellcheck disable=SC2086
timeout "${INJECT_TIMEOUT:-420}" /tmp/inject sroce0 "$gid" "$addr" \
	${INJECT_ARGS:-} > /tmp/inject.out 2>&1 || {
	echo "FAIL: inject exited with status $?"
	status=1
}
cat /tmp/inject.out
counters > /tmp/inject.after || fail "cannot read the port counters"

packets=$(awk '/^inject: [0-9]+ packets sent/ { print $2 }' /tmp/inject.out)
echo "REPORT inject: ${packets:-no} packets, $(grep -c '^ok:' /tmp/inject.out) ok, $(grep -c '^FAIL:' /tmp/inject.out) FAIL"
grep -E '^(FAIL|note):' /tmp/inject.out | sed 's/^/REPORT inject /' || true
grep '^inject: .* took' /tmp/inject.out | sed 's/^/REPORT /' || true
grep '^inject: campaign f:' /tmp/inject.out | sed 's/^/REPORT /' || true
echo "REPORT inject counters (growth during the run):" \
	"$(join /tmp/inject.before /tmp/inject.after |
		awk '$3 != $2 { printf "%s%s +%d", s, $1, $3 - $2; s = "," }')"

# The injected packets must have been seen and classified: many malformed
# or unknown-QP drops, and ICRC errors only for the ICRC-less truncations.
grow() {
	join /tmp/inject.before /tmp/inject.after | awk -v k="$1" '$1 == k { print $3 - $2 }'
}
for k in rx_malformed rx_unknown_qp rx_qp_not_ready rx_responses_dropped \
	rx_qkey_violations rx_ud_dropped; do
	n=$(grow $k)
	if [ "${n:-0}" -gt 0 ]; then
		echo "ok: counter $k grew by $n"
	else
		echo "FAIL: counter $k did not grow"
		status=1
	fi
done
if [ -n "$packets" ] && [ "$(grow rx_icrc_errors)" -gt $((packets / 5)) ]; then
	echo "FAIL: $(grow rx_icrc_errors) of $packets packets had a bad ICRC: our ICRC is wrong"
	status=1
fi

# The MAD layer and the CM still work after campaign f's garbage at QP1:
# rping's connection setup (REQ, REP, RTU) goes through QP1.
rping_port=7471
rping_listens() {
	rdma resource show cm_id 2>/dev/null | grep 'state LISTEN' |
		grep -Eq "[:. ]$rping_port( |\$)"
}
timeout 60 rping -s -a "$addr" -p $rping_port -C 20 -V \
	> /tmp/rping.server 2>&1 &
rping_pid=$!
if ! wait_for rping_listens 20; then
	echo "FAIL: rping -s does not listen on port $rping_port after 20 s"
	rdma resource show cm_id || true
	status=1
fi
rc=0
timeout 60 rping -c -a "$addr" -p $rping_port -C 20 -V -v \
	> /tmp/rping.client 2>&1 || rc=$?
src=0
wait $rping_pid || src=$?
pings=$(grep -c '^ping data: ' /tmp/rping.client || true)
if [ "$rc" -eq 0 ] && [ "$src" -eq 0 ] && [ "$pings" -eq 20 ]; then
	echo "ok: rping -c -V -C 20 to $addr after the injection: 20 pings verified"
	echo "REPORT inject: rping after the injection: 20 pings verified"
else
	echo "FAIL: rping after the injection: client status $rc, server status $src (124: timeout), $pings pings"
	sed 's/^/  rping server: /' /tmp/rping.server
	sed 's/^/  rping client: /' /tmp/rping.client
	status=1
fi

if dmesg | tail -n +"$((dmesg_lines + 1))" |
	grep -E 'BUG|WARNING|Oops|KASAN|general protection|refcount_t|hung task'; then
	echo "FAIL: the kernel log shows the lines above"
	status=1
fi
exit $status
