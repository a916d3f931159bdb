# MR lifecycle (tests/vm/progs/lifecycle.c): deregistration while a WRITE
# or READ is in flight, on either side, ends with a success or the right
# error; a peer's access with a deregistered MR's rkey is a remote access
# error; a process killed while its QPs move data leaves nothing behind.
# Afterwards the device's objects (rdma res) and the pages its MRs pin
# (the pinned_pages counter of rdma statistic) are back to zero; the
# system's FOLL_PIN balance (/proc/vmstat) is reported alongside.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog lifecycle
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"

# Pages pinned with FOLL_PIN right now, system-wide, by anybody.
system_pins() {
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 } END { print a - r }' /proc/vmstat
}
# Pages that sroce0's MRs pin now.
device_pins() {
	port_counter sroce0 pinned_pages
}
# The device's object counts that user processes own: "pd N cq N ...".
objects() {
	user_objects sroce0
}
zero_objects() {
	! objects | grep -qE '[a-z_]+ [1-9]'
}
zero_objects || fail "objects before the test: $(objects)"
[ "$(device_pins)" = 0 ] || fail "pinned_pages before the test: $(device_pins)"
system_before=$(system_pins)

timeout 300 /tmp/lifecycle sroce0 "$gid" checks | tee /tmp/lifecycle.out
grep -q "^lifecycle: 0 failures" /tmp/lifecycle.out || fail "lifecycle checks"
echo "after the checks: $(objects); pinned_pages $(device_pins)"
zero_objects || fail "objects left after the checks: $(objects)"
[ "$(device_pins)" = 0 ] || fail "pinned_pages after the checks: $(device_pins)"

/tmp/lifecycle sroce0 "$gid" flood > /tmp/flood.out &
flooder=$!
wait_for 'grep -q flooding /tmp/flood.out' 20 || fail "flood did not start"
sleep 2
during=$(device_pins)
echo "while flooding: $(objects); pinned_pages $during"
[ "$during" -eq 4096 ] || {
	# The flooder's own words, and the port's counters, say why.
	cat /tmp/flood.out
	rdma statistic show link sroce0/1
	fail "pinned_pages $during while two 8 MiB MRs are registered"
}
kill -9 "$flooder"
wait "$flooder" 2>/dev/null || true
! grep FAIL /tmp/flood.out || fail "flood saw an error before it was killed"

wait_for zero_objects 20 || fail "objects left after the kill: $(objects)"
wait_for '[ "$(device_pins)" = 0 ]' 20 ||
	fail "pinned_pages $(device_pins) after the kill"
echo "REPORT lifecycle: $(grep -c '^ok:' /tmp/lifecycle.out) ok; killed while flooding with pinned_pages $during, then: $(objects), pinned_pages $(device_pins); system FOLL_PIN balance $(( $(system_pins) - system_before ))"
