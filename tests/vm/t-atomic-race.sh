# Remote atomics are the CPU's own atomic instructions on the user's page
# (progs/atomic_race.c): local threads __atomic_fetch_add a word while two
# RC QPs send FETCH_ADD and CMP_SWP at it.  sroce0 must end every one of
# 5 runs at the exact count.  The same program on rdma_rxe runs next to
# it and its lost updates are reported, not judged (SROCE_COMPARE_RXE=0
# leaves rxe out: make test compares on its last kernel only).
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog atomic_race
runs=5 ops=20000 threads=2

gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
status=0
/tmp/atomic_race sroce0 "$gid" $runs $ops $threads | tee /tmp/race.sroce || status=1
lost=$(awk '/^atomic_race: run/ { for (i = 1; i < NF; i++) if ($(i + 1) == "lost,") s += $i } END { print s + 0 }' /tmp/race.sroce)
echo "REPORT atomic race sroce0: $(tail -n 1 /tmp/race.sroce | sed 's/^atomic_race: //'); $lost updates lost in all"

compare_rxe || exit $status
use_rxe || fail "cannot switch to rdma_rxe"
gid=$(roce_gid_index rxe0 4) || fail "rxe0 has no IPv4 RoCE v2 GID"
/tmp/atomic_race rxe0 "$gid" $runs $ops $threads > /tmp/race.rxe || true
sed 's/^/rxe0: /' /tmp/race.rxe
lost=$(awk '/^atomic_race: run/ { for (i = 1; i < NF; i++) if ($(i + 1) == "lost,") s += $i } END { print s + 0 }' /tmp/race.rxe)
echo "REPORT atomic race rxe0: $(tail -n 1 /tmp/race.rxe | sed 's/^atomic_race: //'); $lost updates lost in all"
exit $status
