# RC transport rules that plain verbs provoke (progs/rc_engine.c): more
# than 2^23 PSNs posted at once, RNR waits that cost no transport retry,
# READ/ATOMIC without responder resources, posting in states that do not
# allow it, flushing in ERR, CQ overrun, error completions waking a CQ
# armed for solicited completions, and a path MTU too large for the route.
# The same program on rdma_rxe is reported next to it.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog rc_engine
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
# For path-mtu: a destination whose route carries 1300-byte packets (and
# a neighbour entry, since modify_qp resolves the destination's MAC).
ip route replace 198.51.100.99/32 dev eth0 mtu 1300
ip neigh replace 198.51.100.99 lladdr 02:00:00:00:00:99 dev eth0 nud permanent
trap 'ip neigh del 198.51.100.99 dev eth0 2>/dev/null || true
	ip route del 198.51.100.99/32 2>/dev/null || true' EXIT
status=0
/tmp/rc_engine sroce0 "$gid" > /tmp/rc_engine.sroce 2>&1 || status=1
sed 's/^/REPORT sroce0 /' /tmp/rc_engine.sroce
rdma statistic show link sroce0/1 | sed 's/^/REPORT /'
compare_rxe || exit $status
use_rxe || fail "cannot switch to rdma_rxe"
gid=$(roce_gid_index rxe0 4) || fail "rxe0 has no IPv4 RoCE v2 GID"
# psn-space takes rxe minutes at MTU 256; the rest is quick.
timeout 120 /tmp/rc_engine rxe0 "$gid" path-mtu post-state rd-atomic \
	solicited cq-overflow rnr > /tmp/rc_engine.rxe 2>&1 || true
echo "REPORT rc_engine: sroce0 $(grep -c '^ok:' /tmp/rc_engine.sroce) ok, rxe0 $(grep -c '^ok:' /tmp/rc_engine.rxe) ok (rxe without psn-space)"
grep FAIL /tmp/rc_engine.rxe | sed 's/^/REPORT rxe0 differs: /' || true
exit $status
