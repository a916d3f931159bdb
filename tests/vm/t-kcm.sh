# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A kernel rdma_cm consumer on sroce0 (tests/kmod/sroce_kcm_test.c), over
# 192.0.2.1 and over 2001:db8::1: listen, resolve address and route,
# connect and accept with private data checked both ways, RDMA WRITEs and
# SENDs checked by the server and answered, RDMA READs checked by the
# client, disconnect, drain and teardown; a rejection with private data;
# a connection to a port nobody listens on ends in REJECTED.  Each load
# must return 0 with its 7 "ok:" lines and no "FAIL:" line, and sroce0's
# packet counters must have grown by the data moved.  While a connection
# is held open, rdma res lists the test's cm_ids, QPs, CQs and PDs; after
# each load none of them is left (the MAD layer's QP1, CQ and PD stay).
# A load told to expect another device must fail with EIO and leave
# nothing either.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

dev=sroce0
mod=sroce_kcm_test
ko=$SROCE_REPO/tests/kmod/build/$SROCE_KVER/$mod.ko
[ -f "$ko" ] || fail "$ko is not built (make -C tests/kmod KVER=$SROCE_KVER)"
# insmod resolves no dependencies (rdma_cm, and the ib_cm it needs)
IFS=, read -ra deps <<< "$(modinfo -F depends "$ko")"
modprobe -a "${deps[@]}" || fail "cannot load what $mod needs: ${deps[*]}"
wait_for "roce_gid_index $dev 4" || fail "$dev has no IPv4 RoCE v2 GID"
wait_for "roce_gid_index $dev 6" || fail "$dev has no IPv6 RoCE v2 GID"

status=0
bad() {
	echo "FAIL: $*"
	status=1
}

# "<tx_packets> <rx_packets> <tx_retransmits>" of $dev
packets() {
	rdma statistic show link "$dev"/1 |
		awk '{ for (i = 1; i < NF; i++) c[$i] = $(i + 1) }
		     END { print c["tx_packets"] + 0, c["rx_packets"] + 0,
			   c["tx_retransmits"] + 0 }'
}

kinds=(cm_id qp cq pd)
params=/sys/module/$mod/parameters

# res_dump <file>: rdma res's cm_ids, QPs, CQs and PDs of $dev into
# <file>, one a line, each prefixed with its kind.  One rdma process and
# bash's own tests, since every process started costs under TCG.
res_dump() {
	local line k

	printf 'res show %s\n' "${kinds[@]}" | rdma -b - > "$1.raw" 2>&1 || true
	while IFS= read -r line; do
		[[ $line =~ (dev $dev |link $dev/) ]] || continue
		case $line in
		*" cm-idn "*) k=cm_id ;;
		*" lqpn "*) k=qp ;;
		*" cqn "*) k=cq ;;
		*" pdn "*) k=pd ;;
		*) continue ;;
		esac
		echo "$k: $line"
	done < "$1.raw" > "$1"
}

# res_count <file> <kind> [<regex>]: the objects of <kind> in a dump; with
# <regex>, those that match it.
res_count() {
	local line n=0

	while IFS= read -r line; do
		[[ $line == "$2: "* && $line =~ ${3:-.} ]] && n=$((n + 1))
	done < "$1"
	echo "$n"
}

# The test's objects: cm_ids, CQs and PDs carry the module's name, QPs made
# by rdma_create_qp rdma_cm's (the MAD layer's are ib_core's).
ours="comm \\[($mod|rdma_cm)\\]"

res_dump /tmp/kcm.base
echo "before: on $dev: $(for k in "${kinds[@]}"; do printf '%s %s ' "$k" "$(res_count /tmp/kcm.base "$k")"; done)"
# (and the dump works: it shows the MAD layer's QP1)
[ "$(res_count /tmp/kcm.base qp "lqpn 1 .*type GSI")" -eq 1 ] ||
	bad "rdma res lists no GSI QP 1 on $dev: $(cat /tmp/kcm.base.raw)"
for k in "${kinds[@]}"; do
	[ "$(res_count /tmp/kcm.base "$k" "$ours")" -eq 0 ] ||
		bad "${k}s of $mod on $dev before it was loaded"
done

# Nothing of the test left on $dev, and no more objects than before.
no_leftovers() {
	local what=$1 k n

	res_dump /tmp/kcm.after
	for k in "${kinds[@]}"; do
		n=$(res_count /tmp/kcm.after "$k")
		if [ "$(res_count /tmp/kcm.after "$k" "$ours")" -ne 0 ] ||
			[ "$n" -ne "$(res_count /tmp/kcm.base "$k")" ]; then
			grep "^$k: " /tmp/kcm.after || true
			bad "$what: $n ${k}s on $dev, $(res_count /tmp/kcm.base "$k") before"
		fi
	done
}

# kcm_load <name> <args>...: load the module with <args>, remove it; its
# status goes to /tmp/kcm.<name>.rc, what insmod said to /tmp/kcm.<name>.err
# and the module's log lines to /tmp/kcm.<name>.
# With hold_ms, rdma res is read while the connection is held open, into
# /tmp/kcm.<name>.res, and then the hold is ended.
kcm_load() {
	local name=$1 seen pid rc=0

	shift
	seen=$(dmesg | wc -l)
	rm -f "/tmp/kcm.$name.res"
	timeout 300 insmod "$ko" "$@" 2> "/tmp/kcm.$name.err" &
	pid=$!
	case "$*" in
	*hold_ms=*)
		# the module holds the connection once the data went
		if wait_for "grep -qx Y $params/held" 60; then
			res_dump "/tmp/kcm.$name.res"
		fi
		echo 0 > "$params/hold_ms" 2>/dev/null || true
		;;
	esac
	wait "$pid" || rc=$?
	if [ -d "/sys/module/$mod" ]; then
		rmmod "$mod" || bad "$name: rmmod $mod"
	fi
	echo "$rc" > "/tmp/kcm.$name.rc"
	dmesg | tail -n +$((seen + 1)) | grep -o "$mod: .*" > "/tmp/kcm.$name" || true
}

# kcm_run <family> <address>: the whole test over one address.
kcm_run() {
	local fam=$1 addr=$2 start=$SECONDS tx0 rx0 re0 tx rx re rc k n want

	read -r tx0 rx0 re0 < <(packets)
	kcm_load "$fam" addr="$addr" port=7300 dev="$dev" hold_ms=60000
	read -r tx rx re < <(packets)
	tx=$((tx - tx0))
	rx=$((rx - rx0))
	re=$((re - re0))
	rc=$(cat "/tmp/kcm.$fam.rc")
	sed "s/^/$fam: /" "/tmp/kcm.$fam" "/tmp/kcm.$fam.err"
	[ "$rc" -eq 0 ] || bad "$fam: insmod $mod addr=$addr: status $rc"
	n=$(grep -c ": ok: $fam: " "/tmp/kcm.$fam") || true
	[ "$n" -eq 7 ] || bad "$fam: $n ok lines of 7"
	! grep -q "FAIL" "/tmp/kcm.$fam" || bad "$fam: the module failed checks"
	grep -q ": $fam .* on $dev: 0 failures$" "/tmp/kcm.$fam" ||
		bad "$fam: no '0 failures' line"
	# 136 KiB written, 67 KiB read, in packets of at most 1 KiB
	if [ "$tx" -lt 200 ] || [ "$rx" -lt 200 ]; then
		bad "$fam: $dev sent $tx and received $rx packets, expected 200 or more"
	fi

	# While connected: the listener, both ends, two QPs, two CQs, two PDs.
	if [ -f "/tmp/kcm.$fam.res" ]; then
		grep -E "$ours" "/tmp/kcm.$fam.res" | sed "s/^/$fam: connected: /"
		for want in "cm_id 3" "qp 2" "cq 2" "pd 2"; do
			k=${want% *}
			n=$(res_count "/tmp/kcm.$fam.res" "$k" "$ours")
			[ "$n" -eq "${want#* }" ] ||
				bad "$fam: while connected, rdma res lists $n ${k}s of the test, not ${want#* }"
		done
		n=$(res_count "/tmp/kcm.$fam.res" cm_id "state CONNECT .*$ours")
		[ "$n" -eq 2 ] || bad "$fam: while connected, $n cm_ids of the test are connected, not 2"
	else
		bad "$fam: the module never said it held the connection"
	fi
	no_leftovers "$fam"
	echo "REPORT kcm $fam: connected in $(sed -n 's/.* connected to .* in \([0-9]*\) ms.*/\1/p' "/tmp/kcm.$fam") ms, refused in $(sed -n 's/.*nobody listens.* in \([0-9]*\) ms.*/\1/p' "/tmp/kcm.$fam") ms; $((SECONDS - start)) s with the checks; $dev tx +$tx rx +$rx packets, $re retransmitted"
}

kcm_run IPv4 192.0.2.1
kcm_run IPv6 2001:db8::1

# A load that expects another device fails, says so, and leaves nothing.
kcm_load wrongdev addr=192.0.2.1 port=7300 dev=nosuchdev
sed "s/^/wrong device: /" /tmp/kcm.wrongdev /tmp/kcm.wrongdev.err
rc=$(cat /tmp/kcm.wrongdev.rc)
if [ "$rc" -ne 0 ] && grep -q "Input/output error" /tmp/kcm.wrongdev.err &&
	grep -q "FAIL: .*not on RoCE device nosuchdev" /tmp/kcm.wrongdev &&
	grep -q ": [1-9][0-9]* failures$" /tmp/kcm.wrongdev &&
	! grep -q ": ok: " /tmp/kcm.wrongdev; then
	echo "ok: a load told to expect another device fails with EIO"
else
	bad "a load told to expect another device: status $rc"
fi
no_leftovers "wrong device"

exit $status
