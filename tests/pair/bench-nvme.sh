#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NVMe over Fabrics across the wire of "scripts/vm-run --pair", sroce and
# rdma_rxe on the same pair of VMs (make bench), run by both VMs: b is an
# nvmet-rdma target with a null_blk namespace (no backing memory: the
# transport is what is measured) on its IPv4 address, a is the
# nvme-rdma host.  Both VMs run sroce, then rdma_rxe, twice (sroce0 and
# rxe0 on eth0, switched together: the host asks, the target answers
# when it listens on the new device), and in each pass the host measures
# fio's 4 KiB random read IOPS at queue depth 32 and 128 KiB sequential
# read bandwidth at 8, 10 s each.  The host prints each pass and then a
# table of the means and the ratios sroce/rxe.  Not a test: it fails only
# when a tool fails.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"
. "$SROCE_REPO/tests/vm/nvme-lib.sh"
. "$SROCE_REPO/tests/pair/msg-lib.sh"

nqn=nqn.2026-12.org.example:sroce-pair-bench
msg_port=18602
msgs=/tmp/bench-nvme-msgs
passes="1 2"
[ "$SROCE_ROLE" = b ] && side=target || side=host

# switch_to <sroce|rxe>: that device on eth0 (the other one goes), with
# its IPv4 RoCE v2 GID.
switch_to() {
	local dev=${1}0

	use_$1 || fail "cannot switch to $dev"
	wait_for "roce_gid_index $dev 4" 20 || fail "$dev has no IPv4 RoCE v2 GID"
}

run_target() {
	local pass dev

	trap 'msg_stop; nvmet_teardown "$nqn"' EXIT
	modprobe null_blk nr_devices=1 gb=1 || fail "cannot load null_blk"
	nvmet_subsys_add "$nqn" || fail "cannot add subsystem $nqn"
	nvmet_ns_add "$nqn" 1 /dev/nullb0 || fail "cannot add namespace 1"
	for pass in $passes; do
		for dev in sroce rxe; do
			msg_wait "use $dev $pass" 300
			# The port listens on whichever device carries the
			# address when it is enabled: it goes before the
			# switch and comes back after it.
			rm -f "$NVMET_CFS/ports/1/subsystems/$nqn"
			rmdir "$NVMET_CFS/ports/1" 2> /dev/null || true
			switch_to $dev
			nvmet_port_add 1 ipv4 "192.0.2.2" "$nqn" ||
				fail "cannot add the port on ${dev}0"
			msg_send $msg_port "ready $dev $pass" ||
				fail "cannot tell the host the target is ready"
		done
	done
	msg_wait "done" 300
}

# measure <dev>: "IOPS MB/s" of the two fio runs over <dev>.
measure() {
	local disk line iops kbs

	nvme_host_connect 192.0.2.2 "$nqn" 1 > /dev/null
	disk=$(nvme_host_disks "$nqn")
	line=$(nvme_fio_read "$disk" --rw=randread --bs=4k --iodepth=32)
	iops=$(cut -d';' -f8 <<< "$line")
	line=$(nvme_fio_read "$disk" --rw=read --bs=128k --iodepth=8)
	kbs=$(cut -d';' -f7 <<< "$line")
	nvme_host_disconnect "$nqn"
	echo "$iops $(awk -v k="$kbs" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')"
}

run_host() {
	local pass dev figures
	declare -A iops mbs

	trap 'msg_stop; [ $? -eq 0 ] || msg_send $msg_port fail || true' EXIT
	for pass in $passes; do
		for dev in sroce rxe; do
			switch_to $dev
			msg_send $msg_port "use $dev $pass" ||
				fail "cannot tell the target to use $dev"
			msg_wait "ready $dev $pass" 300
			nvme_host_discover 192.0.2.2 "$nqn" 30
			figures=$(measure ${dev}0)
			read -r "iops[$dev$pass]" "mbs[$dev$pass]" <<< "$figures"
			echo "REPORT bench-nvme: pass $pass ${dev}0: randread 4k ${iops[$dev$pass]} IOPS, read 128k ${mbs[$dev$pass]} MB/s"
		done
	done
	msg_send $msg_port "done" || fail "cannot tell the target the host is done"
	echo "kernel $SROCE_KVER, two VMs (2 vCPUs each, TCG) on one wire, NVMe-oF host in a, target in b"
	printf '%-36s %10s %10s %9s\n' "mean of passes $passes" sroce0 rxe0 sroce/rxe
	awk -v s1="${iops[sroce1]}" -v s2="${iops[sroce2]}" \
	    -v r1="${iops[rxe1]}" -v r2="${iops[rxe2]}" \
	    -v t1="${mbs[sroce1]}" -v t2="${mbs[sroce2]}" \
	    -v u1="${mbs[rxe1]}" -v u2="${mbs[rxe2]}" 'BEGIN {
		s = (s1 + s2) / 2; r = (r1 + r2) / 2
		printf "%-36s %10.0f %10.0f %9.2f\n", "NVMe-oF pair fio randread 4k IOPS", s, r, r ? s / r : 0
		s = (t1 + t2) / 2; r = (u1 + u2) / 2
		printf "%-36s %10.1f %10.1f %9.2f\n", "NVMe-oF pair fio read 128k MB/s", s, r, r ? s / r : 0
	}'
	echo "(fio libaio O_DIRECT, 10 s a run, iodepth 32 and 8, null_blk namespace)"
}

nvme_prepare $side
msg_listen $msg_port $msgs
run_$side
