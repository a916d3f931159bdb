#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A newcomer's first run: a fresh clone of the repository's committed
# HEAD, an empty SROCE_CACHE, and the README's commands, each timed.
#
#   tests/host/fresh.sh demo        make demo; it must provision, build,
#                                   show sroce0 and move RDMA traffic
#                                   between two VMs (make check-long)
#   tests/host/fresh.sh demo test   then make test in the same clone and
#                                   cache, as a newcomer's second command
#
# Provisioning from nothing downloads about 400 MB from the Debian mirror
# and builds a root filesystem of 1.5 GB: several minutes.  The clone and
# its cache are removed when every step passed, and kept (their path is
# printed) when one failed.  FRESH_DIR=DIR chooses where they go.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${FRESH_DIR:-$(mktemp -d /var/tmp/sroce-fresh.XXXXXX)}
clone=$work/sroce
cache=$work/cache
st=0

[ $# -gt 0 ] || set -- demo
mkdir -p "$work"
git clone -q "$repo" "$clone" || exit 1
echo "fresh: $(git -C "$clone" log -1 --format='%h %s') in $clone, cache $cache"

for step in "$@"; do
	log=$work/$step.log
	start=$SECONDS
	case $step in
	demo)
		(cd "$clone" && SROCE_CACHE=$cache make demo) 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		[ "$rc" -eq 0 ] && grep -q "hca_id:.*sroce0" "$log" &&
			grep -q "1000 iters in" "$log" &&
			grep -q "BW average" "$log" &&
			grep -q "^demo: done" "$log"
		ok=$?
		what="make demo from an empty cache ends with RDMA traffic"
		;;
	test)
		(cd "$clone" && SROCE_CACHE=$cache \
			SROCE_TEST_LOGS=$work/test-logs make test) 2>&1 |
			tee "$log"
		rc=${PIPESTATUS[0]}
		[ "$rc" -eq 0 ] && grep -q " 0 failed" "$log"
		ok=$?
		what="make test in the fresh clone passes"
		;;
	*)
		echo "fresh: unknown step $step" >&2
		exit 2
		;;
	esac
	mins=$(( (SECONDS - start) / 60 ))
	secs=$(( (SECONDS - start) % 60 ))
	if [ $ok -eq 0 ]; then
		echo "PASS fresh: $what (${mins} min ${secs} s)"
	else
		echo "FAIL fresh: $what (exit $rc, ${mins} min ${secs} s)"
		st=1
		break
	fi
done

if [ $st -eq 0 ]; then
	rm -rf "$work"
else
	echo "fresh: the clone, its cache and the logs are kept in $work"
fi
exit $st
