# The real-host flow of the README, in the guest: "make install" (of what
# the host built for this kernel, as "make local" would have), then
# "rdma link add" loads the installed module by itself
# (MODULE_ALIAS_RDMA_LINK) and the installed provider binds the device.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

rdma link delete sroce0
rmmod sroce
cd "$SROCE_REPO"
make -s install B="$SROCE_B" > /tmp/install.log 2>&1 || { cat /tmp/install.log; fail "make install"; }
modinfo -n sroce | grep -q "^/lib/modules/$(uname -r)/" || fail "sroce.ko not installed"

rdma link add sroce0 type sroce netdev eth0 || fail "rdma link add did not load sroce"
[ "$(cat /sys/module/sroce/srcversion)" = "$(modinfo -F srcversion sroce)" ] ||
	fail "the loaded module is not the installed one"
ibv_devinfo -d sroce0 | grep -q "state:.*PORT_ACTIVE" || fail "installed provider"
