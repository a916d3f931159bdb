# rdma-core's own pyverbs tests for the objects sroce implements, on
# sroce0 and, for comparison, rxe0 from the same VM.  The PD, MR and fork
# modules must have no failures or errors on sroce0 (skips are tests of
# features sroce does not offer yet); test_device is reported only, since
# it demands QPs and CQs.  Prints REPORT lines with the counts.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"
src=$(ls -d /usr/src/rdma-core-*/tests/.. | head -n1)

# counts <dev> <module>: "ran ok skip fail error" of one module on one device
counts() {
	local out summary ran fail err skip

	# pyverbs may print teardown noise after unittest's summary.
	out=$(cd "$src" && timeout 600 python3 tests/run_tests.py --dev "$1" "$2" 2>&1 || true)
	ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' <<<"$out" | tail -n1 || true)
	summary=$(grep -E '^(OK|FAILED)( \(|$)' <<<"$out" | tail -n1 || true)
	fail=$(grep -o 'failures=[0-9]*' <<<"$summary" | cut -d= -f2 || true)
	err=$(grep -o 'errors=[0-9]*' <<<"$summary" | cut -d= -f2 || true)
	skip=$(grep -o 'skipped=[0-9]*' <<<"$summary" | cut -d= -f2 || true)
	ran=${ran:-0} fail=${fail:-0} err=${err:-0} skip=${skip:-0}
	[ -n "$summary" ] || err=$((err + 1))	# no summary: it crashed
	echo "$ran $((ran - fail - err - skip)) $skip $fail $err"
}

devs=sroce0
rdma_dev_exists rxe0 && devs="sroce0 rxe0"
status=0
for module in test_device test_pd test_mr test_fork; do
	for dev in $devs; do
		read -r ran ok skip fail err < <(counts "$dev" "$module")
		echo "REPORT pyverbs $module on $dev: $ok ok, $skip skipped, $fail failed, $err errors (of $ran)"
		if [ "$dev" = sroce0 ] && [ "$module" != test_device ]; then
			[ "$ran" -gt 0 ] && [ "$fail" -eq 0 ] && [ "$err" -eq 0 ] || status=1
		fi
	done
done
exit $status
