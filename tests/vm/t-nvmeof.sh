# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NVMe over Fabrics on sroce0, target and host in one VM (loopback over
# eth0's addresses): an nvmet-rdma target configured through configfs
# with a memory-backed null_blk namespace, on an IPv4 and an IPv6 port; the nvme-rdma host finds it with `nvme discover` and
# attaches with `nvme connect -t rdma` over each family; fio writes and
# reads every namespace with crc32c verification (4 KiB random and 128
# KiB blocks); the target port is taken away while fio runs and given
# back, and the host reconnects and finishes with its data verified;
# `nvme disconnect`, teardown, and nothing of the host's or the target's
# left on sroce0.  SROCE_NVME_MB sizes each namespace's I/O (default 16;
# make check-long asks for more).
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"
. "$SROCE_REPO/tests/vm/nvme-lib.sh"

dev=sroce0
nqn=nqn.2026-12.org.example:sroce-t-nvmeof
mb=${SROCE_NVME_MB:-16}
ip4=192.0.2.1
ip6=2001:db8::1

nvme_prepare both
modprobe null_blk nr_devices=1 memory_backed=1 gb=1 ||
	fail "cannot load null_blk"
wait_for "roce_gid_index $dev 4" || fail "$dev has no IPv4 RoCE v2 GID"
wait_for "roce_gid_index $dev 6" || fail "$dev has no IPv6 RoCE v2 GID"

# Whatever happens, the target and the host go, so that the next case
# finds sroce0 free.
teardown() {
	nvme disconnect -n "$nqn" > /dev/null 2>&1 || true
	nvmet_teardown "$nqn"
	modprobe -r nvme-rdma nvmet-rdma 2> /dev/null || true
}
trap teardown EXIT

# The target: a subsystem any host may use, with a null_blk namespace.
# The pair's case (tests/pair/nvmeof.sh) adds a file-backed one, on a
# tmpfs of its own: on the guest's overlayfs root a file's inode has no
# block size, and nvmet hands the host a namespace of LBA size 0, which
# the host skips.
nvmet_subsys_add "$nqn"
nvmet_ns_add "$nqn" 1 /dev/nullb0
nvmet_port_add 1 ipv4 "$ip4" "$nqn"
nvmet_port_add 2 ipv6 "$ip6" "$nqn"

host_disks() {
	nvme_host_disks "$nqn"
}

for fam in 4 6; do
	addr=$ip4
	[ $fam = 4 ] || addr=$ip6
	nvme_host_discover "$addr" "$nqn"
	nvme_host_connect "$addr" "$nqn" 1
	echo "REPORT nvmeof IPv$fam: connected, namespaces $(host_disks | tr '\n' ' ')"
	for disk in $(host_disks); do
		[ -b "$disk" ] || fail "$disk is not a block device"
		fio_verify "$disk" "$mb" --rw=randrw --bs=4k
		fio_verify "$disk" "$mb" --rw=write --bs=128k
	done
	echo "REPORT nvmeof IPv$fam: fio randrw 4k and write 128k with crc32c verify, ${mb} MiB per namespace: no errors"
	[ $fam = 6 ] && break
	nvme_host_disconnect "$nqn"
done

# The port goes away while fio runs, and comes back: the host reconnects
# and fio ends with its data verified.  The rate keeps fio writing for
# about 10 s whatever the size, so the port goes while it runs.
disk=$(host_disks | head -n 1)
[ -b "$disk" ] || fail "$disk is not a block device"
fio_start "$disk" "$mb" 10
sleep 3
nvmet_port_unlink 2 "$nqn"
echo "REPORT nvmeof: port removed while fio runs"
wait_for "grep -qE 'resetting|connecting' /sys/class/nvme/nvme*/state" 30 ||
	echo "REPORT nvmeof: the host did not show a reconnect state"
sleep 2
nvmet_port_link 2 "$nqn"
fio_wait "the port's removal"
echo "REPORT nvmeof: host reconnected; fio randwrite with crc32c verify across the removal: no errors"

nvme_host_disconnect "$nqn"
teardown
trap - EXIT
wait_for "[ -z \"\$(res_list qp $dev kernel | grep -v 'lqpn 1 ')\" ]" 30 ||
	fail "kernel QPs left on $dev: $(res_list qp $dev kernel)"
echo "REPORT nvmeof: teardown left no QP on $dev but QP1"
