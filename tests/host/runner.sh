#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Host-side checks of the tooling itself: provisioning notices a stale
# cache, make provisions before it builds, the VM runner propagates exit
# statuses, offers what guest commands rely on and fails runs whose guest
# kernel log is dirty, and make demo shows the device and ends cleanly.
# One PASS/FAIL line per check.
set -u
cd "$(dirname "$0")/../.."
kernel=${1:-7.3}

verdict() {	# verdict <0|1> <what>
	if [ "$1" -eq 0 ]; then echo "PASS runner: $2"; else echo "FAIL runner: $2"; fi
}

# A cache whose stamp does not match the recipe is stale.
fake=$(mktemp -d)
mkdir -p "$fake/rootfs/usr"
echo stale > "$fake/rootfs.stamp"
SROCE_CACHE=$fake scripts/provision --check 2>/dev/null
[ $? -ne 0 ]; verdict $? "provision --check reports a stale cache"
cat scripts/provision scripts/rootfs-packages.txt | sha256sum | cut -d' ' -f1 > "$fake/rootfs.stamp"
SROCE_CACHE=$fake scripts/provision --check 2>/dev/null
[ $? -eq 0 ]
verdict $? "provision --check accepts a current cache"
rm -rf "$fake"

# On a fresh machine every target that builds or boots provisions first,
# rather than failing on a kernel that is not in the cache yet.  With an
# empty cache and a mirror that does not exist, provisioning gets as far as
# debootstrap, which fails at once: seconds, not a whole provisioning.
for target in modules provider all deb demo; do
	empty=$(mktemp -d)
	out=$(SROCE_CACHE=$empty SROCE_MIRROR=file:///nonexistent \
		make --no-print-directory "$target" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && grep -q "^provision: building the Debian 13 root filesystem" <<<"$out" &&
		[ -f "$empty/debootstrap.log" ] && [ ! -e "$empty/rootfs" ] &&
		! grep -q "is not in" <<<"$out"
	ok=$?
	[ $ok -eq 0 ] || tail -n 20 <<<"$out"
	verdict $ok "make $target on an empty cache starts by provisioning (got $rc)"
	rm -rf "$empty"
done

# What a guest command can count on, then a status that must come back.
out=$(scripts/vm-run --kernel "$kernel" -- '
	set -e
	echo probe > "$SROCE_REPO/.vm-write-probe"
	echo x > /dev/shm/x && echo y > /tmp/y
	printf "#include <infiniband/verbs.h>\nint main(void){return 0;}\n" > /tmp/t.c
	gcc -o /tmp/t /tmp/t.c -libverbs
	test -f /usr/src/rdma-core-*/libibverbs/driver.h
	test "$(cat /sys/class/net/eth0/operstate)" = up
	ip -6 addr show dev eth0 | grep -q 2001:db8::1
	exit 7' 2>&1)
rc=$?
[ $rc -eq 7 ] && [ -f .vm-write-probe ] || tail -n 40 <<<"$out"
[ $rc -eq 7 ]; verdict $? "a guest command's exit status comes back (got $rc)"
[ -f .vm-write-probe ]; verdict $? "the guest writes to the repository"
rm -f .vm-write-probe

out=$(scripts/vm-run --kernel "$kernel" -- 'echo "WARNING: planted by the runner test" > /dev/kmsg' 2>&1)
rc=$?
[ $rc -eq 99 ] && grep -q "planted by the runner test" <<<"$out"
ok=$?
[ $ok -eq 0 ] || tail -n 40 <<<"$out"
verdict $ok "a WARNING in the guest kernel log fails the run (got $rc)"

out=$(KERNEL=$kernel scripts/demo 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "hca_id:.*sroce0" <<<"$out" && grep -q "PORT_ACTIVE" <<<"$out" &&
	grep -q "1000 iters in" <<<"$out" && grep -q "BW average" <<<"$out" &&
	grep -q "^demo: done" <<<"$out" && ! grep -q "Input/output error" <<<"$out"
ok=$?
[ $ok -eq 0 ] || tail -n 30 <<<"$out"
verdict $ok "make demo shows sroce0, runs ibv_rc_pingpong and ib_write_bw between two VMs and ends cleanly"

# Two VMs on one segment: a with sroce0, b with rdma_rxe (--peer-rxe); each
# reaches the other over IPv4 and IPv6 and sees its own device.
out=$(scripts/vm-run --kernel "$kernel" --pair --peer-rxe -- '
	set -e
	ping -c 1 -w 120 "$SROCE_PEER_IP4" > /dev/null
	ibv_devinfo -d "$SROCE_DEV" | grep -q PORT_ACTIVE
	echo "role $SROCE_ROLE dev $SROCE_DEV"
	timeout 120 busybox nc -l -p 5000 > /dev/null	# until b is done' -- '
	set -e
	ping -c 1 -w 120 "$SROCE_PEER_IP6" > /dev/null
	ibv_devinfo -d "$SROCE_DEV" | grep -q PORT_ACTIVE
	echo "role $SROCE_ROLE dev $SROCE_DEV"
	for _ in $(seq 60); do
		echo done | busybox nc "$SROCE_PEER_IP4" 5000 && break
		sleep 1
	done' 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "^\[a\] role a dev sroce0" <<<"$out" &&
	grep -q "^\[b\] role b dev rxe0" <<<"$out"
ok=$?
[ $ok -eq 0 ] || tail -n 40 <<<"$out"
verdict $ok "--pair --peer-rxe: sroce0 and rxe0 VMs reach each other (got $rc)"
