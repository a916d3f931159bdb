#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NFS over RDMA across the wire of "scripts/vm-run --pair", run by both
# VMs.  b (or the VM that NFS_SERVER names) is the server: knfsd exports
# a tmpfs and listens for RPC-over-RDMA on port 20049.  The other is the
# client: `mount -t nfs -o vers=4.2,proto=rdma,port=20049` of the
# server's IPv4 address (retried until the server listens), whose
# transport must be RDMA; fio writes and reads files on the mount with
# O_DIRECT (every I/O an RPC over the wire) and crc32c verification, 4
# KiB random and 128 KiB sequential.  Then fio writes with verification
# while the client has the server stopped and started again (a line over
# TCP): the hard mount must recover and fio end with its data verified.
# Each VM checks at the end that no kernel QP but QP1 is left on its
# device.  SROCE_NFS_MB sizes each file (default 4).
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"
. "$SROCE_REPO/tests/vm/nfs-lib.sh"
. "$SROCE_REPO/tests/pair/msg-lib.sh"

server=${NFS_SERVER:-b}
mb=${SROCE_NFS_MB:-4}
dev=$SROCE_DEV
port=20049
msg_port=18601
msgs=/tmp/nfsrdma-msgs
export_dir=/srv/sroce-nfs
mnt=/mnt/sroce-nfs
case $server in a|b) ;; *) fail "NFS_SERVER is a or b, not $server" ;; esac
if [ "$SROCE_ROLE" = "$server" ]; then
	side=server
else
	side=client
fi
label="nfsrdma $dev ($side)"

nfs_prepare
wait_for "roce_gid_index $dev 4" 20 || fail "$dev has no IPv4 RoCE v2 GID"

# The kernel QPs on $dev but QP1 must all go with the server or the mount.
check_no_qp() {
	wait_for "[ -z \"\$(res_list qp $dev kernel | grep -v 'lqpn 1 ')\" ]" 30 ||
		fail "kernel QPs left on $dev: $(res_list qp $dev kernel)"
	echo "REPORT $label: no kernel QP left on $dev but QP1 [at ${SECONDS} s]"
}

# ---- the server ----------------------------------------------------------

server_teardown() {
	msg_stop
	nfs_teardown "$mnt" "$export_dir"
}

run_server() {
	msg_listen $msg_port $msgs
	trap server_teardown EXIT
	nfs_export "$export_dir" $((mb * 3 + 16))
	nfs_server_start $port
	echo "REPORT $label: knfsd listens on $(tr '\n' ' ' < /proc/fs/nfsd/portlist)[at ${SECONDS} s]"

	msg_wait restart 600
	nfs_server_stop
	echo "REPORT $label: server stopped while the client writes [at ${SECONDS} s]"
	sleep 1
	nfs_server_start $port
	echo "REPORT $label: server started again [at ${SECONDS} s]"

	msg_wait "done" 600
	server_teardown
	trap - EXIT
	check_no_qp
}

# ---- the client ----------------------------------------------------------

client_exit() {
	local rc=$?

	[ -z "${FIO_PID:-}" ] || kill "$FIO_PID" 2> /dev/null || true
	umount -f "$mnt" > /dev/null 2>&1 || true
	[ $rc -eq 0 ] || msg_send $msg_port fail || true
}

# mount_xprt <n>: field <n> of the "xprt:" line of the mount's
# statistics: 2 is the transport's name, 5 (for rdma) how many times it
# connected.
mount_xprt() {
	awk -v m="$mnt" -v n="$1" '$1 == "device" && $5 == m { on = 1; next }
		$1 == "device" { on = 0 }
		on && $1 == "xprt:" { print $n; exit }' /proc/self/mountstats
}

run_client() {
	local deadline=$((SECONDS + 180)) xprt before sent start connects0 connects

	trap client_exit EXIT
	# The first mount waits for the server to listen.
	until nfs_mount "$SROCE_PEER_IP4" $port "$mnt" 2> /tmp/mount.err; do
		[ $SECONDS -lt $deadline ] ||
			{ cat /tmp/mount.err; fail "mount -o proto=rdma,port=$port of $SROCE_PEER_IP4"; }
		sleep 2
	done
	xprt=$(mount_xprt 2)
	[ "$xprt" = rdma ] || fail "the mount's transport is '$xprt', not rdma"
	echo "REPORT $label: mounted $SROCE_PEER_IP4:/ over RDMA port $port (NFSv4.2) [at ${SECONDS} s]"

	before=$(port_counter $dev tx_packets)
	fio_verify "$mnt/random" "$mb" --rw=randrw --bs=4k
	echo "REPORT $label: fio randrw 4k crc32c verified, $mb MiB: $(fio_figures) [at ${SECONDS} s]"
	fio_verify "$mnt/seq" "$mb" --rw=write --bs=128k
	echo "REPORT $label: fio write 128k crc32c verified, $mb MiB: $(fio_figures) [at ${SECONDS} s]"
	sent=$(( $(port_counter $dev tx_packets) - before ))
	# The client's RPCs carried both files' writes and asked for the
	# verification's reads: at least a packet per 4 KiB (the largest
	# path MTU) of what it wrote, $mb MiB of the sequential file and
	# about half of the random one.
	[ "$sent" -ge $((mb * 256 * 3 / 2)) ] ||
		fail "$dev sent $sent packets for the client's fio runs of 2 x $mb MiB"
	echo "REPORT $label: $dev sent $sent packets for them"

	# A rate keeps fio writing for about 10 s whatever the size; the
	# server goes and comes back meanwhile.
	fio_start "$mnt/restart" "$mb" 10
	sleep 3
	start=$SECONDS
	connects0=$(mount_xprt 5)
	msg_send $msg_port restart || fail "cannot tell the server to restart"
	fio_wait "the server's restart"
	connects=$(mount_xprt 5)
	[ "$connects" -gt "$connects0" ] ||
		fail "the mount's transport did not reconnect ($connects0 connects before the restart, $connects after)"
	echo "REPORT $label: fio randwrite 4k crc32c verified across the server's restart (the transport connected $connects0 times before it, $connects after), $((SECONDS - start)) s from the request [at ${SECONDS} s]"

	umount "$mnt" || fail "umount"
	msg_send $msg_port "done" || fail "cannot tell the server the client is done"
	trap - EXIT
	check_no_qp
}

run_$side
echo "REPORT $label: done in $SECONDS s"
