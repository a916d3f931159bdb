#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark (make bench): perftest on one host over sroce0, then over
# rdma_rxe's rxe0 in the same VM, and each figure as a ratio sroce/rxe.
# Bandwidths are BW average in MB/s, UD message rates MsgRate in Mpps,
# latencies t_avg in usec; then rdma_cm's connection time (cmtime, 100
# connections: us per full connect); then fio over NVMe-oF (nvmet-rdma
# target and nvme-rdma host on the device, a null_blk namespace): 4 KiB
# random read IOPS and 128 KiB sequential read bandwidth in MB/s.  Not a
# test: it fails only when a tool fails.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"
. "$SROCE_REPO/tests/vm/nvme-lib.sh"

runs=(
	"ib_write_bw -n 2000 -s 65536"
	"ib_read_bw -n 2000 -s 65536"
	"ib_send_bw -n 2000 -s 65536"
	"ib_write_bw -n 2000 -s 4096"
	"ib_atomic_bw -n 2000"
	"ib_send_bw -c UD -n 20000 -s 64"
	"ib_write_lat -n 1000"
	"ib_send_lat -n 1000"
	"ib_read_lat -n 1000"
)

# figure <dev> <tool and args>: BW average, or t_avg for a latency tool.
figure() {
	local dev=$1 gid line
	local -a run=($2)

	gid=$(roce_gid_index "$dev" 4) || fail "$dev has no IPv4 RoCE v2 GID"
	line=$(perftest_local "$dev" "${run[0]}" "$gid" "${run[@]:1}") ||
		fail "$2 on $dev"
	case "${run[0]} ${run[*]}" in
	*_lat*) awk -F': ' '{ split($2, f, " "); print f[6] }' <<<"$line" ;;
	*"-c UD"*) awk -F': ' '{ split($2, f, " "); print f[5] }' <<<"$line" ;;
	*) awk -F': ' '{ split($2, f, " "); print f[4] }' <<<"$line" ;;
	esac
}

# cm_time <dev>: rdma_cm's time for a full connect (resolve address and
# route, create the QP, connect), us per connection, of 100 on one host.
# cmtime's second phase (connections without QPs) is rejected on sroce and
# rxe alike and fails the tool, so its status says nothing: the figure is
# taken from the first phase's table, which must be there.
cm_time() {
	local addr=192.0.2.1 us

	run_server_client "cmtime -b $addr -c 100" 7471 \
		"cmtime -s $addr -c 100" > /tmp/cmtime.out 2>&1 || true
	us=$(awk '/^--- client/ { c = 1 }
		  c && /^full connect/ { print $3; exit }' /tmp/cmtime.out)
	[ -n "$us" ] && [ "$us" -gt 0 ] || {
		cat /tmp/cmtime.out
		fail "cmtime on $1"
	}
	echo "$us"
}

# NVMe over Fabrics: an nvmet-rdma target on 192.0.2.1 with a null_blk
# namespace (no backing memory: the transport is what is measured), which
# the device in use carries at connect time.
nqn=nqn.2026-12.org.example:sroce-bench
cfs=/sys/kernel/config/nvmet
nvme_port=$cfs/ports/1
nvme_target() {
	modprobe -a nvmet nvmet-rdma nvme-rdma nvme-fabrics ||
		fail "cannot load the NVMe-oF modules"
	modprobe null_blk nr_devices=1 gb=1 || fail "cannot load null_blk"
	mountpoint -q /sys/kernel/config ||
		mount -t configfs configfs /sys/kernel/config
	mkdir "$cfs/subsystems/$nqn"
	echo 1 > "$cfs/subsystems/$nqn/attr_allow_any_host"
	mkdir "$cfs/subsystems/$nqn/namespaces/1"
	echo /dev/nullb0 > "$cfs/subsystems/$nqn/namespaces/1/device_path"
	echo 1 > "$cfs/subsystems/$nqn/namespaces/1/enable"
	mkdir "$nvme_port"
	echo rdma > "$nvme_port/addr_trtype"
	echo ipv4 > "$nvme_port/addr_adrfam"
	echo 192.0.2.1 > "$nvme_port/addr_traddr"
	echo 4420 > "$nvme_port/addr_trsvcid"
}

# fio_nvme <dev>: "IOPS MB/s" of fio on the namespace over <dev>: 4 KiB
# random reads at queue depth 32, then 128 KiB sequential reads at 8, 10 s
# each.  The port listens, and the host is connected, only meanwhile.
fio_nvme() {
	local disk line iops kbs

	ln -s "$cfs/subsystems/$nqn" "$nvme_port/subsystems/$nqn"
	timeout 60 nvme connect -t rdma -a 192.0.2.1 -s 4420 -n "$nqn" \
		> /dev/null || fail "nvme connect over $1"
	wait_for '[ -n "$(nvme_disk)" ]' 30 || fail "no namespace over $1"
	disk=$(nvme_disk)
	# terse v3: field 8 is the read IOPS, field 7 the read KiB/s.
	line=$(nvme_fio_read "$disk" --rw=randread --bs=4k --iodepth=32) || exit 1
	iops=$(cut -d';' -f8 <<< "$line")
	line=$(nvme_fio_read "$disk" --rw=read --bs=128k --iodepth=8) || exit 1
	kbs=$(cut -d';' -f7 <<< "$line")
	timeout 60 nvme disconnect -n "$nqn" > /dev/null ||
		fail "nvme disconnect over $1"
	rm "$nvme_port/subsystems/$nqn"
	echo "$iops $(awk -v k="$kbs" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')"
}

# The namespace's block device, once it has a node and a capacity.
nvme_disk() {
	local b

	for b in /sys/block/nvme*n1; do
		[ "$(cat "$b/device/subsysnqn" 2> /dev/null)" = "$nqn" ] || continue
		[ -b "/dev/${b##*/}" ] && [ "$(cat "$b/size")" -gt 0 ] &&
			echo "/dev/${b##*/}"
	done
}

# ratio <a> <b>: a / b with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}

declare -A sroce
for r in "${runs[@]}"; do
	sroce[$r]=$(figure sroce0 "$r")
done
sroce_cm=$(cm_time sroce0)
nvme_target
nvme_sroce=$(fio_nvme sroce0) || exit 1
read -r sroce_iops sroce_mbs <<< "$nvme_sroce"
use_rxe || fail "cannot switch to rdma_rxe"
echo "kernel $SROCE_KVER, one VM, 2 vCPUs under TCG"
printf '%-32s %12s %12s %8s\n' run sroce0 rxe0 sroce/rxe
for r in "${runs[@]}"; do
	rxe=$(figure rxe0 "$r")
	printf '%-32s %12s %12s %8s\n' "$r" "${sroce[$r]}" "$rxe" \
		"$(awk -v a="${sroce[$r]}" -v b="$rxe" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }')"
done
rxe_cm=$(cm_time rxe0)
printf '%-32s %12s %12s %8s\n' "cmtime full connect (us)" "$sroce_cm" \
	"$rxe_cm" "$(awk -v a="$sroce_cm" -v b="$rxe_cm" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }')"
nvme_rxe=$(fio_nvme rxe0) || exit 1
read -r rxe_iops rxe_mbs <<< "$nvme_rxe"
printf '%-32s %12s %12s %8s\n' "NVMe-oF fio randread 4k IOPS" \
	"$sroce_iops" "$rxe_iops" "$(ratio "$sroce_iops" "$rxe_iops")"
printf '%-32s %12s %12s %8s\n' "NVMe-oF fio read 128k MB/s" \
	"$sroce_mbs" "$rxe_mbs" "$(ratio "$sroce_mbs" "$rxe_mbs")"
echo "(bandwidth: MB/s and UD message rate: Mpps, higher is better;"
echo " latency: t_avg usec and connect: us per connection, lower is better;"
echo " NVMe-oF: one nvme-rdma host and nvmet-rdma target over the device,"
echo " null_blk namespace, fio libaio O_DIRECT 10 s, iodepth 32 and 8)"
