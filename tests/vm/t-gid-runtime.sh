# GIDs track addresses added to and removed from the netdev at runtime.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

gids() { ibv_devinfo -v -d sroce0 | grep "GID\["; }
has_gid() { gids | grep -q "$1, RoCE v2"; }

ip addr add 192.0.2.77/24 dev eth0
ip -6 addr add 2001:db8::77/64 dev eth0 nodad
wait_for 'has_gid ::ffff:192.0.2.77' || { gids; fail "IPv4 GID not added"; }
wait_for 'has_gid 2001:db8::77' || { gids; fail "IPv6 GID not added"; }

ip addr del 192.0.2.77/24 dev eth0
ip -6 addr del 2001:db8::77/64 dev eth0
wait_for '! has_gid ::ffff:192.0.2.77' || { gids; fail "IPv4 GID not removed"; }
wait_for '! has_gid 2001:db8::77' || { gids; fail "IPv6 GID not removed"; }
has_gid ::ffff:192.0.2.1 || fail "the original IPv4 GID went away"
