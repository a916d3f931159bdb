# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared helpers for the VM tests and the guest setup hook.  Sourced, never
# run.  Expects SROCE_REPO and SROCE_KVER from the VM runner's guest init.

SROCE_KO="$SROCE_REPO/driver/build/$SROCE_KVER/sroce.ko"
# The build directory of the provider and of the test programs for this
# userland: Debian 12's and Debian unstable's (scripts/vm-run --userland
# 12 or sid) have their own, built by make bookworm or make sid in their
# root filesystems.
case ${SROCE_USERLAND:-13} in
13) SROCE_B=build ;;
12) SROCE_B=build-bookworm ;;
*) SROCE_B=build-$SROCE_USERLAND ;;
esac

# Install the provider into the guest's throwaway root (it is built there
# only if its sources changed since the host built it).
provider_install() {
	make -s -C "$SROCE_REPO/provider" B="$SROCE_B" install >/dev/null
}

# not_applicable <why>: the case cannot run on this guest (a tool or
# source that only Debian 13's root filesystem has).  tests/vm/run
# reports it as NOT APPLICABLE, neither passed nor failed.
not_applicable() {
	echo "NOT APPLICABLE: $*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# install_prog <name>...: /tmp/<name>, the test program
# tests/vm/progs/<name>.c as tests/vm/progs/Makefile builds it.  The host
# builds them (make all, make test) at native speed; here make only checks
# that each is current, and builds it under TCG if its source changed since.
install_prog() {
	local p progs=$SROCE_REPO/tests/vm/progs

	for p in "$@"; do
		make -s -C "$progs" B="$SROCE_B" "$SROCE_B/$p" ||
			fail "tests/vm/progs/$p.c does not build"
		cp "$progs/$SROCE_B/$p" "/tmp/$p" || fail "cannot copy $p to /tmp"
	done
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

# sroce and rdma_rxe both bind UDP port 4791, so one runs at a time.
# use_rxe: rdma_rxe's rxe0 on eth0, sroce unloaded.
use_rxe() {
	if [ -d /sys/module/sroce ]; then
		rmmod sroce || return 1
	fi
	modprobe rdma_rxe || return 1
	rdma_dev_exists rxe0 || rdma link add rxe0 type rxe netdev eth0
}

# Should a case also run on rdma_rxe, whose figures are reported next to
# sroce's (and judged only as pyverbs' parity)?  make test never asks for
# that (SROCE_COMPARE_RXE=0), make check-long does on every kernel, and a
# case run by hand does it.
compare_rxe() {
	[ "${SROCE_COMPARE_RXE:-1}" != 0 ]
}

# use_sroce: the standard state, sroce loaded and sroce0 on eth0, with
# rdma_rxe unloaded (before 6.13 it holds the port from module load on).
use_sroce() {
	if rdma_dev_exists rxe0; then
		rdma link delete rxe0 || return 1
	fi
	if [ -d /sys/module/rdma_rxe ]; then
		rmmod rdma_rxe || return 1
	fi
	sroce_load || return 1
	rdma_dev_exists sroce0 ||
		rdma link add sroce0 type sroce netdev eth0 || return 1
}

# The objects of kind $1 (pd, mr, cq, qp, ...) of device $2, one a line,
# that user processes own ($3 = kernel: those that kernel consumers own,
# such as the MAD layer's QP1 with its CQ and PD, whose owner rdma shows
# as "comm [name]").
res_list() {
	local lines

	lines=$(rdma res show "$1" 2>/dev/null | grep -E "(dev $2 |link $2/)") ||
		return 0
	if [ "${3:-user}" = kernel ]; then
		grep 'comm \[' <<< "$lines" || true
	else
		grep -v 'comm \[' <<< "$lines" || true
	fi
}

# The objects of device $1 that user processes own, as "pd N mr N cq N
# qp N srq N ctx N cm_id N ".
user_objects() {
	local t
	for t in pd mr cq qp srq ctx cm_id; do
		printf '%s %s ' "$t" "$(res_list "$t" "$1" | grep -c .)"
	done
}

# Put the standard state back between test cases.
sroce_reset() {
	use_sroce
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

# The GID index of device $1 (port 1) that is RoCE v2 for address family
# $2: "4" for the IPv4-mapped GID, "6" for a global IPv6 one.
port_counter() {	# port_counter <dev> <name>: a counter of the device's port 1
	rdma statistic show link "$1"/1 |
		awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) v = $(i + 1) }
			END { print v + 0 }'
}

# port_counters <dev>: "name value" lines, every counter of port 1 (rdma
# prints them on one line or on several).
port_counters() {
	rdma statistic show link "$1"/1 |
		tr -s ' \n' '\n\n' | awk 'NR > 2 && /^[a-z_]+$/ { k = $0; next }
					 k != "" && /^[0-9]+$/ { print k, $0; k = "" }'
}

roce_gid_index() {
	local dir=/sys/class/infiniband/$1/ports/1 path i gid type

	for path in "$dir"/gids/*; do
		i=${path##*/}
		gid=$(cat "$path" 2>/dev/null) || continue
		type=$(cat "$dir/gid_attrs/types/$i" 2>/dev/null) || continue
		[ "$type" = "RoCE v2" ] || continue
		case $2:$gid in
		4:0000:0000:0000:0000:0000:ffff:*) echo "$i"; return 0 ;;
		6:fe80:*|6:0000:*) ;;
		6:*) echo "$i"; return 0 ;;
		esac
	done
	return 1
}

# Wait until something listens on TCP port $1.
wait_listen() {
	wait_for "ss -Hltn 'sport = :$1' | grep -q ." "${2:-20}"
}

# Run a server command ($1) in the background and, once it listens on TCP
# port $2, a client command ($3) in the foreground; both must succeed.
# Their output goes to stdout, the server's first.  Each gets $4 seconds
# (default 120).
run_server_client() {
	local server=$1 port=$2 client=$3 limit=${4:-120} spid rc=0 src=0

	timeout "$limit" bash -c "$server" > /tmp/server.out 2>&1 &
	spid=$!
	if ! wait_listen "$port"; then
		kill "$spid" 2>/dev/null
		wait "$spid"
		echo "server did not start listening on port $port:"
		cat /tmp/server.out
		return 1
	fi
	timeout "$limit" bash -c "$client" > /tmp/client.out 2>&1 || rc=$?
	wait "$spid" || src=$?
	echo "--- server ($server): status $src"
	cat /tmp/server.out
	echo "--- client ($client): status $rc"
	cat /tmp/client.out
	[ "$rc" -eq 0 ] && [ "$src" -eq 0 ]
}

# Run perftest tool $2 between two processes on this host over device $1
# (GID index $3); the remaining arguments go to both sides.  Prints the
# tool's result line as "REPORT <dev> <tool> <args>: <figures>".
perftest_local() {
	local dev=$1 tool=$2 gid=$3 port=18515 args

	shift 3
	args="-d $dev -x $gid -F -p $port $*"
	run_server_client "$tool $args" $port "$tool $args 127.0.0.1" \
		> /tmp/perftest.out 2>&1 || {
		cat /tmp/perftest.out
		return 1
	}
	# The figures: the first line of numbers after the client's header.
	awk -v dev="$dev" -v t="$tool" -v a="$*" '
		/^--- client/ { c = 1 }
		c && /^ *[0-9]+ +[0-9]+ / { print "REPORT " dev " " t " " a ": " $0; exit }
	' /tmp/perftest.out | tr -s ' '
}

# In a pair (scripts/vm-run --pair): run "$@" as the server on the VM whose
# role is $1 and as a client of the peer's IPv4 address on the other one.
# The client retries until the server has answered (the tool printed the
# remote address), since the peer's server may not listen yet.  The tool's
# output stays in /tmp/pair.out.  pair_run <serving role> <tool> <args>...
pair_run() {
	local server=$1 try

	shift
	if [ "$SROCE_ROLE" = "$server" ]; then
		timeout 120 "$@" > /tmp/pair.out 2>&1 && return 0
		cat /tmp/pair.out
		return 1
	fi
	for try in $(seq 150); do
		timeout 120 "$@" "$SROCE_PEER_IP4" > /tmp/pair.out 2>&1 && return 0
		grep -q "remote address" /tmp/pair.out && break
		sleep 0.2
	done
	cat /tmp/pair.out
	return 1
}

# fio_verify <file> <MiB> <fio args>...: fio writes <MiB> of <file> (a block
# device, or a file on a mount) with O_DIRECT and reads it back with
# crc32c verification; any I/O or verify error fails the case.
fio_verify() {
	local file=$1 mb=$2

	shift 2
	fio --name=verify --filename="$file" --direct=1 --ioengine=libaio \
		--iodepth=16 --size="${mb}M" --verify=crc32c --verify_fatal=1 \
		--verify_state_save=0 \
		--output-format=terse --terse-version=3 "$@" > /tmp/fio.out \
		2> /tmp/fio.err ||
		{ cat /tmp/fio.out /tmp/fio.err; fail "fio on $file $*"; }
	# terse v3: field 5 is the job's error number
	[ "$(cut -d';' -f5 /tmp/fio.out | head -n 1)" = 0 ] ||
		{ cat /tmp/fio.out; fail "fio on $file $*: an error"; }
}

# fio's figures of the last fio_verify (terse v3: read bandwidth and
# IOPS in fields 7 and 8, write in 48 and 49; KiB/s).
fio_figures() {
	awk -F';' 'NR == 1 { printf "read %d KiB/s %d IOPS, write %d KiB/s %d IOPS", $7, $8, $48, $49 }' /tmp/fio.out
}

# fio_start <file> <MiB> <seconds>: fio writes <MiB> of <file> at random
# in 4 KiB blocks with O_DIRECT and crc32c verification, in the
# background, at a rate that keeps it writing for about <seconds>
# whatever the size, so that a server or a port can go away and come
# back while it runs.  Its terse output goes to /tmp/fio-bg.out.
# fio_wait <what> waits for it and fails on any I/O or verify error.
fio_start() {
	fio --name=background --filename="$1" --direct=1 --ioengine=libaio \
		--iodepth=8 --rw=randwrite --bs=4k --size="$2M" --verify=crc32c \
		--rate_iops=$(($2 * 256 / $3)) \
		--verify_fatal=1 --verify_state_save=0 --output-format=terse \
		--terse-version=3 > /tmp/fio-bg.out 2>&1 &
	FIO_PID=$!
}

fio_wait() {
	local pid=$FIO_PID

	FIO_PID=
	wait "$pid" || { cat /tmp/fio-bg.out; fail "fio across $1"; }
	[ "$(cut -d';' -f5 /tmp/fio-bg.out | head -n 1)" = 0 ] ||
		{ cat /tmp/fio-bg.out; fail "fio across $1: an error"; }
}
