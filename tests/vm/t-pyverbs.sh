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

# counts <dev> <module>: "ran ok skip fail error" of one module on one device
counts() {
	local out summary ran fail err skip ok

	# progs/pyverbs_run.py says why it, not tests/run_tests.py.
	out=$(cd "$src" && timeout 600 python3 "$SROCE_REPO/tests/vm/progs/pyverbs_run.py" \
		"$src" --dev "$1" "$2" 2>&1 || true)
	ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' <<<"$out" | tail -n1 || true)
	summary=$(grep -E '^(OK|FAILED)( \(|$)' <<<"$out" | tail -n1 || true)
	fail=$(grep -o 'failures=[0-9]*' <<<"$summary" | cut -d= -f2 || true)
	err=$(grep -o 'errors=[0-9]*' <<<"$summary" | cut -d= -f2 || true)
	skip=$(grep -o 'skipped=[0-9]*' <<<"$summary" | cut -d= -f2 || true)
	ran=${ran:-0} fail=${fail:-0} err=${err:-0} skip=${skip:-0}
	[ -n "$summary" ] || err=$((err + 1))	# no summary: it crashed
	ok=$((ran - fail - err - skip))
	[ "$ok" -ge 0 ] || ok=0
	echo "$ran $ok $skip $fail $err"
}

# UD QPs and their AHs are in test_qp, test_qpex, test_cq_events,
# test_addr and test_relaxed_ordering; test_rdmacm connects RC and UDP
# port space QPs through the CM's MADs on QP1 and sends to multicast
# groups that it joins and leaves.  test_cqex runs RC and UD traffic
# through extended CQs (its XRC test skips: sroce has no XRC).  (test_srq
# is left out until sroce has SRQs: each of its tests skips at the first
# one.)
modules="test_device test_pd test_mr test_fork test_cq test_cqex test_cq_events test_qp test_qpex test_atomic test_odp test_addr test_relaxed_ordering test_rdmacm"
# Modules that must pass on sroce0 (today all of them); a module in
# $modules alone would be reported only.
must="test_device test_pd test_mr test_fork test_cq test_cqex test_cq_events test_qp test_qpex test_atomic test_odp test_addr test_relaxed_ordering test_rdmacm"

declare -A result
status=0
for module in $modules; do
	read -r ran ok skip fail err < <(counts sroce0 "$module")
	result[$module]="$ok ok, $skip skipped, $fail failed, $err errors (of $ran)"
	if [[ " $must " == *" $module "* ]]; then
		[ "$ran" -gt 0 ] && [ "$fail" -eq 0 ] && [ "$err" -eq 0 ] || status=1
	fi
done
# rdma_rxe in the same VM, for comparison (it cannot run next to sroce).
if [ "${SROCE_COMPARE_RXE:-1}" = 0 ]; then
	for module in $modules; do
		echo "REPORT pyverbs $module: sroce0 ${result[$module]}"
	done
	exit $status
fi
use_rxe || fail "cannot switch to rdma_rxe"
for module in $modules; do
	read -r ran ok skip fail err < <(counts rxe0 "$module")
	echo "REPORT pyverbs $module: sroce0 ${result[$module]}; rxe0 $ok ok, $skip skipped, $fail failed, $err errors (of $ran)"
done
exit $status
