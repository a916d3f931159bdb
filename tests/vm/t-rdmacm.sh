# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The GSI QP and rdma_cm on sroce0.  The kernel's MAD layer creates QP1
# (no "Couldn't create ib_mad QP1" in the kernel log, at boot and when
# sroce0 is created again; QP1 is listed as a GSI QP) and ib_umad offers a
# umad device for sroce0.  Then rdma_cm's connection setup, whose MADs go
# through QP1, with rdmacm-utils over 192.0.2.1 and over 2001:db8::1:
# rping (200 pings of 1500 bytes, the data checked by the client and here
# line by line), ucmatose (4 connections, data), udaddy (UD through SIDR,
# 2 endpoints, data), rdma_server/rdma_client, cmtime (20 connections,
# each step timed, IPv4); every server is seen
# listening on sroce0 (rdma resource show cm_id) and the port's packet
# counters grow by what the run must have sent.  A client of a port
# nobody listens on ends with REJECTED/UNREACHABLE/ECONNREFUSED within 10
# seconds.  Everything runs under timeout: a hang is a failure.
# TEST_DEV=rxe0 runs the same on rdma_rxe, for comparison.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

dev=${TEST_DEV:-sroce0}
type=${dev%%[0-9]*}
tx_ctr=tx_packets
rx_ctr=rx_packets
if [ "$type" = rxe ]; then
	use_rxe || fail "cannot switch to rdma_rxe"
	tx_ctr=sent_pkts
	rx_ctr=rcvd_pkts
fi

ip4=192.0.2.1
ip6=2001:db8::1
status=0

bad() {
	echo "FAIL: $*"
	status=1
}

modprobe -a rdma_ucm ib_umad || fail "cannot load rdma_ucm and ib_umad"

# --- QP1 -------------------------------------------------------------------
mad_errors() {
	grep -E "Couldn't create ib_mad QP1|ib_mad.*(Couldn't|[Ff]ailed)|Couldn't (open|start) port" || true
}
errs=$(dmesg | mad_errors)
[ -z "$errs" ] || bad "the MAD layer failed on a device since boot: $errs"
lines=$(dmesg | wc -l)
rdma link delete "$dev" || fail "rdma link delete $dev"
rdma link add "$dev" type "$type" netdev eth0 || fail "rdma link add $dev"
wait_for 'roce_gid_index "$dev" 4' || fail "$dev has no IPv4 RoCE v2 GID"
wait_for 'roce_gid_index "$dev" 6' || fail "$dev has no IPv6 RoCE v2 GID"
errs=$(dmesg | tail -n +$((lines + 1)) | mad_errors)
[ -z "$errs" ] && echo "ok: no MAD layer error when $dev is created" ||
	bad "creating $dev again: $errs"

rdma resource show qp link "$dev" > /tmp/qp.list 2>&1 || true
if grep -Eq "lqpn 1 .*type GSI" /tmp/qp.list; then
	echo "ok: $dev has a GSI QP 1: $(grep -E 'lqpn 1 ' /tmp/qp.list)"
else
	cat /tmp/qp.list
	bad "rdma resource show qp lists no GSI QP 1 on $dev"
fi

umad=
wait_for 'grep -lx $dev /sys/class/infiniband_mad/umad*/ibdev' ||
	bad "no umad device for $dev in /sys/class/infiniband_mad"
for d in /sys/class/infiniband_mad/umad*; do
	[ "$(cat "$d/ibdev" 2>/dev/null)" = "$dev" ] || continue
	umad=${d##*/}
	[ "$(cat "$d/port")" = 1 ] || bad "$umad is for port $(cat "$d/port")"
	[ -c "/dev/infiniband/$umad" ] || bad "no /dev/infiniband/$umad"
	echo "ok: $umad is $dev's umad (port $(cat "$d/port"))"
done

# --- rdma_cm ---------------------------------------------------------------
counter() {
	port_counter "$dev" "$1"
}

# Does a cm_id on the device listen on port $1?
cm_listening() {
	rdma resource show cm_id 2>/dev/null | grep "state LISTEN" |
		grep "$dev" | grep -Eq "(:|src-port )$1([^0-9]|\$)"
}

# cm_run <what> <port> <least tx packets> <server command> <client command>
# Runs the server in the background, waits until it listens on the device,
# runs the client; both must exit 0 within 120 s, and the device must have
# sent at least the given number of packets meanwhile.  The outputs stay
# in /tmp/cm.server and /tmp/cm.client (stderr in *.err).
cm_run() {
	local what=$1 port=$2 least=$3 server=$4 client=$5
	local spid rc=0 src=0 tx0 tx1 rx0 rx1 start=$SECONDS

	tx0=$(counter $tx_ctr)
	rx0=$(counter $rx_ctr)
	# stderr apart: written at once, it would land amid stdout's lines
	timeout 120 bash -c "$server" > /tmp/cm.server 2> /tmp/cm.server.err &
	spid=$!
	if ! wait_for "cm_listening $port" 30; then
		rdma resource show cm_id
		kill "$spid" 2>/dev/null || true
		wait "$spid" || true
		cat /tmp/cm.server /tmp/cm.server.err
		bad "$what: the server ($server) does not listen on $dev port $port"
		return 0
	fi
	timeout 120 bash -c "$client" > /tmp/cm.client 2> /tmp/cm.client.err ||
		rc=$?
	wait "$spid" || src=$?
	tx1=$(counter $tx_ctr)
	rx1=$(counter $rx_ctr)
	if [ "$rc" -ne 0 ] || [ "$src" -ne 0 ]; then
		echo "--- server ($server): status $src"
		cat /tmp/cm.server /tmp/cm.server.err
		echo "--- client ($client): status $rc"
		cat /tmp/cm.client /tmp/cm.client.err
		bad "$what: server status $src, client status $rc (124: timeout)"
		return 0
	fi
	if [ $((tx1 - tx0)) -lt "$least" ] || [ $((rx1 - rx0)) -lt "$least" ]; then
		bad "$what: $dev sent $((tx1 - tx0)) and received $((rx1 - rx0)) packets, expected at least $least"
		return 0
	fi
	# what stderr said, but for rping's words on an ordinary disconnect
	cat /tmp/cm.server.err /tmp/cm.client.err |
		grep -vE "^(server|client) DISCONNECT EVENT\.\.\.$|^wait for RDMA_READ_ADV state 10$" |
		sed "s|^|REPORT $what: stderr: |"
	echo "ok: $what ($((SECONDS - start)) s, $dev tx +$((tx1 - tx0)) rx +$((rx1 - rx0)) packets)"
}

# The lines rping -v prints for pings 0..$1-1 of $2 bytes, prefixed $3.
rping_expected() {
	awk -v n="$1" -v size="$2" -v p="$3" 'BEGIN {
		for (i = 0; i < n; i++) {
			s = "rdma-ping-" i ": "
			c = 65 + i % 58
			while (length(s) < size - 1) {
				s = s sprintf("%c", c)
				if (++c > 122)
					c = 65
			}
			print p s
		}
	}'
}

# The first lines that differ, expected and seen, cut to 160 characters.
rping_diff() {
	diff /tmp/rping.want /tmp/rping.got | grep -m3 '^<' | cut -c1-160 || true
	diff /tmp/rping.want /tmp/rping.got | grep -m3 '^>' | cut -c1-160 || true
}

rping_run() {
	local addr=$1 port=$2

	# 1500 bytes: two packets per READ and WRITE at MTU 1024
	cm_run "rping $addr" "$port" 800 \
		"rping -s -v -V -C 200 -S 1500 -a $addr -p $port" \
		"rping -c -v -V -C 200 -S 1500 -a $addr -p $port" || return 0
	rping_expected 200 1500 "ping data: " > /tmp/rping.want
	grep "^ping data: " /tmp/cm.client > /tmp/rping.got || true
	if cmp -s /tmp/rping.want /tmp/rping.got; then
		echo "ok: rping $addr: the client's 200 pings are as sent"
	else
		rping_diff
		bad "rping $addr: the client's ping data differ ($(wc -l < /tmp/rping.got) lines)"
	fi
	rping_expected 200 1500 "server ping data: " > /tmp/rping.want
	grep "^server ping data: " /tmp/cm.server > /tmp/rping.got || true
	if cmp -s /tmp/rping.want /tmp/rping.got; then
		echo "ok: rping $addr: the server read the 200 pings as sent"
	else
		rping_diff
		bad "rping $addr: the server's ping data differ ($(wc -l < /tmp/rping.got) lines)"
	fi
}

ucmatose_run() {
	local addr=$1 port=$2

	# 4 connections x 20 messages each way
	cm_run "ucmatose $addr" "$port" 160 \
		"ucmatose -b $addr -p $port -c 4 -C 20 -S 1000" \
		"ucmatose -s $addr -p $port -c 4 -C 20 -S 1000" || return 0
	grep -q "data transfers complete" /tmp/cm.client &&
		grep -q "data transfers complete" /tmp/cm.server ||
		bad "ucmatose $addr: no 'data transfers complete'"
}

udaddy_run() {
	local addr=$1

	# udaddy's port is always 7174; 2 endpoints x 10 datagrams each way
	cm_run "udaddy $addr" 7174 40 \
		"udaddy -b $addr -c 2 -C 10 -S 1000" \
		"udaddy -s $addr -c 2 -C 10 -S 1000" || return 0
	grep -q "data transfers complete" /tmp/cm.client &&
		grep -q "data transfers complete" /tmp/cm.server ||
		bad "udaddy $addr: no 'data transfers complete'"
}

rdma_server_run() {
	local addr=$1 port=$2

	cm_run "rdma_server/rdma_client $addr" "$port" 2 \
		"rdma_server -s $addr -p $port" \
		"rdma_client -s $addr -p $port" || return 0
	grep -q "rdma_client: end 0" /tmp/cm.client &&
		grep -q "rdma_server: end 0" /tmp/cm.server ||
		bad "rdma_server/rdma_client $addr: no 'end 0'"
}

# A client of port nobody listens on must fail, quickly and saying why.
refused() {
	local what=$1 cmd=$2 start=$SECONDS rc=0 took

	timeout 30 bash -c "$cmd" > /tmp/cm.refused 2>&1 || rc=$?
	took=$((SECONDS - start))
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$took" -gt 10 ] ||
		! grep -Eq "REJECTED|UNREACHABLE|Connection refused" /tmp/cm.refused; then
		cat /tmp/cm.refused
		bad "$what: status $rc after $took s, expected a rejection within 10 s"
	else
		echo "ok: $what: refused in $took s: $(grep -Eo 'RDMA_CM_EVENT_[A-Z]+.*|rdma_connect: .*' /tmp/cm.refused | head -1)"
	fi
}

for addr in $ip4 $ip6; do
	rping_run "$addr" 7174
	ucmatose_run "$addr" 7471
	udaddy_run "$addr"
	rdma_server_run "$addr" 7472
done
for addr in $ip4 $ip6; do
	refused "rping to $addr port 7999" "rping -c -v -C 1 -a $addr -p 7999"
	refused "rdma_client to $addr port 7999" "rdma_client -s $addr -p 7999"
	refused "ucmatose to $addr port 7999" "ucmatose -s $addr -p 7999 -c 1 -C 1"
	refused "udaddy to $addr (port 7174)" "udaddy -s $addr -c 1 -C 1"
done
# cmtime (IPv4 only: its out-of-band socket is AF_INET): 20 connections
# with QPs, each step timed.  Its second phase
# (connections without QPs, to fake QP numbers) is rejected on rdma_rxe
# alike and fails the tool, so its status says nothing: the first
# phase's table must be there, with every connection made.
#
# rdma-core 65's cmtime is a mesh of peers that meet on the out-of-band
# port of a controller (-C), the first one there its root: the server (-L)
# starts first and is the root.  Before 65, the client named the server
# (-s).  From rdma-core 47 or so the server also opens a TCP socket on
# the same port, through which its client steps the test; 44's (Debian
# 12) has none.  So the server is ready once it listens on the device or
# on TCP, and then, where a socket comes within 5 s, on both.
cmtime_run() {
	local addr=$1 us server client spid

	server="cmtime -b $addr -p 7473 -c 20"
	client="cmtime -s $addr -p 7473 -c 20"
	if cmtime -h 2>&1 | grep -q controller_address; then
		server="cmtime -b $addr -C $addr -p 7473 -c 20 -L"
		client="cmtime -b $addr -C $addr -p 7473 -c 20"
	fi
	timeout 60 $server > /tmp/cmtime.server 2>&1 &
	spid=$!
	wait_for "cm_listening 7473 || ss -Hltn 'sport = :7473' | grep -q ." 30 ||
		true
	wait_listen 7473 5 || true
	timeout 60 $client > /tmp/cmtime.client 2>&1 || true
	wait "$spid" || true
	{
		echo "--- server ($server)"
		cat /tmp/cmtime.server
		echo "--- client ($client)"
		cat /tmp/cmtime.client
	} > /tmp/cmtime.out
	# us per connection: the "full connect" row's avg/conn; 44's table
	# has none, and its "connect" row ends with us / conn.
	us=$(awk '/^--- client/ { c = 1 }
		  c && /^full connect/ { print $3; exit }
		  c && /^connect +:/ { printf "%d\n", $NF; exit }' /tmp/cmtime.out)
	# the QP phase: its table, and no error on either side before the
	# second phase begins
	if [ -n "$us" ] && [ "$us" -gt 0 ] &&
		! sed '/test - no QPs/,/^--- /d' /tmp/cmtime.out |
			grep -Eiq 'error|unhandled'; then
		echo "ok: cmtime to $addr: 20 connections, $us us per full connect"
		echo "REPORT rdmacm: cmtime $addr: $us us per full connect"
	else
		cat /tmp/cmtime.out
		bad "cmtime to $addr: no table of 20 connections"
	fi
}
cmtime_run "$ip4"

# and a server still works after all that
rping_run "$ip4" 7175
echo "REPORT rdmacm: $dev tx_packets $(counter $tx_ctr), rx_packets $(counter $rx_ctr)"
exit $status
