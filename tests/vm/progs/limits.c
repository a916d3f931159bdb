// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory that a user sizes is charged and bounded before it is allocated.
 *
 *   limits DEV memlock          unprivileged, with a small RLIMIT_MEMLOCK:
 *                               huge registrations fail with ENOMEM at
 *                               once, and the kernel allocated no page
 *                               array for them first
 *   limits DEV cgroup CGDIR     root, in the memory cgroup CGDIR (with a
 *                               small memory.max): CQ and QP rings are
 *                               charged to it, CQs, QPs and MRs of the
 *                               largest sizes fail with ENOMEM at its
 *                               limit, and all is uncharged when freed
 *   limits DEV odp GID CGDIR    root, in CGDIR: on-demand MRs up to
 *                               max_mr_size register and prefetch without
 *                               memory that grows with their length, and
 *                               a WRITE reaches a page 512 GiB into one
 *   limits DEV pd [IN_USE]      exactly max_pd PDs (IN_USE held by others)
 *                               can be allocated
 *
 * "Allocated" is measured with the kernel's own counters: pgalloc_* in
 * /proc/vmstat (every page the page allocator handed out, whoever asked),
 * and memory.current and memory.stat of the cgroup.  Each check prints
 * "ok: ..." or "FAIL: ..."; figures are printed as "REPORT ..." lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define PAGE	4096UL
#define KiB	1024UL
#define MiB	(1024UL * 1024)
#define GiB	(1024UL * MiB)

static struct ibv_context *ctx;
static struct ibv_device_attr_ex dattr;
static struct ibv_pd *pd;
static const char *cgdir;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Pages the page allocator has handed out since boot, all zones. */
static unsigned long pgalloc(void)
{
	FILE *f = fopen("/proc/vmstat", "r");
	unsigned long sum = 0, v;
	char name[64];

	if (!f)
		die("/proc/vmstat");
	while (fscanf(f, "%63s %lu", name, &v) == 2)
		if (!strncmp(name, "pgalloc_", 8))
			sum += v;
	fclose(f);
	return sum;
}

/* A number from a file of the cgroup. */
static long cg_read(const char *file)
{
	char path[512];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cgdir, file);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &v) != 1)
		die(path);
	fclose(f);
	return v;
}

/*
 * memory.current, through a file opened once: reading it allocates
 * nothing, so it may be read with the cgroup at its limit.
 */
static long cg_current(void)
{
	static int fd = -1;
	char buf[32];
	ssize_t n;

	if (fd < 0) {
		char path[512];

		snprintf(path, sizeof(path), "%s/memory.current", cgdir);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		die("memory.current");
	buf[n] = 0;
	return atol(buf);
}

/* The value of @key in the cgroup's memory.stat, or -1. */
static long cg_stat(const char *key)
{
	char path[512], name[64];
	long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cgdir);
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fscanf(f, "%63s %ld", name, &v) == 2)
		if (!strcmp(name, key))
			found = v;
	fclose(f);
	return found;
}

#define STAT_KEYS	64

struct cg_stats {
	int n;
	char name[STAT_KEYS][64];
	long v[STAT_KEYS];
};

static void cg_stats_read(struct cg_stats *st)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cgdir);
	f = fopen(path, "r");
	if (!f)
		die(path);
	st->n = 0;
	while (st->n < STAT_KEYS &&
	       fscanf(f, "%63s %ld", st->name[st->n], &st->v[st->n]) == 2)
		st->n++;
	fclose(f);
}

/* The memory.stat sizes that moved by 64 KiB or more since @before. */
static void cg_stats_delta(const char *what, const struct cg_stats *before)
{
	struct cg_stats now;
	int i, moved = 0;

	cg_stats_read(&now);
	printf("REPORT %s: memory.stat (what moved by 64 KiB or more):", what);
	for (i = 0; i < now.n && i < before->n; i++) {
		long d = now.v[i] - before->v[i];

		if (strcmp(now.name[i], before->name[i]) ||
		    (d < 65536 && d > -65536))
			continue;
		/* Sizes are in bytes; the event counters further down not. */
		if (!strncmp(now.name[i], "pg", 2) ||
		    !strncmp(now.name[i], "workingset", 10) ||
		    strstr(now.name[i], "thp_"))
			continue;
		printf(" %s %+ld KiB", now.name[i], d / 1024);
		moved++;
	}
	printf("%s\n", moved ? "" : " nothing");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * memory.current once it is within @slack bytes of @base, or after 5 s.
 * A vmalloc() that failed is freed by a kernel worker (7.x), a moment
 * after the call returned: until then the cgroup may be at its limit, and
 * any allocation of the program's (a pipe buffer for printf, a file) would
 * call the OOM killer.  Nothing here allocates.
 */
static long settle(long base, long slack)
{
	double end = now_ms() + 5000;
	long cur;

	while ((cur = cg_current()) - base >= slack &&
	       now_ms() < end)
		usleep(50000);
	return cur;
}

static long vm_pin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * Address space for @len bytes, readable and writable but not reserved:
 * nothing is behind it until it is touched.
 */
static void *reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap of the address space to register");
	return p;
}

/*
 * Over RLIMIT_MEMLOCK, a registration fails with ENOMEM before anything
 * sized by it is allocated.  A page array would take 8 bytes a page:
 * 512 pages of memory for 1 GiB, 524288 pages (2 GiB) for 1 TiB.
 */
static void check_memlock(void)
{
	static const unsigned int shifts[] = { 30, 36, 39, 40 };
	size_t max = 1UL << 40;
	char *buf;
	unsigned int i;

	if (dattr.orig_attr.max_mr_size < max)
		max = dattr.orig_attr.max_mr_size;
	buf = reserve(max);
	for (i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++) {
		size_t len = 1UL << shifts[i];
		unsigned long array = len / PAGE * 8 / PAGE, before, grew;
		struct ibv_mr *mr;
		double t;
		int err;

		if (len > max)
			break;
		before = pgalloc();
		t = now_ms();
		mr = ibv_reg_mr(pd, buf, len, IBV_ACCESS_LOCAL_WRITE);
		err = errno;
		t = now_ms() - t;
		grew = pgalloc() - before;
		printf("REPORT memlock: reg_mr of 2^%u bytes: %s in %.1f ms, %lu pages allocated meanwhile (a page array: %lu)\n",
		       shifts[i], mr ? "registered" : strerror(err), t, grew,
		       array);
		report(!mr && err == ENOMEM,
		       "2^%u bytes over RLIMIT_MEMLOCK: %s", shifts[i],
		       mr ? "registered" : strerror(err));
		report(grew < 256,
		       "2^%u bytes over RLIMIT_MEMLOCK: %lu pages allocated meanwhile (under 256; the page array is %lu)",
		       shifts[i], grew, array);
		if (mr)
			ibv_dereg_mr(mr);
	}
	/* Within the limit, registration works as ever. */
	memset(buf, 1, 8 * PAGE);
	{
		struct ibv_mr *mr = ibv_reg_mr(pd, buf, 8 * PAGE,
					       IBV_ACCESS_LOCAL_WRITE);

		report(mr, "32 KiB within RLIMIT_MEMLOCK registers: %s",
		       mr ? "yes" : strerror(errno));
		if (mr)
			ibv_dereg_mr(mr);
	}
	report(vm_pin_kb() == 0, "nothing left pinned (VmPin %ld kB)",
	       vm_pin_kb());
	munmap(buf, max);
}

static struct ibv_cq *max_cq(int *err)
{
	struct ibv_cq *cq = ibv_create_cq(ctx, dattr.orig_attr.max_cqe,
					  NULL, NULL, 0);

	*err = errno;
	return cq;
}

static struct ibv_qp *max_qp(struct ibv_cq *cq, int *err)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = dattr.orig_attr.max_qp_wr,
			.max_recv_wr = dattr.orig_attr.max_qp_wr,
			.max_send_sge = dattr.orig_attr.max_sge,
			.max_recv_sge = dattr.orig_attr.max_sge,
		},
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &init);

	*err = errno;
	return qp;
}

#define MAX_OBJS	64

/*
 * In a cgroup with a small memory.max: the rings are charged, creation
 * past the limit fails with ENOMEM, and destruction gives it all back.
 */
static void check_cgroup(void)
{
	long limit = cg_read("memory.max"), base, cur, vbase, peak = 0;
	/* A CQE is 32 bytes (rdma/sroce-abi.h), after a one-page header. */
	size_t cq_ring = PAGE + (size_t)dattr.orig_attr.max_cqe * 32;
	struct cg_stats st;
	struct ibv_cq *cqs[MAX_OBJS], *small;
	struct ibv_qp *qps[MAX_OBJS];
	int n, i, err = 0, destroy_failed = 0;
	size_t big;
	char *buf;

	small = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!small)
		die("ibv_create_cq");
	/*
	 * The program's own pages stay resident: at the cgroup's limit a
	 * page fault of the program would call the OOM killer, which is not
	 * what is tested here.  The kernel's allocations fail instead.
	 */
	if (mlockall(MCL_CURRENT))
		die("mlockall");

	/* One CQ of max_cqe entries: its ring is charged to the cgroup. */
	base = cg_current();
	vbase = cg_stat("vmalloc");
	cg_stats_read(&st);
	cqs[0] = max_cq(&err);
	if (!cqs[0]) {
		printf("FAIL: a CQ of %d entries: %s\n",
		       dattr.orig_attr.max_cqe, strerror(err));
		failures++;
		return;
	}
	cur = cg_current();
	cg_stats_delta("cgroup: a CQ of max_cqe entries", &st);
	printf("REPORT cgroup: a CQ of %d entries (ring about %zu KiB): memory.current +%ld KiB, memory.stat vmalloc +%ld KiB\n",
	       dattr.orig_attr.max_cqe, cq_ring / KiB, (cur - base) / 1024,
	       vbase < 0 ? -1 : (cg_stat("vmalloc") - vbase) / 1024);
	report(cur - base >= (long)cq_ring * 3 / 4,
	       "a CQ of %d entries is charged to the cgroup: +%ld KiB, the ring is about %zu KiB",
	       dattr.orig_attr.max_cqe, (cur - base) / 1024, cq_ring / KiB);
	if (vbase >= 0)
		report(cg_stat("vmalloc") - vbase >= (long)cq_ring * 3 / 4,
		       "memory.stat shows the ring as the cgroup's vmalloc memory: +%ld KiB",
		       (cg_stat("vmalloc") - vbase) / 1024);
	check(!ibv_destroy_cq(cqs[0]), "destroy CQ");
	cur = cg_current();
	report(cur - base < (long)cq_ring / 4,
	       "destroying it gives the charge back: %+ld KiB from before",
	       (cur - base) / 1024);

	/* One QP of max_qp_wr and max_sge both ways: its rings are charged. */
	base = cg_current();
	cg_stats_read(&st);
	qps[0] = max_qp(small, &err);
	if (!qps[0]) {
		printf("FAIL: a QP of %d WRs: %s\n", dattr.orig_attr.max_qp_wr,
		       strerror(err));
		failures++;
		return;
	}
	cur = cg_current();
	cg_stats_delta("cgroup: a QP of the largest size", &st);
	/*
	 * Each ring holds max_qp_wr slots of at least max_sge SGEs (16
	 * bytes each), more than the kernel's own copies of the WQEs.
	 */
	report(cur - base >= 2L * dattr.orig_attr.max_qp_wr *
	       dattr.orig_attr.max_sge * 16,
	       "a QP of %d WRs and %d SGEs each way is charged: +%ld KiB (its SGE slots alone take %ld KiB)",
	       dattr.orig_attr.max_qp_wr, dattr.orig_attr.max_sge,
	       (cur - base) / 1024,
	       2L * dattr.orig_attr.max_qp_wr * dattr.orig_attr.max_sge * 16 /
	       1024);
	check(!ibv_destroy_qp(qps[0]), "destroy QP");

	/*
	 * CQs of max_cqe entries until the cgroup is full.  Until they are
	 * destroyed again, with the cgroup (nearly) full, the program
	 * allocates nothing: no output.
	 */
	base = cg_current();
	for (n = 0; n < MAX_OBJS; n++) {
		cqs[n] = max_cq(&err);
		if (!cqs[n])
			break;
		cur = cg_current();
		peak = cur > peak ? cur : peak;
	}
	for (i = 0; i < n; i++)
		if (ibv_destroy_cq(cqs[i]))
			destroy_failed++;
	cur = settle(base, 2 * MiB);
	check(!destroy_failed, "%d CQs not destroyed", destroy_failed);
	printf("REPORT cgroup: memory.max %ld KiB: %d CQs of %d entries created, then %s; memory.current at most %ld KiB\n",
	       limit / 1024, n, dattr.orig_attr.max_cqe,
	       n < MAX_OBJS ? strerror(err) : "no failure", peak / 1024);
	report(n < MAX_OBJS && err == ENOMEM,
	       "CQs past memory.max fail with ENOMEM: %d made, then %s", n,
	       n < MAX_OBJS ? strerror(err) : "no failure");
	report(cur - base < 2 * (long)MiB,
	       "%d CQs destroyed: memory.current %+ld KiB from before", n,
	       (cur - base) / 1024);

	/* QPs of the largest size until the cgroup is full, the same way. */
	base = cg_current();
	peak = 0;
	for (n = 0; n < MAX_OBJS / 2; n++) {
		qps[n] = max_qp(small, &err);
		if (!qps[n])
			break;
		cur = cg_current();
		peak = cur > peak ? cur : peak;
	}
	for (i = 0; i < n; i++)
		if (ibv_destroy_qp(qps[i]))
			destroy_failed++;
	cur = settle(base, 2 * MiB);
	check(!destroy_failed, "%d QPs not destroyed", destroy_failed);
	printf("REPORT cgroup: memory.max %ld KiB: %d QPs of %d WRs created, then %s; memory.current at most %ld KiB\n",
	       limit / 1024, n, dattr.orig_attr.max_qp_wr,
	       n < MAX_OBJS / 2 ? strerror(err) : "no failure", peak / 1024);
	report(n < MAX_OBJS / 2 && err == ENOMEM,
	       "QPs past memory.max fail with ENOMEM: %d made, then %s", n,
	       n < MAX_OBJS / 2 ? strerror(err) : "no failure");
	report(cur - base < 2 * (long)MiB,
	       "%d QPs destroyed: memory.current %+ld KiB from before", n,
	       (cur - base) / 1024);

	/*
	 * A big MR, as root (no RLIMIT_MEMLOCK): its page array alone is
	 * larger than memory.max, so it fails with ENOMEM before pinning.
	 */
	big = 1UL << 36;
	if (big > dattr.orig_attr.max_mr_size)
		big = dattr.orig_attr.max_mr_size;
	buf = reserve(big);
	base = cg_current();
	cg_stats_read(&st);
	{
		struct ibv_mr *mr = ibv_reg_mr(pd, buf, big,
					       IBV_ACCESS_LOCAL_WRITE);
		double t;

		err = errno;
		if (mr)
			ibv_dereg_mr(mr);
		t = now_ms();
		cur = settle(base, 2 * MiB);
		t = now_ms() - t;
		printf("REPORT cgroup: a %zu GiB MR as root: %s; memory.current %+ld KiB from before, %.0f ms after the call\n",
		       big / GiB, mr ? "registered" : strerror(err),
		       (cur - base) / 1024, t);
		cg_stats_delta("cgroup: after the big MR", &st);
		report(!mr && err == ENOMEM,
		       "a %zu GiB MR whose page array (%zu MiB) exceeds memory.max: %s",
		       big / GiB, big / PAGE * 8 / MiB,
		       mr ? "registered" : strerror(err));
		report(cur - base < 2 * (long)MiB && vm_pin_kb() == 0,
		       "and leaves nothing: memory.current %+ld KiB (after %.0f ms), VmPin %ld kB",
		       (cur - base) / 1024, t, vm_pin_kb());
	}
	munmap(buf, big);
	check(!ibv_destroy_cq(small), "destroy CQ");
}

static struct ibv_qp *qa, *qb;
static struct ibv_cq *odp_cq;

static enum ibv_wc_status wait_wc(void)
{
	struct ibv_wc wc;
	int n, spins = 0;

	while ((n = ibv_poll_cq(odp_cq, 1, &wc)) == 0 && spins++ < 200000000)
		;
	if (n != 1) {
		printf("FAIL: no completion\n");
		exit(1);
	}
	return wc.status;
}

/* a WRITEs @len bytes of @src (@lkey) to @dst of @rkey at b. */
static enum ibv_wc_status rdma_write(void *src, uint32_t lkey, uint32_t len,
				     void *dst, uint32_t rkey)
{
	struct ibv_sge sge = { (uintptr_t)src, len, lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { (uintptr_t)dst, rkey },
	}, *bad;

	if (ibv_post_send(qa, &wr, &bad))
		die("ibv_post_send");
	return wait_wc();
}

/*
 * On-demand MRs up to max_mr_size: registering costs no memory that grows
 * with the length, touching a few pages costs memory for those pages, and
 * the data path reaches a page far into one.
 */
static void check_odp(int gid_index)
{
	static const unsigned int shifts[] = { 30, 36, 40 };
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_ON_DEMAND;
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	size_t max = 1UL << 40;
	struct ibv_mr *mrs[3], *local_mr;
	unsigned long before, grew;
	long base, cur;
	union ibv_gid gid;
	uint8_t *buf, *local, *far;
	unsigned int i, n;
	int ok;

	if (!(dattr.odp_caps.general_caps & IBV_ODP_SUPPORT)) {
		printf("ok: the device offers no ODP: nothing to check\n");
		return;
	}
	if (dattr.orig_attr.max_mr_size < max)
		max = dattr.orig_attr.max_mr_size;
	buf = reserve(max);

	for (n = 0; n < sizeof(shifts) / sizeof(shifts[0]); n++) {
		size_t len = 1UL << shifts[n];
		double t;

		if (len > max)
			break;
		base = cg_current();
		before = pgalloc();
		t = now_ms();
		mrs[n] = ibv_reg_mr(pd, buf, len, access);
		t = now_ms() - t;
		grew = pgalloc() - before;
		cur = cg_current();
		printf("REPORT odp: reg_mr of 2^%u bytes on demand: %s in %.1f ms, %lu pages allocated meanwhile, memory.current %+ld KiB (an array of 8 bytes a page: %lu pages)\n",
		       shifts[n], mrs[n] ? "registered" : strerror(errno), t,
		       grew, (cur - base) / 1024, len / PAGE * 8 / PAGE);
		/* Registering may fail cleanly; it must not cost the length. */
		report(grew < 256 && cur - base < (long)MiB,
		       "an on-demand MR of 2^%u bytes (%s) allocates %lu pages, memory.current %+ld KiB",
		       shifts[n], mrs[n] ? "registered" : strerror(errno),
		       grew, (cur - base) / 1024);
		if (!mrs[n])
			break;
	}
	if (n < sizeof(shifts) / sizeof(shifts[0]) || !mrs[n - 1]) {
		for (i = 0; i < n; i++)
			if (mrs[i])
				ibv_dereg_mr(mrs[i]);
		munmap(buf, max);
		return;
	}

	/*
	 * Prefetching 1 GiB of which nothing is mapped yet (PREFETCH_NO_FAULT
	 * records only what is mapped) allocates nothing for the range.
	 */
	{
		struct ibv_sge sge = { (uintptr_t)buf + 64 * GiB, 1 << 30,
				       mrs[n - 1]->lkey };
		double t;
		int err;

		base = cg_current();
		before = pgalloc();
		t = now_ms();
		err = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
				    IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1);
		t = now_ms() - t;
		grew = pgalloc() - before;
		cur = cg_current();
		printf("REPORT odp: PREFETCH_NO_FAULT of 1 GiB not mapped: %s in %.1f ms, %lu pages allocated, memory.current %+ld KiB\n",
		       err ? strerror(err) : "done", t, grew,
		       (cur - base) / 1024);
		report(!err && grew < 256 && cur - base < (long)MiB,
		       "prefetching 1 GiB that is not mapped allocates %lu pages, memory.current %+ld KiB",
		       grew, (cur - base) / 1024);
	}

	/* A peer's WRITE 512 GiB (or half the MR) into the biggest MR. */
	far = buf + (max / 2) + 12345;
	if (ibv_query_gid(ctx, 1, gid_index, &gid))
		die("ibv_query_gid");
	odp_cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!odp_cq)
		die("ibv_create_cq");
	init.send_cq = odp_cq;
	init.recv_cq = odp_cq;
	qa = ibv_create_qp(pd, &init);
	qb = ibv_create_qp(pd, &init);
	if (!qa || !qb ||
	    rc_qp_connect(qa, qb->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7) ||
	    rc_qp_connect(qb, qa->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7))
		die("QPs");
	local = aligned_alloc(PAGE, 2 * PAGE);
	local_mr = local ? ibv_reg_mr(pd, local, 2 * PAGE,
				      IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!local_mr)
		die("local MR");
	for (i = 0; i < 2 * PAGE; i++)
		local[i] = (uint8_t)(i * 13 + 7);
	ok = rdma_write(local, local_mr->lkey, 2 * PAGE, far,
			mrs[n - 1]->rkey) == IBV_WC_SUCCESS &&
	     !memcmp(far, local, 2 * PAGE);
	report(ok, "a WRITE of 8 KiB lands %zu GiB into a %zu GiB on-demand MR",
	       (size_t)(far - buf) / GiB, max / GiB);

	ibv_destroy_qp(qa);
	ibv_destroy_qp(qb);
	ibv_destroy_cq(odp_cq);
	ibv_dereg_mr(local_mr);
	free(local);
	base = cg_current();
	for (i = 0; i < n; i++)
		check(!ibv_dereg_mr(mrs[i]), "dereg on-demand MR %u", i);
	munmap(buf, max);
	cur = cg_current();
	report(cur <= base, "deregistered and unmapped: memory.current %+ld KiB",
	       (cur - base) / 1024);
}

/*
 * max_pd is what the device keeps to, counting the @in_use PDs that
 * others (kernel consumers) hold.
 */
static void check_pd(int in_use)
{
	int max = dattr.orig_attr.max_pd - in_use, n, err = 0;
	struct ibv_pd **pds = calloc(max + 1, sizeof(*pds));
	struct ibv_pd *again;

	if (!pds)
		die("calloc");
	/* The PD of main() counts too. */
	pds[0] = pd;
	for (n = 1; n <= max; n++) {
		pds[n] = ibv_alloc_pd(ctx);
		if (!pds[n]) {
			err = errno;
			break;
		}
	}
	report(n == max, "%d PDs allocated of max_pd %d less %d in use, then %s",
	       n, dattr.orig_attr.max_pd, in_use,
	       n == max ? strerror(err) : "no failure");
	report(n > max || err == ENOMEM, "the PD past max_pd fails with ENOMEM: %s",
	       strerror(err));
	check(!ibv_dealloc_pd(pds[n - 1]), "dealloc a PD");
	again = ibv_alloc_pd(ctx);
	report(again, "after one is freed, a PD can be allocated again");
	if (again)
		pds[n - 1] = again;
	else
		n--;
	for (n = n - 1; n >= 1; n--)
		check(!ibv_dealloc_pd(pds[n]), "dealloc PD %d", n);
	free(pds);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
			"usage: limits DEV memlock|cgroup CGDIR|odp GID CGDIR|pd [IN_USE]\n");
		return 2;
	}
	/* Lines reach the log even if the program is killed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_device_ex(ctx, NULL, &dattr)) {
		printf("FAIL: cannot open %s\n", argv[1]);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		die("ibv_alloc_pd");

	if (!strcmp(argv[2], "memlock")) {
		check_memlock();
	} else if (!strcmp(argv[2], "cgroup") && argc == 4) {
		cgdir = argv[3];
		check_cgroup();
	} else if (!strcmp(argv[2], "odp") && argc == 5) {
		cgdir = argv[4];
		check_odp(atoi(argv[3]));
	} else if (!strcmp(argv[2], "pd") && argc <= 4) {
		check_pd(argc == 4 ? atoi(argv[3]) : 0);
	} else {
		fprintf(stderr, "limits: unknown mode %s\n", argv[2]);
		return 2;
	}
	check(!ibv_dealloc_pd(pd), "dealloc pd");
	check(!ibv_close_device(ctx), "close");
	printf("%s %s: %s\n", argv[1], argv[2], failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
