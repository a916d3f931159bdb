# Data integrity on sroce0: tests/vm/progs/integrity.c moves random
# WRITE, WRITE_IMM, READ, SEND and SEND_IMM messages (0 bytes to 2 MiB,
# random offsets and SGE splits, inline and unsignaled ones) between two
# QPs at every path MTU and checks every byte and the guards around it.
# The seed is printed, so that a failure can be replayed.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog integrity
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
gid6=$(roce_gid_index sroce0 6) || fail "sroce0 has no IPv6 RoCE v2 GID"

for mtu in 256 512 1024 4096; do
	/tmp/integrity sroce0 "$gid" $mtu 30 | tee /tmp/integrity.out
	grep "^integrity: .* 0 failures" /tmp/integrity.out | sed 's/^/REPORT mtu '$mtu' /'
done
/tmp/integrity sroce0 "$gid6" 2048 20
