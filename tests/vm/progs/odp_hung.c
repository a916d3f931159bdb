// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A hung on-demand page fault blocks neither other QPs nor destroy.
 *
 *   odp_hung DEV GID_INDEX
 *
 * The process serves a FUSE file system of its own (fuse_file.h) with
 * one 64 KiB file that it never lets anybody read: FUSE_READ is counted
 * and never answered.  The file is mapped and registered on demand as
 * B's MR; A's RDMA READ of it makes B's responder fault, and the fault
 * job hangs in FUSE.  Meanwhile:
 *  - QPs C and D, with pinned memory, WRITE and READ 64 KiB correctly and
 *    in bounded time;
 *  - A's READ does not complete (B waits for its fault);
 *  - destroying B and A returns within 10 s: the provider's destroy
 *    unmaps the QP's rings, so this also shows that the hung fault does
 *    not hold the process's mmap lock.  If it fails, the program tells
 *    whether the kernel's part of B's destroy had returned (the
 *    destroying thread then sits in munmap).
 * Then the connection is aborted (fusectl), which ends the fault, and
 * deregistering the MR, munmap and umount return; a new QP pair works.
 *
 * Each check prints "ok: ..." or "FAIL: ..."; a watchdog ends the process
 * (aborting the FUSE connection first) when a call does not return in
 * time.  The last line, "figures: ...", is for the report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "fuse_file.h"

#define PAGE		4096UL
#define FILE_LEN	(64 * 1024UL)	/* the FUSE file */
#define BUF_LEN		(64 * 1024UL)	/* C and D's buffers */
#define DESTROY_BOUND	10.0		/* seconds for destroying B and A */
#define ROUNDS		4		/* C <-> D rounds while it hangs */

/* The FUSE file, whose reads are never answered. */
static struct fuse_file ff = {
	.name = "sroce-hung",
	.size = FILE_LEN,
	.delay_ms = -1,
};

/* The watchdog: what runs now, and until when. */
static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *wd_what;
static double wd_deadline;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	printf("FAIL: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	fuse_file_abort(&ff);
	exit(2);
}

/* From now on, @what must end within @secs. */
static double bound(const char *what, double secs)
{
	double t = now();

	pthread_mutex_lock(&wd_lock);
	wd_what = what;
	wd_deadline = t + secs;
	pthread_mutex_unlock(&wd_lock);
	return t;
}

/* It ended: the seconds since bound() @t0. */
static double unbound(double t0)
{
	pthread_mutex_lock(&wd_lock);
	wd_what = NULL;
	pthread_mutex_unlock(&wd_lock);
	return now() - t0;
}

static void *watchdog(void *arg)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	const char *what;

	for (;;) {
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&wd_lock);
		what = wd_what && now() > wd_deadline ? wd_what : NULL;
		pthread_mutex_unlock(&wd_lock);
		if (!what)
			continue;
		printf("FAIL: %s did not return in time; aborting the FUSE connection (%s)\n",
		       what, fuse_file_abort(&ff) ? "could not" : "done");
		fflush(stdout);
		_exit(1);
	}
	return NULL;
}

/* Pages of [p, p + len) resident, by mincore(). */
static unsigned long resident(void *p, size_t len)
{
	unsigned char vec[FILE_LEN / PAGE];
	unsigned long i, n = 0;

	if (mincore(p, len, vec))
		die("mincore");
	for (i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * One signaled RDMA op on @qp between @len bytes of @lmr's buffer and
 * @raddr of @rkey; its completion must come on @cq within @secs.  Returns
 * the status, or -1 when none came; *@took gets the seconds it took.
 */
static int rdma_op(struct ibv_qp *qp, struct ibv_cq *cq,
		   enum ibv_wr_opcode op, struct ibv_mr *lmr, uint32_t len,
		   void *raddr, uint32_t rkey, double secs, double *took)
{
	struct ibv_sge sge = { (uintptr_t)lmr->addr, len, lmr->lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_wc wc;
	double t0 = now();
	int n = 0;

	wr.wr.rdma.remote_addr = (uintptr_t)raddr;
	wr.wr.rdma.rkey = rkey;
	if (ibv_post_send(qp, &wr, &bad))
		die("ibv_post_send");
	while (now() - t0 < secs && (n = ibv_poll_cq(cq, 1, &wc)) == 0)
		sched_yield();
	*took = now() - t0;
	if (n < 0)
		die("ibv_poll_cq");
	return n ? (int)wc.status : -1;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

/*
 * A WRITE from @x into @y's buffer and a READ of it back, 64 KiB each,
 * with checked contents, each within @secs.  1 if both were right; the
 * slower one's seconds in *@worst.
 */
static int write_read(struct ibv_qp *x, struct ibv_cq *cq,
		      struct ibv_mr *xmr, struct ibv_mr *ymr, uint8_t seed,
		      double secs, double *worst)
{
	uint8_t *xb = xmr->addr, *yb = ymr->addr;
	double t1, t2;
	int ok;

	fill(xb, BUF_LEN, seed);
	memset(yb, 0, BUF_LEN);
	ok = rdma_op(x, cq, IBV_WR_RDMA_WRITE, xmr, BUF_LEN, yb, ymr->rkey,
		     secs, &t1) == IBV_WC_SUCCESS && !memcmp(xb, yb, BUF_LEN);
	fill(yb, BUF_LEN, seed + 1);
	memset(xb, 0, BUF_LEN);
	ok = ok && rdma_op(x, cq, IBV_WR_RDMA_READ, xmr, BUF_LEN, yb,
			   ymr->rkey, secs, &t2) == IBV_WC_SUCCESS &&
	     !memcmp(xb, yb, BUF_LEN);
	*worst = t1 > t2 ? t1 : t2;
	return ok;
}

/* The destroyer: destroys B and then A when told, away from main. */
static struct ibv_qp *qa, *qb;
static int go_pipe[2];
static pid_t destroyer_tid;
static int destroy_b_ret = -1, destroy_a_ret = -1;
static double destroy_b_took, destroy_a_took;
static int destroy_done;

static void *destroyer(void *arg)
{
	double t;
	char c;

	__atomic_store_n(&destroyer_tid, (pid_t)syscall(SYS_gettid),
			 __ATOMIC_SEQ_CST);
	if (read(go_pipe[0], &c, 1) != 1)
		return NULL;
	t = now();
	destroy_b_ret = ibv_destroy_qp(qb);
	destroy_b_took = now() - t;
	t = now();
	destroy_a_ret = ibv_destroy_qp(qa);
	destroy_a_took = now() - t;
	__atomic_store_n(&destroy_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The system call the destroyer is in, from /proc (-1: running). */
static long destroyer_syscall(void)
{
	char path[64], line[64] = "";
	long nr = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall",
		 (int)destroyer_tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n > 0 && sscanf(line, "%ld", &nr) != 1)
		nr = -1;
	return nr;
}

static struct ibv_qp *rc_qp(struct ibv_pd *pd, struct ibv_cq *cq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &init);

	if (!qp)
		die("ibv_create_qp");
	return qp;
}

static struct ibv_mr *pinned_buf(struct ibv_pd *pd)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	void *p = aligned_alloc(PAGE, BUF_LEN);
	struct ibv_mr *mr;

	if (!p)
		die("aligned_alloc");
	memset(p, 0, BUF_LEN);
	mr = ibv_reg_mr(pd, p, BUF_LEN, access);
	if (!mr)
		die("ibv_reg_mr");
	return mr;
}

int main(int argc, char **argv)
{
	struct ibv_qp *qc, *qd, *qe, *qf;
	struct ibv_mr *a_mr, *c_mr, *d_mr, *odp_mr;
	struct ibv_cq *cq_ab, *cq_cd;
	struct ibv_device_attr_ex dattr;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	union ibv_gid gid;
	pthread_t wd_thread, destroy_thread;
	const char *what;
	double t0, took, worst = 0, fault_at, read_wait, kernel_b = -1;
	double munmap_at = -1, after_abort = 0;
	struct ibv_wc wc;
	void *map;
	int gid_index, fd, i, ok, n, err, close_err;
	long nr;

	if (argc != 3) {
		fprintf(stderr, "usage: odp_hung DEV GID_INDEX\n");
		return 2;
	}
	gid_index = atoi(argv[2]);
	/*
	 * Everything that maps memory comes first: should the fault hold
	 * this process's mmap lock (sroce waits for the page without it),
	 * mmap and munmap (malloc growing, thread stacks) would wait for it
	 * and the watchdog could not report.
	 */
	if (pthread_create(&wd_thread, NULL, watchdog, NULL))
		die("pthread_create");
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid))
		die("device or GID");
	if (ibv_query_device_ex(ctx, NULL, &dattr))
		die("ibv_query_device_ex");
	if (!(dattr.odp_caps.general_caps & IBV_ODP_SUPPORT) ||
	    !(dattr.odp_caps.per_transport_caps.rc_odp_caps &
	      IBV_ODP_SUPPORT_READ)) {
		printf("FAIL: %s offers no ODP for RC READ\n", argv[1]);
		return 1;
	}
	report(1, "%s offers ODP for the RC READ responder", argv[1]);

	pd = ibv_alloc_pd(ctx);
	cq_ab = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	cq_cd = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!pd || !cq_ab || !cq_cd)
		die("pd/cq");
	qa = rc_qp(pd, cq_ab);
	qb = rc_qp(pd, cq_ab);
	qc = rc_qp(pd, cq_cd);
	qd = rc_qp(pd, cq_cd);
	/* A's timeout is long (4 s, 7 retries): its READ stays posted. */
	if (rc_qp_connect(qa, qb->qp_num, gid_index, &gid, IBV_MTU_1024,
			  20, 7, 7) ||
	    rc_qp_connect(qb, qa->qp_num, gid_index, &gid, IBV_MTU_1024,
			  20, 7, 7) ||
	    rc_qp_connect(qc, qd->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(qd, qc->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7))
		die("connecting the QPs");
	a_mr = pinned_buf(pd);
	c_mr = pinned_buf(pd);
	d_mr = pinned_buf(pd);
	ok = write_read(qc, cq_cd, c_mr, d_mr, 1, 5, &took);
	report(ok, "C <-> D WRITE and READ 64 KiB before the hang (%.0f ms)",
	       took * 1e3);

	if (pipe(go_pipe) ||
	    pthread_create(&destroy_thread, NULL, destroyer, NULL))
		die("destroyer thread");

	/* The FUSE file system: mount, then serve. */
	t0 = bound("mounting the FUSE file system", 10);
	what = fuse_file_mount(&ff);
	if (what)
		die(what);
	fd = open(ff.path, O_RDONLY);
	if (fd < 0)
		die("open the FUSE file");
	unbound(t0);
	report(access(ff.abort_path, W_OK) == 0,
	       "FUSE mounted on %s (kernel protocol 7.%u, answered 7.%u), %s there",
	       ff.dir, ff.kernel_minor, ff.reply_minor, ff.abort_path);

	/* Mapped and registered on demand: nothing read yet. */
	map = mmap(NULL, FILE_LEN, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap of the FUSE file");
	t0 = bound("ibv_reg_mr of the FUSE mapping", 10);
	odp_mr = ibv_reg_mr(pd, map, FILE_LEN,
			    IBV_ACCESS_ON_DEMAND | IBV_ACCESS_REMOTE_READ);
	if (!odp_mr)
		die("ibv_reg_mr with IBV_ACCESS_ON_DEMAND of the FUSE mapping");
	unbound(t0);
	report(fuse_file_reads(&ff) == 0 && resident(map, FILE_LEN) == 0,
	       "registering the FUSE mapping on demand reads nothing (%d FUSE_READs, %lu pages resident)",
	       fuse_file_reads(&ff), resident(map, FILE_LEN));

	/* A reads B's MR: B's responder faults, and FUSE never answers. */
	{
		struct ibv_sge sge = { (uintptr_t)a_mr->addr, 4 * PAGE,
				       a_mr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_RDMA_READ,
			.send_flags = IBV_SEND_SIGNALED,
		}, *bad;

		wr.wr.rdma.remote_addr = (uintptr_t)map;
		wr.wr.rdma.rkey = odp_mr->rkey;
		t0 = now();
		if (ibv_post_send(qa, &wr, &bad))
			die("ibv_post_send (READ of the FUSE MR)");
	}
	while (!fuse_file_reads(&ff) && now() - t0 < 5)
		sched_yield();
	fault_at = now();
	read_wait = fault_at - t0;
	if (!fuse_file_reads(&ff)) {
		check(0, "no FUSE_READ within 5 s of A's READ: the fault did not reach FUSE");
		fuse_file_abort(&ff);
		return 1;
	}
	report(1, "A's READ of the FUSE-backed ODP MR on B made B fault: FUSE_READ after %.0f ms, left unanswered",
	       read_wait * 1e3);

	/* While it hangs, C and D go on. */
	ok = 1;
	for (i = 0; i < ROUNDS && ok; i++) {
		ok = write_read(qc, cq_cd, c_mr, d_mr, 10 + 2 * i, 5, &took);
		if (took > worst)
			worst = took;
	}
	report(ok, "while the fault hangs, C <-> D WRITE and READ 64 KiB %d times, contents right, each within 5 s (slowest %.0f ms)",
	       ROUNDS, worst * 1e3);

	n = ibv_poll_cq(cq_ab, 1, &wc);
	report(n == 0 || (n == 1 && wc.status != IBV_WC_SUCCESS),
	       "A's READ has not completed successfully meanwhile (%s)",
	       n == 0 ? "nothing yet" :
	       n == 1 ? ibv_wc_status_str(wc.status) : "poll error");

	/* Destroy B, then A, while it hangs; watch the destroyer. */
	t0 = now();
	if (write(go_pipe[1], "x", 1) != 1)
		die("write");
	while (!__atomic_load_n(&destroy_done, __ATOMIC_SEQ_CST) &&
	       now() - t0 < DESTROY_BOUND) {
		nr = destroyer_syscall();
		if (nr == SYS_munmap && munmap_at < 0)
			munmap_at = now() - t0;
		usleep(10000);
	}
	if (__atomic_load_n(&destroy_done, __ATOMIC_SEQ_CST)) {
		report(destroy_b_ret == 0 && destroy_a_ret == 0,
		       "while the fault hangs, ibv_destroy_qp returns %d for B in %.0f ms and %d for A in %.0f ms",
		       destroy_b_ret, destroy_b_took * 1e3, destroy_a_ret,
		       destroy_a_took * 1e3);
		kernel_b = destroy_b_took;
	} else {
		/* The provider unmaps the rings after the kernel's destroy. */
		report(munmap_at >= 0,
		       "the kernel's destroy of B returned while the fault hangs (the destroying thread went on to munmap after %.0f ms)",
		       munmap_at * 1e3);
		nr = destroyer_syscall();
		check(0, "ibv_destroy_qp of B and A did not return within %.0f s while the fault hangs (the destroying thread is in system call %ld%s)",
		      DESTROY_BOUND, nr, nr == SYS_munmap ?
		      ", munmap: the provider unmapping the QP's rings waits for the mmap lock that the fault holds" :
		      "");
	}
	fflush(stdout);

	/* End the fault; then everything must let go. */
	t0 = now();
	report(fuse_file_abort(&ff) == 0,
	       "wrote 1 to %s %.1f s after the fault began", ff.abort_path,
	       t0 - fault_at);
	bound("ibv_destroy_qp after the abort", 10);
	while (!__atomic_load_n(&destroy_done, __ATOMIC_SEQ_CST))
		usleep(10000);
	after_abort = unbound(t0);
	if (kernel_b < 0)
		printf("note: after the abort, ibv_destroy_qp returned %d for B and %d for A, %.0f ms later\n",
		       destroy_b_ret, destroy_a_ret, after_abort * 1e3);
	t0 = bound("ibv_dereg_mr of the ODP MR", 10);
	ok = ibv_dereg_mr(odp_mr) == 0;
	took = unbound(t0);
	report(ok, "after the abort, ibv_dereg_mr of the FUSE-backed ODP MR returns 0 (%.0f ms)",
	       took * 1e3);
	/* close may say ENOTCONN: its FUSE_FLUSH meets the aborted link. */
	t0 = bound("munmap, close, umount and the FUSE daemon's end", 10);
	err = munmap(map, FILE_LEN) ? errno : 0;
	close_err = close(fd) ? errno : 0;
	if (fuse_file_unmount(&ff) && !err)
		err = errno;
	took = unbound(t0);
	report(!err, "munmap, close (%s), umount of the FUSE file system and the daemon's end return (%.0f ms)%s%s",
	       close_err ? strerror(close_err) : "0", took * 1e3,
	       err ? ": " : "", err ? strerror(err) : "");
	report(fuse_file_reads(&ff) >= 1 && fuse_file_answered(&ff) == 0,
	       "the daemon saw %d FUSE_READ and answered %d",
	       fuse_file_reads(&ff), fuse_file_answered(&ff));

	/* A new pair on the device works. */
	t0 = bound("a new QP pair", 30);
	while (ibv_poll_cq(cq_ab, 1, &wc) > 0)
		;
	qe = rc_qp(pd, cq_ab);
	qf = rc_qp(pd, cq_ab);
	if (rc_qp_connect(qe, qf->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(qf, qe->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7))
		die("connecting E and F");
	ok = write_read(qe, cq_ab, c_mr, d_mr, 40, 5, &took);
	ok &= write_read(qc, cq_cd, c_mr, d_mr, 50, 5, &took);
	report(ok, "afterwards a new QP pair (and C <-> D) WRITE and READ 64 KiB correctly");
	check(!ibv_destroy_qp(qe) && !ibv_destroy_qp(qf) &&
	      !ibv_destroy_qp(qc) && !ibv_destroy_qp(qd), "ibv_destroy_qp");
	check(!ibv_dereg_mr(a_mr) && !ibv_dereg_mr(c_mr) &&
	      !ibv_dereg_mr(d_mr), "ibv_dereg_mr");
	check(!ibv_destroy_cq(cq_ab) && !ibv_destroy_cq(cq_cd) &&
	      !ibv_dealloc_pd(pd) && !ibv_close_device(ctx), "teardown");
	unbound(t0);

	if (kernel_b >= 0)
		printf("figures: destroy while hung B %.0f ms, A %.0f ms; C<->D slowest %.0f ms; FUSE_READ after %.0f ms\n",
		       destroy_b_took * 1e3, destroy_a_took * 1e3, worst * 1e3,
		       read_wait * 1e3);
	else
		printf("figures: ibv_destroy_qp while hung did not return in %.0f s (B's kernel destroy done after %.0f ms, then munmap waited), returned %.0f ms after the abort; C<->D slowest %.0f ms; FUSE_READ after %.0f ms\n",
		       DESTROY_BOUND, munmap_at * 1e3, after_abort * 1e3,
		       worst * 1e3, read_wait * 1e3);
	printf("odp_hung: %d failures\n", failures);
	return failures ? 1 : 0;
}
