# Kernel verbs, as a ULP uses them (tests/kmod/sroce_kverbs_test.c): a PD
# with the DMA MR, a CQ polled by the core, RC QPs posted to with
# ib_post_send/ib_post_recv, SEND, WRITE, READ and a refused ATOMIC, each
# checked byte for byte; fast registration as nvme-rdma uses it (REG_MR,
# the peer's READ and WRITE through the rkey, SEND_WITH_INV, LOCAL_INV);
# SENDs into a kernel SRQ (ib_post_srq_recv).  The module is built per
# kernel by make test; the same module on rdma_rxe is reported next to it
# unless SROCE_COMPARE_RXE=0.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

ko=$SROCE_REPO/tests/kmod/build/$SROCE_KVER/sroce_kverbs_test.ko
[ -f "$ko" ] || fail "$ko is not built (make -C tests/kmod KVER=$SROCE_KVER)"

# run_kverbs <dev>: load the test module against <dev>; its kernel log
# lines go to /tmp/kverbs.<dev>.
run_kverbs() {
	local dev=$1 gid seen status=0

	gid=$(roce_gid_index "$dev" 4) || fail "$dev has no IPv4 RoCE v2 GID"
	# Not dmesg -C: the guest's init reads the whole log at the end.
	seen=$(dmesg | wc -l)
	insmod "$ko" dev="$dev" gid_index="$gid" || status=$?
	rmmod sroce_kverbs_test 2>/dev/null || true
	dmesg | tail -n +$((seen + 1)) | grep -o 'sroce_kverbs_test: .*' \
		> "/tmp/kverbs.$dev" || true
	return $status
}

status=0
run_kverbs sroce0 || status=1
sed 's/^/sroce0: /' /tmp/kverbs.sroce0
nok=9
[ "$(grep -c ': ok:' /tmp/kverbs.sroce0)" -eq $nok ] || status=1
! grep -q FAIL /tmp/kverbs.sroce0 || status=1

if ! compare_rxe; then
	echo "REPORT kverbs: sroce0 $(grep -c ': ok:' /tmp/kverbs.sroce0) of $nok ok"
	exit $status
fi
use_rxe || fail "cannot switch to rdma_rxe"
run_kverbs rxe0 || true
echo "REPORT kverbs: sroce0 $(grep -c ': ok:' /tmp/kverbs.sroce0) of $nok ok, rxe0 $(grep -c ': ok:' /tmp/kverbs.rxe0) of $nok ok"
grep -h 'LOCAL_INV of a FREE MR: status' /tmp/kverbs.sroce0 /tmp/kverbs.rxe0 |
	sed 's/^/REPORT /' || true
grep FAIL /tmp/kverbs.rxe0 | sed 's/^/REPORT rxe0 differs: /' || true
exit $status
