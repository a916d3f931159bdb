# Memory registration through the umem layer: accounting, overlapping and
# repeated registrations, iova, read-only, huge and shared memory, errnos;
# RLIMIT_MEMLOCK for an unprivileged user; MRs of an exiting process are
# released; the same page in many MRs of many processes; fork() leaves the
# parent on the pages its MR pinned; read-only registrations see the
# writes that follow them (copy-on-write of the zero page and of a file's
# page in a private mapping).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog mr_test ro_pin
echo 8 > /proc/sys/vm/nr_hugepages
/tmp/mr_test sroce0 all

# Unprivileged, with 64 KiB of lockable memory.
chmod 0666 /dev/infiniband/uverbs*
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	bash -c 'ulimit -l 64 && exec /tmp/mr_test sroce0 memlock'

# A process killed with MRs registered leaves nothing behind: its MRs
# (restrack), PDs and pinned pages all go.
/tmp/mr_test sroce0 hold 32 > /tmp/hold.out &
holder=$!
wait_for 'grep -q held /tmp/hold.out' 20 || fail "holder did not start"
[ "$(res_list mr sroce0 | wc -l)" -eq 32 ] || fail "32 MRs not listed"
grep -q "VmPin:.*128 kB" "/proc/$holder/status" || fail "holder's VmPin"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
wait_for '[ -z "$(res_list mr sroce0)" ]' 10 || fail "MRs left after kill"
[ -z "$(res_list pd sroce0)" ] || fail "PDs left after kill"

# The same page in many MRs of many processes: 8 processes register the
# one page of a /dev/shm file 16 times each, at offsets 0 to 15 (the seed
# trace's pattern and more).  All 128 MRs are listed and pin a page each;
# the processes end by SIGKILL and SIGTERM, and everything goes.
pins() {
	port_counter sroce0 pinned_pages
}
rm -f /dev/shm/sroce-shared-page
holders=()
for i in $(seq 8); do
	/tmp/mr_test sroce0 hold-shared 16 > "/tmp/shared.$i" &
	holders+=($!)
done
for i in $(seq 8); do
	wait_for "grep -qE 'held|FAILED' /tmp/shared.$i" 20 || fail "holder $i did not start"
	grep -q held "/tmp/shared.$i" || { cat "/tmp/shared.$i"; fail "holder $i"; }
done
[ "$(res_list mr sroce0 | wc -l)" -eq 128 ] || fail "128 MRs of one page not listed"
[ "$(pins)" -eq 128 ] || fail "pinned_pages $(pins) with 128 MRs of one page"
kill -9 "${holders[@]:0:4}"
kill -TERM "${holders[@]:4}"
wait "${holders[@]}" 2>/dev/null || true
wait_for '[ -z "$(res_list mr sroce0)" ]' 10 || fail "MRs left after the holders"
[ "$(pins)" -eq 0 ] || fail "pinned_pages $(pins) after the holders"
rm -f /dev/shm/sroce-shared-page

# fork() after registration, without and with ibv_fork_init().
/tmp/mr_test sroce0 fork
/tmp/mr_test sroce0 fork-init

# Registered read-only first, written after: the MR sees the writes.
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
/tmp/ro_pin sroce0 "$gid"
