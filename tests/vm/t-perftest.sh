# The perftest set over sroce0 on one host: SEND, WRITE, READ and ATOMIC,
# bandwidth and latency.  Each run must finish with status 0 on both sides
# (perftest fails on any error completion).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"

for tool in ib_send_bw ib_write_bw ib_read_bw; do
	perftest_local sroce0 $tool "$gid" -n 500 -s 65536 ||
		fail "$tool 64 KiB"
	perftest_local sroce0 $tool "$gid" -n 500 -s 1024 -m 1024 ||
		fail "$tool 1 KiB"
done
perftest_local sroce0 ib_atomic_bw "$gid" -n 500 || fail ib_atomic_bw
perftest_local sroce0 ib_atomic_bw "$gid" -n 500 -A CMP_AND_SWAP ||
	fail "ib_atomic_bw CMP_AND_SWAP"
for tool in ib_send_lat ib_write_lat ib_read_lat ib_atomic_lat; do
	perftest_local sroce0 $tool "$gid" -n 200 || fail "$tool"
done
perftest_local sroce0 ib_send_lat "$gid" -n 100 -s 8192 || fail "ib_send_lat 8 KiB"
