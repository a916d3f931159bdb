# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Memory windows (progs/mw.c) on sroce0, RC QPs of one process looped back
# through the IPv4 RoCE v2 GID: type 1 (ibv_bind_mw) and type 2
# (IBV_WR_BIND_MW, ibv_wr_bind_mw) windows, WRITE, READ and atomics
# through them checked byte for byte, accesses outside a window, of a mode
# it does not grant, from a QP a type 2 window is not bound to, or with a
# stale or invalidated rkey failing with a remote access error, LOCAL_INV
# and SEND_WITH_INV of type 2 windows, bind errors (IBV_WC_MW_BIND_ERR),
# an MR with a bound window refusing deregistration (EBUSY), ibv_rereg_mr
# and its errors, and a process exiting with windows bound to an MR
# registered after them releasing everything.  With
# SROCE_COMPARE_RXE not 0, the same program on rdma_rxe, reported only.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog mw

# run_mw <dev>: the program's exit status, its output in /tmp/mw.<dev>.
run_mw() {
	local gid

	gid=$(roce_gid_index "$1" 4) || { echo "$1 has no IPv4 RoCE v2 GID"; return 1; }
	timeout 120 /tmp/mw "$1" "$gid" > "/tmp/mw.$1" 2>&1
}

status=0
start=$SECONDS
if run_mw sroce0; then
	echo "ok: mw on sroce0"
else
	echo "FAIL: mw on sroce0"
	status=1
fi
cat /tmp/mw.sroce0
echo "REPORT mw sroce0: $(grep -c '^ok:' /tmp/mw.sroce0) ok, $(grep -c '^FAIL:' /tmp/mw.sroce0) FAIL, $((SECONDS - start)) s"

# A process that exits with windows bound to an MR registered after them:
# the kernel must release all of it.  A core that drops an MR from rdma
# res before asking the driver to deregister it leaves an MR whose
# deregistration was refused out of rdma res: its pinned pages show.
start=$SECONDS
want=$(user_objects sroce0)
pins=$(port_counter sroce0 pinned_pages)
gid=$(roce_gid_index sroce0 4)
if timeout 60 /tmp/mw sroce0 "$gid" exit > /tmp/mw.exit 2>&1 &&
	wait_for '[ "$(user_objects sroce0)" = "$want" ] &&
		[ "$(port_counter sroce0 pinned_pages)" = "$pins" ]' 10; then
	echo "ok: exit with bound windows releases everything ($((SECONDS - start)) s)"
else
	cat /tmp/mw.exit
	echo "FAIL: exit with bound windows: sroce0 has $(user_objects sroce0), pinned_pages $(port_counter sroce0 pinned_pages), not $want, $pins"
	status=1
fi

if compare_rxe; then
	use_rxe || fail "cannot switch to rdma_rxe"
	run_mw rxe0 || true
	sed 's/^/rxe0: /' /tmp/mw.rxe0
	echo "REPORT mw rxe0 (information only): $(grep -c '^ok:' /tmp/mw.rxe0) ok, $(grep -c '^FAIL:' /tmp/mw.rxe0) FAIL"
	use_sroce || fail "cannot switch back to sroce"
fi
exit $status
