# Every RC completion error status, provoked on purpose (progs/wc_errors.c):
# local length and protection, remote access and invalid request, RNR
# retry and transport retry exceeded, and the flush of the WRs behind the
# failure; LOCAL_INV and SEND_WITH_INV of a user MR, which may not be
# invalidated.  The same program on rdma_rxe is reported next to it.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog wc_errors
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
status=0
/tmp/wc_errors sroce0 "$gid" | tee /tmp/wc.sroce || status=1
compare_rxe || exit $status
use_rxe || fail "cannot switch to rdma_rxe"
gid=$(roce_gid_index rxe0 4) || fail "rxe0 has no IPv4 RoCE v2 GID"
/tmp/wc_errors rxe0 "$gid" > /tmp/wc.rxe || true
echo "REPORT wc_errors: sroce0 $(grep -c '^ok:' /tmp/wc.sroce) ok, rxe0 $(grep -c '^ok:' /tmp/wc.rxe) ok"
grep FAIL /tmp/wc.rxe | sed 's/^/REPORT rxe0 differs: /' || true
exit $status
