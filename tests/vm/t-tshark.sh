# What sroce puts on the wire, seen by tools that know RoCEv2: traffic of
# SEND, WRITE, READ and ATOMIC (over IPv4 and IPv6) captured on lo, where
# sroce's loopback traffic goes.  tshark must decode every packet as
# InfiniBand (RoCEv2 on UDP 4791) and find the expected opcodes, and an
# independent ICRC checker (progs/icrc_check.py, which also passes rxe's
# packets in tests/data) must find every ICRC right.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"

gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
gid6=$(roce_gid_index sroce0 6) || fail "sroce0 has no IPv6 RoCE v2 GID"
pcap=/tmp/sroce-lo.pcap

tcpdump -i lo -U -s 0 -w $pcap udp port 4791 2>/tmp/tcpdump.err &
dump=$!
wait_for "grep -q listening /tmp/tcpdump.err" 20 || fail "tcpdump did not start"
perftest_local sroce0 ib_send_lat "$gid" -n 5 -s 3000 || fail ib_send_lat
perftest_local sroce0 ib_write_lat "$gid" -n 5 -s 5000 || fail ib_write_lat
perftest_local sroce0 ib_write_lat "$gid" -n 5 -s 64 || fail ib_write_lat
perftest_local sroce0 ib_read_lat "$gid" -n 5 -s 3000 || fail ib_read_lat
perftest_local sroce0 ib_atomic_lat "$gid" -n 5 || fail ib_atomic_lat
perftest_local sroce0 ib_send_lat "$gid6" -n 5 -s 100 || fail "ib_send_lat IPv6"
sleep 1
kill -INT $dump
wait $dump || true

total=$(tshark -r $pcap 2>/dev/null | wc -l)
decoded=$(tshark -r $pcap -Y infiniband.bth 2>/dev/null | wc -l)
echo "REPORT tshark: $decoded of $total captured packets decode as RoCEv2"
[ "$total" -gt 0 ] && [ "$decoded" -eq "$total" ] ||
	fail "tshark decodes $decoded of $total packets as InfiniBand"

opcodes=$(tshark -r $pcap -T fields -e infiniband.bth.opcode 2>/dev/null |
	  sort -nu | tr '\n' ' ')
echo "REPORT tshark: BTH opcodes seen: $opcodes"
# RC: SEND first/middle/last/only, WRITE first/middle/last/only, READ
# request and response first/middle/last, ACK, FETCH_ADD and atomic ACK.
for op in 0 1 2 4 6 7 8 10 12 13 14 15 17 18 20; do
	[[ " $opcodes " == *" $op "* ]] || fail "no packet of BTH opcode $op"
done
[ "$(tshark -r $pcap -Y ipv6 2>/dev/null | wc -l)" -gt 0 ] ||
	fail "no RoCEv2 packets over IPv6"

# Flow entropy: each QP sends from its own UDP source port, in the range
# RoCEv2 leaves to it (49152..65535), always the same one.
tshark -r $pcap -T fields -e infiniband.bth.destqp -e udp.srcport 2>/dev/null |
	sort -u > /tmp/flows
flows=$(cut -f1 /tmp/flows | sort -u | wc -l)
ports=$(cut -f2 /tmp/flows | sort -u | wc -l)
echo "REPORT UDP source ports: $ports distinct for packets to $flows QPs"
[ "$(wc -l < /tmp/flows)" -eq "$flows" ] ||
	fail "packets to one QP come from more than one UDP source port"
[ "$ports" -gt 1 ] || fail "all QPs share one UDP source port"
awk -F'\t' '$2 < 49152 || $2 > 65535 { bad = 1 } END { exit bad }' /tmp/flows ||
	fail "a UDP source port outside 49152..65535"

python3 "$SROCE_REPO/tests/vm/progs/icrc_check.py" $pcap | tee /tmp/icrc.out
sed 's/^/REPORT ICRC: /' /tmp/icrc.out
