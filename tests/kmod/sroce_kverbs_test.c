// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A kernel consumer of an RDMA device, as a ULP would be: a PD with the
 * device's DMA MR (ib_alloc_pd), a CQ polled by the core's workqueue
 * (ib_alloc_cq), two RC QPs connected to each other over a RoCEv2 GID,
 * kmalloc'ed buffers mapped with ib_dma_map_single, and then SEND (with
 * two SGEs), SEND_WITH_IMM, inline SEND, RDMA WRITE, WRITE_WITH_IMM and
 * RDMA READ across several packets, each checked byte for byte; an ATOMIC
 * against the PD's global rkey, which grants no atomic access, must fail
 * with a remote access error; ib_drain_qp must then return.
 *
 * Fast registration, as nvme-rdma uses it: an MR from ib_alloc_mr over a
 * scatterlist of separate pages whose first starts at an offset,
 * registered by a REG_MR chained with the SEND that tells the peer QP its
 * address and rkey; the peer READs and WRITEs through it, then
 * invalidates it with SEND_WITH_INV, after which its WRITE fails; a new
 * key byte registers it again; LOCAL_INV, of a VALID MR and of a FREE
 * one; a SEND_WITH_INV of the DMA MR's key; too many pages.
 *
 *   insmod sroce_kverbs_test.ko dev=sroce0 gid_index=N
 *
 * Loading runs the test: it prints "ok:" or "FAIL:" lines to the kernel
 * log and fails with -EIO if any check failed.  The module does nothing
 * once loaded, so it can be removed right away.
 *
 *   insmod sroce_kverbs_test.ko dev=sroce0 gid_index=N fail_nth=1
 *
 * runs fault injection instead (a kernel with CONFIG_FAULT_INJECTION, and
 * failslab and fail_page_alloc told to fail sleeping allocations, as
 * tests/vm/d-fail-nth.sh does): each create path of the kernel verbs (PD,
 * PD with the global rkey, CQs of each poll context, QP, AH, each
 * modify_qp transition) with its nth fault point failing, n = 1, 2, ...,
 * until the call meets no injected fault.  A call that failed must have
 * met the fault and returned an errno; everything made is destroyed after
 * each call, and a failed modify must leave the QP's state alone.  One
 * "ok: fail-nth: <path>: ..." line per path that passed.
 */
#include <linux/completion.h>
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

static char *dev = "sroce0";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "RDMA device to test");
static int gid_index;
module_param(gid_index, int, 0444);
MODULE_PARM_DESC(gid_index, "RoCEv2 GID index of port 1 to connect through");
static bool fail_nth;
module_param(fail_nth, bool, 0444);
MODULE_PARM_DESC(fail_nth, "Inject allocation failures into each create path instead");

#define BUF_SIZE	(64 * 1024)	/* 64 packets at MTU 1024 */
#define TIMEOUT		(10 * HZ)

#define KT_SRQ_WRS	8

struct kt_wr {
	struct ib_cqe cqe;
	struct completion done;
	struct ib_wc wc;
};

struct kt {
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *a;	/* requester */
	struct ib_qp *b;	/* responder */
	union ib_gid gid;	/* ours, at gid_index */
	u8 mac[ETH_ALEN];	/* of the GID's netdev */
	u8 *src, *dst, *back;
	u64 src_dma, dst_dma, back_dma;
	/*
	 * The send and the receive in flight.  They live as long as the
	 * QPs, so that a completion that comes after its wait timed out
	 * still lands here; the QPs are drained before they go.
	 */
	struct kt_wr s, r;
	struct kt_wr sr[KT_SRQ_WRS];	/* kt_srq's sends and receives */
	struct kt_wr l;		/* a local operation (REG_MR, LOCAL_INV) */
	int failures;
};

#define kt_check(t, cond, fmt, ...)					\
	do {								\
		if (!(cond)) {						\
			pr_err("sroce_kverbs_test: FAIL: " fmt "\n",	\
			       ##__VA_ARGS__);				\
			(t)->failures++;				\
		}							\
	} while (0)

static void kt_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct kt_wr *w = container_of(wc->wr_cqe, struct kt_wr, cqe);

	w->wc = *wc;
	complete(&w->done);
}

static void kt_wr_init(struct kt_wr *w)
{
	w->cqe.done = kt_done;
	init_completion(&w->done);
}

/* Wait for @w's completion; false (and a failure) if it never comes. */
static bool kt_wait(struct kt *t, struct kt_wr *w, const char *what)
{
	if (!wait_for_completion_timeout(&w->done, TIMEOUT)) {
		kt_check(t, false, "%s: no completion", what);
		return false;
	}
	return true;
}

/*
 * Take @qp to @state with that transition's attributes (RTR: connected to
 * QP @dest over our own GID); @verbose says what failed.
 */
static int kt_to_state(struct kt *t, struct ib_qp *qp, enum ib_qp_state state,
		       u32 dest, bool verbose)
{
	struct ib_qp_attr attr = { .qp_state = state };
	int mask = IB_QP_STATE;
	int err;

	switch (state) {
	case IB_QPS_INIT:
		attr.port_num = 1;
		attr.qp_access_flags = IB_ACCESS_REMOTE_READ |
				       IB_ACCESS_REMOTE_WRITE |
				       IB_ACCESS_REMOTE_ATOMIC;
		mask |= IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_ACCESS_FLAGS;
		break;
	case IB_QPS_RTR:
		attr.path_mtu = IB_MTU_1024;
		attr.dest_qp_num = dest;
		attr.rq_psn = 0xfffff0;	/* wraps the 24-bit PSN early on */
		attr.max_dest_rd_atomic = 4;
		attr.min_rnr_timer = 12;
		attr.ah_attr.type = rdma_ah_find_type(t->ibdev, 1);
		rdma_ah_set_port_num(&attr.ah_attr, 1);
		rdma_ah_set_grh(&attr.ah_attr, &t->gid, 0, gid_index, 64, 0);
		/* The core resolves the MAC for user QPs only; ours is our own. */
		memcpy(attr.ah_attr.roce.dmac, t->mac, ETH_ALEN);
		mask |= IB_QP_AV | IB_QP_PATH_MTU | IB_QP_DEST_QPN |
			IB_QP_RQ_PSN | IB_QP_MAX_DEST_RD_ATOMIC |
			IB_QP_MIN_RNR_TIMER;
		break;
	case IB_QPS_RTS:
		attr.sq_psn = 0xfffff0;
		attr.timeout = 14;
		attr.retry_cnt = 7;
		attr.rnr_retry = 7;
		attr.max_rd_atomic = 4;
		mask |= IB_QP_SQ_PSN | IB_QP_TIMEOUT | IB_QP_RETRY_CNT |
			IB_QP_RNR_RETRY | IB_QP_MAX_QP_RD_ATOMIC;
		break;
	default:
		break;
	}
	err = ib_modify_qp(qp, &attr, mask);
	if (err && verbose)
		pr_err("sroce_kverbs_test: modify to state %d: %d\n", state,
		       err);
	return err;
}

/* Take @qp from RESET to RTS, connected to QP @dest over our own GID. */
static int kt_connect(struct kt *t, struct ib_qp *qp, u32 dest)
{
	int err;

	err = kt_to_state(t, qp, IB_QPS_INIT, dest, true);
	if (!err)
		err = kt_to_state(t, qp, IB_QPS_RTR, dest, true);
	if (!err)
		err = kt_to_state(t, qp, IB_QPS_RTS, dest, true);
	return err;
}

static void kt_fill(u8 *buf, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 31 + seed + (i >> 8));
}

/* Post a receive of @len bytes at dst + @off on b. */
static int kt_post_recv(struct kt *t, struct kt_wr *w, u32 off, u32 len)
{
	struct ib_sge sge = {
		.addr = t->dst_dma + off,
		.length = len,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &w->cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};

	kt_wr_init(w);
	return ib_post_recv(t->b, &wr, NULL);
}

/* SEND in two SGEs, then SEND_WITH_IMM and an inline SEND. */
static void kt_sends(struct kt *t)
{
	struct ib_sge sge[2] = {
		{ .addr = t->src_dma, .length = 1000,
		  .lkey = t->pd->local_dma_lkey },
		{ .addr = t->src_dma + 5000, .length = 3000,
		  .lkey = t->pd->local_dma_lkey },
	};
	struct ib_send_wr wr = {
		.sg_list = sge,
		.num_sge = 2,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	struct kt_wr *s = &t->s, *r = &t->r;

	memset(t->dst, 0, BUF_SIZE);
	kt_check(t, !kt_post_recv(t, r, 0, 8192), "SEND: post_recv");
	kt_wr_init(s);
	wr.wr_cqe = &s->cqe;
	kt_check(t, !ib_post_send(t->a, &wr, NULL), "SEND: post_send");
	if (kt_wait(t, s, "SEND") && kt_wait(t, r, "SEND's receive")) {
		kt_check(t, s->wc.status == IB_WC_SUCCESS &&
			 s->wc.opcode == IB_WC_SEND, "SEND: status %d opcode %d",
			 s->wc.status, s->wc.opcode);
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 r->wc.opcode == IB_WC_RECV && r->wc.byte_len == 4000 &&
			 r->wc.qp == t->b,
			 "SEND's receive: status %d opcode %d length %u",
			 r->wc.status, r->wc.opcode, r->wc.byte_len);
		kt_check(t, !memcmp(t->dst, t->src, 1000) &&
			 !memcmp(t->dst + 1000, t->src + 5000, 3000),
			 "SEND: data differs");
	}

	kt_check(t, !kt_post_recv(t, r, 0, 8192), "SEND_IMM: post_recv");
	kt_wr_init(s);
	wr.wr_cqe = &s->cqe;
	wr.opcode = IB_WR_SEND_WITH_IMM;
	wr.ex.imm_data = cpu_to_be32(0x5eed1234);
	wr.num_sge = 1;
	kt_check(t, !ib_post_send(t->a, &wr, NULL), "SEND_IMM: post_send");
	if (kt_wait(t, s, "SEND_IMM") && kt_wait(t, r, "SEND_IMM's receive"))
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 (r->wc.wc_flags & IB_WC_WITH_IMM) &&
			 r->wc.ex.imm_data == cpu_to_be32(0x5eed1234),
			 "SEND_IMM's receive: status %d flags %x imm %x",
			 r->wc.status, r->wc.wc_flags,
			 be32_to_cpu(r->wc.ex.imm_data));

	memset(t->dst, 0, 64);
	kt_check(t, !kt_post_recv(t, r, 0, 8192), "inline SEND: post_recv");
	kt_wr_init(s);
	wr.wr_cqe = &s->cqe;
	wr.opcode = IB_WR_SEND;
	wr.send_flags = IB_SEND_SIGNALED | IB_SEND_INLINE;
	sge[0].addr = (uintptr_t)t->src;	/* inline data: a CPU address */
	sge[0].length = 64;
	kt_check(t, !ib_post_send(t->a, &wr, NULL), "inline SEND: post_send");
	if (kt_wait(t, s, "inline SEND") &&
	    kt_wait(t, r, "inline SEND's receive"))
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 r->wc.byte_len == 64 && !memcmp(t->dst, t->src, 64),
			 "inline SEND: status %d length %u or data differs",
			 r->wc.status, r->wc.byte_len);
	if (!t->failures)
		pr_info("sroce_kverbs_test: ok: SEND with 2 SGEs, SEND_WITH_IMM, inline SEND\n");
}

/* WRITE all of src to dst, WRITE_WITH_IMM, then READ dst back. */
static void kt_rdma(struct kt *t)
{
	int before = t->failures;
	struct ib_sge sge = {
		.addr = t->src_dma,
		.length = BUF_SIZE,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_rdma_wr wr = {
		.wr.sg_list = &sge,
		.wr.num_sge = 1,
		.wr.opcode = IB_WR_RDMA_WRITE,
		.wr.send_flags = IB_SEND_SIGNALED,
		.remote_addr = t->dst_dma,
		.rkey = t->pd->unsafe_global_rkey,
	};
	struct kt_wr *s = &t->s, *r = &t->r;

	memset(t->dst, 0, BUF_SIZE);
	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "WRITE: post_send");
	if (kt_wait(t, s, "WRITE"))
		kt_check(t, s->wc.status == IB_WC_SUCCESS &&
			 s->wc.opcode == IB_WC_RDMA_WRITE &&
			 !memcmp(t->dst, t->src, BUF_SIZE),
			 "WRITE: status %d or data differs", s->wc.status);

	kt_check(t, !kt_post_recv(t, r, 0, 0), "WRITE_IMM: post_recv");
	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	wr.wr.opcode = IB_WR_RDMA_WRITE_WITH_IMM;
	wr.wr.ex.imm_data = cpu_to_be32(42);
	sge.length = 3000;
	wr.remote_addr = t->dst_dma + 7;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "WRITE_IMM: post_send");
	if (kt_wait(t, s, "WRITE_IMM") &&
	    kt_wait(t, r, "WRITE_IMM's receive"))
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 r->wc.opcode == IB_WC_RECV_RDMA_WITH_IMM &&
			 r->wc.ex.imm_data == cpu_to_be32(42) &&
			 r->wc.byte_len == 3000 &&
			 !memcmp(t->dst + 7, t->src, 3000),
			 "WRITE_IMM's receive: status %d opcode %d length %u or data differs",
			 r->wc.status, r->wc.opcode, r->wc.byte_len);

	memset(t->back, 0, BUF_SIZE);
	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	wr.wr.opcode = IB_WR_RDMA_READ;
	sge.addr = t->back_dma;
	sge.length = BUF_SIZE;
	wr.remote_addr = t->dst_dma;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "READ: post_send");
	if (kt_wait(t, s, "READ"))
		kt_check(t, s->wc.status == IB_WC_SUCCESS &&
			 s->wc.opcode == IB_WC_RDMA_READ &&
			 !memcmp(t->back, t->dst, BUF_SIZE),
			 "READ: status %d or data differs", s->wc.status);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: 64 KiB WRITE, WRITE_WITH_IMM at an odd offset, 64 KiB READ\n");
}

/* The global rkey grants no atomics: a remote access error, then drain. */
static void kt_atomic_refused(struct kt *t)
{
	int before = t->failures;
	struct ib_sge sge = {
		.addr = t->back_dma,
		.length = 8,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_atomic_wr wr = {
		.wr.sg_list = &sge,
		.wr.num_sge = 1,
		.wr.opcode = IB_WR_ATOMIC_FETCH_AND_ADD,
		.wr.send_flags = IB_SEND_SIGNALED,
		.remote_addr = t->dst_dma,
		.compare_add = 1,
		.rkey = t->pd->unsafe_global_rkey,
	};
	struct kt_wr *s = &t->s;

	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "ATOMIC: post_send");
	if (kt_wait(t, s, "ATOMIC"))
		kt_check(t, s->wc.status == IB_WC_REM_ACCESS_ERR,
			 "ATOMIC without atomic access: status %d", s->wc.status);
	ib_drain_qp(t->a);
	ib_drain_qp(t->b);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: ATOMIC without atomic access fails with a remote access error; both QPs drain\n");
}

/*
 * A kernel SRQ: receives posted with ib_post_srq_recv (and one too many
 * refused with -ENOMEM), SENDs of 1 to 3 packets from an RC QP to one
 * whose receives come from the SRQ, each checked byte for byte, in order.
 */
static void kt_srq(struct kt *t, struct ib_qp_init_attr *init)
{
	struct ib_srq_init_attr sinit = {
		.attr = { .max_wr = KT_SRQ_WRS / 2, .max_sge = 1 },
	};
	const struct ib_recv_wr *bad;
	struct ib_srq_attr sattr = {}, rattr = {};
	struct ib_qp *x, *y;
	struct ib_srq *srq;
	struct ib_sge sge;
	unsigned int i, n = KT_SRQ_WRS / 2;
	int before = t->failures;
	int err;

	srq = ib_create_srq(t->pd, &sinit);
	if (IS_ERR(srq)) {
		kt_check(t, false, "SRQ: create: %ld", PTR_ERR(srq));
		return;
	}
	/* Devices may give more than asked: all of it is posted below. */
	kt_check(t, !ib_query_srq(srq, &sattr) && sattr.max_wr >= n,
		 "SRQ: max_wr %u, below %u", sattr.max_wr, n);
	x = ib_create_qp(t->pd, init);
	init->srq = srq;
	y = ib_create_qp(t->pd, init);
	init->srq = NULL;
	if (IS_ERR(x) || IS_ERR(y)) {
		kt_check(t, false, "SRQ: QPs: %ld %ld", PTR_ERR(x), PTR_ERR(y));
		goto out;
	}
	if (kt_connect(t, x, y->qp_num) || kt_connect(t, y, x->qp_num)) {
		kt_check(t, false, "SRQ: connect");
		goto out;
	}
	memset(t->dst, 0, BUF_SIZE);
	/*
	 * max_wr receives, then one too many.  Only the first n complete;
	 * the others share their kt_wr and stay in the SRQ.
	 */
	for (i = 0; i <= sattr.max_wr; i++) {
		struct kt_wr *r = &t->sr[n + i % n];
		struct ib_recv_wr wr = {
			.wr_cqe = &r->cqe, .sg_list = &sge, .num_sge = 1,
		};
		int err;

		sge.addr = t->dst_dma + (i % n) * 4096;
		sge.length = 4096;
		sge.lkey = t->pd->local_dma_lkey;
		if (i < n)
			kt_wr_init(r);
		err = ib_post_srq_recv(srq, &wr, &bad);
		if (i < sattr.max_wr)
			kt_check(t, !err, "SRQ: post %u: %d", i, err);
		else
			kt_check(t, err == -ENOMEM && bad == &wr,
				 "SRQ: post past max_wr: %d, not -ENOMEM", err);
	}
	for (i = 0; i < n; i++) {
		struct ib_sge ssge = {
			.addr = t->src_dma + i * 4096,
			.length = 1 + i * 1000,
			.lkey = t->pd->local_dma_lkey,
		};
		struct ib_send_wr wr = {
			.wr_cqe = &t->sr[i].cqe, .sg_list = &ssge,
			.num_sge = 1, .opcode = IB_WR_SEND,
			.send_flags = IB_SEND_SIGNALED,
		};

		kt_wr_init(&t->sr[i]);
		kt_check(t, !ib_post_send(x, &wr, NULL), "SRQ: post_send %u",
			 i);
	}
	for (i = 0; i < n; i++) {
		struct kt_wr *r = &t->sr[n + i];

		if (!kt_wait(t, &t->sr[i], "SRQ: SEND") ||
		    !kt_wait(t, r, "SRQ: SEND's receive"))
			break;
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 r->wc.opcode == IB_WC_RECV && r->wc.qp == y &&
			 r->wc.byte_len == 1 + i * 1000 &&
			 !memcmp(t->dst + i * 4096, t->src + i * 4096,
				 1 + i * 1000),
			 "SRQ: receive %u: status %d length %u, or data differs",
			 i, r->wc.status, r->wc.byte_len);
	}
	/* sroce resizes user SRQs only (driver/DESIGN.md). */
	rattr.max_wr = 2 * sattr.max_wr;
	err = ib_modify_srq(srq, &rattr, IB_SRQ_MAX_WR);
	kt_check(t, err == -EOPNOTSUPP,
		 "SRQ: resize of a kernel SRQ: %d, not -EOPNOTSUPP", err);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: SRQ: %u SENDs of 1 to %u bytes into a kernel SRQ, post past max_wr -ENOMEM, resize -EOPNOTSUPP\n",
			n, 1 + (n - 1) * 1000);
out:
	if (!IS_ERR(y))
		ib_destroy_qp(y);
	if (!IS_ERR(x))
		ib_destroy_qp(x);
	ib_destroy_srq(srq);
}

/* Take both QPs through the error state and RESET back to RTS. */
static int kt_reconnect(struct kt *t)
{
	int err;

	ib_drain_qp(t->a);
	ib_drain_qp(t->b);
	err = kt_to_state(t, t->a, IB_QPS_RESET, 0, true);
	if (!err)
		err = kt_to_state(t, t->b, IB_QPS_RESET, 0, true);
	if (!err)
		err = kt_connect(t, t->a, t->b->qp_num);
	if (!err)
		err = kt_connect(t, t->b, t->a->qp_num);
	kt_check(t, !err, "reconnect: %d", err);
	return err;
}

#define KT_FR_PAGES	4
#define KT_FR_OFF	100	/* into the first page */
#define KT_FR_TAIL	500	/* bytes of the last page */
#define KT_FR_LEN	(PAGE_SIZE - KT_FR_OFF + 2 * PAGE_SIZE + KT_FR_TAIL)

struct kt_fr {
	struct page *page[KT_FR_PAGES];
	struct scatterlist sg[KT_FR_PAGES];
	struct ib_mr *mr;
};

/* The MR's bytes, in order, compared with (or copied from) @buf. */
static bool kt_fr_cmp(struct kt_fr *f, const u8 *buf)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(f->sg, sg, KT_FR_PAGES, i) {
		if (memcmp(sg_virt(sg), buf, sg->length))
			return false;
		buf += sg->length;
	}
	return true;
}

static void kt_fr_fill(struct kt_fr *f, const u8 *buf)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(f->sg, sg, KT_FR_PAGES, i) {
		memcpy(sg_virt(sg), buf, sg->length);
		buf += sg->length;
	}
}

/* Post @wr on @qp and wait for @w, its completion (the last WR's). */
static bool kt_post_wait(struct kt *t, struct ib_qp *qp, struct ib_send_wr *wr,
			 struct kt_wr *w, const char *what)
{
	if (ib_post_send(qp, wr, NULL)) {
		kt_check(t, false, "%s: post_send", what);
		return false;
	}
	return kt_wait(t, w, what);
}

/* @qp (b) WRITEs or READs @len bytes between back and the peer's @rkey. */
static int kt_fr_rdma(struct kt *t, enum ib_wr_opcode op, u64 va, u32 rkey,
		      u32 len)
{
	struct ib_sge sge = {
		.addr = t->back_dma,
		.length = len,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_rdma_wr wr = {
		.wr.wr_cqe = &t->s.cqe,
		.wr.sg_list = &sge,
		.wr.num_sge = 1,
		.wr.opcode = op,
		.wr.send_flags = IB_SEND_SIGNALED,
		.remote_addr = va,
		.rkey = rkey,
	};

	kt_wr_init(&t->s);
	if (!kt_post_wait(t, t->b, &wr.wr, &t->s, "FRWR: peer's RDMA"))
		return -1;
	return t->s.wc.status;
}

/*
 * Register @f->mr with a new key byte on a, chained with a SEND that tells
 * b its iova and rkey; b's receive must say them.  Returns the rkey or 0.
 */
static u32 kt_fr_register(struct kt *t, struct kt_fr *f)
{
	struct ib_mr *mr = f->mr;
	struct ib_sge sge = {
		.addr = t->src_dma,
		.length = 12,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_send_wr send = {
		.wr_cqe = &t->s.cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	struct ib_reg_wr reg = {
		.wr.wr_cqe = &t->l.cqe,
		.wr.opcode = IB_WR_REG_MR,
		.wr.send_flags = IB_SEND_SIGNALED,
		.wr.next = &send,
		.mr = mr,
		.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ |
			  IB_ACCESS_REMOTE_WRITE,
	};
	int n;

	n = ib_map_mr_sg(mr, f->sg, KT_FR_PAGES, NULL, PAGE_SIZE);
	kt_check(t, n == KT_FR_PAGES, "FRWR: ib_map_mr_sg: %d", n);
	kt_check(t, mr->iova == sg_dma_address(&f->sg[0]) &&
		 mr->length == KT_FR_LEN, "FRWR: iova or length %llu",
		 mr->length);
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	reg.key = mr->rkey;
	memcpy(t->src, &mr->iova, 8);
	memcpy(t->src + 8, &mr->rkey, 4);
	kt_check(t, !kt_post_recv(t, &t->r, 0, 64), "FRWR: post_recv");
	kt_wr_init(&t->l);
	kt_wr_init(&t->s);
	if (!kt_post_wait(t, t->a, &reg.wr, &t->s, "FRWR: REG_MR + SEND") ||
	    !kt_wait(t, &t->l, "FRWR: REG_MR") ||
	    !kt_wait(t, &t->r, "FRWR: SEND's receive"))
		return 0;
	kt_check(t, t->l.wc.status == IB_WC_SUCCESS &&
		 t->l.wc.opcode == IB_WC_REG_MR,
		 "FRWR: REG_MR: status %d opcode %d", t->l.wc.status,
		 t->l.wc.opcode);
	kt_check(t, t->s.wc.status == IB_WC_SUCCESS &&
		 t->r.wc.status == IB_WC_SUCCESS &&
		 !memcmp(t->dst, t->src, 12),
		 "FRWR: SEND of the key: status %d, %d", t->s.wc.status,
		 t->r.wc.status);
	return t->l.wc.status || t->s.wc.status ? 0 : mr->rkey;
}

/* a posts LOCAL_INV of @key; its status. */
static int kt_fr_local_inv(struct kt *t, u32 key)
{
	struct ib_send_wr wr = {
		.wr_cqe = &t->l.cqe,
		.opcode = IB_WR_LOCAL_INV,
		.send_flags = IB_SEND_SIGNALED,
		.ex.invalidate_rkey = key,
	};

	kt_wr_init(&t->l);
	if (!kt_post_wait(t, t->a, &wr, &t->l, "FRWR: LOCAL_INV"))
		return -1;
	kt_check(t, t->l.wc.status || t->l.wc.opcode == IB_WC_LOCAL_INV,
		 "FRWR: LOCAL_INV: opcode %d", t->l.wc.opcode);
	return t->l.wc.status;
}

/* b sends 32 bytes with Invalidate of @key to a; b's send status. */
static int kt_fr_send_inv(struct kt *t, u32 key, bool received)
{
	struct ib_sge sge = {
		.addr = t->back_dma,
		.length = 32,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe = &t->s.cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND_WITH_INV,
		.send_flags = IB_SEND_SIGNALED,
		.ex.invalidate_rkey = key,
	};
	struct ib_sge rsge = {
		.addr = t->src_dma + 4096,
		.length = 64,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_recv_wr rwr = {
		.wr_cqe = &t->r.cqe,
		.sg_list = &rsge,
		.num_sge = 1,
	};

	kt_wr_init(&t->r);
	kt_check(t, !ib_post_recv(t->a, &rwr, NULL), "FRWR: post_recv on a");
	kt_wr_init(&t->s);
	if (!kt_post_wait(t, t->b, &wr, &t->s, "FRWR: SEND_WITH_INV"))
		return -1;
	if (received && kt_wait(t, &t->r, "FRWR: SEND_WITH_INV's receive"))
		kt_check(t, t->r.wc.status == IB_WC_SUCCESS &&
			 t->r.wc.opcode == IB_WC_RECV &&
			 t->r.wc.byte_len == 32 &&
			 (t->r.wc.wc_flags & IB_WC_WITH_INVALIDATE) &&
			 t->r.wc.ex.invalidate_rkey == key &&
			 !memcmp(t->src + 4096, t->back, 32),
			 "FRWR: SEND_WITH_INV's receive: status %d flags %x rkey %x (want %x) or data differs",
			 t->r.wc.status, t->r.wc.wc_flags,
			 t->r.wc.ex.invalidate_rkey, key);
	return t->s.wc.status;
}

static void kt_frwr_steps(struct kt *t, struct kt_fr *f)
{
	u8 *pattern = t->dst + 8192;	/* KT_FR_LEN bytes */
	int before = t->failures, st;
	struct ib_mr *small;
	u32 rkey, old;
	u64 va;

	/* Registered; b READs the MR's bytes, then WRITEs new ones. */
	rkey = kt_fr_register(t, f);
	if (!rkey)
		return;
	memcpy(&va, t->dst, 8);
	memset(t->back, 0, KT_FR_LEN);
	st = kt_fr_rdma(t, IB_WR_RDMA_READ, va, rkey, KT_FR_LEN);
	kt_check(t, !st && kt_fr_cmp(f, t->back),
		 "FRWR: READ through the rkey: status %d or data differs", st);
	kt_fill(t->back, KT_FR_LEN, 99);
	memcpy(pattern, t->back, KT_FR_LEN);
	st = kt_fr_rdma(t, IB_WR_RDMA_WRITE, va, rkey, KT_FR_LEN);
	kt_check(t, !st && kt_fr_cmp(f, pattern),
		 "FRWR: WRITE through the rkey: status %d or data differs", st);
	/* At an offset into the second page, across into the third. */
	kt_fill(t->back, 300, 5);
	memcpy(pattern + PAGE_SIZE - KT_FR_OFF + PAGE_SIZE - 150, t->back,
	       300);
	st = kt_fr_rdma(t, IB_WR_RDMA_WRITE,
			va + PAGE_SIZE - KT_FR_OFF + PAGE_SIZE - 150, rkey, 300);
	kt_check(t, !st && kt_fr_cmp(f, pattern),
		 "FRWR: WRITE across a page: status %d or data differs", st);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: FRWR: REG_MR of %d pages from offset %d, chained with a SEND; the peer READs and WRITEs through the rkey\n",
			KT_FR_PAGES, KT_FR_OFF);

	/* b invalidates it; its WRITE with that rkey fails then. */
	before = t->failures;
	st = kt_fr_send_inv(t, rkey, true);
	kt_check(t, !st, "FRWR: SEND_WITH_INV: status %d", st);
	st = kt_fr_rdma(t, IB_WR_RDMA_WRITE, va, rkey, 64);
	kt_check(t, st == IB_WC_REM_ACCESS_ERR,
		 "FRWR: WRITE after SEND_WITH_INV: status %d", st);
	if (kt_reconnect(t))
		return;
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: FRWR: SEND_WITH_INV invalidates the rkey (IB_WC_WITH_INVALIDATE); a WRITE with it then fails with a remote access error\n");

	/* Again with the next key byte; the old key stays dead. */
	before = t->failures;
	old = rkey;
	rkey = kt_fr_register(t, f);
	if (!rkey)
		return;
	kt_check(t, rkey != old && (rkey & ~0xffU) == (old & ~0xffU),
		 "FRWR: new key %x after %x", rkey, old);
	kt_fill(t->back, KT_FR_LEN, 42);
	st = kt_fr_rdma(t, IB_WR_RDMA_WRITE, va, rkey, KT_FR_LEN);
	kt_check(t, !st && kt_fr_cmp(f, t->back),
		 "FRWR: WRITE after registering again: status %d or data differs",
		 st);
	st = kt_fr_rdma(t, IB_WR_RDMA_WRITE, va, old, 64);
	kt_check(t, st == IB_WC_REM_ACCESS_ERR,
		 "FRWR: WRITE with the old key: status %d", st);
	if (kt_reconnect(t))
		return;
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: FRWR: registered again with the next key byte and written; the old key is refused\n");

	/* LOCAL_INV of the VALID MR; then of the FREE one, which fails. */
	before = t->failures;
	st = kt_fr_local_inv(t, rkey);
	kt_check(t, !st, "FRWR: LOCAL_INV: status %d", st);
	st = kt_fr_rdma(t, IB_WR_RDMA_READ, va, rkey, 64);
	kt_check(t, st == IB_WC_REM_ACCESS_ERR,
		 "FRWR: READ after LOCAL_INV: status %d", st);
	if (kt_reconnect(t))
		return;
	st = kt_fr_local_inv(t, rkey);
	kt_check(t, st != IB_WC_SUCCESS, "FRWR: LOCAL_INV of a FREE MR succeeded");
	pr_info("sroce_kverbs_test: FRWR: LOCAL_INV of a FREE MR: status %d\n",
		st);
	if (kt_reconnect(t))
		return;
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: FRWR: LOCAL_INV invalidates (IB_WC_LOCAL_INV), a READ then fails; LOCAL_INV of a FREE MR fails\n");

	/* The DMA MR's key may not be invalidated. */
	before = t->failures;
	st = kt_fr_send_inv(t, t->pd->local_dma_lkey, false);
	kt_check(t, st == IB_WC_REM_ACCESS_ERR,
		 "FRWR: SEND_WITH_INV of the DMA MR's key: status %d", st);
	if (kt_reconnect(t))
		return;
	/* An MR of two pages takes two of the four. */
	small = ib_alloc_mr(t->pd, IB_MR_TYPE_MEM_REG, 2);
	if (IS_ERR(small)) {
		kt_check(t, false, "FRWR: ib_alloc_mr: %ld", PTR_ERR(small));
		return;
	}
	st = ib_map_mr_sg(small, f->sg, KT_FR_PAGES, NULL, PAGE_SIZE);
	kt_check(t, st == 2, "FRWR: ib_map_mr_sg of %d pages into 2: %d",
		 KT_FR_PAGES, st);
	ib_dereg_mr(small);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: FRWR: SEND_WITH_INV of the DMA MR's key fails with a remote access error; an MR of 2 pages maps 2 of 4\n");
}

static void kt_frwr(struct kt *t)
{
	struct kt_fr f = {};
	struct ib_mr *big;
	int i, n;

	if (!(t->ibdev->attrs.device_cap_flags & IB_DEVICE_MEM_MGT_EXTENSIONS) ||
	    t->ibdev->attrs.max_fast_reg_page_list_len < KT_FR_PAGES) {
		kt_check(t, false, "FRWR: not advertised (max_fast_reg_page_list_len %u)",
			 t->ibdev->attrs.max_fast_reg_page_list_len);
		return;
	}
	big = ib_alloc_mr(t->pd, IB_MR_TYPE_MEM_REG,
			  t->ibdev->attrs.max_fast_reg_page_list_len + 1);
	kt_check(t, IS_ERR(big), "FRWR: alloc_mr past max_fast_reg_page_list_len");
	if (!IS_ERR(big))
		ib_dereg_mr(big);

	sg_init_table(f.sg, KT_FR_PAGES);
	for (i = 0; i < KT_FR_PAGES; i++) {
		f.page[i] = alloc_page(GFP_KERNEL);
		if (!f.page[i]) {
			kt_check(t, false, "FRWR: alloc_page");
			goto out;
		}
		sg_set_page(&f.sg[i], f.page[i], PAGE_SIZE, 0);
	}
	f.sg[0].offset = KT_FR_OFF;
	f.sg[0].length = PAGE_SIZE - KT_FR_OFF;
	f.sg[KT_FR_PAGES - 1].length = KT_FR_TAIL;
	n = ib_dma_map_sg(t->ibdev, f.sg, KT_FR_PAGES, DMA_BIDIRECTIONAL);
	if (n != KT_FR_PAGES) {
		kt_check(t, false, "FRWR: ib_dma_map_sg: %d", n);
		goto out;
	}
	f.mr = ib_alloc_mr(t->pd, IB_MR_TYPE_MEM_REG, KT_FR_PAGES);
	if (IS_ERR(f.mr)) {
		kt_check(t, false, "FRWR: ib_alloc_mr: %ld", PTR_ERR(f.mr));
		goto out_unmap;
	}
	kt_fill(t->src + 8192, KT_FR_LEN, 3);
	kt_fr_fill(&f, t->src + 8192);
	kt_frwr_steps(t, &f);
	ib_dereg_mr(f.mr);
out_unmap:
	ib_dma_unmap_sg(t->ibdev, f.sg, KT_FR_PAGES, DMA_BIDIRECTIONAL);
out:
	for (i = 0; i < KT_FR_PAGES; i++)
		if (f.page[i])
			__free_page(f.page[i]);
}

static int kt_map(struct kt *t, u8 **buf, u64 *dma)
{
	*buf = kzalloc(BUF_SIZE, GFP_KERNEL);
	if (!*buf)
		return -ENOMEM;
	*dma = ib_dma_map_single(t->ibdev, *buf, BUF_SIZE, DMA_BIDIRECTIONAL);
	if (ib_dma_mapping_error(t->ibdev, *dma)) {
		kfree(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void kt_unmap(struct kt *t, u8 *buf, u64 dma)
{
	if (!buf)
		return;
	ib_dma_unmap_single(t->ibdev, dma, BUF_SIZE, DMA_BIDIRECTIONAL);
	kfree(buf);
}

/* Our GID at gid_index and the MAC address of its netdev. */
static int kt_query_gid(struct kt *t, union ib_gid *gid)
{
	const struct ib_gid_attr *attr;
	struct net_device *ndev;
	int err = 0;

	attr = rdma_get_gid_attr(t->ibdev, 1, gid_index);
	if (IS_ERR(attr))
		return PTR_ERR(attr);
	*gid = attr->gid;
	rcu_read_lock();
	ndev = rdma_read_gid_attr_ndev_rcu(attr);
	if (IS_ERR(ndev))
		err = PTR_ERR(ndev);
	else
		memcpy(t->mac, ndev->dev_addr, ETH_ALEN);
	rcu_read_unlock();
	rdma_put_gid_attr(attr);
	return err;
}

static int kt_run(struct kt *t)
{
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 2, .max_recv_sge = 1,
			 .max_inline_data = 64 },
	};
	int err;

	err = kt_query_gid(t, &t->gid);
	if (err)
		return err;
	t->pd = ib_alloc_pd(t->ibdev, IB_PD_UNSAFE_GLOBAL_RKEY);
	if (IS_ERR(t->pd))
		return PTR_ERR(t->pd);
	t->cq = ib_alloc_cq(t->ibdev, NULL, 64, 0, IB_POLL_WORKQUEUE);
	if (IS_ERR(t->cq)) {
		err = PTR_ERR(t->cq);
		goto err_pd;
	}
	init.send_cq = t->cq;
	init.recv_cq = t->cq;
	t->a = ib_create_qp(t->pd, &init);
	if (IS_ERR(t->a)) {
		err = PTR_ERR(t->a);
		goto err_cq;
	}
	t->b = ib_create_qp(t->pd, &init);
	if (IS_ERR(t->b)) {
		err = PTR_ERR(t->b);
		goto err_qp_a;
	}
	err = kt_map(t, &t->src, &t->src_dma);
	if (!err)
		err = kt_map(t, &t->dst, &t->dst_dma);
	if (!err)
		err = kt_map(t, &t->back, &t->back_dma);
	if (err)
		goto err_bufs;
	kt_fill(t->src, BUF_SIZE, 7);
	err = kt_connect(t, t->a, t->b->qp_num);
	if (!err)
		err = kt_connect(t, t->b, t->a->qp_num);
	if (err)
		goto err_bufs;

	kt_sends(t);
	kt_rdma(t);
	kt_frwr(t);
	kt_atomic_refused(t);
	kt_srq(t, &init);

err_bufs:
	kt_unmap(t, t->back, t->back_dma);
	kt_unmap(t, t->dst, t->dst_dma);
	kt_unmap(t, t->src, t->src_dma);
	ib_destroy_qp(t->b);
err_qp_a:
	ib_destroy_qp(t->a);
err_cq:
	ib_free_cq(t->cq);
err_pd:
	ib_dealloc_pd(t->pd);
	return err;
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * Fault injection (fail_nth=1).  current->fail_nth is what
 * /proc/thread-self/fail-nth sets: the nth fault point (allocation) that
 * this task meets from then on fails.  module_init runs the clients' add()
 * in insmod's task, so the create calls made here are that task's.
 */
#define KT_FAIL_MAX	20000	/* more fault points than any path has */
#define KT_ERRNO_MAX	134

struct kt_fobjs {
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
	struct ib_ah *ah;
};

struct kt_fpath {
	const char *name;
	bool need_cq;
	bool need_qp;
	/* A modify: the states the QP goes through first, and the target. */
	int npre;
	enum ib_qp_state pre[4];
	enum ib_qp_state to;
	unsigned int pd_flags;
	enum ib_poll_context poll;
	int (*call)(struct kt *t, struct kt_fobjs *o,
		    const struct kt_fpath *p);
};

static int kt_fcall_pd(struct kt *t, struct kt_fobjs *o,
		       const struct kt_fpath *p)
{
	struct ib_pd *pd = ib_alloc_pd(t->ibdev, p->pd_flags);

	if (IS_ERR(pd))
		return PTR_ERR(pd);
	o->pd = pd;
	return 0;
}

static int kt_fcall_cq(struct kt *t, struct kt_fobjs *o,
		       const struct kt_fpath *p)
{
	struct ib_cq *cq = ib_alloc_cq(t->ibdev, NULL, 64, 0, p->poll);

	if (IS_ERR(cq))
		return PTR_ERR(cq);
	o->cq = cq;
	return 0;
}

static int kt_fcall_qp(struct kt *t, struct kt_fobjs *o,
		       const struct kt_fpath *p)
{
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.send_cq = o->cq,
		.recv_cq = o->cq,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 2, .max_recv_sge = 1,
			 .max_inline_data = 64 },
	};
	struct ib_qp *qp = ib_create_qp(o->pd, &init);

	if (IS_ERR(qp))
		return PTR_ERR(qp);
	o->qp = qp;
	return 0;
}

/* An AH for our own GID, with the MAC of its netdev. */
static int kt_fcall_ah(struct kt *t, struct kt_fobjs *o,
		       const struct kt_fpath *p)
{
	struct rdma_ah_attr attr = {};
	struct ib_ah *ah;

	attr.type = rdma_ah_find_type(t->ibdev, 1);
	rdma_ah_set_port_num(&attr, 1);
	rdma_ah_set_grh(&attr, &t->gid, 0, gid_index, 64, 0);
	memcpy(attr.roce.dmac, t->mac, ETH_ALEN);
	ah = rdma_create_ah(o->pd, &attr, RDMA_CREATE_AH_SLEEPABLE);
	if (IS_ERR(ah))
		return PTR_ERR(ah);
	o->ah = ah;
	return 0;
}

static int kt_fcall_modify(struct kt *t, struct kt_fobjs *o,
			   const struct kt_fpath *p)
{
	return kt_to_state(t, o->qp, p->to, o->qp->qp_num, false);
}

#define KT_MODIFY(n, t, ...) {						\
	.name = n, .need_cq = true, .need_qp = true,			\
	.pre = { __VA_ARGS__ },						\
	.npre = sizeof((enum ib_qp_state[]){ __VA_ARGS__ }) /		\
		sizeof(enum ib_qp_state),				\
	.to = t, .call = kt_fcall_modify }

static const struct kt_fpath kt_fpaths[] = {
	{ .name = "pd", .call = kt_fcall_pd },
	{ .name = "pd_unsafe_global_rkey", .call = kt_fcall_pd,
	  .pd_flags = IB_PD_UNSAFE_GLOBAL_RKEY },
	{ .name = "cq_direct", .call = kt_fcall_cq, .poll = IB_POLL_DIRECT },
	{ .name = "cq_softirq", .call = kt_fcall_cq,
	  .poll = IB_POLL_SOFTIRQ },
	{ .name = "cq_workqueue", .call = kt_fcall_cq,
	  .poll = IB_POLL_WORKQUEUE },
	{ .name = "qp", .need_cq = true, .call = kt_fcall_qp,
	  .poll = IB_POLL_WORKQUEUE },
	{ .name = "ah", .call = kt_fcall_ah },
	KT_MODIFY("modify_reset_to_init", IB_QPS_INIT, IB_QPS_RESET),
	KT_MODIFY("modify_init_to_rtr", IB_QPS_RTR, IB_QPS_INIT),
	KT_MODIFY("modify_rtr_to_rts", IB_QPS_RTS, IB_QPS_INIT, IB_QPS_RTR),
	KT_MODIFY("modify_rts_to_sqd", IB_QPS_SQD, IB_QPS_INIT, IB_QPS_RTR,
		  IB_QPS_RTS),
	KT_MODIFY("modify_rts_to_err", IB_QPS_ERR, IB_QPS_INIT, IB_QPS_RTR,
		  IB_QPS_RTS),
	KT_MODIFY("modify_err_to_reset", IB_QPS_RESET, IB_QPS_INIT,
		  IB_QPS_RTR, IB_QPS_RTS, IB_QPS_ERR),
};

/* Destroy what @o holds, last made first. */
static void kt_fteardown(struct kt *t, const struct kt_fpath *p,
			 struct kt_fobjs *o)
{
	int err;

	if (o->ah)
		rdma_destroy_ah(o->ah, RDMA_DESTROY_AH_SLEEPABLE);
	if (o->qp) {
		err = ib_destroy_qp(o->qp);
		kt_check(t, !err, "fail-nth: %s: ib_destroy_qp: %d", p->name,
			 err);
	}
	if (o->cq)
		ib_free_cq(o->cq);
	if (o->pd)
		ib_dealloc_pd(o->pd);
	memset(o, 0, sizeof(*o));
}

/* Make what @p needs, with nothing armed. */
static int kt_fsetup(struct kt *t, const struct kt_fpath *p,
		     struct kt_fobjs *o)
{
	static const struct kt_fpath cq_path = { .poll = IB_POLL_WORKQUEUE };
	int err = 0;
	int i;

	if (p->call == kt_fcall_pd)
		return 0;
	err = kt_fcall_pd(t, o, &cq_path);
	if (!err && p->need_cq)
		err = kt_fcall_cq(t, o, &cq_path);
	if (!err && p->need_qp)
		err = kt_fcall_qp(t, o, &cq_path);
	for (i = 0; !err && i < p->npre; i++)
		if (p->pre[i] != IB_QPS_RESET)
			err = kt_to_state(t, o->qp, p->pre[i], o->qp->qp_num,
					  false);
	return err;
}

static enum ib_qp_state kt_qp_state(struct ib_qp *qp)
{
	struct ib_qp_init_attr init;
	struct ib_qp_attr attr;

	if (ib_query_qp(qp, &attr, IB_QP_STATE, &init))
		return -1;
	return attr.qp_state;
}

/*
 * One round: make what @p needs, arm fault point @n (0: none), call,
 * disarm, check, destroy.  Returns the points that were left (0: the armed
 * one failed), or -1 if the round could not be run; *@res is the call's
 * result.
 */
static long kt_fround(struct kt *t, const struct kt_fpath *p, unsigned int n,
		      int *res)
{
	enum ib_qp_state from = p->npre ? p->pre[p->npre - 1] : IB_QPS_RESET;
	struct kt_fobjs o = {};
	enum ib_qp_state state;
	unsigned int left;
	int err;

	err = kt_fsetup(t, p, &o);
	if (err) {
		kt_check(t, false, "fail-nth: %s: setup, nothing armed: %d",
			 p->name, err);
		kt_fteardown(t, p, &o);
		return -1;
	}
	WRITE_ONCE(current->fail_nth, n);
	*res = p->call(t, &o, p);
	left = READ_ONCE(current->fail_nth);
	WRITE_ONCE(current->fail_nth, 0);
	if (p->npre) {
		state = kt_qp_state(o.qp);
		if (*res)
			kt_check(t, state == from,
				 "fail-nth: %s, fault point %u: the modify failed (%d) and the state went from %d to %d",
				 p->name, n, *res, from, state);
		else
			kt_check(t, state == p->to,
				 "fail-nth: %s, fault point %u: the modify succeeded and the state is %d, not %d",
				 p->name, n, state, p->to);
	}
	kt_fteardown(t, p, &o);
	return n ? left : 1;
}

static void kt_fpath_run(struct kt *t, const struct kt_fpath *p)
{
	static unsigned int errs[KT_ERRNO_MAX];
	unsigned int n, points = 0, failed = 0, absorbed = 0;
	int before = t->failures;
	char list[128] = "";
	size_t len = 0;
	int res = 0, e;
	long left;

	memset(errs, 0, sizeof(errs));
	/* Once with nothing armed: the path works. */
	if (kt_fround(t, p, 0, &res) < 0 || res) {
		kt_check(t, false, "fail-nth: %s: fails with no fault injected: %d",
			 p->name, res);
		return;
	}
	for (n = 1; n <= KT_FAIL_MAX; n++) {
		left = kt_fround(t, p, n, &res);
		if (left < 0)
			return;
		if (left > 0) {
			kt_check(t, !res,
				 "fail-nth: %s: failed (%d) at fault point %u with no fault injected",
				 p->name, res, n);
			points = n - 1;
			break;
		}
		if (!res) {
			absorbed++;
			continue;
		}
		failed++;
		kt_check(t, res < 0 && res > -KT_ERRNO_MAX,
			 "fail-nth: %s: failed at fault point %u with %d, not an errno",
			 p->name, n, res);
		if (res < 0 && res > -KT_ERRNO_MAX)
			errs[-res]++;
		cond_resched();
	}
	kt_check(t, n <= KT_FAIL_MAX,
		 "fail-nth: %s: still meeting fault points after %u", p->name,
		 KT_FAIL_MAX);
	for (e = 1; e < KT_ERRNO_MAX; e++)
		if (errs[e])
			len += scnprintf(list + len, sizeof(list) - len,
					 "%s%d x%u", len ? ", " : "", -e,
					 errs[e]);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: fail-nth: %s: %u fault points, %u failed the call (%s), %u absorbed (the call succeeded)\n",
			p->name, points, failed, len ? list : "-", absorbed);
}

static int kt_fail_nth_run(struct kt *t)
{
	size_t i;
	int err;

	err = kt_query_gid(t, &t->gid);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(kt_fpaths); i++)
		kt_fpath_run(t, &kt_fpaths[i]);
	pr_info("sroce_kverbs_test: fail-nth: %zu paths\n",
		ARRAY_SIZE(kt_fpaths));
	return 0;
}
#else
static int kt_fail_nth_run(struct kt *t)
{
	pr_err("sroce_kverbs_test: FAIL: fail-nth: this kernel has no CONFIG_FAULT_INJECTION\n");
	return -EOPNOTSUPP;
}
#endif

/*
 * As a ULP meets devices: the core calls add() for each registered one.
 * The test runs from there, on the device named @dev, once.
 */
static int kt_result = -ENODEV;

static int kt_add(struct ib_device *ibdev)
{
	struct kt t = { .ibdev = ibdev };
	int err;

	if (strcmp(dev_name(&ibdev->dev), dev) || kt_result != -ENODEV)
		return -EOPNOTSUPP;
	err = fail_nth ? kt_fail_nth_run(&t) : kt_run(&t);
	if (err) {
		pr_err("sroce_kverbs_test: FAIL: setup failed: %d\n", err);
		kt_result = err;
	} else {
		pr_info("sroce_kverbs_test: %d failures\n", t.failures);
		kt_result = t.failures ? -EIO : 0;
	}
	/* Not this client's device: nothing to keep, nothing to remove. */
	return -EOPNOTSUPP;
}

static void kt_remove(struct ib_device *ibdev, void *client_data)
{
}

static struct ib_client kt_client = {
	.name = "sroce_kverbs_test",
	.add = kt_add,
	.remove = kt_remove,
};

static int __init kt_init(void)
{
	int err;

	/* add() runs for every registered device before this returns. */
	err = ib_register_client(&kt_client);
	if (err)
		return err;
	ib_unregister_client(&kt_client);
	if (kt_result == -ENODEV)
		pr_err("sroce_kverbs_test: no RDMA device %s\n", dev);
	return kt_result;
}

static void __exit kt_exit(void)
{
}

module_init(kt_init);
module_exit(kt_exit);
MODULE_DESCRIPTION("Kernel verbs test of an RDMA device (sroce's tests)");
MODULE_LICENSE("Dual BSD/GPL");
