# Messages at the device's max_msg_sz, 2 GiB: one WRITE, one READ and one
# SEND at path MTU 4096, each arriving whole (tests/vm/progs/big_msg.c).
# The smaller sizes at every MTU are t-integrity's.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

gcc -O2 -Wall -Werror -o /tmp/big_msg "$SROCE_REPO/tests/vm/progs/big_msg.c" -libverbs
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
max=$(devinfo_field sroce0 max_msg_sz)
[ "$((max))" -eq $((1 << 31)) ] || fail "sroce0's max_msg_sz is $max, not 2 GiB"
/tmp/big_msg sroce0 "$gid" 4096 "$max" | tee /tmp/big_msg.out
sed -n 's/^big_msg: \(.* MB\/s\)$/REPORT \1/p' /tmp/big_msg.out
grep -q "^big_msg: 0 failures" /tmp/big_msg.out
