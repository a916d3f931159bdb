# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# UD QPs on sroce0 (progs/ud.c): datagrams between QPs of one process over
# the IPv4 and the IPv6 RoCE v2 GIDs, from a second address of eth0 to the
# first so that the GRH's source and destination differ: data checked byte
# for byte from 0 bytes to the active MTU, SEND_WITH_IMM, the GRH image,
# src_qp, byte_len, ibv_init_ah_from_wc and a reply, Q_Key violations and
# controlled Q_Keys, drops for no receive and a too small receive (counted,
# the WQE kept), over-MTU sends (IBV_WC_LOC_LEN_ERR), non-SEND opcodes
# (EINVAL at post) and the ibv_wr_* API; the IPv4 run again at a 4096-byte
# active MTU (eth0 at MTU 9000).  Then rdma-core's ibv_ud_pingpong between
# two processes, over IPv4 and IPv6 GIDs, polling and with events.
# TEST_DEV=rxe0 runs the same on rdma_rxe, for comparison.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

dev=${TEST_DEV:-sroce0}
if [ "$dev" = rxe0 ]; then
	use_rxe || fail "cannot switch to rdma_rxe"
fi

cleanup() {
	ip link set eth0 mtu 1500 2>/dev/null || true
	ip addr del 192.0.2.11/24 dev eth0 2>/dev/null || true
	ip addr del 2001:db8::11/64 dev eth0 2>/dev/null || true
}
trap cleanup EXIT

# The index of GID $2 (as sysfs writes it) on port 1 of device $1, RoCE v2.
gid_index_of() {
	local dir=/sys/class/infiniband/$1/ports/1 path i

	for path in "$dir"/gids/*; do
		i=${path##*/}
		[ "$(cat "$path" 2>/dev/null)" = "$2" ] || continue
		[ "$(cat "$dir/gid_attrs/types/$i" 2>/dev/null)" = "RoCE v2" ] ||
			continue
		echo "$i"
		return 0
	done
	return 1
}

install_prog ud
gid4=$(roce_gid_index "$dev" 4) || fail "$dev has no IPv4 RoCE v2 GID"
gid6=$(roce_gid_index "$dev" 6) || fail "$dev has no IPv6 RoCE v2 GID"
# second addresses, the senders' side
ip addr add 192.0.2.11/24 dev eth0
ip addr add 2001:db8::11/64 dev eth0 nodad
g4=0000:0000:0000:0000:0000:ffff:c000:020b
g6=2001:0db8:0000:0000:0000:0000:0000:0011
wait_for "gid_index_of $dev $g4" || fail "no GID for 192.0.2.11"
wait_for "gid_index_of $dev $g6" || fail "no GID for 2001:db8::11"
gid4b=$(gid_index_of "$dev" $g4)
gid6b=$(gid_index_of "$dev" $g6)
mtu=$(devinfo_field "$dev" active_mtu)
echo "GIDs: IPv4 $gid4 <- $gid4b, IPv6 $gid6 <- $gid6b; active MTU $mtu"

counters() {
	port_counter "$dev" "$1"
}

status=0
run_ud() {
	local what=$1 start=$SECONDS

	shift
	if timeout 300 /tmp/ud "$dev" "$@" > /tmp/ud.out 2>&1; then
		echo "ok: ud $what ($((SECONDS - start)) s)"
	else
		echo "FAIL: ud $what: exit status $?"
		status=1
	fi
	cat /tmp/ud.out
	echo "REPORT ud $what: $(grep -c '^ok:' /tmp/ud.out) ok, $(grep -c '^FAIL:' /tmp/ud.out) FAIL, $((SECONDS - start)) s"
}

run_ud "IPv4 MTU $mtu" "$gid4" "$gid4b"
run_ud "IPv6 MTU $mtu" "$gid6" "$gid6b"
run_ud "IPv4 one GID" "$gid4"

ip link set eth0 mtu 9000 || fail "cannot set eth0's MTU to 9000"
wait_for '[ "$(devinfo_field "$dev" active_mtu)" = 4096 ]' ||
	fail "active_mtu $(devinfo_field "$dev" active_mtu) at netdev MTU 9000, expected 4096"
run_ud "IPv4 MTU 4096" "$gid4" "$gid4b"
run_ud "IPv6 MTU 4096" "$gid6" "$gid6b"
ip link set eth0 mtu 1500
wait_for '[ "$(devinfo_field "$dev" active_mtu)" = 1024 ]' ||
	fail "active_mtu not back to 1024 at netdev MTU 1500"
# the IPv6 address may need a moment to be usable again
wait_for "gid_index_of $dev $g6" || fail "no GID for 2001:db8::11 after the MTU change"

# rdma-core's ibv_ud_pingpong between two processes (--chk: the tool
# checks one byte per page, and only prints a mismatch)
port=18515
pingpong() {
	local args="-d $dev -p $port -c $*" start=$SECONDS

	if run_server_client "ibv_ud_pingpong $args" $port \
		"ibv_ud_pingpong $args 127.0.0.1" 120 > /tmp/udpp.out 2>&1 &&
		! grep -q "invalid data" /tmp/udpp.out &&
		[ "$(grep -c ' iters in ' /tmp/udpp.out)" = 2 ]; then
		echo "ok: ibv_ud_pingpong $args ($((SECONDS - start)) s)"
	else
		cat /tmp/udpp.out
		echo "FAIL: ibv_ud_pingpong $args"
		status=1
	fi
}
pingpong -g "$gid4" -s "$mtu" -n 500
pingpong -g "$gid4" -s 1 -n 100
pingpong -g "$gid4" -e -s 512 -n 200
pingpong -g "$gid4" -s "$mtu" -n 200 -r 4
pingpong -g "$gid6" -s "$mtu" -n 500
pingpong -g "$gid6" -e -s 100 -n 200
# a size over the MTU is refused by the tool itself
if timeout 20 ibv_ud_pingpong -d "$dev" -g "$gid4" -s $((mtu + 1)) > /tmp/udpp.out 2>&1 ||
	! grep -q "larger than port MTU" /tmp/udpp.out; then
	cat /tmp/udpp.out
	echo "FAIL: ibv_ud_pingpong -s $((mtu + 1)) was not refused for the port MTU"
	status=1
fi
echo "REPORT counters: rx_qkey_violations $(counters rx_qkey_violations), rx_ud_dropped $(counters rx_ud_dropped)"
exit $status
