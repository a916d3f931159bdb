# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# UC QPs on sroce0 (progs/uc.c): QPs of one process looped back through
# the IPv4 and the IPv6 RoCE v2 GID: UC's attribute masks, SEND,
# SEND_WITH_IMM, RDMA_WRITE and RDMA_WRITE_WITH_IMM checked byte for byte
# from 0 bytes to many path MTUs (at the active MTU and at 256), a
# receiver expecting another PSN, READ and atomics refused with EINVAL at
# post, SENDs with no receive or too long for it and WRITEs with a bad
# R_Key dropped (rx_uc_dropped rises, the receive WQE stays for the next
# SEND) and the ibv_wr_* API.  Then rdma-core's ibv_uc_pingpong between
# two processes, over IPv4 and IPv6 GIDs, polling and with events,
# multi-packet messages included.  TEST_DEV=rxe0 runs the same on
# rdma_rxe, for comparison (it has no rx_uc_dropped counter).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

dev=${TEST_DEV:-sroce0}
if [ "$dev" = rxe0 ]; then
	use_rxe || fail "cannot switch to rdma_rxe"
fi

counters() {
	rdma statistic show link "$dev"/1 | grep -o "$1 [0-9]*" | cut -d' ' -f2
}

install_prog uc
gid4=$(roce_gid_index "$dev" 4) || fail "$dev has no IPv4 RoCE v2 GID"
gid6=$(roce_gid_index "$dev" 6) || fail "$dev has no IPv6 RoCE v2 GID"
mtu=$(devinfo_field "$dev" active_mtu)
echo "GIDs: IPv4 $gid4, IPv6 $gid6; active MTU $mtu"

status=0
run_uc() {
	local what=$1 start=$SECONDS

	shift
	if timeout 300 /tmp/uc "$dev" "$@" > /tmp/uc.out 2>&1; then
		echo "ok: uc $what ($((SECONDS - start)) s)"
	else
		echo "FAIL: uc $what: exit status $?"
		status=1
	fi
	cat /tmp/uc.out
	echo "REPORT uc $what: $(grep -c '^ok:' /tmp/uc.out) ok, $(grep -c '^FAIL:' /tmp/uc.out) FAIL, $((SECONDS - start)) s"
}

run_uc "IPv4" "$gid4"
run_uc "IPv6" "$gid6"

# rdma-core's ibv_uc_pingpong between two processes (--chk: the tool
# checks one byte per page, and only prints a mismatch).  Its messages of
# 4096 bytes at its path MTU of 1024 are 4 packets each.
port=18515
pingpong() {
	local args="-d $dev -p $port -c $*" start=$SECONDS

	if run_server_client "ibv_uc_pingpong $args" $port \
		"ibv_uc_pingpong $args 127.0.0.1" 120 > /tmp/ucpp.out 2>&1 &&
		! grep -q "invalid data" /tmp/ucpp.out &&
		[ "$(grep -c ' iters in ' /tmp/ucpp.out)" = 2 ]; then
		echo "ok: ibv_uc_pingpong $args ($((SECONDS - start)) s)"
	else
		cat /tmp/ucpp.out
		echo "FAIL: ibv_uc_pingpong $args"
		status=1
	fi
}
pp_start=$SECONDS
pingpong -g "$gid4" -n 500
pingpong -g "$gid4" -s 1 -n 200
pingpong -g "$gid4" -e -s 10000 -n 200
pingpong -g "$gid4" -m 256 -s 5000 -n 200 -r 8
pingpong -g "$gid6" -n 500
pingpong -g "$gid6" -e -s "$mtu" -n 200
echo "REPORT ibv_uc_pingpong: 6 runs, $((SECONDS - pp_start)) s"
echo "REPORT counters: rx_uc_dropped $(counters rx_uc_dropped), rx_uc_abandoned $(counters rx_uc_abandoned)"
exit $status
