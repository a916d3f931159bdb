# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# sroce top level.
#
#   make            build sroce.ko for every kernel of the matrix and the
#                   provider, inside the cached Debian 13 root filesystem
#   make test       host unit tests, style gates and the VM tests on every
#                   kernel of the matrix; ends with "N passed, N failed"
#   make demo       two VMs with sroce0: ibv_rc_pingpong and ib_write_bw across
#   make bench      perftest on sroce0 and on rdma_rxe in the same VM, as
#                   ratios, on every kernel of the matrix
#   make local      build for this host's running kernel and rdma-core
#   make install    install the local build (run as root)
#
# The first run on a fresh machine provisions everything (scripts/provision).

KERNELS ?= 6.12 7.3
IN_ROOTFS := scripts/in-rootfs
W ?= 1

all: modules provider

provision:
	scripts/provision

modules:
	@for k in $(KERNELS); do \
	  kver=$$(scripts/kernel-version $$k) || exit 1; \
	  $(IN_ROOTFS) $(MAKE) -C driver KVER=$$kver W=$(W) || exit 1; \
	  $(IN_ROOTFS) $(MAKE) -C tests/kmod KVER=$$kver W=$(W) || exit 1; \
	done

provider:
	$(IN_ROOTFS) $(MAKE) -C provider

checkpatch:
	$(IN_ROOTFS) scripts/checkpatch-driver

unit:
	$(MAKE) -C tests/unit

test:
	scripts/test-all

demo: all
	scripts/demo

bench: all
	@for k in $(KERNELS); do \
	  scripts/vm-run --kernel $$k -- tests/vm/bench.sh || exit 1; \
	done

local:
	$(MAKE) -C driver
	$(MAKE) -C provider

install:
	$(MAKE) -C driver install
	$(MAKE) -C provider install

clean:
	$(MAKE) -C driver clean
	$(MAKE) -C provider clean
	$(MAKE) -C tests/unit clean
	$(MAKE) -C tests/kmod clean

.PHONY: all provision modules provider checkpatch unit test demo bench local \
	install clean
