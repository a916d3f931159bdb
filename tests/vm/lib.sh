# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared helpers for the VM tests and the guest setup hook.  Sourced, never
# run.  Expects SROCE_REPO and SROCE_KVER from the VM runner's guest init.

SROCE_KO="$SROCE_REPO/driver/build/$SROCE_KVER/sroce.ko"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Load sroce.ko (and the core modules it needs) unless it is loaded.
sroce_load() {
	[ -d /sys/module/sroce ] && return 0
	[ -f "$SROCE_KO" ] || { echo "no $SROCE_KO; run make first" >&2; return 1; }
	# insmod does not resolve dependencies: load what the module says it
	# needs (ib_core, ib_uverbs, udp_tunnel, ...) first.
	local deps
	deps=$(modinfo -F depends "$SROCE_KO") || return 1
	modprobe -a ib_uverbs ${deps//,/ } || return 1
	insmod "$SROCE_KO"
}

# Is an RDMA device of this name registered?
rdma_dev_exists() {
	[ -e "/sys/class/infiniband/$1" ]
}

# Put the standard state back: sroce loaded and sroce0 on eth0.
sroce_reset() {
	sroce_load || return 1
	rdma_dev_exists sroce0 ||
		rdma link add sroce0 type sroce netdev eth0 || return 1
}

# Wait up to $2 seconds (default 5) for the command in $1 to succeed.
wait_for() {
	local tries=$(( ${2:-5} * 10 ))

	while ! eval "$1" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# The value of "key:<spaces>value" in ibv_devinfo output for a device/port.
devinfo_field() {
	ibv_devinfo -v -d "$1" | awk -v k="$2:" '$1 == k { print $2; exit }'
}
