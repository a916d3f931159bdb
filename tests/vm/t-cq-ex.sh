# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The extended CQ (progs/cq_ex.c): SEND, SEND with immediate, RDMA WRITE
# with immediate, RDMA READ, RDMA WRITE and flushed completions polled
# through ibv_create_cq_ex's start_poll/next_poll/end_poll and every
# ibv_wc_read_* accessor, field by field against ibv_poll_cq's view of the
# same work (and ibv_poll_cq on an extended CQ); ENOENT on an empty CQ;
# EOPNOTSUPP for what sroce refuses (timestamps, CVLAN, flow tags, tag
# matching, unknown comp_mask bits and create flags, IGNORE_OVERRUN).
# Then ibv_resize_cq (progs/cq_resize.c): CQEs waiting in a CQ that grows
# or shrinks are polled afterwards, in order; too small a size is EINVAL
# and changes nothing; resizes while completions arrive lose none.
# Only sroce0 decides; the same programs on rdma_rxe are reported next to
# it.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog cq_ex
install_prog cq_resize
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
status=0
timeout 300 /tmp/cq_ex sroce0 "$gid" > /tmp/cq_ex.sroce 2>&1 || status=1
cat /tmp/cq_ex.sroce
timeout 120 /tmp/cq_resize sroce0 "$gid" | tee /tmp/cq_resize.sroce || status=1
compare_rxe || exit $status
use_rxe || fail "cannot switch to rdma_rxe"
gid=$(roce_gid_index rxe0 4) || fail "rxe0 has no IPv4 RoCE v2 GID"
timeout 300 /tmp/cq_ex rxe0 "$gid" > /tmp/cq_ex.rxe 2>&1 || true
timeout 120 /tmp/cq_resize rxe0 "$gid" > /tmp/cq_resize.rxe 2>&1 || true
echo "REPORT cq_resize: sroce0 $(grep -c '^ok:' /tmp/cq_resize.sroce) ok, $(grep -c '^FAIL' /tmp/cq_resize.sroce) failed; rxe0 $(grep -c '^ok:' /tmp/cq_resize.rxe) ok, $(grep -c '^FAIL' /tmp/cq_resize.rxe) failed"
grep '^FAIL' /tmp/cq_resize.rxe | sed 's/^/REPORT rxe0 differs: /' || true
echo "REPORT cq_ex: sroce0 $(grep -c '^ok:' /tmp/cq_ex.sroce) ok, $(grep -c '^FAIL' /tmp/cq_ex.sroce) failed; rxe0 $(grep -c '^ok:' /tmp/cq_ex.rxe) ok, $(grep -c '^FAIL' /tmp/cq_ex.rxe) failed"
grep '^ok:' /tmp/cq_ex.sroce | sed 's/^ok: /REPORT sroce0 checked: /' || true
grep '^FAIL' /tmp/cq_ex.rxe | sed 's/^/REPORT rxe0 differs: /' || true
[ "$status" -eq 0 ] || fail "on sroce0: cq_ex $(grep -c '^FAIL' /tmp/cq_ex.sroce) failures, cq_resize $(grep -c '^FAIL' /tmp/cq_resize.sroce)"
