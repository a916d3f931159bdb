# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Containers: an sroce device per network namespace.  Two namespaces
# joined by a veth pair (nsa: va, 198.51.100.1; nsb: vb, .2), "rdma link
# add" run inside each.
#  - Shared mode (the default): each namespace sees both devices;
#    ibv_rc_pingpong (-c) and rping (-V, data checked) between them;
#    port_xmit_data of one device equals port_rcv_data of the other, both
#    ways, after the transfer.  A namespace's UDP 4791 socket comes with
#    its first sroce device and goes with its last (rdma link delete, then
#    a netdev unregistered); deleting the veth takes its devices with it.
#  - Exclusive mode ("rdma system set netns exclusive"): a device lives
#    in one namespace only (on kernels without ib_alloc_device_with_net it
#    is created in init_net and moved there with "rdma dev set"); the
#    pingpong works again; a device in use by a process (progs/netns_hold.c:
#    a PD, an MR, a CQ and a QP in RTS) is moved to the other namespace,
#    and then deleted, each within 10 s, and the process sees EIO from the
#    kernel, destroys everything and exits cleanly.
# With SROCE_COMPARE_RXE, rdma_rxe's pingpong over the same veth is
# reported (information only).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

# The devices the test may have made, in whichever namespace they are.
devs_left() {
	{
		rdma link show
		ip netns exec nsa rdma link show
		ip netns exec nsb rdma link show
	} 2>/dev/null | grep -E "link (sra|sra2|srb|rxa|rxb)/"
}

# Delete the veth and the dummy, which takes their devices along, and
# then the namespaces (once the devices are gone, so that none is moved
# back to init_net).
nsdel() {
	ip -n nsa link del va 2>/dev/null || true
	ip -n nsa link del dx 2>/dev/null || true
	wait_for '! devs_left' 10 || fail "devices left: $(devs_left)"
	ip netns del nsa 2>/dev/null || true
	ip netns del nsb 2>/dev/null || true
}

cleanup() {
	[ -z "${hold_pid:-}" ] || kill -9 "$hold_pid" 2>/dev/null || true
	[ -z "$(ip netns list)" ] || nsdel
	wait_for 'rdma system set netns shared' 10 || true
}
trap cleanup EXIT

modprobe rdma_ucm || fail "cannot load rdma_ucm"
install_prog netns_hold

# in_lib <ns> <lib.sh function and arguments>: run it inside <ns>.
in_lib() {
	local ns=$1

	shift
	ip netns exec "$ns" bash -c '. "$SROCE_REPO/tests/vm/lib.sh"; "$@"' \
		in_lib "$@"
}

udp_bound() {	# udp_bound <ns>: does its UDP port 4791 have a socket?
	[ -n "$(ip netns exec "$1" ss -Huln 'sport = :4791')" ]
}

links() {	# links <ns>: the names of the RDMA links <ns> sees
	ip netns exec "$1" rdma link show | awk '{ print $2 }' | cut -d/ -f1 |
		tr '\n' ' '
}

mkns() {
	ip netns add nsa
	ip netns add nsb
	ip link add va type veth peer name vb
	ip link set va netns nsa
	ip link set vb netns nsb
	ip -n nsa addr add 198.51.100.1/24 dev va
	ip -n nsb addr add 198.51.100.2/24 dev vb
	for n in a b; do
		ip -n ns$n link set lo up
		ip -n ns$n link set v$n up
	done
}

# wait_gid <dev>: its IPv4 RoCE v2 GID index, once it has one (10 s).
wait_gid() {
	wait_for "roce_gid_index $1 4" 10 && roce_gid_index "$1" 4
}
export -f wait_gid

# add_dev <ns> <dev> <netdev>: "rdma link add" inside <ns>; in exclusive
# mode, a device that landed in init_net is moved to <ns>.  Sets
# gid_<dev> to its IPv4 RoCE v2 GID index.
add_dev() {
	local g

	ip netns exec "$1" rdma link add "$2" type sroce netdev "$3"
	if [ "$mode" = exclusive ] && rdma dev show "$2" > /dev/null 2>&1; then
		echo "$2 was created in init_net; moving it to $1"
		rdma dev set "$2" netns "$1"
	fi
	g=$(in_lib "$1" wait_gid "$2") || fail "$2 has no IPv4 RoCE v2 GID in $1"
	printf -v "gid_$2" %s "$g"
}

# counters <ns> <dev>: "port_xmit_data port_rcv_data" of <dev>.
counters() {
	ip netns exec "$1" rdma statistic show link "$2"/1 | awk '
		{ for (i = 1; i < NF; i++) {
			if ($i == "port_xmit_data") x = $(i + 1)
			if ($i == "port_rcv_data") r = $(i + 1) } }
		END { print x + 0, r + 0 }'
}

# pingpong <label>: ibv_rc_pingpong -c, server sra in nsa, client srb in
# nsb, 100 round trips of 4096 bytes; the counters of both devices are
# compared across it.
pingpong() {
	local spid rc=0 src=0 a0 b0 a1 b1 ax ar bx br

	read -r ax ar <<< "$(counters nsa sra)"
	read -r bx br <<< "$(counters nsb srb)"
	ip netns exec nsa timeout 30 ibv_rc_pingpong -d sra -g "$gid_sra" -c \
		-n 100 -s 4096 > /tmp/pp.server 2>&1 &
	spid=$!
	wait_for "ip netns exec nsa ss -Hltn 'sport = :18515' | grep -q ." 10 ||
		fail "$1: the pingpong server does not listen"
	ip netns exec nsb timeout 30 ibv_rc_pingpong -d srb -g "$gid_srb" -c \
		-n 100 -s 4096 198.51.100.1 > /tmp/pp.client 2>&1 || rc=$?
	wait $spid || src=$?
	echo "--- $1: server $src, client $rc"
	cat /tmp/pp.server /tmp/pp.client
	[ $rc = 0 ] && [ $src = 0 ] || fail "$1: ibv_rc_pingpong failed"
	grep -q "100 iters" /tmp/pp.client || fail "$1: no result"
	! grep -q "invalid data" /tmp/pp.server /tmp/pp.client ||
		fail "$1: the data was not what was sent"
	read -r a0 a1 <<< "$(counters nsa sra)"
	read -r b0 b1 <<< "$(counters nsb srb)"
	ax=$((a0 - ax)) ar=$((a1 - ar)) bx=$((b0 - bx)) br=$((b1 - br))
	echo "REPORT netns $1: sra port_xmit_data $ax port_rcv_data $ar," \
		"srb port_xmit_data $bx port_rcv_data $br (4-byte words)"
	# 100 messages of 4096 bytes each way, headers not counted.
	[ $ax -ge 102400 ] && [ $bx -ge 102400 ] ||
		fail "$1: the transfer was not counted"
	[ $ax = $br ] || fail "$1: sra sent $ax words, srb received $br"
	[ $bx = $ar ] || fail "$1: srb sent $bx words, sra received $ar"
}

echo "== shared mode"
mode=shared
rdma system show | grep -q "netns shared" ||
	fail "not in shared mode: $(rdma system show)"
mkns
! udp_bound nsa || fail "UDP 4791 is bound in nsa before any device"
add_dev nsa sra va
udp_bound nsa || fail "nsa's first sroce device did not open UDP 4791"
! udp_bound nsb || fail "UDP 4791 is bound in nsb, which has no device"
add_dev nsb srb vb
udp_bound nsb || fail "nsb's first sroce device did not open UDP 4791"
for ns in nsa nsb; do
	l=$(links $ns)
	[[ " $l" == *" sra "* && " $l" == *" srb "* && " $l" == *" sroce0 "* ]] ||
		fail "shared mode: $ns sees only $l"
done
echo "ok: both namespaces see sra, srb and sroce0"
pingpong shared
# rping -V: the data checked byte for byte, through rdma_cm.
ip netns exec nsa timeout 60 rping -s -a 198.51.100.1 -C 10 -S 1000 -V \
	> /tmp/rping.server 2>&1 &
rping_pid=$!
ok=0
for try in $(seq 20); do
	if ip netns exec nsb timeout 30 rping -c -a 198.51.100.1 -C 10 -S 1000 \
		-V > /tmp/rping.client 2>&1; then
		ok=1
		break
	fi
	sleep 0.5
done
wait $rping_pid || ok=0
[ $ok = 1 ] || { cat /tmp/rping.*; fail "rping -V failed"; }
echo "ok: rping -V, 10 pings of 1000 bytes checked, nsb to nsa"

# A second device in nsa, then the first goes: the socket stays.
ip -n nsa link add dx type dummy
ip -n nsa link set dx up
ip netns exec nsa rdma link add sra2 type sroce netdev dx
ip netns exec nsa rdma link delete sra
udp_bound nsa || fail "UDP 4791 closed in nsa while sra2 is there"
# The last one goes with its netdev, and takes the socket along.
ip -n nsa link del dx
wait_for '[[ " $(links nsa)" != *" sra2 "* ]]' 10 ||
	fail "sra2 outlived its netdev"
wait_for '! udp_bound nsa' 10 || fail "UDP 4791 stayed bound in nsa"
udp_bound nsb || fail "nsb's socket went with nsa's devices"
echo "ok: nsa's UDP 4791 socket came with its first device, went with its last"
# Deleting the veth (both ends) takes srb with it.
ip -n nsb link del vb
wait_for '[[ " $(links nsb)" != *" srb "* ]]' 10 || fail "srb outlived its veth"
wait_for '! udp_bound nsb' 10 || fail "UDP 4791 stayed bound in nsb"
echo "ok: deleting the veth removed srb and nsb's socket"
nsdel

echo "== exclusive mode"
# The core refuses while a namespace other than init_net exists, and the
# ones just deleted may take a moment to go.
wait_for 'rdma system set netns exclusive' 10 ||
	fail "rdma system set netns exclusive failed"
mode=exclusive
rdma system show | grep -q "netns exclusive" || fail "not exclusive"
mkns
add_dev nsa sra va
add_dev nsb srb vb
l=$(links nsa)
[ "$l" = "sra " ] || fail "exclusive mode: nsa sees $l"
l=$(links nsb)
[ "$l" = "srb " ] || fail "exclusive mode: nsb sees $l"
[[ " $(rdma link show)" != *" sra/"* ]] || fail "init_net sees sra"
echo "ok: each namespace sees its own device only"
pingpong exclusive

# hold <ns>: netns_hold on sra in <ns>, in the background, once ready.
hold() {
	ip netns exec "$1" env RDMAV_ALLOW_DISASSOC_DESTROY=1 \
		/tmp/netns_hold sra "$gid_sra" \
		> /tmp/hold.out 2>&1 &
	hold_pid=$!
	wait_for 'grep -q "^ready" /tmp/hold.out' 10 ||
		{ cat /tmp/hold.out; fail "netns_hold did not get ready"; }
}

# held <label> <command>: run it while netns_hold holds sra; it must end
# within 10 s, and netns_hold must see the device go and exit cleanly.
held() {
	local t0=$SECONDS rc=0

	timeout 10 bash -c "$2" || rc=$?
	echo "$1: status $rc after $((SECONDS - t0)) s"
	[ $rc = 0 ] || fail "$1 failed or hung ($rc)"
	rc=0
	timeout 15 tail --pid=$hold_pid -f /dev/null || kill -9 $hold_pid
	wait $hold_pid || rc=$?
	hold_pid=
	cat /tmp/hold.out
	[ $rc = 0 ] || fail "$1: netns_hold ended with $rc"
	grep -q "^done" /tmp/hold.out || fail "$1: netns_hold did not finish"
}

hold nsa
held "moving sra to nsb in use" "ip netns exec nsa rdma dev set sra netns nsb"
[ "$(links nsa)" = "" ] || fail "nsa still sees $(links nsa)"
[[ " $(links nsb)" == *" sra "* ]] || fail "nsb does not see sra"
echo "ok: sra moved to nsb while in use"
hold nsb
held "deleting sra in use" "ip netns exec nsb rdma link delete sra"
[[ " $(links nsb)" != *" sra "* ]] || fail "sra is still there"
echo "ok: sra deleted while in use"
nsdel
rdma system set netns shared
mode=shared

if compare_rxe; then
	mkns
	rc=0
	if use_rxe > /dev/null 2>&1 &&
	   ip netns exec nsa rdma link add rxa type rxe netdev va &&
	   ip netns exec nsb rdma link add rxb type rxe netdev vb &&
	   wait_for 'in_lib nsa roce_gid_index rxa 4' 10 &&
	   wait_for 'in_lib nsb roce_gid_index rxb 4' 10; then
		ip netns exec nsa timeout 15 ibv_rc_pingpong -d rxa -c -n 200 \
			-s 4096 -g "$(in_lib nsa roce_gid_index rxa 4)" \
			> /tmp/rxe.server 2>&1 &
		spid=$!
		wait_for "ip netns exec nsa ss -Hltn 'sport = :18515' | grep -q ." 10 ||
			true
		ip netns exec nsb timeout 15 ibv_rc_pingpong -d rxb -c -n 200 \
			-s 4096 -g "$(in_lib nsb roce_gid_index rxb 4)" \
			198.51.100.1 > /tmp/rxe.client 2>&1 || rc=$?
		src=0
		wait $spid || src=$?
		result="server $src, client $rc: $(tail -n 1 /tmp/rxe.client)"
	else
		result="no rxe devices in the namespaces"
	fi
	echo "REPORT netns rdma_rxe (information only):" \
		"ibv_rc_pingpong between namespaces: $result"
	nsdel
fi
