# Allocation failures injected into every create path (debug kernel only:
# make check-debug runs this; tests/vm/run's default t-*.sh does not, and
# on a kernel without fault injection it fails, never skips).  With
# /proc/thread-self/fail-nth, failslab and fail_page_alloc failing sleeping
# allocations too, each create path of the user verbs
# (tests/vm/progs/fail_nth.c: rdma link add, open_device, comp channel,
# PD, CQs, QP with its ring mappings, MR, on-demand MRs, prefetch, AH,
# each modify_qp transition) and of the kernel verbs (tests/kmod,
# fail_nth=1) is run with its 1st, 2nd, ... fault point failing until it
# meets none: each failure must be an errno and leave nothing behind.
# link_add runs in a network namespace of its own, where the new device
# makes its own UDP sockets.  It meets 3000-odd fault points, about a
# second each under TCG on the debug kernel, nearly all of them in
# ib_register_device(): its first 400 (sroce's own allocations and the
# core's first) are each tested, the rest one in 16 from an offset that
# changes per run (FAIL_NTH_SEED repeats one), about 15 minutes in all.
# Afterwards no sroce objects or pinned pages remain, kmemleak reports
# nothing new, and the kernel log has no BUG, WARNING, KASAN, lockdep,
# ... line from the run.  The fault points met per path are reported.
set -eu -o pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

[ -e /proc/self/fail-nth ] ||
	fail "no /proc/self/fail-nth: kernel $SROCE_KVER has no CONFIG_FAULT_INJECTION (run make check-debug)"
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
dbg=/sys/kernel/debug
for d in failslab fail_page_alloc; do
	[ -d $dbg/$d ] || fail "no $dbg/$d: kernel $SROCE_KVER lacks FAILSLAB, FAIL_PAGE_ALLOC or FAULT_INJECTION_DEBUG_FS"
done
kmemleak=$dbg/kmemleak
[ -e $kmemleak ] || fail "no $kmemleak: kernel $SROCE_KVER has no kmemleak"
ko=$SROCE_REPO/tests/kmod/build/$SROCE_KVER/sroce_kverbs_test.ko
[ -f "$ko" ] || fail "$ko is not built (make check-debug builds it)"

# fail-nth fails only the allocations that its fault types may fail: by
# default failslab and fail_page_alloc skip every allocation that may
# sleep (all GFP_KERNEL ones), and fail_page_alloc skips order 0.  User
# pages (__GFP_HIGHMEM) stay exempt.  No messages per injected fault: a
# flood would push earlier reports out of the kernel log.
knobs="failslab/ignore-gfp-wait=N failslab/verbose=0
	fail_page_alloc/ignore-gfp-wait=N fail_page_alloc/min-order=0
	fail_page_alloc/verbose=0"
saved=()
for kv in $knobs; do
	saved+=("${kv%%=*}=$(cat "$dbg/${kv%%=*}")")
done
restore() {
	local kv

	for kv in "${saved[@]}"; do
		echo "${kv#*=}" > "$dbg/${kv%%=*}" || true
	done
	ip netns del fnth 2>/dev/null || true
}
trap restore EXIT
for kv in $knobs; do
	echo "${kv#*=}" > "$dbg/${kv%%=*}" || fail "cannot set $dbg/${kv%%=*}"
done
for d in failslab fail_page_alloc; do
	[ "$(cat $dbg/$d/probability)" = 0 ] ||
		fail "$dbg/$d/probability is not 0: faults would be injected at random"
done

objects() {
	user_objects sroce0
}
# The object kinds sroce0 has any of ("qp 2 mr 1 ..."), nothing if none.
objects_left() {
	objects | grep -oE '[a-z_]+ [1-9][0-9]*' | tr '\n' ' ' || true
}
device_pins() {
	port_counter sroce0 pinned_pages
}
# The system's FOLL_PIN balance; stat_refresh first folds the per-CPU
# deltas into the counters, which otherwise lag (by a few pages).
system_pins() {
	echo 1 > /proc/sys/vm/stat_refresh
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 } END { print a - r }' /proc/vmstat
}
[ -z "$(objects_left)" ] || fail "objects before the test: $(objects)"
pins_before=$(system_pins)

# The reports kmemleak had before (other tests'), which stay for
# scripts/guest/kmemleak-check to see: nothing is cleared here.  Known
# leaks that are not sroce's (scripts/guest/kmemleak-filter says which and
# why) are counted, not listed.
leaks() {
	echo scan > $kmemleak
	sleep 5
	echo scan > $kmemleak
	"$SROCE_REPO/scripts/guest/kmemleak-filter" < $kmemleak |
		grep -o '^unreferenced object 0x[0-9a-f]*' | sort -u || true
}
leaks > /tmp/fail-nth.leaks-before
seen=$(dmesg | wc -l)

install_prog fail_nth
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"

status=0
start=$SECONDS
# Every path but link_add, then the data check.
paths=$(/tmp/fail_nth --list | grep -vx link_add)
# shellcheck disable=SC2086
LD_BIND_NOW=1 /tmp/fail_nth sroce0 "$gid" $paths data 2>&1 |
	tee /tmp/fail-nth.user || status=1
grep -q "^fail_nth: 0 failures" /tmp/fail-nth.user || status=1
echo "user verbs: $((SECONDS - start)) s"

# rdma link add in a namespace with no sroce device yet.
start=$SECONDS
ip netns add fnth
ip -n fnth link set lo up
ip -n fnth link add fnthd0 type dummy
ip -n fnth link set fnthd0 up
ip netns exec fnth env LD_BIND_NOW=1 /tmp/fail_nth sroce0 "$gid" link_add 2>&1 |
	tee /tmp/fail-nth.link || status=1
grep -q "^fail_nth: 0 failures" /tmp/fail-nth.link || status=1
ip netns del fnth
echo "link_add: $((SECONDS - start)) s"

[ -z "$(objects_left)" ] || { echo "FAIL: objects left: $(objects)"; status=1; }
[ "$(device_pins)" = 0 ] || { echo "FAIL: pinned_pages $(device_pins)"; status=1; }
[ "$(system_pins)" = "$pins_before" ] ||
	{ echo "FAIL: system FOLL_PIN balance went from $pins_before to $(system_pins)"; status=1; }

start=$SECONDS
kseen=$(dmesg | wc -l)
kstatus=0
insmod "$ko" dev=sroce0 gid_index="$gid" fail_nth=1 || kstatus=$?
rmmod sroce_kverbs_test 2>/dev/null || true
dmesg | tail -n +$((kseen + 1)) | grep -o 'sroce_kverbs_test: .*' > /tmp/fail-nth.kernel || true
sed 's/^/kernel verbs: /' /tmp/fail-nth.kernel
echo "kernel verbs: $((SECONDS - start)) s"
kpaths=$(sed -n 's/.*fail-nth: \([0-9]*\) paths$/\1/p' /tmp/fail-nth.kernel)
if [ "$kstatus" != 0 ] || [ -z "$kpaths" ] ||
   [ "$(grep -c ': ok: fail-nth: ' /tmp/fail-nth.kernel)" != "$kpaths" ] ||
   grep -q FAIL /tmp/fail-nth.kernel; then
	echo "FAIL: kernel verbs (insmod status $kstatus)"
	status=1
fi

# The run's own kernel log: the same patterns as the guest's final check.
bad='BUG:|WARNING:|Oops|general protection|refcount_t|hung_task|blocked for more than|KASAN|UBSAN|kmemleak|leak|INFO: |circular locking|ODEBUG|locking correctness validator'
# kmemleak's own bookkeeping meets the injected faults too; it then scans
# the whole object instead of an area of it, and says so once.
benign='kmemleak: ([0-9]+ new suspected memory leaks|Cannot allocate a scan area, scanning the full object)'
if dmesg | tail -n +$((seen + 1)) | grep -E "$bad" | grep -vE "$benign" > /tmp/fail-nth.bad; then
	echo "FAIL: the kernel log of the run has reports:"
	cat /tmp/fail-nth.bad
	status=1
fi

# kmemleak: nothing unreferenced that was not reported before the run.
sleep 1
leaks > /tmp/fail-nth.leaks-after
comm -13 /tmp/fail-nth.leaks-before /tmp/fail-nth.leaks-after > /tmp/fail-nth.leaks-new
if [ -s /tmp/fail-nth.leaks-new ]; then
	echo "FAIL: kmemleak: $(wc -l < /tmp/fail-nth.leaks-new) new unreferenced object(s):"
	"$SROCE_REPO/scripts/guest/kmemleak-filter" < $kmemleak
	status=1
else
	echo "kmemleak: no new unreferenced objects ($(wc -l < /tmp/fail-nth.leaks-before) reported before the run)"
fi

sed -n 's/^ok: \([a-z_]*\): \([0-9]*\) fault points, \([0-9]*\) failed.*, \([0-9]*\) absorbed.*/REPORT fail-nth user \1: \2 points, \3 failed, \4 absorbed/p' /tmp/fail-nth.user
sed -n 's/^ok: \([a-z_]*\): \([0-9]*\) fault points, \([0-9]*\) failed.*, \([0-9]*\) absorbed.*/REPORT fail-nth user \1: \2 points, \3 failed, \4 absorbed/p' /tmp/fail-nth.link
sed -n 's/.*ok: fail-nth: \([a-z_]*\): \([0-9]*\) fault points, \([0-9]*\) failed.*, \([0-9]*\) absorbed.*/REPORT fail-nth kernel \1: \2 points, \3 failed, \4 absorbed/p' /tmp/fail-nth.kernel
exit $status
