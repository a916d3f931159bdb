# ibv_rc_pingpong over sroce0 on one host (traffic loops back through the
# IP stack): several message sizes at every path MTU, in polling and in
# completion-event mode, with the received data checked (--chk).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
gid6=$(roce_gid_index sroce0 6) || fail "sroce0 has no IPv6 RoCE v2 GID"
port=18515

pingpong() {
	local args="-d sroce0 -p $port -c $*"

	run_server_client "ibv_rc_pingpong $args" $port \
		"ibv_rc_pingpong $args 127.0.0.1" ||
		fail "ibv_rc_pingpong $args"
	echo "ok: ibv_rc_pingpong $args"
}

for mtu in 256 1024 2048 4096; do
	for size in 1 4096 65536; do
		pingpong -g "$gid" -m $mtu -s $size -n 20
	done
done
# Large messages, an RX ring that runs low, events, and IPv6.
pingpong -g "$gid" -m 1024 -s 1048576 -n 5
pingpong -g "$gid" -m 4096 -s 4096 -n 200 -r 4
pingpong -g "$gid" -e -s 4096 -n 50
pingpong -g "$gid" -e -m 256 -s 65536 -n 20
pingpong -g "$gid6" -s 4096 -n 20
pingpong -g "$gid6" -e -s 16384 -n 20
