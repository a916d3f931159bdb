# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Objects destroyed after their context is closed (progs/close_order.c):
# PD, MR, CQ, extended CQ, RC QPs in RTS after a SEND, a UD QP and an AH
# destroyed after ibv_close_device, in seven orders (QP before CQ, CQ
# before QP with EBUSY and a retry, MR after PD, a random one, ...), 70
# iterations (10 per order): every destroy succeeds or is EBUSY while a child lives; a
# process that closes the device and exits with all of them alive; then
# pyverbs objects in reference cycles finalized by Python's cyclic GC in
# whatever order it picks (progs/gc_order.py): no crash, no error but
# pyverbs' own EBUSY.  Freed memory is poisoned (glibc's perturb tunable,
# with its tcache off), so that a use of a freed context crashes.
# Afterwards no PD, MR, CQ or QP of a user is left on sroce0.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

progs=$SROCE_REPO/tests/vm/progs
install_prog close_order
gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
export GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.perturb=165
# Iterations: 10 per order in C (the orders take turns), and of pyverbs'
# cycles; each costs a device open, under TCG a large part of a second.
c_iters=70
py_iters=80

# What went wrong, all of it: every part runs, the verdict comes last.
bad=

# Nothing of a user left on sroce0 within 10 s.
nothing_left() {	# nothing_left <label>
	local end=$((SECONDS + 10)) want="pd 0 mr 0 cq 0 qp 0 srq 0 ctx 0 cm_id 0 "

	until [ "$(user_objects sroce0)" = "$want" ]; do
		if [ $SECONDS -ge $end ]; then
			echo "FAIL: $1: sroce0 still has $(user_objects sroce0)"
			bad="$bad; $1: objects left"
			return 0
		fi
		sleep 1
	done
	echo "ok: $1: nothing of a user left on sroce0"
}

# How a program ended, for the report: "status N" or "signal NAME".
ended() {
	if [ "$1" -gt 128 ]; then
		echo "signal $(kill -l $(($1 - 128)))"
	else
		echo "status $1"
	fi
}

rc=0
timeout 600 /tmp/close_order sroce0 "$gid" $c_iters > /tmp/close_order.out 2>&1 ||
	rc=$?
cat /tmp/close_order.out
c_end=$(ended $rc)
c_fails=$(grep -c '^FAIL' /tmp/close_order.out || true)
[ $rc -eq 0 ] || bad="$bad; close_order: $c_end, $c_fails failures"
nothing_left "after $c_iters iterations of destroys after the close"

rc=0
timeout 60 /tmp/close_order sroce0 "$gid" exit > /tmp/close_order.exit 2>&1 ||
	rc=$?
cat /tmp/close_order.exit
x_end=$(ended $rc)
[ $rc -eq 0 ] || bad="$bad; close_order exit: $x_end"
nothing_left "after a process exited with its objects alive after the close"

rc=0
timeout 900 python3 "$progs/gc_order.py" sroce0 "$gid" $py_iters > /tmp/gc_order.out 2>&1 ||
	rc=$?
cat /tmp/gc_order.out
py_end=$(ended $rc)
py_errors=$(sed -n 's/^child: .*finalizer errors: //p' /tmp/gc_order.out)
[ $rc -eq 0 ] || bad="$bad; gc_order: $py_end, $(grep '^FAIL' /tmp/gc_order.out | tr '\n' ' ')"
nothing_left "after the pyverbs GC run"

echo "REPORT close_order: $c_iters iterations in 7 orders, $c_end, $c_fails failures; exit with all alive after the close: $x_end; gc_order: $py_iters iterations, $py_end, finalizer errors: ${py_errors:-unknown}"
[ -z "$bad" ] || fail "${bad#; }"
