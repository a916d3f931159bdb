# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NFS over RDMA helpers shared by tests/vm/long-nfsrdma.sh,
# tests/vm/t-ulp-teardown.sh and tests/pair/nfsrdma.sh: a knfsd that
# exports a tmpfs and listens for RPC-over-RDMA, and its client.  Sourced after
# tests/vm/lib.sh, never run.

# Tools and modules of the server and the client.
nfs_prepare() {
	command -v rpc.nfsd > /dev/null || fail "nfs-kernel-server is not installed"
	command -v fio > /dev/null || fail "fio is not installed"
	modprobe -a nfsd nfsv4 rpcrdma || fail "cannot load nfsd, nfsv4 and rpcrdma"
}

# nfs_export <directory> <MiB>: export a tmpfs of <MiB> mounted there
# (the root is an overlay on 9p, which NFS cannot export), NFSv4 only,
# with short lease and grace times so that a restart's grace period is
# seconds, not 90.  fsid=0: the tmpfs is the root of the server's NFSv4
# tree, so that the server need not build a pseudo-root through the
# overlay.  The server itself starts with nfs_server_start.
nfs_export() {
	mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
	mkdir -p "$1" /var/lib/nfs
	mount -t tmpfs -o size="$2m" tmpfs "$1" || fail "tmpfs on $1"
	echo 10 > /proc/fs/nfsd/nfsv4leasetime
	echo 10 > /proc/fs/nfsd/nfsv4gracetime
	rpcbind -w 2> /dev/null || rpcbind
	exportfs -o rw,no_root_squash,insecure,no_subtree_check,fsid=0 \
		"*:$1" || fail "exportfs"
	rpc.mountd -N 2 -N 3 || fail "rpc.mountd"
}

# nfs_server_start <port>: knfsd runs and listens for RDMA on <port>.
nfs_server_start() {
	rpc.nfsd -N 3 4 > /tmp/nfsd.out 2>&1 ||
		{ cat /tmp/nfsd.out; fail "rpc.nfsd"; }
	grep -q "^rdma $1\$" /proc/fs/nfsd/portlist ||
		echo "rdma $1" > /proc/fs/nfsd/portlist ||
		fail "knfsd does not take an RDMA listener on port $1"
	grep -q "^rdma $1\$" /proc/fs/nfsd/portlist ||
		fail "knfsd's ports: $(tr '\n' ' ' < /proc/fs/nfsd/portlist)"
}

nfs_server_stop() {
	rpc.nfsd 0 > /dev/null 2>&1 || true
}

# nfs_mount <address> <port> <mount point>: NFSv4.2 over RDMA, hard.
nfs_mount() {
	mkdir -p "$3"
	mount -t nfs -o vers=4.2,proto=rdma,port="$2",hard,timeo=100 \
		"$1:/" "$3"
}

# nfs_teardown <mount point> <exported directory>: whatever there is of
# the client and the server goes, quietly; for traps.
nfs_teardown() {
	umount -f "$1" > /dev/null 2>&1 || true
	nfs_server_stop
	exportfs -ua > /dev/null 2>&1 || true
	pkill -x rpc.mountd 2> /dev/null || true
	pkill -x rpcbind 2> /dev/null || true
	umount "$2" 2> /dev/null || true
}
