# Large messages: one WRITE, one READ and one SEND of 16 MiB at path MTUs
# 256 to 2048 (65536 packets a message at 256, a count past 16 bits), and
# of the device's max_msg_sz, 2 GiB, at 4096, each arriving whole
# (tests/vm/progs/big_msg.c).  Sizes from 0 to 2 MiB at every MTU are
# t-integrity's.  The 2 GiB messages take half a minute each under TCG,
# in protocol code that is the same on every kernel: make test moves 2 GiB
# by WRITE on its first kernels and by WRITE and READ on its last
# (SROCE_LAST_KERNEL=1); the 2 GiB SEND is make check-long's (LONG=1).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog big_msg
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
max=$(devinfo_field sroce0 max_msg_sz)
[ "$((max))" -eq $((1 << 31)) ] || fail "sroce0's max_msg_sz is $max, not 2 GiB"
biggest="4096 $max write"
[ "${SROCE_LAST_KERNEL:-1}" = 0 ] || biggest="4096 $max write,read"
[ "${LONG:-0}" != 1 ] || biggest="4096 $max write,read,send"
for run in "256 $((16 << 20))" "512 $((16 << 20))" "1024 $((16 << 20))" \
	   "2048 $((16 << 20))" "$biggest"; do
	/tmp/big_msg sroce0 "$gid" $run | tee /tmp/big_msg.out
	sed -n 's/^big_msg: \(.* MB\/s\)$/REPORT \1/p' /tmp/big_msg.out
	grep -q "^big_msg: 0 failures" /tmp/big_msg.out || fail "big_msg at $run"
done
