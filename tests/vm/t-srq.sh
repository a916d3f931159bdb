# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared receive queues (progs/srq.c) on sroce0, QPs of one process looped
# back through the IPv4 RoCE v2 GID: attributes and their limits, posting
# past max_wr, RC SENDs from three QPs into one SRQ and UD datagrams into
# one (every byte, wr_id and qp_num checked), the SRQ limit event once per
# arming, resizing with WQEs waiting (they all arrive, byte for byte; a
# shrink below them is EINVAL; the limit stays armed across), a QP in error
# flushing nothing of the SRQ, the SRQ's WQEs outliving a destroyed QP,
# and RNR NAKs while the SRQ is empty.  Then
# progs/srq_hostile.c breaks the ring of an SRQ (the provider's own, through
# its private struct): the SRQ errs once, its QP fails, nothing else.  Unless
# SROCE_COMPARE_RXE=0, the same program on rdma_rxe is reported.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog srq
install_prog srq_hostile

# run_srq <dev>: the program's output in /tmp/srq.<dev>.
run_srq() {
	local gid status=0

	gid=$(roce_gid_index "$1" 4) || fail "$1 has no IPv4 RoCE v2 GID"
	timeout 120 /tmp/srq "$1" "$gid" > "/tmp/srq.$1" 2>&1 || status=$?
	return $status
}

status=0
start=$SECONDS
run_srq sroce0 || status=1
cat /tmp/srq.sroce0
gid=$(roce_gid_index sroce0 4)
timeout 60 /tmp/srq_hostile sroce0 "$gid" > /tmp/srq_hostile.out 2>&1 || status=1
cat /tmp/srq_hostile.out
echo "REPORT srq sroce0: $(cat /tmp/srq.sroce0 /tmp/srq_hostile.out | grep -c '^ok:') ok, $(cat /tmp/srq.sroce0 /tmp/srq_hostile.out | grep -c '^FAIL:') FAIL, $((SECONDS - start)) s"
if [ "${SROCE_COMPARE_RXE:-1}" != 0 ]; then
	use_rxe || fail "cannot switch to rdma_rxe"
	run_srq rxe0 || true
	echo "REPORT srq rxe0: $(grep -c '^ok:' /tmp/srq.rxe0) ok, $(grep -c '^FAIL:' /tmp/srq.rxe0) FAIL"
	grep '^FAIL:' /tmp/srq.rxe0 | sed 's/^/REPORT rxe0 differs: /' || true
fi
exit $status
