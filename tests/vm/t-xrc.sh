# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# XRC on sroce0 (progs/xrc.c), QPs looped back through the IPv4 RoCE v2
# GID: an XRC domain opened on a file, two XRC SRQs, a target QP and an
# initiator QP; SENDs (multi-packet, with immediate, through ibv_post_send
# and ibv_wr_*) to each SRQ by number, a WRITE and a READ, every byte
# checked; a child process sharing the domain (the same file) and the
# target QP (ibv_open_qp) with an SRQ of its own; the domain refused to
# close (EBUSY) while its SRQs live; SENDs to a destroyed SRQ and to an
# SRQ of another domain failing with a remote invalid request.  Unless
# SROCE_COMPARE_RXE=0, the same program on rdma_rxe, which has no XRC, is
# reported.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog xrc

# run_xrc <dev>: the program's output in /tmp/xrc.<dev>.
run_xrc() {
	local gid status=0

	gid=$(roce_gid_index "$1" 4) || fail "$1 has no IPv4 RoCE v2 GID"
	rm -f "/tmp/xrcd.$1"
	timeout 60 /tmp/xrc "$1" "$gid" "/tmp/xrcd.$1" > "/tmp/xrc.$1" 2>&1 ||
		status=$?
	return $status
}

status=0
start=$SECONDS
run_xrc sroce0 || status=1
cat /tmp/xrc.sroce0
grep -q '^PASS' /tmp/xrc.sroce0 || status=1
echo "REPORT xrc sroce0: $(grep -c '^ok:' /tmp/xrc.sroce0) ok, $(grep -c '^FAIL:' /tmp/xrc.sroce0) FAIL, $((SECONDS - start)) s"
if [ "${SROCE_COMPARE_RXE:-1}" != 0 ]; then
	use_rxe || fail "cannot switch to rdma_rxe"
	run_xrc rxe0 || true
	echo "REPORT xrc rxe0: $(grep -c '^ok:' /tmp/xrc.rxe0) ok, $(grep -c '^FAIL:' /tmp/xrc.rxe0) FAIL"
	grep '^FAIL:' /tmp/xrc.rxe0 | head -3 | sed 's/^/REPORT rxe0 differs: /' || true
fi
exit $status
