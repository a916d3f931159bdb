# Multicast (progs/mcast.c, through the verbs): UD QPs attached to an IPv4
# and to an IPv6 group get every datagram sent to it and others none; the
# netdev is a member of the IP group while a QP is attached, and only
# then; the limits hold (64 QPs a group, UD QPs and multicast GIDs only).
# Then rdma_cm's own multicast (mckey, IPv4: the core joins RoCEv2 groups
# over IPv4 only): a sender and a receiver process, every datagram
# received.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog mcast
gid4=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
gid6=$(roce_gid_index sroce0 6) || fail "sroce0 has no IPv6 RoCE v2 GID"
status=0
for run in "$gid4 239.1.2.3" "$gid6 ff0e::1:3"; do
	# shellcheck disable=SC2086
	timeout 120 /tmp/mcast sroce0 $run > /tmp/mcast.out 2>&1 || status=1
	cat /tmp/mcast.out
	echo "REPORT mcast ${run#* }: $(grep -c '^ok:' /tmp/mcast.out) ok, $(grep -c '^FAIL' /tmp/mcast.out) FAIL"
done

# A process killed with QPs attached: uverbs detaches them as it cleans
# up, and the netdev leaves the group.
/tmp/mcast sroce0 "$gid4" 239.1.2.5 hold > /tmp/mcast.hold 2>&1 &
pid=$!
wait_for "grep -q attached /tmp/mcast.hold" 10 ||
	fail "239.1.2.5: the holder did not attach: $(cat /tmp/mcast.hold)"
grep -q 050201EF /proc/net/igmp || fail "239.1.2.5 is not joined while attached"
kill -9 $pid
wait $pid || true
wait_for "! grep -q 050201EF /proc/net/igmp" 10 ||
	fail "239.1.2.5 still joined after its QPs' process was killed"
echo "REPORT mcast: a process killed while attached left the group"

# mckey: the receiver joins first and waits for its 10 datagrams.
timeout 60 mckey -m 239.1.2.4 -b 192.0.2.1 -C 10 -S 512 > /tmp/mckey.recv 2>&1 &
recv=$!
sleep 2
timeout 60 mckey -m 239.1.2.4 -b 192.0.2.1 -s -C 10 -S 512 > /tmp/mckey.send 2>&1 ||
	{ cat /tmp/mckey.send; fail "mckey sender"; }
wait $recv || { cat /tmp/mckey.recv; fail "mckey receiver (status $?)"; }
grep -q "data transfers complete" /tmp/mckey.recv ||
	{ cat /tmp/mckey.recv; fail "mckey receiver did not finish its transfers"; }
echo "REPORT mcast: mckey 239.1.2.4: 10 datagrams of 512 B received"
exit $status
