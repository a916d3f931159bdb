# Bad requests to the sroce link type get a clear error and leave nothing
# behind: a non-Ethernet netdev, a second device on one netdev, a name that
# is taken, a netdev that does not exist.  A device on a netdev that is down
# is created with its port down.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

trap 'ip link del edv0 2>/dev/null || true' EXIT
devices() { ls /sys/class/infiniband | sort | tr '\n' ' '; }
before=$(devices)

! rdma link add lodev type sroce netdev lo 2>/tmp/err || fail "sroce on lo"
cat /tmp/err
! rdma_dev_exists lodev || fail "lodev exists"

! rdma link add dup type sroce netdev eth0 2>/tmp/err || fail "second device on eth0"
grep -qi "exists" /tmp/err || { cat /tmp/err; fail "no EEXIST for a second device"; }

ip link add edv0 type veth peer name edv1
! rdma link add sroce0 type sroce netdev edv0 2>/tmp/err || fail "duplicate name"
cat /tmp/err
! rdma link add nodev type sroce netdev nosuchnetdev 2>/dev/null || fail "missing netdev"

# edv0 is down: the device comes up with its port down, then follows it.
rdma link add downdev type sroce netdev edv0
[ "$(devinfo_field downdev state)" = PORT_DOWN ] || fail "port of a down netdev"
ip link set edv1 up
ip link set edv0 up
wait_for '[ "$(devinfo_field downdev state)" = PORT_ACTIVE ]' || fail "port never came up"
rdma link delete downdev

[ "$(devices)" = "$before" ] || fail "devices changed: '$before' -> '$(devices)'"
