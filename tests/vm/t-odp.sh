# On-demand paging (tests/vm/progs/odp.c): nothing pinned at registration,
# pages faulted in by the peer's WRITE, READ, ATOMIC and SEND; the
# process's madvise(MADV_DONTNEED), remapping, munmap and pages moved
# (MADV_COLLAPSE) honoured; ibv_advise_mr prefetch; implicit ODP.  The same program on
# rdma_rxe is reported next to it.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog odp
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
status=0
timeout 300 /tmp/odp sroce0 "$gid" | tee /tmp/odp.sroce || status=1
compare_rxe || exit $status
use_rxe || fail "cannot switch to rdma_rxe"
gid=$(roce_gid_index rxe0 4) || fail "rxe0 has no IPv4 RoCE v2 GID"
timeout 300 /tmp/odp rxe0 "$gid" > /tmp/odp.rxe 2>&1 || true
echo "REPORT odp: sroce0 $(grep -c '^ok:' /tmp/odp.sroce) ok, rxe0 $(grep -c '^ok:' /tmp/odp.rxe) ok"
grep -o "MADV_COLLAPSE moved [0-9]* of [0-9]* pages ([^)]*)" /tmp/odp.sroce |
	sed 's/^/REPORT odp sroce0: /' || true
grep FAIL /tmp/odp.rxe | sed 's/^/REPORT rxe0 differs: /' || true
exit $status
