# ATOMIC WRITE and FLUSH (IBTA 1.5 memory placement), progs/atomic_write.c:
# an ATOMIC WRITE's 8 bytes land and nothing else moves; misaligned, wrong
# length, and without remote write are refused; racing a thread's CPU
# atomics on the same word it never leaves a torn word; FLUSH GLOBAL of a
# range or an MR completes after the WRITEs before it, their data in
# place; FLUSH without flush access, PERSISTENT (sroce has no persistent
# memory) or past the MR gets a remote access error.  On a kernel whose
# core lacks them (6.1) it checks their clean refusal instead.  The same
# program on rdma_rxe is reported, not judged (SROCE_COMPARE_RXE=0 leaves
# rxe out).
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

# Debian 12's rdma-core (44) has ATOMIC WRITE but no FLUSH verbs, which
# the program tests as well: it is not built there (progs/Makefile).
[ "${SROCE_USERLAND:-13}" != 12 ] ||
	not_applicable "rdma-core 44's verbs.h has no FLUSH (ibv_wr_flush), which progs/atomic_write.c needs"
install_prog atomic_write
ops=10000

gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
# A core without them (6.1; the same test as the driver's Kbuild makes)
# has no opcodes, access flags or capability bits for them: then only the
# refusal can be checked, and the case says so.
# A userland without the kernel's headers (Debian unstable's root, which
# borrows Debian 13's kernel) goes by the release: the core has them from
# 6.2.
uverbs=/lib/modules/$(uname -r)/source/include/uapi/rdma/ib_user_verbs.h
if [ -f "$uverbs" ]; then
	grep -q IB_UVERBS_WR_FLUSH "$uverbs" && core_flush=1 || core_flush=0
else
	IFS=.- read -r major minor _ <<< "$(uname -r)"
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 2 ]; } &&
		core_flush=1 || core_flush=0
fi
if [ $core_flush -eq 0 ]; then
	echo "REPORT atomic write: NOT APPLICABLE on $(uname -r), whose core has no ATOMIC WRITE or FLUSH; checking that sroce0 refuses them"
	/tmp/atomic_write sroce0 "$gid" --absent
	exit
fi
status=0
start=$SECONDS
/tmp/atomic_write sroce0 "$gid" $ops | tee /tmp/aw.sroce || status=1
echo "REPORT atomic write sroce0: $(grep -c '^ok:' /tmp/aw.sroce) checks held, $(tail -n 1 /tmp/aw.sroce | sed 's/^atomic_write: //') ($((SECONDS - start)) s)"
sed -n 's/^FAIL: /REPORT sroce0 FAIL: /p' /tmp/aw.sroce

compare_rxe || exit $status
use_rxe || fail "cannot switch to rdma_rxe"
gid=$(roce_gid_index rxe0 4) || fail "rxe0 has no IPv4 RoCE v2 GID"
/tmp/atomic_write rxe0 "$gid" 2000 > /tmp/aw.rxe 2>&1 || true
sed 's/^/rxe0: /' /tmp/aw.rxe
echo "REPORT atomic write rxe0: $(grep -c '^ok:' /tmp/aw.rxe) checks held, $(tail -n 1 /tmp/aw.rxe | sed 's/^atomic_write: //')"
sed -n 's/^FAIL: /REPORT rxe0 FAIL: /p' /tmp/aw.rxe
exit $status
