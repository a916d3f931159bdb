#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Last of a pair run under "scripts/vm-run --bounce", where every DMA goes
# through SWIOTLB bounce buffers (swiotlb=force, and the NIC uses the DMA
# API), as in a confidential VM.  The tests before it moved RDMA traffic
# across the NIC; this checks that the bouncing really happened, so that
# their results hold for a bounced NIC.  sroce itself never hands user
# pages to a DMA device: it reaches registered memory with the CPU.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

grep -qw swiotlb=force /proc/cmdline || fail "not booted with swiotlb=force"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
# Slots in use now (the NIC's receive buffers stay mapped) and at the most.
dir=/sys/kernel/debug/swiotlb
used=$(cat "$dir/io_tlb_used" 2>/dev/null || echo 0)
most=$(cat "$dir/io_tlb_used_hiwater" 2>/dev/null || echo 0)
# A mark below what is in use now is one the kernel does not keep (7.x
# keeps it only with swiotlb=...,track_hiwater, which vm-run asks for).
if [ "$most" -ge "$used" ]; then
	echo "REPORT swiotlb $SROCE_DEV: $used SWIOTLB slots in use, $most at the most"
else
	echo "REPORT swiotlb $SROCE_DEV: $used SWIOTLB slots in use (no high-water mark kept)"
fi
[ "$used" -gt 0 ] || [ "$most" -gt 0 ] ||
	fail "the NIC's DMA never went through SWIOTLB"
