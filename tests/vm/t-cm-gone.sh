# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# An rdma_cm connection whose peer disappears mid-transfer.  Two network
# namespaces joined by a veth pair, an sroce device on each end (sra on
# 198.51.100.1, srb on 198.51.100.2).  ib_write_bw connects through
# rdma_cm (-R) and WRITEs; once data flows, the wire is cut both ways (tc
# netem loss 100%) and the server is killed, so that neither its DREQ nor
# anything else reaches the client, as when a host dies.  The client must
# then see its WRITEs complete in error (IBV_WC_RETRY_EXC_ERR, status 12)
# and exit within 60 seconds, not hang; afterwards neither device has a
# QP, MR, PD, CQ, context or cm_id of a user left.  Then the wire comes
# back, and a new connection (rping, its data checked) works, so nothing
# of the dead connection is in the way.  A second round cuts the wire
# without killing the server: both processes are told nothing by the
# wire, and the client's error must come all the same; the server is
# then stopped (SIGTERM) with the wire still cut, and nothing is left
# either.  Meanwhile, with LONG=1 (make check-long: the CM gives up only
# after about 75 s), from a third namespace, a connection to a host that
# never answers must end in RDMA_CM_EVENT_UNREACHABLE (-ETIMEDOUT) and
# leave nothing behind.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

cleanup() {
	pkill -9 -x ib_write_bw 2>/dev/null || true
	pkill -9 -x rping 2>/dev/null || true
	sleep 0.5
	rdma link delete sra 2>/dev/null || true
	rdma link delete srb 2>/dev/null || true
	rdma link delete src 2>/dev/null || true
	ip netns del nsa 2>/dev/null || true
	ip netns del nsb 2>/dev/null || true
	ip netns del nsc 2>/dev/null || true
}
trap cleanup EXIT

modprobe rdma_ucm || fail "cannot load rdma_ucm"
ip netns add nsa
ip netns add nsb
ip link add va type veth peer name vb
ip link set va netns nsa
ip link set vb netns nsb
ip -n nsa link set lo up
ip -n nsb link set lo up
ip -n nsa addr add 198.51.100.1/24 dev va
ip -n nsb addr add 198.51.100.2/24 dev vb
ip -n nsa link set va up
ip -n nsb link set vb up
ip netns exec nsa rdma link add sra type sroce netdev va
ip netns exec nsb rdma link add srb type sroce netdev vb
wait_for 'roce_gid_index sra 4' 20 || fail "sra has no IPv4 RoCE v2 GID"
wait_for 'roce_gid_index srb 4' 20 || fail "srb has no IPv4 RoCE v2 GID"
ip netns exec nsa ping -c 1 -W 5 198.51.100.2 > /dev/null ||
	fail "the namespaces do not reach each other"


wire() {	# wire cut|mend
	local ns dev

	for ns in a b; do
		dev=v$ns
		if [ "$1" = cut ]; then
			ip netns exec ns$ns tc qdisc add dev $dev root netem loss 100%
		else
			ip netns exec ns$ns tc qdisc del dev $dev root
		fi
	done
}

# Nothing of a user left on sra and srb, or the devices named, (cm_ids
# included) within 30 s.
nothing_left() {	# nothing_left <label> [<devices>]
	local d end want="pd 0 mr 0 cq 0 qp 0 srq 0 ctx 0 cm_id 0 "

	for d in ${2:-sra srb}; do
		end=$((SECONDS + 30))
		until [ "$(user_objects $d)" = "$want" ]; do
			[ $SECONDS -lt $end ] ||
				fail "$1: $d still has $(user_objects $d)"
			sleep 1
		done
	done
	echo "ok: $1: nothing of a user left on ${2:-sra and srb}"
}

# Stop a watchdog subshell with SIGKILL, never a signal it can catch: one
# killed right after its fork, before bash has reset the traps it
# inherited, would run this shell's EXIT trap (cleanup) and delete the
# namespaces under the rest of the case.  A client that fails within a
# second of the cut, as on 6.1, hit that.
stop_watchdog() {	# stop_watchdog <pid>
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# The client's status and output after the cut: exited by itself within
# 60 s (else a watchdog kills it), not successfully, with its WRITEs
# completed in error.
client_ended() {	# client_ended <label> <pid> <cut time>
	local rc=0 took watchdog

	( sleep 60; kill -9 "$2" 2>/dev/null ) &
	watchdog=$!
	wait "$2" || rc=$?
	stop_watchdog "$watchdog"
	took=$(( $(date +%s) - $3 ))
	echo "--- client after the cut ($1): status $rc after ${took} s"
	cat /tmp/gone.cli
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] ||
		fail "$1: the client hung: killed by timeout 60 s after the cut"
	[ "$rc" -ne 0 ] || fail "$1: the client claims success"
	grep -Eq "status 12|RETRY_EXC|transport retry" /tmp/gone.cli ||
		fail "$1: the client did not report its WRITEs failing with status 12 (retry exceeded)"
	echo "REPORT cm-gone $1: the client ended with status $rc ${took} s after the cut"
}

# Start the server in nsb and the client in nsa, and return once the
# client has sent 2000 packets.
start_pair() {	# start_pair <label>
	local before

	ip netns exec nsb ib_write_bw -R -F -d srb -D 120 -s 4096 \
		> /tmp/gone.srv 2>&1 &
	srv=$!
	wait_for "rdma res show cm_id | grep -q 'state LISTEN.*comm ib_write_bw'" 60 ||
		fail "$1: the server does not listen"
	before=$(port_counter sra tx_packets)
	ip netns exec nsa ib_write_bw -R -F -d sra -D 120 -s 4096 \
		198.51.100.2 > /tmp/gone.cli 2>&1 &
	cli=$!
	wait_for "[ \$((\$(port_counter sra tx_packets) - $before)) -gt 2000 ]" 120 || {
		cat /tmp/gone.srv /tmp/gone.cli
		fail "$1: no data flows"
	}
	kill -0 "$cli" 2>/dev/null || {
		cat /tmp/gone.srv /tmp/gone.cli
		fail "$1: the client ended before the wire was cut"
	}
}

# 0, meanwhile: a connection to a host that never answers, from a third
# namespace (nsc, device src on vc, 198.51.100.65).  The address resolves
# (a permanent neighbour entry), so the CM's REQ goes out and is resent
# until the CM gives up (about 75 s); rdma_cm must then report
# RDMA_CM_EVENT_UNREACHABLE with -ETIMEDOUT (-110).
silent=${LONG:-0}
if [ "$silent" = 1 ]; then
	ip netns add nsc
	ip link add vc type veth peer name vd
	ip link set vc netns nsc
	ip -n nsc link set lo up
	ip -n nsc addr add 198.51.100.65/26 dev vc
	ip -n nsc link set vc up
	ip link set vd up
	ip -n nsc neigh add 198.51.100.66 lladdr 02:00:00:00:00:02 dev vc nud permanent
	ip netns exec nsc rdma link add src type sroce netdev vc
	wait_for 'roce_gid_index src 4' 20 || fail "src has no IPv4 RoCE v2 GID"
	mute_start=$(date +%s)
	ip netns exec nsc timeout 200 rping -c -a 198.51.100.66 -C 1 \
		> /tmp/gone.mute 2>&1 &
	mute=$!
fi

# 1: the server's host dies: the wire is cut, then the server killed.
start_pair "host dies"
wire cut
cut=$(date +%s)
kill -9 "$srv"
wait "$srv" 2>/dev/null || true
client_ended "host dies" "$cli" "$cut"
nothing_left "host dies"
wire mend

# The wire is back: a new connection works, its data checked.
ip netns exec nsb timeout 60 rping -s -a 198.51.100.2 -C 20 -S 1000 -V \
	> /tmp/gone.rps 2>&1 &
rps=$!
ok=0
for try in $(seq 30); do
	if ip netns exec nsa timeout 60 rping -c -a 198.51.100.2 -C 20 -S 1000 -V \
		> /tmp/gone.rpc 2>&1; then
		ok=1
		break
	fi
	sleep 1
done
wait "$rps" || ok=0
[ "$ok" = 1 ] || {
	cat /tmp/gone.rps /tmp/gone.rpc
	fail "after the wire came back, rping does not connect and check its data"
}
echo "ok: after the wire came back, rping connected and checked 20 pings (try $try)"
nothing_left "rping after the cut"

# 2: the wire is cut, both processes live on.
start_pair "wire cut"
wire cut
cut=$(date +%s)
client_ended "wire cut" "$cli" "$cut"
# The server, the WRITEs' target, is told nothing by a dead wire; stopped,
# it must leave nothing behind even though its DREQ cannot arrive.
kill -TERM "$srv" 2>/dev/null || true
( sleep 20; kill -9 "$srv" 2>/dev/null ) &
watchdog=$!
wait "$srv" && fail "wire cut: the server claims success" || true
stop_watchdog "$watchdog"
nothing_left "wire cut"
wire mend

# 0's end: the silent host.
[ "$silent" = 1 ] || exit 0
rc=0
wait "$mute" || rc=$?
took=$(( $(date +%s) - mute_start ))
echo "--- rping to a host that never answers: status $rc after $took s"
cat /tmp/gone.mute
[ "$rc" -ne 124 ] || fail "a connection to a silent host did not end in 200 s"
grep -q "RDMA_CM_EVENT_UNREACHABLE, error -110" /tmp/gone.mute ||
	fail "a connection to a silent host did not end in RDMA_CM_EVENT_UNREACHABLE, -ETIMEDOUT"
echo "REPORT cm-gone: a connection to a host that never answers ended in RDMA_CM_EVENT_UNREACHABLE (-ETIMEDOUT) after $took s"
nothing_left "silent host" src
