# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A hung on-demand page fault (tests/vm/progs/odp_hung.c): B's ODP MR maps
# a file of the program's own FUSE daemon, which never answers FUSE_READ.
# While the fault hangs, another QP pair moves data and destroying the
# QPs returns; aborting the FUSE connection ends the fault, after which
# deregistering, munmap and umount return and a new QP pair works.  The
# hang stays well below the hung-task detector's 120 s.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

conns=/sys/fs/fuse/connections

# Whatever happens, no hung FUSE mount of the program outlives the case:
# abort its connection (named by the minor of its device, from
# mountinfo, since stat of a hung mount may wait) and detach it.
cleanup() {
	awk '/ - fuse sroce-hung / { split($3, d, ":"); print d[2], $5 }' \
		/proc/self/mountinfo | while read -r minor dir; do
		echo 1 > "$conns/$minor/abort" 2>/dev/null || true
		umount -l "$dir" 2>/dev/null || true
	done
}
trap cleanup EXIT

install_prog odp_hung
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
# FUSE is a module in some kernels (6.1), built in others.
modprobe fuse || fail "cannot load fuse"
[ -c /dev/fuse ] || fail "no /dev/fuse"
grep -qs " $conns fusectl " /proc/mounts ||
	mount -t fusectl fusectl "$conns" || fail "cannot mount fusectl"

status=0
timeout 300 /tmp/odp_hung sroce0 "$gid" > /tmp/odp_hung.out 2>&1 ||
	status=$?
cat /tmp/odp_hung.out
sed -n 's/^figures: /REPORT odp-hung: /p' /tmp/odp_hung.out
if dmesg | grep "blocked for more than"; then
	fail "a task was reported hung"
fi
[ "$status" -eq 0 ] || fail "odp_hung exited with status $status"
