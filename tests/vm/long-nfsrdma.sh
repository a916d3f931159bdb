# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NFS over RDMA on sroce0, server and client in one VM (loopback over
# eth0's address), in make check-long (make test runs NFS over RDMA
# across the wire of two VMs, tests/pair/nfsrdma.sh): knfsd exports a tmpfs and listens for RPC-over-RDMA on
# port 20049; the client mounts it with NFSv4.2, proto=rdma, port=20049,
# and the mount's transport must be RDMA.  fio writes and reads files on
# the mount with O_DIRECT (so that every I/O is an RPC over sroce) and
# crc32c verification, 4 KiB random and 128 KiB sequential.  With LONG=1
# (as make check-long runs it), the server is stopped while fio runs and
# started again: the client reconnects and fio finishes with its data verified.
# Then umount, the server stops, and no kernel QP but QP1 is left on
# sroce0.  SROCE_NFS_MB sizes each file (default 8; make check-long asks
# for 128).
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"
. "$SROCE_REPO/tests/vm/nfs-lib.sh"

dev=sroce0
ip4=192.0.2.1
port=20049
mb=${SROCE_NFS_MB:-8}
export_dir=/srv/sroce-nfs
mnt=/mnt/sroce-nfs

nfs_prepare
wait_for "roce_gid_index $dev 4" || fail "$dev has no IPv4 RoCE v2 GID"

# Whatever happens, the client and the server go, so that the next case
# finds sroce0 free.
teardown() {
	nfs_teardown "$mnt" "$export_dir"
}
trap teardown EXIT

nfs_export "$export_dir" $((mb * 3 + 16))
nfs_server_start $port
echo "REPORT nfsrdma: knfsd listens on $(tr '\n' ' ' < /proc/fs/nfsd/portlist)"

nfs_mount "$ip4" $port "$mnt" || fail "mount -o proto=rdma,port=$port"
# The transport of this mount, as the client reports it.
xprt=$(awk -v m="$mnt" '$1 == "device" && $5 == m { on = 1; next }
	$1 == "device" { on = 0 }
	on && $1 == "xprt:" { print $2; exit }' /proc/self/mountstats)
[ "$xprt" = rdma ] || fail "the mount's transport is '$xprt', not rdma"
grep -q "proto=rdma" /proc/mounts || fail "/proc/mounts does not say proto=rdma"
echo "REPORT nfsrdma: mounted $ip4:/ ($export_dir) over RDMA port $port (NFSv4.2)"

before=$(port_counter $dev tx_packets)
fio_verify "$mnt/random" "$mb" --rw=randrw --bs=4k
fio_verify "$mnt/seq" "$mb" --rw=write --bs=128k
sent=$(( $(port_counter $dev tx_packets) - before ))
# Both files went over sroce0 at least once, written by the client's RPCs
# and read back for the verification: at least a packet per 4 KiB (the
# largest path MTU) of 2 x 2 x $mb MiB.
[ "$sent" -ge $((mb * 4 * 256)) ] ||
	fail "sroce0 sent $sent packets for 2 x $mb MiB written and read over NFS"
echo "REPORT nfsrdma: fio randrw 4k and write 128k with crc32c verify, $mb MiB each: no errors; sroce0 sent $sent packets"

# The server goes while fio runs, and comes back: the client reconnects
# (hard mount) and fio ends with its data verified.  A rate keeps fio
# writing for about 10 s whatever the size.
if [ "${LONG:-0}" = 1 ]; then
	fio_start "$mnt/restart" "$mb" 10
	sleep 3
	start=$SECONDS
	nfs_server_stop
	echo "REPORT nfsrdma: server stopped while fio runs"
	sleep 2
	nfs_server_start $port
	fio_wait "the server's restart"
	echo "REPORT nfsrdma: fio randwrite with crc32c verify across a server restart: no errors, $((SECONDS - start)) s from the stop"
fi

umount "$mnt" || fail "umount"
teardown
trap - EXIT
wait_for "[ -z \"\$(res_list qp $dev kernel | grep -v 'lqpn 1 ')\" ]" 30 ||
	fail "kernel QPs left on $dev: $(res_list qp $dev kernel)"
echo "REPORT nfsrdma: teardown left no QP on $dev but QP1"
