#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Regenerates tests/data/rxe-rocev2.pcap: RoCEv2 traffic between two
# rdma_rxe VMs, the reference that the wire unit tests check sroce's header
# parsing and ICRC against.  Run on the host; the guest side is
# capture-rxe-guest.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec scripts/vm-run --pair --rxe -- tests/data/capture-rxe-guest.sh \
	-- tests/data/capture-rxe-guest.sh
