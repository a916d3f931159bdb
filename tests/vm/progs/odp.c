// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * On-demand paging (IBV_ACCESS_ON_DEMAND) on one device, between two RC
 * QPs of one process: a is the requester, and its peer b owns the
 * on-demand MR in most checks.
 *
 *   odp DEV GID_INDEX
 *
 * Checks, each printing "ok: ..." or "FAIL: ...":
 *  - the device offers explicit and implicit ODP for every RC operation;
 *  - registering pins nothing (VmPin) and faults nothing in (mincore);
 *  - a peer's WRITE, READ and FETCH_ADD reach untouched memory, and SEND
 *    lands in and leaves from it;
 *  - after MADV_COLLAPSE moved pages into a new huge page, a peer reads
 *    and writes them where they are now;
 *  - after madvise(MADV_DONTNEED) a peer reads the fresh zero page, and
 *    its WRITE lands in the page that the process sees from then on;
 *  - after the range is mapped anew (mmap MAP_FIXED of a memfd) a peer
 *    reads and writes the new mapping, never the old pages;
 *  - ibv_advise_mr PREFETCH_WRITE faults the pages in;
 *  - an implicit MR (all of the address space) reaches memory mapped after
 *    it was registered;
 *  - a WRITE to an address unmapped since registration fails with a
 *    remote access error, and the process goes on unharmed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define PAGE	4096UL
#define HUGE	(2UL << 20)
#define NPAGES	64UL
#define LEN	(NPAGES * PAGE)

static struct ibv_qp *qa, *qb;
static struct ibv_cq *cq;
static struct ibv_mr *local_mr;	/* a's ordinary (pinned) buffer */
static uint8_t *local;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Pages of [p, p + len) resident in the process, by mincore(). */
static unsigned long resident(void *p, size_t len)
{
	unsigned char vec[NPAGES];
	unsigned long i, n = 0;

	if (mincore(p, len, vec))
		die("mincore");
	for (i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

/* The page frame behind @p, from /proc/self/pagemap (root sees it). */
static uint64_t pfn_of(void *p)
{
	uint64_t entry = 0;
	FILE *f = fopen("/proc/self/pagemap", "r");

	if (!f || fseek(f, (uintptr_t)p / PAGE * 8, SEEK_SET) ||
	    fread(&entry, 8, 1, f) != 1)
		entry = 0;
	if (f)
		fclose(f);
	return entry & ((1ULL << 55) - 1);
}

/* kB of pinned memory, from /proc/self/status. */
static long vm_pin(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Wait for the next completion; its status. */
static enum ibv_wc_status wait_wc(struct ibv_wc *wc)
{
	int n, spins = 0;

	while ((n = ibv_poll_cq(cq, 1, wc)) == 0 && spins++ < 200000000)
		;
	if (n != 1) {
		printf("FAIL: no completion\n");
		exit(1);
	}
	return wc->status;
}

/* a: one RDMA op between local[loff] and @raddr of @rkey; its status. */
static enum ibv_wc_status rdma(enum ibv_wr_opcode op, size_t loff,
			       uint32_t len, void *raddr, uint32_t rkey,
			       uint64_t add)
{
	struct ibv_sge sge = { (uintptr_t)local + loff, len, local_mr->lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_wc wc;

	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD) {
		wr.wr.atomic.remote_addr = (uintptr_t)raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = add;
	} else {
		wr.wr.rdma.remote_addr = (uintptr_t)raddr;
		wr.wr.rdma.rkey = rkey;
	}
	if (ibv_post_send(qa, &wr, &bad))
		die("ibv_post_send");
	return wait_wc(&wc);
}

/* SEND @len bytes from @src (lkey @skey) on @from, into @dst on @to. */
static int send_msg(struct ibv_qp *from, void *src, uint32_t skey,
		    struct ibv_qp *to, void *dst, uint32_t dkey, uint32_t len)
{
	struct ibv_sge ssge = { (uintptr_t)src, len, skey };
	struct ibv_sge rsge = { (uintptr_t)dst, len, dkey };
	struct ibv_send_wr wr = {
		.sg_list = &ssge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_recv_wr rwr = { .sg_list = &rsge, .num_sge = 1 }, *rbad;
	struct ibv_wc wc;
	int ok = 1;

	if (ibv_post_recv(to, &rwr, &rbad) || ibv_post_send(from, &wr, &bad))
		die("post");
	ok &= wait_wc(&wc) == IBV_WC_SUCCESS;
	ok &= wait_wc(&wc) == IBV_WC_SUCCESS;
	return ok;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_device_attr_ex dattr;
	struct ibv_context *ctx;
	struct ibv_mr *odp_mr;
	struct ibv_pd *pd;
	union ibv_gid gid;
	struct ibv_sge sge;
	uint32_t rc_need;
	uint8_t *odp;
	uint64_t *word;
	long pin_before;
	int gid_index, fd, ok;

	if (argc != 3) {
		fprintf(stderr, "usage: odp DEV GID_INDEX\n");
		return 2;
	}
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid))
		die("device or GID");

	if (ibv_query_device_ex(ctx, NULL, &dattr))
		die("ibv_query_device_ex");
	rc_need = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV |
		  IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ |
		  IBV_ODP_SUPPORT_ATOMIC;
	report((dattr.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
	       (dattr.odp_caps.general_caps & IBV_ODP_SUPPORT_IMPLICIT) &&
	       (dattr.odp_caps.per_transport_caps.rc_odp_caps & rc_need) ==
	       rc_need, "ODP, explicit and implicit, offered for RC SEND, RECV, WRITE, READ and ATOMIC");

	pd = ibv_alloc_pd(ctx);
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!pd || !cq)
		die("pd/cq");
	init.send_cq = cq;
	init.recv_cq = cq;
	qa = ibv_create_qp(pd, &init);
	qb = ibv_create_qp(pd, &init);
	if (!qa || !qb ||
	    rc_qp_connect(qa, qb->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7) ||
	    rc_qp_connect(qb, qa->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7))
		die("QPs");
	local = aligned_alloc(PAGE, LEN);
	local_mr = ibv_reg_mr(pd, local, LEN, access);
	if (!local || !local_mr)
		die("local MR");

	/* Fresh anonymous memory, never touched: no pages behind it yet. */
	odp = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (odp == MAP_FAILED)
		die("mmap");
	pin_before = vm_pin();
	odp_mr = ibv_reg_mr(pd, odp, LEN, access | IBV_ACCESS_ON_DEMAND);
	if (!odp_mr) {
		printf("FAIL: ibv_reg_mr with IBV_ACCESS_ON_DEMAND: %m\n");
		return 1;
	}
	report(vm_pin() == pin_before && resident(odp, LEN) == 0,
	       "registering %lu KiB on demand pins nothing and faults nothing in (VmPin %ld kB, %lu pages resident)",
	       LEN / 1024, vm_pin(), resident(odp, LEN));

	/* A peer's WRITE faults the pages in; the process sees the data. */
	fill(local, LEN, 1);
	ok = rdma(IBV_WR_RDMA_WRITE, 0, LEN, odp, odp_mr->rkey, 0) ==
	     IBV_WC_SUCCESS;
	report(ok && !memcmp(odp, local, LEN) && resident(odp, LEN) == NPAGES,
	       "a WRITE of %lu KiB into untouched ODP memory lands where the process reads it",
	       LEN / 1024);

	/* The process changes its memory; the peer's READ sees the change. */
	fill(odp, LEN, 2);
	memset(local, 0, LEN);
	ok = rdma(IBV_WR_RDMA_READ, 0, LEN, odp, odp_mr->rkey, 0) ==
	     IBV_WC_SUCCESS;
	report(ok && !memcmp(odp, local, LEN),
	       "a READ returns what the process wrote");

	/* FETCH_ADD on the process's word. */
	word = (uint64_t *)(odp + 3 * PAGE + 64);
	*word = 1000;
	ok = rdma(IBV_WR_ATOMIC_FETCH_AND_ADD, 0, 8, word, odp_mr->rkey, 5) ==
	     IBV_WC_SUCCESS;
	report(ok && *(uint64_t *)local == 1000 && *word == 1005,
	       "FETCH_ADD on ODP memory (returned %llu, word now %llu)",
	       (unsigned long long)*(uint64_t *)local,
	       (unsigned long long)*word);

	/* SEND out of and into ODP memory, both ends on demand. */
	fill(odp, PAGE, 3);
	memset(odp + 8 * PAGE, 0, 3 * PAGE);
	ok = send_msg(qa, odp, odp_mr->lkey, qb, odp + 8 * PAGE + 100,
		      odp_mr->lkey, 2 * PAGE);
	report(ok && !memcmp(odp + 8 * PAGE + 100, odp, PAGE),
	       "SEND from ODP memory into an ODP receive buffer");

	/*
	 * Pages that move: MADV_COLLAPSE copies the small pages of a 2 MiB
	 * range into one new huge page and frees the old ones.  Once the
	 * process has written the new pages, a peer that still used the old
	 * ones would read stale bytes.
	 */
	{
		uint8_t *raw, *h;
		uint64_t before[NPAGES];
		unsigned long i, moved = 0;
		struct ibv_mr *hmr;
		int err;

		raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			die("mmap");
		h = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
		madvise(h, HUGE, MADV_NOHUGEPAGE);
		fill(h, HUGE, 10);
		hmr = ibv_reg_mr(pd, h, HUGE, access | IBV_ACCESS_ON_DEMAND);
		if (!hmr)
			die("ibv_reg_mr (2 MiB, on demand)");
		ok = rdma(IBV_WR_RDMA_READ, 0, LEN, h, hmr->rkey, 0) ==
		     IBV_WC_SUCCESS && !memcmp(local, h, LEN);
		for (i = 0; i < NPAGES; i++)
			before[i] = pfn_of(h + i * PAGE);
		madvise(h, HUGE, MADV_HUGEPAGE);
		err = madvise(h, HUGE, MADV_COLLAPSE) ? errno : 0;
		for (i = 0; i < NPAGES; i++)
			moved += pfn_of(h + i * PAGE) != before[i];
		fill(h, LEN, 11);
		memset(local, 0, LEN);
		ok = ok && rdma(IBV_WR_RDMA_READ, 0, LEN, h, hmr->rkey, 0) ==
			   IBV_WC_SUCCESS && !memcmp(local, h, LEN);
		fill(local, PAGE, 12);
		ok = ok && rdma(IBV_WR_RDMA_WRITE, 0, PAGE, h + 7 * PAGE,
				hmr->rkey, 0) == IBV_WC_SUCCESS &&
		     !memcmp(h + 7 * PAGE, local, PAGE);
		report(ok && !err && moved == NPAGES,
		       "after MADV_COLLAPSE moved %lu of %lu pages (%s), READ and WRITE reach the pages where they are now",
		       moved, NPAGES, err ? strerror(err) : "done");
		check(!ibv_dereg_mr(hmr), "ibv_dereg_mr (2 MiB)");
		munmap(raw, 2 * HUGE);
	}

	/* MADV_DONTNEED drops the pages: the peer must see the zero page. */
	if (madvise(odp, LEN, MADV_DONTNEED))
		die("madvise");
	memset(local, 0xee, LEN);
	ok = rdma(IBV_WR_RDMA_READ, 0, LEN, odp, odp_mr->rkey, 0) ==
	     IBV_WC_SUCCESS;
	report(ok && all_bytes(local, LEN, 0),
	       "after MADV_DONTNEED a READ returns zeros, not the dropped pages");
	fill(local, PAGE, 4);
	ok = rdma(IBV_WR_RDMA_WRITE, 0, PAGE, odp + 5 * PAGE, odp_mr->rkey,
		  0) == IBV_WC_SUCCESS;
	report(ok && !memcmp(odp + 5 * PAGE, local, PAGE),
	       "after MADV_DONTNEED a WRITE lands in the page the process sees");

	/* Map a memfd over the range: the peer must follow the new pages. */
	fd = memfd_create("odp", 0);
	if (fd < 0 || ftruncate(fd, LEN))
		die("memfd");
	if (mmap(odp, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED)
		die("mmap MAP_FIXED");
	memset(odp, 0xab, LEN);
	memset(local, 0, LEN);
	ok = rdma(IBV_WR_RDMA_READ, 0, LEN, odp, odp_mr->rkey, 0) ==
	     IBV_WC_SUCCESS;
	report(ok && all_bytes(local, LEN, 0xab),
	       "after mmap MAP_FIXED a READ returns the new mapping's bytes");
	fill(local, LEN, 5);
	ok = rdma(IBV_WR_RDMA_WRITE, 0, LEN, odp, odp_mr->rkey, 0) ==
	     IBV_WC_SUCCESS;
	report(ok && !memcmp(odp, local, LEN),
	       "after mmap MAP_FIXED a WRITE lands in the new mapping");

	/* Prefetch faults pages in without anybody touching them. */
	if (madvise(odp, LEN, MADV_REMOVE))
		die("madvise MADV_REMOVE");
	sge = (struct ibv_sge){ (uintptr_t)odp, LEN / 2, odp_mr->lkey };
	ok = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			   IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1) == 0;
	report(ok && resident(odp, LEN) == NPAGES / 2,
	       "ibv_advise_mr PREFETCH_WRITE faults the range in (%lu of %lu pages resident)",
	       resident(odp, LEN), NPAGES);

	/*
	 * An implicit MR (all of the address space): memory mapped after
	 * the registration is reachable through it, with nothing pinned.
	 */
	{
		struct ibv_mr *imr;
		uint8_t *fresh;

		pin_before = vm_pin();
		imr = ibv_reg_mr(pd, NULL, SIZE_MAX,
				 access | IBV_ACCESS_ON_DEMAND);
		fresh = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fresh == MAP_FAILED)
			die("mmap");
		ok = imr != NULL;
		if (ok) {
			fill(local, LEN, 8);
			ok = rdma(IBV_WR_RDMA_WRITE, 0, LEN, fresh, imr->rkey,
				  0) == IBV_WC_SUCCESS &&
			     !memcmp(fresh, local, LEN);
			fill(fresh, LEN, 9);
			ok = ok && rdma(IBV_WR_RDMA_READ, 0, LEN, fresh,
					imr->rkey, 0) == IBV_WC_SUCCESS &&
			     !memcmp(fresh, local, LEN);
			ok = ok && vm_pin() == pin_before;
		}
		report(ok, "an implicit ODP MR reaches memory mapped after it was registered (WRITE and READ), pinning nothing%s",
		       imr ? "" : ": registration failed");
		if (imr && ibv_dereg_mr(imr))
			check(0, "ibv_dereg_mr of the implicit MR");
		munmap(fresh, LEN);
	}

	/* Gone from the address space: a remote access error, no harm. */
	if (munmap(odp, LEN))
		die("munmap");
	ok = rdma(IBV_WR_RDMA_WRITE, 0, PAGE, odp, odp_mr->rkey, 0) ==
	     IBV_WC_REM_ACCESS_ERR;
	report(ok, "a WRITE to unmapped ODP memory fails with a remote access error");

	if (ibv_dereg_mr(odp_mr))
		check(0, "ibv_dereg_mr of the ODP MR");
	close(fd);
	ibv_destroy_qp(qa);
	ibv_destroy_qp(qb);
	ibv_dereg_mr(local_mr);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("odp: %d failures\n", failures);
	return failures ? 1 : 0;
}
