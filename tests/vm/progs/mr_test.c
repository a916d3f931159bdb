// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory registration through sroce's umem layer, seen from user space:
 * pinned-page accounting (VmPin), repeated and overlapping registrations of
 * the same page (including the pattern of the coherency seed commit's trace:
 * offset 0 length 0x1000, then offset 1 length 0xfff), an iova that differs
 * from the address, read-only mappings, huge pages, shared memory, and
 * refusals with the right errno.
 *
 * usage: mr_test <device> all        every check below
 *        mr_test <device> memlock    run unprivileged with a small
 *                                    RLIMIT_MEMLOCK: over-limit fails
 *        mr_test <device> hold N     register N MRs, print "held", then
 *                                    wait to be killed with them registered
 *        mr_test <device> hold-shared N   the same with N MRs of the one
 *                                    page of /dev/shm/sroce-shared-page, at
 *                                    offsets 0 to N - 1
 *        mr_test <device> fork       fork() after registering: the parent
 *                                    keeps the very pages its MR pinned and
 *                                    the child's writes never reach them
 *        mr_test <device> fork-init  the same after ibv_fork_init()
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <infiniband/verbs.h>

#include "common.h"

#define PAGE 4096UL
#define HUGE (2UL << 20)

static struct ibv_pd *pd;
static struct ibv_device_attr dev_attr;

static long vm_pin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void *map_anon(size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Registration pins exactly the pages it covers; deregistration unpins. */
static void check_accounting(void)
{
	long base = vm_pin_kb();
	char *buf = map_anon(64 * PAGE, PROT_READ | PROT_WRITE, 0);
	struct ibv_mr *mr;

	mr = ibv_reg_mr(pd, buf + 100, 64 * PAGE - 200, IBV_ACCESS_LOCAL_WRITE);
	check(mr, "reg 64 pages: %s", strerror(errno));
	if (!mr)
		return;
	check(vm_pin_kb() == base + 256, "VmPin %ld kB, want %ld",
	      vm_pin_kb(), base + 256);
	check(mr->addr == buf + 100 && mr->length == 64 * PAGE - 200,
	      "mr addr/length");
	check(!ibv_dereg_mr(mr), "dereg");
	check(vm_pin_kb() == base, "VmPin %ld kB after dereg, want %ld",
	      vm_pin_kb(), base);
	munmap(buf, 64 * PAGE);
}

/* The seed trace: one page registered twice, at offsets 0 and 1. */
static void check_overlap(void)
{
	long base = vm_pin_kb();
	char *buf = map_anon(PAGE, PROT_READ | PROT_WRITE, 0);
	struct ibv_mr *a, *b, *many[64];
	int i, j;

	a = ibv_reg_mr(pd, buf, 0x1000, IBV_ACCESS_LOCAL_WRITE);
	b = ibv_reg_mr(pd, buf + 1, 0xfff, IBV_ACCESS_LOCAL_WRITE);
	check(a && b, "seed pattern registration: %s", strerror(errno));
	if (!a || !b)
		return;
	check(a->lkey != b->lkey && a->rkey != b->rkey, "keys differ");
	check(!ibv_dereg_mr(a), "dereg first");
	check(vm_pin_kb() == base + 4, "second MR still pins its page");
	check(!ibv_dereg_mr(b), "dereg second");

	for (i = 0; i < 64; i++) {
		many[i] = ibv_reg_mr(pd, buf + i, PAGE - i,
				     IBV_ACCESS_LOCAL_WRITE |
				     IBV_ACCESS_REMOTE_READ);
		check(many[i], "same page, MR #%d: %s", i, strerror(errno));
		if (!many[i])
			return;
		for (j = 0; j < i; j++)
			check(many[j]->rkey != many[i]->rkey,
			      "MR %d and %d share a key", i, j);
	}
	for (i = 0; i < 64; i += 2)
		check(!ibv_dereg_mr(many[i]), "dereg #%d", i);
	check(vm_pin_kb() == base + 32 * 4, "half the MRs left pinned");
	for (i = 1; i < 64; i += 2)
		check(!ibv_dereg_mr(many[i]), "dereg #%d", i);
	check(vm_pin_kb() == base, "all unpinned");
	munmap(buf, PAGE);
}

static void check_iova(void)
{
	char *buf = map_anon(4 * PAGE, PROT_READ | PROT_WRITE, 0);
	struct ibv_mr *mr;

	mr = ibv_reg_mr_iova(pd, buf + 8, 3 * PAGE, 0x7000000000ULL + 8,
			     IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	check(mr, "iova != address: %s", strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	munmap(buf, 4 * PAGE);
}

/* Read-only memory can be registered for reading, not for writing. */
static void check_read_only(void)
{
	char *buf = map_anon(2 * PAGE, PROT_READ, MAP_POPULATE);
	struct ibv_mr *mr;

	mr = ibv_reg_mr(pd, buf, 2 * PAGE, IBV_ACCESS_REMOTE_READ);
	check(mr, "read-only mapping, read access: %s", strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	mr = ibv_reg_mr(pd, buf, 2 * PAGE, IBV_ACCESS_LOCAL_WRITE);
	check(!mr && errno == EFAULT,
	      "read-only mapping, write access: %s", mr ? "works" :
	      strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	munmap(buf, 2 * PAGE);
}

static void reg_and_check(void *buf, size_t len, const char *what)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, buf, len, IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_REMOTE_WRITE |
				       IBV_ACCESS_REMOTE_READ);

	check(mr, "%s: %s", what, strerror(errno));
	if (mr)
		check(!ibv_dereg_mr(mr), "%s: dereg", what);
}

/* Register 8 pages of the file @fd (then closed), mapped shared. */
static void reg_shared_file(int fd, const char *what)
{
	char *p;

	check(fd >= 0 && !ftruncate(fd, 8 * PAGE), "%s", what);
	p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(p != MAP_FAILED, "%s: mmap", what);
	if (p != MAP_FAILED) {
		reg_and_check(p, 8 * PAGE, what);
		munmap(p, 8 * PAGE);
	}
	if (fd >= 0)
		close(fd);
}

static void check_memory_kinds(void)
{
	char *thp, *huge, *shm;
	int fd;

	thp = map_anon(2 * HUGE, PROT_READ | PROT_WRITE, 0);
	if (thp) {
		char *aligned = (char *)(((unsigned long)thp + HUGE - 1) &
					 ~(HUGE - 1));

		madvise(aligned, HUGE, MADV_HUGEPAGE);
		memset(aligned, 1, HUGE);
		reg_and_check(aligned, HUGE, "transparent huge page");
		munmap(thp, 2 * HUGE);
	}

	huge = map_anon(HUGE, PROT_READ | PROT_WRITE, MAP_HUGETLB);
	check(huge, "MAP_HUGETLB mmap (are hugepages reserved?)");
	if (huge) {
		reg_and_check(huge + 4096, HUGE - 8192, "hugetlbfs page");
		munmap(huge, HUGE);
	}

	reg_shared_file(memfd_create("sroce-mr", 0), "memfd");
	/* A POSIX shared memory object, a file in /dev/shm. */
	reg_shared_file(open("/dev/shm/sroce-mr", O_RDWR | O_CREAT | O_TRUNC,
			     0600), "/dev/shm file");
	unlink("/dev/shm/sroce-mr");

	/*
	 * A file of a disk-like file system (the root's, 9p), mapped
	 * shared and read-only: a peer may read it.  Writable long-term pins
	 * of such files are the kernel's to refuse; on-demand MRs cover them.
	 */
	fd = open("/usr/bin/bash", O_RDONLY);
	shm = fd < 0 ? MAP_FAILED :
	      mmap(NULL, 8 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	check(shm != MAP_FAILED, "file mmap");
	if (shm != MAP_FAILED) {
		struct ibv_mr *mr = ibv_reg_mr(pd, shm, 8 * PAGE,
					       IBV_ACCESS_REMOTE_READ);

		check(mr, "file-backed shared mapping, read access: %s",
		      strerror(errno));
		if (mr)
			check(!ibv_dereg_mr(mr), "file-backed: dereg");
		munmap(shm, 8 * PAGE);
	}
	if (fd >= 0)
		close(fd);
}

static void check_refusals(void)
{
	char *buf = map_anon(PAGE, PROT_READ | PROT_WRITE, 0);
	struct ibv_mr *mr;
	int want;

	mr = ibv_reg_mr(pd, buf, 0, IBV_ACCESS_LOCAL_WRITE);
	check(!mr && errno == EINVAL, "zero length: %s",
	      mr ? "works" : strerror(errno));
	munmap(buf, PAGE);
	mr = ibv_reg_mr(pd, buf, PAGE, IBV_ACCESS_LOCAL_WRITE);
	check(!mr && errno == EFAULT, "unmapped memory: %s",
	      mr ? "works" : strerror(errno));

	buf = map_anon(PAGE, PROT_READ | PROT_WRITE, 0);
	/* Atomic access is accepted exactly when atomics are advertised. */
	mr = ibv_reg_mr(pd, buf, PAGE, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_ATOMIC);
	want = dev_attr.atomic_cap != IBV_ATOMIC_NONE;
	check(!!mr == want, "REMOTE_ATOMIC with atomic_cap %d: %s",
	      dev_attr.atomic_cap, mr ? "works" : strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	munmap(buf, PAGE);
}

/* The physical frame behind a virtual address (root only). */
static uint64_t pfn_of(void *addr)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (uintptr_t)addr / PAGE * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	return entry & ((1ULL << 55) - 1);
}

/*
 * fork() must not move the parent off the pages its MR pinned: whichever
 * side writes first, the parent keeps its frames and the child gets
 * copies (or, after ibv_fork_init, no mapping at all).
 */
static void check_fork(bool fork_init)
{
	const int npages = 4;
	char *buf = map_anon(npages * PAGE, PROT_READ | PROT_WRITE, 0);
	uint64_t pfn[4];
	struct ibv_mr *mr;
	int i, status, go[2];
	pid_t child;

	memset(buf, 0x11, npages * PAGE);
	mr = ibv_reg_mr(pd, buf, npages * PAGE, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	check(mr, "register before fork: %s", strerror(errno));
	if (!mr)
		return;
	for (i = 0; i < npages; i++) {
		pfn[i] = pfn_of(buf + i * PAGE);
		check(pfn[i], "no frame for page %d (not root?)", i);
	}

	/*
	 * The parent writes while the child still maps the buffer, so a
	 * page shared copy-on-write would move the parent to a new frame;
	 * then the child writes, and must not reach the parent's pages.
	 */
	check(!pipe(go), "pipe");
	child = fork();
	if (child == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) == 1 && !fork_init)
			memset(buf, 0xcc, npages * PAGE);
		_exit(0);
	}
	close(go[0]);
	memset(buf, 0xaa, npages * PAGE);
	for (i = 0; i < npages; i++)
		check(pfn_of(buf + i * PAGE) == pfn[i],
		      "page %d moved to another frame across fork", i);
	check(write(go[1], "x", 1) == 1, "wake the child");
	close(go[1]);
	check(child > 0 && waitpid(child, &status, 0) == child &&
	      WIFEXITED(status) && !WEXITSTATUS(status), "child");
	for (i = 0; i < npages; i++) {
		check(pfn_of(buf + i * PAGE) == pfn[i],
		      "page %d moved after the child wrote", i);
		check(buf[i * PAGE] == (char)0xaa && buf[i * PAGE + 7] ==
		      (char)0xaa, "page %d holds what the parent wrote", i);
	}
	check(!ibv_dereg_mr(mr), "dereg after fork");
	munmap(buf, npages * PAGE);
}

static void check_memlock(void)
{
	size_t big = 1UL << 20;
	char *buf = map_anon(big, PROT_READ | PROT_WRITE, 0);
	struct ibv_mr *mr;

	mr = ibv_reg_mr(pd, buf, big, IBV_ACCESS_LOCAL_WRITE);
	check(!mr && errno == ENOMEM, "1 MiB over RLIMIT_MEMLOCK: %s",
	      mr ? "works" : strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	mr = ibv_reg_mr(pd, buf, 8 * PAGE, IBV_ACCESS_LOCAL_WRITE);
	check(mr, "32 KiB within RLIMIT_MEMLOCK: %s", strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	check(vm_pin_kb() == 0, "nothing left pinned");
	munmap(buf, big);
}

/* The one page of /dev/shm/sroce-shared-page, mapped shared. */
static char *map_shared_page(void)
{
	int fd = open("/dev/shm/sroce-shared-page", O_RDWR | O_CREAT, 0600);
	char *page;

	if (fd < 0 || ftruncate(fd, PAGE)) {
		perror("/dev/shm/sroce-shared-page");
		exit(2);
	}
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	close(fd);
	return page;
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx;
	int i, n;

	if (argc < 3) {
		fprintf(stderr,
			"usage: %s <device> all|memlock|hold N|hold-shared N|fork|fork-init\n",
			argv[0]);
		return 2;
	}
	if (!strcmp(argv[2], "fork-init"))
		check(!ibv_fork_init(), "ibv_fork_init");
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_device(ctx, &dev_attr)) {
		printf("FAIL: cannot open %s\n", argv[1]);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		printf("FAIL: ibv_alloc_pd\n");
		return 1;
	}

	if (!strcmp(argv[2], "memlock")) {
		check_memlock();
	} else if (!strcmp(argv[2], "fork") || !strcmp(argv[2], "fork-init")) {
		check_fork(!strcmp(argv[2], "fork-init"));
	} else if (!strcmp(argv[2], "hold") && argc == 4) {
		n = atoi(argv[3]);
		for (i = 0; i < n; i++)
			check(ibv_reg_mr(pd, map_anon(PAGE, PROT_READ |
						      PROT_WRITE, 0),
					 PAGE, IBV_ACCESS_LOCAL_WRITE),
			      "held MR %d", i);
		printf("held\n");
		fflush(stdout);
		for (;;)
			pause();
	} else if (!strcmp(argv[2], "hold-shared") && argc == 4) {
		char *page = map_shared_page();

		/* The seed trace's pattern first, then more of the same. */
		n = atoi(argv[3]);
		for (i = 0; i < n; i++)
			check(ibv_reg_mr(pd, page + i, PAGE - i,
					 IBV_ACCESS_LOCAL_WRITE |
					 IBV_ACCESS_REMOTE_WRITE),
			      "shared page, MR %d: %s", i, strerror(errno));
		printf("%s\n", failures ? "FAILED" : "held");
		fflush(stdout);
		for (;;)
			pause();
	} else {
		check_accounting();
		check_overlap();
		check_iova();
		check_read_only();
		check_memory_kinds();
		check_refusals();
	}

	check(!ibv_dealloc_pd(pd), "dealloc pd");
	check(!ibv_close_device(ctx), "close");
	printf("%s %s: %s\n", argv[1], argv[2], failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
