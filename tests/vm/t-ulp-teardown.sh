# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Teardown under kernel ULPs: an sroce device that NVMe over Fabrics
# (nvmet-rdma target and nvme-rdma host in one VM, loopback) uses while
# fio writes goes away: (a) rdma link delete, (b) its netdev deleted and,
# with LONG=1 (make check-long), (c) rmmod sroce.  The core tells both
# ULPs to let go (remove_one, DEVICE_REMOVAL): the host deletes its
# controller, fio gets EIO, the target drops its listener; each step must
# end within a bound.  Then the device comes back, the target's port is
# enabled again (nvmet-rdma does not listen again by itself), the host
# connects again and fio verifies its data (crc32c).  With LONG=1, NFS
# over RDMA goes through (a) as well: the hard mount's I/O waits while the
# device is gone and ends, verified, once it is back.
#
# The device is sroce0 on a veth (ut0, 198.51.100.1) rather than eth0,
# so that (b) can delete its netdev; eth0's sroce0 goes for the case's
# time and the runner puts it back.  Every step is bounded: one that does
# not end in time fails the case and shows the kernel stacks of the
# tasks in D state.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"
. "$SROCE_REPO/tests/vm/nvme-lib.sh"
. "$SROCE_REPO/tests/vm/nfs-lib.sh"

dev=sroce0
ip4=198.51.100.1
nqn=nqn.2026-12.org.example:sroce-t-ulp-teardown

nvme_prepare both
modprobe null_blk nr_devices=1 memory_backed=1 gb=1 ||
	fail "cannot load null_blk"
# When its device goes, nvme-rdma deletes the controller: it waits for
# the I/O in flight, then shuts the controller down by an admin command.
# With the netdev gone, (b), neither has a path left, and each ends only
# at its timeout: nvme's I/O timeout (30 s), then the admin timeout (60
# s).  5 and 10 s here keep the case short.
nvme_param=/sys/module/nvme_core/parameters
io_timeout=$(cat $nvme_param/io_timeout)
admin_timeout=$(cat $nvme_param/admin_timeout)
echo 5 > $nvme_param/io_timeout
echo 10 > $nvme_param/admin_timeout

# The kernel stacks of every task in D state, for a step that hangs.
dump_blocked() {
	local p

	for p in /proc/[0-9]*; do
		grep -q '^State:.*D' "$p/status" 2> /dev/null || continue
		echo "--- blocked: ${p#/proc/} $(cat "$p/comm" 2> /dev/null)"
		cat "$p/stack" 2> /dev/null || true
	done
}

# bounded <seconds> <what> <command>...: the command must end within the
# time (a task stuck in the kernel ignores timeout's signals, so it is
# waited for by polling) and succeed.
bounded() {
	local limit=$1 what=$2 pid rc=0 end=$((SECONDS + $1))

	shift 2
	"$@" &
	pid=$!
	while kill -0 "$pid" 2> /dev/null; do
		if [ $SECONDS -ge $end ]; then
			dump_blocked
			fail "$what: not done in $limit s"
		fi
		sleep 0.2
	done
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "$what: status $rc"
}

host_disks() {
	nvme_host_disks "$nqn"
}

# The host's controllers of the subsystem, one a line.
host_ctrls() {
	local c

	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2> /dev/null)" = "$nqn" ] || continue
		echo "${c##*/}"
	done
}

teardown() {
	! mountpoint -q /mnt/sroce-ulp ||
		nfs_teardown /mnt/sroce-ulp /srv/sroce-ulp
	nvme disconnect -n "$nqn" > /dev/null 2>&1 || true
	nvmet_teardown "$nqn"
	modprobe -r nvme-rdma nvmet-rdma 2> /dev/null || true
	echo "$io_timeout" > $nvme_param/io_timeout
	echo "$admin_timeout" > $nvme_param/admin_timeout
	ip link del ut0 2> /dev/null || true
	# The runner puts sroce0 back on eth0 unless it finds one.
	wait_for '! rdma_dev_exists $dev' 30 || true
}
trap teardown EXIT

# sroce0 on ut0, whose peer ut1 is up so that ut0 has carrier.
dev_up() {
	if ! ip link show ut0 > /dev/null 2>&1; then
		ip link add ut0 type veth peer name ut1
		ip addr add "$ip4/24" dev ut0
		ip link set ut1 up
		ip link set ut0 up
	fi
	sroce_load || fail "cannot load sroce"
	rdma link add $dev type sroce netdev ut0 || fail "rdma link add $dev"
	wait_for "roce_gid_index $dev 4" 10 || fail "$dev has no IPv4 RoCE v2 GID"
}

# The target's port: listening on (re)enable, since nvmet-rdma drops its
# listener for good when the listener's device goes away.
port_enable() {
	if [ -d "$NVMET_CFS/ports/1" ]; then
		nvmet_port_link 1 "$nqn"
	else
		nvmet_port_add 1 ipv4 "$ip4" "$nqn"
	fi
}
port_disable() {
	nvmet_port_unlink 1 "$nqn" 2> /dev/null || true
}

connect() {
	bounded 30 "nvme connect" nvme connect -t rdma -a "$ip4" -s 4420 \
		-n "$nqn" --reconnect-delay=1 --ctrl-loss-tmo=5
	wait_for '[ "$(host_disks | wc -l)" -eq 1 ]' 30 ||
		fail "the host has $(host_disks | wc -l) of 1 namespace"
	disk=$(host_disks)
	wait_for "[ -b $disk ] && [ \$(cat /sys/block/${disk#/dev/}/size) -gt 0 ]" 30 ||
		fail "$disk: no block device, or no capacity"
}

# The target: a subsystem any host may use, with a null_blk namespace.
nvmet_subsys_add "$nqn"
nvmet_ns_add "$nqn" 1 /dev/nullb0

rdma link delete $dev || fail "cannot take $dev off eth0"
dev_up
port_enable
connect
fio_verify "$disk" 4 --rw=randrw --bs=4k
echo "REPORT ulp-teardown: NVMe-oF over $dev on ut0 connected, fio verified"

# gone <a|b|c> <what> <command>...: with fio writing to the namespace, the
# device goes by the command; fio must stop with an error, the host let go
# of the device, the device be gone, each within a bound.  Then the device
# comes back, the host connects again and fio verifies.
gone() {
	local step=$1 what=$2 start fio_pid rc=0 err why writes

	shift 2
	# Writes the target's null_blk completed so far (field 5 of its stat).
	writes=$(awk '{ print $5 }' /sys/block/nullb0/stat)
	fio --name=gone --filename="$disk" --direct=1 --ioengine=libaio \
		--iodepth=8 --rw=randwrite --bs=4k --size=16M --time_based \
		--runtime=60 --output-format=terse --terse-version=3 \
		> /tmp/fio-gone.out 2>&1 &
	fio_pid=$!
	# fio is writing, not still setting up, when the device goes.
	wait_for "[ \$(awk '{ print \$5 }' /sys/block/nullb0/stat) -gt $((writes + 100)) ]" 30 ||
		{ cat /tmp/fio-gone.out; fail "($step) fio does not write"; }
	kill -0 $fio_pid || { cat /tmp/fio-gone.out; fail "($step) fio ended early"; }
	start=$SECONDS
	bounded 60 "($step) $what" "$@"
	wait_for '! rdma_dev_exists $dev' 30 ||
		{ dump_blocked; fail "($step) $dev still there 30 s after $what"; }
	wait_for "! kill -0 $fio_pid" 60 ||
		{ dump_blocked; fail "($step) fio still running 60 s after $what"; }
	wait "$fio_pid" || rc=$?
	err=$(grep -m1 '^3;' /tmp/fio-gone.out | cut -d';' -f5)
	why=$(grep -m1 -E 'error|err=' /tmp/fio-gone.out || true)
	[ "$rc" -ne 0 ] && [ "${err:-0}" != 0 ] ||
		{ cat /tmp/fio-gone.out; fail "($step) fio saw no error (status $rc, error ${err:-none}) with $dev gone"; }
	wait_for '[ -z "$(host_ctrls)" ] && [ -z "$(host_disks)" ]' 30 ||
		{ dump_blocked; fail "($step) the host kept controller $(host_ctrls) with $dev gone"; }
	echo "REPORT ulp-teardown ($step) $what under NVMe-oF I/O: done in $((SECONDS - start)) s; host controller deleted; fio status $rc, error $err: $why"

	start=$SECONDS
	dev_up
	port_disable
	port_enable
	connect
	fio_verify "$disk" 4 --rw=randrw --bs=4k
	echo "REPORT ulp-teardown ($step) $dev back: host connected again and fio randrw 4k with crc32c verify passed, $((SECONDS - start)) s"
}


# NFS over RDMA (knfsd and the client in this VM, as in long-nfsrdma) through
# (a): the hard mount's I/O waits while the device is gone, and fio ends
# with its data verified once it is back.
nfs_gone() {
	local export_dir=/srv/sroce-ulp mnt=/mnt/sroce-ulp start fio_pid

	nfs_prepare
	nfs_export "$export_dir" 64
	nfs_server_start 20049
	bounded 30 "NFS mount" nfs_mount "$ip4" 20049 "$mnt"
	fio_verify "$mnt/before" 8 --rw=randrw --bs=4k
	echo "REPORT ulp-teardown NFS: mounted over $dev, fio verified"

	fio --name=nfsgone --filename="$mnt/gone" --direct=1 \
		--ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k \
		--size=8M --verify=crc32c --rate_iops=200 \
		--verify_fatal=1 --verify_state_save=0 --output-format=terse \
		--terse-version=3 > /tmp/fio-nfs.out 2>&1 &
	fio_pid=$!
	sleep 3
	start=$SECONDS
	bounded 60 "(a) NFS: rdma link delete $dev" rdma link delete $dev
	echo "REPORT ulp-teardown NFS (a) rdma link delete under NFS I/O: done in $((SECONDS - start)) s"
	sleep 5
	kill -0 $fio_pid ||
		{ cat /tmp/fio-nfs.out; fail "NFS: fio ended while $dev was gone"; }
	echo "REPORT ulp-teardown NFS: fio waits while $dev is gone (hard mount)"
	start=$SECONDS
	dev_up
	wait_for "! kill -0 $fio_pid" 120 ||
		{ dump_blocked; fail "NFS: fio not done 120 s after $dev came back"; }
	wait "$fio_pid" ||
		{ cat /tmp/fio-nfs.out; fail "NFS: fio across the device's removal"; }
	[ "$(cut -d';' -f5 /tmp/fio-nfs.out | head -n 1)" = 0 ] ||
		{ cat /tmp/fio-nfs.out; fail "NFS: fio across the device's removal: an error"; }
	echo "REPORT ulp-teardown NFS: $dev back, fio finished with crc32c verify, no errors, $((SECONDS - start)) s later"
	bounded 30 "NFS umount" umount "$mnt"
	nfs_teardown "$mnt" "$export_dir"
}

gone a "rdma link delete $dev" rdma link delete $dev
gone b "ip link del ut0" ip link del ut0

if [ "${LONG:-0}" = 1 ]; then
	gone c "rmmod sroce" rmmod sroce
	bounded 30 "nvme disconnect" nvme disconnect -n "$nqn"
	nfs_gone
fi

bounded 30 "nvme disconnect" nvme disconnect -n "$nqn"
teardown
trap - EXIT
