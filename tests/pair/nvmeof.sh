#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NVMe over Fabrics across the wire of "scripts/vm-run --pair" (with
# --peer-rxe: between sroce and rdma_rxe), run by both VMs.  One VM (b,
# or the one NVME_TARGET names) is an nvmet-rdma target configured
# through configfs: a memory-backed null_blk namespace and a file-backed
# one (a file on a tmpfs of its own, sized before it is enabled; see
# nvmet_ns_add in tests/vm/nvme-lib.sh for why not on overlayfs), on an
# IPv4 and an IPv6 port.  The other is the nvme-rdma host: `nvme
# discover` (retried until the target listens) and `nvme connect -t
# rdma` over IPv4, fio randrw of 4 KiB blocks with crc32c verification
# on every namespace, `nvme disconnect`, the same over IPv6 with 128 KiB
# blocks (NVME_FULL=1: both block sizes over each family); then fio
# writes with verification while the target takes the IPv6 port away
# and gives it back, and the host must reconnect and end with its data
# verified.  The host tells the target when to take the port away and
# when it is done (or failed) with a line over TCP.  SROCE_NVME_MB sizes
# each namespace's I/O (default 4; make check-long asks for more, and
# NVME_FULL=1); NVME_BIG_MB=<MiB> adds, after the IPv4 runs, one fio
# randrw with verification over that much of the null_blk namespace, its
# I/Os 4 KiB and 128 KiB blocks half and half (make check-long: 1024,
# with VMs of 3 GiB); NVME_NETEM="loss 1%" runs it all under that netem on
# eth0 of both VMs (each VM sets its own).  Each VM checks at the end
# that no kernel QP but QP1 is left on its device.
set -euo pipefail
. "$SROCE_REPO/tests/vm/lib.sh"
. "$SROCE_REPO/tests/vm/nvme-lib.sh"
. "$SROCE_REPO/tests/pair/msg-lib.sh"

target=${NVME_TARGET:-b}
mb=${SROCE_NVME_MB:-4}
big=${NVME_BIG_MB:-0}
full=${NVME_FULL:-0}
netem=${NVME_NETEM:-}
nqn=nqn.2026-12.org.example:sroce-pair-nvmeof
msg_port=18600
msgs=/tmp/nvmeof-msgs
filedir=/run/nvmeof-file
dev=$SROCE_DEV
case $target in a|b) ;; *) fail "NVME_TARGET is a or b, not $target" ;; esac
[ "$SROCE_ROLE" = a ] && self4=192.0.2.1 self6=2001:db8::1 ||
	self4=192.0.2.2 self6=2001:db8::2
if [ "$SROCE_ROLE" = "$target" ]; then
	side=target
else
	side=host
fi
label="nvmeof $dev ($side)"

wait_for "roce_gid_index $dev 4" 20 || fail "$dev has no IPv4 RoCE v2 GID"
wait_for "roce_gid_index $dev 6" 20 || fail "$dev has no IPv6 RoCE v2 GID"
nvme_prepare $side
echo "REPORT $label: GIDs and modules ready [at ${SECONDS} s]"
if [ -n "$netem" ]; then
	modprobe sch_netem || fail "no sch_netem module"
	tc qdisc replace dev eth0 root netem $netem ||
		fail "tc netem $netem on eth0"
	echo "REPORT $label: netem $netem on eth0 [at ${SECONDS} s]"
fi

# With netem, what it did to eth0's frames: asked to lose some, it must
# have dropped some, or the run showed nothing about loss.
netem_check() {
	local stats dropped

	[ -n "$netem" ] || return 0
	stats=$(tc -s qdisc show dev eth0 | awk '/Sent/ { print; exit }')
	echo "REPORT $label: eth0 netem $netem:$stats [at ${SECONDS} s]"
	dropped=$(sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' <<< "$stats")
	[[ $netem != *loss* ]] || [ "${dropped:-0}" -gt 0 ] ||
		fail "netem $netem on eth0 dropped no frame"
}

# The kernel QPs on $dev but QP1 must all go with the target or the host.
check_no_qp() {
	wait_for "[ -z \"\$(res_list qp $dev kernel | grep -v 'lqpn 1 ')\" ]" 30 ||
		fail "kernel QPs left on $dev: $(res_list qp $dev kernel)"
	echo "REPORT $label: no kernel QP left on $dev but QP1 [at ${SECONDS} s]"
}

# ---- the target ----------------------------------------------------------

target_teardown() {
	msg_stop
	nvmet_teardown "$nqn"
	umount "$filedir" 2> /dev/null || true
	tc qdisc del dev eth0 root 2> /dev/null || true
}

run_target() {
	msg_listen $msg_port $msgs
	trap target_teardown EXIT
	echo "REPORT $label: listening for the host's lines [at ${SECONDS} s]"

	modprobe null_blk nr_devices=1 memory_backed=1 \
		gb=$(((mb > big ? mb : big) / 1024 + 1)) ||
		fail "cannot load null_blk"
	mkdir -p $filedir
	mount -t tmpfs -o size=$((mb + 64))m nvmeof $filedir ||
		fail "cannot mount a tmpfs on $filedir"
	truncate -s $((mb + 16))M $filedir/ns2.img
	nvmet_subsys_add "$nqn" || fail "cannot add subsystem $nqn"
	nvmet_ns_add "$nqn" 1 /dev/nullb0 || fail "cannot add namespace 1 (null_blk)"
	nvmet_ns_add "$nqn" 2 $filedir/ns2.img || fail "cannot add namespace 2 (file)"
	nvmet_port_add 1 ipv4 $self4 "$nqn" || fail "cannot add the IPv4 port"
	nvmet_port_add 2 ipv6 $self6 "$nqn" || fail "cannot add the IPv6 port"
	echo "REPORT $label: subsystem on $self4 and [$self6]:4420, namespaces null_blk and $filedir/ns2.img ($((mb + 16)) MiB) [at ${SECONDS} s]"

	msg_wait remove 3600
	nvmet_port_unlink 2 "$nqn" || fail "cannot take the IPv6 port away"
	echo "REPORT $label: IPv6 port taken away while the host writes [at ${SECONDS} s]"
	sleep 3
	nvmet_port_link 2 "$nqn" || fail "cannot give the IPv6 port back"
	echo "REPORT $label: IPv6 port given back [at ${SECONDS} s]"

	msg_wait "done" 3600
	netem_check
	target_teardown
	trap - EXIT
	modprobe -r nvmet-rdma 2> /dev/null || true
	check_no_qp
}

# ---- the host ------------------------------------------------------------

host_exit() {
	local rc=$?

	[ -z "${FIO_PID:-}" ] || kill "$FIO_PID" 2> /dev/null || true
	nvme disconnect -n "$nqn" > /dev/null 2>&1 || true
	tc qdisc del dev eth0 root 2> /dev/null || true
	[ $rc -eq 0 ] || msg_send $msg_port fail || true
}

# big_run: fio randrw with crc32c verification over $big MiB of the
# null_blk namespace (nsid 1), half its I/Os 4 KiB and half 128 KiB.
big_run() {
	local disk

	for disk in $(nvme_host_disks "$nqn"); do
		[ "$(cat /sys/block/${disk#/dev/}/nsid)" = 1 ] && break
	done
	[ "$(cat /sys/block/${disk#/dev/}/nsid)" = 1 ] ||
		fail "no namespace 1 (null_blk) among $(nvme_host_disks "$nqn")"
	fio_verify "$disk" "$big" --rw=randrw --bssplit=4k/50:128k/50
	echo "REPORT $label IPv4: $disk (nsid 1, null_blk) fio randrw 4k and 128k (half the I/Os each) crc32c verified, $big MiB: $(fio_figures) [at ${SECONDS} s]"
}

run_host() {
	local fam addr wait=180 disk bs sizes reconnected

	trap host_exit EXIT
	for fam in 4 6; do
		addr=$SROCE_PEER_IP4
		[ $fam = 4 ] || addr=$SROCE_PEER_IP6
		# The first discovery waits for the target to listen.
		nvme_host_discover "$addr" "$nqn" $wait
		wait=0
		nvme_host_connect "$addr" "$nqn" 2
		echo "REPORT $label IPv$fam: connected to $addr, namespaces $(nvme_host_disks "$nqn" | tr '\n' ' ') [at ${SECONDS} s]"
		sizes=4k
		[ $fam = 4 ] || sizes=128k
		[ "$full" = 0 ] || sizes="4k 128k"
		for disk in $(nvme_host_disks "$nqn"); do
			for bs in $sizes; do
				fio_verify "$disk" "$mb" --rw=randrw --bs=$bs
				echo "REPORT $label IPv$fam: $disk (nsid $(cat /sys/block/${disk#/dev/}/nsid 2> /dev/null || echo ?)) fio randrw $bs crc32c verified, $mb MiB: $(fio_figures) [at ${SECONDS} s]"
			done
		done
		[ $fam = 6 ] && break
		[ "$big" = 0 ] || big_run
		nvme_host_disconnect "$nqn"
		echo "REPORT $label: disconnected over IPv4, reconnecting over IPv6 [at ${SECONDS} s]"
	done

	# The IPv6 port goes away while fio writes (for about 8 s), and
	# comes back: the host must reconnect, and fio end verified.
	reconnected=$(dmesg | grep -c 'Successfully reconnected' || true)
	disk=$(nvme_host_disks "$nqn" | head -n 1)
	fio_start "$disk" "$mb" 8
	sleep 2
	msg_send $msg_port remove || fail "cannot tell the target to take its port away"
	fio_wait "the port's removal"
	[ "$(dmesg | grep -c 'Successfully reconnected' || true)" -gt "$reconnected" ] ||
		{ dmesg | grep -i nvme | tail -n 20; fail "the host never reconnected"; }
	echo "REPORT $label: reconnected after the port came back ($(dmesg | grep 'Successfully reconnected' | tail -n 1 | sed 's/^\[[^]]*\] //')); fio randwrite 4k crc32c verified across it: $(awk -F';' '{ printf "write %d KiB/s %d IOPS", $48, $49; exit }' /tmp/fio-bg.out) [at ${SECONDS} s]"

	nvme_host_disconnect "$nqn"
	msg_send $msg_port "done" || fail "cannot tell the target the host is done"
	trap - EXIT
	netem_check
	tc qdisc del dev eth0 root 2> /dev/null || true
	modprobe -r nvme-rdma 2> /dev/null || true
	check_no_qp
}

run_$side
echo "REPORT $label: done in $SECONDS s"
