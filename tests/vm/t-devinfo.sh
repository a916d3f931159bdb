# ibv_devices, ibv_devinfo, rdma link and rdma dev show sroce0 with its
# port state, link layer, node GUID and its IPv4 and IPv6 RoCEv2 GIDs.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

ibv_devices | grep -qw sroce0 || fail "ibv_devices does not list sroce0"
info=$(ibv_devinfo -v -d sroce0)
echo "$info"
grep -q "transport:.*InfiniBand" <<<"$info" || fail "transport"
grep -q "link_layer:.*Ethernet" <<<"$info" || fail "link layer"
grep -q "state:.*PORT_ACTIVE" <<<"$info" || fail "port not active"
grep -q "phys_state:.*LINK_UP" <<<"$info" || fail "phys state"

# Node GUID: modified EUI-64 of eth0's MAC.
mac=$(cat /sys/class/net/eth0/address)
IFS=: read -r m0 m1 m2 m3 m4 m5 <<<"$mac"
guid=$(printf '%02x%s:%sff:fe%s:%s%s' $((0x$m0 ^ 2)) "$m1" "$m2" "$m3" "$m4" "$m5")
grep -q "node_guid:.*$guid" <<<"$info" || fail "node_guid is not $guid"

# RoCEv2 GIDs of eth0's addresses.
grep -q "GID\[.*\]:.*::ffff:192.0.2.1, RoCE v2" <<<"$info" || fail "no IPv4 GID"
grep -q "GID\[.*\]:.*2001:db8::1, RoCE v2" <<<"$info" || fail "no IPv6 GID"
! grep -q "RoCE v1" <<<"$info" || fail "RoCE v1 GIDs advertised"

rdma link show | tee /dev/stderr | grep -q "link sroce0/1 state ACTIVE physical_state LINK_UP netdev eth0" ||
	fail "rdma link show"
rdma dev show | tee /dev/stderr | grep -q "sroce0: node_type ca .*fw 0.1.0 node_guid $guid" ||
	fail "rdma dev show"
cat /sys/class/infiniband/sroce0/parent | grep -qx eth0 || fail "sysfs parent"
