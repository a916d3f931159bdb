# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A slow on-demand page fault at the responder (tests/vm/progs/odp_slow.c):
# B's ODP MR maps a file of the program's own FUSE daemon, which answers
# each FUSE_READ after 1.5 s, far longer than A's eight local ACK timeouts
# (67 ms each).  A's WRITE, READ, ATOMICs and SEND on it complete, bytes
# right, because B RNR NAKs a request while its pages fault; the
# odp_rnr_naks_sent counter rises.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

conns=/sys/fs/fuse/connections

# No FUSE mount of the program outlives the case (see t-odp-hung.sh).
cleanup() {
	awk '/ - fuse sroce-slow / { split($3, d, ":"); print d[2], $5 }' \
		/proc/self/mountinfo | while read -r minor dir; do
		echo 1 > "$conns/$minor/abort" 2>/dev/null || true
		umount -l "$dir" 2>/dev/null || true
	done
}
trap cleanup EXIT

start=$SECONDS
install_prog odp_slow
built=$SECONDS
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
# FUSE is a module in some kernels (6.1), built in others.
modprobe fuse || fail "cannot load fuse"
[ -c /dev/fuse ] || fail "no /dev/fuse"
grep -qs " $conns fusectl " /proc/mounts ||
	mount -t fusectl fusectl "$conns" || fail "cannot mount fusectl"

status=0
timeout 120 /tmp/odp_slow sroce0 "$gid" > /tmp/odp_slow.out 2>&1 ||
	status=$?
cat /tmp/odp_slow.out
sed -n 's/^figures: /REPORT odp-slow: /p' /tmp/odp_slow.out
echo "REPORT odp-slow: compiled in $((built - start)) s, ran in $((SECONDS - built)) s"
[ "$status" -eq 0 ] || fail "odp_slow exited with status $status"
