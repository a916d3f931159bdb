# Every way a device can go away tears it down cleanly: rdma link delete,
# deleting its netdev, and rmmod with several devices present.  Two devices
# on two netdevs coexist, and a device named freely still binds libsroce.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

trap 'ip link del tdv0 2>/dev/null || true' EXIT
ip link add tdv0 type veth peer name tdv1
ip link set tdv0 up
ip link set tdv1 up

# Freely named device on a second netdev, next to sroce0.
rdma link add mydev type sroce netdev tdv0
ibv_devices | tee /dev/stderr | grep -qw mydev || fail "mydev not bound to a provider"
ibv_devices | grep -qw sroce0 || fail "sroce0 gone after adding mydev"
[ "$(cat /sys/class/infiniband/mydev/hca_type)" = sroce ] || fail "hca_type"
ibv_devinfo -d mydev | grep -q "state:.*PORT_ACTIVE" || fail "mydev port"
# One sroce device per netdev.
! rdma link add again type sroce netdev tdv0 2>/dev/null || fail "second device on tdv0"

# rdma link delete.
rdma link delete mydev
! rdma_dev_exists mydev || fail "mydev still present after rdma link delete"
rdma_dev_exists sroce0 || fail "sroce0 lost"

# Deleting the netdev takes the device with it.
rdma link add mydev type sroce netdev tdv0
ip link del tdv0
wait_for '! rdma_dev_exists mydev' 10 || fail "mydev outlived its netdev"

# rmmod with two devices present, one of them in use by nobody.
ip link add tdv0 type veth peer name tdv1
ip link set tdv0 up
rdma link add mydev type sroce netdev tdv0
rmmod sroce
! rdma_dev_exists sroce0 || fail "sroce0 survived rmmod"
! rdma_dev_exists mydev || fail "mydev survived rmmod"
sroce_reset
ibv_devinfo -d sroce0 >/dev/null || fail "sroce0 unusable after reload"
