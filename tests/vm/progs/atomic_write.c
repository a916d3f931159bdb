// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ATOMIC WRITE and FLUSH (IBTA 1.5 memory placement) between two RC QPs
 * of one device.
 *
 *   atomic_write DEV GID_INDEX RACE_OPS
 *   atomic_write DEV GID_INDEX --absent
 *
 * Checks the device's capability bits; that an ATOMIC WRITE stores its 8
 * bytes and nothing else (through ibv_wr_atomic_write and ibv_post_send,
 * whose message must be exactly 8 bytes); that a misaligned one gets a
 * remote invalid request error and one under a key without remote write
 * a remote access error, memory untouched; that RACE_OPS ATOMIC WRITEs
 * racing a thread's CPU atomics on the same word never leave a torn word
 * (every value written has equal halves, so a torn one shows); that a
 * FLUSH of a range or of the MR completes after the WRITEs before it with
 * their data in place; and that a FLUSH the MR does not allow, a
 * persistent FLUSH, or a FLUSH outside the MR gets a remote access error.
 *
 * With --absent, for a kernel whose core has no ATOMIC WRITE or FLUSH
 * (before 6.2): checks that the device offers neither, that an MR asking
 * for FLUSH access is refused with EINVAL, that a QP asking for it is
 * accepted as on later kernels (only the MR grants a FLUSH; rdma-core's
 * tests ask for it on every RC QP), and that an ATOMIC WRITE or a FLUSH
 * posted anyway, between QPs with FLUSH access, fails locally
 * (IBV_WC_LOC_QP_OP_ERR) with memory untouched.
 * Prints "ok:"/"FAIL:" lines; exits 1 on any failure.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* Capability bits of device_cap_flags_ex (IB_UVERBS_DEVICE_*). */
#define CAP_FLUSH_GLOBAL	(1ULL << 38)
#define CAP_FLUSH_PERSISTENT	(1ULL << 39)
#define CAP_ATOMIC_WRITE	(1ULL << 40)

#define BUF_LEN		(4 * 4096)
#define DEPTH		16

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static union ibv_gid gid;
static int gid_index;
/* Does the kernel's core have ATOMIC WRITE and FLUSH (not --absent)? */
static int placement = 1;

struct pair {
	struct ibv_cq_ex *cqx;
	struct ibv_cq *cq;
	struct ibv_qp *req, *resp;
	struct ibv_qp_ex *qpx;
};

static int pair_open(struct pair *p)
{
	struct ibv_cq_init_attr_ex cqa = {
		.cqe = 2 * DEPTH,
		.wc_flags = IBV_WC_STANDARD_FLAGS,
	};
	struct ibv_qp_init_attr_ex qpa = {
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
		.cap = { .max_send_wr = DEPTH, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE,
	};

	struct ibv_qp_attr fa = {
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC |
				   IBV_ACCESS_FLUSH_GLOBAL |
				   IBV_ACCESS_FLUSH_PERSISTENT,
	};

	/* Where the device has none, asking for them is EOPNOTSUPP. */
	if (placement)
		qpa.send_ops_flags |= IBV_QP_EX_WITH_ATOMIC_WRITE |
				      IBV_QP_EX_WITH_FLUSH;
	memset(p, 0, sizeof(*p));
	p->cqx = ibv_create_cq_ex(ctx, &cqa);
	if (!p->cqx)
		return -1;
	p->cq = ibv_cq_ex_to_cq(p->cqx);
	qpa.pd = pd;
	qpa.send_cq = p->cq;
	qpa.recv_cq = p->cq;
	p->req = ibv_create_qp_ex(ctx, &qpa);
	p->resp = ibv_create_qp_ex(ctx, &qpa);
	if (!p->req || !p->resp)
		return -1;
	p->qpx = ibv_qp_to_qp_ex(p->req);
	if (rc_qp_connect(p->req, p->resp->qp_num, gid_index, &gid,
			  IBV_MTU_1024, 14, 7, 7) ||
	    rc_qp_connect(p->resp, p->req->qp_num, gid_index, &gid,
			  IBV_MTU_1024, 14, 7, 7))
		return -1;
	/*
	 * rdma_rxe also wants FLUSH allowed on the QP; sroce leaves it to
	 * the MR, and takes the flags.
	 */
	return ibv_modify_qp(p->resp, &fa, IBV_QP_ACCESS_FLAGS);
}

static void pair_close(struct pair *p)
{
	if (p->req)
		ibv_destroy_qp(p->req);
	if (p->resp)
		ibv_destroy_qp(p->resp);
	if (p->cqx)
		ibv_destroy_cq(p->cq);
}

/*
 * The next completion, through the extended CQ calls (@ex) or through
 * ibv_poll_cq: -1 when none came within 5 s.
 */
static int poll_one(struct pair *p, int ex, enum ibv_wc_status *status,
		    enum ibv_wc_opcode *opcode)
{
	struct ibv_poll_cq_attr attr = {};
	struct timespec t0, t;
	struct ibv_wc wc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (ex) {
			if (ibv_start_poll(p->cqx, &attr))
				goto wait;
			*status = p->cqx->status;
			*opcode = ibv_wc_read_opcode(p->cqx);
			ibv_end_poll(p->cqx);
			return 0;
		}
		if (ibv_poll_cq(p->cq, 1, &wc) == 1) {
			*status = wc.status;
			*opcode = wc.opcode;
			return 0;
		}
wait:
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			return -1;
		sched_yield();
	}
}

static int atomic_write(struct pair *p, uint32_t rkey, uint64_t addr,
			uint64_t value)
{
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_ATOMIC_WRITE,
		.send_flags = IBV_SEND_INLINE,
	}, *bad;
	struct ibv_sge sge = {
		.addr = (uintptr_t)&value,
		.length = sizeof(value),
	};

	/* Without the ibv_wr_* call (--absent), the one way left. */
	if (!placement) {
		wr.sg_list = &sge;
		wr.num_sge = 1;
		wr.wr.rdma.remote_addr = addr;
		wr.wr.rdma.rkey = rkey;
		return ibv_post_send(p->req, &wr, &bad);
	}
	ibv_wr_start(p->qpx);
	p->qpx->wr_id = addr;
	ibv_wr_atomic_write(p->qpx, rkey, addr, &value);
	return ibv_wr_complete(p->qpx);
}

static int flush(struct pair *p, uint32_t rkey, uint64_t addr, size_t len,
		 uint8_t type, uint8_t level)
{
	ibv_wr_start(p->qpx);
	ibv_wr_flush(p->qpx, rkey, addr, len, type, level);
	return ibv_wr_complete(p->qpx);
}

/* Post one op with @post, then wait for its completion. */
#define RUN(p, ex, st, op, post)					\
	((post) ? -2 : poll_one(p, ex, st, op))

static uint8_t *buf;

static int buf_is(uint8_t fill, size_t skip_off, const void *skip,
		  size_t skip_len)
{
	size_t i;

	for (i = 0; i < BUF_LEN; i++) {
		if (i >= skip_off && i < skip_off + skip_len) {
			if (buf[i] != ((const uint8_t *)skip)[i - skip_off])
				return 0;
		} else if (buf[i] != fill) {
			return 0;
		}
	}
	return 1;
}

/* An op on a fresh pair that must fail with @want, memory untouched. */
static void expect_error(const char *what, uint32_t rkey, uint64_t addr,
			 int is_flush, uint8_t type, uint8_t level,
			 enum ibv_wc_status want)
{
	enum ibv_wc_status st = IBV_WC_SUCCESS;
	enum ibv_wc_opcode op = 0;
	struct pair p;
	int r;

	memset(buf, 0x5a, BUF_LEN);
	if (pair_open(&p)) {
		check(0, "%s: set up QPs: %s", what, strerror(errno));
		pair_close(&p);
		return;
	}
	r = is_flush ?
	    RUN(&p, 0, &st, &op, flush(&p, rkey, addr, 64, type, level)) :
	    RUN(&p, 0, &st, &op, atomic_write(&p, rkey, addr,
					      0x0102030405060708ULL));
	report(!r && st == want && buf_is(0x5a, 0, NULL, 0),
	       "%s: %s, memory untouched (got %d: %s, op %d)", what,
	       ibv_wc_status_str(want), r, ibv_wc_status_str(st), op);
	pair_close(&p);
}

static volatile int stop;
static uint64_t *race_word;
static unsigned long torn, local_ops;

static int halves_equal(uint64_t v)
{
	return (uint32_t)v == (uint32_t)(v >> 32);
}

/*
 * The CPU side of the race: it reads the word atomically, and swaps in a
 * value of its own (halves equal too) with a CAS, counting any word
 * whose halves differ: one that a store in two parts would leave.
 */
static void *local_side(void *arg)
{
	uint32_t k = 0x80000000u;

	(void)arg;
	while (!stop) {
		uint64_t v = __atomic_load_n(race_word, __ATOMIC_RELAXED);
		uint64_t mine = (uint64_t)k << 32 | k;

		if (!halves_equal(v))
			torn++;
		if (!__atomic_compare_exchange_n(race_word, &v, mine, 0,
						 __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED) &&
		    !halves_equal(v))
			torn++;
		local_ops++;
		k++;
	}
	return NULL;
}

static void race(struct ibv_mr *mr, int ops)
{
	enum ibv_wc_status st;
	enum ibv_wc_opcode op;
	int posted = 0, done = 0, bad = 0, in_flight = 0;
	uint64_t addr = (uintptr_t)buf + 4096;
	struct pair p;
	pthread_t t;

	race_word = (uint64_t *)(buf + 4096);
	*race_word = 0;
	if (pair_open(&p)) {
		check(0, "race: set up QPs: %s", strerror(errno));
		pair_close(&p);
		return;
	}
	stop = 0;
	torn = 0;
	pthread_create(&t, NULL, local_side, NULL);
	while (done < ops && !bad) {
		while (posted < ops && in_flight < DEPTH) {
			uint32_t k = posted + 1;

			if (atomic_write(&p, mr->rkey, addr,
					 (uint64_t)k << 32 | k)) {
				bad = 1;
				break;
			}
			posted++;
			in_flight++;
		}
		if (bad || poll_one(&p, done & 1, &st, &op) ||
		    st != IBV_WC_SUCCESS || op != IBV_WC_ATOMIC_WRITE) {
			bad = 1;
			break;
		}
		in_flight--;
		done++;
	}
	stop = 1;
	pthread_join(t, NULL);
	if (!halves_equal(*race_word))
		torn++;
	report(!bad && done == ops,
	       "race: %d ATOMIC WRITEs completed as IBV_WC_ATOMIC_WRITE", done);
	report(!torn, "race: no torn word in %d remote and %lu local ops (%lu torn)",
	       done, local_ops, torn);
	pair_close(&p);
}

/* A QP with the ibv_wr_* call of @op cannot be made: EOPNOTSUPP. */
static void refused_op(const char *what, uint64_t op)
{
	struct ibv_qp_init_attr_ex qpa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE | op,
		.pd = pd,
	};
	struct ibv_cq *cq = ibv_create_cq(ctx, 2, NULL, NULL, 0);
	struct ibv_qp *qp;

	if (!cq) {
		check(0, "create a CQ: %s", strerror(errno));
		return;
	}
	qpa.send_cq = cq;
	qpa.recv_cq = cq;
	qp = ibv_create_qp_ex(ctx, &qpa);
	report(!qp && errno == EOPNOTSUPP,
	       "a QP with the %s call is refused with EOPNOTSUPP (%s)", what,
	       qp ? "created" : strerror(errno));
	if (qp)
		ibv_destroy_qp(qp);
	ibv_destroy_cq(cq);
}

/* A kernel whose core has neither (--absent): both refused, clearly. */
static void check_absent(void)
{
	struct ibv_qp_attr fa = { .qp_access_flags = IBV_ACCESS_FLUSH_GLOBAL };
	struct ibv_device_attr_ex dattr = {};
	struct ibv_mr *mr_f, *mr_w;
	struct pair p;
	int r;

	r = ibv_query_device_ex(ctx, NULL, &dattr);
	report(!r && !(dattr.device_cap_flags_ex &
		       (CAP_FLUSH_GLOBAL | CAP_FLUSH_PERSISTENT |
			CAP_ATOMIC_WRITE)),
	       "device offers neither FLUSH nor ATOMIC_WRITE (caps_ex %#llx)",
	       (unsigned long long)dattr.device_cap_flags_ex);
	mr_f = ibv_reg_mr(pd, buf, BUF_LEN, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_FLUSH_GLOBAL);
	report(!mr_f && errno == EINVAL,
	       "an MR asking for FLUSH_GLOBAL is refused (%s)",
	       mr_f ? "registered" : strerror(errno));
	if (mr_f)
		ibv_dereg_mr(mr_f);
	mr_w = ibv_reg_mr(pd, buf, BUF_LEN, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE);
	if (!mr_w) {
		check(0, "register an MR: %s", strerror(errno));
		return;
	}
	if (pair_open(&p)) {
		check(0, "set up QPs: %s", strerror(errno));
	} else {
		r = ibv_modify_qp(p.resp, &fa, IBV_QP_ACCESS_FLAGS);
		report(!r, "a QP asking for FLUSH_GLOBAL access is accepted (%s)",
		       strerror(r));
	}
	pair_close(&p);
	refused_op("ATOMIC WRITE", IBV_QP_EX_WITH_ATOMIC_WRITE);
	refused_op("FLUSH", IBV_QP_EX_WITH_FLUSH);
	expect_error("ATOMIC WRITE posted anyway (ibv_post_send)", mr_w->rkey,
		     (uintptr_t)buf + 64, 0, 0, 0, IBV_WC_LOC_QP_OP_ERR);
	ibv_dereg_mr(mr_w);
}

int main(int argc, char **argv)
{
	static const uint8_t val[8] = { 0x11, 0x22, 0x33, 0x44,
					0x55, 0x66, 0x77, 0x88 };
	struct ibv_device_attr_ex dattr = {};
	struct ibv_mr *mr_w, *mr_r, *mr_p, *src_mr;
	enum ibv_wc_status st;
	enum ibv_wc_opcode op;
	struct ibv_send_wr wr = {}, *bad_wr;
	struct ibv_sge sge;
	uint8_t *src, *pattern;
	uint64_t v;
	struct pair p;
	int ops, r, i;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DEV GID_INDEX RACE_OPS|--absent\n",
			argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	placement = strcmp(argv[3], "--absent") != 0;
	ops = atoi(argv[3]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		fprintf(stderr, "cannot open %s or read GID %d\n", argv[1],
			gid_index);
		return 2;
	}
	pd = ibv_alloc_pd(ctx);
	buf = aligned_alloc(4096, BUF_LEN);
	src = aligned_alloc(4096, 4096);
	pattern = malloc(4096);
	if (!pd || !buf || !src || !pattern)
		return 2;
	if (!placement) {
		check_absent();
		printf("atomic_write: %d failures\n", failures);
		return failures ? 1 : 0;
	}

	report(!ibv_query_device_ex(ctx, NULL, &dattr) &&
	       (dattr.device_cap_flags_ex & CAP_FLUSH_GLOBAL) &&
	       (dattr.device_cap_flags_ex & CAP_ATOMIC_WRITE),
	       "device offers FLUSH_GLOBAL and ATOMIC_WRITE (caps_ex %#llx)",
	       (unsigned long long)dattr.device_cap_flags_ex);
	printf("info: FLUSH_PERSISTENT offered: %s\n",
	       dattr.device_cap_flags_ex & CAP_FLUSH_PERSISTENT ? "yes" : "no");

	mr_w = ibv_reg_mr(pd, buf, BUF_LEN, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_FLUSH_GLOBAL);
	mr_r = ibv_reg_mr(pd, buf, BUF_LEN, IBV_ACCESS_REMOTE_READ);
	mr_p = ibv_reg_mr(pd, buf, BUF_LEN, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE |
			  IBV_ACCESS_FLUSH_PERSISTENT);
	src_mr = ibv_reg_mr(pd, src, 4096, IBV_ACCESS_LOCAL_WRITE);
	if (!mr_w || !mr_r || !src_mr) {
		fprintf(stderr, "ibv_reg_mr: %s\n", strerror(errno));
		return 2;
	}
	if (dattr.device_cap_flags_ex & CAP_FLUSH_PERSISTENT)
		printf("info: FLUSH_PERSISTENT MR: %s\n", mr_p ? "yes" : "no");
	else
		report(!mr_p, "an MR asking for FLUSH_PERSISTENT is refused (%s)",
		       mr_p ? "registered" : strerror(errno));
	if (mr_p)
		ibv_dereg_mr(mr_p);

	/* ATOMIC WRITE: its 8 bytes land, and nothing around them moves. */
	if (pair_open(&p)) {
		fprintf(stderr, "QP setup: %s\n", strerror(errno));
		return 2;
	}
	memset(buf, 0xaa, BUF_LEN);
	memcpy(&v, val, 8);
	r = RUN(&p, 1, &st, &op, atomic_write(&p, mr_w->rkey,
					      (uintptr_t)buf + 64, v));
	report(!r && st == IBV_WC_SUCCESS && op == IBV_WC_ATOMIC_WRITE,
	       "ATOMIC WRITE completes: %s, opcode %d (extended CQ)",
	       ibv_wc_status_str(st), op);
	report(buf_is(0xaa, 64, val, 8),
	       "ATOMIC WRITE: 8 bytes at offset 64 as sent, neighbours unchanged");

	/* Through ibv_post_send: the message is the 8 bytes, exactly. */
	memset(src, 0, 16);
	for (i = 0; i < 8; i++)
		src[i] = 0xc0 + i;
	sge = (struct ibv_sge){ (uintptr_t)src, 8, src_mr->lkey };
	wr.opcode = IBV_WR_ATOMIC_WRITE;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)buf + 4088;
	wr.wr.rdma.rkey = mr_w->rkey;
	memset(buf, 0xaa, BUF_LEN);
	r = RUN(&p, 0, &st, &op, ibv_post_send(p.req, &wr, &bad_wr));
	report(!r && st == IBV_WC_SUCCESS && op == IBV_WC_ATOMIC_WRITE &&
	       buf_is(0xaa, 4088, src, 8),
	       "ibv_post_send ATOMIC WRITE of 8 bytes lands (ibv_poll_cq: %s, opcode %d)",
	       ibv_wc_status_str(st), op);
	sge.length = 4;
	r = ibv_post_send(p.req, &wr, &bad_wr);
	sge.length = 12;
	i = ibv_post_send(p.req, &wr, &bad_wr);
	report(r == EINVAL && i == EINVAL && buf_is(0xaa, 4088, src, 8),
	       "ATOMIC WRITE of 4 or 12 bytes refused: %s, %s", strerror(r),
	       strerror(i));

	/* FLUSH after WRITEs: their data is in place when it completes. */
	for (i = 0; i < 4096; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	memcpy(src, pattern, 4096);
	memset(buf, 0xaa, BUF_LEN);
	ibv_wr_start(p.qpx);
	p.qpx->wr_flags = 0;
	ibv_wr_rdma_write(p.qpx, mr_w->rkey, (uintptr_t)buf + 8192);
	ibv_wr_set_sge(p.qpx, src_mr->lkey, (uintptr_t)src, 4096);
	p.qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_flush(p.qpx, mr_w->rkey, (uintptr_t)buf + 8192, 4096,
		     IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE);
	r = ibv_wr_complete(p.qpx);
	/* sq_sig_all: the WRITE completes first, then the FLUSH. */
	r = r ? r : poll_one(&p, 0, &st, &op);
	report(!r && st == IBV_WC_SUCCESS && op == IBV_WC_RDMA_WRITE,
	       "WRITE before FLUSH completes: %s", ibv_wc_status_str(st));
	r = poll_one(&p, 1, &st, &op);
	report(!r && st == IBV_WC_SUCCESS && op == IBV_WC_FLUSH &&
	       buf_is(0xaa, 8192, pattern, 4096),
	       "FLUSH GLOBAL of the range completes (%s, opcode %d), the WRITE's data in place",
	       ibv_wc_status_str(st), op);
	r = RUN(&p, 0, &st, &op, flush(&p, mr_w->rkey, 0, 0, IBV_FLUSH_GLOBAL,
				       IBV_FLUSH_MR));
	report(!r && st == IBV_WC_SUCCESS && op == IBV_WC_FLUSH,
	       "FLUSH GLOBAL of the whole MR completes: %s",
	       ibv_wc_status_str(st));
	pair_close(&p);

	race(mr_w, ops);

	expect_error("misaligned ATOMIC WRITE", mr_w->rkey,
		     (uintptr_t)buf + 68, 0, 0, 0, IBV_WC_REM_INV_REQ_ERR);
	expect_error("ATOMIC WRITE without remote write", mr_r->rkey,
		     (uintptr_t)buf + 64, 0, 0, 0, IBV_WC_REM_ACCESS_ERR);
	expect_error("ATOMIC WRITE past the MR", mr_w->rkey,
		     (uintptr_t)buf + BUF_LEN, 0, 0, 0,
		     IBV_WC_REM_ACCESS_ERR);
	expect_error("FLUSH without flush access", mr_r->rkey,
		     (uintptr_t)buf, 1, IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE,
		     IBV_WC_REM_ACCESS_ERR);
	expect_error("FLUSH PERSISTENT on ordinary memory", mr_w->rkey,
		     (uintptr_t)buf, 1, IBV_FLUSH_PERSISTENT, IBV_FLUSH_RANGE,
		     IBV_WC_REM_ACCESS_ERR);
	expect_error("FLUSH past the MR", mr_w->rkey,
		     (uintptr_t)buf + BUF_LEN - 32, 1, IBV_FLUSH_GLOBAL,
		     IBV_FLUSH_RANGE, IBV_WC_REM_ACCESS_ERR);

	printf("atomic_write: %d failures\n", failures);
	return failures ? 1 : 0;
}
