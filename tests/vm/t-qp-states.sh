# The RC QP state machine beyond the happy path (progs/qp_states.c):
# forbidden transitions refused, RTS -> SQD with messages in flight and
# the SQ_DRAINED event, attribute changes in SQD, SQD -> RTS resuming in
# order, SQD -> ERR flushing.  The same program on rdma_rxe is reported
# next to it.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog qp_states
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
status=0
/tmp/qp_states sroce0 "$gid" | tee /tmp/qps.sroce || status=1
compare_rxe || exit $status
use_rxe || fail "cannot switch to rdma_rxe"
gid=$(roce_gid_index rxe0 4) || fail "rxe0 has no IPv4 RoCE v2 GID"
grep "^SQD: [0-9]" /tmp/qps.sroce | sed "s/^/REPORT sroce0 /" || true
timeout 120 /tmp/qp_states rxe0 "$gid" > /tmp/qps.rxe 2>&1 || true
echo "REPORT qp_states: sroce0 $(grep -c '^ok:' /tmp/qps.sroce) ok, rxe0 $(grep -c '^ok:' /tmp/qps.rxe) ok"
grep FAIL /tmp/qps.rxe | sed 's/^/REPORT rxe0 differs: /' || true
exit $status
