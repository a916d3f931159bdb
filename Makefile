# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# sroce top level.
#
#   make            build sroce.ko for every kernel of the matrix and the
#                   provider, inside the cached Debian 13 root filesystem
#   make test       host unit tests, style gates and the VM tests on every
#                   kernel of the matrix; ends with "N passed, N failed"
#   make demo       two VMs with sroce0: ibv_rc_pingpong and ib_write_bw across
#   make check-long the long loss and injection campaigns (minutes per kernel)
#   make bench      perftest on sroce0 and on rdma_rxe in the same VM, as
#                   ratios, on every kernel of the matrix
#   make local      build for this host's running kernel and rdma-core
#   make install    install the local build (run as root)
#   make deb        Debian packages in build/deb/: sroce-dkms (the module's
#                   source for DKMS) and ibverbs-provider-sroce (libsroce
#                   for the rdma-core of the cached root filesystem)
#
# Every target that builds or boots provisions first (scripts/provision),
# which costs a fraction of a second when the cache is current; the first
# run on a fresh machine provisions everything.

KERNELS ?= 6.12 7.3
IN_ROOTFS := scripts/in-rootfs
W ?= 1
# The builds use every core, unless make itself was given -j (its
# jobserver then shares them out).
# (MAKEFLAGS shows -j only to recipes.)
SUBMAKE_J = $$(case " $$MAKEFLAGS" in *" -j"*) ;; *) echo -j$$(nproc) ;; esac)

all: modules provider progs

# Quiet when the cache is current.  Otherwise scripts/provision's own
# "provision:" lines are shown and the rest (apt's output) goes to
# provision.log in the cache, whose tail is shown if provisioning fails.
provision:
	@scripts/provision --check && exit 0; \
	cache=$$(dirname "$$(scripts/provision --print-root)"); \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "provisioning: $$cache is missing or stale, and building it needs root (apt-get, debootstrap, chroot)" >&2; \
	  exit 1; \
	fi; \
	mkdir -p "$$cache"; \
	echo "provisioning: host tools (QEMU, debootstrap, ...) from Debian 12 if missing, then a"; \
	echo "provisioning: Debian 13 root filesystem in $$cache (debootstrap, kernels 6.1, 6.12 and"; \
	echo "provisioning: 7.3, gcc, rdma-core; about 3-10 minutes on a fresh machine); log: $$cache/provision.log"; \
	rc=$$(mktemp); \
	{ scripts/provision; echo $$? > "$$rc"; } 2>&1 | \
	  tee "$$cache/provision.log" | grep --line-buffered '^provision:'; \
	status=$$(cat "$$rc"); rm -f "$$rc"; \
	if [ "$$status" != 0 ]; then \
	  echo "provisioning failed (status $$status); the end of $$cache/provision.log:" >&2; \
	  tail -n 30 "$$cache/provision.log" >&2; \
	  exit 1; \
	fi; \
	echo "provisioning: done"

modules: provision
	@for k in $(KERNELS); do \
	  kver=$$(scripts/kernel-version $$k) || exit 1; \
	  echo "building sroce.ko and tests/kmod for $$kver (in the cached root filesystem)"; \
	  $(IN_ROOTFS) $(MAKE) $(SUBMAKE_J) -C driver KVER=$$kver W=$(W) || exit 1; \
	  $(IN_ROOTFS) $(MAKE) $(SUBMAKE_J) -C tests/kmod KVER=$$kver W=$(W) || exit 1; \
	done

provider: provision
	@echo "building the rdma-core provider libsroce (in the cached root filesystem)"
	@$(IN_ROOTFS) $(MAKE) $(SUBMAKE_J) -C provider

# The VM cases' C programs (tests/vm/progs/build/): built here at native
# speed rather than by each guest under TCG.  srq_hostile needs the
# provider's generated headers.
progs: provider
	@echo "building the VM tests' programs (tests/vm/progs, in the cached root filesystem)"
	@$(IN_ROOTFS) $(MAKE) $(SUBMAKE_J) -s -C tests/vm/progs

# make bookworm: the provider for Debian 12's rdma-core 44
# (provider/build-bookworm), sroce.ko and tests/kmod for Debian 12's 6.1,
# and the VM cases' programs (tests/vm/progs/build-bookworm), all built
# in the optional Debian 12 root filesystem (scripts/provision-userland 12,
# built on first use: 8 minutes, 1.3 GB; nothing else needs it) with its
# gcc 12, glibc 2.36 and libibverbs-dev 44, and driver.h from rdma-core
# 56.1's source (the same private ABI, which provider/Makefile checks).
# Then: scripts/vm-run --kernel 6.1 --userland 12 -- tests/vm/run
BOOKWORM := SROCE_USERLAND=12 $(IN_ROOTFS)
bookworm:
	@scripts/provision-userland 12 --check || scripts/provision-userland 12
	@echo "building libsroce for rdma-core 44 (in the Debian 12 root filesystem)"
	@$(BOOKWORM) $(MAKE) $(SUBMAKE_J) -C provider B=build-bookworm
	@kver=$$(SROCE_USERLAND=12 scripts/kernel-version 6.1) || exit 1; \
	  echo "building sroce.ko and tests/kmod for $$kver (in the Debian 12 root filesystem)"; \
	  $(BOOKWORM) $(MAKE) $(SUBMAKE_J) -C driver KVER=$$kver W=$(W) || exit 1; \
	  $(BOOKWORM) $(MAKE) $(SUBMAKE_J) -C tests/kmod KVER=$$kver W=$(W)
	@echo "building the VM tests' programs for Debian 12 (tests/vm/progs/build-bookworm)"
	@$(BOOKWORM) $(MAKE) $(SUBMAKE_J) -s -C tests/vm/progs B=build-bookworm

# make sid: the provider for Debian unstable's rdma-core 65.0 (private ABI
# IBVERBS_PRIVATE_65) with its own driver.h (provider/build-sid) and the
# VM cases' programs (tests/vm/progs/build-sid), built in the optional
# Debian unstable root filesystem (scripts/provision-userland sid, built on
# first use; nothing else needs it).  It has no kernel: the guest boots
# one of Debian 13's root, with the sroce.ko of make all.
# Then: scripts/vm-run --kernel 7.3 --userland sid -- tests/vm/run
SID := SROCE_USERLAND=sid $(IN_ROOTFS)
sid:
	@scripts/provision-userland sid --check || scripts/provision-userland sid
	@echo "building libsroce for rdma-core 65 (in the Debian unstable root filesystem)"
	@$(SID) $(MAKE) $(SUBMAKE_J) -C provider B=build-sid
	@echo "building the VM tests' programs for Debian unstable (tests/vm/progs/build-sid)"
	@$(SID) $(MAKE) $(SUBMAKE_J) -s -C tests/vm/progs B=build-sid

# The packages' version: the newest v<N> tag's describe string, or the
# commit's date and hash before any tag.
DEB_VERSION ?= $(shell v=$$(git describe --tags --match 'v[0-9]*' 2>/dev/null) && \
	echo "$${v\#v}" | sed 's/-\([0-9]*\)-g/+\1.g/' || \
	git log -1 --format='0+git%cd.%h' --date=format:%Y%m%d)
DEB_MAINTAINER ?= $(shell echo "$$(git config user.name) <$$(git config user.email)>")
deb: provision
	@$(IN_ROOTFS) scripts/make-deb "$(DEB_VERSION)" "$(DEB_MAINTAINER)"

checkpatch: provision
	$(IN_ROOTFS) scripts/checkpatch-driver

unit:
	$(MAKE) -C tests/unit

# KERNELS="6.1 6.12 7.3" adds Debian 12's kernel (6.1 is not in the
# default matrix: make test's budget is 45 minutes).
test:
	KERNELS="$(KERNELS)" scripts/test-all

demo: all
	@scripts/demo

# make bench: perftest, cmtime and NVMe-oF fio on sroce0 and rdma_rxe in
# one VM (tests/vm/bench.sh), then NVMe-oF fio across the wire of two
# VMs, sroce and rdma_rxe alternating on the same pair
# (tests/pair/bench-nvme.sh); on every kernel.
bench: all
	@for k in $(KERNELS); do \
	  scripts/vm-run --kernel $$k -- tests/vm/bench.sh || exit 1; \
	  scripts/vm-run --kernel $$k --pair --timeout 1800 -- \
	    tests/pair/bench-nvme.sh -- tests/pair/bench-nvme.sh || exit 1; \
	done

# Long campaigns, run before resolving transport work (not in make test):
# first a newcomer's make demo in a fresh clone with an empty cache
# (tests/host/fresh.sh: provisioning from the mirror, ten minutes or more),
# then make check-versions (the VM suite on 6.1, on Debian 12's userland
# and on Debian unstable's), then the loss test for a minute per loss level, a long READ that loses
# responses at a short timeout, the injector's million packets, the
# packages of make deb with DKMS building sroce.ko in the guest, and loss
# across the wire of two VMs at 0, 1, 5 and 10 % (on
# top of netem's delay, duplication, reordering and corruption), on every
# kernel.  The same pair run on rdma_rxe gives the table's rxe column; its
# failures are reported, not judged.  Then the interop pair of make test
# (sroce against rdma_rxe across a wire), which make test runs on the last
# kernel only, on the others.  NFS over RDMA across the wire with files
# of 32 MiB (tests/pair/nfsrdma.sh; make test: 4 MiB).  NVMe over
# Fabrics across the wire
# (tests/pair/nvmeof.sh, which make test runs with 4 MiB per namespace
# and one block size per address family): 16 MiB per namespace with
# both block sizes over each family, then 1 GiB of the null_blk
# namespace with 4 KiB and 128 KiB blocks mixed (fio does 150 to 600 4
# KiB IOPS across the pair under TCG, so 1 GiB of 4 KiB blocks alone
# would take 15 to 45 minutes), then 32 MiB with netem losing 1 % of the
# frames on both eth0; and against rdma_rxe in both directions, rxe0 as
# the target and as the host.
PAIR_LOSS := SECS=20 LOSS='0 1 5 10' tests/pair/loss.sh
PAIR_INTEROP := tests/pair/perftest.sh && tests/pair/rdmacm.sh && tests/pair/nvmeof.sh && tests/pair/mtu4096.sh
PAIR_NVME := SROCE_NFS_MB=32 tests/pair/nfsrdma.sh && \
	NVME_FULL=1 SROCE_NVME_MB=16 NVME_BIG_MB=1024 tests/pair/nvmeof.sh && \
	NVME_FULL=1 SROCE_NVME_MB=32 NVME_NETEM='loss 1%' tests/pair/nvmeof.sh
PAIR_NVME_RXE := NVME_FULL=1 SROCE_NVME_MB=16 tests/pair/nvmeof.sh && \
	NVME_FULL=1 SROCE_NVME_MB=16 NVME_TARGET=a tests/pair/nvmeof.sh
# The VM cases that run rdma_rxe next to sroce0 in the same VM (and, in
# t-pyverbs, require sroce0 to pass at least as many of rdma-core's tests
# as rxe0 in every module).
COMPARE_CASES = $(notdir $(shell grep -l '^[^#]*compare_rxe' tests/vm/t-*.sh))

# The whole VM suite where make test's matrix does not go: Debian 12's
# kernel 6.1 (with Debian 13's userland), Debian 12's own userland
# (rdma-core 44) on 6.1, and Debian unstable's (rdma-core 65) on 7.3.
# Each is one guest running every case (about an hour each on the 2-core
# machine); the optional root filesystems are built on first use.
check-versions: all
	@st=0; \
	$(MAKE) -s modules KERNELS=6.1 && \
	  scripts/vm-run --kernel 6.1 --timeout 5400 -- \
	    SROCE_COMPARE_RXE=0 SROCE_LAST_KERNEL=0 tests/vm/run || st=1; \
	$(MAKE) -s bookworm && \
	  scripts/vm-run --kernel 6.1 --userland 12 --timeout 5400 -- \
	    SROCE_COMPARE_RXE=0 SROCE_LAST_KERNEL=0 tests/vm/run || st=1; \
	$(MAKE) -s sid && \
	  scripts/vm-run --kernel 7.3 --userland sid --timeout 5400 -- \
	    SROCE_COMPARE_RXE=0 SROCE_LAST_KERNEL=0 tests/vm/run || st=1; \
	[ $$st -eq 0 ] && echo "check-versions: passed" || { echo "check-versions: FAILED"; exit 1; }

check-long: all deb
	@st=0; tests/host/fresh.sh demo || st=1; \
	$(MAKE) -s check-versions || st=1; \
	for k in $(KERNELS); do \
	  scripts/vm-run --kernel $$k --timeout 7200 --mem 4096 -- \
	    LONG=1 INJECT_ARGS=--long SROCE_CASE_TIMEOUT=3600 \
	    SROCE_NFS_MB=128 SROCE_NVME_MB=1024 \
	    tests/vm/run long-loss.sh t-inject.sh t-cm-gone.sh t-big-msg.sh long-nfsrdma.sh t-nvmeof.sh \
	    t-ulp-teardown.sh long-deb.sh || st=1; \
	  scripts/vm-run --kernel $$k --timeout 5400 -- \
	    SROCE_COMPARE_RXE=1 SROCE_CASE_TIMEOUT=1800 \
	    tests/vm/run $(COMPARE_CASES) || st=1; \
	  scripts/vm-run --kernel $$k --pair --timeout 3600 -- \
	    "$(PAIR_LOSS)" -- "$(PAIR_LOSS)" || st=1; \
	  scripts/vm-run --kernel $$k --pair --rxe --timeout 3600 -- \
	    "$(PAIR_LOSS)" -- "$(PAIR_LOSS)" || \
	    echo "check-long: rdma_rxe did not finish the pair loss runs on $$k"; \
	  scripts/vm-run --kernel $$k --pair --mem 3072 --timeout 7200 -- \
	    "$(PAIR_NVME)" -- "$(PAIR_NVME)" || st=1; \
	  scripts/vm-run --kernel $$k --pair --peer-rxe --timeout 5400 -- \
	    "$(PAIR_NVME_RXE)" -- "$(PAIR_NVME_RXE)" || st=1; \
	  [ $$k = $(lastword $(KERNELS)) ] || \
	    scripts/vm-run --kernel $$k --pair --peer-rxe --timeout 900 -- \
	      "$(PAIR_INTEROP)" -- "$(PAIR_INTEROP)" || st=1; \
	done; \
	[ $$st -eq 0 ] && echo "check-long: passed" || { echo "check-long: FAILED"; exit 1; }

.PHONY: check-long check-versions

# The VM suite on a debug build of Debian's 7.3 kernel (KASAN, lockdep,
# DEBUG_OBJECTS, kmemleak, DMA_API_DEBUG, fault injection, hung-task and
# workqueue watchdogs; scripts/debug-kernel builds it once into the cache,
# which takes an hour or more), then a pair with all DMA bounced through
# SWIOTLB so that DMA_API_DEBUG sees the NIC's DMA.  Fails on any report
# in a guest's kernel log and on any kmemleak report.  Not part of make
# test.  Besides tests/vm/t-*.sh the suite here has the tests that only a
# debug kernel can run, tests/vm/d-*.sh: d-fail-nth.sh injects allocation
# failures (fail-nth) into every create path of the user and kernel verbs,
# and fails on a kernel without fault injection.  DEBUG_TESTS= names a
# subset of tests/vm; DEBUG_TESTS=robust is the robustness subset below
# (fault injection, the RC engine, hostile packets, isolation, lifecycle
# and teardown, kernel verbs, ODP and a hung ODP fault, QP states, error
# completions).
DEBUG_ROBUST := d-fail-nth.sh t-rc-engine.sh t-inject.sh t-isolation.sh \
	t-lifecycle.sh t-teardown.sh t-kverbs.sh t-odp.sh t-odp-hung.sh \
	t-qp-states.sh t-wc-errors.sh
DEBUG_TESTS ?= $(notdir $(wildcard tests/vm/d-*.sh tests/vm/t-*.sh))
debug_tests = $(patsubst robust,$(DEBUG_ROBUST),$(DEBUG_TESTS))
# Seconds each case may take there (tests/vm/run's default is 900):
# KASAN and the checkers under TCG make everything several times slower,
# and d-fail-nth.sh takes about half an hour.
DEBUG_CASE_TIMEOUT ?= 3600
check-debug: provider progs
	scripts/debug-kernel
	@kver=$$(scripts/debug-kernel --print-kver) && kdir=$$(scripts/debug-kernel --print-dir) && \
	  echo "building sroce.ko and tests/kmod for $$kver" && \
	  scripts/debug-kernel --run $(MAKE) -C driver KVER=$$kver KDIR=$$kdir W=$(W) && \
	  scripts/debug-kernel --run $(MAKE) -C tests/kmod KVER=$$kver KDIR=$$kdir W=$(W)
	scripts/vm-run --kernel debug --mem 3072 --timeout 14400 -- \
	  SROCE_CASE_TIMEOUT=$(DEBUG_CASE_TIMEOUT) scripts/guest/kmemleak-check tests/vm/run $(debug_tests)
	scripts/vm-run --kernel debug --mem 3072 --timeout 7200 --pair --bounce -- \
	  'scripts/guest/kmemleak-check bash -c "tests/pair/perftest.sh && tests/pair/swiotlb.sh"' -- \
	  'scripts/guest/kmemleak-check bash -c "tests/pair/perftest.sh && tests/pair/swiotlb.sh"'
	@echo "check-debug: no reports"

.PHONY: check-debug

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
	$(MAKE) -C tests/vm/progs clean

.PHONY: all provision modules provider progs bookworm sid checkpatch unit test demo bench local \
	install deb clean
