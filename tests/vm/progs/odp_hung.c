// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A hung on-demand page fault blocks neither other QPs nor destroy.
 *
 *   odp_hung DEV GID_INDEX
 *
 * The process serves a FUSE file system of its own (raw /dev/fuse, no
 * libfuse) with one 64 KiB file that it never lets anybody read: FUSE_READ
 * is noted and never answered.  The file is mapped and registered on
 * demand as B's MR; A's RDMA READ of it makes B's responder fault, and
 * the fault job hangs in FUSE.  Meanwhile:
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "common.h"

#define PAGE		4096UL
#define FILE_LEN	(64 * 1024UL)	/* the FUSE file */
#define BUF_LEN		(64 * 1024UL)	/* C and D's buffers */
#define FUSE_BUF	(256 * 1024)	/* > max_write + headers */
#define FILE_NODE	2		/* the file's node id; the root is 1 */
#define DESTROY_BOUND	10.0		/* seconds for destroying B and A */
#define ROUNDS		4		/* C <-> D rounds while it hangs */

/* The FUSE side. */
static int fuse_fd = -1;
static char mnt[] = "/tmp/sroce-hung.XXXXXX";
static char abort_path[80];
static int fuse_reads;		/* FUSE_READs seen, never answered */
static unsigned int kernel_minor, reply_minor;

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

/* End the hung fault: abort the FUSE connection.  0 or -1. */
static int end_fault(void)
{
	int fd, ok;

	if (!abort_path[0])
		return -1;
	fd = open(abort_path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, "1", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

static void die(const char *what)
{
	printf("FAIL: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	end_fault();
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
		       what, end_fault() ? "could not" : "done");
		fflush(stdout);
		_exit(1);
	}
	return NULL;
}

static void fuse_reply(uint64_t unique, int error, const void *arg,
		       size_t len)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh) + len,
		.error = error,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ &oh, sizeof(oh) },
		{ (void *)arg, len },
	};

	/* ENOENT: the request was interrupted meanwhile; nothing to do. */
	if (writev(fuse_fd, iov, len ? 2 : 1) < 0 && errno != ENOENT)
		printf("note: FUSE reply to %llu: %s\n",
		       (unsigned long long)unique, strerror(errno));
}

static void fuse_attr_of(uint64_t node, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->blksize = PAGE;
	if (node == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0644;
		a->nlink = 1;
		a->size = FILE_LEN;
		a->blocks = FILE_LEN / 512;
	}
}

static void fuse_init(const struct fuse_in_header *h,
		      const struct fuse_init_in *in)
{
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION,
		.max_readahead = 0,	/* one read, by read_folio */
		.max_background = 4,
		.congestion_threshold = 3,
		.max_write = 64 * 1024,
		.time_gran = 1,
	};
	size_t len = sizeof(out);

	kernel_minor = in->minor;
	if (in->major != FUSE_KERNEL_VERSION) {
		fuse_reply(h->unique, -EPROTO, NULL, 0);
		return;
	}
	reply_minor = in->minor < FUSE_KERNEL_MINOR_VERSION ?
		      in->minor : FUSE_KERNEL_MINOR_VERSION;
	out.minor = reply_minor;
	if (reply_minor < 23)
		len = FUSE_COMPAT_22_INIT_OUT_SIZE;
	fuse_reply(h->unique, 0, &out, len);
}

/* The daemon: answers all but FUSE_READ, until the connection ends. */
static void *fuse_serve(void *arg)
{
	char *buf = arg;
	struct fuse_in_header *h = (struct fuse_in_header *)buf;
	void *body = buf + sizeof(*h);
	struct fuse_entry_out entry;
	struct fuse_attr_out attr;
	struct fuse_open_out open_out;
	ssize_t n;

	for (;;) {
		n = read(fuse_fd, buf, FUSE_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == ENOENT))
			continue;
		if (n < (ssize_t)sizeof(*h))
			break;		/* ENODEV once aborted or unmounted */
		switch (h->opcode) {
		case FUSE_INIT:
			fuse_init(h, body);
			break;
		case FUSE_LOOKUP:
			if (h->nodeid != FUSE_ROOT_ID || strcmp(body, "f")) {
				fuse_reply(h->unique, -ENOENT, NULL, 0);
				break;
			}
			memset(&entry, 0, sizeof(entry));
			entry.nodeid = FILE_NODE;
			entry.generation = 1;
			entry.entry_valid = 3600;
			entry.attr_valid = 3600;
			fuse_attr_of(FILE_NODE, &entry.attr);
			fuse_reply(h->unique, 0, &entry, sizeof(entry));
			break;
		case FUSE_GETATTR:
			memset(&attr, 0, sizeof(attr));
			attr.attr_valid = 3600;
			fuse_attr_of(h->nodeid, &attr.attr);
			fuse_reply(h->unique, 0, &attr, sizeof(attr));
			break;
		case FUSE_OPEN:
			memset(&open_out, 0, sizeof(open_out));
			open_out.fh = 1;	/* page cache, no direct I/O */
			fuse_reply(h->unique, 0, &open_out, sizeof(open_out));
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_DESTROY:
			fuse_reply(h->unique, 0, NULL, 0);
			break;
		case FUSE_READ:
			/* Never answered: whoever reads waits. */
			__atomic_add_fetch(&fuse_reads, 1, __ATOMIC_SEQ_CST);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;		/* no reply expected (or wanted) */
		default:
			fuse_reply(h->unique, -ENOSYS, NULL, 0);
			break;
		}
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
	pthread_t wd_thread, serve_thread, destroy_thread;
	char opts[128], path[64];
	double t0, took, worst = 0, fault_at, read_wait, kernel_b = -1;
	double munmap_at = -1, after_abort = 0;
	struct stat st;
	struct ibv_wc wc;
	void *map, *fuse_buf;
	int gid_index, fd, i, ok, n, close_err;
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
	fuse_buf = malloc(FUSE_BUF);
	if (!fuse_buf)
		die("malloc");
	memset(fuse_buf, 0, FUSE_BUF);
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0)
		die("open /dev/fuse");
	if (!mkdtemp(mnt))
		die("mkdtemp");
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 fuse_fd);
	if (mount("sroce-hung", mnt, "fuse", MS_NOSUID | MS_NODEV, opts))
		die("mount -t fuse");
	if (pthread_create(&serve_thread, NULL, fuse_serve, fuse_buf))
		die("pthread_create");
	t0 = bound("stat of the FUSE mount", 10);
	if (stat(mnt, &st))
		die("stat");
	snprintf(abort_path, sizeof(abort_path),
		 "/sys/fs/fuse/connections/%u/abort", minor(st.st_dev));
	snprintf(path, sizeof(path), "%s/f", mnt);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open the FUSE file");
	unbound(t0);
	report(access(abort_path, W_OK) == 0,
	       "FUSE mounted on %s (kernel protocol 7.%u, answered 7.%u), %s there",
	       mnt, kernel_minor, reply_minor, abort_path);

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
	report(__atomic_load_n(&fuse_reads, __ATOMIC_SEQ_CST) == 0 &&
	       resident(map, FILE_LEN) == 0,
	       "registering the FUSE mapping on demand reads nothing (%d FUSE_READs, %lu pages resident)",
	       fuse_reads, resident(map, FILE_LEN));

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
	while (!__atomic_load_n(&fuse_reads, __ATOMIC_SEQ_CST) &&
	       now() - t0 < 5)
		sched_yield();
	fault_at = now();
	read_wait = fault_at - t0;
	if (!__atomic_load_n(&fuse_reads, __ATOMIC_SEQ_CST)) {
		check(0, "no FUSE_READ within 5 s of A's READ: the fault did not reach FUSE");
		end_fault();
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
	report(end_fault() == 0, "wrote 1 to %s %.1f s after the fault began",
	       abort_path, t0 - fault_at);
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
	t0 = bound("munmap, close and umount of the FUSE file system", 10);
	ok = munmap(map, FILE_LEN) == 0;
	close_err = close(fd) ? errno : 0;
	ok = ok && umount2(mnt, MNT_DETACH) == 0 && close(fuse_fd) == 0;
	took = unbound(t0);
	report(ok, "munmap, close (%s) and umount of the FUSE file system return (%.0f ms)%s%s",
	       close_err ? strerror(close_err) : "0", took * 1e3,
	       ok ? "" : ": ", ok ? "" : strerror(errno));
	t0 = bound("the FUSE daemon's end", 10);
	pthread_join(serve_thread, NULL);
	unbound(t0);
	rmdir(mnt);
	report(__atomic_load_n(&fuse_reads, __ATOMIC_SEQ_CST) >= 1,
	       "the daemon saw %d FUSE_READ and answered none",
	       fuse_reads);

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
