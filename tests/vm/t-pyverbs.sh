# rdma-core's own pyverbs tests for what sroce implements, on sroce0 and,
# for comparison, on rxe0 in the same VM.  The modules in $must may have no
# failures or errors on sroce0 (skips are tests of features sroce does not
# offer yet); the rest are reported only.  Prints a REPORT line per module
# with both devices' counts.  SROCE_COMPARE_RXE=0 leaves rxe0 out (make
# test compares on its last kernel only: rxe's counts are a report, and
# its half of the run is the longer one).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"
src=$(ls -d /usr/src/rdma-core-*/tests/.. | head -n1)

# run_all <dev>: every module of $modules on one device in one interpreter;
# leaves the output in /tmp/pyverbs.<dev> and, in counts[<dev>:<module>],
# "ran ok skip fail error".  A module without its pyverbs-module line
# never finished (the interpreter crashed in it or before it): an error.
declare -A counts
run_all() {
	local out=/tmp/pyverbs.$1 module ran skip fail err ok

	# progs/pyverbs_run.py says why it, not tests/run_tests.py.
	(cd "$src" && timeout 600 python3 "$SROCE_REPO/tests/vm/progs/pyverbs_run.py" \
		"$src" --dev "$1" $modules > "$out" 2>&1) || true
	for module in $modules; do
		read -r ran skip fail err < <(sed -n "s/^pyverbs-module $module //p" "$out") ||
			true
		if [ -z "${ran:-}" ]; then
			ran=0 skip=0 fail=0 err=1
			echo "--- $1 $module did not finish; the run's end:"
			tail -n 20 "$out"
		fi
		ok=$((ran - fail - err - skip))
		[ "$ok" -ge 0 ] || ok=0
		counts[$1:$module]="$ran $ok $skip $fail $err"
		ran=
	done
}

# UD QPs and their AHs are in test_qp, test_qpex, test_cq_events,
# test_addr and test_relaxed_ordering; test_rdmacm connects RC and UDP
# port space QPs through the CM's MADs on QP1 and sends to multicast
# groups that it joins and leaves.  test_cqex runs RC and UD traffic
# through extended CQs (its XRC test skips: sroce has no XRC).  test_srq
# runs RC traffic from two QPs into one SRQ and its limit event (its
# resize test skips: sroce does not resize SRQs).
# PYVERBS_MODULES runs only those (by hand: make test runs all).
modules="test_device test_pd test_mr test_fork test_cq test_cqex test_cq_events test_qp test_qpex test_atomic test_odp test_addr test_relaxed_ordering test_rdmacm test_srq"
# Modules that must pass on sroce0 (today all of them); a module in
# $modules alone would be reported only.
modules=${PYVERBS_MODULES:-$modules}
must="test_device test_pd test_mr test_fork test_cq test_cqex test_cq_events test_qp test_qpex test_atomic test_odp test_addr test_relaxed_ordering test_rdmacm test_srq"

declare -A result
status=0
run_all sroce0
for module in $modules; do
	read -r ran ok skip fail err <<<"${counts[sroce0:$module]}"
	result[$module]="$ok ok, $skip skipped, $fail failed, $err errors (of $ran)"
	if [[ " $must " == *" $module "* ]]; then
		[ "$ran" -gt 0 ] && [ "$fail" -eq 0 ] && [ "$err" -eq 0 ] || status=1
	fi
done
# A failing module's tests and tracebacks.
[ $status -eq 0 ] || grep -E -A 30 '^(FAIL|ERROR): ' /tmp/pyverbs.sroce0 || true
# rdma_rxe in the same VM, for comparison (it cannot run next to sroce).
if ! compare_rxe; then
	for module in $modules; do
		echo "REPORT pyverbs $module: sroce0 ${result[$module]}"
	done
	exit $status
fi
use_rxe || fail "cannot switch to rdma_rxe"
run_all rxe0
for module in $modules; do
	read -r ran ok skip fail err <<<"${counts[rxe0:$module]}"
	echo "REPORT pyverbs $module: sroce0 ${result[$module]}; rxe0 $ok ok, $skip skipped, $fail failed, $err errors (of $ran)"
done
exit $status
