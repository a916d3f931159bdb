# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NVMe over Fabrics helpers shared by tests/vm/t-nvmeof.sh (target and
# host in one VM), tests/vm/t-ulp-teardown.sh and tests/pair/nvmeof.sh
# (across the wire of a pair):
# an nvmet-rdma target configured through configfs, and the nvme-rdma
# host's side.  Sourced after tests/vm/lib.sh, never run.

NVMET_CFS=/sys/kernel/config/nvmet

# Tools and modules of the side(s) named: nvme_prepare target|host|both.
nvme_prepare() {
	command -v nvme > /dev/null || fail "nvme-cli is not installed"
	if [ "$1" != target ]; then
		command -v fio > /dev/null || fail "fio is not installed"
		modprobe -a nvme-rdma nvme-fabrics ||
			fail "cannot load the NVMe-oF host modules"
	fi
	[ "$1" != host ] || return 0
	modprobe -a nvmet nvmet-rdma || fail "cannot load the NVMe-oF target modules"
	mountpoint -q /sys/kernel/config ||
		mount -t configfs configfs /sys/kernel/config
}

# nvmet_subsys_add <nqn>: a subsystem any host may use.
nvmet_subsys_add() {
	mkdir "$NVMET_CFS/subsystems/$1" &&
		echo 1 > "$NVMET_CFS/subsystems/$1/attr_allow_any_host"
}

# nvmet_ns_add <nqn> <nsid> <block device or file>: a namespace, enabled.
# A file must have its size before it is enabled (the target reads it
# then), and must live on a filesystem whose inodes carry their block
# size, such as tmpfs or ext4: nvmet's file backend takes the LBA size
# from the inode's i_blkbits, which is 0 on overlayfs (the guest's /, so
# /tmp), and the host then skips the namespace ("invalid LBA data size
# 0"), which is why a file in /tmp never showed a capacity.
nvmet_ns_add() {
	local ns=$NVMET_CFS/subsystems/$1/namespaces/$2

	mkdir "$ns" &&
		echo "$3" > "$ns/device_path" &&
		echo 1 > "$ns/enable"
}

# nvmet_port_add <id> <ipv4|ipv6> <address> <nqn>: an RDMA port on
# <address>:4420 offering the subsystem.
nvmet_port_add() {
	local p=$NVMET_CFS/ports/$1

	mkdir -p "$p" &&
		echo rdma > "$p/addr_trtype" &&
		echo "$2" > "$p/addr_adrfam" &&
		echo "$3" > "$p/addr_traddr" &&
		echo 4420 > "$p/addr_trsvcid" &&
		nvmet_port_link "$1" "$4"
}

# nvmet_port_link / nvmet_port_unlink <id> <nqn>: offer the subsystem on
# a port, or take it away (the port stops listening when nothing is left
# on it, and the target drops the controllers connected through it).
nvmet_port_link() {
	ln -s "$NVMET_CFS/subsystems/$2" "$NVMET_CFS/ports/$1/subsystems/$2"
}

nvmet_port_unlink() {
	rm "$NVMET_CFS/ports/$1/subsystems/$2"
}

# nvmet_teardown <nqn>: whatever there is of the target goes (ports,
# namespaces, the subsystem), quietly; for traps.
nvmet_teardown() {
	local ns

	[ -d "$NVMET_CFS" ] || return 0
	rm -f "$NVMET_CFS"/ports/*/subsystems/"$1"
	rmdir "$NVMET_CFS"/ports/* 2> /dev/null || true
	for ns in "$NVMET_CFS/subsystems/$1"/namespaces/*; do
		[ -d "$ns" ] || continue
		echo 0 > "$ns/enable" || true
		rmdir "$ns" || true
	done
	rmdir "$NVMET_CFS/subsystems/$1" 2> /dev/null || true
}

# The host's block devices of subsystem <nqn>, one a line: namespace
# heads (nvmeXnY), never the hidden per-controller paths (nvmeXcZnY).
nvme_host_disks() {
	local b

	for b in /sys/block/nvme*; do
		[[ ${b##*/} =~ ^nvme[0-9]+n[0-9]+$ ]] || continue
		[ "$(cat "$b/device/subsysnqn" 2> /dev/null)" = "$1" ] ||
			continue
		echo "/dev/${b##*/}"
	done | sort
}

# nvme_host_discover <address> <nqn> [seconds]: `nvme discover` lists
# <nqn> at <address>:4420; retried for [seconds] (default: once) while
# the target may not listen yet.
nvme_host_discover() {
	local deadline=$((SECONDS + ${3:-0}))

	while :; do
		if nvme discover -t rdma -a "$1" -s 4420 > /tmp/discover.out 2>&1 &&
		   grep -q "subnqn: *$2\$" /tmp/discover.out; then
			return 0
		fi
		[ $SECONDS -lt $deadline ] || break
		sleep 1
	done
	cat /tmp/discover.out
	fail "nvme discover at $1 does not list $2"
}

# nvme_host_connect <address> <nqn> <namespaces>: `nvme connect -t rdma`
# (reconnecting every second for up to a minute after a loss), then wait
# until the host has the subsystem's <namespaces> block devices, each
# with its capacity.  /sys/block shows a disk a moment before devtmpfs
# has its node, and a namespace head before it has its capacity.
nvme_host_connect() {
	local disk

	nvme connect -t rdma -a "$1" -s 4420 -n "$2" \
		--reconnect-delay=1 --ctrl-loss-tmo=60 ||
		fail "nvme connect to $1"
	wait_for "[ \"\$(nvme_host_disks $2 | wc -l)\" -eq $3 ]" 30 ||
		fail "$1: the host has $(nvme_host_disks "$2" | wc -l) of $3 namespaces"
	for disk in $(nvme_host_disks "$2"); do
		wait_for "[ -b $disk ] && [ \$(cat /sys/block/${disk#/dev/}/size) -gt 0 ]" 30 ||
			fail "$disk: no block device, or no capacity"
	done
}

# nvme_host_disconnect <nqn>: `nvme disconnect`, and its block devices go.
nvme_host_disconnect() {
	nvme disconnect -n "$1" > /dev/null || fail "nvme disconnect $1"
	wait_for "[ -z \"\$(nvme_host_disks $1)\" ]" 30 ||
		fail "namespaces of $1 left after disconnect"
}

# nvme_fio_read <disk> <fio args>...: fio's terse v3 line of a 10 s read
# run (make bench).
nvme_fio_read() {
	local disk=$1 line

	shift
	line=$(timeout 60 fio --name=bench --filename="$disk" --direct=1 \
		--ioengine=libaio --time_based --runtime=10 --size=1G \
		--output-format=terse --terse-version=3 "$@" | grep '^3;') ||
		fail "fio $* on $disk"
	[ "$(cut -d';' -f5 <<< "$line")" = 0 ] || fail "fio $* on $disk: an error"
	echo "$line"
}
