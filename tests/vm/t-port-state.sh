# The port follows its netdev: administrative state, carrier (via the peer
# of a veth), with IB async events for each change, and the active MTU.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

cleanup() {
	[ -z "${watch:-}" ] || kill "$watch" 2>/dev/null || true
	ip link del vport0 2>/dev/null || true
}
trap cleanup EXIT

ip link add vport0 type veth peer name vport1
ip link set vport0 up
ip link set vport1 up
rdma link add sport type sroce netdev vport0

state() { devinfo_field sport state; }
wait_for '[ "$(state)" = PORT_ACTIVE ]' || fail "not active with carrier"

ibv_asyncwatch -d sport > /tmp/events.log 2>&1 &
watch=$!
sleep 1

ip link set vport1 down   # carrier lost on vport0
wait_for '[ "$(state)" = PORT_DOWN ]' || fail "still active without carrier"
[ "$(devinfo_field sport phys_state)" = POLLING ] || fail "phys state without carrier"

ip link set vport1 up
wait_for '[ "$(state)" = PORT_ACTIVE ]' || fail "not active after carrier came back"

ip link set vport0 down   # administratively down
wait_for '[ "$(state)" = PORT_DOWN ]' || fail "active while netdev down"
[ "$(devinfo_field sport phys_state)" = DISABLED ] || fail "phys state while down"
ip link set vport0 up
wait_for '[ "$(state)" = PORT_ACTIVE ]' || fail "not active after netdev up"

wait_for 'grep -c "IBV_EVENT_PORT_ERR" /tmp/events.log | grep -qx 2' ||
	{ cat /tmp/events.log; fail "expected two PORT_ERR events"; }
wait_for 'grep -c "IBV_EVENT_PORT_ACTIVE" /tmp/events.log | grep -qx 2' ||
	{ cat /tmp/events.log; fail "expected two PORT_ACTIVE events"; }
cat /tmp/events.log

# Active MTU: the largest IB MTU whose RoCEv2 packets fit the netdev MTU.
for pair in 9000:4096 4200:4096 4000:2048 1500:1024 1100:512 600:512 500:256; do
	ip link set vport0 mtu "${pair%%:*}"
	ip link set vport1 mtu "${pair%%:*}"
	mtu=$(ibv_devinfo -d sport | awk '$1 == "active_mtu:" { print $2 }')
	[ "$mtu" = "${pair##*:}" ] || fail "netdev mtu ${pair%%:*}: active_mtu $mtu"
done
