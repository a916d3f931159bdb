# Memory that a user sizes is charged and bounded before it is allocated
# (tests/vm/progs/limits.c): over RLIMIT_MEMLOCK a huge registration fails
# with ENOMEM before a page array is allocated; in a memory cgroup with a
# small memory.max, CQ and QP rings are charged to it and the largest CQs,
# QPs and MRs fail with ENOMEM at its limit; on-demand MRs up to
# max_mr_size cost no memory proportional to their length; max_pd holds.
# rdma_rxe's errno over RLIMIT_MEMLOCK is reported next to sroce's.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog limits
# Not dmesg -C: the guest's init reads the whole log at the end.
seen=$(dmesg | wc -l)
status=0

# Unprivileged, with 64 KiB of lockable memory.
chmod 0666 /dev/infiniband/uverbs*
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	bash -c 'ulimit -l 64 && exec /tmp/limits sroce0 memlock' || status=1

# A cgroup v2 with 64 MiB of memory, no swap; each run moves into it.
cgroot=/sys/fs/cgroup
mountpoint -q "$cgroot" || mount -t cgroup2 cgroup2 "$cgroot"
grep -qw memory "$cgroot/cgroup.controllers" || fail "no memory controller"
echo +memory > "$cgroot/cgroup.subtree_control"
cg=$cgroot/sroce-limits
[ -d "$cg" ] || mkdir "$cg"
echo 64M > "$cg/memory.max"
[ ! -e "$cg/memory.swap.max" ] || echo 0 > "$cg/memory.swap.max"
in_cg() {
	bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' - "$cg" "$@"
}
in_cg /tmp/limits sroce0 cgroup "$cg" || status=1
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
in_cg /tmp/limits sroce0 odp "$gid" "$cg" || status=1
echo "REPORT limits: memory.events of the cgroup: $(tr '\n' ' ' < "$cg/memory.events")"
wait_for "[ -z \"\$(cat $cg/cgroup.procs)\" ]" 10 || fail "processes left in $cg"
rmdir "$cg"

# The kernel's PDs (the MAD layer's) count against max_pd too.
/tmp/limits sroce0 pd "$(res_list pd sroce0 kernel | grep -c .)" || status=1
[ -z "$(res_list pd sroce0)" ] || fail "PDs left"
[ -z "$(res_list mr sroce0)" ] || fail "MRs left"

if dmesg | tail -n +"$((seen + 1))" |
	grep -E 'BUG|WARNING|Oops|KASAN|UBSAN|general protection|refcount_t|hung task|leak|oom-kill|Out of memory'; then
	fail "the kernel log has problems (above)"
fi

compare_rxe || exit $status
# The same over RLIMIT_MEMLOCK on rdma_rxe, for the record.
use_rxe || fail "cannot switch to rdma_rxe"
chmod 0666 /dev/infiniband/uverbs*
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	bash -c 'ulimit -l 64 && exec /tmp/limits rxe0 memlock' > /tmp/limits.rxe 2>&1 || true
grep "^REPORT memlock" /tmp/limits.rxe | sed 's/^REPORT memlock/REPORT rxe0 memlock/' || true
exit $status
