# rdma-core's own pyverbs tests for what sroce implements, run by
# rdma-core's own runner (tests/run_tests.py, Python's cyclic garbage
# collector on, objects finalized in whatever order it picks), on sroce0
# and, for comparison, on rxe0 in the same VM.  The modules in $must may
# have no failures or errors on sroce0, and the runner must end by itself
# (no crash); skips are tests of features sroce does not offer yet.
# Prints a REPORT line per module with both devices' counts, and then
# requires parity: sroce0 passes at least as many tests as rxe0 in each
# module.  SROCE_COMPARE_RXE=0 leaves rxe0 out (make test does; make
# check-long compares on every kernel).
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"
src=$(ls -d /usr/src/rdma-core-*/tests/.. | head -n1)
# Debian 12's root (scripts/vm-run --userland 12) has rdma-core 56.1's
# source only (44's is not fetchable), whose tests need 56.1's pyverbs;
# its own pyverbs is 44's.
[ "${SROCE_USERLAND:-13}" != 12 ] ||
	not_applicable "rdma-core's tests here are 56.1's ($src), pyverbs is 44's"

# run_all <dev>: every module of $modules on one device, in one start of
# rdma-core's runner (under TCG, importing pyverbs and its tests takes
# seconds); leaves the runner's statuses in /tmp/pyverbs.<dev>, its exit
# status in runner_rc[<dev>], whether its "Ran N tests" matched the
# statuses in runner_total[<dev>], and in counts[<dev>:<module>] "ran ok
# skip fail error".  A module with no statuses at all (the interpreter
# died before it) counts as one error.
declare -A counts runner_rc runner_total
run_all() {
	local out=/tmp/pyverbs.$1 module ran ok skip fail err rc=0

	# unittest writes its statuses to stderr; the tests' own prints
	# (stdout) go elsewhere so that they cannot split a status line.
	(cd "$src" && timeout 900 python3 tests/run_tests.py --dev "$1" -v \
		$modules > "$out.stdout" 2> "$out") || rc=$?
	runner_rc[$1]=$rc
	python3 "$SROCE_REPO/tests/vm/progs/pyverbs_counts.py" "$out" \
		$modules > "$out.counts"
	runner_total[$1]=$(sed -n 's/^pyverbs-total //p' "$out.counts")
	sed -n 's/^pyverbs-unmatched /--- '"$1"' no status: /p' "$out.counts"
	for module in $modules; do
		read -r ran ok skip fail err < <(sed -n "s/^pyverbs-module $module //p" "$out.counts")
		[ "$ran" -gt 0 ] || err=1
		counts[$1:$module]="$ran $ok $skip $fail $err"
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		echo "--- $1: rdma-core's runner ended with status $rc; its end:"
		tail -n 30 "$out"
	fi
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

# On a kernel without ATOMIC WRITE and FLUSH (6.1), the provider refuses
# QPs that ask for their ibv_wr_* calls with EOPNOTSUPP, which rdma-core's
# tests take as a skip (test_qpex's atomic write and flush tests).
# The runner ends by itself (status 0, or 1 for failed tests) and its own
# count of tests matches the statuses counted.
[ "${runner_rc[sroce0]}" -le 1 ] || status=1
[[ "${runner_total[sroce0]}" == *" consistent" ]] || {
	echo "FAIL: sroce0: the runner's statuses: ${runner_total[sroce0]}"
	status=1
}
for module in $modules; do
	read -r ran ok skip fail err <<<"${counts[sroce0:$module]}"
	result[$module]="$ok ok, $skip skipped, $fail failed, $err errors (of $ran)"
	if [[ " $must " == *" $module "* ]]; then
		[ "$ran" -gt 0 ] && [ "$fail" -eq 0 ] && [ "$err" -eq 0 ] || status=1
	fi
done
# Why each test skipped on sroce0 (the README lists them).
grep -oE "^(test|setUpClass)[^ ]* \(tests\.[^)]*\)( \.\.\.|$)|skipped '.*'$" /tmp/pyverbs.sroce0 |
	awk '/^(test|setUpClass)/ { t = $2 } /^skipped / { print "REPORT pyverbs skip: " t " " $0 }' || true
# A failing module's tests and tracebacks.
[ $status -eq 0 ] || grep -E -A 30 '^(FAIL|ERROR): ' /tmp/pyverbs.sroce0 || true
# rdma_rxe in the same VM, for comparison (it cannot run next to sroce).
if ! compare_rxe; then
	for module in $modules; do
		echo "REPORT pyverbs $module: sroce0 ${result[$module]}"
	done
	echo "REPORT pyverbs runner: sroce0 status ${runner_rc[sroce0]}, ran ${runner_total[sroce0]}"
	exit $status
fi
use_rxe || fail "cannot switch to rdma_rxe"
run_all rxe0
echo "REPORT pyverbs runner: sroce0 status ${runner_rc[sroce0]}, ran ${runner_total[sroce0]}; rxe0 status ${runner_rc[rxe0]}, ran ${runner_total[rxe0]}"
# Parity: in every module of $must, sroce0 passes at least as many of
# rdma-core's tests as rxe0.
for module in $modules; do
	read -r ran ok skip fail err <<<"${counts[rxe0:$module]}"
	echo "REPORT pyverbs $module: sroce0 ${result[$module]}; rxe0 $ok ok, $skip skipped, $fail failed, $err errors (of $ran)"
	read -r _ sroce_ok _ <<<"${counts[sroce0:$module]}"
	if [[ " $must " == *" $module "* ]] && [ "$sroce_ok" -lt "$ok" ]; then
		echo "FAIL: pyverbs $module: sroce0 passes $sroce_ok tests, rxe0 $ok"
		status=1
	fi
done
exit $status
